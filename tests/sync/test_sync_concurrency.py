"""Pages written by several workers at once: the same end state, one pacing, one stop.

Real clients over HTTP against the emulator, both flavours, with and without a search
lag. No test sleeps or times anything: workers are stopped by faults armed at a given
request, and pacing is checked with an injected sleep.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from sync_helpers import ALICE, BOB, row, table_page

import pmsync
from pmsync._gateways._transport import Pacing
from pmsync.testing import Emulator, PendingRequest

both_flavours = pytest.mark.parametrize("flavour", ["cloud", "server"], indirect=True)

CQL = 'label = "postmortem"'
#: Statuses on the pages: new issues start in To Do, so the others are moved.
STATUSES = ("todo", "[In Progress]", "[Done]")


def syncer(emu: Emulator, concurrency: int, **kwargs: Any) -> pmsync.Syncer:
    """A Syncer on the emulator's real clients with ``concurrency`` workers."""
    return pmsync.Syncer(
        emu.confluence(),
        emu.jira(),
        config=pmsync.Config(project="OPS"),
        retry=pmsync.RetryPolicy(attempts=6, budget=30, wait_initial=0.01, wait_max=2),
        concurrency=concurrency,
        **kwargs,
    )


def owner(emu: Emulator, who: str) -> str:
    """How a page mentions alice or bob in the emulator's flavour."""
    if emu.flavour == "cloud":
        return {"alice": ALICE, "bob": BOB}[who]
    return f"key:key-{who}"


def seed_corpus(emu: Emulator, pages: int = 10, items: int = 3) -> list[str]:
    """Postmortems whose first sync creates, moves and writes back on every page."""
    ids = []
    for p in range(pages):
        rows = [
            row(
                f"Page {p} action {n}",
                owner(emu, "alice" if (p + n) % 2 else "bob"),
                f"2026-12-{(p + n) % 28 + 1:02d}",
                "High" if n == 0 else None,
                STATUSES[(p + n) % 3],
            )
            for n in range(items)
        ]
        page = table_page(rows, flavour=emu.flavour)
        ids.append(emu.add_page("SRE", f"Postmortem {p}", page, labels=("postmortem",)))
    return ids


@contextlib.contextmanager
def site(flavour: str, lag: float) -> Iterator[Emulator]:
    """An emulator seeded with the people and project of the ``emu`` fixture."""
    with Emulator(flavour=flavour, search_lag=lag) as emu:  # type: ignore[arg-type]
        for who, account in (("alice", ALICE), ("bob", BOB)):
            name = f"{who.title()} Example"
            if flavour == "cloud":
                emu.add_user(account_id=account, display_name=name, email=f"{who}@example.com")
            else:
                emu.add_user(
                    username=who,
                    user_key=f"key-{who}",
                    display_name=name,
                    email=f"{who}@example.com",
                )
        emu.add_project("OPS", name="Operations")
        yield emu


def first_sync(flavour: str, lag: float, concurrency: int) -> tuple[dict[str, Any], Any]:
    with site(flavour, lag) as emu:
        seed_corpus(emu)
        result = syncer(emu, concurrency).sync(cql=CQL)
        titles = {p["id"]: p["title"] for p in emu.pages()}
        summary = (
            result.ok,
            len(result.created),
            len(result.transitioned),
            [titles[p] for p in result.pages_written],
            result.errors,
        )
        return emu.state_by_row("OPS"), summary


@both_flavours
def test_four_workers_end_where_one_worker_ends(flavour, search_lag):
    """The same pages, issues, statuses and sync records; the result in page order."""
    one, one_result = first_sync(flavour, search_lag, 1)
    four, four_result = first_sync(flavour, search_lag, 4)
    assert one == four
    assert one_result == four_result
    assert (True, 30, 20, [f"Postmortem {p}" for p in range(10)], ()) == four_result


