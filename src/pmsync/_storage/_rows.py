"""Reading the rows of a long action-item table from their text, one template per shape.

The rows of a big action table repeat a handful of shapes: the same tags in the same
order, only the words, ids and dates differ. :func:`learn` turns a row into a
:class:`Template`: a regular expression that is the row's markup with a hole for every
piece of text and every attribute value that is data (ids, dates, editor ids), and a
recipe that reads each cell from the holes the way
:func:`~pmsync._storage._content.simple_cell` reads it from the tree (the cell's lines,
or the one mention, ``<time>`` or macro it holds alone). That row and every later row
that matches the expression are read without building their tree.

A template only takes markup that lxml would read the same way, a strict subset of
well-formed XML:

* the elements of the usual cells (``tr``, ``td``, ``th``, ``p``, ``br``, ``ac:link``,
  ``ri:user``, ``time``, ``ac:structured-macro``, ``ac:parameter``), properly nested,
  with ASCII attribute names, unprefixed or ``ac:``/``ri:``, none twice, no namespace
  declaration, and no comment, CDATA section or processing instruction;
* the tags, attribute names, the values of ``ac:name``, ``colspan`` and ``rowspan``
  (they change what a cell means) and the whitespace inside tags are the learnt row's
  own text;
* a text hole holds no ``<``, and ``&`` only as a reference, which :func:`decode`
  checks (an undefined entity, a reference to a forbidden character or a ``]]>``
  makes the row go back to lxml, which reports it);
* an attribute hole holds no ``<``, ``&``, tab or line break (values lxml would
  normalise or decode);
* the row holds no character XML forbids.

Any other row is read by lxml. Whether the text in a hole changes a cell's shape (text
beside a paragraph) is checked per row: such a row goes back to lxml too. A property
test (``tests/parser/test_quick_paths.py``) checks that pages read this way give what
lxml's reading of the whole page gives. Pure.
"""

from __future__ import annotations

import html.entities
import re
from collections.abc import Callable, Sequence
from typing import Final

from pmsync._model import Person
from pmsync._storage._content import collapse, lines_of

__all__ = ["Macro", "Mention", "Shape", "Stamp", "Template", "decode", "learn"]


class Mention:
    """A cell that holds one user mention and nothing else."""

    __slots__ = ("person",)

    def __init__(self, person: Person | None) -> None:
        #: Who the mention names (``None``: the mention has no id).
        self.person = person


class Stamp:
    """A cell that holds one empty ``<time>`` and nothing else."""

    __slots__ = ("value",)

    def __init__(self, value: str | None) -> None:
        #: Its ``datetime`` attribute, as written.
        self.value = value


class Macro:
    """A cell that holds one macro, whose children are all plain parameters, and
    nothing else."""

    __slots__ = ("_params", "name")

    def __init__(self, name: str | None, params: dict[str, str]) -> None:
        #: The macro's ``ac:name``, as written.
        self.name = name
        self._params = params  # stripped name -> text as written (the first one wins)

    def param(self, name: str) -> str | None:
        """The text of the parameter ``name``, whitespace collapsed (``None``: none)."""
        text = self._params.get(name)
        return None if text is None else collapse(text)


#: What a cell holds, read from a template's holes: its lines (none for an empty cell),
#: or the one thing it holds alone.
Shape = tuple[str, ...] | Mention | Stamp | Macro

Groups = Sequence[str | None]
_Recipe = Callable[[Groups], Shape]

