"""The planner: page items × Jira issues × last-synced base → a :class:`~pmsync.Plan`. Pure.

No network, no clock (the time is passed in). Everything :meth:`pmsync.Syncer.plan` read
arrives as a :class:`Snapshot`; the result is a plan whose changes carry exactly what
:meth:`pmsync.Syncer.apply` must send.

The merge is three-way and per field (docs/sync.md, "Three-way merge"): the rules live
in :mod:`pmsync._merge`, the Jira REST shapes in :mod:`pmsync._payload`; this module
matches rows to issues, applies the rules per item and plans the page's write-back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Final

import attrs

from pmsync._lint import LINT_MARKER, Finding, lint_corpus, render_lint_note
from pmsync._merge import RESOLUTION, UNKNOWN, field_rule, task_status
from pmsync._model import ActionItem, JiraIssue, JiraUser, Person, Postmortem, Status
from pmsync._payload import (
    jira_description,
    jira_field,
    jira_summary,
    jira_values,
    page_body,
    property_value,
)
from pmsync._plan import (
    Change,
    ChangeKind,
    CommentOrphan,
    Conflict,
    CreateIssue,
    MoveIssue,
    Noop,
    Notify,
    NotifyAfter,
    Operation,
    PagePlan,
    Plan,
    UpdateIssue,
    WritePage,
)
from pmsync._record import SyncRecord
from pmsync._storage.edit import (
    Block,
    JiraServer,
    MarkupError,
    OwnerRef,
    PageEditor,
    RowUpdate,
    TaskUpdate,
    WriteBack,
)
from pmsync.config import FIELDS, Config

__all__ = ["Snapshot", "diff", "lint_note", "restrict", "writeback_update"]


@attrs.frozen
class _Decision:
    """What the merge of one item decided, before any change is planned."""

    new_base: dict[str, Any]
    to_jira: dict[str, Any]
    shown: dict[str, tuple[Any, Any]]
    conflicts: dict[str, tuple[Any, Any]]
    notes: list[str]
    to_page: dict[str, Any]
    status_target: str | None
    base: Mapping[str, Any] | None


@attrs.frozen
class Snapshot:
    """Everything the planner needs, as read from the services.

    ``owners`` maps each page owner's :attr:`Person.identity` to the Jira users that
    match it (none: unknown; several: ambiguous; a Cloud mention maps to its account, for
    its display name, or is absent when Jira does not know it). ``missing_keys`` are keys
    linked from pages that Jira does not know or does not show.
    """

    pages: tuple[PagePlan, ...]
    issues: tuple[JiraIssue, ...]
    owners: Mapping[str, tuple[JiraUser, ...]] = attrs.field(factory=dict)
    missing_keys: frozenset[str] = frozenset()
    #: Keys on pages whose project Jira does not know: text that looks like a key.
    not_keys: frozenset[str] = frozenset()
    #: Jira's priority names (empty: unknown, every page priority is sent as written).
    priorities: frozenset[str] = frozenset()
    cloud: bool = True
    server: JiraServer | None = None
    warnings: tuple[str, ...] = ()
    #: Whether Slack is configured: the plan then holds the notices (:class:`Notify`).
    slack: bool = False


def lint_note(findings: Sequence[Finding], postmortem: Postmortem) -> Block:
    """The page's lint note, beside the first action-item table (or removed, when there
    are no findings), for the editor to put on the page in the same pass as the rows."""
    if not findings:
        return Block(LINT_MARKER, None)
    anchor = postmortem.tables[0].index if postmortem.tables else None
    return Block(LINT_MARKER, render_lint_note(findings), after_table=anchor)


def lint_all(snapshot: Snapshot, today: dt.date) -> tuple[Finding, ...]:
    """Lint every page of a snapshot against the others (duplicates across postmortems)."""
    # Only owners nobody matches: several matches get their own plan warning (not guessed).
    unresolved = {ident for ident, users in snapshot.owners.items() if not users}
    postmortems = [page.postmortem for page in snapshot.pages]
    return lint_corpus(postmortems, today=today, unresolved=unresolved)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


#: Lint findings about an owner; the planner's own "matches no Jira user" is not repeated.
_OWNER_FINDINGS: Final = frozenset({"owner-is-team", "owner-unresolved"})
_UNASSIGNED: Final = (
    " Until then pmsync assigns nobody: a new issue stays unassigned, an existing one "
    "keeps its assignee."
)


class _Planner:
    def __init__(
        self,
        snapshot: Snapshot,
        config: Config,
        now: dt.datetime,
        findings: Sequence[Finding] | None = None,
        approved: Plan | None = None,
    ) -> None:
        self.snapshot = snapshot
        self.approved_conflicts: set[tuple[str, str, str]] | None = None
        # (page id, item id) the approved plan named; None: not a re-plan, every item
        self.allowed: set[tuple[str, str | None]] | None = None
        # page id -> the items as the approved plan read them, by place
        self.before: dict[str, dict[tuple[str, int, int], ActionItem]] = {}
        if approved is not None:
            self.approved_conflicts = {
                (c.page_id or "", c.item_id or "", name)
                for c in approved.changes
                if c.kind == "conflict"
                for name in c.fields
            }
            self.allowed = {
                (c.page_id or "", c.item_id) for c in approved.changes if c.kind != "noop"
            }
            for page in approved.pages:
                self.before[page.page_id] = {
                    (i.kind, i.table, i.row): i for i in page.postmortem.items
                }
        self.config = config
        self.now = now
        self.operations: list[Operation] = []
        self.warnings: list[str] = list(snapshot.warnings)
        self.findings = lint_all(snapshot, now.date()) if findings is None else tuple(findings)
        self.page_findings: dict[str | None, list[Finding]] = defaultdict(list)
        for finding in self.findings:
            self.page_findings[finding.page_id].append(finding)
        self.by_key = {issue.key: issue for issue in snapshot.issues}
        self.records: dict[str, SyncRecord | None] = {}
        # (page id, item id) -> a merge that the row's cells cannot change
        self.decided: dict[tuple[str, str], _Decision] = {}
        self.by_ident: dict[tuple[str, str], JiraIssue] = {}
        self.by_page: dict[str, dict[str, JiraIssue]] = defaultdict(dict)
        for issue in snapshot.issues:
            ident = self.ident(issue)
            if ident is not None:
                self.by_ident.setdefault(ident, issue)
                self.by_page[ident[0]].setdefault(issue.key, issue)
        self.matched: set[str] = set()
        # (page id, item id) -> the id a reworded row had when the approved plan read it
        self.reworded: dict[tuple[str, str], str] = {}
        # Display names by Jira user id (the assignees read, the owners resolved), so that
        # plans show people by name while their changes hold the ids Jira takes.
        self.names = {
            user.id: user.display_name
            for users in snapshot.owners.values()
            for user in users
            if user.display_name
        }
        for issue in snapshot.issues:
            assignee = issue.assignee
            user_id = assignee and (assignee.account_id if snapshot.cloud else assignee.username)
            if assignee and user_id and assignee.display_name:
                self.names[user_id] = assignee.display_name
        # Items whose owner lint flags (a team, no Jira user): one warning line per row.
        self.owner_flagged = {
            (f.page_id, f.item_id) for f in self.findings if f.code in _OWNER_FINDINGS
        }
        self.unassigned: set[tuple[str | None, str | None]] = set()
        # (page id, item id) -> Jira's status to show on the page, None when it must not
        # be written (a transition is pending, or a status conflict is only reported).
        self.page_status: dict[tuple[str, str], tuple[str, Status] | None] = {}
        # (page id, item id) -> Jira's owner / due / priority to show in the row's cells.
        self.cell_values: dict[tuple[str, str], dict[str, Any]] = {}
        # The page being planned and its one scan (docs/sync.md, "One scan per page").
        self.scanned: tuple[PagePlan, PageEditor] | None = None

    def editor(self, page: PagePlan) -> PageEditor:
        """The scan of ``page`` that all of its write-backs start from, made once.

        Raises :class:`MarkupError` when the page cannot be written safely.
        """
        if self.scanned is None or self.scanned[0] is not page:
            self.scanned = (page, PageEditor(page.storage))
        return self.scanned[1]

    def record(self, issue: JiraIssue) -> SyncRecord | None:
        """The issue's ``pmsync`` record, read once per plan."""
        if issue.key not in self.records:
            self.records[issue.key] = issue.record
        return self.records[issue.key]

    def ident(self, issue: JiraIssue) -> tuple[str, str] | None:
        record = self.record(issue)
        return record.identity if record else None

    def base(self, issue: JiraIssue) -> Mapping[str, Any]:
        record = self.record(issue)
        return record.base if record else {}

    # -- values ----------------------------------------------------------------------

    def owner_value(self, page: PagePlan, item: ActionItem) -> Any:
        """The Jira user id the page asks for, None (no owner) or UNKNOWN."""
        person = item.owner
        if person is None:
            return None
        if person.account_id and self.snapshot.cloud:
            return person.account_id
        users = self.snapshot.owners.get(person.identity or "", ())
        where = f"{page.title!r} (page {page.page_id}), {_where(item)}"
        if len(users) == 1:
            return users[0].id
        if (page.page_id, item.item_id) in self.owner_flagged:
            # Lint names the row and says what to do; its line adds what pmsync does.
            self.unassigned.add((page.page_id, item.item_id))
        elif not users:
            self.warnings.append(
                f"{where}: owner {str(person)!r} matches no Jira user; pmsync does not "
                "assign it (a new issue stays unassigned, an existing one keeps its "
                "assignee). Use a mention (@name) or the user's exact name or email."
            )
        else:
            names = ", ".join(sorted(u.display_name or u.email or u.id for u in users))
            self.warnings.append(
                f"{where}: owner {str(person)!r} matches several Jira users ({names}); "
                "pmsync does not guess. Use a mention or an email address."
            )
        return UNKNOWN

    def page_values(self, page: PagePlan, item: ActionItem) -> dict[str, Any]:
        return {
            "summary": jira_summary(item.summary),
            # No extra text in the summary cell says nothing about the issue's description:
            # it never clears one (a person may have written it in Jira).
            "description": page_body(item) or UNKNOWN,
            "owner": self.owner_value(page, item),
            "due": item.due.isoformat() if item.due else None,
            # An empty priority or status cell says nothing: it never clears Jira's value
            # (an empty status cell gets Jira's status written into it instead).
            "priority": self.priority_value(page, item),
            "status": item.status.value if item.status else UNKNOWN,
        }

    def jira_values(self, issue: JiraIssue) -> dict[str, Any]:
        return jira_values(issue, cloud=self.snapshot.cloud)

    def priority_value(self, page: PagePlan, item: ActionItem) -> Any:
        """The page's priority as a Jira priority name, or UNKNOWN (empty, or not Jira's)."""
        if not item.priority:
            return UNKNOWN
        known = self.snapshot.priorities
        if known and item.priority.casefold() not in {p.casefold() for p in known}:
            self.warnings.append(
                f"{page.title!r} (page {page.page_id}), {_where(item)}: priority "
                f"{item.priority!r} is not one of Jira's ({', '.join(sorted(known))}); "
                "map it with priority_map in the configuration. pmsync leaves the priority "
                "alone."
            )
            return UNKNOWN
        return item.priority

    # -- per item --------------------------------------------------------------------

    def run(self) -> Plan:
        for page in self.snapshot.pages:
            self.plan_page(page)
        self.plan_orphans()
        notes = [
            f"lint {f.severity} [{f.code}]: {f.message}"
            + (_UNASSIGNED if (f.page_id, f.item_id) in self.unassigned else "")
            for f in self.findings
        ]
        return Plan(
            operations=tuple(self.operations),
            warnings=tuple(dict.fromkeys(self.warnings + notes)),
            pages=self.snapshot.pages,
            created_at=self.now,
            findings=self.findings,
            text_keys=self.snapshot.not_keys,
            snapshot=self.snapshot,
        )

    def plan_page(self, page: PagePlan) -> None:
        pm = page.postmortem
        self.warnings.extend(
            f"{page.title!r} (page {page.page_id}): {warning}" for warning in pm.warnings
        )
        first_change = len(self.operations)
        seen_keys: dict[str, ActionItem] = {}
        pending: list[tuple[ActionItem, JiraIssue | None]] = []
        for item in pm.items:
            if (
                item.jira_key
                and item.jira_key in seen_keys
                and item.jira_key not in self.snapshot.not_keys
            ):
                self.warnings.append(
                    f"{page.title!r} (page {page.page_id}), {_where(item)}: {item.jira_key} is "
                    f"also linked from {_where(seen_keys[item.jira_key])}; only the first row "
                    "is synced"
                )
                self.noop(page, item, item.jira_key, "the same issue is linked from another row")
                continue
            if item.jira_key:
                seen_keys[item.jira_key] = item
            issue = self.find_issue(page, item)
            if item.jira_key in self.snapshot.not_keys:
                self.warnings.append(
                    f"{page.title!r} (page {page.page_id}), {_where(item)}: "
                    f"{item.jira_key!r} is not a Jira issue (Jira has no project "
                    f"{item.jira_key.rsplit('-', 1)[0]!r}); the row is tracked as unlinked"
                )
            elif item.jira_key and issue is None:
                self.warnings.append(
                    f"{page.title!r} (page {page.page_id}), {_where(item)}: the row links "
                    f"{item.jira_key}, which does not exist or which this account cannot see; "
                    "pmsync leaves the row alone"
                )
                self.noop(page, item, item.jira_key, "linked issue not found in Jira")
                continue
            pending.append((item, issue))
        # Rows whose identity changed before their key was written back: adopt the issue
        # with the same summary that no other row claims (otherwise: a duplicate).
        unclaimed = {
            key: issue
            for key, issue in self.by_page[page.page_id].items()
            if key not in self.matched and self.by_ident.get(self.ident(issue) or ("", "")) is issue
        }
        merges: list[tuple[ActionItem, JiraIssue]] = []
        on_page = {item.item_id for item in pm.items}
        for item, found in pending:
            issue = (
                found
                or self.adopt_by_summary(item, unclaimed)
                or self.adopt_reworded(page, item, unclaimed, on_page)
            )
            if issue is None:
                self.plan_create(page, item)
            else:
                unclaimed.pop(issue.key, None)
                merges.append((item, issue))
        shown_cells = self.cells_that_can_show_jira(page, merges)
        for item, issue in merges:
            self.plan_merge(page, item, issue, shown_cells)
        self.plan_writeback(page, first_change)
        if self.snapshot.slack:
            self.plan_notices(page, self.operations[first_change:])

    def plan_notices(self, page: PagePlan, operations: Sequence[Operation]) -> None:
        """Slack notices for the page's new and reassigned items (docs/sync.md, "Slack").

        New: an issue this plan creates, or one an earlier run created whose key the page
        write shows for the first time (that run could not announce it). Reassigned: an
        owner the page changed that this plan sets in Jira.
        """
        items = {item.item_id: item for item in page.postmortem.items}
        created = {op.item_id for op in operations if isinstance(op, CreateIssue)}
        notices: list[tuple[ActionItem, str | None, NotifyAfter]] = []
        for op in operations:
            item = items.get(op.item_id or "")
            if item is None:
                continue
            if isinstance(op, CreateIssue):
                notices.append((item, None, "create"))
            elif isinstance(op, UpdateIssue) and op.jira and "owner" in op.fields:
                notices.append((item, op.issue_key, "update"))
        for op in operations:
            if not isinstance(op, WritePage):
                continue
            for row in op.rows:
                item = items.get(row.item_id or "")
                if (
                    item is not None
                    and row.issue_key
                    and not item.jira_key
                    and item.item_id not in created
                    and (row.fields.get("jira_key") or (0,))[0] is None
                ):
                    notices.append((item, row.issue_key, "writeback"))
        channel = self.config.slack_channel
        for item, key, after in notices:
            # An owner lint flags (a team, nobody Jira knows) gets no DM: the lint says why.
            owner = None if (page.page_id, item.item_id) in self.owner_flagged else item.owner
            if owner is None and channel is None:
                continue
            self.operations.append(
                Notify(
                    page_id=page.page_id,
                    item_id=item.item_id,
                    issue_key=key,
                    summary=item.summary,
                    names=self.display_name(owner),
                    item=item,
                    recipient=owner,
                    channel=channel,
                    after=after,
                )
            )

    def display_name(self, person: Person | None) -> dict[str, str]:
        """``{identity: display name}`` for a page owner, when pmsync knows the name."""
        if person is None or not person.identity:
            return {}
        users = self.snapshot.owners.get(person.identity, ())
        name = (
            person.display_name
            or (users[0].display_name if len(users) == 1 else None)
            or self.names.get(person.account_id or "")
        )
        return {person.identity: name} if name else {}

    def cells_that_can_show_jira(
        self, page: PagePlan, merges: Sequence[tuple[ActionItem, JiraIssue]]
    ) -> set[tuple[str, str]]:
        """Which (item id, field) cells can take Jira's owner, due date or priority.

        The value only becomes the agreed base once the page shows it, so this asks the
        editor first, one update per cell: a cell holding more than a single value (notes,
        a second owner, a struck-out old date) is refused and keeps the page's value.
        """
        if not self.config.writeback:
            return set()
        wanted: dict[str, list[tuple[ActionItem, JiraIssue, Any]]] = defaultdict(list)
        for item, issue in merges:
            first = self.decide(page, item, issue, None)
            if not first.to_page:  # the cells do not matter: the merge is final
                self.decided[(page.page_id, item.item_id)] = first
            for name, value in first.to_page.items():
                wanted[name].append((item, issue, value))
        shown: set[tuple[str, str]] = set()
        for name, entries in wanted.items():  # one pass per field: one update per row
            candidates: dict[RowUpdate, str] = {}
            for item, issue, value in entries:
                update = writeback_update(item, None, None, _cell_values({name: value}, issue))
                if isinstance(update, RowUpdate):
                    candidates[update] = item.item_id
            try:
                result = self.editor(page).write(
                    page.tables, list(candidates), server=self.snapshot.server
                )
            except MarkupError:
                continue
            refused = {skipped.update for skipped in result.skipped}
            shown.update(
                (candidates[u], name)
                for u in result.written
                if isinstance(u, RowUpdate) and u not in refused
            )
        return shown

    def find_issue(self, page: PagePlan, item: ActionItem) -> JiraIssue | None:
        issue: JiraIssue | None = None
        linked = item.jira_key and item.jira_key not in self.snapshot.not_keys
        if linked:
            issue = self.by_key.get(item.jira_key or "")
        if issue is None and not linked:
            issue = self.by_ident.get((page.page_id, item.item_id))
        if issue is not None:
            self.matched.add(issue.key)
        return issue

    def adopt_by_summary(
        self, item: ActionItem, unclaimed: dict[str, JiraIssue]
    ) -> JiraIssue | None:
        wanted = _norm(jira_summary(item.summary))
        found = [
            issue
            for issue in unclaimed.values()
            if wanted
            in {
                _norm(str(self.base(issue).get("summary") or "")),
                _norm(issue.summary),
            }
        ]
        if len(found) != 1:
            return None
        self.matched.add(found[0].key)
        unclaimed.pop(found[0].key)
        return found[0]

    def adopt_reworded(
        self,
        page: PagePlan,
        item: ActionItem,
        unclaimed: dict[str, JiraIssue],
        on_page: Collection[str],
    ) -> JiraIssue | None:
        """The issue created for the row that sat here when the approved plan read the page.

        A person may reword a row while pmsync creates its issue: the row's id changes,
        and its summary no longer matches. It is still the row pmsync meant when it sits
        at the same place, its old id is gone from the page, and it keeps its owner, its
        due date or most of its words; it keeps that issue instead of getting a second
        one (docs/sync.md, "Two runs at once").
        """
        before = self.before.get(page.page_id, {}).get((item.kind, item.table, item.row))
        if item.jira_key or before is None or before.item_id in on_page:
            return None
        issue = self.by_ident.get((page.page_id, before.item_id))
        if issue is None or issue.key not in unclaimed or not _same_row(before, item):
            return None
        self.matched.add(issue.key)
        self.reworded[(page.page_id, item.item_id)] = before.item_id
        unclaimed.pop(issue.key)
        return issue

    def named(self, page_id: str, item_id: str | None) -> bool:
        """Whether a re-plan may act on this item (always, when not re-planning)."""
        item_id = self.reworded.get((page_id, item_id or ""), item_id)
        return self.allowed is None or (page_id, item_id) in self.allowed

    def add(self, kind: ChangeKind, page: PagePlan, item: ActionItem, **details: Any) -> None:
        """Plan one operation about one item of a page (owners it names by display name)."""
        where: dict[str, Any] = {
            "page_id": page.page_id,
            "item_id": item.item_id,
            "summary": item.summary,
            "names": self.owner_names(details.get("fields")),
        }
        if kind == "create":
            self.operations.append(CreateIssue(**where, **details))
        elif kind == "update":
            self.operations.append(UpdateIssue(**where, **details))
        elif kind == "transition":
            target = Status(details["fields"]["status"][1])
            self.operations.append(MoveIssue(**where, target=target, **details))
        elif kind == "conflict":
            self.operations.append(Conflict(**where, **details))
        else:
            self.operations.append(Noop(**where, **details))

    def owner_names(self, fields: Mapping[str, tuple[Any, Any]] | None) -> dict[str, str]:
        """The display names of the owners a change's ``fields`` name, by user id."""
        owners = dict(fields or {}).get("owner") or ()
        return {v: self.names[v] for v in owners if v in self.names}

    def approves(self, page: PagePlan, item: ActionItem, field: str) -> bool:
        """Whether resolving a conflict on ``field`` was approved (always, unless re-planning)."""
        approved = self.approved_conflicts
        return approved is None or (page.page_id, item.item_id, field) in approved

    def status_shown(self, page: PagePlan, item: ActionItem) -> bool:
        """Whether write-back shows Jira's status for this item on the page.

        Not when write-back is off, nor when the row's status lives elsewhere than a
        status column (a "Bug 123 DONE" cell, a lozenge in the action text): adding a
        status column beside it would show two statuses.
        """
        if not self.config.writeback:
            return False
        if item.kind == "task" or item.status is None:
            return True
        table = next((t for t in page.tables if t.index == item.table), None)
        return table is not None and "status" in table.columns

    def can_write(self, page: PagePlan, item: ActionItem, field: str) -> bool:
        """Whether Jira's value of ``field`` can be shown in the item's row."""
        if not self.config.writeback or item.kind != "table":
            return False
        if field not in ("owner", "due", "priority"):
            return False
        table = next((t for t in page.tables if t.index == item.table), None)
        return table is not None and field in table.columns

    def noop(self, page: PagePlan, item: ActionItem, key: str | None, reason: str) -> None:
        """Say why an item needs nothing (no-ops are explicit, and shown with -v)."""
        self.add("noop", page, item, issue_key=key, reason=reason)

    def plan_create(self, page: PagePlan, item: ActionItem) -> None:
        values = self.page_values(page, item)
        fields: dict[str, Any] = {
            "project": {"key": self.config.project},
            "issuetype": {"name": self.config.issue_type},
            "labels": [self.config.label],
        }
        fields.update(self.config.fields)
        if self.config.label not in fields["labels"]:
            fields["labels"] = [*fields["labels"], self.config.label]
        shown: dict[str, tuple[Any, Any]] = {}
        base: dict[str, Any] = {}
        for name in FIELDS:
            value = values[name]
            if name == "description" and value is UNKNOWN:
                base[name] = None  # created with only the link back to the page
                continue
            if value is UNKNOWN or name == "status":
                continue
            if value is None:
                base[name] = None  # recorded, so that a value added later is a page change
                continue
            fields.update(jira_field(name, value, page, item, cloud=self.snapshot.cloud))
            base[name] = value
            shown[name] = (None, value)
        fields.setdefault("description", jira_description(None, page, item))
        status = values["status"]
        base["status"] = Status.TODO.value
        if status is UNKNOWN:
            status = None
        prop = property_value(page.page_id, item.item_id, base)
        self.add("create", page, item, fields=shown, jira=fields, prop=prop)
        if status and status != Status.TODO.value:
            self.add(
                "transition",
                page,
                item,
                fields={"status": (Status.TODO.value, status)},
                prop=property_value(page.page_id, item.item_id, {**base, "status": status}),
                show_status=self.status_shown(page, item),
            )

    def decide(
        self,
        page: PagePlan,
        item: ActionItem,
        issue: JiraIssue,
        shown_cells: Collection[tuple[str, str]] | None,
    ) -> _Decision:
        """The three-way merge of one item, field by field (docs/sync.md, "Three-way merge").

        ``shown_cells`` says which of Jira's owner/due/priority values the row's cells can
        show (``None``: assume all, to find the candidates).
        """
        values = self.page_values(page, item)
        jira = self.jira_values(issue)
        record = self.record(issue)
        base: Mapping[str, Any] | None = record.base if record and record.has_base else None
        new_base: dict[str, Any] = dict(base or {})
        to_jira: dict[str, Any] = {}
        shown: dict[str, tuple[Any, Any]] = {}
        conflicts: dict[str, tuple[Any, Any]] = {}
        notes: list[str] = []
        to_page: dict[str, Any] = {}
        status_target: str | None = None
        if item.kind == "task":
            # A checkbox shows done or not done: in progress is "not done" on both sides.
            jira["status"] = task_status(jira["status"])
            if base is not None and "status" in base:
                base = {**base, "status": task_status(base["status"])}
        for name in FIELDS:
            p, j = values[name], jira[name]
            if p is UNKNOWN:
                if name == "status" and j is not None and self.status_shown(page, item):
                    # An empty status cell gets Jira's status written into it: that is
                    # then what both sides show, so it is the agreed base.
                    new_base[name] = j
                continue  # the page says nothing: leave the base as it is
            first = base is None or name not in base
            verdict = field_rule(
                name,
                p,
                j,
                base,
                ownership=self.config.ownership[name],
                linked_by_person=record is None,
            )
            if verdict.winner == "agreed":
                new_base[name] = verdict.base
                if verdict.note:
                    notes.append(verdict.note)
                continue
            winner = verdict.winner
            if verdict.conflict:
                conflicts[name] = (p, j)
            if name in conflicts and not self.approves(page, item, name):
                # Re-planning a late plan: nobody approved resolving this conflict, which
                # arose after the plan was made. Both sides stay; the next plan shows it.
                notes.append(f"{name}: changed on both sides since the plan was made")
                continue
            if winner == "report":
                notes.append(f"{name}: left as is on both sides (ownership: report)")
                continue
            if winner == "page":
                if name == "status":
                    status_target = p
                else:
                    to_jira[name] = p
                    shown[name] = (j, p)
                new_base[name] = p
            elif name == "status" and self.status_shown(page, item):
                new_base[name] = j  # Jira wins: the page shows Jira's status (write-back)
            elif name == "status":
                # The page cannot show Jira's status (write-back is off, or the page keeps
                # its status elsewhere than a status column): record the page's, so a
                # later run neither reverts Jira nor reports the same conflict again.
                if first or name in conflicts:
                    new_base[name] = p
                notes.append("status differs in Jira; the page keeps showing its own")
            elif j is not None and self.can_write(page, item, name):
                if shown_cells is None or (item.item_id, name) in shown_cells:
                    # Jira's owner, due date or priority goes into the row's cell; only
                    # then is it the agreed value.
                    new_base[name] = j
                    to_page[name] = j
                else:
                    notes.append(
                        f"{name} differs in Jira; the row's {name} cell holds more than a "
                        "single value, so the page keeps its value"
                    )
                    if name in conflicts:
                        new_base[name] = p  # reported once, not on every run
            else:
                # A summary or description, a cleared value, a task or write-back off: the
                # page keeps its value and the base stays, so the next run sees the same
                # state and never reverts Jira.
                notes.append(f"{name} differs in Jira; the page keeps its value")
                if name in conflicts:
                    # Jira owns it, but pmsync cannot write it into the page: record the
                    # page's value so the conflict is reported once, not on every run.
                    new_base[name] = p
        return _Decision(
            new_base=new_base,
            to_jira=to_jira,
            shown=shown,
            conflicts=conflicts,
            notes=notes,
            to_page=to_page,
            status_target=status_target,
            base=base,
        )

    def plan_merge(
        self,
        page: PagePlan,
        item: ActionItem,
        issue: JiraIssue,
        shown_cells: Collection[tuple[str, str]] = (),
    ) -> None:
        decision = self.decided.pop((page.page_id, item.item_id), None) or self.decide(
            page, item, issue, shown_cells
        )
        new_base, to_jira, shown = decision.new_base, decision.to_jira, decision.shown
        conflicts, notes, to_page = decision.conflicts, decision.notes, decision.to_page
        status_target, base = decision.status_target, decision.base
        record = self.record(issue)
        key = issue.key
        # The identity recorded when the issue was created stays: a row's id changes
        # once pmsync writes its key (the key then identifies it), and rewriting the
        # property for that would make every rerun after a first sync write again.
        same_page = record is not None and record.page_id == page.page_id and record.item_id
        ident = record.item_id if same_page and record and record.item_id else item.item_id
        new_prop = property_value(page.page_id, ident, new_base, record)
        for name, (p, j) in conflicts.items():
            rule = self.config.ownership[name]
            why = (
                "no sync base yet; "
                if base is None or name not in base
                else "changed on both sides; "
            )
            if not self.approves(page, item, name):
                rule, why = "report", "changed on both sides since the plan was made; "
            said = why + RESOLUTION[rule]
            shows_jira = name in to_page or (name == "status" and self.status_shown(page, item))
            if rule == "jira" and not shows_jira:
                rule, said = "report", said + ", but the page cannot show it: both stay"
            self.add(
                "conflict",
                page,
                item,
                issue_key=key,
                fields={name: (p, j)},
                reason=said,
                resolution=rule,
            )
        payload: dict[str, Any] = {}
        jira_now = self.jira_values(issue)
        expect = {name: [jira_now[name], value] for name, value in to_jira.items()}
        for name, value in to_jira.items():
            payload.update(jira_field(name, value, page, item, cloud=self.snapshot.cloud))
        if self.config.label not in issue.labels:
            payload["labels"] = [*issue.labels, self.config.label]
            shown["labels"] = (", ".join(issue.labels) or None, ", ".join(payload["labels"]))
        prop_changed = SyncRecord.read(new_prop) != record
        if status_target is not None:
            # The transition records the new status base before the page is written;
            # Jira's values the page is about to show are recorded only after it, by the
            # update below (docs/sync.md, "Two runs at once").
            early = {n: v for n, v in new_base.items() if n not in to_page}
            early.update((n, base[n]) for n in to_page if base and n in base)
            self.add(
                "transition",
                page,
                item,
                issue_key=key,
                fields={"status": (issue.status, status_target)},
                prop=property_value(page.page_id, ident, early, record),
                show_status=self.status_shown(page, item),
            )
        if payload or (prop_changed and (status_target is None or to_page)):
            reason = None
            if record is None:
                reason = "adopting an issue linked from the page"
            elif not payload:
                reason = "recording the values both sides agree on"
            self.add(
                "update",
                page,
                item,
                issue_key=key,
                fields=shown,
                jira=payload,
                prop=new_prop,
                reason=reason,
                expect=expect,
            )
        show_status = (
            status_target is None
            and self.status_shown(page, item)
            and "status" not in {n for n in conflicts if self.config.ownership[n] == "report"}
        )
        if to_page:
            self.cell_values[(page.page_id, item.item_id)] = _cell_values(to_page, issue)
        self.page_status[(page.page_id, item.item_id)] = (
            (issue.status, issue.status_category)
            if show_status and issue.status and issue.status_category
            else None
        )
        if not payload and status_target is None and not prop_changed and not conflicts:
            self.noop(page, item, key, "; ".join(notes) if notes else "in sync")

    # -- write-back ------------------------------------------------------------------

    def plan_writeback(self, page: PagePlan, first_change: int) -> None:
        """Plan the page's one write: every row's cells edited in one scan (docs/sync.md).

        A re-plan writes only the rows of the items the approved plan named.
        """
        if not self.config.writeback:
            return
        items = {item.item_id: item for item in page.postmortem.items}
        mine = [
            op
            for op in self.operations[first_change:]
            if op.page_id == page.page_id and self.named(page.page_id, op.item_id)
        ]
        rows = [
            Change(
                kind="writeback",
                page_id=page.page_id,
                item_id=op.item_id,
                fields={"jira_key": (None, "(new)")},
                summary=op.summary,
            )
            for op in mine
            if isinstance(op, CreateIssue)
        ]
        keyed: dict[str, tuple[ActionItem, str]] = {}
        for op in mine:
            if not isinstance(op, UpdateIssue | Noop | MoveIssue | Conflict):
                continue
            item = items.get(op.item_id or "")
            if item is None or not op.issue_key or item.item_id in keyed:
                continue
            keyed[item.item_id] = (item, op.issue_key)
        by_update: dict[
            RowUpdate | TaskUpdate, tuple[ActionItem, str, tuple[str, Status] | None]
        ] = {}
        for item, key in keyed.values():
            status = self.page_status.get((page.page_id, item.item_id))
            values = self.cell_values.get((page.page_id, item.item_id), {})
            update = writeback_update(item, key, status, values)
            by_update[update] = (item, key, status)
        findings: list[Finding] = []
        note: Block | None = None
        if self.config.lint_writeback and self.named(page.page_id, None):
            findings = self.page_findings[page.page_id]
            note = lint_note(findings, page.postmortem)
        try:
            result = (
                self.editor(page).write(
                    page.tables,
                    list(by_update),
                    server=self.snapshot.server,
                    text_keys=self.snapshot.not_keys,
                    block=note,
                )
                if by_update or note is not None
                else WriteBack(storage=page.storage)
            )
            noted = note is not None and bool(self.editor(page).block_edits(note))
        except MarkupError as exc:
            if by_update:
                self.warnings.append(
                    f"{page.title!r} (page {page.page_id}): the page markup is too broken to "
                    f"write keys and status back safely ({exc}); Jira is still synced"
                )
                return
            result, noted = WriteBack(storage=page.storage), False  # no note in such a page
        refused = {skipped.update for skipped in result.skipped}
        linked: set[str] = set()
        for update in result.written:
            item, key, status = by_update[update]
            shown: dict[str, tuple[Any, Any]] = {}
            if update not in refused:
                linked.add(self.reworded.get((page.page_id, item.item_id), item.item_id))
            if item.jira_key != key and update not in refused:
                shown["jira_key"] = (item.jira_key, key)
            values = self.cell_values.get((page.page_id, item.item_id), {})
            for name, value in values.items():
                if name == "owner":  # both known: Jira's only goes to a row naming a user
                    ident = value["account_id"] if self.snapshot.cloud else value["username"]
                    shown[name] = (self.owner_value(page, item), ident)
                else:
                    old = getattr(item, name)
                    shown[name] = (str(old) if old is not None else None, value)
            if status is not None and (item.status is not status[1] or not shown):
                # The lozenge is rewritten in any case; it is news when the category moved.
                shown["status"] = (item.status.value if item.status else None, status[0])
            rows.append(
                Change(
                    kind="writeback",
                    page_id=page.page_id,
                    item_id=item.item_id,
                    issue_key=key,
                    fields=shown,
                    summary=item.summary,
                    names=self.owner_names(shown),
                )
            )
        for skipped in result.skipped:
            item, key, _ = by_update[skipped.update]
            self.warnings.append(
                f"{page.title!r} (page {page.page_id}), {_where(item)}: cannot write {key} "
                f"back: {skipped.reason}"
            )
        storage = result.storage
        if noted:
            rows.append(
                Change(
                    kind="writeback",
                    page_id=page.page_id,
                    item_id=None,
                    fields={"lint_note": (None, f"{len(findings)} finding(s)")},
                    reason="the action-item check note beside the table (lint_writeback)",
                )
            )
        if rows or storage != page.storage:
            self.operations.append(
                WritePage(
                    page_id=page.page_id,
                    version=page.version,
                    edits=tuple(u for u in result.written if u not in refused),
                    storage=storage,
                    rows=tuple(rows),
                    linked=frozenset(linked),
                )
            )

    # -- orphans ---------------------------------------------------------------------

    def plan_orphans(self) -> None:
        pages = {page.page_id: page for page in self.snapshot.pages}
        for issue in self.snapshot.issues:
            record = self.record(issue)
            page = pages.get(record.page_id or "") if record else None
            if record is None or page is None or issue.key in self.matched:
                continue
            noted = record.orphan_noted
            comment = self.config.orphan_comment and not noted
            kind = CommentOrphan if comment or not noted else Noop
            self.operations.append(
                kind(
                    page_id=page.page_id,
                    item_id=record.item_id,
                    issue_key=issue.key,
                    summary=issue.summary,
                    reason=(
                        "the row is no longer on the page; pmsync never closes or deletes "
                        "issues" + ("; a comment will say so" if comment else "")
                    ),
                    **(
                        {"prop": attrs.evolve(record, orphan_noted=True).to_json()}
                        if comment
                        else {}
                    ),
                )
            )


