"""Turning storage-format text into an lxml tree, however broken the text is.

Storage format is an XHTML fragment: it has no single root, uses the ``ac:`` and ``ri:``
prefixes without declaring them, and uses HTML entities (``&nbsp;``, ``&rsquo;``) that
XML does not define. So the fast path wraps the fragment in a root element that declares
the prefixes, behind an internal DTD subset that defines the XHTML entities (generated
from :mod:`html.entities`, never loaded from a file or the network), and hands the bytes
to lxml.

Real pages are not always well-formed. When lxml refuses the text, a cheap repair pass
fixes what breaks most pages (a stray ``&``, an HTML5-only entity, ``<br>`` without its
slash, an undeclared prefix, control characters) and lxml gets a second try. When that
fails too, BeautifulSoup's lenient ``html.parser`` reads the text and its tree is copied
into lxml elements, so that the rest of the parser runs on one kind of tree.

Safety: entities are resolved only from our own internal subset (``resolve_entities=
"internal"``), the parser never touches the network, ``huge_tree`` stays off, and the page
text cannot declare entities of its own because it sits inside the root element.
Nothing here recurses, so deeply nested markup cannot exhaust the stack.
"""

from __future__ import annotations

import functools
import html.entities
import re
from collections.abc import Mapping
from typing import NamedTuple

from lxml import etree

__all__ = ["AC", "AT", "RI", "Document", "UnreadableMarkupError", "read_storage"]

#: The namespace behind the ``ac:`` prefix (Confluence content elements: macros, tasks).
AC = "http://www.atlassian.com/schema/confluence/4/ac/"
#: The namespace behind the ``ri:`` prefix (resource identifiers: users, pages, URLs).
RI = "http://www.atlassian.com/schema/confluence/4/ri/"
#: The namespace behind the ``at:`` prefix (template variables of blueprint templates).
AT = "http://www.atlassian.com/schema/confluence/4/at/"

_ROOT = "pmsync-storage"
_KNOWN_PREFIXES = {"ac": AC, "ri": RI, "at": AT}
_UNKNOWN_PREFIX_NS = "urn:x-pmsync:undeclared-prefix:"

_XML_NAME = re.compile(r"[A-Za-z_][\w.\-]*\Z")
_INVALID_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_DECLARATIONS = re.compile(r"<\?xml[^>]*>|<!DOCTYPE[^>\[]*(?:\[[^\]]*\])?\s*>", re.IGNORECASE)
_AMPERSAND = re.compile(r"&(#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};?)?")
_VOID_START = re.compile(
    r"<(area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)"
    r"((?:\s+[^<>]*?)?)\s*(/?)>",
    re.IGNORECASE,
)
_VOID_END = re.compile(
    r"</(?:area|base|br|col|embed|hr|img|input|link|meta|param|source|track|wbr)\s*>",
    re.IGNORECASE,
)
_ELEMENT_PREFIX = re.compile(r"</?([A-Za-z_][\w.\-]*):[A-Za-z_]")
_ATTRIBUTE_PREFIX = re.compile(r"\s([A-Za-z_][\w.\-]*):[A-Za-z_][\w.\-]*\s*=")
# A start tag whose name begins with an uppercase letter: a cheap test (one regex scan,
# under a millisecond on a big page) for pages that need their names lowercased.
_UPPERCASE_TAG = re.compile(r"<[A-Z]")
_XML_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})


class Document(NamedTuple):
    """A page's markup as an lxml tree.

    ``root`` is a wrapper element holding the page's top-level nodes. ``problem`` is
    ``None`` when the text was well-formed, else a short description of the first
    thing that was wrong with it (the tree then holds what could be recovered).
    """

    root: etree._Element
    problem: str | None


class UnreadableMarkupError(Exception):
    """Even the lenient reader could make nothing of the text."""


def read_storage(text: str) -> Document:
    """Parse storage-format ``text`` into a :class:`Document`.

    Raises:
        UnreadableMarkupError: no reader could make a tree of the text.
    """
    try:
        return Document(_lowercased(_parse_strict(text), text), None)
    except (etree.XMLSyntaxError, UnicodeEncodeError, ValueError) as exc:
        problem = _describe(exc)
    repaired, prefixes = _repair(text)
    try:
        return Document(_lowercased(_parse_strict(repaired, prefixes), repaired), problem)
    except (etree.XMLSyntaxError, UnicodeEncodeError, ValueError):
        pass
    return Document(_parse_lenient(repaired), problem)


