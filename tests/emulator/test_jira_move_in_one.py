"""Jira's one-request forms of a move, as pmsync uses them, in both flavours: GET issue
with ``expand=transitions``, and ``properties`` in the transition POST and the edit PUT."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from pmsync.testing import Emulator

TASK = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}}
RECORD = {"v": 1, "page_id": "123", "item_id": "a1", "base": {"status": "done"}}


@pytest.fixture
def key(emu: Emulator) -> str:
    """A new issue of a project OPS, in To Do."""
    emu.add_project("OPS", "Operations")
    created: str = emu.jira().issue_create({**TASK, "summary": "An action item"})["key"]
    return created


def _transition_id(emu: Emulator, key: str, to: str) -> str:
    (tid,) = [t["id"] for t in emu.jira().get_issue_transitions(key) if t["to"] == to]
    return str(tid)


def test_get_issue_expands_the_transitions_from_its_status(emu: Emulator, key: str) -> None:
    """expand=transitions lists what GET transitions lists, beside the status it starts from."""
    issue: dict[str, Any] = emu.jira().get_issue(key, fields="status", expand="transitions")
    listed = emu.jira().get_issue_transitions_full(key)["transitions"]
    assert listed == issue["transitions"]
    assert "To Do" == issue["fields"]["status"]["name"]
    assert ["In Progress", "In Review", "Done"] == [t["to"]["name"] for t in issue["transitions"]]


def test_the_expanded_transitions_follow_the_status(emu: Emulator, key: str) -> None:
    """After a move, the expanded transitions are those of the new status."""
    emu.transition_issue(key, "Done")
    issue = emu.jira().get_issue(key, fields="status", expand="transitions")
    assert "Done" == issue["fields"]["status"]["name"]
    assert "Done" not in [t["to"]["name"] for t in issue["transitions"]]


def test_without_the_expand_no_transitions_are_listed(emu: Emulator, key: str) -> None:
    """A plain GET issue carries no transitions."""
    assert "transitions" not in emu.jira().get_issue(key, fields="status")


def test_a_transition_sets_the_properties_it_carries(emu: Emulator, key: str) -> None:
    """POST transitions with properties moves the issue and sets them."""
    body = {
        "transition": {"id": _transition_id(emu, key, "Done")},
        "properties": [{"key": "pmsync", "value": RECORD}],
    }
    emu.jira().post(f"rest/api/2/issue/{key}/transitions", data=body)
    issue = emu.issue(key)
    assert "Done" == issue["fields"]["status"]["name"]
    assert {"pmsync": RECORD} == issue["properties"]


def test_a_refused_transition_sets_no_property(emu: Emulator, key: str) -> None:
    """A transition that is not available changes nothing, its properties included."""
    body = {"transition": {"id": "99"}, "properties": [{"key": "pmsync", "value": RECORD}]}
    with pytest.raises(requests.HTTPError, match="Transition id '99' is not valid"):
        emu.jira().post(f"rest/api/2/issue/{key}/transitions", data=body)
    assert ("To Do", {}) == (
        emu.issue(key)["fields"]["status"]["name"],
        emu.issue(key)["properties"],
    )


def test_invalid_properties_refuse_the_whole_transition(emu: Emulator, key: str) -> None:
    """Properties without a key: 400, and the issue does not move."""
    body = {
        "transition": {"id": _transition_id(emu, key, "Done")},
        "properties": [{"value": RECORD}],
    }
    with pytest.raises(requests.HTTPError):
        emu.jira().post(f"rest/api/2/issue/{key}/transitions", data=body)
    assert "To Do" == emu.issue(key)["fields"]["status"]["name"]


def test_an_edit_sets_the_properties_it_carries(emu: Emulator, key: str) -> None:
    """PUT issue with fields and properties sets both."""
    body = {"fields": {"duedate": "2026-12-24"}, "properties": [{"key": "pmsync", "value": RECORD}]}
    emu.jira().put(f"rest/api/2/issue/{key}", data=body)
    issue = emu.issue(key)
    assert ("2026-12-24", {"pmsync": RECORD}) == (issue["fields"]["duedate"], issue["properties"])


def test_a_refused_edit_sets_no_property(emu: Emulator, key: str) -> None:
    """An edit Jira refuses (a bad due date) sets neither the fields nor the properties."""
    body = {"fields": {"duedate": "soon"}, "properties": [{"key": "pmsync", "value": RECORD}]}
    with pytest.raises(requests.HTTPError):
        emu.jira().put(f"rest/api/2/issue/{key}", data=body)
    assert {} == emu.issue(key)["properties"]
