"""Thin gateways over atlassian-python-api: Confluence pages and Jira issues.

Each method is one REST conversation (paged where the API pages) and returns pmsync
values. Confluence pages are read and written through REST v2 on Cloud (Atlassian
retired the v1 page endpoints there) and v1 on Server/Data Center; CQL search is v1
everywhere. Jira's search on Cloud is eventually consistent, so the gateway names the
issues it wrote this run in ``reconcileIssues`` on later searches. Requests go through
:class:`~pmsync._gateways._transport.Transport`, which retries
what is safe to retry and turns vendor errors into pmsync errors. Nothing here decides
what to change: that is the planner's job.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import attrs
import requests

from pmsync._gateways._transport import Pacing, RetryPolicy, Transport, error_message
from pmsync._model import CreateOutcome, JiraIssue, JiraUser, Page, Person, Status, Transition
from pmsync._quote import cql_string, jql_string
from pmsync.exceptions import NotFoundError, ServiceError

__all__ = [
    "ConfluenceGateway",
    "CreateOutcome",
    "JiraGateway",
    "JiraUser",
    "Page",
    "Transition",
]

log = logging.getLogger("pmsync")

PROPERTY_KEY = "pmsync"
#: The Jira fields the planner needs; nothing more is fetched.
ISSUE_FIELDS = (
    "summary",
    "description",
    "assignee",
    "duedate",
    "priority",
    "status",
    "labels",
    "components",
    "created",
    "updated",
    "resolutiondate",
    "issuetype",
)
_PAGE_BATCH = 50
#: Jira takes at most this many ids in ``reconcileIssues``.
_RECONCILE_MAX = 50
ConfluenceApi = Literal["auto", "v1", "v2"]
_CATEGORY = {"new": Status.TODO, "indeterminate": Status.IN_PROGRESS, "done": Status.DONE}


def _parse_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    # Jira writes +0000 offsets; fromisoformat wants +00:00 before Python 3.11's leniency.
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def category_of(status: Mapping[str, Any] | None) -> Status | None:
    """Map a Jira status object's category to a :class:`Status`."""
    if not status:
        return None
    key = (status.get("statusCategory") or {}).get("key")
    return _CATEGORY.get(str(key)) if key else None


def person_from_user(user: Mapping[str, Any] | None) -> Person | None:
    """A Jira user object (Cloud or Server shape) as a :class:`Person`."""
    if not user:
        return None
    return Person(
        account_id=user.get("accountId"),
        user_key=user.get("key"),
        username=user.get("name"),
        display_name=user.get("displayName"),
        email=user.get("emailAddress") or None,
    )


def due_moves(changelog: Mapping[str, Any]) -> int:
    """How often a changelog moved the due date from one date to another.

    Setting a first due date or clearing one is not a move.
    """
    return sum(
        1
        for history in changelog.get("histories") or ()
        for item in history.get("items") or ()
        if item.get("fieldId", item.get("field")) == "duedate"
        and item.get("from")
        and item.get("to")
        and item.get("from") != item.get("to")
    )


def issue_from_json(raw: Mapping[str, Any], *, base_url: str) -> JiraIssue:
    """Turn one issue of a REST response into a :class:`JiraIssue`."""
    fields = raw.get("fields") or {}
    status = fields.get("status") or None
    priority = fields.get("priority") or None
    resolution = fields.get("resolution") or None
    changelog = raw.get("changelog")
    description = fields.get("description")
    if description is not None and not isinstance(description, str):
        description = None  # an ADF document: pmsync reads v2 (strings) only
    properties = raw.get("properties") or {}
    return JiraIssue(
        key=str(raw["key"]),
        summary=str(fields.get("summary") or ""),
        description=description,
        assignee=person_from_user(fields.get("assignee")),
        due=_parse_date(fields.get("duedate")),
        priority=priority.get("name") if isinstance(priority, Mapping) else None,
        status=status.get("name") if isinstance(status, Mapping) else None,
        status_category=category_of(status),
        labels=tuple(fields.get("labels") or ()),
        components=tuple(
            str(c.get("name")) for c in fields.get("components") or () if isinstance(c, Mapping)
        ),
        created=_parse_datetime(fields.get("created")),
        resolved=_parse_datetime(fields.get("resolutiondate")),
        updated=_parse_datetime(fields.get("updated")),
        prop=properties.get(PROPERTY_KEY) if isinstance(properties, Mapping) else None,
        url=f"{base_url}/browse/{raw['key']}",
        issue_type=(fields.get("issuetype") or {}).get("name"),
        resolution=resolution.get("name") if isinstance(resolution, Mapping) else None,
        due_moves=due_moves(changelog) if isinstance(changelog, Mapping) else None,
    )


