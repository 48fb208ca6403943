"""Plans, changes and results: what a sync would do and what it did. Pure values.

A :class:`Plan` is a value: it prints as a table, renders in Jupyter, serialises to JSON,
and carries everything :meth:`pmsync.Syncer.apply` needs, so that the executor never
re-derives what the planner decided.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections import Counter
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import attrs

from pmsync._lease import SkippedPage
from pmsync._lint import Finding
from pmsync._model import ActionItem, ItemTable, Person, Postmortem, Status, _frozen_mapping
from pmsync._storage.edit import RowUpdate, TaskUpdate
from pmsync.config import Ownership
from pmsync.exceptions import ApplyError

if TYPE_CHECKING:
    from pmsync._cursor import Selection
    from pmsync._diff import Snapshot

__all__ = [
    "CHANGE_KINDS",
    "Change",
    "ChangeKind",
    "CommentOrphan",
    "Conflict",
    "CreateIssue",
    "MoveIssue",
    "Noop",
    "Notify",
    "NotifyAfter",
    "Operation",
    "PagePlan",
    "Plan",
    "SyncResult",
    "UpdateIssue",
    "WritePage",
    "shown_kind",
    "warning_line",
]

ChangeKind = Literal[
    "create", "update", "transition", "writeback", "conflict", "orphan", "notify", "noop"
]
#: Every kind of change, in the order plans list them.
CHANGE_KINDS: tuple[ChangeKind, ...] = (
    "create",
    "update",
    "transition",
    "writeback",
    "conflict",
    "orphan",
    "notify",
    "noop",
)


def _ro(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    # Empty ones share one mapping: a big plan holds thousands of them, each of which the
    # garbage collector would otherwise walk.
    return _frozen_mapping(value)


def _ro_optional(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if value is None else MappingProxyType(dict(value))


def _same(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    return (None if a is None else dict(a)) == (None if b is None else dict(b))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _show(value: Any, width: int = 40) -> str:
    if value is None:
        return "-"
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


@attrs.frozen
class Change:
    """One thing a sync would do (or deliberately not do) about one item or issue.

    The public, read-only view of the plan's operations (:attr:`Plan.changes`). ``kind``
    is one of ``create``, ``update``, ``transition``, ``writeback``, ``conflict``,
    ``orphan``, ``notify`` (a Slack notice; ``reason`` says to whom and when) and
    ``noop``. ``fields`` maps each field concerned to ``(old, new)``: for a
    conflict, ``(page value, Jira value)``. An owner is a Jira user id (the account id on
    Cloud, the username on Server/Data Center); ``names`` holds the display names that
    :meth:`describe` shows for them. ``resolution`` says, for a conflict, which side's
    value is kept (``page`` or ``jira``; ``report``: both stay). ``reason`` says why, for
    conflicts, orphans and no-ops (and for updates that adopt an issue or only record
    the values both sides agree on: ``bookkeeping``, an update that sends Jira no field
    and only records, in the issue's ``pmsync`` property, what both sides agree on:
    nothing a person reviews, yet it is applied, as the next three-way merge needs it).
    """

    kind: ChangeKind
    page_id: str | None
    item_id: str | None
    issue_key: str | None = None
    fields: Mapping[str, tuple[Any, Any]] = attrs.field(
        factory=dict, converter=_ro, eq=attrs.cmp_using(eq=_same), hash=False
    )
    reason: str | None = None
    summary: str | None = None
    names: Mapping[str, str] = attrs.field(
        factory=dict, converter=_ro, eq=False, hash=False, repr=False
    )
    resolution: Ownership | None = None
    bookkeeping: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this change."""
        return {
            "kind": self.kind,
            "page_id": self.page_id,
            "item_id": self.item_id,
            "issue_key": self.issue_key,
            "summary": self.summary,
            "fields": {k: [_jsonable(o), _jsonable(n)] for k, (o, n) in self.fields.items()},
            "names": dict(self.names),
            "reason": self.reason,
            "resolution": self.resolution,
            "bookkeeping": self.bookkeeping,
        }

    def describe(self, *, width: int = 40, omit: Collection[str] = ()) -> str:
        """One line saying what this change does, people by their display names.

        Values longer than ``width`` are cut; fields named in ``omit`` are left out.
        """
        what = ", ".join(
            self._describe_field(name, old, new, width)
            for name, (old, new) in self.fields.items()
            if name not in omit
        )
        parts = [p for p in (what, self.reason) if p]
        return "; ".join(parts)

    def _describe_field(self, name: str, old: Any, new: Any, width: int) -> str:
        if name == "owner":
            old, new = (self.names.get(v, v) if isinstance(v, str) else v for v in (old, new))
        if self.kind != "conflict":
            return f"{name}: {_show(old, width)} → {_show(new, width)}"
        # A conflict holds (page value, Jira value): say which one stays, not an arrow.
        page, jira = _show(old, width), _show(new, width)
        if self.resolution == "page":
            return f"{name}: page {page} kept over Jira {jira}"
        if self.resolution == "jira":
            return f"{name}: Jira {jira} kept over page {page}"
        return f"{name}: page {page}, Jira {jira}"