@both_flavours
def test_a_rerun_with_four_workers_changes_nothing(emu, search_lag):
    seed_corpus(emu)
    assert syncer(emu, 4).sync(cql=CQL).ok
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=search_lag + 1)):
        emu.clear_requests()
        again = syncer(emu, 4).sync(cql=CQL)
    assert again.ok
    assert ((), ()) == (again.created, again.pages_written)
    assert [] == [f"{r.method} {r.path}" for r in emu.requests if r.mutating]


@both_flavours
def test_a_quota_never_lets_a_429_reach_the_caller(emu):
    """Every worker keeps to one pacing: the quota's 429s (if any) are waited out."""
    seed_corpus(emu, pages=12)
    emu.faults.quota(30, per=1.0)
    result = syncer(emu, 4).sync(cql=CQL)
    assert result.ok, result.errors
    assert 36 == len(result.created)
    assert 12 == len(result.pages_written)


@both_flavours
def test_a_quota_stop_stops_every_worker_with_nothing_half_written(emu, search_lag):
    """A wait longer than a run may take, met by one worker while the others are busy:
    the run stops with QuotaExhaustedError, the requests already sent finish, no page is
    written in part, and the next run (leases lapsed) ends where one run would have."""
    ids = seed_corpus(emu, pages=12)
    before = {p: emu.page(p)["storage"] for p in ids}
    writes: list[str] = []

    def gate(request: PendingRequest) -> None:
        is_page = re.fullmatch(r".*/(?:api/v2/pages|rest/api/content)/\d+", request.path)
        if request.method == "PUT" and is_page:
            writes.append(request.path)
            if len(writes) == 3:  # the request after this one meets an exhausted quota
                emu.faults.rate_limit(count=1, retry_after=3600, reason="jira-quota-tenant-based")

    emu.set_request_gate(gate)
    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=True) as clock:
        with pytest.raises(pmsync.QuotaExhaustedError):
            syncer(emu, 4).sync(cql=CQL)
        stopped_at = next(i for i, r in enumerate(emu.requests) if r.status == 429)
        # Only the other workers' requests in flight: one each when the 429 was answered,
        # and one more each sent before its answer reached its worker; none after.
        assert len(emu.requests) - stopped_at - 1 <= 2 * 3
        written = [p for p in ids if emu.page(p)["storage"] != before[p]]
        assert 3 <= len(written) < len(ids)
        for page_id in written:  # a written page links an issue from every row
            assert 3 == len(set(re.findall(r"OPS-\d+", emu.page(page_id)["storage"])))
        emu.set_request_gate(None)
        clock.shift(dt.timedelta(minutes=20))  # the stopped run's leases lapse
        rerun = syncer(emu, 4).sync(cql=CQL)
    assert rerun.ok, rerun.errors
    assert 36 == len(emu.issues("OPS"))  # one issue per row: none created twice
    for page_id in ids:
        assert 3 == len(set(re.findall(r"OPS-\d+", emu.page(page_id)["storage"])))


@both_flavours
def test_two_pages_failing_at_once_are_both_reported(emu):
    ids = seed_corpus(emu, pages=8)
    broken = {ids[2], ids[5]}

    def gate(request: PendingRequest) -> None:
        if request.method == "PUT" and request.path.rsplit("/", 1)[-1] in broken:
            raise ConnectionAbortedError("the page write never arrives")

    emu.set_request_gate(gate)
    result = syncer(emu, 4).sync(cql=CQL)
    assert broken == {e.page_id for e in result.errors}
    assert all("writing back" in str(e) for e in result.errors)
    assert [p for p in ids if p not in broken] == list(result.pages_written)


