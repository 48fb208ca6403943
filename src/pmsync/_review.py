"""The review meeting: what changed since the last review, as a digest and a roll-up page.

Pure: no network and no clock. :func:`build_review` turns the postmortems, their Jira
issues and the figures of the previous review into a :class:`Review`;
:func:`render_state_section` and :func:`render_lessons_section` turn it into the
storage-format sections of the roll-up page, :func:`review_digest` into the Slack
message, and :func:`review_record` into what is remembered for the next review (the
roll-up page's ``pmsync.review`` content property).

Everything from a page or an issue is escaped: XML-escaped into storage format, and
mrkdwn-escaped into Slack (through :mod:`pmsync._messages`).
"""

from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from pmsync._messages import Message, _context, _section, _summary, escape_mrkdwn, link, mention
from pmsync._model import ActionItem, JiraIssue, Person, Postmortem, Status
from pmsync._report import (
    REPORT_COLUMNS,
    Figures,
    Group,
    MissingExtraError,
    ReportItem,
    _html_table,
    _short,
    _text_table,
    build_report,
)

__all__ = [
    "FIRST_PERIOD_DAYS",
    "LESSONS_MARKER",
    "PROPERTY_LIMIT",
    "REVIEW_COLUMNS",
    "REVIEW_PROPERTY",
    "STATES",
    "STATE_MARKER",
    "Review",
    "ReviewGroup",
    "ReviewItem",
    "Tally",
    "build_review",
    "new_rollup_page",
    "previous_review",
    "render_lessons_section",
    "render_state_section",
    "review_digest",
    "review_record",
]

#: The content property of the roll-up page that remembers the last review.
REVIEW_PROPERTY = "pmsync.review"
#: The titles of pmsync's two sections on the roll-up page; they are found again by them.
STATE_MARKER = "pmsync: open action items"
LESSONS_MARKER = "pmsync: lessons learned"
#: The largest content property Confluence stores (bytes of JSON).
PROPERTY_LIMIT = 32 * 1024
#: With no earlier review and no ``since``, a review looks back this many days.
FIRST_PERIOD_DAYS = 14
#: The digest lists at most this many stuck or overdue items (then "and N more").
DIGEST_LIMIT = 10
#: ...and at most this many completed ones.
DIGEST_DONE_LIMIT = 5

#: The lists of a review, in the order they are shown; also the ``list`` column values.
LISTS = (
    "completed",
    "new",
    "became_overdue",
    "stuck",
    "slipping",
    "no_owner",
    "no_due_date",
)
_LIST_TITLES = {
    "completed": "Completed",
    "new": "New",
    "became_overdue": "Became overdue",
    "stuck": "Stuck",
    "slipping": "Slipping (due date moved more than once)",
    "no_owner": "No owner",
    "no_due_date": "No due date",
}

#: The CSV/DataFrame columns: one row per item per list it is on.
REVIEW_COLUMNS = ("list", *REPORT_COLUMNS, "resolution", "last_change", "due_moves")


@attrs.frozen
class ReviewItem:
    """One action item as the review sees it: the report's row, and what Jira adds.

    ``last_change`` is the day of the issue's last change in Jira; ``due_moves`` how often
    its due date moved (from the changelog; ``None`` when unknown); ``resolution`` Jira's
    resolution name. ``person`` is the owner as a :class:`~pmsync.Person` (for mentions).
    ``on_page`` is false for a completed issue whose row is no longer on its postmortem:
    it stays a lesson learned.
    """

    report: ReportItem
    page_url: str | None = None
    resolution: str | None = None
    last_change: dt.date | None = None
    due_moves: int | None = None
    person: Person | None = attrs.field(default=None, eq=False, repr=False)
    on_page: bool = True

    @property
    def open(self) -> bool:
        """Whether the item is not done."""
        return self.report.status is not Status.DONE

    @property
    def row_name(self) -> str:
        """``row N``, or ``table T, row N`` for the rows of a page's second table or later."""
        r = self.report
        if not self.on_page:
            return "no longer on the page"
        return f"table {r.table + 1}, row {r.row + 1}" if r.table else f"row {r.row + 1}"

    @property
    def ref(self) -> str:
        """The issue key, else ``row N of <page>``: how the item is named in lists."""
        r = self.report
        return r.issue_key or f"{self.row_name} of {r.page_title or r.page_id}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the :data:`REVIEW_COLUMNS` keys (but ``list``)."""
        row = self.report.to_dict()
        return {
            **{k: row[k] for k in REVIEW_COLUMNS if k in row},
            "page_url": self.page_url,
            "resolution": self.resolution,
            "last_change": self.last_change.isoformat() if self.last_change else None,
            "due_moves": self.due_moves,
        }


