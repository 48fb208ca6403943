"""JQL: parsing, validation with Jira's messages, evaluation, ordering and injection safety.

These tests drive the Jira backend directly (no HTTP), which keeps them fast; the wire
is covered in test_jira_api.py.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
import requests
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from pmsync.testing import Emulator
from pmsync.testing._jira import JiraBackend
from pmsync.testing._jql import JqlError, quote_jql
from pmsync.testing._users import Directory, User

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


class Site:
    """A Jira backend with a project, two users and a helper to search by JQL."""

    def __init__(self, flavour: str = "cloud") -> None:
        lock = threading.RLock()
        self.directory = Directory(lock)
        self.me = self.directory.add(display_name="pmsync", email="pmsync@example.com")
        self.alice = self.directory.add(display_name="Alice Chen", email="alice@example.com")
        self.bob = self.directory.add(display_name="Bob Martinez", email="bob@example.com")
        self.jira = JiraBackend(lock, self.directory, flavour)  # type: ignore[arg-type]
        self.jira.add_project(
            "OPS",
            "Operations",
            components=("API", "Database"),
            custom_fields={"customfield_10010": "Team"},
        )
        self.jira.add_project("WEB", "Website")

    def ref(self, user: User) -> str:
        return user.account_id if self.jira.flavour == "cloud" else user.username

    def add(self, project: str = "OPS", **kwargs: Any) -> str:
        defaults: dict[str, Any] = {
            "summary": "An item",
            "description": None,
            "assignee": None,
            "reporter": None,
            "duedate": None,
            "priority": None,
            "status": "To Do",
            "labels": (),
            "properties": None,
            "components": (),
            "created": None,
            "issuetype": None,
        }
        defaults.update(kwargs)
        return self.jira.human_create(project, **defaults).key

    def keys(self, jql: str) -> list[str]:
        _, issues = self.jira.search(jql, current_user=self.me)
        return [i.key for i in issues]

    def sorted_keys(self, jql: str) -> list[str]:
        return sorted(self.keys(jql), key=lambda k: (k.split("-")[0], int(k.split("-")[1])))


@pytest.fixture
def site() -> Site:
    return Site()


# -- fields -------------------------------------------------------------------------------


def test_project_by_key_name_or_id(site: Site) -> None:
    """project matches a key (any case), the project name or its id."""
    ops, web = site.add("OPS"), site.add("WEB")
    assert [ops] == site.keys("project = ops")
    assert [ops] == site.keys('project = "Operations"')
    assert [web] == site.keys(f"project = {site.jira.project('WEB').id}")  # type: ignore[union-attr]
    assert [ops, web] == site.sorted_keys("project in (OPS, WEB)")


def test_unknown_project_is_an_error(site: Site) -> None:
    """A project that does not exist fails the query with Jira's message."""
    with pytest.raises(
        JqlError, match=r"^The value 'NOPE' does not exist for the field 'project'\.$"
    ):
        site.keys("project = NOPE")


def test_key_and_its_aliases(site: Site) -> None:
    """key, issuekey and issue name issues; key IN lists several."""
    first, second, _ = site.add(), site.add(), site.add()
    assert [first] == site.keys(f"key = {first}")
    assert [second] == site.keys(f"issuekey = {second.lower()}")
    assert [first, second] == site.sorted_keys(f"issue in ({first}, {second})")


def test_key_of_a_missing_issue_is_an_error(site: Site) -> None:
    """Jira refuses a key that does not exist rather than matching nothing."""
    site.add()
    with pytest.raises(JqlError, match="An issue with key 'OPS-9' does not exist"):
        site.keys("key = OPS-9")


def test_malformed_key_is_an_error(site: Site) -> None:
    """A value that is not a key is refused."""
    with pytest.raises(JqlError, match="issue key 'not-a key'"):
        site.keys('key = "not-a key"')


def test_key_does_not_support_comparisons(site: Site) -> None:
    """Only equality operators work on key here."""
    with pytest.raises(JqlError, match=r"The operator '~' is not supported by the 'key' field\."):
        site.keys("key ~ OPS")


def test_labels_match_case_insensitively(site: Site) -> None:
    """labels = X matches the label whatever its case."""
    tagged = site.add(labels=["PMSync"])
    site.add(labels=["other"])
    assert [tagged] == site.keys("labels = pmsync")