def _view(op: Operation) -> Change:
    return Change(
        kind=op.kind,
        page_id=op.page_id,
        item_id=op.item_id,
        issue_key=op.issue_key,
        fields=op.fields,
        reason=op.reason,
        summary=op.summary,
        names=op.names,
        resolution=op.resolution if isinstance(op, Conflict) else None,
        bookkeeping=isinstance(op, UpdateIssue) and not op.jira,
    )


@attrs.frozen(kw_only=True)
class _Operation:
    """What every operation names: the page, item and issue, and what it shows the user."""

    kind: ClassVar[ChangeKind]
    page_id: str | None
    item_id: str | None = None
    issue_key: str | None = None
    summary: str | None = None
    fields: Mapping[str, tuple[Any, Any]] = attrs.field(
        factory=dict, converter=_ro, eq=attrs.cmp_using(eq=_same), hash=False
    )
    reason: str | None = None
    #: Display names of the owners in ``fields``, by user id.
    names: Mapping[str, str] = attrs.field(
        factory=dict, converter=_ro, eq=False, hash=False, repr=False
    )

    @property
    def changes(self) -> tuple[Change, ...]:
        """The read-only view of this operation, as :attr:`Plan.changes` lists it."""
        return (_view(self),)  # type: ignore[arg-type]

    def describe(self) -> str:
        """One line saying what this operation does."""
        return _view(self).describe()  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the view, and the operation's type."""
        return {"operation": type(self).__name__, **_view(self).to_dict()}  # type: ignore[arg-type]


def _record(value: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return _ro_optional(value)


@attrs.frozen(kw_only=True)
class CreateIssue(_Operation):
    """Create the issue of a new row: ``jira`` holds the Jira fields sent, ``prop`` the
    ``pmsync`` property it is created with (docs/sync.md, "Identity")."""

    kind: ClassVar[ChangeKind] = "create"
    jira: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_ro, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )
    prop: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_record, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )


@attrs.frozen(kw_only=True)
class UpdateIssue(_Operation):
    """Edit an issue's fields (``jira``) and record the new merge base (``prop``).

    ``expect`` maps each merged field to [Jira's value when planned, the value to set]: a
    field Jira moved on meanwhile is left alone (a plan is a proposal, Jira the truth).
    """

    kind: ClassVar[ChangeKind] = "update"
    jira: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_ro, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )
    prop: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_record, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )
    expect: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_ro, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )


@attrs.frozen(kw_only=True)
class MoveIssue(_Operation):
    """Transition an issue to a status of category ``target``; ``prop`` records the
    status base. ``show_status``: whether the page shows Jira's status afterwards."""

    kind: ClassVar[ChangeKind] = "transition"
    target: Status
    prop: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_record, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )
    show_status: bool = True


