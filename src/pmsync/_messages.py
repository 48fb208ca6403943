"""Slack messages, built as Block Kit blocks with a plain-text fallback.

Pure: no network, no clock. Every builder returns ``(text, blocks)``: ``text`` is the
notification and fallback text, ``blocks`` the Block Kit layout; pass both to
``chat.postMessage``.

The escaping guarantee: everything that comes from a page or an issue (summaries, titles,
names, keys) goes through :func:`escape_mrkdwn`, so a summary containing ``<!channel>``,
``<@U123>`` or ``<http://evil|x>`` shows as that text and pings or links nobody. Links
pmsync builds itself come from :func:`link`, which accepts only ``http`` and ``https``
URLs and escapes the label. Mentions are only made from Slack user ids that look like
one (``U...``/``W...``). Messages stay within Slack's limits: 3,000 characters per section
text and 50 blocks per message; longer lists end with "...and N more".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

from pmsync._model import ActionItem, JiraIssue, Person
from pmsync._remind import Reminder

__all__ = [
    "ACTIONS",
    "ACTION_DONE",
    "ACTION_DUE",
    "ACTION_NOT_MINE",
    "ACTION_OPEN",
    "BLOCK_LIMIT",
    "SECTION_LIMIT",
    "Message",
    "assignment_message",
    "digest_message",
    "escalation_message",
    "escape_mrkdwn",
    "handback_message",
    "handled_blocks",
    "item_actions",
    "item_key",
    "link",
    "mention",
    "postmortem_summary",
    "reminder_message",
]

#: Slack's limit on the text of one section block.
SECTION_LIMIT = 3000
#: Slack's limit on the number of blocks in one message.
BLOCK_LIMIT = 50
#: Summaries longer than this are shortened in messages (Jira's own limit is 255).
_SUMMARY_CHARS = 300

Message = tuple[str, list[dict[str, Any]]]

#: The action ids of the elements on assignment and reminder messages (see pmsync.slack).
ACTION_DONE = "pmsync_done"
ACTION_DUE = "pmsync_due"
ACTION_NOT_MINE = "pmsync_not_mine"
ACTION_OPEN = "pmsync_open"
ACTIONS = (ACTION_DONE, ACTION_DUE, ACTION_NOT_MINE, ACTION_OPEN)
#: The actions block of an item is ``pmsync:<issue key>``: every element knows its issue.
_BLOCK_PREFIX = "pmsync:"
_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")

_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_PARTIAL_ENTITY = re.compile(r"&[a-z]{0,3}$")


def escape_mrkdwn(text: str) -> str:
    """Escape ``text`` for Slack's ``text`` and ``mrkdwn`` fields.

    Replaces ``&`` with ``&amp;``, ``<`` with ``&lt;`` and ``>`` with ``&gt;``, in that
    order, which is all Slack needs: without ``<`` no mention, broadcast or link can form.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link ``<url|label>``, or just the escaped label when ``url`` is unusable.

    Only absolute ``http``/``https`` URLs with a host make a link; characters that would
    end the link early (``|``, ``<``, ``>``, spaces) are percent-encoded in the URL, and
    the label is escaped.
    """
    text = escape_mrkdwn(label)
    if not url:
        return text
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return text
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return text
    safe = quote(url.strip(), safe="/:?#[]@!$&'()*+,;=%~.-_")
    return f"<{safe}|{text}>"


def mention(slack_id: str | None) -> str | None:
    """``<@U123>`` for a well-formed Slack user id, else ``None``."""
    if slack_id and _SLACK_USER_ID.match(slack_id):
        return f"<@{slack_id}>"
    return None


def _web_url(url: str | None) -> str | None:
    """``url`` when it is an absolute http(s) URL Slack accepts on a button, else None."""
    if not url or len(url) > 3000:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _button(action_id: str, label: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": label},
        **extra,
    }


def item_actions(issue_key: str, *, due: dt.date | None, issue_url: str | None) -> dict[str, Any]:
    """The buttons under an item's message: Done, New due date (a date picker), Not mine,
    and Open (a link to the issue, when ``issue_url`` is a web address).

    The block id names the issue, so every element's press says which issue it is about.
    """
    picker: dict[str, Any] = {
        "type": "datepicker",
        "action_id": ACTION_DUE,
        "placeholder": {"type": "plain_text", "text": "New due date"},
    }
    if due is not None:
        picker["initial_date"] = due.isoformat()
    elements = [
        _button(ACTION_DONE, "Done", style="primary", value=issue_key),
        picker,
        _button(ACTION_NOT_MINE, "Not mine", value=issue_key),
    ]
    url = _web_url(issue_url)
    if url:
        elements.append(_button(ACTION_OPEN, "Open", url=url, value=issue_key))
    return {"type": "actions", "block_id": f"{_BLOCK_PREFIX}{issue_key}", "elements": elements}


def item_key(block_id: str | None) -> str | None:
    """The issue key of an actions block made by :func:`item_actions`, else ``None``."""
    if not block_id or not block_id.startswith(_BLOCK_PREFIX):
        return None
    key = block_id[len(_BLOCK_PREFIX) :]
    return key if _ISSUE_KEY.match(key) else None


def handled_blocks(blocks: Sequence[Mapping[str, Any]], note: str) -> list[dict[str, Any]]:
    """The message's blocks with the item's buttons replaced by ``note`` (mrkdwn, escaped
    by the caller), as the message reads once someone acted on it."""
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("type") == "actions" and item_key(block.get("block_id")):
            out.append(_context(note))
        else:
            out.append(dict(block))
    return out


def handback_message(issue_key: str, issue_url: str | None, summary: str, by: str) -> Message:
    """The channel message when an owner says an item is not theirs: it needs an owner."""
    text = f"{escape_mrkdwn(issue_key)} needs an owner: {_summary(summary)}"
    body = (
        f"{link(issue_url, issue_key)} needs an owner: {escape_mrkdwn(by)} handed it back."
        f"\n>{_summary(summary)}"
    )
    return _clip(text, SECTION_LIMIT), [_section(body)]


def _clip(text: str, limit: int) -> str:
    """Shorten already-escaped text to ``limit`` characters without splitting an entity."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return cut + "…"


