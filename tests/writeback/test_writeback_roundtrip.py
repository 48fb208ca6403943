"""parse_page -> write_back -> parse_page: what was written is what the parser reads back."""

from __future__ import annotations

import pytest

from pmsync import ActionItem, Postmortem, Status, parse_page
from pmsync._storage.edit import RowUpdate, TaskUpdate, WriteBack, find_jira_server, write_back

CATEGORY = {"To Do": Status.TODO, "In Progress": Status.IN_PROGRESS, "Done": Status.DONE}

NO_TICKET_OR_STATUS = (
    "<h2>Action items</h2><table><colgroup><col /><col /></colgroup><tbody>"
    "<tr><th>Action item</th><th>Owner</th></tr>"
    "<tr><td>Rotate the keys</td><td>Ann</td></tr>"
    '<tr><td colspan="2"><strong>Later</strong></td></tr>'
    "<tr><td>Add an alert</td><td>Bob</td></tr></tbody></table><p>end</p>"
)

CLOUD = (
    "<h2>Action items</h2>"
    '<table data-layout="default" ac:local-id="7c4e-11" data-table-width="760"><colgroup>'
    '<col style="width: 226.0px;" /><col style="width: 226.0px;" /><col /><col /></colgroup>'
    "<tbody><tr><th><p><strong>Action</strong></p></th><th><p><strong>Owner</strong></p></th>"
    "<th><p><strong>Jira</strong></p></th><th><p><strong>Status</strong></p></th></tr>"
    '<tr><td><p local-id="a1">Rotate the keys&nbsp;for <ac:inline-comment-marker '
    'ac:ref="c-1">prod</ac:inline-comment-marker></p></td>'
    '<td><p><ac:link><ri:user ri:account-id="557058:0a1b" /></ac:link></p></td>'
    "<td><p /></td><td><p>TODO</p></td></tr>"
    "<tr><td><p>Add an alert</p></td><td><p>Bob</p></td><td><p><br /></p></td>"
    '<td><p><ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="m-9">'
    '<ac:parameter ac:name="title">To Do</ac:parameter><ac:parameter ac:name="colour">Grey'
    "</ac:parameter></ac:structured-macro></p></td></tr></tbody></table>"
)

SERVER = (
    "<h2>Follow-up actions</h2>"
    '<table class="wrapped"><colgroup><col /><col /><col /></colgroup><tbody>'
    '<tr><th scope="col">Corrective action</th><th scope="col">Who</th>'
    '<th scope="col">Bug #</th></tr>'
    '<tr><td><div class="content-wrapper"><p>Rotate the keys</p></div></td>'
    '<td><ac:link><ri:user ri:userkey="ff8080814a03762b"></ri:user></ac:link></td>'
    '<td colspan="1"><br /></td></tr>'
    '<tr><td rowspan="2">Add an alert</td><td>Bob</td><td>n/a</td></tr>'
    "<tr><td>Carol</td><td><br /></td></tr>"
    "</tbody></table>"
)

TASKS = (
    "<h2>Action items</h2><ac:task-list>\n<ac:task>\n<ac:task-id>3</ac:task-id>\n"
    "<ac:task-status>incomplete</ac:task-status>\n<ac:task-body>Review the runbook "
    '<ac:link><ri:user ri:account-id="557058:aa" /></ac:link> <time datetime="2026-05-01" />'
    "</ac:task-body>\n</ac:task>\n<ac:task>\n<ac:task-id>4</ac:task-id>\n"
    "<ac:task-status>complete</ac:task-status>\n<ac:task-body>Update the docs</ac:task-body>\n"
    "</ac:task>\n</ac:task-list>"
)


def updates_for(
    postmortem: Postmortem, status: str = "In Progress"
) -> list[RowUpdate | TaskUpdate]:
    """A key and a status for every item: OPS-101, OPS-102... in item order."""
    updates: list[RowUpdate | TaskUpdate] = []
    for number, item in enumerate(postmortem.items, start=101):
        if item.kind == "table":
            updates.append(
                RowUpdate(item.table, item.row, f"OPS-{number}", status, CATEGORY[status])
            )
        else:
            updates.append(
                TaskUpdate(item.table, item.row, item.task_id, f"OPS-{number}", status == "Done")
            )
    return updates


def round_trip(
    storage: str, status: str = "In Progress"
) -> tuple[Postmortem, WriteBack, Postmortem]:
    before = parse_page(storage, page_id="42")
    result = write_back(storage, before.tables, updates_for(before, status))
    return before, result, parse_page(result.storage, page_id="42")