def test_labels_not_equal_skips_unlabelled_issues(site: Site) -> None:
    """Jira's quirk: != and NOT IN never match an empty field."""
    other = site.add(labels=["other"])
    site.add(labels=["pmsync"])
    site.add()
    assert [other] == site.keys("labels != pmsync")
    assert [other] == site.keys("labels not in (pmsync)")


def test_not_clause_does_include_empty_fields(site: Site) -> None:
    """NOT (labels = x) is a plain negation and includes unlabelled issues."""
    other = site.add(labels=["other"])
    site.add(labels=["pmsync"])
    bare = site.add()
    assert [other, bare] == site.sorted_keys("NOT labels = pmsync")


def test_is_empty_and_is_not_empty(site: Site) -> None:
    """IS EMPTY / IS NOT EMPTY test for a missing value."""
    tagged = site.add(labels=["x"])
    bare = site.add()
    assert [bare] == site.keys("labels is EMPTY")
    assert [tagged] == site.keys("labels IS NOT empty")
    assert [bare] == site.keys("labels = EMPTY")
    assert [tagged, bare] == site.sorted_keys("labels in (x, EMPTY)")


def test_status_by_name_and_category(site: Site) -> None:
    """status matches names; statusCategory matches category names and keys."""
    todo = site.add()
    doing = site.add(status="In Progress")
    review = site.add(status="In Review")
    done = site.add(status="Done")
    assert [doing] == site.keys('status = "in progress"')
    assert [todo, done] == site.sorted_keys('status in ("To Do", Done)')
    assert [doing, review] == site.sorted_keys('statusCategory = "In Progress"')
    assert [done] == site.keys("statusCategory = done")
    assert [todo, doing, review] == site.sorted_keys("statusCategory != Done")


def test_unknown_status_is_an_error(site: Site) -> None:
    """A status name no workflow has fails the query."""
    with pytest.raises(
        JqlError, match=r"The value 'Closed' does not exist for the field 'status'\."
    ):
        site.keys("status = Closed")


def test_unknown_status_category_is_an_error(site: Site) -> None:
    """statusCategory only knows To Do, In Progress and Done."""
    with pytest.raises(JqlError, match="does not exist"):
        site.keys("statusCategory = Blocked")


def test_assignee_by_account_id_and_email(site: Site) -> None:
    """Cloud names users by account id (or email)."""
    mine = site.add(assignee=site.alice.account_id)
    site.add(assignee=site.bob.account_id)
    site.add()
    assert [mine] == site.keys(f'assignee = "{site.alice.account_id}"')
    assert [mine] == site.keys('assignee = "alice@example.com"')


def test_server_assignee_by_username() -> None:
    """Server names users by username (or key)."""
    site = Site("server")
    mine = site.add(assignee=site.alice.username)
    assert [mine] == site.keys("assignee = alice")
    assert [mine] == site.keys(f"assignee = {site.alice.user_key}")


def test_assignee_empty_and_current_user(site: Site) -> None:
    """assignee IS EMPTY finds unassigned issues; currentUser() is the caller."""
    mine = site.add(assignee=site.me.account_id)
    nobody = site.add()
    assert [nobody] == site.keys("assignee is EMPTY")
    assert [mine] == site.keys("assignee = currentUser()")
    assert [mine, nobody] == site.sorted_keys("assignee in (currentUser(), EMPTY)")


def test_unknown_user_is_an_error(site: Site) -> None:
    """A user that does not exist fails the query."""
    with pytest.raises(
        JqlError, match=r"The value 'ghost' does not exist for the field 'assignee'\."
    ):
        site.keys("assignee = ghost")


def test_priority_compares_by_importance(site: Site) -> None:
    """priority > Medium means more important than Medium."""
    highest = site.add(priority="Highest")
    high = site.add(priority="High")
    medium = site.add(priority="Medium")
    low = site.add(priority="Low")
    assert [highest, high] == site.sorted_keys("priority > Medium")
    assert [medium, low] == site.sorted_keys("priority <= Medium")
    assert [high, low] == site.sorted_keys("priority in (High, 4)")


def test_unknown_priority_is_an_error(site: Site) -> None:
    """Priorities other than Jira's five fail the query."""
    with pytest.raises(JqlError, match="does not exist for the field 'priority'"):
        site.keys("priority = urgent")


