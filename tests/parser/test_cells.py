"""What each kind of cell gives: summary, owner, due date, priority, status, ticket."""

from __future__ import annotations

import datetime as dt

import pytest
from parser_helpers import action_table, codes, only_item, parse, row

from pmsync import Person, Status

JIRA_MACRO = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="m-1">'
    '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
    '<ac:parameter ac:name="serverId">5c1f0e2d-aaaa-bbbb-cccc-0123456789ab</ac:parameter>'
    '<ac:parameter ac:name="key">OPS-12</ac:parameter></ac:structured-macro>'
)


def lozenge(title: str, colour: str | None = None) -> str:
    """A status lozenge macro."""
    colour_parameter = f'<ac:parameter ac:name="colour">{colour}</ac:parameter>' if colour else ""
    return (
        '<ac:structured-macro ac:name="status">'
        f'<ac:parameter ac:name="title">{title}</ac:parameter>{colour_parameter}'
        "</ac:structured-macro>"
    )


def with_column(header: str, cell: str, summary: str = "Fix it") -> str:
    """An action table with one more column."""
    return action_table(
        row(summary, "Ann", cell), header=f"<th>Action</th><th>Owner</th><th>{header}</th>"
    )


class TestSummary:
    def test_first_paragraph_is_the_summary_and_the_rest_the_description(self):
        """More paragraphs and lists after the first line become the description."""
        cell = "<p>Rotate the keys</p><p>All of them.</p><ul><li>prod</li><li>staging</li></ul>"

        item = only_item(action_table(row(cell, "Ann")))

        assert ("Rotate the keys", "All of them.\n- prod\n- staging") == (
            item.summary,
            item.description,
        )

    def test_line_break_ends_the_summary(self):
        """``<br/>`` splits the first line from the rest."""
        item = only_item(action_table(row("Rotate the keys<br />then tell the team", "Ann")))

        assert ("Rotate the keys", "then tell the team") == (item.summary, item.description)

    def test_whitespace_is_collapsed_and_entities_decoded(self):
        """Non-breaking spaces, newlines and entities read as plain text."""
        cell = "<p>Don&rsquo;t\n   page&nbsp;&nbsp;the &amp; team&#8203;</p>"

        assert "Don’t page the & team" == only_item(action_table(row(cell, "Ann"))).summary

    def test_jira_macro_parameters_never_leak_into_the_summary(self):
        """A Jira macro in the summary cell gives the key, not its server or columns."""
        item = only_item(action_table(row(f"Rotate the keys {JIRA_MACRO}", "Ann")))

        assert ("Rotate the keys", "OPS-12") == (item.summary, item.jira_key)

    def test_placeholder_and_parameters_of_other_macros_are_not_text(self):
        """Template placeholders and macro parameters are invisible on the page."""
        cell = (
            "<ac:placeholder>Describe the action</ac:placeholder>"
            '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Note'
            "</ac:parameter><ac:rich-text-body><p>Rotate the keys</p></ac:rich-text-body>"
            "</ac:structured-macro>"
        )

        assert "Rotate the keys" == only_item(action_table(row(cell, "Ann"))).summary

    def test_inline_comment_markers_keep_their_text(self):
        """Text under an inline comment is ordinary text."""
        cell = (
            'Rotate the <ac:inline-comment-marker ac:ref="c1">prod</ac:inline-comment-marker> keys'
        )

        assert "Rotate the prod keys" == only_item(action_table(row(cell, "Ann"))).summary

    def test_link_to_a_page_reads_as_its_title(self):
        """An ``ac:link`` to a page without a body shows the page title."""
        cell = 'Follow <ac:link><ri:page ri:content-title="Key rotation" /></ac:link>'

        assert "Follow Key rotation" == only_item(action_table(row(cell, "Ann"))).summary

    def test_cdata_link_body_is_text(self):
        """``ac:plain-text-link-body`` CDATA is the link's text."""
        cell = (
            'Read <ac:link><ri:page ri:content-title="X" /><ac:plain-text-link-body>'
            "<![CDATA[the runbook]]></ac:plain-text-link-body></ac:link>"
        )

        assert "Read the runbook" == only_item(action_table(row(cell, "Ann"))).summary