@attrs.frozen
class Tally:
    """Open, overdue and done items of a group on one day."""

    open: int = 0
    overdue: int = 0
    done: int = 0

    @classmethod
    def of(cls, figures: Figures) -> Tally:
        """The tally of a report's figures."""
        return cls(figures.open, figures.overdue, figures.done)

    @classmethod
    def stored(cls, raw: Any) -> Tally | None:
        """A tally as :meth:`to_stored` wrote it, or ``None`` when ``raw`` is not one."""
        if not isinstance(raw, list) or len(raw) != 3:
            return None
        try:
            return cls(*(int(n) for n in raw))
        except (TypeError, ValueError):
            return None

    def to_stored(self) -> list[int]:
        """``[open, overdue, done]``: compact, as content properties are small (32 kB)."""
        return [self.open, self.overdue, self.done]

    def to_dict(self) -> dict[str, int]:
        """``{"open", "overdue", "done"}``."""
        return attrs.asdict(self)

    def minus(self, other: Tally) -> Tally:
        """The change from ``other`` to this tally."""
        return Tally(self.open - other.open, self.overdue - other.overdue, self.done - other.done)


@attrs.frozen
class ReviewGroup:
    """A team's or postmortem's tally now and at the last review (``before``, or None)."""

    key: str | None
    label: str
    now: Tally
    before: Tally | None = None

    @property
    def change(self) -> Tally | None:
        """The change since the last review, or None when the group is new to it."""
        return None if self.before is None else self.now.minus(self.before)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: key, label, the tally, and ``change`` (or None)."""
        change = self.change
        return {
            "key": self.key,
            "label": self.label,
            **self.now.to_dict(),
            "change": change.to_dict() if change else None,
        }


def _signed(value: int) -> str:
    return f"+{value}" if value > 0 else ("±0" if value == 0 else f"−{-value}")


def _cells(group: ReviewGroup) -> list[str]:
    change = group.change
    trend = (
        "new"
        if change is None
        else f"{_signed(change.open)} / {_signed(change.overdue)} / {_signed(change.done)}"
    )
    n = group.now
    return [_short(group.label, 40), str(n.open), str(n.overdue), str(n.done), trend]


_GROUP_HEADERS = ("open", "overdue", "done", "change (open / overdue / done)")


@attrs.frozen
class Review:
    """What changed since the last review, across all postmortems pmsync manages.

    ``since`` is the first day the review looks at (the last review's day, ``--since``,
    or :data:`FIRST_PERIOD_DAYS` back); ``previous`` the day of the review the trends
    compare with (``None`` on the first review). The lists: ``completed`` (done on or
    after ``since``), ``new`` (issues created on or after ``since``), ``became_overdue``
    (due from ``since`` to yesterday, still open), ``stuck`` (open, no change in Jira for
    ``stuck_after_days``), ``slipping`` (open, due date moved more than once),
    ``no_owner`` and ``no_due_date`` (open). ``totals``, ``by_team`` and
    ``by_postmortem`` hold open/overdue/done now and their change since ``previous``.

    The outcome of :meth:`pmsync.Syncer.review` is recorded too: ``page_url`` (the roll-up
    page), ``page_written``, ``digest_posted``, ``dry_run``, and ``already_reviewed`` (a
    review of the same day had run, so nothing was posted again).
    """

    today: dt.date
    since: dt.date
    previous: dt.date | None
    stuck_after_days: int
    items: tuple[ReviewItem, ...]
    totals: ReviewGroup
    by_team: tuple[ReviewGroup, ...]
    by_postmortem: tuple[ReviewGroup, ...]
    completed: tuple[ReviewItem, ...] = ()
    new: tuple[ReviewItem, ...] = ()
    became_overdue: tuple[ReviewItem, ...] = ()
    stuck: tuple[ReviewItem, ...] = ()
    slipping: tuple[ReviewItem, ...] = ()
    no_owner: tuple[ReviewItem, ...] = ()
    no_due_date: tuple[ReviewItem, ...] = ()
    page_url: str | None = None
    page_written: bool = False
    digest_posted: bool = False
    dry_run: bool = False
    already_reviewed: bool = False

    def lists(self) -> dict[str, tuple[ReviewItem, ...]]:
        """The review's lists by name, in :data:`LISTS` order."""
        return {name: getattr(self, name) for name in LISTS}

    @property
    def attention(self) -> tuple[ReviewItem, ...]:
        """The open items to talk about: overdue (most overdue first), then stuck ones."""
        late = sorted(
            (i for i in self.items if i.report.overdue),
            key=lambda i: (-i.report.days_overdue, i.ref),
        )
        stale = [i for i in self.stuck if not i.report.overdue]
        return (*late, *stale)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole review."""
        return {
            "today": self.today.isoformat(),
            "since": self.since.isoformat(),
            "previous": self.previous.isoformat() if self.previous else None,
            "stuck_after_days": self.stuck_after_days,
            "totals": self.totals.to_dict(),
            "by_team": [g.to_dict() for g in self.by_team],
            "by_postmortem": [g.to_dict() for g in self.by_postmortem],
            **{name: [i.to_dict() for i in items] for name, items in self.lists().items()},
            "page_url": self.page_url,
            "page_written": self.page_written,
            "digest_posted": self.digest_posted,
            "dry_run": self.dry_run,
            "already_reviewed": self.already_reviewed,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The review as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def rows(self) -> list[dict[str, Any]]:
        """One dict per item per list it is on, with the :data:`REVIEW_COLUMNS` keys."""
        return [
            {"list": name, **{k: v for k, v in i.to_dict().items() if k in REVIEW_COLUMNS}}
            for name, items in self.lists().items()
            for i in items
        ]

    def to_dataframe(self) -> Any:
        """The lists as a pandas DataFrame with the :data:`REVIEW_COLUMNS` columns.

        Needs the ``pandas`` extra: ``pip install 'pmsync[pandas]'``.
        """
        try:
            import pandas as pd  # noqa: PLC0415  (an optional extra, imported on use)
        except ImportError as exc:
            raise MissingExtraError(
                "Review.to_dataframe() needs pandas: pip install 'pmsync[pandas]'"
            ) from exc
        frame = pd.DataFrame(self.rows(), columns=list(REVIEW_COLUMNS))
        for column in ("due", "last_change"):
            frame[column] = pd.to_datetime(frame[column])
        for column in ("created", "resolved"):
            frame[column] = pd.to_datetime(frame[column], utc=True)
        return frame

    @property
    def headline(self) -> str:
        """Open, overdue and done, each with its change since the last review."""
        t, change = self.totals.now, self.totals.change
        if change is None:
            return f"{t.open} open, {t.overdue} overdue, {t.done} done"
        return (
            f"{t.open} open ({_signed(change.open)}), {t.overdue} overdue "
            f"({_signed(change.overdue)}), {t.done} done ({_signed(change.done)})"
        )

    @property
    def period(self) -> str:
        """Which days the review covers and what its trends compare with."""
        last = f"; trends since the review of {self.previous}" if self.previous else ""
        return f"changes since {self.since}{last}"

    def __str__(self) -> str:
        lines = [f"Review on {self.today} ({self.period})", self.headline]
        for name, items in self.lists().items():
            if items:
                lines += ["", f"{_LIST_TITLES[name]} ({len(items)})"]
                lines.append(_text_table(_ITEM_HEADERS, [_item_cells(i, name) for i in items], ()))
        for title, groups in (("By team", self.by_team), ("By postmortem", self.by_postmortem)):
            if groups:
                rows = [_cells(g) for g in groups]
                lines += ["", title, _text_table(["", *_GROUP_HEADERS], rows, range(1, 4))]
        if self.page_url:
            lines += ["", f"Roll-up page: {self.page_url}"]
        outcome = _outcome(self)
        if outcome:
            lines += ["", outcome]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        parts = [
            f"<p><strong>Review on {e(str(self.today))}</strong> ({e(self.period)}): "
            f"{e(self.headline)}.</p>"
        ]
        for name, items in self.lists().items():
            if items:
                parts.append(f"<h4>{e(_LIST_TITLES[name])} ({len(items)})</h4>")
                parts.append(_html_table(_ITEM_HEADERS, (_item_cells(i, name) for i in items)))
        for title, groups in (("By team", self.by_team), ("By postmortem", self.by_postmortem)):
            if groups:
                parts.append(f"<h4>{title}</h4>")
                parts.append(_html_table(["", *_GROUP_HEADERS], map(_cells, groups)))
        return "\n".join(parts)


_ITEM_HEADERS = ("item", "owner", "due", "note", "summary")


def _item_cells(item: ReviewItem, list_name: str) -> list[str]:
    r = item.report
    return [
        item.ref,
        r.owner or "(unowned)",
        r.due.isoformat() if r.due else "",
        _note(item, list_name),
        _short(r.summary),
    ]


def _note(item: ReviewItem, list_name: str) -> str:
    """What a list says about an item, in a few words."""
    r = item.report
    if list_name == "completed":
        took = f", took {_took(r.days_to_close)}" if r.days_to_close is not None else ""
        return f"closed {r.resolved.date()}{took}" if r.resolved else "done"
    if list_name == "new":
        return f"created {r.created.date()}" if r.created else "new"
    if list_name in ("became_overdue",) or (list_name == "attention" and r.overdue):
        return f"{r.days_overdue} days overdue"
    if list_name in ("stuck", "attention") and item.last_change:
        return f"no change since {item.last_change}"
    if list_name == "slipping":
        return f"due date moved {item.due_moves} times"
    return ""


def _took(days: float) -> str:
    """A time to close in whole days, as people say it."""
    whole = round(days)
    return "under a day" if whole < 1 else ("1 day" if whole == 1 else f"{whole} days")


#: How a status category reads in a table.
STATES = {Status.TODO: "to do", Status.IN_PROGRESS: "in progress", Status.DONE: "done"}


def _outcome(review: Review) -> str:
    if review.dry_run:
        return "Dry run: nothing was posted or written."
    if review.already_reviewed:
        return "Already reviewed today: the digest was not posted again."
    done = [
        *(["the digest was posted"] if review.digest_posted else []),
        *(["the roll-up page was updated"] if review.page_written else []),
    ]
    return ("Done: " + " and ".join(done) + ".") if done else ""


# -- building ----------------------------------------------------------------------------


def _groups(groups: Sequence[Group], before: Mapping[str, Any]) -> tuple[ReviewGroup, ...]:
    return tuple(
        ReviewGroup(g.key, g.label, Tally.of(g.figures), Tally.stored(before.get(g.key or "")))
        for g in groups
    )


def previous_review(record: Any, today: dt.date) -> tuple[Mapping[str, Any] | None, bool]:
    """The review to compare with, from the stored record, and whether today's was done.

    The record keeps the ``last`` review and the one ``before`` it. When the last one ran
    today, this run compares with the one before it (a rerun shows the same trends) and
    says so, so that nothing is posted twice.
    """
    if not isinstance(record, Mapping):
        return None, False
    last = record.get("last")
    if isinstance(last, Mapping) and last.get("date") == today.isoformat():
        before = record.get("before")
        return (before if isinstance(before, Mapping) else None), bool(last.get("posted"))
    return (last if isinstance(last, Mapping) else None), False


def _date_of(raw: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None


def _moment_of(raw: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(raw)) if raw else None
    except ValueError:
        return None
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def build_review(
    postmortems: Sequence[Postmortem],
    issues: Sequence[JiraIssue],
    *,
    today: dt.date,
    since: dt.date | None = None,
    previous: Mapping[str, Any] | None = None,
    stuck_after_days: int = 14,
    team_map: Mapping[str, str] | None = None,
    base_url: str | None = None,
    page_urls: Mapping[str, str] | None = None,
) -> Review:
    """Build the review of ``postmortems`` and their Jira ``issues`` on ``today``.

    Items are merged with their issues as :func:`pmsync._report.build_report` does.
    ``previous`` is the last review's record (:func:`review_record`): its day is where the
    review starts unless ``since`` is given, and its figures give the trends. Stuck
    items are open items whose issue has had no change for ``stuck_after_days``; items
    without an issue cannot be stuck, new, or slipping (Jira holds that history).
    """
    report = build_report(postmortems, issues, today=today, team_map=team_map, base_url=base_url)
    by_key = {i.key: i for i in issues}
    owners = {(pm.page_id, item.item_id): item.owner for pm in postmortems for item in pm.items}
    urls = page_urls or {}
    items: list[ReviewItem] = []
    for row in report.items:
        issue = by_key.get(row.issue_key) if row.issue_key else None
        items.append(
            ReviewItem(
                report=row,
                page_url=urls.get(row.page_id or ""),
                resolution=issue.resolution if issue else None,
                last_change=issue.updated.date() if issue and issue.updated else None,
                due_moves=issue.due_moves if issue else None,
                person=(issue.assignee if issue else None)
                or owners.get((row.page_id, row.item_id)),
            )
        )
    items += _done_elsewhere(
        postmortems,
        issues,
        report.items,
        today=today,
        team_map=team_map,
        base_url=base_url,
        page_urls=urls,
    )
    last_day = _date_of(previous.get("date")) if previous else None
    start = since or last_day or today - dt.timedelta(days=FIRST_PERIOD_DAYS)
    # Changes count from the moment of the last review (a change later that day is news
    # for the next one), or from the start of ``since`` (UTC).
    last_at = _moment_of(previous.get("at")) if previous and not since else None
    cutoff = last_at or dt.datetime.combine(start, dt.time.min, tzinfo=dt.UTC)

    def after(moment: dt.datetime | None) -> bool:
        if moment is None:
            return False
        aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        return aware >= cutoff

    before = previous or {}
    opened = [i for i in items if i.open]

    completed = sorted(
        (i for i in items if after(i.report.resolved)),
        key=lambda i: (i.report.resolved, i.ref),
    )
    return Review(
        today=today,
        since=start,
        previous=last_day,
        stuck_after_days=stuck_after_days,
        items=tuple(items),
        totals=ReviewGroup(
            None, "all", Tally.of(report.totals), Tally.stored(before.get("totals"))
        ),
        by_team=_groups(report.by_team, before.get("by_team") or {}),
        by_postmortem=_groups(report.by_postmortem, before.get("by_postmortem") or {}),
        completed=tuple(completed),
        new=tuple(i for i in items if after(i.report.created)),
        became_overdue=tuple(
            sorted(
                (i for i in opened if i.report.due and start <= i.report.due < today),
                key=lambda i: (i.report.due, i.ref),
            )
        ),
        stuck=tuple(
            sorted(
                (
                    i
                    for i in opened
                    if i.last_change and (today - i.last_change).days >= stuck_after_days
                ),
                key=lambda i: (i.last_change, i.ref),
            )
        ),
        slipping=tuple(i for i in opened if (i.due_moves or 0) > 1),
        no_owner=tuple(i for i in opened if i.report.owner is None),
        no_due_date=tuple(i for i in opened if i.report.due is None),
    )


def _done_elsewhere(
    postmortems: Sequence[Postmortem],
    issues: Sequence[JiraIssue],
    rows: Sequence[ReportItem],
    *,
    today: dt.date,
    team_map: Mapping[str, str] | None,
    base_url: str | None,
    page_urls: Mapping[str, str],
) -> list[ReviewItem]:
    """The completed issues no row names any more (removed from its page, or the page is
    gone): Jira still holds what was done, so they stay lessons learned."""
    on_pages = {r.issue_key for r in rows if r.issue_key}
    titles = {pm.page_id: pm.title for pm in postmortems}
    out = []
    for issue in issues:
        if issue.key in on_pages or issue.status_category is not Status.DONE:
            continue
        prop = issue.prop or {}
        page_id = str(prop.get("page_id") or "") or None
        item = ActionItem(item_id=str(prop.get("item_id") or issue.key), summary=issue.summary)
        page = Postmortem(page_id=page_id, title=titles.get(page_id), items=(item,))
        [row] = build_report(
            [page], [issue], today=today, team_map=team_map, base_url=base_url
        ).items
        out.append(
            ReviewItem(
                report=row,
                page_url=page_urls.get(page_id or ""),
                resolution=issue.resolution,
                last_change=issue.updated.date() if issue.updated else None,
                due_moves=issue.due_moves,
                person=issue.assignee,
                on_page=False,
            )
        )
    return out


def review_record(review: Review, record: Any, *, posted: bool, at: dt.datetime) -> dict[str, Any]:
    """The content property to store after ``review`` (run at ``at``): the ``last`` review.

    A rerun on the same day keeps ``last`` as it was (its moment, figures and whether the
    digest went out) and ``before``; a new day moves the old ``last`` to ``before``.
    ``posted`` says whether this run posted the day's digest.
    """
    old = record if isinstance(record, Mapping) else {}
    last = old.get("last") if isinstance(old.get("last"), Mapping) else None
    same_day = last is not None and last.get("date") == review.today.isoformat()
    if same_day and last is not None and (last.get("posted") or not posted):
        return dict(old)
    entry = {
        "date": review.today.isoformat(),
        "at": at.isoformat(timespec="seconds"),
        "posted": posted,
        "totals": review.totals.now.to_stored(),
        "by_team": {g.key or "": g.now.to_stored() for g in review.by_team},
        "by_postmortem": {g.key or "": g.now.to_stored() for g in review.by_postmortem},
    }
    before = old.get("before") if same_day else last
    return _storable({"v": 1, "last": entry, "before": before})


def _storable(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` within :data:`PROPERTY_LIMIT`: while it is over, the per-postmortem
    figures go, the review before's first (only a same-day rerun reads them); without
    them a postmortem's trend shows as new, and the review still works."""
    for name in ("before", "last"):
        entry = record.get(name)
        if len(json.dumps(record).encode()) <= PROPERTY_LIMIT:
            break
        if isinstance(entry, Mapping):
            record[name] = {k: v for k, v in entry.items() if k != "by_postmortem"}
    return record


