"""Leaving the bodies of long tables out of the tree.

A postmortem's longest table is usually its timeline: hundreds of rows that are not
action items. Whether a table holds action items is decided by its first rows (the
header row, then the first body row), so building lxml elements for the rest of a long
table is wasted work. :func:`skim` finds the tables with a few substring searches and
returns the page text with the rows after the first :data:`KEPT_ROWS` of each long
top-level table cut out, and a marker element where they were: :data:`CUT` for a table
its first rows settle as holding no action items, :data:`ROWS` for an action-item
table whose header is among them. The parser reads that shorter text; it reads the
rows of a :data:`ROWS` table from their text (:mod:`pmsync._storage._rows`), and a cut
table that its first rows do not settle (an action-item header further down, or only
blank and header rows) makes it read the whole page instead.

A table is cut only when nothing in the cut rows can change what the parser reads:
no nested table (table numbers would shift), no heading (it would become the heading
of later tables), no task list, no uppercase tag (the parser lowercases those), and
the rows kept hold no comment, CDATA section or processing instruction that could hide
a ``</tr>``, and only end tags follow the last row, so the marker is the last element
of the table or of its last section. Anything odd about the table tags (an unclosed or
stray ``<table>``) and the page is read whole. The rows cut from a table without action
items are not parsed, so broken markup inside them is not reported; it could not have
changed an item. The rows of an action-item table are all read (a row that holds a
heading, a task list or an uppercase tag, or that lxml refuses, makes the reader read
the whole page).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from typing import NamedTuple

from lxml import etree

__all__ = ["CUT", "KEPT_ROWS", "ROWS", "Skimmed", "Verdict", "marker", "skim"]

#: The tag of the element that stands for the rows cut out of a table without items.
CUT = "{urn:x-pmsync:skim}cut"
_CUT_MARKUP = '<cut xmlns="urn:x-pmsync:skim"/>'
#: The tag of the element that stands for the rows cut out of an action-item table; its
#: ``region`` attribute numbers the rows' place in :attr:`Skimmed.regions`.
ROWS = "{urn:x-pmsync:skim}rows"


class Verdict(enum.Enum):
    """What the first rows of a long table settle."""

    #: The table holds no action items: its other rows are left out.
    NO_ITEMS = "no items"
    #: An action-item table, its header among the first rows and no merged cell there:
    #: its other rows are read from their text.
    ITEMS = "items"
    #: Nothing settled: the table is kept whole.
    OPEN = "open"


class Skimmed(NamedTuple):
    """The page with long tables cut, and where the rows cut from action tables are."""

    #: The text to parse: the page with markers where rows were cut.
    text: str
    #: The page as given: the cut rows of action tables are read from it.
    source: str
    #: ``(start, end)`` in :attr:`source` of the rows behind each :data:`ROWS` marker.
    regions: tuple[tuple[int, int], ...]


#: Rows kept at the top of a cut table: a header row, a blank row or two, a body row.
KEPT_ROWS = 4
#: Tables shorter than this (in characters) are kept whole: cutting them saves little.
SHORTEST_CUT = 16_384
#: Pages shorter than this are read whole.
SHORTEST_PAGE = 32_768

_HEADING_OR_UPPERCASE = re.compile(r"<[hA-Z]")
_ONLY_END_TAGS = re.compile(r"(?:\s*</(?:tbody|thead|tfoot)\s*>)*\s*</table\s*>\Z")
_SECTIONS = frozenset({"tbody", "thead", "tfoot"})
_TAG_END = frozenset(" \t\r\n/>")


def skim(text: str, settled: Callable[[str], Verdict]) -> Skimmed | None:
    """The page with the bodies of its long top-level tables cut out, or ``None`` when
    nothing can be cut (a short page, no long table, or table tags that do not pair).

    ``settled`` gets the markup of a table with its first rows only and says what
    those rows settle (:class:`Verdict`); tables it leaves open are kept whole."""
    if len(text) < SHORTEST_PAGE:
        return None
    tables = _tables(text)
    if not tables:
        return None
    pieces: list[str] = []
    regions: list[tuple[int, int]] = []
    done = 0
    for start, end, depth, nested in tables:
        if depth or nested or end - start < SHORTEST_CUT:
            continue
        span = _cut_span(text, start, end, settled)
        if span is None:
            continue
        keep_to, resume_at, verdict = span
        pieces.append(text[done:keep_to])
        if verdict is Verdict.ITEMS:
            pieces.append(f'<rows xmlns="urn:x-pmsync:skim" region="{len(regions)}"/>')
            regions.append((keep_to, resume_at))
        else:
            pieces.append(_CUT_MARKUP)
        done = resume_at
    if not pieces:
        return None
    pieces.append(text[done:])
    return Skimmed("".join(pieces), text, tuple(regions))


def marker(table: etree._Element) -> etree._Element | None:
    """The :data:`CUT` or :data:`ROWS` marker that :func:`skim` left in ``table``."""
    if not len(table):
        return None
    last = table[-1]
    if last.tag in _SECTIONS and len(last):
        last = last[-1]
    return last if last.tag in (CUT, ROWS) else None


def _tables(text: str) -> list[tuple[int, int, int, bool]] | None:
    """Each ``<table>`` in document order: where it starts, where its end tag ends, its
    depth (0 for a table not inside another) and whether it holds a table. ``None``
    when start and end tags do not pair up."""
    found: list[list[int]] = []  # start, end, depth, nested (0/1)
    open_tables: list[int] = []
    position = text.find("table")
    while position >= 0:
        after = text[position + 5 : position + 6]
        if position >= 1 and text[position - 1] == "<" and after in _TAG_END:
            close = text.find(">", position)
            if close < 0:
                return None
            if open_tables:
                found[open_tables[-1]][3] = 1  # the enclosing table holds a table
            if text[close - 1] == "/":  # <table/>: an empty table
                found.append([position - 1, close + 1, len(open_tables), 0])
            else:
                open_tables.append(len(found))
                found.append([position - 1, -1, len(open_tables) - 1, 0])
        elif position >= 2 and text[position - 2 : position] == "</" and after in _TAG_END:
            if not open_tables:
                return None
            close = text.find(">", position)
            if close < 0:
                return None
            found[open_tables.pop()][1] = close + 1
        position = text.find("table", position + 5)
    if open_tables:
        return None
    return [(start, end, depth, bool(nested)) for start, end, depth, nested in found]


def _cut_span(
    text: str, start: int, end: int, settled: Callable[[str], Verdict]
) -> tuple[int, int, Verdict] | None:
    """Where to stop keeping a table's text and where to take it up again: after its
    :data:`KEPT_ROWS`-th ``</tr>`` and at its last ``</tr>``, with what the rows kept
    settle; ``None`` when the table must be kept whole. The cheap tests come first,
    then ``settled``, then the scans of the rows to cut."""
    keep_to = start
    for _ in range(KEPT_ROWS):
        keep_to = text.find("</tr>", keep_to, end)
        if keep_to < 0:
            return None
        keep_to += 5
    resume_at = text.rfind("</tr>", keep_to, end)
    if resume_at < 0:
        return None
    resume_at += 5
    if resume_at - keep_to < SHORTEST_CUT // 2:
        return None
    kept = text[start:keep_to]
    if "<!" in kept or "<?" in kept or not _ONLY_END_TAGS.match(text, resume_at, end):
        return None
    verdict = settled(kept + text[resume_at:end])
    if verdict is Verdict.ITEMS:
        # Every row is read: the reader checks them (see _PageReader.cut_rows).
        return keep_to, resume_at, verdict
    if verdict is Verdict.OPEN or text.find("task-list", keep_to, resume_at) >= 0:
        return None
    for match in _HEADING_OR_UPPERCASE.finditer(text, keep_to, resume_at):
        at = match.start() + 1
        if text[at] != "h" or text[at + 1 : at + 2] in ("1", "2", "3", "4", "5", "6"):
            return None  # a heading, or an uppercase tag
    return keep_to, resume_at, verdict
