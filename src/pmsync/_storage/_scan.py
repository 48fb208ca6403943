"""A position-keeping scanner over Confluence storage-format text, for write-back.

Write-back must change a few table cells and keep every other byte of a page exactly as
it was, so it cannot go through a parse tree and a serializer (they rewrite ``<br />``,
entities, attribute quoting and more). This module reads the text once, left to right,
and records *where* the elements that write-back cares about start and end; the editor
then splices new text in at those offsets.

Only the structure that matters is tracked: tables and their sections, rows, cells,
column groups, task lists and their parts, structured macros and their parameters. Other
elements (``<p>``, ``<span>``, ``<br>`` with or without a closing tag...) pass through
untracked, which also makes the scanner indifferent to HTML void elements. Comments,
CDATA sections, processing instructions and declarations are skipped whole, and quoted
attribute values may hold ``>``.

When the tracked structure does not balance (a row closed by ``</table>``, a cell
outside a row, a table never closed) the scanner raises :class:`MarkupError` instead of
guessing: writing into a page it cannot read reliably could corrupt it.

Pure: no I/O. Linear in the length of the text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Final, Literal, NamedTuple

import attrs

from pmsync.exceptions import PmsyncError

__all__ = [
    "Attribute",
    "Document",
    "Element",
    "MarkupError",
    "Reading",
    "Tag",
    "iter_tags",
    "markup_error",
    "parse_attributes",
    "read",
    "row_cells",
    "scan",
    "table_rows",
]

#: Elements whose positions are recorded. Everything else is passed over.
TRACKED: Final = frozenset(
    {
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "colgroup",
        "col",
        "ac:task-list",
        "ac:task",
        "ac:task-id",
        "ac:task-status",
        "ac:task-body",
        "ac:structured-macro",
        "ac:parameter",
    }
)
_SECTIONS: Final = frozenset({"thead", "tbody", "tfoot"})
_CELLS: Final = frozenset({"td", "th"})

# Every kind of markup in one pattern, so that the text between tags is skipped in C.
# The ``<`` they all start with comes first, outside the alternatives: the regex engine
# then jumps from one ``<`` to the next instead of trying every alternative at every
# character (three times faster on a big page).
# A start tag: name, then attributes separated by whitespace, values quoted or not; the
# possessive quantifiers keep a malformed tag from backtracking for long. ``bad`` is
# the start of markup that none of the others could read (an unclosed comment, quote or
# tag): the scanner refuses the page there.
_MARKUP: Final = re.compile(
    r"""<(?:(?P<start>(?P<name>[A-Za-z_][^\s/>"'=]*+)"""
    r"""(?P<attrs>(?:\s++[^\s=/>"']++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'>]++))?+)*+)"""
    r"""\s*+(?P<slash>/?)>)"""
    r"""|(?P<end>/(?P<end_name>[A-Za-z_][^\s/>]*+)\s*+>)"""
    r"""|(?P<comment>!--.*?-->)"""
    r"""|(?P<cdata>!\[CDATA\[.*?\]\]>)"""
    r"""|(?P<pi>\?.*?\?>)"""
    r"""|(?P<decl>!(?!--|\[CDATA\[)[^>]*>)"""
    r"""|(?P<bad>/[A-Za-z_]|!|\?|[A-Za-z_]))""",
    re.DOTALL,
)
_UNREADABLE: Final = {
    "</": "an end tag is not closed by '>'",
    "<!--": "a comment '<!--' is never closed",
    "<![CDATA[": "a CDATA section is never closed",
    "<!": "a declaration '<!' is never closed",
    "<?": "a processing instruction '<?' is never closed",
    "<": "a start tag could not be read (unclosed quote or missing '>')",
}
_ATTRIBUTE: Final = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


class MarkupError(PmsyncError):
    """The page's tables or task lists do not balance, so write-back cannot be done safely.

    ``offset`` is the 0-based character offset of the problem in the page text, ``line``
    and ``column`` are 1-based.
    """

    def __init__(self, message: str, *, offset: int, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.offset = offset
        self.line = line
        self.column = column


def markup_error(text: str, offset: int, message: str) -> MarkupError:
    """A :class:`MarkupError` about ``text`` at ``offset``, with its line and column."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return MarkupError(message, offset=offset, line=line, column=column)


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


class Attribute(NamedTuple):
    """One attribute of a start tag, as written.

    ``value`` is the raw text between the quotes (entities not decoded), ``value_start``
    and ``value_end`` its offsets in the page text (equal when the attribute has no
    value).
    """

    name: str
    value: str
    value_start: int
    value_end: int


class Tag(NamedTuple):
    """One piece of markup found by :func:`iter_tags`.

    ``kind`` is ``start`` (including self-closing tags), ``end``, ``comment``, ``cdata``,
    ``pi`` (processing instruction) or ``decl`` (``<!DOCTYPE...>``). ``start``/``stop``
    delimit the whole construct; ``name`` is the lowercased tag name (empty for the
    other kinds) and ``attrs_start``/``attrs_stop`` delimit the attribute text.
    """

    kind: Literal["start", "end", "comment", "cdata", "pi", "decl"]
    start: int
    stop: int
    name: str = ""
    attrs_start: int = 0
    attrs_stop: int = 0
    self_closing: bool = False


def parse_attributes(text: str, start: int, stop: int) -> dict[str, Attribute]:
    """The attributes written in ``text[start:stop]``, keyed by lowercased name.

    The first occurrence wins when a name repeats (as in HTML).
    """
    found: dict[str, Attribute] = {}
    if start == stop:  # most cells and rows have none: no regex call for them
        return found
    for match in _ATTRIBUTE.finditer(text, start, stop):
        name = match.group(1).lower()
        if name in found:
            continue
        for group in (2, 3, 4):
            if match.group(group) is not None:
                found[name] = Attribute(
                    name, match.group(group), match.start(group), match.end(group)
                )
                break
        else:
            found[name] = Attribute(name, "", match.end(), match.end())
    return found


def _markup(text: str, start: int, stop: int) -> Iterator[re.Match[str]]:
    """The markup in ``text[start:stop]`` in order; raises :class:`MarkupError` at markup
    that cannot be read."""
    for match in _MARKUP.finditer(text, start, stop):
        if match.lastgroup == "bad":
            raise _unreadable(text, match.start())
        yield match


def _unreadable(text: str, at: int) -> MarkupError:
    opening = next(o for o in _UNREADABLE if text.startswith(o, at))
    return markup_error(text, at, _UNREADABLE[opening])


def iter_tags(text: str, start: int = 0, stop: int | None = None) -> Iterator[Tag]:
    """Every tag, comment, CDATA section and declaration in ``text[start:stop]``, in order.

    Text between them is whatever the tags do not cover. A ``<`` that cannot start markup
    (``a < b``) is text. Raises :class:`MarkupError` for a comment, CDATA section or
    tag that is never closed.
    """
    for match in _markup(text, start, len(text) if stop is None else stop):
        kind = match.lastgroup
        if kind == "start":
            yield Tag(
                "start",
                match.start(),
                match.end(),
                match.group("name").lower(),
                match.start("attrs"),
                match.end("attrs"),
                match.group("slash") == "/",
            )
        elif kind == "end":
            yield Tag("end", match.start(), match.end(), match.group("end_name").lower())
        else:
            yield Tag(kind, match.start(), match.end())  # type: ignore[arg-type]


@attrs.define(eq=False, repr=False)
class Element:
    """One tracked element and where its parts are in the page text.

    ``start`` is the offset of its ``<``, ``open_end`` the offset just after its start
    tag, ``close_start`` the offset of its end tag (``open_end`` for a self-closing
    element) and ``end`` the offset just after the element. Content is
    ``text[open_end:close_start]``. ``children`` are the tracked elements directly inside
    it, in document order.
    """

    name: str
    start: int
    open_end: int
    attrs_start: int
    attrs_stop: int
    self_closing: bool
    parent: Element | None
    close_start: int = -1
    end: int = -1
    children: list[Element] = attrs.field(factory=list)

    def __repr__(self) -> str:
        return f"<Element {self.name} {self.start}:{self.end}>"

    def attributes(self, text: str) -> dict[str, Attribute]:
        """This element's attributes, read from the page text."""
        return parse_attributes(text, self.attrs_start, self.attrs_stop)

    def content(self, text: str) -> str:
        """The raw text between the start tag and the end tag."""
        return text[self.open_end : self.close_start]

    def child_elements(self, name: str) -> list[Element]:
        """The tracked children named ``name``."""
        return [child for child in self.children if child.name == name]

    def descendants(self) -> Iterator[Element]:
        """Every tracked element inside this one, depth first, in document order."""
        stack = list(reversed(self.children))
        while stack:
            element = stack.pop()
            yield element
            stack.extend(reversed(element.children))


@attrs.define(eq=False)
class Document:
    """The tracked structure of one page.

    ``tables``, ``task_lists`` and ``macros`` list every ``<table>``,
    ``<ac:task-list>`` and ``<ac:structured-macro>`` in document order (by start tag),
    nested ones included, so that a table's index here is the index the parser reports.
    """

    text: str
    tables: list[Element] = attrs.field(factory=list)
    task_lists: list[Element] = attrs.field(factory=list)
    macros: list[Element] = attrs.field(factory=list)


def table_rows(table: Element) -> list[Element]:
    """The rows of ``table`` itself (through its sections), in document order.

    Rows of tables nested in its cells are not included.
    """
    rows: list[Element] = []
    for child in table.children:
        if child.name == "tr":
            rows.append(child)
        elif child.name in _SECTIONS:
            rows.extend(row for row in child.children if row.name == "tr")
    return rows


def row_cells(row: Element) -> list[Element]:
    """The ``<td>``/``<th>`` cells of ``row``, in document order."""
    return [cell for cell in row.children if cell.name in _CELLS]


_ALLOWED_PARENTS: Final[dict[str, frozenset[str]]] = {
    "thead": frozenset({"table"}),
    "tbody": frozenset({"table"}),
    "tfoot": frozenset({"table"}),
    "colgroup": frozenset({"table"}),
    "col": frozenset({"colgroup", "table"}),
    "tr": frozenset({"table", "thead", "tbody", "tfoot"}),
    "td": frozenset({"tr"}),
    "th": frozenset({"tr"}),
}


def scan(text: str) -> Document:
    """Read the tracked structure of ``text``.

    Raises :class:`MarkupError` when tables, rows, cells, task lists or macros do not
    balance, naming the line and column of the problem.
    """
    document = Document(text)
    stack: list[Element] = []
    for match in _MARKUP.finditer(text):  # not _markup(): a generator less per tag
        kind = match.lastgroup
        if kind == "start":
            name = match.group("name").lower()
            if name not in TRACKED:
                continue
            start, stop = match.span()
            parent = stack[-1] if stack else None
            allowed = _ALLOWED_PARENTS.get(name)
            if allowed is not None and (parent is None or parent.name not in allowed):
                inside = f"inside <{parent.name}>" if parent else "outside any table"
                raise markup_error(text, start, f"<{name}> found {inside}")
            self_closing = match.group("slash") == "/"
            element = Element(
                name, start, stop, match.start("attrs"), match.end("attrs"), self_closing, parent
            )
            if parent is not None:
                parent.children.append(element)
            if name == "table":
                document.tables.append(element)
            elif name == "ac:task-list":
                document.task_lists.append(element)
            elif name == "ac:structured-macro":
                document.macros.append(element)
            # <col> is a void element: written <col>, <col/> or <col></col>, never a parent.
            if self_closing or name == "col":
                element.close_start = stop
                element.end = stop
            else:
                stack.append(element)
        elif kind == "end":
            name = match.group("end_name").lower()
            if name not in TRACKED or name == "col":
                continue
            start, stop = match.span()
            if not stack:
                raise markup_error(text, start, f"</{name}> closes nothing")
            top = stack[-1]
            if top.name != name:
                raise markup_error(
                    text,
                    start,
                    f"</{name}> found while <{top.name}> opened at "
                    f"{_where(text, top.start)} is still open",
                )
            stack.pop()
            top.close_start = start
            top.end = stop
        elif kind == "bad":
            raise _unreadable(text, match.start())
    if stack:
        top = stack[-1]
        raise markup_error(text, top.start, f"<{top.name}> is never closed")
    return document


# Markup that carries no content of its own: a cell holding only these (and blank text)
# is empty, and one holding only these and text holds "plain text".
_PLAIN_TAGS: Final = frozenset(
    {
        "p",
        "br",
        "div",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "del",
        "sub",
        "sup",
        "small",
        "code",
        "ac:placeholder",
    }
)
_BLOCK_TAGS: Final = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3"}
    | {"h4", "h5", "h6", "ac:task", "ac:task-body", "blockquote", "pre"}
)
# Emoticons that people use as status marks; they read as these characters.
_STATUS_EMOTICONS: Final = {"tick": "✓", "cross": "✗"}
_BROWSE_LINK: Final = re.compile(r"/browse/([A-Za-z][A-Za-z0-9_]+-[0-9]+)(?![A-Za-z0-9_])")
_KEY_IN_TEXT: Final = re.compile(r"(?<![A-Za-z0-9_-])([A-Z][A-Z0-9_]+-[0-9]+)(?![A-Za-z0-9_])")


@attrs.frozen
class Reading:
    """What a stretch of storage markup holds, as write-back needs to know it.

    ``text`` is the visible text (entities decoded; macro parameters and placeholders
    left out). ``macro_keys`` are the ``key`` parameters of jira macros, ``link_keys``
    the issue keys of ``…/browse/KEY`` links, ``text_keys`` the issue keys written as
    text (all uppercased, in document order). ``jira_macros`` holds the parameters of
    each jira macro. ``blank`` is true when nothing shows but whitespace, line breaks and
    empty paragraphs; ``plain`` when nothing shows but text and its formatting;
    ``has_blocks`` when the markup holds block elements (paragraphs, lists, tables...).
    """

    text: str
    macro_keys: tuple[str, ...]
    link_keys: tuple[str, ...]
    jira_macros: tuple[dict[str, str], ...]
    blank: bool
    plain: bool
    has_blocks: bool = False

    @property
    def text_keys(self) -> tuple[str, ...]:
        """Issue keys written as bare text, such as ``OPS-12``."""
        return tuple(_KEY_IN_TEXT.findall(self.text))

    @property
    def keys(self) -> tuple[str, ...]:
        """Every issue key referenced: by macro, by link, then as text."""
        return self.macro_keys + self.link_keys + self.text_keys


def read(text: str, ranges: list[tuple[int, int]]) -> Reading:
    """Read the markup of ``text`` in the given ``(start, stop)`` ranges, in order."""
    pieces: list[str] = []
    macro_keys: list[str] = []
    link_keys: list[str] = []
    jira_macros: list[dict[str, str]] = []
    plain = True
    has_blocks = False
    macros: list[tuple[str, dict[str, str]]] = []
    parameter: tuple[str, int] | None = None
    hidden = 0  # depth inside <ac:placeholder>, whose text is a template's hint
    for start, stop in ranges:
        pos = start
        for tag in iter_tags(text, start, stop):
            if parameter is None and hidden == 0 and tag.start > pos:
                pieces.append(text[pos : tag.start])
            pos = tag.stop
            name = tag.name
            if tag.kind == "cdata":
                if parameter is None and hidden == 0:
                    pieces.append(text[tag.start + 9 : tag.stop - 3])
                plain = False
                continue
            if tag.kind == "start":
                if name in _BLOCK_TAGS:
                    pieces.append(" ")
                    has_blocks = has_blocks or name != "br"
                if name == "ac:emoticon":
                    attributes = parse_attributes(text, tag.attrs_start, tag.attrs_stop)
                    mark = _STATUS_EMOTICONS.get(_attribute(attributes, "ac:name").lower())
                    if mark is None:
                        plain = False
                    else:
                        pieces.append(mark)
                    continue
                if name not in _PLAIN_TAGS:
                    plain = False
                if name == "ac:placeholder" and not tag.self_closing:
                    hidden += 1
                elif name == "ac:structured-macro":
                    attributes = parse_attributes(text, tag.attrs_start, tag.attrs_stop)
                    macro_name = _attribute(attributes, "ac:name").lower()
                    if tag.self_closing:
                        if macro_name == "jira":
                            jira_macros.append({})
                    else:
                        macros.append((macro_name, {}))
                elif name == "ac:parameter" and not tag.self_closing:
                    attributes = parse_attributes(text, tag.attrs_start, tag.attrs_stop)
                    parameter = (_attribute(attributes, "ac:name"), tag.stop)
                elif name in {"a", "ri:url"}:
                    attributes = parse_attributes(text, tag.attrs_start, tag.attrs_stop)
                    target = _attribute(attributes, "href" if name == "a" else "ri:value")
                    link_keys.extend(k.upper() for k in _BROWSE_LINK.findall(target))
            elif tag.kind == "end":
                if name in _BLOCK_TAGS:
                    pieces.append(" ")
                if name == "ac:placeholder" and hidden:
                    hidden -= 1
                elif name == "ac:parameter" and parameter is not None:
                    param_name, value_start = parameter
                    parameter = None
                    if macros:
                        value = html.unescape(text[value_start : tag.start]).strip()
                        macros[-1][1].setdefault(param_name, value)
                elif name == "ac:structured-macro" and macros:
                    macro_name, params = macros.pop()
                    if macro_name == "jira":
                        jira_macros.append(params)
                        if params.get("key"):
                            macro_keys.append(params["key"].upper())
        if parameter is None and hidden == 0 and stop > pos:
            pieces.append(text[pos:stop])
    visible = " ".join(html.unescape("".join(pieces)).split())
    return Reading(
        visible,
        tuple(macro_keys),
        tuple(link_keys),
        tuple(jira_macros),
        blank=plain and not visible,
        plain=plain,
        has_blocks=has_blocks,
    )


def _attribute(attributes: dict[str, Attribute], name: str) -> str:
    found = attributes.get(name)
    return html.unescape(found.value) if found else ""