# -- the roll-up page --------------------------------------------------------------------


def _a(url: str | None, label: str) -> str:
    e = html.escape
    return f'<a href="{e(url, quote=True)}">{e(label)}</a>' if url else e(label)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A storage-format table; ``rows`` hold XHTML that is already escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tbody><tr>{head}</tr>{body}</tbody></table>"


def _section_macro(marker: str, body: str) -> str:
    return (
        '<ac:structured-macro ac:name="panel">'
        f'<ac:parameter ac:name="title">{html.escape(marker)}</ac:parameter>'
        f"<ac:rich-text-body>{body}</ac:rich-text-body></ac:structured-macro>"
    )


def _postmortem_cell(item: ReviewItem) -> str:
    r = item.report
    title = r.page_title or f"page {r.page_id}"
    return f"{_a(item.page_url, title)} ({item.row_name})"


# The headers avoid the words that make a table an action-item table (a query that
# selects this page as a postmortem must find no items to sync on it).
_STATE_HEADERS = ("Team", "Person", "What", "Due", "State", "Postmortem", "Jira")
_LESSON_HEADERS = ("Closed", "What was done", "Resolution", "By", "Took", "Postmortem", "Jira")


def render_state_section(review: Review) -> str:
    """The roll-up page's "open action items" section, in storage format.

    Open items by team and owner, each group's overdue items first, with links to the
    postmortem (and the item's row) and the Jira issue. It names no day (only due dates),
    so it changes only when the items do, and a rerun writes nothing.
    """
    e = html.escape
    t = review.totals.now
    opened = [i for i in review.items if i.open]

    def order(i: ReviewItem) -> tuple[Any, ...]:
        r = i.report
        return (
            r.team is None,
            (r.team or "").casefold(),
            r.owner is None,
            (r.owner or "").casefold(),
            not r.overdue,
            r.due or dt.date.max,
            i.ref,
        )

    rows = []
    for i in sorted(opened, key=order):
        r = i.report
        due = e(r.due.isoformat()) if r.due else "none"
        state = "<strong>overdue</strong>" if r.overdue else STATES[r.status]
        rows.append(
            [
                e(r.team or "(no team)"),
                e(r.owner or "nobody"),
                e(r.summary),
                due,
                state,
                _postmortem_cell(i),
                _a(r.issue_url, r.issue_key) if r.issue_key else "",
            ]
        )
    body = (
        f"<p><strong>{t.open}</strong> open, <strong>{t.overdue}</strong> overdue, "
        f"<strong>{t.done}</strong> done across {len(review.by_postmortem)} postmortems.</p>"
    )
    body += _table(_STATE_HEADERS, rows) if rows else "<p>Nothing is open.</p>"
    return _section_macro(STATE_MARKER, body)