@attrs.frozen(kw_only=True)
class WritePage(_Operation):
    """Write a page once: the cell ``edits`` made on the ``version`` read, and the
    resulting ``storage``, computed by the planner from one scan of the page.

    ``rows`` says what each row shows afterwards (one ``writeback`` change each);
    ``linked`` holds the item ids whose keys the page shows once written.
    """

    kind: ClassVar[ChangeKind] = "writeback"
    page_id: str
    version: int
    edits: tuple[RowUpdate | TaskUpdate, ...] = attrs.field(default=(), repr=False)
    storage: str = attrs.field(repr=False)
    rows: tuple[Change, ...] = ()
    linked: frozenset[str] = attrs.field(default=frozenset(), repr=False)

    @property
    def changes(self) -> tuple[Change, ...]:
        """One ``writeback`` change per row written (and one for a lint note)."""
        return self.rows

    def describe(self) -> str:
        """One line saying what this write does."""
        return f"page {self.page_id} version {self.version}: {len(self.rows)} row(s) written"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the page, the version read and the rows written."""
        return {
            "operation": "WritePage",
            "kind": self.kind,
            "page_id": self.page_id,
            "version": self.version,
            "rows": [row.to_dict() for row in self.rows],
        }


@attrs.frozen(kw_only=True)
class CommentOrphan(_Operation):
    """An issue whose row left its page: comment once and record it (``prop``); with no
    ``prop`` (comments are off) the orphan is only reported."""

    kind: ClassVar[ChangeKind] = "orphan"
    prop: Mapping[str, Any] | None = attrs.field(
        default=None, converter=_record, eq=attrs.cmp_using(eq=_same), hash=False, repr=False
    )


@attrs.frozen(kw_only=True)
class Conflict(_Operation):
    """A field changed on both sides; ``resolution`` says which side's value is kept
    (``report``: both stay) and ``reason`` why."""

    kind: ClassVar[ChangeKind] = "conflict"
    resolution: Ownership | None = None


@attrs.frozen(kw_only=True)
class Noop(_Operation):
    """An item that needs nothing, and why (shown with ``-v``)."""

    kind: ClassVar[ChangeKind] = "noop"


#: What a notice waits for: the issue created, the owner changed in Jira, the key written.
NotifyAfter = Literal["create", "update", "writeback"]


@attrs.frozen(kw_only=True)
class Notify(_Operation):
    """A Slack notice about one item: a direct message to ``recipient`` (the row's owner)
    saying the item's issue is theirs, and the item's line in the page's summary in
    ``channel``. Either may be ``None``.

    A notice is sent only once what it announces happened in this run (``after``): the
    issue was created by this run, the owner this run set in Jira, or (for an issue an
    earlier run created but could not announce) the page written with its key. A run that
    finds the work already done by another run announces nothing: that run did.
    """

    kind: ClassVar[ChangeKind] = "notify"
    item: ActionItem = attrs.field(repr=False)
    recipient: Person | None = None
    channel: str | None = None
    after: NotifyAfter = "create"

    @property
    def reassigned(self) -> bool:
        """Whether the notice hands an existing issue to a new owner."""
        return self.after == "update"

    def audience(self) -> str:
        """To whom the notice goes, as a plan says it."""
        who = []
        if self.recipient is not None:
            name = self.names.get(self.recipient.identity or "") or str(self.recipient)
            who.append(f"DM to {name}")
        if self.channel is not None:
            who.append(f"the {self.channel} summary")
        return " and ".join(who)

    @property
    def changes(self) -> tuple[Change, ...]:
        """The notice as a ``notify`` change: ``reason`` says to whom and when."""
        when = {
            "create": "once the issue is created",
            "update": "once the new owner is set in Jira",
            "writeback": "once the key is on the page",
        }[self.after]
        return (
            Change(
                kind="notify",
                page_id=self.page_id,
                item_id=self.item_id,
                issue_key=self.issue_key,
                summary=self.summary,
                reason=f"{self.audience()}, {when}",
            ),
        )

    def describe(self) -> str:
        """One line saying who is told, and after what."""
        return self.changes[0].describe()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: the view, the recipient, the channel and the condition."""
        recipient = self.recipient
        return {
            "operation": "Notify",
            **self.changes[0].to_dict(),
            "recipient": (
                None
                if recipient is None
                else {"identity": recipient.identity, "name": str(recipient)}
            ),
            "channel": self.channel,
            "after": self.after,
        }


#: Any operation of a plan.
Operation = (
    CreateIssue | UpdateIssue | MoveIssue | WritePage | CommentOrphan | Conflict | Notify | Noop
)


@attrs.frozen
class PagePlan:
    """A page as the plan read it: enough to write back into it and to name it."""

    page_id: str
    title: str
    version: int
    url: str | None
    storage: str = attrs.field(repr=False)
    postmortem: Postmortem = attrs.field(repr=False)

    @property
    def tables(self) -> tuple[ItemTable, ...]:
        """The action-item tables found on the page."""
        return self.postmortem.tables


def shown_kind(change: Change) -> ChangeKind:
    """How a change is listed: bookkeeping is a no-op to a reader (its reason says why)."""
    return "noop" if change.bookkeeping else change.kind


def warning_line(warning: str) -> str:
    """A warning as printed: ``warning: ...``, except that lint notes carry their own
    severity (``lint error [no-owner]: ...``) and are not called warnings twice."""
    return warning if warning.startswith("lint ") else f"warning: {warning}"


@attrs.frozen
class Plan:
    """What a sync would change, item by item. Build it with :meth:`pmsync.Syncer.plan`.

    ``changes`` lists every decision, no-ops included; ``is_empty`` is true when every
    change is a no-op; :attr:`to_review` leaves out the no-ops and the bookkeeping (updates
    that only record what both sides agree on: applied, but nothing a person reviews);
    ``warnings`` holds everything worth a human's attention (parse problems, owners that
    match no Jira user, links to missing issues...).
    """

    operations: tuple[Operation, ...] = ()
    warnings: tuple[str, ...] = ()
    pages: tuple[PagePlan, ...] = attrs.field(default=(), repr=False)
    created_at: dt.datetime | None = None
    findings: tuple[Finding, ...] = attrs.field(default=(), repr=False)
    #: Key-shaped words on the pages that are not Jira issues (``PR-1234``).
    text_keys: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    #: What the plan was made from; apply re-plans each page against it (docs/sync.md).
    snapshot: Snapshot | None = attrs.field(default=None, repr=False, eq=False)
    #: How the pages were chosen: a full pass or what changed since the cursor.
    selection: Selection | None = attrs.field(default=None, repr=False, eq=False)

    @functools.cached_property
    def changes(self) -> tuple[Change, ...]:
        """Every decision as a read-only :class:`Change`, no-ops included."""
        return tuple(change for op in self.operations for change in op.changes)

    @property
    def is_empty(self) -> bool:
        """True when applying this plan would change nothing (not even a recorded base)."""
        return all(change.kind == "noop" for change in self.changes)

    @property
    def to_review(self) -> tuple[Change, ...]:
        """The changes a person reviews: neither no-ops nor :attr:`Change.bookkeeping`."""
        return tuple(c for c in self.changes if c.kind != "noop" and not c.bookkeeping)

    def counts(self) -> dict[str, int]:
        """How many changes of each kind, in the order kinds are listed; bookkeeping
        updates count as no-ops, as they are shown."""
        found = Counter(shown_kind(change) for change in self.changes)
        return {kind: found[kind] for kind in CHANGE_KINDS if found[kind]}

    def of_kind(self, *kinds: ChangeKind) -> tuple[Change, ...]:
        """The changes of the given kinds."""
        return tuple(c for c in self.changes if c.kind in kinds)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: counts, changes (the read-only views), the operations (with
        their type and what they carry), warnings and the pages read."""
        return {
            "is_empty": self.is_empty,
            "counts": self.counts(),
            "changes": [change.to_dict() for change in self.changes],
            "operations": [op.to_dict() for op in self.operations],
            "warnings": list(self.warnings),
            "findings": [finding.to_dict() for finding in self.findings],
            "pages": [
                {"page_id": p.page_id, "title": p.title, "version": p.version, "url": p.url}
                for p in self.pages
            ],
            "created_at": self.created_at.isoformat() if self.created_at else None,
        }

    def to_json(self, **kwargs: Any) -> str:
        """The plan as JSON (``json.dumps`` keyword arguments pass through)."""
        kwargs.setdefault("indent", 2)
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def _rows(self, *, verbose: bool) -> list[tuple[str, str, str, str, str]]:
        titles = {p.page_id: p.title for p in self.pages}
        rows: list[tuple[str, str, str, str, str]] = []
        for change in self.changes:
            kind = shown_kind(change)
            if kind == "noop" and not verbose:
                continue
            rows.append(
                (
                    kind,
                    _show(titles.get(change.page_id or "", change.page_id)),
                    change.issue_key or ("(new)" if change.kind == "create" else "-"),
                    _show(change.summary),
                    change.describe(),
                )
            )
        return rows

    def render(self, *, verbose: bool = False) -> str:
        """The plan as an aligned text table; ``verbose`` also lists the no-ops."""
        counts = self.counts()
        if not self.to_review:
            head = f"Nothing to do: {counts.get('noop', 0)} item(s) in sync."
        else:
            head = "Plan: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())
        lines = [head]
        rows = self._rows(verbose=verbose)
        if rows:
            header = ("change", "page", "issue", "item", "details")
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
            lines.append(
                "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)) + "  details"
            )
            lines.extend(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[4]
                for row in rows
            )
        lines.extend(map(warning_line, self.warnings))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.render()

    def _repr_html_(self) -> str:
        esc = html.escape
        counts = ", ".join(f"{n} {kind}" for kind, n in self.counts().items()) or "nothing"
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>"
            for row in self._rows(verbose=True)
        )
        warnings = "".join(f"<li>{esc(w)}</li>" for w in self.warnings)
        return (
            f'<div class="pmsync-plan"><p><strong>pmsync plan</strong>: {esc(counts)}</p>'
            "<table><thead><tr><th>change</th><th>page</th><th>issue</th><th>item</th>"
            f"<th>details</th></tr></thead><tbody>{rows}</tbody></table>"
            + (f"<p>Warnings:</p><ul>{warnings}</ul>" if warnings else "")
            + "</div>"
        )


@attrs.frozen
class SyncResult:
    """What :meth:`pmsync.Syncer.apply` did.

    ``created``, ``updated`` (issues whose fields changed; recording the agreed base
    alone is bookkeeping) and ``transitioned`` are issue keys, ``pages_written`` page
    ids, ``conflicts`` the conflict changes met (resolved or reported), and ``errors`` one
    :class:`~pmsync.ApplyError` per change that failed, naming the page, item and cause.
    ``skipped`` lists the pages left alone because another run held their lease, and
    ``replanned`` says, per item, where what was applied differs from the plan approved
    (a person or another run changed the page or Jira in between; docs/sync.md).
    ``warnings`` are what came up while applying; the warnings found while planning
    (owners matching no Jira user, lint findings...) stay on :attr:`plan` and are
    included in :meth:`to_dict` as ``plan_warnings``.
    """

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    transitioned: tuple[str, ...] = ()
    pages_written: tuple[str, ...] = ()
    conflicts: tuple[Change, ...] = ()
    errors: tuple[ApplyError, ...] = ()
    warnings: tuple[str, ...] = ()
    plan: Plan | None = attrs.field(default=None, repr=False, eq=False)
    notified: tuple[str, ...] = ()
    skipped: tuple[SkippedPage, ...] = ()
    replanned: tuple[str, ...] = ()
    #: What a full pass found to do that the incremental runs since the last one did not
    #: look at (docs/sync.md, "Incremental reruns and the full pass").
    missed: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when no change failed."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the result."""
        return {
            "ok": self.ok,
            "created": list(self.created),
            "updated": list(self.updated),
            "transitioned": list(self.transitioned),
            "pages_written": list(self.pages_written),
            "conflicts": [c.to_dict() for c in self.conflicts],
            "errors": [
                {
                    "message": str(e),
                    "page_id": e.page_id,
                    "item_id": e.item_id,
                    "issue_key": e.issue_key,
                }
                for e in self.errors
            ],
            "warnings": list(self.warnings),
            "plan_warnings": list(self.plan.warnings) if self.plan else [],
            "notified": list(self.notified),
            "skipped": [s.to_dict() for s in self.skipped],
            "replanned": list(self.replanned),
            "missed": list(self.missed),
        }

    def to_json(self, **kwargs: Any) -> str:
        """The result as JSON."""
        kwargs.setdefault("indent", 2)
        kwargs.setdefault("ensure_ascii", False)
        return json.dumps(self.to_dict(), **kwargs)

    def __str__(self) -> str:
        lines = [
            f"created {len(self.created)}, updated {len(self.updated)}, "
            f"transitioned {len(self.transitioned)}, pages written {len(self.pages_written)}, "
            f"conflicts {len(self.conflicts)}, errors {len(self.errors)}"
        ]
        if self.created:
            lines.append("created: " + ", ".join(self.created))
        lines.extend(f"error: {e}" for e in self.errors)
        lines.extend(f"skipped: {s.describe()}" for s in self.skipped)
        lines.extend(f"replanned: {r}" for r in self.replanned)
        lines.extend(f"missed by incremental runs: {m}" for m in self.missed)
        lines.extend(map(warning_line, self.warnings))
        return "\n".join(lines)
