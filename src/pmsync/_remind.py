"""Which reminders are due today: the pure selection behind ``syncer.remind()``.

Pure: no network and no clock. Everything a decision needs comes in as arguments: the
managed issues (with the ``reminders`` record of their ``pmsync`` property), today's date
and the :class:`~pmsync.ReminderPolicy`. What was sent is remembered in the issue's
property, never locally, so reruns and other machines do not repeat a reminder.

The record (``prop["reminders"]``) looks like::

    {"due": "2026-12-01",          # the due date the other entries refer to
     "due_soon": "2026-11-29",     # when the due-soon reminder went out
     "overdue_last": "2026-12-03", # when the last overdue reminder went out
     "overdue_count": 1}           # how many overdue reminders went out for this due date

A record whose ``due`` differs from the issue's due date is stale (the date moved) and is
started afresh; a record without ``due`` is taken to refer to the current due date. Keys
pmsync does not know are kept as they are.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from pmsync._model import JiraIssue, Person, Status, _same
from pmsync.config import ReminderPolicy
from pmsync.exceptions import ApplyError

__all__ = [
    "Reminder",
    "ReminderKind",
    "ReminderMessage",
    "ReminderResult",
    "SkippedReminder",
    "deliveries",
    "group_by_recipient",
    "is_quiet_day",
    "select_reminders",
    "states_to_save",
]

ReminderKind = Literal["due_soon", "overdue", "escalation"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _state(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return dict(value or {})


@attrs.frozen
class Reminder:
    """One message that is due about one issue.

    ``kind`` is ``due_soon`` (to the owner, once per due date), ``overdue`` (to the owner,
    at most once per ``overdue_every_days``) or ``escalation`` (to the channel, once the
    owner has had ``escalate_after`` overdue reminders). ``recipient`` is the assignee, or
    ``None`` when the issue is unassigned: such reminders go to the channel instead, and
    ask for an owner. ``overdue_count`` is the number of overdue reminders including this
    one. ``state`` is the ``reminders`` record to store in the issue's ``pmsync`` property
    once the message has been sent; every reminder of one issue in one selection carries
    the same ``state``, so storing it once or once per reminder gives the same result.
    """

    issue_key: str
    kind: ReminderKind
    recipient: Person | None
    due: dt.date
    summary: str
    page_id: str | None = None
    item_id: str | None = None
    url: str | None = None
    days_left: int = 0
    days_overdue: int = 0
    overdue_count: int = 0
    state: Mapping[str, Any] = attrs.field(
        factory=dict, converter=_state, hash=False, eq=attrs.cmp_using(eq=_same)
    )

    @property
    def to_channel(self) -> bool:
        """Whether this reminder goes to the channel rather than to one person."""
        return self.kind == "escalation" or self.recipient is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this reminder."""
        return {
            "issue_key": self.issue_key,
            "kind": self.kind,
            "recipient": attrs.asdict(self.recipient) if self.recipient else None,
            "due": self.due.isoformat(),
            "summary": self.summary,
            "page_id": self.page_id,
            "item_id": self.item_id,
            "url": self.url,
            "days_left": self.days_left,
            "days_overdue": self.days_overdue,
            "overdue_count": self.overdue_count,
            "state": dict(self.state),
        }

    def __str__(self) -> str:
        who = str(self.recipient) if self.recipient else "the channel (unassigned)"
        if self.kind == "due_soon":
            when = "due today" if self.days_left == 0 else f"due in {self.days_left} day(s)"
        elif self.kind == "overdue":
            when = f"{self.days_overdue} day(s) overdue, reminder {self.overdue_count}"
        else:
            who = "the channel"
            when = (
                f"escalated: {self.days_overdue} day(s) overdue after "
                f"{self.overdue_count} reminder(s)"
            )
        return f"{self.issue_key} {self.kind} to {who}: {when}: {self.summary}"


