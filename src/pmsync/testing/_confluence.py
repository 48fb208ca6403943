"""The emulated Confluence: spaces, pages with versions, labels and content properties.

The backend half of the moto-style split: state and rules (optimistic locking on page and
property versions, unique titles per space, well-formed storage, label syntax), plus the
REST shapes of content, versions, histories, labels and properties, which inspection
shares with the wire. ``_confluence_http`` parses requests and shapes errors.

Errors a client can cause raise :class:`ConfluenceError` with the status and message
Confluence answers with.
"""

from __future__ import annotations

import datetime as dt
import html.entities
import json
import re
import threading
import xml.parsers.expat
import zlib
from collections.abc import Iterable, Sequence
from typing import Any, Literal
from urllib.parse import quote

import attrs

from pmsync.testing._clock import confluence_time, now
from pmsync.testing._cql import CompiledCql, compile_cql
from pmsync.testing._querylang import ChangedSince
from pmsync.testing._users import Directory, User

__all__ = [
    "ConfluenceBackend",
    "ConfluenceError",
    "ContentProperty",
    "Page",
    "Space",
    "Version",
    "check_storage",
]

Flavour = Literal["cloud", "server"]

_REASONS = {
    400: "Bad Request",
    410: "Gone",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
}
_LABEL_FORBIDDEN = set(":;,?&[]()#^*@!")
_ENTITY = re.compile(r"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})


class ConfluenceError(Exception):
    """A request Confluence would refuse: the HTTP status and Confluence's message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON body Confluence sends with this error."""
        return {
            "statusCode": self.status,
            "data": {
                "authorized": self.status != 403,
                "valid": self.status != 400,
                "allowedInReadOnlyMode": True,
                "errors": [],
                "successful": False,
            },
            "message": self.message,
            "reason": _REASONS.get(self.status, "Error"),
        }


def check_storage(storage: str) -> str | None:
    """Why ``storage`` is not well-formed XHTML storage format, or ``None`` if it is."""

    def entity(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _XML_ENTITIES:
            return match.group(0)
        code = html.entities.name2codepoint.get(name)
        return f"&#{code};" if code is not None else match.group(0)

    parser = xml.parsers.expat.ParserCreate()
    try:
        parser.Parse(f"<ac:confluence>{_ENTITY.sub(entity, storage)}</ac:confluence>", True)
    except xml.parsers.expat.ExpatError as exc:
        column = max(exc.offset - len("<ac:confluence>"), 0) if exc.lineno == 1 else exc.offset
        return (
            f"{xml.parsers.expat.ErrorString(exc.code)} at [row,col]: [{exc.lineno},{column + 1}]"
        )
    return None


@attrs.frozen
class Space:
    """A Confluence space."""

    id: str
    key: str
    name: str


@attrs.frozen
class Version:
    """One saved version of a page: its number, text and who saved it when."""

    number: int
    when: dt.datetime
    by: User | None
    message: str
    minor_edit: bool
    title: str
    storage: str


@attrs.define
class ContentProperty:
    """A content property: a JSON value with its own version number."""

    id: str
    key: str
    value: Any
    version: int
    when: dt.datetime


@attrs.define
class Page:
    """A page (or blog post) with its whole version history."""

    id: str
    type: str
    space: Space
    parent_id: str | None
    versions: list[Version]
    labels: list[str] = attrs.Factory(list)
    properties: dict[str, ContentProperty] = attrs.Factory(dict)
    status: str = "current"

    @property
    def current(self) -> Version:
        """The latest version."""
        return self.versions[-1]

    @property
    def title(self) -> str:
        """The current title."""
        return self.current.title

    @property
    def storage(self) -> str:
        """The current body in storage format."""
        return self.current.storage

    @property
    def created(self) -> dt.datetime:
        """When the first version was saved."""
        return self.versions[0].when

    @property
    def last_modified(self) -> dt.datetime:
        """When the current version was saved."""
        return self.current.when


@attrs.frozen
class Links:
    """Where the Confluence REST API lives: ``base`` (with context) and ``context``."""

    base: str
    context: str


def _label_problem(name: str) -> str | None:
    if not name or any(c.isspace() for c in name):
        return f"Label '{name}' must not be empty or contain spaces."
    bad = sorted(set(name) & _LABEL_FORBIDDEN)
    if bad:
        return f"Label '{name}' contains invalid characters: {' '.join(bad)}"
    if len(name) > 255:
        return f"Label '{name}' is longer than 255 characters."
    return None


class ConfluenceBackend:
    """The state and rules of one emulated Confluence site. Thread-safe."""

    def __init__(self, lock: threading.RLock, directory: Directory, flavour: Flavour) -> None:
        self._lock = lock
        self.directory = directory
        self.flavour: Flavour = flavour
        #: ``"gone"``: v1 page reads and writes answer 410 on Cloud, as newer sites do.
        self.v1_pages: Literal["ok", "gone"] = "gone"
        self._spaces: dict[str, Space] = {}
        self._pages: dict[str, Page] = {}
        self._changed = ChangedSince()  # page ids by the time of their versions
        self._next_id = 100000
        self._next_space_id = 1000

    def reset(self) -> None:
        """Forget every space and page."""
        with self._lock:
            self._spaces.clear()
            self._pages.clear()
            self._changed.clear()
            self._next_id = 100000
            self._next_space_id = 1000

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    # -- spaces and pages ------------------------------------------------------------------

    def add_space(self, key: str, name: str | None = None) -> Space:
        """Create a space (or return the existing one with this key)."""
        if not re.fullmatch(r"~?[A-Za-z0-9]+", key):
            raise ValueError(f"space key {key!r} must be letters and digits")
        with self._lock:
            if key in self._spaces:
                return self._spaces[key]
            self._next_space_id += 1
            space = Space(str(self._next_space_id), key, name or key)
            self._spaces[key] = space
            return space

    def space(self, key: str) -> Space | None:
        """The space with this key."""
        with self._lock:
            return self._spaces.get(key)

    def space_by_id(self, space_id: str) -> Space | None:
        """The space with this id (how REST v2 names spaces)."""
        with self._lock:
            return next((s for s in self._spaces.values() if s.id == str(space_id)), None)

    def page(self, page_id: str) -> Page:
        """The page with this id; raise a 404 ConfluenceError if there is none."""
        with self._lock:
            page = self._pages.get(str(page_id))
            if page is None or page.status != "current":
                raise ConfluenceError(404, f"No content found with id: ContentId{{id={page_id}}}")
            return page

    def pages(self) -> list[Page]:
        """Every current page and blog post, in creation order."""
        with self._lock:
            return [p for p in self._pages.values() if p.status == "current"]

    def create(
        self,
        *,
        space_key: str,
        title: str,
        storage: str,
        content_type: str = "page",
        parent_id: str | None = None,
        labels: Iterable[str] = (),
        author: User | None = None,
        message: str = "",
    ) -> Page:
        """Create a page; raise ConfluenceError for what Confluence refuses."""
        with self._lock:
            space = self._spaces.get(space_key)
            if space is None:
                raise ConfluenceError(404, f"No space with key : {space_key}")
            if content_type not in ("page", "blogpost"):
                raise ConfluenceError(400, f"Unsupported content type: {content_type}")
            self._check_title(space, title, None)
            problem = check_storage(storage)
            if problem:
                raise ConfluenceError(400, f"Error parsing xhtml: {problem}")
            if parent_id is not None:
                parent = self.page(parent_id)
                if parent.space.key != space.key:
                    raise ConfluenceError(400, "The parent page must be in the same space.")
            label_names = [name.lower() for name in labels]
            for name in label_names:
                label_error = _label_problem(name)
                if label_error:
                    raise ConfluenceError(400, label_error)
            version = Version(1, now(), author, message, False, title, storage)
            page = Page(
                id=self._new_id(),
                type=content_type,
                space=space,
                parent_id=parent_id,
                versions=[version],
                labels=list(dict.fromkeys(label_names)),
            )
            self._pages[page.id] = page
            self._changed.touch(page.id, version.when)
            return page

    def _check_title(self, space: Space, title: str, page_id: str | None) -> None:
        if not isinstance(title, str) or not title.strip():
            raise ConfluenceError(400, "Title must not be empty.")
        if len(title) > 255:
            raise ConfluenceError(400, "Title cannot be longer than 255 characters.")
        for other in self._pages.values():
            if (
                other.id != page_id
                and other.status == "current"
                and other.space.key == space.key
                and other.type == "page"
                and other.title.lower() == title.lower()
            ):
                raise ConfluenceError(
                    400,
                    "A page with this title already exists: A page already exists with the "
                    f"title {title} in the space with key {space.key}",
                )

    def save_version(
        self,
        page_id: str,
        *,
        number: int | None,
        title: str | None,
        storage: str | None,
        author: User | None,
        message: str = "",
        minor_edit: bool = False,
        parent_id: str | None = None,
    ) -> Page:
        """Save a new version; ``number`` (if given) must be the current version + 1."""
        with self._lock:
            page = self.page(page_id)
            current = page.current
            if number is not None and number != current.number + 1:
                raise ConfluenceError(
                    409,
                    f"Version must be incremented on update. Current version is: {current.number}",
                )
            new_title = current.title if title is None else title
            if new_title != current.title:
                self._check_title(page.space, new_title, page.id)
            new_storage = current.storage if storage is None else storage
            if storage is not None:
                problem = check_storage(storage)
                if problem:
                    raise ConfluenceError(400, f"Error parsing xhtml: {problem}")
            if parent_id is not None and parent_id != page.parent_id:
                if parent_id == page.id or page.id in self.ancestor_ids(self.page(parent_id)):
                    raise ConfluenceError(400, "A page cannot be moved below itself.")
                page.parent_id = parent_id
            page.versions.append(
                Version(
                    current.number + 1,
                    now(),
                    author,
                    message,
                    minor_edit,
                    new_title,
                    new_storage,
                )
            )
            self._changed.touch(page.id, page.last_modified)
            return page

    def ancestor_ids(self, page: Page) -> list[str]:
        """Ids of the page's ancestors, the root first."""
        with self._lock:
            chain: list[str] = []
            parent = page.parent_id
            while parent is not None and parent in self._pages and parent not in chain:
                chain.append(parent)
                parent = self._pages[parent].parent_id
            return list(reversed(chain))

    # -- labels ----------------------------------------------------------------------------

    def add_labels(self, page_id: str, names: Sequence[str]) -> Page:
        """Add labels (lower-cased, as Confluence stores them)."""
        with self._lock:
            page = self.page(page_id)
            lowered = [n.strip().lower() for n in names]
            for name in lowered:
                problem = _label_problem(name)
                if problem:
                    raise ConfluenceError(400, problem)
            for name in lowered:
                if name not in page.labels:
                    page.labels.append(name)
            return page

    def trash(self, page_id: str) -> None:
        """Move a page to the trash: it disappears from reads and searches."""
        with self._lock:
            page = self.page(page_id)
            # Confluence moves the children up to the deleted page's parent.
            for child in self.pages():
                if child.parent_id == page.id:
                    child.parent_id = page.parent_id
            page.status = "trashed"

    def remove_label(self, page_id: str, name: str) -> None:
        """Remove a label; 404 if the page does not carry it."""
        with self._lock:
            page = self.page(page_id)
            lowered = name.lower()
            if lowered not in page.labels:
                raise ConfluenceError(404, f"Label '{name}' is not on content with id {page_id}")
            page.labels.remove(lowered)

    # -- content properties ----------------------------------------------------------------

    def get_property(self, page_id: str, key: str) -> ContentProperty:
        """A content property; 404 if absent."""
        with self._lock:
            page = self.page(page_id)
            prop = page.properties.get(key)
            if prop is None:
                raise ConfluenceError(
                    404, f"No content property with key: {key} found on content with id: {page_id}"
                )
            return prop

    def create_property(self, page_id: str, key: Any, value: Any) -> ContentProperty:
        """``POST .../property``: a new key at version 1; 409 if the key exists."""
        with self._lock:
            page = self.page(page_id)
            _check_property_key(key)
            if key in page.properties:
                raise ConfluenceError(
                    409,
                    f"Cannot add a content property with key '{key}' to content {page_id}: "
                    "a property with this key already exists",
                )
            return self._store_property(page, key, value, 1)

    def update_property(
        self, page_id: str, key: str, value: Any, number: Any
    ) -> tuple[ContentProperty, bool]:
        """``PUT .../property/{key}``: compare-and-set on the version number.

        A missing key is created when ``number`` is 1 (as Confluence does); otherwise
        ``number`` must be the current version + 1, or a 409 answers. Returns the property
        and whether it was created.
        """
        with self._lock:
            page = self.page(page_id)
            _check_property_key(key)
            if not isinstance(number, int) or isinstance(number, bool):
                raise ConfluenceError(
                    400, "Property version number is required and must be an integer."
                )
            existing = page.properties.get(key)
            if existing is None:
                if number != 1:
                    raise ConfluenceError(
                        404,
                        f"No content property with key: {key} found on content with id: {page_id}",
                    )
                return self._store_property(page, key, value, 1), True
            if number != existing.version + 1:
                raise ConfluenceError(
                    409,
                    "Version must be incremented on update. Current version is: "
                    f"{existing.version}",
                )
            return self._store_property(page, key, value, number), False

    def property_by_id(self, page_id: str, property_id: str) -> ContentProperty:
        """A content property by its id (how REST v2 names it); 404 if absent."""
        with self._lock:
            page = self.page(page_id)
            for prop in page.properties.values():
                if prop.id == str(property_id):
                    return prop
            raise ConfluenceError(
                404, f"No content property with id: {property_id} found on content {page_id}"
            )

    def delete_property(self, page_id: str, key: str) -> None:
        """``DELETE .../property/{key}``; 404 if absent."""
        with self._lock:
            self.get_property(page_id, key)
            del self.page(page_id).properties[key]

    def _store_property(self, page: Page, key: str, value: Any, number: int) -> ContentProperty:
        if len(json.dumps(value).encode()) > 32768:
            raise ConfluenceError(413, "The property value is too long (maximum 32768 bytes).")
        existing = page.properties.get(key)
        prop = ContentProperty(
            id=existing.id if existing else self._new_id(),
            key=key,
            value=json.loads(json.dumps(value)),
            version=number,
            when=now(),
        )
        page.properties[key] = prop
        return prop

    # -- search ----------------------------------------------------------------------------

    def search(self, cql: str, *, current_user: User | None) -> list[Page]:
        """Pages matching ``cql``, in the query's order (creation order by default)."""
        with self._lock:
            compiled: CompiledCql = compile_cql(cql, self, current_user=current_user)
            pool = self.pages()
            if compiled.since is not None:  # a date range: only the pages changed since
                changed = (self._pages.get(i) for i in self._changed.since(compiled.since))
                pool = [p for p in changed if p is not None and p.status == "current"]
            return compiled.sort([p for p in pool if compiled.matches(p)])

    def list_content(
        self, *, space_key: str | None, title: str | None, content_type: str
    ) -> list[Page]:
        """``GET /rest/api/content`` filtering: space, exact title, type."""
        with self._lock:
            return [
                p
                for p in self.pages()
                if p.type == content_type
                and (space_key is None or p.space.key == space_key)
                and (title is None or p.title == title)
            ]

    # CqlScope
    def cql_user(self, value: str) -> User | None:
        """A user named in CQL: account id (Cloud) or username/user key (Server)."""
        if self.flavour == "cloud":
            return self.directory.by_account_id(value)
        return self.directory.by_username(value) or self.directory.by_user_key(value)

    def cql_ancestors(self, page: Page) -> list[str]:
        """Ids of the page's ancestors."""
        return self.ancestor_ids(page)

    # -- rendering -------------------------------------------------------------------------

    def user_json(self, user: User | None, links: Links) -> dict[str, Any]:
        """A user as Confluence shows it in this flavour (anonymous when ``None``)."""
        if user is None:
            return {"type": "anonymous", "displayName": "Anonymous"}
        picture = {
            "path": f"{links.context}/images/icons/profilepics/default.svg",
            "width": 48,
            "height": 48,
            "isDefault": True,
        }
        if self.flavour == "cloud":
            return {
                "type": "known",
                "accountId": user.account_id,
                "accountType": "atlassian",
                "email": user.email or "",
                "publicName": user.display_name,
                "profilePicture": picture,
                "displayName": user.display_name,
                "isExternalCollaborator": False,
                "_links": {"self": f"{links.base}/rest/api/user?accountId={user.account_id}"},
            }
        return {
            "type": "known",
            "username": user.username,
            "userKey": user.user_key,
            "profilePicture": picture,
            "displayName": user.display_name,
            "_links": {"self": f"{links.base}/rest/api/user?key={user.user_key}"},
        }

    def version_json(self, page: Page, version: Version, links: Links) -> dict[str, Any]:
        """A page version."""
        return {
            "by": self.user_json(version.by, links),
            "when": confluence_time(version.when),
            "friendlyWhen": "just a moment ago",
            "message": version.message,
            "number": version.number,
            "minorEdit": version.minor_edit,
            "_links": {
                "self": f"{links.base}/rest/experimental/content/{page.id}/version/{version.number}"
            },
        }

    def history_json(self, page: Page, links: Links, *, expand_last: bool = True) -> dict[str, Any]:
        """``GET content/{id}/history`` and the ``history`` expansion."""
        first = page.versions[0]
        data: dict[str, Any] = {
            "latest": True,
            "createdBy": self.user_json(first.by, links),
            "createdDate": confluence_time(first.when),
            "_links": {"self": f"{links.base}/rest/api/content/{page.id}/history"},
        }
        if expand_last:
            data["lastUpdated"] = self.version_json(page, page.current, links)
        data["_expandable"] = {
            "lastUpdated": "",
            "previousVersion": "",
            "contributors": "",
            "nextVersion": "",
        }
        if expand_last:
            del data["_expandable"]["lastUpdated"]
        return data

    def space_json(self, space: Space, links: Links) -> dict[str, Any]:
        """A space reference."""
        return {
            "id": int(space.id),
            "key": space.key,
            "name": space.name,
            "type": "global",
            "status": "current",
            "_expandable": {"homepage": "", "description": "", "metadata": "", "icon": ""},
            "_links": {
                "webui": f"/spaces/{space.key}"
                if self.flavour == "cloud"
                else f"/display/{space.key}",
                "self": f"{links.base}/rest/api/space/{space.key}",
            },
        }

    def labels_json(self, page: Page, links: Links) -> dict[str, Any]:
        """``GET content/{id}/label`` and the ``metadata.labels`` expansion."""
        results = [
            {"prefix": "global", "name": name, "id": str(zlib.crc32(name.encode())), "label": name}
            for name in page.labels
        ]
        return {
            "results": results,
            "start": 0,
            "limit": 200,
            "size": len(results),
            "_links": {"self": f"{links.base}/rest/api/content/{page.id}/label"},
        }

    def property_json(self, page: Page, prop: ContentProperty, links: Links) -> dict[str, Any]:
        """A content property."""
        return {
            "id": prop.id,
            "key": prop.key,
            "value": json.loads(json.dumps(prop.value)),
            "version": {
                "when": confluence_time(prop.when),
                "message": "",
                "number": prop.version,
                "minorEdit": False,
            },
            "_links": {
                "self": f"{links.base}/rest/api/content/{page.id}/property/{quote(prop.key)}"
            },
            "_expandable": {"content": f"/rest/api/content/{page.id}"},
        }

    def property_v2_json(self, prop: ContentProperty) -> dict[str, Any]:
        """A content property as REST v2 shows it (``ContentProperty`` in the v2 spec)."""
        return {
            "id": prop.id,
            "key": prop.key,
            "value": json.loads(json.dumps(prop.value)),
            "version": {
                "createdAt": confluence_time(prop.when),
                "message": "",
                "number": prop.version,
                "minorEdit": False,
                "authorId": "",
            },
        }

    def page_v2_json(
        self, page: Page, links: Links, *, body_format: str | None, version: Version | None = None
    ) -> dict[str, Any]:
        """A page as REST v2 returns it (``PageSingle``): ``spaceId``, not the space key."""
        with self._lock:
            shown = version or page.current
            first = page.versions[0]
            body: dict[str, Any] = {}
            if body_format:
                body[body_format] = {"representation": body_format, "value": shown.storage}
            return {
                "id": page.id,
                "status": "historical" if version and version is not page.current else page.status,
                "title": shown.title,
                "spaceId": page.space.id,
                "parentId": page.parent_id,
                "parentType": "page" if page.parent_id else None,
                "position": None,
                "authorId": first.by.account_id if first.by else "",
                "ownerId": first.by.account_id if first.by else None,
                "lastOwnerId": None,
                "createdAt": confluence_time(first.when),
                "version": {
                    "createdAt": confluence_time(shown.when),
                    "message": shown.message,
                    "number": shown.number,
                    "minorEdit": shown.minor_edit,
                    "authorId": shown.by.account_id if shown.by else "",
                },
                "body": body,
                "_links": {
                    "editui": f"/pages/resumedraft.action?draftId={page.id}",
                    "webui": self.webui(page),
                    "tinyui": f"/x/{page.id}",
                    "base": links.base,
                },
            }

    def webui(self, page: Page) -> str:
        """The page's web UI path relative to the context."""
        slug = quote(page.title.replace(" ", "+"), safe="+")
        if self.flavour == "cloud":
            return f"/spaces/{page.space.key}/pages/{page.id}/{slug}"
        return f"/display/{page.space.key}/{slug}"

    def content_json(
        self,
        page: Page,
        links: Links,
        expand: Iterable[str] = (),
        *,
        version: Version | None = None,
        top_level: bool = True,
    ) -> dict[str, Any]:
        """A page as ``GET content/{id}`` returns it, with the expansions asked for."""
        with self._lock:
            wanted = {e.strip() for e in expand if e.strip()}
            shown = version or page.current
            data: dict[str, Any] = {
                "id": page.id,
                "type": page.type,
                "status": "historical" if version and version is not page.current else page.status,
                "title": shown.title,
            }
            expandable: dict[str, str] = {
                "container": f"/rest/api/space/{page.space.key}",
                "metadata": "",
                "operations": "",
                "children": f"/rest/api/content/{page.id}/child",
                "restrictions": f"/rest/api/content/{page.id}/restriction/byOperation",
                "history": f"/rest/api/content/{page.id}/history",
                "ancestors": "",
                "body": "",
                "version": "",
                "descendants": f"/rest/api/content/{page.id}/descendant",
                "space": f"/rest/api/space/{page.space.key}",
            }
            if "space" in wanted:
                data["space"] = self.space_json(page.space, links)
                del expandable["space"]
            if "container" in wanted:
                data["container"] = self.space_json(page.space, links)
                del expandable["container"]
            if "history" in wanted or any(e.startswith("history.") for e in wanted):
                data["history"] = self.history_json(
                    page, links, expand_last="history.lastUpdated" in wanted
                )
                del expandable["history"]
            if "version" in wanted:
                data["version"] = self.version_json(page, shown, links)
                del expandable["version"]
            if "ancestors" in wanted:
                data["ancestors"] = [
                    self.content_json(self._pages[a], links, top_level=False)
                    for a in self.ancestor_ids(page)
                ]
                del expandable["ancestors"]
            bodies = {e.split(".", 1)[1] for e in wanted if e.startswith("body.")}
            if bodies:
                data["body"] = {}
                for representation in sorted(bodies):
                    if representation in (
                        "storage",
                        "view",
                        "export_view",
                        "styled_view",
                        "editor",
                    ):
                        data["body"][representation] = {
                            "value": shown.storage,
                            "representation": representation,
                            "_expandable": {"content": f"/rest/api/content/{page.id}"},
                        }
                del expandable["body"]
            if any(e.startswith("metadata") for e in wanted):
                metadata: dict[str, Any] = {}
                if "metadata.labels" in wanted:
                    metadata["labels"] = self.labels_json(page, links)
                if "metadata.properties" in wanted or any(
                    e.startswith("metadata.properties.") for e in wanted
                ):
                    metadata["properties"] = {
                        k: self.property_json(page, p, links) for k, p in page.properties.items()
                    }
                data["metadata"] = metadata
                del expandable["metadata"]
            data["extensions"] = {"position": "none"}
            data["_expandable"] = expandable
            link_data: dict[str, str] = {
                "webui": self.webui(page),
                "edit": f"/pages/resumedraft.action?draftId={page.id}",
                "tinyui": f"/x/{page.id}",
                "self": f"{links.base}/rest/api/content/{page.id}",
            }
            if top_level:
                link_data.update({"base": links.base, "context": links.context})
            data["_links"] = link_data
            return data


def _check_property_key(key: Any) -> None:
    if not isinstance(key, str) or not key or len(key) > 255:
        raise ConfluenceError(400, "A content property key must be 1 to 255 characters long.")
