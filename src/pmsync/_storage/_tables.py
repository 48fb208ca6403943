"""Recognising action-item tables and reading their rows.

A table is an action-item table when a header row (``<th>`` or bold cells, or a plain
first row that is mostly header names) names an action column and an owner, due,
status, priority or ticket column. Its cells are placed on the grid with the HTML table
model (:mod:`._grid`, shared with the write-back editor), so merged cells land in the
columns a browser shows them in; each body row is then read field by field. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from lxml import etree

from pmsync._model import ItemTable
from pmsync._storage._content import EMPTY, Content, all_text, read_content, read_value
from pmsync._storage._fields import FieldReader, first_line
from pmsync._storage._grid import MAX_COLSPAN, MAX_ROWSPAN, Grid, Slot, slot_at, span
from pmsync._storage._page import PageItems, TablePlace, where
from pmsync._storage.vocabulary import (
    CORE_FIELDS,
    HeaderVocabulary,
    is_action_heading,
    is_placeholder,
    trailing_status,
)

__all__ = ["TableReader"]

_CELLS = frozenset({"td", "th"})
_SECTIONS = frozenset({"thead", "tbody", "tfoot"})
# Header names are short; a longer summary cannot be a repeated header row.
_LONGEST_HEADER = 40
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")

CellSlot = Slot[etree._Element]


def own_rows(table: etree._Element) -> Iterator[tuple[etree._Element, bool]]:
    """The table's own ``<tr>`` elements in document order (not those of nested tables),
    each with whether it sits in a ``<thead>``. Lazy: deciding that a long timeline is
    not an action-item table only touches its first rows."""
    for child in table:
        tag = child.tag
        if tag == "tr":
            yield child, False
        elif tag in _SECTIONS:
            in_head = tag == "thead"
            for row in child.iterchildren("tr"):
                yield row, in_head


def cells_of(row: etree._Element) -> list[tuple[etree._Element, int, int]]:
    """The ``<td>`` and ``<th>`` cells of a row, each with its colspan and rowspan."""
    cells = []
    for cell in row:
        if cell.tag in _CELLS:
            colspan, rowspan = cell.get("colspan"), cell.get("rowspan")
            cells.append(
                (
                    cell,
                    span(colspan, MAX_COLSPAN) if colspan else 1,
                    span(rowspan, MAX_ROWSPAN, zero_to_end=True) if rowspan else 1,
                )
            )
    return cells


def _blank_text(text: str | None) -> bool:
    if not text or text.isspace():
        return True
    return not text.isascii() and not _INVISIBLE_CHARS.sub("", text).strip()


def _is_bold(cell: etree._Element) -> bool:
    """Whether all of a cell's text is inside ``<strong>`` or ``<b>``."""
    full = "".join(all_text(cell).split())
    if not full:
        return False
    bold = [
        "".join(all_text(element).split())
        for element in cell.iter("strong", "b")
        if not any(parent.tag in ("strong", "b") for parent in _parents(element, cell))
    ]
    return "".join(bold) == full


def _parents(element: etree._Element, cell: etree._Element) -> Iterator[etree._Element]:
    parent = element.getparent()
    while parent is not None and parent is not cell:
        yield parent
        parent = parent.getparent()


class _Header(NamedTuple):
    """What the top of a table says: where its header row is (``row``, -1 when it has
    none), the grid column of each field, the rows placed so far and how many of them
    were not empty."""

    row: int
    columns: dict[str, int]
    grid: Grid[etree._Element]
    placed: list[list[CellSlot]]
    non_empty: int


