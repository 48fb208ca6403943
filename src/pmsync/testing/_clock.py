"""The emulator's clock and the timestamp formats each service writes.

Every timestamp is read from :func:`now` when it is needed, never cached, so that tests
can freeze or move time with time-machine.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["confluence_time", "jira_time", "now", "parse_timestamp"]


def now() -> dt.datetime:
    """The current time, timezone-aware in UTC."""
    return dt.datetime.now(dt.UTC)


def jira_time(moment: dt.datetime) -> str:
    """Format ``moment`` as Jira does: ``2026-01-15T10:00:00.000+0000``."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def confluence_time(moment: dt.datetime) -> str:
    """Format ``moment`` as Confluence does: ``2026-01-15T10:00:00.000Z``."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> dt.datetime:
    """Read a timestamp written by :func:`jira_time` or :func:`confluence_time`."""
    cleaned = text.replace("Z", "+00:00")
    if len(cleaned) >= 5 and cleaned[-5] in "+-" and cleaned[-3] != ":":
        cleaned = cleaned[:-2] + ":" + cleaned[-2:]
    return dt.datetime.fromisoformat(cleaned)
