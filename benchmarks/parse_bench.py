"""How long ``pmsync.parse_page`` and the write-back editor's scan take on big
postmortems, next to a bare lxml parse of the same page.

Builds pages in storage format and times, side by side in one run (interleaved, best
and median of ``--repeat`` rounds, in CPU time: the machines these run on are shared,
and CPU time is steadier than wall time):

* ``lxml``: ``lxml.etree.fromstring`` of the page's bytes wrapped in the smallest
  document lxml accepts (a root declaring the ``ac``/``ri`` prefixes behind an internal
  DTD subset of the XHTML entities), with a default parser: the cost of building a tree
  of every byte, the floor for any reader of the page.
* ``parse_page``: the whole of ``pmsync.parse_page`` on the same text (one tree, one
  walk, every row of every table read the same way).
* ``editor scan``: ``PageEditor(page)``, the scan a write-back starts from (offsets of
  tables, rows, cells, task lists and macros).

It prints each as a multiple of the lxml time. The goals, on the first page (~600 KB, a
long incident timeline and 500 action rows mixing Cloud rows after a sync, Cloud rows
before one and Server/DC rows): parse_page at most 5x lxml, the editor scan at most
10x. Three more pages put them in context: a typical postmortem (25 action rows, the
same timeline), 500 rows that all carry macros, and 500 rows whose summaries are bold.
Run ``python benchmarks/parse_bench.py`` (``--repeat N`` for more rounds).
"""

from __future__ import annotations

import argparse
import html.entities
import statistics
import sys
import time
from collections.abc import Callable
from typing import NamedTuple

from lxml import etree

from pmsync import parse_page
from pmsync._storage.edit import PageEditor

ACTION_ROWS = 500
TIMELINE_ROWS = 1650
#: parse_page and the editor scan, at most this many times a bare lxml parse.
PARSE_GOAL = 5.0
SCAN_GOAL = 10.0

_PRIORITIES = ("P0", "P1", "High", "Medium", "low")
_LOZENGES = (("To Do", "Grey"), ("In Progress", "Blue"), ("Done", "Green"), ("Blocked", "Red"))
_WRITTEN_STATUSES = ("Not started", "In progress", "Done", "WIP", "TODO")


def _synced_cloud_row(n: int) -> str:
    """A Cloud row after pmsync wrote back: mention, date, lozenge and Jira macro."""
    title, colour = _LOZENGES[n % len(_LOZENGES)]
    return (
        f'<tr><td><p local-id="a{n:05d}">Add an alert on queue depth for shard {n} '
        f"&amp; page the on-call&nbsp;team when it passes 10&rsquo;000</p></td>"
        f'<td><p><ac:link><ri:user ri:account-id="557058:{n:08d}-1c2d-4e5f-8a9b-0c1d2e3f4a5b" />'
        "</ac:link>&nbsp;</p></td>"
        f'<td><p><time datetime="2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}" /></p></td>'
        f"<td><p>{_PRIORITIES[n % len(_PRIORITIES)]}</p></td>"
        '<td><p><ac:structured-macro ac:name="status" ac:schema-version="1" '
        f'ac:macro-id="9f2a{n:04d}-1b2c-4d5e-8f90-a1b2c3d4e5f6">'
        f'<ac:parameter ac:name="title">{title}</ac:parameter>'
        f'<ac:parameter ac:name="colour">{colour}</ac:parameter></ac:structured-macro></p></td>'
        '<td><p><ac:structured-macro ac:name="jira" ac:schema-version="1" '
        f'ac:macro-id="3c1e{n:04d}-86c1-4b7e-9d2a-5f0e1b2c3d4e">'
        '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
        '<ac:parameter ac:name="serverId">b544e6f4-ac54-35f8-a63d-6d1ebc715244</ac:parameter>'
        f'<ac:parameter ac:name="key">OPS-{n + 100}</ac:parameter></ac:structured-macro></p></td>'
        "</tr>"
    )


def _fresh_cloud_row(n: int) -> str:
    """A Cloud row as a person typed it, before any sync."""
    return (
        f"<tr><td><p>Write a runbook for failing over region {n} and rehearse it "
        "with the on-call rotation</p><p>Include the DNS steps.</p></td>"
        f'<td><p><ac:link><ri:user ri:account-id="712020:{n:08d}-aaaa-4bbb-8ccc-0d1e2f3a4b5c" />'
        "</ac:link></p></td>"
        f'<td><p><time datetime="2027-{n % 12 + 1:02d}-{n % 28 + 1:02d}" /></p></td>'
        f"<td><p>{_PRIORITIES[n % len(_PRIORITIES)]}</p></td>"
        f"<td><p>{_WRITTEN_STATUSES[n % len(_WRITTEN_STATUSES)]}</p></td>"
        "<td><p><br /></p></td></tr>"
    )


def _server_row(n: int) -> str:
    """A Server/Data Center row: bare cells, a user-key mention, a written date."""
    return (
        f"<tr><td>Raise the connection pool limit on db-{n} and alert at 80% use</td>"
        f'<td><ac:link><ri:user ri:userkey="ff8080814a03762b014a1ca4{n:08x}" /></ac:link></td>'
        f"<td>Dec {n % 28 + 1}, 2026</td><td>High</td><td>Not started</td>"
        f"<td>DB-{n + 1}</td></tr>"
    )


def _bold_row(n: int) -> str:
    """A Server/DC row whose summary is bold."""
    return _server_row(n).replace("<td>Raise", "<td><strong>Raise</strong>", 1)


_ROW_KINDS = (_synced_cloud_row, _fresh_cloud_row, _server_row)


