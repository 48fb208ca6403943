"""The per-page lease, re-planning under it, and the write-ahead intent (docs/sync.md)."""

from __future__ import annotations

import datetime as dt

import time_machine
from sync_helpers import ALICE, BOB, by_summary, is_page_property, make_syncer, row, table_page

import pmsync
from pmsync._diff import restrict
from pmsync._lease import LEASE_KEY, Lease
from pmsync._plan import Change, CreateIssue, MoveIssue, Noop, WritePage

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def _page(emu, rows):
    return emu.add_page("SRE", "2026-11-02 Disk full", table_page(rows), labels=("postmortem",))


def _lease(**value):
    return {"v": 1, "run": None, "host": None, "expires": None, "intent": {}, **value}


class TestLease:
    def test_a_page_another_run_holds_is_skipped_and_named(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        until = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat()
        emu.set_content_property(page_id, LEASE_KEY, _lease(run="r1", host="cron-1", expires=until))
        result = syncer.sync(page_ids=[page_id])
        assert [] == emu.issues("OPS")
        (skipped,) = result.skipped
        assert (page_id, "r1@cron-1") == (skipped.page_id, skipped.holder)
        assert until == skipped.expires.isoformat()
        assert "r1" == emu.content_property(page_id, LEASE_KEY)["value"]["run"]

    def test_an_expired_lease_is_taken_over(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        gone = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).isoformat()
        emu.set_content_property(page_id, LEASE_KEY, _lease(run="r1", host="cron-1", expires=gone))
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert () == result.skipped
        assert 1 == len(result.created)

    def test_the_lease_is_held_during_the_write_and_released_after(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        seen = []
        emu.faults.on_page_write(lambda pid: seen.append(emu.content_property(pid, LEASE_KEY)))
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        (held,) = seen
        assert held["value"]["run"] is not None
        item_id = syncer.plan(page_ids=[page_id]).changes[0].item_id
        assert [item_id] != list(held["value"]["intent"])  # the row's id is now its key
        assert 1 == len(held["value"]["intent"])
        assert None is emu.content_property(page_id, LEASE_KEY)

    def test_a_page_with_nothing_to_write_takes_no_lease(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == [r.path for r in emu.requests if is_page_property(r.path)]


class TestSlowRuns:
    def _slow_syncer(self, emu, config):
        """A syncer whose clock moves 3 minutes per look: its 10-minute lease runs out."""
        minutes = iter(range(10_000))
        return pmsync.Syncer(
            emu.confluence(),
            emu.jira(),
            config=config,
            clock=lambda: NOW + dt.timedelta(minutes=3 * next(minutes)),
            lease_ttl=dt.timedelta(minutes=10),
        )

    def test_a_slow_run_renews_its_lease_before_writing(self, emu, config):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        result = self._slow_syncer(emu, config).sync(page_ids=[page_id])
        assert result.ok, result.errors
        renewals = [r for r in emu.requests if r.method == "PUT" and is_page_property(r.path)]
        assert renewals
        assert 1 == len(result.created)

    def test_a_run_whose_lease_was_taken_over_writes_nothing_more(self, emu, config):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])

        def take_over(record):
            if record.method == "POST" and is_page_property(record.path):
                emu.set_content_property(page_id, LEASE_KEY, _lease(run="r2", host="other"))

        emu.add_request_listener(take_over)
        result = self._slow_syncer(emu, config).sync(page_ids=[page_id])
        (error,) = result.errors
        assert "lease lapsed" in str(error)
        assert [] == emu.issues("OPS")
        assert "r2" == emu.content_property(page_id, LEASE_KEY)["value"]["run"]


class TestIntent:
    def _sync_with_announced_create(self, emu, config, minutes_ago):
        """Sync at NOW a page whose row another run announced creating ``minutes_ago``."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        with time_machine.travel(NOW, tick=False):
            syncer = make_syncer(emu, config)
            (create,) = syncer.plan(page_ids=[page_id]).of_kind("create")
            when = (NOW - dt.timedelta(minutes=minutes_ago)).isoformat()
            emu.set_content_property(page_id, LEASE_KEY, _lease(intent={create.item_id: when}))
            return page_id, syncer.sync(page_ids=[page_id])

    def test_a_young_announced_create_jira_cannot_show_blocks_creating(self, emu, config):
        page_id, result = self._sync_with_announced_create(emu, config, minutes_ago=3)
        assert [] == emu.issues("OPS")
        assert any("announced creating" in w for w in result.warnings)
        assert 1 == len(emu.content_property(page_id, LEASE_KEY)["value"]["intent"])

    def test_an_announced_create_older_than_the_window_is_made(self, emu, config):
        page_id, result = self._sync_with_announced_create(emu, config, minutes_ago=11)
        assert result.ok, result.errors
        assert 1 == len(result.created)
        assert None is emu.content_property(page_id, LEASE_KEY)

    def test_a_create_whose_key_never_reached_the_page_stays_announced_then_adopted(
        self, emu, config
    ):
        """The page write fails after the create: the intent stays; the next run adopts it."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])

        def person_keeps_saving(pid: str) -> None:
            emu.edit_page(pid, emu.page(pid)["storage"] + "<p>Still editing.</p>")
            emu.faults.on_page_write(person_keeps_saving)

        with time_machine.travel(NOW, tick=False):
            syncer = make_syncer(emu, config)
            plan = syncer.plan(page_ids=[page_id])
            emu.faults.on_page_write(person_keeps_saving)
            failed = syncer.apply(plan)
            emu.faults.clear()
        assert 1 == len(failed.created)
        assert not failed.ok
        lease = emu.content_property(page_id, LEASE_KEY)["value"]
        assert (None, 1) == (lease["run"], len(lease["intent"]))
        with time_machine.travel(NOW + dt.timedelta(minutes=2), tick=False):
            result = make_syncer(emu, config).sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert () == result.created
        assert 1 == len(by_summary(emu))
        assert None is emu.content_property(page_id, LEASE_KEY)


class TestLatePlans:
    """The three reproductions of issue 12, with two runs and the public API."""

    def test_an_overlapping_run_never_leaves_a_duplicate(self, emu, syncer, config):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE), row("Rotate logs", BOB)])
        plan_b = syncer.plan(page_ids=[page_id])
        make_syncer(emu, config).sync(page_ids=[page_id])
        result = syncer.apply(plan_b)
        assert result.ok, result.errors
        assert () == result.created
        assert 2 == len(by_summary(emu))
        assert 2 == len(result.replanned)
        assert syncer.plan(page_ids=[page_id]).is_empty

    def test_a_late_plan_never_reverts_a_persons_jira_change(self, emu, syncer, config):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="In progress")])
        plan_a = syncer.plan(page_ids=[page_id])
        make_syncer(emu, config).sync(page_ids=[page_id])
        (issue,) = emu.issues("OPS")
        emu.transition_issue(issue["key"], "Done")
        result = syncer.apply(plan_a)
        assert result.ok, result.errors
        assert () == result.transitioned
        assert "Done" == emu.issue(issue["key"])["fields"]["status"]["name"]
        assert syncer.sync(page_ids=[page_id]).ok

    def test_a_late_plan_never_writes_a_key_into_another_row(self, emu, syncer, config):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        plan_a = syncer.plan(page_ids=[page_id])
        make_syncer(emu, config).sync(page_ids=[page_id])
        (issue,) = emu.issues("OPS")
        storage = emu.page(page_id)["storage"]
        first_row = storage.index("<tr><td><p>Add a disk")
        inserted = (
            storage[:first_row]
            + "<tr><td><p>Page the on-call</p></td>"
            + ("<td><br /></td>" * 5)
            + "</tr>"
            + storage[first_row:]
        )
        emu.edit_page(page_id, inserted)
        result = syncer.apply(plan_a)
        assert result.ok, result.errors
        assert () == result.created
        assert 1 == emu.page(page_id)["storage"].count(issue["key"])
        assert inserted == emu.page(page_id)["storage"]


