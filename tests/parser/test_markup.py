"""Broken and unusual markup is read; only unreadable input raises ParseError."""

from __future__ import annotations

import pytest
from parser_helpers import action_table, codes, only_item, parse, row

from pmsync import ParseError, parse_page
from pmsync._storage._scan import scan


class TestBrokenMarkup:
    def test_broken_fixture_is_read_with_a_warning(self, parse_fixture):
        """Unclosed cells, stray ``&``, ``<br>`` and unknown entities: items still come out."""
        postmortem = parse_fixture("broken")

        assert [("Fix the retry storm", "Ann"), ("Tune the <queue> size", "Bob")] == [
            (item.summary, str(item.owner)) for item in postmortem.items
        ]
        assert ["broken-markup"] == codes(postmortem)

    def test_broken_markup_warning_says_what_and_where(self, parse_fixture):
        """The warning quotes the parser's complaint and its line."""
        message = parse_fixture("broken").warnings[0].message

        assert "(line 2)" in message

    @pytest.mark.parametrize(
        ("cell", "summary"),
        [
            ("Fix R&D's build", "Fix R&D's build"),
            ("Ship it &check;", "Ship it ✓"),
            ("Ship it &nbsp it", "Ship it it"),
            ("Keep &bogus; as text", "Keep &bogus; as text"),
            ("Line<br>break", "Line"),
            ("<b>Bold<i>unclosed</b> tags", "Boldunclosed tags"),
        ],
    )
    def test_common_faults_are_repaired(self, cell, summary):
        """Stray ampersands, HTML5 entities, void tags and misnested tags are repaired."""
        assert summary == only_item(action_table(row(cell, "Ann"))).summary

    def test_unclosed_cells_close_where_a_browser_would(self):
        """``<td>a<td>b`` is two cells, not one inside the other."""
        page = (
            "<h2>Action items</h2><table><tr><th>Action<th>Owner"
            "<tr><td>Fix it<td>Ann<tr><td>Fix that<td>Bob</table>"
        )

        assert [("Fix it", "Ann"), ("Fix that", "Bob")] == [
            (item.summary, str(item.owner)) for item in parse(page).items
        ]

    def test_undeclared_prefix_is_read(self):
        """An element with a prefix Confluence never declared does not stop the parse."""
        page = action_table(row('Fix it <xy:var xy:name="x">now</xy:var>', "Ann"))

        assert "Fix it now" == only_item(page).summary

    def test_control_characters_and_lone_surrogates_are_dropped(self):
        """Characters XML forbids are removed, not fatal."""
        page = action_table(row("Fix\x00 it\ud800", "Ann\x0b"))

        assert ("Fix it", "Ann") == (only_item(page).summary, str(only_item(page).owner))

    def test_deep_nesting_does_not_exhaust_the_stack(self):
        """Thousands of nested elements are read without recursion errors."""
        deep = "<span>" * 5000 + "Fix it" + "</span>" * 5000

        assert "Fix it" == only_item(action_table(row(deep, "Ann"))).summary

    def test_cdata_in_a_code_macro_is_text_not_markup(self):
        """A ``<table>`` inside CDATA is code to show, not a table."""
        page = (
            '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[<table><tr>'
            "<th>Action</th><th>Owner</th></tr></table>]]></ac:plain-text-body>"
            "</ac:structured-macro>"
        )

        assert ((), ()) == (parse(page).items, parse(page).tables)

    def test_comments_and_processing_instructions_are_ignored(self):
        """``<!-- -->`` and ``<?pi?>`` add nothing and split no words."""
        page = action_table(row("Fix<!-- note --> it<?pi x?>", "Ann"))

        assert "Fix it" == only_item(page).summary

    def test_text_cannot_declare_entities(self):
        """A DOCTYPE inside the page is not honoured (no entity expansion attacks)."""
        page = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + action_table(row("Fix &a;", "Ann"))

        assert "aaaaaaaaaa" not in only_item(page).summary


class TestWhatRaises:
    def test_empty_page_has_no_items(self):
        """A new, empty page is a page without items, not an error."""
        assert ((), ()) == (parse_page("").items, parse_page("  \n").warnings)

    def test_page_without_action_items_has_no_items(self):
        """Ordinary content reads as no items and no warnings."""
        postmortem = parse_page("<p>We are still writing this one.</p>")

        assert ((), ()) == (postmortem.items, postmortem.warnings)

    def test_text_without_markup_raises_naming_the_page(self):
        """Plain text is not storage format: the error names the page."""
        with pytest.raises(ParseError, match=r"page 123 \('Outage'\) holds no storage-format"):
            parse_page("just some words", page_id="123", title="Outage")

    def test_json_instead_of_storage_gets_a_hint(self):
        """Passing the REST response instead of body.storage.value is explained."""
        with pytest.raises(ParseError, match=r"body\.storage\.value"):
            parse_page('{"body": {"storage": {"value": "<p>x</p>"}}}', page_id="123")

    def test_parse_error_carries_the_page_id(self):
        """The error says which page, for scripts that collect them."""
        with pytest.raises(ParseError) as caught:
            parse_page("nothing here", page_id="123")

        assert "123" == caught.value.page_id

    def test_non_text_raises_parse_error(self):
        """Anything but text is a ParseError, not a TypeError from deep inside."""
        with pytest.raises(ParseError, match="must be text"):
            parse_page(None, page_id="123")  # type: ignore[arg-type]

    def test_bytes_are_read_as_utf8(self):
        """Bytes from a file or a response body are decoded."""
        page = action_table(row("Fix ünïcode", "Ann")).encode()

        assert "Fix ünïcode" == parse_page(page).items[0].summary  # type: ignore[arg-type]

    def test_unknown_date_order_is_a_value_error(self):
        """A wrong ``date_order`` is a programming error, said clearly."""
        with pytest.raises(ValueError, match="DMY"):
            parse_page("<p>x</p>", date_order="YMD")  # type: ignore[arg-type]


class TestTagCase:
    """HTML names are case-insensitive, on a well-formed page as on a broken one."""

    UPPER = (
        "<h2>Action items</h2><TABLE><TBODY><TR><TH>Action item</TH><TH>Owner</TH></TR>"
        "<TR><TD COLSPAN='1'>Fix it</TD><TD>Ann</TD></TR></TBODY></TABLE>"
    )

    def test_uppercase_table_on_a_well_formed_page_is_read(self):
        """``<TABLE>``, ``<TR>`` and ``<TD>`` are a table, with no warning."""
        postmortem = parse(self.UPPER)

        assert ([("Fix it", "Ann")], []) == (
            [(item.summary, str(item.owner)) for item in postmortem.items],
            codes(postmortem),
        )

    def test_uppercase_table_reads_the_same_on_a_broken_page(self):
        """The lenient reader sees the same items as the well-formed one."""
        broken = parse(self.UPPER + "<p><b>misnested</p></b>")

        assert [item.summary for item in parse(self.UPPER).items] == [
            item.summary for item in broken.items
        ]

    def test_uppercase_tables_count_in_the_table_numbering(self):
        """An uppercase table before the action table counts, as write-back counts it."""
        page = "<TABLE><TR><TD>Timeline</TD></TR></TABLE>" + action_table(row("Fix it", "Ann"))

        assert (1, 1) == (only_item(page).table, len(scan(page).tables) - 1)
