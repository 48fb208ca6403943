"""The emulator's JQL: parse a query, validate it as Jira does, and run it over issues.

Supported: ``project``, ``key`` (``issuekey``, ``issue``, ``id``), ``labels``, ``status``,
``statusCategory``, ``assignee``, ``reporter``, ``priority`` (ordered, so
``priority >= High`` works), ``issuetype`` (``type``), ``component``, ``resolution``,
``summary``/``description``/``comment``/``text`` (``~`` only), ``duedate`` (``due``),
``created``, ``updated``, ``resolutiondate`` (``resolved``), custom fields
(``cf[10010]`` or ``customfield_10010``) and entity properties
(``issue.property[pmsync].page_id``); the operators ``= != ~ !~ < <= > >= IN NOT IN
IS IS NOT``; ``AND``/``OR``/``NOT`` (and ``&& || !``); parentheses; quoted strings with
backslash escapes; dates as ``2026-01-31``, ``2026/01/31 10:00``, ``-5d``, ``4w 2d`` or
``now()``, ``startOfDay(-1)``, ``endOfWeek()``...; ``currentUser()``; ``ORDER BY``.

Errors read like Jira's (``Field 'x' does not exist...``, ``The value 'X' does not exist
for the field 'project'.``) and always fail the whole query: a query the emulator does not
understand is rejected, never widened.

Pure: no I/O. The clock comes from :func:`pmsync.testing._clock.now`.
"""

from __future__ import annotations

import datetime as dt
import functools
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
    from pmsync.testing._jira import Issue
    from pmsync.testing._users import User

__all__ = ["CompiledJql", "JqlError", "JqlScope", "compile_jql", "quote_jql"]

RESERVED_WORDS = (
    "and",
    "or",
    "not",
    "empty",
    "null",
    "order",
    "by",
    "in",
    "is",
    "was",
    "changed",
)


class JqlError(Exception):
    """The query is malformed or names something that does not exist (a 400 in Jira)."""


class JqlScope(Protocol):
    """What JQL validation and evaluation need to know about the site."""

    def jql_project_ids(self, value: str) -> set[str]:
        """Ids of projects whose key, name or id is ``value`` (case-insensitive)."""
        ...

    def jql_status_names(self, value: str) -> set[str]:
        """Lower-cased names of statuses whose name or id is ``value``."""
        ...

    def jql_user(self, value: str) -> User | None:
        """The user a JQL user value names in this flavour."""
        ...

    def jql_issue_exists(self, key: str) -> bool:
        """Whether an issue with this key exists."""
        ...

    def jql_issue_type_names(self, value: str) -> set[str]:
        """Lower-cased names of issue types whose name or id is ``value``."""
        ...

    def jql_component_names(self, value: str) -> set[str]:
        """Lower-cased names of components called ``value`` in any project."""
        ...

    def jql_custom_field(self, field_id: str) -> bool:
        """Whether some project declares the custom field ``customfield_NNNNN``."""
        ...

    def jql_property_indexed(self, key: str, path: str | None) -> bool:
        """Whether ``issue.property[key].path`` is searchable (indexed) on this site."""
        ...


PRIORITY_RANK = {"highest": 1, "high": 2, "medium": 3, "low": 4, "lowest": 5}
PRIORITY_IDS = {"1": "highest", "2": "high", "3": "medium", "4": "low", "5": "lowest"}
CATEGORY_ALIASES = {
    "new": "new",
    "to do": "new",
    "2": "new",
    "indeterminate": "indeterminate",
    "in progress": "indeterminate",
    "4": "indeterminate",
    "done": "done",
    "complete": "done",
    "3": "done",
}

_EQUALITY_OPS = frozenset({"=", "!=", "in", "not in", "is", "is not"})
_ORDERED_OPS = _EQUALITY_OPS | {"<", "<=", ">", ">="}
_TEXT_OPS = frozenset({"~", "!~", "is", "is not"})

_FIELD_ALIASES = {
    "issuekey": "key",
    "issue": "key",
    "id": "key",
    "type": "issuetype",
    "due": "duedate",
    "createddate": "created",
    "updateddate": "updated",
    "resolved": "resolutiondate",
    "statuscategory": "statuscategory",
    "components": "component",
    "label": "labels",
}

