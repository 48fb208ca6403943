"""The Jira side of a plan: the REST fields and texts pmsync sends for an item. Pure.

The merge rules (:mod:`pmsync._merge`) decide values; this module says how each value is
written in Jira's REST shapes (the summary cut to 255 characters, the description with
its link back to the page, the assignee by account id or name) and how Jira's values are
read back for the merge.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from pmsync._model import ActionItem, JiraIssue
from pmsync._plan import PagePlan
from pmsync._quote import unwiki, wiki_text
from pmsync._record import SyncRecord

__all__ = [
    "FOOTER_MARK",
    "JIRA_FIELD_KEYS",
    "SUMMARY_LIMIT",
    "jira_body",
    "jira_description",
    "jira_field",
    "jira_summary",
    "jira_values",
    "page_body",
    "property_value",
]

SUMMARY_LIMIT: Final = 255
FOOTER_MARK: Final = "Action item from the postmortem"
_FOOTER_RE = re.compile(r"\n*-{4}\n" + re.escape(FOOTER_MARK) + r".*\Z", re.DOTALL)
_FULL_TEXT = "Full action item: "


def jira_summary(summary: str) -> str:
    """The summary as Jira takes it: at most 255 characters, cut at a word boundary."""
    text = " ".join(summary.split())
    if len(text) <= SUMMARY_LIMIT:
        return text
    cut = text[: SUMMARY_LIMIT - 1]
    space = cut.rfind(" ")
    if space > SUMMARY_LIMIT // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-") + "…"


def page_body(item: ActionItem) -> str | None:
    """The description pmsync keeps in Jira for an item (before the footer), or None."""
    parts = []
    summary = " ".join(item.summary.split())
    if len(summary) > SUMMARY_LIMIT:
        parts.append(_FULL_TEXT + summary)
    if item.description and item.description.strip():
        parts.append(item.description.strip())
    return "\n\n".join(parts) or None


def jira_description(body: str | None, page: PagePlan, item: ActionItem) -> str:
    """The full Jira description (wiki markup): the body, then a link back to the page."""
    link = f"[{wiki_text(page.title)}|{page.url}]" if page.url else f"{wiki_text(page.title)}"
    footer = (
        f"----\n{FOOTER_MARK} {link}. "
        "Kept in sync by pmsync: edit the row on the page to change this issue."
    )
    return f"{wiki_text(body)}\n\n{footer}" if body else footer


def jira_body(description: str | None) -> str | None:
    """The part of a Jira description that came from the page (footer removed)."""
    if not description:
        return None
    text = _FOOTER_RE.sub("", description.replace("\r\n", "\n")).strip()
    return unwiki(text) or None


def jira_values(issue: JiraIssue, *, cloud: bool) -> dict[str, Any]:
    """An issue's values in the form the merge compares (owner: account id or username)."""
    assignee = issue.assignee
    owner = None
    if assignee is not None:
        owner = assignee.account_id if cloud else assignee.username
    return {
        "summary": issue.summary,
        "description": jira_body(issue.description),
        "owner": owner,
        "due": issue.due.isoformat() if issue.due else None,
        "priority": issue.priority,
        "status": issue.status_category.value if issue.status_category else None,
    }


#: The REST fields that carry each merged field.
JIRA_FIELD_KEYS: Final = {
    "summary": ("summary",),
    "description": ("description",),
    "owner": ("assignee",),
    "due": ("duedate",),
    "priority": ("priority",),
}


def property_value(
    page_id: str, item_id: str, base: Mapping[str, Any], old: SyncRecord | None = None
) -> dict[str, Any]:
    """The ``pmsync`` issue property: identity, merge base, and what else it held."""
    record = attrs.evolve(old or SyncRecord(), page_id=page_id, item_id=item_id, base=base)
    return record.to_json()


def jira_field(
    field: str, value: Any, page: PagePlan, item: ActionItem, *, cloud: bool
) -> dict[str, Any]:
    """The Jira REST field(s) that set ``field`` to ``value``."""
    if field == "summary":
        return {"summary": value}
    if field == "description":
        return {"description": jira_description(value, page, item)}
    if field == "owner":
        if value is None:
            return {"assignee": None}
        return {"assignee": {"accountId": value} if cloud else {"name": value}}
    if field == "due":
        return {"duedate": value}
    if field == "priority":
        return {"priority": {"name": value}} if value else {}
    raise ValueError(field)  # status moves by transition, never by a field
