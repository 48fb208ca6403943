"""How the duplicate lint scales with the number of postmortems, side by side in one run.

``duplicate`` compares each action item with the items of every other postmortem. This
script lints corpora of postmortems (5 items each, summaries drawn from a few hundred
words, some actions repeated across pages) two ways: the whole corpus at once
(``lint_corpus``, which builds the duplicate index once: the goal, at most 12x the CPU
time for 10x the postmortems, is checked on it), and each page against all the others
(``lint(pm, others=...)``, the way ``pmsync._diff.lint_all`` calls it today: the index is
reused, but building each page's ``others`` list and recognising the same corpus again
cost O(pages) per page, so that pattern stays quadratic until the plan calls
``lint_corpus``). Times are CPU time (``time.process_time``), best of the rounds.

Then the worst case for the findings: 400 (and 1,000) postmortems that each hold the
same five recurring actions ("Add an alert for failure mode 3"), so every item has
hundreds of copies. It prints the findings and the peak memory (tracemalloc) of linting
them; the goal is at most 400 MB for 400 postmortems, growing linearly.

Run ``python benchmarks/lint_bench.py`` (``--repeat N`` for more rounds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence

from pmsync import ActionItem, Person, Postmortem
from pmsync._lint import Finding, lint, lint_corpus

TODAY = dt.date(2026, 3, 10)
GOAL_RATIO = 12.0
GOAL_MB = 400.0

_VERBS = ("Add", "Write", "Cap", "Rotate", "Migrate", "Document", "Remove", "Enable", "Page on")
_WORDS = [
    f"{stem}{n}"
    for stem in ("queue", "replica", "cache", "token", "shard", "worker", "dns", "pool")
    for n in range(40)
]
_SHARED = (
    "Add a runbook for the failover drill",
    "Write a checklist for database migrations",
    "Add an alert on replication lag",
)


def corpus(pages: int, *, seed: int = 7) -> list[Postmortem]:
    """``pages`` postmortems of 5 items; one item in ten is an action shared by many."""
    rng = random.Random(seed)
    out = []
    for p in range(pages):
        items = []
        for r in range(5):
            if rng.random() < 0.1:
                summary = rng.choice(_SHARED)
            else:
                words = " ".join(rng.sample(_WORDS, 4))
                summary = f"{rng.choice(_VERBS)} {words} checks"
            items.append(_item(p, r, summary))
        out.append(Postmortem(page_id=str(p), title=f"INC-{p}", items=tuple(items)))
    return out


def recurring(pages: int) -> list[Postmortem]:
    """``pages`` postmortems that all hold the same five actions."""
    return [
        Postmortem(
            page_id=str(p),
            title=f"INC-{p}",
            items=tuple(_item(p, k, f"Add an alert for failure mode {k}") for k in range(5)),
        )
        for p in range(pages)
    ]


def _item(page: int, row: int, summary: str) -> ActionItem:
    return ActionItem(
        item_id=f"{page}-{row}",
        summary=summary,
        owner=Person(account_id=f"user-{page % 50}"),
        due=dt.date(2026, 4, 1),
        row=row,
    )


def lint_all_at_once(postmortems: Sequence[Postmortem]) -> tuple[Finding, ...]:
    """The whole set in one call."""
    return lint_corpus(postmortems, today=TODAY)


def lint_each(postmortems: Sequence[Postmortem]) -> list[Finding]:
    """Each page against all the others, as a plan lints them."""
    findings: list[Finding] = []
    for pm in postmortems:
        others = [other for other in postmortems if other is not pm]
        findings.extend(lint(pm, today=TODAY, others=others))
    return findings


def best(run: Callable[[], object], rounds: int) -> float:
    """The best of ``rounds`` CPU timings of ``run``, in seconds (the machine is shared:
    CPU time is steadier than wall time)."""
    times = []
    for _ in range(rounds):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def peak_mb(run: Callable[[], object]) -> float:
    """The peak memory ``run`` allocates, in MB (tracemalloc)."""
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeat", type=int, default=3, help="rounds per size (default 3)")
    args, _ = options.parse_known_args(argv)

    small, large = corpus(200), corpus(2000)
    print(f"duplicate lint, best of {args.repeat} rounds, 5 items per postmortem:")
    ratios = []
    for name, run in (
        ("lint_corpus (the whole set at once)", lint_all_at_once),
        ("lint each page against the others", lint_each),
    ):
        small_time = best(lambda run=run: run(small), args.repeat)  # type: ignore[misc]
        large_time = best(lambda run=run: run(large), args.repeat)  # type: ignore[misc]
        ratio = large_time / small_time
        ratios.append(ratio)
        print(f"  {name:<36} 200: {small_time * 1e3:8.1f} ms   2,000: {large_time * 1e3:8.1f} ms")
        print(f"  {'':<36} ratio 2,000 / 200: {ratio:5.1f}x (goal <= {GOAL_RATIO:.0f}x)")

    print("\nrecurring actions (every page holds the same five), lint each page:")
    peaks = []
    for pages in (400, 1000):
        postmortems = recurring(pages)
        findings = lint_each(postmortems)
        peak = peak_mb(lambda postmortems=postmortems: lint_each(postmortems))  # type: ignore[misc]
        peaks.append(peak)
        elapsed = best(lambda postmortems=postmortems: lint_each(postmortems), 1)  # type: ignore[misc]
        print(
            f"  {pages:5d} postmortems: {len(findings):6d} findings, peak {peak:6.1f} MB, "
            f"{elapsed * 1e3:7.1f} ms"
        )
    print(f"  memory 1,000 / 400: {peaks[1] / peaks[0]:.1f}x (linear is 2.5x)")
    met = ratios[0] <= GOAL_RATIO and peaks[0] <= GOAL_MB
    print(
        f"\ngoals (ratio <= {GOAL_RATIO:.0f}x, 400 postmortems <= {GOAL_MB:.0f} MB): "
        f"{'met' if met else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
