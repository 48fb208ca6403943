"""A second, independent client, the ``jira`` package, proves the Jira wire formats."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from jira import JIRA, JIRAError

from pmsync.testing import Emulator, User


@pytest.fixture
def client(emu: Emulator) -> JIRA:
    """A ``jira.JIRA`` client for the flavour: Basic on Cloud, token auth on Server.

    max_retries=0: the package otherwise sleeps between retries of 429s and 503s.
    """
    emu.add_project("OPS", "Operations", components=("API",))
    if emu.flavour == "cloud":
        return JIRA(server=emu.url, basic_auth=(emu.email, emu.token), max_retries=0)
    return JIRA(server=emu.url, token_auth=emu.token, max_retries=0)


def test_startup_reads_server_info(emu: Emulator, client: JIRA) -> None:
    """The client calls serverInfo on start and detects the deployment type."""
    assert ("Cloud" if emu.flavour == "cloud" else "Server") == client.deploymentType
    assert "/rest/api/2/serverInfo" == emu.requests[0].path


def test_myself(emu: Emulator, client: JIRA) -> None:
    """myself returns the emulator's account."""
    assert emu.bot.display_name == client.myself()["displayName"]


def test_create_with_names_resolves_project_and_issue_type(emu: Emulator, client: JIRA) -> None:
    """create_issue with a project key and an issue type name (looked up via project)."""
    issue = client.create_issue(project="OPS", summary="Add alerting", issuetype="Task")
    assert "OPS-1" == issue.key
    assert "Add alerting" == issue.fields.summary
    assert "To Do" == issue.fields.status.name


def test_create_issues_reports_each_element(client: JIRA) -> None:
    """create_issues returns a status per element, with the error of the failed one."""
    results = client.create_issues(
        [
            {"project": "OPS", "summary": "ok", "issuetype": {"name": "Task"}},
            {"project": "OPS", "summary": "x" * 300, "issuetype": {"name": "Task"}},
        ]
    )
    assert ["Success", "Error"] == [r["status"] for r in results]
    assert "Summary must be less than 255 characters." in str(results[1]["error"])


def test_search_issues_with_fields_and_properties(emu: Emulator, client: JIRA) -> None:
    """search_issues (search/jql on Cloud, search on Server) with fields and properties."""
    for n in range(3):
        emu.add_issue(
            "OPS", summary=f"item {n}", labels=["pmsync"], properties={"pmsync": {"n": n}}
        )
    found = client.search_issues(
        "project = OPS AND labels = pmsync ORDER BY key ASC",
        fields="summary,labels",
        properties="pmsync",
        maxResults=False,
    )
    assert ["OPS-1", "OPS-2", "OPS-3"] == [i.key for i in found]
    assert [{"n": 0}, {"n": 1}, {"n": 2}] == [i.raw["properties"]["pmsync"] for i in found]
    expected_path = "/rest/api/2/search/jql" if emu.flavour == "cloud" else "/rest/api/2/search"
    assert expected_path == emu.requests[-1].path


def test_search_issues_pages_through_everything(emu: Emulator, client: JIRA) -> None:
    """maxResults=False walks every page, whatever the paging style."""
    for n in range(120):
        emu.add_issue("OPS", summary=f"item {n}")
    found = client.search_issues("project = OPS", fields="summary", maxResults=False)
    assert 120 == len({i.key for i in found})


def test_bad_jql_raises_with_jiras_message(client: JIRA) -> None:
    """A JQL error surfaces as a JIRAError carrying Jira's message."""
    with pytest.raises(JIRAError, match="does not exist for the field 'project'") as caught:
        client.search_issues("project = NOPE")
    assert 400 == caught.value.status_code


def test_transitions_and_transition_issue(emu: Emulator, client: JIRA) -> None:
    """transitions() lists them; transition_issue() by name moves the issue."""
    key = emu.add_issue("OPS", summary="x")
    names = [t["name"] for t in client.transitions(key)]
    assert ["In Progress", "In Review", "Done"] == names
    client.transition_issue(key, "Done")
    assert "Done" == client.issue(key).fields.status.name


def test_update_fields_and_labels(emu: Emulator, client: JIRA) -> None:
    """Issue.update with fields and with update verbs."""
    key = emu.add_issue("OPS", summary="x", labels=["a"])
    issue = client.issue(key)
    issue.update(fields={"summary": "renamed", "duedate": "2026-12-04"})
    issue.update(update={"labels": [{"add": "b"}]})
    fresh = client.issue(key)
    assert ("renamed", "2026-12-04", ["a", "b"]) == (
        fresh.fields.summary,
        fresh.fields.duedate,
        fresh.fields.labels,
    )


def test_assign_issue_finds_the_user_by_search(
    emu: Emulator, client: JIRA, alice: User, user_id: Callable[[User], str]
) -> None:
    """assign_issue searches users by the given id, then assigns (accountId or name)."""
    key = emu.add_issue("OPS", summary="x")
    client.assign_issue(key, user_id(alice))
    assert alice.display_name == client.issue(key).fields.assignee.displayName


def test_comments(emu: Emulator, client: JIRA) -> None:
    """add_comment and comments round-trip."""
    key = emu.add_issue("OPS", summary="x")
    client.add_comment(key, "first")
    assert ["first"] == [c.body for c in client.comments(key)]


def test_issue_properties(emu: Emulator, client: JIRA) -> None:
    """add_issue_property and issue_property round-trip a JSON value."""
    key = emu.add_issue("OPS", summary="x")
    client.add_issue_property(key, "pmsync", {"v": 1, "page_id": "42"})
    assert {"v": 1, "page_id": "42"} == client.issue_property(key, "pmsync").raw["value"]


def test_search_users(emu: Emulator, client: JIRA, alice: User) -> None:
    """search_users finds by name (query= on Cloud, username= on Server)."""
    found = (
        client.search_users(query="alice")
        if emu.flavour == "cloud"
        else client.search_users(user="alice")
    )
    assert [alice.display_name] == [u.displayName for u in found]


def test_fields_and_projects(client: JIRA) -> None:
    """fields() and projects() answer in the shapes the package parses."""
    assert "summary" in {f["id"] for f in client.fields()}
    assert ["OPS"] == [p.key for p in client.projects()]
    assert ["API"] == [c.name for c in client.project_components("OPS")]
