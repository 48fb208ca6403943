"""Blocks that pmsync keeps on a page: found by a marker, replaced in place.

Pure: no I/O. A block is a macro (``info``, ``note``, ``tip``, ``panel``...) whose
``title`` parameter is the marker text, such as "Action item status". The marker is what
finds the block again: the Confluence editor re-stamps ``ac:macro-id``, ``ac:local-id``
and ``ac:schema-version`` on save, but keeps a macro's parameters.

Edits are splices into the original text: everything outside the block written stays
byte-for-byte the same. The scanner here only tracks tag nesting and offsets; it never
parses and re-serialises the page.
"""

from __future__ import annotations

import html
import re

import attrs

__all__ = ["canonical", "find_blocks", "remove_block", "upsert_block"]

_TOKEN = re.compile(
    r"<!\[CDATA\[.*?\]\]>"
    r"|<!--.*?-->"
    r"|<[?!][^>]*>"
    r"|<(?P<close>/?)(?P<name>[A-Za-z_][\w:.-]*)"
    r"(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?P<empty>/?)>",
    re.DOTALL,
)
_TITLE_PARAMETER = re.compile(r"""\bac:name\s*=\s*(["'])title\1""")
_VOLATILE_ATTRIBUTE = re.compile(
    r"""\s(?:ac:macro-id|ac:schema-version|ac:local-id|local-id|data-local-id)\s*=\s*"""
    r"""(?:"[^"]*"|'[^']*')"""
)
_BETWEEN_TAGS = re.compile(r">\s+<")
_SELF_CLOSING = re.compile(r"\s*/>")
_MACRO = "ac:structured-macro"


@attrs.define
class _Frame:
    name: str
    start: int
    title: str | None = None


def _normalise_title(text: str) -> str:
    return " ".join(html.unescape(text).split())


def _scan(storage: str, marker: str) -> tuple[list[tuple[int, int]], list[int]]:
    """Spans of the marker blocks, and the end offset of every ``<table>`` in order."""
    wanted = _normalise_title(marker)
    spans: list[tuple[int, int]] = []
    table_ends: dict[int, int] = {}
    table_count = 0
    stack: list[_Frame] = []
    table_numbers: dict[int, int] = {}  # id(frame) -> table index
    pos = 0
    while True:
        match = _TOKEN.search(storage, pos)
        if match is None:
            break
        pos = match.end()
        name = match.group("name")
        if name is None:  # CDATA, comment, declaration
            continue
        if match.group("close"):
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth].name == name:
                    frame = stack[depth]
                    del stack[depth:]
                    if name == _MACRO and frame.title == wanted:
                        spans.append((frame.start, match.end()))
                    if name == "table":
                        table_ends[table_numbers.pop(id(frame))] = match.end()
                    break
            continue
        if match.group("empty"):
            continue
        frame = _Frame(name, match.start())
        if name == "table":
            table_numbers[id(frame)] = table_count
            table_count += 1
        if (
            name == "ac:parameter"
            and stack
            and stack[-1].name == _MACRO
            and _TITLE_PARAMETER.search(match.group("attrs"))
        ):
            end = storage.find("</ac:parameter>", match.end())
            if end != -1:
                stack[-1].title = _normalise_title(storage[match.end() : end])
                pos = end + len("</ac:parameter>")
                continue
        stack.append(frame)
    ends = [table_ends[i] for i in sorted(table_ends)]
    # Keep only outermost spans (a marker block inside another one belongs to it).
    outer = [s for s in spans if not any(o[0] < s[0] and s[1] <= o[1] for o in spans)]
    return sorted(outer), ends


def find_blocks(storage: str, marker: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` offsets of every macro whose title is ``marker``, in order."""
    return _scan(storage, marker)[0]


def canonical(xhtml: str) -> str:
    """A block's markup without what the editor re-stamps on save (ids, schema version)
    and without whitespace between tags: two blocks that say the same compare equal."""
    text = _VOLATILE_ATTRIBUTE.sub("", xhtml)
    text = _BETWEEN_TAGS.sub("><", text.strip())
    return html.unescape(_SELF_CLOSING.sub("/>", text))


def _append(storage: str, xhtml: str) -> str:
    # A page laid out in sections keeps all content inside them: add to the last cell.
    if storage.rstrip().endswith("</ac:layout>"):
        cell_end = storage.rfind("</ac:layout-cell>")
        if cell_end != -1:
            return storage[:cell_end] + xhtml + storage[cell_end:]
    return storage + xhtml


def upsert_block(storage: str, marker: str, xhtml: str, *, after_table: int | None = None) -> str:
    """Put ``xhtml`` (a macro titled ``marker``) on the page, replacing the one there.

    If the page has a macro whose ``title`` parameter is ``marker``, it is replaced in
    place (extra copies, say from a copy-paste, are removed); when it already says the
    same thing, ignoring the ids the editor re-stamps and whitespace between tags, the
    page comes back unchanged, so a caller can skip the write when ``result == storage``.
    Otherwise the block goes after the ``after_table``-th ``<table>`` of the page (0-based,
    counting every table in document order, as :class:`~pmsync.ItemTable` does), or at
    the end of the page (inside the last layout cell of a page with a layout). Everything
    else stays byte-for-byte the same.
    """
    spans, table_ends = _scan(storage, marker)
    if spans:
        first_start, first_end = spans[0]
        out = storage
        for start, end in reversed(spans[1:]):
            out = out[:start] + out[end:]
        if len(spans) == 1 and canonical(storage[first_start:first_end]) == canonical(xhtml):
            return storage
        return out[:first_start] + xhtml + out[first_end:]
    if after_table is not None and 0 <= after_table < len(table_ends):
        at = table_ends[after_table]
        return storage[:at] + xhtml + storage[at:]
    return _append(storage, xhtml)


def remove_block(storage: str, marker: str) -> str:
    """Remove every macro titled ``marker``; the rest of the page stays byte-for-byte."""
    out = storage
    for start, end in reversed(find_blocks(storage, marker)):
        out = out[:start] + out[end:]
    return out
