"""Adding a ticket or status column to a table that has none."""

from __future__ import annotations

import pytest

from pmsync import ItemTable, Status
from pmsync._storage._scan import row_cells, scan, table_rows
from pmsync._storage.edit import MarkupError, RowUpdate, WriteBack, _Grid, write_back

KEY = RowUpdate(0, 0, jira_key="OPS-1")
STATUS = RowUpdate(0, 0, status="Done", category=Status.DONE)
TWO_COLUMNS = ItemTable(index=0, header_row=0, columns={"summary": 0, "owner": 1}, width=2)
JIRA = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
    '<ac:parameter ac:name="key">OPS-1</ac:parameter></ac:structured-macro>'
)
DONE = (
    '<ac:structured-macro ac:name="status" ac:schema-version="1">'
    '<ac:parameter ac:name="title">Done</ac:parameter>'
    '<ac:parameter ac:name="colour">Green</ac:parameter></ac:structured-macro>'
)


def write(storage: str, *updates: RowUpdate, table: ItemTable = TWO_COLUMNS) -> WriteBack:
    return write_back(storage, [table], updates)


def cells(storage: str, tr: int) -> list[str]:
    """The raw cells of one row (``tr`` counts every row of the first table)."""
    row = table_rows(scan(storage).tables[0])[tr]
    return [storage[cell.start : cell.end] for cell in row_cells(row)]


def grid_column(storage: str, tr: int, cell: int) -> int:
    """The grid column where the ``cell``-th cell of row ``tr`` lands."""
    grid = _Grid(storage, scan(storage).tables[0])
    return grid.cells[tr][cell].col


SIMPLE = (
    "<table><tbody><tr><th>Action</th><th>Owner</th></tr>"
    "<tr><td>Fix it</td><td>Ann</td></tr><tr><td>Test it</td><td>Bob</td></tr>"
    "</tbody></table>"
)


def test_missing_ticket_column_is_added_with_a_jira_header():
    result = write(SIMPLE, KEY)

    assert "<th>Jira</th>" == cells(result.storage, 0)[-1]


def test_added_column_holds_the_key_in_the_updated_row():
    result = write(SIMPLE, KEY)

    assert f"<td><p>{JIRA}</p></td>" == cells(result.storage, 1)[-1]


def test_added_column_gets_an_empty_cell_in_every_other_row():
    result = write(SIMPLE, KEY)

    assert "<td><br /></td>" == cells(result.storage, 2)[-1]


def test_added_columns_are_reported_in_the_new_item_table():
    result = write(SIMPLE, RowUpdate(0, 0, jira_key="OPS-1", status="Done", category=Status.DONE))

    (table,) = result.tables
    assert (0, 0, {"summary": 0, "owner": 1, "ticket": 2, "status": 3}, 4) == (
        table.index,
        table.header_row,
        dict(table.columns),
        table.width,
    )


def test_ticket_column_comes_before_status_column():
    result = write(SIMPLE, RowUpdate(0, 0, jira_key="OPS-1", status="Done", category=Status.DONE))

    assert ["<th>Jira</th>", "<th>Status</th>"] == cells(result.storage, 0)[2:]
    assert [f"<td><p>{JIRA}</p></td>", f"<td><p>{DONE}</p></td>"] == cells(result.storage, 1)[2:]


def test_only_the_missing_column_is_added():
    table = ItemTable(0, 0, {"summary": 0, "ticket": 1}, width=2)
    storage = SIMPLE.replace("<td>Ann</td>", "<td>OPS-1</td>")

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-1", status="Done"), table=table)

    assert ["<th>Action</th>", "<th>Owner</th>", "<th>Status</th>"] == cells(result.storage, 0)


def test_writing_again_with_the_new_item_table_changes_nothing():
    update = RowUpdate(0, 1, jira_key="OPS-1", status="Done", category=Status.DONE)
    first = write(SIMPLE, update)

    second = write_back(first.storage, first.tables, [update])

    assert (first.storage, False) == (second.storage, second.changed)


def test_no_column_is_added_when_no_update_can_use_it():
    result = write(SIMPLE, RowUpdate(0, 9, jira_key="OPS-1"), RowUpdate(0, 0, jira_key="bad"))

    assert (SIMPLE, (TWO_COLUMNS,)) == (result.storage, result.tables)


def test_colgroup_gets_a_col_for_each_added_column():
    storage = SIMPLE.replace(
        "<tbody>", '<colgroup><col style="width: 20px;" /><col /></colgroup><tbody>'
    )

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-1", status="Done"))

    assert (
        '<colgroup><col style="width: 20px;" /><col /><col /><col /></colgroup>' in result.storage
    )


def test_colgroup_span_is_widened_when_it_has_no_cols():
    storage = SIMPLE.replace("<tbody>", '<colgroup span="2"></colgroup><tbody>')

    result = write(storage, KEY)

    assert '<colgroup span="3"></colgroup>' in result.storage


def test_bold_td_header_gets_a_bold_td_header_cell():
    storage = SIMPLE.replace(
        "<th>Action</th><th>Owner</th>",
        "<td><strong>Action</strong></td><td><strong>Owner</strong></td>",
    )

    result = write(storage, KEY)

    assert "<td><strong>Jira</strong></td>" == cells(result.storage, 0)[-1]


