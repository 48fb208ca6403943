"""Reading action items out of Confluence storage-format XHTML. Pure: no I/O, no clock.

:func:`parse_page` builds one lxml tree of the page (:mod:`._xhtml`, leniently when the
markup is broken), walks it in document order, and hands each table to the table reader
(:mod:`._tables`) and each task list under an action heading to the task reader
(:mod:`._tasks`); both read field values with :mod:`._fields` and collect items and
warnings in :mod:`._page`. ``docs/parser.md`` describes what is recognised; this module
must never raise anything but :class:`~pmsync.ParseError`, whatever the page holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Literal

from lxml import etree

from pmsync._model import Postmortem, Status
from pmsync._storage._content import text_of
from pmsync._storage._fields import FieldReader
from pmsync._storage._page import PageItems, digest
from pmsync._storage._tables import TableReader
from pmsync._storage._tasks import read_task_list
from pmsync._storage._xhtml import AC, UnreadableMarkupError, read_storage
from pmsync._storage.vocabulary import (
    HeaderVocabulary,
    fold_words,
    is_action_heading,
    status_from_text,
)
from pmsync.exceptions import ParseError

__all__ = ["item_digest", "parse_page"]

_AC_TASK_LIST = f"{{{AC}}}task-list"
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def parse_page(
    storage: str,
    *,
    page_id: str | None = None,
    title: str | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    date_order: Literal["DMY", "MDY"] | None = None,
    statuses: Mapping[str, Status | str] | None = None,
    priorities: Mapping[str, str] | None = None,
) -> Postmortem:
    """Read the action items of one page's storage-format XHTML.

    Args:
        storage: The page body in storage format (``body.storage.value``).
        page_id: The page id; it is part of each item's identity.
        title: The page title, used in messages.
        columns: More header names per field, on top of the built-in vocabulary
            (``{"owner": ["Primary contact"], "component": ["Area"]}``). Fields other than
            the built-in ones land in :attr:`~pmsync.ActionItem.extra`.
        date_order: How to read numeric dates that could be either way round
            (``03/04/2026``): ``"DMY"`` or ``"MDY"``. Without it they are not read.
        statuses: More status words -> status category (the ``status_map``
            configuration), winning over the built-in words.
        priorities: More page priorities -> Jira priority name (the ``priority_map``
            configuration), winning over the built-in words.

    Returns:
        The page's items, in document order, with every warning noticed on the way and
        the layout of each action-item table.

    Raises:
        ParseError: the page holds nothing readable (not text, or text without markup).
        TypeError: ``columns`` is not a mapping of field names to header names.
        ValueError: ``date_order`` or a ``statuses`` category is not a known value.
    """
    text = _as_text(storage, page_id, title)
    if date_order not in (None, "DMY", "MDY"):
        raise ValueError(f"date_order must be 'DMY', 'MDY' or None, not {date_order!r}")
    vocabulary = HeaderVocabulary.build(columns)
    if statuses:
        status_from_text("", statuses)  # validates the categories up front
    if not text.strip():
        return Postmortem(page_id=page_id, title=title)
    if _is_json(text):
        raise ParseError(_no_markup_message(text, page_id, title), page_id=page_id)
    try:
        document = read_storage(text)
    except UnreadableMarkupError as exc:
        raise ParseError(
            f"{_page_name(page_id, title)} could not be read: {exc}", page_id=page_id
        ) from None
    if len(document.root) == 0:
        raise ParseError(_no_markup_message(text, page_id, title), page_id=page_id)
    page = PageItems(page_id)
    if document.problem:
        page.warn(
            "broken-markup",
            f"the page is not well-formed ({document.problem}); it was read leniently, "
            "so check the items against the page",
            None,
            None,
        )
    fields = FieldReader(page, date_order=date_order, statuses=statuses, priorities=priorities)
    _walk(document.root, TableReader(page, fields, vocabulary), fields)
    return page.postmortem(title)


def _walk(root: etree._Element, tables: TableReader, fields: FieldReader) -> None:
    """Read the page's tables and, under action headings, its task lists, in order.

    Tables and task lists are numbered in document order, nested ones included (the
    write-back editor numbers them the same way). A task list inside an action-item
    table belongs to its row, so it is not read again as a list of its own."""
    heading: str | None = None
    table_index = -1
    list_index = -1
    action_tables: set[etree._Element] = set()
    for element in root.iter(*_HEADINGS, "table", _AC_TASK_LIST):
        tag = element.tag
        if tag == "table":
            table_index += 1
            if tables.read(element, table_index, heading):
                action_tables.add(element)
        elif tag == _AC_TASK_LIST:
            list_index += 1
            if any(table in action_tables for table in element.iterancestors("table")):
                continue
            if heading is not None and is_action_heading(heading):
                read_task_list(tables.page, fields, element, list_index, heading)
        else:
            heading = text_of(element)


def item_digest(page_id: str | None, summary: str, occurrence: int = 0) -> str:
    """The identity of an item without a task id: 12 hex digits of a SHA-256 over the
    page id and the summary folded for case, punctuation and spacing (plus the
    occurrence number, from 1, for the second and later rows with the same summary)."""
    return digest(page_id, fold_words(summary), occurrence)


def _as_text(storage: object, page_id: str | None, title: str | None) -> str:
    if isinstance(storage, str):
        return storage
    if isinstance(storage, bytes | bytearray):
        return bytes(storage).decode("utf-8-sig", "replace")
    raise ParseError(
        f"{_page_name(page_id, title)}: storage must be text (str), not {type(storage).__name__}",
        page_id=page_id,
    )


def _page_name(page_id: str | None, title: str | None) -> str:
    if page_id and title:
        return f"page {page_id} ({title!r})"
    if page_id:
        return f"page {page_id}"
    if title:
        return f"page {title!r}"
    return "the page"


def _is_json(text: str) -> bool:
    """Whether ``text`` is a JSON document (a REST response passed by mistake)."""
    if text.lstrip()[:1] not in ("{", "["):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _no_markup_message(text: str, page_id: str | None, title: str | None) -> str:
    start = text.lstrip()
    hint = ""
    if start[:1] in "{[":
        hint = " (it looks like JSON: pass the page's body.storage.value)"
    shown = " ".join(start[:40].split())
    return (
        f"{_page_name(page_id, title)} holds no storage-format markup{hint}; "
        f"it starts with {shown!r}"
    )
