"""Which tables hold action items, where their header is, and how rows are counted."""

from __future__ import annotations

import pytest
from parser_helpers import action_table, codes, only_item, parse, row

from pmsync import ItemTable


class TestFixturePages:
    """The hand-written Cloud and Server/DC pages read as their authors meant."""

    def test_cloud_table_gives_one_item_per_row(self, parse_fixture):
        """Cloud markup (th header in <p><strong>, local ids, macros) gives every row."""
        postmortem = parse_fixture("cloud-table")

        assert [
            "Add a circuit breaker around the tax service",
            "Alert when p99 checkout latency passes 2 s for 5 minutes",
            "Document the tax-service fallback in the runbook",
        ] == [item.summary for item in postmortem.items]
        assert () == postmortem.warnings

    def test_cloud_table_layout_is_reported_for_write_back(self, parse_fixture):
        """The first table is the action-item table; its columns are grid positions."""
        postmortem = parse_fixture("cloud-table")

        assert (
            ItemTable(
                index=0,
                header_row=0,
                columns={
                    "summary": 0,
                    "owner": 1,
                    "due": 2,
                    "priority": 3,
                    "status": 4,
                    "ticket": 5,
                },
                width=6,
            ),
        ) == postmortem.tables

    def test_server_table_with_bold_header_cells_is_read(self, parse_fixture):
        """Server/DC pages often make the header of bold <td> cells rather than <th>."""
        postmortem = parse_fixture("server-table")

        assert ["DBA-77", "DBA-78", None] == [item.jira_key for item in postmortem.items]
        assert () == postmortem.warnings

    def test_timeline_table_holds_no_items(self, parse_fixture):
        """The timeline after the action items gives nothing: its header names no action."""
        postmortem = parse_fixture("cloud-table")

        assert {0} == {item.table for item in postmortem.items}

    def test_tables_inside_layouts_and_macros_count(self, parse_fixture):
        """Tables inside layouts, expand and panel macros are read; key/value and layout
        tables are not."""
        postmortem = parse_fixture("containers")

        assert [(1, "Rotate the leaked token"), (2, "Audit the other tokens")] == [
            (item.table, item.summary) for item in postmortem.items
        ]

    def test_header_row_in_thead_is_found(self, parse_fixture):
        """A <thead> row is a header row even when its cells are plain <td>."""
        item = parse_fixture("thead").items[0]

        assert ("Pin the base image digest", "2026-12-24") == (item.summary, str(item.due))


class TestWhichTables:
    """A table holds action items when its header names an action and one more field."""

    @pytest.mark.parametrize(
        "header",
        [
            "<th>Time</th><th>Event</th>",
            "<th>Action item</th><th>Notes</th>",
            "<th>Owner</th><th>Due</th>",
            "<th>Action</th><th>Type</th>",
        ],
        ids=["timeline", "no-qualifying-field", "no-summary-field", "type-only"],
    )
    def test_table_without_summary_and_qualifying_column_gives_nothing(self, header):
        """Timelines and tables missing the action or a second field are not read."""
        page = action_table(row("a", "b"), header=header)

        assert () == parse(page).items

    def test_key_value_table_gives_nothing(self):
        """A table with a <th> as first cell of each row is a key/value table."""
        page = (
            "<table><tbody><tr><th>Action</th><td>Fix it</td></tr>"
            "<tr><th>Owner</th><td>Ann</td></tr></tbody></table>"
        )

        assert () == parse(page).items

    def test_plain_first_row_made_of_header_names_is_the_header(self):
        """Some people never format the header: a first row of header names still counts."""
        page = "<table><tbody>" + row("Action item", "Owner", "Due") + row("Fix it", "Ann", "")
        page += "</tbody></table>"

        assert "Fix it" == only_item(page).summary

    def test_title_row_above_the_header_is_skipped(self):
        """A full-width title row of <th> above the real header does not hide the table."""
        page = (
            "<table><tbody><tr><th colspan='2'>Follow-ups from the review</th></tr>"
            "<tr><th>Action</th><th>Owner</th></tr>" + row("Fix it", "Ann") + "</tbody></table>"
        )
        postmortem = parse(page)

        assert ["Fix it"] == [item.summary for item in postmortem.items]
        assert 1 == postmortem.tables[0].header_row

    def test_unrecognised_table_under_action_heading_is_reported(self):
        """A table under "Action items" whose header names nothing known gets a warning."""
        page = action_table(row("Fix it", "Ann"), header="<th>Thing</th><th>Person</th>")

        assert ["unrecognised-table"] == codes(parse(page))


