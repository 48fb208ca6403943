"""Writing a Jira key into a ticket cell and a status into a status cell of a table row."""

from __future__ import annotations

import pytest

from pmsync import ItemTable, Status
from pmsync._storage._scan import read, row_cells, scan, table_rows
from pmsync._storage.edit import (
    JiraServer,
    MarkupError,
    RowUpdate,
    WriteBack,
    find_jira_server,
    write_back,
)

HEADER = "<tr><th>Action</th><th>Owner</th><th>Ticket</th><th>Status</th></tr>"
TABLE = ItemTable(
    index=0, header_row=0, columns={"summary": 0, "owner": 1, "ticket": 2, "status": 3}, width=4
)
SERVER = JiraServer("System JIRA", "1111-2222")


def page(*rows: str, before: str = "<h2>Action items</h2>", after: str = "<p>end</p>") -> str:
    return f"{before}<table><tbody>{HEADER}{''.join(rows)}</tbody></table>{after}"


def row(ticket: str = "<br />", status: str = "", summary: str = "Fix the thing") -> str:
    return f"<tr><td>{summary}</td><td>Ann</td><td>{ticket}</td><td>{status}</td></tr>"


def cell(storage: str, body_row: int, col: int, table: int = 0) -> str:
    """The content of one cell of the written page, found by scanning it afresh."""
    rows = table_rows(scan(storage).tables[table])
    return row_cells(rows[1 + body_row])[col].content(storage)


def jira(key: str, server: JiraServer | None = SERVER) -> str:
    params = ""
    if server is not None:
        params += f'<ac:parameter ac:name="server">{server.name}</ac:parameter>'
        params += f'<ac:parameter ac:name="serverId">{server.server_id}</ac:parameter>'
    return (
        '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
        f'{params}<ac:parameter ac:name="key">{key}</ac:parameter></ac:structured-macro>'
    )


def lozenge(title: str, colour: str) -> str:
    return (
        '<ac:structured-macro ac:name="status" ac:schema-version="1">'
        f'<ac:parameter ac:name="title">{title}</ac:parameter>'
        f'<ac:parameter ac:name="colour">{colour}</ac:parameter></ac:structured-macro>'
    )


def write(storage: str, *updates: RowUpdate, server: JiraServer | None = SERVER) -> WriteBack:
    return write_back(storage, [TABLE], updates, server=server)


def assert_only_inside(original: str, result: WriteBack, ranges: list[tuple[int, int]]) -> None:
    """Every edit lies inside one of ``ranges``, and the text outside the edits is unchanged."""
    for edit in result.edits:
        assert any(start <= edit.start <= edit.end <= stop for start, stop in ranges), edit
    new_pos = 0
    old_pos = 0
    for edit in result.edits:
        kept = original[old_pos : edit.start]
        assert kept == result.storage[new_pos : new_pos + len(kept)]
        new_pos += len(kept) + len(edit.text)
        old_pos = edit.end
    assert original[old_pos:] == result.storage[new_pos:]


def content_range(storage: str, body_row: int, col: int) -> tuple[int, int]:
    rows = table_rows(scan(storage).tables[0])
    target = row_cells(rows[1 + body_row])[col]
    return target.open_end, target.close_start


# Ticket cells.


@pytest.mark.parametrize(
    "empty", ["", "<br />", "<br/>", "  ", "<p><br /></p>", "<p />", "<p>&nbsp;</p>"]
)
def test_empty_ticket_cell_gets_a_jira_macro_in_a_paragraph(empty):
    storage = page(row(ticket=empty))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f"<p>{jira('OPS-12')}</p>" == cell(result.storage, 0, 2)


def test_template_placeholder_in_the_ticket_cell_counts_as_empty():
    storage = page(row(ticket="<p><ac:placeholder>Link the Jira issue</ac:placeholder></p>"))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f"<p>{jira('OPS-12')}</p>" == cell(result.storage, 0, 2)


def test_characters_xml_forbids_are_dropped_from_written_text():
    result = write(page(row()), RowUpdate(0, 0, status="Done\x00\x1b", category=Status.DONE))

    assert f"<p>{lozenge('Done', 'Green')}</p>" == cell(result.storage, 0, 3)


def test_writing_a_ticket_keeps_the_cell_start_tag_byte_for_byte():
    start_tag = "<TD  colspan = '1'  data-x=\"a > b\" >"
    storage = page(f"<tr><td>Fix</td><td>Ann</td>{start_tag}<br /></TD><td></td></tr>")

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f"{start_tag}<p>{jira('OPS-12')}</p></TD>" in result.storage