def _cell_values(to_page: Mapping[str, Any], issue: JiraIssue) -> dict[str, Any]:
    """Jira's values for the row's cells, in the shape the editor and the plan take."""
    values: dict[str, Any] = {}
    for name, value in to_page.items():
        if name == "owner":
            person = issue.assignee or Person()
            values["owner"] = {
                "account_id": person.account_id,
                "user_key": person.user_key,
                "username": person.username,
                "display_name": person.display_name,
            }
        else:
            values[name] = value
    return values


def writeback_update(
    item: ActionItem,
    key: str | None,
    status: tuple[str, Status] | None,
    values: Mapping[str, Any] | None = None,
) -> RowUpdate | TaskUpdate:
    """The editor update that shows ``key``, Jira's ``status`` and any of Jira's owner,
    due date or priority (``values``) in an item's row or task."""
    if item.kind == "task":
        return TaskUpdate(
            task_list=item.table,
            index=item.row,
            task_id=item.task_id,
            jira_key=key,
            done=None if status is None else status[1] is Status.DONE,
        )
    values = values or {}
    owner = values.get("owner")
    return RowUpdate(
        table=item.table,
        row=item.row,
        jira_key=key,
        status=status[0] if status else None,
        category=status[1] if status else None,
        due=values.get("due"),
        owner=(
            OwnerRef(
                account_id=owner.get("account_id"),
                user_key=owner.get("user_key"),
                username=owner.get("username"),
            )
            if owner
            else None
        ),
        priority=values.get("priority"),
    )


