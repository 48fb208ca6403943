"""The emulator's CQL: parse a Confluence query, validate it, and run it over pages.

Supported fields: ``type``, ``space`` (``space.key``), ``label``, ``ancestor``, ``parent``,
``id`` (``content``), ``title``, ``text``, ``created``, ``lastmodified``, ``creator`` and
``contributor``; operators ``= != ~ !~ < <= > >= IN NOT IN``; ``AND``, ``OR``, ``NOT``
(both ``NOT a`` and CQL's infix ``a NOT b``); parentheses; quoted values with escapes;
dates as ``2026-01-31``, ``2026/01/31 10:00``, ``now("-2d")``, ``startOfDay()``...;
``currentUser()``; ``ORDER BY created|lastmodified|title|id [ASC|DESC]``.

Anything else is rejected with a 400, never ignored, so a query cannot widen silently.
Pure: no I/O; the clock comes from :func:`pmsync.testing._clock.now`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from pmsync.testing._clock import now
from pmsync.testing._querylang import (
    Clause,
    Empty,
    Function,
    Literal,
    Operand,
    QuerySyntaxError,
    SortKey,
    ValueList,
    compare_to,
    compile_tree,
    conjunct_bound,
    parse_moment,
    parse_period,
    parse_query,
    start_of,
)

if TYPE_CHECKING:
    from pmsync.testing._confluence import Page
    from pmsync.testing._users import User

__all__ = ["CompiledCql", "CqlError", "CqlScope", "compile_cql", "quote_cql"]

RESERVED_WORDS = ("and", "or", "not", "empty", "null", "order", "by", "in", "is")
_TYPES = frozenset({"page", "blogpost", "comment", "attachment", "space", "user"})
_EQUALITY = frozenset({"=", "!=", "in", "not in"})
_ORDERED = frozenset({"=", "!=", "<", "<=", ">", ">="})
_PERIOD_UNITS = "wdhmy"
_SORTABLE = {"created", "lastmodified", "title", "id"}
_WORD = re.compile(r"\w+", re.UNICODE)
_TAG = re.compile(r"<[^>]+>")


class CqlError(Exception):
    """The query is malformed or uses what the emulator does not support (a 400)."""


class CqlScope(Protocol):
    """What CQL evaluation needs to know about the site."""

    def cql_user(self, value: str) -> User | None:
        """The user a CQL user value names in this flavour."""
        ...

    def cql_ancestors(self, page: Page) -> list[str]:
        """Ids of the page's ancestors."""
        ...


Predicate = Callable[["Page"], bool]


def quote_cql(value: str) -> str:
    """Quote ``value`` as a CQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@attrs.frozen
class CompiledCql:
    """A validated query: ``matches(page)`` and ``sort(pages)``."""

    matches: Predicate
    order_by: tuple[SortKey, ...]
    #: Every match was modified at or after this moment (a top-level ``lastmodified >=``).
    since: dt.datetime | None = None

    def sort(self, pages: Sequence[Page]) -> list[Page]:
        """Order ``pages`` as asked; creation order (id ascending) by default."""
        result = sorted(pages, key=lambda p: int(p.id))
        for key in reversed(self.order_by):
            field = key.field.lower()

            def value(page: Page, f: str = field) -> Any:
                if f == "created":
                    return page.created
                if f == "lastmodified":
                    return page.last_modified
                if f == "title":
                    return page.title.lower()
                return int(page.id)

            result.sort(key=value, reverse=key.descending)
        return result


def compile_cql(text: str, scope: CqlScope, *, current_user: User | None) -> CompiledCql:
    """Parse and validate ``text``; raise :class:`CqlError` with Confluence's message."""
    if not text or not text.strip():
        raise CqlError("CQL was not provided: the cql parameter is required.")
    try:
        query = parse_query(text, language="CQL", reserved_words=RESERVED_WORDS, infix_not=True)
    except QuerySyntaxError as exc:
        raise CqlError(
            f"Could not parse cql : {text} ({exc.detail} at character {exc.position + 1})"
        ) from None
    if query.where is None:
        raise CqlError(f"Could not parse cql : {text} (a query needs at least one clause)")
    for key in query.order_by:
        if key.field.lower() not in _SORTABLE:
            raise CqlError(f"Could not parse cql : {text} (cannot order by '{key.field}')")
    compiler = _Compiler(text, scope, current_user)
    matches = compile_tree(query.where, compiler.clause)
    since = conjunct_bound(query.where, compiler.modified_since)
    return CompiledCql(matches=matches, order_by=query.order_by, since=since)


def _plain_text(storage: str) -> str:
    return _TAG.sub(" ", storage)


def _words_match(haystack: str, needle: str) -> bool:
    words = set(_WORD.findall(haystack.lower()))
    wanted = _WORD.findall(needle.lower())
    return bool(wanted) and all(w in words for w in wanted)


