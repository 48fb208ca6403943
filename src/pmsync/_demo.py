"""``pmsync demo``: the whole job, end to end, against the bundled emulator. Offline.

It starts a :class:`~pmsync.testing.Emulator` in this process, seeds three postmortems
(:func:`pmsync.testing.seeds.seed_demo`), and then does what a team's cron job and its
people would do over a few days:

1. plan and apply: issues are created, keys and statuses written back, owners told;
2. a person edits a page (a new due date, a task ticked off) and another closes an
   issue in Jira; the next sync carries each change to the other side;
3. reminders go to the owners of items due soon or overdue, once;
4. one more sync finds nothing to do;
5. the review meeting: a digest in Slack and the roll-up page in Confluence.

Each step checks its outcome and raises :class:`DemoError` naming the step and what
went wrong, so the demo doubles as a smoke test of a fresh install.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import attrs

from pmsync._model import ActionItem, Person, Postmortem
from pmsync._plan import Plan, SyncResult, shown_kind, warning_line
from pmsync._review import STATES
from pmsync._storage.parse import parse_page
from pmsync.config import Config, ReviewSettings
from pmsync.exceptions import PmsyncError

__all__ = ["DemoError", "DemoOutput", "PlainOutput", "RichOutput", "run_demo"]

_CQL = 'space = "SRE" AND label = "postmortem"'


class DemoError(PmsyncError):
    """A step of the demo did not do what it should; the message names the step."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"the demo failed at the {step}: {reason}")
        self.step = step
        self.reason = reason


def _short(text: str | None, limit: int = 44) -> str:
    if not text:
        return "-"
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


