"""The :class:`Syncer`: reads pages and issues, plans, and applies.

``plan()`` only reads; ``apply()`` is the only method that writes; ``sync()`` does both.
The gateways wrap the real clients passed in, so a script can point pmsync at any site,
at the bundled emulator, or at its own test double built on the same clients.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from pmsync._apply import INTENT_WINDOW, LEASE_TTL, Applier, as_read, write_page
from pmsync._cursor import (
    Cursor,
    CursorStore,
    FileCursorStore,
    PageCursorStore,
    Selection,
    cql_since,
    cursor_key,
    is_quiet,
    jql_since,
    missed_pages,
    page_ids_of,
    pending_pages,
)
from pmsync._diff import Snapshot, diff, lint_all
from pmsync._env import ENVIRONMENT, clients_from_env
from pmsync._gateways._transport import Pacing, RetryPolicy, room_for
from pmsync._gateways.atlassian import ConfluenceGateway, JiraGateway, JiraUser, Page
from pmsync._gateways.slack import SlackNotifier, send_reminders
from pmsync._messages import assignment_message, postmortem_summary
from pmsync._model import JiraIssue, Person, Postmortem
from pmsync._payload import jira_values
from pmsync._plan import Notify, Operation, PagePlan, Plan, SyncResult, WritePage
from pmsync._quote import cql_string, jql_string
from pmsync._record import SyncRecord
from pmsync._remind import ReminderResult, is_quiet_day, select_reminders
from pmsync._report import STATUS_MARKER, Report, build_report, render_status_panel
from pmsync._review import (
    LESSONS_MARKER,
    REVIEW_PROPERTY,
    STATE_MARKER,
    Review,
    build_review,
    new_rollup_page,
    previous_review,
    render_lessons_section,
    render_state_section,
    review_digest,
    review_record,
)
from pmsync._storage.blocks import upsert_block
from pmsync._storage.edit import JiraServer, find_jira_server
from pmsync._storage.parse import parse_page
from pmsync.config import Config, check_concurrency
from pmsync.exceptions import (
    ApplyError,
    AuthError,
    ConfigError,
    ConflictError,
    NotFoundError,
    ParseError,
    PmsyncError,
    ServiceError,
)

__all__ = ["ENVIRONMENT", "Syncer"]

log = logging.getLogger("pmsync")

#: Pages a run that reads them all (a full pass) reads, plans and applies at a time:
#: their bodies are held for one batch, not for the whole site (docs/sync.md).
FULL_BATCH = 200


def _page_of(issue: JiraIssue) -> str | None:
    """The page id in the issue's ``pmsync`` property, if any."""
    record = issue.record
    return record.page_id if record else None


def _assignees(issues: Iterable[JiraIssue]) -> dict[str, JiraUser]:
    """The Cloud users the issues are assigned to, with the names the search returned."""
    return {
        person.account_id: JiraUser(
            id=person.account_id, display_name=person.display_name, email=person.email
        )
        for issue in issues
        if (person := issue.assignee) and person.account_id and person.display_name
    }


def _id_order(page_id: str) -> tuple[int, str]:
    """Page ids in numeric order (they are digits)."""
    return (len(page_id), page_id)


def _page_order(page: Page | PagePlan) -> tuple[int, str]:
    return _id_order(page.id if isinstance(page, Page) else page.page_id)


def _written(plan: Plan, result: SyncResult) -> dict[str, int]:
    """The page versions a run wrote: each page written over the version its plan read."""
    return {p.page_id: p.version + 1 for p in plan.pages if p.page_id in result.pages_written}


