"""A seeded soak: random pages, people on both sides, overlapping runs, late plans, faults.

:func:`play` plays one scenario from a seed and returns the promises it broke (an empty
dict when all held). The same seed plays the same scenario: the emulator's faults draw
from the seed, the clock is fixed (time-machine) and moved only by the scenario, and runs
overlap at chosen requests through the emulator's request gate, never by timing.

A scenario: one or two pages of two to four rows; then sixteen to twenty-eight random steps, among

* a run syncs, plans (and keeps the plan), or applies the plan it kept (a late plan);
* a run plans, another syncs, people act, the first applies its plan (the reproductions
  of issue 12, in general);
* a run syncs and, at its k-th request, another run syncs or applies its kept plan, or a
  person edits, all before that request is served (overlapping runs);
* a person changes a row's owner, due date or status on the page, adds a row (anywhere)
  or deletes one; or changes an issue's assignee, due date or status in Jira (a field is
  only ever changed on one side, so that what it must end as is known);
* 429s, 503s and dropped connections (before or after the change lands) for a run;
* the clock moves on a few minutes.

Then the faults clear, the clock moves on an hour (leases and intents expire, lagging
search catches up), and reruns must settle: one issue per row, every key in its row in
every version of every page, every person's value on both sides, a last rerun that writes
nothing. ``python benchmarks/soak.py N`` plays N scenarios and counts the broken promises.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import attrs
import races
import time_machine

import pmsync
from pmsync.testing import Emulator, PendingRequest

__all__ = ["PROMISES", "play"]

#: The promises a scenario can break, as :func:`play` names them.
PROMISES = ("duplicate", "wrong row", "not kept", "settle", "crash")
START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
_WORDS = ("alert", "rotate", "disk", "replica", "backup", "runbook", "canary", "quota")
_DUES = ("2026-12-04", "2026-12-11", "2026-12-18", "2027-01-15")
_JIRA_STATUS = {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}
_RUNS = ("A", "B", "C")
_VERBS = {"sync": "syncs", "plan": "plans", "apply": "applies its plan"}


@attrs.define
class _World:
    """One scenario's emulator, runs, kept plans, and what every row must end as."""

    emu: Emulator
    rng: random.Random
    clock: Any
    pages: dict[str, dict[str, races.Row]] = attrs.Factory(dict)
    sides: dict[tuple[str, str], str] = attrs.Factory(dict)
    plans: dict[str, pmsync.Plan] = attrs.Factory(dict)
    runs: dict[str, pmsync.Syncer] = attrs.Factory(dict)
    made: int = 0
    log: list[str] = attrs.Factory(list)
    crashes: list[str] = attrs.Factory(list)

    def new_row(self) -> races.Row:
        self.made += 1
        words = " ".join(self.rng.sample(_WORDS, 2))
        return races.Row(
            f"Action {self.made}: {words}",
            # a person and a date: pmsync leaves an empty cell (<br />) to people
            self.rng.choice(races.PEOPLE),
            self.rng.choice(_DUES),
            self.rng.choice(("todo", "todo", "in_progress", "done")),
        )

    # -- what runs do ---------------------------------------------------------------------

    def attempt(self, tag: str, what: str) -> None:
        """Run ``tag`` syncs, plans or applies its kept plan; failures are allowed."""
        self.log.append(f"{tag} {_VERBS[what]}")
        syncer, page_ids = self.runs[tag], list(self.pages)
        try:
            if what == "plan":
                self.plans[tag] = syncer.plan(page_ids=page_ids)
            elif what == "apply" and tag in self.plans:
                syncer.apply(self.plans.pop(tag))
            else:
                syncer.sync(page_ids=page_ids)
        except pmsync.PmsyncError:
            pass  # faults may fail a run; the promises must hold anyway
        except Exception as exc:  # a crash of pmsync itself is a broken promise
            self.crashes.append(f"run {tag} {what}: {exc!r}")

    def overlap(self, tag: str, at: int, inner: Callable[[], None]) -> None:
        """Run ``tag`` syncs; ``inner()`` runs just before its ``at``-th request is served."""
        seen: list[int] = []

        def gate(request: PendingRequest) -> None:
            if request.headers.get(races.RUN_HEADER) != tag or len(seen) >= at:
                return
            seen.append(1)
            if len(seen) == at:
                inner()

        self.emu.set_request_gate(gate)
        try:
            self.attempt(tag, "sync")
        finally:
            self.emu.set_request_gate(None)

    # -- what people do ---------------------------------------------------------------------

    def free_field(self, summary: str, side: str) -> str | None:
        """A field of the row that no one changed on the other side, or None."""
        fields = [
            f for f in ("owner", "due", "status") if self.sides.get((summary, f), side) == side
        ]
        return self.rng.choice(fields) if fields else None

    def person_edits_page(self) -> None:
        page_id = self.rng.choice(list(self.pages))
        rows = self.pages[page_id]
        roll = self.rng.random()
        if roll < 0.35 or not rows:
            row = self.new_row()
            above = self.rng.choice([None, *rows])
            races.insert_row(self.emu, page_id, row, above=above)
            rows[row.summary] = row
            self.log.append(f"person adds {row} above {above!r}")
            return
        summary = self.rng.choice(list(rows))
        if roll < 0.42:
            races.delete_row(self.emu, page_id, summary)
            del rows[summary]
            self.log.append(f"person deletes row {summary!r}")
            return
        field = self.free_field(summary, "page")
        if field is None:
            return
        value = self._value(field, getattr(rows[summary], field))
        races.edit_cell(self.emu, page_id, summary, field, value)
        setattr(rows[summary], field, value)
        self.sides[(summary, field)] = "page"
        self.log.append(f"person sets {field} of {summary!r} to {value!r} on the page")

    def person_edits_jira(self) -> None:
        page_id = self.rng.choice(list(self.pages))
        issues = {i["fields"]["summary"]: i["key"] for i in races.managed(self.emu, page_id)}
        rows = [s for s in self.pages[page_id] if s in issues]
        if not rows:
            return
        summary = self.rng.choice(rows)
        field = self.free_field(summary, "jira")
        if field is None:
            return
        row, key = self.pages[page_id][summary], issues[summary]
        value = self._value(field, getattr(row, field))
        if _jira_value(self.emu, key, field) == value:
            # Jira already shows it (say, a status pmsync has not moved yet): setting a
            # value to what it is changes nothing, so there is nothing of the person's to keep
            self.log.append(f"person finds {field} of {key} already {value!r} in Jira")
            return
        if field == "status":
            self.emu.transition_issue(key, _JIRA_STATUS[value])
        else:
            self.emu.edit_issue(key, {"assignee" if field == "owner" else "duedate": value})
        setattr(row, field, value)
        self.sides[(summary, field)] = "jira"
        self.log.append(f"person sets {field} of {key} ({summary!r}) to {value!r} in Jira")

    def _value(self, field: str, old: str | None) -> str:
        choices = {"owner": races.PEOPLE, "due": _DUES, "status": tuple(_JIRA_STATUS)}[field]
        return self.rng.choice([c for c in choices if c != old])

    def person_acts(self) -> None:
        (self.person_edits_page if self.rng.random() < 0.6 else self.person_edits_jira)()

    def arm_faults(self) -> None:
        faults, rng = self.emu.faults, self.rng
        kind = rng.choice(("rate", "error", "drop", "drop"))
        if kind == "rate":
            faults.rate_limit(fraction=rng.choice((0.2, 0.5)), retry_after=0)
        elif kind == "error":
            faults.server_error(fraction=0.2, status=rng.choice((500, 502, 503)))
        else:
            faults.drop_after(rng.randint(1, 6), applied=rng.random() < 0.6)
        self.log.append(f"faults: {kind}")