class ConfluenceGateway:
    """Read and write Confluence pages through a real ``atlassian.Confluence`` client.

    ``cloud`` says which page API ``api="auto"`` starts with: REST v2 on Cloud, v1 on
    Server/Data Center. ``"auto"`` switches once (and logs it) when v2 answers 404 for
    want of the API or v1 answers 410 Gone; ``"v1"`` or ``"v2"`` force one.
    """

    def __init__(
        self,
        client: Any,
        policy: RetryPolicy | None = None,
        *,
        cloud: bool = False,
        api: ConfluenceApi = "auto",
        pacing: Pacing | None = None,
    ) -> None:
        self.http = Transport(client, "confluence", policy, pacing)
        self.api = api
        #: The page API in use: ``"v1"`` or ``"v2"``.
        self.pages_api: Literal["v1", "v2"] = ("v2" if cloud else "v1") if api == "auto" else api
        self._space_keys: dict[str, str | None] = {}
        self._switched = False  # "auto" switches at most once per run
        self._switch_lock = threading.Lock()
        # REST v2 writes a property by its id: (page id, key) -> id, as last seen. Workers
        # share it (one get, set or pop at a time is atomic); each page has one worker.
        self._property_ids: dict[tuple[str, str], str] = {}

    def _page(self, raw: Mapping[str, Any]) -> Page:
        links = raw.get("_links") or {}
        base = str(links.get("base") or self.http.base_url)
        webui = links.get("webui")
        body = raw.get("body") or {}
        author = person_from_user((raw.get("history") or {}).get("createdBy"))
        if raw.get("authorId"):  # REST v2
            author = Person(account_id=str(raw["authorId"]))
        version = raw.get("version") or {}  # v1 says when, v2 createdAt
        return Page(
            id=str(raw["id"]),
            title=str(raw.get("title") or ""),
            version=int((raw.get("version") or {}).get("number") or 1),
            storage=str((body.get("storage") or {}).get("value") or ""),
            space=(raw.get("space") or {}).get("key"),
            url=f"{base}{webui}" if webui else f"{base}/pages/viewpage.action?pageId={raw['id']}",
            author=author,
            modified=_parse_datetime(version.get("when") or version.get("createdAt")),
        )

    def _page_request(
        self,
        method: str,
        page_id: str,
        *,
        body: Any = None,
        accept: Collection[int] = (),
        version: int | None = None,
    ) -> requests.Response:
        """One page read or write through the page API in use, switching once if told.

        ``version`` reads that earlier version of the page instead of the current one.
        """
        for _ in range(2):
            api = self.pages_api
            params: dict[str, Any] | None = None
            if api == "v2":
                path = f"api/v2/pages/{page_id}"
                if method == "GET":
                    params = {"body-format": "storage"}
            else:
                path = f"rest/api/content/{page_id}"
                if method == "GET":
                    params = {"expand": "body.storage,version,space"}
                    if version is not None:
                        params["status"] = "historical"
            if params is not None and version is not None:
                params["version"] = version
            response = self.http.request(
                method,
                path,
                params=params,
                body=body(api) if callable(body) else body,
                idempotent=True,
                accept=(*accept, 404, 410),
            )
            gone = response.status_code == 410 and api == "v1"
            missing = response.status_code == 404 and api == "v2" and not _v2_error(response)
            if not (gone or missing) or not self._switch(api, response, method, path):
                break
        if response.status_code in (404, 410) and response.status_code not in accept:
            message = error_message(response)
            text = f"confluence: {method} page {page_id} answered {response.status_code}: {message}"
            if response.status_code == 404:
                raise NotFoundError(text, service="confluence", status=404)
            raise ServiceError(text, service="confluence", status=410)
        return response

    def _switch(self, api: str, response: requests.Response, method: str, path: str) -> bool:
        """Whether to ask again through the other page API, after ``api`` answered that
        it does not serve pages here; switches ("auto") once per run, for every worker."""
        with self._switch_lock:
            if self.pages_api != api:
                return True  # another worker switched meanwhile: ask again through it
            if self._switched:
                return False
            gone = response.status_code == 410
            if self.api != "auto":
                hint = (
                    'it has retired the v1 page API: set confluence_api = "v2" (or "auto")'
                    if gone
                    else 'it has no REST v2: set confluence_api = "v1" (or "auto")'
                )
                raise ServiceError(
                    f"confluence: {method} /{path} answered {response.status_code}: "
                    f"{error_message(response)}. This Confluence site does not serve pages "
                    f"through {api}; {hint} in the configuration, or upgrade pmsync.",
                    service="confluence",
                    status=response.status_code,
                )
            self.pages_api = "v2" if api == "v1" else "v1"
            self._switched = True
            log.info(
                "Confluence answered %s to %s /%s: using REST %s for pages for this run",
                response.status_code,
                method,
                path,
                self.pages_api,
            )
            return True

    def search(self, cql: str, *, history: bool = False) -> Iterator[Page]:
        """Every page matching ``cql``, bodies included, 50 per request.

        ``history`` also expands who created each page (:attr:`Page.author`).
        """
        params: dict[str, Any] | None = {
            "cql": cql,
            "expand": "body.storage,version,space" + (",history" if history else ""),
            "limit": _PAGE_BATCH,
        }
        path = "rest/api/content/search"
        while True:
            body = self.http.json("GET", path, params=params) or {}
            for raw in body.get("results") or ():
                if raw.get("type", "page") in ("page", "blogpost"):
                    yield self._page(raw)
            next_link = (body.get("_links") or {}).get("next")
            if not next_link or not body.get("results"):
                return
            path, params = self._next(next_link, body.get("_links") or {})

    def _next(self, link: str, links: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """Build the next page's path from ``_links`` (relative to the wiki context).

        atlassian-python-api joins Cloud's relative links to the host only, losing
        ``/wiki``; pmsync resolves them against the client's base URL itself.
        """
        parts = urlsplit(link)
        path = parts.path
        context = str(links.get("context") or "")
        base_path = urlsplit(self.http.base_url).path.rstrip("/")
        for prefix in (base_path, context):
            if prefix and path.startswith(prefix + "/"):
                path = path[len(prefix) :]
        return path.lstrip("/"), dict(parse_qsl(parts.query, keep_blank_values=True))

    def pages(
        self, page_ids: Sequence[str], *, history: bool = False
    ) -> tuple[list[Page], list[str]]:
        """Read pages by id, 50 per CQL request. Returns the pages and the ids not found."""
        found: dict[str, Page] = {}
        ids = [str(i).strip() for i in page_ids]
        for page_id in ids:
            if not page_id.isdigit():
                raise ValueError(f"{page_id!r} is not a Confluence page id (digits only)")
        unique = list(dict.fromkeys(ids))
        for start in range(0, len(unique), _PAGE_BATCH):
            chunk = unique[start : start + _PAGE_BATCH]
            cql = f"id in ({','.join(cql_string(i) for i in chunk)})"
            for page in self.search(cql, history=history):
                found[page.id] = page
        return [found[i] for i in unique if i in found], [i for i in unique if i not in found]

    def get_page(self, page_id: str) -> Page:
        """Read one page with its body, version and space key.

        REST v2 names the space by id; its key is read once per space and run.
        """
        raw = self._page_request("GET", page_id).json()
        page = self._page(raw)
        space_id = raw.get("spaceId")
        if page.space is None and space_id:
            if space_id not in self._space_keys:
                space = self.http.json("GET", f"api/v2/spaces/{space_id}") or {}
                self._space_keys[space_id] = str(space.get("key") or "") or None
            page = attrs.evolve(page, space=self._space_keys[space_id])
        return page

    def update_page(self, page: Page, storage: str, *, message: str) -> Page | None:
        """Write ``storage`` as version ``page.version + 1``.

        Returns the new page, or ``None`` when Confluence answers 409: someone saved a
        newer version first, and nothing was written.
        """

        def body(api: str) -> dict[str, Any]:
            version = {"number": page.version + 1, "minorEdit": True, "message": message}
            if api == "v2":
                return {
                    "id": page.id,
                    "status": "current",
                    "title": page.title,
                    "body": {"representation": "storage", "value": storage},
                    "version": version,
                }
            return {
                "id": page.id,
                "type": "page",
                "title": page.title,
                "version": version,
                "body": {"storage": {"value": storage, "representation": "storage"}},
            }

        response = self._page_request("PUT", page.id, body=body, accept=(409,))
        if response.status_code == 409:
            log.info(
                "page %s: version %s is stale (%s)", page.id, page.version, error_message(response)
            )
            return None
        raw = response.json()
        if not (raw.get("body") or {}).get("storage"):
            return attrs.evolve(page, version=page.version + 1, storage=storage)
        return attrs.evolve(self._page(raw), space=page.space, author=page.author)

    def page_version(self, page_id: str, version: int) -> Page | None:
        """An earlier version of a page with its body, or None when it has no such version."""
        try:
            raw = self._page_request("GET", page_id, version=version).json()
        except NotFoundError:
            return None
        return self._page(raw)

    def time_zone(self) -> str | None:
        """The time zone Confluence reads this account's CQL dates in, when it says."""
        raw = self.http.json("GET", "rest/api/user/current") or {}
        return raw.get("timeZone") or None

    # -- pages pmsync keeps itself (the review's roll-up page) --------------------------

    def page_by_title(self, space: str, title: str) -> Page | None:
        """The page titled ``title`` in ``space`` (titles are unique in a space), or None.

        A content lookup, not a CQL search: a page created a moment ago is found at once
        (the search index can lag behind).
        """
        body = self.http.json(
            "GET",
            "rest/api/content",
            params={
                "spaceKey": space,
                "title": title,
                "type": "page",
                "expand": "body.storage,version,space",
            },
        )
        found = (body or {}).get("results") or []
        return self._page(found[0]) if found else None

    def create_page(
        self, *, space: str, parent_id: str, title: str, storage: str, message: str
    ) -> Page:
        """Create a page under ``parent_id`` (a POST: never replayed blindly)."""
        raw = self.http.json(
            "POST",
            "rest/api/content",
            body={
                "type": "page",
                "title": title,
                "space": {"key": space},
                "ancestors": [{"id": parent_id}],
                "version": {"message": message},
                "body": {"storage": {"value": storage, "representation": "storage"}},
            },
        )
        page = self._page(raw)
        return page if page.storage else attrs.evolve(page, storage=storage)

    def content_property(self, page_id: str, key: str) -> tuple[Any, int] | None:
        """A content property's value and version number, or None when it is not set."""
        if self.pages_api == "v2":
            found = self._property_v2(page_id, key)
            if found is None:
                return None
            return found.get("value"), int((found.get("version") or {}).get("number") or 1)
        try:
            raw = self.http.json("GET", f"rest/api/content/{page_id}/property/{key}")
        except NotFoundError:
            return None
        return raw.get("value"), int((raw.get("version") or {}).get("number") or 1)

    def set_content_property(
        self, page_id: str, key: str, value: Any, *, version: int | None
    ) -> bool:
        """Create (``version`` None) or update a content property with compare-and-set.

        Returns False when someone else wrote it first (Confluence answers 409) and nothing
        was written.
        """
        return self.put_content_property(page_id, key, value, version=version or 0) is not None

    # -- content properties (the per-page lease, docs/sync.md) -------------------------
    # REST v2 on Cloud (found by key, written by id), v1 on Server/Data Center.

    def put_content_property(
        self, page_id: str, key: str, value: Any, *, version: int
    ) -> int | None:
        """Compare-and-set: write ``value`` over property version ``version`` (0: none yet).

        Returns the new version, or None when Confluence answers 409 (another writer got
        there first; nothing was written). Creating is a POST: a replay after a lost
        answer meets its own property and answers 409, which reads as "taken".
        """
        body: dict[str, Any] = {"key": key, "value": value}
        if version:
            body["version"] = {"number": version + 1, "minorEdit": True}
        if self.pages_api == "v2":
            base = f"api/v2/pages/{page_id}/properties"
            if version == 0:
                path, method = base, "POST"
            else:
                property_id = self._property_ids.get((page_id, key))
                if property_id is None:
                    current = self._property_v2(page_id, key)
                    if current is None or (current.get("version") or {}).get("number") != version:
                        return None  # gone or moved on: someone else wrote it
                    property_id = str(current["id"])
                path, method = f"{base}/{property_id}", "PUT"
        elif version == 0:
            path, method = f"rest/api/content/{page_id}/property", "POST"
        else:
            path, method = f"rest/api/content/{page_id}/property/{key}", "PUT"
        # 409: another writer got there first; 404 (v2, by id): it was deleted meanwhile
        response = self.http.request(
            method, path, body=body, accept=(409, 404) if method == "PUT" else (409,)
        )
        if response.status_code in (404, 409):
            self._property_ids.pop((page_id, key), None)
            return None
        written = response.json()
        if self.pages_api == "v2" and written.get("id") is not None:
            self._property_ids[(page_id, key)] = str(written["id"])
        return int((written.get("version") or {}).get("number") or version + 1)

    def delete_content_property(self, page_id: str, key: str) -> None:
        """Delete a content property (absent already: nothing to do)."""
        if self.pages_api == "v2":
            property_id = self._property_ids.pop((page_id, key), None)
            if property_id is None:
                current = self._property_v2(page_id, key)
                property_id = None if current is None else str(current["id"])
                self._property_ids.pop((page_id, key), None)
            if property_id is not None:
                self.http.request(
                    "DELETE", f"api/v2/pages/{page_id}/properties/{property_id}", accept=(404,)
                )
            return
        self.http.request("DELETE", f"rest/api/content/{page_id}/property/{key}", accept=(404,))

    def _property_v2(self, page_id: str, key: str) -> Mapping[str, Any] | None:
        """The page's property ``key`` as REST v2 shows it (with its id), or None."""
        found = self.http.json("GET", f"api/v2/pages/{page_id}/properties", params={"key": key})
        results = (found or {}).get("results") or []
        if not results:
            self._property_ids.pop((page_id, key), None)
            return None
        found_property: Mapping[str, Any] = results[0]
        self._property_ids[(page_id, key)] = str(found_property["id"])
        return found_property

    # -- end of content properties ---------------------------------------------------


def _v2_error(response: requests.Response) -> bool:
    """Whether an error answer is REST v2's own (a list of errors), not a missing route."""
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("errors"), list)


