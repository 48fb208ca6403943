"""Regressions for issue 12: races between runs, plans applied late, stale mentions.

Each test plays one reproduction with the public API only (two or more ``Syncer`` on the
emulator's real clients) and checks the promises of docs/sync.md: never two issues for
one item, never a person's change reverted, never a key in a row it does not belong to,
and reruns that settle into a run that writes nothing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import attrs
import pytest
from races import (
    CAROL,
    LAGS,
    Row,
    add_page,
    broken_promises,
    duplicates,
    edit_cell,
    emulator,
    insert_row,
    managed,
    run,
    settle,
    wrong_rows,
)
from sync_helpers import ALICE, BOB

import pmsync
from pmsync.testing import Emulator, PendingRequest

_CREATE = re.compile(r"/rest/api/[^/]+/issue(/bulk)?$")
_LATER_VALUES = {"owner": BOB, "due": "2026-12-18", "status": "in_progress"}


def _edit_in_jira(emu: Emulator, key: str, field: str, value: str) -> None:
    """A person changes the issue's assignee, due date or status (by category) in Jira."""
    if field == "status":
        emu.transition_issue(key, {"todo": "To Do", "in_progress": "In Progress"}[value])
    else:
        emu.edit_issue(key, {"assignee" if field == "owner" else "duedate": value})


