"""Writing Jira keys and statuses back into a page's storage format, without breaking it.

Pages carry macros, mentions, inline comments and editor ids that a parse and serialize
round trip damages. So :func:`write_back` never rebuilds a page: it finds the cells it
must change by their offsets in the original text (see :mod:`pmsync._storage._scan`)
and splices new content into the original string. Every byte outside the cells (or task
parts) it writes stays exactly as it was; :attr:`WriteBack.edits` lists what changed.

What it writes:

- the ticket cell of a row gets a single-issue ``jira`` macro;
- the status cell gets a ``status`` lozenge (Grey to do, Blue in progress, Green done);
- a task gets ``complete``/``incomplete`` and a ``jira`` macro at the end of its body;
- a table without a ticket or status column gets one, at its right edge.

It never loses what a person wrote: a cell that already names another issue is left
alone (the update is reported as skipped), and other text in a ticket or status cell is
kept beside the new macro. Writing the same updates twice changes nothing the second
time.

Pure and deterministic: no I/O, no clock, no randomness.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Final

import attrs

from pmsync._model import ItemTable, Status
from pmsync._storage._grid import MAX_COLSPAN, MAX_ROWSPAN, Grid, Slot, span
from pmsync._storage._scan import (
    Attribute,
    Document,
    Element,
    MarkupError,
    markup_error,
    read,
    row_cells,
    scan,
    table_rows,
)
from pmsync._storage.blocks import canonical as _canonical
from pmsync._storage.dates import read_date
from pmsync._storage.keys import is_issue_key
from pmsync._storage.vocabulary import normalise_priority, trailing_status

__all__ = [
    "Block",
    "Edit",
    "JiraServer",
    "MarkupError",
    "OwnerRef",
    "PageEditor",
    "RowUpdate",
    "Skipped",
    "TaskUpdate",
    "WriteBack",
    "find_jira_server",
    "write_back",
]

_COLOURS: Final = {Status.TODO: "Grey", Status.IN_PROGRESS: "Blue", Status.DONE: "Green"}
# Characters XML 1.0 does not allow in a document at all.
_TIME: Final = re.compile(r"<time\b[^>]*\bdatetime=[\"']\s*([^\"']*?)\s*[\"']")
_USER: Final = re.compile(
    r"<ri:user\b[^>]*\bri:(?:account-id|userkey|username)=[\"']([^\"']*)[\"']"
)
_STRUCK: Final = re.compile(r"<(?:s|del|strike)\b|text-decoration:\s*line-through")
# One person's name or one priority word: no lists ("A, B", "A and B", "A / B"), no notes.
# A cell's leading paragraph (group 1: its content), when it holds no nested paragraph.
_FIRST_PARAGRAPH: Final = re.compile(r"\s*<p(?:\s[^>]*)?>((?:(?!<p[\s>/]).)*?)</p>", re.DOTALL)
_ONE_NAME: Final = re.compile(r"@?[\w.'-]+(?: [\w.'-]+){0,3}")
_ONE_EMAIL: Final = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HEADER_TEXT: Final = {"ticket": "Jira", "status": "Status"}
# The order new columns are added in, left to right.
_NEW_COLUMN_ORDER: Final = ("ticket", "status")
# Header attributes worth repeating on an added header cell (never ids).
_COPIED_HEADER_ATTRIBUTES: Final = ("scope", "data-highlight-colour")
# Marks people put in a status (or "Done") column besides status words.
_STATUS_MARKS: Final = frozenset(
    {"yes", "no", "x", "✓", "✔", "✔️", "☑", "☑️", "✅", "✗", "✘", "❌", "☐", "🚧"}
)


@attrs.frozen
class JiraServer:
    """The Jira a ``jira`` macro points at.

    ``name`` is the macro's ``server`` parameter (the application link's display name,
    such as ``System JIRA``), ``server_id`` its ``serverId`` parameter (the application
    link id). Confluence resolves a macro without them to its primary Jira link.
    """

    name: str | None = None
    server_id: str | None = None


@attrs.frozen
class OwnerRef:
    """Who to mention in an owner cell: a Cloud account id, else a Server user key/name."""

    account_id: str | None = None
    user_key: str | None = None
    username: str | None = None

    def mention(self) -> str | None:
        """The storage-format user mention, or ``None`` when there is nothing to name."""
        for attribute, value in (
            ("ri:account-id", self.account_id),
            ("ri:userkey", self.user_key),
            ("ri:username", self.username),
        ):
            if value:
                return f'<ac:link><ri:user {attribute}="{_attr(value)}" /></ac:link>'
        return None


@attrs.frozen
class RowUpdate:
    """What to write into one body row of an action-item table.

    ``table`` is :attr:`ItemTable.index`, ``row`` the 0-based body row (as in
    :attr:`ActionItem.row`). ``jira_key`` goes into the ticket cell as a jira macro;
    ``status`` (a Jira status name) goes into the status cell as a lozenge whose colour
    ``category`` picks. ``None`` leaves that cell alone.
    """

    table: int
    row: int
    jira_key: str | None = None
    status: str | None = None
    category: Status | None = None
    #: An ISO date for the due cell (as a ``<time>`` date), when Jira's changed.
    due: str | None = None
    #: The owner for the owner cell (as a user mention), when Jira reassigned the issue.
    owner: OwnerRef | None = None
    #: A Jira priority name for the priority cell, when Jira's changed.
    priority: str | None = None


@attrs.frozen
class TaskUpdate:
    """What to write into one task of a task list.

    ``task_list`` and ``index`` are the task's :attr:`ActionItem.table` and
    :attr:`ActionItem.row`; ``task_id`` its :attr:`ActionItem.task_id`, checked against
    the task found there so that a page edited since it was read is not written blindly.
    ``jira_key`` is added as a jira macro at the end of the task's text; ``done`` sets the
    checkbox. ``None`` leaves that part alone.
    """

    task_list: int
    index: int
    task_id: str | None
    jira_key: str | None = None
    done: bool | None = None


@attrs.frozen
class Skipped:
    """An update (or part of one) that was not written, and why, in words for a person."""

    update: RowUpdate | TaskUpdate
    reason: str


@attrs.frozen
class Edit:
    """One splice: ``text`` replaces the original page's characters ``[start:end]``.

    ``start == end`` is an insertion. Offsets are into the text given to
    :func:`write_back`; edits never overlap.
    """

    start: int
    end: int
    text: str


@attrs.frozen
class Block:
    """A block pmsync keeps on the page, found by its ``marker`` (the ``title`` of its
    macro): ``xhtml`` replaces the one there (or goes after table ``after_table``, or at
    the end of the page); ``None`` removes it."""

    marker: str
    xhtml: str | None
    after_table: int | None = None


@attrs.frozen
class WriteBack:
    """The outcome of :func:`write_back`.

    ``storage`` is the new page text. ``written`` lists the updates that changed
    something, ``skipped`` the updates (or parts of updates) that were not written with
    the reason; an update whose key was written but whose status was refused appears in
    both. ``tables`` repeats the given :class:`ItemTable` values with the columns added
    by this write. ``edits`` are the splices made, in page order.
    """

    storage: str
    written: tuple[RowUpdate | TaskUpdate, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    tables: tuple[ItemTable, ...] = ()
    edits: tuple[Edit, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the page text differs from the text given."""
        return bool(self.edits)


