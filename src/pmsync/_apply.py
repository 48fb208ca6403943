"""The executor: carries out a :class:`~pmsync.Plan`. The only module that changes the world.

Order of work (DESIGN.md §5-§7): pages are handled in the plan's order (by page id) in
groups of up to 50 new issues. For each group, pmsync first looks for issues that another
run created since the plan was made (adopt-before-create), then bulk-creates the rest,
then updates, transitions and writes back page by page. One item's failure is recorded
in :attr:`~pmsync.SyncResult.errors` and the others go ahead.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pmsync._diff import JIRA_FIELD_KEYS, jira_values, with_lint_note, writeback_update
from pmsync._gateways.atlassian import (
    PROPERTY_KEY,
    ConfluenceGateway,
    CreateOutcome,
    JiraGateway,
    Page,
)
from pmsync._lint import Finding
from pmsync._model import ActionItem, JiraIssue, Postmortem, Status
from pmsync._plan import Change, PagePlan, Plan, SyncResult
from pmsync._storage.edit import JiraServer, RowUpdate, TaskUpdate, write_back
from pmsync.config import Config
from pmsync.exceptions import ApplyError, PmsyncError, ServiceError

__all__ = ["Applier", "as_read", "move_issue"]

log = logging.getLogger("pmsync")

#: How often pmsync re-reads a page that a human saved while pmsync was writing to it.
WRITEBACK_ATTEMPTS = 4
_CREATE_BATCH = 50

ParseFn = Callable[[Page], Postmortem]
StatusInfo = tuple[str, Status]
#: What to show for one item: its key, Jira's status, and Jira's owner/due/priority.
Target = tuple[str, StatusInfo | None, Mapping[str, Any]]
_CELL_VALUES = ("owner", "due", "priority")


def as_read(page: PagePlan) -> Page:
    """The page as the plan read it (the version a write must follow)."""
    return Page(
        id=page.page_id,
        title=page.title,
        version=page.version,
        storage=page.storage,
        url=page.url,
    )


def _groups(pages: Sequence[PagePlan], creates: Mapping[str, int]) -> list[list[PagePlan]]:
    """Consecutive pages whose new issues fit in one bulk create (50), one group each."""
    groups: list[list[PagePlan]] = []
    current: list[PagePlan] = []
    count = 0
    for page in pages:
        n = creates.get(page.page_id, 0)
        if current and count + n > _CREATE_BATCH:
            groups.append(current)
            current, count = [], 0
        current.append(page)
        count += n
    if current:
        groups.append(current)
    return groups


class Applier:
    """Carry out one plan. Build a new one per :meth:`pmsync.Syncer.apply` call."""

    def __init__(
        self,
        confluence: ConfluenceGateway,
        jira: JiraGateway,
        config: Config,
        *,
        parse: ParseFn,
        server: JiraServer | None,
        now: Callable[[], dt.datetime],
        findings: Sequence[Finding] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.confluence = confluence
        self.jira = jira
        self.config = config
        self.parse = parse
        self.server = server
        self.now = now
        self.findings = tuple(findings)
        self.text_keys: frozenset[str] = frozenset()
        self.progress = progress
        self.created: list[str] = []
        self.updated: list[str] = []
        self.transitioned: list[str] = []
        self.pages_written: list[str] = []
        self.conflicts: list[Change] = []
        self.errors: list[ApplyError] = []
        self.warnings: list[str] = []
        # (page id, item id) -> issue key, for issues this run created or adopted
        self.keys: dict[tuple[str, str], str] = {}
        # issue key -> Jira status after this run's transitions / creates
        self.status: dict[str, StatusInfo] = {}
        self.blocked_status: set[tuple[str, str]] = set()

    # -- entry point ---------------------------------------------------------------------

    def run(self, plan: Plan) -> SyncResult:
        """Apply every change of ``plan`` and return what happened."""
        self.text_keys = plan.text_keys
        by_page: dict[str, list[Change]] = defaultdict(list)
        for change in plan.changes:
            by_page[change.page_id or ""].append(change)
        creates = {
            page_id: sum(1 for c in changes if c.kind == "create")
            for page_id, changes in by_page.items()
        }
        done = 0
        for group in _groups(plan.pages, creates):
            self.create_group(plan, group, by_page)
            for page in group:
                self.apply_page(page, by_page.get(page.page_id, []))
                done += 1
                if self.progress is not None:
                    self.progress(done, len(plan.pages))
        return SyncResult(
            created=tuple(self.created),
            updated=tuple(dict.fromkeys(self.updated)),
            transitioned=tuple(dict.fromkeys(self.transitioned)),
            pages_written=tuple(self.pages_written),
            conflicts=tuple(self.conflicts),
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
            plan=plan,
        )

    def fail(
        self,
        message: str,
        change: Change | None = None,
        *,
        page_id: str | None = None,
        key: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        """Record one failed change; the run goes on."""
        error = ApplyError(
            message,
            page_id=page_id or (change.page_id if change else None),
            item_id=change.item_id if change else None,
            issue_key=key or (change.issue_key if change else None),
            cause=cause,
        )
        log.warning("%s", error)
        self.errors.append(error)

    # -- creating ------------------------------------------------------------------------

    def create_group(
        self, plan: Plan, group: Sequence[PagePlan], by_page: Mapping[str, Sequence[Change]]
    ) -> None:
        creates = [c for page in group for c in by_page.get(page.page_id, ()) if c.kind == "create"]
        if not creates:
            return
        try:
            recent = self.recently_created(plan)
        except PmsyncError as exc:
            for change in creates:
                self.fail(
                    f"could not check for issues created by another run: {exc}", change, cause=exc
                )
            return
        to_create: list[Change] = []
        for change in creates:
            ident = (change.page_id or "", change.item_id or "")
            if ident in recent:
                key = recent[ident]
                self.keys[ident] = key
                log.info("adopting %s, created for %s by another run", key, ident)
                self.warnings.append(
                    f"page {change.page_id}: {key} was created for this row by another pmsync "
                    "run after this plan was made; adopted it instead of creating another"
                )
            else:
                to_create.append(change)
        if not to_create:
            return
        payload = [
            {
                "fields": dict(c.jira),
                "properties": [{"key": PROPERTY_KEY, "value": dict(c.prop or {})}],
            }
            for c in to_create
        ]
        try:
            outcomes = self.jira.bulk_create(payload)
        except PmsyncError as exc:
            for change in to_create:
                self.fail(
                    f"creating the issue for {change.summary!r} failed: {exc}. Run pmsync again: "
                    "it adopts any issue Jira did create instead of making a second one",
                    change,
                    cause=exc,
                )
            return
        outcomes = self.retry_without_priority(to_create, payload, outcomes)
        new_keys = []
        for change, outcome in zip(to_create, outcomes, strict=True):
            if outcome.key is None:
                self.fail(
                    f"Jira refused to create the issue for {change.summary!r} "
                    f"(page {change.page_id}, item {change.item_id}): {outcome.error}",
                    change,
                )
                continue
            self.keys[(change.page_id or "", change.item_id or "")] = outcome.key
            self.created.append(outcome.key)
            new_keys.append(outcome.key)
        self.learn_status(new_keys)

    def retry_without_priority(
        self,
        changes: Sequence[Change],
        payload: Sequence[Mapping[str, Any]],
        outcomes: list[CreateOutcome],
    ) -> list[CreateOutcome]:
        """Create again, without a priority, the issues Jira refused for their priority.

        A page priority Jira does not know (``sev9``, ``urgent-ish``) would otherwise keep
        the action out of Jira on every run. Those elements failed, so nothing was created
        for them and a second create cannot duplicate anything.
        """
        again = [
            i
            for i, outcome in enumerate(outcomes)
            if outcome.key is None
            and "priority" in (outcome.error or "").casefold()
            and "priority" in payload[i]["fields"]
        ]
        if not again:
            return outcomes
        retry = []
        for i in again:
            fields = {k: v for k, v in payload[i]["fields"].items() if k != "priority"}
            # The base must not claim a priority Jira never got (the next run would then
            # take Jira's default for a Jira-side change and write it over the page's word).
            properties = []
            for entry in payload[i].get("properties") or ():
                value = dict(entry.get("value") or {})
                base = {k: v for k, v in (value.get("base") or {}).items() if k != "priority"}
                properties.append({**entry, "value": {**value, "base": base}})
            retry.append({**payload[i], "fields": fields, "properties": properties})
        try:
            second = self.jira.bulk_create(retry)
        except PmsyncError:
            return outcomes  # the first refusal stands and is reported
        merged = list(outcomes)
        for i, outcome in zip(again, second, strict=True):
            if outcome.key is not None:
                wanted = payload[i]["fields"]["priority"].get("name")
                self.warnings.append(
                    f"{outcome.key} ({changes[i].summary!r}, page {changes[i].page_id}) was "
                    f"created without a priority: Jira has no priority {wanted!r}; map it "
                    "with priority_map in the configuration"
                )
                merged[i] = outcome
        return merged

    def recently_created(self, plan: Plan) -> dict[tuple[str, str], str]:
        """Issues created since the plan was read, by (page id, item id)."""
        started = plan.created_at or self.now()
        minutes = max(1, math.ceil((self.now() - started).total_seconds() / 60)) + 2
        found = {}
        for issue in self.jira.recently_created(
            self.config.project, self.config.label, minutes=minutes
        ):
            prop = issue.prop or {}
            if prop.get("page_id") and prop.get("item_id"):
                found[(str(prop["page_id"]), str(prop["item_id"]))] = issue.key
        return found

    def learn_status(self, keys: Sequence[str]) -> None:
        """Read the initial status of new issues (one search), to show it on the page."""
        if not keys:
            return
        wanted = set(keys)
        try:
            quoted = ", ".join(keys)
            for issue in self.jira.search(f"key in ({quoted})", fields=("status",)):
                if issue.status and issue.status_category:
                    self.status[issue.key] = (issue.status, issue.status_category)
                    wanted.discard(issue.key)
            for key in sorted(wanted):  # not in the search index yet: read them directly
                issue = self.jira.issue(key)
                if issue.status and issue.status_category:
                    self.status[key] = (issue.status, issue.status_category)
        except PmsyncError as exc:
            self.warnings.append(
                f"could not read the status of new issues ({exc}); the "
                "next run writes it onto the page"
            )

    # -- updating ------------------------------------------------------------------------

    def key_for(self, change: Change) -> str | None:
        return change.issue_key or self.keys.get((change.page_id or "", change.item_id or ""))

    def apply_page(self, page: PagePlan, changes: Sequence[Change]) -> None:
        for change in changes:
            if change.kind == "update":
                self.apply_update(change)
            elif change.kind == "transition":
                self.apply_transition(change)
            elif change.kind == "conflict":
                self.conflicts.append(change)
            elif change.kind == "orphan" and change.prop is not None and change.issue_key:
                self.apply_orphan(page, change)
        if self.config.writeback:
            self.write_back(page, changes)

    def apply_update(self, change: Change) -> None:
        key = self.key_for(change)
        if key is None:
            return
        try:
            payload, prop = self.recheck(key, change)
            if payload:
                self.jira.edit(key, payload)
            if prop is not None:
                self.jira.set_property(key, prop)
            if not payload and prop is None:
                return
        except PmsyncError as exc:
            self.fail(
                f"updating {key} ({change.describe()}) failed: {exc}", change, key=key, cause=exc
            )
            return
        self.updated.append(key)

    def recheck(self, key: str, change: Change) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """What of an update is still to do, now (a plan is a proposal, Jira the truth).

        Fields Jira already shows are dropped; fields a person changed in Jira since the
        plan are dropped too, with a warning, and keep their old base so the next plan
        sees the conflict and resolves it by ownership. The property is written only if
        it changes.
        """
        payload = dict(change.jira)
        prop = dict(change.prop) if change.prop is not None else None
        if not change.expect and prop is None:
            return payload, None
        issue = self.jira.issue(key)
        now = jira_values(issue, cloud=self.jira.cloud)
        current = dict(issue.prop or {})
        for name, (planned_old, new) in change.expect.items():
            if now.get(name) == planned_old:
                continue
            for field in JIRA_FIELD_KEYS.get(name, ()):
                payload.pop(field, None)
            if now.get(name) != new and prop is not None:
                base = dict(prop.get("base") or {})
                old_base = (current.get("base") or {}).get(name)
                base[name] = old_base
                prop["base"] = base
                self.warnings.append(
                    f"{key}: {name} changed in Jira after the plan was made; not overwritten "
                    "(the next plan merges it again)"
                )
        if prop is not None and prop == current:
            prop = None
        return payload, prop

    def apply_transition(self, change: Change) -> None:
        key = self.key_for(change)
        ident = (change.page_id or "", change.item_id or "")
        if key is None:
            return  # its create failed and was reported
        target = Status(change.fields["status"][1])
        try:
            issue = self.jira.issue(key)
            planned = change.fields["status"][0]
            if change.issue_key and issue.status != planned and issue.status_category is not target:
                self.warnings.append(
                    f"{key}: its status changed in Jira after the plan was made ({planned} -> "
                    f"{issue.status}); not moved (the next plan shows what to do)"
                )
                return
            if issue.status_category is target and issue.status:
                self.status[key] = (issue.status, target)  # already there: nothing to move
                moved = False
            else:
                self.status[key] = self.move(key, target, issue)
                moved = True
            if change.prop is not None and dict(issue.prop or {}) != dict(change.prop):
                self.jira.set_property(key, change.prop)
            if not moved:
                return
        except PmsyncError as exc:
            self.blocked_status.add(ident)
            self.fail(
                f"moving {key} to a {target.value} status failed: {exc}", change, key=key, cause=exc
            )
            self.record_partial_move(key, change)
            return
        self.transitioned.append(key)

    def record_partial_move(self, key: str, change: Change) -> None:
        """After a failed move, record where pmsync left the issue as the status base.

        Otherwise the next run would take pmsync's own intermediate step for a person's
        Jira change and, with status owned by Jira, overwrite the page's status.
        """
        try:
            issue = self.jira.issue(key)
            prop = dict(issue.prop or change.prop or {})
            base = dict(prop.get("base") or {})
            category = issue.status_category.value if issue.status_category else None
            if not prop or base.get("status") == category:
                return
            base["status"] = category
            prop["base"] = base
            self.jira.set_property(key, prop)
        except PmsyncError as exc:
            log.warning("could not record the status of %s after a failed move: %s", key, exc)

    def move(self, key: str, target: Status, issue: JiraIssue) -> StatusInfo:
        """Take the issue to a status of category ``target`` (see :func:`move_issue`)."""
        return move_issue(self.jira, key, target, issue)

    def apply_orphan(self, page: PagePlan, change: Change) -> None:
        key = change.issue_key or ""
        try:
            self.jira.comment(
                key,
                f"The action item for this issue is no longer on the postmortem page "
                f"{page.title} ({page.url or page.page_id}). pmsync does not close or delete "
                "issues: close this one if the action is no longer needed.",
            )
            self.jira.set_property(key, change.prop or {})
        except PmsyncError as exc:
            self.fail(f"commenting on orphan {key} failed: {exc}", change, key=key, cause=exc)

    # -- write-back ----------------------------------------------------------------------

    def targets(self, page: PagePlan, changes: Sequence[Change]) -> dict[str, Target]:
        """What to show per item id on the page: its issue key, Jira status and values."""
        targets: dict[str, Target] = {}
        for change in changes:
            key = self.key_for(change)
            item_id = change.item_id or ""
            if not key or change.kind not in ("writeback", "transition"):
                continue
            if change.kind == "transition" and key not in self.status:
                continue
            status = self.status.get(key) or _planned_status(change)
            if (page.page_id, item_id) in self.blocked_status:
                status = None
            if change.jira.get("show_status") is False:
                if change.kind == "transition":
                    continue  # the page keeps its status elsewhere; nothing to write
                status = None
            values = {n: change.jira[n] for n in _CELL_VALUES if n in change.jira}
            if item_id in targets and not values:
                values = dict(targets[item_id][2])
            targets[item_id] = (key, status, values)
        return targets

    def write_back(self, page: PagePlan, changes: Sequence[Change]) -> None:
        targets = self.targets(page, changes)
        findings = [f for f in self.findings if f.page_id == page.page_id]
        if not targets and not (
            self.config.lint_writeback
            and any(c.kind == "writeback" and "lint_note" in c.fields for c in changes)
        ):
            return
        current = as_read(page)
        postmortem = page.postmortem
        for attempt in range(WRITEBACK_ATTEMPTS):
            updates = self.updates_for(postmortem.items, targets, page.postmortem.items)
            try:
                result = write_back(
                    current.storage,
                    postmortem.tables,
                    updates,
                    server=self.server,
                    text_keys=self.text_keys,
                )
            except PmsyncError as exc:
                self.fail(
                    f"page {page.title!r}: cannot write keys and status back safely: {exc}",
                    page_id=page.page_id,
                    cause=exc,
                )
                return
            for skipped in result.skipped:
                self.warnings.append(f"page {page.page_id}: {skipped.reason}")
            storage = result.storage
            if self.config.lint_writeback:
                storage = with_lint_note(storage, findings, postmortem)
            if storage == current.storage:
                return
            try:
                written = self.confluence.update_page(
                    current,
                    storage,
                    message=f"pmsync: {len(result.written)} issue key(s) and status(es)",
                )
            except PmsyncError as exc:
                self.fail(
                    f"writing back to page {page.title!r} failed: {exc}",
                    page_id=page.page_id,
                    cause=exc,
                )
                return
            if written is not None:
                self.pages_written.append(page.page_id)
                return
            # A human saved first: re-read, re-parse, recompute for their version.
            log.info(
                "page %s changed while writing back (attempt %d); re-reading",
                page.page_id,
                attempt + 1,
            )
            try:
                before = postmortem
                current = self.confluence.get_page(page.page_id)
                postmortem = self.parse(current)
                self.drop_raced(page, before, postmortem, targets)
            except PmsyncError as exc:
                self.fail(
                    f"re-reading page {page.title!r} after a conflict failed: {exc}",
                    page_id=page.page_id,
                    cause=exc,
                )
                return
        self.fail(
            f"page {page.title!r} kept changing while pmsync wrote back ({WRITEBACK_ATTEMPTS} "
            "attempts); nothing was overwritten, the next run writes the keys",
            page_id=page.page_id,
        )

    def drop_raced(
        self,
        page: PagePlan,
        before: Postmortem,
        after: Postmortem,
        targets: dict[str, Target],
    ) -> None:
        """Find rows that a concurrent run linked to its own new issue meanwhile.

        Two runs that planned before either created can both create an issue for the
        same row; only one of them can write its key into the page (the other gets a
        409). The loser sees the winner's key in the row it meant to link, and resolves
        the duplicate it created itself seconds ago.
        """
        old = {item.item_id: item for item in before.items}
        by_position = {(i.kind, i.table, i.row): i for i in after.items}
        by_summary: dict[str, list[ActionItem]] = defaultdict(list)
        for item in after.items:
            by_summary[item.summary].append(item)
        created = set(self.created)
        for item_id, (key, _, _) in list(targets.items()):
            was = old.get(item_id)
            if key not in created or was is None or was.jira_key:
                continue
            now = by_position.get((was.kind, was.table, was.row))
            if now is None or now.summary != was.summary:
                same = by_summary.get(was.summary, [])
                now = same[0] if len(same) == 1 else None
            if now is not None and now.jira_key and now.jira_key != key:
                del targets[item_id]
                if self.created_by_pmsync_for(now.jira_key, page, item_id):
                    self.resolve_duplicate(page, key, now.jira_key)
                else:
                    self.warnings.append(
                        f"page {page.page_id}: while pmsync wrote back, a person put "
                        f"{now.jira_key} into the row pmsync had just created {key} for; "
                        f"{key} was left as it is and is not linked from the page"
                    )

    def created_by_pmsync_for(self, key: str, page: PagePlan, item_id: str) -> bool:
        """Whether ``key`` is a racing pmsync run's issue for this very row."""
        try:
            issue = self.jira.issue(key)
        except PmsyncError:
            return False
        prop = issue.prop or {}
        return (
            self.config.label in issue.labels
            and str(prop.get("page_id")) == page.page_id
            and str(prop.get("item_id")) == item_id
        )

    def resolve_duplicate(self, page: PagePlan, key: str, winner: str) -> None:
        """Remove (or, without permission, retire) an issue this run just created twice."""
        self.created.remove(key)
        try:
            self.jira.delete(key)
            what = "deleted it"
        except PmsyncError:
            try:
                self.jira.retire_duplicate(key, winner, self.config.label)
                what = f"relabelled it {self.config.label}-duplicate (no permission to delete)"
            except PmsyncError as exc:
                self.fail(
                    f"{key} duplicates {winner} (a concurrent run linked the row first) and "
                    f"could not be retired: {exc}",
                    page_id=page.page_id,
                    key=key,
                    cause=exc,
                )
                return
        self.warnings.append(
            f"page {page.page_id}: a concurrent pmsync run linked {winner} to a row this run "
            f"had just created {key} for; pmsync {what}"
        )

    def still_wanted(
        self, item: ActionItem, target: Target, planned: Mapping[str, ActionItem]
    ) -> Target:
        """Drop from ``target`` the cells a person changed since the plan read the page.

        pmsync writes Jira's status, owner, due date or priority over what the plan read;
        if a person has since put something else there, their edit stands (the next run
        takes it to Jira as a page change).
        """
        before = planned.get(item.item_id)
        if before is None:
            return target
        key, status, values = target
        if status is not None and item.status != before.status:
            status = None
        kept = {}
        for name, value in values.items():
            if name == "owner":
                changed = item.owner != before.owner
            else:
                changed = getattr(item, name) != getattr(before, name)
            if changed:
                self.warnings.append(
                    f"{key}: a person changed the {name} on the page while pmsync wrote; "
                    "their value stays"
                )
            else:
                kept[name] = value
        return key, status, kept

    def updates_for(
        self,
        items: Sequence[ActionItem],
        targets: Mapping[str, Target],
        planned: Sequence[ActionItem] = (),
    ) -> list[RowUpdate | TaskUpdate]:
        """The editor updates for ``items`` (the page as it is now) from ``targets``.

        After a re-read, a row a person reworded meanwhile has a new id; it is still the
        row pmsync meant when it sits at the same place with the same owner and due date
        and has no key (``planned`` holds the items as the plan read them).
        """
        updates: list[RowUpdate | TaskUpdate] = []
        found = set()
        was = {i.item_id: i for i in planned}
        by_place = {(i.kind, i.table, i.row): i.item_id for i in planned}
        for item in items:
            target = targets.get(item.item_id)
            if target is None and item.jira_key:
                # after a re-read, an item may carry its key already (a human wrote it)
                target = next((t for t in targets.values() if t[0] == item.jira_key), None)
            if target is None and not item.jira_key:
                before = was.get(by_place.get((item.kind, item.table, item.row), ""))
                if (
                    before is not None
                    and before.item_id not in {i.item_id for i in items}
                    and _same_row(before, item)
                ):
                    target = targets.get(before.item_id)
            if target is None or target[0] in found:
                continue
            found.add(target[0])
            updates.append(writeback_update(item, *self.still_wanted(item, target, was)))
        for key, _, _ in targets.values():
            if key not in found:
                self.warnings.append(
                    f"{key}: its row was not found on the page any more (edited while pmsync "
                    "ran?); the key was not written back"
                )
        return updates