def _lowercased(root: etree._Element, text: str) -> etree._Element:
    """HTML names are case-insensitive: ``<TD COLSPAN="2">`` is ``<td colspan="2">``, as
    the lenient reader and the write-back scanner read it. Unprefixed element and
    attribute names are lowercased in place. Confluence itself writes lowercase, so the
    walk runs only when some tag name starts with an uppercase letter."""
    if _UPPERCASE_TAG.search(text) is None:
        return root
    for element in root.iter(etree.Element):
        tag = element.tag
        if isinstance(tag, str) and tag[0] != "{" and not tag.islower():
            element.tag = tag.lower()
        for name in element.attrib.keys():  # noqa: SIM118  # a copy: the loop changes attrib
            if name[0] != "{" and not name.islower():
                value = element.attrib.pop(name)
                element.set(name.lower(), value)
    return root


# --- the fast path -----------------------------------------------------------------------


@functools.cache
def _doctype() -> str:
    """An internal DTD subset defining every XHTML 1.0 entity (lat1, symbol, special)."""
    entities = "".join(
        f'<!ENTITY {name} "&#{codepoint};">'
        for name, codepoint in sorted(html.entities.name2codepoint.items())
        if name not in _XML_PREDEFINED
    )
    return f"<!DOCTYPE {_ROOT} [{entities}]>"


def _root_start(extra_prefixes: tuple[str, ...] = ()) -> str:
    declared = {**_KNOWN_PREFIXES, **{p: _UNKNOWN_PREFIX_NS + p for p in extra_prefixes}}
    namespaces = "".join(f' xmlns:{prefix}="{uri}"' for prefix, uri in declared.items())
    return f"{_doctype()}<{_ROOT}{namespaces}>"


_ROOT_START = _root_start()
_ROOT_END = f"</{_ROOT}>".encode()