def find_jira_server(storage: str) -> JiraServer | None:
    """The server/serverId of the first single-issue jira macro on the page, if any.

    JQL-table macros and macros that name neither are passed over. Unbalanced tables do
    not matter here; on markup that cannot be read at all (a comment never closed), the
    macros before the break count.
    """
    try:
        reading = read(storage, [(0, len(storage))])
    except MarkupError as exc:
        reading = read(storage, [(0, exc.offset)])
    for params in reading.jira_macros:
        server = _server_from(params)
        if server is not None:
            return server
    return None


def _server_from(params: Mapping[str, str]) -> JiraServer | None:
    """The server a single-issue jira macro with these parameters names, if any."""
    folded = {name.lower(): value for name, value in params.items()}
    if "jqlquery" in folded or not folded.get("key"):
        return None
    name = folded.get("server") or None
    server_id = folded.get("serverid") or None
    return JiraServer(name, server_id) if name or server_id else None


class PageEditor:
    """One scan of a page, from which any number of write-backs are computed.

    The scan (tag nesting and offsets, see :mod:`pmsync._storage._scan`) is the costly
    part of a write-back; planning a page's write-back, checking it, and writing the
    lint note all reuse it. Each :meth:`write` starts from the text given here, so the
    editor answers "what would these updates change" as often as asked.

    Raises :class:`MarkupError` when the page's tables or task lists do not balance,
    because no offset in such a page can be trusted.
    """

    def __init__(self, storage: str) -> None:
        self.document = scan(storage)
        self._grids: dict[int, _Grid] = {}
        self._server: tuple[JiraServer | None] | None = None

    @property
    def storage(self) -> str:
        """The page text the editor scanned."""
        return self.document.text

    @property
    def page_server(self) -> JiraServer | None:
        """The server of the first single-issue jira macro on the page, if any."""
        if self._server is None:
            self._server = (_page_server(self.document),)
        return self._server[0]

    def grid(self, index: int) -> _Grid:
        """Table ``index`` laid out on its grid (built once per table)."""
        grid = self._grids.get(index)
        if grid is None:
            grid = self._grids[index] = _Grid(self.storage, self.document.tables[index])
        return grid

    def block_edits(self, block: Block) -> list[tuple[int, int, str]]:
        """The splices that put ``block`` on the page (see :class:`Block`)."""
        text = self.storage
        wanted = " ".join(html.unescape(block.marker).split())
        spans = []
        for macro in self.document.macros:
            title = _parameter_values(text, macro).get("title")
            if title is not None and " ".join(title.split()) == wanted:
                spans.append((macro.start, macro.end))
        # A marker block inside another one belongs to it.
        spans = [s for s in spans if not any(o[0] < s[0] and s[1] <= o[1] for o in spans)]
        new = block.xhtml
        if spans:
            (start, end), *copies = spans
            edits = [(copy_start, copy_end, "") for copy_start, copy_end in copies]
            if new is None or copies or _canonical(text[start:end]) != _canonical(new):
                edits.append((start, end, new or ""))
            return edits
        if new is None:
            return []
        tables = self.document.tables
        if block.after_table is not None and 0 <= block.after_table < len(tables):
            at = tables[block.after_table].end
        elif text.rstrip().endswith("</ac:layout>") and "</ac:layout-cell>" in text:
            at = text.rfind("</ac:layout-cell>")  # inside the last cell of a page layout
        else:
            at = len(text)
        return [(at, at, new)]

    def write(
        self,
        tables: Sequence[ItemTable],
        updates: Sequence[RowUpdate | TaskUpdate],
        *,
        server: JiraServer | None = None,
        text_keys: Collection[str] = (),
        block: Block | None = None,
    ) -> WriteBack:
        """Write Jira keys and statuses into the page, changing nothing else (see
        :func:`write_back`, which this is).

        ``block`` also puts a block pmsync keeps on the page (the lint note) in the same
        pass, as :func:`~pmsync._storage.blocks.upsert_block` (or ``remove_block``, when
        its ``xhtml`` is ``None``) would on the written page, without scanning it again.
        """
        storage = self.storage
        writer = _Writer(self, server if server is not None else self.page_server)
        writer.text_keys = frozenset(text_keys)
        by_table: dict[int, list[tuple[int, RowUpdate]]] = {}
        task_updates: list[tuple[int, TaskUpdate]] = []
        targets: set[tuple[str, int, int]] = set()
        for position, update in enumerate(updates):
            if isinstance(update, RowUpdate):
                target = ("table", update.table, update.row)
            else:
                target = ("task", update.task_list, update.index)
            if target in targets:
                writer.skip(position, update, f"{_where(update)}: an earlier update wrote here")
                continue
            targets.add(target)
            if isinstance(update, RowUpdate):
                by_table.setdefault(update.table, []).append((position, update))
            else:
                task_updates.append((position, update))
        item_tables = {item_table.index: item_table for item_table in tables}
        new_tables: dict[int, ItemTable] = {}
        for index, row_updates in by_table.items():
            added = writer.write_table(index, item_tables.get(index), row_updates)
            if added is not None:
                new_tables[index] = added
        for position, task_update in task_updates:
            writer.write_task(position, task_update)
        if block is not None:
            for start, end, new_text in self.block_edits(block):
                writer.splice(start, end, new_text)
        edits = writer.edits()
        written = tuple(updates[p] for p in sorted(writer.written))
        skipped = tuple(skip for _, skip in sorted(writer.skipped, key=lambda pair: pair[0]))
        return WriteBack(
            storage=_splice(storage, edits),
            written=written,
            skipped=skipped,
            tables=tuple(new_tables.get(t.index, t) for t in tables),
            edits=edits,
        )


