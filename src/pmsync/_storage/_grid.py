"""Tables as grids: the HTML table model's placement of cells with rowspan and colspan.

The parser (over lxml elements) and the write-back editor (over scanned offsets) both
place a table's cells with :class:`Grid`, so "table N, row M, column C" means the same
cell to both by construction. Each cell takes the first free column of its row, after
the columns that cells from rows above still cover with their ``rowspan``. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, NamedTuple, TypeVar

__all__ = ["MAX_COLSPAN", "MAX_ROWSPAN", "Grid", "Slot", "slot_at", "span"]

# The HTML specification's limits; they also keep hostile markup cheap.
MAX_COLSPAN = 1000
MAX_ROWSPAN = 65534

Cell = TypeVar("Cell")


class Slot(NamedTuple, Generic[Cell]):
    """A cell placed on the grid: grid columns ``start`` to ``end`` (exclusive), the
    ``cell``, the ``row`` (``<tr>`` index) where it starts and the rows it spans."""

    start: int
    end: int
    cell: Cell
    row: int
    rowspan: int = 1

    @property
    def col(self) -> int:
        """The first grid column of the cell."""
        return self.start

    @property
    def colspan(self) -> int:
        """How many grid columns the cell covers."""
        return self.end - self.start


def span(value: str | None, limit: int, *, zero_to_end: bool = False) -> int:
    """A span attribute's value, from 1 to ``limit``. ``rowspan="0"`` (``zero_to_end``)
    reaches the end of the section (``limit``); HTML reads ``colspan="0"`` as 1, and so
    anything that is not a positive number."""
    if not value:
        return 1
    try:
        number = int(value.strip())
    except ValueError:
        return 1
    if number == 0 and zero_to_end:
        return limit
    return min(max(number, 1), limit)


class Grid(Generic[Cell]):
    """Places rows one after the other; :meth:`place` returns each row's slots."""

    __slots__ = ("_carried", "width")

    def __init__(self) -> None:
        self._carried: list[Slot[Cell]] = []  # cells reaching rows below their own
        #: The number of grid columns seen so far.
        self.width = 0

    def place(self, row: int, cells: Sequence[tuple[Cell, int, int]]) -> list[Slot[Cell]]:
        """Place the ``(cell, colspan, rowspan)`` of ``<tr>`` number ``row`` (spans as
        :func:`span` reads them); returns every slot covering that row (its own cells
        and cells spanning down from above), sorted by column."""
        covering: list[Slot[Cell]] = []
        taken: list[tuple[int, int]] = []
        if self._carried:
            covering = [slot for slot in self._carried if slot.row + slot.rowspan > row]
            self._carried = [slot for slot in covering if slot.row + slot.rowspan > row + 1]
            taken = sorted((slot.start, slot.end) for slot in covering)
        column = 0
        for cell, colspan, rowspan in cells:
            if taken:
                column = _free_column(column, taken)
            slot = Slot(column, column + colspan, cell, row, rowspan)
            covering.append(slot)
            if rowspan > 1:
                self._carried.append(slot)
            column += colspan
        if covering:
            self.width = max(self.width, *(slot.end for slot in covering))
        if taken:  # cells from rows above sit among this row's own
            covering.sort(key=_by_column)
        return covering


def _by_column(slot: Slot[Cell]) -> tuple[int, int]:
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


def slot_at(slots: Sequence[Slot[Cell]], column: int) -> Slot[Cell] | None:
    """The slot covering grid ``column``, if any (the first placed, when two overlap)."""
    for slot in slots:
        if slot.start <= column < slot.end:
            return slot
    return None