def _parse_strict(text: str, extra_prefixes: tuple[str, ...] = ()) -> etree._Element:
    # A parser per call keeps parse_page thread-safe. Feeding the wrapper and the page
    # separately spares a copy of the page (a third quicker than one joined string).
    parser = etree.XMLParser(
        resolve_entities="internal",  # type: ignore[arg-type]  # lxml >= 5; stubs lag
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        strip_cdata=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    start = _root_start(extra_prefixes) if extra_prefixes else _ROOT_START
    parser.feed(start.encode())
    parser.feed(text.encode("utf-8"))
    parser.feed(_ROOT_END)
    root: etree._Element = parser.close()
    return root


def _describe(exc: Exception) -> str:
    if isinstance(exc, etree.XMLSyntaxError):
        message = re.sub(r",? line \d+, column \d+$", "", str(exc.msg or exc)).strip()
        return f"{message} (line {exc.lineno})" if exc.lineno else message
    if isinstance(exc, UnicodeEncodeError):
        return "the text holds characters that are not valid Unicode"
    return str(exc)


# --- the repair pass ---------------------------------------------------------------------


def _repair(text: str) -> tuple[str, tuple[str, ...]]:
    """Fix the usual reasons a page is not well-formed; returns the text and the
    undeclared namespace prefixes it uses."""
    text = _INVALID_XML_CHARS.sub("", text)
    text = _DECLARATIONS.sub("", text)
    text = _AMPERSAND.sub(_fix_entity, text)
    text = _VOID_START.sub(r"<\1\2/>", text)
    text = _VOID_END.sub("", text)
    prefixes = set(_ELEMENT_PREFIX.findall(text))
    prefixes.update(_ATTRIBUTE_PREFIX.findall(text))
    prefixes -= {"xml", "xmlns", *_KNOWN_PREFIXES}
    return text, tuple(sorted(p for p in prefixes if _XML_NAME.match(p)))


def _fix_entity(match: re.Match[str]) -> str:
    reference = match.group(1)
    if reference is None:
        return "&amp;"
    if reference.startswith("#"):
        hexadecimal = reference[1] in "xX"
        try:
            codepoint = int(
                reference[2:-1] if hexadecimal else reference[1:-1], 16 if hexadecimal else 10
            )
            char = chr(codepoint)
        except (ValueError, OverflowError):
            return ""
        return "" if _INVALID_XML_CHARS.match(char) else match.group(0)
    name = reference.rstrip(";")
    if reference.endswith(";") and (
        name in _XML_PREDEFINED or name in html.entities.name2codepoint
    ):
        return match.group(0)
    replacement = html.entities.html5.get(reference) or html.entities.html5.get(name + ";")
    if replacement is not None:
        return replacement.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "&amp;" + reference


# --- the lenient path --------------------------------------------------------------------


def _parse_lenient(text: str) -> etree._Element:
    """Read ``text`` with BeautifulSoup's ``html.parser`` and copy the tree into lxml."""
    from bs4 import BeautifulSoup, Comment, Declaration, Doctype, ProcessingInstruction, Tag  # noqa: PLC0415

    try:
        soup = BeautifulSoup(text, "html.parser")
    except Exception as exc:  # bs4 and html.parser raise assorted errors on odd input
        raise UnreadableMarkupError(str(exc) or type(exc).__name__) from exc
    skipped = (Comment, Declaration, Doctype, ProcessingInstruction)
    root = etree.Element(_ROOT, nsmap=dict(_KNOWN_PREFIXES))
    stack = [(iter(soup.contents), root)]
    while stack:
        children, parent = stack[-1]
        node = next(children, None)
        if node is None:
            stack.pop()
            continue
        if isinstance(node, Tag):
            element = _copy_element(_implied_parent(parent, node.name), node.name, node.attrs)
            stack.append((iter(node.contents), element))
        elif not isinstance(node, skipped):
            _append_text(parent, _INVALID_XML_CHARS.sub("", str(node)))
    return root


# HTML closes some elements implicitly (a new cell ends the open cell); html.parser does
# not, so ``<td>a<td>b`` would nest the second cell in the first. Re-parent such elements
# to where an HTML browser would put them: tag -> (open elements it closes, where to stop).
_IMPLIED_ENDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "td": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "th": (frozenset({"td", "th"}), frozenset({"tr", "table"})),
    "tr": (frozenset({"tr", "td", "th"}), frozenset({"tbody", "thead", "tfoot", "table"})),
    "tbody": (frozenset({"tbody", "thead", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "thead": (frozenset({"tbody", "thead", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "tfoot": (frozenset({"tbody", "thead", "tfoot", "tr", "td", "th"}), frozenset({"table"})),
    "li": (frozenset({"li"}), frozenset({"ul", "ol"})),
    "p": (frozenset({"p"}), frozenset({"td", "th", "li", "div", "table"})),
}


def _implied_parent(parent: etree._Element, name: str) -> etree._Element:
    rule = _IMPLIED_ENDS.get(name)
    if rule is None:
        return parent
    closes, stops = rule
    candidate: etree._Element | None = parent
    target = parent
    while candidate is not None and candidate.tag not in stops:
        above = candidate.getparent()
        if candidate.tag in closes and above is not None:
            target = above
        candidate = above
    return target


def _qualified(name: str) -> str | None:
    prefix, colon, local = name.partition(":")
    if not colon:
        return name if _XML_NAME.match(name) else None
    if not (_XML_NAME.match(prefix) and _XML_NAME.match(local)):
        return None
    if prefix == "xmlns":
        return None
    namespace = _KNOWN_PREFIXES.get(prefix, _UNKNOWN_PREFIX_NS + prefix)
    return f"{{{namespace}}}{local}"


def _copy_element(
    parent: etree._Element, name: str, attributes: Mapping[str, object]
) -> etree._Element:
    tag = _qualified(name) or "span"
    element = etree.SubElement(parent, tag)
    for key, value in attributes.items():
        attribute = _qualified(key) if key != "xmlns" else None
        if attribute is None:
            continue
        text = " ".join(value) if isinstance(value, list) else str(value)
        element.set(attribute, _INVALID_XML_CHARS.sub("", text))
    return element


def _append_text(parent: etree._Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        last = parent[-1]
        last.tail = (last.tail or "") + text
    else:
        parent.text = (parent.text or "") + text
