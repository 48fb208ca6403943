"""The storage-format scanner: offsets of tracked elements, and refusing broken markup."""

from __future__ import annotations

import re

import pytest

from pmsync._storage._scan import (
    MarkupError,
    iter_tags,
    parse_attributes,
    read,
    row_cells,
    scan,
    table_rows,
)


def contents(text: str, elements) -> list[str]:
    return [element.content(text) for element in elements]


def test_cell_offsets_delimit_start_tag_content_and_end_tag():
    text = '<table><tbody><tr><td class="x">A</td></tr></tbody></table>'
    cell = scan(text).tables[0].children[0].children[0].children[0]

    assert ('<td class="x">', "A", "</td>") == (
        text[cell.start : cell.open_end],
        text[cell.open_end : cell.close_start],
        text[cell.close_start : cell.end],
    )


def test_rows_of_a_table_exclude_rows_of_nested_tables():
    text = (
        "<table><tr><td>outer 1<table><tr><td>inner</td></tr></table></td></tr>"
        "<tr><td>outer 2</td></tr></table>"
    )
    document = scan(text)

    assert [2, 1] == [len(table_rows(table)) for table in document.tables]


def test_tables_are_numbered_in_start_tag_order_including_nested_ones():
    text = "<table><tr><td><table><tr><td>B</td></tr></table></td></tr></table><table></table>"
    document = scan(text)

    assert [0, 15, 67] == [table.start for table in document.tables]


def test_rows_in_thead_tbody_and_tfoot_are_in_document_order():
    text = (
        "<table><thead><tr><th>H</th></tr></thead><tbody><tr><td>B</td></tr></tbody>"
        "<tfoot><tr><td>F</td></tr></tfoot></table>"
    )
    rows = table_rows(scan(text).tables[0])

    assert ["H", "B", "F"] == [contents(text, row_cells(row))[0] for row in rows]


def test_quoted_attribute_values_may_hold_a_closing_bracket():
    text = '<table><tr><td title="a > b">X</td></tr></table>'
    cell = row_cells(table_rows(scan(text).tables[0])[0])[0]

    assert "X" == cell.content(text)


def test_single_quoted_attribute_values_are_read():
    text = "<td data-x='1 > 0' colspan = '2'>"
    tag = next(iter_tags(text))

    assert {"data-x": "1 > 0", "colspan": "2"} == {
        name: attribute.value
        for name, attribute in parse_attributes(text, tag.attrs_start, tag.attrs_stop).items()
    }


def test_uppercase_tags_are_tracked():
    text = "<TABLE><TR><TD>a</TD></TR></TABLE>"
    rows = table_rows(scan(text).tables[0])

    assert ["a"] == contents(text, row_cells(rows[0]))


def test_comments_cdata_and_processing_instructions_hide_markup():
    text = (
        "<?xml version='1.0'?><!-- <table> --><table><tr><td>"
        "<ac:plain-text-body><![CDATA[</td></tr><tr>]]></ac:plain-text-body>"
        "</td></tr></table>"
    )
    document = scan(text)

    assert 1 == len(table_rows(document.tables[0]))


def test_void_elements_without_end_tags_do_not_disturb_nesting():
    text = "<table><colgroup><col><col></colgroup><tr><td>a<br>b<hr></td></tr></table>"
    table = scan(text).tables[0]

    assert ["a<br>b<hr>"] == contents(text, row_cells(table_rows(table)[0]))


def test_col_with_explicit_end_tag_is_accepted():
    text = "<table><colgroup><col></col><col /></colgroup><tr><td>a</td></tr></table>"
    colgroup = scan(text).tables[0].children[0]

    assert 2 == len(colgroup.child_elements("col"))


def test_self_closing_cell_has_empty_content():
    text = "<table><tr><td /><td>b</td></tr></table>"
    cells = row_cells(table_rows(scan(text).tables[0])[0])

    assert ["", "b"] == contents(text, cells)


def test_a_less_than_sign_that_starts_no_tag_is_text():
    text = "<table><tr><td>1 < 2</td></tr></table>"
    cell = row_cells(table_rows(scan(text).tables[0])[0])[0]

    assert "1 < 2" == cell.content(text)


def test_task_lists_and_their_parts_are_tracked():
    text = (
        "<ac:task-list>\n<ac:task>\n<ac:task-id>7</ac:task-id>\n"
        "<ac:task-status>incomplete</ac:task-status>\n<ac:task-body>Fix it</ac:task-body>\n"
        "</ac:task>\n</ac:task-list>"
    )
    task = scan(text).task_lists[0].child_elements("ac:task")[0]

    assert ["7", "incomplete", "Fix it"] == [child.content(text) for child in task.children]


