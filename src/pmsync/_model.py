"""Frozen values that flow through pmsync: what a page says and what Jira says.

Pure: no I/O, no clock. Every class here is an immutable attrs value, so values can be
compared, hashed (except for their mappings), cached and shared between threads.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import attrs

from pmsync._record import SyncRecord

__all__ = [
    "ActionItem",
    "CreateOutcome",
    "ItemTable",
    "JiraIssue",
    "JiraUser",
    "Page",
    "ParseWarning",
    "Person",
    "Postmortem",
    "Status",
    "Transition",
]


#: The empty read-only mapping that values without extras share (nothing can change it).
NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """Copy a mapping into a read-only view so that frozen values stay frozen."""
    if value is NO_EXTRA or not value:
        return NO_EXTRA
    return MappingProxyType(dict(value))


def _optional_frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if value is None else _frozen_mapping(value)


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return (None if a is None else dict(a)) == (None if b is None else dict(b))


class Status(enum.StrEnum):
    """The three status categories pmsync understands on both sides.

    Pages say ``done``, ``WIP``, a green lozenge or a ticked checkbox; Jira workflows have
    any number of statuses. Both map onto these categories.
    """

    TODO = "todo"
    IN_PROGRESS = "in_progress"
    DONE = "done"


@attrs.frozen
class Person:
    """Someone named on a page or in Jira. Unknown parts are ``None``.

    A Cloud mention carries ``account_id``; a Server/Data Center mention carries
    ``user_key`` (``ri:userkey``) or ``username`` (``ri:username``). An owner written as
    plain text (``Platform team``, ``@mallory``) has only ``text``.
    """

    account_id: str | None = None
    user_key: str | None = None
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    text: str | None = None

    @property
    def identity(self) -> str | None:
        """The most specific identifier known, used to compare owners across syncs."""
        return (
            self.account_id
            or (f"key:{self.user_key}" if self.user_key else None)
            or self.username
            or self.email
            or self.display_name
            or self.text
        )

    def __str__(self) -> str:
        return (
            self.display_name
            or self.text
            or self.username
            or self.email
            or self.account_id
            or (f"userkey {self.user_key}" if self.user_key else "")
        )


@attrs.frozen
class ParseWarning:
    """Something on a page that pmsync read but could not use as written.

    ``table`` and ``row`` say where (both 0-based, ``row`` counting body rows; ``row`` is
    ``None`` for a warning about a whole table), ``code`` is short and machine-readable
    (``ambiguous-date``, ``extra-owners``, ``no-summary``...).
    """

    message: str
    table: int | None
    row: int | None
    code: str

    def __str__(self) -> str:
        where = []
        if self.table is not None:
            where.append(f"table {self.table + 1}")
        if self.row is not None:
            where.append(f"row {self.row + 1}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@attrs.frozen
class ActionItem:
    """One action item read from a page: a table row or a task.

    ``item_id`` is its stable identity (see the parser docs). ``table`` and ``row`` are
    0-based positions: for ``kind="table"``, the index of the ``<table>`` among all tables
    on the page in document order and the body row within it; for ``kind="task"``, the
    index of the ``<ac:task-list>`` among all task lists and the task within it.
    ``extra`` holds other recognised columns, such as ``type``.
    """

    item_id: str
    summary: str
    description: str | None = None
    owner: Person | None = None
    due: dt.date | None = None
    priority: str | None = None
    status: Status | None = None
    jira_key: str | None = None
    kind: Literal["table", "task"] = "table"
    table: int = 0
    row: int = 0
    extra: Mapping[str, str] = attrs.field(
        factory=dict, converter=_frozen_mapping, hash=False, eq=attrs.cmp_using(eq=_same)
    )
    #: For tasks: the ``ac:task-id`` of the task, used to find it again for write-back.
    task_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this item."""
        return {
            "item_id": self.item_id,
            "summary": self.summary,
            "description": self.description,
            "owner": attrs.asdict(self.owner) if self.owner else None,
            "due": self.due.isoformat() if self.due else None,
            "priority": self.priority,
            "status": self.status.value if self.status else None,
            "jira_key": self.jira_key,
            "kind": self.kind,
            "table": self.table,
            "row": self.row,
            "extra": dict(self.extra),
            "task_id": self.task_id,
        }


@attrs.frozen
class ItemTable:
    """Where an action-item table's columns are, for writing cells back.

    ``index`` is the table's position among all ``<table>`` elements in document order,
    ``header_row`` the 0-based ``<tr>`` index of its header row, ``columns`` maps each
    recognised field (``summary``, ``owner``, ``due``, ``priority``, ``status``, ``ticket``,
    ``type``...) to its 0-based grid column (after ``colspan`` expansion), and ``width`` is
    the number of grid columns.
    """

    index: int
    header_row: int
    columns: Mapping[str, int] = attrs.field(
        converter=_frozen_mapping, hash=False, eq=attrs.cmp_using(eq=_same)
    )
    width: int = 0


@attrs.frozen
class Postmortem:
    """The action items of one page, with everything pmsync noticed while reading it."""

    page_id: str | None
    title: str | None
    items: tuple[ActionItem, ...] = ()
    warnings: tuple[ParseWarning, ...] = ()
    tables: tuple[ItemTable, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this postmortem."""
        return {
            "page_id": self.page_id,
            "title": self.title,
            "items": [item.to_dict() for item in self.items],
            "warnings": [attrs.asdict(w) for w in self.warnings],
        }


@attrs.frozen
class Transition:
    """A workflow transition available from an issue's current status."""

    id: str
    name: str
    to_status: str
    to_category: Status | None


@attrs.frozen
class CreateOutcome:
    """What became of one issue in a bulk create: a key, or Jira's error message."""

    key: str | None
    error: str | None = None


@attrs.frozen
class Page:
    """One Confluence page as pmsync read it."""

    id: str
    title: str
    version: int
    storage: str
    space: str | None = None
    url: str | None = None
    author: Person | None = None
    #: When the version read was saved (what CQL's ``lastmodified`` compares).
    modified: dt.datetime | None = None


@attrs.frozen
class JiraUser:
    """A Jira user: ``id`` is the accountId on Cloud and the username on Server/DC."""

    id: str
    display_name: str | None = None
    email: str | None = None
    key: str | None = None


@attrs.frozen
class JiraIssue:
    """What pmsync knows of one Jira issue, read in a single search.

    ``status_category`` is the status's category mapped to :class:`Status`. ``prop`` is
    the issue's ``pmsync`` entity property (``None`` when it has none), holding the page
    id, item id and the base of the last successful sync. ``resolution`` is the name of
    Jira's resolution when the search asked for it; ``due_moves`` how often the due date
    moved from one date to another, from the issue's changelog (``None`` when the search
    did not read the changelog).
    """

    key: str
    summary: str
    description: str | None = None
    assignee: Person | None = None
    due: dt.date | None = None
    priority: str | None = None
    status: str | None = None
    status_category: Status | None = None
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    created: dt.datetime | None = None
    resolved: dt.datetime | None = None
    updated: dt.datetime | None = None
    prop: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_optional_frozen_mapping, hash=False, eq=attrs.cmp_using(eq=_same)
    )
    url: str | None = None
    #: The issue type's name (its workflow's transitions depend on it).
    issue_type: str | None = None
    resolution: str | None = None
    due_moves: int | None = None

    @property
    def record(self) -> SyncRecord | None:
        """The issue's ``pmsync`` property, read (None when it has none)."""
        return SyncRecord.read(self.prop)
