"""The thin HTTP layer of the emulated Confluence: routes, parameters, response shapes.

It parses requests, calls :class:`~pmsync.testing._confluence.ConfluenceBackend` and
shapes answers as Confluence does: content with ``expand``, CQL search wrappers, paging
with ``_links.next`` relative to the context path (Cloud: without ``/wiki``, with
``_links.base`` and ``_links.context`` beside it), and Confluence's error bodies.

Page size caps (``limit``): 50 when a body is expanded; otherwise 100 for
``/rest/api/search`` and 200 for ``/rest/api/content`` and ``/rest/api/content/search``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from pmsync.testing._clock import confluence_time, now
from pmsync.testing._confluence import ConfluenceBackend, ConfluenceError, Links, Page
from pmsync.testing._cql import CqlError
from pmsync.testing._faults import Faults, StatusFault, rate_limit_headers
from pmsync.testing._service_http import AtlassianHttp, html_not_found
from pmsync.testing._users import User
from pmsync.testing._wire import (
    ParameterError,
    RequestBodyError,
    empty_response,
    int_param,
    json_response,
    list_param,
    read_json,
)

__all__ = ["ConfluenceHttp"]

_SEARCH_CAP = 100
_CONTENT_CAP = 200
_BODY_CAP = 50
_UPDATE_EXPAND = ("body.storage", "version", "space", "history", "ancestors")
# Body formats REST v2 serves; like v1's, the rendered ones hold the storage text.
_V2_BODIES = ("storage", "view", "export_view", "styled_view")
_V2_CODES = {400: "INVALID_REQUEST_PARAMETER", 404: "NOT_FOUND", 409: "CONFLICT", 413: "TOO_LARGE"}
_V1_GONE = (
    "This v1 REST endpoint has been removed (Atlassian changelog CHANGE-864). "
    "Use the v2 API: /wiki/api/v2/pages/{id}"
)


def _error(status: int, message: str) -> Response:
    return json_response(ConfluenceError(status, message).body(), status)


def _v2_error(status: int, message: str) -> Response:
    """An error in REST v2's shape: a list of ``{status, code, title, detail}``."""
    code = _V2_CODES.get(status, "ERROR")
    return json_response(
        {"errors": [{"status": status, "code": code, "title": message, "detail": None}]}, status
    )


def _cursor(start: int) -> str:
    return base64.urlsafe_b64encode(f"start:{start}".encode()).decode().rstrip("=")


def _read_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        kind, _, value = raw.partition(":")
        if kind != "start":
            raise ValueError(raw)
        return max(int(value), 0)
    except ValueError:
        raise ConfluenceError(400, f"The cursor '{cursor}' is invalid.") from None