def _summary(text: str) -> str:
    """An escaped, single-line, length-capped summary."""
    one_line = " ".join(text.split())
    if len(one_line) > _SUMMARY_CHARS:
        one_line = one_line[: _SUMMARY_CHARS - 1] + "…"
    return escape_mrkdwn(one_line)


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else "no due date"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text, SECTION_LIMIT)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text, 2000)}]}


def _packed(lines: Sequence[str], room: int) -> list[dict[str, Any]]:
    """Pack lines into at most ``room`` section blocks of at most SECTION_LIMIT chars each.

    Lines that do not fit are counted in a closing "...and N more" context block (which
    takes one of the ``room`` blocks).
    """
    blocks: list[str] = []
    current = ""
    placed = 0
    for raw in lines:
        line = _clip(raw, SECTION_LIMIT)
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_LIMIT:
            current = candidate
            placed += 1
            continue
        if len(blocks) + 1 >= room - 1:
            break
        blocks.append(current)
        current = line
        placed += 1
    if current:
        blocks.append(current)
    out = [_section(text) for text in blocks]
    rest = len(lines) - placed
    if rest:
        out = out[: room - 1]
        out.append(_context(f"…and {rest} more"))
    return out


def _fields(item: ActionItem | JiraIssue) -> tuple[str, Person | None, dt.date | None, str | None]:
    if isinstance(item, JiraIssue):
        return item.summary, item.assignee, item.due, item.key
    return item.summary, item.owner, item.due, item.jira_key


def _person(person: Person | None) -> str:
    return escape_mrkdwn(str(person)) if person and str(person) else "nobody yet"


def assignment_message(
    item: ActionItem | JiraIssue,
    issue_url: str | None,
    page_url: str | None,
    page_title: str | None,
    *,
    reassigned: bool = False,
    buttons: bool = False,
) -> Message:
    """The direct message to an owner when an item is created for them or handed to them.

    Names the item, its due date, its issue (linked) and its postmortem (linked). With
    ``buttons``, an item that has an issue gets :func:`item_actions` under it.
    """
    summary, _, due, key = _fields(item)
    title = escape_mrkdwn(page_title or "a postmortem")
    verb = "has been handed to you" if reassigned else "is yours"
    issue = link(issue_url, key) if key else "not in Jira yet"
    page = link(page_url, page_title or "the postmortem")
    text = (
        f"An action item from {title} {verb}: {_summary(summary)} "
        f"(due {_date(due)}{', ' + escape_mrkdwn(key) if key else ''})"
    )
    blocks = [
        _section(f"An action item from *{page}* {verb}:\n>{_summary(summary)}"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Due*\n{_date(due)}"},
                {"type": "mrkdwn", "text": f"*Issue*\n{issue}"},
            ],
        },
        _context("Sent by pmsync from the postmortem's action-item table."),
    ]
    if buttons and key:
        blocks.insert(2, item_actions(key, due=due, issue_url=issue_url))
    return _clip(text, SECTION_LIMIT), blocks


def _item_line(item: ActionItem | JiraIssue, issue_urls: Mapping[str, str]) -> str:
    summary, owner, due, key = _fields(item)
    url = (item.url if isinstance(item, JiraIssue) else None) or (
        issue_urls.get(key) if key else None
    )
    ref = link(url, key) if key else "–"
    return f"• {ref} {_summary(summary)} — {_person(owner)}, due {_date(due)}"


