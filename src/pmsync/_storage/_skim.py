"""Finding, in the raw text, table bodies that cannot hold action items, so that lxml
never has to build them.

Postmortems carry long timelines: often most of a page's bytes sit in one table that
holds no action items. Whether a table holds action items is decided by its first rows
(the header), so :func:`table_heads` finds each top-level table's first rows in the text,
and the caller parses only those to decide. :func:`drop_regions` then cuts the remaining
rows of the tables decided against out of the text before the real parse.

Everything here is conservative: a table is only considered when its structure can be
read from the text with certainty (tags balance, no nested table, the rows to drop hold
no heading, task list, table or section tag, and the row ends used as cut points are
real tags rather than text inside a CDATA section or comment). Otherwise the table is
simply parsed in full. Cutting changes no result: the page reader sees the same tables,
in the same order, with the same header rows.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

__all__ = ["TableHead", "can_drop", "drop_regions", "table_heads"]

#: Rows kept (and parsed) at the top of a table to decide what the table is.
HEAD_ROWS = 4
#: Tables whose droppable rows are shorter than this are parsed in full: not worth it.
MIN_DROP = 4096

_TAG_NAME_ENDS = frozenset({" ", "\t", "\n", "\r", ">", "/"})
_ROW_END = re.compile(r"</tr\s*>")
# What the dropped rows must not contain: anything the page reader looks at.
_KEEP = re.compile(r"<(?:table|h[1-6]|ac:task-list|/?t(?:head|body|foot))(?=[\s>/])")


class TableHead(NamedTuple):
    """A top-level table whose rows after its head could be dropped.

    ``start`` is the offset of ``<table``, ``head_end`` the offset just after the
    :data:`HEAD_ROWS`-th row, ``body_end`` the offset just after its last row.
    """

    start: int
    head_end: int
    body_end: int


def table_heads(text: str) -> list[TableHead]:
    """The tables of ``text`` that could lose rows, if the text can be read safely.

    Whether they may is for the caller to decide: first from the head (is this an
    action-item table?), then with :func:`can_drop`.
    """
    opaque = _opaque_ranges(text)
    if opaque is None:
        return []
    starts = [start for start, _ in opaque]
    tables = _top_level_tables(text, opaque, starts)
    heads = []
    for start, end in tables:
        head = _head(text, start, end, opaque, starts)
        if head is not None:
            heads.append(head)
    return heads


def drop_regions(text: str, heads: list[TableHead]) -> str:
    """``text`` without the rows after the head of each table in ``heads``."""
    pieces = []
    position = 0
    for head in sorted(heads):
        pieces.append(text[position : head.head_end])
        position = head.body_end
    pieces.append(text[position:])
    return "".join(pieces)


def _opaque_ranges(text: str) -> list[tuple[int, int]] | None:
    """Where CDATA sections and comments are: their content is text, not markup."""
    ranges = []
    for opener, closer in (("<![CDATA[", "]]>"), ("<!--", "-->")):
        found = text.find(opener)
        while found >= 0:
            close = text.find(closer, found + len(opener))
            if close < 0:
                return None
            ranges.append((found, close + len(closer)))
            found = text.find(opener, close)
    ranges.sort()
    return ranges


def _inside(position: int, opaque: list[tuple[int, int]], starts: list[int]) -> bool:
    index = bisect.bisect_right(starts, position) - 1
    return index >= 0 and position < opaque[index][1]


def _top_level_tables(
    text: str, opaque: list[tuple[int, int]], starts: list[int]
) -> list[tuple[int, int]]:
    """(start, end) of each top-level table without nested tables; ``[]`` when the
    table tags do not balance."""
    tables = []
    stack: list[list[int]] = []  # [start, nested tables]
    for position, closing in _table_tags(text):
        if opaque and _inside(position, opaque, starts):
            continue
        close = text.find(">", position)
        if close < 0:
            return []
        if closing:
            if not stack:
                return []
            start, nested = stack.pop()
            if stack:
                stack[-1][1] += 1 + nested
            elif not nested:
                tables.append((start, close + 1))
        elif text[close - 1] == "/":
            if stack:
                stack[-1][1] += 1
        else:
            stack.append([position, 0])
    return [] if stack else tables


def _table_tags(text: str) -> list[tuple[int, bool]]:
    """Offsets of ``<table`` and ``</table`` tags in order, with whether each closes.

    ``str.find`` runs at memory speed; a regular expression starting with ``<`` would
    stop at every tag of the page.
    """
    tags = []
    for needle, closing in (("<table", False), ("</table", True)):
        found = text.find(needle)
        while found >= 0:
            after = text[found + len(needle) : found + len(needle) + 1]
            if after in _TAG_NAME_ENDS:
                tags.append((found, closing))
            found = text.find(needle, found + len(needle))
    tags.sort()
    return tags


def _head(
    text: str, start: int, end: int, opaque: list[tuple[int, int]], starts: list[int]
) -> TableHead | None:
    row_ends: list[int] = []
    search = start
    while len(row_ends) < HEAD_ROWS:
        match = _ROW_END.search(text, search, end)
        if match is None:
            return None
        search = match.end()
        if not (opaque and _inside(match.start(), opaque, starts)):
            row_ends.append(search)
    head_end = row_ends[-1]
    last = text.rfind("</tr", head_end, end)
    if last < 0:
        return None
    match = _ROW_END.match(text, last)
    if match is None or (opaque and _inside(last, opaque, starts)):
        return None
    body_end = match.end()
    if body_end - head_end < MIN_DROP:
        return None
    return TableHead(start, head_end, body_end)


def can_drop(text: str, head: TableHead) -> bool:
    """Whether the rows after ``head`` hold nothing the page reader looks at: no table,
    heading, task list or table section tag (checked on the raw text, conservatively)."""
    return _KEEP.search(text, head.head_end, head.body_end) is None
