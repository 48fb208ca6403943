"""Reading ``pmsync.toml`` into a :class:`~pmsync.Config`, with errors that name key and line.

TOML parsing itself is the standard library's (``tomllib``); this module checks every key
and value against what :class:`~pmsync.Config` takes, so that a typo in a cron job's
configuration fails loudly on the first run instead of being ignored for months.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from pmsync.config import Config, ReminderPolicy, ReviewSettings
from pmsync.exceptions import ConfigError

__all__ = [
    "CONFIG_NAME",
    "config_from_mapping",
    "default_config_paths",
    "example_config",
    "find_config",
    "load_config",
]

#: The file name pmsync looks for.
CONFIG_NAME = "pmsync.toml"

# key -> expected Python type(s) of the TOML value, for the top level.
_TOP: dict[str, tuple[type, ...]] = {
    "project": (str,),
    "issue_type": (str,),
    "label": (str,),
    "fields": (dict,),
    "status_map": (dict,),
    "priority_map": (dict,),
    "writeback": (bool,),
    "ownership": (dict,),
    "slack_channel": (str,),
    "slack_buttons": (bool,),
    "slack_admin_group": (str,),
    "cql": (str,),
    "user_map": (dict,),
    "team_map": (dict,),
    "jira_server": (str,),
    "jira_server_id": (str,),
    "orphan_comment": (bool,),
    "lint_writeback": (bool,),
    "report_writeback": (bool,),
    "reminders": (dict,),
    "date_order": (str,),
    "columns": (dict,),
    "confluence_api": (str,),
    "concurrency": (int,),
    "cursor_page": (str,),
    "cursor_file": (str,),
    "cursor_margin": (str,),
    "full_every": (str,),
    "metrics_file": (str,),
    "ca_bundle": (str,),
    "review": (dict,),
}
_REMINDERS: dict[str, tuple[type, ...]] = {
    "due_soon_days": (int,),
    "overdue_every_days": (int,),
    "escalate_after": (int,),
    "escalate_to_author": (bool,),
    "digest": (bool,),
    "quiet_days": (list,),
}
_REVIEW: dict[str, tuple[type, ...]] = {
    "parent_page": (str,),
    "title": (str,),
    "slack_channel": (str,),
    "stuck_after_days": (int,),
}
_TYPE_NAMES = {
    str: "a string",
    bool: "true or false",
    int: "a whole number",
    dict: "a table",
    list: "an array",
}


def _line_of(text: str | None, key: str) -> int | None:
    """Find the line where a dotted key is set, for error messages (best effort)."""
    if not text:
        return None
    parts = key.split(".")
    leaf = re.escape(parts[-1])
    table = ".".join(parts[:-1])
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.match(r"^\[\s*([^\]]+?)\s*\]$", stripped)
        if header:
            current = header.group(1).replace(" ", "")
            if current == key:
                return number
            continue
        if re.match(rf"^[\"']?{leaf}[\"']?\s*=", stripped) and current == table:
            return number
        if table and re.match(rf"^{re.escape(key)}\s*=", stripped):
            return number
    return None


def _check(
    data: Mapping[str, Any],
    schema: dict[str, tuple[type, ...]],
    prefix: str,
    text: str | None,
    path: str | None,
) -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            known = ", ".join(sorted(schema))
            close = difflib.get_close_matches(key, list(schema), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"unknown setting; {hint}known settings here are: {known}",
                key=dotted,
                line=_line_of(text, dotted),
                path=path,
            )
        types = schema[key]
        if bool in types:
            ok = isinstance(value, bool)
        else:  # TOML booleans are Python ints too; a bool is never a number here
            ok = isinstance(value, types) and not isinstance(value, bool)
        if not ok:
            raise ConfigError(
                f"must be {_TYPE_NAMES[types[0]]}, not {value!r}",
                key=dotted,
                line=_line_of(text, dotted),
                path=path,
            )


# Tables whose values must all be of one type: table -> (type, what it means in a message).
_TABLE_VALUES: dict[str, tuple[type, str]] = {
    "status_map": (str, "a status category (todo, in_progress or done)"),
    "priority_map": (str, "a Jira priority name"),
    "ownership": (str, "page, jira or report"),
    "user_map": (str, "a Slack user id"),
    "team_map": (str, "a team name"),
}


def _check_tables(data: Mapping[str, Any], text: str | None, path: str | None) -> dict[str, Any]:
    """Check the values inside tables; return ``data`` with ``columns`` normalised."""
    out = dict(data)
    for table, (kind, meaning) in _TABLE_VALUES.items():
        for key, value in (data.get(table) or {}).items():
            if not isinstance(value, kind):
                dotted = f"{table}.{key}"
                raise ConfigError(
                    f"must be {_TYPE_NAMES[kind]} ({meaning}), not {value!r}",
                    key=dotted,
                    line=_line_of(text, dotted),
                    path=path,
                )
    columns = data.get("columns")
    if columns is not None:
        normalised: dict[str, list[str]] = {}
        for field, names in columns.items():
            dotted = f"columns.{field}"
            headers = [names] if isinstance(names, str) else names
            if not isinstance(headers, list) or not all(isinstance(n, str) for n in headers):
                raise ConfigError(
                    f"must be an array of header names, not {names!r}",
                    key=dotted,
                    line=_line_of(text, dotted),
                    path=path,
                )
            normalised[field] = headers
        out["columns"] = normalised
    quiet = (data.get("reminders") or {}).get("quiet_days")
    if isinstance(quiet, list) and not all(isinstance(day, str | dt.date) for day in quiet):
        shown = ", ".join(repr(day) for day in quiet if not isinstance(day, str | dt.date))
        raise ConfigError(
            f'must be an array of weekdays ("sat") or dates (2026-12-24), not {shown}',
            key="reminders.quiet_days",
            line=_line_of(text, "reminders.quiet_days"),
            path=path,
        )
    return out


def config_from_mapping(
    data: Mapping[str, Any], *, source: str | None = None, text: str | None = None
) -> Config:
    """Validate a mapping (a parsed ``pmsync.toml``) and build a Config from it."""
    _check(data, _TOP, "", text, source)
    if "project" not in data:
        raise ConfigError(
            "is required: the Jira project key to create issues in", key="project", path=source
        )
    kwargs = _check_tables(data, text, source)
    reminders = kwargs.pop("reminders", None)
    review = kwargs.pop("review", None)
    try:
        if reminders is not None:
            _check(reminders, _REMINDERS, "reminders.", text, source)
            kwargs["reminders"] = ReminderPolicy(**reminders)
        if review is not None:
            _check(review, _REVIEW, "review.", text, source)
            kwargs["review"] = ReviewSettings(**review)
        return Config(**kwargs)
    except ConfigError as exc:
        if exc.line is None and exc.key and exc.path is None:
            raise ConfigError(
                str(exc).split(": ", 1)[-1],
                key=exc.key,
                line=_line_of(text, exc.key),
                path=source,
            ) from None
        raise


def load_config(path: Path) -> Config:
    """Read and validate a ``pmsync.toml`` file."""
    try:
        # utf-8-sig: a byte order mark, as some Windows editors write, is no error.
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError("the configuration file does not exist", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(
            "not UTF-8 text: TOML files are UTF-8; save it as UTF-8",
            path=str(path),
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 has exc.lineno; older versions only say it in the message.
        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        raise ConfigError(f"not valid TOML: {exc}", line=line, path=str(path)) from None
    return config_from_mapping(data, source=str(path), text=text)


def default_config_paths(cwd: Path | None = None) -> tuple[Path, ...]:
    """Where pmsync looks for its configuration, in order.

    ``pmsync.toml`` in the working directory, then in the user configuration directory
    (``~/.config/pmsync/`` on Linux, ``~/Library/Application Support/pmsync/`` on macOS,
    ``%APPDATA%\\pmsync\\`` on Windows).
    """
    here = (cwd or Path.cwd()) / CONFIG_NAME
    user = Path(click.get_app_dir("pmsync")) / CONFIG_NAME
    return (here, user)


def find_config(explicit: str | os.PathLike[str] | None = None, *, cwd: Path | None = None) -> Path:
    """The configuration file to use: ``explicit`` when given, else the first that exists
    of :func:`default_config_paths`.

    Raises :class:`~pmsync.ConfigError` when an explicit file does not exist or when no
    default file does, saying where pmsync looked and how to create one.
    """
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(
                "the configuration file does not exist (create one with `pmsync init`)",
                path=str(path),
            )
        return path
    candidates = default_config_paths(cwd)
    for path in candidates:
        if path.is_file():
            return path
    looked = " and ".join(str(p) for p in candidates)
    raise ConfigError(
        f"no configuration file: looked for {looked}. Create one with `pmsync init`, "
        "or name one with --config FILE (or the PMSYNC_CONFIG environment variable)"
    )


_EXAMPLE = """\
# pmsync configuration. Every setting is listed; the commented ones show an example value.
# Reference: the "Configuration" page of the pmsync documentation.
#
# Secrets never go in this file. pmsync reads them from the environment:
#   Cloud:          PMSYNC_JIRA_URL, PMSYNC_EMAIL, PMSYNC_API_TOKEN
#   Server/DC:      PMSYNC_JIRA_URL, PMSYNC_CONFLUENCE_URL, PMSYNC_JIRA_PAT,
#                   PMSYNC_CONFLUENCE_PAT
#   Slack, if used: PMSYNC_SLACK_TOKEN
# Each secret may come from a file instead: PMSYNC_API_TOKEN_FILE=/run/secrets/jira, etc.