def write_back(
    storage: str,
    tables: Sequence[ItemTable],
    updates: Sequence[RowUpdate | TaskUpdate],
    *,
    server: JiraServer | None = None,
    text_keys: Collection[str] = (),
) -> WriteBack:
    """Write Jira keys and statuses into ``storage``, changing nothing else.

    ``text_keys`` are key-shaped words known not to be Jira issues (``PR-1234``): a
    ticket cell holding one is treated as holding words, and the macro goes after them.

    ``tables`` are the :attr:`Postmortem.tables` parsed from this same text. ``server``
    is the Jira new macros point at; when ``None``, the first single-issue jira macro on
    the page decides (see :func:`find_jira_server`), and without one the macros name no
    server (Confluence then uses its primary Jira link).

    Updates that cannot be written safely (a row or task that is not there, a task whose
    id changed, a cell merged with another, a cell naming another issue, an invalid key)
    are returned in :attr:`WriteBack.skipped`; they never raise. Raises
    :class:`MarkupError` when the page's tables or task lists do not balance, because
    no offset in such a page can be trusted. To compute several write-backs of one page,
    scan it once with :class:`PageEditor` and call its :meth:`~PageEditor.write`.
    """
    return PageEditor(storage).write(tables, updates, server=server, text_keys=text_keys)


def _page_server(document: Document) -> JiraServer | None:
    text = document.text
    for macro in document.macros:
        if _macro_name(text, macro) == "jira":
            server = _server_from(_parameter_values(text, macro))
            if server is not None:
                return server
    return None


def _where(update: RowUpdate | TaskUpdate) -> str:
    if isinstance(update, RowUpdate):
        return f"table {update.table + 1}, row {update.row + 1}"
    return f"task list {update.task_list + 1}, task {update.index + 1}"


def _splice(text: str, edits: Sequence[Edit]) -> str:
    pieces: list[str] = []
    pos = 0
    for edit in edits:
        pieces.append(text[pos : edit.start])
        pieces.append(edit.text)
        pos = edit.end
    pieces.append(text[pos:])
    return "".join(pieces)


