"""One way to send a request: through a real client's session, with retries and error translation.

Every request pmsync makes to Confluence or Jira goes through :class:`Transport`. It uses
the atlassian-python-api client that the user configured (URL, auth, TLS, proxies,
session) but none of the client's own retry machinery (its once-only sleep on a 429's
``Retry-After`` is switched off): pmsync runs one retry policy of its own (stamina) with a
total time budget, and never replays a request that is not safe to replay (DESIGN.md §7).

Vendor errors (``requests`` exceptions, HTTP error statuses) become pmsync errors here,
so the rest of pmsync sees only :mod:`pmsync.exceptions`.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import Any

import attrs
import requests
import stamina
from urllib3.exceptions import NameResolutionError, NewConnectionError

from pmsync._metrics import count_request, count_retry
from pmsync.exceptions import (
    AuthError,
    NotFoundError,
    PmsyncError,
    RateLimitError,
    ServiceError,
)

__all__ = ["RetryPolicy", "Transport", "error_message"]

log = logging.getLogger("pmsync.http")

_RETRY_STATUSES = frozenset({429, 502, 503, 504, 500})


@attrs.frozen
class RetryPolicy:
    """How hard pmsync tries before giving up on a request.

    ``attempts`` counts every try of one request; ``budget`` (seconds) bounds the total time
    spent on one request including waits; waits grow exponentially from ``wait_initial``
    to ``wait_max`` with jitter, except that a ``Retry-After`` header is honoured as given
    (a ``Retry-After`` longer than ``wait_max`` gives up at once rather than stall a run).
    The socket timeout of each request is the client's own (``timeout=`` when building
    the atlassian-python-api client; 75 seconds by default).
    """

    attempts: int = 6
    budget: float = 120.0
    wait_initial: float = 0.5
    wait_max: float = 60.0


class _Retry(Exception):  # noqa: N818  (internal signal, never escapes this module)
    """Raised inside the retry loop to ask for another attempt."""

    def __init__(self, error: PmsyncError, wait: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait = wait


def _backoff(exc: Exception) -> bool | float:
    if isinstance(exc, _Retry):
        return True if exc.wait is None else exc.wait
    return False


def error_message(response: requests.Response) -> str:
    """The human part of an Atlassian error body: messages joined, else the text."""
    try:
        body = response.json()
    except ValueError:
        text = (response.text or "").strip()
        return text[:300] or (response.reason or f"HTTP {response.status_code}")
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("message", "detail", "reason", "error"):
            value = body.get(key)
            if isinstance(value, str) and value and value not in parts:
                parts.append(value)
        parts.extend(str(m) for m in body.get("errorMessages") or [] if m)
        errors = body.get("errors")
        if isinstance(errors, Mapping):
            parts.extend(f"{field}: {message}" for field, message in errors.items())
        elif isinstance(errors, list):
            parts.extend(
                str(e.get("message", e)) if isinstance(e, Mapping) else str(e) for e in errors
            )
    return "; ".join(parts) or response.reason or f"HTTP {response.status_code}"


def _never_connected(exc: requests.RequestException) -> str | None:
    """Why a request never reached the server (DNS, refused...), or None if it may have.

    Such a request was not sent, so even a POST may be tried again; but the next try
    will most likely fail the same way, so it is tried only once more.
    """
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NameResolutionError):
        return "the host name does not resolve (DNS)"
    if isinstance(reason, NewConnectionError):
        refused = isinstance(reason.__context__, ConnectionRefusedError)
        return "connection refused" if refused else "cannot connect"
    return None


def _ssl_reason(exc: requests.exceptions.SSLError) -> str:
    """The innermost reason of a TLS failure, such as "certificate verify failed"."""
    reason: BaseException = exc
    while True:
        inner = getattr(reason, "reason", None) or (reason.args or (None,))[0]
        if not isinstance(inner, BaseException):
            return str(reason)
        reason = inner


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class Transport:
    """Send requests through an atlassian-python-api client, with retries.

    ``service`` names the service in errors (``confluence`` or ``jira``).
    """

    def __init__(self, client: Any, service: str, policy: RetryPolicy | None = None) -> None:
        # The client would sleep a 429's Retry-After itself, whatever our budget says;
        # pmsync's policy honours it instead, within RetryPolicy.wait_max and budget.
        if getattr(client, "retry_with_header", False):
            client.retry_with_header = False
        self.client = client
        self.service = service
        self.policy = policy or RetryPolicy()

    @property
    def base_url(self) -> str:
        """The client's base URL, without a trailing slash."""
        return str(self.client.url).rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
        accept: Collection[int] = (),
    ) -> requests.Response:
        """Send one request and return its response, retrying what is safe to retry.

        ``idempotent`` defaults to true for GET/PUT/DELETE and false for POST: a POST is
        never replayed after a 5xx or a dropped connection (it may have been applied),
        only after a 429 (which the server did not process). Statuses in ``accept`` are
        returned to the caller instead of raised (a 409 on a versioned write, say).
        """
        if idempotent is None:
            idempotent = method.upper() != "POST"
        policy = self.policy
        try:
            for attempt in stamina.retry_context(
                on=_backoff,
                attempts=policy.attempts,
                timeout=policy.budget,
                wait_initial=policy.wait_initial,
                wait_max=policy.wait_max,
            ):
                if attempt.num > 1:
                    count_retry(self.service)
                with attempt:
                    return self._once(
                        method,
                        path,
                        params=params,
                        body=body,
                        idempotent=idempotent,
                        accept=accept,
                        first=attempt.num == 1,
                    )
        except _Retry as exc:
            raise exc.error from None
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: Any,
        idempotent: bool,
        accept: Collection[int],
        first: bool = True,
    ) -> requests.Response:
        url = f"{self.base_url}/{path.lstrip('/')}"
        try:
            response: requests.Response = self.client.request(
                method=method,
                path=path,
                params=dict(params) if params else None,
                data=body,  # the client serialises it to JSON
                advanced_mode=True,
            )
        except requests.exceptions.SSLError as exc:
            count_request(self.service, None)
            # Not retried: a certificate the client does not trust stays untrusted.
            raise ServiceError(
                f"{self.service}: {method} {url} failed: TLS error ({_ssl_reason(exc)})",
                service=self.service,
                url=url,
            ) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            count_request(self.service, None)
            why = _never_connected(exc)
            if why is not None:
                unreachable = ServiceError(
                    f"{self.service}: {method} {url} failed: {why}", service=self.service, url=url
                )
                if first:
                    log.info("retrying %s %s once: %s", method, url, why)
                    raise _Retry(unreachable, None) from None
                raise unreachable from None
            maybe = "" if method.upper() == "GET" else "; it may or may not have been applied"
            dropped = ServiceError(
                f"{self.service}: {method} {url} failed: no response ({type(exc).__name__}){maybe}",
                service=self.service,
                url=url,
            )
            if idempotent:
                log.info("retrying %s %s after %s", method, path, type(exc).__name__)
                raise _Retry(dropped, None) from None
            raise dropped from None
        status = response.status_code
        count_request(self.service, status)
        log.debug("%s %s -> %s", method, path, status)
        if status < 400 or status in accept:
            return response
        message = f"{self.service}: {method} {path} answered {status}: {error_message(response)}"
        if status == 429:
            wait = _retry_after(response)
            limited = RateLimitError(message, service=self.service, url=url, retry_after=wait)
            if wait is not None and wait > self.policy.wait_max:
                raise limited
            raise _Retry(limited, wait)
        if status in (401, 403):
            hint = (
                " Check the credentials: Cloud uses an email and an API token, "
                "Server/Data Center a personal access token."
                if status == 401
                else " The account lacks permission for this."
            )
            raise AuthError(message + hint, service=self.service, status=status, url=url)
        if status == 404:
            raise NotFoundError(message, service=self.service, status=status, url=url)
        error = ServiceError(message, service=self.service, status=status, url=url)
        if status in _RETRY_STATUSES and idempotent:
            raise _Retry(error, _retry_after(response))
        raise error

    def json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Any:
        """Send a request and return its decoded JSON body (``None`` when empty)."""
        response = self.request(method, path, params=params, body=body, idempotent=idempotent)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ServiceError(
                f"{self.service}: {method} {path} answered {response.status_code} "
                "with a body that is not JSON",
                service=self.service,
                status=response.status_code,
            ) from None
