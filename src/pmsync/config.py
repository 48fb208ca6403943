"""pmsync's configuration: one :class:`Config` value, read from TOML or built in code.

Pure apart from :meth:`Config.from_file`, which reads one file. Secrets never live here:
credentials come from the environment (see :meth:`pmsync.Syncer.from_env`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import attrs

from pmsync._model import Status
from pmsync._storage.keys import is_project_key
from pmsync.exceptions import ConfigError

__all__ = ["FIELDS", "Config", "Ownership", "ReminderPolicy", "ReviewSettings"]

Ownership = Literal["page", "jira", "report"]

#: The fields pmsync merges between a page and Jira, in the order plans list them.
FIELDS = ("summary", "description", "owner", "due", "priority", "status")

_DEFAULT_OWNERSHIP: dict[str, Ownership] = {
    "summary": "page",
    "description": "page",
    "owner": "page",
    "due": "page",
    "priority": "page",
    "status": "jira",
}

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _ro(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _ownership(value: Mapping[str, str] | None) -> Mapping[str, Ownership]:
    merged: dict[str, Any] = dict(_DEFAULT_OWNERSHIP)
    merged.update(value or {})
    return MappingProxyType(merged)


def _columns(value: Mapping[str, Any] | None) -> Mapping[str, tuple[str, ...]]:
    return MappingProxyType({str(k): tuple(v) for k, v in (value or {}).items()})


def _status_map(value: Mapping[str, Any] | None) -> Mapping[str, Status]:
    out: dict[str, Status] = {}
    for word, status in (value or {}).items():
        try:
            out[str(word).strip().casefold()] = Status(str(status).strip().lower())
        except ValueError:
            raise ConfigError(
                f"status_map[{word!r}] is {status!r}; use one of todo, in_progress, done",
                key=f"status_map.{word}",
            ) from None
    return MappingProxyType(out)


#: The most pages a sync writes at once: more only meets the sites' rate limits sooner.
MAX_CONCURRENCY = 16


def check_concurrency(value: Any) -> int:
    """``value`` if it is a valid ``concurrency`` (1 to :data:`MAX_CONCURRENCY`)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{value!r} is not a whole number", key="concurrency")
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigError(
            f"{value} is not between 1 (one page after another) and {MAX_CONCURRENCY}",
            key="concurrency",
        )
    return value


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _duration(value: Any, key: str) -> dt.timedelta:
    """A duration: a timedelta, or text such as ``5m``, ``24h``, ``1d`` (TOML has none)."""
    if isinstance(value, dt.timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(
            f"{value!r} is not a duration; write a number and a unit: 5m, 24h, 1d", key=key
        )
    return dt.timedelta(**{_UNIT[match[2]]: int(match[1])})


def _margin(value: Any) -> dt.timedelta:
    return _duration(value, "cursor_margin")


def _full_every(value: Any) -> dt.timedelta:
    return _duration(value, "full_every")


def _days(value: Any) -> tuple[str, ...]:
    """Quiet days as strings: TOML dates (``2026-12-24`` unquoted) become ISO strings."""
    if isinstance(value, str):
        value = (value,)
    return tuple(v.isoformat() if isinstance(v, dt.date) else str(v) for v in value or ())


@attrs.frozen
class ReminderPolicy:
    """When and how pmsync reminds owners about their action items.

    ``due_soon_days``: remind this many days before the due date (``0`` turns it off).
    ``overdue_every_days``: repeat overdue reminders at this interval.
    ``escalate_after``: after this many overdue reminders, also tell the channel.
    ``escalate_to_author``: also tell the postmortem's author when escalating.
    ``digest``: one message per person listing all their items, instead of one per item.
    ``quiet_days``: weekdays (``sat``, ``sun``...) or ISO dates with no reminders.
    """

    due_soon_days: int = 2
    overdue_every_days: int = 1
    escalate_after: int = 3
    escalate_to_author: bool = False
    digest: bool = False
    quiet_days: tuple[str, ...] = attrs.field(default=(), converter=_days)

    def __attrs_post_init__(self) -> None:
        for name in ("due_soon_days", "overdue_every_days", "escalate_after"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(
                    f"must be a whole number of 0 or more, not {value!r}",
                    key=f"reminders.{name}",
                )
        if self.overdue_every_days == 0:
            raise ConfigError("must be at least 1 (day)", key="reminders.overdue_every_days")
        for day in self.quiet_days:
            if day.lower()[:3] in _WEEKDAYS and day.isalpha():
                continue
            try:
                dt.date.fromisoformat(day)
            except ValueError:
                raise ConfigError(
                    f"{day!r} is neither a weekday (mon..sun) nor a real date (YYYY-MM-DD)",
                    key="reminders.quiet_days",
                ) from None


#: The roll-up page's title when ``[review] title`` is not set.
DEFAULT_REVIEW_TITLE = "Postmortem action items: review"


@attrs.frozen
class ReviewSettings:
    """The review meeting: its Slack digest and the roll-up page (``pmsync review``).

    ``parent_page``: the id of the Confluence page the roll-up page lives under (needed to
    write the page and remember the last review). ``title``: the roll-up page's title.
    ``slack_channel``: where the digest goes (default: the top-level ``slack_channel``).
    ``stuck_after_days``: an open item with no change in Jira for this many days is stuck.
    """

    parent_page: str | None = None
    title: str = DEFAULT_REVIEW_TITLE
    slack_channel: str | None = None
    stuck_after_days: int = 14

    def __attrs_post_init__(self) -> None:
        if self.parent_page is not None and not str(self.parent_page).strip().isdigit():
            raise ConfigError(
                f"{self.parent_page!r} is not a Confluence page id (digits only)",
                key="review.parent_page",
            )
        if not self.title.strip():
            raise ConfigError("the roll-up page needs a title", key="review.title")
        days = self.stuck_after_days
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise ConfigError(
                f"must be a whole number of 1 or more, not {days!r}",
                key="review.stuck_after_days",
            )


@attrs.frozen
class Config:
    """Everything pmsync needs to know about one sync, apart from credentials.

    Attributes:
        project: The Jira project key that issues are created in (``OPS``).
        issue_type: The issue type of created issues.
        label: The label that marks issues pmsync manages; also used to find them.
        fields: Extra fields for every created issue, as Jira's REST API takes them
            (``{"components": [{"name": "SRE"}], "customfield_10010": "x"}``).
        status_map: Extra words for page statuses and Jira status names, mapped to a
            category (``{"won't fix": "done", "parked": "todo"}``).
        priority_map: Page priorities mapped to Jira priority names (``{"sev1": "Highest"}``).
        writeback: Write issue keys and statuses back into the pages.
        ownership: Per field, which side wins a conflict: ``page``, ``jira`` or
            ``report`` (leave both alone and list the conflict). Fields not given keep
            their defaults: status follows Jira, everything else follows the page.
        slack_channel: The channel that gets one summary per postmortem and escalations.
        slack_buttons: Put Done, New due date, Not mine and Open buttons on assignment
            messages and reminders (answered by :mod:`pmsync.slack` or :mod:`pmsync.web`).
        slack_admin_group: A Slack user group id (``S...``) whose members may act on
            anyone's items from Slack; otherwise only the item's owner may.
        cql: The default query that selects postmortem pages when none is given.
        user_map: Page owner text, Jira user or email mapped to a Slack user id, for sites
            that hide emails.
        team_map: Owner (display name or email) mapped to a team, for reports.
        jira_server: The Jira application link name written into ``jira`` macros (Server/DC
            and sites with several links); ``jira_server_id`` its id.
        orphan_comment: Comment on an issue whose row was deleted from its page (once).
        lint_writeback: Write a short lint note beside each action-item table.
        report_writeback: Keep an "Action item status" panel up to date on each page.
        reminders: The reminder policy.
        review: The review meeting's digest and roll-up page (:class:`ReviewSettings`).
        date_order: How to read ambiguous numeric dates on pages: ``DMY`` or ``MDY``.
        columns: Extra header names per field, added to the built-in vocabulary.
        confluence_api: Which Confluence REST API reads and writes pages: ``auto`` (v2
            on Cloud, v1 on Server/Data Center, switching once if the site answers 404 to
            v2 or 410 to v1), ``v1`` or ``v2``. CQL search is always v1.
        concurrency: How many pages a sync writes at once (1 to 16; default 4): each
            worker takes a page's lease, re-reads it, creates, moves and writes it.
            ``1`` writes one page after another. See docs/sync.md, "Concurrency".
        cursor_page: The id of a Confluence page whose content property keeps this
            configuration's cursor, so that reruns read only what changed (every machine
            sees it). See docs/sync.md, "Incremental reruns and the full pass".
        cursor_file: A local file for the cursor instead (one machine only).
        cursor_margin: How far before the last run's start a rerun looks (clock skew,
            search indexes that lag); ``5m`` by default.
        full_every: How often a rerun reads everything instead of what changed; ``24h``.
        metrics_file: Where ``sync``, ``remind`` and ``report`` write Prometheus metrics
            (the same as ``--metrics-file``), for node_exporter's textfile collector.
        ca_bundle: A CA bundle (PEM file) to verify TLS certificates with, for networks
            that inspect TLS with their own certificate authority.
    """

    project: str
    issue_type: str = "Task"
    label: str = "pmsync"
    fields: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro, eq=False)
    status_map: Mapping[str, Status] = attrs.field(factory=dict, converter=_status_map, eq=False)
    priority_map: Mapping[str, str] = attrs.field(factory=dict, converter=_ro, eq=False)
    writeback: bool = True
    ownership: Mapping[str, Ownership] = attrs.field(factory=dict, converter=_ownership, eq=False)
    slack_channel: str | None = None
    slack_buttons: bool = False
    slack_admin_group: str | None = None
    cql: str | None = None
    user_map: Mapping[str, str] = attrs.field(factory=dict, converter=_ro, eq=False)
    team_map: Mapping[str, str] = attrs.field(factory=dict, converter=_ro, eq=False)
    jira_server: str | None = None
    jira_server_id: str | None = None
    orphan_comment: bool = False
    lint_writeback: bool = False
    report_writeback: bool = False
    reminders: ReminderPolicy = attrs.field(factory=ReminderPolicy)
    date_order: Literal["DMY", "MDY"] | None = None
    columns: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_columns, eq=False)
    confluence_api: Literal["auto", "v1", "v2"] = "auto"
    concurrency: int = 4
    cursor_page: str | None = None
    cursor_file: str | None = None
    cursor_margin: dt.timedelta = attrs.field(default=dt.timedelta(minutes=5), converter=_margin)
    full_every: dt.timedelta = attrs.field(default=dt.timedelta(hours=24), converter=_full_every)
    metrics_file: str | None = None
    ca_bundle: str | None = None
    review: ReviewSettings = attrs.field(factory=ReviewSettings)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.project, str) or not is_project_key(self.project):
            raise ConfigError(
                f"{self.project!r} is not a Jira project key (a capital letter, then one or "
                "more capital letters, digits or _)",
                key="project",
            )
        if not self.label or any(c.isspace() for c in self.label):
            raise ConfigError(
                f"{self.label!r} is not a valid Jira label (it must be non-empty and "
                "contain no spaces)",
                key="label",
            )
        for field, owner in self.ownership.items():
            if field not in FIELDS:
                raise ConfigError(
                    f"unknown field {field!r}; fields are {', '.join(FIELDS)}",
                    key=f"ownership.{field}",
                )
            if owner not in ("page", "jira", "report"):
                raise ConfigError(
                    f"{owner!r} is not one of page, jira, report", key=f"ownership.{field}"
                )
        if self.cursor_page is not None and not str(self.cursor_page).isdigit():
            raise ConfigError(
                f"{self.cursor_page!r} is not a Confluence page id (digits only)",
                key="cursor_page",
            )
        for name in ("cursor_margin", "full_every"):
            if getattr(self, name) < dt.timedelta():
                raise ConfigError("must not be negative", key=name)
        if self.date_order not in (None, "DMY", "MDY"):
            raise ConfigError(f"{self.date_order!r} is not DMY or MDY", key="date_order")
        if self.confluence_api not in ("auto", "v1", "v2"):
            raise ConfigError(
                f"{self.confluence_api!r} is not auto, v1 or v2", key="confluence_api"
            )
        check_concurrency(self.concurrency)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> Config:
        """Build a Config from a parsed TOML table (see :meth:`from_file`)."""
        from pmsync._config_file import config_from_mapping  # noqa: PLC0415  (import cycle)

        return config_from_mapping(data, source=source)

    @classmethod
    def from_file(cls, path: str | Path) -> Config:
        """Read a ``pmsync.toml`` file.

        Raises :class:`~pmsync.ConfigError` naming the key and line of the first problem.
        """
        from pmsync._config_file import load_config  # noqa: PLC0415  (import cycle)

        return load_config(Path(path))