@attrs.frozen
class SkippedReminder:
    """A reminder that was due but not sent, and why (no Slack user, no channel...)."""

    reminder: Reminder
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this skip."""
        return {"reminder": self.reminder.to_dict(), "reason": self.reason}

    def __str__(self) -> str:
        return f"{self.reminder.issue_key} {self.reminder.kind}: {self.reason}"


def _error_dict(error: str | ApplyError) -> dict[str, Any]:
    if isinstance(error, ApplyError):
        return {
            "message": str(error),
            "page_id": error.page_id,
            "item_id": error.item_id,
            "issue_key": error.issue_key,
        }
    return {"message": str(error)}


def _sent(value: Iterable[Reminder]) -> tuple[Reminder, ...]:
    return tuple(value)


def _skipped(value: Iterable[SkippedReminder]) -> tuple[SkippedReminder, ...]:
    return tuple(value)


def _errors(value: Iterable[str | ApplyError]) -> tuple[str | ApplyError, ...]:
    return tuple(value)


@attrs.frozen
class ReminderResult:
    """What one ``remind()`` run sent, skipped and failed to send.

    With ``dry_run`` true, ``sent`` lists what would have been sent and nothing was.
    ``quiet_day`` is true when today is one of the policy's quiet days (nothing is sent).
    """

    sent: tuple[Reminder, ...] = attrs.field(default=(), converter=_sent)
    skipped: tuple[SkippedReminder, ...] = attrs.field(default=(), converter=_skipped)
    errors: tuple[str | ApplyError, ...] = attrs.field(default=(), converter=_errors)
    dry_run: bool = False
    quiet_day: bool = False

    @property
    def ok(self) -> bool:
        """True when no reminder failed (skips are not failures)."""
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this result."""
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "quiet_day": self.quiet_day,
            "sent": [r.to_dict() for r in self.sent],
            "skipped": [s.to_dict() for s in self.skipped],
            "errors": [_error_dict(e) for e in self.errors],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """This result as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def __str__(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        lines = []
        if self.quiet_day:
            lines.append("Today is a quiet day: no reminders.")
        lines.append(
            f"Reminders {verb}: {len(self.sent)}, skipped: {len(self.skipped)}, "
            f"errors: {len(self.errors)}"
        )
        lines.extend(f"  {verb}: {r}" for r in self.sent)
        lines.extend(f"  skipped: {s}" for s in self.skipped)
        lines.extend(f"  error: {e}" for e in self.errors)
        return "\n".join(lines)


def is_quiet_day(day: dt.date, policy: ReminderPolicy) -> bool:
    """Whether ``day`` is one of ``policy.quiet_days`` (a weekday name or an ISO date)."""
    weekday = _WEEKDAYS[day.weekday()]
    iso = day.isoformat()
    return any(q.lower()[:3] == weekday or q == iso for q in policy.quiet_days)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _record(issue: JiraIssue, due: dt.date) -> dict[str, Any]:
    record = dict(issue.record.reminders) if issue.record else {}
    recorded_due = _date(record.get("due"))
    if recorded_due is not None and recorded_due != due:
        # The due date moved: what was sent was about another date.
        for key in ("due_soon", "overdue_last", "overdue_count"):
            record.pop(key, None)
    record["due"] = due.isoformat()
    return record


def _reminders_for(issue: JiraIssue, today: dt.date, policy: ReminderPolicy) -> list[Reminder]:
    due = issue.due
    if due is None or issue.status_category is Status.DONE:
        return []
    record = _record(issue, due)
    synced = issue.record
    days = (due - today).days
    base = Reminder(
        issue_key=issue.key,
        kind="due_soon",
        recipient=issue.assignee,
        due=due,
        summary=issue.summary,
        page_id=synced.page_id if synced else None,
        item_id=synced.item_id if synced else None,
        url=issue.url,
    )
    if days >= 0:
        sent = _date(record.get("due_soon"))
        if policy.due_soon_days and days <= policy.due_soon_days and sent is None:
            record["due_soon"] = today.isoformat()
            return [attrs.evolve(base, days_left=days, state=record)]
        return []
    last = _date(record.get("overdue_last"))
    if last is not None and (today - last).days < policy.overdue_every_days:
        return []
    before = _count(record.get("overdue_count"))
    record["overdue_last"] = today.isoformat()
    record["overdue_count"] = before + 1
    overdue = attrs.evolve(
        base, kind="overdue", days_overdue=-days, overdue_count=before + 1, state=record
    )
    if before >= policy.escalate_after and issue.assignee is not None:
        # An unassigned item's overdue reminder already goes to the channel.
        return [overdue, attrs.evolve(overdue, kind="escalation")]
    return [overdue]


def select_reminders(
    issues: Iterable[JiraIssue], *, today: dt.date, policy: ReminderPolicy
) -> tuple[Reminder, ...]:
    """The reminders due on ``today``, in issue order (escalations after their overdue).

    Rules, per issue:

    - done issues and issues without a due date get nothing;
    - **due soon**: once per due date, on the first run with ``0 <= days left <=
      due_soon_days`` (``due_soon_days=0`` turns it off). An issue that enters the window
      late (created the day it is due, or the window fell on quiet days) gets it on the
      due day itself;
    - **overdue**: from the day after the due date, at most once per
      ``overdue_every_days``; a run after a gap (quiet days, a missed cron) sends one
      reminder, not one per missed day;
    - **escalation**: with an overdue reminder, once the owner has already had
      ``escalate_after`` of them (so at most once per overdue interval too); not for
      unassigned issues, whose reminders already go to the channel;
    - **quiet days**: nothing at all; the next run catches up by the rules above;
    - moving the due date starts the record afresh (a new due-soon, a new count).

    Feed each reminder's ``state`` back into the issue's property after sending, and
    rerunning on the same day selects nothing more.
    """
    if is_quiet_day(today, policy):
        return ()
    out: list[Reminder] = []
    for issue in issues:
        out.extend(_reminders_for(issue, today, policy))
    return tuple(out)


def group_by_recipient(
    reminders: Sequence[Reminder],
) -> tuple[tuple[Person | None, tuple[Reminder, ...]], ...]:
    """Group reminders for a per-person digest, in first-seen order.

    Escalations are left out (they always go to the channel one by one); reminders without
    a recipient form one group under ``None``, for the channel. Two reminders share a group
    when their recipients have the same :attr:`~pmsync.Person.identity`.
    """
    groups: dict[str | None, list[Reminder]] = {}
    people: dict[str | None, Person | None] = {}
    for reminder in reminders:
        if reminder.kind == "escalation":
            continue
        key = reminder.recipient.identity if reminder.recipient else None
        groups.setdefault(key, []).append(reminder)
        people.setdefault(key, reminder.recipient)
    return tuple((people[key], tuple(items)) for key, items in groups.items())


@attrs.frozen
class ReminderMessage:
    """One Slack message the reminders call for: who gets it, about which reminders.

    ``to`` is a person (a DM) or None (the configured channel). ``form`` says which
    message: one ``reminder``, a ``digest`` of several, or an ``escalation`` (which
    mentions the owner).
    """

    form: Literal["reminder", "digest", "escalation"]
    to: Person | None
    batch: tuple[Reminder, ...]


def deliveries(
    reminders: Sequence[Reminder],
    *,
    policy: ReminderPolicy,
    authors: Mapping[str, Person] | None = None,
) -> tuple[ReminderMessage, ...]:
    """The messages to send for ``reminders``, in order. Pure: the Slack gateway sends them.

    Owners get one DM per reminder, or one digest each with ``policy.digest``; reminders
    without an owner go to the channel. Escalations go to the channel, and also to the
    page's author (``authors``, by page id) with ``policy.escalate_to_author``.
    """
    out: list[ReminderMessage] = []
    if policy.digest:
        out.extend(
            ReminderMessage("digest", person, batch)
            for person, batch in group_by_recipient(reminders)
        )
    else:
        out.extend(
            ReminderMessage("reminder", r.recipient, (r,))
            for r in reminders
            if r.kind != "escalation"
        )
    for r in reminders:
        if r.kind != "escalation":
            continue
        out.append(ReminderMessage("escalation", None, (r,)))
        author = (authors or {}).get(r.page_id or "") if policy.escalate_to_author else None
        if author is not None:
            out.append(ReminderMessage("escalation", author, (r,)))
    return tuple(out)


def states_to_save(
    delivered: Mapping[str, Mapping[str, Any]], failed: Collection[str], reached: Collection[str]
) -> dict[str, Mapping[str, Any]]:
    """Which reminder records to store, by issue key, once the messages went out.

    A record is stored when its messages were delivered (or skipped with a reason, so
    they are not retried every run). A failed escalation must not un-send the owner's
    reminder: the record is stored when the owner's message went out, so the owner is
    not reminded again tomorrow; an issue none of whose messages reached anyone is tried
    again next run.
    """
    return {k: v for k, v in delivered.items() if k not in failed or k in reached}
