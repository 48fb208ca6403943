"""What real pages hold that hand-made ones do not: Jira links and keys pasted into the
action text, ``@Full Name`` typed without the mention picker, and the template variables
of Atlassian's blueprint templates. Each fixture is written in the shapes Confluence
produces."""

from __future__ import annotations

import pytest
from parser_helpers import action_table, only_item, row

from pmsync import Person, Status


def test_an_inline_card_at_the_end_of_a_task_is_its_issue(parse_fixture):
    """Cloud turns a pasted issue URL into an inline card: the key, not summary text."""
    first = parse_fixture("cloud-jira-links").items[0]

    assert (first.summary, first.jira_key, first.item_id) == (
        "Add a rollback alarm",
        "OPS-77",
        "OPS-77",
    )


def test_a_browse_link_at_the_end_of_a_task_is_its_issue(parse_fixture):
    second = parse_fixture("cloud-jira-links").items[1]

    assert (second.summary, second.jira_key) == ("Document the failover drill", "OPS-78")


def test_a_bare_key_typed_at_the_end_of_a_task_is_its_issue(parse_fixture):
    third = parse_fixture("cloud-jira-links").items[2]

    assert (third.summary, third.jira_key, third.status) == (
        "Cap the replication batch size",
        "OPS-79",
        Status.DONE,
    )


def test_keys_and_links_inside_the_text_are_references(parse_fixture):
    """ "once OPS-12 ships", "described in OPS-13", "after DB-250 lands": other issues."""
    items = parse_fixture("cloud-jira-links").items

    assert [(items[i].summary, items[i].jira_key) for i in (3, 4, 7)] == [
        ("Remove the feature flag once OPS-12 ships to every region", None),
        ("Fix the retry storm described in OPS-13", None),
        ("Upgrade the replicas after DB-250 lands", None),
    ]


def test_a_link_in_the_action_cell_of_a_table_without_a_ticket_column_is_its_issue(
    parse_fixture,
):
    items = parse_fixture("cloud-jira-links").items

    assert [(items[i].summary, items[i].jira_key) for i in (5, 6)] == [
        ("Page the database on-call when replica lag passes 30 s", "DB-301"),
        ("Add lag to the service dashboard", "DB-302"),
    ]


def test_the_real_page_fixture_gives_no_warning(parse_fixture):
    assert parse_fixture("cloud-jira-links").warnings == ()


def test_with_a_ticket_column_a_key_in_the_action_text_stays_a_reference():
    """A ticket column says where the row's issue is; the action text only mentions."""
    page = action_table(
        row("Fix the retry storm OPS-13", "Ann", ""),
        header="<th>Action item</th><th>Owner</th><th>Jira</th>",
    )

    assert (only_item(page).summary, only_item(page).jira_key) == (
        "Fix the retry storm OPS-13",
        None,
    )


@pytest.mark.parametrize(
    ("text", "summary", "key"),
    [
        ("Add a rollback alarm (OPS-77).", "Add a rollback alarm", "OPS-77"),
        ("Add a rollback alarm - see OPS-77", "Add a rollback alarm", "OPS-77"),
        ("Add a rollback alarm OPS-077", "Add a rollback alarm OPS-077", None),
        ("Add a rollback alarm OPS-0", "Add a rollback alarm OPS-0", None),
        ("OPS-77", "OPS-77", None),
        ("Hash the session tokens: SHA-256", "Hash the session tokens: SHA-256", None),
        ("Encrypt the backups AES-256", "Encrypt the backups AES-256", None),
        ("Store names in UTF-8", "Store names in UTF-8", None),
    ],
    ids=["brackets", "see", "leading-zero", "zero", "nothing-else", "sha", "aes", "utf"],
)
def test_a_trailing_key_follows_jiras_key_grammar(text, summary, key):
    page = (
        "<h2>Action items</h2><ac:task-list><ac:task><ac:task-id>1</ac:task-id>"
        f"<ac:task-body>{text}</ac:task-body></ac:task></ac:task-list>"
    )

    assert (only_item(page).summary, only_item(page).jira_key) == (summary, key)


def test_a_typed_full_name_opening_a_task_is_its_owner(parse_fixture):
    first = parse_fixture("typed-mentions").items[0]

    assert (first.owner, first.summary) == (
        Person(text="Marta Kowalska"),
        "check the failover script on the replica",
    )


def test_a_typed_full_name_ending_a_task_is_its_owner(parse_fixture):
    second = parse_fixture("typed-mentions").items[1]

    assert (second.owner, second.summary) == (
        Person(text="Jonas Berg"),
        "Rotate the replication credentials",
    )


def test_a_typed_name_whose_end_is_unclear_is_warned_about_and_kept(parse_fixture):
    postmortem = parse_fixture("typed-mentions")
    third = postmortem.items[2]

    assert (third.owner, third.summary) == (None, "@Priya Failover Runbook Review")
    assert [(w.code, w.table, w.row) for w in postmortem.warnings] == [("typed-mention", 0, 2)]
    assert "make it a real @mention" in postmortem.warnings[0].message


def test_a_typed_name_beside_a_real_mention_is_only_text(parse_fixture):
    fourth = parse_fixture("typed-mentions").items[3]

    assert fourth.owner == Person(account_id="557058:dd44")
    assert fourth.summary == "tell @Marta Kowalska when the drill is booked"


def test_a_typed_name_in_the_action_cell_of_a_row_without_owner_is_its_owner(parse_fixture):
    row_item, email_item = parse_fixture("typed-mentions").items[4:]

    assert (row_item.owner, row_item.summary) == (
        Person(text="Sam O'Neil"),
        "add a health check to the failover job",
    )
    assert (email_item.owner, email_item.summary) == (None, "Mail ops@example.com the new runbook")


def test_template_variables_read_as_empty_placeholders(parse_fixture):
    """A blueprint template's at: elements are not broken markup, and show nothing."""
    postmortem = parse_fixture("template-variables")

    assert postmortem.warnings == ()
    assert [(item.summary, item.owner, item.due) for item in postmortem.items] == [
        ("Write the timeline for", None, None)
    ]
    assert postmortem.tables[0].columns == {"summary": 0, "owner": 1, "due": 2, "ticket": 3}