_PROPERTY_FIELD = re.compile(r"^issue\.property\[(?P<key>[^\]]+)\](?:\.(?P<path>[\w.$-]+))?$", re.I)
_CUSTOM_FIELD = re.compile(r"^(?:cf\[(?P<a>\d+)\]|customfield_(?P<b>\d+))$", re.I)
_ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-\d+$")
_PERIOD_UNITS = "wdhm"
_SORTABLE = (
    "key",
    "created",
    "updated",
    "duedate",
    "priority",
    "summary",
    "status",
    "assignee",
    "reporter",
    "resolutiondate",
    "issuetype",
    "project",
)

Predicate = Callable[["Issue"], bool]


@attrs.frozen
class CompiledJql:
    """A validated query: ``matches(issue)`` and ``sort(issues)``."""

    matches: Predicate
    order_by: tuple[SortKey, ...]
    bounded: bool
    #: Every match was updated at or after this moment (a top-level ``updated >=``).
    since: dt.datetime | None = None

    def sort(self, issues: Sequence[Issue]) -> list[Issue]:
        """Order ``issues`` as the query asks; newest first (key descending) by default."""
        result = list(issues)
        if not self.order_by:
            return sorted(result, key=_key_order, reverse=True)
        # Stable sorts applied from the least to the most significant key.
        result.sort(key=_key_order, reverse=True)
        for sort_key in reversed(self.order_by):
            field = _canonical_field(sort_key.field)
            present = [i for i in result if _sort_value(i, field) is not None]
            missing = [i for i in result if _sort_value(i, field) is None]
            present.sort(
                key=functools.partial(_sort_value, field=field), reverse=sort_key.descending
            )
            # Jira puts issues without a value last when ascending and first when descending.
            result = missing + present if sort_key.descending else present + missing
        return result


def quote_jql(value: str) -> str:
    """Quote ``value`` as a JQL string literal (a helper for tests and seeds)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def compile_jql(text: str, scope: JqlScope, *, current_user: User | None) -> CompiledJql:
    """Parse and validate ``text``; raise :class:`JqlError` with Jira's message."""
    try:
        query = parse_query(text, language="JQL", reserved_words=RESERVED_WORDS)
    except QuerySyntaxError as exc:
        raise JqlError(
            f"Error in the JQL Query: {exc.detail} (line 1, character {exc.position + 1})"
        ) from None
    compiler = _Compiler(scope, current_user)
    predicate: Predicate = compile_tree(query.where, compiler.clause) if query.where else _always
    for key in query.order_by:
        field = _canonical_field(key.field)
        if field not in _SORTABLE and not field.startswith("customfield_"):
            raise JqlError(
                f"Field '{key.field}' does not exist or you do not have permission to view it."
            )
    return CompiledJql(
        matches=predicate,
        order_by=query.order_by,
        bounded=query.where is not None,
        since=conjunct_bound(query.where, compiler.updated_since),
    )


def _always(issue: Issue) -> bool:
    del issue
    return True


def _canonical_field(name: str) -> str:
    lowered = name.strip().lower()
    custom = _CUSTOM_FIELD.match(lowered)
    if custom:
        return f"customfield_{custom.group('a') or custom.group('b')}"
    return _FIELD_ALIASES.get(lowered, lowered)


def _key_order(issue: Issue) -> tuple[str, int]:
    project, _, number = issue.key.rpartition("-")
    return (project, int(number))


def _sort_value(issue: Issue, field: str) -> Any:
    if field == "key":
        return _key_order(issue)
    if field == "priority":
        # Higher priorities sort first in Jira's ascending order of importance.
        return None if issue.priority is None else -PRIORITY_RANK[issue.priority.lower()]
    if field == "duedate":
        return issue.duedate
    if field == "assignee":
        return issue.assignee.display_name.lower() if issue.assignee else None
    if field == "reporter":
        return issue.reporter.display_name.lower() if issue.reporter else None
    if field == "project":
        return issue.project.key
    if field == "issuetype":
        return issue.issuetype.name.lower()
    if field == "status":
        return issue.status.lower()
    if field == "summary":
        return issue.summary.lower()
    if field.startswith("customfield_"):
        value = issue.custom.get(field)
        return None if value is None else str(value)
    return getattr(issue, field)


# -- dates ------------------------------------------------------------------------------


