"""Quoting untrusted text for the query and markup languages pmsync writes. Pure.

Every value that comes from a page or an issue passes through one of these before it is
put into JQL, CQL or Jira wiki markup, so that a summary such as ``x" OR project = OTHER``
changes nothing but the text.
"""

from __future__ import annotations

import re

__all__ = ["cql_string", "jql_string", "unwiki", "wiki_text"]


def _quoted(value: str) -> str:
    # Both JQL and CQL string literals take backslash escapes; control characters are
    # dropped rather than escaped because neither language has a portable escape for them.
    text = "".join(ch for ch in str(value) if ch >= " " or ch == "\t")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def jql_string(value: str) -> str:
    """``value`` as a JQL string literal: always double-quoted, ``\\`` and ``"`` escaped."""
    return _quoted(value)


def cql_string(value: str) -> str:
    """``value`` as a CQL string literal: always double-quoted, ``\\`` and ``"`` escaped."""
    return _quoted(value)


# Characters that start Jira wiki markup (text effects, links, macros, tables, lists...).
_WIKI_SPECIAL = re.compile(r"([\\{}\[\]*_+^~?|!#\-])")
_WIKI_ESCAPED = re.compile(r"\\([\\{}\[\]*_+^~?|!#\-])")


# Block markup that starts a line: headings (h1. .. h6.) and quotes (bq.).
_WIKI_LINE_START = re.compile(r"(?m)^(\s*)(h[1-6]|bq)\.")
_WIKI_LINE_ESCAPED = re.compile(r"(?m)^(\s*)\\(h[1-6]|bq)\.")


def wiki_text(value: str) -> str:
    """Escape plain text for Jira wiki markup (v2 descriptions, comments)."""
    return _WIKI_LINE_START.sub(r"\1\\\2.", _WIKI_SPECIAL.sub(r"\\\1", value))


def unwiki(value: str) -> str:
    """Undo :func:`wiki_text`."""
    return _WIKI_ESCAPED.sub(r"\1", _WIKI_LINE_ESCAPED.sub(r"\1\2.", value))
