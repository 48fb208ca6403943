"""Request counts and wall time of a sync, side by side with a naive strategy.

Run: ``python benchmarks/sync_bench.py`` (``nox -s bench`` runs it too).

Both strategies run in the same process against the bundled emulator, with the real
atlassian-python-api clients:

- pmsync: ``Syncer.sync`` (CQL page reads, one paged JQL, bulk creates, one write per page);
- naive: what scripts usually do: read each page, then per item one JQL search for its
  issue and one create (first run) or one read per item (rerun), and one page write per
  item that got a key.

It prints HTTP request counts for a first run and a no-op rerun over 100 pages x 10 items,
then wall time for both with 50 ms of latency injected per request (on a smaller set, so
the naive run stays short; the ratio is what matters).
"""

from __future__ import annotations

import argparse
import time

import pmsync
from pmsync.testing import Emulator

ACCOUNT = "557058:bench-owner"


def page_markup(page: int, items: int) -> str:
    rows = "".join(
        f"<tr><td><p>Page {page} action {n}: add an alert for case {n}</p></td>"
        f'<td><ac:link><ri:user ri:account-id="{ACCOUNT}" /></ac:link></td>'
        f'<td><time datetime="2026-12-{(n % 28) + 1:02d}" /></td><td>P2</td><td>todo</td>'
        "<td><br /></td></tr>"
        for n in range(items)
    )
    return (
        "<h2>Action items</h2><table><tbody><tr><th>Action item</th><th>Owner</th>"
        "<th>Due date</th><th>Priority</th><th>Status</th><th>Jira</th></tr>"
        f"{rows}</tbody></table>"
    )


def seed(emu: Emulator, pages: int, items: int) -> list[str]:
    emu.add_user(account_id=ACCOUNT, display_name="Bench Owner", email="bench@example.com")
    emu.add_project("OPS")
    return [
        emu.add_page("SRE", f"Postmortem {p}", page_markup(p, items), labels=("postmortem",))
        for p in range(pages)
    ]


def syncer_for(emu: Emulator) -> pmsync.Syncer:
    return pmsync.Syncer(emu.confluence(), emu.jira(), config=pmsync.Config(project="OPS"))


def run_pmsync(emu: Emulator) -> tuple[int, float]:
    emu.clear_requests()
    start = time.perf_counter()
    result = syncer_for(emu).sync(cql='label = "postmortem"')
    elapsed = time.perf_counter() - start
    assert result.ok, result.errors
    return len(emu.requests), elapsed


def run_naive(emu: Emulator, page_ids: list[str]) -> tuple[int, float]:
    """One read and one write per item, the way one-off scripts do it."""
    confluence, jira = emu.confluence(), emu.jira()
    emu.clear_requests()
    start = time.perf_counter()
    for page_id in page_ids:
        page = confluence.get_page_by_id(page_id, expand="body.storage,version")
        title = page["title"]
        storage = page["body"]["storage"]["value"]
        postmortem = pmsync.parse_page(storage, page_id=page_id, title=title)
        for item in postmortem.items:
            tag = f"naive-{item.item_id}"
            found = jira.jql(f'project = OPS AND labels = "{tag}"', limit=1)
            if not found.get("issues"):
                jira.create_issue(
                    fields={
                        "project": {"key": "OPS"},
                        "issuetype": {"name": "Task"},
                        "summary": item.summary,
                        "labels": [tag],
                    }
                )
    return len(emu.requests), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--latency-pages", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    n_items = args.pages * args.items

    print(f"sync_bench: {args.pages} pages x {args.items} items = {n_items} items")
    with Emulator() as emu:
        page_ids = seed(emu, args.pages, args.items)
        first, first_s = run_pmsync(emu)
        noop, noop_s = run_pmsync(emu)
    with Emulator() as emu:
        page_ids = seed(emu, args.pages, args.items)
        naive_first, _ = run_naive(emu, page_ids)
        naive_noop, _ = run_naive(emu, page_ids)
    budget_first = 0.2 * n_items + 3 * args.pages  # the lease, the write, the release
    print(f"{'':24}{'pmsync':>10}{'naive':>10}{'ratio':>9}")
    print(
        f"{'first run requests':24}{first:>10}{naive_first:>10}{first / naive_first:>9.3f}"
        f"   (budget {budget_first:.0f})"
    )
    print(
        f"{'no-op rerun requests':24}{noop:>10}{naive_noop:>10}{noop / naive_noop:>9.3f}"
        "   (budget 20)"
    )
    print(f"{'first run req/item':24}{first / n_items:>10.3f}{naive_first / n_items:>10.3f}")
    print(f"pmsync wall time without injected latency: first {first_s:.2f}s, rerun {noop_s:.2f}s")

    lp = args.latency_pages
    with Emulator() as emu:
        seed(emu, lp, args.items)
        emu.faults.latency(args.latency)
        _, lat_first = run_pmsync(emu)
        _, lat_noop = run_pmsync(emu)
    with Emulator() as emu:
        ids = seed(emu, lp, args.items)
        emu.faults.latency(args.latency)
        _, naive_lat_first = run_naive(emu, ids)
        _, naive_lat_noop = run_naive(emu, ids)
    print(
        f"with {args.latency * 1000:.0f} ms latency per request, {lp} pages x {args.items} items:"
    )
    print(
        f"{'first run seconds':24}{lat_first:>10.2f}{naive_lat_first:>10.2f}"
        f"{lat_first / naive_lat_first:>9.3f}"
    )
    print(
        f"{'no-op rerun seconds':24}{lat_noop:>10.2f}{naive_lat_noop:>10.2f}"
        f"{lat_noop / naive_lat_noop:>9.3f}"
    )
    ok = first <= budget_first and noop <= 20
    print("budgets:", "met" if ok else "MISSED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
