"""The executor: carries out a :class:`~pmsync.Plan`. The only module that changes the world.

Pages with something to write are handled in the plan's order, in groups whose new issues
fit one bulk create (50). For each page, the run first takes the page's lease (announcing
the creates it is about to make), then re-reads the page and its issues and re-plans
them, and carries out the fresh plan restricted to the items the approved plan named:
creates, updates, transitions, then the page write; then it releases the lease
(docs/sync.md, "Two runs at once"). One item's failure is recorded in
:attr:`~pmsync.SyncResult.errors` and the others go ahead.

The groups are independent units of work, so ``concurrency`` of them run at once on a
thread pool, each on an :class:`Applier` of its own that shares only the run's
settings, gateways and pacing; their results are merged in the plan's order, so the
result does not depend on which finished first (docs/sync.md, "Concurrency").
"""

from __future__ import annotations

import contextvars
import copy
import datetime as dt
import logging
import math
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import attrs

from pmsync._diff import diff, restrict
from pmsync._gateways._transport import Pacing
from pmsync._gateways.atlassian import PROPERTY_KEY
from pmsync._lease import LEASE_KEY, Lease, SkippedPage
from pmsync._lint import Finding
from pmsync._model import (
    CreateOutcome,
    JiraIssue,
    Page,
    Postmortem,
    Status,
    Transition,
)
from pmsync._payload import JIRA_FIELD_KEYS, jira_values
from pmsync._plan import (
    Change,
    CommentOrphan,
    Conflict,
    CreateIssue,
    MoveIssue,
    Operation,
    PagePlan,
    Plan,
    SyncResult,
    UpdateIssue,
    WritePage,
)
from pmsync._ports import IssueGateway, PageGateway
from pmsync._record import SyncRecord
from pmsync._storage.edit import JiraServer
from pmsync.config import Config
from pmsync.exceptions import ApplyError, ConflictError, PmsyncError, ServiceError

__all__ = ["Applier", "as_read", "move_issue", "write_page"]

log = logging.getLogger("pmsync")

#: How often pmsync re-reads a page that a human saved while pmsync was writing to it.
WRITEBACK_ATTEMPTS = 4
#: How long a page's lease lasts unless released (a crashed run's lease then lapses).
LEASE_TTL = dt.timedelta(minutes=15)
#: How long an announced create blocks other runs from creating the same items.
INTENT_WINDOW = dt.timedelta(minutes=10)
_CREATE_BATCH = 50
#: With several workers, groups are made small enough for this many per worker...
_GROUPS_PER_WORKER = 4
#: ...but no smaller than this: each group re-reads its pages and issues under its leases
#: (two requests), worth sharing among a few pages rather than spent on every one.
_SMALLEST_GROUP = 4

ParseFn = Callable[[Page], Postmortem]
#: Re-read the given pages and their issues and plan them again (``since``: also the
#: issues another run announced creating, found by a search of the newest ones).
ReplanFn = Callable[[Plan, Sequence[str], bool], Plan]
StatusInfo = tuple[str, Status]


def as_read(page: PagePlan) -> Page:
    """The page as the plan read it (the version a write must follow)."""
    return Page(
        id=page.page_id,
        title=page.title,
        version=page.version,
        storage=page.storage,
        url=page.url,
    )


def _groups(
    pages: Sequence[PagePlan], creates: Mapping[str, int], most: int
) -> list[list[PagePlan]]:
    """Consecutive pages whose new issues fit in one bulk create (50), at most ``most``
    pages, one group each."""
    groups: list[list[PagePlan]] = []
    current: list[PagePlan] = []
    count = 0
    for page in pages:
        n = creates.get(page.page_id, 0)
        if current and (count + n > _CREATE_BATCH or len(current) == most):
            groups.append(current)
            current, count = [], 0
        current.append(page)
        count += n
    if current:
        groups.append(current)
    return groups


def write_page(
    confluence: PageGateway, page: Page, edit: Callable[[Page], str], *, message: str
) -> bool:
    """Write ``edit(page)`` over the version read; True when the page was written.

    The one page writer of pmsync (write-back, status panel, roll-up page). The write
    names the version read, so a person who saved meanwhile makes Confluence answer
    409: the page is re-read and ``edit`` runs again on the person's text, up to
    :data:`WRITEBACK_ATTEMPTS` times; the person's edit always survives. Nothing is
    written when ``edit`` changes nothing.
    """
    current = page
    for attempt in range(WRITEBACK_ATTEMPTS):
        storage = edit(current)
        if storage == current.storage:
            return False
        if confluence.update_page(current, storage, message=message) is not None:
            return True
        log.info(
            "page %s changed while pmsync wrote (attempt %d); re-reading", page.id, attempt + 1
        )
        current = confluence.get_page(page.id)
    raise ConflictError(
        f"page {page.title!r} kept changing while pmsync wrote it ({WRITEBACK_ATTEMPTS} "
        "attempts); nothing was overwritten, the next run writes it",
        page_id=page.id,
    )


