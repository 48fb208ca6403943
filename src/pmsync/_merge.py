"""The three-way merge rules, field by field (docs/sync.md, "Three-way merge"). Pure.

For one field, the page value P, Jira's value J and the base B (the value both sides last
agreed on, from the issue's ``pmsync`` record) decide what happens. No REST shapes here:
values are plain (account ids, ISO dates, status categories); :mod:`pmsync._payload`
turns them into Jira fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Literal

import attrs

from pmsync._model import Status
from pmsync.config import Ownership

__all__ = ["RESOLUTION", "UNKNOWN", "Verdict", "field_rule", "task_status"]

#: How each ownership rule resolves a conflict, as plans say it.
RESOLUTION: Final = {
    "page": "the page wins",
    "jira": "Jira wins",
    "report": "reported, both left alone",
}


class _Unknown:
    """The page says nothing usable about a field (no column, an unresolvable owner)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


#: A page value that says nothing (the base stays as it is).
UNKNOWN: Final = _Unknown()


@attrs.frozen
class Verdict:
    """What the rules say for one field.

    ``winner`` is ``agreed`` (nothing to write; ``base`` is the new agreed value),
    ``page`` or ``jira`` (that side's value goes to the other), or ``report``.
    ``conflict`` is true when both sides changed (or there is no base yet) and ownership
    decided. ``note`` explains an ``agreed`` verdict that is not plain agreement.
    """

    winner: Literal["agreed", "page", "jira", "report"]
    conflict: bool = False
    base: Any = None
    note: str | None = None


def task_status(value: Any) -> Any:
    """A task's status as a checkbox shows it: in progress is not done, like to do."""
    return Status.TODO.value if value == Status.IN_PROGRESS.value else value


def field_rule(
    name: str,
    page: Any,
    jira: Any,
    base: Mapping[str, Any] | None,
    *,
    ownership: Ownership,
    linked_by_person: bool,
) -> Verdict:
    """The merge of one field whose page value is known.

    ``linked_by_person``: the issue has no record yet (a person created it and linked it
    from the row); its own summary and description are kept.
    """
    first = base is None or name not in base
    if page == jira:
        return Verdict("agreed", base=page)
    if first and linked_by_person and name in ("summary", "description") and page is not None:
        # The page's text becomes the base, so only a later page edit goes to Jira.
        return Verdict("agreed", base=page, note=f"the linked issue keeps its own {name}")
    if first:
        if page is None:
            # An empty cell never clears what Jira has. Recording the page's None keeps it
            # that way: later runs see "only Jira differs" and leave it.
            return Verdict("agreed", base=None)
        return Verdict(ownership, conflict=True)
    agreed = base[name] if base is not None else None
    if page != agreed and jira == agreed:
        return Verdict("page")
    if page == agreed and jira != agreed:
        return Verdict("jira")
    return Verdict(ownership, conflict=True)
