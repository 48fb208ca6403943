"""Tables as grids: rows, cells and the standard HTML rowspan/colspan placement.

The write-back editor finds cells by the grid columns computed here, so this follows
the HTML table model exactly: each cell takes the first free column of its row, after
the columns that cells from rows above still cover with their ``rowspan``. Pure.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from lxml import etree

__all__ = ["Grid", "Slot", "cells_of", "own_rows", "slot_at"]

# The HTML specification's limits; they also keep hostile markup cheap.
MAX_COLSPAN = 1000
MAX_ROWSPAN = 65534

_CELLS = frozenset({"td", "th"})
_SECTIONS = frozenset({"thead", "tbody", "tfoot"})


class Slot(NamedTuple):
    """A cell placed on the grid: grid columns ``start`` to ``end`` (exclusive), the
    ``cell`` element and the ``row`` (``<tr>`` index) where the cell starts."""

    start: int
    end: int
    cell: etree._Element
    row: int


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
            for row in child.iterchildren("tr"):  # the tag test runs in C
                yield row, in_head


def cells_of(row: etree._Element) -> list[etree._Element]:
    """The ``<td>`` and ``<th>`` cells of a row."""
    return [cell for cell in row if cell.tag in _CELLS]


def _span(value: str | None, limit: int, *, zero_to_end: bool = False) -> int:
    """A span attribute's value, from 1 to ``limit``. ``rowspan="0"`` (``zero_to_end``)
    reaches the end of the section; HTML reads ``colspan="0"`` as 1."""
    if not value:
        return 1
    try:
        span = int(value.strip())
    except ValueError:
        return 1
    if span == 0 and zero_to_end:
        return limit
    return min(max(span, 1), limit)


class Grid:
    """Places rows one after the other; :meth:`place` returns each row's slots."""

    __slots__ = ("_carried", "width")

    def __init__(self) -> None:
        self._carried: list[tuple[Slot, int]] = []  # (slot, last row it covers)
        #: The number of grid columns seen so far.
        self.width = 0

    def place(self, row: int, cells: list[etree._Element]) -> list[Slot]:
        """Place the cells of ``<tr>`` number ``row``; returns every slot covering that
        row (its own cells and cells spanning down from above), sorted by column."""
        covering = [slot for slot, last in self._carried if last >= row]
        self._carried = [(slot, last) for slot, last in self._carried if last > row]
        taken = sorted((slot.start, slot.end) for slot in covering)
        column = 0
        for cell in cells:
            column = _free_column(column, taken)
            colspan = _span(cell.get("colspan"), MAX_COLSPAN)
            rowspan = _span(cell.get("rowspan"), MAX_ROWSPAN, zero_to_end=True)
            slot = Slot(column, column + colspan, cell, row)
            covering.append(slot)
            if rowspan > 1:
                self._carried.append((slot, row + rowspan - 1))
            column += colspan
        if covering:
            self.width = max(self.width, *(slot.end for slot in covering))
        covering.sort(key=_by_column)
        return covering


def _by_column(slot: Slot) -> tuple[int, int]:
    return slot.start, slot.end


def _free_column(column: int, taken: list[tuple[int, int]]) -> int:
    moved = True
    while moved:
        moved = False
        for start, end in taken:
            if start <= column < end:
                column = end
                moved = True
    return column


def slot_at(slots: list[Slot], column: int) -> Slot | None:
    """The slot covering grid ``column``, if any."""
    for slot in slots:
        if slot.start <= column < slot.end:
            return slot
    return None