# The Jira project key that issues are created in (required).
project = "{project}"

# The issue type of created issues.
issue_type = "Task"

# The label that marks the issues pmsync manages; pmsync finds them by it, so changing it
# later leaves the issues created so far unmanaged.
label = "pmsync"

# The pages to sync when a command gets neither --page nor --cql (Confluence CQL).
cql = 'space = "{space}" AND label = "postmortem"'

# Write issue keys and statuses back into the pages.
writeback = true

# The Slack channel for one summary per postmortem, escalations and unassigned items.
# slack_channel = "#incidents"

# Which Confluence REST API reads and writes pages: "auto" (v2 on Cloud, v1 on Server/
# Data Center; switches once if the site answers otherwise), "v1" or "v2".
# confluence_api = "auto"

# How many pages a sync writes at once (1 to 16): 1 writes one page after another.
# concurrency = 4

# Put Done, New due date, Not mine and Open buttons on assignment messages and
# reminders. They need `pmsync serve` (or pmsync.slack.register in a bolt app) behind
# the Slack app's interactivity URL; see docs/recipes/slack-app.md.
slack_buttons = false

# A Slack user group (its id, S...) whose members may press the buttons of anyone's
# items; without it only the item's owner may.
# slack_admin_group = "S0123ABCD"

# How to read ambiguous numeric dates such as 03/04/2026 on pages: "DMY" or "MDY".
# Without it, such dates are reported as ambiguous and left out.
# date_order = "DMY"

