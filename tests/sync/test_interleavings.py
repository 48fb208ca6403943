"""Two runs stepped request by request through every interleaving of their writes.

Each run works in its own thread; the emulator's request gate parks it before its first
request and before each of its mutating requests. A scheduler lets one parked run go at a
time, so one *step* of a run is one mutating request and the reads that follow it, up to
its next mutating request (the first step: the reads before any write). Reads happen as
early as they can, so a run acts on what it read while the other run writes: the window
every check-then-act race needs.

The schedules are explored depth first: a run's steps depend on what it meets (a run that
finds the page taken may stop early), so each schedule is replayed from a fresh emulator,
and the choices it met open the next schedules. After every schedule the promises are
checked: one issue per row, every key in its row in every version of the page, the
people's edits kept, and reruns settling into a run that writes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

import attrs
import pytest
import requests
from races import (
    LAGS,
    RUN_HEADER,
    Row,
    add_page,
    broken_promises,
    edit_cell,
    emulator,
    insert_row,
    managed,
    run,
    seed_people,
    settle,
)
from sync_helpers import ALICE, BOB

import pmsync
from pmsync.testing import Emulator, PendingRequest

_WAIT = 30.0  # seconds: a run that neither parks nor ends by then is stuck
_ENOUGH = 5  # broken schedules to show before giving up on the rest


class Stepper:
    """Parks tagged runs at the emulator's gate and lets them go one step at a time."""

    def __init__(self, tags: Sequence[str]) -> None:
        self._cond = threading.Condition()
        self._state = dict.fromkeys(tags, "starting")  # starting, parked, running, done
        self._started: set[str] = set()
        self._go: str | None = None
        self._free = False
        #: The mutating requests in the order they were let through: (tag, method, path).
        self.writes: list[tuple[str, str, str]] = []

    def gate(self, request: PendingRequest) -> None:
        """The emulator's request gate: park before the first and each mutating request."""
        tag = request.headers.get(RUN_HEADER)
        if tag not in self._state:
            return
        with self._cond:
            if (tag not in self._started or request.mutating) and not self._free:
                self._started.add(tag)
                self._state[tag] = "parked"
                self._cond.notify_all()
                if not self._cond.wait_for(lambda: self._go == tag or self._free, _WAIT):
                    raise RuntimeError(f"run {tag} was never let go")
                self._go = None
            if request.mutating:
                self.writes.append((tag, request.method, request.path))

    def finished(self, tag: str) -> None:
        """Run ``tag`` has returned."""
        with self._cond:
            self._state[tag] = "done"
            self._cond.notify_all()

    def parked(self) -> list[str]:
        """Wait until no run is between two gates; the runs parked (none: all done)."""
        with self._cond:
            settled = self._cond.wait_for(
                lambda: all(s in ("parked", "done") for s in self._state.values()), _WAIT
            )
            if not settled:
                raise RuntimeError(f"runs stuck between requests: {self._state}")
            return [tag for tag, state in self._state.items() if state == "parked"]

    def step(self, tag: str) -> None:
        """Let run ``tag`` go until its next mutating request (or its end)."""
        with self._cond:
            self._state[tag] = "running"
            self._go = tag
            self._cond.notify_all()

    def free(self) -> None:
        """Let every run go without parking again (after a failure)."""
        with self._cond:
            self._free = True
            self._cond.notify_all()


Jobs = dict[str, Callable[[], object]]
#: A person's edit, made once, as soon as its condition holds between two steps.
Trigger = tuple[Callable[[], bool], Callable[[], object]]


@attrs.frozen
class Setting:
    """A page, the runs' jobs, the people's edits, and what every row must say at the end."""

    page_id: str
    jobs: Jobs
    rows: list[Row]
    people: list[Trigger] = attrs.Factory(list)


@attrs.frozen
class Story:
    """A named way to set the page and the runs up on an empty emulator."""

    name: str
    prepare: Callable[[Emulator], Setting]


def _new_rows(emu: Emulator) -> Setting:
    """Three new rows; two runs sync the page at once."""
    rows = [
        Row("Add a disk usage alert", ALICE, "2026-12-04"),
        Row("Rotate logs daily", BOB),
        Row("Move the database to bigger disks", None, "2027-01-15"),
    ]
    page_id = add_page(emu, rows)
    run_a, run_b = run(emu, "A"), run(emu, "B")
    jobs = {
        "A": lambda: run_a.sync(page_ids=[page_id]),
        "B": lambda: run_b.sync(page_ids=[page_id]),
    }
    return Setting(page_id, jobs, rows)