class TestOwner:
    @pytest.mark.parametrize(
        ("cell", "owner"),
        [
            (
                '<ac:link><ri:user ri:account-id="557058:ab-cd" /></ac:link>',
                Person(account_id="557058:ab-cd"),
            ),
            (
                '<ac:link><ri:user ri:userkey="ff8080814a03"></ri:user></ac:link>',
                Person(user_key="ff8080814a03"),
            ),
            ('<ac:link><ri:user ri:username="mallory" /></ac:link>', Person(username="mallory")),
            (
                '<ac:link><ri:user ri:account-id="5a79" /><ac:plain-text-link-body>'
                "<![CDATA[Ann A.]]></ac:plain-text-link-body></ac:link>",
                Person(account_id="5a79", display_name="Ann A."),
            ),
            (
                '<a href="mailto:ann@example.com">Ann</a>',
                Person(email="ann@example.com", text="Ann"),
            ),
            ("@mallory", Person(text="@mallory")),
            ("<p>Platform team</p>", Person(text="Platform team")),
        ],
        ids=["cloud", "server-userkey", "username", "display-name", "mailto", "at-name", "team"],
    )
    def test_owner_cell_gives_the_person(self, cell, owner):
        """Mentions, mailto links and plain text all name an owner."""
        page = action_table(row("Fix it", cell))

        assert owner == only_item(page).owner

    def test_extra_mentions_are_ignored_with_a_warning(self):
        """The first mention is the owner; the others are reported."""
        cell = (
            '<ac:link><ri:user ri:account-id="a1" /></ac:link>, '
            '<ac:link><ri:user ri:account-id="b2" /></ac:link>'
        )
        postmortem = parse(action_table(row("Fix it", cell)))

        assert Person(account_id="a1") == postmortem.items[0].owner
        assert ["extra-owners"] == codes(postmortem)

    def test_two_plain_text_owners_warn(self):
        """``Ann, Bob`` names two owners: Ann is the owner."""
        postmortem = parse(action_table(row("Fix it", "Ann, Bob")))

        assert (Person(text="Ann"), ["extra-owners"]) == (
            postmortem.items[0].owner,
            codes(postmortem),
        )

    def test_struck_out_owner_is_not_the_owner(self):
        """A crossed-out old owner gives way to the new one."""
        page = action_table(row("Fix it", "<s>Ann</s> Bob"))

        assert Person(text="Bob") == only_item(page).owner

    def test_placeholder_owner_is_no_owner(self):
        """``TBD`` or ``-`` is no owner, and no warning."""
        postmortem = parse(action_table(row("Fix it", "TBD")))

        assert (None, []) == (postmortem.items[0].owner, codes(postmortem))


