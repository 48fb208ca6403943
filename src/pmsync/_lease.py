"""The per-page lease and its write-ahead intent, as values. Pure: no network, no clock.

A run holds a page's lease (the Confluence content property ``pmsync.lease``) while it
writes anything for that page; the same property records the item ids the run is about
to create, so that a later run can tell "being created, Jira's search has not caught
up" from "never created" (docs/sync.md, "Two runs at once").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any, Final

import attrs

__all__ = ["LEASE_KEY", "Lease", "SkippedPage"]

#: The content property holding a page's lease.
LEASE_KEY: Final = "pmsync.lease"


def read_time(value: Any) -> dt.datetime | None:
    """A stored ISO timestamp as an aware datetime (naive: UTC); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


@attrs.frozen
class Lease:
    """A page's lease property: who holds it until when, and the creates it announced.

    ``version`` is the property's version (0: the page has no lease property yet), the
    one a compare-and-set write must follow. ``intent`` maps each item id a run was
    about to create to the time it said so.
    """

    run_id: str | None = None
    host: str | None = None
    expires: dt.datetime | None = None
    intent: Mapping[str, dt.datetime] = attrs.field(factory=dict)
    version: int = 0

    @classmethod
    def from_json(cls, value: Any, version: int) -> Lease:
        """The lease from the property's stored value (any unreadable part is ignored)."""
        raw = value if isinstance(value, Mapping) else {}
        intent_raw = raw.get("intent")
        intent: dict[str, dt.datetime] = {}
        if isinstance(intent_raw, Mapping):
            for item_id, when in intent_raw.items():
                stamp = read_time(when)
                if stamp is not None:
                    intent[str(item_id)] = stamp
        run_id = raw.get("run")
        return cls(
            run_id=str(run_id) if run_id else None,
            host=str(raw["host"]) if raw.get("host") else None,
            expires=read_time(raw.get("expires")),
            intent=intent,
            version=version,
        )

    def to_json(self) -> dict[str, Any]:
        """The value to store in the property."""
        return {
            "v": 1,
            "run": self.run_id,
            "host": self.host,
            "expires": self.expires.isoformat() if self.expires else None,
            "intent": {item_id: when.isoformat() for item_id, when in self.intent.items()},
        }

    def held(self, now: dt.datetime) -> bool:
        """Whether some run holds this lease at ``now`` (not released, not expired)."""
        return self.run_id is not None and self.expires is not None and now < self.expires

    @property
    def holder(self) -> str:
        """Who holds it, as people read it: ``run-id@host``."""
        return f"{self.run_id or '?'}@{self.host or '?'}"

    def young_intent(self, now: dt.datetime, window: dt.timedelta) -> frozenset[str]:
        """Item ids announced for creation less than ``window`` ago."""
        return frozenset(i for i, when in self.intent.items() if now - when < window)

    def taken(
        self,
        run_id: str,
        host: str,
        *,
        now: dt.datetime,
        ttl: dt.timedelta,
        creating: Collection[str],
        window: dt.timedelta,
    ) -> Lease:
        """This lease taken by ``run_id``, announcing ``creating`` (young intent kept)."""
        intent = {i: w for i, w in self.intent.items() if now - w < window}
        intent.update(dict.fromkeys(creating, now))
        return attrs.evolve(self, run_id=run_id, host=host, expires=now + ttl, intent=intent)

    def released(self, unresolved: Mapping[str, dt.datetime]) -> Lease:
        """This lease given up, still announcing the ``unresolved`` creates."""
        return attrs.evolve(self, run_id=None, host=None, expires=None, intent=dict(unresolved))


@attrs.frozen
class SkippedPage:
    """A page a run left alone because another run held its lease."""

    page_id: str
    title: str
    holder: str
    expires: dt.datetime | None

    def describe(self) -> str:
        """One line saying why the page was skipped."""
        until = f" until {self.expires.isoformat()}" if self.expires else ""
        return (
            f"page {self.title!r} ({self.page_id}) skipped: another pmsync run ({self.holder}) "
            f"holds its lease{until}; the next run syncs it"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "page_id": self.page_id,
            "title": self.title,
            "holder": self.holder,
            "expires": self.expires.isoformat() if self.expires else None,
        }
