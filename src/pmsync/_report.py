"""Progress reports across postmortems: what is done, what is stuck, who owns what.

Pure: :func:`build_report` reads no network and no clock (``today`` is an argument). A
:class:`Report` renders itself as a dict, JSON, CSV, a pandas DataFrame (optional extra),
aligned text and HTML, and :func:`render_status_panel` turns one page's share of it into a
storage-format panel for the page itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math
import os
import statistics
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from typing import IO, Any

import attrs

from pmsync._model import ActionItem, JiraIssue, Person, Postmortem, Status
from pmsync.exceptions import PmsyncError

__all__ = [
    "REPORT_COLUMNS",
    "STATUS_MARKER",
    "Figures",
    "Group",
    "MissingExtraError",
    "Report",
    "ReportItem",
    "build_report",
    "render_status_panel",
]

#: The title of the status panel on a page; the block is found again by it.
STATUS_MARKER = "Action item status"

#: The CSV header (and DataFrame columns), one row per action item.
REPORT_COLUMNS = (
    "page_id",
    "page_title",
    "item_id",
    "table",
    "row",
    "summary",
    "owner",
    "team",
    "status",
    "due",
    "overdue",
    "days_overdue",
    "issue_key",
    "issue_url",
    "created",
    "resolved",
    "days_to_close",
)

_NO_OWNER = "(unowned)"
_NO_TEAM = "(no team)"
_PANEL_LIST_LIMIT = 10


class MissingExtraError(PmsyncError, ImportError):
    """An optional dependency is not installed; the message says which extra to install."""


@attrs.frozen
class ReportItem:
    """One action item as the report sees it: the page's row merged with its Jira issue.

    Where the item has an issue, Jira's status wins, and Jira's assignee and due date win
    when set (the page fills the gaps). ``days_to_close`` is the time from the issue's
    creation to its resolution, in days, for done items that have both.
    """

    page_id: str | None
    page_title: str | None
    item_id: str
    table: int
    row: int
    summary: str
    owner: str | None
    team: str | None
    status: Status
    due: dt.date | None
    overdue: bool
    days_overdue: int
    issue_key: str | None
    issue_url: str | None
    created: dt.datetime | None
    resolved: dt.datetime | None
    days_to_close: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with the :data:`REPORT_COLUMNS` keys."""
        return {
            "page_id": self.page_id,
            "page_title": self.page_title,
            "item_id": self.item_id,
            "table": self.table,
            "row": self.row,
            "summary": self.summary,
            "owner": self.owner,
            "team": self.team,
            "status": self.status.value,
            "due": self.due.isoformat() if self.due else None,
            "overdue": self.overdue,
            "days_overdue": self.days_overdue,
            "issue_key": self.issue_key,
            "issue_url": self.issue_url,
            "created": self.created.isoformat() if self.created else None,
            "resolved": self.resolved.isoformat() if self.resolved else None,
            "days_to_close": self.days_to_close,
        }


