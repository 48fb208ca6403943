"""What reading one page collects: its items, warnings and action-item tables, and the
identity of each item. The table and task-list readers add to one :class:`PageItems`.
Pure."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any, Literal

import attrs

from pmsync._model import ActionItem, ItemTable, ParseWarning, Person, Postmortem
from pmsync._storage.vocabulary import fold_words

__all__ = ["PageItems", "Place", "TablePlace", "TaskListPlace", "digest", "where"]


@attrs.frozen
class TablePlace:
    """An action-item table being read: its index on the page, its header row, the grid
    column of each field, its width and its name in messages (``place``)."""

    index: int
    header_row: int
    columns: tuple[tuple[str, int], ...]
    width: int
    place: str
    #: Fields other than the built-in ones: they go to ``ActionItem.extra``.
    extra_fields: tuple[str, ...] = ()


@attrs.frozen
class TaskListPlace:
    """A task list under an action heading, being read."""

    index: int
    heading: str


Place = TablePlace | TaskListPlace


def where(place: Place, row: int) -> str:
    """Where a row or task is, in words: ``row 3 of the table under “Action items”``."""
    if isinstance(place, TaskListPlace):
        return f"task {row + 1} of the task list under “{place.heading}”"
    return f"row {row + 1} of {place.place}"


def digest(page_id: str | None, words: str, occurrence: int) -> str:
    """12 hex digits of a SHA-256 over the page id, the folded summary ``words`` and the
    occurrence number (left out for the first)."""
    seed = f"{page_id or ''}\x1f{words}"
    if occurrence:
        seed += f"\x1f{occurrence}"
    return hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class PageItems:
    """The items, warnings and action-item tables read so far from one page."""

    def __init__(self, page_id: str | None) -> None:
        self.page_id = page_id
        self.items: list[ActionItem] = []
        self.warnings: list[ParseWarning] = []
        self.tables: list[ItemTable] = []
        self._occurrences: dict[str, int] = {}
        self._ids: set[str] = set()
        self._task_ids: set[str] = set()
        self._keys: dict[str, tuple[Place, int]] = {}

    def postmortem(self, title: str | None) -> Postmortem:
        """What was read, as a :class:`~pmsync.Postmortem`."""
        return Postmortem(
            page_id=self.page_id,
            title=title,
            items=tuple(self.items),
            warnings=tuple(self.warnings),
            tables=tuple(self.tables),
        )

    def add(  # noqa: PLR0917  # the fields every item has, in ActionItem's order
        self,
        place: Place,
        row: int,
        item_id: str,
        summary: str,
        rest: Sequence[str],
        owner: Person | None,
        due: dt.date | None,
        **more: Any,
    ) -> None:
        """Add the item read from ``row`` of ``place``: ``rest`` are the lines of its
        description, ``more`` its other :class:`~pmsync.ActionItem` fields (its Jira key,
        ``jira_key``, is noted)."""
        key = more.get("jira_key")
        if key is not None:
            self.note_key(key, place, row)
        kind: Literal["table", "task"] = "task" if isinstance(place, TaskListPlace) else "table"
        description = "\n".join(rest) or None
        item = ActionItem(
            item_id, summary, description, owner, due, kind=kind, table=place.index, row=row, **more
        )
        self.items.append(item)

    def warn(self, code: str, message: str, place: Place | None, row: int | None) -> None:
        """Record a warning about ``row`` of ``place`` (or about the page)."""
        table = None if place is None else place.index
        self.warnings.append(ParseWarning(message=message, table=table, row=row, code=code))

    def identity(self, summary: str, key: str | None = None) -> str:
        """The item's id: its Jira ``key`` when it has one, else the digest of the page
        id and ``summary`` (with the summary's occurrence number).

        A keyed item still takes its summary's occurrence number, so writing a key into
        one of two rows with the same summary leaves the other row's id alone."""
        words = fold_words(summary)
        occurrence = self._occurrences.get(words, 0)
        self._occurrences[words] = occurrence + 1
        if key is not None:
            return self.key_identity(key)
        item_id = digest(self.page_id, words, occurrence)
        while item_id in self._ids:  # a 48-bit collision: astronomically rare, still handled
            occurrence += 1
            item_id = digest(self.page_id, words, occurrence)
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

    def task_identity(
        self, task_id: str | None, summary: str, key: str | None, place: Place, row: int
    ) -> str:
        """A task's id: its Jira key, else ``task-<task id>``, else its summary's digest
        (also for a task whose id an earlier task already has)."""
        item_id = f"task-{task_id}" if task_id else None
        if item_id is not None and item_id in self._task_ids:
            self.warn(
                "duplicate-task-id",
                f"{where(place, row)} has the task id {task_id} of an earlier task; its "
                "identity comes from its text instead",
                place,
                row,
            )
            item_id = None
        if item_id is None:
            return self.identity(summary, key)
        self._task_ids.add(item_id)
        if key is not None:  # the key, when the task has one, is the stronger identity
            return self.key_identity(key)
        self._ids.add(item_id)
        return item_id

    def note_key(self, key: str, place: Place, row: int) -> None:
        """Remember that ``row`` of ``place`` names ``key``; warn when another did."""
        first = self._keys.get(key)
        if first is None:
            self._keys[key] = (place, row)
            return
        self.warn(
            "duplicate-key",
            f"{where(place, row)}: {key} is also the issue of {where(*first)}; "
            "both items point at one issue",
            place,
            row,
        )
