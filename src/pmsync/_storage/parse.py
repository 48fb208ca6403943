"""Reading action items out of Confluence storage-format XHTML. Pure: no I/O, no clock.

:func:`parse_page` finds the action-item tables and the task lists under action
headings, reads each row or task into an :class:`~pmsync.ActionItem`, and says why in a
:class:`~pmsync.ParseWarning` whenever something on the page could not be used as
written. ``docs/parser.md`` describes what is recognised; this module must never raise
anything but :class:`~pmsync.ParseError`, whatever the page holds.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, NamedTuple, cast

import attrs
from lxml import etree

from pmsync._model import (
    NO_EXTRA,
    ActionItem,
    ItemTable,
    ParseWarning,
    Person,
    Postmortem,
    Status,
)
from pmsync._storage._content import (
    AC_LINK,
    AC_MACRO,
    AC_NAME,
    EMPTY,
    KEY,
    RI_USER,
    TITLE_COLOUR,
    Content,
    all_text,
    parameters,
    person,
    read_content,
    read_value,
    simple_cell,
    text_of,
)
from pmsync._storage._grid import Grid, Slot, cells_of, own_rows, slot_at
from pmsync._storage._rows import Macro, Mention, Stamp, Template, learn
from pmsync._storage._skim import CUT, Skimmed, Verdict, marker, skim
from pmsync._storage._xhtml import (
    AC,
    UnreadableMarkupError,
    read_small,
    read_storage,
)
from pmsync._storage._xhtml import (
    UPPERCASE_TAG as _UPPERCASE_TAG,
)
from pmsync._storage.dates import DateReading, date_from_attribute, read_date
from pmsync._storage.vocabulary import (
    CORE_FIELDS,
    HeaderVocabulary,
    fold_words,
    is_action_heading,
    is_placeholder,
    normalise_priority,
    status_from_lozenge,
    status_from_text,
    trailing_status,
)
from pmsync.exceptions import ParseError

__all__ = ["item_digest", "parse_page"]

_AC_TASK_LIST = f"{{{AC}}}task-list"
_AC_TASK = f"{{{AC}}}task"
_AC_TASK_ID = f"{{{AC}}}task-id"
_AC_TASK_STATUS = f"{{{AC}}}task-status"
_AC_TASK_BODY = f"{{{AC}}}task-body"
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

_JIRA_KEY_IN_TEXT = re.compile(r"(?<![\w-])([A-Z][A-Z0-9_]+-[1-9][0-9]*)(?![\w-])")
_JIRA_KEY_IN_URL = re.compile(
    r"(?:/browse/|[?&]selectedIssue=)([A-Za-z][A-Za-z0-9_]+-[1-9][0-9]*)(?![\w-])"
)
_JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]+-[1-9][0-9]*\Z")
_ALPHANUMERIC = re.compile(r"[^\W_]")
_OWNER_SEPARATORS = re.compile(r"\s*(?:[,;]|\s/\s|\s&\s|\sand\s)\s*", re.IGNORECASE)
# Words left dangling at the end of a task once its mention and date are taken out:
# "Rotate the keys @alice by <date>" reads "Rotate the keys".
_DANGLING = re.compile(
    r"(?:[\s,;:\-–—(]|\b(?:by|due|on|before|until|till|for|to|with|assigned|owner|"
    r"and|with a date of|date)\b)+\Z",
    re.IGNORECASE,
)
_DONE_EMOTICONS = frozenset({"tick", "check", "checkmark", "white_check_mark"})
_PLACEHOLDER = object()  # a status cell that says nothing (empty, "-", "n/a")
# True when some row holds a spanned cell or something other than a cell. Written
# without a union (``tr | */tr``), which makes libxml2 sort nodes: 6x faster on a big
# table.
_NOT_PLAIN = etree.XPath(
    "count(tr/*) != count(tr/td) + count(tr/th)"
    " or count(*/tr/*) != count(*/tr/td) + count(*/tr/th)"
    " or tr/*/@colspan[normalize-space() != '1'] or tr/*/@rowspan[normalize-space() != '1']"
    " or */tr/*/@colspan[normalize-space() != '1'] or */tr/*/@rowspan[normalize-space() != '1']"
)
# Header names are short; a longer summary cannot be a repeated header row.
_LONGEST_HEADER = 40
# Placeholders (``n/a``, ``TBD``) are short; a longer line is never one.
_LONGEST_PLACEHOLDER = 24
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def parse_page(
    storage: str,
    *,
    page_id: str | None = None,
    title: str | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    date_order: Literal["DMY", "MDY"] | None = None,
    statuses: Mapping[str, Status | str] | None = None,
    priorities: Mapping[str, str] | None = None,
) -> Postmortem:
    """Read the action items of one page's storage-format XHTML.

    Args:
        storage: The page body in storage format (``body.storage.value``).
        page_id: The page id; it is part of each item's identity.
        title: The page title, used in messages.
        columns: More header names per field, on top of the built-in vocabulary
            (``{"owner": ["Primary contact"], "component": ["Area"]}``). Fields other than
            the built-in ones land in :attr:`~pmsync.ActionItem.extra`.
        date_order: How to read numeric dates that could be either way round
            (``03/04/2026``): ``"DMY"`` or ``"MDY"``. Without it they are not read.
        statuses: More status words -> status category (the ``status_map``
            configuration), winning over the built-in words.
        priorities: More page priorities -> Jira priority name (the ``priority_map``
            configuration), winning over the built-in words.

    Returns:
        The page's items, in document order, with every warning noticed on the way and
        the layout of each action-item table.

    Raises:
        ParseError: the page holds nothing readable (not text, or text without markup).
        TypeError: ``columns`` is not a mapping of field names to header names.
        ValueError: ``date_order`` or a ``statuses`` category is not a known value.
    """
    text = _as_text(storage, page_id, title)
    if date_order not in (None, "DMY", "MDY"):
        raise ValueError(f"date_order must be 'DMY', 'MDY' or None, not {date_order!r}")
    vocabulary = HeaderVocabulary.build(columns)
    if statuses:
        status_from_text("", statuses)  # validates the categories up front
    if not text.strip():
        return Postmortem(page_id=page_id, title=title)
    if _is_json(text):
        raise ParseError(_no_markup_message(text, page_id, title), page_id=page_id)
    options: dict[str, Any] = {
        "page_id": page_id,
        "vocabulary": vocabulary,
        "date_order": date_order,
        "statuses": statuses,
        "priorities": priorities,
    }
    skimmed = skim(text, functools.partial(_settled_by_first_rows, options))
    if skimmed is not None and skimmed.regions and _UPPERCASE_TAG.search(skimmed.text):
        skimmed = None  # lxml lowercases the names of such a page: rows read as text are not
    if skimmed is not None:
        # Long tables that are not action tables lose their rows past the first few;
        # the whole page is read when the text is not well-formed or a cut table turns
        # out to need its rows.
        document = read_storage(skimmed.text)
        if document.problem is None:
            reader = _PageReader(**options, skimmed=skimmed)
            try:
                reader.read(document.root)
            except _ReadWholePage:
                pass
            else:
                return reader.postmortem(title)
    try:
        document = read_storage(text)
    except UnreadableMarkupError as exc:
        raise ParseError(
            f"{_page_name(page_id, title)} could not be read: {exc}", page_id=page_id
        ) from None
    if len(document.root) == 0:
        raise ParseError(_no_markup_message(text, page_id, title), page_id=page_id)
    reader = _PageReader(**options)
    if document.problem:
        reader.warn(
            "broken-markup",
            f"the page is not well-formed ({document.problem}); it was read leniently, "
            "so check the items against the page",
            None,
            None,
        )
    reader.read(document.root)
    return reader.postmortem(title)


def _settled_by_first_rows(options: Mapping[str, Any], table_markup: str) -> Verdict:
    """What the rows in ``table_markup`` (the first rows of a long table) settle, as
    :meth:`_PageReader.table` would decide: no action items, or an action-item table
    without merged cells whose header is among them."""
    table = _small_table(table_markup)
    if table is None:
        return Verdict.OPEN
    header = _PageReader(**options).scan_header(own_rows(table))
    if header.row < 0:
        return Verdict.NO_ITEMS if header.decided else Verdict.OPEN
    return Verdict.OPEN if _NOT_PLAIN(table) else Verdict.ITEMS


def _small_table(markup: str) -> etree._Element | None:
    """The table element of ``markup`` (one ``<table>``), or ``None`` when lxml refuses
    it or it is something else."""
    root = read_small(markup)
    if root is None or len(root) != 1 or root[0].tag != "table":
        return None
    return root[0]


def item_digest(page_id: str | None, summary: str, occurrence: int = 0) -> str:
    """The identity of an item without a task id: 12 hex digits of a SHA-256 over the
    page id and the summary folded for case, punctuation and spacing (plus the
    occurrence number, from 1, for the second and later rows with the same summary)."""
    return _digest(page_id, fold_words(summary), occurrence)


def _digest(page_id: str | None, words: str, occurrence: int) -> str:
    seed = f"{page_id or ''}\x1f{words}"
    if occurrence:
        seed += f"\x1f{occurrence}"
    return hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _blank_text(text: str | None) -> bool:
    if not text or text.isspace():
        return True
    return not text.isascii() and not _INVISIBLE_CHARS.sub("", text).strip()


def _as_text(storage: object, page_id: str | None, title: str | None) -> str:
    if isinstance(storage, str):
        return storage
    if isinstance(storage, bytes | bytearray):
        return bytes(storage).decode("utf-8-sig", "replace")
    raise ParseError(
        f"{_page_name(page_id, title)}: storage must be text (str), not {type(storage).__name__}",
        page_id=page_id,
    )


def _page_name(page_id: str | None, title: str | None) -> str:
    if page_id and title:
        return f"page {page_id} ({title!r})"
    if page_id:
        return f"page {page_id}"
    if title:
        return f"page {title!r}"
    return "the page"


def _is_json(text: str) -> bool:
    """Whether ``text`` is a JSON document (a REST response passed by mistake)."""
    if text.lstrip()[:1] not in ("{", "["):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _no_markup_message(text: str, page_id: str | None, title: str | None) -> str:
    start = text.lstrip()
    hint = ""
    if start[:1] in "{[":
        hint = " (it looks like JSON: pass the page's body.storage.value)"
    shown = " ".join(start[:40].split())
    return (
        f"{_page_name(page_id, title)} holds no storage-format markup{hint}; "
        f"it starts with {shown!r}"
    )


def _first_line(lines: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The first line that says something, and the lines after it."""
    if lines:
        first = lines[0]
        if len(first) > _LONGEST_PLACEHOLDER and first[:2] != "- " and first[0].isalnum():
            return first, lines[1:]  # the usual case, decided without a regex
    for position, line in enumerate(lines):
        if _ALPHANUMERIC.search(line) and not is_placeholder(line):
            summary = line[2:] if line.startswith("- ") else line
            return summary, lines[position + 1 :]
    return "", ()