@pytest.fixture(params=LAGS, ids=lambda lag: f"lag{lag:g}")
def emu(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with emulator(lag=request.param) as site:
        yield site


def _is_create(request: PendingRequest) -> bool:
    return request.method == "POST" and bool(_CREATE.search(request.path))


def _at_first_create(emu: Emulator, tag: str, action) -> list[str]:
    """Call ``action()`` once, when run ``tag`` is about to send its first create."""
    done: list[str] = []

    def gate(request: PendingRequest) -> None:
        if not done and request.headers.get("X-Pmsync-Test-Run") == tag and _is_create(request):
            done.append(request.path)
            action()

    emu.set_request_gate(gate)
    return done


class TestOverlappingRuns:
    @pytest.mark.parametrize("lost", [False, True], ids=["answered", "create-answer-lost"])
    def test_a_run_finishing_inside_another_leaves_one_issue_per_row(self, emu, lost):
        """Run A syncs the whole page just as run B is about to create: one issue per row.

        With ``lost``, A's create lands in Jira but its answer never reaches A.
        """
        rows = [Row("Add a disk usage alert", ALICE), Row("Rotate logs daily", BOB)]
        page_id = add_page(emu, rows)
        run_a, run_b = run(emu, "A"), run(emu, "B")

        def run_a_whole_sync() -> None:
            if lost:
                emu.faults.drop_after(1, applied=True, service="jira")
            # a run that loses an answer may fail; the promises must still hold
            with contextlib.suppress(pmsync.PmsyncError):
                run_a.sync(page_ids=[page_id])
            emu.faults.clear()

        fired = _at_first_create(emu, "B", run_a_whole_sync)
        run_b.sync(page_ids=[page_id])
        emu.set_request_gate(None)
        assert fired, "run B never tried to create"
        assert [] == settle(emu, run(emu, "C"), page_id)
        assert {} == broken_promises(emu, page_id, rows)
        assert 2 == len(managed(emu, page_id))

    def test_a_plan_made_before_another_run_synced_creates_nothing_more(self, emu):
        """A plans, B syncs everything, A applies its plan: still one issue per row."""
        rows = [Row("Add a disk usage alert", ALICE), Row("Rotate logs daily", BOB)]
        page_id = add_page(emu, rows)
        run_a, run_b = run(emu, "A"), run(emu, "B")
        plan_a = run_a.plan(page_ids=[page_id])
        run_b.sync(page_ids=[page_id])
        result = run_a.apply(plan_a)
        assert result.ok, result.errors
        assert () == result.created
        assert [] == duplicates(emu, page_id)
        assert [] == settle(emu, run_a, page_id)
        assert {} == broken_promises(emu, page_id, rows)


class TestStalePlans:
    @pytest.mark.parametrize(
        "workflow",
        [
            None,
            {"To Do": ["In Progress"], "In Progress": ["Done", "To Do"], "Done": []},
        ],
        ids=["simplified", "done-is-final"],
    )
    @pytest.mark.parametrize("lag", LAGS, ids=lambda lag: f"lag{lag:g}")
    def test_a_stale_plan_never_reverts_a_persons_jira_done(self, workflow, lag):
        """A's plan saw "In progress"; a person moved the issue to Done since: Done stays."""
        with emulator(lag, workflow=workflow) as emu:
            page_id = add_page(emu, [Row("Add a disk usage alert", ALICE, status="in_progress")])
            run_a, run_b = run(emu, "A"), run(emu, "B")
            plan_a = run_a.plan(page_ids=[page_id])
            run_b.sync(page_ids=[page_id])
            (issue,) = managed(emu, page_id)
            emu.transition_issue(issue["key"], "Done")

            result = run_a.apply(plan_a)

            assert result.ok, result.errors
            assert "Done" == emu.issue(issue["key"])["fields"]["status"]["name"]
            assert [] == settle(emu, run_a, page_id)
            expected = [Row("Add a disk usage alert", ALICE, status="done")]
            assert {} == broken_promises(emu, page_id, expected)

    def test_a_stale_plan_never_writes_its_key_into_a_row_a_person_inserted(self, emu):
        """B links the row, a person inserts a look-alike row above, A applies an old plan."""
        first = Row("Add a disk usage alert", ALICE, "2026-12-04")
        page_id = add_page(emu, [first])
        run_a, run_b = run(emu, "A"), run(emu, "B")
        plan_a = run_a.plan(page_ids=[page_id])
        run_b.sync(page_ids=[page_id])
        above = Row("Page the database team on disk alerts", ALICE, "2026-12-04")
        insert_row(emu, page_id, above, above=first.summary)

        run_a.apply(plan_a)

        assert [] == wrong_rows(emu, page_id)
        assert [] == settle(emu, run_a, page_id)
        assert {} == broken_promises(emu, page_id, [above, first])

    @pytest.mark.parametrize(
        ("planned", "later", "side"),
        [
            (planned, later, side)
            for planned in _LATER_VALUES
            for later in _LATER_VALUES
            for side in ("page", "jira")
            if planned != later
        ],
        ids=str,
    )
    def test_a_late_plan_keeps_a_persons_later_change_to_another_field(
        self, emu, planned, later, side
    ):
        """The plan moves one field; a person changes another since: both changes stay."""
        row = Row("Add a disk usage alert", ALICE, "2026-12-04", "todo")
        page_id = add_page(emu, [row])
        syncer = run(emu, "A")
        syncer.sync(page_ids=[page_id])
        edit_cell(emu, page_id, row.summary, planned, _LATER_VALUES[planned])
        plan = syncer.plan(page_ids=[page_id])
        if side == "page":
            edit_cell(emu, page_id, row.summary, later, _LATER_VALUES[later])
        else:
            _edit_in_jira(emu, managed(emu, page_id)[0]["key"], later, _LATER_VALUES[later])

        syncer.apply(plan)

        assert [] == settle(emu, run(emu, "C"), page_id)
        wanted = attrs.evolve(row, **{planned: _LATER_VALUES[planned], later: _LATER_VALUES[later]})
        assert {} == broken_promises(emu, page_id, [wanted])

    @pytest.mark.parametrize("other_run", [False, True], ids=["alone", "after-another-run"])
    @pytest.mark.parametrize("lag", LAGS, ids=lambda lag: f"lag{lag:g}")
    def test_a_late_plan_does_what_a_fresh_plan_does_and_says_what_changed(self, other_run, lag):
        """Apply a plan made before a person's edits; compare with a fresh plan's outcome.

        The same story runs on two emulators; only the last step differs (the late plan
        on one, a fresh plan on the other). For the items the late plan names, both end
        the same, and the late apply reports that the page changed since its plan.
        """
        outcomes, results = [], []
        for late in (True, False):
            with emulator(lag) as emu:
                synced = [Row("Add a disk usage alert", ALICE, "2026-12-04"), Row("Rotate logs")]
                page_id = add_page(emu, synced)
                run_a = run(emu, "A")
                run_a.sync(page_ids=[page_id])
                new = Row("Move the database to bigger disks", CAROL, "2027-01-15")
                insert_row(emu, page_id, new)
                edit_cell(emu, page_id, synced[0].summary, "due", "2026-12-11")
                plan_a = run_a.plan(page_ids=[page_id])
                # after the plan: a person changes the due date again, and the status
                edit_cell(emu, page_id, synced[0].summary, "due", "2026-12-18")
                edit_cell(emu, page_id, new.summary, "status", "in_progress")
                if other_run:
                    run(emu, "B").sync(page_ids=[page_id])
                result = run_a.apply(plan_a if late else run_a.plan(page_ids=[page_id]))
                results.append(result)
                outcomes.append(_outcome(emu, page_id, [synced[0].summary, new.summary]))
        assert outcomes[1] == outcomes[0]
        assert results[0].ok, results[0].errors
        assert results[0].replanned, "the late apply did not say the page had changed"


def _outcome(emu: Emulator, page_id: str, summaries: list[str]) -> dict[str, object]:
    """What the page and Jira show for these rows, without keys (the twins may differ)."""
    items = {
        i.summary: i for i in pmsync.parse_page(emu.page(page_id)["storage"], page_id=page_id).items
    }
    issues = {i["fields"]["summary"]: i["fields"] for i in managed(emu, page_id)}
    return {
        summary: (
            (items[summary].due, items[summary].status, bool(items[summary].jira_key)),
            (
                issues[summary]["duedate"],
                issues[summary]["status"]["name"],
                (issues[summary]["assignee"] or {}).get("accountId"),
            )
            if summary in issues
            else None,
            sum(1 for s in issues if s == summary),
        )
        for summary in summaries
    }


class TestStaleMentions:
    def test_a_mention_jira_does_not_know_gets_an_unassigned_issue_and_a_warning(self, emu):
        """A deactivated account's mention: the issue is created unassigned, the row named."""
        gone = "557058:gone-0009"
        rows = [Row("Add a disk usage alert", gone), Row("Rotate logs daily", BOB)]
        page_id = add_page(emu, rows)
        syncer = run(emu, "A")
        plan = syncer.plan(page_ids=[page_id])
        result = syncer.apply(plan)
        assert result.ok, result.errors
        issues = {i["fields"]["summary"]: i["fields"] for i in managed(emu, page_id)}
        assert issues["Add a disk usage alert"]["assignee"] is None
        assert BOB == issues["Rotate logs daily"]["assignee"]["accountId"]
        warned = [
            w
            for w in (*plan.warnings, *result.warnings)
            if "row 1" in w or "Add a disk usage alert" in w
        ]
        assert warned, (plan.warnings, result.warnings)
        emu.clear_requests()
        again = syncer.sync(page_ids=[page_id])
        assert again.ok, again.errors
        assert 0 == emu.request_count(mutating=True)

    def test_an_owner_changed_to_a_mention_jira_refuses_keeps_the_assignee(self, emu):
        """A synced row's owner becomes a deactivated account's mention: the issue keeps
        its assignee, its other changes go ahead, the run warns naming the issue and the
        row's page, and so does every later run until a person changes the owner."""
        row = Row("Add a disk usage alert", ALICE, "2026-12-04")
        page_id = add_page(emu, [row])
        syncer = run(emu, "A")
        assert syncer.sync(page_ids=[page_id]).ok
        edit_cell(emu, page_id, row.summary, "owner", "557058:gone-0009")
        edit_cell(emu, page_id, row.summary, "due", "2026-12-18")
        for _ in range(2):
            result = syncer.sync(page_ids=[page_id])
            assert result.ok, result.errors
            (issue,) = managed(emu, page_id)
            assert (ALICE, "2026-12-18") == (
                issue["fields"]["assignee"]["accountId"],
                issue["fields"]["duedate"],
            )
            warned = [w for w in result.warnings if "keeps its assignee" in w]
            assert 1 == sum(1 for w in warned if issue["key"] in w and page_id in w), warned
        assert "557058:gone-0009" in emu.page(page_id)["storage"]


class TestRefusedWrites:
    @pytest.mark.parametrize("method", ["GET", "POST"])
    def test_a_move_jira_refuses_is_not_recorded_as_agreed(self, emu, method):
        """Soak seed 145: the row's owner and status changed on the page; Jira answers the
        run's transition requests with 500. The owner goes through, the status does not,
        and the next run still moves the issue to Done: it never writes To Do over the
        person's Done because the agreed status was recorded before Jira moved."""
        row = Row("Add a disk usage alert", ALICE, "2026-12-04")
        page_id = add_page(emu, [row])
        run(emu, "S").sync(page_ids=[page_id])
        edit_cell(emu, page_id, row.summary, "owner", BOB)
        edit_cell(emu, page_id, row.summary, "status", "done")

        def gate(request: PendingRequest) -> None:
            # The read before a move is the issue with its transitions expanded.
            moving = request.path.endswith("/transitions") or "transitions" in request.query.get(
                "expand", ""
            )
            refused = request.method == method and moving
            if refused and request.headers.get("X-Pmsync-Test-Run") == "A":
                raise RuntimeError("Jira refuses the transition")  # answered 500

        emu.set_request_gate(gate)
        with contextlib.suppress(pmsync.PmsyncError):
            run(emu, "A").sync(page_ids=[page_id])
        emu.set_request_gate(None)

        assert [] == settle(emu, run(emu, "B"), page_id)
        assert {} == broken_promises(emu, page_id, [attrs.evolve(row, owner=BOB, status="done")])