# The Jira application link written into jira macros on the pages (Server/Data Center,
# or sites with several Jira links). By default pmsync copies it from a jira macro
# already on the page.
# jira_server = "Jira"
# jira_server_id = "144880e9-a353-312f-9412-ed028e8166fa"

# Comment once on an issue whose row was deleted from its page.
orphan_comment = false

# Keep a short action-item check (owners, dates, vague items) beside each table.
lint_writeback = false

# Keep an "Action item status" panel up to date on each page.
report_writeback = false

# Reruns read only what changed since the last run: a page whose content property keeps
# where the last run left off (every machine sees it), or else a local file.
# cursor_page = "123456"
# cursor_file = "~/.cache/pmsync/cursor.json"
# How far before the last run's start a rerun looks (clock skew, search index lag).
# cursor_margin = "5m"
# How often a rerun reads everything instead (and reports what the others missed).
# full_every = "24h"

# Where sync, remind and report write Prometheus metrics for node_exporter's textfile
# collector (the same as --metrics-file); {{command}} becomes sync, remind or report, so
# that each command keeps its own file.
# metrics_file = "/var/lib/node_exporter/textfile/pmsync-{{command}}.prom"

# A CA bundle (PEM) to verify TLS certificates with, for networks that inspect TLS with
# their own certificate authority (REQUESTS_CA_BUNDLE works too).
# ca_bundle = "/etc/ssl/certs/corporate-ca.pem"

# Extra fields for every created issue, exactly as Jira's REST API takes them.
[fields]
# components = [{{ name = "SRE" }}]
# customfield_10010 = "incident-follow-up"

# More words for statuses on pages and Jira status names, mapped to a category:
# todo, in_progress or done.
[status_map]
# "won't fix" = "done"
# parked = "todo"
# "under review" = "in_progress"

# Page priorities mapped to Jira priority names.
[priority_map]
# sev1 = "Highest"
# p2 = "High"

# Which side wins when a field changed both on the page and in Jira since the last
# sync: "page", "jira", or "report" (change neither and list the conflict).
# The defaults: status follows Jira, everything else follows the page.
[ownership]
summary = "page"
description = "page"
owner = "page"
due = "page"
priority = "page"
status = "jira"

# Owners (as written on pages, Jira names or emails) mapped to Slack user ids, for
# sites that hide email addresses from apps.
[user_map]
# "Alice Example" = "U012AB3CD"

# Owners (display name or email) mapped to teams, for reports. A Jira component on
# the issue takes precedence.
[team_map]
# "alice@example.com" = "Payments"

# More header names per field, on top of the built-in vocabulary (summary,
# description, owner, due, priority, status, ticket).
[columns]
# owner = ["Driver", "Point person"]
# due = ["Land by"]

# When and how owners are reminded (pmsync remind).
[reminders]
# Days before the due date for a "due soon" reminder; 0 turns it off.
due_soon_days = 2
# Days between reminders about an overdue item.
overdue_every_days = 1
# Overdue reminders before the channel is told too.
escalate_after = 3
# Also tell the postmortem's author when escalating.
escalate_to_author = false
# One message per person listing all their items, instead of one per item.
digest = false
# Weekdays (mon..sun) or dates (YYYY-MM-DD) with no reminders (none by default); the
# next day catches up.
# quiet_days = ["sat", "sun", "2026-12-25"]

# The review meeting (pmsync review): a Slack digest and a roll-up page in Confluence.
[review]
# The id of the page the roll-up page is created under (needed to keep the page).
# parent_page = "123456"
# The roll-up page's title.
title = "Postmortem action items: review"
# Where the digest goes; by default the slack_channel above.
# slack_channel = "#sre-review"
# An open item with no change in Jira for this many days is stuck.
stuck_after_days = 14
"""


def example_config(project: str = "OPS", space: str = "SRE") -> str:
    """A commented example ``pmsync.toml`` covering every setting (what ``pmsync init``
    writes). ``project`` and ``space`` fill in the Jira project and the Confluence space of
    the default query."""
    if '"' in space or "\\" in space:
        raise ConfigError(f"{space!r} is not a Confluence space key", key="space")
    return _EXAMPLE.format(project=project, space=space)
