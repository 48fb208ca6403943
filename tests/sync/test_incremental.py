"""Incremental reruns against the emulator with the real clients, both flavours.

The clock is fixed with time-machine and moved by hand: the emulator stamps every page
version and issue update with it, and the Syncer starts its runs by it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from sync_helpers import make_syncer, row, table_page

import pmsync
from pmsync._cursor import cursor_key
from pmsync.testing import Emulator

T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
CQL = 'label = "postmortem"'
KEY = cursor_key("OPS", "pmsync", f"type = page AND ({CQL})")


@pytest.fixture(params=["cloud", "server"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def site(emu: Emulator, clock: time_machine.Coordinates) -> dict[str, str]:
    """Three postmortems of two items each, and the page that keeps the cursor."""
    del clock
    ids = {"state": emu.add_page("SRE", "pmsync state", "<p>Kept by pmsync.</p>")}
    for name in ("a", "b", "c"):
        ids[name] = emu.add_page(
            "SRE",
            f"Postmortem {name}",
            table_page([row(f"{name}: add an alert", status="todo"), row(f"{name}: fix it")]),
            labels=("postmortem",),
        )
    return ids


def syncer_for(emu: Emulator, site: dict[str, str], **options: object) -> pmsync.Syncer:
    config = pmsync.Config(project="OPS", cql=CQL, cursor_page=site["state"], **options)  # type: ignore[arg-type]
    return make_syncer(emu, config)


def key_of(emu: Emulator, summary: str) -> str:
    (issue,) = [i for i in emu.issues("OPS") if i["fields"]["summary"] == summary]
    return str(issue["key"])


def later(clock: time_machine.Coordinates, minutes: int) -> None:
    clock.move_to(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes))


def synced_once(emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates) -> None:
    """A first sync (a full pass), then the clock moves past the margin."""
    result = syncer_for(emu, site).sync()
    assert result.ok, result.errors
    later(clock, 10)


def reword(emu: Emulator, page_id: str, old: str, new: str) -> None:
    """A person edits a row's text on the page."""
    emu.edit_page(page_id, emu.page(page_id)["storage"].replace(old, new))


def change_both_sides(
    emu: Emulator, clock: time_machine.Coordinates, page_id: str, new: str, moved: str, to: str
) -> None:
    """A person rewords row 'a: fix it' on a page, another moves an issue in Jira."""
    reword(emu, page_id, "a: fix it", new)
    emu.transition_issue(key_of(emu, moved), to)
    later(clock, 1)