def _timeline_row(n: int) -> str:
    return (
        f"<tr><td><p>{n // 60 % 24:02d}:{n % 60:02d} UTC</p></td>"
        f"<td><p>The on-call engineer saw error rates rise on service {n} and opened the "
        f'<a href="https://grafana.example.com/d/{n}">dashboard</a> &mdash; '
        "<strong>no alert had fired</strong>.</p></td></tr>"
    )


def build_page(rows: Callable[[int], str] | None = None, count: int = ACTION_ROWS) -> str:
    """A big, realistic postmortem page in storage format.

    ``count`` action rows mix Cloud rows after a sync, Cloud rows before one and
    Server/DC rows; ``rows`` makes every action row of one kind instead.
    """
    timeline = "".join(_timeline_row(n) for n in range(TIMELINE_ROWS))
    make = rows or (lambda n: _ROW_KINDS[n % len(_ROW_KINDS)](n))
    actions = "".join(make(n) for n in range(count))
    return (
        "<h1>Incident 2026-11-02: queue backlog</h1>"
        "<p>On 2 November the ingest queue backed up for 3&nbsp;hours.</p>"
        '<h2>Timeline</h2><table data-layout="default"><tbody>'
        "<tr><th><p><strong>Time</strong></p></th><th><p><strong>Event</strong></p></th></tr>"
        f"{timeline}</tbody></table>"
        '<h2>Action items</h2><table data-layout="full-width" '
        'ac:local-id="0b9e3f5c-6f4a-4c1e-9d7b-2a8c1e0f3b4d"><tbody><tr>'
        "<th><p><strong>Action item</strong></p></th><th><p><strong>Owner</strong></p></th>"
        "<th><p><strong>Due date</strong></p></th><th><p><strong>Priority</strong></p></th>"
        "<th><p><strong>Status</strong></p></th><th><p><strong>Jira</strong></p></th></tr>"
        f"{actions}</tbody></table>"
        "<h2>Lessons learned</h2><ul><li><p>Alert on symptoms, not causes.</p></li></ul>"
    )


def wrap_for_lxml(page: str) -> bytes:
    """The page as the smallest document lxml accepts: declared prefixes and entities."""
    entities = "".join(
        f'<!ENTITY {name} "&#{codepoint};">'
        for name, codepoint in html.entities.name2codepoint.items()
        if name not in {"amp", "lt", "gt", "quot", "apos"}
    )
    return (
        f"<!DOCTYPE root [{entities}]>"
        '<root xmlns:ac="http://atlassian.com/content" '
        'xmlns:ri="http://atlassian.com/resource/identifier">'
        f"{page}</root>"
    ).encode()


class Timing(NamedTuple):
    """Best and median seconds of lxml, parse_page and the editor scan on one page."""

    size: int
    lxml: tuple[float, float]
    parse: tuple[float, float]
    scan: tuple[float, float]


def measure(page: str, rounds: int) -> Timing:
    """Time lxml, parse_page and the editor scan on ``page``, interleaved so that all
    three see the same machine."""
    data = wrap_for_lxml(page)
    runs: dict[str, Callable[[], object]] = {
        "lxml": lambda: etree.fromstring(data),
        "parse": lambda: parse_page(page, page_id="bench"),
        "scan": lambda: PageEditor(page),
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.process_time()
            run()
            times[name].append(time.process_time() - start)
    best_median = {name: (min(t), statistics.median(t)) for name, t in times.items()}
    return Timing(len(page.encode()), **best_median)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeat", type=int, default=25, help="rounds per page (default 25)")
    args, _ = options.parse_known_args(argv)

    pages = [
        (
            f"{ACTION_ROWS} mixed action rows + {TIMELINE_ROWS}-row timeline",
            build_page(),
            ACTION_ROWS,
        ),
        (f"typical: 25 action rows + {TIMELINE_ROWS}-row timeline", build_page(count=25), 25),
        (f"{ACTION_ROWS} synced Cloud rows + timeline", build_page(_synced_cloud_row), ACTION_ROWS),
        (f"{ACTION_ROWS} bold-summary rows + timeline", build_page(_bold_row), ACTION_ROWS),
    ]
    print(
        "parse_page and the editor scan against a bare lxml.etree parse of the same bytes, "
        f"{args.repeat} interleaved rounds (best, median; and the best as a multiple of lxml):"
    )
    timings = []
    for name, page, expected in pages:
        postmortem = parse_page(page, page_id="bench")
        assert len(postmortem.items) == expected, (name, len(postmortem.items))
        assert not postmortem.warnings, postmortem.warnings[:3]
        timing = measure(page, args.repeat)
        timings.append(timing)
        print(f"\n{name} ({timing.size / 1024:.0f} KiB)")
        for label, (best, median) in (
            ("lxml.etree.fromstring", timing.lxml),
            ("pmsync.parse_page", timing.parse),
            ("editor scan", timing.scan),
        ):
            times_lxml = best / timing.lxml[0]
            print(f"  {label:<22} {best * 1e3:7.2f} ms  {median * 1e3:7.2f} ms  {times_lxml:5.1f}x")
    first = timings[0]
    parse_ratio = first.parse[0] / first.lxml[0]
    scan_ratio = first.scan[0] / first.lxml[0]
    print(
        f"\ngoals on the first page: parse_page {parse_ratio:.1f}x lxml (<= {PARSE_GOAL:.0f}x: "
        f"{'met' if parse_ratio <= PARSE_GOAL else 'NOT met'}), editor scan {scan_ratio:.1f}x "
        f"(<= {SCAN_GOAL:.0f}x: {'met' if scan_ratio <= SCAN_GOAL else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