def _late_plan(emu: Emulator) -> Setting:
    """A applies a plan made before anything happened, while B syncs; people act meanwhile.

    As soon as a key reaches row 1, a person inserts a look-alike row above it (same owner
    and due date); as soon as row 3's key is on the page, a person moves its issue to Done.
    """
    first = Row("Add a disk usage alert", ALICE, "2026-12-04")
    second = Row("Rotate logs daily", BOB, "2026-12-10")
    third = Row("Move the database to bigger disks", None, "2027-01-15", "in_progress")
    page_id = add_page(emu, [first, second, third])
    run_a, run_b = run(emu, "A"), run(emu, "B")
    plan_a = run_a.plan(page_ids=[page_id])
    above = Row("Page the database team on disk alerts", ALICE, "2026-12-04")

    def keyed(summary: str) -> bool:
        items = pmsync.parse_page(emu.page(page_id)["storage"], page_id=page_id).items
        return any(i.summary == summary and i.jira_key for i in items)

    def issue_of(summary: str) -> list[str]:
        return [i["key"] for i in managed(emu, page_id) if i["fields"]["summary"] == summary]

    people: list[Trigger] = [
        (
            lambda: keyed(first.summary),
            lambda: insert_row(emu, page_id, above, above=first.summary),
        ),
        (
            lambda: keyed(third.summary),
            lambda: emu.transition_issue(issue_of(third.summary)[0], "Done"),
        ),
    ]
    jobs = {"A": lambda: run_a.apply(plan_a), "B": lambda: run_b.sync(page_ids=[page_id])}
    rows = [
        above,
        first,
        second,
        attrs.evolve(third, status="done"),
    ]
    return Setting(page_id, jobs, rows, people)


STORIES = [Story("new-rows", _new_rows), Story("late-plan-and-people", _late_plan)]


def play(emu: Emulator, story: Story, schedule: Sequence[str]) -> tuple[list[list[str]], dict]:
    """Play ``story`` once, choosing by ``schedule`` then the first run parked.

    Returns the choices met (the runs parked at each step) and the broken promises.
    """
    emu.reset()
    seed_people(emu)
    setting = story.prepare(emu)
    page_id, jobs, people = setting.page_id, setting.jobs, list(setting.people)
    stepper = Stepper(list(jobs))
    failures: list[str] = []

    def work(tag: str, job: Callable[[], object]) -> None:
        try:
            job()
        except pmsync.PmsyncError:
            pass  # a run may fail in a race; the promises are what must hold
        except Exception as exc:
            failures.append(f"run {tag} crashed: {exc!r}")
        finally:
            stepper.finished(tag)

    emu.set_request_gate(stepper.gate)
    threads = [threading.Thread(target=work, args=item, daemon=True) for item in jobs.items()]
    met: list[list[str]] = []
    try:
        for thread in threads:
            thread.start()
        while parked := stepper.parked():
            for trigger in [t for t in people if t[0]()]:
                people.remove(trigger)
                trigger[1]()
            met.append(parked)
            wanted = schedule[len(met) - 1] if len(met) <= len(schedule) else parked[0]
            stepper.step(wanted if wanted in parked else parked[0])
    finally:
        stepper.free()
        for thread in threads:
            thread.join(_WAIT)
        emu.set_request_gate(None)
    settled = settle(emu, run(emu, "C"), page_id)
    broken = broken_promises(emu, page_id, setting.rows)
    broken.update({"settle": settled} if settled else {})
    broken.update({"crash": failures} if failures else {})
    if broken:
        broken["writes"] = [f"{t} {m} {p}" for t, m, p in stepper.writes]
    return met, broken


def every_schedule(emu: Emulator, story: Story) -> Iterator[tuple[str, dict]]:
    """Play every interleaving of the story's runs, depth first; yield (schedule, broken)."""
    pending: list[list[str]] = [[]]
    while pending:
        prefix = pending.pop()
        met, broken = play(emu, story, prefix)
        taken = [prefix[i] if i < len(prefix) else parked[0] for i, parked in enumerate(met)]
        yield "".join(taken), broken
        for depth in range(len(prefix), len(met)):
            pending += [
                [*taken[:depth], other]
                for other in met[depth][1:]
                # both runs' first steps only read: "BA..." plays as "AB..." does
                if [*taken[:depth], other] != ["B", "A"]
            ]