def test_macros_and_parameters_are_tracked():
    text = (
        '<p><ac:structured-macro ac:name="status"><ac:parameter ac:name="title">Done'
        "</ac:parameter></ac:structured-macro></p>"
    )
    macro = scan(text).macros[0]

    assert ["Done"] == contents(text, macro.child_elements("ac:parameter"))


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<table><tr><td>a</tr></table>", "</tr> found while <td>"),
        ("<table><tr><td>a</td></table>", "</table> found while <tr>"),
        ("<table><tr><td>a</td></tr>", "<table> is never closed"),
        ("<td>a</td>", "<td> found outside any table"),
        ("<table><td>a</td></table>", "<td> found inside <table>"),
        ("<p>a</p></td>", "</td> closes nothing"),
        ("<table><tr><td>a</td></tr></table><!-- open", "comment '<!--' is never closed"),
        ('<table><tr><td class="a>b</td></tr></table>', "start tag could not be read"),
        ("<![CDATA[ never closed", "CDATA section is never closed"),
    ],
)
def test_unbalanced_markup_raises_markup_error(markup, message):
    with pytest.raises(MarkupError, match=message):
        scan(markup)


def test_markup_error_names_line_and_column():
    with pytest.raises(MarkupError) as raised:
        scan("<p>a</p>\n<table><tr>\n  <td>x</tr></table>")

    assert (3, 8) == (raised.value.line, raised.value.column)


def test_unbalanced_untracked_elements_are_tolerated():
    text = "<p><span>open span<table><tr><td><p>a</td></tr></table>"

    assert 1 == len(scan(text).tables)


def test_reading_decodes_entities_and_collapses_whitespace():
    text = "<p>Fix&nbsp;the&rsquo;s\n  thing</p>"

    assert "Fix the’s thing" == read(text, [(0, len(text))]).text


def test_reading_leaves_out_macro_parameters_and_placeholders():
    text = (
        '<ac:placeholder>Type here</ac:placeholder><ac:structured-macro ac:name="status">'
        '<ac:parameter ac:name="title">Done</ac:parameter></ac:structured-macro>'
    )

    assert "" == read(text, [(0, len(text))]).text


def test_reading_finds_keys_in_macros_links_and_text():
    text = (
        '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">OPS-1</ac:parameter>'
        '</ac:structured-macro><a href="https://x.atlassian.net/browse/OPS-2">link</a>'
        '<ac:link><ri:url ri:value="https://jira/browse/OPS-3" /></ac:link> see OPS-4'
    )
    reading = read(text, [(0, len(text))])

    assert ("OPS-1", "OPS-2", "OPS-3", "OPS-4") == reading.keys


@pytest.mark.parametrize("markup", ["", "  ", "<br />", "<p><br /></p>", "<p>&nbsp;</p>", "<p />"])
def test_reading_whitespace_breaks_and_empty_paragraphs_is_blank(markup):
    assert read(markup, [(0, len(markup))]).blank


@pytest.mark.parametrize(
    "markup",
    ['<ac:link><ri:user ri:account-id="1" /></ac:link>', '<time datetime="2026-01-01" />'],
)
def test_reading_a_mention_or_date_is_neither_blank_nor_plain(markup):
    reading = read(markup, [(0, len(markup))])

    assert (False, False) == (reading.blank, reading.plain)


def test_reading_bold_text_is_plain():
    markup = "<p><strong>DONE</strong></p>"

    assert read(markup, [(0, len(markup))]).plain


def test_attribute_without_value_is_read_as_empty():
    text = "<td nowrap colspan=2>"
    tag = next(iter_tags(text))
    attributes = parse_attributes(text, tag.attrs_start, tag.attrs_stop)

    assert ("", "2") == (attributes["nowrap"].value, attributes["colspan"].value)


def test_declarations_and_processing_instructions_are_skipped_whole():
    text = '<!DOCTYPE html><?xml-stylesheet href="a.css"?><table></table>'

    assert ["decl", "pi", "start", "end"] == [tag.kind for tag in iter_tags(text)]


def test_a_slash_that_starts_no_end_tag_is_text():
    text = "<table><tr><td>a </ 3</td></tr></table>"
    cell = row_cells(table_rows(scan(text).tables[0])[0])[0]

    assert "a </ 3" == cell.content(text)


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<p>a</p", "an end tag is not closed"),
        ("<!DOCTYPE html", "a declaration '<!' is never closed"),
        ("<?xml version='1.0'", "a processing instruction '<?' is never closed"),
    ],
)
def test_constructs_never_closed_raise_markup_error(markup, message):
    with pytest.raises(MarkupError, match=re.escape(message)):
        scan(markup)


def test_element_repr_names_it_and_its_offsets():
    table = scan("<p/><table></table>").tables[0]

    assert "<Element table 4:19>" == repr(table)


def test_reading_a_tick_emoticon_is_plain_text_reading_as_a_check_mark():
    markup = '<p><ac:emoticon ac:name="tick" /></p>'
    reading = read(markup, [(0, len(markup))])

    assert ("✓", True) == (reading.text, reading.plain)


def test_reading_records_a_self_closing_jira_macro_without_parameters():
    markup = '<ac:structured-macro ac:name="jira" />'

    assert ({},) == read(markup, [(0, len(markup))]).jira_macros