def keys_and_statuses(items: tuple[ActionItem, ...]) -> list[tuple[str | None, Status | None]]:
    return [(item.jira_key, item.status) for item in items]


@pytest.mark.parametrize("storage", [NO_TICKET_OR_STATUS, CLOUD, SERVER, TASKS])
def test_item_ids_survive_the_write_or_become_the_written_key(storage):
    """Rows that had a key keep it as their id, rows that gained one are known by it,
    and every other id is unchanged."""
    before, _, after = round_trip(storage)

    assert expected_ids(before, after) == [item.item_id for item in after.items]


def expected_ids(before: Postmortem, after: Postmortem) -> list[str]:
    """The ids ``after`` should have: an item's key when it has one (``KEY#2`` for the
    second item with that key), else its id from ``before``."""
    seen: dict[str, int] = {}
    expected = []
    for old, new in zip(before.items, after.items, strict=True):
        if new.jira_key is None:
            expected.append(old.item_id)
            continue
        seen[new.jira_key] = count = seen.get(new.jira_key, 0) + 1
        expected.append(new.jira_key if count == 1 else f"{new.jira_key}#{count}")
    return expected


@pytest.mark.parametrize("storage", [NO_TICKET_OR_STATUS, CLOUD, SERVER, TASKS])
def test_nothing_is_skipped_on_pages_with_room_for_every_write(storage):
    _, result, _ = round_trip(storage)

    assert () == result.skipped


def test_added_columns_are_read_back_with_keys_and_statuses():
    _, _, after = round_trip(NO_TICKET_OR_STATUS)

    assert [("OPS-101", Status.IN_PROGRESS), ("OPS-102", Status.IN_PROGRESS)] == (
        keys_and_statuses(after.items)
    )


def test_parser_finds_the_added_columns_where_write_back_reports_them():
    _, result, after = round_trip(NO_TICKET_OR_STATUS)

    assert [(dict(t.columns), t.width) for t in result.tables] == [
        (dict(t.columns), t.width) for t in after.tables
    ]


def test_cloud_table_keys_and_lozenges_are_read_back():
    _, _, after = round_trip(CLOUD, status="Done")

    assert [("OPS-101", Status.DONE), ("OPS-102", Status.DONE)] == keys_and_statuses(after.items)


def test_cloud_lozenge_keeps_its_macro_id_when_rewritten():
    _, result, _ = round_trip(CLOUD, status="Done")

    assert 'ac:macro-id="m-9"><ac:parameter ac:name="title">Done</ac:parameter>' in result.storage


def test_server_table_keeps_the_human_text_beside_the_new_key():
    _, result, after = round_trip(SERVER)

    assert "n/a <ac:structured-macro" in result.storage
    assert ["OPS-101", "OPS-102", "OPS-103"] == [item.jira_key for item in after.items]


def test_task_keys_and_checkboxes_are_read_back():
    _, _, after = round_trip(TASKS, status="Done")

    assert [("OPS-101", Status.DONE), ("OPS-102", Status.DONE)] == keys_and_statuses(after.items)


def test_task_owner_and_due_date_are_still_read_after_the_key_is_added():
    before, _, after = round_trip(TASKS)

    assert [(i.owner, i.due, i.summary) for i in before.items] == [
        (i.owner, i.due, i.summary) for i in after.items
    ]


@pytest.mark.parametrize("storage", [NO_TICKET_OR_STATUS, CLOUD, SERVER, TASKS])
def test_second_round_trip_writes_nothing(storage):
    _, first, after = round_trip(storage)

    second = write_back(first.storage, after.tables, updates_for(after))

    assert (False, first.storage) == (second.changed, second.storage)


def test_reference_style_page_with_server_macro_names_that_server_in_new_macros():
    storage = (
        '<p><ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="x">'
        '<ac:parameter ac:name="server">P+F Jira</ac:parameter>'
        '<ac:parameter ac:name="serverId">a998-6ca6</ac:parameter>'
        '<ac:parameter ac:name="key">SFSEA-1258</ac:parameter></ac:structured-macro></p>'
        + NO_TICKET_OR_STATUS
    )
    before = parse_page(storage)

    result = write_back(
        storage, before.tables, updates_for(before), server=find_jira_server(storage)
    )

    assert 3 == result.storage.count('<ac:parameter ac:name="serverId">a998-6ca6</ac:parameter>')