def test_summary_contains_words(site: Site) -> None:
    """summary ~ matches words, any case; * matches a word's end."""
    alert = site.add(summary="Add alerting on p99 latency")
    site.add(summary="Write a runbook")
    assert [alert] == site.keys('summary ~ "LATENCY"')
    assert [alert] == site.keys("summary ~ alert*")
    assert [] == site.keys("summary ~ alert")


def test_summary_phrase_search(site: Site) -> None:
    """A quoted phrase inside the string must appear in order."""
    hit = site.add(summary="Roll back failed deploys")
    site.add(summary="Deploys failed, roll back")
    assert [hit] == site.keys('summary ~ "\\"failed deploys\\""')


def test_summary_does_not_support_equality(site: Site) -> None:
    """Jira's exact message for = on a text field."""
    with pytest.raises(
        JqlError, match=r"^The operator '=' is not supported by the 'summary' field\.$"
    ):
        site.keys("summary = test")


def test_text_searches_summary_description_and_comments(site: Site) -> None:
    """text ~ looks at the summary, the description and the comments."""
    in_description = site.add(description="The pool was exhausted")
    in_comment = site.add()
    site.jira.add_comment(in_comment, {"body": "pool size restored"}, api_version=2, actor=None)
    assert [in_description, in_comment] == site.sorted_keys("text ~ pool")
    assert [in_comment] == site.keys("comment ~ restored")


def test_component_and_resolution(site: Site) -> None:
    """component matches names; resolution = Unresolved finds open issues."""
    api = site.add(components=["API"])
    done = site.add(status="Done")
    assert [api] == site.keys("component = api")
    assert [done] == site.keys("resolution = Done")
    assert [api] == site.keys("resolution = Unresolved AND component is not EMPTY")


def test_custom_fields_by_cf_or_id(site: Site) -> None:
    """cf[10010] and customfield_10010 name the same declared custom field."""
    sre = site.add()
    site.jira.human_edit(sre, {"customfield_10010": {"value": "SRE"}})
    site.add()
    assert [sre] == site.keys("cf[10010] = SRE")
    assert [sre] == site.keys("customfield_10010 is not EMPTY")


def test_undeclared_custom_field_is_an_error(site: Site) -> None:
    """A custom field no project declares does not exist."""
    with pytest.raises(JqlError, match="Field 'cf\\[99999\\]' does not exist"):
        site.keys("cf[99999] = x")


def test_entity_property_path_comparison(site: Site) -> None:
    """issue.property[KEY].path = value compares a value inside the property."""
    mine = site.add(
        properties={"pmsync": {"v": 1, "page_id": "123", "base": {"due": "2026-12-04"}}}
    )
    site.add(properties={"pmsync": {"v": 1, "page_id": "456"}})
    site.add()
    assert [mine] == site.keys('issue.property[pmsync].page_id = "123"')
    assert [mine] == site.keys('issue.property[pmsync].base.due = "2026-12-04"')
    assert 2 == len(site.keys("issue.property[pmsync].v = 1"))
    assert 1 == len(site.keys("issue.property[pmsync].page_id is EMPTY"))


def test_entity_property_numbers_compare_numerically(site: Site) -> None:
    """Numeric property values compare as numbers."""
    small = site.add(properties={"p": {"n": 9}})
    big = site.add(properties={"p": {"n": 10}})
    assert [big] == site.keys("issue.property[p].n > 9")
    assert [small] == site.keys("issue.property[p].n < 9.5")


def test_unknown_field_is_an_error(site: Site) -> None:
    """An unknown field fails the query with Jira's message."""
    with pytest.raises(
        JqlError,
        match=r"^Field 'universe' does not exist or you do not have permission to view it\.$",
    ):
        site.keys("project = OPS AND universe = 42")


# -- dates --------------------------------------------------------------------------------


def test_due_date_relative_to_now() -> None:
    """duedate < now() finds overdue issues; periods like 3d look ahead."""
    with time_machine.travel(NOW, tick=False):
        site = Site()
        overdue = site.add(duedate="2026-11-20")
        soon = site.add(duedate="2026-12-03")
        site.add(duedate="2027-01-15")
        site.add()
        assert [overdue] == site.keys("duedate < now()")
        assert [soon] == site.keys("duedate >= startOfDay() AND duedate <= 3d")
        assert [overdue] == site.keys("due <= -1w")


