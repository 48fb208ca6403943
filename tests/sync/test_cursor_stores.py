"""The cursor stores as the public API offers them: ``Syncer(cursor=...)`` with pmsync's
file store and with a store of the caller's own (docs/api.md, "Incremental reruns")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest
import time_machine
from sync_helpers import row, table_page

import pmsync
from pmsync.testing import Emulator

T0 = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
CONFIG = pmsync.Config(project="OPS", cql='label = "postmortem"')


@attrs.define
class MemoryStore:
    """A caller's own store: cursors in a dict (a database table, in real life)."""

    saved: dict[str, pmsync.Cursor] = attrs.field(factory=dict)

    def load(self, key: str) -> pmsync.Cursor | None:
        return self.saved.get(key)

    def save(self, key: str, cursor: pmsync.Cursor) -> None:
        self.saved[key] = cursor


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pages(emu: Emulator, clock: time_machine.Coordinates) -> list[str]:
    del clock
    return [
        emu.add_page(
            "SRE",
            f"Postmortem {n}",
            table_page([row(f"{n}: add an alert")]),
            labels=("postmortem",),
        )
        for n in range(3)
    ]


def _syncer(emu: Emulator, store: pmsync.CursorStore) -> pmsync.Syncer:
    retry = pmsync.RetryPolicy(attempts=8, budget=30, wait_initial=0.01, wait_max=2)
    return pmsync.Syncer(emu.confluence(), emu.jira(), config=CONFIG, cursor=store, retry=retry)


def test_a_store_of_ones_own_keeps_the_cursor_and_reruns_read_only_what_changed(emu, pages, clock):
    """The first sync is a full pass and stores a Cursor counting from its start minus
    the margin; a rerun past the margin with nothing changed makes no mutating request
    and plans no page."""
    store = MemoryStore()
    first = _syncer(emu, store).sync()
    assert first.ok, first.errors
    (cursor,) = store.saved.values()
    assert isinstance(cursor, pmsync.Cursor)
    assert T0 - CONFIG.cursor_margin == cursor.since
    clock.move_to(T0 + dt.timedelta(minutes=20))
    emu.clear_requests()
    again = _syncer(emu, store).sync()
    assert again.ok, again.errors
    assert () == again.plan.pages
    assert [] == [r.path for r in emu.requests if r.mutating]
    assert (
        T0 + dt.timedelta(minutes=20) - CONFIG.cursor_margin
        == store.saved[next(iter(store.saved))].since
    )


def test_the_file_store_from_code(emu, pages, clock, tmp_path: Path):
    """FileCursorStore given to the Syncer keeps the cursor in that file, where a later
    Syncer finds it: its run is incremental, not a full pass."""
    path = tmp_path / "state" / "cursor.json"
    assert _syncer(emu, pmsync.FileCursorStore(path)).sync().ok
    assert path.is_file()
    clock.move_to(T0 + dt.timedelta(minutes=20))
    plan = _syncer(emu, pmsync.FileCursorStore(path)).plan()
    assert plan.selection is not None
    assert not plan.selection.full
