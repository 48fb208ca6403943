"""CQL: parsing, evaluation, ordering, errors and injection safety (backend, no HTTP)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from pmsync.testing._confluence import ConfluenceBackend
from pmsync.testing._cql import CqlError, quote_cql
from pmsync.testing._users import Directory

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


class Site:
    """A Confluence backend with two spaces and a helper to search by CQL."""

    def __init__(self, flavour: str = "cloud") -> None:
        lock = threading.RLock()
        self.directory = Directory(lock)
        self.alice = self.directory.add(display_name="Alice Chen", email="alice@example.com")
        self.bob = self.directory.add(display_name="Bob Martinez", email="bob@example.com")
        self.confluence = ConfluenceBackend(lock, self.directory, flavour)  # type: ignore[arg-type]
        self.confluence.add_space("SRE")
        self.confluence.add_space("ENG")

    def add(
        self,
        title: str,
        storage: str = "<p/>",
        *,
        space: str = "SRE",
        labels: tuple[str, ...] = (),
        parent: str | None = None,
        author: str = "alice",
        content_type: str = "page",
    ) -> str:
        user = self.alice if author == "alice" else self.bob
        return self.confluence.create(
            space_key=space,
            title=title,
            storage=storage,
            labels=labels,
            parent_id=parent,
            author=user,
            content_type=content_type,
        ).id

    def ids(self, cql: str) -> list[str]:
        return [p.id for p in self.confluence.search(cql, current_user=self.alice)]


@pytest.fixture
def site() -> Site:
    return Site()


def test_type_space_and_label(site: Site) -> None:
    """type, space and label narrow the results."""
    pm = site.add("Outage", labels=("postmortem",))
    site.add("Notes")
    site.add("Eng outage", space="ENG", labels=("postmortem",))
    site.add("News", labels=("postmortem",), content_type="blogpost")
    assert [pm] == site.ids("type = page AND space = SRE AND label = postmortem")


def test_label_in_and_not_in(site: Site) -> None:
    """label IN matches any; label NOT IN excludes pages carrying one."""
    a = site.add("A", labels=("postmortem",))
    b = site.add("B", labels=("retro",))
    c = site.add("C")
    assert [a, b] == site.ids("label in (postmortem, retro)")
    assert [c] == site.ids("type = page AND label not in (postmortem, retro)")


def test_ancestor_and_parent(site: Site) -> None:
    """ancestor matches any depth below a page; parent only direct children."""
    root = site.add("Postmortems")
    child = site.add("2026", parent=root)
    grandchild = site.add("Outage", parent=child)
    assert [child, grandchild] == site.ids(f"ancestor = {root}")
    assert [child] == site.ids(f"parent = {root}")


def test_title_exact_and_contains(site: Site) -> None:
    """title = is an exact (case-insensitive) title; title ~ matches words."""
    outage = site.add("Checkout outage")
    site.add("Outage review")
    assert [outage] == site.ids('title = "checkout OUTAGE"')
    assert 2 == len(site.ids("title ~ outage"))
    assert [outage] == site.ids('title ~ "checkout"')


def test_text_searches_title_and_body(site: Site) -> None:
    """text ~ looks at the title and the body's text, not its markup."""
    body = site.add("A", "<p>The connection <strong>pool</strong> shrank</p>")
    title = site.add("Pool sizing")
    site.add("C", '<ac:structured-macro ac:name="pool" />')
    assert [body, title] == site.ids("text ~ pool")


def test_id_in_list(site: Site) -> None:
    """id IN (...) picks pages by id."""
    a, b, _ = site.add("A"), site.add("B"), site.add("C")
    assert [a, b] == site.ids(f"id in ({a}, {b})")


def test_creator_and_contributor(site: Site) -> None:
    """creator is who saved version 1; contributor anyone who saved a version."""
    mine = site.add("Mine")
    theirs = site.add("Theirs", author="bob")
    site.confluence.save_version(
        theirs, number=2, title=None, storage="<p>edited</p>", author=site.alice
    )
    assert [mine] == site.ids(f"creator = {site.alice.account_id}")
    assert [mine, theirs] == site.ids("contributor = currentUser()")


