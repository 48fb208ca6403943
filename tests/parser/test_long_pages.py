"""Long pages read like short ones: every row of every table goes through the one reader,
so what a page says (items and warnings) never depends on its size or on where in a long
table a row sits."""

from __future__ import annotations

import pytest
from test_properties import JIRA, LOZENGE, MENTION

from pmsync import Person, Status, parse_page

TIMELINE_ROW = (
    "<tr><td><p>{n:04d} UTC</p></td><td><p>Error rates rose on service {n}; the "
    '<a href="https://grafana.example.com/d/{n}">dashboard</a> showed it &mdash; '
    "<strong>no alert fired</strong>.</p></td></tr>"
)


def timeline(rows: int = 200, *, at: dict[int, str] | None = None) -> str:
    """A long two-column table that is not an action table; ``at`` puts extra markup
    into the second cell of the given rows."""
    body = []
    for n in range(rows):
        row = TIMELINE_ROW.format(n=n)
        if at and n in at:
            row = row.replace("</p></td></tr>", f"</p>{at[n]}</td></tr>")
        body.append(row)
    return f"<table><tbody><tr><th>Time</th><th>Event</th></tr>{''.join(body)}</tbody></table>"


def action_table(rows: int = 3, start: int = 0) -> str:
    body = "".join(
        f"<tr><td>Write runbook {n} for the failover drill</td><td>{MENTION.format(n=n)}</td>"
        f"<td>Not started</td></tr>"
        for n in range(start, start + rows)
    )
    return (
        "<table><tbody><tr><th>Action item</th><th>Owner</th><th>Status</th></tr>"
        f"{body}</tbody></table>"
    )


def page(*parts: str) -> str:
    return "<h1>Incident</h1>" + "".join(parts)


def test_the_usual_cells_come_out_right():
    table = (
        "<table><tbody><tr><th>Action item</th><th>Owner</th><th>Due</th><th>Priority</th>"
        "<th>Status</th><th>Jira</th><th>Area</th></tr>"
        "<tr><td><p>Add an alert&nbsp;on queue depth</p><p>Page the on-call.</p></td>"
        f"<td><p>{MENTION.format(n=4)}</p></td><td><p><time datetime='2026-12-01' /></p></td>"
        f"<td>P1</td><td><p>{LOZENGE.format(word='In Progress')}</p></td>"
        f"<td><p>{JIRA.format(n=12)}</p></td><td><p>storage</p></td></tr>"
        "<tr><td>Raise the pool limit</td><td><p><br /></p></td><td>Dec 5, 2026</td>"
        "<td></td><td>Not started</td><td>DB-7</td><td></td></tr></tbody></table>"
    )
    first, second = parse_page(table, page_id="p", columns={"area": ["Area"]}).items

    assert first.summary == "Add an alert on queue depth"
    assert first.description == "Page the on-call."
    assert first.owner == Person(account_id="557058:4")
    assert (first.due.isoformat(), first.priority, first.status) == (
        "2026-12-01",
        "High",
        Status.IN_PROGRESS,
    )
    assert (first.jira_key, first.item_id, dict(first.extra)) == (
        "OPS-12",
        "OPS-12",
        {"area": "storage"},
    )
    assert (second.owner, second.due.isoformat(), second.priority) == (None, "2026-12-05", None)
    assert (second.status, second.jira_key) == (Status.TODO, "DB-7")


@pytest.mark.parametrize("rows", [20, 2000], ids=["small-page", "large-page"])
def test_a_broken_row_is_reported_whatever_the_size_of_the_page(rows):
    """The same stray ``&`` in the same timeline row gives the same warning on a 6 KB
    page and on a 600 KB one, and the items are the same."""
    text = page(
        "<h2>Timeline</h2>",
        timeline(rows, at={10: "<p>Tom & Jerry<br></p>"}),
        "<h2>Action items</h2>",
        action_table(),
    )
    postmortem = parse_page(text, page_id="p")

    assert [w.code for w in postmortem.warnings] == ["broken-markup"]
    assert [item.summary for item in postmortem.items] == [
        f"Write runbook {n} for the failover drill" for n in range(3)
    ]


def test_broken_markup_anywhere_on_a_long_page_is_reported():
    text = page(timeline(), "<p>Tom & Jerry</p>", action_table())
    postmortem = parse_page(text, page_id="p")

    assert [w.code for w in postmortem.warnings] == ["broken-markup"]
    assert len(postmortem.items) == 3


def test_a_long_action_table_keeps_its_row_numbers_and_identities():
    """Rows far down a long table, of every shape, come out in order with their numbers;
    a summary repeated far below gets its own identity."""
    table = action_table(300)
    table = table.replace("<td>Write runbook 120 ", "<td><strong>Write</strong> runbook 120 ")
    table = table.replace(MENTION.format(n=200), "Platform team")
    table = table.replace("runbook 250 for the failover drill", "runbook 7 for the failover drill")
    text = page("<h2>Action items</h2>", table, "<h2>Timeline</h2>", timeline())
    postmortem = parse_page(text, page_id="p")

    assert [item.row for item in postmortem.items] == list(range(300))
    assert postmortem.items[120].summary == "Write runbook 120 for the failover drill"
    assert postmortem.items[200].owner == Person(text="Platform team")
    assert postmortem.items[250].item_id != postmortem.items[7].item_id  # occurrence 2
    assert postmortem.warnings == ()


def test_a_header_far_below_blank_rows_is_found():
    blanks = "<tr><td></td><td></td><td></td></tr>" * 6
    long_table = action_table(300).replace("<tbody>", f"<tbody>{blanks}", 1)
    postmortem = parse_page(page(timeline(), long_table), page_id="p")

    assert len(postmortem.items) == 300
    assert postmortem.tables[0].header_row == 6


def test_a_repeated_header_row_of_plain_cells_is_not_an_item():
    table = (
        "<table><tbody><tr><th>Action item</th><th>Priority</th></tr>"
        "<tr><td>Rotate the signing keys</td><td>P1</td></tr>"
        "<tr><th>Action item</th><th>Priority</th></tr>"
        "<tr><td>Alert on queue depth</td><td>low</td></tr></tbody></table>"
    )
    postmortem = parse_page(table, page_id="p")

    assert [(item.summary, item.priority) for item in postmortem.items] == [
        ("Rotate the signing keys", "High"),
        ("Alert on queue depth", "Low"),
    ]
    assert [(w.code, w.row) for w in postmortem.warnings] == [("repeated-header", 1)]