def _same_row(before: ActionItem, now: ActionItem) -> bool:
    """Whether a row at the same place is the one pmsync read, though edited meanwhile.

    The same owner, the same due date, or a summary that keeps most of its words.
    """
    if before.owner == now.owner or before.due == now.due:
        return True
    old, new = set(before.summary.casefold().split()), set(now.summary.casefold().split())
    return bool(old) and len(old & new) * 2 >= len(old)


def _planned_status(change: Change) -> StatusInfo | None:
    """The Jira status a writeback change planned to show, if any."""
    name, category = change.jira.get("status"), change.jira.get("category")
    if isinstance(name, str) and isinstance(category, str):
        return name, Status(category)
    return None


def move_issue(jira: JiraGateway, key: str, target: Status, issue: JiraIssue) -> StatusInfo:
    """Take the issue to a status of category ``target`` by the shortest route found.

    Direct transitions come first; otherwise one step through an in-progress status
    (To Do → In Progress → Done workflows). A transition is a POST and is never
    replayed blindly: after an unclear failure pmsync re-reads the issue first.
    """
    current = issue.status or "its current status"
    visited: set[str] = {current}
    for _ in range(3):
        transitions = jira.transitions(key)
        direct = [t for t in transitions if t.to_category is target]
        step = direct[0] if direct else None
        if step is None:
            via = [
                t
                for t in transitions
                if t.to_category is Status.IN_PROGRESS and t.to_status not in visited
            ]
            if not via or target is Status.IN_PROGRESS:
                names = ", ".join(f"{t.name} → {t.to_status}" for t in transitions) or "none"
                raise ApplyError(
                    f"the workflow offers no way from {current} to a {target.value} "
                    f"status (available: {names})",
                    issue_key=key,
                )
            step = via[0]
        try:
            jira.transition(key, step.id)
        except ServiceError:
            issue = jira.issue(key)  # did it land? (the POST is not replayed)
            if issue.status != step.to_status:
                raise
        visited.add(step.to_status)
        current = step.to_status
        if step.to_category is target:
            return step.to_status, target
    raise ApplyError(f"no route to a {target.value} status within 3 steps", issue_key=key)
