"""Typed operations: the plan carries finished work, the executor writes what it holds.

The planner is tested as a pure function (page, issues, record -> operations); the
executor against the emulator, through the real clients.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest
from sync_helpers import ALICE, BOB, row, table_page

import pmsync

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
CONFIG = pmsync.Config(project="OPS")
BASE = {
    "summary": "Add a disk alert",
    "description": None,
    "owner": ALICE,
    "due": "2026-12-04",
    "priority": None,
    "status": "todo",
}


def _page(rows, *, version=3) -> pmsync.PagePlan:
    storage = table_page(rows)
    return pmsync.PagePlan(
        page_id="100",
        title="Disk full",
        version=version,
        url=None,
        storage=storage,
        postmortem=pmsync.parse_page(storage, page_id="100", title="Disk full"),
    )


def _issue(key, item_id, *, summary="Add a disk alert", status=("To Do", "todo"), base=BASE):
    return pmsync.JiraIssue(
        key=key,
        summary=summary,
        assignee=pmsync.Person(account_id=ALICE),
        due=dt.date(2026, 12, 4),
        status=status[0],
        status_category=pmsync.Status(status[1]),
        labels=("pmsync",),
        prop={"v": 1, "page_id": "100", "item_id": item_id, "base": dict(base)},
    )


def _plan(pages, issues, approved=None) -> pmsync.Plan:
    snapshot = pmsync.Snapshot(pages=tuple(pages), issues=tuple(issues))
    return pmsync.diff(snapshot, CONFIG, now=NOW, approved=approved)


def _of(plan, kind):
    return [op for op in plan.operations if isinstance(op, kind)]


class TestPlanHoldsOperations:
    def test_a_new_row_is_a_create_issue_carrying_its_fields_and_record(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04", status="In progress")])
        plan = _plan([page], [])
        (create,) = _of(plan, pmsync.CreateIssue)
        (move,) = _of(plan, pmsync.MoveIssue)
        item_id = page.postmortem.items[0].item_id
        assert "Add a disk alert" == create.jira["summary"]
        assert ("100", item_id) == pmsync.SyncRecord.read(create.prop).identity
        assert pmsync.Status.IN_PROGRESS is move.target
        assert ["create", "transition", "writeback"] == [c.kind for c in plan.changes]

    def test_a_status_changed_in_jira_is_one_page_write_holding_the_new_storage(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04", status="[To Do]", key="OPS-1")])
        item_id = page.postmortem.items[0].item_id
        plan = _plan([page], [_issue("OPS-1", item_id, status=("Done", "done"))])
        (write,) = _of(plan, pmsync.WritePage)
        assert (page.page_id, page.version) == (write.page_id, write.version)
        assert 1 == len(write.edits)
        after = pmsync.parse_page(write.storage, page_id="100", title="Disk full")
        assert pmsync.Status.DONE is after.items[0].status
        assert write.storage.count("Done") == 1
        (view,) = plan.of_kind("writeback")
        assert {"status": ("todo", "Done")} == dict(view.fields)

    def test_an_item_in_sync_plans_no_page_write(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04", status="[To Do]", key="OPS-1")])
        plan = _plan([page], [_issue("OPS-1", page.postmortem.items[0].item_id)])
        assert [] == _of(plan, pmsync.WritePage)
        assert plan.is_empty

    @pytest.mark.parametrize(
        "op",
        [
            pmsync.Noop(page_id="1", item_id="a", issue_key="OPS-1", reason="in sync"),
            pmsync.Conflict(page_id="1", item_id="a", fields={"due": ("a", "b")}, reason="x"),
            pmsync.CommentOrphan(page_id="1", item_id="a", issue_key="OPS-2", reason="gone"),
        ],
        ids=lambda op: type(op).__name__,
    )
    def test_every_operation_describes_itself_as_its_change_view_does(self, op):
        (view,) = op.changes
        assert view.describe() == op.describe()
        assert {"operation": type(op).__name__, **view.to_dict()} == op.to_dict()

    def test_a_page_write_lists_its_rows_in_to_dict(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04", status="[To Do]", key="OPS-1")])
        item_id = page.postmortem.items[0].item_id
        plan = _plan([page], [_issue("OPS-1", item_id, status=("Done", "done"))])
        (write,) = _of(plan, pmsync.WritePage)
        as_dict = write.to_dict()
        assert ("WritePage", "100", 3) == (
            as_dict["operation"],
            as_dict["page_id"],
            as_dict["version"],
        )
        assert [item_id] == [r["item_id"] for r in as_dict["rows"]]


class TestReplanRules:
    def test_a_row_reworded_since_the_approved_plan_keeps_the_issue_created_for_it(self):
        """Same place, same owner: the reworded row gets the issue; nothing is created."""
        read = _page([row("Add a disk alert", ALICE, "2026-12-04")])
        approved = _plan([read], [])
        created = _issue("OPS-7", read.postmortem.items[0].item_id)
        now = _page([row("Add a disk usage alert for db-1", ALICE, "2026-12-04")], version=4)
        plan = _plan([now], [created], approved=attrs.evolve(approved, pages=(read,)))
        assert [] == _of(plan, pmsync.CreateIssue)
        (write,) = _of(plan, pmsync.WritePage)
        after = pmsync.parse_page(write.storage, page_id="100", title="Disk full")
        assert "OPS-7" == after.items[0].jira_key
        assert frozenset({read.postmortem.items[0].item_id}) == write.linked

    def test_a_different_row_in_the_same_place_is_not_given_the_issue(self):
        """Another owner, another date, other words: a new row, not the one created."""
        read = _page([row("Add a disk alert", ALICE, "2026-12-04")])
        approved = _plan([read], [])
        created = _issue("OPS-7", read.postmortem.items[0].item_id)
        now = _page([row("Rotate the logs daily", BOB, "2027-01-09")], version=4)
        plan = _plan([now], [created], approved=attrs.evolve(approved, pages=(read,)))
        assert [] == [op for op in _of(plan, pmsync.WritePage) if "OPS-7" in op.storage]

    def test_a_replan_writes_only_the_rows_of_items_the_approved_plan_named(self):
        rows = [
            row("Add a disk alert", ALICE, "2026-12-04", status="[To Do]", key="OPS-1"),
            row("Rotate logs", ALICE, "2026-12-04", status="[To Do]", key="OPS-2"),
        ]
        page = _page(rows)
        first, second = (item.item_id for item in page.postmortem.items)
        approved = _plan(
            [page],
            [
                _issue("OPS-1", first, status=("Done", "done")),
                _issue(
                    "OPS-2", second, summary="Rotate logs", base={**BASE, "summary": "Rotate logs"}
                ),
            ],
        )
        later = _plan(
            [page],
            [
                _issue("OPS-1", first, status=("Done", "done")),
                _issue(
                    "OPS-2",
                    second,
                    summary="Rotate logs",
                    status=("Done", "done"),
                    base={**BASE, "summary": "Rotate logs"},
                ),
            ],
            approved=approved,
        )
        (write,) = _of(later, pmsync.WritePage)
        assert [first] == [r.item_id for r in write.rows]
        statuses = [i.status for i in pmsync.parse_page(write.storage, page_id="100").items]
        assert [pmsync.Status.DONE, pmsync.Status.TODO] == statuses


def _synced_then_done_in_jira(emu, syncer) -> tuple[str, str]:
    """A synced one-row page whose issue a person then moved to Done in Jira."""
    page_id = emu.add_page(
        "SRE", "Disk full", table_page([row("Add a disk alert", ALICE, "2026-12-04")])
    )
    syncer.sync(page_ids=[page_id])
    key = emu.issues("OPS")[0]["key"]
    emu.transition_issue(key, "Done")
    return page_id, key


class TestExecutorWritesThePlannedPage:
    def test_the_page_written_is_the_planned_page_write(self, emu, syncer):
        """No one edits in between: the page ends exactly as the plan's WritePage says."""
        page_id, _ = _synced_then_done_in_jira(emu, syncer)
        plan = syncer.plan(page_ids=[page_id])
        (write,) = _of(plan, pmsync.WritePage)
        result = syncer.apply(plan)
        assert result.ok, result.errors
        assert (page_id,) == result.pages_written
        assert write.storage == emu.page(page_id)["storage"]

    def test_a_person_saving_first_gets_the_page_planned_again_over_their_text(self, emu, syncer):
        """A 409: re-read, plan that page again, write it; the person's line stays."""
        page_id, key = _synced_then_done_in_jira(emu, syncer)

        def human(pid: str) -> None:
            emu.edit_page(pid, emu.page(pid)["storage"] + "<p>Reviewed by Bob.</p>")

        emu.faults.on_page_write(human)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        storage = emu.page(page_id)["storage"]
        assert storage.endswith("<p>Reviewed by Bob.</p>")
        (item,) = pmsync.parse_page(storage, page_id=page_id).items
        assert (key, pmsync.Status.DONE) == (item.jira_key, item.status)


