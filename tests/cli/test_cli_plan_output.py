"""`pmsync plan` as the screen a team reviews before `sync` (issue 14), Cloud and Server:
owners by name (ids stay in --json), one warning line per row, no bookkeeping among the
changes, conflicts that say which value is kept."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cli_helpers import ALICE, BOB, action_page, emulator_env

from pmsync.cli import main
from pmsync.testing import Emulator


@pytest.fixture(params=["cloud", "server"])
def emu(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """Alice and Bob, the OPS project; Cloud mentions by account id, Server by name."""
    with Emulator(flavour=request.param) as emulator:
        emulator.add_user(
            account_id=ALICE, username="alice", display_name="Alice Example", email="a@x.org"
        )
        emulator.add_user(
            account_id=BOB, username="bob", display_name="Bob Example", email="b@x.org"
        )
        emulator.add_project("OPS", name="Operations")
        yield emulator


def _owner(emu: Emulator, who: str) -> str:
    """A Cloud mention (account id), or on Server the name as people type it."""
    if emu.flavour == "cloud":
        return {"alice": ALICE, "bob": BOB}[who]
    return {"alice": "Alice Example", "bob": "Bob Example"}[who]


def _page(emu: Emulator, rows) -> str:
    return emu.add_page("SRE", "Postmortem: disk full", action_page(rows), labels=("postmortem",))


def _run(runner, emu: Emulator, *args: str):
    result = runner.invoke(main, list(args), env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    return result


def _moved_on_both_sides(runner, emu: Emulator, synced: str, page: str, jira: str) -> str:
    """One row synced with due date ``synced``, then moved to ``page`` and in Jira to
    ``jira``; the issue's key."""
    page_id = _page(emu, [("Add a disk usage alert", _owner(emu, "alice"), synced, None)])
    _run(runner, emu, "sync")
    (issue,) = emu.issues("OPS")
    emu.edit_issue(issue["key"], {"duedate": jira})
    emu.edit_page(page_id, emu.page(page_id)["storage"].replace(synced, page))
    return str(issue["key"])


def test_plan_shows_owners_by_name_and_json_keeps_their_ids(runner, emu, config_file):
    _page(emu, [("Add a disk usage alert", _owner(emu, "alice"), "2030-01-15", None)])
    shown = _run(runner, emu, "plan").stdout
    assert "owner: - → Alice Example" in shown
    assert ALICE not in shown
    document = json.loads(_run(runner, emu, "plan", "--json").stdout)
    (create,) = [c for c in document["changes"] if c["kind"] == "create"]
    jira_id = ALICE if emu.flavour == "cloud" else "alice"
    assert [None, jira_id] == create["fields"]["owner"]
    assert {jira_id: "Alice Example"} == create["names"]


def test_plan_warns_once_per_team_owned_row(runner, emu, config_file):
    _page(emu, [("Document the cache warm-up", "Platform team", "2030-01-15", None)])
    output = _run(runner, emu, "plan").output
    lines = [line for line in output.splitlines() if "row 1 of table 1" in line]
    assert 1 == len(lines), lines
    assert "[owner-is-team]" in lines[0]
    assert "pmsync assigns nobody" in lines[0]


def test_bookkeeping_is_a_noop_in_the_plan_and_is_still_recorded(runner, emu, config_file):
    """Both sides moved the due date to the same day: nothing to review, base recorded."""
    key = _moved_on_both_sides(runner, emu, "2030-01-15", "2030-02-01", "2030-02-01")
    plan = _run(runner, emu, "plan").stdout
    assert plan.startswith("Nothing to do: 1 item(s) in sync.")
    assert "update" not in plan
    verbose = _run(runner, emu, "plan", "-v").stdout
    (line,) = [line for line in verbose.splitlines() if key in line]
    assert line.startswith("noop ")
    assert line.endswith("recording the values both sides agree on")

    _run(runner, emu, "sync")
    (issue,) = emu.issues("OPS")
    assert "2030-02-01" == issue["properties"]["pmsync"]["base"]["due"]
    assert json.loads(_run(runner, emu, "plan", "--json").stdout)["is_empty"]


def test_a_due_date_conflict_says_the_pages_date_is_kept(runner, emu, config_file):
    _moved_on_both_sides(runner, emu, "2026-12-10", "2026-12-18", "2026-12-20")
    shown = _run(runner, emu, "plan").stdout
    assert (
        "due: page 2026-12-18 kept over Jira 2026-12-20; changed on both sides; the page wins"
    ) in shown
    assert "due: 2026-12-20 → 2026-12-18" in shown  # the update that carries it to Jira
    assert "2026-12-18 → 2026-12-20" not in shown