class ConfluenceHttp(AtlassianHttp):
    """Routes and handlers of the Confluence REST API (v1) subset."""

    name = "confluence"
    challenge_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Basic realm="Confluence"'}
    client_errors = (ConfluenceError, CqlError, RequestBodyError, ParameterError)

    def __init__(self, backend: ConfluenceBackend, faults: Faults, base: str, context: str) -> None:
        self.backend = backend
        self.faults = faults
        self.links = Links(base=base, context=context)
        self.context = context
        super().__init__(cloud=backend.flavour == "cloud")

    # -- routing ---------------------------------------------------------------------------

    def _build_routes(self) -> None:
        base = f"{self.context}/rest/api"
        r = self._route
        r(f"{base}/content", ["GET"], self._list_content)
        r(f"{base}/content", ["POST"], self._create_content, mutating=True)
        r(f"{base}/content/search", ["GET"], self._content_search)
        r(f"{base}/search", ["GET"], self._search)
        r(f"{base}/content/<page_id>", ["GET"], self._get_content)
        r(f"{base}/content/<page_id>", ["PUT"], self._update_content, mutating=True)
        r(f"{base}/content/<page_id>", ["DELETE"], self._delete_content, mutating=True)
        r(f"{base}/content/<page_id>/history", ["GET"], self._history)
        r(f"{base}/content/<page_id>/child/page", ["GET"], self._children)
        r(f"{base}/content/<page_id>/label", ["GET"], self._labels)
        r(f"{base}/content/<page_id>/label", ["POST"], self._add_labels, mutating=True)
        r(f"{base}/content/<page_id>/label", ["DELETE"], self._remove_label_query, mutating=True)
        r(f"{base}/content/<page_id>/label/<name>", ["DELETE"], self._remove_label, mutating=True)
        r(f"{base}/content/<page_id>/property", ["GET"], self._properties)
        r(f"{base}/content/<page_id>/property", ["POST"], self._create_property, mutating=True)
        r(f"{base}/content/<page_id>/property/<key>", ["GET"], self._get_property)
        r(f"{base}/content/<page_id>/property/<key>", ["PUT"], self._update_property, mutating=True)
        r(
            f"{base}/content/<page_id>/property/<key>",
            ["DELETE"],
            self._delete_property,
            mutating=True,
        )
        r(f"{base}/space/<key>", ["GET"], self._space)
        r(f"{base}/user/current", ["GET"], self._current_user)
        if self.cloud:
            r(f"{self.context}/api/v2/spaces/<space_id>", ["GET"], self._v2_space)
            v2 = f"{self.context}/api/v2/pages/<page_id>"
            r(v2, ["GET"], self._v2_get_page)
            r(v2, ["PUT"], self._v2_update_page, mutating=True)
            r(f"{v2}/properties", ["GET"], self._v2_properties)
            r(f"{v2}/properties", ["POST"], self._v2_create_property, mutating=True)
            r(f"{v2}/properties/<property_id>", ["GET"], self._v2_get_property)
            r(f"{v2}/properties/<property_id>", ["PUT"], self._v2_update_property, mutating=True)
            r(
                f"{v2}/properties/<property_id>",
                ["DELETE"],
                self._v2_delete_property,
                mutating=True,
            )

    def handle(
        self, endpoint: str, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        """Serve a routed request; REST v2 answers errors in its own shape."""
        if not endpoint.startswith("confluence.v2_"):
            return super().handle(endpoint, request, values, user)
        try:
            return self.handlers[endpoint](request, values, user)
        except ConfluenceError as exc:
            return _v2_error(exc.status, exc.message)
        except self.client_errors as exc:
            return _v2_error(400, str(exc))

    def _v1_gone(self, request: Request) -> bool:
        """Whether v1 page reads and writes answer 410 Gone (newer Cloud sites, the gateway)."""
        return self.cloud and (
            self.backend.v1_pages == "gone" or bool(request.environ.get("pmsync.gateway"))
        )

    # -- answers the app needs ----------------------------------------------------------

    def not_found(self, request: Request) -> Response:
        """Confluence's answer to an unknown route."""
        if "/rest/" in request.path:
            return _error(404, f"null for uri: {request.url}")
        return html_not_found("Page Not Found")

    def method_not_allowed(self, request: Request) -> Response:
        """Confluence's answer to a known route with the wrong method."""
        del request
        return _error(405, "Method Not Allowed")

    def server_unauthorized(self) -> Response:
        """Confluence Server's JSON 401 body."""
        body = ConfluenceError(401, "This request requires authentication.").body()
        body["reason"] = "Unauthorized"
        body["data"]["authorized"] = False
        return json_response(body, 401)

    def fault(self, fault: StatusFault) -> Response:
        """A scripted 429 or 5xx in Confluence's shape."""
        headers = rate_limit_headers(fault)
        if fault.reason:
            headers["RateLimit-Reason"] = fault.reason
        if fault.kind == "rate_limit":
            body = ConfluenceError(429, "Rate limit exceeded.").body()
            body["reason"] = "Too Many Requests"
            return json_response(body, 429, headers)
        body = ConfluenceError(fault.status, "The service is temporarily unavailable.").body()
        body["reason"] = "Service Unavailable" if fault.status == 503 else "Internal Server Error"
        return json_response(body, fault.status, headers)

    def internal_error(self) -> Response:
        """Confluence's answer when the emulator itself failed."""
        body = ConfluenceError(500, "Internal server error (see the emulator's log).").body()
        body["reason"] = "Internal Server Error"
        return json_response(body, 500)

    def client_error(self, exc: Exception) -> Response:
        """A backend error in its own status and body; any other bad request as a 400."""
        if isinstance(exc, ConfluenceError):
            return json_response(exc.body(), exc.status)
        return _error(400, str(exc))

    # -- helpers ---------------------------------------------------------------------------

    def _expand(self, request: Request, prefix: str = "") -> list[str]:
        values = list_param(request, "expand")
        if prefix:
            return [v[len(prefix) :] for v in values if v.startswith(prefix)]
        return values

    def _limit(self, request: Request, cap: int, expand: Sequence[str]) -> int:
        limit = int_param(request, "limit", 25, minimum=0)
        if any(e.startswith("body") for e in expand):
            cap = min(cap, _BODY_CAP)
        return min(limit, cap)

    def _start(self, request: Request) -> int:
        cursor = request.args.get("cursor")
        if cursor:
            return _read_cursor(cursor)
        return int_param(request, "start", 0)

    def _next_link(self, path: str, params: dict[str, Any], start: int, limit: int) -> str:
        query: dict[str, Any] = {}
        if self.cloud:
            query["next"] = "true"
            query["cursor"] = _cursor(start)
        query.update({k: v for k, v in params.items() if v})
        query["limit"] = limit
        query["start"] = start
        return f"{path}?{urlencode(query, safe=',')}"

    def _content(
        self, page: Page, expand: Sequence[str], *, top_level: bool = False
    ) -> dict[str, Any]:
        return self.backend.content_json(page, self.links, expand, top_level=top_level)

    def _listing(
        self,
        results: list[Any],
        *,
        start: int,
        limit: int,
        total: int,
        path: str,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        links: dict[str, str] = {
            "base": self.links.base,
            "context": self.context,
            "self": f"{self.links.base}{path}",
        }
        if start + len(results) < total and limit > 0:
            links["next"] = self._next_link(path, params, start + len(results), limit)
        return {
            "results": results,
            "start": start,
            "limit": limit,
            "size": len(results),
            "_links": links,
        }

    # -- content ---------------------------------------------------------------------------

    def _list_content(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del values, user
        expand = self._expand(request)
        start, limit = self._start(request), self._limit(request, _CONTENT_CAP, expand)
        pages = self.backend.list_content(
            space_key=request.args.get("spaceKey"),
            title=request.args.get("title"),
            content_type=request.args.get("type", "page"),
        )
        page = pages[start : start + limit]
        params = {
            "spaceKey": request.args.get("spaceKey"),
            "title": request.args.get("title"),
            "type": request.args.get("type"),
            "expand": ",".join(expand),
        }
        return json_response(
            self._listing(
                [self._content(p, expand) for p in page],
                start=start,
                limit=limit,
                total=len(pages),
                path="/rest/api/content",
                params=params,
            )
        )

    def _create_content(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del values
        body = read_json(request)
        if not isinstance(body, dict):
            return _error(400, "A content object is required in the request body.")
        space: dict[str, Any] = body["space"] if isinstance(body.get("space"), dict) else {}
        storage = _storage_of(body)
        ancestors = body.get("ancestors") or []
        parent_id = (
            str(ancestors[-1]["id"]) if ancestors and isinstance(ancestors[-1], dict) else None
        )
        version: dict[str, Any] = body["version"] if isinstance(body.get("version"), dict) else {}
        page = self.backend.create(
            space_key=str(space.get("key", "")),
            title=body.get("title") or "",
            storage=storage if storage is not None else "",
            content_type=str(body.get("type", "page")),
            parent_id=parent_id,
            author=user,
            message=str(version.get("message") or ""),
        )
        return json_response(
            self.backend.content_json(page, self.links, _UPDATE_EXPAND, top_level=True)
        )

    def _get_content(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        if self._v1_gone(request):
            return _gone()
        page = self.backend.page(values["page_id"])
        version = None
        wanted = request.args.get("version")
        if wanted:
            try:
                number = int(wanted)
            except ValueError:
                raise ParameterError("version", wanted) from None
            if not 1 <= number <= len(page.versions):
                return _error(
                    404,
                    f"No content found with id: ContentId{{id={page.id}}} and version {number}",
                )
            version = page.versions[number - 1]
        return json_response(
            self.backend.content_json(
                page, self.links, self._expand(request), version=version, top_level=True
            )
        )

    def _update_content(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        page_id = values["page_id"]
        if self._v1_gone(request):
            return _gone()
        body = read_json(request)
        self._before_page_write(page_id)
        if not isinstance(body, dict):
            return _error(400, "A content object is required in the request body.")
        version = body.get("version")
        number = version.get("number") if isinstance(version, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            return _error(
                400,
                "Must supply an incremented version when updating Content. No version supplied.",
            )
        page = self.backend.page(page_id)
        if body.get("type") not in (None, page.type):
            return _error(
                400, f"Cannot change the type of content {page_id} to {body.get('type')}."
            )
        if "title" not in body or not body.get("title"):
            return _error(400, "Title must not be empty.")
        ancestors = body.get("ancestors") or []
        parent_id = (
            str(ancestors[-1]["id"]) if ancestors and isinstance(ancestors[-1], dict) else None
        )
        assert isinstance(version, dict)
        page = self.backend.save_version(
            page_id,
            number=number,
            title=str(body["title"]),
            storage=_storage_of(body),
            author=user,
            message=str(version.get("message") or ""),
            minor_edit=bool(version.get("minorEdit", False)),
            parent_id=parent_id,
        )
        return json_response(
            self.backend.content_json(page, self.links, _UPDATE_EXPAND, top_level=True)
        )

    def _before_page_write(self, page_id: str) -> None:
        self.backend.page(page_id)  # 404 before anything else, as Confluence does
        callback = self.faults.take_page_write_callback()
        if callback is not None:
            # A human saves the page just before this update is processed.
            callback(page_id)

    # -- REST v2 pages and page properties (Cloud) -----------------------------------------

    def _v2_get_page(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        page = self.backend.page(values["page_id"])
        body_format = request.args.get("body-format")
        if body_format not in (None, "", *_V2_BODIES):
            return _v2_error(
                400,
                f"The emulator serves body-format {', '.join(_V2_BODIES)}, not {body_format!r}.",
            )
        version = None
        wanted = request.args.get("version")
        if wanted:
            number = int_param(request, "version", 0, minimum=1)
            if number > len(page.versions):
                return _v2_error(404, f"Page {page.id} has no version {number}.")
            version = page.versions[number - 1]
        return json_response(
            self.backend.page_v2_json(page, self.links, body_format=body_format, version=version)
        )

    def _v2_space(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, user
        space = self.backend.space_by_id(values["space_id"])
        if space is None:
            return _v2_error(404, f"No space with id {values['space_id']}.")
        return json_response(
            {
                "id": space.id,
                "key": space.key,
                "name": space.name,
                "type": "global",
                "status": "current",
                "_links": {"webui": f"/spaces/{space.key}", "base": self.links.base},
            }
        )

    def _v2_update_page(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        page_id = values["page_id"]
        body = read_json(request)
        self._before_page_write(page_id)
        if not isinstance(body, dict):
            return _v2_error(400, "A page object is required in the request body.")
        missing = [f for f in ("id", "status", "title", "body", "version") if not body.get(f)]
        if missing:
            return _v2_error(400, f"Missing required fields: {', '.join(missing)}.")
        if str(body["id"]) != page_id:
            return _v2_error(400, "The id in the request body does not match the id in the path.")
        if body["status"] != "current":
            return _v2_error(
                400, f"The emulator saves status 'current' only, not {body['status']!r}."
            )
        version = body["version"]
        number = version.get("number") if isinstance(version, dict) else None
        if not isinstance(number, int) or isinstance(number, bool):
            return _v2_error(400, "version.number must be an integer.")
        raw = body["body"]
        storage = raw.get("storage") if isinstance(raw, dict) and "storage" in raw else raw
        if not isinstance(storage, dict) or storage.get("representation") != "storage":
            return _v2_error(400, "The emulator takes body.representation 'storage' only.")
        if not isinstance(storage.get("value"), str):
            return _v2_error(400, "body.value must be a string.")
        assert isinstance(version, dict)
        page = self.backend.save_version(
            page_id,
            number=number,
            title=str(body["title"]),
            storage=storage["value"],
            author=user,
            message=str(version.get("message") or ""),
            minor_edit=bool(version.get("minorEdit", False)),
            parent_id=str(body["parentId"]) if body.get("parentId") else None,
        )
        return json_response(self.backend.page_v2_json(page, self.links, body_format="storage"))

    def _v2_properties(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        page = self.backend.page(values["page_id"])
        key = request.args.get("key")
        limit = min(int_param(request, "limit", 25, minimum=1), 250)
        props = [p for p in page.properties.values() if key is None or p.key == key]
        start = self._start(request)
        chosen = props[start : start + limit]
        links: dict[str, str] = {"base": self.links.base}
        if start + len(chosen) < len(props):
            links["next"] = f"{self.context}/api/v2/pages/{page.id}/properties?" + urlencode(
                {"cursor": _cursor(start + len(chosen)), "limit": limit}
            )
        return json_response(
            {"results": [self.backend.property_v2_json(p) for p in chosen], "_links": links}
        )

    def _v2_create_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        body = read_json(request)
        if not isinstance(body, dict) or "key" not in body or "value" not in body:
            return _v2_error(400, "A content property needs a 'key' and a 'value'.")
        prop = self.backend.create_property(values["page_id"], body["key"], body["value"])
        return json_response(self.backend.property_v2_json(prop))

    def _v2_get_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        prop = self.backend.property_by_id(values["page_id"], values["property_id"])
        return json_response(self.backend.property_v2_json(prop))

    def _v2_update_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        body = read_json(request)
        existing = self.backend.property_by_id(values["page_id"], values["property_id"])
        if not isinstance(body, dict) or "value" not in body or "key" not in body:
            return _v2_error(400, "A content property update needs a 'key', 'value' and 'version'.")
        if body["key"] != existing.key:
            return _v2_error(400, "The key of a content property cannot be changed.")
        version = body.get("version")
        number = version.get("number") if isinstance(version, dict) else None
        prop, _ = self.backend.update_property(
            values["page_id"], existing.key, body["value"], number
        )
        return json_response(self.backend.property_v2_json(prop))

    def _v2_delete_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        prop = self.backend.property_by_id(values["page_id"], values["property_id"])
        self.backend.delete_property(values["page_id"], prop.key)
        return empty_response(204)

    def _delete_content(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        self.backend.trash(values["page_id"])
        return empty_response(204)

    def _history(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, user
        page = self.backend.page(values["page_id"])
        return json_response(self.backend.history_json(page, self.links))

    def _children(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        parent = self.backend.page(values["page_id"])
        expand = self._expand(request)
        start, limit = self._start(request), self._limit(request, _CONTENT_CAP, expand)
        children = [p for p in self.backend.pages() if p.parent_id == parent.id]
        return json_response(
            self._listing(
                [self._content(p, expand) for p in children[start : start + limit]],
                start=start,
                limit=limit,
                total=len(children),
                path=f"/rest/api/content/{parent.id}/child/page",
                params={"expand": ",".join(expand)},
            )
        )

    # -- labels ----------------------------------------------------------------------------

    def _labels(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, user
        page = self.backend.page(values["page_id"])
        return json_response(self.backend.labels_json(page, self.links))

    def _add_labels(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        body = read_json(request)
        entries = body if isinstance(body, list) else [body]
        names: list[str] = []
        for entry in entries:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                names.append(entry["name"])
            else:
                return _error(400, "Each label needs a 'name'.")
        page = self.backend.add_labels(values["page_id"], names)
        return json_response(self.backend.labels_json(page, self.links))

    def _remove_label_query(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        name = request.args.get("name")
        if not name:
            return _error(400, "The 'name' query parameter is required.")
        self.backend.remove_label(values["page_id"], name)
        return empty_response(204)

    def _remove_label(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        self.backend.remove_label(values["page_id"], values["name"])
        return empty_response(204)

    # -- content properties ----------------------------------------------------------------

    def _properties(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        page = self.backend.page(values["page_id"])
        start = self._start(request)
        limit = min(int_param(request, "limit", 10, minimum=0), 200)
        props = list(page.properties.values())
        return json_response(
            self._listing(
                [
                    self.backend.property_json(page, p, self.links)
                    for p in props[start : start + limit]
                ],
                start=start,
                limit=limit,
                total=len(props),
                path=f"/rest/api/content/{page.id}/property",
                params={},
            )
        )

    def _create_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        body = read_json(request)
        if not isinstance(body, dict) or "key" not in body or "value" not in body:
            return _error(400, "A content property needs a 'key' and a 'value'.")
        prop = self.backend.create_property(values["page_id"], body["key"], body["value"])
        page = self.backend.page(values["page_id"])
        return json_response(self.backend.property_json(page, prop, self.links))

    def _get_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        prop = self.backend.get_property(values["page_id"], values["key"])
        page = self.backend.page(values["page_id"])
        return json_response(self.backend.property_json(page, prop, self.links))

    def _update_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        body = read_json(request)
        if not isinstance(body, dict) or "value" not in body:
            return _error(400, "A content property update needs a 'value' and a 'version'.")
        if body.get("key") not in (None, values["key"]):
            return _error(400, "The key in the request body does not match the key in the path.")
        version = body.get("version")
        number = version.get("number") if isinstance(version, dict) else None
        prop, _ = self.backend.update_property(
            values["page_id"], values["key"], body["value"], number
        )
        page = self.backend.page(values["page_id"])
        return json_response(self.backend.property_json(page, prop, self.links))

    def _delete_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        self.backend.delete_property(values["page_id"], values["key"])
        return empty_response(204)

    # -- search ----------------------------------------------------------------------------

    def _search(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del values
        cql = request.args.get("cql", "")
        expand_all = self._expand(request)
        inner = self._expand(request, "content.")
        start, limit = self._start(request), self._limit(request, _SEARCH_CAP, inner)
        pages = self.backend.search(cql, current_user=user)
        chosen = pages[start : start + limit]
        excerpt = request.args.get("excerpt", "highlight")
        results = [self._search_result(p, inner, excerpt) for p in chosen]
        body = self._listing(
            results,
            start=start,
            limit=limit,
            total=len(pages),
            path="/rest/api/search",
            params={"cql": cql, "expand": ",".join(expand_all)},
        )
        body["totalSize"] = len(pages)
        body["cqlQuery"] = cql
        body["searchDuration"] = 5
        # Keep Confluence's key order: results, start, limit, size, totalSize, ...
        return json_response(body)

    def _search_result(self, page: Page, expand: Sequence[str], excerpt: str) -> dict[str, Any]:
        text = " ".join(_strip_tags(page.storage).split())
        return {
            "content": self._content(page, expand),
            "title": page.title,
            "excerpt": "" if excerpt == "none" else text[:200],
            "url": self.backend.webui(page),
            "resultGlobalContainer": {
                "title": page.space.name,
                "displayUrl": f"/spaces/{page.space.key}"
                if self.cloud
                else f"/display/{page.space.key}",
            },
            "breadcrumbs": [],
            "entityType": "content",
            "iconCssClass": f"aui-icon content-type-{page.type}",
            "lastModified": confluence_time(page.last_modified),
            "friendlyLastModified": _friendly(page),
            "score": 1.0,
        }

    def _content_search(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del values
        cql = request.args.get("cql", "")
        expand = self._expand(request)
        start, limit = self._start(request), self._limit(request, _CONTENT_CAP, expand)
        pages = self.backend.search(cql, current_user=user)
        chosen = pages[start : start + limit]
        return json_response(
            self._listing(
                [self._content(p, expand) for p in chosen],
                start=start,
                limit=limit,
                total=len(pages),
                path="/rest/api/content/search",
                params={"cql": cql, "expand": ",".join(expand)},
            )
        )

    # -- spaces and users ------------------------------------------------------------------

    def _space(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, user
        space = self.backend.space(values["key"])
        if space is None:
            return _error(404, f"No space found with key : {values['key']}")
        return json_response(self.backend.space_json(space, self.links))

    def _current_user(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, values
        return json_response(self.backend.user_json(user, self.links))


def _gone() -> Response:
    body = ConfluenceError(410, _V1_GONE).body()
    body["reason"] = "Gone"
    return json_response(body, 410)


def _storage_of(body: dict[str, Any]) -> str | None:
    """The storage value of a content body, or None when no body is sent."""
    content_body = body.get("body")
    if content_body is None:
        return None
    if not isinstance(content_body, dict):
        raise ConfluenceError(400, "The content body must be an object.")
    storage = content_body.get("storage")
    if storage is None:
        others = ", ".join(sorted(content_body)) or "none"
        raise ConfluenceError(
            400, f"Only the storage representation is supported by the emulator (got {others})."
        )
    if not isinstance(storage, dict) or not isinstance(storage.get("value"), str):
        raise ConfluenceError(400, "body.storage.value must be a string.")
    if storage.get("representation", "storage") != "storage":
        raise ConfluenceError(400, f"Unsupported representation: {storage.get('representation')}")
    return str(storage["value"])


def _strip_tags(storage: str) -> str:
    out: list[str] = []
    depth = 0
    for char in storage:
        if char == "<":
            depth += 1
            out.append(" ")
        elif char == ">" and depth:
            depth -= 1
        elif not depth:
            out.append(char)
    return "".join(out)


def _friendly(page: Page) -> str:
    age = now() - page.last_modified
    if age.days >= 1:
        return page.last_modified.strftime("%b %d, %Y")
    return "about an hour ago" if age.seconds >= 3600 else "a moment ago"
