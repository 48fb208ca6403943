"""Date-range searches (``updated >=`` in JQL, ``lastmodified >=`` in CQL) answered from the
emulator's index of changes, not a scan, and the same as a scan would be (backend, no HTTP)."""

from __future__ import annotations

import datetime as dt
import threading

import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from pmsync.testing._confluence import ConfluenceBackend
from pmsync.testing._cql import compile_cql
from pmsync.testing._jira import JiraBackend
from pmsync.testing._jql import compile_jql
from pmsync.testing._users import Directory

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
MINUTES = st.integers(min_value=-600, max_value=600)
#: The fields of a new issue these tests leave empty.
_UNSET: dict = dict.fromkeys(
    ("description", "assignee", "reporter", "duedate", "priority", "properties", "issuetype")
) | {"labels": ("pmsync",), "components": ()}


def _jira() -> tuple[JiraBackend, object]:
    lock = threading.RLock()
    directory = Directory(lock)
    me = directory.add(display_name="pmsync", email="pmsync@example.com")
    jira = JiraBackend(lock, directory, "cloud")
    jira.add_project("OPS", "Operations")
    return jira, me


def _confluence() -> tuple[ConfluenceBackend, object]:
    lock = threading.RLock()
    directory = Directory(lock)
    me = directory.add(display_name="pmsync", email="pmsync@example.com")
    confluence = ConfluenceBackend(lock, directory, "cloud")
    confluence.add_space("SRE")
    return confluence, me


def _when(minutes: int) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M")


@settings(max_examples=40, deadline=None)
@given(
    writes=st.lists(st.tuples(MINUTES, st.integers(0, 5), st.booleans()), max_size=25),
    since=MINUTES,
)
def test_jql_updated_since_finds_what_a_scan_finds(writes, since):
    """Issues created, edited, moved or backdated at any moments, in any order: the
    issues ``updated >=`` a moment are exactly those whose ``updated`` is at or after it."""
    jira, me = _jira()
    keys: list[str] = []
    with time_machine.travel(T0, tick=False) as clock:
        for minutes, which, move in writes:
            clock.move_to(T0 + dt.timedelta(minutes=minutes))
            if which >= len(keys):
                created = T0 + dt.timedelta(minutes=minutes - 30) if move else None
                issue = jira.human_create(
                    "OPS", summary="x", status="To Do", created=created, **_UNSET
                )
                keys.append(issue.key)
            elif move:
                jira.human_transition(keys[which], "Done")
            else:
                jira.human_edit(keys[which], {"summary": f"edited at {minutes}"})
        query = f'project = OPS AND labels = pmsync AND updated >= "{_when(since)}"'
        assert compile_jql(query, jira, current_user=None).since is not None
        _, found = jira.search(query, current_user=me)  # type: ignore[arg-type]
        bound = dt.datetime.strptime(_when(since), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
        expected = {k for k in keys if jira.issue(k).updated >= bound}
        assert expected == {issue.key for issue in found}


@settings(max_examples=40, deadline=None)
@given(writes=st.lists(st.tuples(MINUTES, st.integers(0, 5)), max_size=25), since=MINUTES)
def test_cql_lastmodified_since_finds_what_a_scan_finds(writes, since):
    """Pages created and edited at any moments: ``lastmodified >=`` finds exactly those
    whose current version is at or after the moment."""
    confluence, me = _confluence()
    ids: list[str] = []
    with time_machine.travel(T0, tick=False) as clock:
        for minutes, which in writes:
            clock.move_to(T0 + dt.timedelta(minutes=minutes))
            if which >= len(ids):
                page = confluence.create(
                    space_key="SRE", title=f"Page {len(ids)}", storage="<p/>", labels=("pm",)
                )
                ids.append(page.id)
            else:
                confluence.save_version(
                    ids[which], number=None, title=None, storage=f"<p>{minutes}</p>", author=None
                )
        query = f'label = "pm" AND lastmodified >= "{_when(since)}"'
        assert compile_cql(query, confluence, current_user=None).since is not None
        found = confluence.search(query, current_user=me)  # type: ignore[arg-type]
        bound = dt.datetime.strptime(_when(since), "%Y-%m-%d %H:%M").replace(tzinfo=dt.UTC)
        expected = {i for i in ids if confluence.page(i).last_modified >= bound}
        assert expected == {page.id for page in found}


def test_a_date_under_or_or_not_bounds_nothing():
    """Only a date every match must meet narrows the search: one under OR or NOT does not."""
    jira, _ = _jira()
    confluence, _ = _confluence()
    assert (
        compile_jql(f'labels = x OR updated >= "{_when(0)}"', jira, current_user=None).since is None
    )
    assert compile_jql(f'NOT updated >= "{_when(0)}"', jira, current_user=None).since is None
    cql = f'label = "pm" AND (lastmodified >= "{_when(0)}" OR id in (1, 2))'
    assert compile_cql(cql, confluence, current_user=None).since is None
    both = f'updated >= "{_when(0)}" AND (project = OPS AND updated > "{_when(5)}")'
    assert T0 + dt.timedelta(minutes=5) == compile_jql(both, jira, current_user=None).since


def test_a_trashed_page_is_not_found_by_date():
    """A page changed in the range but trashed since is not found."""
    confluence, me = _confluence()
    with time_machine.travel(T0, tick=False):
        kept = confluence.create(space_key="SRE", title="Kept", storage="<p/>", labels=("pm",))
        gone = confluence.create(space_key="SRE", title="Gone", storage="<p/>", labels=("pm",))
        confluence.trash(gone.id)
        found = confluence.search(
            f'label = "pm" AND lastmodified >= "{_when(-1)}"', current_user=me
        )  # type: ignore[arg-type]
    assert [kept.id] == [p.id for p in found]
