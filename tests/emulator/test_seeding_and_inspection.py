"""The seeding, human-action and inspection API that tests use directly."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from pmsync.testing import Emulator, User

FROZEN = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def ops(emu: Emulator) -> Emulator:
    """The emulator with a project OPS."""
    emu.add_project("OPS", components=("API",), custom_fields={"customfield_10010": "Team"})
    return emu


# -- users --------------------------------------------------------------------------------


def test_add_user_fills_in_every_identifier(emu: Emulator) -> None:
    """Identifiers not given are generated: account id, username, user key, Slack id."""
    user = emu.add_user(display_name="Alice Chen", email="alice@example.com")
    assert "alice" == user.username
    assert user.account_id
    assert user.user_key
    assert user.slack_id
    assert user in emu.users()


def test_add_user_keeps_given_identifiers(emu: Emulator) -> None:
    """Given identifiers are used as they are."""
    user = emu.add_user(
        display_name="Bob",
        account_id="557058:bob",
        username="bmartinez",
        user_key="ff8080bob",
        email="bob@example.com",
        slack_id="UBOB",
    )
    assert User("557058:bob", "bmartinez", "ff8080bob", "Bob", "bob@example.com", "UBOB") == user


def test_add_user_refuses_clashing_identifiers(emu: Emulator) -> None:
    """Two users cannot share an identifier or an email."""
    emu.add_user(display_name="Alice", email="alice@example.com", slack_id="UA")
    with pytest.raises(ValueError, match=r"email 'ALICE@example\.com' already exists"):
        emu.add_user(display_name="Alice 2", email="ALICE@example.com")
    with pytest.raises(ValueError, match="slack_id 'UA' already exists"):
        emu.add_user(display_name="Alice 3", slack_id="UA")


def test_add_user_needs_a_display_name(emu: Emulator) -> None:
    """A user without a name is refused."""
    with pytest.raises(ValueError, match="display_name"):
        emu.add_user(display_name=" ")


# -- projects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": "ops"}, "upper-case"),
        ({"key": "OPS", "issue_types": ()}, "issue type"),
        ({"key": "OPS", "required_fields": ("flavour",)}, "not a known field"),
        ({"key": "OPS", "custom_fields": ("cf_1",)}, "customfield_10010"),
        ({"key": "OPS", "workflow": {"Open": []}}, "unknown status 'Open'"),
        ({"key": "OPS", "workflow": {"To Do": ["Done"]}}, "reachable but not listed"),
        ({"key": "OPS", "status_categories": {"Blocked": "stuck"}}, "category"),
    ],
)
def test_add_project_refuses_what_jira_would_not_allow(
    emu: Emulator, kwargs: dict[str, object], message: str
) -> None:
    """Bad project settings fail with a message naming the problem."""
    with pytest.raises(ValueError, match=message):
        emu.add_project(**kwargs)  # type: ignore[arg-type]


def test_add_project_twice_is_refused(emu: Emulator) -> None:
    """Project keys are unique."""
    emu.add_project("OPS")
    with pytest.raises(ValueError, match="already exists"):
        emu.add_project("OPS")


# -- issues -------------------------------------------------------------------------------


def test_add_issue_sets_the_fields_a_person_would(ops: Emulator, alice: User) -> None:
    """add_issue takes plain values: a user by email, a priority name, a date."""
    key = ops.add_issue(
        "OPS",
        summary="Write a runbook",
        description="By hand",
        assignee="alice@example.com",
        reporter=alice.email,
        duedate=dt.date(2026, 12, 4),
        priority="High",
        status="In Progress",
        labels=["runbook"],
        components=["API"],
        properties={"note": {"x": 1}},
    )
    issue = ops.issue(key)
    fields = issue["fields"]
    assert ("Write a runbook", "By hand", "2026-12-04", "High") == (
        fields["summary"],
        fields["description"],
        fields["duedate"],
        fields["priority"]["name"],
    )
    assert alice.display_name == fields["assignee"]["displayName"]
    assert alice.display_name == fields["reporter"]["displayName"]
    assert "In Progress" == fields["status"]["name"]
    assert (["runbook"], ["API"]) == (fields["labels"], [c["name"] for c in fields["components"]])
    assert {"note": {"x": 1}} == issue["properties"]


def test_add_issue_starts_in_the_workflows_first_status(emu: Emulator) -> None:
    """Without a status the issue starts where the workflow starts."""
    emu.add_project(
        "OPS", workflow={"Open": ["Done"], "Done": ["Open"]}, status_categories={"Open": "new"}
    )
    key = emu.add_issue("OPS", summary="x")
    assert "Open" == emu.issue(key)["fields"]["status"]["name"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"assignee": "ghost@example.com"}, "no user 'ghost@example.com'"),
        ({"priority": "Urgent"}, "Priority name 'Urgent' is not valid"),
        ({"labels": ["two words"]}, "contains spaces"),
        ({"status": "Closed"}, "not in the workflow"),
        ({"summary": "x" * 300}, "less than 255"),
        ({"components": ["Nope"]}, "Component name 'Nope'"),
    ],
)
def test_add_issue_refuses_invalid_values(
    ops: Emulator, kwargs: dict[str, object], message: str
) -> None:
    """Invalid seeds fail with Jira's reason, so test setups cannot be silently wrong."""
    args = {"summary": "x", **kwargs}
    with pytest.raises(ValueError, match=message):
        ops.add_issue("OPS", **args)  # type: ignore[arg-type]


