"""Reading the fields of one row or task from what its cells hold: owner, due date,
status, priority and Jira issue, and the issue or typed ``@Name`` that people write into
the action text itself. Each reader warns (through :class:`~._page.PageItems`) when a
cell says something it cannot use as written. Pure."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Literal, NamedTuple

from pmsync._model import Person, Status
from pmsync._storage._content import Content, Lozenge
from pmsync._storage._page import PageItems, Place, where
from pmsync._storage.dates import DateReading, date_from_attribute, read_date
from pmsync._storage.keys import ISSUE_NUMBER, PROJECT_KEY, key_in_url, keys_in_text, valid_key
from pmsync._storage.vocabulary import (
    is_placeholder,
    normalise_priority,
    status_from_lozenge,
    status_from_text,
)

__all__ = ["FieldReader", "TypedMention", "first_line", "typed_mention"]

_ALPHANUMERIC = re.compile(r"[^\W_]")
_OWNER_SEPARATORS = re.compile(r"\s*(?:[,;]|\s/\s|\s&\s|\sand\s)\s*", re.IGNORECASE)
_DONE_EMOTICONS = frozenset({"tick", "check", "checkmark", "white_check_mark"})
# A key typed at the very end of the action text: "Add a rollback alarm (OPS-77)."
_TRAILING_KEY = re.compile(rf"(?<![\w-])({PROJECT_KEY}-{ISSUE_NUMBER})[\s)\].]*\Z")
# Key-shaped names of standards and algorithms ("Use SHA-256"): typed at the end of an
# action they are what the action is about, not its issue.
_STANDARDS = frozenset(
    {
        "AES",
        "CRC",
        "CVE",
        "DES",
        "HTTP",
        "IEEE",
        "ISO",
        "MD",
        "RFC",
        "RSA",
        "SHA",
        "SSL",
        "TLS",
        "UTF",
    }
)
# What is left dangling before a key taken off the end: "Add an alarm - see", "(".
_BEFORE_KEY = re.compile(r"(?:[\s,;:\-–—(\[]|\b(?:see|ticket|issue|jira)\b)+\Z", re.I)
# A word that makes a key after it a reference to another issue: "Fix the bug in OPS-7".
_REFERENCE = re.compile(
    r"\b(?:in|for|from|after|before|with|of|on|by|to|than|like|as|and|or|via|per|under|"
    r"blocks|blocked|fixes|duplicates|until|once|when)\s*\Z",
    re.IGNORECASE,
)
# A typed "@Full Name": up to four capitalised words after an @ that starts a word.
_TYPED_MENTION = re.compile(
    r"(?<![\w@.])@(?P<name>[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,3})(?P<after>\s*[,:;]?\s*)"
)
_CAPITALISED = re.compile(r"[A-Z]")


class TypedMention(NamedTuple):
    """An ``@Full Name`` typed as text: the ``name``, whether it can be read as the owner
    (``clear``: the words after the name are not capitalised too), and the text
    without it (when clear)."""

    name: str
    clear: bool
    text: str


def first_line(lines: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The first line that says something (a list item without its ``- ``), and the
    lines after it; ``("", ())`` when no line does."""
    for position, line in enumerate(lines):
        if _ALPHANUMERIC.search(line) and not is_placeholder(line):
            summary = line[2:] if line.startswith("- ") else line
            return summary, tuple(lines[position + 1 :])
    return "", ()


def typed_mention(text: str) -> TypedMention | None:
    """The first ``@Full Name`` typed in ``text`` (not a real mention), if any.

    The name is the run of capitalised words after the ``@`` (at most four). It is clear
    when the run ends the text or is followed by a word that is not capitalised
    (``@Marta Kowalska check the failover script``); otherwise the name's end cannot be
    told (``@Marta Kowalska Failover drill``).
    """
    match = _TYPED_MENTION.search(text)
    if match is None:
        return None
    name = " ".join(match.group("name").split())
    rest = text[match.end() :]
    clear = not _CAPITALISED.match(rest) and len(name.split()) <= 3
    without = (text[: match.start()] + rest).strip()
    return TypedMention(name, clear, without)


