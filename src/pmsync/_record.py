"""The ``pmsync`` issue property as a typed value. Pure.

Every issue pmsync manages carries it: which page and row the issue belongs to, the
values both sides last agreed on (the merge base), and what reminders were sent. This is
the only module that knows its JSON shape; :meth:`SyncRecord.read` accepts every shape
pmsync has written (docs/sync.md, "Identity").
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

__all__ = ["SCHEMA_VERSION", "SyncRecord"]

#: The schema version pmsync writes.
SCHEMA_VERSION: Final = 1
_KNOWN: Final = frozenset({"v", "page_id", "item_id", "base", "reminders", "orphan_noted"})


def _ro(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


@attrs.frozen
class SyncRecord:
    """What the ``pmsync`` property of one issue says.

    ``base`` maps merged fields (summary, description, owner, due, priority, status) to
    the value both sides agreed on; a field missing from it has no base yet.
    ``reminders`` is the reminder state (see :mod:`pmsync._remind`). ``extra`` keeps keys
    this version does not know, so that writing the record back loses nothing.
    """

    page_id: str | None = None
    item_id: str | None = None
    base: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro)
    reminders: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro)
    orphan_noted: bool = False
    version: int = SCHEMA_VERSION
    extra: Mapping[str, Any] = attrs.field(factory=dict, converter=_ro)

    @classmethod
    def read(cls, value: Any) -> SyncRecord | None:
        """The record in a stored property value, or None when there is none.

        Accepts every shape written so far: version 1 (``v``, ``page_id``, ``item_id``,
        ``base``, ``reminders``, ``orphan_noted``), values without ``v``, a ``base`` or
        ``reminders`` that is not an object (ignored), and ids stored as numbers.
        """
        if not isinstance(value, Mapping) or not value:
            return None
        base = value.get("base")
        reminders = value.get("reminders")
        version = value.get("v")
        return cls(
            page_id=_text(value.get("page_id")),
            item_id=_text(value.get("item_id")),
            base=base if isinstance(base, Mapping) else {},
            reminders=reminders if isinstance(reminders, Mapping) else {},
            orphan_noted=bool(value.get("orphan_noted")),
            version=version if isinstance(version, int) else SCHEMA_VERSION,
            extra={k: v for k, v in value.items() if k not in _KNOWN},
        )

    @property
    def has_base(self) -> bool:
        """Whether any field has an agreed value yet."""
        return bool(self.base)

    @property
    def identity(self) -> tuple[str, str] | None:
        """``(page id, item id)``, or None when the record names no row."""
        if self.page_id and self.item_id:
            return self.page_id, self.item_id
        return None

    def to_json(self) -> dict[str, Any]:
        """The property value to store."""
        value: dict[str, Any] = dict(self.extra)
        value["v"] = SCHEMA_VERSION
        value["page_id"] = self.page_id
        value["item_id"] = self.item_id
        value["base"] = dict(self.base)
        if self.reminders:
            value["reminders"] = dict(self.reminders)
        if self.orphan_noted:
            value["orphan_noted"] = True
        return value

    def with_base(self, base: Mapping[str, Any]) -> SyncRecord:
        """This record with a new merge base."""
        return attrs.evolve(self, base=base)