class DemoOutput(Protocol):
    """Where the demo writes: headings, notes, tables and plans."""

    def heading(self, text: str) -> None:
        """Start a step."""

    def note(self, text: str) -> None:
        """A line of explanation."""

    def table(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A small table."""

    def plan(self, view: PlanView) -> None:
        """A plan, one line per change."""


@attrs.frozen
class PlanView:
    """A plan as the demo shows it: a headline, one row per change, the warnings.

    Rows are ``(kind, page, issue, item, details)``; owners in the details appear by
    name rather than by account id.
    """

    head: str
    rows: tuple[tuple[str, str, str, str, str], ...]
    warnings: tuple[str, ...]


_HEADERS = ("change", "page", "issue", "item", "details")


@attrs.define
class PlainOutput:
    """Plain text for pipes and logs: aligned columns, no colour."""

    echo: Callable[[str], None]

    def heading(self, text: str) -> None:
        """Start a step."""
        self.echo("")
        self.echo(f"== {text}")

    def note(self, text: str) -> None:
        """A line of explanation."""
        self.echo(text)

    def table(self, title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        """A small aligned table."""
        self.echo(title.rstrip(":.") + ":")
        if not rows:
            self.echo("  (none)")
            return
        widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
        for row in [headers, *rows]:
            self.echo(
                "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            )

    def plan(self, view: PlanView) -> None:
        """The plan as an aligned table."""
        if view.rows:
            self.table(view.head, _HEADERS, view.rows)
        else:
            self.echo(view.head)
        for warning in view.warnings:
            self.echo(warning_line(warning))


@attrs.define
class RichOutput:
    """Rich tables and colour for a terminal (colour off with ``NO_COLOR``)."""

    console: Any

    def heading(self, text: str) -> None:
        """Start a step with a rule."""
        self.console.print()
        self.console.rule(f"[bold]{_escape(text)}", align="left")

    def note(self, text: str) -> None:
        """A line of explanation."""
        self.console.print(_escape(text))

    def table(
        self,
        title: str,
        headers: Sequence[str],
        rows: Sequence[Sequence[str]],
        styles: Sequence[str | None] = (),
    ) -> None:
        """A rich table; cell text is shown as written (never read as markup)."""
        from rich.table import Table  # noqa: PLC0415
        from rich.text import Text  # noqa: PLC0415

        # The title on its own line: as a table title it would wrap to the table's width.
        if not rows:
            self.console.print(_escape(f"{title.rstrip(':.')}: (none)"))
            return
        # Soft-wrapped: a long URL in a title stays whole (the terminal wraps it).
        self.console.print(_escape(title.rstrip(":.") + ":"), style="bold", soft_wrap=True)
        table = Table()
        for header in headers:
            table.add_column(header)  # wraps between words; a word too long gets an ellipsis
        for index, row in enumerate(rows):
            style = styles[index] if index < len(styles) else None
            table.add_row(
                *(
                    Text(cell, style=style or "") if i == 0 else Text(cell)
                    for i, cell in enumerate(row)
                )
            )
        self.console.print(table)

    def plan(self, view: PlanView) -> None:
        """The plan as a table, coloured by kind of change."""
        if view.rows:
            styles = [_COLOURS.get(row[0]) for row in view.rows]
            self.table(view.head, _HEADERS, view.rows, styles)
        else:
            self.console.print(f"[bold green]{_escape(view.head)}")
        for warning in view.warnings:
            self.console.print(_escape(warning_line(warning)), style="yellow")


_COLOURS = {
    "create": "green",
    "update": "yellow",
    "transition": "cyan",
    "writeback": "magenta",
    "conflict": "red",
    "orphan": "red",
    "noop": "dim",
}


def _escape(text: str) -> str:
    from rich.markup import escape  # noqa: PLC0415

    return escape(text)


@attrs.define
class _Demo:
    """The demo's state between steps."""

    emu: Any
    syncer: Any
    out: DemoOutput
    verbose: bool
    page_ids: tuple[str, ...] = ()

    # -- reading the world -----------------------------------------------------------------

    def postmortems(self) -> list[Postmortem]:
        pages = [self.emu.page(page_id) for page_id in self.page_ids]
        return [parse_page(p["storage"], page_id=p["id"], title=p["title"]) for p in pages]

    def issues(self) -> dict[str, dict[str, Any]]:
        return {issue["key"]: issue for issue in self.emu.issues("OPS")}

    def names(self) -> dict[str, str]:
        """Display names by every id a user has (account id, username, user key)."""
        names: dict[str, str] = {}
        for user in self.emu.users():
            for ident in (user.account_id, user.username, user.user_key):
                names[str(ident)] = str(user.display_name)
        return names

    def view(self, plan: Plan) -> PlanView:
        """``plan`` as rows: creates list their fields but the summary (it is the item)."""
        titles = {p.page_id: p.title for p in plan.pages}
        rows = []
        for change in plan.changes if self.verbose else plan.to_review:
            omit = ("summary",) if change.kind == "create" else ()
            rows.append(
                (
                    shown_kind(change),
                    _short(titles.get(change.page_id or "", change.page_id), 32),
                    change.issue_key or ("(new)" if change.kind == "create" else "-"),
                    _short(change.summary, 44),
                    change.describe(width=24, omit=omit),
                )
            )
        head = plan.render().splitlines()[0]
        return PlanView(head=head, rows=tuple(rows), warnings=plan.warnings)

    def person(self, person: Person | None) -> str:
        """A person by display name, whichever id they come with."""
        if person is None:
            return "-"
        names = self.names()
        for ident in (person.account_id, person.username, person.user_key):
            if ident and ident in names:
                return names[ident]
        return str(person) or "-"

    def owner_name(self, item: ActionItem) -> str | None:
        """The owner as a person would read it: a mention shows the user's name."""
        owner = item.owner
        if owner is None:
            return None
        for user in self.emu.users():
            if (owner.account_id and owner.account_id == user.account_id) or (
                owner.user_key and owner.user_key == user.user_key
            ):
                return str(user.display_name)
        return str(owner)

    def show_pages(self, title: str) -> None:
        rows = []
        for pm in self.postmortems():
            for item in pm.items:
                rows.append(
                    (
                        _short(pm.title, 30),
                        _short(item.summary),
                        _short(self.owner_name(item), 16),
                        item.due.isoformat() if item.due else "-",
                        item.jira_key or "-",
                        item.status.value if item.status else "-",
                    )
                )
        self.out.table(title, ("page", "item", "owner", "due", "issue", "status"), rows)

    def show_issues(self, keys: Sequence[str] | None = None) -> None:
        issues = self.issues()
        rows = []
        for key in sorted(issues, key=lambda k: int(k.split("-")[1])):
            if keys is not None and key not in keys:
                continue
            fields = issues[key]["fields"]
            assignee = (fields.get("assignee") or {}).get("displayName")
            rows.append(
                (
                    key,
                    _short(fields.get("summary")),
                    _short(assignee, 16),
                    fields.get("duedate") or "-",
                    (fields.get("priority") or {}).get("name") or "-",
                    fields["status"]["name"],
                )
            )
        self.out.table(
            "Jira issues", ("key", "summary", "assignee", "due", "priority", "status"), rows
        )

    def show_slack(self, since: int) -> int:
        """The Slack messages posted since the ``since``-th; return how many there are."""
        messages = self.emu.slack_messages()
        people = {str(u.slack_id): str(u.display_name) for u in self.emu.users()}
        rows = []
        for message in messages[since:]:
            if message.get("channel_name"):
                to = f"#{message['channel_name']}"
            else:
                user = message.get("dm_user") or message["channel"]
                to = f"{people.get(user, user)} (DM)"
            rows.append((to, _short(message.get("text"), 90)))
        self.out.table("Slack messages", ("to", "text"), rows)
        return len(messages)

    def show_review(self, review: Any, messages: Sequence[dict[str, Any]]) -> None:
        """The digest as Slack shows it, and the roll-up page's two tables."""
        people = {str(u.slack_id): str(u.display_name) for u in self.emu.users()}
        for message in messages:
            for block in message.get("blocks") or ():
                texts = [block.get("text") or {}, *(block.get("elements") or ())]
                for text in texts:
                    for line in str(text.get("text") or "").splitlines():
                        self.out.note(_slack_as_text(line, people))
        opened = sorted(
            (i.report for i in review.items if i.open),
            key=lambda r: (r.owner or "~", not r.overdue, r.due or dt.date.max),
        )
        rows = [
            (
                r.owner or "nobody",
                _short(r.summary),
                str(r.due or "-"),
                "overdue" if r.overdue else STATES[r.status],
                r.issue_key or "-",
            )
            for r in opened
        ]
        self.out.table(
            f"Roll-up page {review.page_url}: open items",
            ("person", "what", "due", "state", "jira"),
            rows,
        )
        lessons = [
            (str(r.resolved.date()), _short(r.summary), r.owner or "-", r.issue_key or "-")
            for r in (i.report for i in review.items if not i.open and i.report.resolved)
        ]
        self.out.table("Lessons learned", ("closed", "what was done", "by", "jira"), lessons)

    # -- acting ----------------------------------------------------------------------------

    def sync(self, step: str) -> tuple[Plan, SyncResult | None]:
        plan: Plan = self.syncer.plan(cql=_CQL)
        self.out.plan(self.view(plan))
        if plan.is_empty:
            return plan, None
        result: SyncResult = self.syncer.apply(plan)
        if not result.ok:
            raise DemoError(step, "".join(f"\n  - {e}" for e in result.errors))
        self.out.note(
            f"Applied: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.transitioned)} moved, {len(result.pages_written)} page(s) written"
            + (f", {len(result.notified)} notified" if result.notified else "")
            + "."
        )
        return plan, result


def _slack_as_text(line: str, people: dict[str, str]) -> str:
    """A mrkdwn line as Slack shows it: links as their label, mentions as @name."""
    line = re.sub(r"<@(\w+)>", lambda m: "@" + people.get(m.group(1), m.group(1)), line)
    line = re.sub(r"<[^|<>]+\|([^<>]*)>", r"\1", line)
    return line.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _find(
    postmortems: Sequence[Postmortem], predicate: Callable[[ActionItem], bool]
) -> tuple[Postmortem, ActionItem] | None:
    for pm in postmortems:
        for item in pm.items:
            if predicate(item):
                return pm, item
    return None


def _tick_task(storage: str, task_id: str) -> str | None:
    """``storage`` with the task ``task_id`` marked complete, as the editor saves it."""
    pattern = re.compile(
        r"(<ac:task-id>\s*" + re.escape(task_id) + r"\s*</ac:task-id>\s*<ac:task-status>)"
        r"\s*incomplete\s*(</ac:task-status>)"
    )
    changed, count = pattern.subn(r"\1complete\2", storage, count=1)
    return changed if count == 1 else None


def _move_date(storage: str, old: dt.date, new: dt.date) -> str | None:
    """``storage`` with the one ``<time datetime>`` of ``old`` moved to ``new``."""
    needle = f'datetime="{old.isoformat()}"'
    if storage.count(needle) != 1:
        return None
    return storage.replace(needle, f'datetime="{new.isoformat()}"')


def run_demo(out: DemoOutput, *, flavour: str = "cloud", verbose: bool = False) -> None:
    """Run the demo, writing to ``out``; raise :class:`DemoError` if a step goes wrong."""
    from pmsync._gateways._transport import RetryPolicy  # noqa: PLC0415
    from pmsync._sync import Syncer  # noqa: PLC0415
    from pmsync.testing import Emulator  # noqa: PLC0415  (werkzeug only when needed)
    from pmsync.testing.seeds import seed_demo  # noqa: PLC0415

    started = time.monotonic()
    with Emulator(flavour=flavour) as emu:  # type: ignore[arg-type]
        seed = seed_demo(emu)
        config = Config(project=seed.project_key, cql=_CQL, slack_channel="#incidents")
        syncer = Syncer(
            emu.confluence(),
            emu.jira(),
            config=config,
            slack=emu.slack(),
            retry=RetryPolicy(attempts=3, budget=10, wait_initial=0.05, wait_max=1),
        )
        demo = _Demo(emu=emu, syncer=syncer, out=out, verbose=verbose, page_ids=seed.page_ids)

        out.heading("pmsync demo: Confluence, Jira and Slack emulated on this machine")
        out.note(
            f"An emulated {'Atlassian Cloud' if flavour == 'cloud' else 'Server/Data Center'} "
            f"site at {emu.url} with three postmortems in space {seed.space_key}, a Jira "
            f"project {seed.project_key} and a Slack channel #incidents. Nothing leaves "
            "this machine."
        )
        demo.show_pages("Action items as the pages hold them")

        # -- 1. first sync -----------------------------------------------------------------
        step = "first sync"
        out.heading("1. First sync: plan, then apply")
        plan, result = demo.sync(step)
        if result is None:
            raise DemoError(step, "the plan was empty; the seeded items should need issues")
        creates = len(plan.of_kind("create"))
        if len(result.created) != creates:
            raise DemoError(step, f"planned {creates} issue(s) but created {len(result.created)}")
        demo.show_issues()
        demo.show_pages("Keys and statuses written back into the pages")
        unlinked = [
            item.summary for pm in demo.postmortems() for item in pm.items if not item.jira_key
        ]
        if unlinked:
            raise DemoError(step, f"no issue key was written back for {unlinked!r}")
        seen = demo.show_slack(0)
        if seen == 0:
            raise DemoError(step, "no Slack message was sent about the new issues")

        # -- 2. people change things on both sides --------------------------------------------
        step = "second sync"
        out.heading("2. People change things on both sides, and pmsync carries the changes")
        postmortems = demo.postmortems()
        page_change = _find(
            postmortems,
            lambda i: i.kind == "task" and i.status is not None and i.status.value != "done",
        )
        date_change = _find(
            postmortems,
            lambda i: i.kind == "table" and i.due is not None and i.jira_key is not None,
        )
        issues = demo.issues()
        jira_change = _find(
            postmortems,
            lambda i: (
                i.jira_key is not None
                and issues.get(i.jira_key, {}).get("fields", {}).get("status", {}).get("name")
                != "Done"
                and (page_change is None or i is not page_change[1])
                and (date_change is None or i is not date_change[1])
            ),
        )
        if page_change is None or date_change is None or jira_change is None:
            raise DemoError(step, "the seeded pages lack the items this step edits")
        task_pm, task = page_change
        storage = emu.page(str(task_pm.page_id))["storage"]
        ticked = _tick_task(storage, task.task_id or "")
        if ticked is None:
            raise DemoError(step, f"could not find task {task.task_id!r} on {task_pm.title!r}")
        emu.edit_page(str(task_pm.page_id), ticked)
        out.note(f"On the page {task_pm.title!r}, someone ticks off {task.summary!r}.")
        date_pm, dated = date_change
        assert dated.due is not None
        new_due = dated.due + dt.timedelta(days=7)
        storage = emu.page(str(date_pm.page_id))["storage"]
        moved = _move_date(storage, dated.due, new_due)
        if moved is None:
            raise DemoError(step, f"the due date of {dated.summary!r} is not unique on its page")
        emu.edit_page(str(date_pm.page_id), moved)
        out.note(f"On {date_pm.title!r}, the due date of {dated.summary!r} moves to {new_due}.")
        _, closed = jira_change
        assert closed.jira_key is not None
        emu.transition_issue(closed.jira_key, "Done")
        out.note(f"In Jira, someone closes {closed.jira_key} ({closed.summary!r}).")
        _plan, result = demo.sync(step)
        if result is None:
            raise DemoError(step, "the plan was empty after edits on both sides")
        after = demo.issues()
        if after[task.jira_key or ""]["fields"]["status"]["name"] != "Done":
            raise DemoError(step, f"{task.jira_key} did not move to Done after the task was ticked")
        if after[dated.jira_key or ""]["fields"].get("duedate") != new_due.isoformat():
            raise DemoError(step, f"{dated.jira_key} did not get the new due date {new_due}")
        pages_now = {item.jira_key: item for pm in demo.postmortems() for item in pm.items}
        back = pages_now.get(closed.jira_key)
        if back is None or back.status is None or back.status.value != "done":
            raise DemoError(step, f"the page does not show {closed.jira_key} as done")
        demo.show_issues([k for k in (task.jira_key, dated.jira_key, closed.jira_key) if k])
        demo.show_pages("The pages after the second sync")
        demo.show_slack(seen)

        # -- 3. reminders ------------------------------------------------------------------
        step = "reminders"
        out.heading("3. Reminders: owners hear about items due soon or overdue")
        reminders = syncer.remind()
        if not reminders.ok:
            raise DemoError(step, "".join(f"\n  - {e}" for e in reminders.errors))
        rows = [
            (
                r.issue_key,
                r.kind.replace("_", " "),
                "the channel" if r.to_channel else demo.person(r.recipient),
                _short(r.summary),
            )
            for r in reminders.sent
        ]
        out.table("Reminders sent", ("issue", "kind", "to", "item"), rows)
        again = syncer.remind()
        out.note(
            f"Run again the same day: {len(again.sent)} sent. What was sent is remembered in "
            "each issue, so reruns and other machines never repeat a reminder."
        )
        if again.sent:
            raise DemoError(step, f"a second run repeated {len(again.sent)} reminder(s)")

        # -- 4. nothing left ------------------------------------------------------------------
        step = "last sync"
        out.heading("4. One more run: everything is in sync")
        plan, result = demo.sync(step)
        if result is not None:
            raise DemoError(step, f"expected nothing to do, but the plan had {plan.counts()}")

        # -- 5. the review meeting -----------------------------------------------------------
        step = "review"
        out.heading("5. The review meeting: a digest in Slack, a roll-up page in Confluence")
        parent = emu.add_page(seed.space_key, "Postmortem reviews", "<p>Our reviews.</p>")
        syncer.config = attrs.evolve(config, review=ReviewSettings(parent_page=parent))
        seen = len(emu.slack_messages())
        review = syncer.review()
        if not (review.digest_posted and review.page_written):
            raise DemoError(step, "the digest was not posted or the roll-up page not written")
        demo.show_review(review, emu.slack_messages()[seen:])
        rerun = syncer.review()
        out.note(
            "Run again the same day: "
            + ("posted again" if rerun.digest_posted else "nothing posted")
            + ", "
            + ("page rewritten" if rerun.page_written else "page unchanged")
            + ". The last review is remembered on the roll-up page itself."
        )
        if rerun.digest_posted or rerun.page_written:
            raise DemoError(step, "a second review the same day posted or wrote again")

    out.heading(f"Done in {time.monotonic() - started:.1f} s")
    out.note(
        "Next: `pmsync init` writes a configuration for your site; `pmsync plan` shows what "
        "pmsync would do there without changing anything."
    )