def test_date_literals_in_every_format(site: Site) -> None:
    """yyyy-MM-dd, yyyy/MM/dd and with HH:mm are all dates."""
    due = site.add(duedate="2026-12-04")
    assert [due] == site.keys('duedate = "2026-12-04"')
    assert [due] == site.keys('duedate = "2026/12/04"')
    assert [due] == site.keys('duedate <= "2026-12-04 00:00"')


def test_created_and_updated_windows() -> None:
    """created and updated compare with datetimes, periods and functions."""
    with time_machine.travel(NOW, tick=False) as clock:
        site = Site()
        old = site.add(created=NOW - dt.timedelta(days=10))
        clock.shift(dt.timedelta(hours=1))
        fresh = site.add()
        assert [fresh] == site.keys("created >= -1d")
        assert [old] == site.keys("created < startOfDay(-1)")
        site.jira.human_edit(old, {"summary": "touched"})
        assert [old, fresh] == site.sorted_keys("updated >= startOfDay()")
        assert [old, fresh] == site.sorted_keys("updated > -2h")


def test_end_of_week_and_month_functions() -> None:
    """endOfWeek() and startOfMonth() anchor to calendar periods."""
    with time_machine.travel(NOW, tick=False):  # a Tuesday
        site = Site()
        this_week = site.add(duedate="2026-12-05")
        next_week = site.add(duedate="2026-12-07")
        assert [this_week] == site.keys("duedate <= endOfWeek()")
        assert [this_week, next_week] == site.sorted_keys("duedate >= startOfMonth()")
        assert [next_week] == site.keys("duedate > endOfWeek() AND duedate <= endOfWeek(1)")


def test_resolved_date(site: Site) -> None:
    """resolved (resolutiondate) is set on done issues only."""
    done = site.add(status="Done")
    site.add()
    assert [done] == site.keys("resolved is not EMPTY")


def test_invalid_date_is_an_error_with_the_formats(site: Site) -> None:
    """A date Jira cannot read fails with the list of valid formats."""
    with pytest.raises(JqlError, match="Date value 'tomorrow' for field 'duedate' is invalid"):
        site.keys("duedate < tomorrow")


def test_unknown_function_is_an_error(site: Site) -> None:
    """A function Jira does not know fails the query."""
    with pytest.raises(JqlError, match=r"Unable to find JQL function 'membersOf\(ops\)'"):
        site.keys("assignee in (membersOf(ops))")


# -- boolean structure --------------------------------------------------------------------


def test_and_binds_tighter_than_or(site: Site) -> None:
    """a OR b AND c is a OR (b AND c)."""
    a = site.add(labels=["a"])
    site.add(labels=["b"])
    bc = site.add(labels=["b", "c"])
    assert [a, bc] == site.sorted_keys("labels = a OR labels = b AND labels = c")
    assert [bc] == site.sorted_keys("(labels = a OR labels = b) AND labels = c")


def test_symbol_operators(site: Site) -> None:
    """&&, || and ! work like AND, OR and NOT."""
    a = site.add(labels=["a"])
    b = site.add(labels=["b"])
    assert [a, b] == site.sorted_keys("labels = a || labels = b")
    assert [] == site.keys("labels = a && labels = b")
    assert [b] == site.keys("project = OPS && !labels = a")


# -- ordering -----------------------------------------------------------------------------


def test_default_order_is_newest_first(site: Site) -> None:
    """Without ORDER BY issues come newest first (key descending)."""
    first, second, third = site.add(), site.add(), site.add()
    assert [third, second, first] == site.keys("project = OPS")


def test_order_by_key_and_numbers(site: Site) -> None:
    """Keys sort by number, not as text (OPS-10 after OPS-9)."""
    keys = [site.add() for _ in range(10)]
    assert keys == site.keys("project = OPS ORDER BY key ASC")
    assert keys[::-1] == site.keys("project = OPS ORDER BY issuekey DESC")


def test_order_by_due_date_puts_empty_last(site: Site) -> None:
    """Ascending order puts issues without a due date last."""
    late = site.add(duedate="2026-12-20")
    none = site.add()
    early = site.add(duedate="2026-12-01")
    assert [early, late, none] == site.keys("project = OPS ORDER BY duedate ASC")
    assert [none, late, early] == site.keys("project = OPS ORDER BY duedate DESC")