class Applier:
    """Carry out one plan. Build a new one per :meth:`pmsync.Syncer.apply` call."""

    def __init__(
        self,
        confluence: PageGateway,
        jira: IssueGateway,
        config: Config,
        *,
        parse: ParseFn,
        replan: ReplanFn,
        server: JiraServer | None,
        now: Callable[[], dt.datetime],
        findings: Sequence[Finding] = (),
        progress: Callable[[int, int], None] | None = None,
        lease_ttl: dt.timedelta = LEASE_TTL,
        intent_window: dt.timedelta = INTENT_WINDOW,
        concurrency: int = 1,
        pacing: Pacing | None = None,
    ) -> None:
        self.confluence = confluence
        self.jira = jira
        self.config = config
        self.parse = parse
        self.replan_pages = replan
        self.lease_ttl = lease_ttl
        self.intent_window = intent_window
        self.run_id = uuid.uuid4().hex[:12]
        self.host = socket.gethostname()
        self.server = server
        self.now = now
        # per page: looking them up page by page grew with the square of the corpus
        self.findings: dict[str, list[Finding]] = defaultdict(list)
        for finding in findings:
            self.findings[finding.page_id or ""].append(finding)
        self.text_keys: frozenset[str] = frozenset()
        self.progress = progress
        self.concurrency = max(1, concurrency)
        # shared by every worker: a quota stop or an interrupt stops them all
        self.pacing = pacing
        self.begin()

    def begin(self) -> None:
        """Start with nothing done: the state of one run, or of one unit of it."""
        self.created: list[str] = []
        self.updated: list[str] = []
        self.transitioned: list[str] = []
        self.pages_written: list[str] = []
        self.conflicts: list[Change] = []
        self.errors: list[ApplyError] = []
        self.warnings: list[str] = []
        # positions in warnings of those said once per run (merged units keep the first)
        self.once: set[int] = set()
        # (page id, item id) -> issue key, for issues this run created or adopted
        self.keys: dict[tuple[str, str], str] = {}
        # issue key -> the issue as this run's creates and transitions left it
        self.after: dict[str, JiraIssue] = {}
        self.blocked_status: set[tuple[str, str]] = set()
        self.skipped: list[SkippedPage] = []
        self.leases: dict[str, Lease] = {}
        self.replanned: list[str] = []
        # page id -> item ids another run announced creating, young enough to trust
        self.old_intent: dict[str, frozenset[str]] = defaultdict(frozenset)
        # page id -> announced item ids whose key is not (yet) on the page
        self.unresolved: dict[str, set[str]] = defaultdict(set)
        # (page id, item id) of creates whose outcome is unknown (a lost answer)
        self.uncertain: set[tuple[str, str]] = set()
        # issues as the re-plan under the lease just read them (used once, then re-read)
        self.fresh_issues: dict[str, JiraIssue] = {}

    def replan(self, plan: Plan, page_ids: Sequence[str], intents: Collection[str]) -> Plan:
        """The fresh plan for the leased pages (and for issues announced by other runs)."""
        return self.replan_pages(plan, page_ids, bool(intents))

    # -- entry point ---------------------------------------------------------------------

    def run(self, plan: Plan) -> SyncResult:
        """Apply ``plan`` page by page, each under its lease, and return what happened."""
        by_page: dict[str, list[Change]] = defaultdict(list)
        for change in plan.changes:
            by_page[change.page_id or ""].append(change)
        creates = {
            page_id: sum(1 for c in changes if c.kind == "create")
            for page_id, changes in by_page.items()
        }
        # A page with nothing to write takes no lease: a no-op run costs nothing more.
        writing = {op.page_id for op in plan.operations if _writes(op)}
        busy = [p for p in plan.pages if p.page_id in writing]
        done = len(plan.pages) - len(busy)
        self.conflicts.extend(
            c for c in plan.changes if c.kind == "conflict" and c.page_id not in writing
        )
        # Workers stay busy to the end when there are several groups for each of them.
        most = len(busy)
        if self.concurrency > 1:
            most = max(
                _SMALLEST_GROUP, math.ceil(len(busy) / (_GROUPS_PER_WORKER * self.concurrency))
            )
        groups = _groups(busy, creates, most)
        if self.concurrency == 1 or len(groups) < 2:
            for group in groups:
                self.absorb(self.unit(plan, group, by_page))
                done += len(group)
                if self.progress is not None:
                    self.progress(done, len(plan.pages))
        else:
            self.run_pool(plan, groups, by_page, done)
        return SyncResult(
            created=tuple(self.created),
            updated=tuple(dict.fromkeys(self.updated)),
            transitioned=tuple(dict.fromkeys(self.transitioned)),
            pages_written=tuple(self.pages_written),
            conflicts=tuple(self.conflicts),
            errors=tuple(self.errors),
            warnings=tuple(self.warnings),
            plan=plan,
            skipped=tuple(self.skipped),
            replanned=tuple(self.replanned),
        )

    def run_pool(
        self,
        plan: Plan,
        groups: Sequence[Sequence[PagePlan]],
        by_page: Mapping[str, Sequence[Change]],
        done: int,
    ) -> None:
        """Carry out ``groups`` on ``concurrency`` workers, merging them in their order.

        On an interrupt (Ctrl-C) or any other escape, the workers' requests are refused
        from then on: each finishes the request it is sending and stops; groups not
        started never start. Their leases expire (docs/sync.md, "Concurrency").
        """
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="pmsync")
        try:
            # Each worker counts its requests into this run's metrics (a context variable).
            futures: list[Future[Applier]] = [
                pool.submit(contextvars.copy_context().run, self.unit, plan, group, by_page)
                for group in groups
            ]
            for group, future in zip(groups, futures, strict=True):
                self.absorb(future.result())
                done += len(group)
                if self.progress is not None:
                    self.progress(done, len(plan.pages))
        except BaseException:
            if self.pacing is not None:
                self.pacing.interrupt()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if self.pacing is not None:
                self.pacing.resume()

    def unit(
        self, plan: Plan, group: Sequence[PagePlan], by_page: Mapping[str, Sequence[Change]]
    ) -> Applier:
        """Carry out one group under its leases, on an applier of its own (merged by
        :meth:`absorb`); nothing starts once a quota stopped the run."""
        unit = copy.copy(self)
        unit.begin()
        if self.pacing is not None and self.pacing.stopped is not None:
            return unit
        unit.leases = unit.take_leases(group, by_page)
        try:
            if unit.leases:
                mine = [p for p in group if p.page_id in unit.leases]
                unit.apply_group(plan, mine, by_page)
        finally:
            for page_id, lease in unit.leases.items():
                unit.release(page_id, lease)
        return unit

    def absorb(self, unit: Applier) -> None:
        """Add what one unit of work did to the run's result, in the plan's order."""
        self.created.extend(unit.created)
        self.updated.extend(unit.updated)
        self.transitioned.extend(unit.transitioned)
        self.pages_written.extend(unit.pages_written)
        self.conflicts.extend(unit.conflicts)
        self.errors.extend(unit.errors)
        self.skipped.extend(unit.skipped)
        self.replanned.extend(unit.replanned)
        self.keys.update(unit.keys)
        for i, warning in enumerate(unit.warnings):
            if i not in unit.once or warning not in self.warnings:
                self.warnings.append(warning)

    def apply_group(
        self, plan: Plan, group: Sequence[PagePlan], approved: Mapping[str, Sequence[Change]]
    ) -> None:
        """Re-plan the leased pages, then carry out the fresh plan (docs/sync.md)."""
        page_ids = [p.page_id for p in group]
        intents = {i for page_id in page_ids for i in self.old_intent[page_id]}
        try:
            fresh = self.replan(plan, page_ids, intents)
        except PmsyncError as exc:
            for page in group:
                self.fail(
                    f"re-reading page {page.title!r} before writing failed: {exc}",
                    page_id=page.page_id,
                    cause=exc,
                )
            return
        self.warnings.extend(fresh.warnings)
        if fresh.snapshot is not None:
            self.fresh_issues.update((i.key, i) for i in fresh.snapshot.issues)
        fresh_pages = {p.page_id: p for p in fresh.pages}
        todo: dict[str, list[Operation]] = {}
        for page in group:
            now = fresh_pages.get(page.page_id)
            if now is None:
                self.warnings.append(
                    f"page {page.title!r} ({page.page_id}) was deleted or hidden since the "
                    "plan was made; nothing was done for it"
                )
                continue
            mine = [op for op in fresh.operations if op.page_id == page.page_id]
            kept, differences = restrict(mine, approved[page.page_id])
            self.replanned.extend(
                f"page {page.title!r} ({page.page_id}), {line}" for line in differences
            )
            todo[page.page_id] = self.hold_back_creates(now, kept)
        pages = [fresh_pages[page_id] for page_id in todo if self.holds(page_id)]
        self.create_group(pages, todo)
        # What the page write plans from: the pages as re-read (a row reworded since is
        # matched against them) and the items the approved plan named.
        intent = attrs.evolve(plan, pages=fresh.pages)
        for page in pages:
            if self.holds(page.page_id):
                self.apply_page(page, todo[page.page_id], fresh, intent)

    def fail(
        self,
        message: str,
        change: Operation | None = None,
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

    # -- the lease -----------------------------------------------------------------------

    def take_leases(
        self, group: Sequence[PagePlan], by_page: Mapping[str, Sequence[Change]]
    ) -> dict[str, Lease]:
        """Take the lease of each page of ``group``; skip (and report) pages held by others."""
        leases: dict[str, Lease] = {}
        for page in group:
            creating = [c.item_id or "" for c in by_page[page.page_id] if c.kind == "create"]
            try:
                lease = self.take_lease(page, creating)
            except PmsyncError as exc:
                self.fail(
                    f"could not take the lease of page {page.title!r}: {exc}",
                    page_id=page.page_id,
                    cause=exc,
                )
                continue
            if lease is not None:
                leases[page.page_id] = lease
        return leases

    def take_lease(self, page: PagePlan, creating: Sequence[str]) -> Lease | None:
        """Compare-and-set the page's lease property; None (and reported) if another run has it.

        A released lease with nothing left to announce is deleted, so the usual case costs
        one request: creating the property. When it exists, it is read and replaced over
        its version; a 409 means another run got there first. A write whose answer was
        lost is settled by reading the property back: this run holds it if it says so.
        """
        now = self.now()
        current = Lease()  # first try: no property (a clean run deletes it)
        for _ in range(2):
            if current.held(now):
                break
            young = current.young_intent(now, self.intent_window)
            mine = current.taken(
                self.run_id,
                self.host,
                now=now,
                ttl=self.lease_ttl,
                creating=[i for i in creating if i not in young],
                window=self.intent_window,
            )
            try:
                version = self.confluence.put_content_property(
                    page.page_id, LEASE_KEY, mine.to_json(), version=current.version
                )
            except ServiceError:
                version = None
            stored = None
            if version is None:
                stored = self.confluence.content_property(page.page_id, LEASE_KEY)
            if version is not None or (stored and Lease.from_json(*stored).run_id == self.run_id):
                self.old_intent[page.page_id] = young
                if stored:
                    return Lease.from_json(*stored)
                return attrs.evolve(mine, version=version or 0)
            current = Lease.from_json(*stored) if stored else Lease()
        self.skip(page, current)
        return None

    def holds(self, page_id: str) -> bool:
        """Whether this run still holds the page's lease, renewing it past half its time.

        A run slowed down (a long 429 storm) must not write after its lease lapsed: another
        run may have taken the page over. Renewing is a compare-and-set like taking.
        """
        lease = self.leases[page_id]
        now = self.now()
        if lease.expires is not None and now < lease.expires - self.lease_ttl / 2:
            return True
        renewed = attrs.evolve(lease, expires=now + self.lease_ttl)
        try:
            version = self.confluence.put_content_property(
                page_id, LEASE_KEY, renewed.to_json(), version=lease.version
            )
        except PmsyncError:
            version = None
        if version is None:
            self.fail(
                f"page {page_id}: its lease lapsed while pmsync worked on it (another run may "
                "hold it now); nothing more is written for it this run",
                page_id=page_id,
            )
            del self.leases[page_id]
            return False
        self.leases[page_id] = attrs.evolve(renewed, version=version)
        return True

    def skip(self, page: PagePlan, lease: Lease) -> None:
        skipped = SkippedPage(
            page_id=page.page_id, title=page.title, holder=lease.holder, expires=lease.expires
        )
        log.info("%s", skipped.describe())
        self.skipped.append(skipped)

    def release(self, page_id: str, lease: Lease) -> None:
        """Give the lease up, keeping the announced creates not yet linked from the page."""
        unresolved = {
            item_id: when
            for item_id, when in lease.intent.items()
            if item_id in self.unresolved[page_id]
        }
        try:
            if not unresolved and self.now() < (lease.expires or self.now()):
                self.confluence.delete_content_property(page_id, LEASE_KEY)
            else:
                self.confluence.put_content_property(
                    page_id, LEASE_KEY, lease.released(unresolved).to_json(), version=lease.version
                )
        except PmsyncError as exc:
            log.warning("could not release the lease of page %s: %s", page_id, exc)
            self.warnings.append(
                f"page {page_id}: could not release its lease ({exc}); other runs skip the "
                "page until the lease expires"
            )

    def hold_back_creates(self, page: PagePlan, changes: Sequence[Operation]) -> list[Operation]:
        """Drop the creates of a page another run announced and Jira cannot show yet.

        Jira's search can lag behind its writes: an announced create that no search finds
        may well exist. Creating again would duplicate it; waiting costs one run.
        """
        wanted = {c.item_id or "" for c in changes if c.kind == "create"}
        announced = wanted & self.old_intent[page.page_id]
        self.unresolved[page.page_id] = set(announced)
        if not announced:
            return list(changes)
        self.warnings.append(
            f"page {page.title!r} ({page.page_id}): another pmsync run announced creating "
            f"{len(announced)} of its items within the last "
            f"{int(self.intent_window.total_seconds() // 60)} minutes and Jira does not show "
            "them yet; nothing is created for this page this run"
        )
        return [c for c in changes if c.item_id not in wanted]

    # -- creating ------------------------------------------------------------------------

    def create_group(
        self, group: Sequence[PagePlan], by_page: Mapping[str, Sequence[Operation]]
    ) -> None:
        to_create = [
            op
            for page in group
            for op in by_page.get(page.page_id, ())
            if isinstance(op, CreateIssue)
        ]
        if not to_create:
            return
        payload = [
            {
                "fields": dict(c.jira),
                "properties": [{"key": PROPERTY_KEY, "value": dict(c.prop or {})}],
            }
            for c in to_create
        ]
        for change in to_create:  # linked from the page once written back
            self.unresolved[change.page_id or ""].add(change.item_id or "")
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
        outcomes = self.retry_without_refused(to_create, payload, outcomes)
        new_keys = []
        for change, outcome in zip(to_create, outcomes, strict=True):
            if outcome.key is None:
                if (change.page_id or "", change.item_id or "") not in self.uncertain:
                    self.unresolved[change.page_id or ""].discard(change.item_id or "")
                self.fail(
                    f"Jira refused to create the issue for {change.summary!r} "
                    f"(page {change.page_id}, item {change.item_id}): {outcome.error}",
                    change,
                )
                continue
            self.keys[(change.page_id or "", change.item_id or "")] = outcome.key
            self.created.append(outcome.key)
            new_keys.append(outcome.key)
        self.learn_created(new_keys, to_create)

    def retry_without_refused(
        self,
        changes: Sequence[CreateIssue],
        payload: Sequence[Mapping[str, Any]],
        outcomes: list[CreateOutcome],
    ) -> list[CreateOutcome]:
        """Create again, without it, the issues Jira refused for their priority or assignee.

        A page priority Jira does not know (``sev9``), or an owner Jira no longer knows (a
        deactivated account mentioned on the page), would otherwise keep the action out of
        Jira on every run. Those elements failed, so nothing was created for them and a
        second create cannot duplicate anything. The base keeps the page's owner, so later
        runs see Jira's empty assignee as Jira's business and do not send it again; it
        drops the priority, which Jira never took.
        """
        refused: dict[int, str] = {}
        for i, outcome in enumerate(outcomes):
            error = (outcome.error or "").casefold()
            for field in ("priority", "assignee"):
                if outcome.key is None and field in error and field in payload[i]["fields"]:
                    refused[i] = field
        if not refused:
            return outcomes
        retry = []
        for i, field in refused.items():
            fields = {k: v for k, v in payload[i]["fields"].items() if k != field}
            properties = []
            for entry in payload[i].get("properties") or ():
                record = SyncRecord.read(entry.get("value")) or SyncRecord()
                base = {k: v for k, v in record.base.items() if k != "priority"}
                properties.append({**entry, "value": record.with_base(base).to_json()})
            retry.append({**payload[i], "fields": fields, "properties": properties})
        try:
            second = self.jira.bulk_create(retry)
        except PmsyncError:
            for i in refused:  # the first refusal stands; the retry may have landed
                self.uncertain.add((changes[i].page_id or "", changes[i].item_id or ""))
            return outcomes
        merged = list(outcomes)
        for (i, field), outcome in zip(refused.items(), second, strict=True):
            if outcome.key is None:
                continue
            change = changes[i]
            where = f"{outcome.key} ({change.summary!r}, page {change.page_id})"
            if field == "priority":
                wanted = payload[i]["fields"]["priority"].get("name")
                self.warnings.append(
                    f"{where} was created without a priority: Jira has no priority "
                    f"{wanted!r}; map it with priority_map in the configuration"
                )
            else:
                self.warnings.append(
                    f"{where} was created unassigned: Jira refused the row's owner "
                    f"({outcome_error(outcomes[i])}); a deactivated or unknown user? Change "
                    "the owner on the page"
                )
            merged[i] = outcome
        return merged

    def learn_created(self, keys: Sequence[str], creates: Sequence[CreateIssue]) -> None:
        """Read the new issues (one search) as Jira made them, for the page write's plan."""
        if not keys:
            return
        wanted = set(keys)
        try:
            quoted = ", ".join(keys)
            for issue in self.jira.search(f"key in ({quoted})"):
                self.after[issue.key] = issue
                wanted.discard(issue.key)
            for key in sorted(wanted):  # not in the search index yet: read them directly
                self.after[key] = self.jira.issue(key)
        except PmsyncError as exc:
            self.warnings.append(
                f"could not read the status of new issues ({exc}); the "
                "next run writes it onto the page"
            )
            for create in creates:  # their keys still go onto the page
                new = self.key_for(create)
                if new is not None and new not in self.after:
                    self.after[new] = JiraIssue(
                        key=new, summary=str(create.jira.get("summary") or ""), prop=create.prop
                    )

    # -- updating ------------------------------------------------------------------------

    def key_for(self, change: Operation) -> str | None:
        return change.issue_key or self.keys.get((change.page_id or "", change.item_id or ""))

    def apply_page(
        self, page: PagePlan, changes: Sequence[Operation], fresh: Plan, intent: Plan
    ) -> None:
        """Transitions, then the page write, then the updates that record agreed values.

        A base may only say "both sides show this" once both do: Jira's value shown on the
        page is recorded after the page write, so a run that dies in between leaves the
        base as it was, and the rerun finds the sides agreeing instead of taking the
        unwritten page for a person's change (docs/sync.md).
        """
        for change in changes:
            if isinstance(change, MoveIssue):
                self.apply_transition(change)
            elif isinstance(change, Conflict):
                self.conflicts.extend(change.changes)
        if self.config.writeback:
            # The fresh plan's page write stands unless this run's creates or moves
            # changed what the page must show: then the page write is planned again.
            planned = next((op for op in changes if isinstance(op, WritePage)), None)
            moved_on = any(
                self.key_for(op) in self.after
                for op in changes
                if isinstance(op, CreateIssue | MoveIssue)
            )
            shown = self.write_back(page, fresh, intent, planned=planned, replan=moved_on)
        else:
            shown = True
        for change in changes:
            if isinstance(change, UpdateIssue):
                if not shown:
                    # The page does not show Jira's values: recording them as agreed would
                    # make the rerun take the unwritten page for a person's change and
                    # revert Jira. The rerun plans these updates again (docs/sync.md).
                    continue
                self.apply_update(change)
            elif isinstance(change, CommentOrphan) and change.prop is not None:
                self.apply_orphan(page, change)

    def apply_update(self, change: UpdateIssue) -> None:
        key = self.key_for(change)
        if key is None:
            return
        try:
            payload, prop = self.recheck(key, change)
            if payload:  # the record goes with the edit: one request, all or nothing
                try:
                    self.jira.edit(key, payload, record=prop)
                except ServiceError as exc:
                    if not _refused_assignee(exc, payload):
                        raise
                    payload, prop = self.keep_assignee(key, change, payload, prop, exc)
                    if payload:
                        self.jira.edit(key, payload, record=prop)
            if not payload and prop is not None:
                self.jira.set_property(key, prop)
        except PmsyncError as exc:
            self.fail(
                f"updating {key} ({change.describe()}) failed: {exc}", change, key=key, cause=exc
            )
            return
        if payload:  # a property alone (the agreed base) is bookkeeping, not an update
            self.updated.append(key)

    def keep_assignee(
        self,
        key: str,
        change: UpdateIssue,
        payload: Mapping[str, Any],
        prop: Mapping[str, Any] | None,
        refusal: ServiceError,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The update without the owner Jira refused (a deactivated or unknown account
        mentioned on the page): the issue keeps its assignee, as with an owner Jira does
        not know written as text, and the row is named in a warning. The owner's base
        stays as it was, so the next run tries the page's owner again (and warns again)
        until a person changes it. Edits of other fields go ahead (the edit was refused
        as a whole, so nothing of it was applied)."""
        fields = {k: v for k, v in payload.items() if k != "assignee"}
        record = SyncRecord.read(prop)
        if record is not None:
            current = self.read(key).record
            base = dict(record.base)
            base["owner"] = current.base.get("owner") if current else None
            record = record.with_base(base)
        self.warnings.append(
            f"{key} ({change.summary!r}, page {change.page_id}) keeps its assignee: Jira "
            f"refused the row's owner ({refusal}); a deactivated or unknown user? Change "
            "the owner on the page"
        )
        return fields, None if record is None else record.to_json()

    def recheck(
        self, key: str, change: UpdateIssue
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """What of an update is still to do, now (a plan is a proposal, Jira the truth).

        Fields Jira already shows are dropped; fields a person changed in Jira since the
        plan are dropped too, with a warning, and keep their old base so the next plan
        sees the conflict and resolves it by ownership. The property is written only if
        it changes.
        """
        payload = dict(change.jira)
        record = SyncRecord.read(change.prop)
        if not change.expect and record is None:
            return payload, None
        issue = self.read(key)
        now = jira_values(issue, cloud=self.jira.cloud)
        current = issue.record
        if (
            record is not None
            and (change.page_id or "", change.item_id or "") in self.blocked_status
        ):
            # The status did not move (refused, or a person moved it first): the agreed
            # status stays what it was, or the next run would take the page's status for
            # a stale value and write Jira's over it.
            base = {k: v for k, v in record.base.items() if k != "status"}
            if current is not None and "status" in current.base:
                base["status"] = current.base["status"]
            record = record.with_base(base)
        for name, (planned_old, new) in change.expect.items():
            if now.get(name) == planned_old:
                continue
            for field in JIRA_FIELD_KEYS.get(name, ()):
                payload.pop(field, None)
            if now.get(name) != new and record is not None:
                old_base = current.base.get(name) if current else None
                record = record.with_base({**record.base, name: old_base})
                self.warnings.append(
                    f"{key}: {name} changed in Jira after the plan was made; not overwritten "
                    "(the next plan merges it again)"
                )
        record = _with_current_reminders(record, current)
        if record is None or record == current:
            return payload, None
        return payload, record.to_json()

    def apply_transition(self, change: MoveIssue) -> None:
        key = self.key_for(change)
        ident = (change.page_id or "", change.item_id or "")
        if key is None:
            return  # its create failed and was reported
        target = change.target
        try:
            # One read right before the move: the issue's status and the routes from it,
            # as of one moment, so a person's move before it is seen and kept. Jira has no
            # compare-and-set for transitions; one in the instant between this read and
            # the POST is the window left (docs/sync.md).
            issue, routes = self.jira.issue_and_transitions(key)
            planned = change.fields["status"][0]
            # A new issue starts in a to-do status: elsewhere, a person moved it already.
            moved_since = (
                issue.status != planned
                if change.issue_key
                else issue.status_category not in (Status.TODO, None)
            )
            if moved_since and issue.status_category is not target:
                self.warnings.append(
                    f"{key}: its status changed in Jira after the plan was made ({planned} -> "
                    f"{issue.status}); not moved (the next plan shows what to do)"
                )
                self.blocked_status.add(ident)
                self.after[key] = issue  # the page write plans from what Jira shows now
                return
            wanted = _with_current_reminders(SyncRecord.read(change.prop), issue.record)
            record = wanted.to_json() if wanted is not None and issue.record != wanted else None
            if issue.status_category is target and issue.status:
                moved = False  # already there: nothing to move
                if record is not None:
                    self.jira.set_property(key, record)
            else:  # the record goes with the move that reaches the target
                status, category = move_issue(self.jira, key, target, issue, routes, record=record)
                issue = attrs.evolve(issue, status=status, status_category=category)
                moved = True
            self.after[key] = _moved(issue, wanted=SyncRecord.read(change.prop))
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

    def record_partial_move(self, key: str, change: MoveIssue) -> None:
        """After a failed move, record where pmsync left the issue as the status base.

        Otherwise the next run would take pmsync's own intermediate step for a person's
        Jira change and, with status owned by Jira, overwrite the page's status.
        """
        try:
            issue = self.jira.issue(key)
            self.after[key] = issue
            record = issue.record or SyncRecord.read(change.prop)
            category = issue.status_category.value if issue.status_category else None
            if record is None or record.base.get("status") == category:
                return
            partial = record.with_base({**record.base, "status": category}).to_json()
            self.jira.set_property(key, partial)
            self.after[key] = attrs.evolve(issue, prop=partial)
        except PmsyncError as exc:
            log.warning("could not record the status of %s after a failed move: %s", key, exc)

    def read(self, key: str) -> JiraIssue:
        """The issue as the re-plan under the lease read it a moment ago, else read now.

        The re-plan's read is the re-check (docs/sync.md): reading it again before each
        write would only double the requests.
        """
        return self.fresh_issues.pop(key, None) or self.jira.issue(key)

    def apply_orphan(self, page: PagePlan, change: CommentOrphan) -> None:
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

    def plan_write(self, page: PagePlan, fresh: Plan, intent: Plan) -> WritePage | None:
        """The page write the planner makes now: the page as given, Jira as this run left it.

        Pure: the fresh plan's issues, with those this run created or moved as they are
        now, planned again for this page (docs/sync.md, "Two runs at once").
        """
        before = fresh.snapshot
        if before is None:
            return None
        issues = [self.after.get(issue.key, issue) for issue in before.issues]
        known = {issue.key for issue in issues}
        issues.extend(  # the issues this run created for the page
            self.after[key]
            for (page_id, _), key in self.keys.items()
            if page_id == page.page_id and key in self.after and key not in known
        )
        snapshot = attrs.evolve(before, pages=(page,), issues=tuple(issues), warnings=())
        findings = self.findings.get(page.page_id, [])
        planned = diff(snapshot, self.config, now=self.now(), findings=findings, approved=intent)
        for warning in planned.warnings:
            if warning not in self.warnings:
                self.once.add(len(self.warnings))
                self.warnings.append(warning)
        return next((op for op in planned.operations if isinstance(op, WritePage)), None)

    def write_back(
        self,
        page: PagePlan,
        fresh: Plan,
        intent: Plan,
        *,
        planned: WritePage | None,
        replan: bool,
    ) -> bool:
        """Write the page write the planner computed; a person's save (409) means re-read,
        plan that page again, and write the new result (bounded: :func:`write_page`).

        ``planned`` is the fresh plan's page write (None: nothing to write); ``replan``
        plans it again first, when this run's creates or moves changed what to show.
        Returns False when the write failed (the page does not show what was planned).
        """
        first = as_read(page)
        linked: set[str] = set()

        def edit(current: Page) -> str:
            # Under the lease no other pmsync run writes this page: a newer version is a
            # person's, re-read and planned again here.
            if current is first and not replan:
                write = planned
            else:
                now = page if current is first else _page_plan(page, current, self.parse)
                write = self.plan_write(now, fresh, intent)
            linked.clear()
            if write is None:
                return current.storage
            linked.update(write.linked)
            return write.storage

        try:
            written = write_page(
                self.confluence, first, edit, message="pmsync: issue keys and statuses"
            )
        except PmsyncError as exc:
            self.fail(
                f"writing back to page {page.title!r} failed: {exc}",
                page_id=page.page_id,
                cause=exc,
            )
            return False
        if written:
            self.pages_written.append(page.page_id)
        self.unresolved[page.page_id] -= linked
        for (page_id, item_id), key in self.keys.items():
            if page_id == page.page_id and item_id not in linked:
                self.warnings.append(
                    f"{key}: its row was not found on the page any more (edited while pmsync "
                    "ran?); the key was not written back"
                )
        return True


def _page_plan(page: PagePlan, current: Page, parse: ParseFn) -> PagePlan:
    """``page`` as re-read."""
    return attrs.evolve(
        page, version=current.version, storage=current.storage, postmortem=parse(current)
    )


def _moved(issue: JiraIssue, wanted: SyncRecord | None) -> JiraIssue:
    """The issue as the page write plans from it once moved: only its status base moved.

    The transition's record also holds bases that the updates after the page write
    make true; planning from them would take Jira's old values for a change in Jira.
    """
    record = issue.record or (wanted.with_base({}) if wanted else None)
    if record is None or issue.status_category is None:
        return issue
    base = {**record.base, "status": issue.status_category.value}
    return attrs.evolve(issue, prop=record.with_base(base).to_json())


def _with_current_reminders(
    record: SyncRecord | None, current: SyncRecord | None
) -> SyncRecord | None:
    """``record`` keeping the reminder state the issue holds now (``remind`` writes it,
    maybe since the plan was read): a sync writes merge bases, never reminders."""
    if record is None or current is None:
        return record
    return attrs.evolve(record, reminders=current.reminders)


def outcome_error(outcome: CreateOutcome) -> str:
    """Jira's reason for refusing one element of a bulk create, as one line."""
    return " ".join((outcome.error or "no reason given").split())


def _refused_assignee(error: ServiceError, payload: Mapping[str, Any]) -> bool:
    """Whether Jira refused an edit for its assignee (400 naming the field)."""
    return error.status == 400 and "assignee" in payload and "assignee" in str(error)


def _writes(op: Operation) -> bool:
    """Whether carrying out ``op`` writes anything (conflicts and no-ops only tell)."""
    if isinstance(op, CommentOrphan):
        return op.prop is not None
    return isinstance(op, CreateIssue | UpdateIssue | MoveIssue | WritePage)


def move_issue(
    jira: IssueGateway,
    key: str,
    target: Status,
    issue: JiraIssue,
    transitions: Sequence[Transition] | None = None,
    *,
    record: Mapping[str, Any] | None = None,
) -> StatusInfo:
    """Take the issue to a status of category ``target`` by the shortest route found.

    Direct transitions come first; otherwise one step through an in-progress status
    (To Do → In Progress → Done workflows). A transition is a POST and is never
    replayed blindly: after an unclear failure pmsync re-reads the issue first.
    ``transitions`` are the routes from ``issue``'s status, if already read;
    ``record`` (the pmsync property) is set by the step that reaches ``target``.
    """
    current = issue.status or "its current status"
    visited: set[str] = {current}
    known = list(transitions) if transitions is not None else None
    for _ in range(3):
        transitions = known if known is not None else jira.transitions(key)
        known = None  # after a step, the routes are those of the new status
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
        last = step.to_category is target
        try:
            jira.transition(key, step.id, record=record if last else None)
        except ServiceError:
            issue = jira.issue(key)  # did it land? (the POST is not replayed)
            if issue.status != step.to_status:
                raise
        visited.add(step.to_status)
        current = step.to_status
        if last:
            return step.to_status, target
    raise ApplyError(f"no route to a {target.value} status within 3 steps", issue_key=key)