def _merged(results: Sequence[SyncResult], plan: Plan) -> SyncResult:
    """One result for the batches of a run, in order."""
    joined = {
        field.name: tuple(x for r in results for x in getattr(r, field.name))
        for field in attrs.fields(SyncResult)
        if field.name != "plan"
    }
    return SyncResult(**joined, plan=plan)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Syncer:
    """Sync the action items of Confluence pages with Jira (and tell owners in Slack).

    ``confluence`` and ``jira`` are real atlassian-python-api clients
    (``atlassian.Confluence``, ``atlassian.Jira``), ``slack`` an optional
    ``slack_sdk.WebClient``. For Confluence Cloud, build the client with ``cloud=False``
    (the v1 REST API pmsync uses); for Jira Cloud, with ``cloud=True``.

    pmsync never enables the clients' own ``backoff_and_retry`` (it replays POSTs, which
    can duplicate issues); a client built with it is refused.

    ``lease_ttl`` is how long a page's lease lasts if its run dies without releasing it;
    ``intent_window`` how long creates another run announced for a page, and that Jira's
    search does not show, keep this run from creating them again (docs/sync.md).

    ``concurrency`` is how many pages :meth:`apply` writes at once (default
    :attr:`Config.concurrency`, 4; ``1``: one after another; docs/sync.md, "Concurrency").

    ``cursor`` keeps where the last run left off, so that reruns read only what changed;
    by default it is the content property on ``Config.cursor_page`` or the file
    ``Config.cursor_file``; with neither, every run reads everything (docs/sync.md,
    "Incremental reruns and the full pass").
    """

    def __init__(
        self,
        confluence: Any,
        jira: Any,
        *,
        config: Config,
        slack: Any = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], dt.datetime] = _utcnow,
        lease_ttl: dt.timedelta = LEASE_TTL,
        intent_window: dt.timedelta = INTENT_WINDOW,
        cursor: CursorStore | None = None,
        concurrency: int | None = None,
    ) -> None:
        for name, client in (("confluence", confluence), ("jira", jira)):
            if getattr(client, "backoff_and_retry", False):
                raise ConfigError(
                    f"the {name} client was built with backoff_and_retry=True, which replays "
                    "POST requests and can create duplicate issues; build it without that "
                    "option (pmsync retries safely by itself)",
                    key=f"{name}.backoff_and_retry",
                )
        self.config = config
        #: How many pages :meth:`apply` writes at once.
        self.concurrency = check_concurrency(
            config.concurrency if concurrency is None else concurrency
        )
        for client in (confluence, jira):  # every worker sends through the same session
            room_for(client, self.concurrency)
        #: Rate-limit pacing shared by both gateways and every worker; it also stops the
        #: run on a long wait.
        self.pacing = Pacing()
        self.jira = JiraGateway(jira, retry, pacing=self.pacing)
        self.confluence = ConfluenceGateway(
            confluence,
            retry,
            cloud=self.jira.cloud,
            api=config.confluence_api,
            pacing=self.pacing,
        )
        self.slack = slack
        self.clock = clock
        self.lease_ttl = lease_ttl
        self.intent_window = intent_window
        self.cursor = cursor if cursor is not None else self.cursor_store()
        self._notifier: SlackNotifier | None = None

    def __repr__(self) -> str:
        return (
            f"Syncer(jira={self.jira.base_url!r}, confluence={self.confluence.http.base_url!r}, "
            f"project={self.config.project!r})"
        )

    @classmethod
    def from_env(
        cls,
        config: Config,
        *,
        environ: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> Syncer:
        """Build the clients from environment variables (see :data:`pmsync.ENVIRONMENT`).

        Cloud: ``PMSYNC_JIRA_URL``, ``PMSYNC_EMAIL`` and ``PMSYNC_API_TOKEN`` (Basic auth;
        one token serves Jira and Confluence). Server/Data Center: ``PMSYNC_JIRA_URL``,
        ``PMSYNC_CONFLUENCE_URL`` and personal access tokens ``PMSYNC_JIRA_PAT`` and
        ``PMSYNC_CONFLUENCE_PAT`` (Bearer). Every secret may instead come from a file named
        by ``NAME_FILE``. TLS certificates are always verified. ``retry`` bounds the
        retries of each request (see :class:`pmsync.RetryPolicy`).
        """
        clients = clients_from_env(environ, ca_bundle=config.ca_bundle)
        return cls(
            clients.confluence, clients.jira, config=config, slack=clients.slack, retry=retry
        )

    # -- reading ---------------------------------------------------------------------

    def parse(self, page: Page) -> Postmortem:
        """Parse one page with this syncer's configuration."""
        return parse_page(
            page.storage,
            page_id=page.id,
            title=page.title,
            columns=self.config.columns or None,
            date_order=self.config.date_order,
            statuses=self.config.status_map or None,
            priorities=self.config.priority_map or None,
            projects=(self.config.project,),
        )

    def read_pages(
        self, *, page_ids: Sequence[str] | None = None, cql: str | None = None
    ) -> tuple[list[Page], list[str]]:
        """The selected pages, sorted by id, and warnings for ids not found."""
        warnings: list[str] = []
        if page_ids is None and cql is None:
            cql = self.config.cql
        if page_ids is None and not cql:
            raise ConfigError(
                "say which pages to sync: page ids, a CQL query, or `cql` in the configuration",
                key="cql",
            )
        pages: dict[str, Page] = {}
        if page_ids is not None:
            try:
                found, missing = self.confluence.pages(list(page_ids))
            except ValueError as exc:
                raise ConfigError(str(exc), key="page_ids") from None
            pages.update((p.id, p) for p in found)
            warnings.extend(
                f"page {page_id} does not exist or this account cannot see it"
                for page_id in missing
            )
        if cql:
            pages.update((p.id, p) for p in self.search_pages(page_query(cql)))
        ordered = sorted(pages.values(), key=_page_order)
        return ordered, warnings

    def search_pages(self, query: str) -> Iterator[Page]:
        """The pages a CQL query selects, as Confluence pages them (50 per request)."""
        try:
            yield from self.confluence.search(query)
        except ServiceError as exc:
            if exc.status != 400:
                raise
            raise ConfigError(
                f"Confluence rejected the CQL query {query!r}: {exc}", key="cql"
            ) from None

    def resolve_owners(
        self, people: Iterable[Person], *, known: Mapping[str, JiraUser] | None = None
    ) -> dict[str, tuple[JiraUser, ...]]:
        """Jira users matching each page owner, by :attr:`Person.identity`. Never guesses.

        A Cloud mention is an account id already: only its display name is needed, for
        plans to show. ``known`` users (the assignees of the issues read) cost nothing; the
        others are looked up in one request per 50 accounts. An account Jira does not know
        is left out.
        """
        known = known or {}
        found: dict[str, tuple[JiraUser, ...]] = {}
        mentions: list[str] = []
        for person in people:
            ident = person.identity
            if not ident or ident in found:
                continue
            if person.account_id and self.jira.cloud:
                if ident in known:
                    found[ident] = (known[ident],)
                else:
                    mentions.append(ident)
                continue
            found[ident] = self._match(person)
        found.update(
            (ident, (user,)) for ident, user in self.jira.users_by_account(mentions).items()
        )
        return found

    def _match(self, person: Person) -> tuple[JiraUser, ...]:
        if person.user_key and not self.jira.cloud:
            user = self.jira.user_by_key(person.user_key)
            return (user,) if user else ()
        query = person.username or person.email or person.text or person.display_name or ""
        query = query.strip().lstrip("@").strip()
        if not query or person.account_id:
            return ()
        wanted = query.casefold()
        users = self.jira.find_users(query)
        exact = [
            u
            for u in users
            if wanted
            in {
                (u.display_name or "").casefold(),
                (u.email or "").casefold(),
                u.id.casefold(),
            }
        ]
        return tuple({u.id: u for u in exact}.values())

    def page_plans(self, pages: Iterable[Page], warnings: list[str]) -> list[PagePlan]:
        """Parse pages into what a plan keeps of them (unparseable ones: a warning)."""
        plans: list[PagePlan] = []
        for page in pages:
            try:
                postmortem = self.parse(page)
            except ParseError as exc:
                warnings.append(f"{page.title!r} (page {page.id}): {exc}")
                continue
            plans.append(
                PagePlan(
                    page_id=page.id,
                    title=page.title,
                    version=page.version,
                    url=page.url,
                    storage=page.storage,
                    postmortem=postmortem,
                )
            )
        return plans

    def linked_issues(
        self, keys: Iterable[str], *, known_projects: Collection[str] = ()
    ) -> tuple[list[JiraIssue], set[str], set[str]]:
        """Issues by key: the issues found, keys Jira does not show, and key-shaped text.

        One search per 100 keys; a key the search does not show yet (Jira's index lags
        behind its writes) is read directly.
        """
        wanted: list[str] = []
        not_keys: set[str] = set()
        projects: dict[str, bool] = dict.fromkeys(known_projects, True)
        for key in sorted(set(keys)):
            project = key.rsplit("-", 1)[0]
            if project not in projects:
                projects[project] = self.jira.project_exists(project)
            if projects[project]:
                wanted.append(key)
            else:
                not_keys.add(key)  # PR-1234, SHA-256...: text that only looks like a key
        found: dict[str, JiraIssue] = {}
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            try:
                found.update((i.key, i) for i in self.jira.search(f"key in ({', '.join(chunk)})"))
            except ServiceError as exc:
                if exc.status != 400:  # a key Jira does not know: read them one by one
                    raise
        missing: set[str] = set()
        for key in wanted:
            if key in found:
                continue
            try:
                found[key] = self.jira.issue(key)
            except NotFoundError:
                missing.add(key)
        return list(found.values()), missing, not_keys

    def snapshot(
        self, *, page_ids: Sequence[str] | None = None, cql: str | None = None
    ) -> Snapshot:
        """Read everything a plan needs: pages, managed and linked issues, owners."""
        pages, warnings = self.read_pages(page_ids=page_ids, cql=cql)
        plans = self.page_plans(pages, warnings)
        return self.assemble(plans, self.managed_issues(), warnings)

    def assemble(
        self,
        plans: list[PagePlan],
        issues: list[JiraIssue],
        warnings: list[str],
        *,
        keys: Iterable[str] = (),
        priorities: frozenset[str] | None = None,
    ) -> Snapshot:
        """The snapshot of ``plans``: ``issues``, the issues the pages (or ``keys``) name,
        the owners... (``priorities``: Jira's priority names, if known already)."""
        known = {issue.key for issue in issues}
        linked = {item.jira_key for p in plans for item in p.postmortem.items if item.jira_key}
        linked.update(keys)
        extra, missing, not_keys = self.linked_issues(
            linked - known, known_projects={self.config.project}
        )
        owners = self.resolve_owners(
            (item.owner for p in plans for item in p.postmortem.items if item.owner),
            known=_assignees((*issues, *extra)),
        )
        return Snapshot(
            pages=tuple(plans),
            issues=(*issues, *extra),
            owners=owners,
            missing_keys=frozenset(missing),
            not_keys=frozenset(not_keys),
            priorities=(
                (priorities or self.jira.priorities())
                if any(i.priority for p in plans for i in p.postmortem.items)
                else frozenset()
            ),
            cloud=self.jira.cloud,
            server=self.jira_server(plans),
            warnings=tuple(warnings),
            slack=self.slack is not None,
        )

    def replan(self, plan: Plan, page_ids: Sequence[str], announced: bool = False) -> Plan:
        """Plan some of ``plan``'s pages again from a fresh read (docs/sync.md).

        Re-reads the pages and the issues they link or that carry their page id (and,
        with ``announced``, the newest managed issues: another run announced creates for
        these pages). Lint findings stay those of ``plan``: they were made against every
        page, not only these.
        """
        before = plan.snapshot or Snapshot(  # a plan built by hand: what it names
            pages=plan.pages,
            issues=(),
            cloud=self.jira.cloud,
            server=self.jira_server(plan.pages),
        )
        ids = set(page_ids)
        warnings: list[str] = []
        found, _ = self.confluence.pages(list(page_ids))
        pages = self.page_plans(found, warnings)
        keys = {issue.key for issue in before.issues if _page_of(issue) in ids}
        keys.update(
            item.jira_key
            for p in (*pages, *(p for p in plan.pages if p.page_id in ids))
            for item in p.postmortem.items
            if item.jira_key
        )
        issues, missing, not_keys = self.linked_issues(
            keys - before.not_keys, known_projects={self.config.project}
        )
        if announced:
            seen = {issue.key for issue in issues}
            minutes = max(
                1, int((self.clock() - (plan.created_at or self.clock())).total_seconds() // 60)
            )
            issues.extend(
                issue
                for issue in self.jira.recently_created(
                    self.config.project, self.config.label, minutes=minutes + 15
                )
                if _page_of(issue) in ids and issue.key not in seen
            )
        people = [i.owner for p in pages for i in p.postmortem.items if i.owner]
        owners = dict(before.owners)
        owners.update(
            self.resolve_owners(
                (p for p in people if (p.identity or "") not in owners),
                known=_assignees(issues),
            )
        )
        fresh = attrs.evolve(
            before,
            pages=tuple(pages),
            issues=tuple(issues),
            owners=owners,
            missing_keys=frozenset(missing),
            not_keys=before.not_keys | not_keys,
            warnings=tuple(warnings),
        )
        findings = [f for f in plan.findings if f.page_id in ids]
        return diff(fresh, self.config, now=self.clock(), findings=findings, approved=plan)

    def managed_issues(self, *, history: bool = False) -> list[JiraIssue]:
        """The issues pmsync manages; a project Jira rejects is a configuration error.

        ``history`` also reads their resolutions and changelogs (see ``JiraGateway.managed``).
        """
        try:
            return self.jira.managed(self.config.project, self.config.label, history=history)
        except ServiceError as exc:
            if exc.status != 400:
                raise
            raise ConfigError(
                f"Jira rejected the search for project {self.config.project!r} and label "
                f"{self.config.label!r}: {exc}. Check that the project key exists and that "
                "this account can browse it.",
                key="project",
            ) from None

    def jira_server(self, pages: Sequence[PagePlan]) -> JiraServer | None:
        """Which Jira the ``jira`` macros written back point at: config, else the pages."""
        if self.config.jira_server or self.config.jira_server_id:
            return JiraServer(name=self.config.jira_server, server_id=self.config.jira_server_id)
        for page in pages:
            server = find_jira_server(page.storage)
            if server is not None:
                return server
        return None

    # -- planning and applying -------------------------------------------------------

    def plan(
        self, *, page_ids: Sequence[str] | None = None, cql: str | None = None, full: bool = False
    ) -> Plan:
        """Read the pages (by id or CQL) and the managed issues, and say what would change.

        Reads only: nothing is written anywhere. The plan's warnings include the action-item
        lint findings (:func:`pmsync.lint`), which are also in :attr:`Plan.findings`. With
        a cursor (and no ``page_ids``), only what changed since the last run is read,
        unless ``full`` or a full pass is due (docs/sync.md).
        """
        if page_ids is None and self.cursor is not None:
            return self.plan_since_cursor(self.cursor, cql=cql, full=full)
        now = self.clock()
        plan = diff(self.snapshot(page_ids=page_ids, cql=cql), self.config, now=now)
        self.pacing.raise_if_stopped()
        return plan

    def apply(
        self, plan: Plan, *, progress: Callable[[int, int], None] | None = None
    ) -> SyncResult:
        """Carry out ``plan``: create, update and move issues, write keys back to pages.

        Failures of single items are collected in :attr:`SyncResult.errors`; the other
        items go ahead. Applying a plan whose changes already happened changes nothing.
        ``progress(done, total)`` is called after each page (for progress bars).
        """
        result, keys = self.carry_out(plan, progress)
        if plan.selection is not None and self.cursor is not None:
            result = self.advance_cursor(
                self.cursor,
                plan.selection,
                result,
                written=_written(plan, result),
                pending=pending_pages(plan, result, keys.keys()),
            )
        if self.slack is not None:
            result = self.notify(plan, result, keys)
        return result

    def carry_out(
        self, plan: Plan, progress: Callable[[int, int], None] | None = None
    ) -> tuple[SyncResult, Mapping[tuple[str, str], str]]:
        """Run the executor over ``plan``: the result, and the keys of the issues it
        created or adopted by (page id, item id)."""
        server = plan.snapshot.server if plan.snapshot else self.jira_server(plan.pages)
        applier = Applier(
            self.confluence,
            self.jira,
            self.config,
            parse=self.parse,
            replan=self.replan,
            server=server,
            now=self.clock,
            findings=plan.findings,
            progress=progress,
            lease_ttl=self.lease_ttl,
            intent_window=self.intent_window,
            concurrency=self.concurrency,
            pacing=self.pacing,
        )
        result = applier.run(plan)
        self.pacing.raise_if_stopped()  # an exhausted quota stops the run: exit code 3
        return result, applier.keys

    # -- Slack -----------------------------------------------------------------------

    def notifier(self) -> SlackNotifier:
        """The Slack notifier over this syncer's WebClient."""
        if self.slack is None:
            raise ConfigError(
                "this needs Slack: pass slack=WebClient(...) or set PMSYNC_SLACK_TOKEN",
                key="PMSYNC_SLACK_TOKEN",
            )
        if self._notifier is None:
            self._notifier = SlackNotifier(self.slack, user_map=self.config.user_map)
        return self._notifier

    def person_for_slack(self, person: Person) -> Person:
        """The page owner with the email and name Jira knows, for a Slack lookup."""
        user: JiraUser | None = None
        if person.account_id and self.jira.cloud:
            user = self.jira.user_by_account(person.account_id)
        elif not person.email:
            matches = self._match(person)
            user = matches[0] if len(matches) == 1 else None
        if user is None:
            return person
        return attrs.evolve(
            person,
            email=person.email or user.email,
            display_name=person.display_name or user.display_name,
        )

    def notify(
        self, plan: Plan, result: SyncResult, keys: Mapping[tuple[str, str], str]
    ) -> SyncResult:
        """Send the plan's Slack notices (:class:`Notify`) whose work this run did.

        A notice waits for what it announces: the issue created by this run, the owner
        set in Jira by this run, or the page written with the key of an issue an earlier
        run created. Each owner gets a direct message; the channel gets one summary per
        postmortem of the notices sent for it.
        """
        notifier = self.notifier()
        sent: list[str] = []
        errors: list[ApplyError] = list(result.errors)
        happened = {
            "create": set(result.created),
            "update": set(result.updated),
        }
        written = set(result.pages_written)
        by_page: dict[str, list[tuple[Notify, str]]] = defaultdict(list)
        for op in plan.operations:
            if not isinstance(op, Notify):
                continue
            key = op.issue_key or keys.get((op.page_id or "", op.item_id or ""))
            done = (
                op.page_id in written
                if op.after == "writeback"
                else key is not None and key in happened[op.after]
            )
            if key is not None and done:
                by_page[op.page_id or ""].append((op, key))
        for page in plan.pages:
            notices = by_page.get(page.page_id)
            if not notices:
                continue
            urls = {key: f"{self.jira.base_url}/browse/{key}" for _, key in notices}
            # The page did not show the new keys when it was read: the messages do.
            shown = [(op, attrs.evolve(op.item, jira_key=key)) for op, key in notices]
            try:
                for op, item in shown:
                    if op.recipient is None:
                        continue
                    person = self.person_for_slack(op.recipient)
                    text, blocks = assignment_message(
                        item,
                        urls[item.jira_key or ""],
                        page.url,
                        page.title,
                        reassigned=op.reassigned,
                        buttons=self.config.slack_buttons,
                    )
                    if notifier.send_dm(person, text, blocks) is not None:
                        sent.append(f"DM {person}: {item.jira_key}")
                channels = dict.fromkeys(op.channel for op, _ in shown if op.channel)
                for channel in channels:
                    mine = [(op, item) for op, item in shown if op.channel == channel]
                    text, blocks = postmortem_summary(
                        page.title,
                        page.url,
                        [item for op, item in mine if not op.reassigned],
                        [item for op, item in mine if op.reassigned],
                        issue_urls=urls,
                    )
                    notifier.post(channel, text, blocks)
                    sent.append(f"{channel}: {page.title}")
            except AuthError:
                raise
            except PmsyncError as exc:
                errors.append(
                    ApplyError(
                        f"Slack notice for page {page.title!r} failed: {exc}",
                        page_id=page.page_id,
                        cause=exc,
                    )
                )
        warnings = result.warnings + tuple(
            f"no Slack user for {who}: add them to user_map, or make their email visible"
            for who in notifier.missing
        )
        return attrs.evolve(result, notified=tuple(sent), errors=tuple(errors), warnings=warnings)

    def remind(self, *, today: dt.date | None = None, dry_run: bool = False) -> ReminderResult:
        """Remind owners of items due soon or overdue, per ``Config.reminders``.

        Each reminder is remembered in the issue's ``pmsync`` property, so reruns and
        other machines do not repeat it. ``dry_run`` selects and reports without sending
        or recording anything.
        """
        day = today or self.clock().date()
        policy = self.config.reminders
        issues = self.managed_issues()
        picked = select_reminders(issues, today=day, policy=policy)
        records = {issue.key: issue.record or SyncRecord() for issue in issues}
        page_ids = sorted({r.page_id for r in picked if r.page_id})
        pages: dict[str, tuple[str | None, str | None]] = {}
        authors: dict[str, Person] = {}
        if page_ids:
            found, _ = self.confluence.pages(page_ids, history=policy.escalate_to_author)
            pages = {p.id: (p.title, p.url) for p in found}
            authors = {p.id: self.person_for_slack(p.author) for p in found if p.author}

        def save_state(key: str, state: Mapping[str, Any]) -> None:
            record = attrs.evolve(records.get(key) or SyncRecord(), reminders=state)
            self.jira.set_property(key, record.to_json())
            records[key] = record

        if dry_run and self.slack is None:
            return ReminderResult(sent=picked, dry_run=True, quiet_day=is_quiet_day(day, policy))
        result = send_reminders(
            self.notifier(),
            picked,
            policy=policy,
            channel=self.config.slack_channel,
            save_state=save_state,
            pages=pages,
            authors=authors,
            dry_run=dry_run,
            buttons=self.config.slack_buttons,
        )
        return attrs.evolve(result, quiet_day=is_quiet_day(day, policy))

    def report(
        self,
        *,
        cql: str | None = None,
        page_ids: Sequence[str] | None = None,
        today: dt.date | None = None,
        writeback: bool | None = None,
    ) -> Report:
        """Progress across the chosen postmortems: done, open, overdue, time to close...

        With ``writeback`` (default: ``Config.report_writeback``) each page also gets an
        "Action item status" panel, replaced in place on later runs and written only when
        its figures changed; a page a human is editing is re-read, never overwritten.
        """
        snapshot = self.snapshot(page_ids=page_ids, cql=cql)
        report = build_report(
            [page.postmortem for page in snapshot.pages],
            snapshot.issues,
            today=today or self.clock().date(),
            team_map=self.config.team_map,
            base_url=self.jira.base_url,
        )
        if self.config.report_writeback if writeback is None else writeback:
            for page in snapshot.pages:
                self.write_panel(page, report)
        return report

    def write_panel(self, page: PagePlan, report: Report) -> bool:
        """Put the status panel on one page; True when the page was written."""
        panel = render_status_panel(report, page.page_id)
        return self.write_blocks(as_read(page), [(STATUS_MARKER, panel)], what="status panel")

    def sync(
        self, *, page_ids: Sequence[str] | None = None, cql: str | None = None, full: bool = False
    ) -> SyncResult:
        """Plan and apply in one go (``full``: read everything, not only what changed).

        A run that reads every selected page (a full pass, or any run without a cursor)
        reads, plans and applies them :data:`FULL_BATCH` pages at a time, so that the
        bodies of a whole site are never held at once; the duplicate lint still compares
        every page with all the others (docs/sync.md, "Incremental reruns and the full
        pass"). The result's plan then names every operation but keeps no page bodies.
        """
        query = page_query(cql or self.config.cql or "") if page_ids is None else ""
        if not query:
            return self.apply(self.plan(page_ids=page_ids, cql=cql, full=full))
        if self.cursor is None:
            return self.sync_in_batches(query, None)
        selection = self.select(self.cursor, query, full=full)
        if not selection.full:
            return self.apply(self.plan_changed(selection, query))
        return self.sync_in_batches(query, selection)

    def sync_in_batches(self, query: str, selection: Selection | None) -> SyncResult:
        """Sync every page ``query`` selects, :data:`FULL_BATCH` pages at a time.

        One read of every page keeps what the duplicate lint and the batches need (the
        items, not the bodies); then each batch re-reads its pages by id (50 per
        request), is planned against its issues with the findings made against the whole
        corpus, and is carried out before the next is read. The cursor moves once, after
        the last batch (a run that raises leaves it where it was).
        """
        warnings: list[str] = []
        corpus: list[PagePlan] = []
        modified: dict[str, dt.datetime | None] = {}
        server = None
        for page in self.search_pages(query):
            modified[page.id] = page.modified
            for planned in self.page_plans([page], warnings):
                server = server or self.jira_server([planned])
                corpus.append(attrs.evolve(planned, storage=""))
        issues = self.managed_issues()
        corpus.sort(key=_page_order)
        owners = self.resolve_owners(
            (item.owner for p in corpus for item in p.postmortem.items if item.owner),
            known=_assignees(issues),
        )
        view = Snapshot(pages=tuple(corpus), issues=(), owners=owners)
        findings = lint_all(view, self.clock().date())
        # Each issue goes with the batch of the page that links it, else of its record's.
        linked: dict[str, str] = {}
        for p in corpus:
            for item in p.postmortem.items:
                if item.jira_key:
                    linked.setdefault(item.jira_key, p.page_id)
        results: list[SyncResult] = []
        operations: list[Operation] = []
        plan_warnings: list[str] = []
        written: dict[str, int] = {}
        pending: set[str] = set()
        missed: list[str] = []
        priorities: frozenset[str] = frozenset()
        for start in range(0, len(corpus), FULL_BATCH):
            ids = {p.page_id for p in corpus[start : start + FULL_BATCH]}
            found, _ = self.confluence.pages(sorted(ids, key=_id_order))
            mine = [i for i in issues if linked.get(i.key, _page_of(i)) in ids]
            snapshot = self.assemble(self.page_plans(found, warnings), mine, warnings)
            snapshot = attrs.evolve(snapshot, server=server)
            warnings = []  # the warnings of the first read go with the first batch
            plan = diff(
                snapshot,
                self.config,
                now=self.clock(),
                findings=[f for f in findings if f.page_id in ids],
            )
            result, keys = self.carry_out(plan)
            written.update(_written(plan, result))
            pending.update(pending_pages(plan, result, keys.keys()))
            if selection is not None and selection.cursor is not None:
                missed += missed_pages(plan, modified, snapshot.issues, selection.cursor)
            priorities = priorities or snapshot.priorities
            if self.slack is not None:
                result = self.notify(plan, result, keys)
            results.append(attrs.evolve(result, plan=None))  # the batch's bodies go
            # Kept for the result: what was done, without the bodies written.
            operations += (
                attrs.evolve(op, storage="") if isinstance(op, WritePage) else op
                for op in plan.operations
            )
            plan_warnings += plan.warnings
        whole = Plan(
            operations=tuple(operations),
            warnings=tuple(dict.fromkeys(plan_warnings)),
            pages=tuple(corpus),
            created_at=selection.started if selection else None,
            findings=findings,
        )
        result = _merged(results, whole)
        if selection is None or self.cursor is None:
            return result
        selection = attrs.evolve(selection, missed=tuple(missed), priorities=priorities or None)
        whole = attrs.evolve(whole, selection=selection)
        result = attrs.evolve(result, plan=whole)
        return self.advance_cursor(self.cursor, selection, result, written=written, pending=pending)

    # -- incremental reruns (docs/sync.md, "Incremental reruns and the full pass") -------

    def cursor_store(self) -> CursorStore | None:
        """Where the configuration names a cursor: a page's property, else a file."""
        if self.config.cursor_page:
            return PageCursorStore(self.confluence, self.config.cursor_page)
        if self.config.cursor_file:
            return FileCursorStore(Path(self.config.cursor_file).expanduser())
        return None

    def time_zones(self) -> dict[str, str]:
        """The time zones Jira and Confluence read this account's date values in."""
        zones: dict[str, str] = {}
        for name, gateway in (("jira", self.jira), ("confluence", self.confluence)):
            try:
                zone = gateway.time_zone()
            except (NotFoundError, ServiceError) as exc:
                log.info("no time zone from %s (%s); assuming the other's, or UTC", name, exc)
                zone = None
            zones[name] = zone or zones.get("jira") or "UTC"
        return zones

    def plan_since_cursor(self, store: CursorStore, *, cql: str | None, full: bool) -> Plan:
        """A plan of what changed since the cursor, or of everything when a full pass is due.

        A full pass happens when asked (``full``), when there is no cursor (a first run, a
        lost property) and every ``Config.full_every``; it also says what it found that
        the incremental runs missed (:attr:`SyncResult.missed`). A full pass's plan holds
        every page it read and every page write (:meth:`sync` goes in batches instead).
        """
        query = page_query(cql or self.config.cql or "")
        if not query:
            raise ConfigError(
                "say which pages to sync: a CQL query, or `cql` in the configuration", key="cql"
            )
        selection = self.select(store, query, full=full)
        if not selection.full:
            return self.plan_changed(selection, query)
        pages, warnings = self.read_pages(cql=query)
        snapshot = self.assemble(self.page_plans(pages, warnings), self.managed_issues(), warnings)
        plan = diff(snapshot, self.config, now=self.clock())
        missed: tuple[str, ...] = ()
        if selection.cursor is not None:
            modified = {p.id: p.modified for p in pages}
            missed = missed_pages(plan, modified, snapshot.issues, selection.cursor)
        selection = attrs.evolve(selection, missed=missed, priorities=snapshot.priorities or None)
        return attrs.evolve(plan, selection=selection)

    def select(self, store: CursorStore, query: str, *, full: bool) -> Selection:
        """Whether this run is a full pass or reads what changed since the stored cursor."""
        started = self.clock()
        key = cursor_key(self.config.project, self.config.label, query)
        previous = store.load(key)
        reason = ""
        if full:
            reason = "asked for"
        elif previous is None:
            reason = "no cursor yet (a first run, or the cursor was lost)"
        elif started - previous.full_at >= self.config.full_every:
            reason = f"due (full_every = {self.config.full_every})"
        if not reason:
            assert previous is not None
            return Selection(
                full=False, started=started, key=key, cursor=previous, zones=previous.zones
            )
        log.info("a full pass: %s", reason)
        return Selection(
            full=True,
            started=started,
            key=key,
            cursor=previous,
            reason=reason,
            zones=self.time_zones(),
        )

    def plan_changed(self, selection: Selection, query: str) -> Plan:
        """The plan of an incremental run: what changed since the selection's cursor."""
        assert selection.cursor is not None
        snapshot = self.changed_snapshot(selection.cursor, query, [])
        plan = diff(snapshot, self.config, now=self.clock())
        return attrs.evolve(plan, selection=selection)

    def changed_snapshot(self, previous: Cursor, query: str, warnings: list[str]) -> Snapshot:
        """The snapshot of the pages that changed since ``previous``, and of changed issues.

        Reads the issues updated since the cursor (one search), then in one CQL search the
        pages modified since or named by those issues (pages of many issues: by id, 50 per
        request). pmsync's own page versions and issues that agree with their sync record
        are left out; a page a person edited is compared with the version before the
        window too, so that rows deleted from it still make orphans.
        """
        since, zones, cloud = previous.since, previous.zones, self.jira.cloud
        recent = jql_since(since, zones.get("jira"), cloud=cloud)
        jql = (
            f"project = {jql_string(self.config.project)} AND labels = "
            f"{jql_string(self.config.label)} AND {recent}"
        )
        try:
            issues = list(self.jira.search(jql + " ORDER BY key ASC"))
        except ServiceError as exc:
            if exc.status != 400:
                raise
            raise ConfigError(f"Jira rejected the search {jql!r}: {exc}", key="project") from None
        loud = page_ids_of(i for i in issues if not is_quiet(i, jira_values(i, cloud=cloud)))
        born = page_ids_of(i for i in issues if i.created is not None and i.created >= since)
        wanted = loud | born | previous.pending
        modified = cql_since(since, zones.get("confluence"), cloud=cloud)
        changed = f"({query}) AND {modified}"
        ids = sorted(wanted)
        if 0 < len(ids) <= 25:  # few: in the same search
            listed = ", ".join(cql_string(i) for i in ids)
            changed = f"({query}) AND ({modified} OR id in ({listed}))"
            ids = []
        found = {p.id: p for p in self.confluence.search(changed)}
        for start in range(0, len(ids), 50):
            listed = ", ".join(cql_string(i) for i in ids[start : start + 50])
            found.update(
                (p.id, p) for p in self.confluence.search(f"({query}) AND id in ({listed})")
            )
        pages = [
            p
            for p in found.values()
            if previous.own_version(p.id) != p.version or p.id in loud | previous.pending
        ]
        pages.sort(key=lambda p: (len(p.id), p.id))
        plans = self.page_plans(pages, warnings)
        ids_now = {p.page_id for p in plans}
        edited = [
            p
            for p in pages
            if (p.modified is None or p.modified >= since)
            and previous.own_version(p.id) != p.version
        ]
        earlier, complete = self.earlier_keys(edited, previous)
        related = [i for i in issues if str((i.prop or {}).get("page_id")) in ids_now]
        if previous.pending or not complete:
            # Unfinished pages, or edits too many to walk back: their issues by search.
            known = {i.key for i in related}
            related += [
                i
                for i in self.managed_issues()
                if str((i.prop or {}).get("page_id")) in ids_now and i.key not in known
            ]
        return self.assemble(
            plans, related, warnings, keys=earlier, priorities=previous.priorities or None
        )

    def earlier_keys(self, pages: Sequence[Page], previous: Cursor) -> tuple[set[str], bool]:
        """The issue keys the pages showed before the window (rows since deleted included).

        Reads each page's versions backwards, from the one before the current, until one
        older than the cursor or one pmsync wrote (up to 5 per page). Returns the keys and
        whether every walk ended (otherwise the caller searches the pages' issues).
        """
        keys: set[str] = set()
        complete = True
        for page in pages:
            version = page.version - 1
            for _ in range(5):
                if version < 1:
                    break
                old = self.confluence.page_version(page.id, version)
                if old is None:
                    break
                # An unreadable old version links nothing pmsync can use.
                with contextlib.suppress(ParseError):
                    keys.update(i.jira_key for i in self.parse(old).items if i.jira_key)
                if old.modified is None or old.modified < previous.since:
                    break
                if previous.own_version(page.id) == version:
                    break
                version -= 1
            else:
                complete = False
        return keys, complete

    def advance_cursor(
        self,
        store: CursorStore,
        selection: Selection,
        result: SyncResult,
        *,
        written: Mapping[str, int],
        pending: Collection[str],
    ) -> SyncResult:
        """Store the cursor after a run: its start minus the margin, and its own writes
        (``written``: page id -> the version pmsync wrote; ``pending``: pages to plan
        again whatever changes)."""
        start = selection.cursor or Cursor(since=selection.started, full_at=selection.started)
        cursor = start.advanced(
            started=selection.started,
            ended=self.clock(),
            margin=self.config.cursor_margin,
            written=written,
            pending=pending,
            full=selection.full,
            zones=selection.zones,
            priorities=selection.priorities,
        )
        store.save(selection.key, cursor)
        for line in selection.missed:
            log.warning("a full pass found what incremental runs missed: %s", line)
        return attrs.evolve(result, missed=selection.missed)

    # -- the review meeting ------------------------------------------------------------

    def review(
        self, *, since: dt.date | None = None, today: dt.date | None = None, dry_run: bool = False
    ) -> Review:
        """Review what changed since the last review: a Slack digest and a roll-up page.

        Reads every issue pmsync manages (with its changelog, for due dates that slip) and
        their postmortems (plus the pages of the configured ``cql``), then keeps the
        roll-up page under ``[review] parent_page`` (created on the first run): the open
        items by team and owner, and the lessons learned. The digest goes to ``[review]
        slack_channel`` (default: ``slack_channel``) once per day; the day and figures of
        the review are stored as the roll-up page's ``pmsync.review`` content property, so
        a rerun the same day posts and writes nothing, and trends work from any machine.
        ``since`` overrides the day the review starts from; ``dry_run`` builds the review
        and writes and posts nothing.
        """
        settings = self.config.review
        day = today or self.clock().date()
        if settings.parent_page is None and not dry_run:
            raise ConfigError(
                "set parent_page in the [review] table to the id of the page the roll-up "
                "page goes under",
                key="review.parent_page",
            )
        rollup: Page | None = None
        record: Any = None
        record_version: int | None = None
        space = ""
        if settings.parent_page is not None:
            try:
                space = self.confluence.get_page(settings.parent_page).space or ""
            except NotFoundError:
                raise ConfigError(
                    f"the parent page {settings.parent_page} does not exist or this account "
                    "cannot see it",
                    key="review.parent_page",
                ) from None
            rollup = self.confluence.page_by_title(space, settings.title)
            stored = rollup and self.confluence.content_property(rollup.id, REVIEW_PROPERTY)
            if stored:
                record, record_version = stored
        previous, already = previous_review(record, day)
        review = self._build_review(day, since, previous, exclude=rollup.id if rollup else None)
        if dry_run:
            return attrs.evolve(
                review,
                dry_run=True,
                already_reviewed=already,
                page_url=rollup.url if rollup else None,
            )
        assert settings.parent_page is not None  # checked above
        sections = (
            (STATE_MARKER, render_state_section(review)),
            (LESSONS_MARKER, render_lessons_section(review)),
        )
        if rollup is None:
            rollup = self.confluence.create_page(
                space=space,
                parent_id=settings.parent_page,
                title=settings.title,
                storage=new_rollup_page() + "".join(xhtml for _, xhtml in sections),
                message="pmsync: review",
            )
            written = True
        else:
            written = self.write_blocks(rollup, sections, what="review")
        channel = settings.slack_channel or self.config.slack_channel
        posting = not already and self.slack is not None and bool(channel)
        # The record goes first (compare-and-set), the digest after: of two reviews run
        # at the same moment, only the one whose record lands posts.
        new_record = review_record(review, record, posted=posting, at=self.clock())
        if new_record != record and not self.confluence.set_content_property(
            rollup.id, REVIEW_PROPERTY, new_record, version=record_version
        ):
            if not posting:
                raise ConflictError(
                    f"another review of page {rollup.title!r} stored its figures at the "
                    "same time; this review's figures were not stored (rerun to store them)",
                    page_id=rollup.id,
                )
            log.info("review: another review of today stored first; it posts the digest")
            posting, already = False, True
        if posting and channel:
            try:
                text, blocks = review_digest(
                    review, mentions=self._review_mentions(review), page_url=rollup.url
                )
                self.notifier().post(channel, text, blocks)
            except PmsyncError:
                # Not posted after all: say so in the record, so that a rerun posts it.
                unposted = review_record(review, record, posted=False, at=self.clock())
                landed = 1 if record_version is None else record_version + 1
                self.confluence.set_content_property(
                    rollup.id, REVIEW_PROPERTY, unposted, version=landed
                )
                raise
        return attrs.evolve(
            review,
            page_url=rollup.url,
            page_written=written,
            digest_posted=posting,
            already_reviewed=already,
        )

    def _build_review(
        self,
        day: dt.date,
        since: dt.date | None,
        previous: Mapping[str, Any] | None,
        *,
        exclude: str | None,
    ) -> Review:
        """Read the managed issues (with changelogs) and their pages; build the review."""
        issues = self.managed_issues(history=True)
        page_ids = sorted(
            {
                str(issue.prop["page_id"])
                for issue in issues
                if issue.prop and str(issue.prop.get("page_id") or "").isdigit()
            }
        )
        pages, warnings = self.read_pages(page_ids=page_ids, cql=self.config.cql or None)
        postmortems: list[Postmortem] = []
        for page in pages:
            if page.id == exclude:
                continue
            try:
                postmortems.append(self.parse(page))
            except ParseError as exc:
                warnings.append(f"{page.title!r} (page {page.id}): {exc}")
        for warning in warnings:
            log.warning("review: %s", warning)
        return build_review(
            postmortems,
            issues,
            today=day,
            since=since,
            previous=previous,
            stuck_after_days=self.config.review.stuck_after_days,
            team_map=self.config.team_map,
            base_url=self.jira.base_url,
            page_urls={p.id: p.url for p in pages if p.url},
        )

    def _review_mentions(self, review: Review) -> dict[str, str]:
        """Slack ids of the owners the digest names (a failed lookup names them in text)."""
        notifier = self.notifier()
        found: dict[str, str] = {}
        for item in review.attention:
            owner = item.report.owner
            if owner is None or owner in found or item.person is None:
                continue
            try:
                slack_id = notifier.resolve(self.person_for_slack(item.person))
            except AuthError:
                raise
            except PmsyncError:
                slack_id = None
            if slack_id:
                found[owner] = slack_id
        return found

    def write_blocks(self, page: Page, blocks: Sequence[tuple[str, str]], *, what: str) -> bool:
        """Put pmsync's blocks on a page; True when the page was written.

        Each ``(marker, xhtml)`` block replaces the one found by its marker (or is added at
        the end of the page); the rest of the page, such as a person's notes, stays byte
        for byte. A versioned write: when someone saved first, the page is re-read and the
        blocks put on the new text. Nothing is written when the blocks say the same
        already. ``what`` names the blocks in the version message and in errors.
        """

        def edit(current: Page) -> str:
            storage = current.storage
            for marker, xhtml in blocks:
                storage = upsert_block(storage, marker, xhtml)
            return storage

        return write_page(self.confluence, page, edit, message=f"pmsync: {what}")


def page_query(cql: str) -> str:
    """The CQL that selects pages: ``cql``, limited to pages unless it names a type."""
    if not cql:
        return ""
    return cql if "type" in cql.lower() else f"type = page AND ({cql})"