class TestDue:
    @pytest.mark.parametrize(
        "cell",
        [
            '<time datetime="2026-12-15" />',
            '<time datetime="2026-12-15">Dec 15, 2026</time>',
            "2026-12-15",
            "2026/12/15",
            "Dec 15, 2026",
            "December 15th, 2026",
            "15 Dec 2026",
            "15-Dec-26",
            "15/12/2026",
            "12/15/2026",
            "Tue, 15 December 2026 (moved)",
        ],
    )
    def test_due_cell_gives_the_date(self, cell):
        """``<time>`` and the common written forms give the date."""
        assert dt.date(2026, 12, 15) == only_item(with_column("Due", cell)).due

    def test_ambiguous_numeric_date_warns_and_gives_no_date(self):
        """``03/04/2026`` could be March or April."""
        postmortem = parse(with_column("Due", "03/04/2026"))

        assert (None, ["ambiguous-date"]) == (postmortem.items[0].due, codes(postmortem))

    @pytest.mark.parametrize(
        ("order", "expected"), [("DMY", dt.date(2026, 4, 3)), ("MDY", dt.date(2026, 3, 4))]
    )
    def test_date_order_reads_ambiguous_dates(self, order, expected):
        """``date_order`` says how to read them."""
        assert expected == only_item(with_column("Due", "03/04/2026"), date_order=order).due

    @pytest.mark.parametrize("cell", ["next sprint", "Q3 2026", "Dec 15", "2026-02-30"])
    def test_unreadable_date_warns(self, cell):
        """Text that is not a whole, valid date gives a warning and no date."""
        postmortem = parse(with_column("Due", cell))

        assert (None, ["unreadable-date"]) == (postmortem.items[0].due, codes(postmortem))

    @pytest.mark.parametrize("cell", ["", "TBD", "-", "n/a", "<p><br /></p>"])
    def test_empty_or_placeholder_due_is_quiet(self, cell):
        """No date written, nothing to warn about."""
        postmortem = parse(with_column("Due", cell))

        assert (None, []) == (postmortem.items[0].due, codes(postmortem))

    def test_struck_out_date_gives_way_to_the_new_one(self):
        """``<del>`` an old date, write the new one: the new one counts."""
        cell = '<del><time datetime="2026-10-01" /></del> <time datetime="2026-11-01" />'

        assert dt.date(2026, 11, 1) == only_item(with_column("Due", cell)).due


class TestPriority:
    @pytest.mark.parametrize(
        ("cell", "priority"),
        [
            ("P0", "Highest"),
            ("Critical", "Highest"),
            ("blocker", "Highest"),
            ("P1", "High"),
            ("HIGH", "High"),
            ("P2", "Medium"),
            ("normal", "Medium"),
            ("P3", "Low"),
            ("P4", "Lowest"),
            ("trivial", "Lowest"),
            ("P1 - customer facing", "High"),
            ("Sev 2", "Sev 2"),
            ("", None),
            ("n/a", None),
        ],
    )
    def test_priority_is_normalised_to_jira_names(self, cell, priority):
        """Page priorities become Jira's names; unknown ones are kept as written."""
        assert priority == only_item(with_column("Priority", cell)).priority

    def test_priorities_map_wins(self):
        """``priorities=`` (the priority_map configuration) adds and overrides names."""
        item = only_item(with_column("Priority", "SEV1"), priorities={"sev1": "Highest"})

        assert "Highest" == item.priority

    def test_priority_lozenge_gives_its_title(self):
        """A lozenge in the priority column is read by its title."""
        assert "High" == only_item(with_column("Priority", lozenge("P1", "Red"))).priority


class TestStatus:
    @pytest.mark.parametrize(
        ("cell", "status"),
        [
            ("done", Status.DONE),
            ("Completed", Status.DONE),
            ("<strong>CLOSED</strong>", Status.DONE),
            ("fixed", Status.DONE),
            ("In progress", Status.IN_PROGRESS),
            ("WIP", Status.IN_PROGRESS),
            ("blocked", Status.IN_PROGRESS),
            ("in review", Status.IN_PROGRESS),
            ("To do", Status.TODO),
            ("not started", Status.TODO),
            ("Backlog", Status.TODO),
            ("INCOMPLETE", Status.TODO),
            (lozenge("Done", "Green"), Status.DONE),
            (lozenge("In Review", "Blue"), Status.IN_PROGRESS),
            (lozenge("Awaiting deploy", "Blue"), Status.IN_PROGRESS),
            (lozenge("Selected for Development", "Grey"), Status.TODO),
            ("✅", Status.DONE),
            ('<ac:emoticon ac:name="tick" />', Status.DONE),
        ],
    )
    def test_status_cell_gives_the_category(self, cell, status):
        """Words, lozenges (title, else colour) and ticks give a status category."""
        assert status == only_item(with_column("Status", cell)).status

    def test_unknown_status_warns(self):
        """A status pmsync does not know gives a warning and no status."""
        postmortem = parse(with_column("Status", "parked"))

        assert (None, ["unknown-status"]) == (postmortem.items[0].status, codes(postmortem))

    def test_statuses_map_adds_words(self):
        """``statuses=`` (the status_map configuration) teaches new words."""
        item = only_item(with_column("Status", "parked"), statuses={"parked": "todo"})

        assert Status.TODO == item.status

    def test_statuses_map_rejects_unknown_categories(self):
        """A category that is not todo, in_progress or done is a clear error."""
        with pytest.raises(ValueError, match="in_progress"):
            parse(with_column("Status", "x"), statuses={"parked": "later"})

    def test_lozenge_with_unknown_title_and_colour_warns(self):
        """A yellow ``AT RISK``-style lozenge pmsync cannot place is reported."""
        postmortem = parse(with_column("Status", lozenge("Parked", "Yellow")))

        assert ["unknown-status"] == codes(postmortem)

    def test_checkboxes_in_the_status_cell_give_the_status(self):
        """A task list used as a checkbox: all ticked is done."""
        cell = (
            "<ac:task-list><ac:task><ac:task-id>1</ac:task-id>"
            "<ac:task-status>complete</ac:task-status><ac:task-body>shipped</ac:task-body>"
            "</ac:task></ac:task-list>"
        )

        assert Status.DONE == only_item(with_column("Status", cell)).status

    def test_lozenge_in_the_summary_cell_gives_the_status(self):
        """Without a status column, a lozenge next to the action is its status."""
        item = only_item(action_table(row(f"Fix it {lozenge('Done', 'Green')}", "Ann")))

        assert ("Fix it", Status.DONE) == (item.summary, item.status)