def _valid_key(text: str) -> str | None:
    if _JIRA_KEY.match(text):
        return text
    key = text.strip().upper()
    return key if _JIRA_KEY.match(key) else None


class _Header(NamedTuple):
    """What the top of a table says: where its header row is (``row``, -1 when it has
    none), the grid column of each field, the rows placed so far and how many of them
    were not empty."""

    row: int
    columns: dict[str, int]
    grid: Grid
    placed: list[list[Slot]]
    non_empty: int
    #: Whether a row settled it (``False``: the rows ran out first).
    decided: bool = True


@attrs.frozen
class _Table:
    """An action-item table being read."""

    index: int
    header_row: int
    columns: tuple[tuple[str, int], ...]
    width: int
    place: str
    #: Fields other than the built-in ones: they go to ``ActionItem.extra``.
    extra_fields: tuple[str, ...] = ()


@attrs.frozen
class _TaskList:
    """A task list under an action heading, being read."""

    index: int
    heading: str


def _where(context: _Table | _TaskList, row: int) -> str:
    """Where a row or task is, in words: ``row 3 of the table under “Action items”``."""
    if isinstance(context, _TaskList):
        return f"task {row + 1} of the task list under “{context.heading}”"
    return f"row {row + 1} of {context.place}"


class _ReadWholePage(Exception):  # noqa: N818  # a signal, not an error
    """A table cut by :func:`skim` needs its rows: read the page whole."""