def test_lastmodified_and_created_compare_dates() -> None:
    """lastmodified and created compare with dates and now("-Nd")."""
    with time_machine.travel(NOW - dt.timedelta(days=10), tick=False) as clock:
        site = Site()
        old = site.add("Old")
        edited = site.add("Edited")
        clock.move_to(NOW)
        site.confluence.save_version(edited, number=2, title=None, storage="<p/>", author=None)
        fresh = site.add("Fresh")
        assert [edited, fresh] == site.ids('lastmodified > now("-2d")')
        assert [old] == site.ids('lastmodified < "2026-11-25"')
        assert [old, edited] == site.ids("created <= 2026/11/22")
        assert [fresh] == site.ids("created >= startOfDay()")


def test_and_or_not_and_parentheses(site: Site) -> None:
    """AND binds tighter than OR; NOT negates; parentheses group."""
    a = site.add("A", labels=("x",))
    b = site.add("B", labels=("y",))
    c = site.add("C", labels=("y", "z"))
    assert [a, c] == site.ids("label = x OR label = y AND label = z")
    assert [c] == site.ids("(label = x OR label = y) AND label = z")
    assert [b] == site.ids("label = y AND NOT label = z")


def test_infix_not(site: Site) -> None:
    """CQL's ``a NOT b`` means a AND NOT b."""
    site.add("A", labels=("postmortem", "draft"))
    final = site.add("B", labels=("postmortem",))
    assert [final] == site.ids("label = postmortem NOT label = draft")


def test_order_by(site: Site) -> None:
    """ORDER BY title, id and dates, ascending or descending."""
    b = site.add("Bravo")
    a = site.add("alpha")
    c = site.add("Charlie")
    assert [a, b, c] == site.ids("type = page ORDER BY title")
    assert [c, a, b] == site.ids("type = page ORDER BY id DESC")
    assert [b, a, c] == site.ids("type = page ORDER BY created ASC")


def test_default_order_is_creation_order(site: Site) -> None:
    """Without ORDER BY pages come in creation order."""
    ids = [site.add(f"P{n}") for n in range(4)]
    assert ids == site.ids("type = page")


@pytest.mark.parametrize(
    "cql",
    [
        "",
        "type = page AND",
        "type = page AND (label = x",
        "favourite = yes",
        "label ~ x",
        "type = widget",
        "type = page ORDER BY favourite",
        'title = "unterminated',
        "label = and",
        "ORDER BY title",
    ],
)
def test_bad_queries_fail(site: Site, cql: str) -> None:
    """Malformed or unsupported CQL fails the whole query."""
    site.add("A")
    with pytest.raises(CqlError):
        site.ids(cql)


def test_error_messages_quote_the_query(site: Site) -> None:
    """Errors say 'Could not parse cql' with the query, as Confluence does."""
    with pytest.raises(CqlError, match=r"^Could not parse cql : favourite = yes"):
        site.ids("favourite = yes")


@pytest.mark.parametrize(
    "hostile",
    ['" OR type = page OR title = "', "x) OR (space = ENG", 'a\\" OR label = postmortem'],
)
def test_quoted_hostile_titles_never_widen_a_query(site: Site, hostile: str) -> None:
    """A quoted title stays one value."""
    site.add("A", labels=("postmortem",))
    site.add("B", space="ENG")
    assert [] == site.ids(f"space = SRE AND title = {quote_cql(hostile)}")


@settings(max_examples=100, deadline=None)
@given(
    text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
)
def test_quoted_titles_round_trip(text: str) -> None:
    """Quoting any title finds exactly that page."""
    if not text.strip():
        return
    site = Site()
    try:
        target = site.add(text)
    except Exception:
        return
    site.add(text + " (copy)")
    assert [target] == site.ids(f"title = {quote_cql(text)}")