class TestTicket:
    @pytest.mark.parametrize(
        "cell",
        [
            JIRA_MACRO,
            '<a href="https://acme.atlassian.net/browse/OPS-12">OPS-12</a>',
            '<a href="https://acme.atlassian.net/browse/OPS-12" data-card-appearance="inline">'
            "x</a>",
            '<a href="https://jira.example.com/secure/RapidBoard.jspa?selectedIssue=OPS-12">b</a>',
            "OPS-12",
            "see OPS-12",
        ],
    )
    def test_ticket_cell_gives_the_key(self, cell):
        """Jira macros, /browse/ links and bare keys give the issue key."""
        assert "OPS-12" == only_item(with_column("Jira", cell)).jira_key

    @pytest.mark.parametrize("cell", ["Bug 5554823", "n/a", "ops-12", "ISO 8601"])
    def test_other_text_is_not_a_key(self, cell):
        """Bug numbers and placeholders are not Jira keys."""
        assert None is only_item(with_column("Bug", cell)).jira_key

    def test_other_ticket_text_is_kept_in_extra(self):
        """``Bug 5554823`` is not lost: it is the item's ``extra["ticket"]``."""
        assert {"ticket": "Bug 5554823"} == dict(only_item(with_column("Bug", "Bug 5554823")).extra)

    def test_trailing_status_word_in_the_bug_column_is_the_status(self, parse_fixture):
        """The Google SRE template writes the status after the bug: ``n/a DONE``."""
        items = parse_fixture("google-sre").items

        assert [Status.DONE, Status.TODO, Status.TODO, Status.DONE] == [
            item.status for item in items
        ]

    def test_type_column_lands_in_extra(self, parse_fixture):
        """The Google SRE ``Type`` column is ``extra["type"]``."""
        items = parse_fixture("google-sre").items

        assert ["mitigate", "prevent", "process", "prevent"] == [
            item.extra["type"] for item in items
        ]

    def test_two_keys_warn(self):
        """Two keys in the ticket cell: the first is the item's issue."""
        postmortem = parse(with_column("Jira", "OPS-12, OPS-13"))

        assert ("OPS-12", ["extra-keys"]) == (postmortem.items[0].jira_key, codes(postmortem))

    def test_same_key_in_two_rows_warns(self):
        """Two rows pointing at one issue are reported."""
        page = action_table(
            row("Fix it", "Ann", "OPS-12"),
            row("Fix it again", "Bob", "OPS-12"),
            header="<th>Action</th><th>Owner</th><th>Jira</th>",
        )

        assert ["duplicate-key"] == codes(parse(page))