_W = "[ \t\n\r]"
_NAME = r"(?:(?:ac|ri):)?[A-Za-z_][-A-Za-z0-9_.]*"
_TAG = re.compile(
    rf"<(/?)({_NAME})((?:{_W}+{_NAME}{_W}*={_W}*(?:\"[^\"<]*\"|'[^'<]*'))*)({_W}*/?>)"
)
_ATTRIBUTE = re.compile(rf"({_W}+({_NAME}){_W}*={_W}*)(?:\"([^\"<]*)\"|'([^'<]*)')")
# Holes take text up to the next tag (or quote) without the control characters XML
# forbids; the few other characters it forbids (surrogates, U+FFFE, U+FFFF) and a bare
# "&" or an undefined entity are checked per row, which keeps the expressions cheap to
# compile.
_TEXT_HOLE = "([^<\x00-\x08\x0b\x0c\x0e-\x1f]*+)"
_VALUE_HOLE = {'"': '"([^"<&\x00-\x1f]*+)"', "'": "'([^'<&\x00-\x1f]*+)'"}
_WIDE_FORBIDDEN = re.compile("[\ud800-\udfff\ufffe\uffff]")
_ELEMENTS = frozenset(
    {"tr", "td", "th", "p", "br", "ac:link", "ri:user", "time", "ac:structured-macro",
     "ac:parameter"}
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
#: Attributes whose values change what a cell means: never a hole.
_MEANINGFUL = frozenset({"ac:name", "colspan", "rowspan"})
_PERSON_ATTRIBUTES = ("ri:account-id", "ri:userkey", "ri:username")

_NAMED: Final = {
    **{name: chr(codepoint) for name, codepoint in html.entities.name2codepoint.items()},
    "apos": "'",
}
_USUAL_REFERENCES = tuple(
    (f"&{name};", _NAMED[name])
    for name in ("nbsp", "rsquo", "lsquo", "rdquo", "ldquo", "mdash", "ndash", "quot", "lt", "gt")
)
_CHARACTER_REFERENCE = re.compile(r"#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6})")


def decode(text: str) -> str | None:
    """``text`` with its character and entity references replaced, as lxml reads it
    against the XHTML entities; ``None`` when lxml would refuse it (a bare ``&``, an
    undefined entity, a reference to a character XML forbids, or ``]]>``)."""
    if "]]>" in text:
        return None
    # The usual references, replaced in C; none of them makes or breaks an "&amp;".
    quick = text
    for usual, replacement in _USUAL_REFERENCES:
        if usual in quick:
            quick = quick.replace(usual, replacement)
    if quick.count("&") == quick.count("&amp;"):
        return quick.replace("&amp;", "&")  # last: "&amp;nbsp;" is the text "&nbsp;"
    head, *references = text.split("&")
    out = [head]
    for reference in references:
        end = reference.find(";")
        if end <= 0:
            return None  # a bare "&"
        name = reference[:end]
        char = _NAMED.get(name)
        if char is None:
            digits = _CHARACTER_REFERENCE.fullmatch(name)
            if digits is None:
                return None  # an undefined entity
            decimal, hexadecimal = digits.groups()
            codepoint = int(decimal) if decimal is not None else int(hexadecimal, 16)
            if not _allowed(codepoint):
                return None
            char = chr(codepoint)
        out.append(char)
        out.append(reference[end + 1 :])
    return "".join(out)


def _allowed(codepoint: int) -> bool:
    """Whether XML allows the character (its ``Char`` production)."""
    return (
        codepoint in (0x9, 0xA, 0xD)
        or 0x20 <= codepoint <= 0xD7FF
        or 0xE000 <= codepoint <= 0xFFFD
        or 0x10000 <= codepoint <= 0x10FFFF
    )


class Template:
    """A row shape: :attr:`pattern` matches a row of that shape (after any whitespace)
    and :meth:`read` reads the match's cells."""

    __slots__ = ("_cells", "_gaps", "_texts", "pattern", "width")

    def __init__(
        self,
        pattern: re.Pattern[str],
        cells: tuple[_Recipe, ...],
        texts: tuple[int, ...],
        gaps: tuple[int, ...],
    ) -> None:
        self.pattern = pattern
        #: The row's number of cells.
        self.width = len(cells)
        self._cells = cells
        self._texts = texts
        self._gaps = gaps

    def read(self, match: re.Match[str]) -> list[Shape] | None:
        """The shape of each cell of a row that ``match`` matched, or ``None`` when
        lxml must read the row (a reference that lxml would refuse, or text where it
        changes a cell's shape)."""
        groups: Groups = match.groups()
        text = match.string
        start, end = match.span()
        if not text.isascii() and _WIDE_FORBIDDEN.search(text, start, end):
            return None  # isascii() is a flag of the string: no scan
        if text.find("&", start, end) >= 0:
            decoded = list(groups)
            for index in self._texts:
                value = decoded[index]
                if value and "&" in value:
                    value = decode(value)
                    if value is None:
                        return None
                    decoded[index] = value
            groups = decoded
        if text.find("]]>", start, end) >= 0:
            return None  # lxml refuses it in text; in an attribute it is rare enough
        for index in self._gaps:
            value = groups[index]
            if value:
                if "&" in value:
                    value = decode(value)
                    if value is None:
                        return None
                if not value.isspace():
                    return None
        return [cell(groups) for cell in self._cells]


class _Node:
    """An element of the row being learnt; text and tails are hole numbers."""

    __slots__ = ("attributes", "children", "tag", "tail", "text")

    def __init__(self, tag: str) -> None:
        self.tag = tag
        #: Attribute name -> (hole number, None) or (None, literal value).
        self.attributes: dict[str, tuple[int | None, str | None]] = {}
        self.children: list[_Node] = []
        self.text: int | None = None
        self.tail: int | None = None


class _NotLearnable(Exception):  # noqa: N818  # a signal, not an error
    """The row holds something a template does not read."""


def learn(text: str, start: int, end: int) -> Template | None:
    """The template of the row ``text[start:end]`` (whitespace, then one ``<tr>``
    element), or ``None`` when it is not markup a template reads."""
    gaps: list[int] = []
    try:
        pieces, row, texts = _skeleton(text, start, end)
        recipes = tuple(_cell_recipe(cell, gaps) for cell in row.children)
    except _NotLearnable:
        return None
    pattern = re.compile("".join(pieces))
    match = pattern.match(text, start, end)
    if match is None or match.end() != end:
        return None  # a value the holes do not take (an ``&`` in an id): lxml reads it
    # The holes are numbered from 1, like the groups; the template indexes groups().
    # Gaps are only checked for blankness, so they skip the decoding of the others.
    read = tuple(n - 1 for n in texts if n not in gaps)
    return Template(pattern, recipes, read, tuple(n - 1 for n in gaps))


def _skeleton(text: str, start: int, end: int) -> tuple[list[str], _Node, list[int]]:
    """The expression's pieces, the row's element tree and the numbers of its text
    holes; raises :class:`_NotLearnable` for markup a template does not read."""
    pieces = [f"{_W}*+"]
    texts: list[int] = []
    holes = 0
    stack: list[_Node] = []
    row: _Node | None = None
    closed: _Node | None = None  # the element whose tail the next text is
    position = start
    while position < end and text[position] in " \t\n\r":
        position += 1
    while position < end:
        if text[position] != "<":
            if not stack:
                raise _NotLearnable  # text after the row
            stop = text.find("<", position, end)
            position = end if stop < 0 else stop
            pieces.append(_TEXT_HOLE)
            holes += 1
            texts.append(holes)
            if closed is None:
                stack[-1].text = holes
            else:
                closed.tail = holes
            continue
        tag = _TAG.match(text, position, end)
        if tag is None:
            raise _NotLearnable  # a comment, CDATA section, processing instruction...
        closing, name, attributes, rest = tag.groups()
        if name not in _ELEMENTS:
            raise _NotLearnable
        position = tag.end()
        if closing:
            if attributes or rest != ">" or not stack or stack[-1].tag != name:
                raise _NotLearnable
            closed = stack.pop()
            pieces.append(re.escape(tag.group()))
            continue
        node = _Node(name)
        if stack:
            stack[-1].children.append(node)
        elif row is None and name == "tr":
            row = node
        else:
            raise _NotLearnable
        pieces.append(re.escape(f"<{name}"))
        for attribute in _ATTRIBUTE.finditer(attributes):
            lead, key, double, single = attribute.groups()
            quote, value = ('"', double) if double is not None else ("'", single)
            if key == "xmlns" or key in node.attributes:
                raise _NotLearnable
            pieces.append(re.escape(lead))
            if key in _MEANINGFUL:
                if "&" in value or any(char in value for char in "\t\n\r"):
                    raise _NotLearnable  # lxml would decode or normalise it
                node.attributes[key] = (None, value)
                pieces.append(re.escape(f"{quote}{value}{quote}"))
            else:
                holes += 1
                node.attributes[key] = (holes, None)
                pieces.append(_VALUE_HOLE[quote])
        pieces.append(re.escape(rest))
        if rest.endswith("/>"):
            closed = node
        else:
            stack.append(node)
            closed = None
    if stack or row is None or closed is not row or not row.children:
        raise _NotLearnable
    return pieces, row, texts


def _cell_recipe(cell: _Node, gaps: list[int]) -> _Recipe:
    """How to read ``cell`` from the holes, as ``simple_cell`` reads it from the tree;
    adds to ``gaps`` the holes whose text must be blank for it."""
    if cell.tag not in _CELLS:
        raise _NotLearnable  # a row of something else than cells: not a plain table
    for name in ("colspan", "rowspan"):
        span = cell.attributes.get(name)
        if span is not None and (span[1] or "").strip() != "1":
            raise _NotLearnable  # a merged cell: the table is read on a grid
    children = cell.children
    if not children:
        return _lines((cell.text,))
    _gap(cell.text, gaps)
    if len(children) > 1:
        for child in children:
            if child.tag != "p" or child.children:
                raise _NotLearnable
            _gap(child.tail, gaps)
        return _lines(tuple(child.text for child in children))
    child = children[0]
    _gap(child.tail, gaps)
    if child.tag == "p":
        if not child.children:
            return _lines((child.text,))
        if len(child.children) > 1:
            raise _NotLearnable
        _gap(child.text, gaps)
        child = child.children[0]
        _gap(child.tail, gaps)
    return _lone(child)


def _gap(hole: int | None, gaps: list[int]) -> None:
    if hole is not None:
        gaps.append(hole)


def _lines(holes: tuple[int | None, ...]) -> _Recipe:
    """The lines of paragraphs of text (or of a cell's bare text)."""
    numbers = tuple(hole for hole in holes if hole is not None)
    if not numbers:
        return _no_lines
    if len(numbers) == 1:
        at = numbers[0] - 1

        def one_line(groups: Groups) -> Shape:  # lines_of, inlined: the usual cell
            text = groups[at]
            if not text:
                return ()
            line = " ".join(text.split()) if text.isascii() else collapse(text)
            return (line,) if line else ()

        return one_line

    def paragraphs(groups: Groups) -> Shape:
        found: list[str] = []
        for hole in numbers:
            found.extend(lines_of(groups[hole - 1]))
        return tuple(found)

    return paragraphs


def _no_lines(groups: Groups) -> Shape:
    return ()


def _lone(element: _Node) -> _Recipe:
    """The one element a cell holds, alone."""
    tag = element.tag
    if tag == "br":
        if element.children or element.text is not None:
            raise _NotLearnable
        return _no_lines
    if tag == "ac:link":
        if len(element.children) != 1 or element.text is not None:
            raise _NotLearnable
        user = element.children[0]
        if user.tag != "ri:user" or user.children or user.text or user.tail:
            raise _NotLearnable
        return _mention(
            tuple(user.attributes.get(name, (None, None))[0] for name in _PERSON_ATTRIBUTES)
        )
    if tag == "time":
        if element.children or element.text is not None:
            raise _NotLearnable
        return _stamp(element.attributes.get("datetime", (None, None))[0])
    if tag == "ac:structured-macro":
        params: list[tuple[str, int | None]] = []
        for child in element.children:
            if child.tag != "ac:parameter" or child.children:
                raise _NotLearnable
            name = child.attributes.get("ac:name", (None, None))[1]
            if name is not None:
                params.append((name.strip(), child.text))
        return _macro(element.attributes.get("ac:name", (None, None))[1], tuple(params))
    raise _NotLearnable


def _mention(holes: tuple[int | None, ...]) -> _Recipe:
    account_at, key_at, name_at = holes

    def mention(groups: Groups) -> Shape:
        ids = [
            None if at is None else (groups[at - 1] or "").strip() or None
            for at in (account_at, key_at, name_at)
        ]
        if not any(ids):
            return Mention(None)
        return Mention(Person(ids[0], ids[1], ids[2], None))

    return mention


def _stamp(hole: int | None) -> _Recipe:
    def stamp(groups: Groups) -> Shape:
        return Stamp(None if hole is None else groups[hole - 1])

    return stamp


def _macro(name: str | None, params: tuple[tuple[str, int | None], ...]) -> _Recipe:
    def macro(groups: Groups) -> Shape:
        found: dict[str, str] = {}
        for key, hole in params:
            if key not in found:
                found[key] = (groups[hole - 1] or "") if hole is not None else ""
        return Macro(name, found)

    return macro
