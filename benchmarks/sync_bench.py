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

Then, at company scale (``--pages N``, 5 items per page, 40% of them in progress or done
on the page, a cursor kept in a content property, the clock fixed and moved with
time-machine), one row per N: a first sync, the sync right after it, a rerun once the
clock has moved past the margin, a no-op rerun, a rerun after one page edit and one Jira
change, and a full pass; and the wall time of a no-op rerun over already-synced corpora
of ``--wall-pages`` sizes (10,000 against 1,000 by default) with the peak RSS.

Last, concurrency: a first sync of ``--concurrency-pages`` postmortems (100 by default:
1,000 takes minutes per run on a small shared machine) with 30 ms of latency per request,
one worker against four, side by side, with the end states compared row by row; then four
workers under a quota (``--concurrency-quota`` requests per second), where no 429 may reach
the caller. ``--only-concurrency`` runs this section alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import random
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import pmsync
from pmsync._cursor import Cursor, cursor_key
from pmsync._sync import FULL_BATCH
from pmsync.testing import Emulator, RequestRecord
from pmsync.testing._serve import exports

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


def syncer_for(emu: Emulator, config: pmsync.Config | None = None) -> pmsync.Syncer:
    config = config or pmsync.Config(project="OPS")
    return pmsync.Syncer(emu.confluence(), emu.jira(), config=config)


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


# -- company scale: incremental reruns -------------------------------------------------

SCALE_ITEMS = 5
_STATUSES = ("todo", "todo", "todo", "in progress", "done")  # 40% past the first status
_MARGIN = dt.timedelta(minutes=5)
T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)


_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "so", "ti", "va", "ze", "po", "gu", "fi")
#: Words for summaries: postmortems at company scale share few words, and the duplicate
#: lint compares every postmortem with the others.
_WORDS = tuple(a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES)


def scale_summary(page: int, item: int) -> str:
    """A summary of its own for each item (same words for the same page and item)."""
    pick = random.Random(page * 100 + item)
    return "Add " + " ".join(pick.sample(_WORDS, 6))


def scale_markup(page: int, keys: list[str] | None = None, *, prose: int = 0) -> str:
    """A postmortem of 5 items, 40% in progress or done on the page (keys: already linked;
    ``prose``: that many paragraphs of timeline and analysis before the table, 400 bytes
    each, as real postmortems have)."""
    rows = []
    for n in range(SCALE_ITEMS):
        key = (
            '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">'
            f"{keys[n]}</ac:parameter></ac:structured-macro>"
            if keys
            else "<br />"
        )
        rows.append(
            f"<tr><td><p>{scale_summary(page, n)}</p></td>"
            f'<td><ac:link><ri:user ri:account-id="{ACCOUNT}" /></ac:link></td>'
            f'<td><time datetime="2026-12-{(n % 28) + 1:02d}" /></td><td>P2</td>'
            f"<td>{_status_cell(_STATUSES[(page + n) % 5], linked=bool(keys))}</td>"
            f"<td>{key}</td></tr>"
        )
    story = "".join(
        f"<p>{n:02d}:00 {' '.join(random.Random(page * 1000 + n).choices(_WORDS, k=96))}</p>"
        for n in range(prose)
    )
    return (
        f"<h2>Timeline and analysis</h2>{story}"
        "<h2>Action items</h2><table><tbody><tr><th>Action item</th><th>Owner</th>"
        "<th>Due date</th><th>Priority</th><th>Status</th><th>Jira</th></tr>"
        f"{''.join(rows)}</tbody></table>"
    )


#: The Jira status a page status of the scale corpus stands for once synced.
_JIRA_STATUS = {"todo": "To Do", "in progress": "In Progress", "done": "Done"}
_CATEGORY = {"todo": "todo", "in progress": "in_progress", "done": "done"}
_COLOUR = {"todo": "Grey", "in progress": "Blue", "done": "Green"}