def test_writing_a_ticket_changes_only_the_ticket_cell():
    storage = page(row(), row(summary="Second"))

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-12"))

    assert_only_inside(storage, result, [content_range(storage, 1, 2)])


def test_ticket_cell_with_the_same_key_in_a_macro_is_left_alone():
    storage = page(row(ticket=f"<p>{jira('OPS-12', JiraServer('Other', 'x'))}</p>"))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert (storage, (), ()) == (result.storage, result.written, result.skipped)


def test_ticket_cell_with_a_browse_link_to_the_key_is_left_alone():
    storage = page(row(ticket='<a href="https://acme.atlassian.net/browse/OPS-12">OPS-12</a>'))

    assert not write(storage, RowUpdate(0, 0, jira_key="OPS-12")).changed


def test_ticket_cell_with_the_bare_key_as_text_is_left_alone():
    storage = page(row(ticket="<p>OPS-12</p>"))

    assert not write(storage, RowUpdate(0, 0, jira_key="OPS-12")).changed


def test_writing_the_same_ticket_twice_changes_nothing_the_second_time():
    first = write(page(row()), RowUpdate(0, 0, jira_key="OPS-12"))

    second = write(first.storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert (first.storage, False) == (second.storage, second.changed)


def test_ticket_cell_naming_another_key_is_skipped_with_a_reason():
    storage = page(row(ticket=f"<p>{jira('OPS-7')}</p>"))
    update = RowUpdate(0, 0, jira_key="OPS-12")

    result = write(storage, update)

    assert (storage, (update,)) == (result.storage, tuple(s.update for s in result.skipped))
    assert "table 1, row 1: the ticket cell already names OPS-7" in result.skipped[0].reason


def test_ticket_cell_with_other_inline_text_keeps_it_and_gets_the_macro_after_it():
    storage = page(row(ticket="Bug 5554823"))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f"Bug 5554823 {jira('OPS-12')}" == cell(result.storage, 0, 2)


def test_ticket_cell_with_other_paragraphs_keeps_them_and_gets_a_new_paragraph():
    storage = page(row(ticket="<p>n/a</p>"))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f"<p>n/a</p><p>{jira('OPS-12')}</p>" == cell(result.storage, 0, 2)


def test_ticket_cell_with_a_mention_keeps_it():
    mention = '<ac:link><ri:user ri:account-id="557058:abc"></ri:user></ac:link>'
    storage = page(row(ticket=mention))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert cell(result.storage, 0, 2).startswith(mention)


def test_self_closing_ticket_cell_is_opened_up_with_its_attributes():
    storage = page(row().replace("<td><br /></td>", '<td colspan="1"/>'))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f'<td colspan="1"><p>{jira("OPS-12")}</p></td>' in result.storage


def test_macro_names_no_server_when_none_is_known():
    result = write(page(row()), RowUpdate(0, 0, jira_key="OPS-12"), server=None)

    assert f"<p>{jira('OPS-12', None)}</p>" == cell(result.storage, 0, 2)


def test_macro_takes_the_server_of_another_jira_macro_on_the_page_by_default():
    other = f"<p>{jira('OPS-1', JiraServer('P+F Jira', 'abcd'))}</p>"
    storage = page(row(), before=other)

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"), server=None)

    assert f"<p>{jira('OPS-12', JiraServer('P+F Jira', 'abcd'))}</p>" == cell(result.storage, 0, 2)


@pytest.mark.parametrize("key", ["ops-12", "OPS12", "OPS-", "O-1", "OPS-1<b>", "OPS-1\n", ""])
def test_invalid_jira_key_is_skipped(key):
    storage = page(row())

    result = write(storage, RowUpdate(0, 0, jira_key=key))

    assert (storage, f"table 1, row 1: {key!r} is not a Jira issue key") == (
        result.storage,
        result.skipped[0].reason,
    )


def test_server_name_is_escaped_so_it_cannot_inject_markup():
    evil = JiraServer('</ac:parameter><script>"x" & y', 'id"><b>')

    result = write(page(row()), RowUpdate(0, 0, jira_key="OPS-12"), server=evil)

    reading = read(result.storage, [(0, len(result.storage))])
    assert ({"server": evil.name, "serverId": evil.server_id, "key": "OPS-12"},) == (
        reading.jira_macros
    )


# Status cells.


def test_empty_status_cell_gets_a_lozenge_coloured_by_category():
    result = write(page(row()), RowUpdate(0, 0, status="In Progress", category=Status.IN_PROGRESS))

    assert f"<p>{lozenge('In Progress', 'Blue')}</p>" == cell(result.storage, 0, 3)


@pytest.mark.parametrize(
    ("category", "colour"),
    [(Status.TODO, "Grey"), (Status.IN_PROGRESS, "Blue"), (Status.DONE, "Green"), (None, "Grey")],
)
def test_lozenge_colour_follows_the_status_category(category, colour):
    result = write(page(row()), RowUpdate(0, 0, status="X", category=category))

    assert f"<p>{lozenge('X', colour)}</p>" == cell(result.storage, 0, 3)


@pytest.mark.parametrize(
    "text", ["TODO", "<strong>INCOMPLETE</strong>", "<p>Not Started</p>", "done", "WIP", "✅"]
)
def test_status_word_is_replaced_by_the_lozenge(text):
    result = write(page(row(status=text)), RowUpdate(0, 0, status="Done", category=Status.DONE))

    assert f"<p>{lozenge('Done', 'Green')}</p>" == cell(result.storage, 0, 3)


def test_other_text_in_the_status_cell_is_kept_after_the_lozenge():
    result = write(
        page(row(status="<p>waiting on vendor, see thread</p>")),
        RowUpdate(0, 0, status="Done", category=Status.DONE),
    )

    assert f"<p>{lozenge('Done', 'Green')}</p><p>waiting on vendor, see thread</p>" == cell(
        result.storage, 0, 3
    )


def test_existing_lozenge_gets_only_its_title_and_colour_values_rewritten():
    existing = (
        '<ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="m-1" '
        'ac:local-id="l-1"><ac:parameter ac:name="colour">Grey</ac:parameter>'
        '<ac:parameter ac:name="subtle">true</ac:parameter>'
        '<ac:parameter ac:name="title">To Do</ac:parameter></ac:structured-macro>'
    )
    storage = page(row(status=f"<p>{existing}</p>"))

    result = write(storage, RowUpdate(0, 0, status="In Review", category=Status.IN_PROGRESS))

    expected = existing.replace(">Grey<", ">Blue<").replace(">To Do<", ">In Review<")
    assert f"<p>{expected}</p>" == cell(result.storage, 0, 3)
    assert 2 == len(result.edits)


def test_lozenge_already_showing_the_status_is_left_alone():
    storage = page(row(status=f"<p>{lozenge('Done', 'Green')}</p>"))

    result = write(storage, RowUpdate(0, 0, status="Done", category=Status.DONE))

    assert (storage, ()) == (result.storage, result.written)


def test_lozenge_without_colour_counts_as_grey():
    storage = page(
        row(
            status='<ac:structured-macro ac:name="status"><ac:parameter ac:name="title">'
            "To Do</ac:parameter></ac:structured-macro>"
        )
    )

    assert not write(storage, RowUpdate(0, 0, status="To Do", category=Status.TODO)).changed


def test_lozenge_without_colour_gets_one_when_the_category_needs_another():
    storage = page(
        row(
            status='<ac:structured-macro ac:name="status"><ac:parameter ac:name="title">'
            "To Do</ac:parameter></ac:structured-macro>"
        )
    )

    result = write(storage, RowUpdate(0, 0, status="Done", category=Status.DONE))

    assert (
        '<ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Green</ac:parameter>'
        '<ac:parameter ac:name="title">Done</ac:parameter></ac:structured-macro>'
    ) == cell(result.storage, 0, 3)


def test_lozenge_colour_is_kept_when_the_category_is_unknown():
    storage = page(row(status=f"<p>{lozenge('Triage', 'Purple')}</p>"))

    result = write(storage, RowUpdate(0, 0, status="Waiting", category=None))

    assert f"<p>{lozenge('Waiting', 'Purple')}</p>" == cell(result.storage, 0, 3)


def test_status_none_leaves_the_status_cell_alone():
    storage = page(row(status="TODO"))

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-1"))

    assert "TODO" == cell(result.storage, 0, 3)


def test_status_title_is_escaped():
    result = write(page(row()), RowUpdate(0, 0, status='<b>"A" & B</b>', category=Status.TODO))

    assert '<ac:parameter ac:name="title">&lt;b&gt;"A" &amp; B&lt;/b&gt;</ac:parameter>' in (
        cell(result.storage, 0, 3)
    )


def test_blank_status_is_skipped():
    result = write(page(row()), RowUpdate(0, 0, status="  ", category=Status.TODO))

    assert "table 1, row 1: the status to write is empty" == result.skipped[0].reason


def test_key_and_status_of_one_row_are_written_together():
    update = RowUpdate(0, 0, jira_key="OPS-12", status="Done", category=Status.DONE)

    result = write(page(row()), update)

    assert (f"<p>{jira('OPS-12')}</p>", f"<p>{lozenge('Done', 'Green')}</p>", (update,)) == (
        cell(result.storage, 0, 2),
        cell(result.storage, 0, 3),
        result.written,
    )


def test_update_with_a_refused_key_and_a_written_status_is_both_written_and_skipped():
    update = RowUpdate(0, 0, jira_key="OPS-12", status="Done", category=Status.DONE)

    result = write(page(row(ticket="OPS-7")), update)

    assert ((update,), (update,)) == (result.written, tuple(s.update for s in result.skipped))


# Rows and tables that are not there.


def test_row_out_of_range_is_skipped_naming_table_and_row():
    update = RowUpdate(0, 5, jira_key="OPS-12")

    result = write(page(row()), update)

    assert ("table 1, row 6: the table has no such row", False) == (
        result.skipped[0].reason,
        result.changed,
    )


def test_negative_row_is_skipped():
    assert write(page(row()), RowUpdate(0, -1, jira_key="OPS-12")).skipped


def test_table_not_on_the_page_is_skipped():
    result = write_back(page(row()), [TABLE], [RowUpdate(3, 0, jira_key="OPS-12")])

    assert "table 4, row 1: the page has no table 4" == result.skipped[0].reason


def test_table_without_item_table_is_skipped():
    result = write_back(page(row()), [], [RowUpdate(0, 0, jira_key="OPS-12")])

    assert "table 1, row 1: table 1 is no action-item table" == result.skipped[0].reason


def test_header_row_beyond_the_table_is_skipped():
    moved = ItemTable(index=0, header_row=9, columns=TABLE.columns, width=4)

    result = write_back(page(row()), [moved], [RowUpdate(0, 0, jira_key="OPS-12")])

    assert "table 1, row 1: the table has no header row 10 any more" == result.skipped[0].reason


def test_column_beyond_the_table_is_skipped():
    wide = ItemTable(index=0, header_row=0, columns={"summary": 0, "ticket": 7}, width=4)

    result = write_back(page(row()), [wide], [RowUpdate(0, 0, jira_key="OPS-12")])

    assert "the ticket column 8 is not in the table any more" in result.skipped[0].reason


def test_table_of_another_width_than_parsed_is_skipped():
    narrow = ItemTable(index=0, header_row=0, columns=TABLE.columns, width=3)

    result = write_back(page(row()), [narrow], [RowUpdate(0, 0, jira_key="OPS-12")])

    assert "table 1, row 1: table 1 has 4 columns, not the 3 it had when the page was read" == (
        result.skipped[0].reason
    )


def test_second_update_for_the_same_row_is_skipped():
    first, second = RowUpdate(0, 0, jira_key="OPS-1"), RowUpdate(0, 0, jira_key="OPS-2")

    result = write(page(row()), first, second)

    assert ((first,), "table 1, row 1: an earlier update wrote here") == (
        result.written,
        result.skipped[0].reason,
    )


def test_written_and_skipped_keep_the_order_of_the_updates():
    updates = [
        RowUpdate(0, 2, jira_key="OPS-3"),
        RowUpdate(0, 9, jira_key="OPS-9"),
        RowUpdate(0, 0, jira_key="OPS-1"),
    ]

    result = write(page(row(), row(), row()), *updates)

    assert (updates[0], updates[2]) == result.written


def test_empty_update_changes_nothing():
    result = write(page(row()), RowUpdate(0, 0))

    assert (False, (), ()) == (result.changed, result.written, result.skipped)


def test_rows_are_found_in_the_right_table_among_nested_tables():
    nested = "<table><tbody><tr><td>inner</td></tr></tbody></table>"
    storage = page(row(summary=f"<p>First</p>{nested}"), row(summary="Second"))

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-12"))

    assert (f"<p>{jira('OPS-12')}</p>", "<br />") == (
        cell(result.storage, 1, 2),
        cell(result.storage, 0, 2),
    )


def test_second_table_is_addressed_by_its_index():
    other = "<table><tbody><tr><td>not items</td></tr></tbody></table>"
    storage = other + page(row())
    table = ItemTable(index=1, header_row=0, columns=TABLE.columns, width=4)

    result = write_back(storage, [table], [RowUpdate(1, 0, jira_key="OPS-12")], server=SERVER)

    assert f"<p>{jira('OPS-12')}</p>" == cell(result.storage, 0, 2, table=1)


def test_header_row_after_a_title_row_shifts_body_rows():
    storage = (
        '<table><tbody><tr><th colspan="4">Follow-ups</th></tr>'
        + HEADER
        + row(summary="First")
        + "</tbody></table>"
    )
    table = ItemTable(index=0, header_row=1, columns=TABLE.columns, width=4)

    result = write_back(storage, [table], [RowUpdate(0, 0, jira_key="OPS-12")], server=SERVER)

    rows = table_rows(scan(result.storage).tables[0])
    assert f"<p>{jira('OPS-12')}</p>" == row_cells(rows[2])[2].content(result.storage)


# Spanned cells.


def test_cell_covered_by_a_rowspan_from_above_is_skipped():
    storage = page(
        '<tr><td>A</td><td>Ann</td><td rowspan="2"><br /></td><td></td></tr>',
        "<tr><td>B</td><td>Bob</td><td></td></tr>",
    )

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-12"))

    assert "merged with a row above" in result.skipped[0].reason
    assert not result.changed


def test_cell_spanning_several_rows_is_skipped():
    storage = page(
        '<tr><td>A</td><td>Ann</td><td rowspan="2"><br /></td><td></td></tr>',
        "<tr><td>B</td><td>Bob</td><td></td></tr>",
    )

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert "spans 2 rows" in result.skipped[0].reason


def test_cell_covered_by_a_colspan_from_the_left_is_skipped():
    storage = page('<tr><td>A</td><td colspan="2">Ann</td><td></td></tr>')

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert "merged with the cell to its left" in result.skipped[0].reason


def test_rowspan_earlier_in_the_row_shifts_cells_onto_the_right_columns():
    storage = page(
        '<tr><td rowspan="2">A</td><td>Ann</td><td><br /></td><td></td></tr>',
        "<tr><td>Bob</td><td><br /></td><td></td></tr>",
    )

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-12"))

    rows = table_rows(scan(result.storage).tables[0])
    assert f"<p>{jira('OPS-12')}</p>" == row_cells(rows[2])[1].content(result.storage)


def test_short_row_without_the_ticket_cell_is_skipped():
    storage = page("<tr><td>A</td><td>Ann</td></tr>")

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert "table 1, row 1: not writing the ticket: the row has no cell in column 3" == (
        result.skipped[0].reason
    )


# Which Jira new macros point at.


def test_find_jira_server_reads_the_first_single_issue_macro():
    storage = page(row(ticket=f"<p>{jira('OPS-1', JiraServer('P+F Jira', 'a998'))}</p>"))

    assert JiraServer("P+F Jira", "a998") == find_jira_server(storage)


def test_find_jira_server_passes_over_jql_macros():
    jql = (
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="server">TKTS</ac:parameter>'
        '<ac:parameter ac:name="jqlQuery">project = X</ac:parameter></ac:structured-macro>'
    )
    storage = jql + page(row(ticket=f"<p>{jira('OPS-1', JiraServer('Main', 'm-1'))}</p>"))

    assert JiraServer("Main", "m-1") == find_jira_server(storage)


def test_find_jira_server_reads_parameters_in_any_order_and_decodes_entities():
    storage = (
        '<ac:structured-macro ac:name="JIRA"><ac:parameter ac:name="serverId">s-1</ac:parameter>'
        '<ac:parameter ac:name="key">OPS-1</ac:parameter>'
        '<ac:parameter ac:name="server">A &amp; B</ac:parameter></ac:structured-macro>'
    )

    assert JiraServer("A & B", "s-1") == find_jira_server(storage)


def test_find_jira_server_is_none_without_a_jira_macro():
    assert find_jira_server(page(row())) is None


def test_find_jira_server_still_reads_a_page_whose_tables_do_not_balance():
    storage = f"<p>{jira('OPS-1')}</p><table><tr><td>broken</table>"

    assert SERVER == find_jira_server(storage)


def test_write_back_raises_markup_error_on_unbalanced_tables():
    with pytest.raises(MarkupError, match="</table> found while <td>"):
        write(page(row()) + "<table><tr><td>broken</table>", RowUpdate(0, 0, jira_key="OPS-1"))


def test_find_jira_server_reads_the_macros_before_markup_it_cannot_read():
    storage = f"<p>{jira('OPS-1')}</p><!-- never closed"

    assert SERVER == find_jira_server(storage)


def test_write_back_reads_server_id_parameter_names_in_any_case():
    other = (
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="SERVERID">s-9</ac:parameter>'
        '<ac:parameter ac:name="key">OPS-1</ac:parameter></ac:structured-macro>'
    )

    result = write(page(row(), before=other), RowUpdate(0, 0, jira_key="OPS-12"), server=None)

    assert '<ac:parameter ac:name="serverId">s-9</ac:parameter>' in cell(result.storage, 0, 2)


def test_rowspan_reaching_past_the_last_row_is_clipped_to_the_table():
    storage = page(
        row(summary="A"), row(summary="B").replace("<td><br />", '<td rowspan="3"><br />')
    )

    result = write(storage, RowUpdate(0, 1, jira_key="OPS-12"))

    assert f"<p>{jira('OPS-12')}</p>" == cell(result.storage, 1, 2)


def test_tick_emoticon_in_the_status_cell_is_replaced_by_the_lozenge():
    storage = page(row(status='<ac:emoticon ac:name="tick" />'))

    result = write(storage, RowUpdate(0, 0, status="Done", category=Status.DONE))

    assert f"<p>{lozenge('Done', 'Green')}</p>" == cell(result.storage, 0, 3)


def test_lozenge_without_title_gets_one():
    storage = page(row(status='<ac:structured-macro ac:name="status"></ac:structured-macro>'))

    result = write(storage, RowUpdate(0, 0, status="Done", category=None))

    assert (
        '<ac:structured-macro ac:name="status"><ac:parameter ac:name="title">Done</ac:parameter>'
        "</ac:structured-macro>"
    ) == cell(result.storage, 0, 3)


def test_self_closing_lozenge_is_opened_up_to_take_its_parameters():
    storage = page(row(status='<ac:structured-macro ac:name="status" ac:local-id="x" />'))

    result = write(storage, RowUpdate(0, 0, status="Done", category=Status.DONE))

    assert (
        '<ac:structured-macro ac:name="status" ac:local-id="x">'
        '<ac:parameter ac:name="title">Done</ac:parameter>'
        '<ac:parameter ac:name="colour">Green</ac:parameter></ac:structured-macro>'
    ) == cell(result.storage, 0, 3)


def test_status_column_that_is_also_the_ticket_column_is_skipped():
    shared = ItemTable(0, 0, {"summary": 0, "ticket": 2, "status": 2}, width=4)

    result = write_back(page(row()), [shared], [RowUpdate(0, 0, status="Done")])

    assert "the status column is also the ticket column" in result.skipped[0].reason


def test_invalid_span_values_count_as_one():
    storage = page(
        '<tr><td colspan="wide">A</td><td rowspan="-2">Ann</td><td><br /></td><td></td></tr>'
    )

    result = write(storage, RowUpdate(0, 0, jira_key="OPS-12"))

    assert f"<p>{jira('OPS-12')}</p>" == cell(result.storage, 0, 2)


def test_rowspan_of_three_covers_two_rows_below():
    storage = page(
        '<tr><td rowspan="3">A</td><td>Ann</td><td><br /></td><td></td></tr>',
        "<tr><td>Bob</td><td><br /></td><td></td></tr>",
        "<tr><td>Cy</td><td><br /></td><td></td></tr>",
        "<tr><td>D</td><td>Di</td><td><br /></td><td></td></tr>",
    )

    result = write(storage, RowUpdate(0, 2, jira_key="OPS-3"), RowUpdate(0, 3, jira_key="OPS-4"))

    rows = table_rows(scan(result.storage).tables[0])
    assert [f"<p>{jira('OPS-3')}</p>", f"<p>{jira('OPS-4')}</p>"] == [
        row_cells(rows[3])[1].content(result.storage),
        row_cells(rows[4])[2].content(result.storage),
    ]