def test_order_by_several_fields(site: Site) -> None:
    """Later sort keys break ties of earlier ones."""
    a = site.add(priority="High", duedate="2026-12-05")
    b = site.add(priority="High", duedate="2026-12-01")
    c = site.add(priority="Low", duedate="2026-11-01")
    assert [b, a, c] == site.keys("project = OPS ORDER BY priority DESC, duedate ASC")


def test_order_by_unknown_field_is_an_error(site: Site) -> None:
    """Sorting by a field that does not exist fails."""
    with pytest.raises(JqlError, match="Field 'universe' does not exist"):
        site.keys("project = OPS ORDER BY universe")


# -- syntax -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("jql", "message"),
    [
        ("project OPS", "Expecting operator but got 'OPS'. The valid operators are"),
        ("project = OPS AND", "Expecting a field name but reached the end of the query."),
        ("project = OPS labels = x", "Expecting either 'OR' or 'AND' but got 'labels'."),
        ("(project = OPS", "Expecting ')' but reached the end of the query."),
        ('summary ~ "unterminated', "Missing closing quote"),
        ('summary ~ "bad \\q escape"', "illegal JQL escape sequence"),
        ("labels = and", "'and' is a reserved JQL word"),
        ("summary in test", "Operator 'in' does not support the non-list value 'test'"),
        ("status was Done", "'WAS' is not supported"),
        ("labels = a & labels = b", "'&' is a reserved JQL character"),
    ],
)
def test_syntax_errors_read_like_jira(site: Site, jql: str, message: str) -> None:
    """Malformed queries fail with Jira-style messages and a character position."""
    with pytest.raises(JqlError, match=r"^Error in the JQL Query: ") as caught:
        site.keys(jql)
    assert message in str(caught.value)
    assert "(line 1, character" in str(caught.value)


def test_string_escapes_are_decoded(site: Site) -> None:
    """\\", \\\\, \\n and \\u escapes produce the characters they stand for."""
    hit = site.add(properties={"p": {"s": 'say "hi"\\ok\u00e9'}})
    assert [hit] == site.keys('issue.property[p].s = "say \\"hi\\"\\\\ok\\u00e9"')


# -- injection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        '" OR project = WEB OR summary ~ "',
        "' OR labels is EMPTY OR '",
        'x") OR (project = WEB',
        '\\" OR key = WEB-1 OR \\"',
        "OR",
        "*",
        'a" ORDER BY key',
    ],
)
def test_quoted_hostile_text_never_widens_a_query(site: Site, hostile: str) -> None:
    """User text quoted with quote_jql stays one value, whatever it contains."""
    ops = site.add(summary="An OPS item")
    site.add("WEB", summary="A web item")
    jql = f"project = OPS AND summary ~ {quote_jql(hostile)}"
    assert set(site.keys(jql)) <= {ops}


@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=1, max_size=40))
def test_quoted_property_values_round_trip(text: str) -> None:
    """For any text, quoting it in JQL matches exactly the issue holding that text."""
    site = Site()
    target = site.add(properties={"p": {"v": text}})
    site.add(properties={"p": {"v": text + "x"}})
    site.add(properties={"p": {"v": "other"}})
    assert [target] == site.keys(f"issue.property[p].v = {quote_jql(text)}")


# -- indexed entity properties ------------------------------------------------------------


def test_only_indexed_properties_are_searchable_when_the_site_says_so() -> None:
    """With indexed_properties set, other property paths do not exist for JQL, as in Jira."""
    site = Site()
    site.jira.indexed_properties = frozenset({"pmsync.page_id"})
    hit = site.add(properties={"pmsync": {"page_id": "1", "item_id": "a"}})
    assert [hit] == site.keys('issue.property[pmsync].page_id = "1"')
    with pytest.raises(JqlError, match=r"Field 'issue.property\[pmsync\].item_id' does not exist"):
        site.keys('issue.property[pmsync].item_id = "a"')


def test_emulator_option_indexes_no_property_at_all() -> None:
    """Emulator(indexed_properties=()) makes every property search fail over HTTP too."""
    with Emulator("cloud", indexed_properties=()) as emu:
        emu.add_project("OPS")
        with pytest.raises(requests.HTTPError, match="does not exist"):
            emu.jira().jql('issue.property[pmsync].page_id = "1"')