class TestNotices:
    """With Slack configured the plan holds its notices (Notify), each waiting for its work."""

    def _plan(self, pages, issues, *, slack=True, channel="#incidents"):
        snapshot = pmsync.Snapshot(pages=tuple(pages), issues=tuple(issues), slack=slack)
        config = attrs.evolve(CONFIG, slack_channel=channel)
        return pmsync.diff(snapshot, config, now=NOW)

    def test_a_new_row_is_announced_to_its_owner_and_the_channel_once_created(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04")])
        (notice,) = _of(self._plan([page], []), pmsync.Notify)
        assert ("create", ALICE, "#incidents") == (
            notice.after,
            notice.recipient.account_id,
            notice.channel,
        )
        assert page.postmortem.items[0] == notice.item
        assert "DM to" in notice.describe()
        assert "once the issue is created" in notice.describe()

    def test_without_slack_the_plan_holds_no_notice(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04")])
        plan = self._plan([page], [], slack=False)
        assert [] == _of(plan, pmsync.Notify)
        assert "notify" not in plan.counts()

    def test_an_owner_changed_on_the_page_is_announced_once_set_in_jira(self):
        page = _page([row("Add a disk alert", BOB, "2026-12-04", status="[To Do]", key="OPS-1")])
        plan = self._plan([page], [_issue("OPS-1", page.postmortem.items[0].item_id)])
        (notice,) = _of(plan, pmsync.Notify)
        assert ("update", "OPS-1", BOB) == (
            notice.after,
            notice.issue_key,
            notice.recipient.account_id,
        )
        assert notice.reassigned

    def test_an_issue_an_earlier_run_created_is_announced_once_its_key_is_written(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04", status="[To Do]")])
        plan = self._plan([page], [_issue("OPS-7", page.postmortem.items[0].item_id)])
        (notice,) = _of(plan, pmsync.Notify)
        assert ("writeback", "OPS-7") == (notice.after, notice.issue_key)

    def test_an_item_in_sync_is_not_announced(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04", status="[To Do]", key="OPS-1")])
        plan = self._plan([page], [_issue("OPS-1", page.postmortem.items[0].item_id)])
        assert [] == _of(plan, pmsync.Notify)

    def test_an_ownerless_row_goes_to_the_channel_only_and_nowhere_without_one(self):
        page = _page([row("Add a disk alert", None, "2026-12-04")])
        (notice,) = _of(self._plan([page], []), pmsync.Notify)
        assert (None, "#incidents") == (notice.recipient, notice.channel)
        assert [] == _of(self._plan([page], [], channel=None), pmsync.Notify)

    def test_a_notice_lists_in_the_plan_and_serialises_with_its_condition(self):
        page = _page([row("Add a disk alert", ALICE, "2026-12-04")])
        plan = self._plan([page], [])
        assert 1 == plan.counts()["notify"]
        assert "notify" in plan.render()
        (notice,) = [op for op in plan.to_dict()["operations"] if op["operation"] == "Notify"]
        assert ("create", "#incidents", ALICE) == (
            notice["after"],
            notice["channel"],
            notice["recipient"]["identity"],
        )
        (view,) = plan.of_kind("notify")
        assert view.describe() == _of(plan, pmsync.Notify)[0].describe()

    def test_an_owner_lint_flags_as_a_team_gets_no_direct_message(self):
        page = _page([row("Document the cache warm-up", "Platform team", "2026-12-04")])
        (notice,) = _of(self._plan([page], []), pmsync.Notify)
        assert (None, "#incidents") == (notice.recipient, notice.channel)