def _status_cell(status: str, *, linked: bool) -> str:
    """The status as a person types it, or once synced as the lozenge pmsync writes."""
    if not linked:
        return status
    return (
        '<p><ac:structured-macro ac:name="status" ac:schema-version="1"><ac:parameter '
        f'ac:name="title">{_JIRA_STATUS[status]}</ac:parameter><ac:parameter '
        f'ac:name="colour">{_COLOUR[status]}</ac:parameter></ac:structured-macro></p>'
    )


def seed_synced(emu: Emulator, pages: int, *, prose: int = 0) -> str:
    """Seed ``pages`` postmortems as a first sync leaves them (keys on the pages, each
    issue in its page's status with the sync record pmsync writes); a first sync of
    10,000 pages would take too long here. Returns the id of the cursor's page."""
    emu.add_user(account_id=ACCOUNT, display_name="Bench Owner", email="bench@example.com")
    emu.add_project("OPS")
    holder = emu.add_page("OPS", "pmsync state", "<p>Kept by pmsync.</p>")
    for p in range(pages):
        keys = [f"OPS-{p * SCALE_ITEMS + n + 1}" for n in range(SCALE_ITEMS)]
        markup = scale_markup(p, keys, prose=prose)
        page_id = emu.add_page("SRE", f"Postmortem {p}", markup, labels=("postmortem",))
        items = pmsync.parse_page(markup, page_id=page_id).items
        for n, item in enumerate(items):
            status = _STATUSES[(p + n) % 5]
            due = f"2026-12-{(n % 28) + 1:02d}"
            base = {
                "summary": item.summary,
                "description": None,
                "owner": ACCOUNT,
                "due": due,
                "priority": "Medium",
                "status": _CATEGORY[status],
            }
            record = {"v": 1, "page_id": page_id, "item_id": item.item_id, "base": base}
            emu.add_issue(
                "OPS",
                summary=item.summary,
                assignee=ACCOUNT,
                duedate=due,
                priority="Medium",
                status=_JIRA_STATUS[status],
                labels=("pmsync",),
                properties={"pmsync": record},
            )
    return holder


def scale_config(holder: str) -> pmsync.Config:
    return pmsync.Config(project="OPS", cql='label = "postmortem"', cursor_page=holder)


def measured(emu: Emulator, run: Callable[[], pmsync.SyncResult]) -> tuple[int, float, Any]:
    emu.clear_requests()
    start = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - start
    assert result.ok, result.errors
    return len(emu.requests), elapsed, result


def _moving(request: RequestRecord) -> bool:
    """A request of a move: the issue read with its routes, a transition, a record PUT."""
    return (
        "transitions" in request.query.get("expand", "")
        or request.path.endswith("/transitions")
        or request.path.endswith("/properties/pmsync")
    )