@attrs.frozen
class Figures:
    """The counts and rates of a set of items.

    ``unowned`` and ``undated`` count open items only (a done item needs neither).
    ``overdue`` counts open items whose due date is before the report's day.
    ``done_rate`` is ``done / total`` (``None`` with no items). The time to close is in
    days over the done items with Jira creation and resolution dates: the median, and the
    90th percentile by linear interpolation between closest ranks (numpy's default);
    ``None`` when no item has closed.
    """

    total: int = 0
    done: int = 0
    open: int = 0
    overdue: int = 0
    unowned: int = 0
    undated: int = 0
    done_rate: float | None = None
    closed_with_dates: int = 0
    median_days_to_close: float | None = None
    p90_days_to_close: float | None = None

    @classmethod
    def of(cls, items: Sequence[ReportItem]) -> Figures:
        """Figures over ``items``."""
        done = sum(1 for i in items if i.status is Status.DONE)
        closing = sorted(i.days_to_close for i in items if i.days_to_close is not None)
        return cls(
            total=len(items),
            done=done,
            open=len(items) - done,
            overdue=sum(1 for i in items if i.overdue),
            unowned=sum(1 for i in items if i.owner is None and i.status is not Status.DONE),
            undated=sum(1 for i in items if i.due is None and i.status is not Status.DONE),
            done_rate=done / len(items) if items else None,
            closed_with_dates=len(closing),
            median_days_to_close=_round(statistics.median(closing)) if closing else None,
            p90_days_to_close=_round(_percentile(closing, 0.9)) if closing else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of these figures."""
        return attrs.asdict(self)


@attrs.frozen
class Group:
    """The figures of one owner, team or postmortem. ``key`` is ``None`` for the rest."""

    key: str | None
    label: str
    figures: Figures

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of this group."""
        return {"key": self.key, "label": self.label, **self.figures.to_dict()}


def _round(value: float) -> float:
    return round(value, 2)


def _percentile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _pct(rate: float | None) -> str:
    return "–" if rate is None else f"{rate:.0%}"


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def _text_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: Container[int]
) -> str:
    """An aligned text table; the columns whose index is in ``right`` are right-aligned."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def _short(text: str, limit: int = 60) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


_GROUP_HEADERS = ("total", "done", "open", "overdue", "unowned", "undated", "done rate")


def _group_cells(group: Group) -> list[str]:
    f = group.figures
    return [
        _short(group.label, 40),
        str(f.total),
        str(f.done),
        str(f.open),
        str(f.overdue),
        str(f.unowned),
        str(f.undated),
        _pct(f.done_rate),
    ]


@attrs.frozen
class Report:
    """Action-item progress across a set of postmortems on one day.

    ``items`` has one :class:`ReportItem` per action item; ``totals`` the figures over all
    of them; ``by_owner``, ``by_team`` and ``by_postmortem`` the same figures per group,
    sorted by label with the unowned/no-team group last.
    """

    today: dt.date
    items: tuple[ReportItem, ...]
    totals: Figures
    by_owner: tuple[Group, ...]
    by_team: tuple[Group, ...]
    by_postmortem: tuple[Group, ...]

    @property
    def overdue(self) -> tuple[ReportItem, ...]:
        """The overdue items, most overdue first."""
        late = [i for i in self.items if i.overdue]
        return tuple(sorted(late, key=lambda i: (-i.days_overdue, i.issue_key or "")))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return {
            "today": self.today.isoformat(),
            "totals": self.totals.to_dict(),
            "by_owner": [g.to_dict() for g in self.by_owner],
            "by_team": [g.to_dict() for g in self.by_team],
            "by_postmortem": [g.to_dict() for g in self.by_postmortem],
            "items": [i.to_dict() for i in self.items],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_csv(self, path_or_file: str | os.PathLike[str] | IO[str]) -> None:
        """Write one CSV row per item, with the :data:`REPORT_COLUMNS` header.

        ``path_or_file`` is a path (written as UTF-8) or an open text file.
        """
        if isinstance(path_or_file, (str, os.PathLike)):
            with open(path_or_file, "w", encoding="utf-8", newline="") as handle:
                self._write_csv(handle)
        else:
            self._write_csv(path_or_file)

    def _write_csv(self, handle: IO[str]) -> None:
        writer = csv.DictWriter(handle, fieldnames=REPORT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for item in self.items:
            row = item.to_dict()
            writer.writerow({k: "" if v is None else v for k, v in row.items()})

    def to_dataframe(self) -> Any:
        """The items as a pandas DataFrame with the :data:`REPORT_COLUMNS` columns.

        Dates become pandas timestamps (``created``/``resolved`` in UTC). Needs the
        ``pandas`` extra: ``pip install 'pmsync[pandas]'``.
        """
        try:
            import pandas as pd  # noqa: PLC0415  (an optional extra, imported on use)
        except ImportError as exc:
            raise MissingExtraError(
                "Report.to_dataframe() needs pandas: pip install 'pmsync[pandas]'"
            ) from exc
        frame = pd.DataFrame([i.to_dict() for i in self.items], columns=list(REPORT_COLUMNS))
        frame["due"] = pd.to_datetime(frame["due"])
        frame["created"] = pd.to_datetime(frame["created"], utc=True)
        frame["resolved"] = pd.to_datetime(frame["resolved"], utc=True)
        frame["days_to_close"] = frame["days_to_close"].astype("float64")
        return frame

    def __str__(self) -> str:
        t = self.totals
        lines = [
            f"Action items on {self.today.isoformat()}: {t.total} total, {t.done} done, "
            f"{t.open} open, {t.overdue} overdue, {t.unowned} unowned, {t.undated} undated; "
            f"done rate {_pct(t.done_rate)}",
            f"Time to close: median {_days(t.median_days_to_close)} days, 90th percentile "
            f"{_days(t.p90_days_to_close)} days ({t.closed_with_dates} closed items)",
        ]
        for title, groups, first in (
            ("By owner", self.by_owner, "owner"),
            ("By team", self.by_team, "team"),
            ("By postmortem", self.by_postmortem, "postmortem"),
        ):
            if groups:
                rows = [_group_cells(g) for g in groups]
                lines += ["", title, _text_table([first, *_GROUP_HEADERS], rows, range(1, 8))]
        if self.overdue:
            rows = [
                [
                    i.issue_key or "–",
                    str(i.days_overdue),
                    i.due.isoformat() if i.due else "",
                    i.owner or _NO_OWNER,
                    _short(i.summary),
                ]
                for i in self.overdue
            ]
            lines += [
                "",
                "Overdue",
                _text_table(["issue", "days", "due", "owner", "summary"], rows, {1}),
            ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self, *, page_url: Callable[[str], str | None] | None = None) -> str:
        """The report as HTML tables, with titles and summaries in full.

        Issues link to Jira; postmortems link to their pages when ``page_url`` maps a
        page id to its address. Every text is escaped.
        """
        e = html.escape
        t = self.totals
        parts = [
            f"<p><strong>Action items on {e(self.today.isoformat())}</strong>: "
            f"{t.total} total, {t.done} done, {t.open} open, {t.overdue} overdue, "
            f"{t.unowned} unowned, {t.undated} undated; done rate {e(_pct(t.done_rate))}. "
            f"Time to close: median {e(_days(t.median_days_to_close))} days, "
            f"90th percentile {e(_days(t.p90_days_to_close))} days.</p>"
        ]
        for title, groups, first in (
            ("By owner", self.by_owner, "owner"),
            ("By team", self.by_team, "team"),
            ("By postmortem", self.by_postmortem, "postmortem"),
        ):
            if groups:
                rows = []
                for group in groups:
                    url = None
                    if page_url is not None and first == "postmortem" and group.key:
                        url = page_url(group.key)
                    rows.append([_link(group.label, url), *_group_cells(group)[1:]])
                parts.append(f"<h4>{title}</h4>")
                parts.append(_html_table([first, *_GROUP_HEADERS], rows))
        if self.overdue:
            parts.append("<h4>Overdue</h4>")
            overdue = (
                [
                    _link(i.issue_key or "–", i.issue_url),
                    str(i.days_overdue),
                    i.due.isoformat() if i.due else "",
                    i.owner or _NO_OWNER,
                    _link(i.summary, page_url(i.page_id) if page_url and i.page_id else None),
                ]
                for i in self.overdue
            )
            parts.append(_html_table(["issue", "days", "due", "owner", "summary"], overdue))
        return "\n".join(parts)


class _Html(str):
    """A table cell that is HTML already (escaped where it was built)."""

    __slots__ = ()


def _link(text: str, url: str | None) -> str:
    """``text`` as an HTML cell: a link to ``url`` when there is one, else plain text."""
    e = html.escape
    return _Html(f'<a href="{e(url)}">{e(text)}</a>') if url else text


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table; every cell is escaped, except those :func:`_link` built as HTML."""
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if isinstance(c, _Html) else e(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _owner_label(person: Person | None) -> str | None:
    if person is None:
        return None
    label = str(person)
    return label or person.identity


def _team(issue: JiraIssue | None, owner: Person | None, team_map: Mapping[str, str]) -> str | None:
    if issue is not None and issue.components:
        return issue.components[0]
    if owner is None:
        return None
    for name in (owner.display_name, owner.email, owner.text, owner.username, owner.account_id):
        if name and name.casefold() in team_map:
            return team_map[name.casefold()]
    return None


def _close_days(created: dt.datetime | None, resolved: dt.datetime | None) -> float | None:
    if created is None or resolved is None:
        return None
    if (created.tzinfo is None) != (resolved.tzinfo is None):
        created, resolved = created.replace(tzinfo=None), resolved.replace(tzinfo=None)
    return _round((resolved - created).total_seconds() / 86400)


def _browse(key: str, base_url: str | None) -> str | None:
    return f"{base_url.rstrip('/')}/browse/{key}" if base_url else None


def _merge(
    pm: Postmortem,
    item: ActionItem,
    issue: JiraIssue | None,
    *,
    today: dt.date,
    team_map: Mapping[str, str],
    base_url: str | None,
) -> ReportItem:
    if issue is not None:
        status = issue.status_category or item.status or Status.TODO
        owner = issue.assignee or item.owner
        due = issue.due or item.due
    else:
        status = item.status or Status.TODO
        owner, due = item.owner, item.due
    done = status is Status.DONE
    late = 0 if done or due is None else max(0, (today - due).days)
    key = issue.key if issue is not None else item.jira_key
    url = (issue.url if issue is not None else None) or (_browse(key, base_url) if key else None)
    return ReportItem(
        page_id=pm.page_id,
        page_title=pm.title,
        item_id=item.item_id,
        table=item.table,
        row=item.row,
        summary=item.summary,
        owner=_owner_label(owner),
        team=_team(issue, owner, team_map),
        status=status,
        due=due,
        overdue=late > 0,
        days_overdue=late,
        issue_key=key,
        issue_url=url,
        created=issue.created if issue else None,
        resolved=issue.resolved if issue and done else None,
        days_to_close=_close_days(issue.created, issue.resolved) if issue and done else None,
    )


def _groups(
    items: Sequence[ReportItem],
    key: Callable[[ReportItem], str | None],
    label: Callable[[ReportItem], str],
    rest: str,
) -> tuple[Group, ...]:
    buckets: dict[str | None, list[ReportItem]] = {}
    labels: dict[str | None, str] = {}
    for item in items:
        k = key(item)
        buckets.setdefault(k, []).append(item)
        labels.setdefault(k, label(item) if k is not None else rest)
    ordered = sorted(buckets, key=lambda k: (k is None, labels[k].casefold(), k or ""))
    return tuple(Group(k, labels[k], Figures.of(buckets[k])) for k in ordered)


def build_report(
    postmortems: Sequence[Postmortem],
    issues: Sequence[JiraIssue],
    *,
    today: dt.date,
    team_map: Mapping[str, str] | None = None,
    base_url: str | None = None,
) -> Report:
    """Build the progress report of ``postmortems`` from their items and Jira ``issues``.

    Each item is matched to an issue by the key in its row, else by the ``page_id`` and
    ``item_id`` in the issue's ``pmsync`` property; an item without an issue still counts,
    with the status, owner and due date its page gives. Teams come from the issue's first
    Jira component, else from ``team_map`` (owner display name, email or text → team,
    compared case-insensitively). ``base_url`` is the Jira site, used to link issues that
    carry no URL of their own.
    """
    by_key = {i.key: i for i in issues}
    by_identity: dict[tuple[str, str], JiraIssue] = {}
    for managed in issues:
        prop = managed.prop or {}
        page_id, item_id = prop.get("page_id"), prop.get("item_id")
        if page_id is not None and item_id is not None:
            by_identity.setdefault((str(page_id), str(item_id)), managed)
    teams = {k.casefold(): v for k, v in (team_map or {}).items()}
    rows: list[ReportItem] = []
    for pm in postmortems:
        for item in pm.items:
            issue: JiraIssue | None = by_key.get(item.jira_key) if item.jira_key else None
            if issue is None and pm.page_id is not None:
                issue = by_identity.get((str(pm.page_id), item.item_id))
            rows.append(_merge(pm, item, issue, today=today, team_map=teams, base_url=base_url))
    return Report(
        today=today,
        items=tuple(rows),
        totals=Figures.of(rows),
        by_owner=_groups(rows, lambda i: i.owner, lambda i: i.owner or "", _NO_OWNER),
        by_team=_groups(rows, lambda i: i.team, lambda i: i.team or "", _NO_TEAM),
        by_postmortem=_groups(
            rows,
            lambda i: i.page_id,
            lambda i: i.page_title or f"page {i.page_id}",
            "(no page id)",
        ),
    )


def render_status_panel(report: Report, page_id: str) -> str:
    """A compact storage-format "Action item status" panel for one page of ``report``.

    A ``tip`` (green) panel when every item is done, a ``note`` (yellow) one when some are
    overdue, else an ``info`` panel; its title is :data:`STATUS_MARKER`, by which
    :func:`pmsync._storage.blocks.upsert_block` replaces it on the next run. It holds the
    page's totals, done rate and median time to close, the overdue items with their
    owners, and what has been done (what the team put in place after the incident). It
    carries no date, so its text changes only when the figures do, and a rerun on an
    unchanged page writes nothing. All text is XML-escaped.
    """
    items = [i for i in report.items if i.page_id == page_id]
    f = Figures.of(items)
    e = html.escape
    kind = "tip" if f.total and f.done == f.total else ("note" if f.overdue else "info")
    # A line, not a table: a table on the page would be one more table for every later
    # read to judge (and warn about) as a possible action-item table.
    summary = (
        f"<p><strong>{f.total}</strong> items: <strong>{f.done}</strong> done, "
        f"<strong>{f.open}</strong> open, <strong>{f.overdue}</strong> overdue; done rate "
        f"{e(_pct(f.done_rate))}; median days to close {e(_days(f.median_days_to_close))}</p>"
    )
    parts = [summary]
    late = sorted((i for i in items if i.overdue), key=lambda i: (i.due or report.today, i.row))
    if late:
        parts.append(f"<p><strong>Overdue ({len(late)})</strong></p>")
        parts.append(_panel_list(late, lambda i: f"{i.owner or 'no owner'}, due {i.due}"))
    done = [i for i in items if i.status is Status.DONE]
    if done:
        parts.append(f"<p><strong>Done ({len(done)})</strong></p>")
        parts.append(
            _panel_list(done, lambda i: f"closed {i.resolved.date()}" if i.resolved else "done")
        )
    if not items:
        parts = ["<p>No action items found on this page.</p>"]
    return (
        f'<ac:structured-macro ac:name="{kind}">'
        f'<ac:parameter ac:name="title">{e(STATUS_MARKER)}</ac:parameter>'
        f"<ac:rich-text-body>{''.join(parts)}</ac:rich-text-body>"
        "</ac:structured-macro>"
    )


def _panel_list(items: Sequence[ReportItem], note: Callable[[ReportItem], str]) -> str:
    e = html.escape
    out = io.StringIO()
    out.write("<ul>")
    for item in items[:_PANEL_LIST_LIMIT]:
        ref = ""
        if item.issue_key:
            ref = (
                f'<a href="{e(item.issue_url)}">{e(item.issue_key)}</a> '
                if item.issue_url
                else f"{e(item.issue_key)} "
            )
        out.write(f"<li>{ref}{e(_short(item.summary, 120))} ({e(note(item))})</li>")
    if len(items) > _PANEL_LIST_LIMIT:
        out.write(f"<li>…and {len(items) - _PANEL_LIST_LIMIT} more</li>")
    out.write("</ul>")
    return out.getvalue()