@both_flavours
def test_an_interrupt_stops_the_workers_between_requests(emu, search_lag):
    """Ctrl-C while workers are busy: each finishes the request it is sending and stops;
    no page is written in part; the next run (leases lapsed) completes the sync."""
    ids = seed_corpus(emu, pages=12)
    before = {p: emu.page(p)["storage"] for p in ids}
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.append(len(emu.requests))
        raise KeyboardInterrupt

    start = dt.datetime.now(dt.UTC)
    with time_machine.travel(start, tick=True) as clock:
        runner = syncer(emu, 4)
        plan = runner.plan(cql=CQL)
        with pytest.raises(KeyboardInterrupt):
            runner.apply(plan, progress=interrupt)
        assert len(emu.requests) - seen[0] <= 4  # one request in flight per worker
        for page_id in ids:
            storage = emu.page(page_id)["storage"]
            linked = set(re.findall(r"OPS-\d+", storage))
            assert storage == before[page_id] or 3 == len(linked)
        clock.shift(dt.timedelta(minutes=20))
        emu.clear_requests()
        assert runner.sync(cql=CQL).ok  # the same syncer works again
    assert 36 == len(emu.issues("OPS"))
    for page_id in ids:
        assert 3 == len(set(re.findall(r"OPS-\d+", emu.page(page_id)["storage"])))


@both_flavours
def test_sixteen_workers_keep_a_connection_each(emu, caplog):
    """No "Connection pool is full": the clients' sessions get room for every worker."""
    seed_corpus(emu, pages=16, items=1)
    runner = syncer(emu, 16)
    for client in (runner.jira.http.client, runner.confluence.http.client):
        adapter = client.session.get_adapter(client.url)
        assert adapter.poolmanager.connection_pool_kw["maxsize"] >= 16
    with caplog.at_level("WARNING", logger="urllib3"):
        assert runner.sync(cql=CQL).ok
    assert [] == [r.getMessage() for r in caplog.records if "pool is full" in r.getMessage()]


@pytest.mark.parametrize("value", [0, 17, True, "4"])
def test_concurrency_outside_1_to_16_is_a_config_error(value):
    with pytest.raises(pmsync.ConfigError, match="concurrency"):
        pmsync.Config(project="OPS", concurrency=value)


class TestSharedPacing:
    """One :class:`Pacing` for every worker (pure: an injected sleep, no server)."""

    def test_a_429_holds_every_workers_next_request(self):
        slept: list[float] = []
        pacing = Pacing(sleep=slept.append)
        pacing.rate_limited("jira", 2.0)  # one worker met a 429 asking for 2 s
        other = threading.Thread(target=pacing.before, args=("jira", "GET", "rest/api/2/x"))
        other.start()
        other.join()
        pacing.before("confluence", "GET", "rest/api/space/SRE")  # another service: free
        assert 1 == len(slept)
        assert 1.5 < slept[0] <= 2.0

    def test_paced_workers_take_turns(self):
        """Near the limit, four workers asking at once are spaced one refill apart."""
        slept: list[float] = []
        pacing = Pacing(sleep=slept.append)
        low = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "5"}
        refill = {"X-RateLimit-FillRate": "10", "X-RateLimit-Interval-Seconds": "1"}
        pacing.after("jira", {**low, **refill}, cap=60)
        workers = [
            threading.Thread(target=pacing.before, args=("jira", "GET", "rest/api/2/x"))
            for _ in range(4)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert [0.1, 0.2, 0.3, 0.4] == pytest.approx(sorted(slept), abs=0.05)

    def test_a_stop_refuses_a_waiting_workers_request(self):
        pacing = Pacing(
            sleep=lambda _: pacing.stop(pmsync.QuotaExhaustedError("x", service="jira"))
        )
        pacing.rate_limited("jira", 1.0)
        with pytest.raises(pmsync.QuotaExhaustedError):
            pacing.before("jira", "GET", "rest/api/2/x")

    def test_an_interrupt_refuses_requests_until_resumed(self):
        pacing = Pacing()
        pacing.interrupt()
        with pytest.raises(pmsync.ServiceError, match="interrupted"):
            pacing.before("jira", "GET", "rest/api/2/x")
        pacing.resume()
        pacing.before("jira", "GET", "rest/api/2/x")