class TestHeaderVocabulary:
    """Header names are matched after folding case, punctuation, (s) and asides."""

    @pytest.mark.parametrize(
        ("header", "field"),
        [
            ("Action Item", "summary"),
            ("Action items", "summary"),
            ("Follow-up", "summary"),
            ("Corrective action", "summary"),
            ("Remediation", "summary"),
            ("Title", "summary"),
            ("Owner(s)", "owner"),
            ("Assigned to", "owner"),
            ("DRI", "owner"),
            ("Who", "owner"),
            ("Due date", "due"),
            ("By when?", "due"),
            ("ETA", "due"),
            ("Deadline", "due"),
            ("Prio", "priority"),
            ("State", "status"),
            ("Status (Complete / Not Started)", "status"),
            ("Bug #", "ticket"),
            ("Jira ticket", "ticket"),
            ("Key", "ticket"),
            ("Type (Mitigate/ Prevent/ Process/ Other)", "type"),
            ("Category", "type"),
        ],
    )
    def test_header_name_maps_to_field(self, header, field):
        """Each header name of the vocabulary finds its column."""
        page = action_table(
            row("Fix it", "x"), header=f"<th>Action</th><th>Owner</th><th>{header}</th>"
        )
        if field == "summary":
            page = action_table(row("Fix it", "Ann"), header=f"<th>{header}</th><th>Owner</th>")
        columns = parse(page).tables[0].columns

        assert field in columns

    def test_non_breaking_space_and_colon_are_ignored(self):
        """``Due&nbsp;date:`` is ``due date``."""
        page = action_table(
            row("Fix it", "2026-01-02"), header="<th>Action</th><th>Due&nbsp;date:</th>"
        )

        assert "2026-01-02" == str(only_item(page).due)

    def test_columns_extend_the_vocabulary(self):
        """``columns=`` adds header names to a field."""
        page = action_table(row("Fix it", "Ann"), header="<th>Action</th><th>Primary contact</th>")

        item = only_item(page, columns={"owner": ["Primary contact"]})

        assert "Ann" == str(item.owner)

    def test_columns_with_a_new_field_fill_extra(self):
        """A field pmsync does not know lands in ``extra`` under its name."""
        page = action_table(
            row("Fix it", "Ann", "Payments"),
            header="<th>Action</th><th>Owner</th><th>Area</th>",
        )

        item = only_item(page, columns={"component": ["Area"]})

        assert {"component": "Payments"} == dict(item.extra)

    def test_columns_win_over_built_in_names(self):
        """A caller's name for a field takes that header away from the built-in field."""
        page = action_table(
            row("Fix it", "Ann", "Some context"),
            header="<th>Action</th><th>Owner</th><th>Description</th>",
        )

        item = only_item(page, columns={"notes": ["Description"]})

        assert ("Fix it", {"notes": "Some context"}) == (item.summary, dict(item.extra))

    def test_second_summary_column_is_the_description(self):
        """``Title | Description``: the title is the summary, the description the rest."""
        page = action_table(
            row("Rotate keys", "All prod keys, then staging", "Ann"),
            header="<th>Title</th><th>Description</th><th>Owner</th>",
        )

        item = only_item(page)

        assert ("Rotate keys", "All prod keys, then staging") == (item.summary, item.description)

    def test_columns_given_as_a_single_string_is_one_name(self):
        """``{"owner": "Primary contact"}`` is one header name, not a list of letters."""
        page = action_table(row("Fix it", "Ann"), header="<th>Action</th><th>Primary contact</th>")

        assert "Ann" == str(only_item(page, columns={"owner": "Primary contact"}).owner)

    def test_columns_of_the_wrong_type_raise_a_clear_error(self):
        """A programming mistake in ``columns`` is a TypeError naming the field."""
        with pytest.raises(TypeError, match="owner"):
            parse(action_table(row("a", "b")), columns={"owner": 3})