def test_first_run_without_a_cursor_is_a_full_pass(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """No cursor yet: everything is read, and the run leaves a cursor behind."""
    result = syncer_for(emu, site).sync()

    assert result.plan is not None
    assert result.plan.selection is not None
    assert result.plan.selection.full
    assert len(result.created) == 6
    assert emu.page(site["state"])["properties"][KEY]["since"] == "2026-12-04T09:55:00+00:00"


def test_a_no_op_rerun_reads_nothing_but_what_changed(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """After the margin, a rerun costs the cursor, one search per service and the save."""
    synced_once(emu, site, clock)
    syncer_for(emu, site).sync()  # meets the first run's own writes
    later(clock, 10)
    emu.clear_requests()

    result = syncer_for(emu, site).sync()

    assert result.plan is not None
    assert result.plan.pages == ()
    cloud = emu.flavour == "cloud"  # Cloud: REST v2 properties, found by key, written by id
    seen = [(r.method, r.path.rsplit("/", 1)[-1]) for r in emu.requests]
    assert [f"{method} {'<id>' if p.isdigit() else p}" for method, p in seen] == [
        "GET properties" if cloud else f"GET {KEY}",
        "GET jql" if cloud else "GET search",
        "GET search",
        "PUT <id>" if cloud else f"PUT {KEY}",
    ]


def test_changes_on_both_sides_between_incremental_runs_are_all_carried(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """A page edit goes to Jira, a Jira change goes to its page; other pages are not read."""
    synced_once(emu, site, clock)
    change_both_sides(emu, clock, site["a"], "a: fix it for good", "b: add an alert", "Done")

    result = syncer_for(emu, site).sync()

    assert result.ok, result.errors
    assert result.plan is not None
    assert result.plan.selection is not None
    assert not result.plan.selection.full
    assert sorted(p.page_id for p in result.plan.pages) == sorted([site["a"], site["b"]])
    assert key_of(emu, "a: fix it for good")
    assert "Done" in emu.page(site["b"])["storage"]


def test_a_deleted_row_is_still_an_orphan(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """The page edit that deleted a row makes the row's issue an orphan in the next plan."""
    synced_once(emu, site, clock)
    gone = key_of(emu, "c: fix it")
    emu.edit_page(site["c"], table_page([row("c: add an alert", status="todo")]))
    later(clock, 1)

    plan = syncer_for(emu, site).plan()

    assert [c.issue_key for c in plan.of_kind("orphan")] == [gone]


def edited_before_last_run(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates, *, minutes: int, new: str
) -> None:
    """After a sync and a rerun, a save stamped ``minutes`` before the rerun started that
    the rerun's search did not show yet (index lag, a clock behind ours); then 15 minutes
    pass."""
    synced_once(emu, site, clock)
    started = dt.datetime.now(dt.UTC)
    syncer_for(emu, site).sync()
    clock.move_to(started - dt.timedelta(minutes=minutes))
    reword(emu, site["b"], "b: fix it", new)
    clock.move_to(started + dt.timedelta(minutes=15))


def test_a_change_inside_the_safety_margin_is_not_missed(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """An edit stamped just before the last run started, unseen by it, is read next time."""
    edited_before_last_run(emu, site, clock, minutes=3, new="b: fix it twice")

    result = syncer_for(emu, site).sync()

    assert result.ok, result.errors
    assert result.updated == (key_of(emu, "b: fix it twice"),)


def test_a_change_older_than_the_margin_waits_for_the_full_pass_which_reports_it(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """What incremental runs cannot see, the full pass carries and lists as missed."""
    edited_before_last_run(emu, site, clock, minutes=8, new="b: fix it late")  # > margin

    missed_run = syncer_for(emu, site).sync()
    full = syncer_for(emu, site).sync(full=True)

    assert missed_run.updated == ()
    assert full.updated == (key_of(emu, "b: fix it late"),)
    assert full.missed == (f"page 'Postmortem b' ({site['b']}): 1 update",)


def test_a_lost_cursor_falls_back_to_a_full_pass(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """Without its property, the next run reads everything and says why."""
    synced_once(emu, site, clock)
    syncer = syncer_for(emu, site)
    syncer.confluence.delete_content_property(site["state"], KEY)

    plan = syncer.plan()

    assert plan.selection is not None
    assert plan.selection.full
    assert "no cursor" in plan.selection.reason
    assert len(plan.pages) == 3


def test_the_full_pass_comes_every_full_every(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """A day after the last full pass, a rerun is a full pass again."""
    synced_once(emu, site, clock)
    assert syncer_for(emu, site).plan().selection.full is False  # type: ignore[union-attr]
    later(clock, 24 * 60)

    plan = syncer_for(emu, site).plan()

    assert plan.selection is not None
    assert plan.selection.full
    assert plan.selection.reason.startswith("due")


def test_a_full_pass_after_an_incremental_one_finds_nothing_to_do(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """Incremental runs left nothing behind: the full pass plans no change, misses none."""
    synced_once(emu, site, clock)
    change_both_sides(emu, clock, site["a"], "a: fix it again", "c: add an alert", "In Progress")
    assert syncer_for(emu, site).sync().ok
    later(clock, 10)

    full = syncer_for(emu, site).sync(full=True)

    assert full.plan is not None
    assert full.plan.is_empty
    assert full.missed == ()


def test_a_cursor_file_serves_one_machine(
    emu: Emulator,
    site: dict[str, str],
    clock: time_machine.Coordinates,
    tmp_path: pytest.TempPathFactory,
) -> None:
    """``cursor_file`` keeps the cursor locally; the second run is incremental."""
    path = tmp_path / "cursor.json"  # type: ignore[operator]
    config = pmsync.Config(project="OPS", cql=CQL, cursor_file=str(path))
    assert make_syncer(emu, config).sync().ok
    later(clock, 10)

    plan = make_syncer(emu, config).plan()

    assert plan.selection is not None
    assert not plan.selection.full
    assert KEY in path.read_text()


def test_report_reads_every_page_whatever_the_cursor(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """``report`` (like ``remind``) reads the open issues, not what changed."""
    synced_once(emu, site, clock)
    syncer_for(emu, site).sync()

    report = syncer_for(emu, site).report()

    assert len(report.items) == 6


def test_a_page_another_run_held_is_planned_again_though_unchanged(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """Its work is unfinished: the cursor keeps it pending until a run has done it."""
    synced_once(emu, site, clock)
    reword(emu, site["c"], "c: fix it", "c: fix it properly")
    holder = {"v": 1, "run": "other", "host": "elsewhere", "expires": "2030-01-01T00:00:00+00:00"}
    emu.set_content_property(site["c"], "pmsync.lease", holder)
    later(clock, 1)
    held = syncer_for(emu, site).sync()
    emu.set_content_property(site["c"], "pmsync.lease", {**holder, "run": None, "expires": None})
    later(clock, 10)

    result = syncer_for(emu, site).sync()

    assert [s.page_id for s in held.skipped] == [site["c"]]
    assert result.updated == (key_of(emu, "c: fix it properly"),)


def test_plan_reads_what_sync_would_and_leaves_the_cursor(
    emu: Emulator, site: dict[str, str], clock: time_machine.Coordinates
) -> None:
    """``plan()`` is a dry run: the cursor moves only when a plan is applied."""
    synced_once(emu, site, clock)
    before = emu.page(site["state"])["properties"][KEY]

    plan = syncer_for(emu, site).plan()

    assert plan.selection is not None
    assert not plan.selection.full
    assert before == emu.page(site["state"])["properties"][KEY]