def test_add_issue_to_a_missing_project(emu: Emulator) -> None:
    """The project must exist first."""
    with pytest.raises(ValueError, match="add_project"):
        emu.add_issue("NOPE", summary="x")


def test_created_can_be_backdated(ops: Emulator) -> None:
    """created= sets created and updated."""
    key = ops.add_issue("OPS", summary="old", created=dt.datetime(2025, 1, 2, 3, 4, tzinfo=dt.UTC))
    fields = ops.issue(key)["fields"]
    assert ("2025-01-02T03:04:00.000+0000", "2025-01-02T03:04:00.000+0000") == (
        fields["created"],
        fields["updated"],
    )


def test_timestamps_follow_a_frozen_clock(ops: Emulator) -> None:
    """The clock is read on every change, so time-machine controls it."""
    with time_machine.travel(FROZEN, tick=False) as clock:
        key = ops.add_issue("OPS", summary="x")
        clock.shift(dt.timedelta(hours=2))
        ops.edit_issue(key, {"summary": "y"})
    fields = ops.issue(key)["fields"]
    assert "2026-12-01T09:30:00.000+0000" == fields["created"]
    assert "2026-12-01T11:30:00.000+0000" == fields["updated"]


def test_edit_issue_as_a_person(ops: Emulator, alice: User) -> None:
    """edit_issue changes fields given as plain values; None clears."""
    key = ops.add_issue("OPS", summary="x", duedate="2026-12-01", assignee=alice.email)
    ops.edit_issue(
        key,
        {
            "summary": "renamed",
            "duedate": "2026-12-24",
            "priority": "Low",
            "assignee": None,
            "labels": ["a"],
            "customfield_10010": {"value": "SRE"},
        },
    )
    fields = ops.issue(key)["fields"]
    assert ("renamed", "2026-12-24", "Low", None, ["a"], {"value": "SRE"}) == (
        fields["summary"],
        fields["duedate"],
        fields["priority"]["name"],
        fields["assignee"],
        fields["labels"],
        fields["customfield_10010"],
    )


def test_edit_issue_refuses_unknown_fields(ops: Emulator) -> None:
    """Status and other non-editable fields are refused with their names."""
    key = ops.add_issue("OPS", summary="x")
    with pytest.raises(ValueError, match="status"):
        ops.edit_issue(key, {"status": "Done"})


def test_transition_issue_sets_and_clears_the_resolution(ops: Emulator) -> None:
    """Entering Done sets resolutiondate (now); leaving it clears it."""
    key = ops.add_issue("OPS", summary="x")
    with time_machine.travel(FROZEN, tick=False):
        ops.transition_issue(key, "done")
    assert "2026-12-01T09:30:00.000+0000" == ops.issue(key)["fields"]["resolutiondate"]
    ops.transition_issue(key, "To Do")
    assert ops.issue(key)["fields"]["resolutiondate"] is None


def test_transition_issue_ignores_workflow_restrictions(emu: Emulator) -> None:
    """A person may click through several steps; the helper moves directly."""
    emu.add_project("OPS", workflow={"To Do": ["In Progress"], "In Progress": ["Done"], "Done": []})
    key = emu.add_issue("OPS", summary="x")
    emu.transition_issue(key, "Done")
    assert "Done" == emu.issue(key)["fields"]["status"]["name"]


def test_transition_to_an_unknown_status_is_refused(ops: Emulator) -> None:
    """Only statuses of the project's workflow exist."""
    key = ops.add_issue("OPS", summary="x")
    with pytest.raises(ValueError, match="Closed"):
        ops.transition_issue(key, "Closed")


def test_set_issue_property(ops: Emulator) -> None:
    """set_issue_property writes an entity property."""
    key = ops.add_issue("OPS", summary="x")
    ops.set_issue_property(key, "pmsync", {"v": 1})
    assert {"pmsync": {"v": 1}} == ops.issue(key)["properties"]