def _shift(moment: dt.datetime, unit: str, amount: int) -> dt.datetime:
    if unit == "day":
        return moment + dt.timedelta(days=amount)
    if unit == "week":
        return moment + dt.timedelta(weeks=amount)
    months = moment.month - 1 + amount * (12 if unit == "year" else 1)
    year = moment.year + months // 12
    return moment.replace(year=year, month=months % 12 + 1)


def _end_of(moment: dt.datetime, unit: str) -> dt.datetime:
    return _shift(start_of(moment, unit), unit, 1) - dt.timedelta(milliseconds=1)


_DATE_FUNCTIONS = {
    f"{edge}of{unit}": (edge, unit)
    for edge in ("start", "end")
    for unit in ("day", "week", "month", "year")
}


def _date_function(func: Function, field: str) -> dt.datetime:
    name = func.name.lower()
    current = now()
    if name == "now":
        if func.args:
            raise JqlError("Function 'now' expected no arguments.")
        return current
    if name not in _DATE_FUNCTIONS:
        raise JqlError(f"Unable to find JQL function '{func.name}({', '.join(func.args)})'.")
    edge, unit = _DATE_FUNCTIONS[name]
    base = start_of(current, unit) if edge == "start" else _end_of(current, unit)
    if not func.args:
        return base
    if len(func.args) > 1:
        raise JqlError(f"Function '{func.name}' expected between 0 and 1 arguments.")
    arg = func.args[0].strip()
    if re.fullmatch(r"[+-]?\d+", arg):
        return _shift(base, unit, int(arg))
    period = parse_period(arg, units=_PERIOD_UNITS)
    if period is None:
        raise JqlError(
            f"Argument '{arg}' of function '{func.name}' for field '{field}' is invalid."
        )
    return base + period


def _date_operand(operand: Operand, field: str) -> dt.datetime:
    if isinstance(operand, Function):
        return _date_function(operand, field)
    assert isinstance(operand, Literal)
    text = operand.text.strip()
    moment = parse_moment(text, units=_PERIOD_UNITS, current=now())
    if moment is not None:
        return moment
    raise JqlError(
        f"Date value '{operand.text}' for field '{field}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
        "format e.g. '-5d', '4w 2d'."
    )


def _as_moment(value: dt.date | dt.datetime) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)


# -- text search ------------------------------------------------------------------------

_WORD = re.compile(r"[\w*?]+", re.UNICODE)


def _text_matches(haystack: str, needle: str) -> bool:
    """Jira-like ``~``: every word of the needle appears as a word (``*`` = any suffix).

    A needle quoted inside the string (``summary ~ "\\"exact phrase\\""``) must appear as a
    phrase.
    """
    if len(needle) >= 2 and needle.startswith('"') and needle.endswith('"'):
        phrase = " ".join(_WORD.findall(needle.lower()))
        return phrase in " ".join(_WORD.findall(haystack.lower()))
    words = set(_WORD.findall(haystack.lower()))
    wanted = _WORD.findall(needle.lower())
    if not wanted:
        return False
    for term in wanted:
        if "*" in term or "?" in term:
            pattern = re.compile(
                "^" + re.escape(term).replace(r"\*", r"\w*").replace(r"\?", r"\w") + "$"
            )
            if not any(pattern.match(w) for w in words):
                return False
        elif term not in words:
            return False
    return True


# -- the compiler -----------------------------------------------------------------------


