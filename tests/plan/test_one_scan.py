"""The planner scans each page once: the cells Jira's values may go into, the rows'
keys and statuses and the lint note are all computed from that one scan, and the page
it plans is the page the separate steps would have written. Pure: no HTTP."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

import pmsync
from pmsync._diff import Snapshot, diff
from pmsync._lint import LINT_MARKER, lint_corpus, render_lint_note
from pmsync._model import JiraIssue, Person, Status
from pmsync._plan import PagePlan, WritePage
from pmsync._storage import edit
from pmsync._storage.blocks import remove_block, upsert_block

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
ALICE, BOB = "557058:alice-0001", "557058:bob-0002"
OLD_NOTE = (
    '<ac:structured-macro ac:name="note"><ac:parameter ac:name="title">'
    f"{LINT_MARKER}</ac:parameter><ac:rich-text-body><p>old</p></ac:rich-text-body>"
    "</ac:structured-macro>"
)


def _row(summary: str, owner: str, due: str, priority: str, status: str, key: str) -> str:
    ticket = (
        f'<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">{key}'
        "</ac:parameter></ac:structured-macro>"
        if key
        else "<br />"
    )
    return (
        f"<tr><td><p>{summary}</p></td>"
        f'<td><ac:link><ri:user ri:account-id="{owner}" /></ac:link></td>'
        f'<td><time datetime="{due}" /></td><td>{priority}</td><td>{status}</td>'
        f"<td>{ticket}</td></tr>"
    )


def _page(page_id: str, rows: list[str], extra: str = "") -> PagePlan:
    storage = (
        "<h2>Timeline</h2><table><tbody><tr><th>Time</th><th>Event</th></tr>"
        "<tr><td>10:00</td><td>Alert fired</td></tr></tbody></table>"
        "<h2>Action items</h2><table><tbody><tr><th>Action item</th><th>Owner</th>"
        "<th>Due date</th><th>Priority</th><th>Status</th><th>Jira</th></tr>"
        + "".join(rows)
        + "</tbody></table>"
        + extra
    )
    postmortem = pmsync.parse_page(storage, page_id=page_id, title=f"Postmortem {page_id}")
    return PagePlan(
        page_id=page_id,
        title=f"Postmortem {page_id}",
        version=4,
        url=None,
        storage=storage,
        postmortem=postmortem,
    )


def _issue(page: PagePlan, row: int, key: str, **jira: object) -> JiraIssue:
    """The row's issue, agreeing with the row except for the ``jira`` values given."""
    item = page.postmortem.items[row]
    owner = item.owner.account_id if item.owner else None
    base = {
        "summary": item.summary,
        "description": None,
        "owner": owner,
        "due": item.due.isoformat() if item.due else None,
        "priority": item.priority,
        "status": "todo",
    }
    values: dict[str, object] = {
        "summary": item.summary,
        "assignee": Person(account_id=owner),
        "due": item.due,
        "priority": item.priority,
        "status": "To Do",
        "status_category": Status.TODO,
    }
    values.update(jira)
    return JiraIssue(
        key=key,
        labels=("pmsync",),
        prop={"v": 1, "page_id": page.page_id, "item_id": item.item_id, "base": base},
        **values,  # type: ignore[arg-type]
    )


@pytest.fixture
def snapshot() -> Snapshot:
    """Two pages whose rows take Jira's owner, due date, priority and status, a key for
    a row whose issue was created, and one row still to create; one carries an old note."""
    first = _page(
        "100",
        [
            _row("Add a disk alert", ALICE, "2026-12-04", "High", "To do", "OPS-1"),
            _row("Rotate the database keys", ALICE, "2026-12-10", "High", "To do", "OPS-2"),
            _row("Investigate the outage", BOB, "2026-12-12", "Low", "To do", ""),
            _row("Write the failover runbook", BOB, "2026-12-14", "Low", "To do", ""),
        ],
        extra=OLD_NOTE,
    )
    second = _page("200", [_row("Add a disk alert", BOB, "2026-12-20", "Medium", "To do", "OPS-3")])
    issues = (
        _issue(first, 0, "OPS-1", due=dt.date(2026, 12, 24), assignee=Person(account_id=BOB)),
        _issue(first, 1, "OPS-2", priority="Low", status="Done", status_category=Status.DONE),
        _issue(first, 2, "OPS-4"),  # created, its key never written back
        _issue(second, 0, "OPS-3", priority="High"),
    )
    return Snapshot(pages=(first, second), issues=issues, cloud=True)


def test_the_planner_scans_each_page_once(snapshot: Snapshot) -> None:
    config = pmsync.Config(project="OPS", lint_writeback=True)
    with mock.patch.object(edit, "scan", wraps=edit.scan) as scans:
        plan = diff(snapshot, config, now=NOW)

    assert len(snapshot.pages) == scans.call_count
    writes = [op for op in plan.operations if isinstance(op, WritePage)]
    assert ["100", "200"] == [write.page_id for write in writes]


def test_the_page_written_is_what_the_steps_one_by_one_write(snapshot: Snapshot) -> None:
    """Jira's cell values, keys, statuses and the lint note land byte for byte where
    write_back and then upsert_block (or remove_block) put them on their own scans."""
    config = pmsync.Config(project="OPS", lint_writeback=True)
    plan = diff(snapshot, config, now=NOW)
    findings = lint_corpus([page.postmortem for page in snapshot.pages], today=NOW.date())

    for write in (op for op in plan.operations if isinstance(op, WritePage)):
        page = next(p for p in snapshot.pages if p.page_id == write.page_id)
        cells = edit.write_back(page.storage, page.tables, list(write.edits)).storage
        mine = [f for f in findings if f.page_id == page.page_id]
        expected = (
            upsert_block(cells, LINT_MARKER, render_lint_note(mine), after_table=1)
            if mine
            else remove_block(cells, LINT_MARKER)
        )
        assert expected == write.storage
        assert "lint_note" in "".join(str(row.fields) for row in write.rows)
    page_100 = next(op for op in plan.operations if isinstance(op, WritePage))
    assert "OPS-4" in page_100.storage  # the created issue's key is written back
    assert 'datetime="2026-12-24"' in page_100.storage  # Jira's due date
    assert BOB in page_100.storage.split("Add a disk alert")[1].split("</tr>")[0]
