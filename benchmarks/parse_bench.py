"""How fast ``pmsync.parse_page`` reads a big postmortem, next to a bare lxml parse.

Builds a ~600 KB Cloud-style page (a long incident timeline plus an action-item table
of 500 rows with mentions, dates, status lozenges, priorities and Jira macros), then
times, side by side in one run:

* ``lxml``: ``lxml.etree.fromstring`` of the page's bytes wrapped in the smallest
  document lxml accepts (a root declaring the ``ac``/``ri`` prefixes behind an internal
  DTD subset of the XHTML entities), with a default parser. This is the floor: no
  parser that reads the page with lxml can be faster.
* ``parse_page``: the whole of ``pmsync.parse_page`` on the same text.

The ratio ``lxml time / parse_page time`` is the share of the floor that parse_page
reaches; the goal is at least 0.5. Run it with ``python benchmarks/parse_bench.py``
(``--repeat N`` for more rounds, ``--min-ratio R`` to exit 1 below a ratio).
"""

from __future__ import annotations

import argparse
import html.entities
import statistics
import sys
import time
from collections.abc import Callable

from lxml import etree

from pmsync import parse_page

ACTION_ROWS = 500
TIMELINE_ROWS = 1200
GOAL = 0.5

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


_ROW_KINDS = (_synced_cloud_row, _fresh_cloud_row, _server_row)


def _timeline_row(n: int) -> str:
    return (
        f"<tr><td><p>{n // 60 % 24:02d}:{n % 60:02d} UTC</p></td>"
        f"<td><p>The on-call engineer saw error rates rise on service {n} and opened the "
        f'<a href="https://grafana.example.com/d/{n}">dashboard</a> &mdash; '
        "<strong>no alert had fired</strong>.</p></td></tr>"
    )


def build_page(rows: Callable[[int], str] | None = None) -> str:
    """A big, realistic postmortem page in storage format.

    The action rows mix Cloud rows after a sync, Cloud rows before one and Server/DC
    rows; ``rows`` makes every action row of one kind instead.
    """
    timeline = "".join(_timeline_row(n) for n in range(TIMELINE_ROWS))
    make = rows or (lambda n: _ROW_KINDS[n % len(_ROW_KINDS)](n))
    actions = "".join(make(n) for n in range(ACTION_ROWS))
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


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures; returns the exit status."""
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeat", type=int, default=25, help="rounds (default 25)")
    options.add_argument(
        "--min-ratio", type=float, default=None, help="exit 1 when the ratio is below this"
    )
    args, _ = options.parse_known_args(argv)

    page = build_page()
    data = wrap_for_lxml(page)
    size_mb = len(page.encode()) / 1e6
    postmortem = parse_page(page, page_id="bench")
    assert len(postmortem.items) == ACTION_ROWS, len(postmortem.items)
    assert not postmortem.warnings, postmortem.warnings[:3]

    lxml_times: list[float] = []
    parse_times: list[float] = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        etree.fromstring(data)
        lxml_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        parse_page(page, page_id="bench")
        parse_times.append(time.perf_counter() - start)

    best_lxml, best_parse = min(lxml_times), min(parse_times)
    median_lxml, median_parse = statistics.median(lxml_times), statistics.median(parse_times)
    ratio = best_lxml / best_parse
    print(f"page: {len(page.encode()) / 1024:.0f} KiB, {ACTION_ROWS} action rows, "
          f"{TIMELINE_ROWS} timeline rows; {args.repeat} rounds, side by side")  # fmt: skip
    print(f"lxml.etree.fromstring   best {best_lxml * 1e3:7.2f} ms  median "
          f"{median_lxml * 1e3:7.2f} ms  {size_mb / best_lxml:7.1f} MB/s")  # fmt: skip
    print(f"pmsync.parse_page       best {best_parse * 1e3:7.2f} ms  median "
          f"{median_parse * 1e3:7.2f} ms  {size_mb / best_parse:7.1f} MB/s")  # fmt: skip
    print(f"ratio lxml/parse_page   best {ratio:.2f}  median "
          f"{median_lxml / median_parse:.2f}  (goal >= {GOAL})")  # fmt: skip
    if args.min_ratio is not None and ratio < args.min_ratio:
        print(f"FAIL: ratio {ratio:.2f} is below {args.min_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
