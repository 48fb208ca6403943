"""The cursor as a value and the date clauses it puts into CQL and JQL. Pure."""

from __future__ import annotations

import datetime as dt

import pytest

from pmsync._cursor import Cursor, cql_since, cursor_key, jql_since

MOMENT = dt.datetime(2026, 12, 4, 21, 34, 59, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("cloud", "expected"),
    [(True, 'lastmodified >= "2026-12-04 21:34"'), (False, 'lastmodified >= "2026/12/04 21:34"')],
)
def test_cql_date_format_per_deployment(cloud: bool, expected: str) -> None:
    """Cloud is written yyyy-MM-dd HH:mm, Server/DC yyyy/MM/dd HH:mm, floored to the minute."""
    assert expected == cql_since(MOMENT, "UTC", cloud=cloud)


@pytest.mark.parametrize(
    ("cloud", "expected"),
    [(True, 'updated >= "2026-12-04 21:34"'), (False, 'updated >= "2026/12/04 21:34"')],
)
def test_jql_date_format_per_deployment(cloud: bool, expected: str) -> None:
    assert expected == jql_since(MOMENT, "UTC", cloud=cloud)


def test_dates_are_written_in_the_accounts_time_zone() -> None:
    """Jira and Confluence read date values in the searching account's time zone."""
    assert 'updated >= "2026-12-04 16:34"' == jql_since(MOMENT, "America/New_York")


def test_an_unknown_time_zone_is_read_as_utc() -> None:
    assert 'updated >= "2026-12-04 21:34"' == jql_since(MOMENT, "Mars/Olympus")


def test_cursors_are_named_per_configuration() -> None:
    """Another project, label or page query is another cursor."""
    names = {
        cursor_key("OPS", "pmsync", "label = a"),
        cursor_key("OPS", "pmsync", "label = b"),
        cursor_key("SRE", "pmsync", "label = a"),
        cursor_key("OPS", "other", "label = a"),
    }
    assert len(names) == 4


def test_a_cursor_survives_its_stored_form() -> None:
    start = Cursor(since=MOMENT, full_at=MOMENT)
    cursor = start.advanced(
        started=MOMENT + dt.timedelta(minutes=15),
        ended=MOMENT + dt.timedelta(minutes=16),
        margin=dt.timedelta(minutes=5),
        written={"123": 2, "456": 7},
        pending={"789"},
        full=False,
        zones={"jira": "Europe/Paris"},
        priorities=frozenset({"High", "Low"}),
    )
    assert cursor == Cursor.from_json(cursor.to_json())
    assert cursor.since == MOMENT + dt.timedelta(minutes=10)
    assert cursor.own_version("456") == 7


def test_own_writes_are_forgotten_once_older_than_the_window() -> None:
    """The next run cannot meet a write made before its window starts."""
    first = Cursor(since=MOMENT, full_at=MOMENT).advanced(
        started=MOMENT,
        ended=MOMENT + dt.timedelta(minutes=1),
        margin=dt.timedelta(minutes=5),
        written={"123": 2},
        pending=(),
        full=True,
    )
    later = first.advanced(
        started=MOMENT + dt.timedelta(minutes=20),
        ended=MOMENT + dt.timedelta(minutes=21),
        margin=dt.timedelta(minutes=5),
        written={},
        pending=(),
        full=False,
    )
    assert first.own_version("123") == 2
    assert later.own_version("123") is None


def test_a_property_keeps_a_bounded_number_of_own_writes() -> None:
    """Confluence caps a property at 32 kB: the newest writes are kept, the rest re-read."""
    cursor = Cursor(since=MOMENT, full_at=MOMENT).advanced(
        started=MOMENT,
        ended=MOMENT,
        margin=dt.timedelta(),
        written={str(100000 + n): 2 for n in range(50)},
        pending=(),
        full=True,
    )
    stored = Cursor.from_json(cursor.to_json(own_limit=10))
    assert stored is not None
    assert sum(len(w.pages) for w in stored.own) == 10


def test_an_unreadable_cursor_is_no_cursor() -> None:
    assert Cursor.from_json({"v": 1, "since": "yesterday"}) is None
