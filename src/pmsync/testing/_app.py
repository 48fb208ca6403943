"""The emulator's WSGI application: one site, three services, faults and a request log.

Every request goes through the same steps: on Cloud, take the API gateway's prefix
(``/ex/jira/{cloudId}``, ``/ex/confluence/{cloudId}``) off the path; pick the service by
path (``/slack/api/``, the Confluence context path, else Jira), apply scripted latency,
fault statuses and the request quota, authenticate as that service does, route, apply
``drop_after``, run the handler, add the ``X-RateLimit-*`` headers (Jira and Confluence)
and log a :class:`RequestRecord`. Handlers live in the per-service HTTP modules.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Literal, Protocol

import attrs
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from pmsync.testing._faults import Faults, StatusFault
from pmsync.testing._gate import PendingRequest
from pmsync.testing._slack import SlackError
from pmsync.testing._slack_http import slack_params
from pmsync.testing._users import User

__all__ = ["Credentials", "DroppedConnectionError", "EmulatorApp", "RequestRecord", "ServiceHttp"]

_log = logging.getLogger("pmsync.testing")

# werkzeug compiles each route with ast.parse, and CPython 3.11 can fail ast.parse run in
# two threads at once ("SystemError: AST constructor recursion depth mismatch"): emulators
# started from several threads build their route maps one at a time.
_ROUTES_LOCK = threading.Lock()


class DroppedConnectionError(ConnectionAbortedError):
    """Raised by the app to make the server close the connection without answering."""


def _frozen_query(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(value))


@attrs.frozen
class RequestRecord:
    """One request the emulator received, as the request log shows it.

    ``query`` maps each query parameter to its value (repeated parameters joined with
    commas). ``status`` is the HTTP status answered, or ``None`` when ``drop_after``
    closed the connection without an answer. ``mutating`` is true for requests that
    change state (creates, edits, transitions, page and property writes, Slack posts),
    whatever their outcome. ``service`` is ``"jira"``, ``"confluence"`` or ``"slack"``.
    """

    method: str
    path: str
    query: Mapping[str, str] = attrs.field(converter=_frozen_query, hash=False)
    status: int | None
    mutating: bool
    service: str = ""


class ServiceHttp(Protocol):
    """What the app needs from each service's HTTP layer."""

    name: str

    def rules(self) -> list[Rule]:
        """Routing rules."""
        ...

    def handle(
        self, endpoint: str, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        """Serve a routed request."""
        ...

    def is_mutating(self, endpoint: str, values: dict[str, Any]) -> bool:
        """Whether the endpoint changes state."""
        ...

    def needs_auth(self, endpoint: str, values: dict[str, Any]) -> bool:
        """Whether the endpoint requires credentials."""
        ...

    def not_found(self, request: Request) -> Response:
        """The answer to an unknown route."""
        ...

    def method_not_allowed(self, request: Request) -> Response:
        """The answer to a known route with the wrong method."""
        ...

    def unauthorized(self, *, missing: bool) -> Response:
        """The answer to missing or wrong credentials."""
        ...

    def fault(self, fault: StatusFault) -> Response:
        """A scripted fault answer."""
        ...

    def internal_error(self) -> Response:
        """The answer when a handler failed unexpectedly."""
        ...


@attrs.frozen(repr=False)
class Credentials:
    """The credentials the emulated site accepts. The repr never shows a token."""

    flavour: Literal["cloud", "server"]
    email: str
    username: str
    token: str
    slack_token: str
    user: User
    cloud_id: str = ""

    def __repr__(self) -> str:
        return f"Credentials(flavour={self.flavour!r}, email={self.email!r}, tokens=<hidden>)"


_GATEWAY = re.compile(r"^/ex/(jira|confluence)/([^/]+)(/.*)?$")


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


class EmulatorApp:
    """The WSGI callable serving Jira, Confluence and Slack for one emulator."""

    def __init__(
        self,
        *,
        jira: ServiceHttp,
        confluence: ServiceHttp,
        slack: ServiceHttp,
        confluence_context: str,
        faults: Faults,
        credentials: Credentials,
        record: Callable[[RequestRecord], None],
        gate: Callable[[PendingRequest], None] | None = None,
    ) -> None:
        self._services = {"jira": jira, "confluence": confluence, "slack": slack}
        with _ROUTES_LOCK:
            self._maps = {
                name: Map(service.rules(), strict_slashes=False, merge_slashes=False)
                for name, service in self._services.items()
            }
        self._context = confluence_context
        self._faults = faults
        self._credentials = credentials
        self._record = record
        self._gate = gate

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve one request (WSGI)."""
        wsgi = environ  # (named apart from os.environ: these are WSGI keys, not variables)
        gateway = _GATEWAY.match(wsgi.get("PATH_INFO", ""))
        if gateway and self._credentials.flavour == "cloud":
            # api.atlassian.com/ex/{product}/{cloudId}/...: the site's own paths behind it.
            wsgi["pmsync.original_path"] = wsgi["PATH_INFO"]
            wsgi["PATH_INFO"] = gateway.group(3) or "/"
            wsgi["pmsync.gateway"] = gateway.group(1)
        request = Request(environ)
        if request.path == "/_edge/tenant_info":
            response = Response(
                json.dumps({"cloudId": self._credentials.cloud_id}),
                content_type="application/json",
            )
            self._log(request, "jira", 200, mutating=False)
            return response(environ, start_response)
        name = self._service_name(request.path)
        service = self._services[name]
        delay = self._faults.delay_for(name)
        if delay:
            time.sleep(delay)
        outcome: dict[str, Any] = {"mutating": False, "drop": None, "limits": {}}
        try:
            if gateway and (
                gateway.group(2) != self._credentials.cloud_id or gateway.group(1) != name
            ):
                response = service.not_found(request)
            else:
                response = self._respond(request, name, service, outcome)
        except DroppedConnectionError:
            self._log(request, name, None, mutating=True)
            raise
        except Exception:
            _log.exception("emulator: %s %s failed", request.method, request.path)
            response = service.internal_error()
        for header, value in outcome["limits"].items():
            response.headers.setdefault(header, value)
        self._log(
            request, name, None if outcome["drop"] else response.status_code, outcome["mutating"]
        )
        if outcome["drop"] == "after":
            raise DroppedConnectionError("drop_after: the change was applied")
        return response(environ, start_response)

    def _service_name(self, path: str) -> str:
        if path.startswith("/slack/"):
            return "slack"
        if path == self._context or path.startswith(self._context + "/"):
            return "confluence"
        return "jira"

    def _respond(
        self, request: Request, name: str, service: ServiceHttp, outcome: dict[str, Any]
    ) -> Response:
        fault = self._faults.status_fault_for(name)
        if name != "slack":
            over_quota, outcome["limits"] = self._faults.take_quota(name)
            fault = fault or over_quota
        if fault is not None:
            return service.fault(fault)
        adapter = self._maps[name].bind_to_environ(request.environ)
        endpoint: str | None = None
        values: dict[str, Any] = {}
        wrong_method = False
        try:
            endpoint, matched = adapter.match()
            values = dict(matched)
        except MethodNotAllowed:
            wrong_method = True
        except NotFound:
            pass
        needs_auth = service.needs_auth(endpoint, values) if endpoint else name != "slack"
        user: User | None = None
        if needs_auth:
            user, missing = self._authenticate(name, request)
            if user is None:
                return service.unauthorized(missing=missing)
        if wrong_method:
            return service.method_not_allowed(request)
        if endpoint is None:
            return service.not_found(request)
        mutating = service.is_mutating(endpoint, values)
        outcome["mutating"] = mutating
        if self._gate is not None:
            try:
                self._gate(_pending(request, name, mutating))
            except ConnectionAbortedError as exc:  # the gate plays a client that went away
                raise DroppedConnectionError(str(exc)) from exc
        if mutating:
            drop = self._faults.drop_for_mutation(name)
            if drop == "before":
                raise DroppedConnectionError("drop_after: the change was not applied")
            outcome["drop"] = drop
        return service.handle(endpoint, request, values, user)

    def _authenticate(self, name: str, request: Request) -> tuple[User | None, bool]:
        """The authenticated user, and whether credentials were missing altogether."""
        creds = self._credentials
        if name == "slack":
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else None
            if token is None:
                try:
                    token = slack_params(request).get("token")
                except SlackError:
                    token = None
            if not token:
                return None, True
            return (creds.user if _same(str(token), creds.slack_token) else None), False
        header = request.headers.get("Authorization", "")
        if not header:
            return None, True
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, False
            login, _, secret = decoded.partition(":")
            logins = {creds.email.lower()}
            if creds.flavour == "server":
                logins.add(creds.username.lower())
            if login.lower() in logins and _same(secret, creds.token):
                return creds.user, False
            return None, False
        if scheme.lower() == "bearer" and creds.flavour == "server" and _same(value, creds.token):
            return creds.user, False
        return None, False

    def _log(self, request: Request, service: str, status: int | None, mutating: bool) -> None:
        query = {
            # Slack accepts the token as a parameter; a token never reaches the log.
            key: "<redacted>" if key == "token" else ",".join(request.args.getlist(key))
            for key in request.args
        }
        self._record(
            RequestRecord(
                method=request.method,
                path=request.environ.get("pmsync.original_path", request.path),
                query=query,
                status=status,
                mutating=mutating,
                service=service,
            )
        )


def _pending(request: Request, service: str, mutating: bool) -> PendingRequest:
    """What a request gate is shown of a request: never its credentials."""
    return PendingRequest(
        method=request.method,
        path=request.path,
        query={key: ",".join(request.args.getlist(key)) for key in request.args if key != "token"},
        service=service,
        mutating=mutating,
        headers={k: v for k, v in request.headers.items() if k.lower() != "authorization"},
    )
