"""A large page: 500 rows, about 650 KB, every row written at once.

Run this module as a script to time it:
``.venv/bin/python tests/writeback/test_writeback_large.py``.
"""

from __future__ import annotations

import time

from pmsync import ItemTable, Status
from pmsync._storage.edit import RowUpdate, WriteBack, write_back

ROWS = 500
TABLE = ItemTable(0, 0, {"summary": 0, "owner": 1, "due": 2, "ticket": 3, "status": 4}, width=5)
WITHOUT_TICKET_OR_STATUS = ItemTable(0, 0, {"summary": 0, "owner": 1, "due": 2}, width=5)


def large_page(rows: int = ROWS) -> str:
    body = "".join(
        f'<tr ac:local-id="row-{n}"><td><p local-id="p-{n}">Fix the thing number {n}&nbsp;'
        f'&rsquo;s <ac:inline-comment-marker ac:ref="c-{n}">{"lorem ipsum dolor sit amet " * 30}'
        "</ac:inline-comment-marker></p></td>"
        f'<td><p><ac:link><ri:user ri:account-id="557058:{n:08d}" /></ac:link></p></td>'
        '<td><p><time datetime="2026-03-01" /></p></td><td><p /></td>'
        '<td><p><ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="m">'
        '<ac:parameter ac:name="title">To Do</ac:parameter>'
        '<ac:parameter ac:name="colour">Grey</ac:parameter></ac:structured-macro></p></td></tr>'
        for n in range(rows)
    )
    return (
        "<h2>Action items</h2><table><colgroup>" + "<col />" * 5 + "</colgroup><tbody>"
        "<tr><th>Action item</th><th>Owner</th><th>Due</th><th>Ticket</th><th>Status</th></tr>"
        f"{body}</tbody></table>"
    )


def every_row(rows: int = ROWS) -> list[RowUpdate]:
    return [RowUpdate(0, n, f"OPS-{n + 1}", "In Progress", Status.IN_PROGRESS) for n in range(rows)]


def test_every_row_of_a_large_page_is_written():
    result = write_back(large_page(), [TABLE], every_row())

    assert (ROWS, (), ROWS * 3) == (len(result.written), result.skipped, len(result.edits))


def test_columns_are_added_to_every_row_of_a_large_page():
    storage = large_page().replace("<th>Ticket</th><th>Status</th>", "<th>Notes</th><th>More</th>")

    result = write_back(storage, [WITHOUT_TICKET_OR_STATUS], every_row())

    assert (ROWS, ROWS, 1) == (
        len(result.written),
        result.storage.count('<td><p><ac:structured-macro ac:name="jira"'),
        result.storage.count("<th>More</th><th>Jira</th><th>Status</th></tr>"),
    )


def time_write_back(repeat: int = 5) -> float:
    """The best of ``repeat`` timings of writing every row of the large page, in seconds."""
    storage, updates = large_page(), every_row()
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        outcome: WriteBack = write_back(storage, [TABLE], updates)
        best = min(best, time.perf_counter() - started)
    assert outcome.written
    return best


if __name__ == "__main__":
    print(f"{len(large_page()) / 1000:.0f} KB, {ROWS} updates: {time_write_back():.3f} s")