def _same_row(before: ActionItem, now: ActionItem) -> bool:
    """Whether a row at the same place is the one pmsync read, though edited meanwhile.

    The same owner, the same due date, or a summary that keeps most of its words.
    """
    if before.owner == now.owner or before.due == now.due:
        return True
    old, new = set(before.summary.casefold().split()), set(now.summary.casefold().split())
    return bool(old) and len(old & new) * 2 >= len(old)


def _where(item: ActionItem) -> str:
    if item.kind == "task":
        return f"task {item.row + 1} of task list {item.table + 1}"
    return f"row {item.row + 1} of table {item.table + 1}"


def diff(
    snapshot: Snapshot,
    config: Config,
    *,
    now: dt.datetime,
    findings: Sequence[Finding] | None = None,
    approved: Plan | None = None,
) -> Plan:
    """Compare what the pages say with what Jira says and return the plan. Pure.

    ``findings`` are lint findings already made (a re-plan of a few pages keeps the
    findings made against the whole corpus); by default the snapshot's pages are linted.
    ``approved`` is the plan a re-plan stands in for: a conflict it did not name arose
    after it was made, and is reported, not resolved (docs/sync.md).
    """
    return _Planner(snapshot, config, now, findings, approved).run()


#: Kinds of change a re-plan makes only when the approved plan made them for that item.
_NEEDS_APPROVAL: Final = frozenset({"create", "orphan"})