class _Compiler:
    def __init__(self, scope: JqlScope, current_user: User | None) -> None:
        self.scope = scope
        self.current_user = current_user
        # clause id -> the moment of an ``updated >=`` (or ``>``) clause
        self.updated_since: dict[int, dt.datetime] = {}

    def clause(self, clause: Clause) -> Predicate:
        field = _canonical_field(clause.field)
        prop = _PROPERTY_FIELD.match(clause.field.strip())
        if prop:
            return self.property_clause(clause, prop.group("key"), prop.group("path"))
        handlers: dict[str, Callable[[Clause, str], Predicate]] = {
            "project": self.project_clause,
            "key": self.key_clause,
            "labels": self.labels_clause,
            "status": self.status_clause,
            "statuscategory": self.category_clause,
            "assignee": self.user_clause,
            "reporter": self.user_clause,
            "priority": self.priority_clause,
            "issuetype": self.issuetype_clause,
            "component": self.component_clause,
            "resolution": self.resolution_clause,
            "summary": self.text_clause,
            "description": self.text_clause,
            "comment": self.text_clause,
            "text": self.text_clause,
            "duedate": self.date_clause,
            "created": self.date_clause,
            "updated": self.date_clause,
            "resolutiondate": self.date_clause,
        }
        if field in handlers:
            return handlers[field](clause, field)
        if field.startswith("customfield_"):
            if not self.scope.jql_custom_field(field):
                raise JqlError(
                    f"Field '{clause.field}' does not exist or you do not have permission "
                    "to view it."
                )
            return self.custom_clause(clause, field)
        raise JqlError(
            f"Field '{clause.field}' does not exist or you do not have permission to view it."
        )

    # -- operand helpers ---------------------------------------------------------------

    def check_op(self, clause: Clause, allowed: frozenset[str]) -> None:
        if clause.op not in allowed:
            raise JqlError(
                f"The operator '{clause.op.upper()}' is not supported by the "
                f"'{clause.field}' field."
            )

    def no_functions(self, clause: Clause, operand: Operand) -> None:
        if isinstance(operand, Function):
            raise JqlError(
                f"Unable to find JQL function '{operand.name}({', '.join(operand.args)})'."
            )

    def resolve_set(
        self, clause: Clause, resolve: Callable[[Operand], set[str]]
    ) -> tuple[set[str], bool]:
        """Resolve every operand into normalized values; say whether EMPTY was listed."""
        values: set[str] = set()
        has_empty = False
        for operand in clause.operands:
            if isinstance(operand, Empty):
                has_empty = True
                continue
            values |= resolve(operand)
        return values, has_empty

    def set_predicate(
        self,
        clause: Clause,
        values_of: Callable[[Issue], Sequence[str]],
        resolve: Callable[[Operand], set[str]],
    ) -> Predicate:
        """Equality-style operators over fields whose values are normalized strings."""
        op = clause.op
        if op in ("is", "is not"):
            want_empty = op == "is"
            return lambda issue: (len(values_of(issue)) == 0) == want_empty
        wanted, has_empty = self.resolve_set(clause, resolve)
        if op in ("=", "in"):
            return lambda issue: (
                bool(set(values_of(issue)) & wanted) or (has_empty and not values_of(issue))
            )
        if op in ("!=", "not in"):
            # Jira: != and NOT IN never match issues where the field is empty.
            return lambda issue: bool(values_of(issue)) and not (set(values_of(issue)) & wanted)
        raise JqlError(
            f"The operator '{op.upper()}' is not supported by the '{clause.field}' field."
        )

    def literal_text(self, clause: Clause, operand: Operand) -> str:
        self.no_functions(clause, operand)
        assert isinstance(operand, Literal)
        return operand.text

    def must_exist(self, found: set[str], operand: Operand, field: str) -> set[str]:
        if not found:
            text = operand.text if isinstance(operand, Literal) else ""
            raise JqlError(f"The value '{text}' does not exist for the field '{field}'.")
        return found

    # -- fields --------------------------------------------------------------------------

    def project_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand)
            return self.must_exist(self.scope.jql_project_ids(text), operand, field)

        return self.set_predicate(clause, lambda i: (i.project.id,), resolve)

    def key_clause(self, clause: Clause, field: str) -> Predicate:
        del field
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand).strip()
            if text.isdigit():
                return {f"id:{text}"}
            if not _ISSUE_KEY.match(text):
                raise JqlError(f"The issue key '{text}' for field '{clause.field}' is invalid.")
            if not self.scope.jql_issue_exists(text):
                raise JqlError(
                    f"An issue with key '{text}' does not exist for field '{clause.field}'."
                )
            return {text.upper()}

        return self.set_predicate(clause, lambda i: (i.key.upper(), f"id:{i.id}"), resolve)

    def labels_clause(self, clause: Clause, field: str) -> Predicate:
        del field
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            return {self.literal_text(clause, operand).lower()}

        return self.set_predicate(clause, lambda i: [label.lower() for label in i.labels], resolve)

    def status_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand)
            return self.must_exist(self.scope.jql_status_names(text), operand, field)

        return self.set_predicate(clause, lambda i: (i.status.lower(),), resolve)

    def category_clause(self, clause: Clause, field: str) -> Predicate:
        del field
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand)
            category = CATEGORY_ALIASES.get(text.strip().lower())
            if category is None:
                raise JqlError(f"The value '{text}' does not exist for the field '{clause.field}'.")
            return {category}

        return self.set_predicate(clause, lambda i: (i.status_category,), resolve)

    def user_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            if isinstance(operand, Function):
                if operand.name.lower() != "currentuser" or operand.args:
                    raise JqlError(
                        f"Unable to find JQL function '{operand.name}({', '.join(operand.args)})'."
                    )
                return {self.current_user.account_id} if self.current_user else set()
            assert isinstance(operand, Literal)
            user = self.scope.jql_user(operand.text)
            if user is None:
                raise JqlError(
                    f"The value '{operand.text}' does not exist for the field '{clause.field}'."
                )
            return {user.account_id}

        def values(issue: Issue) -> tuple[str, ...]:
            user = issue.assignee if field == "assignee" else issue.reporter
            return (user.account_id,) if user else ()

        return self.set_predicate(clause, values, resolve)

    def priority_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _ORDERED_OPS)

        def name_of(operand: Operand) -> str:
            text = self.literal_text(clause, operand).strip().lower()
            name = PRIORITY_IDS.get(text, text)
            if name not in PRIORITY_RANK:
                raise JqlError(f"The value '{text}' does not exist for the field '{field}'.")
            return name

        if clause.op in ("<", "<=", ">", ">="):
            assert not isinstance(clause.value, ValueList)
            rank = PRIORITY_RANK[name_of(clause.value)]
            # "priority > Medium" means more important, i.e. a smaller rank.
            compare: Callable[[int], bool] = {
                ">": lambda r: r < rank,
                ">=": lambda r: r <= rank,
                "<": lambda r: r > rank,
                "<=": lambda r: r >= rank,
            }[clause.op]
            return lambda issue: (
                issue.priority is not None and compare(PRIORITY_RANK[issue.priority.lower()])
            )
        return self.set_predicate(
            clause,
            lambda i: (i.priority.lower(),) if i.priority else (),
            lambda operand: {name_of(operand)},
        )

    def issuetype_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand)
            return self.must_exist(self.scope.jql_issue_type_names(text), operand, field)

        return self.set_predicate(clause, lambda i: (i.issuetype.name.lower(),), resolve)

    def component_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand)
            return self.must_exist(self.scope.jql_component_names(text), operand, field)

        return self.set_predicate(clause, lambda i: [c.lower() for c in i.components], resolve)

    def resolution_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS)

        def resolve(operand: Operand) -> set[str]:
            text = self.literal_text(clause, operand).strip().lower()
            if text == "unresolved":
                return {"unresolved"}
            if text != "done":
                raise JqlError(f"The value '{text}' does not exist for the field '{field}'.")
            return {"done"}

        def values(issue: Issue) -> tuple[str, ...]:
            return ("done",) if issue.resolutiondate else ("unresolved",)

        if clause.op in ("is", "is not"):
            want_empty = clause.op == "is"
            return lambda issue: (issue.resolutiondate is None) == want_empty
        return self.set_predicate(clause, values, resolve)

    def text_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _TEXT_OPS)

        def haystack(issue: Issue) -> str:
            parts: list[str] = []
            if field in ("summary", "text"):
                parts.append(issue.summary)
            if field in ("description", "text") and issue.description:
                parts.append(issue.description)
            if field in ("comment", "text"):
                parts.extend(c.body for c in issue.comments)
            return "\n".join(parts)

        if clause.op in ("is", "is not"):
            want_empty = clause.op == "is"
            return lambda issue: (haystack(issue) == "") == want_empty
        assert not isinstance(clause.value, ValueList)
        needle = self.literal_text(clause, clause.value)
        if clause.op == "~":
            return lambda issue: _text_matches(haystack(issue), needle)
        return lambda issue: not _text_matches(haystack(issue), needle)

    def date_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _ORDERED_OPS)

        def value(issue: Issue) -> dt.datetime | None:
            raw: dt.date | dt.datetime | None = getattr(issue, field)
            return None if raw is None else _as_moment(raw)

        if clause.op in ("is", "is not"):
            want_empty = clause.op == "is"
            return lambda issue: (value(issue) is None) == want_empty
        moments: list[dt.datetime] = []
        has_empty = False
        for operand in clause.operands:
            if isinstance(operand, Empty):
                has_empty = True
            else:
                moments.append(_date_operand(operand, clause.field))
        op = clause.op
        if op in ("=", "in"):
            return lambda issue: (value(issue) in moments) or (has_empty and value(issue) is None)
        if op in ("!=", "not in"):
            return lambda issue: value(issue) is not None and value(issue) not in moments
        if has_empty or len(moments) != 1:
            raise JqlError(f"The operator '{op}' needs a single date for field '{clause.field}'.")
        bound = moments[0]
        compare = compare_to(op, bound)
        if field == "updated" and op in (">=", ">"):
            self.updated_since[id(clause)] = bound

        def predicate(issue: Issue) -> bool:
            moment = value(issue)
            return moment is not None and compare(moment)

        return predicate

    def custom_clause(self, clause: Clause, field: str) -> Predicate:
        self.check_op(clause, _EQUALITY_OPS | {"~", "!~"})

        def values(issue: Issue) -> list[str]:
            return _flatten_values(issue.custom.get(field))

        if clause.op in ("~", "!~"):
            assert not isinstance(clause.value, ValueList)
            needle = self.literal_text(clause, clause.value)
            positive = clause.op == "~"
            return lambda issue: _text_matches(" ".join(values(issue)), needle) == positive
        return self.set_predicate(
            clause,
            lambda i: [v.lower() for v in values(i)],
            lambda operand: {self.literal_text(clause, operand).lower()},
        )

    def property_clause(self, clause: Clause, key: str, path: str | None) -> Predicate:
        if not self.scope.jql_property_indexed(key, path):
            # Jira only searches properties an app has declared for indexing.
            raise JqlError(
                f"Field '{clause.field}' does not exist or you do not have permission to view it."
            )
        self.check_op(clause, _ORDERED_OPS | {"~", "!~"})

        def values(issue: Issue) -> list[Any]:
            if key not in issue.properties:
                return []
            node: Any = issue.properties[key]
            for part in (path or "").split(".") if path else []:
                if isinstance(node, dict) and part in node:
                    node = node[part]
                else:
                    return []
            return [v for v in (node if isinstance(node, list) else [node]) if v is not None]

        op = clause.op
        if op in ("is", "is not"):
            want_empty = op == "is"
            return lambda issue: (len(values(issue)) == 0) == want_empty
        if op in ("~", "!~"):
            assert not isinstance(clause.value, ValueList)
            needle = self.literal_text(clause, clause.value)
            positive = op == "~"
            return lambda issue: (
                _text_matches(" ".join(str(v) for v in values(issue)), needle) == (positive)
            )
        wanted: list[str] = []
        has_empty = False
        for operand in clause.operands:
            if isinstance(operand, Empty):
                has_empty = True
            else:
                wanted.append(self.literal_text(clause, operand))

        def equal(stored: Any, text: str) -> bool:
            if isinstance(stored, bool):
                return str(stored).lower() == text.lower()
            if isinstance(stored, int | float):
                try:
                    return float(stored) == float(text)
                except ValueError:
                    return False
            return str(stored) == text

        if op in ("=", "in"):
            return lambda issue: (
                any(equal(v, w) for v in values(issue) for w in wanted)
                or (has_empty and not values(issue))
            )
        if op in ("!=", "not in"):
            return lambda issue: (
                bool(values(issue)) and not any(equal(v, w) for v in values(issue) for w in wanted)
            )
        if has_empty or len(wanted) != 1:
            raise JqlError(f"The operator '{op}' needs a single value for field '{clause.field}'.")
        bound = wanted[0]

        def ordered(stored: Any) -> bool:
            try:
                left: Any = float(stored)
                right: Any = float(bound)
            except (TypeError, ValueError):
                left, right = str(stored), bound
            return bool(
                {
                    "<": left < right,
                    "<=": left <= right,
                    ">": left > right,
                    ">=": left >= right,
                }[op]
            )

        return lambda issue: any(ordered(v) for v in values(issue))


def _flatten_values(value: Any) -> list[str]:
    """Custom field values as strings: options by value/name, lists element-wise."""
    if value is None:
        return []
    if isinstance(value, list):
        return [s for v in value for s in _flatten_values(v)]
    if isinstance(value, dict):
        for key in ("value", "name", "key", "id"):
            if key in value:
                return [str(value[key])]
        return []
    return [str(value)]