class _Compiler:
    def __init__(self, text: str, scope: CqlScope, current_user: User | None) -> None:
        self.text = text
        self.scope = scope
        self.current_user = current_user
        # clause id -> the moment of a ``lastmodified >=`` (or ``>``) clause
        self.modified_since: dict[int, dt.datetime] = {}

    def error(self, detail: str) -> CqlError:
        return CqlError(f"Could not parse cql : {self.text} ({detail})")

    def clause(self, clause: Clause) -> Predicate:
        field = clause.field.strip().lower()
        if field in ("type",):
            return self.set_clause(clause, lambda p: {p.type}, self.type_value)
        if field in ("space", "space.key"):
            return self.set_clause(clause, lambda p: {p.space.key.lower()}, self.lower_text)
        if field == "label":
            return self.set_clause(clause, lambda p: set(p.labels), self.lower_text)
        if field in ("id", "content"):
            return self.set_clause(clause, lambda p: {p.id}, self.plain_text)
        if field == "ancestor":
            return self.set_clause(
                clause, lambda p: set(self.scope.cql_ancestors(p)), self.plain_text
            )
        if field == "parent":
            return self.set_clause(
                clause, lambda p: {p.parent_id} if p.parent_id else set(), self.plain_text
            )
        if field == "creator":
            return self.set_clause(
                clause,
                lambda p: {p.versions[0].by.account_id} if p.versions[0].by else set(),
                self.user_value,
            )
        if field == "contributor":
            return self.set_clause(
                clause,
                lambda p: {v.by.account_id for v in p.versions if v.by},
                self.user_value,
            )
        if field == "title":
            return self.title_clause(clause)
        if field == "text":
            return self.text_clause(clause, lambda p: f"{p.title}\n{_plain_text(p.storage)}")
        if field in ("created", "lastmodified"):
            return self.date_clause(clause, field)
        raise self.error(f"unsupported field '{clause.field}'")

    # -- operand helpers ---------------------------------------------------------------

    def literal(self, clause: Clause, operand: Operand) -> str:
        if isinstance(operand, Literal):
            return operand.text
        if isinstance(operand, Empty):
            raise self.error(f"EMPTY is not a valid value for '{clause.field}'")
        raise self.error(f"unsupported function '{operand.name}' for '{clause.field}'")

    def lower_text(self, clause: Clause, operand: Operand) -> str:
        return self.literal(clause, operand).lower()

    def plain_text(self, clause: Clause, operand: Operand) -> str:
        return self.literal(clause, operand)

    def type_value(self, clause: Clause, operand: Operand) -> str:
        value = self.literal(clause, operand).lower()
        if value not in _TYPES:
            raise self.error(f"'{value}' is not a content type")
        return value

    def user_value(self, clause: Clause, operand: Operand) -> str:
        if isinstance(operand, Function):
            if operand.name.lower() != "currentuser":
                raise self.error(f"unsupported function '{operand.name}'")
            return self.current_user.account_id if self.current_user else ""
        text = self.literal(clause, operand)
        user = self.scope.cql_user(text)
        # An unknown user matches nothing in Confluence rather than failing the query.
        return user.account_id if user else f"unknown:{text}"

    def set_clause(
        self,
        clause: Clause,
        values_of: Callable[[Page], set[str]],
        resolve: Callable[[Clause, Operand], str],
    ) -> Predicate:
        if clause.op not in _EQUALITY:
            raise self.error(f"the operator '{clause.op}' is not supported by '{clause.field}'")
        wanted = {resolve(clause, operand) for operand in clause.operands}
        if clause.op in ("=", "in"):
            return lambda page: bool(values_of(page) & wanted)
        return lambda page: not (values_of(page) & wanted)

    def title_clause(self, clause: Clause) -> Predicate:
        if clause.op in ("~", "!~"):
            return self.text_clause(clause, lambda p: p.title)
        return self.set_clause(clause, lambda p: {p.title.lower()}, self.lower_text)

    def text_clause(self, clause: Clause, haystack: Callable[[Page], str]) -> Predicate:
        if clause.op not in ("~", "!~"):
            raise self.error(f"the operator '{clause.op}' is not supported by '{clause.field}'")
        assert not isinstance(clause.value, ValueList)
        needle = self.literal(clause, clause.value)
        positive = clause.op == "~"
        return lambda page: _words_match(haystack(page), needle) == positive

    def date(self, clause: Clause, operand: Operand) -> dt.datetime:
        if isinstance(operand, Function):
            name = operand.name.lower()
            arg = operand.args[0] if operand.args else ""
            shift = parse_period(arg, units=_PERIOD_UNITS) if arg else dt.timedelta()
            if arg and shift is None:
                raise self.error(f"invalid period '{arg}' in {operand.name}()")
            assert shift is not None
            current = now()
            if name == "now":
                return current + shift
            for unit in ("day", "week", "month", "year"):
                if name == f"startof{unit}":
                    return start_of(current, unit) + shift
            raise self.error(f"unsupported function '{operand.name}'")
        text = self.literal(clause, operand).strip()
        moment = parse_moment(text, units=_PERIOD_UNITS, current=now())
        if moment is not None:
            return moment
        raise self.error(f"'{text}' is not a valid date for '{clause.field}'")

    def date_clause(self, clause: Clause, field: str) -> Predicate:
        if clause.op not in _ORDERED:
            raise self.error(f"the operator '{clause.op}' is not supported by '{clause.field}'")
        assert not isinstance(clause.value, ValueList)
        bound = self.date(clause, clause.value)
        if field == "lastmodified" and clause.op in (">=", ">"):
            self.modified_since[id(clause)] = bound

        def value(page: Page) -> dt.datetime:
            return page.created if field == "created" else page.last_modified

        compare = compare_to(clause.op, bound)
        return lambda page: compare(value(page))