def render_lessons_section(review: Review) -> str:
    """The roll-up page's "lessons learned" section, in storage format.

    Every completed item once, under the month it was (last) closed, newest month first:
    what was done (the summary and Jira's resolution), when, by whom, how long it took,
    and where it came from. Built from Jira, the record of what was done, so an item
    reopened and closed again moves to its new month instead of appearing twice.
    """
    e = html.escape
    done = [i for i in review.items if not i.open and i.report.resolved]
    months: dict[str, list[ReviewItem]] = {}
    for item in sorted(done, key=lambda i: (i.report.resolved, i.ref), reverse=True):
        resolved = item.report.resolved
        assert resolved is not None  # filtered above
        months.setdefault(resolved.strftime("%B %Y"), []).append(item)
    parts = []
    for month, items in months.items():
        parts.append(f"<h3>{e(month)}</h3>")
        rows = [
            [
                e(str(i.report.resolved.date())) if i.report.resolved else "",
                e(i.report.summary),
                e(i.resolution or "Done"),
                e(i.report.owner or "nobody"),
                e(_took(i.report.days_to_close)) if i.report.days_to_close is not None else "",
                _postmortem_cell(i),
                _a(i.report.issue_url, i.report.issue_key) if i.report.issue_key else "",
            ]
            for i in items
        ]
        parts.append(_table(_LESSON_HEADERS, rows))
    body = "".join(parts) or "<p>No action item has been completed yet.</p>"
    return _section_macro(LESSONS_MARKER, body)


