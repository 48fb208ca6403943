"""The routing and answer plumbing that the emulated Atlassian services share.

Confluence and Jira route the same way (one handler per path and method, some of them
mutating), ask for credentials on every endpoint and answer a Cloud 401 with the same
plain-text body. :class:`AtlassianHttp` holds that plumbing once; each service's module
keeps its own routes, error bodies and headers.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from pmsync.testing._users import User
from pmsync.testing._wire import ParameterError, RequestBodyError

__all__ = ["AtlassianHttp", "Handler", "html_not_found"]

Handler = Callable[[Request, dict[str, Any], "User | None"], Response]

_CLOUD_UNAUTHORIZED = "Client must be authenticated to access this resource."


def html_not_found(heading: str) -> Response:
    """The HTML 404 page an Atlassian site serves outside its REST API."""
    return Response(
        f"<html><body><h1>{heading}</h1></body></html>",
        status=404,
        content_type="text/html;charset=UTF-8",
    )


class AtlassianHttp(abc.ABC):
    """Route table, authentication answers and error mapping of an Atlassian service.

    A subclass sets ``name`` and ``challenge_headers``, declares its routes in
    :meth:`_build_routes` with :meth:`_route`, and says how a client error and a Server
    401 look in :meth:`client_error` and :meth:`server_unauthorized`.
    """

    #: The service's name, also the prefix of its endpoints.
    name: str
    #: Headers sent with every 401, in order.
    challenge_headers: ClassVar[Mapping[str, str]]
    #: Errors a handler raises for a bad request, answered by :meth:`client_error`.
    client_errors: ClassVar[tuple[type[Exception], ...]] = (RequestBodyError, ParameterError)

    def __init__(self, *, cloud: bool) -> None:
        self.cloud = cloud
        self.handlers: dict[str, Handler] = {}
        self.mutating: set[str] = set()
        self._rules: list[Rule] = []
        self._build_routes()

    # -- routing ---------------------------------------------------------------------------

    def _route(
        self, path: str, methods: list[str], handler: Handler, *, mutating: bool = False
    ) -> None:
        endpoint = f"{self.name}.{handler.__name__.lstrip('_')}.{'-'.join(methods)}"
        self.handlers[endpoint] = handler
        if mutating:
            self.mutating.add(endpoint)
        self._rules.append(Rule(path, methods=methods, endpoint=endpoint))

    @abc.abstractmethod
    def _build_routes(self) -> None:
        """Register every route of the service with :meth:`_route`."""

    def rules(self) -> list[Rule]:
        """The routing rules of this service."""
        return list(self._rules)

    # -- answers the app needs ----------------------------------------------------------

    def is_mutating(self, endpoint: str, values: dict[str, Any]) -> bool:
        """Whether this endpoint changes state (what ``drop_after`` and the log count)."""
        del values
        return endpoint in self.mutating

    def needs_auth(self, endpoint: str, values: dict[str, Any]) -> bool:
        """Every endpoint needs credentials."""
        del endpoint, values
        return True

    def unauthorized(self, *, missing: bool) -> Response:
        """The answer to missing or wrong credentials (the same for both)."""
        del missing
        if self.cloud:
            response = Response(
                _CLOUD_UNAUTHORIZED, status=401, content_type="text/plain;charset=UTF-8"
            )
        else:
            response = self.server_unauthorized()
        for name, value in self.challenge_headers.items():
            response.headers[name] = value
        return response

    @abc.abstractmethod
    def server_unauthorized(self) -> Response:
        """The Server (Data Center) 401, before the challenge headers are added."""

    def handle(
        self, endpoint: str, request: Request, values: dict[str, Any], user: User | None
    ) -> Response:
        """Run one handler and turn a client error into the service's 4xx answer."""
        try:
            return self.handlers[endpoint](request, values, user)
        except self.client_errors as exc:
            return self.client_error(exc)

    @abc.abstractmethod
    def client_error(self, exc: Exception) -> Response:
        """The service's answer to one of :attr:`client_errors`."""