def test_issues_filters_by_project_and_keeps_creation_order(emu: Emulator) -> None:
    """issues(project) lists one project's issues, oldest first."""
    emu.add_project("OPS")
    emu.add_project("WEB")
    first = emu.add_issue("OPS", summary="a")
    emu.add_issue("WEB", summary="b")
    second = emu.add_issue("OPS", summary="c")
    assert [first, second] == [i["key"] for i in emu.issues("OPS")]
    assert 3 == len(emu.issues())


def test_issue_shape_matches_the_rest_api(ops: Emulator) -> None:
    """issues() items carry id, key, self, fields (all) and properties."""
    key = ops.add_issue("OPS", summary="x")
    issue = ops.issue(key)
    assert {"id", "key", "self", "fields", "properties"} <= set(issue)
    assert {"summary", "status", "labels", "comment", "resolutiondate", "issuetype"} <= set(
        issue["fields"]
    )


def test_issue_of_a_missing_key_is_a_key_error(ops: Emulator) -> None:
    """Inspecting a key that does not exist raises KeyError."""
    with pytest.raises(KeyError):
        ops.issue("OPS-404")


# -- pages --------------------------------------------------------------------------------


def test_page_inspection_shows_everything(emu: Emulator) -> None:
    """page() shows title, space, storage, version, labels, parent and properties."""
    parent = emu.add_page("SRE", "Parent", "<p/>")
    page_id = emu.add_page("SRE", "Child", "<p>x</p>", labels=["Postmortem"], parent_id=parent)
    emu.set_content_property(page_id, "pmsync.lease", {"run": "a"})
    page = emu.page(page_id)
    assert {
        "id": page_id,
        "type": "page",
        "title": "Child",
        "space": "SRE",
        "storage": "<p>x</p>",
        "version": 1,
        "labels": ["postmortem"],
        "parent_id": parent,
        "properties": {"pmsync.lease": {"run": "a"}},
        "versions": [{"number": 1, "title": "Child", "storage": "<p>x</p>", "message": ""}],
    } == page


def test_edit_page_saves_a_new_version(emu: Emulator) -> None:
    """edit_page returns the new version number and keeps the history."""
    page_id = emu.add_page("SRE", "Outage", "<p>1</p>")
    assert 2 == emu.edit_page(page_id, "<p>2</p>", title="Outage (edited)")
    page = emu.page(page_id)
    assert ("Outage (edited)", [1, 2]) == (page["title"], [v["number"] for v in page["versions"]])


def test_add_page_refuses_malformed_storage(emu: Emulator) -> None:
    """Seeds must be valid storage, as Confluence requires."""
    with pytest.raises(ValueError, match="Error parsing xhtml"):
        emu.add_page("SRE", "Broken", "<p><b>unclosed</p>")


def test_add_page_refuses_a_duplicate_title(emu: Emulator) -> None:
    """Titles are unique within a space."""
    emu.add_page("SRE", "Outage", "<p/>")
    with pytest.raises(ValueError, match="already exists"):
        emu.add_page("SRE", "Outage", "<p/>")


def test_add_page_records_the_author(emu: Emulator, alice: User) -> None:
    """author= names who saved version 1."""
    page_id = emu.add_page("SRE", "Outage", "<p/>", author=alice.email)
    version = emu.confluence().get_page_by_id(page_id, expand="version")["version"]
    assert alice.display_name == version["by"]["displayName"]


def test_page_of_a_missing_id_is_a_key_error(emu: Emulator) -> None:
    """Inspecting a page that does not exist raises KeyError."""
    with pytest.raises(KeyError):
        emu.page("404")


def test_content_property_inspection(emu: Emulator) -> None:
    """content_property returns key, value and version, or None."""
    page_id = emu.add_page("SRE", "Outage", "<p/>")
    assert emu.content_property(page_id, "pmsync.lease") is None
    assert 1 == emu.set_content_property(page_id, "pmsync.lease", {"run": "a"})
    assert 2 == emu.set_content_property(page_id, "pmsync.lease", {"run": "b"})
    assert {"key": "pmsync.lease", "value": {"run": "b"}, "version": 2} == emu.content_property(
        page_id, "pmsync.lease"
    )


def test_inspection_returns_copies(emu: Emulator) -> None:
    """Changing what inspection returned never changes the emulator's state."""
    page_id = emu.add_page("SRE", "Outage", "<p/>", labels=["a"])
    emu.page(page_id)["labels"].append("b")
    emu.set_content_property(page_id, "p", {"x": 1})
    emu.content_property(page_id, "p")["value"]["x"] = 2  # type: ignore[index]
    assert (["a"], {"x": 1}) == (emu.page(page_id)["labels"], emu.page(page_id)["properties"]["p"])