# Markup builders. Everything that comes from outside goes through _text() or _attr():
# escaped, and stripped of characters XML forbids.


def _clean(value: str) -> str:
    return _NOT_XML.sub("", value)


def _text(value: str) -> str:
    return html.escape(_clean(value), quote=False)


def _attr(value: str) -> str:
    return html.escape(_clean(value), quote=True)


def _parameter(name: str, value: str) -> str:
    return f'<ac:parameter ac:name="{name}">{_text(value)}</ac:parameter>'


def _jira_macro(key: str, server: JiraServer | None) -> str:
    params = []
    if server is not None and server.name:
        params.append(_parameter("server", server.name))
    if server is not None and server.server_id:
        params.append(_parameter("serverId", server.server_id))
    params.append(_parameter("key", key))
    return (
        '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
        + "".join(params)
        + "</ac:structured-macro>"
    )


def _status_macro(title: str, colour: str) -> str:
    return (
        '<ac:structured-macro ac:name="status" ac:schema-version="1">'
        + _parameter("title", title)
        + _parameter("colour", colour)
        + "</ac:structured-macro>"
    )


# Reading tracked elements.


def _macro_name(text: str, macro: Element) -> str:
    found = macro.attributes(text).get("ac:name")
    return html.unescape(found.value).strip().lower() if found else ""


def _parameters(text: str, macro: Element) -> dict[str, Element]:
    """The macro's own parameter elements by name; the first of a repeated name wins."""
    found: dict[str, Element] = {}
    for child in macro.children:
        if child.name != "ac:parameter":
            continue
        name_attribute = child.attributes(text).get("ac:name")
        name = html.unescape(name_attribute.value) if name_attribute else ""
        found.setdefault(name, child)
    return found


def _parameter_values(text: str, macro: Element) -> dict[str, str]:
    return {
        name: html.unescape(element.content(text)).strip()
        for name, element in _parameters(text, macro).items()
    }


def _span(text: str, element: Element, name: str, default: int = 1) -> int:
    found = element.attributes(text).get(name)
    if found is None:
        return default
    try:
        value = int(html.unescape(found.value).strip())
    except ValueError:
        return default
    return value if value >= 0 else default


def _content_ranges(element: Element, excluded: Sequence[Element]) -> list[tuple[int, int]]:
    """The content range of ``element`` with the ``excluded`` descendants cut out."""
    ranges = []
    pos = element.open_end
    for inner in excluded:
        ranges.append((pos, inner.start))
        pos = inner.end
    ranges.append((pos, element.close_start))
    return ranges


def _first_level(element: Element, name: str) -> list[Element]:
    """Descendants named ``name`` that are not inside another such descendant."""
    found: list[Element] = []
    stack = list(reversed(element.children))
    while stack:
        inner = stack.pop()
        if inner.name == name:
            found.append(inner)
        else:
            stack.extend(reversed(inner.children))
    return found


_Slot = Slot["Element"]


class _Grid:
    """A table's rows laid out on the grid, placed by :class:`~._grid.Grid` as the parser
    places them.

    ``slots[r]`` maps each grid column of row ``r`` to the cell covering it (which may
    start in an earlier row or column); ``cells[r]`` are row ``r``'s own cells;
    ``after_last[r]`` is the column just after its last own cell.
    """

    def __init__(self, text: str, table: Element) -> None:
        self.table = table
        self.rows = table_rows(table)
        self.slots: list[dict[int, _Slot]] = []
        self.cells: list[list[_Slot]] = []
        self.after_last: list[int] = []
        grid: Grid[Element] = Grid()
        for r, row in enumerate(self.rows):
            # rowspan="0" spans the rest of the table, and no span reaches past it.
            rows_left = len(self.rows) - r
            cells = []
            for cell in row_cells(row):
                attributes = cell.attributes(text)
                colspan = span(_value(attributes, "colspan"), MAX_COLSPAN)
                rowspan = span(_value(attributes, "rowspan"), MAX_ROWSPAN, zero_to_end=True)
                cells.append((cell, colspan, min(rowspan, rows_left)))
            slots: dict[int, _Slot] = {}
            own: list[_Slot] = []
            for slot in grid.place(r, cells):
                for column in range(slot.start, slot.end):
                    slots.setdefault(column, slot)
                if slot.row == r:
                    own.append(slot)
            self.slots.append(slots)
            self.cells.append(own)
            self.after_last.append(own[-1].end if own else 0)
        self.width = grid.width

    def free_columns(self, r: int) -> int:
        """How many columns of row ``r`` after its last cell no cell covers."""
        slots = self.slots[r]
        return sum(1 for col in range(self.after_last[r], self.width) if col not in slots)

    def is_label_row(self, r: int) -> bool:
        """Whether row ``r`` is one cell spanning the whole width (a section label)."""
        own = self.cells[r]
        if len(own) != 1 or self.width < 2:
            return False
        slot = own[0]
        return slot.col == 0 and slot.colspan > 1 and slot.colspan >= self.width

    def cell_at(self, r: int, col: int) -> _Slot | str:
        """Row ``r``'s own cell at grid column ``col``, or why there is none to write."""
        slot = self.slots[r].get(col)
        if slot is None:
            return f"the row has no cell in column {col + 1}"
        if slot.row != r:
            return f"the cell in column {col + 1} is merged with a row above (rowspan)"
        if slot.col != col:
            return f"the cell in column {col + 1} is merged with the cell to its left (colspan)"
        if slot.rowspan > 1:
            return (
                f"the cell in column {col + 1} spans {slot.rowspan} rows, "
                "so it belongs to other rows too"
            )
        return slot


