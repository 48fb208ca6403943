"""The typed ``pmsync`` issue property: one reader for every shape written so far."""

from __future__ import annotations

import pytest

from pmsync._record import SyncRecord

BASE = {"summary": "Add a disk alert", "status": "todo"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            {"v": 1, "page_id": "123", "item_id": "abc", "base": BASE},
            SyncRecord(page_id="123", item_id="abc", base=BASE),
            id="version 1",
        ),
        pytest.param(
            {"page_id": 123, "item_id": "abc", "base": BASE},
            SyncRecord(page_id="123", item_id="abc", base=BASE),
            id="no version, a numeric page id",
        ),
        pytest.param(
            {"v": 1, "page_id": "123", "item_id": "abc", "base": "garbled", "reminders": 3},
            SyncRecord(page_id="123", item_id="abc"),
            id="base and reminders that are not objects",
        ),
        pytest.param(
            {"v": 1, "duplicate_of": "OPS-1"},
            SyncRecord(extra={"duplicate_of": "OPS-1"}),
            id="a retired duplicate",
        ),
        pytest.param(
            {
                "v": 1,
                "page_id": "123",
                "item_id": "abc",
                "base": {},
                "orphan_noted": True,
                "reminders": {"due": "2026-12-01", "overdue_count": 2},
            },
            SyncRecord(
                page_id="123",
                item_id="abc",
                orphan_noted=True,
                reminders={"due": "2026-12-01", "overdue_count": 2},
            ),
            id="orphan noted, with reminders",
        ),
    ],
)
def test_every_shape_written_so_far_reads(value, expected):
    assert expected == SyncRecord.read(value)


@pytest.mark.parametrize("value", [None, {}, [], "pmsync"])
def test_no_property_reads_as_none(value):
    assert None is SyncRecord.read(value)


def test_writing_back_keeps_what_this_version_does_not_know():
    value = {"v": 1, "page_id": "1", "item_id": "a", "base": BASE, "future": {"x": 1}}
    assert value == SyncRecord.read(value).to_json()


def test_identity_needs_both_page_and_item():
    assert ("1", "a") == SyncRecord(page_id="1", item_id="a").identity
    assert None is SyncRecord(page_id="1").identity


def test_the_public_planner_runs_on_a_snapshot_without_http():
    """pmsync.diff over an in-memory snapshot: a new row is a create carrying its record."""
    import datetime as dt

    import pmsync

    storage = (
        "<table><tbody><tr><th>Action item</th><th>Owner</th></tr>"
        "<tr><td>Add a disk alert</td><td>Alice</td></tr></tbody></table>"
    )
    postmortem = pmsync.parse_page(storage, page_id="7", title="Disk full")
    page = pmsync.PagePlan(
        page_id="7",
        title="Disk full",
        version=1,
        url=None,
        storage=storage,
        postmortem=postmortem,
    )
    snapshot = pmsync.Snapshot(pages=(page,), issues=())
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    plan = pmsync.diff(snapshot, pmsync.Config(project="OPS"), now=now)
    (create,) = plan.of_kind("create")
    record = SyncRecord.read(create.prop)
    assert ("7", postmortem.items[0].item_id) == record.identity


def test_a_sync_keeps_reminders_recorded_since_its_plan(emu, syncer):
    """remind() writes the reminder state; a late apply writes bases and keeps it."""
    from sync_helpers import ALICE, row, table_page

    page_id = emu.add_page(
        "SRE", "Disk full", table_page([row("Add an alert", ALICE, "2026-12-04")])
    )
    syncer.sync(page_ids=[page_id])
    emu.edit_page(page_id, emu.page(page_id)["storage"].replace("2026-12-04", "2027-01-20"))
    plan = syncer.plan(page_ids=[page_id])
    (issue,) = emu.issues("OPS")
    sent = {"due": "2026-12-04", "overdue_count": 2}
    record = SyncRecord.read(issue["properties"]["pmsync"])
    emu.set_issue_property(issue["key"], "pmsync", {**record.to_json(), "reminders": sent})
    result = syncer.apply(plan)
    assert result.ok, result.errors
    after = SyncRecord.read(emu.issue(issue["key"])["properties"]["pmsync"])
    assert (sent, "2027-01-20") == (dict(after.reminders), after.base["due"])