def _without_tail(text: str, tail: str) -> str | None:
    """``text`` without ``tail`` at its end (closing brackets and a full stop after it
    allowed) and without what is left dangling before it; ``None`` when it does not end
    so, or when a word before it makes it a reference (``the bug in OPS-7``)."""
    body = text.rstrip(" .)]")
    if not tail or not body.endswith(tail):
        return None
    before = body[: len(body) - len(tail)]
    if _REFERENCE.search(before.rstrip(" ([")):
        return None
    return _BEFORE_KEY.sub("", before).strip()


class FieldReader:
    """Reads field values for one page, with its options, and warns through ``page``."""

    def __init__(
        self,
        page: PageItems,
        *,
        date_order: Literal["DMY", "MDY"] | None,
        statuses: Mapping[str, Status | str] | None,
        priorities: Mapping[str, str] | None,
    ) -> None:
        self.page = page
        self.date_order = date_order
        self.statuses = statuses
        self.priorities = priorities
        # Due dates, statuses and priorities repeat down a table: each text is read once.
        self._dates: dict[str, DateReading] = {}
        self._statuses: dict[str, Status | None] = {}
        self._lozenges: dict[Lozenge, Status | None] = {}
        self._priorities: dict[str, str | None] = {}

    def owner(self, content: Content, place: Place, row: int) -> Person | None:
        """The owner cell's person: a mention, an email link or a name in words."""
        if len(content.mentions) == 1 and not content.emails:
            return content.mentions[0]
        people: list[Person] = [*content.mentions, *content.emails]
        if not people:
            for line in content.lines:
                for part in _OWNER_SEPARATORS.split(line):
                    name = part.strip()
                    if name and not is_placeholder(name):
                        people.append(Person(text=name))
        if len(people) > 1:
            others = ", ".join(str(person) or "a mention" for person in people[1:])
            self.page.warn(
                "extra-owners",
                f"{where(place, row)} names {len(people)} owners; the first is the owner "
                f"and the others ({others}) are ignored",
                place,
                row,
            )
        return people[0] if people else None

    def due(self, content: Content, place: Place, row: int) -> dt.date | None:
        """The due cell's date: a ``<time>``, else a date in words."""
        for stamp in content.times:
            date = date_from_attribute(stamp)
            if date is not None:
                return date
        if content.times and not content.lines:
            self.page.warn(
                "unreadable-date",
                f"{where(place, row)}: the due date {content.times[0]!r} is not a date",
                place,
                row,
            )
            return None
        text = content.text
        reading = self._dates.get(text)
        if reading is None:
            reading = self._dates[text] = read_date(text, self.date_order)
        if reading.problem == "ambiguous-date":
            self.page.warn(
                "ambiguous-date",
                f"{where(place, row)}: the due date {text!r} is ambiguous "
                f"({reading.reason}); pass date_order='DMY' or 'MDY' to read it",
                place,
                row,
            )
        elif reading.problem is not None:
            self.page.warn(
                "unreadable-date",
                f"{where(place, row)}: the due date {text!r} was not read ({reading.reason})",
                place,
                row,
            )
        return reading.date

    def priority(self, content: Content) -> str | None:
        """The priority cell's Jira priority name (a lozenge's title or the text)."""
        text = content.lozenges[0].title if content.lozenges else content.text
        if text not in self._priorities:
            self._priorities[text] = normalise_priority(text, self.priorities)
        return self._priorities[text]

    def lozenge_status(self, lozenges: Sequence[Lozenge]) -> Status | None:
        """The status of the first lozenge that names one."""
        for lozenge in lozenges:
            if lozenge not in self._lozenges:
                self._lozenges[lozenge] = status_from_lozenge(*lozenge, self.statuses)
            status = self._lozenges[lozenge]
            if status is not None:
                return status
        return None

    def status(self, content: Content, place: Place, row: int) -> Status | None:
        """The status cell's status: a lozenge, checkboxes, a word or a done emoticon."""
        if content.lozenges:
            status = self.lozenge_status(content.lozenges)
            if status is None:
                self._unknown_status(content.lozenges[0].title, place, row)
            return status
        if content.checkboxes:
            done = sum(1 for box in content.checkboxes if box == "complete")
            if done == len(content.checkboxes):
                return Status.DONE
            return Status.IN_PROGRESS if done else Status.TODO
        text = content.text
        if text not in self._statuses:
            self._statuses[text] = status_from_text(text, self.statuses)
        status = self._statuses[text]
        if status is None and (not text or is_placeholder(text)):
            if any(name in _DONE_EMOTICONS for name in content.emoticons):
                return Status.DONE
            return None
        if status is None:
            self._unknown_status(text, place, row)
        return status

    def _unknown_status(self, text: str, place: Place, row: int) -> None:
        self.page.warn(
            "unknown-status",
            f"{where(place, row)}: the status {text!r} is not a status pmsync knows; "
            "add it to status_map",
            place,
            row,
        )

    def ticket(self, content: Content, place: Place, row: int) -> tuple[str | None, str]:
        """The row's Jira key from its ticket cell (a macro, a link, a key in words),
        and the cell's text."""
        if content.is_empty:
            return None, ""
        keys = [*content.jira_keys, *(key_in_url(link.href) or "" for link in content.links)]
        keys = [key for key in keys if key]
        if not keys:
            keys = keys_in_text(content.text)
        key = self.first_key(keys, place, row) if keys else None
        return key, content.text

    def first_key(self, keys: Sequence[str], place: Place, row: int) -> str | None:
        """The first valid key of ``keys``; warns when they name several issues."""
        if len(keys) == 1:
            return valid_key(keys[0])
        valid = list(dict.fromkeys(key for key in map(valid_key, keys) if key))
        if len(valid) > 1:
            self.page.warn(
                "extra-keys",
                f"{where(place, row)} names {len(valid)} Jira issues ({', '.join(valid)}); "
                f"the item is {valid[0]}",
                place,
                row,
            )
        return valid[0] if valid else None

    def typed_owner(self, summary: str, place: Place, row: int) -> tuple[Person | None, str]:
        """The owner typed as ``@Full Name`` in the action text of an item without an
        owner, and the summary without it (see :func:`typed_mention`). A name whose end
        cannot be told is left in the text with a ``typed-mention`` warning."""
        typed = typed_mention(summary)
        if typed is None:
            return None, summary
        if typed.clear and _ALPHANUMERIC.search(typed.text):
            return Person(text=typed.name), typed.text
        self.page.warn(
            "typed-mention",
            f"{where(place, row)}: “@{typed.name}” is typed as text, not a mention, and "
            "where the name ends is unclear; make it a real @mention so that the item has "
            "an owner",
            place,
            row,
        )
        return None, summary

    def action_key(
        self, content: Content, summary: str, place: Place, row: int
    ) -> tuple[str | None, str]:
        """The issue an action text (a task, or the action cell of a table without a
        ticket column) names as its own, and the summary without it.

        A ``jira`` macro anywhere in it is its issue (Confluence's "create issue" puts
        one there). So is a Jira link (an inline card, a ``/browse/KEY`` link) or a key
        typed as words at the end of the summary, which then loses it: "Add a rollback
        alarm https://example.atlassian.net/browse/OPS-77" is "Add a rollback alarm",
        OPS-77. Keys and links elsewhere in the text are references ("after OPS-1 ships"),
        and so are names of standards typed like keys ("Use SHA-256").
        """
        if content.jira_keys:
            return self.first_key(content.jira_keys, place, row), summary
        for link in content.links:
            key = key_in_url(link.href)
            shortened = _without_tail(summary, link.text) if key else None
            if key and shortened and _ALPHANUMERIC.search(shortened):
                return key, shortened
        match = _TRAILING_KEY.search(summary)
        if match is not None and match.group(1).split("-")[0] in _STANDARDS:
            match = None
        shortened = None if match is None else _without_tail(summary, match.group(1))
        if match is not None and shortened and _ALPHANUMERIC.search(shortened):
            return match.group(1), shortened
        return None, summary