_OPERATIONS = {
    "create": CreateIssue,
    "transition": MoveIssue,
    "noop": Noop,
}


def _change(kind, item_id="a", **details):
    """An operation of ``kind`` about item ``item_id`` of page 1."""
    where = {"page_id": "1", "item_id": item_id, "summary": item_id.upper(), **details}
    if kind == "writeback":
        row = Change(kind="writeback", page_id="1", item_id=item_id, summary=item_id.upper())
        return WritePage(page_id="1", version=1, storage="", rows=(row,))
    if kind == "transition":
        where["target"] = pmsync.Status(details["fields"]["status"][1])
    return _OPERATIONS[kind](**where)


def _views(operations):
    return [change for op in operations for change in op.changes]


class TestRestrict:
    def test_fresh_changes_of_items_the_plan_did_not_name_are_left(self):
        create_a, create_b = _change("create"), _change("create", "b")
        kept, differences = restrict([create_a, create_b], _views([create_a]))
        assert ([create_a], []) == (kept, differences)

    def test_a_create_the_plan_did_not_approve_is_left(self):
        writeback = _change("writeback")
        kept, _ = restrict([_change("create"), writeback], _views([writeback]))
        assert [writeback] == kept

    def test_a_change_a_person_caused_since_the_plan_is_made_for_a_named_item(self):
        create = _change("create")
        moved = _change("transition", fields={"status": ("todo", "done")})
        kept, differences = restrict([create, moved], _views([create]))
        assert [create, moved] == kept
        (line,) = differences
        assert "applied create" in line
        assert "transition (status: todo → done)" in line

    def test_a_difference_from_the_approved_plan_is_reported(self):
        kept, differences = restrict([_change("noop")], _views([_change("create")]))
        assert [] == kept
        (line,) = differences
        assert line.startswith("item 'A': the plan said create")


class TestLeaseValue:
    def test_an_unreadable_lease_reads_as_free(self):
        lease = Lease.from_json({"run": "r", "expires": "soon", "intent": {"a": 3}}, 7)
        assert (None, {}, 7) == (lease.expires, dict(lease.intent), lease.version)
        assert not lease.held(NOW)

    def test_taking_keeps_young_intent_and_drops_old(self):
        lease = Lease(
            intent={"young": NOW - dt.timedelta(minutes=1), "old": NOW - dt.timedelta(hours=1)}
        )
        taken = lease.taken(
            "me",
            "host",
            now=NOW,
            ttl=dt.timedelta(minutes=15),
            creating=["new"],
            window=dt.timedelta(minutes=10),
        )
        assert {"young", "new"} == set(taken.intent)
        assert taken.held(NOW)
        assert not taken.held(NOW + dt.timedelta(minutes=15))