def postmortem_summary(
    page_title: str | None,
    page_url: str | None,
    created: Sequence[ActionItem | JiraIssue],
    updated: Sequence[ActionItem | JiraIssue] = (),
    *,
    issue_urls: Mapping[str, str] | None = None,
) -> Message:
    """The one channel message per postmortem after a sync created or updated issues.

    ``issue_urls`` maps issue keys to links for items that carry only a key.
    """
    urls = issue_urls or {}
    title = page_title or "a postmortem"
    text = (
        f"{escape_mrkdwn(title)}: {len(created)} action item(s) created, "
        f"{len(updated)} updated in Jira"
    )
    lines: list[str] = []
    if created:
        lines.append(f"*Created ({len(created)})*")
        lines.extend(_item_line(i, urls) for i in created)
    if updated:
        lines.append(f"*Updated ({len(updated)})*")
        lines.extend(_item_line(i, urls) for i in updated)
    header = _section(f"Action items of *{link(page_url, title)}* are in Jira.")
    blocks = [header, *_packed(lines, BLOCK_LIMIT - 1)]
    return text, blocks


def _reminder_line(reminder: Reminder) -> str:
    ref = link(reminder.url, reminder.issue_key)
    summary = _summary(reminder.summary)
    if reminder.kind == "due_soon":
        when = "due today" if reminder.days_left == 0 else f"due in {reminder.days_left} day(s)"
        return f"• {ref} {summary} — {when} ({_date(reminder.due)})"
    return f"• {ref} {summary} — {reminder.days_overdue} day(s) overdue (due {_date(reminder.due)})"


def reminder_message(
    reminder: Reminder,
    *,
    page_title: str | None = None,
    page_url: str | None = None,
    buttons: bool = False,
) -> Message:
    """A due-soon or overdue reminder about one issue.

    Sent to the owner, or to the channel for an unassigned issue (``recipient`` is
    ``None``), in which case it asks for an owner. With ``buttons``, the owner's reminder
    gets :func:`item_actions` under it.
    """
    ref = link(reminder.url, reminder.issue_key)
    summary = _summary(reminder.summary)
    if reminder.kind == "due_soon":
        when = (
            "is due today"
            if reminder.days_left == 0
            else f"is due in {reminder.days_left} day(s), on {_date(reminder.due)}"
        )
    else:
        when = (
            f"is {reminder.days_overdue} day(s) overdue (due {_date(reminder.due)}; "
            f"reminder {reminder.overdue_count})"
        )
    opening = "Your action item" if reminder.recipient else "An unassigned action item"
    text = f"{opening} {escape_mrkdwn(reminder.issue_key)} {when}: {summary}"
    lines = [f"{opening} {ref} {when}:\n>{summary}"]
    if reminder.recipient is None:
        lines.append("It has no owner: who will take it? Assign the issue in Jira.")
    blocks = [_section("\n".join(lines))]
    if buttons and reminder.recipient is not None:
        blocks.append(item_actions(reminder.issue_key, due=reminder.due, issue_url=reminder.url))
    if page_title or page_url:
        blocks.append(_context(f"From {link(page_url, page_title or 'the postmortem')}"))
    return _clip(text, SECTION_LIMIT), blocks


def digest_message(person: Person | None, reminders: Sequence[Reminder]) -> Message:
    """One message listing all of a person's due-soon and overdue items.

    ``person`` ``None`` makes the channel's digest of unassigned items.
    """
    overdue = [r for r in reminders if r.kind == "overdue"]
    soon = [r for r in reminders if r.kind == "due_soon"]
    whose = "Your" if person else "Unassigned"
    text = f"{whose} action items: {len(overdue)} overdue, {len(soon)} due soon"
    lines: list[str] = []
    if overdue:
        lines.append(f"*Overdue ({len(overdue)})*")
        lines.extend(_reminder_line(r) for r in overdue)
    if soon:
        lines.append(f"*Due soon ({len(soon)})*")
        lines.extend(_reminder_line(r) for r in soon)
    header = _section(f"*{whose} postmortem action items*")
    blocks = [header, *_packed(lines, BLOCK_LIMIT - 1)]
    return text, blocks


def escalation_message(
    reminder: Reminder,
    *,
    page_title: str | None = None,
    page_url: str | None = None,
    owner_slack_id: str | None = None,
) -> Message:
    """The channel message about an item that stayed overdue through several reminders.

    ``owner_slack_id`` mentions the owner when it is a well-formed Slack user id; otherwise
    the owner is named in plain (escaped) text.
    """
    ref = link(reminder.url, reminder.issue_key)
    summary = _summary(reminder.summary)
    owner = mention(owner_slack_id) or _person(reminder.recipient)
    reminders = reminder.overdue_count
    text = (
        f"{escape_mrkdwn(reminder.issue_key)} is {reminder.days_overdue} day(s) overdue after "
        f"{reminders} reminder(s): {summary}"
    )
    body = (
        f":rotating_light: {ref} is *{reminder.days_overdue} day(s) overdue* "
        f"(due {_date(reminder.due)}) after {reminders} reminder(s) to {owner}:\n>{summary}"
    )
    blocks = [_section(body)]
    if page_title or page_url:
        blocks.append(_context(f"From {link(page_url, page_title or 'the postmortem')}"))
    return _clip(text, SECTION_LIMIT), blocks
