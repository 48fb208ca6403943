"""The tokenizer and parser shared by the emulator's JQL and CQL dialects.

Both languages have the same bones: clauses ``field operator operand`` joined with
``AND``/``OR``/``NOT`` and parentheses, quoted strings with backslash escapes, lists in
parentheses, function calls such as ``now("-2d")``, and an ``ORDER BY`` tail. This module
turns text into a small immutable syntax tree; the dialect modules (``_jql``, ``_cql``)
give fields their meaning and phrase errors the way each service does.

The date and comparison helpers at the end are the value rules both dialects share.

Pure: no I/O, no clock, no state. A value is always one token, so text that came from
a user (a summary with quotes, ``OR`` or backslashes) can never change the shape of a
query once it is quoted, and unquoted reserved words are rejected, never reinterpreted.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import attrs

__all__ = [
    "DATE_FORMATS",
    "And",
    "ChangedSince",
    "Clause",
    "Empty",
    "Function",
    "Literal",
    "Node",
    "Not",
    "Operand",
    "Or",
    "Query",
    "QuerySyntaxError",
    "SortKey",
    "ValueList",
    "compare_to",
    "compile_tree",
    "conjunct_bound",
    "parse_moment",
    "parse_period",
    "parse_query",
    "start_of",
]


class QuerySyntaxError(Exception):
    """The query text is not well formed. ``position`` is a 0-based character offset."""

    def __init__(self, detail: str, position: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.position = position


@attrs.frozen
class Literal:
    """A single value: a bare word or a quoted string (already unescaped)."""

    text: str
    quoted: bool
    position: int


@attrs.frozen
class Function:
    """A function call such as ``currentUser()`` or ``now("-4w")``."""

    name: str
    args: tuple[str, ...]
    position: int


@attrs.frozen
class Empty:
    """The ``EMPTY`` / ``NULL`` keyword."""

    position: int


Operand = Literal | Function | Empty


@attrs.frozen
class ValueList:
    """A parenthesised list of operands, the right side of ``IN`` and ``NOT IN``."""

    items: tuple[Operand, ...]
    position: int


@attrs.frozen
class Clause:
    """``field op value``. ``op`` is lower case: ``=``, ``!=``, ``in``, ``not in``, ``is``..."""

    field: str
    op: str
    value: Operand | ValueList
    position: int

    @property
    def operands(self) -> list[Operand]:
        """The operands of the clause: the items of a list, or the single value."""
        if isinstance(self.value, ValueList):
            return list(self.value.items)
        return [self.value]


@attrs.frozen
class And:
    """All of ``items`` hold."""

    items: tuple[Node, ...]


@attrs.frozen
class Or:
    """At least one of ``items`` holds."""

    items: tuple[Node, ...]


@attrs.frozen
class Not:
    """``item`` does not hold."""

    item: Node


Node = Clause | And | Or | Not


@attrs.frozen
class SortKey:
    """One ``ORDER BY`` term."""

    field: str
    descending: bool
    position: int


@attrs.frozen
class Query:
    """A parsed query: an optional condition and the sort order."""

    where: Node | None
    order_by: tuple[SortKey, ...]


@attrs.frozen
class _Token:
    kind: str  # word, string, op, lparen, rparen, comma, eof
    text: str  # the decoded text (strings unescaped, operators as written)
    position: int


_OPERATOR_CHARS = "=!<>~&|"
_DELIMITERS = set(" \t\r\n\f\v\"'(),") | set(_OPERATOR_CHARS)
_TWO_CHAR_OPERATORS = ("!=", "!~", ">=", "<=", "&&", "||")
_ONE_CHAR_OPERATORS = ("=", "~", ">", "<", "!")
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t"}
# A backslash may also protect a quote, itself, a space or a character that the search
# syntax reserves; anything else is an illegal escape, as in Jira.
_LITERAL_ESCAPES = set("\"'\\ +-&|!(){}[]^~*?:/")

_COMPARISON_OPERATORS = {"=", "!=", "~", "!~", "<", "<=", ">", ">="}


def _tokenize(text: str, language: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            value, end = _read_string(text, i, language)
            tokens.append(_Token("string", value, i))
            i = end
            continue
        if c == "(":
            tokens.append(_Token("lparen", c, i))
            i += 1
            continue
        if c == ")":
            tokens.append(_Token("rparen", c, i))
            i += 1
            continue
        if c == ",":
            tokens.append(_Token("comma", c, i))
            i += 1
            continue
        if c in _OPERATOR_CHARS:
            pair = text[i : i + 2]
            if pair in _TWO_CHAR_OPERATORS:
                tokens.append(_Token("op", pair, i))
                i += 2
                continue
            if c in _ONE_CHAR_OPERATORS:
                tokens.append(_Token("op", c, i))
                i += 1
                continue
            raise QuerySyntaxError(f"The character '{c}' is a reserved {language} character.", i)
        start = i
        while i < n and text[i] not in _DELIMITERS:
            i += 1
        tokens.append(_Token("word", text[start:i], start))
    tokens.append(_Token("eof", "", n))
    return tokens


def _read_string(text: str, start: int, language: str) -> tuple[str, int]:
    """Read a quoted string starting at ``start``; return its value and the next index."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n:
                break
            nxt = text[i + 1]
            if nxt in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[nxt])
                i += 2
            elif nxt == "u":
                digits = text[i + 2 : i + 6]
                if len(digits) != 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                    raise QuerySyntaxError(
                        f"'\\u{digits}' is an illegal {language} unicode escape.", i
                    )
                out.append(chr(int(digits, 16)))
                i += 6
            elif nxt in _LITERAL_ESCAPES:
                out.append(nxt)
                i += 2
            else:
                raise QuerySyntaxError(f"'\\{nxt}' is an illegal {language} escape sequence.", i)
            continue
        if c == quote:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise QuerySyntaxError(f"Missing closing quote {quote} for the string that starts here.", start)