class TestPositions:
    """``table`` counts every <table>; ``row`` counts body rows, whatever they hold."""

    def test_table_index_counts_every_table_on_the_page(self):
        """Non-action and nested tables before an action table count."""
        nested = "<table><tbody><tr><td>inner</td></tr></tbody></table>"
        page = f"<table><tbody><tr><td>{nested}</td></tr></tbody></table>" + action_table(
            row("Fix it", "Ann")
        )

        assert 2 == only_item(page).table

    def test_row_counts_body_rows_including_labels_and_skipped_rows(self):
        """Rows are positions below the header: labels and empty rows still count."""
        page = action_table(
            "<tr><td colspan='2'>Short term</td></tr>",
            row("", ""),
            row("", "Ann"),
            row("Fix it", "Bob"),
        )

        assert 3 == only_item(page).row

    def test_rows_of_a_nested_table_do_not_count(self):
        """A table inside a cell does not shift the rows of the table around it."""
        nested = "<table><tbody><tr><td>a</td></tr><tr><td>b</td></tr></tbody></table>"
        page = action_table(row(f"First{nested}", "Ann"), row("Second", "Bob"))

        assert [(0, 0), (0, 1)] == [(item.table, item.row) for item in parse(page).items]

    def test_header_row_is_the_tr_index_within_the_table(self):
        """Rows above the header count in ``ItemTable.header_row``."""
        page = (
            "<table><tbody><tr><td></td><td></td></tr>"
            "<tr><th>Action</th><th>Owner</th></tr>" + row("Fix it", "Ann") + "</tbody></table>"
        )

        assert 1 == parse(page).tables[0].header_row


class TestMergedCells:
    """rowspan and colspan follow the HTML table model."""

    def test_cell_spanning_two_rows_gives_its_value_to_both(self, parse_fixture):
        """A merged owner cell is the owner of both rows."""
        items = parse_fixture("merged-cells").items

        assert ["Ann", "Ann"] == [str(item.owner) for item in items[:2]]

    def test_full_width_row_is_a_section_label(self, parse_fixture):
        """A row whose only cell spans the table labels the rows below it."""
        items = parse_fixture("merged-cells").items

        assert ["Short term", "Short term", "Long term", "Long term"] == [
            item.extra["section"] for item in items
        ]

    def test_cell_spanning_columns_feeds_only_its_first_field(self, parse_fixture):
        """A date spanning the due and status columns is a due date, not a status."""
        item = parse_fixture("merged-cells").items[2]

        assert ("2027-02-01", None) == (str(item.due), item.status)

    def test_merged_summary_gives_two_items_and_a_warning(self, parse_fixture):
        """Two rows sharing an action cell are two items; the second says why."""
        postmortem = parse_fixture("merged-cells")

        assert ["Bob", "Carol"] == [str(item.owner) for item in postmortem.items[2:]]
        assert ["merged-summary"] == codes(postmortem)

    def test_columns_are_grid_columns_after_colspan(self):
        """A header cell spanning two columns moves the columns after it."""
        page = (
            "<table><tbody><tr><th colspan='2'>Action</th><th>Owner</th></tr>"
            "<tr><td>#1</td><td>Fix it</td><td>Ann</td></tr></tbody></table>"
        )

        assert {"summary": 0, "owner": 2} == dict(parse(page).tables[0].columns)

    def test_row_under_a_rowspan_places_its_cells_after_the_spanned_column(self):
        """A row below a rowspan cell starts in the next free column."""
        page = action_table(
            "<tr><td rowspan='2'>Fix it</td><td>Ann</td></tr>",
            "<tr><td>Bob</td></tr>",
        )

        assert ["Ann", "Bob"] == [str(item.owner) for item in parse(page).items]

    def test_row_with_fewer_cells_than_the_header_reads_the_cells_it_has(self):
        """A row cut short (no owner cell) is still an item, without an owner."""
        page = action_table(row("Fix it", "Ann"), row("Ship it"))

        assert [("Fix it", "Ann"), ("Ship it", "None")] == [
            (item.summary, str(item.owner)) for item in parse(page).items
        ]

    def test_colspan_zero_spans_one_column(self):
        """HTML reads ``colspan="0"`` as 1: the cell does not stretch to the table end."""
        page = action_table("<tr><td colspan='0'>Fix it</td><td>Ann</td></tr>")

        assert (2, "Ann") == (parse(page).tables[0].width, str(only_item(page).owner))

    def test_rowspan_zero_reaches_the_end_of_the_table(self):
        """``rowspan="0"`` gives the cell's value to every row below it."""
        page = action_table(
            "<tr><td>Fix it</td><td rowspan='0'>Ann</td></tr>",
            "<tr><td>Add it</td></tr>",
            "<tr><td>Ship it</td></tr>",
        )

        assert ["Ann", "Ann", "Ann"] == [str(item.owner) for item in parse(page).items]

    def test_absurd_spans_are_capped(self):
        """``colspan="99999999"`` cannot make the parser build a huge grid."""
        page = action_table(
            "<tr><td colspan='99999999' rowspan='99999999'>Fix it</td><td>Ann</td></tr>"
        )

        assert 1000 + 1 == parse(page).tables[0].width
