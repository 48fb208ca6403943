"""The grammar of Jira issue keys, in one place: the parser, the write-back editor, lint
and the configuration all read keys with it.

Jira's rule: a project key starts with an uppercase letter and has at least two
characters, all uppercase letters, digits or underscores (``OPS``, ``DB2``, ``SRE_X``);
an issue key is the project key, a hyphen and the issue number, which Jira counts from
1 and never writes with a leading zero (``OPS-7``, never ``OPS-07`` or ``OPS-0``).

On a page a key appears as a ``jira`` macro's ``key`` parameter, as text (``OPS-12``,
not inside a longer word such as ``XOPS-12b`` or ``OPS-12-3``), or in a link
(``https://example.atlassian.net/browse/OPS-77``, ``...?selectedIssue=OPS-77``), where
the case of the key is not significant. Pure.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = [
    "ISSUE_KEY",
    "PROJECT_KEY",
    "is_issue_key",
    "is_project_key",
    "key_in_url",
    "keys_in_text",
    "valid_key",
]

#: A project key: an uppercase letter, then one or more uppercase letters, digits, ``_``.
PROJECT_KEY: Final = r"[A-Z][A-Z0-9_]+"
#: An issue number: from 1, without leading zeros.
ISSUE_NUMBER: Final = r"[1-9][0-9]*"
#: An issue key, for ``fullmatch``.
ISSUE_KEY: Final = re.compile(f"{PROJECT_KEY}-{ISSUE_NUMBER}")

_PROJECT_KEY = re.compile(PROJECT_KEY)
_IN_TEXT = re.compile(rf"(?<![\w-])({PROJECT_KEY}-{ISSUE_NUMBER})(?![\w-])")
_IN_URL = re.compile(
    rf"(?:/browse/|[?&]selectedIssue=)([A-Za-z][A-Za-z0-9_]+-{ISSUE_NUMBER})(?![\w-])"
)


def is_issue_key(text: str) -> bool:
    """Whether ``text`` is exactly an issue key (``OPS-12``)."""
    return ISSUE_KEY.fullmatch(text) is not None


def is_project_key(text: str) -> bool:
    """Whether ``text`` is exactly a project key (``OPS``)."""
    return _PROJECT_KEY.fullmatch(text) is not None


def valid_key(text: str) -> str | None:
    """``text`` as an issue key (surrounding space dropped, uppercased), or ``None``."""
    if is_issue_key(text):
        return text
    key = text.strip().upper()
    return key if is_issue_key(key) else None


def keys_in_text(text: str) -> list[str]:
    """The issue keys written in ``text``, in order (``"after OPS-1 and DB-2"``)."""
    return _IN_TEXT.findall(text)


def key_in_url(url: str) -> str | None:
    """The issue key a Jira link points at (``…/browse/OPS-77``), uppercased, or ``None``."""
    match = _IN_URL.search(url)
    return match.group(1).upper() if match else None