class JiraGateway:
    """Read and write Jira issues through a real ``atlassian.Jira`` client."""

    def __init__(
        self, client: Any, policy: RetryPolicy | None = None, *, pacing: Pacing | None = None
    ) -> None:
        self.http = Transport(client, "jira", policy, pacing)
        self.cloud = bool(getattr(client, "cloud", False))
        self._users: dict[str, list[JiraUser]] = {}
        # Jira Cloud's search lags behind writes: the ids of the issues this run wrote,
        # newest last, go into reconcileIssues so that later searches see them.
        self._ids: dict[str, str] = {}
        self._written: dict[str, None] = {}
        self._written_lock = threading.Lock()  # a run's workers write and search at once

    def _wrote(self, key: str, issue_id: str | None = None) -> None:
        """Remember a write to an issue, so that later searches reconcile it."""
        with self._written_lock:
            if issue_id:
                self._ids[key] = issue_id
            found = self._ids.get(key)
            if found:
                self._written.pop(found, None)
                self._written[found] = None

    def reconcile_ids(self, *, every: bool = False) -> list[list[str]]:
        """The ``reconcileIssues`` of each Cloud search to run: the ids written this run,
        newest first, at most 50 per search; only the newest 50 unless ``every``."""
        with self._written_lock:
            newest = list(reversed(self._written))
        chunks = [newest[i : i + _RECONCILE_MAX] for i in range(0, len(newest), _RECONCILE_MAX)]
        return (chunks if every else chunks[:1]) or [[]]

    @property
    def base_url(self) -> str:
        """The Jira site's base URL."""
        return self.http.base_url

    # -- reading -------------------------------------------------------------------------

    def search(
        self,
        jql: str,
        *,
        fields: Iterable[str] = ISSUE_FIELDS,
        page_size: int = 100,
        reconcile_all: bool = False,
        expand: str | None = None,
    ) -> Iterator[JiraIssue]:
        """Every issue matching ``jql``, with the planner's fields and the pmsync property.

        Cloud pages with ``nextPageToken`` on ``search/jql``; Server/DC with ``startAt`` on
        ``search`` (Cloud removed that endpoint). Cloud's search lags behind writes, so
        it names the newest 50 issues this gateway wrote in ``reconcileIssues``; with
        ``reconcile_all`` it runs once per 50 written issues, so that none is missed.
        An issue written by someone else seconds ago may still be missing: absent from
        a search means "not known yet", never "does not exist". ``expand`` is Jira's
        (``changelog``).
        """
        params: dict[str, Any] = {
            "jql": jql,
            "fields": ",".join(fields),
            "properties": PROPERTY_KEY,
            "maxResults": page_size,
        }
        if expand:
            params["expand"] = expand
        if self.cloud:
            seen: set[str] = set()
            for reconcile in self.reconcile_ids(every=reconcile_all):
                for issue in self._search_jql(params, reconcile):
                    if issue.key not in seen:
                        seen.add(issue.key)
                        yield issue
            return
        start = 0
        while True:
            params["startAt"] = start
            try:
                body = self.http.json("GET", "rest/api/2/search", params=params) or {}
            except ServiceError as exc:
                if exc.status != 410 or start:
                    raise
                # Jira Cloud removed this search: the client was built without cloud=True.
                log.warning(
                    "Jira answered 410 Gone for /rest/api/2/search: this is Jira Cloud; build "
                    "the client with atlassian.Jira(..., cloud=True). Using search/jql."
                )
                self.cloud = True
                params.pop("startAt", None)
                yield from self.search(jql, fields=fields, page_size=page_size, expand=expand)
                return
            issues = body.get("issues") or []
            for raw in issues:
                yield self._issue(raw)
            start += len(issues)
            if not issues or start >= int(body.get("total") or 0):
                return

    def _search_jql(self, params: Mapping[str, Any], reconcile: list[str]) -> Iterator[JiraIssue]:
        """One Cloud ``search/jql`` conversation, paged, reconciling ``reconcile``."""
        query = dict(params)
        while True:
            if reconcile:  # ids are JSON numbers: only the POST form carries them plainly
                request = {
                    **query,
                    "fields": str(query["fields"]).split(","),
                    "properties": [PROPERTY_KEY],
                    "reconcileIssues": [int(i) for i in reconcile],
                }
                body = self.http.json(
                    "POST", "rest/api/2/search/jql", body=request, idempotent=True
                )
            else:
                body = self.http.json("GET", "rest/api/2/search/jql", params=query)
            body = body or {}
            for raw in body.get("issues") or ():
                yield self._issue(raw)
            token = body.get("nextPageToken")
            if not token or body.get("isLast") or not body.get("issues"):
                return
            query["nextPageToken"] = token

    def _issue(self, raw: Mapping[str, Any]) -> JiraIssue:
        if raw.get("id"):
            self._ids[str(raw["key"])] = str(raw["id"])
        return issue_from_json(raw, base_url=self.base_url)

    def managed(self, project: str, label: str, *, history: bool = False) -> list[JiraIssue]:
        """Every issue pmsync manages in ``project`` (found by its label), paged.

        ``history`` also reads each issue's resolution and changelog (for
        :attr:`JiraIssue.due_moves`), in the same requests.
        """
        jql = f"project = {jql_string(project)} AND labels = {jql_string(label)}"
        if history:
            fields = (*ISSUE_FIELDS, "resolution")
            return list(
                self.search(
                    jql + " ORDER BY key ASC",
                    fields=fields,
                    expand="changelog",
                    reconcile_all=True,
                )
            )
        return list(self.search(jql + " ORDER BY key ASC", reconcile_all=True))

    def time_zone(self) -> str | None:
        """The time zone Jira reads this account's JQL dates in (its profile's)."""
        raw = self.http.json("GET", "rest/api/2/myself") or {}
        return raw.get("timeZone") or None

    def recently_created(self, project: str, label: str, *, minutes: int) -> list[JiraIssue]:
        """The newest managed issues created in the last ``minutes``: one request, at most 100.

        Used to resolve creates another run announced in a page's lease (docs/sync.md).
        """
        jql = (
            f"project = {jql_string(project)} AND labels = {jql_string(label)} "
            f"AND created >= -{int(minutes)}m ORDER BY created DESC"
        )
        found = []
        for issue in self.search(jql):
            found.append(issue)
            if len(found) >= 100:
                break
        return found

    def issue(self, key: str) -> JiraIssue:
        """Read one issue (with the pmsync property)."""
        raw = self.http.json(
            "GET",
            f"rest/api/2/issue/{key}",
            params={"fields": ",".join(ISSUE_FIELDS), "properties": PROPERTY_KEY},
        )
        return self._issue(raw)

    def issue_and_transitions(self, key: str) -> tuple[JiraIssue, list[Transition]]:
        """One issue and the transitions available from its status, in one request.

        ``expand=transitions`` on GET issue (Cloud and Server/DC) answers both as of the
        same moment: the status a move starts from and its routes cannot disagree.
        """
        raw = self.http.json(
            "GET",
            f"rest/api/2/issue/{key}",
            params={
                "fields": ",".join(ISSUE_FIELDS),
                "properties": PROPERTY_KEY,
                "expand": "transitions",
            },
        )
        return self._issue(raw), _transitions(raw)

    def find_users(self, query: str) -> list[JiraUser]:
        """Users matching a name, username or email (cached per gateway)."""
        cache_key = query.casefold()
        if cache_key in self._users:
            return self._users[cache_key]
        params: dict[str, str | int] = {"query": query} if self.cloud else {"username": query}
        params["maxResults"] = 20
        raw = self.http.json("GET", "rest/api/2/user/search", params=params) or []
        users = [self._user(u) for u in raw if u.get("active", True)]
        self._users[cache_key] = users
        return users

    def user_by_key(self, user_key: str) -> JiraUser | None:
        """A Server/DC user by user key (``ri:userkey``), or ``None``."""
        cache_key = f"key:{user_key}"
        if cache_key not in self._users:
            try:
                raw = self.http.json("GET", "rest/api/2/user", params={"key": user_key})
            except NotFoundError:
                raw = None
            self._users[cache_key] = [self._user(raw)] if raw else []
        users = self._users[cache_key]
        return users[0] if users else None

    def user_by_account(self, account_id: str) -> JiraUser | None:
        """A Cloud user by account id (for the email a Slack lookup needs), or ``None``."""
        cache_key = f"account:{account_id}"
        if cache_key not in self._users:
            try:
                raw = self.http.json("GET", "rest/api/2/user", params={"accountId": account_id})
            except NotFoundError:
                raw = None
            self._users[cache_key] = [self._user(raw)] if raw else []
        users = self._users[cache_key]
        return users[0] if users else None

    def users_by_account(self, account_ids: Iterable[str]) -> dict[str, JiraUser]:
        """Cloud users by account id, in one request per 50 ids (``user/bulk``).

        Ids Jira does not know are left out. Shares its cache with :meth:`user_by_account`,
        so a later look-up of the same account (a Slack notice's email) costs nothing.
        """
        ids = list(dict.fromkeys(account_ids))
        wanted = [a for a in ids if f"account:{a}" not in self._users]
        for start in range(0, len(wanted), 50):
            chunk = wanted[start : start + 50]
            found: dict[str, JiraUser] = {}
            offset = 0
            while True:
                params = {"accountId": chunk, "startAt": offset, "maxResults": len(chunk)}
                body = self.http.json("GET", "rest/api/2/user/bulk", params=params) or {}
                values = body.get("values") or []
                found.update((user.id, user) for user in map(self._user, values))
                offset += len(values)
                if body.get("isLast", True) or not values:
                    break
            for account_id in chunk:
                user = found.get(account_id)
                self._users[f"account:{account_id}"] = [user] if user else []
        return {a: users[0] for a in ids if (users := self._users[f"account:{a}"])}

    def priorities(self) -> frozenset[str]:
        """The names of Jira's priorities (cached): ``priority/search``, paged, on Cloud
        (its ``GET priority`` is gone from the current API); ``GET priority`` on Server/DC."""
        if "priorities" not in self._users:
            raw: list[Any] = []
            if self.cloud:
                start = 0
                while True:
                    page = self.http.json(
                        "GET",
                        "rest/api/3/priority/search",
                        params={"startAt": start, "maxResults": 50},
                    )
                    values = (page or {}).get("values") or []
                    raw += values
                    start += len(values)
                    if not values or (page or {}).get("isLast", True):
                        break
            else:
                raw = self.http.json("GET", "rest/api/2/priority") or []
            self._users["priorities"] = [
                JiraUser(id=str(p.get("name"))) for p in raw if isinstance(p, Mapping)
            ]
        return frozenset(u.id for u in self._users["priorities"])

    def project_exists(self, key: str) -> bool:
        """Whether Jira knows a project with this key (cached): tells Jira keys from
        look-alikes such as ``PR-1234`` or ``SHA-256``."""
        cache_key = f"project:{key}"
        if cache_key not in self._users:
            try:
                self.http.json("GET", f"rest/api/2/project/{key}")
                self._users[cache_key] = [JiraUser(id=key)]
            except NotFoundError:
                self._users[cache_key] = []
        return bool(self._users[cache_key])

    def _user(self, raw: Mapping[str, Any]) -> JiraUser:
        return JiraUser(
            id=str(raw.get("accountId") if self.cloud else raw.get("name")),
            display_name=raw.get("displayName"),
            email=raw.get("emailAddress") or None,
            key=raw.get("key"),
        )

    def transitions(self, key: str) -> list[Transition]:
        """The transitions available from the issue's current status."""
        return _transitions(self.http.json("GET", f"rest/api/2/issue/{key}/transitions") or {})

    # -- writing -------------------------------------------------------------------------

    def bulk_create(self, issue_updates: Sequence[Mapping[str, Any]]) -> list[CreateOutcome]:
        """Create issues, 50 per request; one outcome per input, in order.

        Bulk create is a POST and is never replayed: if the connection drops, the
        outcomes say so, and the next run adopts whatever Jira did create.
        """
        outcomes: list[CreateOutcome] = []
        for start in range(0, len(issue_updates), 50):
            chunk = list(issue_updates[start : start + 50])
            response = self.http.request(
                "POST", "rest/api/2/issue/bulk", body={"issueUpdates": chunk}, accept=(400,)
            )
            body = response.json() if response.content else {}
            errors: dict[int, str] = {}
            for failure in body.get("errors") or ():
                element = failure.get("elementErrors") or {}
                parts = list(element.get("errorMessages") or [])
                parts += [f"{f}: {m}" for f, m in (element.get("errors") or {}).items()]
                errors[int(failure.get("failedElementNumber", -1))] = "; ".join(parts) or (
                    f"HTTP {failure.get('status', response.status_code)}"
                )
            created = iter(body.get("issues") or ())
            if response.status_code == 400 and not errors:
                message = error_message(response)
                errors = dict.fromkeys(range(len(chunk)), message)
            for index in range(len(chunk)):
                if index in errors:
                    outcomes.append(CreateOutcome(None, errors[index]))
                else:
                    raw = next(created, None)
                    if raw:
                        self._wrote(str(raw["key"]), str(raw.get("id") or ""))
                    outcomes.append(
                        CreateOutcome(str(raw["key"]))
                        if raw
                        else CreateOutcome(None, "Jira returned no issue for this element")
                    )
        return outcomes

    def edit(
        self, key: str, fields: Mapping[str, Any], *, record: Mapping[str, Any] | None = None
    ) -> None:
        """Set fields of one issue (one PUT, all fields together; notifies watchers).

        ``record``: the pmsync property, set by the same request (all or nothing).
        """
        body = {"fields": dict(fields), **_with_record(record)}
        self.http.request("PUT", f"rest/api/2/issue/{key}", body=body)
        self._wrote(key)

    def set_property(self, key: str, value: Mapping[str, Any]) -> None:
        """Store the pmsync entity property (a PUT: idempotent, safe to retry)."""
        self.http.request(
            "PUT", f"rest/api/2/issue/{key}/properties/{PROPERTY_KEY}", body=dict(value)
        )
        self._wrote(key)

    def transition(
        self, key: str, transition_id: str, *, record: Mapping[str, Any] | None = None
    ) -> None:
        """Move an issue through one transition (a POST: never replayed blindly).

        ``record``: the pmsync property, set by the same request, with the move or not
        at all (the transition body takes ``properties`` like create and edit).
        """
        body = {"transition": {"id": transition_id}, **_with_record(record)}
        self.http.request("POST", f"rest/api/2/issue/{key}/transitions", body=body)
        self._wrote(key)

    def comment(self, key: str, text: str) -> None:
        """Add a comment (wiki markup) to an issue."""
        self.http.request("POST", f"rest/api/2/issue/{key}/comment", body={"body": text})


def _with_record(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``properties`` of an issue write that also sets the pmsync property."""
    if record is None:
        return {}
    return {"properties": [{"key": PROPERTY_KEY, "value": dict(record)}]}


def _transitions(body: Mapping[str, Any]) -> list[Transition]:
    """The ``transitions`` of a Jira answer (GET transitions, or an issue expanded)."""
    out = []
    for raw in body.get("transitions") or ():
        to = raw.get("to") or {}
        out.append(
            Transition(
                id=str(raw.get("id")),
                name=str(raw.get("name") or ""),
                to_status=str(to.get("name") or raw.get("name") or ""),
                to_category=category_of(to),
            )
        )
    return out
