"""The editor scans a page once and answers any number of write-backs from that scan;
it places cells on the grid exactly as the parser does."""

from __future__ import annotations

import html
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmsync import parse_page
from pmsync._storage import edit
from pmsync._storage.blocks import remove_block, upsert_block
from pmsync._storage.edit import Block, PageEditor, RowUpdate, TaskUpdate, _Grid, write_back

PAGE = (
    "<h2>Action items</h2><table><tbody>"
    "<tr><th>Action item</th><th>Owner</th><th>Status</th><th>Jira</th></tr>"
    "<tr><td>Add a queue alarm</td><td>Ann</td><td>To do</td><td></td></tr>"
    "<tr><td>Rotate the keys</td><td>Bob</td><td>To do</td><td></td></tr>"
    "</tbody></table>"
    "<ac:task-list><ac:task><ac:task-id>7</ac:task-id><ac:task-status>incomplete"
    "</ac:task-status><ac:task-body>Ping the vendor</ac:task-body></ac:task></ac:task-list>"
)
UPDATE_SETS = [
    [RowUpdate(0, 0, jira_key="OPS-1")],
    [RowUpdate(0, 1, jira_key="OPS-2", status="Done", category=None)],
    [RowUpdate(0, 0, jira_key="OPS-1"), RowUpdate(0, 1, jira_key="OPS-2")],
    [TaskUpdate(0, 0, "7", jira_key="OPS-3", done=True)],
    [],
]


def test_one_scan_answers_many_write_backs_as_write_back_does():
    tables = parse_page(PAGE).tables
    with mock.patch.object(edit, "scan", wraps=edit.scan) as scans:
        editor = PageEditor(PAGE)
        results = [editor.write(tables, updates) for updates in UPDATE_SETS]

    assert scans.call_count == 1
    assert results == [write_back(PAGE, tables, updates) for updates in UPDATE_SETS]
    assert [result.changed for result in results] == [True, True, True, True, False]


def test_each_write_starts_from_the_page_as_scanned():
    tables = parse_page(PAGE).tables
    editor = PageEditor(PAGE)
    editor.write(tables, [RowUpdate(0, 0, jira_key="OPS-1")])
    second = editor.write(tables, [RowUpdate(0, 1, jira_key="OPS-2")])

    assert "OPS-1" not in second.storage
    assert editor.storage == PAGE


@st.composite
def spanned_tables(draw: st.DrawFn) -> str:
    """An action table whose body cells span rows and columns at random; each cell says
    where it was written (``r2c1``)."""
    width = draw(st.integers(2, 4))
    header = "<tr><th>Action item</th><th>Owner</th>" + "<th>Notes</th>" * (width - 2) + "</tr>"
    rows = []
    for r in range(draw(st.integers(1, 5))):
        cells = []
        for c in range(draw(st.integers(1, width))):
            colspan = draw(st.sampled_from(["", "", ' colspan="2"']))
            rowspan = draw(st.sampled_from(["", "", "", ' rowspan="2"', ' rowspan="0"']))
            cells.append(f"<td{colspan}{rowspan}>r{r}c{c}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tbody>{header}{''.join(rows)}</tbody></table>"


@settings(max_examples=200, deadline=None)
@given(spanned_tables())
def test_parser_and_editor_place_every_cell_in_the_same_column(table):
    """Table N, row M, column C names the same cell for both, by construction."""
    postmortem = parse_page(table)
    if not postmortem.tables:
        return
    item_table = postmortem.tables[0]
    grid = _Grid(table, edit.scan(table).tables[0])

    assert grid.width == item_table.width
    for item in postmortem.items:
        slot = grid.slots[item_table.header_row + 1 + item.row][item_table.columns["summary"]]
        written = html.unescape(slot.cell.content(table))
        assert written == item.summary


NOTE = (
    '<ac:structured-macro ac:name="note"><ac:parameter ac:name="title">pmsync: action item '
    "check</ac:parameter><ac:rich-text-body><p>{}</p></ac:rich-text-body></ac:structured-macro>"
)
MARKER = "pmsync: action item check"
BLOCK_PAGES = [
    PAGE,
    PAGE + NOTE.format("old"),
    PAGE.replace("<h2>", NOTE.format("first") + "<h2>") + NOTE.format("copy"),
    PAGE + NOTE.format("new").replace('ac:name="note"', 'ac:name="note" ac:macro-id="x1"'),
    "<ac:layout><ac:layout-section><ac:layout-cell>" + PAGE + "</ac:layout-cell>"
    "</ac:layout-section></ac:layout>",
]


@pytest.mark.parametrize("storage", BLOCK_PAGES, ids=["none", "old", "copies", "same", "layout"])
@pytest.mark.parametrize("after_table", [0, None, 5])
def test_a_block_is_put_in_the_same_pass_as_blocks_would_put_it(storage, after_table):
    """The lint note goes where upsert_block puts it, in the write that adds the keys."""
    tables = parse_page(storage).tables
    updates = [RowUpdate(0, 0, jira_key="OPS-1")]
    new = NOTE.format("new")
    result = PageEditor(storage).write(
        tables, updates, block=Block(MARKER, new, after_table=after_table)
    )
    cells_only = write_back(storage, tables, updates).storage

    assert result.storage == upsert_block(cells_only, MARKER, new, after_table=after_table)


@pytest.mark.parametrize("storage", BLOCK_PAGES, ids=["none", "old", "copies", "same", "layout"])
def test_a_block_without_markup_is_removed_as_remove_block_does(storage):
    result = PageEditor(storage).write(parse_page(storage).tables, [], block=Block(MARKER, None))

    assert result.storage == remove_block(storage, MARKER)
    assert result.changed == (result.storage != storage)
