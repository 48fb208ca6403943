"""What one table cell or task body holds: its text lines, and the things in it that are
not text (mentions, dates, Jira macros, status lozenges, links, checkboxes).

One walk over the element collects everything, so each field reader (summary, owner,
due...) picks what it needs without walking the markup again. Macro parameters,
placeholders, editor ids and ADF attributes never reach the text. Pure; iterative, so a
deeply nested cell cannot exhaust the stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple, cast

from lxml import etree

from pmsync._model import Person
from pmsync._storage._xhtml import AC, AT, RI

__all__ = [
    "EMPTY",
    "Content",
    "Link",
    "Lozenge",
    "all_text",
    "read_content",
    "read_value",
    "text_of",
]

_AC_NAME = f"{{{AC}}}name"
_AC_PARAMETER = f"{{{AC}}}parameter"
_AC_LINK = f"{{{AC}}}link"
_AC_MACRO = f"{{{AC}}}structured-macro"
_AC_TASK_LIST = f"{{{AC}}}task-list"
_AC_TASK_STATUS = f"{{{AC}}}task-status"
_AC_EMOTICON = f"{{{AC}}}emoticon"
_AC_ADF_NODE = f"{{{AC}}}adf-node"
_LINK_BODIES = frozenset({f"{{{AC}}}link-body", f"{{{AC}}}plain-text-link-body"})
_RI_PREFIX = f"{{{RI}}}"
# Template variables (``<at:var at:name="..."/>``) and their declarations: a blueprint
# template's placeholders, which show nothing until the template is used.
_AT_PREFIX = f"{{{AT}}}"
_RI_USER = f"{{{RI}}}user"
_RI_URL = f"{{{RI}}}url"
_RI_VALUE = f"{{{RI}}}value"
_RI_ACCOUNT_ID = f"{{{RI}}}account-id"
_RI_USERKEY = f"{{{RI}}}userkey"
_RI_USERNAME = f"{{{RI}}}username"
_RI_TITLE_ATTRIBUTES = (
    f"{{{RI}}}content-title",
    f"{{{RI}}}filename",
    f"{{{RI}}}value",
    f"{{{RI}}}space-key",
)

# Elements whose content is never visible text.
_SILENT = frozenset(
    {
        _AC_PARAMETER,
        f"{{{AC}}}placeholder",
        f"{{{AC}}}task-id",
        f"{{{AC}}}task-uuid",
        f"{{{AC}}}image",
        f"{{{AC}}}adf-attribute",
        _AC_ADF_NODE,
        "script",
        "style",
    }
)
# Elements that start and end a line of text.
_BLOCKS = frozenset(
    {
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "pre",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "hr",
        "section",
        "article",
        "header",
        "footer",
        "figure",
        "figcaption",
        "details",
        "summary",
        "address",
        "aside",
        "main",
        "nav",
        _AC_MACRO,
        f"{{{AC}}}rich-text-body",
        f"{{{AC}}}plain-text-body",
        _AC_TASK_LIST,
        f"{{{AC}}}task",
        f"{{{AC}}}task-body",
        f"{{{AC}}}layout",
        f"{{{AC}}}layout-section",
        f"{{{AC}}}layout-cell",
        f"{{{AC}}}adf-extension",
        f"{{{AC}}}adf-fallback",
    }
)
_STRUCK = frozenset({"s", "del", "strike"})
# Characters that take no space on screen but would split or glue words.
_INVISIBLE_CHARS = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


class Lozenge(NamedTuple):
    """A status lozenge macro: its title and colour parameters."""

    title: str
    colour: str | None


class Link(NamedTuple):
    """An ordinary link: its target and the text it shows (whitespace collapsed)."""

    href: str
    text: str


class Content(NamedTuple):
    """Everything read from one cell or task body.

    ``lines`` are the visible lines of text (paragraphs, list items, ``<br>``-separated
    lines), whitespace collapsed, never empty; list items start with ``- ``.
    ``mentions`` and ``emails`` are the people named by ``ri:user`` mentions and
    ``mailto:`` links, ``times`` the ``datetime`` of each ``<time>``, ``jira_keys`` the
    ``key`` parameter of each single-issue ``jira`` macro, ``lozenges`` the status
    lozenges, ``links`` the ordinary links (``<a href>`` and ``ri:url`` targets), ``checkboxes`` the
    ``ac:task-status`` of tasks inside, ``emoticons`` the names of emoticons, and
    ``struck`` whether any of it is struck through.
    """

    lines: tuple[str, ...] = ()
    mentions: tuple[Person, ...] = ()
    emails: tuple[Person, ...] = ()
    times: tuple[str, ...] = ()
    jira_keys: tuple[str, ...] = ()
    lozenges: tuple[Lozenge, ...] = ()
    links: tuple[Link, ...] = ()
    checkboxes: tuple[str, ...] = ()
    emoticons: tuple[str, ...] = ()
    struck: bool = False

    @property
    def text(self) -> str:
        """All lines joined with spaces."""
        return " ".join(self.lines)

    @property
    def hrefs(self) -> tuple[str, ...]:
        """The targets of the ordinary links."""
        return tuple(link.href for link in self.links)

    @property
    def is_empty(self) -> bool:
        """Whether the cell shows nothing at all: no text, no mention, no macro."""
        return not any(self[:_VALUES])


_VALUES = 9  # the fields before ``struck``
_REST = ((),) * (_VALUES - 1) + (False,)


EMPTY = Content()


def all_text(element: etree._Element) -> str:
    """Every piece of text inside ``element``, joined as it is (parameters included)."""
    return "".join(cast("Iterator[str]", element.itertext()))


def text_of(element: etree._Element) -> str:
    """The visible text of ``element`` on one line (for headings and header cells)."""
    return read_content(element).text


def _collapse(text: str) -> str:
    if not text.isascii() and _INVISIBLE_CHARS.search(text):
        text = _INVISIBLE_CHARS.sub("", text)
    return " ".join(text.split())


def read_content(
    element: etree._Element,
    *,
    keep_time_text: bool = True,
    skip_struck: bool = False,
    skip_task_lists: bool = False,
    shortcuts: bool = True,
) -> Content:
    """Walk ``element`` once and collect its :class:`Content`.

    ``keep_time_text`` keeps a ``<time>`` as text (its text, else its date) rather than
    only recording it; ``skip_struck`` ignores struck-through text (an old owner or date
    someone crossed out); ``skip_task_lists`` leaves nested task lists out (a task's
    sub-tasks are items of their own). ``shortcuts=False`` turns off the fast paths
    for the usual cell shapes (tests use it to check that both give the same result).
    """
    if shortcuts:
        found = _shortcut(element, keep_time_text)
        if found is not None:
            return found
    walker = _Walker(keep_time_text, skip_struck, skip_task_lists)
    walker.walk(element)
    return walker.content()


def read_value(element: etree._Element) -> Content:
    """A table cell read for a value: as :func:`read_content`, with struck-through text
    (a crossed-out old value) left out. The fast paths come first: a cell they read
    holds no struck text."""
    found = _shortcut(element, True)
    if found is not None:
        return found
    walker = _Walker(True, False, False)
    walker.walk(element)
    content = walker.content()
    if not content.struck:
        return content
    walker = _Walker(True, True, False)
    walker.walk(element)
    return walker.content()


def _blank(text: str | None) -> bool:
    return not text or text.isspace()


def _shortcut(element: etree._Element, keep_time_text: bool) -> Content | None:
    """Read the usual cell shapes without a full walk, or return ``None``.

    ``<td>text</td>``, ``<td><p>text</p></td>`` and a single mention, date or macro in a
    paragraph (``<td><p><ac:structured-macro .../></p></td>``) make up most cells. This
    runs for every cell of every action table, so the tests it makes are written out
    inline (``not text or text.isspace()`` is :func:`_blank`, ``_new(Content, ...)``
    builds the tuple without the keyword-argument constructor).
    """
    node = element
    size = len(node)
    while size == 1:
        text = node.text
        if text and not text.isspace():
            return None
        child = node[0]
        if child.tag not in _WRAPPERS:
            break
        text = child.tail
        if text and not text.isspace():
            return None
        node = child
        size = len(node)
    else:
        if size == 0:
            text = node.text
            if not text:
                return EMPTY
            line = " ".join(text.split()) if text.isascii() else _collapse(text)
            return _new(Content, ((line,), *_REST)) if line else EMPTY
        text = node.text
        if text and not text.isspace():
            return None
        return _paragraphs(node)
    # ``node`` holds one element, ``child``, that is not a wrapper.
    text = child.tail
    if text and not text.isspace():
        return None
    tag = child.tag
    if tag == _AC_MACRO:
        name = child.get(_AC_NAME)
        if name not in _VALUE_MACROS:
            name = (name or "").strip().casefold()
            if name not in _VALUE_MACROS:
                return None
        if name == "jira":
            key = _parameters(child, _KEY).get("key")
            return _new(Content, ((), (), (), (), (key,), *_AFTER_KEYS)) if key else EMPTY
        parameters = _parameters(child, _TITLE_COLOUR)
        title = parameters.get("title")
        if title is None:
            return EMPTY
        lozenge = _new(Lozenge, (title, parameters.get("colour")))
        return _new(Content, ((), (), (), (), (), (lozenge,), *_AFTER_LOZENGES))
    if tag == _AC_LINK:
        if len(child) == 1:
            target = child[0]
            if target.tag == _RI_USER:
                person = _person(target, None)
                if person is None:
                    return EMPTY
                return _new(Content, ((), (person,), *_AFTER_MENTIONS))
        return None
    if tag == "br":
        return EMPTY  # <p><br /></p>: how Confluence writes an empty cell
    if tag == "time" and not child.text and len(child) == 0:
        stamp = (child.get("datetime") or "").strip()
        if not stamp:
            return EMPTY
        lines = (stamp,) if keep_time_text else ()
        return _new(Content, (lines, (), (), (stamp,), *_AFTER_TIMES))
    return None


_new = tuple.__new__
# The default values of the Content fields after a given field, for building a Content
# with _new in one step.
_AFTER_MENTIONS = ((),) * 7 + (False,)
_AFTER_TIMES = ((),) * 5 + (False,)
_AFTER_KEYS = ((),) * 4 + (False,)
_AFTER_LOZENGES = ((),) * 3 + (False,)


def _paragraphs(node: etree._Element) -> Content | None:
    """Paragraphs of plain text (``<p>a</p><p>b</p>``): one line each, else ``None``."""
    lines = _paragraph_lines(node)
    if lines is None:
        return None
    return _new(Content, (lines, *_REST)) if lines else EMPTY


# Macros that stand for a value (a Jira issue, a status) rather than hold content.
_VALUE_MACROS = frozenset({"jira", "status"})

# Elements that, alone in a cell with nothing around them, add nothing of their own.
_WRAPPERS = frozenset(
    {
        "p",
        "div",
        "span",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "code",
        "small",
        "big",
        "sub",
        "sup",
        f"{{{AC}}}inline-comment-marker",
    }
)


class _Walker:
    __slots__ = (
        "bullet",
        "checkboxes",
        "emails",
        "emoticons",
        "jira_keys",
        "keep_time_text",
        "lines",
        "links",
        "lozenges",
        "mentions",
        "parts",
        "skip_struck",
        "skip_tasks",
        "struck",
        "times",
    )

    def __init__(self, keep_time_text: bool, skip_struck: bool, skip_tasks: bool) -> None:
        self.keep_time_text = keep_time_text
        self.skip_struck = skip_struck
        self.skip_tasks = skip_tasks
        self.parts: list[str] = []
        self.bullet = False
        self.lines: list[str] = []
        self.mentions: list[Person] = []
        self.emails: list[Person] = []
        self.times: list[str] = []
        self.jira_keys: list[str] = []
        self.lozenges: list[Lozenge] = []
        self.links: list[Link] = []
        self.checkboxes: list[str] = []
        self.emoticons: list[str] = []
        self.struck = False

    def content(self) -> Content:
        return Content(
            tuple(self.lines),
            mentions=tuple(self.mentions),
            emails=tuple(self.emails),
            times=tuple(self.times),
            jira_keys=tuple(self.jira_keys),
            lozenges=tuple(self.lozenges),
            links=tuple(self.links),
            checkboxes=tuple(self.checkboxes),
            emoticons=tuple(self.emoticons),
            struck=self.struck,
        )

    def flush(self) -> None:
        if self.parts:
            line = _collapse("".join(self.parts))
            self.parts.clear()
            if line:
                self.lines.append(f"- {line}" if self.bullet else line)
                self.bullet = False

    def walk(self, top: etree._Element) -> None:
        parts = self.parts
        walker = etree.iterwalk(top, events=("start", "end"))
        for event, element in walker:
            tag = element.tag
            if event == "end":
                if tag in _BLOCKS:
                    self.flush()
                if element is not top and element.tail:
                    parts.append(element.tail)
                continue
            if not isinstance(tag, str):
                walker.skip_subtree()
                continue
            if tag in _BLOCKS:
                self.flush()
                if tag == "li":
                    self.bullet = True
                if tag == _AC_MACRO:
                    if self.macro(element):
                        walker.skip_subtree()
                    continue
                if tag == _AC_TASK_LIST and self.skip_tasks:
                    walker.skip_subtree()
                    continue
            elif tag == "br":
                self.flush()
                continue
            elif tag in _SILENT or tag.startswith(_AT_PREFIX):
                walker.skip_subtree()
                continue
            elif tag == _AC_LINK:
                self.link(element)
                walker.skip_subtree()
                continue
            elif tag == _RI_USER:
                person = _person(element, None)
                if person is not None:
                    self.mentions.append(person)
                continue
            elif tag == "time":
                self.time(element)
                walker.skip_subtree()
                continue
            elif tag == "a":
                self.anchor(element)
            elif tag == _AC_TASK_STATUS:
                self.checkboxes.append(_collapse(element.text or "").casefold())
                walker.skip_subtree()
                continue
            elif tag == _AC_EMOTICON:
                name = element.get(_AC_NAME)
                if name:
                    self.emoticons.append(name)
                continue
            elif tag in _STRUCK:
                self.struck = True
                if self.skip_struck:
                    walker.skip_subtree()
                    continue
            elif tag.startswith(_RI_PREFIX):
                walker.skip_subtree()
                continue
            if element.text:
                parts.append(element.text)
        self.flush()

    def macro(self, element: etree._Element) -> bool:
        """Record a macro; returns whether to skip its content."""
        name = (element.get(_AC_NAME) or "").strip().casefold()
        if name == "jira":
            key = _parameter(element, "key")
            if key:
                self.jira_keys.append(key)
            return True
        if name == "status":
            title = _parameter(element, "title")
            if title is not None:
                self.lozenges.append(Lozenge(title, _parameter(element, "colour")))
            return True
        if element.text:
            self.parts.append(element.text)
        return False

    def link(self, element: etree._Element) -> None:
        """An ``ac:link``: a mention, or a link to a page, attachment or URL."""
        body = None
        target = None
        for child in element:
            tag = child.tag
            if tag in _LINK_BODIES:
                body = _collapse(all_text(child))
            elif isinstance(tag, str) and tag.startswith(_RI_PREFIX) and target is None:
                target = child
        if target is not None and target.tag == _RI_USER:
            person = _person(target, body or None)
            if person is not None:
                self.mentions.append(person)
            return
        if target is not None and target.tag == _RI_URL:
            href = (target.get(_RI_VALUE) or "").strip()
            if href:
                self.links.append(Link(href, body or href))
        if not body and target is not None:
            for attribute in _RI_TITLE_ATTRIBUTES:
                body = target.get(attribute)
                if body:
                    break
        if body:
            self.parts.append(body)

    def time(self, element: etree._Element) -> None:
        stamp = element.get("datetime")
        if stamp:
            self.times.append(stamp.strip())
        if self.keep_time_text:
            shown = _collapse(all_text(element)) or (stamp or "").strip()
            if shown:
                self.parts.append(shown)

    def anchor(self, element: etree._Element) -> None:
        href = (element.get("href") or "").strip()
        if not href:
            return
        if href[:7].casefold() == "mailto:":
            address = href[7:].split("?", 1)[0].strip()
            if address:
                shown = _collapse(all_text(element))
                self.emails.append(Person(email=address, text=shown or address))
            return
        self.links.append(Link(href, _collapse(all_text(element))))


_KEY = frozenset({"key"})
_TITLE_COLOUR = frozenset({"title", "colour"})


def _parameters(macro: etree._Element, wanted: frozenset[str]) -> dict[str, str]:
    """The ``wanted`` parameters of a macro by name (the first of each name wins)."""
    found: dict[str, str] = {}
    for child in macro[:]:  # type: ignore[index]  # one call for the list: quicker than iterating
        if child.tag == _AC_PARAMETER:
            name = child.get(_AC_NAME)
            if name not in wanted:
                name = (name or "").strip()
                if name not in wanted:
                    continue
            if name not in found:
                text = child.text if len(child) == 0 else all_text(child)
                found[name] = _collapse(text or "")
                if len(found) == len(wanted):
                    break
    return found


def _parameter(macro: etree._Element, name: str) -> str | None:
    for child in macro:
        if child.tag == _AC_PARAMETER and (child.get(_AC_NAME) or "").strip() == name:
            if len(child) == 0:
                return _collapse(child.text or "")
            return _collapse(all_text(child))
    return None


def _person(user: etree._Element, display_name: str | None) -> Person | None:
    account_id: str | None = None
    user_key: str | None = None
    username: str | None = None
    # One call for all attributes rather than three lookups; text in, text out.
    for name, value in cast("list[tuple[str, str]]", user.items()):
        if name == _RI_ACCOUNT_ID:
            account_id = value.strip() or None
        elif name == _RI_USERKEY:
            user_key = value.strip() or None
        elif name == _RI_USERNAME:
            username = value.strip() or None
    if not (account_id or user_key or username):
        return None
    return Person(account_id, user_key, username, display_name)  # positional: quicker


def _paragraph_lines(cell: etree._Element) -> tuple[str, ...] | None:
    """The lines of a cell whose children are all paragraphs of plain text, else ``None``."""
    lines: list[str] = []
    for child in cell:
        if child.tag != "p" or len(child):
            return None
        text = child.tail
        if text and not text.isspace():
            return None
        text = child.text
        if text:
            line = " ".join(text.split()) if text.isascii() else _collapse(text)
            if line:
                lines.append(line)
    return tuple(lines)