class _Parser:
    def __init__(
        self,
        text: str,
        *,
        language: str,
        reserved_words: frozenset[str],
        infix_not: bool,
    ) -> None:
        self.language = language
        self.reserved = reserved_words
        self.infix_not = infix_not
        self.tokens = _tokenize(text, language)
        self.index = 0

    # -- token helpers -------------------------------------------------------------------

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def advance(self) -> _Token:
        token = self.current
        if token.kind != "eof":
            self.index += 1
        return token

    def is_keyword(self, word: str, token: _Token | None = None) -> bool:
        token = token or self.current
        return token.kind == "word" and token.text.lower() == word

    def got(self, token: _Token | None = None) -> str:
        token = token or self.current
        return "end of query" if token.kind == "eof" else f"'{token.text}'"

    def fail(self, expected: str, *, suffix: str = "") -> QuerySyntaxError:
        token = self.current
        tail = f" {suffix}" if suffix else ""
        if token.kind == "eof":
            return QuerySyntaxError(
                f"Expecting {expected} but reached the end of the query.{tail}", token.position
            )
        return QuerySyntaxError(
            f"Expecting {expected} but got {self.got(token)}.{tail}", token.position
        )

    # -- grammar -------------------------------------------------------------------------

    def parse(self) -> Query:
        where: Node | None = None
        if not self.is_keyword("order") and self.current.kind != "eof":
            where = self.parse_or()
        order_by = self.parse_order_by()
        if self.current.kind != "eof":
            raise self.fail("either 'OR' or 'AND'")
        return Query(where=where, order_by=order_by)

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_keyword("or") or (self.current.kind == "op" and self.current.text == "||"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_unary()]
        while True:
            if self.is_keyword("and") or (self.current.kind == "op" and self.current.text == "&&"):
                self.advance()
                items.append(self.parse_unary())
            elif self.infix_not and self.is_keyword("not"):
                # CQL: ``a NOT b`` means ``a AND NOT b``.
                self.advance()
                items.append(Not(self.parse_unary()))
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_unary(self) -> Node:
        token = self.current
        if self.is_keyword("not") or (token.kind == "op" and token.text == "!"):
            self.advance()
            return Not(self.parse_unary())
        if token.kind == "lparen":
            self.advance()
            node = self.parse_or()
            if self.current.kind != "rparen":
                raise self.fail("')'")
            self.advance()
            return node
        return self.parse_clause()

    def parse_clause(self) -> Clause:
        token = self.current
        if token.kind not in ("word", "string"):
            raise self.fail("a field name")
        if token.kind == "word" and token.text.lower() in self.reserved:
            raise QuerySyntaxError(
                f"'{token.text}' is a reserved {self.language} word. You must surround it in "
                "quotation marks to use it as a field name.",
                token.position,
            )
        self.advance()
        field = token.text
        op = self.parse_operator()
        if op in ("in", "not in"):
            value: Operand | ValueList = self.parse_list(op, field)
        elif op in ("is", "is not"):
            if not (self.is_keyword("empty") or self.is_keyword("null")):
                raise self.fail("'EMPTY' or 'NULL'")
            value = Empty(self.advance().position)
        else:
            value = self.parse_operand()
        return Clause(field=field, op=op, value=value, position=token.position)

    def parse_operator(self) -> str:
        token = self.current
        if token.kind == "op" and token.text in _COMPARISON_OPERATORS:
            self.advance()
            return token.text
        if self.is_keyword("in"):
            self.advance()
            return "in"
        if self.is_keyword("is"):
            self.advance()
            if self.is_keyword("not"):
                self.advance()
                return "is not"
            return "is"
        if self.is_keyword("not") and self.is_keyword("in", self.peek()):
            self.advance()
            self.advance()
            return "not in"
        if token.kind == "word" and token.text.lower() in ("was", "changed"):
            raise QuerySyntaxError(
                f"The operator '{token.text.upper()}' is not supported by this emulator.",
                token.position,
            )
        raise self.fail(
            "operator",
            suffix="The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', "
            "'IN', 'NOT IN', 'IS' and 'IS NOT'.",
        )

    def parse_list(self, op: str, field: str) -> ValueList:
        start = self.current
        if start.kind != "lparen":
            raise QuerySyntaxError(
                f"Operator '{op}' does not support the non-list value "
                f"{self.got(start)} for field '{field}'.",
                start.position,
            )
        self.advance()
        items = [self.parse_operand()]
        while self.current.kind == "comma":
            self.advance()
            items.append(self.parse_operand())
        if self.current.kind != "rparen":
            raise self.fail("')' or ','")
        self.advance()
        return ValueList(tuple(items), start.position)

    def parse_operand(self) -> Operand:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Literal(token.text, quoted=True, position=token.position)
        if token.kind != "word":
            raise self.fail("either a value, list or function")
        lowered = token.text.lower()
        if lowered in ("empty", "null"):
            self.advance()
            return Empty(token.position)
        if self.peek().kind == "lparen":
            return self.parse_function()
        if lowered in self.reserved:
            raise QuerySyntaxError(
                f"'{token.text}' is a reserved {self.language} word. You must surround it in "
                "quotation marks to use it in a query.",
                token.position,
            )
        self.advance()
        return Literal(token.text, quoted=False, position=token.position)

    def parse_function(self) -> Function:
        name = self.advance()
        self.advance()  # (
        args: list[str] = []
        if self.current.kind != "rparen":
            while True:
                arg = self.current
                if arg.kind not in ("word", "string"):
                    raise self.fail("a function argument")
                args.append(arg.text)
                self.advance()
                if self.current.kind == "comma":
                    self.advance()
                    continue
                break
        if self.current.kind != "rparen":
            raise self.fail("')'")
        self.advance()
        return Function(name.text, tuple(args), name.position)

    def parse_order_by(self) -> tuple[SortKey, ...]:
        if not self.is_keyword("order"):
            return ()
        self.advance()
        if not self.is_keyword("by"):
            raise self.fail("'BY'")
        self.advance()
        keys: list[SortKey] = []
        while True:
            token = self.current
            if token.kind not in ("word", "string") or (
                token.kind == "word" and token.text.lower() in self.reserved
            ):
                raise self.fail("a field name")
            self.advance()
            descending = False
            if self.is_keyword("asc") or self.is_keyword("desc"):
                descending = self.advance().text.lower() == "desc"
            keys.append(SortKey(token.text, descending, token.position))
            if self.current.kind != "comma":
                break
            self.advance()
        return tuple(keys)