class TableReader:
    """Reads the tables of one page into ``page``."""

    def __init__(self, page: PageItems, fields: FieldReader, vocabulary: HeaderVocabulary) -> None:
        self.page = page
        self.fields = fields
        self.vocabulary = vocabulary
        self._contents: dict[etree._Element, Content] = {}

    def content(self, cell: etree._Element) -> Content:
        """What a header-area cell holds (read once: header tests ask more than once)."""
        found = self._contents.get(cell)
        if found is None:
            found = self._contents[cell] = read_content(cell)
        return found

    def is_blank(self, cell: etree._Element) -> bool:
        """Whether a cell shows nothing."""
        if len(cell) == 0:
            return _blank_text(cell.text)
        return self.content(cell).is_empty

    # --- recognition --------------------------------------------------------------------

    def find_header(self, rows: Iterator[tuple[etree._Element, bool]]) -> _Header:
        """Find the header row: the first row of ``<th>`` (or bold) cells that names an
        action item column and an owner, due, status, priority or ticket column."""
        grid: Grid[etree._Element] = Grid()
        placed: list[list[CellSlot]] = []
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
            break
        return _Header(-1, {}, grid, placed, non_empty)

    def is_header_like(self, cells: Iterable[etree._Element]) -> bool:
        """All cells ``<th>``, or bold ``<td>`` (Server/DC pages often do that), or empty."""
        return all(cell.tag == "th" or self.is_blank(cell) or _is_bold(cell) for cell in cells)

    def header_columns(self, own: list[CellSlot]) -> dict[str, int]:
        """The grid column of each field a header row names."""
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

    def reads_as_header(self, own: list[CellSlot], found: dict[str, int]) -> bool:
        """A plain first row counts as the header when most of its cells are header names."""
        named = sum(1 for slot in own if not self.is_blank(slot.cell))
        recognised = sum(1 for slot in own if self.vocabulary.field(self.content(slot.cell).text))
        return len(found) >= 2 and recognised * 2 >= named

    def repeats_header(self, own: list[etree._Element]) -> bool:
        """Whether a body row is another header row (all ``<th>``/bold, mostly names)."""
        non_empty = [cell for cell in own if not self.is_blank(cell)]
        named = sum(1 for cell in non_empty if self.vocabulary.field(self.content(cell).text))
        return named * 2 >= len(non_empty) and self.is_header_like(own)

    # --- reading ------------------------------------------------------------------------

    def read(self, table: etree._Element, index: int, heading: str | None) -> bool:
        """Read table number ``index`` (under ``heading``); whether it is an action-item
        table."""
        rows = own_rows(table)
        place = f"the table under “{heading}”" if heading else f"table {index + 1}"
        header = self.find_header(rows)  # consumes the rows up to the header
        if header.row < 0:
            if heading and header.non_empty >= 2 and is_action_heading(heading):
                self.page.warn(
                    "unrecognised-table",
                    f"{place[0].upper()}{place[1:]} (table {index + 1} on the page) is not "
                    "read as an action-item table: no header row names an action item "
                    "column and an owner, due, status, priority or ticket column; add "
                    "your header names with columns=",
                    TablePlace(index, -1, (), 0, place),
                    None,
                )
            return False
        grid, placed = header.grid, header.placed
        for tr, _ in rows:
            placed.append(grid.place(len(placed), cells_of(tr)))
        fields = sorted(header.columns.items(), key=lambda field: field[1])
        extras = tuple(field for field in header.columns if field not in CORE_FIELDS)
        self.page.tables.append(ItemTable(index, header.row, header.columns, grid.width))
        columns = tuple(header.columns.items())
        context = TablePlace(index, header.row, columns, grid.width, place, extras)
        section: str | None = None
        for position in range(header.row + 1, len(placed)):
            slots = placed[position]
            located = {}
            taken: set[int] = set()
            summary_shared = False
            for field, column in fields:
                slot = slot_at(slots, column)
                # A cell spanning columns gives its value to the first field it covers.
                if slot is not None and slot.row > header.row and id(slot) not in taken:
                    taken.add(id(slot))
                    located[field] = slot.cell
                    if field == "summary":
                        summary_shared = slot.row < position
            own = [slot for slot in slots if slot.row == position]
            # A section label: one cell across the whole table ("Short term").
            label = None
            if len(own) == 1 and own[0].start == 0 and own[0].end >= grid.width > 1:
                label = None if self.is_blank(own[0].cell) else own[0].cell
            section = self.row(
                context,
                position - header.row - 1,
                cells=located,
                own=[slot.cell for slot in own],
                label=label,
                summary_shared=summary_shared,
                section=section,
            )
        return True

    def row(
        self,
        table: TablePlace,
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
        page, fields = self.page, self.fields
        summary_element = cells.get("summary")
        summary_cell = EMPTY if summary_element is None else read_content(summary_element)
        if not summary_cell.lines and all(self.is_blank(cell) for cell in own):
            return section  # an empty row: nothing to say
        if label is not None:
            return read_content(label).text or section
        summary, rest = first_line(summary_cell.lines)
        if (
            len(summary) <= _LONGEST_HEADER
            and self.vocabulary.field(summary) == "summary"
            and self.repeats_header(own)
        ):
            page.warn(
                "repeated-header",
                f"{where(table, row)} looks like another header row, so it is not an item",
                table,
                row,
            )
            return section
        element = cells.get("ticket")
        key, ticket_text = (
            (None, "") if element is None else fields.ticket(read_value(element), table, row)
        )
        if element is None:
            # Without a ticket column, the issue in the action text is the row's own
            # (Confluence's "create issue from table" puts a jira macro there). With one,
            # a key in the text is a reference ("the bug in OPS-1"), never the row's issue.
            key, summary = fields.action_key(summary_cell, summary, table, row)
        if not summary:
            detail = f" (its issue is {key})" if key else ""
            page.warn(
                "no-summary",
                f"{where(table, row)} has no action item text{detail}, so it is not an item",
                table,
                row,
            )
            return section
        if summary_shared:
            page.warn(
                "merged-summary",
                f"{where(table, row)} shares its action item cell with the row above "
                "(a merged cell); each row is a separate item with the same text",
                table,
                row,
            )
        element = cells.get("description")
        if element is not None:
            rest = (*rest, *read_content(element).lines)
        element = cells.get("owner")
        owner = None if element is None else fields.owner(read_value(element), table, row)
        if owner is None:
            owner, summary = fields.typed_owner(summary, table, row)
        element = cells.get("due")
        due = None if element is None else fields.due(read_value(element), table, row)
        element = cells.get("priority")
        priority = None if element is None else fields.priority(read_value(element))
        element = cells.get("status")
        status = None if element is None else fields.status(read_value(element), table, row)
        extra: dict[str, str] = {}
        if ticket_text and (status is None or key is None):
            # The Google SRE template writes the status after the bug: "Bug 5554823 TODO".
            ticket_status, remainder = trailing_status(ticket_text, fields.statuses)
            if status is None:
                status = ticket_status
            if key is None and remainder and not is_placeholder(remainder):
                extra["ticket"] = remainder
        if status is None and summary_cell.lozenges:
            status = fields.lozenge_status(summary_cell.lozenges[:1])
        for field in table.extra_fields:
            element = cells.get(field)
            if element is not None:
                text = read_content(element).text
                if text:
                    extra[field] = text
        if section:
            extra.setdefault("section", section)
        found = {"priority": priority, "status": status, "jira_key": key, "extra": extra}
        page.add(table, row, page.identity(summary, key), summary, rest, owner, due, **found)
        return section