def test_cloud_paragraph_headers_get_a_paragraph_header_and_paragraph_empty_cells():
    storage = (
        '<table data-table-width="760"><tbody><tr><th><p><strong>Action</strong></p></th>'
        "<th><p><strong>Owner</strong></p></th></tr><tr><td><p>Fix</p></td><td><p>Ann</p></td></tr>"
        "<tr><td><p>Test</p></td><td><p>Bob</p></td></tr></tbody></table>"
    )

    result = write(storage, KEY)

    assert ["<th><p><strong>Jira</strong></p></th>", "<td><p /></td>"] == [
        cells(result.storage, 0)[-1],
        cells(result.storage, 2)[-1],
    ]


def test_header_scope_attribute_is_repeated_but_ids_are_not():
    storage = SIMPLE.replace("<th>Owner</th>", '<th scope="col" ac:local-id="abc">Owner</th>')

    result = write(storage, KEY)

    assert '<th scope="col">Jira</th>' == cells(result.storage, 0)[-1]


def test_section_label_row_has_its_colspan_widened_instead_of_a_new_cell():
    storage = SIMPLE.replace(
        "<tr><td>Test it</td>",
        '<tr><td colspan="2"><strong>Later</strong></td></tr><tr><td>Test it</td>',
    )

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-1", status="Done"))

    assert ['<td colspan="4"><strong>Later</strong></td>'] == cells(result.storage, 2)


def test_rows_before_the_header_row_get_a_cell_too():
    storage = SIMPLE.replace("<tbody>", "<tbody><tr><td>Incident</td><td>INC-9</td></tr>")
    table = ItemTable(0, 1, {"summary": 0, "owner": 1}, width=2)

    result = write(storage, KEY, table=table)

    assert ("<td><br /></td>", f"<td><p>{JIRA}</p></td>") == (
        cells(result.storage, 0)[-1],
        cells(result.storage, 2)[-1],
    )


def test_short_row_is_padded_so_the_new_cell_lands_in_the_new_column():
    storage = SIMPLE.replace("<td>Test it</td><td>Bob</td>", "<td>Test it</td>")

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-1"))

    assert (["<td>Test it</td>", "<td><br /></td>", f"<td><p>{JIRA}</p></td>"], 2) == (
        cells(result.storage, 2),
        grid_column(result.storage, 2, 2),
    )


def test_row_covered_by_a_rowspan_in_the_last_column_gets_its_cell_in_the_new_column():
    storage = SIMPLE.replace("<td>Ann</td>", '<td rowspan="2">Ann</td>').replace("<td>Bob</td>", "")

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-1"))

    assert (["<td>Test it</td>", f"<td><p>{JIRA}</p></td>"], 2) == (
        cells(result.storage, 2),
        grid_column(result.storage, 2, 1),
    )


def test_colspan_in_the_header_puts_the_new_column_after_the_grid_width():
    storage = (
        '<table><tbody><tr><th>Action</th><th colspan="2">Owners</th></tr>'
        "<tr><td>Fix</td><td>Ann</td><td>Bob</td></tr></tbody></table>"
    )
    table = ItemTable(0, 0, {"summary": 0, "owner": 1}, width=3)

    result = write(storage, KEY, table=table)

    assert ({"summary": 0, "owner": 1, "ticket": 3}, 3) == (
        dict(result.tables[0].columns),
        grid_column(result.storage, 1, 3),
    )


def test_nested_table_rows_get_no_new_cell():
    nested = "<table><tbody><tr><td>inner</td></tr></tbody></table>"
    storage = SIMPLE.replace("<td>Fix it</td>", f"<td>Fix it{nested}</td>")

    result = write(storage, KEY)

    assert [1, 3] == [
        len(row_cells(r)) for t in scan(result.storage).tables[::-1] for r in table_rows(t)
    ][:2]


def test_adding_a_column_only_inserts_at_row_ends_and_in_the_colgroup():
    storage = SIMPLE.replace("<tbody>", "<colgroup><col /><col /></colgroup><tbody>")
    table = scan(storage).tables[0]
    allowed = {row.close_start for row in table_rows(table)} | {table.children[0].close_start}

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-1", status="Done"))

    assert all(edit.start == edit.end and edit.start in allowed for edit in result.edits)


def test_copied_header_attribute_is_requoted_safely():
    storage = SIMPLE.replace("<th>Owner</th>", "<th scope='c\"ol'>Owner</th>")

    result = write(storage, KEY)

    assert '<th scope="c&quot;ol">Jira</th>' == cells(result.storage, 0)[-1]


def test_edits_that_would_overlap_refuse_the_page_instead_of_corrupting_it():
    """A self-closing cell spanning the table, written as a ticket cell while a status
    column is added (which widens the same cell): the page is refused."""
    storage = (
        "<table><tbody><tr><th>Ticket</th><th>Action</th></tr>"
        '<tr><td colspan="2"/></tr><tr><td></td><td>Fix</td></tr></tbody></table>'
    )
    table = ItemTable(0, 0, {"ticket": 0, "summary": 1}, width=2)
    updates = [RowUpdate(0, 0, jira_key="OPS-1"), RowUpdate(0, 1, status="Done")]

    with pytest.raises(MarkupError, match="the cells to write overlap"):
        write_back(storage, [table], updates)


def test_self_closing_colgroup_is_opened_up_for_the_new_col():
    storage = SIMPLE.replace("<tbody>", "<colgroup /><tbody>")

    result = write(storage, KEY)

    assert "<colgroup><col /></colgroup>" in result.storage
