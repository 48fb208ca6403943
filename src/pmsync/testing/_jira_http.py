"""The thin HTTP layer of the emulated Jira: routes, parameters, response shapes.

Everything here parses a request, calls :class:`~pmsync.testing._jira.JiraBackend` and
shapes the answer as Jira does (status codes, ``errorMessages``/``errors`` bodies, the
Cloud ``search/jql`` token paging and the Server ``search`` offset paging). The rules live
in the backend.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from pmsync.testing._clock import jira_time, now
from pmsync.testing._faults import StatusFault, rate_limit_headers
from pmsync.testing._jira import PRIORITIES, FieldSpec, JiraBackend, JiraError
from pmsync.testing._jql import JqlError
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

__all__ = ["JiraHttp"]

_MAX_RESULTS_WITH_FIELDS = 100
_MAX_RESULTS_IDS_ONLY = 5000
_MAX_RESULTS_SERVER = 1000
_MAX_RECONCILE = 50
_SEARCH_REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def _error(
    status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None
) -> Response:
    return json_response({"errorMessages": messages or [], "errors": errors or {}}, status)


def _api_version(values: dict[str, Any]) -> int:
    return 3 if values.get("ver") == "3" else 2


def _page_token(offset: int, jql: str) -> str:
    digest = hashlib.sha256(jql.encode()).hexdigest()[:12]
    raw = json.dumps({"o": offset, "q": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_page_token(token: str, jql: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        same_query = data["q"] == hashlib.sha256(jql.encode()).hexdigest()[:12]
    except (ValueError, KeyError, TypeError):
        raise JiraError(400, ["The provided next page token is invalid or expired."]) from None
    if not same_query or offset < 0:
        raise JiraError(400, ["The provided next page token is invalid or expired."])
    return offset


class JiraHttp(AtlassianHttp):
    """Routes and handlers of the Jira REST API subset."""

    name = "jira"
    challenge_headers: ClassVar[dict[str, str]] = {
        "WWW-Authenticate": 'Basic realm="protected-area"',
        "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
    }
    client_errors = (JiraError, JqlError, RequestBodyError, ParameterError)

    def __init__(self, backend: JiraBackend, base_url: str) -> None:
        self.backend = backend
        self.base_url = base_url
        super().__init__(cloud=backend.flavour == "cloud")

    # -- routing ---------------------------------------------------------------------------

    def _build_routes(self) -> None:
        versions = "'2','3','latest'" if self.cloud else "'2','latest'"
        base = f"/rest/api/<any({versions}):ver>"
        r = self._route
        r(f"{base}/serverInfo", ["GET"], self._server_info)
        r(f"{base}/myself", ["GET"], self._myself)
        r(f"{base}/field", ["GET"], self._fields)
        r(f"{base}/priority", ["GET"], self._priorities)
        r(f"{base}/status", ["GET"], self._statuses)
        r(f"{base}/issuetype", ["GET"], self._issue_types)
        r(f"{base}/project", ["GET"], self._projects)
        r(f"{base}/project/<ref>", ["GET"], self._project)
        r(f"{base}/project/<ref>/components", ["GET"], self._components)
        r(f"{base}/issue", ["POST"], self._create_issue, mutating=True)
        r(f"{base}/issue/bulk", ["POST"], self._bulk_create, mutating=True)
        r(f"{base}/issue/<ref>", ["GET"], self._get_issue)
        r(f"{base}/issue/<ref>", ["PUT"], self._edit_issue, mutating=True)
        r(f"{base}/issue/<ref>", ["DELETE"], self._delete_issue, mutating=True)
        r(f"{base}/issue/<ref>/assignee", ["PUT"], self._assign, mutating=True)
        r(f"{base}/issue/<ref>/transitions", ["GET"], self._get_transitions)
        r(f"{base}/issue/<ref>/transitions", ["POST"], self._do_transition, mutating=True)
        r(f"{base}/issue/<ref>/properties", ["GET"], self._property_keys)
        r(f"{base}/issue/<ref>/properties/<key>", ["GET"], self._get_property)
        r(f"{base}/issue/<ref>/properties/<key>", ["PUT"], self._set_property, mutating=True)
        r(f"{base}/issue/<ref>/properties/<key>", ["DELETE"], self._delete_property, mutating=True)
        r(f"{base}/issue/<ref>/comment", ["GET"], self._get_comments)
        r(f"{base}/issue/<ref>/comment", ["POST"], self._add_comment, mutating=True)
        r(f"{base}/user", ["GET"], self._get_user)
        r(f"{base}/user/search", ["GET"], self._user_search)
        if self.cloud:
            r(f"{base}/priority/search", ["GET"], self._priority_search)
            r(f"{base}/user/bulk", ["GET"], self._user_bulk)
            r(f"{base}/search/jql", ["GET", "POST"], self._search_jql)
            r(f"{base}/search", ["GET", "POST"], self._search_removed)
        else:
            r(f"{base}/search", ["GET", "POST"], self._search_server)

    # -- answers the app needs ----------------------------------------------------------

    def not_found(self, request: Request) -> Response:
        """Jira's answer to an unknown route."""
        if request.path.startswith("/rest/"):
            return json_response(
                {"message": f"null for uri: {request.url}", "status-code": 404}, 404
            )
        return html_not_found("404 Not Found")

    def method_not_allowed(self, request: Request) -> Response:
        """Jira's answer to a known route with the wrong method."""
        del request
        return Response(b"", status=405)

    def server_unauthorized(self) -> Response:
        """Jira Server's JSON 401 body."""
        return _error(
            401,
            ["You are not authenticated. Authentication required to perform this operation."],
        )

    def fault(self, fault: StatusFault) -> Response:
        """A scripted 429 or 5xx in Jira's shape."""
        headers = rate_limit_headers(fault)
        if fault.kind == "rate_limit":
            back = now() + dt.timedelta(seconds=fault.retry_after or 0)
            headers.update(
                {
                    "X-RateLimit-Limit": "100",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": back.strftime("%Y-%m-%dT%H:%MZ"),
                }
            )
            reason = fault.reason or ("jira-burst-based" if self.cloud else None)
            if reason:
                headers["RateLimit-Reason"] = reason
            return json_response(
                {"errorMessages": ["Rate limit exceeded."], "errors": {}}, 429, headers
            )
        return json_response(
            {"errorMessages": ["The service is temporarily unavailable."], "errors": {}},
            fault.status,
            headers,
        )

    def internal_error(self) -> Response:
        """Jira's answer when the emulator itself failed."""
        return _error(500, ["Internal server error (see the emulator's log)."])

    def client_error(self, exc: Exception) -> Response:
        """A backend error in its own status and body; any other bad request as a 400."""
        if isinstance(exc, JiraError):
            return json_response(exc.body(), exc.status)
        return _error(400, [str(exc)])

    # -- site ------------------------------------------------------------------------------

    def _server_info(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values, user
        if self.cloud:
            version, numbers, deployment, build = "1001.0.0-SNAPSHOT", [1001, 0, 0], "Cloud", 100290
        else:
            version, numbers, deployment, build = "9.12.15", [9, 12, 15], "Server", 9120015
        return json_response(
            {
                "baseUrl": self.base_url,
                "displayUrl": self.base_url,
                "version": version,
                "versionNumbers": numbers,
                "deploymentType": deployment,
                "buildNumber": build,
                "buildDate": "2026-01-05T00:00:00.000+0000",
                "serverTime": jira_time(now()),
                "scmInfo": "pmsync-emulator",
                "serverTitle": "Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            }
        )

    def _myself(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values
        data = self.backend.user_json(user, self.base_url) or {}
        data.update(
            {
                "groups": {"size": 1, "items": []},
                "applicationRoles": {"size": 1, "items": []},
                "expand": "groups,applicationRoles",
            }
        )
        return json_response(data)

    def _fields(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values, user
        return json_response(self.backend.fields_json())

    def _priorities(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values, user
        return json_response(
            [self.backend.priority_json(name, self.base_url) for _, name in PRIORITIES]
        )

    def _priority_search(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        start = int_param(request, "startAt", 0)
        limit = min(int_param(request, "maxResults", 50, minimum=1), 50)
        everything = [self.backend.priority_json(name, self.base_url) for _, name in PRIORITIES]
        chosen = everything[start : start + limit]
        return json_response(
            {
                "self": f"{self.base_url}/rest/api/{values['ver']}/priority/search"
                f"?maxResults={limit}&startAt={start}",
                "maxResults": limit,
                "startAt": start,
                "total": len(everything),
                "isLast": start + len(chosen) >= len(everything),
                "values": chosen,
            }
        )

    def _statuses(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values, user
        return json_response(
            [self.backend.status_json(s, self.base_url) for s in self.backend.statuses()]
        )

    def _issue_types(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values, user
        seen: dict[str, Any] = {}
        for project in self.backend.projects():
            for it in project.issue_types:
                seen.setdefault(it.id, self.backend.issue_type_json(it, self.base_url))
        return json_response(list(seen.values()))

    def _projects(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, values, user
        return json_response(
            [self.backend.project_json(p, self.base_url) for p in self.backend.projects()]
        )

    def _project(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, user
        project = self.backend.project(values["ref"])
        if project is None:
            return _error(404, [f"No project could be found with key '{values['ref']}'."])
        return json_response(self.backend.project_json(project, self.base_url, full=True))

    def _components(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del request, user
        project = self.backend.project(values["ref"])
        if project is None:
            return _error(404, [f"No project could be found with key '{values['ref']}'."])
        return json_response(
            [self.backend.component_json(c, self.base_url) for c in project.components]
        )

    # -- issues ----------------------------------------------------------------------------

    def _created(self, issue_id: str, key: str, api_version: int) -> dict[str, str]:
        return {
            "id": issue_id,
            "key": key,
            "self": f"{self.base_url}/rest/api/{api_version}/issue/{issue_id}",
        }

    def _create_issue(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        version = _api_version(values)
        issue = self.backend.create_issue(read_json(request), api_version=version, actor=user)
        return json_response(self._created(issue.id, issue.key, version), 201)

    def _bulk_create(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        version = _api_version(values)
        created, failures = self.backend.bulk_create(
            read_json(request), api_version=version, actor=user
        )
        body = {
            "issues": [self._created(i.id, i.key, version) for i in created],
            "errors": failures,
        }
        return json_response(body, 201 if created or not failures else 400)

    def _get_issue(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        issue = self.backend.issue(values["ref"])
        spec = FieldSpec.parse(request.args.getlist("fields"), "*all")
        expand = list_param(request, "expand")
        body = self.backend.issue_json(
            issue,
            base_url=self.base_url,
            api_version=_api_version(values),
            fields=spec,
            properties=list_param(request, "properties"),
            changelog="changelog" in expand,
            transitions="transitions" in expand,
        )
        return json_response(body)

    def _edit_issue(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        version = _api_version(values)
        issue = self.backend.edit_issue(
            values["ref"], read_json(request), api_version=version, actor=user
        )
        if request.args.get("returnIssue", "").lower() == "true":
            return json_response(
                self.backend.issue_json(
                    issue,
                    base_url=self.base_url,
                    api_version=version,
                    fields=FieldSpec.parse(None, "*all"),
                )
            )
        return empty_response(204)

    def _delete_issue(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        self.backend.delete_issue(values["ref"])
        return empty_response(204)

    def _assign(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del user
        self.backend.assign(values["ref"], read_json(request))
        return empty_response(204)

    def _get_transitions(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        issue = self.backend.issue(values["ref"])
        transitions = self.backend.transitions_json(issue, self.base_url)
        return json_response({"expand": "transitions", "transitions": transitions})

    def _do_transition(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        self.backend.transition(values["ref"], read_json(request))
        return empty_response(204)

    # -- properties and comments -----------------------------------------------------------

    def _property_keys(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        issue = self.backend.issue(values["ref"])
        version = _api_version(values)
        return json_response(
            {
                "keys": [
                    {
                        "self": f"{self.base_url}/rest/api/{version}/issue/{issue.id}"
                        f"/properties/{k}",
                        "key": k,
                    }
                    for k in issue.properties
                ]
            }
        )

    def _get_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        value = self.backend.get_property(values["ref"], values["key"])
        return json_response({"key": values["key"], "value": value})

    def _set_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        raw = request.get_data(cache=True)
        if not raw.strip():
            return _error(400, ["The property value must not be empty."])
        created = self.backend.set_property(values["ref"], values["key"], read_json(request))
        return empty_response(201 if created else 200)

    def _delete_property(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, user
        self.backend.delete_property(values["ref"], values["key"])
        return empty_response(204)

    def _get_comments(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del user
        issue = self.backend.issue(values["ref"])
        version = _api_version(values)
        start = int_param(request, "startAt", 0)
        limit = int_param(request, "maxResults", 5000, minimum=1)
        comments = issue.comments[start : start + limit]
        return json_response(
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(issue.comments),
                "comments": [
                    self.backend.comment_json(issue, c, base_url=self.base_url, api_version=version)
                    for c in comments
                ],
            }
        )

    def _add_comment(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        version = _api_version(values)
        comment = self.backend.add_comment(
            values["ref"], read_json(request), api_version=version, actor=user
        )
        issue = self.backend.issue(values["ref"])
        return json_response(
            self.backend.comment_json(issue, comment, base_url=self.base_url, api_version=version),
            201,
        )

    # -- users -----------------------------------------------------------------------------

    def _get_user(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del values, user
        directory = self.backend.directory
        if self.cloud:
            account_id = request.args.get("accountId")
            if not account_id:
                return _error(400, ["The query parameter 'accountId' is required."])
            found = directory.by_account_id(account_id)
            if found is None:
                return _error(404, [f"Specified user does not exist: {account_id}"])
        else:
            name, key = request.args.get("username"), request.args.get("key")
            if not name and not key:
                return _error(
                    400, ["Either the 'username' or the 'key' query parameter is required."]
                )
            found = directory.by_username(name) if name else directory.by_user_key(str(key))
            if found is None:
                return _error(404, [f"The user named '{name or key}' does not exist"])
        return json_response(self.backend.user_json(found, self.base_url))

    def _user_search(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        del values, user
        directory = self.backend.directory
        start = int_param(request, "startAt", 0)
        limit = min(int_param(request, "maxResults", 50, minimum=0), 1000)
        if self.cloud:
            query, account_id = request.args.get("query"), request.args.get("accountId")
            if not query and not account_id:
                return _error(
                    400, ["One of 'query' or 'accountId' query parameters must be provided."]
                )
            if account_id:
                found = directory.by_account_id(account_id)
                users = [found] if found else []
            else:
                users = directory.search(str(query))
        else:
            query = request.args.get("username")
            if not query:
                return _error(400, ["The username query parameter was not provided"])
            users = directory.all() if query in (".", "%") else directory.search(query)
        page = users[start : start + limit]
        return json_response([self.backend.user_json(u, self.base_url) for u in page])

    def _user_bulk(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        """Cloud's bulk get users: one page of the accounts named by ``accountId``.

        Unknown account ids are left out, like Jira does; ``maxResults`` defaults to 10.
        """
        del values, user
        wanted = request.args.getlist("accountId")
        if not wanted:
            return _error(400, ["The query parameter 'accountId' is required."])
        start = int_param(request, "startAt", 0)
        limit = min(int_param(request, "maxResults", 10, minimum=1), 200)
        directory = self.backend.directory
        found = [u for u in map(directory.by_account_id, dict.fromkeys(wanted)) if u]
        page = found[start : start + limit]
        return json_response(
            {
                "self": request.url,
                "maxResults": limit,
                "startAt": start,
                "total": len(found),
                "isLast": start + limit >= len(found),
                "values": [self.backend.user_json(u, self.base_url) for u in page],
            }
        )

    # -- search ----------------------------------------------------------------------------

    def _search_params(self, request: Request) -> dict[str, Any]:
        """Search parameters from the query string (GET) or the JSON body (POST)."""
        if request.method == "POST":
            body = read_json(request)
            if not isinstance(body, dict):
                raise JiraError(400, ["The search request body must be a JSON object."])
            fields = body.get("fields")
            props = body.get("properties")
            return {
                "jql": body.get("jql") or "",
                "fields": fields if isinstance(fields, list) else ([fields] if fields else []),
                "properties": [
                    p
                    for v in (props if isinstance(props, list) else [props] if props else [])
                    for p in str(v).split(",")
                    if p.strip()
                ],
                "maxResults": body.get("maxResults"),
                "startAt": body.get("startAt"),
                "nextPageToken": body.get("nextPageToken"),
                "reconcileIssues": [str(i) for i in body.get("reconcileIssues") or []],
                "expand": str(body.get("expand") or ""),
            }
        return {
            "jql": request.args.get("jql", ""),
            "fields": request.args.getlist("fields"),
            "properties": list_param(request, "properties"),
            "maxResults": request.args.get("maxResults"),
            "startAt": request.args.get("startAt"),
            "nextPageToken": request.args.get("nextPageToken"),
            "reconcileIssues": list_param(request, "reconcileIssues"),
            "expand": request.args.get("expand", ""),
        }

    @staticmethod
    def _int(value: Any, name: str, default: int) -> int:
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ParameterError(name, str(value)) from None
        if number < 0:
            raise ParameterError(name, str(value))
        return number

    def _search_jql(self, request: Request, values: dict[str, Any], user: User | None) -> Response:
        params = self._search_params(request)
        jql = str(params["jql"])
        reconcile = params["reconcileIssues"]
        if len(reconcile) > _MAX_RECONCILE:
            return _error(
                400,
                [
                    f"reconcileIssues takes at most {_MAX_RECONCILE} issue ids, "
                    f"not {len(reconcile)}."
                ],
            )
        compiled, issues = self.backend.search(jql, current_user=user, reconcile=reconcile)
        if not compiled.bounded:
            return _error(
                400,
                [
                    "Unbounded JQL queries are not allowed here. Please add a search "
                    "restriction to your query."
                ],
            )
        spec = FieldSpec.parse(params["fields"], "")
        properties = params["properties"]
        cap = _MAX_RESULTS_IDS_ONLY if spec.empty and not properties else _MAX_RESULTS_WITH_FIELDS
        limit = min(self._int(params["maxResults"], "maxResults", 50), cap)
        token = params["nextPageToken"]
        offset = _read_page_token(str(token), jql) if token else 0
        page = issues[offset : offset + limit] if limit else []
        version = _api_version(values)
        body: dict[str, Any] = {
            "issues": [
                self._search_item(i, version, spec, properties, params["expand"]) for i in page
            ],
        }
        more = offset + len(page) < len(issues) and limit > 0
        if more:
            body["nextPageToken"] = _page_token(offset + len(page), jql)
        body["isLast"] = not more
        return json_response(body)

    def _search_item(
        self, issue: Any, version: int, spec: FieldSpec, properties: list[str], expand: str
    ) -> dict[str, Any]:
        data = self.backend.issue_json(
            issue,
            base_url=self.base_url,
            api_version=version,
            fields=spec,
            properties=properties,
            changelog="changelog" in expand.split(","),
        )
        if spec.empty:
            # Jira answers id-only searches with just the identity of each issue.
            return {k: data[k] for k in ("id", "key", "self", "properties") if k in data}
        return data

    def _search_removed(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        del request, values, user
        return _error(410, [_SEARCH_REMOVED])

    def _search_server(
        self, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        params = self._search_params(request)
        jql = str(params["jql"])
        _, issues = self.backend.search(jql, current_user=user)
        spec = FieldSpec.parse(params["fields"], "*navigable")
        start = self._int(params["startAt"], "startAt", 0)
        limit = min(self._int(params["maxResults"], "maxResults", 50), _MAX_RESULTS_SERVER)
        page = issues[start : start + limit]
        version = _api_version(values)
        return json_response(
            {
                "expand": "schema,names",
                "startAt": start,
                "maxResults": limit,
                "total": len(issues),
                "issues": [
                    self._search_item(i, version, spec, params["properties"], params["expand"])
                    for i in page
                ],
            }
        )