def _value(attributes: Mapping[str, Attribute], name: str) -> str | None:
    found = attributes.get(name)
    return None if found is None else html.unescape(found.value)


@attrs.define
class _Layout:
    """One table being written: what the parser found, its grid, and cells to add."""

    item_table: ItemTable
    grid: _Grid
    #: Content of the cells of added columns, by row (``tr`` index) and field.
    new_cells: dict[int, dict[str, str]] = attrs.field(factory=dict)

    def tr_index(self, update: RowUpdate) -> int:
        """The index among the table's rows of the update's body row."""
        return self.item_table.header_row + 1 + update.row

    def has_row(self, update: RowUpdate) -> bool:
        """Whether the table has the update's body row."""
        return update.row >= 0 and self.tr_index(update) < len(self.grid.rows)


class _Writer:
    """Collects the edits and outcomes of one :meth:`PageEditor.write` call."""

    def __init__(self, editor: PageEditor, server: JiraServer | None) -> None:
        self.editor = editor
        self.document = editor.document
        self.text = editor.storage
        self.server = server
        self._edits: list[tuple[int, int, int, str]] = []
        self.written: set[int] = set()
        self.skipped: list[tuple[int, Skipped]] = []
        self.text_keys: frozenset[str] = frozenset()

    # Outcomes and edits.

    def skip(self, position: int, update: RowUpdate | TaskUpdate, reason: str) -> None:
        self.skipped.append((position, Skipped(update, reason)))

    def splice(self, start: int, end: int, new_text: str) -> None:
        self._edits.append((start, end, len(self._edits), new_text))

    def edits(self) -> tuple[Edit, ...]:
        ordered = sorted(self._edits)
        result: list[Edit] = []
        last_end = 0
        for start, end, _, new_text in ordered:
            if start < last_end:
                # Refuse the page (the engine reports it) rather than splice garbage.
                raise markup_error(
                    self.text, start, "the cells to write overlap; not writing this page"
                )
            result.append(Edit(start, end, new_text))
            last_end = end
        return tuple(result)

    def set_content(self, element: Element, new_content: str) -> None:
        """Replace everything inside ``element``, keeping its start tag as written."""
        if element.self_closing:
            self._open_up(element, new_content)
        else:
            self.splice(element.open_end, element.close_start, new_content)

    def insert_at_end(self, element: Element, new_content: str) -> None:
        """Add ``new_content`` just before ``element``'s end tag."""
        if element.self_closing:
            self._open_up(element, new_content)
        else:
            self.splice(element.close_start, element.close_start, new_content)

    def _open_up(self, element: Element, new_content: str) -> None:
        # <td colspan="2"/> becomes <td colspan="2">new</td>: the attributes stay as written.
        raw = self.text[element.start : element.open_end]
        name = raw[1 : 1 + len(element.name)]
        opening = raw[:-2].rstrip() + ">"
        self.splice(element.start, element.end, f"{opening}{new_content}</{name}>")

    # Tables.

    def write_table(
        self,
        index: int,
        item_table: ItemTable | None,
        updates: Sequence[tuple[int, RowUpdate]],
    ) -> ItemTable | None:
        """Write the updates of one table; the table's new layout if columns were added."""
        if not 0 <= index < len(self.document.tables):
            for position, update in updates:
                self.skip(position, update, f"{_where(update)}: the page has no table {index + 1}")
            return None
        if item_table is None:
            for position, update in updates:
                self.skip(
                    position, update, f"{_where(update)}: table {index + 1} is no action-item table"
                )
            return None
        grid = self.editor.grid(index)
        if item_table.width and item_table.width != grid.width:
            # The parser saw another table here (or this one changed shape): writing by
            # column number could put keys in the wrong cells.
            for position, update in updates:
                self.skip(
                    position,
                    update,
                    f"{_where(update)}: table {index + 1} has {grid.width} columns, not the "
                    f"{item_table.width} it had when the page was read",
                )
            return None
        header = item_table.header_row
        if not 0 <= header < len(grid.rows):
            for position, update in updates:
                self.skip(
                    position,
                    update,
                    f"{_where(update)}: the table has no header row {header + 1} any more",
                )
            return None
        layout = _Layout(item_table, grid)
        new_columns: dict[str, int] = {}
        for field in _NEW_COLUMN_ORDER:
            if field not in item_table.columns and any(
                self._wants(update, field) and layout.has_row(update) for _, update in updates
            ):
                new_columns[field] = grid.width + len(new_columns)
        for position, update in updates:
            if not layout.has_row(update):
                if update.jira_key is not None or update.status is not None:
                    self.skip(position, update, f"{_where(update)}: the table has no such row")
                continue
            if update.jira_key is not None:
                self._write_ticket(position, update, layout)
            if update.status is not None:
                self._write_status(position, update, layout)
            for field in ("due", "owner", "priority"):
                if getattr(update, field) is not None and field in item_table.columns:
                    self._write_value(position, update, layout, field)
        if not new_columns:
            return None
        self._add_columns(layout, list(new_columns))
        columns = dict(item_table.columns)
        columns.update(new_columns)
        return ItemTable(
            index=item_table.index,
            header_row=item_table.header_row,
            columns=columns,
            width=grid.width + len(new_columns),
        )

    @staticmethod
    def _wants(update: RowUpdate, field: str) -> bool:
        if field == "ticket":
            return update.jira_key is not None and is_issue_key(update.jira_key)
        return update.status is not None and bool(_clean(update.status).strip())

    def _target(
        self, position: int, update: RowUpdate, field: str, layout: _Layout
    ) -> _Slot | None:
        """The cell to write ``field`` into, or ``None`` (after recording why not)."""
        grid = layout.grid
        col = layout.item_table.columns[field]
        if not 0 <= col < grid.width:
            self.skip(
                position,
                update,
                f"{_where(update)}: the {field} column {col + 1} is not in the table any more",
            )
            return None
        found = grid.cell_at(layout.tr_index(update), col)
        if isinstance(found, str):
            self.skip(position, update, f"{_where(update)}: not writing the {field}: {found}")
            return None
        return found

    def _write_ticket(self, position: int, update: RowUpdate, layout: _Layout) -> None:
        key = update.jira_key or ""
        if not is_issue_key(key):
            self.skip(position, update, f"{_where(update)}: {key!r} is not a Jira issue key")
            return
        if "ticket" not in layout.item_table.columns:
            macro = _jira_macro(key, self.server)
            layout.new_cells.setdefault(layout.tr_index(update), {})["ticket"] = f"<p>{macro}</p>"
            self.written.add(position)
            return
        slot = self._target(position, update, "ticket", layout)
        if slot is None:
            return
        cell = slot.cell
        reading = read(self.text, [(cell.open_end, cell.close_start)])
        linked = [k for k in reading.keys if k not in self.text_keys]
        if key in linked:
            return
        if linked:
            self.skip(
                position,
                update,
                f"{_where(update)}: the ticket cell already names {linked[0]}; "
                f"not adding {key} beside an issue someone linked",
            )
            return
        macro = _jira_macro(key, self.server)  # only now: most cells already show the key
        if reading.blank:
            self.set_content(cell, f"<p>{macro}</p>")
        elif reading.has_blocks:
            self.insert_at_end(cell, f"<p>{macro}</p>")
        else:
            # Inline words such as "n/a": the macro follows them on the same line.
            content = cell.content(self.text)
            at = cell.open_end + len(content.rstrip())
            self.splice(at, at, " " + macro)
        self.written.add(position)

    def _write_status(self, position: int, update: RowUpdate, layout: _Layout) -> None:
        title = " ".join(_clean(update.status or "").split())
        if not title:
            self.skip(position, update, f"{_where(update)}: the status to write is empty")
            return
        colour = _COLOURS.get(update.category) if update.category else None
        columns = layout.item_table.columns
        if "status" not in columns:
            lozenge = _status_macro(title, colour or "Grey")
            layout.new_cells.setdefault(layout.tr_index(update), {})["status"] = f"<p>{lozenge}</p>"
            self.written.add(position)
            return
        if columns.get("ticket") == columns["status"]:
            self.skip(
                position,
                update,
                f"{_where(update)}: the status column is also the ticket column; "
                "not writing a status into it",
            )
            return
        slot = self._target(position, update, "status", layout)
        if slot is None:
            return
        cell = slot.cell
        lozenges = [
            macro
            for macro in cell.descendants()
            if macro.name == "ac:structured-macro" and _macro_name(self.text, macro) == "status"
        ]
        if lozenges:
            if self._rewrite_lozenge(lozenges[0], title, colour):
                self.written.add(position)
            return
        lozenge = _status_macro(title, colour or "Grey")
        reading = read(self.text, [(cell.open_end, cell.close_start)])
        replace = reading.blank or (reading.plain and _is_status_word(reading.text, title))
        if replace or cell.self_closing:
            self.set_content(cell, f"<p>{lozenge}</p>")
            self.written.add(position)
            return
        first = _FIRST_PARAGRAPH.match(self.text, cell.open_end, cell.close_start)
        if first is not None:
            start, end = first.span(1)
            said = read(self.text, [(start, end)])
            if said.plain and _is_status_word(said.text, title):
                # "In progress" over a paragraph of notes: the status word becomes the
                # lozenge (so the page shows one status), the notes stay.
                self.splice(start, end, lozenge)
                self.written.add(position)
                return
        # Other words in a status cell are a person's notes: keep them after the lozenge.
        self.splice(cell.open_end, cell.open_end, f"<p>{lozenge}</p>")
        self.written.add(position)

    def _write_value(self, position: int, update: RowUpdate, layout: _Layout, field: str) -> None:
        """Show Jira's due date, owner or priority in that cell.

        Only a cell that holds a single value (blank, one date, one owner, one priority)
        is replaced, and only when it does not show the value yet: a cell with notes, a
        second owner or a struck-out old date is a person's work and is skipped with a
        reason, so the page keeps its value.
        """
        slot = self._target(position, update, field, layout)
        if slot is None:
            return
        cell = slot.cell
        content = "" if cell.self_closing else cell.content(self.text)
        reading = read(self.text, [(cell.open_end, cell.close_start)])
        words = " ".join(reading.text.split())
        if field == "due":
            due = update.due or ""
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", due):
                self.skip(position, update, f"{_where(update)}: {due!r} is not a date")
                return
            dates = _TIME.findall(content)
            if dates == [due] and not _STRUCK.search(content):
                return
            # One date and nothing else: a lone <time> (its display text is the date
            # itself) or a date in words. "<time/> (moved from Nov 20)" holds a note.
            single = (
                len(dates) <= 1
                and not _STRUCK.search(content)
                and (not words or read_date(words).date is not None)
            )
            new = f'<p><time datetime="{due}" /></p>'
        elif field == "owner":
            owner = update.owner or OwnerRef()
            mention = owner.mention()
            if mention is None:
                return
            users = _USER.findall(content)
            names = {v for v in (owner.account_id, owner.user_key, owner.username) if v}
            if len(users) == 1 and users[0] in names and not words.strip("@ "):
                return
            single = len(users) <= 1 and (
                not words.strip("@ ")
                if users
                else (
                    not words
                    or _ONE_NAME.fullmatch(words) is not None
                    or _ONE_EMAIL.fullmatch(words) is not None
                )
            )
            new = f"<p>{mention}</p>"
        else:
            wanted = " ".join(_clean(update.priority or "").split())
            if not wanted or words == wanted or normalise_priority(words) == wanted:
                return
            # One or two words that read as a priority ("P1", "Very high"): anything
            # longer ("High per SLO review", "P1 until launch") carries a note.
            single = reading.plain and (
                not words
                or (
                    len(words.split()) <= 2
                    and "<br" not in content
                    and normalise_priority(words) is not None
                )
            )
            new = f"<p>{_text(wanted)}</p>"
        if not single:
            self.skip(
                position,
                update,
                f"{_where(update)}: the {field} cell holds more than a single value; "
                f"not replacing it",
            )
            return
        self.set_content(cell, new)
        self.written.add(position)

    def _rewrite_lozenge(self, macro: Element, title: str, colour: str | None) -> bool:
        """Set the lozenge's title and colour in place; whether anything changed."""
        text = self.text
        params = _parameters(text, macro)
        values = _parameter_values(text, macro)
        additions: list[str] = []
        changed = False
        if values.get("title") != title:
            if "title" in params:
                self.set_content(params["title"], _text(title))
            else:
                additions.append(_parameter("title", title))
            changed = True
        # A lozenge without a colour is grey.
        current = values.get("colour") or "Grey"
        if colour is not None and current.lower() != colour.lower():
            if "colour" in params:
                self.set_content(params["colour"], _text(colour))
            else:
                additions.append(_parameter("colour", colour))
            changed = True
        if additions:
            if macro.self_closing:
                self._open_up(macro, "".join(additions))
            else:
                self.splice(macro.open_end, macro.open_end, "".join(additions))
        return changed

    # Adding columns.

    def _add_columns(self, layout: _Layout, fields: Sequence[str]) -> None:
        """Add one cell per field at the end of every row (see docs/writeback.md)."""
        text = self.text
        grid = layout.grid
        header = layout.item_table.header_row
        header_cells = grid.cells[header]
        last_header = header_cells[-1].cell if header_cells else None
        header_tag = last_header.name if last_header is not None else "th"
        header_content = last_header.content(text) if last_header is not None else ""
        in_paragraph = re.match(r"\s*<p[\s>/]", header_content, re.IGNORECASE) is not None
        bold = re.search(r"<(?:strong|b)[\s>]", header_content, re.IGNORECASE) is not None
        copied = ""
        if last_header is not None:
            attributes = last_header.attributes(text)
            copied = "".join(
                f' {name}="{_attr(html.unescape(attributes[name].value))}"'
                for name in _COPIED_HEADER_ATTRIBUTES
                if name in attributes
            )
        empty = "<p />" if in_paragraph else "<br />"
        for r, row in enumerate(grid.rows):
            added = layout.new_cells.get(r, {})
            if r != header and not added and grid.is_label_row(r):
                cell = grid.cells[r][0]
                colspan = cell.cell.attributes(text)["colspan"]
                self.splice(
                    colspan.value_start,
                    colspan.value_end,
                    str(cell.colspan + len(fields)),
                )
                continue
            fillers = grid.free_columns(r)
            if r == header:
                pieces = [f"<{header_tag}></{header_tag}>"] * fillers
                for field in fields:
                    label = _HEADER_TEXT[field]
                    if bold or header_tag == "td":
                        label = f"<strong>{label}</strong>"
                    if in_paragraph:
                        label = f"<p>{label}</p>"
                    pieces.append(f"<{header_tag}{copied}>{label}</{header_tag}>")
            else:
                pieces = [f"<td>{empty}</td>"] * fillers
                pieces.extend(f"<td>{added.get(field, empty)}</td>" for field in fields)
            self.insert_at_end(row, "".join(pieces))
        colgroups = [child for child in grid.table.children if child.name == "colgroup"]
        if colgroups:
            colgroup = colgroups[-1]
            cols = [child for child in colgroup.children if child.name == "col"]
            span = colgroup.attributes(text).get("span")
            if not cols and span is not None:
                self.splice(
                    span.value_start,
                    span.value_end,
                    str(_span(text, colgroup, "span") + len(fields)),
                )
            else:
                self.insert_at_end(colgroup, "<col />" * len(fields))

    # Tasks.

    def write_task(self, position: int, update: TaskUpdate) -> None:
        """Write one task's checkbox and key."""
        text = self.text
        lists = self.document.task_lists
        if not 0 <= update.task_list < len(lists):
            self.skip(
                position,
                update,
                f"{_where(update)}: the page has no task list {update.task_list + 1}",
            )
            return
        tasks = lists[update.task_list].child_elements("ac:task")
        if not 0 <= update.index < len(tasks):
            self.skip(position, update, f"{_where(update)}: the task list has no such task")
            return
        task = tasks[update.index]
        ids = task.child_elements("ac:task-id")
        found_id = html.unescape(ids[0].content(text)).strip() if ids else None
        if update.task_id is not None and found_id != update.task_id:
            self.skip(
                position,
                update,
                f"{_where(update)}: the task there has id {found_id!r}, not "
                f"{update.task_id!r}; the page changed since it was read",
            )
            return
        if update.done is not None and self._write_checkbox(task, ids, update.done):
            self.written.add(position)
        if update.jira_key is not None:
            self._write_task_key(position, update, task)

    def _write_checkbox(self, task: Element, ids: Sequence[Element], done: bool) -> bool:
        wanted = "complete" if done else "incomplete"
        statuses = task.child_elements("ac:task-status")
        if not statuses:
            after = ids[0].end if ids else task.open_end
            new = f"<ac:task-status>{wanted}</ac:task-status>"
            if task.self_closing:
                self._open_up(task, new)
            else:
                self.splice(after, after, new)
            return True
        status = statuses[0]
        content = status.content(self.text)
        if content.strip() == wanted:
            return False
        if status.self_closing or not content.strip():
            self.set_content(status, wanted)
        else:
            # Only the word changes; whitespace around it stays.
            start = status.open_end + (len(content) - len(content.lstrip()))
            end = status.open_end + len(content.rstrip())
            self.splice(start, end, wanted)
        return True

    def _write_task_key(self, position: int, update: TaskUpdate, task: Element) -> None:
        text = self.text
        key = update.jira_key or ""
        if not is_issue_key(key):
            self.skip(position, update, f"{_where(update)}: {key!r} is not a Jira issue key")
            return
        bodies = task.child_elements("ac:task-body")
        if not bodies:
            self.skip(position, update, f"{_where(update)}: the task has no body to add {key} to")
            return
        body = bodies[0]
        macro = _jira_macro(key, self.server)
        if body.self_closing:
            self._open_up(body, macro)
            self.written.add(position)
            return
        subtasks = _first_level(body, "ac:task-list")
        reading = read(text, _content_ranges(body, subtasks))
        # A task's issue is the one its jira macro names: that is what the parser reads.
        # Keys in its text or links (“after OPS-1 ships”) are mentions in passing.
        if key in reading.macro_keys:
            return
        linked = reading.macro_keys
        if linked:
            self.skip(
                position,
                update,
                f"{_where(update)}: the task already links {linked[0]}; not adding {key}",
            )
            return
        # Before any subtasks, after the task's own last non-blank character.
        limit = subtasks[0].start if subtasks else body.close_start
        at = body.open_end + len(text[body.open_end : limit].rstrip())
        separator = " " if at > body.open_end else ""
        self.splice(at, at, separator + macro)
        self.written.add(position)


def _is_status_word(value: str, title: str) -> bool:
    """Whether a status cell's text is only a status, which a lozenge may replace.

    Uses the parser's vocabulary, so what reads as a status is what gets replaced.
    """
    stripped = value.strip()
    if stripped.casefold() in _STATUS_MARKS or stripped.casefold() == title.casefold():
        return True
    status, rest = trailing_status(stripped)
    return status is not None and not rest.strip()