def new_rollup_page() -> str:
    """The storage of a new roll-up page: an introduction, then pmsync's two sections."""
    return (
        "<p>This page is kept by pmsync (<code>pmsync review</code>). Its two panels are "
        "rewritten on each review; anything you add outside them stays.</p>"
    )


# -- the digest --------------------------------------------------------------------------


def _digest_line(item: ReviewItem, mentions: Mapping[str, str], note: str) -> str:
    r = item.report
    ref = link(r.issue_url, item.ref) if r.issue_key else escape_mrkdwn(item.ref)
    who = mention(mentions.get(r.owner or "")) or (
        escape_mrkdwn(r.owner) if r.owner else "_no owner_"
    )
    return f"• {ref} {_summary(_short(r.summary, 80))} — {who}, {escape_mrkdwn(note)}"


def review_digest(
    review: Review, *, mentions: Mapping[str, str] | None = None, page_url: str | None = None
) -> Message:
    """The review's Slack digest: one Block Kit message that fits on a screen.

    The headline figures with their trend, then at most :data:`DIGEST_LIMIT` overdue or
    stuck items with their owners mentioned (``mentions`` maps an owner's name as the
    review shows it to a Slack user id) and "and N more" linking the roll-up page, then
    what was completed. Everything from pages and issues is escaped.
    """
    people = mentions or {}
    counts = " · ".join(
        f"{_LIST_TITLES[name].split(' (')[0]}: {len(items)}"
        for name, items in review.lists().items()
    )
    text = f"Action item review {review.today}: {review.headline}"
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Action item review, {review.today}"},
        },
        _section(f"*{escape_mrkdwn(review.headline)}*\n{counts}"),
    ]
    attention = review.attention
    if attention:
        lines = [_digest_line(i, people, _note(i, "attention")) for i in attention[:DIGEST_LIMIT]]
        rest = len(attention) - DIGEST_LIMIT
        if rest > 0:
            lines.append(f"…and {rest} more on {link(page_url, 'the roll-up page')}")
        blocks.append(_section("*Overdue and stuck*\n" + "\n".join(lines)))
    if review.completed:
        lines = [
            _digest_line(i, {}, _note(i, "completed")) for i in review.completed[:DIGEST_DONE_LIMIT]
        ]
        rest = len(review.completed) - DIGEST_DONE_LIMIT
        if rest > 0:
            lines.append(f"…and {rest} more on {link(page_url, 'the roll-up page')}")
        blocks.append(_section("*Completed*\n" + "\n".join(lines)))
    footer = f"{escape_mrkdwn(review.period).capitalize()}"
    if page_url:
        footer += f" · {link(page_url, 'Roll-up page and lessons learned')}"
    blocks.append(_context(footer))
    return text, blocks
