"""Incremental reruns: the cursor of a configuration, and what a rerun must read again.

A run that succeeded leaves a cursor: the time it started minus a safety margin (clock
skew between machines, search indexes that lag behind writes). The next run asks
Confluence and Jira only for what changed since (``lastmodified >= ...``, ``updated >=
...``) and plans those pages and the pages of those issues (docs/sync.md, "Incremental
reruns and the full pass").

The cursor also remembers the page versions pmsync itself wrote (the run after a first
sync meets thousands of them) and pages that must be planned again whatever changes
(their writes failed, or another run held them). Issues need no such record: an issue
whose fields agree with the base of its sync record holds nothing new for its page.

Pure apart from the two stores at the end (a Confluence content property, a local file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from pmsync._lease import read_time as _when
from pmsync._model import JiraIssue
from pmsync._plan import CommentOrphan, Plan, SyncResult
from pmsync._quote import cql_string, jql_string

__all__ = [
    "Cursor",
    "CursorStore",
    "FileCursorStore",
    "PageCursorStore",
    "Selection",
    "cql_since",
    "cursor_key",
    "is_quiet",
    "jql_since",
]

#: Own page writes a cursor keeps at most in a content property (Confluence caps a
#: property's value at 32 kB); writes beyond it are planned once more, which is safe.
PROPERTY_OWN_LIMIT: Final = 2000


def cursor_key(project: str, label: str, cql: str | None) -> str:
    """The name of a configuration's cursor: one per project, label and page query."""
    digest = hashlib.sha256(f"{project}\n{label}\n{cql or ''}".encode()).hexdigest()[:12]
    return f"pmsync.cursor.{digest}"


@attrs.frozen
class OwnWrites:
    """Page versions one run wrote (page id -> version), and when the run ended."""

    until: dt.datetime
    pages: Mapping[str, int] = attrs.field(factory=dict)


@attrs.frozen
class Cursor:
    """Where the last successful run of a configuration left off.

    ``since``: the next incremental run reads what changed at or after this moment.
    ``full_at``: when the last full pass started. ``zones``: the time zones Jira and
    Confluence read the accounts' date values in (learned on a full pass).
    ``own``: page versions pmsync wrote whose time may still fall inside the window.
    ``pending``: pages to plan again on the next run, changed or not. ``priorities``:
    Jira's priority names as the last full pass read them.
    """

    since: dt.datetime
    full_at: dt.datetime
    zones: Mapping[str, str] = attrs.field(factory=dict)
    own: tuple[OwnWrites, ...] = ()
    pending: frozenset[str] = frozenset()
    priorities: frozenset[str] = frozenset()

    def own_version(self, page_id: str) -> int | None:
        """The newest version of ``page_id`` pmsync wrote, if the cursor remembers one."""
        found = None
        for writes in self.own:
            found = writes.pages.get(page_id, found)
        return found

    def advanced(
        self,
        *,
        started: dt.datetime,
        ended: dt.datetime,
        margin: dt.timedelta,
        written: Mapping[str, int],
        pending: Collection[str],
        full: bool,
        zones: Mapping[str, str] | None = None,
        priorities: frozenset[str] | None = None,
    ) -> Cursor:
        """The cursor after a run that started at ``started`` (writes older than the new
        window are forgotten: the next run cannot meet them)."""
        since = max(self.since, started - margin) if not full else started - margin
        own = tuple(w for w in self.own if w.until >= since)
        if written:
            own += (OwnWrites(until=ended, pages=dict(written)),)
        return Cursor(
            since=since,
            full_at=started if full else self.full_at,
            zones=dict(zones if zones is not None else self.zones),
            own=own,
            pending=frozenset(pending),
            priorities=self.priorities if priorities is None else priorities,
        )

    def to_json(self, *, own_limit: int | None = None) -> dict[str, Any]:
        """The stored form; ``own_limit`` keeps at most that many own writes, newest first."""
        batches: list[dict[str, Any]] = []
        room = own_limit
        for writes in reversed(self.own):
            pages = list(writes.pages.items())
            if room is not None:
                pages = pages[:room]
                room -= len(pages)
            if pages:
                text = ",".join(f"{page_id}:{version}" for page_id, version in pages)
                batches.append({"until": writes.until.isoformat(), "pages": text})
        return {
            "v": 1,
            "since": self.since.isoformat(),
            "full_at": self.full_at.isoformat(),
            "zones": dict(self.zones),
            "own": batches[::-1],
            "pending": ",".join(sorted(self.pending)),
            "priorities": sorted(self.priorities),
        }

    @classmethod
    def from_json(cls, value: Any) -> Cursor | None:
        """The cursor from its stored form; None when it is missing or unreadable."""
        if not isinstance(value, Mapping):
            return None
        since, full_at = _when(value.get("since")), _when(value.get("full_at"))
        if since is None or full_at is None:
            return None
        own = []
        for batch in value.get("own") or ():
            until = _when(batch.get("until")) if isinstance(batch, Mapping) else None
            if until is None:
                continue
            pages = {}
            for pair in str(batch.get("pages") or "").split(","):
                page_id, _, version = pair.partition(":")
                if page_id and version.isdigit():
                    pages[page_id] = int(version)
            own.append(OwnWrites(until=until, pages=pages))
        zones = value.get("zones")
        pending = str(value.get("pending") or "")
        return cls(
            since=since,
            full_at=full_at,
            zones={str(k): str(v) for k, v in zones.items()} if isinstance(zones, Mapping) else {},
            own=tuple(own),
            pending=frozenset(p for p in pending.split(",") if p),
            priorities=frozenset(str(p) for p in value.get("priorities") or ()),
        )