def parse_query(
    text: str,
    *,
    language: str,
    reserved_words: Sequence[str],
    infix_not: bool = False,
) -> Query:
    """Parse ``text`` into a :class:`Query`; raise :class:`QuerySyntaxError` if malformed.

    ``language`` names the dialect in messages (``JQL``, ``CQL``); ``reserved_words`` may
    not be used as bare values; ``infix_not`` allows CQL's ``a NOT b``.
    """
    parser = _Parser(
        text,
        language=language,
        reserved_words=frozenset(w.lower() for w in reserved_words),
        infix_not=infix_not,
    )
    return parser.parse()


_T = TypeVar("_T")


def compile_tree(
    node: Node, clause: Callable[[Clause], Callable[[_T], bool]]
) -> Callable[[_T], bool]:
    """One predicate for a query tree: ``AND``/``OR``/``NOT`` over what ``clause`` builds."""
    if isinstance(node, And):
        parts = [compile_tree(n, clause) for n in node.items]
        return lambda item: all(p(item) for p in parts)
    if isinstance(node, Or):
        parts = [compile_tree(n, clause) for n in node.items]
        return lambda item: any(p(item) for p in parts)
    if isinstance(node, Not):
        inner = compile_tree(node.item, clause)
        return lambda item: not inner(item)
    return clause(node)


