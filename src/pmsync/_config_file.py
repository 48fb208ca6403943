"""Reading ``pmsync.toml`` into a :class:`~pmsync.Config`, with errors that name key and line.

TOML parsing itself is the standard library's (``tomllib``); this module checks every key
and value against what :class:`~pmsync.Config` takes, so that a typo in a cron job's
configuration fails loudly on the first run instead of being ignored for months.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pmsync.config import Config, ReminderPolicy
from pmsync.exceptions import ConfigError

__all__ = ["config_from_mapping", "load_config"]

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
}
_REMINDERS: dict[str, tuple[type, ...]] = {
    "due_soon_days": (int,),
    "overdue_every_days": (int,),
    "escalate_after": (int,),
    "escalate_to_author": (bool,),
    "digest": (bool,),
    "quiet_days": (list,),
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
            raise ConfigError(
                f"unknown setting; known settings here are: {known}",
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


def config_from_mapping(
    data: Mapping[str, Any], *, source: str | None = None, text: str | None = None
) -> Config:
    """Validate a mapping (a parsed ``pmsync.toml``) and build a Config from it."""
    _check(data, _TOP, "", text, source)
    if "project" not in data:
        raise ConfigError(
            "is required: the Jira project key to create issues in", key="project", path=source
        )
    kwargs = dict(data)
    reminders = kwargs.pop("reminders", None)
    try:
        if reminders is not None:
            _check(reminders, _REMINDERS, "reminders.", text, source)
            kwargs["reminders"] = ReminderPolicy(**reminders)
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
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("the configuration file does not exist", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror}", path=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.14 has exc.lineno; older versions only say it in the message.
        found = re.search(r"line (\d+)", str(exc))
        line = getattr(exc, "lineno", None) or (int(found.group(1)) if found else None)
        raise ConfigError(f"not valid TOML: {exc}", line=line, path=str(path)) from None
    return config_from_mapping(data, source=str(path), text=text)
