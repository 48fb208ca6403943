"""What a status move costs: one read of the issue with its routes, one transition that
carries the sync record; an edit carries its record too (docs/sync.md, "Requests")."""

from __future__ import annotations

import pytest
from sync_helpers import make_syncer, row, table_page

import pmsync
from pmsync.testing import Emulator, PendingRequest

SUMMARY = "Add a disk usage alert"


@pytest.fixture(params=["cloud", "server"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Both deployments: Server/DC takes expand=transitions and properties the same way."""
    return str(request.param)


def _page(emu: Emulator, status: str, due: str = "2026-12-04") -> str:
    rows = [row(SUMMARY, None, due, status=status)]
    return emu.add_page("SRE", "2026-11-02 Disk full", table_page(rows), labels=("postmortem",))


def _edit(emu: Emulator, page_id: str, old: str, new: str) -> None:
    storage = emu.page(page_id)["storage"]
    assert old in storage
    emu.edit_page(page_id, storage.replace(old, new))


def _about(emu: Emulator, key: str) -> list[str]:
    """The requests made about one issue by its key, as 'METHOD path?expand', except
    plain reads of the issue (the plan's: on Server/DC a search that lags behind a write
    is completed by reading the issue)."""
    return [
        f"{r.method} {r.path.split('/rest/api/2/')[-1]}"
        + (f"?expand={r.query['expand']}" if "expand" in r.query else "")
        for r in emu.requests
        if f"/issue/{key}" in r.path
        and (r.method, r.path.split("/rest/api/2/")[-1], "expand" in r.query)
        != ("GET", f"issue/{key}", False)
    ]


def _record(emu: Emulator, key: str) -> dict:
    return dict(emu.issue(key)["properties"]["pmsync"]["base"])


def _synced(
    emu: Emulator, config: pmsync.Config, old: str, new: str
) -> tuple[pmsync.Syncer, str, str]:
    """A row synced in To Do, then edited on the page (``old`` -> ``new``): the syncer,
    the page and the issue's key; the request log starts empty."""
    syncer = make_syncer(emu, config)
    page_id = _page(emu, "todo")
    syncer.sync(page_ids=[page_id])
    (issue,) = emu.issues(config.project)
    _edit(emu, page_id, old, new)
    emu.clear_requests()
    return syncer, page_id, str(issue["key"])


def test_a_page_status_change_costs_one_read_and_one_move(emu, config):
    """The page says Done: the issue is read with its transitions, then moved, and the
    move carries the new agreed status; nothing else is asked about the issue."""
    syncer, page_id, key = _synced(emu, config, ">To Do<", ">Done<")
    result = syncer.sync(page_ids=[page_id])
    assert result.ok, result.errors
    assert (key,) == result.transitioned
    assert [f"GET issue/{key}?expand=transitions", f"POST issue/{key}/transitions"] == _about(
        emu, key
    )
    assert "Done" == emu.issue(key)["fields"]["status"]["name"]
    assert "done" == _record(emu, key)["status"]


def test_a_new_item_in_progress_costs_one_read_and_one_move(emu, config):
    """A row created in progress: its new issue is read once and moved once, and the
    move records the status both sides now show."""
    syncer = make_syncer(emu, config)
    page_id = _page(emu, "in progress")
    result = syncer.sync(page_ids=[page_id])
    assert result.ok, result.errors
    (key,) = result.created
    assert (key,) == result.transitioned
    assert [f"GET issue/{key}?expand=transitions", f"POST issue/{key}/transitions"] == _about(
        emu, key
    )
    assert "in_progress" == _record(emu, key)["status"]
    emu.clear_requests()
    assert syncer.sync(page_ids=[page_id]).ok
    assert [] == [r.path for r in emu.requests if r.mutating]


def test_an_edit_carries_its_record(emu, config):
    """The page moves the due date: one PUT of the issue sets the field and the new base."""
    syncer, page_id, key = _synced(emu, config, "2026-12-04", "2026-12-18")
    result = syncer.sync(page_ids=[page_id])
    assert result.ok, result.errors
    assert (key,) == result.updated
    assert [f"PUT issue/{key}"] == _about(emu, key)
    assert "2026-12-18" == emu.issue(key)["fields"]["duedate"]
    assert "2026-12-18" == _record(emu, key)["due"]


def test_a_move_made_in_jira_before_the_read_is_kept(emu, config):
    """A person moves the issue to In Progress after the re-plan under the lease (page:
    Done), just before pmsync's read of the issue: that read sees it, so pmsync neither
    moves the issue nor records Done as agreed (soak seed 47)."""
    syncer, page_id, key = _synced(emu, config, ">To Do<", ">Done<")

    def person_moves_first(request: PendingRequest) -> None:
        if "transitions" in request.query.get("expand", ""):
            emu.set_request_gate(None)
            emu.transition_issue(key, "In Progress")

    emu.set_request_gate(person_moves_first)
    result = syncer.sync(page_ids=[page_id])
    assert () == result.transitioned
    assert any("changed in Jira after the plan" in w for w in result.warnings), result.warnings
    assert "In Progress" == emu.issue(key)["fields"]["status"]["name"]
    assert "done" != _record(emu, key)["status"]
    assert not [r for r in _about(emu, key) if r.startswith("POST")]


def test_a_refused_move_leaves_the_record_as_it_was(emu, config):
    """A workflow without a route to Done: the move is refused and reported, and the
    record, which only the move would have carried, still holds the old status."""
    emu.add_project(
        "NAR",
        name="Narrow",
        workflow={"To Do": [], "Done": ["To Do"]},
    )
    syncer, page_id, key = _synced(emu, pmsync.Config(project="NAR"), ">To Do<", ">Done<")
    result = syncer.sync(page_ids=[page_id])
    assert [key] == [e.issue_key for e in result.errors]
    assert "To Do" == emu.issue(key)["fields"]["status"]["name"]
    assert "todo" == _record(emu, key)["status"]