def _jira_value(emu: Emulator, key: str, field: str) -> str | None:
    """What Jira shows now for ``field`` of ``key``, in the soak's own words."""
    fields = emu.issue(key)["fields"]
    if field == "status":
        names = {name: word for word, name in _JIRA_STATUS.items()}
        return names.get(fields["status"]["name"])
    if field == "owner":
        return (fields.get("assignee") or {}).get("accountId")
    return fields.get("duedate")


def _step(world: _World) -> None:
    rng = world.rng
    tag = rng.choice(_RUNS)
    other = rng.choice([t for t in _RUNS if t != tag])
    roll = rng.random()
    if roll < 0.36:
        world.attempt(tag, ("sync", "plan", "apply")[int(roll / 0.12)])
    elif roll < 0.48:
        # the issue's reproductions, in general: plan, another run, people, a late apply
        world.log.append("a late plan:")
        world.attempt(tag, "plan")
        world.attempt(other, "sync")
        for _ in range(rng.randint(1, 3)):
            world.person_acts()
        world.attempt(tag, "apply")
    elif roll < 0.66:
        at = rng.randint(1, 12)
        what = rng.choice(("sync", "apply", "person"))
        inner = world.person_acts if what == "person" else lambda: world.attempt(other, what)
        world.log.append(f"overlap: before request {at} of this run,")
        world.overlap(tag, at, inner)
    elif roll < 0.89:
        world.person_acts()
    elif roll < 0.97:
        world.arm_faults()
        world.attempt(tag, "sync")
        world.emu.faults.clear()
    else:
        minutes = rng.randint(1, 4)
        world.clock.shift(dt.timedelta(minutes=minutes))
        world.log.append(f"{minutes} minutes pass")


def play(
    seed: int, *, lag: float = 0.0, concurrency: int | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """Play scenario ``seed`` (its runs with ``concurrency`` workers, the default if
    None); the promises it broke (by name) and what happened."""
    rng = random.Random(seed)
    with time_machine.travel(START, tick=False) as clock, races.emulator(lag, seed) as emu:
        world = _World(emu, rng, clock)
        world.runs = {tag: races.run(emu, tag, concurrency=concurrency) for tag in (*_RUNS, "Z")}
        for n in range(rng.randint(1, 2)):
            rows = [world.new_row() for _ in range(rng.randint(2, 4))]
            page_id = races.add_page(emu, rows, title=f"2026-11-0{n + 1} Outage {n + 1}")
            world.pages[page_id] = {r.summary: r for r in rows}
        world.log.append(f"pages: {world.pages}")
        for _ in range(rng.randint(16, 28)):
            _step(world)
        emu.faults.clear()
        clock.shift(dt.timedelta(hours=1))
        broken: dict[str, list[str]] = {"crash": world.crashes} if world.crashes else {}
        settled = races.settle(emu, world.runs["Z"], *world.pages)
        broken.update({"settle": settled} if settled else {})
        for page_id, rows in world.pages.items():
            for promise, details in races.broken_promises(emu, page_id, rows.values()).items():
                broken.setdefault(promise, []).extend(details)
        return broken, world.log