def conjunct_bound(node: Node | None, bounds: dict[int, dt.datetime]) -> dt.datetime | None:
    """The latest lower bound every match of ``node`` must meet: ``bounds`` holds, by
    clause id, the moments of the ``>=``/``>`` date clauses the compiler met; only those
    among ``node``'s top-level ``AND`` count (one under ``OR`` or ``NOT`` binds nothing)."""
    found: list[dt.datetime] = []
    todo = [node] if node is not None else []
    while todo:
        current = todo.pop()
        if isinstance(current, And):
            todo.extend(current.items)
        elif isinstance(current, Clause) and id(current) in bounds:
            found.append(bounds[id(current)])
    return max(found, default=None)


@attrs.define
class ChangedSince:
    """What a search index's date range gives: the records changed at or after a moment,
    without scanning them all (``updated >=`` in JQL, ``lastmodified >=`` in CQL).

    Every change of a record's date is noted with :meth:`touch`, in any order (a seeded
    record may be backdated); :meth:`since` returns a superset of the records whose date
    is at or after the moment (a record changed again later is listed by both changes):
    the caller still matches each against the whole query.
    """

    _stamps: list[tuple[dt.datetime, int, str]] = attrs.field(factory=list)
    _count: int = 0

    def touch(self, ident: str, moment: dt.datetime) -> None:
        """Note that record ``ident`` now carries the date ``moment``."""
        self._count += 1
        bisect.insort(self._stamps, (moment, self._count, ident))

    def since(self, moment: dt.datetime) -> list[str]:
        """The records noted at or after ``moment``, each once, oldest first."""
        start = bisect.bisect_left(self._stamps, (moment,))
        return list(dict.fromkeys(ident for _, _, ident in self._stamps[start:]))

    def clear(self) -> None:
        """Forget every record (the site was emptied)."""
        self._stamps.clear()


# -- values both dialects share ------------------------------------------------------------

#: The absolute date formats JQL and CQL accept, tried in this order (UTC).
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")

_UNIT_MINUTES = {"w": 7 * 24 * 60, "d": 24 * 60, "h": 60, "m": 1, "y": 365 * 24 * 60}

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@functools.cache
def _period_patterns(units: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return (
        re.compile(rf"^\s*([+-])?\s*((?:\d+\s*[{units}]\s*)+)$"),
        re.compile(rf"(\d+)\s*([{units}])"),
    )


def parse_period(text: str, *, units: str) -> dt.timedelta | None:
    """A relative period such as ``-4w 2d``; ``None`` if ``text`` is not one.

    ``units`` lists the unit letters the dialect knows, among ``w d h m y`` (a year is 365
    days); a leading ``-`` makes the whole period negative.
    """
    whole, part = _period_patterns(units)
    match = whole.match(text)
    if not match:
        return None
    minutes = sum(int(amount) * _UNIT_MINUTES[unit] for amount, unit in part.findall(match[2]))
    delta = dt.timedelta(minutes=minutes)
    return -delta if match[1] == "-" else delta


def parse_moment(text: str, *, units: str, current: dt.datetime) -> dt.datetime | None:
    """A date value as a moment; ``None`` if ``text`` is no date value.

    A period (see :func:`parse_period`) counts from ``current``; otherwise ``text`` is read
    with the first of :data:`DATE_FORMATS` that fits, as UTC.
    """
    period = parse_period(text, units=units)
    if period is not None:
        return current + period
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def start_of(moment: dt.datetime, unit: str) -> dt.datetime:
    """Midnight at the start of ``moment``'s day, week (from Sunday), month or year."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    if unit == "week":  # both services start weeks on Sunday in the default locale
        return day - dt.timedelta(days=(day.weekday() + 1) % 7)
    if unit == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def compare_to(op: str, bound: Any) -> Callable[[Any], bool]:
    """A test ``value <op> bound`` for one of ``= != < <= > >=``."""
    test = _COMPARISONS[op]
    return lambda value: bool(test(value, bound))