def _by_item(changes: Iterable[Change]) -> dict[tuple[str | None, str], list[Change]]:
    found: dict[tuple[str | None, str], list[Change]] = defaultdict(list)
    for change in changes:
        if change.kind not in ("noop", "notify"):  # notices follow what is done
            found[(change.item_id, change.kind)].append(change)
    return found


def _said(changes: Iterable[Change]) -> str:
    return "; ".join(f"{c.kind} ({c.describe()})" for c in changes) or "nothing"


def restrict(
    fresh: Sequence[Operation], approved: Sequence[Change]
) -> tuple[list[Operation], list[str]]:
    """The fresh plan of one page, cut down to the items the approved plan named.

    The approved plan is the intent; the fresh plan (made under the page's lease) is what
    is true now (docs/sync.md, "Two runs at once"): for the items approved, what a fresh
    plan does is done (a status a person set since is moved too), except that creating an
    issue or commenting on an orphan needs the approved plan to have said so. The page
    write of a re-plan already holds only the rows of the items named. Returns the
    operations to carry out and one line per item whose changes differ from the approved.
    """
    wanted = _by_item(approved)
    items = {item_id for item_id, _ in wanted}
    kept = [
        op
        for op in fresh
        if isinstance(op, WritePage)
        or (
            op.kind != "noop"
            and op.item_id in items
            and (op.kind not in _NEEDS_APPROVAL or (op.item_id, op.kind) in wanted)
        )
    ]
    now = _by_item(c for op in kept for c in op.changes)
    differences = []
    for item_id in dict.fromkeys(item_id for item_id, _ in [*wanted, *now]):
        before = [c for (i, _), cs in wanted.items() if i == item_id for c in cs]
        after = [c for (i, _), cs in now.items() if i == item_id for c in cs]
        if [(c.kind, c.describe()) for c in before] == [(c.kind, c.describe()) for c in after]:
            continue
        name = before[0].summary if before else after[0].summary
        what = f"item {name!r}" if name else "the page"
        differences.append(
            f"{what}: the plan said {_said(before)}; applied {_said(after)} (the page or "
            "Jira changed since the plan was made)"
        )
    return kept, differences