@attrs.frozen
class Selection:
    """How a plan chose its pages: a full pass, or what changed since ``cursor``.

    ``started`` is when the run began reading (the next cursor counts from it), ``key``
    the configuration's cursor name;
    ``reason`` says why a pass was full; ``zones`` are the accounts' time zones.
    """

    full: bool
    started: dt.datetime
    key: str
    cursor: Cursor | None = None
    reason: str = ""
    zones: Mapping[str, str] = attrs.field(factory=dict)
    missed: tuple[str, ...] = ()
    priorities: frozenset[str] | None = None


def _zone(name: str | None) -> dt.tzinfo:
    try:
        return ZoneInfo(name) if name else dt.UTC
    except (ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _date_value(moment: dt.datetime, zone: str | None, *, cloud: bool) -> str:
    """``moment`` as a JQL/CQL date value in the account's time zone, floored to the minute.

    Both languages read minutes at best, in the time zone of the account searching.
    Cloud is written ``yyyy-MM-dd HH:mm``, Server/Data Center ``yyyy/MM/dd HH:mm`` (the
    form their documentation gives first; both accept either).
    """
    local = moment.astimezone(_zone(zone))
    return local.strftime("%Y-%m-%d %H:%M" if cloud else "%Y/%m/%d %H:%M")


def cql_since(moment: dt.datetime, zone: str | None = None, *, cloud: bool = True) -> str:
    """The CQL clause selecting content modified at or after ``moment``."""
    return f"lastmodified >= {cql_string(_date_value(moment, zone, cloud=cloud))}"


def jql_since(moment: dt.datetime, zone: str | None = None, *, cloud: bool = True) -> str:
    """The JQL clause selecting issues updated at or after ``moment``."""
    return f"updated >= {jql_string(_date_value(moment, zone, cloud=cloud))}"


def is_quiet(issue: JiraIssue, values: Mapping[str, Any]) -> bool:
    """Whether a changed issue holds nothing its page has not seen.

    ``values`` are the issue's fields as the merge compares them. pmsync records in the
    sync record's base what both sides agreed on after each of its own writes; an issue
    whose fields all equal that base was last changed by pmsync (or changed and changed
    back), so its page need not be read for it.
    """
    prop = issue.prop or {}
    base = prop.get("base")
    if not isinstance(base, Mapping) or not base or not prop.get("page_id"):
        return False
    return all(values.get(name) == value for name, value in base.items() if name in values)


def page_ids_of(issues: Iterable[JiraIssue]) -> set[str]:
    """The page ids the issues' sync records name."""
    return {str((i.prop or {}).get("page_id")) for i in issues if (i.prop or {}).get("page_id")}


_ACTIONS = ("create", "update", "transition", "writeback")


def missed_pages(
    plan: Plan,
    modified: Mapping[str, dt.datetime | None],
    issues: Iterable[JiraIssue],
    previous: Cursor,
) -> tuple[str, ...]:
    """What a full pass found to do on pages the incremental runs would not have read.

    A page counts when it has changes to carry out although neither it nor any of its
    issues changed since ``previous.since`` and it was not pending: a change older than
    the window (a search index that lagged longer than the margin, a clock far off) or
    a cursor that lost track. Empty when the margin is right.
    """
    recent = page_ids_of(i for i in issues if i.updated is not None and i.updated >= previous.since)
    found = []
    for page in plan.pages:
        kinds = [
            c.kind
            for op in plan.operations
            if op.page_id == page.page_id
            and (op.kind in _ACTIONS or (isinstance(op, CommentOrphan) and op.prop is not None))
            for c in op.changes
        ]
        when = modified.get(page.page_id)
        seen = (when is not None and when >= previous.since) or page.page_id in recent
        if kinds and not seen and page.page_id not in previous.pending:
            counted = ", ".join(f"{kinds.count(k)} {k}" for k in dict.fromkeys(kinds))
            found.append(f"page {page.title!r} ({page.page_id}): {counted}")
    return tuple(found)


def pending_pages(plan: Plan, result: SyncResult, keys: Collection[tuple[str, str]]) -> set[str]:
    """Pages the next run must plan whatever changes: their work is not finished.

    A change failed, another run held the lease, or a create did not happen (held back
    behind another run's announced create, or refused).
    """
    pending = {e.page_id for e in result.errors if e.page_id}
    pending.update(s.page_id for s in result.skipped)
    pending.update(
        c.page_id
        for c in plan.changes
        if c.kind == "create" and c.page_id and (c.page_id, c.item_id or "") not in keys
    )
    return pending


# -- where a cursor lives ---------------------------------------------------------------


class CursorStore(Protocol):
    """Somewhere every machine running a configuration can read and write its cursor."""

    def load(self, key: str) -> Cursor | None:
        """The cursor stored under ``key``, or None (never stored, lost, unreadable)."""

    def save(self, key: str, cursor: Cursor) -> None:
        """Store ``cursor`` under ``key`` over the previous one."""


class PropertyGateway(Protocol):
    """The part of the Confluence gateway a property store needs."""

    def content_property(self, page_id: str, key: str) -> tuple[Any, int] | None: ...

    def put_content_property(
        self, page_id: str, key: str, value: Any, *, version: int
    ) -> int | None: ...


@attrs.define
class PageCursorStore:
    """Cursors as content properties of a Confluence page named in the configuration.

    What ``Config.cursor_page`` builds. ``confluence`` reads and writes content
    properties by compare-and-set, as :class:`pmsync.PageGateway` does (a Syncer's own is
    ``syncer.confluence``); every machine running the configuration sees the cursor.
    """

    confluence: PropertyGateway
    page_id: str
    versions: dict[str, int] = attrs.field(factory=dict)

    def load(self, key: str) -> Cursor | None:
        """Read the property (one request); remember its version for the next save."""
        stored = self.confluence.content_property(self.page_id, key)
        if stored is None:
            self.versions[key] = 0
            return None
        value, self.versions[key] = stored
        return Cursor.from_json(value)

    def save(self, key: str, cursor: Cursor) -> None:
        """Write the property over the version read (one request).

        Two runs of one configuration rarely overlap (the command line takes a lock);
        when they do, the one that loses the compare-and-set writes over the winner's
        cursor, which only makes the next run read more.
        """
        value = cursor.to_json(own_limit=PROPERTY_OWN_LIMIT)
        if key not in self.versions:
            self.load(key)
        written = self.confluence.put_content_property(
            self.page_id, key, value, version=self.versions[key]
        )
        if written is None:
            self.load(key)
            written = self.confluence.put_content_property(
                self.page_id, key, value, version=self.versions[key]
            )
        self.versions[key] = written or self.versions[key]


@attrs.define
class FileCursorStore:
    """Cursors in a local JSON file (one machine only), one entry per configuration.

    What ``Config.cursor_file`` builds; ``Syncer(..., cursor=FileCursorStore(path))``
    does the same from code.
    """

    path: Path

    def _entries(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def load(self, key: str) -> Cursor | None:
        """The cursor stored under ``key``, if any."""
        return Cursor.from_json(self._entries().get(key))

    def save(self, key: str, cursor: Cursor) -> None:
        """Replace the entry atomically (a crash leaves the old file)."""
        entries = self._entries()
        entries[key] = cursor.to_json()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entries, handle, indent=1, sort_keys=True)
        Path(tmp).replace(self.path)