@pytest.fixture(scope="module", params=LAGS, ids=lambda lag: f"lag{lag:g}")
def site(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    with emulator(lag=request.param) as emu:
        yield emu


@pytest.mark.parametrize("story", STORIES, ids=lambda s: s.name)
def test_every_interleaving_of_two_runs_keeps_the_promises(site, story):
    """No schedule of the two runs' writes breaks a promise (stops at the fifth that does)."""
    played, broken = 0, {}
    for schedule, promises in every_schedule(site, story):
        played += 1
        if promises:
            broken[schedule] = promises
        if len(broken) == _ENOUGH:
            break
    assert played >= 2, "the runs never met"
    assert {} == broken, f"{len(broken)} of the {played} schedules played broke a promise"


def test_the_gate_parks_one_request_while_others_are_served(site):
    """A request parked at the gate waits; other clients are served meanwhile."""
    site.reset()
    site.add_project("OPS")
    task = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x"}
    arrived, release = threading.Event(), threading.Event()

    def gate(request: PendingRequest) -> None:
        if request.mutating and request.headers.get(RUN_HEADER) == "A":
            assert "Authorization" not in request.headers
            arrived.set()
            release.wait(_WAIT)

    site.set_request_gate(gate)
    session = requests.Session()
    session.headers[RUN_HEADER] = "A"
    parked = threading.Thread(target=site.jira(session=session).issue_create, args=(task,))
    parked.start()
    try:
        assert arrived.wait(_WAIT)
        site.jira().issue_create(task)
        assert ["OPS-1"] == [i["key"] for i in site.issues()]
    finally:
        release.set()
        parked.join(_WAIT)
        site.set_request_gate(None)
    assert 2 == len(site.issues())


def _fault_story(emu: Emulator) -> tuple[str, list[Row]]:
    """A synced page that people changed since: work of every kind for the next run.

    Row 1 was marked done on the page, row 2's issue was moved to In Progress in Jira,
    row 3's due date changed on the page, and row 4 is new (and in progress).
    """
    rows = [
        Row("Add a disk usage alert", ALICE, "2026-12-04"),
        Row("Rotate logs daily", BOB, "2026-12-10"),
        Row("Move the database to bigger disks", ALICE, "2027-01-15"),
    ]
    page_id = add_page(emu, rows)
    run(emu, "S").sync(page_ids=[page_id])
    edit_cell(emu, page_id, rows[0].summary, "status", "done")
    (key,) = [i["key"] for i in managed(emu, page_id) if i["fields"]["summary"] == rows[1].summary]
    emu.transition_issue(key, "In Progress")
    edit_cell(emu, page_id, rows[2].summary, "due", "2027-02-01")
    new = Row("Page the database team on disk alerts", BOB, "2026-12-18", "in_progress")
    insert_row(emu, page_id, new)
    return page_id, [
        attrs.evolve(rows[0], status="done"),
        attrs.evolve(rows[1], status="in_progress"),
        attrs.evolve(rows[2], due="2027-02-01"),
        new,
    ]


def _state(emu: Emulator, page_id: str) -> tuple[str, list[tuple[object, ...]]]:
    """The page's text and every issue's key, fields and agreed base, for comparing runs."""
    return emu.page(page_id)["storage"], [
        (
            i["key"],
            i["fields"]["summary"],
            i["fields"]["status"]["name"],
            i["fields"]["duedate"],
            (i["fields"]["assignee"] or {}).get("accountId"),
            (i["properties"].get("pmsync") or {}).get("base"),
        )
        for i in sorted(emu.issues("OPS"), key=lambda i: i["key"])
    ]


class _Fault:
    """A gate that fails run A at its k-th write: it dies before or after it (nothing it
    sends is handled or answered any more), or that write alone is refused (answered 500
    without being handled) and the run goes on."""

    def __init__(self, k: int, how: str) -> None:
        self.k, self.how = k, how
        self.writes = 0
        self.dead = self.refused = False

    def __call__(self, request: PendingRequest) -> None:
        if request.headers.get(RUN_HEADER) != "A":
            return
        if self.dead:
            raise ConnectionAbortedError("run A is dead")  # never handled, never answered
        if not request.mutating:
            return
        if self.writes == self.k - 1:  # the k-th write
            if self.how == "dies before":
                self.dead = True
                raise ConnectionAbortedError("run A is dead")
            if self.how == "is refused" and not self.refused:
                self.refused = True
                raise RuntimeError("this write is refused")  # answered 500, never handled
        self.writes += 1
        self.dead = self.how == "dies after" and self.writes == self.k


@pytest.mark.parametrize("how", ["dies before", "dies after", "is refused"])
def test_a_run_failing_at_any_write_leaves_reruns_the_state_of_a_clean_run(site, how):
    """Fail a run at each of its writes in turn; reruns an hour later end as a clean run.

    Nothing a dead run sends is handled or answered; a refused write is answered 500
    without being handled, and the run goes on. What the run left behind (a lease, an intent, issues
    without keys on the page, a base recorded or not) must not keep the reruns from
    ending exactly as one clean run does: same page text, same issues, same agreed values,
    every person's change kept.
    """
    site.reset()
    seed_people(site)
    page_id, rows = _fault_story(site)
    site.clear_requests()
    run(site, "A").sync(page_ids=[page_id])
    writes = [r for r in site.requests if r.mutating]
    assert [] == settle(site, run(site, "B"), page_id)
    clean = _state(site, page_id)
    assert {} == broken_promises(site, page_id, rows)
    assert len(writes) >= 5
    broken = {}
    for k in range(1, len(writes) + 1):
        site.reset()
        seed_people(site)
        page_id, rows = _fault_story(site)
        site.set_request_gate(_Fault(k, how))
        try:
            run(site, "A").sync(page_ids=[page_id])
        except pmsync.PmsyncError:
            pass  # a failing run may raise; what matters is what the reruns make of it
        finally:
            site.set_request_gate(None)
        settled = settle(site, run(site, "B"), page_id)
        if settled or _state(site, page_id) != clean:
            broken[f"{how} write {k}"] = (
                settled or broken_promises(site, page_id, rows) or "the state differs"
            )
    assert {} == broken, f"{len(broken)} of {len(writes)} failures left a state no clean run has"