def scale_row(pages: int) -> dict[str, Any]:
    """The request counts of the incremental runs over ``pages`` postmortems."""
    import time_machine  # noqa: PLC0415  (a test dependency)

    row: dict[str, Any] = {"pages": pages}
    with time_machine.travel(T0, tick=False) as clock, Emulator() as emu:
        emu.add_user(account_id=ACCOUNT, display_name="Bench Owner", email="bench@example.com")
        emu.add_project("OPS")
        holder = emu.add_page("OPS", "pmsync state", "<p>Kept by pmsync.</p>")
        ids = [
            emu.add_page("SRE", f"Postmortem {p}", scale_markup(p), labels=("postmortem",))
            for p in range(pages)
        ]

        def sync(*, full: bool = False) -> pmsync.SyncResult:
            return syncer_for(emu, scale_config(holder)).sync(full=full)

        def later(minutes: int) -> None:
            clock.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))

        row["first"], row["first_s"], first = measured(emu, sync)
        row["move_requests"] = sum(map(_moving, emu.requests))
        row["items"] = pages * SCALE_ITEMS
        row["moved"] = len(first.transitioned)
        row["written"] = len(first.pages_written)
        later(1)
        row["again"], _, _ = measured(emu, sync)
        later(6)
        row["past_margin"], _, _ = measured(emu, sync)
        later(15)
        row["noop"], row["noop_s"], _ = measured(emu, sync)
        later(15)
        page = emu.page(ids[pages // 2])
        first_words = scale_summary(pages // 2, 1)
        emu.edit_page(page["id"], page["storage"].replace(first_words, first_words + " soon"))
        moved = next(i for i in emu.issues("OPS") if i["fields"]["status"]["name"] == "To Do")
        emu.transition_issue(moved["key"], "Done")
        later(1)
        row["edit"], _, edited = measured(emu, sync)
        row["edit_carried"] = (
            bool(edited.updated)
            and "Done" in emu.page(next(p for p in edited.pages_written))["storage"]
        )
        later(15)
        row["full"], _, full = measured(emu, lambda: sync(full=True))
        row["full_missed"] = len(full.missed)
    return row


def seeded_noop(pages: int) -> tuple[float, float, int]:
    """Wall time, pmsync's own CPU time and the requests of a no-op rerun over ``pages``
    already-synced postmortems (seeded as a sync leaves them, a day old)."""
    import time_machine  # noqa: PLC0415

    with time_machine.travel(T0 - dt.timedelta(days=1), tick=False) as clock, Emulator() as emu:
        holder = seed_synced(emu, pages)
        clock.move_to(T0)
        config = scale_config(holder)
        syncer = syncer_for(emu, config)
        assert syncer.cursor is not None
        key = cursor_key("OPS", "pmsync", f"type = page AND ({config.cql})")
        # The cursor a full pass an hour ago would have left.
        hour_ago = T0 - dt.timedelta(hours=1)
        syncer.cursor.save(key, Cursor(since=hour_ago - _MARGIN, full_at=hour_ago))
        cpu = time.thread_time()  # this thread only: pmsync and the clients, not the emulator
        requests, elapsed, _ = measured(emu, lambda: syncer_for(emu, config).sync())
        cpu = time.thread_time() - cpu
    return elapsed, cpu, requests


def _serve_corpus(pages: int, prose: int, conn: Connection) -> None:
    """In a process of its own: serve an emulator holding ``pages`` synced postmortems,
    send the environment that points pmsync at it, serve until told to stop."""
    with Emulator() as emu:
        seed_synced(emu, pages, prose=prose)
        conn.send(exports(emu))
        conn.recv()


def _peak_mb() -> float:
    """This process's peak resident set in MB: Linux's VmHWM, which starts afresh in a
    new program (``ru_maxrss`` keeps the high-water mark of the process that forked it)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _full_pass(env: dict[str, str], batched: bool, conn: Connection) -> None:
    """In a fresh process: one full pass over the served corpus (``Syncer.sync()`` in
    batches, or one plan of everything then ``apply``); sends the peak RSS in MB, the
    RSS before the pass, the pages planned and the writes made."""
    os.environ.update(env)
    config = pmsync.Config(project="OPS", cql='label = "postmortem"')
    syncer = pmsync.Syncer.from_env(config)
    before = _peak_mb()
    result = syncer.sync() if batched else syncer.apply(syncer.plan())
    peak = _peak_mb()
    plan = result.plan
    writes = len(result.created) + len(result.updated) + len(result.pages_written)
    conn.send((peak, before, len(plan.pages) if plan else 0, writes, result.ok))


def print_rss(pages: int, prose: int = 40) -> bool:
    """Peak RSS of pmsync's own process in a full pass over ``pages`` synced postmortems,
    in batches (``sync()``) and as one plan (``plan()`` then ``apply()``), side by side.

    The emulator runs in another process, so the figures are pmsync's alone (its
    interpreter, the clients, the managed issues, the pages it holds); each pass runs in
    a fresh process of its own, so neither inherits the other's peak.
    """
    spawn = multiprocessing.get_context("spawn")
    ours, theirs = spawn.Pipe()
    server = spawn.Process(target=_serve_corpus, args=(pages, prose, theirs))
    server.start()
    try:
        env = ours.recv()
        figures = {}
        for batched in (True, False):
            mine, child_end = spawn.Pipe()
            child = spawn.Process(target=_full_pass, args=(env, batched, child_end))
            child.start()
            figures[batched] = mine.recv()
            child.join()
    finally:
        ours.send("stop")
        server.join()
    size = len(scale_markup(0, [f"OPS-{n}" for n in range(5)], prose=prose)) / 1024
    ok = True
    for batched, (peak, before, planned, writes, clean) in figures.items():
        how = f"in batches of {FULL_BATCH} (sync())" if batched else "as one plan (plan, apply)"
        print(
            f"full pass over {pages:,} synced postmortems of {size:.0f} KB, {how}: peak RSS "
            f"{peak:,.0f} MB ({peak - before:,.0f} MB above the {before:,.0f} MB before it), "
            f"{planned:,} pages planned, {writes} writes"
        )
        ok = ok and clean and planned == pages and writes == 0
    ratio = figures[True][0] / figures[False][0]
    print(
        f"peak RSS in batches / as one plan: {ratio:.2f}x (pmsync's own process; the "
        "emulator ran in another)"
    )
    return ok


def print_scale(rows: list[dict[str, Any]]) -> bool:
    """The table of incremental runs, and whether every budget held."""
    print("incremental reruns (cursor in a content property; 5 items per page, 40% moved):")
    head = ("pages", "first", "again", "past margin", "no-op", "edit+change", "full pass")
    print("".join(f"{h:>13}" for h in head))
    ok = True
    for row in rows:
        cells = (
            row["pages"],
            row["first"],
            row["again"],
            row["past_margin"],
            row["noop"],
            row["edit"],
            row["full"],
        )
        print("".join(f"{c:>13,}" for c in cells))
        budget_first = 0.2 * row["items"] + 3 * row["written"] + 2 * row["moved"]
        print(
            f"  first sync: {row['first']:,} requests for {row['items']:,} items, "
            f"{row['written']:,} pages written, {row['moved']:,} items moved "
            f"(budget {budget_first:,.0f}; the moves cost {row['move_requests']:,}: "
            f"{row['move_requests'] / max(row['moved'], 1):.2f} per item moved); "
            f"no-op rerun {row['noop']} (budget 5), "
            f"{row['noop_s']:.2f}s; edit+change {row['edit']} (budget 15), carried: "
            f"{row['edit_carried']}; full pass found {row['full_missed']} missed page(s)"
        )
        ok = ok and row["first"] <= budget_first and row["noop"] <= 5 and row["edit"] <= 15
        ok = ok and row["edit_carried"] and not row["full_missed"]
    return ok


def print_wall(sizes: list[int]) -> bool:
    """No-op rerun wall time per corpus size, the largest against the smallest."""
    times, cpus = {}, {}
    for pages in sizes:
        times[pages], cpus[pages], requests = seeded_noop(pages)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"no-op rerun over {pages:,} synced postmortems: {times[pages]:.3f}s wall, "
            f"{cpus[pages]:.3f}s of pmsync's own CPU, {requests} requests; peak RSS so far "
            f"{rss:,.0f} MB (the emulator's corpus included)"
        )
    small, big = min(sizes), max(sizes)
    ratio, own = times[big] / times[small], cpus[big] / cpus[small]
    print(
        f"no-op rerun {big:,} / {small:,} postmortems: wall {ratio:.2f}x (budget 2x; the "
        f"emulator answers date ranges from its index of changes, as a search index does), "
        f"pmsync's own CPU {own:.2f}x"
    )
    return ratio <= 2 and own <= 2


# -- concurrency: workers against latency ---------------------------------------------


def first_sync_with(
    pages: int, concurrency: int, *, latency: float = 0.0, quota: int | None = None
) -> tuple[float, pmsync.SyncResult | Exception, dict[str, Any], int, int]:
    """A first sync of ``pages`` postmortems (5 items each) with ``concurrency`` workers:
    wall time, the result (or the error that stopped it), the end state by row, the
    429s the emulator answered and the requests sent. ``latency`` is added to every
    request; ``quota`` limits the site to that many requests per second."""
    with Emulator() as emu:
        emu.add_user(account_id=ACCOUNT, display_name="Bench Owner", email="bench@example.com")
        emu.add_project("OPS")
        for p in range(pages):
            emu.add_page("SRE", f"Postmortem {p}", scale_markup(p), labels=("postmortem",))
        emu.faults.latency(latency)
        if quota is not None:
            emu.faults.quota(quota, per=1.0)
        config = pmsync.Config(project="OPS", concurrency=concurrency)
        start = time.perf_counter()
        outcome: pmsync.SyncResult | Exception
        try:
            outcome = syncer_for(emu, config).sync(cql='label = "postmortem"')
        except pmsync.PmsyncError as exc:  # a 429 that reached the caller, say
            outcome = exc
        elapsed = time.perf_counter() - start
        limited = sum(1 for r in emu.requests if r.status == 429)
        return elapsed, outcome, emu.state_by_row("OPS"), limited, len(emu.requests)


def print_concurrency(pages: int, latency: float, quota: int) -> bool:
    """Sequential against 4 workers, side by side, and 4 workers under a quota."""
    print(
        f"concurrency: first sync of {pages:,} postmortems x {SCALE_ITEMS} items, "
        f"{latency * 1000:.0f} ms latency per request"
    )
    one_s, one, one_state, _, one_n = first_sync_with(pages, 1, latency=latency)
    four_s, four, four_state, _, four_n = first_sync_with(pages, 4, latency=latency)
    ratio = four_s / one_s
    same = one_state == four_state
    ok = isinstance(one, pmsync.SyncResult) and one.ok
    ok = ok and isinstance(four, pmsync.SyncResult) and four.ok
    print(f"{'':24}{'1 worker':>10}{'4 workers':>11}{'ratio':>9}")
    print(f"{'wall seconds':24}{one_s:>10.2f}{four_s:>11.2f}{ratio:>9.3f}   (budget 0.333)")
    print(f"{'requests':24}{one_n:>10,}{four_n:>11,}{four_n / one_n:>9.3f}")
    print(f"  same pages and issues (keys by row): {same}; both ok: {ok}")
    quota_s, limited, _, on_wire, _ = first_sync_with(pages, 4, latency=latency, quota=quota)
    reached = not isinstance(limited, pmsync.SyncResult) or not limited.ok
    print(
        f"  4 workers under a quota of {quota} requests/s: {quota_s:.2f}s, {on_wire} 429 "
        f"answered and waited out, a 429 reached the caller: {reached}"
    )
    return ratio <= 1 / 3 and same and ok and not reached


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, action="append", help="scale rows (default 1000)")
    parser.add_argument("--wall-pages", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--rss-pages", type=int, default=10000, help="0: skip")
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--latency-pages", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency-pages", type=int, default=100)
    parser.add_argument("--concurrency-latency", type=float, default=0.03)
    parser.add_argument("--concurrency-quota", type=int, default=40)
    parser.add_argument(
        "--only-concurrency", action="store_true", help="run the concurrency section only"
    )
    args = parser.parse_args()
    if args.only_concurrency:
        met = print_concurrency(
            args.concurrency_pages, args.concurrency_latency, args.concurrency_quota
        )
        print("budgets:", "met" if met else "MISSED")
        raise SystemExit(0 if met else 1)
    full_pages = 100
    n_items = full_pages * args.items

    print(f"sync_bench: {full_pages} pages x {args.items} items = {n_items} items, full runs")
    with Emulator() as emu:
        page_ids = seed(emu, full_pages, args.items)
        first, first_s = run_pmsync(emu)
        noop, noop_s = run_pmsync(emu)
    # The naive script reads pages the way one-off scripts do, through REST v1.
    with Emulator(v1_pages="ok") as emu:
        page_ids = seed(emu, full_pages, args.items)
        naive_first, _ = run_naive(emu, page_ids)
        naive_noop, _ = run_naive(emu, page_ids)
    budget_first = 0.2 * n_items + 3 * full_pages  # the lease, the write, the release
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
    with Emulator(v1_pages="ok") as emu:
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
    ok = print_scale([scale_row(n) for n in args.pages or [1000]]) and ok
    ok = print_wall(args.wall_pages) and ok
    if args.rss_pages:
        ok = print_rss(args.rss_pages) and ok
    ok = (
        print_concurrency(args.concurrency_pages, args.concurrency_latency, args.concurrency_quota)
        and ok
    )
    print("budgets:", "met" if ok else "MISSED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