class _PageReader:
    """Walks one page and collects items, warnings and action-item tables.

    ``skimmed``: the tree is of :func:`skim`'s text, so a table whose rows were cut
    and that its first rows do not settle raises :class:`_ReadWholePage`, and the rows
    cut from action-item tables are read from ``skimmed.source``."""

    def __init__(
        self,
        *,
        page_id: str | None,
        vocabulary: HeaderVocabulary,
        date_order: Literal["DMY", "MDY"] | None,
        statuses: Mapping[str, Status | str] | None,
        priorities: Mapping[str, str] | None,
        skimmed: Skimmed | None = None,
    ) -> None:
        self.skimmed = skimmed
        self.page_id = page_id
        self.vocabulary = vocabulary
        self.date_order = date_order
        self.statuses = statuses
        self.priorities = priorities
        self.items: list[ActionItem] = []
        self.warnings: list[ParseWarning] = []
        self.tables: list[ItemTable] = []
        self._occurrences: dict[str, int] = {}
        self._ids: set[str] = set()
        self._task_ids: set[str] = set()
        self._keys: dict[str, tuple[_Table | _TaskList, int]] = {}
        self._action_tables: set[etree._Element] = set()
        self._contents: dict[etree._Element, Content] = {}
        self._lozenge_statuses: dict[tuple[str, str | None], Status | None] = {}
        self._text_statuses: dict[str, Status | object | None] = {}
        self._priorities: dict[str, str | None] = {}
        self._dates: dict[str, DateReading] = {}
        self._stamps: dict[str, dt.date | None] = {}

    def postmortem(self, title: str | None) -> Postmortem:
        """What was read, as a :class:`~pmsync.Postmortem`."""
        return Postmortem(
            page_id=self.page_id,
            title=title,
            items=tuple(self.items),
            warnings=tuple(self.warnings),
            tables=tuple(self.tables),
        )

    # --- the page ---------------------------------------------------------------------

    def read(self, root: etree._Element) -> None:
        heading: str | None = None
        table_index = -1
        list_index = -1
        for element in root.iter(*_HEADINGS, "table", _AC_TASK_LIST):
            tag = element.tag
            if tag == "table":
                table_index += 1
                self.table(element, table_index, heading)
            elif tag == _AC_TASK_LIST:
                list_index += 1
                if any(table in self._action_tables for table in element.iterancestors("table")):
                    continue  # a task list inside an action table belongs to its row
                if heading is not None and is_action_heading(heading):
                    self.task_list(element, list_index, heading)
            else:
                heading = text_of(element)

    def warn(self, code: str, message: str, table: int | None, row: int | None) -> None:
        self.warnings.append(ParseWarning(message=message, table=table, row=row, code=code))

    def content(self, cell: etree._Element) -> Content:
        found = self._contents.get(cell)
        if found is None:
            found = self._contents[cell] = read_content(cell)
        return found

    def is_blank(self, cell: etree._Element) -> bool:
        if len(cell) == 0:
            return _blank_text(cell.text)
        return self.content(cell).is_empty

    def identity(self, summary: str, key: str | None = None) -> str:
        """The item's id: its Jira ``key`` when it has one, else the digest of the page
        id and ``summary`` (with the summary's occurrence number).

        A keyed item still takes its summary's occurrence number, so writing a key into
        one of two rows with the same summary leaves the other row's id alone."""
        words = fold_words(summary)
        occurrences = self._occurrences
        occurrence = occurrences.get(words, 0)
        occurrences[words] = occurrence + 1
        if key is not None:
            if key not in self._ids:  # the usual case, without a call
                self._ids.add(key)
                return key
            return self.key_identity(key)
        item_id = _digest(self.page_id, words, occurrence)
        while item_id in self._ids:  # a 48-bit collision: astronomically rare, still handled
            occurrence += 1
            item_id = _digest(self.page_id, words, occurrence)
        self._ids.add(item_id)
        return item_id

    def key_identity(self, key: str) -> str:
        """``key`` itself, or ``KEY#2``, ``KEY#3``… for the later items with that key."""
        item_id = key
        copy = 1
        while item_id in self._ids:
            copy += 1
            item_id = f"{key}#{copy}"
        self._ids.add(item_id)
        return item_id

    def note_key(self, key: str, context: _Table | _TaskList, row: int) -> None:
        first = self._keys.get(key)
        if first is None:
            self._keys[key] = (context, row)
            return
        self.warn(
            "duplicate-key",
            f"{_where(context, row)}: {key} is also the issue of {_where(*first)}; "
            "both items point at one issue",
            context.index,
            row,
        )

    # --- tables -----------------------------------------------------------------------

    def scan_header(self, rows: Iterator[tuple[etree._Element, bool]]) -> _Header:
        """Find the header row: the first row of ``<th>`` (or bold) cells that names an
        action item column and an owner, due, status, priority or ticket column."""
        grid = Grid()
        placed: list[list[Slot]] = []
        seen_header = False
        non_empty = 0
        for position, (tr, in_head) in enumerate(rows):
            slots = grid.place(position, cells_of(tr))
            placed.append(slots)
            own = [slot for slot in slots if slot.row == position]
            if all(self.is_blank(slot.cell) for slot in own):
                continue
            non_empty += 1
            if in_head or self.is_header_like(slot.cell for slot in own):
                seen_header = True
                found = self.header_columns(own)
                if self.vocabulary.is_action_header(found):
                    return _Header(position, found, grid, placed, non_empty)
                continue
            if not seen_header:
                found = self.header_columns(own)
                if self.vocabulary.is_action_header(found) and self.reads_as_header(own, found):
                    return _Header(position, found, grid, placed, non_empty)
            return _Header(-1, {}, grid, placed, non_empty)
        return _Header(-1, {}, grid, placed, non_empty, decided=False)

    def table(self, table: etree._Element, index: int, heading: str | None) -> None:
        rows = own_rows(table)
        place = f"the table under “{heading}”" if heading else f"table {index + 1}"
        header = self.scan_header(rows)  # consumes the rows up to the header
        cut = marker(table) if self.skimmed is not None else None
        if cut is not None:
            if cut.tag == CUT:  # rows left out: the first rows must settle "no items"
                needs_rows = header.row >= 0 or not header.decided
            else:  # rows to read from the text: an action table without merged cells
                needs_rows = header.row < 0 or bool(_NOT_PLAIN(table))
            if needs_rows:
                raise _ReadWholePage
        if header.row < 0:
            if heading and header.non_empty >= 2 and is_action_heading(heading):
                self.warn(
                    "unrecognised-table",
                    f"{place[0].upper()}{place[1:]} (table {index + 1} on the page) is not "
                    "read as an action-item table: no header row names an action item "
                    "column and an owner, due, status, priority or ticket column; add "
                    "your header names with columns=",
                    index,
                    None,
                )
            return
        self._action_tables.add(table)
        fields = tuple(header.columns.items())
        extras = tuple(field for field in header.columns if field not in CORE_FIELDS)
        section: str | None = None
        if not _NOT_PLAIN(table):
            # Rows of cells only, no rowspan or colspan: grid column n is the n-th cell.
            body: list[list[etree._Element]] = [tr[:] for tr, _ in rows]  # type: ignore[index,misc]
            width = max([header.grid.width, *map(len, body)])
            context = _Table(index, header.row, fields, width, place, extras)
            readers = self.plain_rows(context, _RowPlan.of(header.columns))
            for row, cells in enumerate(body):
                readers.cells(row, cells)
            if cut is not None:  # the rows skim cut out, read from the page's text
                width = max(width, self.cut_rows(cut, len(body), readers))
            self.tables.append(ItemTable(index, header.row, header.columns, width))
            return
        grid, placed = header.grid, header.placed
        by_column = sorted(fields, key=lambda field: field[1])
        for tr, _ in rows:
            placed.append(grid.place(len(placed), cells_of(tr)))
        self.tables.append(ItemTable(index, header.row, header.columns, grid.width))
        context = _Table(index, header.row, fields, grid.width, place, extras)
        for position in range(header.row + 1, len(placed)):
            slots = placed[position]
            located = {}
            taken: set[int] = set()
            summary_shared = False
            for field, column in by_column:
                slot = slot_at(slots, column)
                # A cell spanning columns gives its value to the first field it covers.
                if slot is not None and slot.row > header.row and id(slot) not in taken:
                    taken.add(id(slot))
                    located[field] = slot.cell
                    if field == "summary":
                        summary_shared = slot.row < position
            own = [slot for slot in slots if slot.row == position]
            label = None
            if len(own) >= 1:
                spanning = [slot for slot in own if not self.is_blank(slot.cell)]
                if (
                    len(spanning) == 1
                    and spanning[0].start == 0
                    and spanning[0].end >= grid.width > 1
                ):
                    label = spanning[0].cell
            section = self.table_row(
                context,
                position - header.row - 1,
                cells=located,
                own=[slot.cell for slot in own],
                label=label,
                summary_shared=summary_shared,
                section=section,
            )

    def plain_rows(self, table: _Table, plan: _RowPlan) -> _PlainRows:
        """Readers for the body rows of span-free ``table``: one reads a row from its
        cells (read the quick way when they allow it, else the general way); the quick
        one also reads the shapes a row template read (``False`` when it does not take
        the row, which then needs its tree)."""
        fields = table.columns
        names = tuple(field for field, _ in fields)
        last = max(column for _, column in fields)
        # An action header names at least two fields, so ``pick`` returns a tuple.
        pick = operator.itemgetter(*(column for _, column in fields))
        quick = self.quick_rows(table, plan)
        table_row = self.table_row

        def read(row: int, cells: list[etree._Element]) -> None:
            if len(cells) > last and quick(row, list(map(simple_cell, cells))):
                return
            if len(cells) > last:
                located = dict(zip(names, pick(cells), strict=True))
            else:  # a short row: only the fields it reaches
                located = {field: cells[column] for field, column in fields if column < len(cells)}
            table_row(
                table,
                row,
                cells=located,
                own=cells,
                label=None,
                summary_shared=False,
                section=None,
            )

        return _PlainRows(read, quick, last + 1)

    def cut_rows(self, cut: etree._Element, first: int, readers: _PlainRows) -> int:
        """Read the rows :func:`skim` cut out of an action-item table (behind the
        ``cut`` marker), numbered from ``first``, from the page's text; returns the
        most cells a row has.

        A row is read from the holes of the first template it matches: the one that
        followed the previous row's template last time, else any learnt from an earlier
        row, else one learnt from the row itself. A row that no template takes (a shape
        templates do not read, or a row the quick reader leaves to the general path) is
        parsed with lxml, with the rows after it (:data:`_PARSED_TOGETHER` in all, twice
        as many each time the next row is not taken either), and read from the tree like
        the rows above. Rows that lxml refuses, or with a merged
        cell, a heading, a task list or an uppercase tag (the page's names would all be
        lowercased) make the reader read the whole page, which reports or places them.
        A comment or CDATA section hiding a ``</tr>`` leaves rows lxml refuses."""
        assert self.skimmed is not None
        text = self.skimmed.source
        position, end = self.skimmed.regions[int(cut.get("region") or 0)]
        templates: list[Template] = []
        following: dict[Template | None, Template] = {}
        previous: Template | None = None
        read_cells, quick, needed = readers
        width = 0
        row = first
        hits = 0  # rows read from templates
        failed_lessons = 0
        together = _PARSED_TOGETHER
        while position < end:
            template = following.get(previous)
            match = None if template is None else template.pattern.match(text, position, end)
            if match is None:
                for template in templates:
                    match = template.pattern.match(text, position, end)
                    if match is not None:
                        break
            if (
                match is None
                # Each template must pay for itself (it costs a regex compile): new ones
                # only while the ones learnt read rows.
                and len(templates) < min(_MOST_TEMPLATES, 3 + hits // 8)
                and failed_lessons < _MOST_TEMPLATES
            ):
                stop = text.find("</tr>", position, end)
                template = learn(text, position, stop + 5) if stop >= 0 else None
                if template is None:
                    failed_lessons += 1
                else:
                    templates.append(template)
                    match = template.pattern.match(text, position, end)
            if match is not None and template is not None:
                following[previous] = template
                previous = template
                shapes = template.read(match) if template.width >= needed else None
                if shapes is not None and quick(row, cast("list[Found]", shapes)):
                    width = max(width, template.width)
                    row += 1
                    hits += 1
                    together = _PARSED_TOGETHER
                    position = match.end()
                    continue
            else:
                previous = None
            stops: list[int] = []
            stop = position
            while len(stops) < together:
                stop = text.find("</tr>", stop, end)
                if stop < 0:
                    break
                stop += 5
                stops.append(stop)
            if not stops:
                raise _ReadWholePage  # text after the last row: never cut, but be safe
            together *= 2  # rows that templates do not take tend to come in runs
            rows_text = text[position : stops[-1]]
            if _UPPERCASE_TAG.search(rows_text):
                raise _ReadWholePage  # the whole page's names get lowercased
            parsed = _small_table(f"<table><tbody>{rows_text}</tbody></table>")
            if (
                parsed is None
                or _NOT_PLAIN(parsed)
                or next(parsed.iter(*_HEADINGS, _AC_TASK_LIST), None) is not None
            ):
                raise _ReadWholePage  # refused, merged cells, or what changes the page
            for tr, _ in own_rows(parsed):
                cells: list[etree._Element] = tr[:]  # type: ignore[index,assignment]
                width = max(width, len(cells))
                read_cells(row, cells)
                row += 1
            position = stops[-1]
        return width

    def quick_rows(self, table: _Table, plan: _RowPlan) -> Callable[[int, list[Found]], bool]:
        """A reader for the body rows of span-free ``table`` whose cells all have the
        usual shapes (plain text, one mention, one date, one lozenge, one Jira macro)
        and that need no warning. It gets what each cell holds (:func:`simple_cell` of
        the cell, or a row template's :data:`~pmsync._storage._rows.Shape`) and returns
        ``False``, having changed nothing, for any other row, which :meth:`table_row`
        then reads. Both give the same item for a row the quick reader takes (a property
        test compares them); it skips the general cell walk, and everything it looks up
        per row is bound once per table."""
        summary_at, description_at, owner_at, due_at, priority_at, status_at, ticket_at, extras = (
            plan
        )
        quick_ticket = self.quick_ticket
        quick_due = self.quick_due
        quick_status = self.quick_status
        priority_of = self.priority_of
        field = self.vocabulary.field
        note_key = self.note_key
        identity = self.identity
        append = self.items.append
        index = table.index

        def read(row: int, cells: list[Found]) -> bool:
            lines = cells[summary_at]
            if not isinstance(lines, tuple) or not lines:
                return False  # empty, or not plain text: the general path decides
            first = lines[0]
            if len(first) > _LONGEST_PLACEHOLDER and first[:2] != "- " and first[0].isalnum():
                summary, rest = first, lines[1:]
            else:
                summary, rest = _first_line(lines)
                if not summary:
                    return False
            if len(summary) <= _LONGEST_HEADER and field(summary) == "summary":
                return False  # maybe a repeated header row
            try:
                key, ticket_text = quick_ticket(cells[ticket_at]) if ticket_at >= 0 else _NO_TICKET
                owner = _quick_owner(cells[owner_at]) if owner_at >= 0 else None
                due = quick_due(cells[due_at]) if due_at >= 0 else None
                priority = (
                    priority_of(_quick_text(cells[priority_at])) if priority_at >= 0 else None
                )
                status = quick_status(cells[status_at]) if status_at >= 0 else None
                if description_at >= 0:
                    rest = (*rest, *_quick_lines(cells[description_at]))
                extra: Mapping[str, str] = NO_EXTRA
                if extras:
                    extra = {}
                    for name, column in extras:
                        text = " ".join(_quick_lines(cells[column]))
                        if text:
                            extra[name] = text
            except _NotQuick:
                return False
            if ticket_text and (status is None or key is None):
                return False  # a status after the bug ("Bug 5554823 TODO"): the general path
            if key is not None:
                note_key(key, table, row)
            append(
                ActionItem(
                    identity(summary, key),
                    summary,
                    "\n".join(rest) or None,
                    owner,
                    due,
                    priority,
                    status,
                    key,
                    "table",
                    index,
                    row,
                    extra,
                )
            )
            return True

        return read

    def quick_ticket(self, found: Found) -> tuple[str | None, str]:
        """What :meth:`ticket` reads from a usual ticket cell (a Jira macro, text with at
        most one key, or nothing); raises :class:`_NotQuick` for any other cell."""
        if isinstance(found, tuple):
            text = " ".join(found)
            keys = _JIRA_KEY_IN_TEXT.findall(text) if text else ()
            if len(keys) > 1:
                raise _NotQuick
            return (_valid_key(keys[0]) if keys else None), text
        if isinstance(found, Macro):
            if found.name != "jira":
                raise _NotQuick
            key = found.param("key")
        elif (
            isinstance(found, etree._Element)
            and found.tag == AC_MACRO
            and found.get(AC_NAME) == "jira"
        ):
            key = parameters(found, KEY).get("key")
        else:
            raise _NotQuick
        return (_valid_key(key), "") if key else _NO_TICKET

    def quick_due(self, found: Found) -> dt.date | None:
        """What :meth:`due` reads from a usual due cell without a warning; raises
        :class:`_NotQuick` for any other cell."""
        if isinstance(found, tuple):
            text = " ".join(found)
        else:
            if isinstance(found, Stamp):
                stamp = (found.value or "").strip()
            elif (
                isinstance(found, etree._Element)
                and found.tag == "time"
                and not found.text
                and not len(found)
            ):
                stamp = (found.get("datetime") or "").strip()
            else:
                raise _NotQuick
            if stamp:
                try:
                    date = self._stamps[stamp]  # due dates repeat down a table
                except KeyError:
                    date = self._stamps[stamp] = date_from_attribute(stamp)
                if date is None:
                    raise _NotQuick
                return date
            text = ""
        reading = self._dates.get(text)
        if reading is None:
            reading = self._dates[text] = read_date(text, self.date_order)
        if reading.problem is not None:
            raise _NotQuick
        return reading.date

    def quick_status(self, found: Found) -> Status | None:
        """What :meth:`status` reads from a usual status cell without a warning; raises
        :class:`_NotQuick` for any other cell."""
        if isinstance(found, tuple):
            text = " ".join(found)
        else:
            if isinstance(found, Macro):
                if found.name != "status":
                    raise _NotQuick
                title, colour = found.param("title"), found.param("colour")
            elif (
                isinstance(found, etree._Element)
                and found.tag == AC_MACRO
                and found.get(AC_NAME) == "status"
            ):
                lozenge = parameters(found, TITLE_COLOUR)
                title, colour = lozenge.get("title"), lozenge.get("colour")
            else:
                raise _NotQuick
            if title is not None:
                status = self.lozenge_status(title, colour)
                if status is None:
                    raise _NotQuick
                return status
            text = ""
        named = self.text_status(text)
        if named is _PLACEHOLDER:
            return None  # a plain cell holds no emoticon that could say "done"
        if named is None:
            raise _NotQuick
        return cast("Status", named)

    def is_header_like(self, cells: Iterable[etree._Element]) -> bool:
        """All cells ``<th>``, or bold ``<td>`` (Server/DC pages often do that), or empty."""
        for cell in cells:
            if cell.tag == "th" or self.is_blank(cell):
                continue
            if not _is_bold(cell):
                return False
        return True

    def header_columns(self, own: list[Slot]) -> dict[str, int]:
        columns: dict[str, int] = {}
        for slot in own:
            field = self.vocabulary.field(self.content(slot.cell).text)
            if field is None:
                continue
            if field not in columns:
                columns[field] = slot.start
            elif field == "summary" and "description" not in columns:
                # "Title | Description": the second summary-like column is the description.
                columns["description"] = slot.start
        return columns

    def reads_as_header(self, own: list[Slot], found: dict[str, int]) -> bool:
        """A plain first row counts as the header when most of its cells are header names."""
        named = sum(1 for slot in own if not self.is_blank(slot.cell))
        recognised = sum(1 for slot in own if self.vocabulary.field(self.content(slot.cell).text))
        return len(found) >= 2 and recognised * 2 >= named

    def repeats_header(self, own: list[etree._Element]) -> bool:
        """Whether a body row is another header row (all ``<th>``/bold, mostly names)."""
        non_empty = [cell for cell in own if not self.is_blank(cell)]
        named = sum(1 for cell in non_empty if self.vocabulary.field(self.content(cell).text))
        return named * 2 >= len(non_empty) and self.is_header_like(own)

    def table_row(
        self,
        table: _Table,
        row: int,
        *,
        cells: dict[str, etree._Element],
        own: list[etree._Element],
        label: etree._Element | None,
        summary_shared: bool,
        section: str | None,
    ) -> str | None:
        """Read body row ``row`` from its ``cells`` (field -> cell, spanned cells
        included) and ``own`` cells; returns the section label in force after it."""
        # Body cells are read once each, so they skip the reader's cell cache.
        content = read_content
        summary_element = cells.get("summary")
        summary_cell = EMPTY if summary_element is None else content(summary_element)
        if not summary_cell.lines and all(self.is_blank(cell) for cell in own):
            return section  # an empty row: nothing to say
        if label is not None:
            return content(label).text or section
        summary, rest = _first_line(summary_cell.lines)
        if (
            len(summary) <= _LONGEST_HEADER
            and self.vocabulary.field(summary) == "summary"
            and self.repeats_header(own)
        ):
            self.warn(
                "repeated-header",
                f"{_where(table, row)} looks like another header row, so it is not an item",
                table.index,
                row,
            )
            return section
        value = read_value
        element = cells.get("ticket")
        key, ticket_text = (
            (None, "") if element is None else self.ticket(value(element), table, row)
        )
        if key is None and summary_cell.jira_keys and element is None:
            # Without a ticket column, a jira macro in the action text is the row's issue
            # (Confluence's "create issue from table" puts it there). With one, a key in
            # the text is a reference ("the bug in OPS-1"), never the row's own issue.
            key = self.first_key(summary_cell.jira_keys, table, row)
        if not summary:
            detail = f" (its issue is {key})" if key else ""
            self.warn(
                "no-summary",
                f"{_where(table, row)} has no action item text{detail}, so it is not an item",
                table.index,
                row,
            )
            return section
        if summary_shared:
            self.warn(
                "merged-summary",
                f"{_where(table, row)} shares its action item cell with the row above "
                "(a merged cell); each row is a separate item with the same text",
                table.index,
                row,
            )
        element = cells.get("description")
        if element is not None:
            rest = (*rest, *content(element).lines)
        element = cells.get("owner")
        owner = None if element is None else self.owner(value(element), table, row)
        element = cells.get("due")
        due = None if element is None else self.due(value(element), table, row)
        element = cells.get("priority")
        priority = None if element is None else self.priority(value(element))
        element = cells.get("status")
        status = None if element is None else self.status(value(element), table, row)
        extra: dict[str, str] = {}
        if ticket_text and (status is None or key is None):
            # The Google SRE template writes the status after the bug: "Bug 5554823 TODO".
            ticket_status, remainder = trailing_status(ticket_text, self.statuses)
            if status is None:
                status = ticket_status
            if key is None and remainder and not is_placeholder(remainder):
                extra["ticket"] = remainder
        if status is None and summary_cell.lozenges:
            lozenge = summary_cell.lozenges[0]
            status = self.lozenge_status(lozenge.title, lozenge.colour)
        if table.extra_fields:
            for field in table.extra_fields:
                element = cells.get(field)
                if element is not None:
                    text = content(element).text
                    if text:
                        extra[field] = text
        if section:
            extra.setdefault("section", section)
        if key is not None:
            self.note_key(key, table, row)
        self.items.append(
            ActionItem(
                item_id=self.identity(summary, key),
                summary=summary,
                description="\n".join(rest) or None,
                owner=owner,
                due=due,
                priority=priority,
                status=status,
                jira_key=key,
                kind="table",
                table=table.index,
                row=row,
                extra=extra,
            )
        )
        return section

    # --- cells ------------------------------------------------------------------------

    def owner(self, content: Content, table: _Table, row: int) -> Person | None:
        if len(content.mentions) == 1 and not content.emails:
            return content.mentions[0]
        people: list[Person] = [*content.mentions, *content.emails]
        if not people:
            for line in content.lines:
                for part in _OWNER_SEPARATORS.split(line):
                    name = part.strip()
                    if name and not is_placeholder(name):
                        people.append(Person(text=name))
        if len(people) > 1:
            others = ", ".join(str(person) or "a mention" for person in people[1:])
            self.warn(
                "extra-owners",
                f"{_where(table, row)} names {len(people)} owners; the first is the owner "
                f"and the others ({others}) are ignored",
                table.index,
                row,
            )
        return people[0] if people else None

    def due(self, content: Content, table: _Table, row: int) -> dt.date | None:
        for stamp in content.times:
            date = date_from_attribute(stamp)
            if date is not None:
                return date
        if content.times and not content.lines:
            self.warn(
                "unreadable-date",
                f"{_where(table, row)}: the due date {content.times[0]!r} is not a date",
                table.index,
                row,
            )
            return None
        text = content.text
        reading = self._dates.get(text)
        if reading is None:
            reading = self._dates[text] = read_date(text, self.date_order)
        if reading.problem == "ambiguous-date":
            self.warn(
                "ambiguous-date",
                f"{_where(table, row)}: the due date {text!r} is ambiguous "
                f"({reading.reason}); pass date_order='DMY' or 'MDY' to read it",
                table.index,
                row,
            )
        elif reading.problem is not None:
            self.warn(
                "unreadable-date",
                f"{_where(table, row)}: the due date {text!r} was not read ({reading.reason})",
                table.index,
                row,
            )
        return reading.date

    def priority(self, content: Content) -> str | None:
        return self.priority_of(content.lozenges[0].title if content.lozenges else content.text)

    def priority_of(self, text: str) -> str | None:
        try:
            return self._priorities[text]
        except KeyError:
            found = self._priorities[text] = normalise_priority(text, self.priorities)
            return found

    def lozenge_status(self, title: str, colour: str | None) -> Status | None:
        key = (title, colour)
        try:
            return self._lozenge_statuses[key]
        except KeyError:
            found = status_from_lozenge(title, colour, self.statuses)
            self._lozenge_statuses[key] = found
            return found

    def text_status(self, text: str) -> Status | object | None:
        """The status ``text`` names; ``_PLACEHOLDER`` for an empty or placeholder text."""
        try:
            return self._text_statuses[text]
        except KeyError:
            found: Status | object | None = status_from_text(text, self.statuses)
            if found is None and (not text or is_placeholder(text)):
                found = _PLACEHOLDER
            self._text_statuses[text] = found
            return found

    def status(self, content: Content, table: _Table, row: int) -> Status | None:
        for lozenge in content.lozenges:
            status = self.lozenge_status(lozenge.title, lozenge.colour)
            if status is not None:
                return status
        if content.lozenges:
            self.warn(
                "unknown-status",
                f"{_where(table, row)}: the status {content.lozenges[0].title!r} is not a "
                "status pmsync knows; add it to status_map",
                table.index,
                row,
            )
            return None
        if content.checkboxes:
            done = sum(1 for box in content.checkboxes if box == "complete")
            if done == len(content.checkboxes):
                return Status.DONE
            return Status.IN_PROGRESS if done else Status.TODO
        text = content.text
        found = self.text_status(text)
        if found is _PLACEHOLDER:
            if any(name in _DONE_EMOTICONS for name in content.emoticons):
                return Status.DONE
            return None
        status = cast("Status | None", found)
        if status is None:
            self.warn(
                "unknown-status",
                f"{_where(table, row)}: the status {text!r} is not a status pmsync knows; "
                "add it to status_map",
                table.index,
                row,
            )
        return status

    def ticket(self, content: Content, table: _Table, row: int) -> tuple[str | None, str]:
        """The row's Jira key, and the ticket cell's text."""
        if content.is_empty:
            return None, ""
        keys = list(content.jira_keys)
        for href in content.hrefs:
            match = _JIRA_KEY_IN_URL.search(href)
            if match:
                keys.append(match.group(1))
        if not keys:
            keys = _JIRA_KEY_IN_TEXT.findall(content.text)
        key = self.first_key(keys, table, row) if keys else None
        return key, content.text

    def first_key(self, keys: Sequence[str], table: _Table | _TaskList, row: int) -> str | None:
        if len(keys) == 1:
            return _valid_key(keys[0])
        valid = list(dict.fromkeys(key for key in map(_valid_key, keys) if key))
        if len(valid) > 1:
            self.warn(
                "extra-keys",
                f"{_where(table, row)} names {len(valid)} Jira issues ({', '.join(valid)}); "
                f"the item is {valid[0]}",
                table.index,
                row,
            )
        return valid[0] if valid else None

    # --- task lists -------------------------------------------------------------------

    def task_list(self, task_list: etree._Element, index: int, heading: str) -> None:
        tasks = [child for child in task_list if child.tag == _AC_TASK]
        context = _TaskList(index, heading)
        for position, task in enumerate(tasks):
            self.task(task, context, position)

    def task(self, task: etree._Element, context: _TaskList, position: int) -> None:
        index = context.index
        where = _where(context, position)
        task_id: str | None = None
        checkbox = ""
        body: etree._Element | None = None
        for child in task:
            tag = child.tag
            if tag == _AC_TASK_ID:
                task_id = " ".join(all_text(child).split()) or None
            elif tag == _AC_TASK_STATUS:
                checkbox = " ".join(all_text(child).split()).casefold()
            elif tag == _AC_TASK_BODY and body is None:
                body = child
        if body is None:
            return
        content = read_content(body, keep_time_text=False, skip_task_lists=True)
        if content.is_empty:
            return
        summary, rest = _first_line(content.lines)
        if content.mentions or content.times:
            # Only words a removed mention or date left hanging: "Rotate the keys @ann by".
            summary = _DANGLING.sub("", summary).strip()
        key = self.first_key(content.jira_keys, context, position)
        if not _ALPHANUMERIC.search(summary):
            detail = f" (its issue is {key})" if key else ""
            self.warn(
                "no-summary",
                f"{where} has no text{detail}, so it is not an item",
                index,
                position,
            )
            return
        owner: Person | None = None
        people = [*content.mentions, *content.emails]
        if people:
            owner = people[0]
            if len(people) > 1:
                self.warn(
                    "extra-owners",
                    f"{where} mentions {len(people)} people; the first is the owner",
                    index,
                    position,
                )
        due = next((d for d in map(date_from_attribute, content.times) if d is not None), None)
        status: Status | None = None
        if checkbox == "complete":
            status = Status.DONE
        else:
            for lozenge in content.lozenges:
                status = self.lozenge_status(lozenge.title, lozenge.colour)
                if status is not None:
                    break
            if status is None:
                status = Status.TODO
        item_id = f"task-{task_id}" if task_id else None
        if item_id is not None and item_id in self._task_ids:
            self.warn(
                "duplicate-task-id",
                f"{where} has the task id {task_id} of an earlier task; its identity "
                "comes from its text instead",
                index,
                position,
            )
            item_id = None
        if item_id is None:
            item_id = self.identity(summary, key)
        else:
            self._task_ids.add(item_id)
            if key is not None:  # the key, when the task has one, is the stronger identity
                item_id = self.key_identity(key)
            else:
                self._ids.add(item_id)
        if key is not None:
            self.note_key(key, context, position)
        self.items.append(
            ActionItem(
                item_id=item_id,
                summary=summary,
                description="\n".join(rest) or None,
                owner=owner,
                due=due,
                priority=None,
                status=status,
                jira_key=key,
                kind="task",
                table=index,
                row=position,
                task_id=task_id,
            )
        )


#: What a row reader gets for each cell: simple_cell's reading or a template's shape.
Found = tuple[str, ...] | etree._Element | Mention | Stamp | Macro | None


class _PlainRows(NamedTuple):
    """The readers of a span-free action table's body rows (see ``plain_rows``)."""

    #: Reads a row from its cells.
    cells: Callable[[int, list[etree._Element]], None]
    #: Reads a row from what its cells hold, when the quick reader takes it.
    quick: Callable[[int, list[Found]], bool]
    #: The cells a row needs for the quick reader (the last field's column + 1).
    needed: int


#: Rows that no template reads are parsed this many at a time.
_PARSED_TOGETHER = 16
#: Templates learnt (and rows that teach none) per table, at most.
_MOST_TEMPLATES = 16


class _NotQuick(Exception):  # noqa: N818  # a signal, not an error
    """A cell that the quick row reader leaves to the general path."""


_NO_TICKET: tuple[None, str] = (None, "")


class _RowPlan(NamedTuple):
    """The cell index of each field in a span-free action table (-1: no such column)."""

    summary: int
    description: int
    owner: int
    due: int
    priority: int
    status: int
    ticket: int
    extras: tuple[tuple[str, int], ...]

    @classmethod
    def of(cls, columns: Mapping[str, int]) -> _RowPlan:
        get = columns.get
        return cls(
            get("summary", -1),
            get("description", -1),
            get("owner", -1),
            get("due", -1),
            get("priority", -1),
            get("status", -1),
            get("ticket", -1),
            tuple((field, column) for field, column in columns.items() if field not in CORE_FIELDS),
        )


def _quick_lines(found: Found) -> tuple[str, ...]:
    """A plain cell's lines (none for ``<p><br /></p>``); raises :class:`_NotQuick`
    for any other cell."""
    if isinstance(found, tuple):
        return found
    raise _NotQuick


def _quick_text(found: Found) -> str:
    """A plain cell's text on one line (``""`` for ``<p><br /></p>``); raises
    :class:`_NotQuick` for any other cell."""
    if isinstance(found, tuple):
        return " ".join(found)
    raise _NotQuick


def _quick_owner(found: Found) -> Person | None:
    """What :meth:`_PageReader.owner` reads from an empty cell or a lone mention; raises
    :class:`_NotQuick` for any other cell (owners written as text go the general way)."""
    if found == ():
        return None
    if isinstance(found, Mention):
        return found.person
    if not isinstance(found, etree._Element) or found.tag != AC_LINK or len(found) != 1:
        raise _NotQuick
    target = found[0]
    if target.tag != RI_USER:
        raise _NotQuick
    return person(target, None)


def _is_bold(cell: etree._Element) -> bool:
    """Whether all of a cell's text is inside ``<strong>`` or ``<b>``."""
    full = "".join(all_text(cell).split())
    if not full:
        return False
    bold = []
    for element in cell.iter("strong", "b"):
        if not _inside_bold(element, cell):
            bold.append("".join(all_text(element).split()))
    return "".join(bold) == full


def _inside_bold(element: etree._Element, cell: etree._Element) -> bool:
    parent = element.getparent()
    while parent is not None and parent is not cell:
        if parent.tag in ("strong", "b"):
            return True
        parent = parent.getparent()
    return False
