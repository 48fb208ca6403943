"""One way to send a request: through a real client's session, with retries and error translation.

Every request pmsync makes to Confluence or Jira goes through :class:`Transport`. It uses
the atlassian-python-api client that the user configured (URL, auth, TLS, proxies,
session) but none of the client's own retry machinery (its once-only sleep on a 429's
``Retry-After`` is switched off): pmsync runs one retry policy of its own (stamina) with a
total time budget, and never replays a request that is not safe to replay (DESIGN.md §7).

Rate limits (DESIGN.md §7, Atlassian's rate-limiting guides): a 429's wait is read from
``Retry-After`` (seconds or an HTTP date), else ``Beta-Retry-After``; a wait longer than
:attr:`RetryPolicy.wait_max` stops the whole run (:class:`~pmsync.exceptions.
QuotaExhaustedError`: nothing more is sent, the next run resumes). :class:`Pacing`,
shared by a run's transports, slows requests down when ``X-RateLimit-Remaining`` runs
low and spaces out writes to one issue once Jira has asked for it
(``RateLimit-Reason: jira-per-issue-on-write``).

Vendor errors (``requests`` exceptions, HTTP error statuses) become pmsync errors here,
so the rest of pmsync sees only :mod:`pmsync.exceptions`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Mapping
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
    QuotaExhaustedError,
    RateLimitError,
    ServiceError,
)

__all__ = ["Pacing", "RetryPolicy", "Transport", "error_message", "retry_after"]

log = logging.getLogger("pmsync.http")

_RETRY_STATUSES = frozenset({429, 502, 503, 504, 500})
#: Below this share of the quota left, requests are paced (Jira's NearLimit threshold).
_NEAR_LIMIT = 0.2
_PER_ISSUE = "jira-per-issue-on-write"
_ISSUE_WRITE = re.compile(r"rest/api/[^/]+/issue/(?!bulk(?:[/?]|$))([^/?]+)")
_RETIRED = (
    " Atlassian has retired this endpoint. Upgrade pmsync; for Confluence pages, set "
    'confluence_api = "auto" (or "v2" on Cloud, "v1" on Server/Data Center) in the '
    "configuration."
)


@attrs.frozen
class RetryPolicy:
    """How hard pmsync tries before giving up on a request.

    ``attempts`` counts every try of one request; ``budget`` (seconds) bounds the total time
    spent on one request including waits; waits grow exponentially from ``wait_initial``
    to ``wait_max`` with jitter, except that a ``Retry-After`` header is honoured as given
    (a ``Retry-After`` longer than ``wait_max`` gives up at once rather than stall a run).
    The socket timeout of each request is the client's own (``timeout=`` when building
    the atlassian-python-api client; 75 seconds by default). A rate-limit wait longer than
    ``wait_max`` (an exhausted hourly quota) stops the run with
    :class:`~pmsync.QuotaExhaustedError`.
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
                str(e.get("message") or e.get("title") or e) if isinstance(e, Mapping) else str(e)
                for e in errors
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


def retry_after(headers: Mapping[str, str], now: dt.datetime | None = None) -> float | None:
    """The seconds a response asks to wait: ``Retry-After`` (seconds or an HTTP date),
    else ``Beta-Retry-After``; ``None`` when it names no wait."""
    for name in ("Retry-After", "Beta-Retry-After"):
        value = (headers.get(name) or "").strip()
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return max(0.0, (moment - (now or dt.datetime.now(dt.UTC))).total_seconds())
    return None


def _number(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, ValueError):
        return None


def _reset_in(headers: Mapping[str, str]) -> float | None:
    """Seconds until ``X-RateLimit-Reset`` (ISO 8601, as Jira Cloud writes it)."""
    value = (headers.get("X-RateLimit-Reset") or "").strip()
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0.0, (moment - dt.datetime.now(dt.UTC)).total_seconds())


class Pacing:
    """What one run's transports share about rate limits.

    It paces each service once ``X-RateLimit-Remaining`` falls below a fifth of
    ``X-RateLimit-Limit`` (or ``X-RateLimit-NearLimit: true``): one request per refill
    (``X-RateLimit-Interval-Seconds`` / ``X-RateLimit-FillRate``), else the remaining
    requests spread until ``X-RateLimit-Reset``. It spaces out writes to one Jira issue
    once Jira has answered a per-issue write limit. And once a service has asked for a
    wait longer than a run may take, it holds that error: every later request raises it
    without being sent, so the run stops between requests and never half-way through one.
    ``sleep`` is injectable for tests.
    """

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep
        self.stopped: QuotaExhaustedError | None = None
        self._lock = threading.Lock()
        self._pace: dict[str, float] = {}
        self._issue_gap = 0.0
        self._issue_writes: dict[str, float] = {}

    def raise_if_stopped(self) -> None:
        """Raise the error that stopped the run, if one did."""
        if self.stopped is not None:
            raise self.stopped

    def before(self, service: str, method: str, path: str) -> None:
        """Wait as the service's limits ask before sending a request (or refuse it)."""
        self.raise_if_stopped()
        wait = self._pace.get(service, 0.0)
        key = None
        if method.upper() != "GET" and service == "jira":
            match = _ISSUE_WRITE.match(path.lstrip("/"))
            key = match.group(1) if match else None
        if key is not None and self._issue_gap:
            with self._lock:
                last = self._issue_writes.get(key)
            if last is not None:
                wait = max(wait, last + self._issue_gap - time.monotonic())
        if wait > 0:
            self.sleep(wait)
        if key is not None:
            with self._lock:
                self._issue_writes[key] = time.monotonic()

    def after(self, service: str, headers: Mapping[str, str], cap: float) -> None:
        """Learn the pace from a response's ``X-RateLimit-*`` headers."""
        limit = _number(headers, "X-RateLimit-Limit")
        remaining = _number(headers, "X-RateLimit-Remaining")
        near = (headers.get("X-RateLimit-NearLimit") or "").lower() == "true"
        if remaining is None or not (near or (limit and remaining < limit * _NEAR_LIMIT)):
            self._pace[service] = 0.0
            return
        fill = _number(headers, "X-RateLimit-FillRate")
        interval = _number(headers, "X-RateLimit-Interval-Seconds")
        if fill and interval:
            pace = interval / fill
        else:
            reset = _reset_in(headers)
            pace = reset / max(remaining, 1.0) if reset is not None else 0.0
        if pace:
            log.debug("%s: %s requests left; pacing at %.3fs", service, int(remaining), pace)
        self._pace[service] = min(pace, cap)

    def per_issue_limit(self, wait: float | None) -> None:
        """Jira limited writes to one issue: space later writes to any issue that far."""
        with self._lock:
            self._issue_gap = max(self._issue_gap, wait or 1.0)

    def stop(self, error: QuotaExhaustedError) -> QuotaExhaustedError:
        """Stop the run with ``error``: no request is sent after this."""
        with self._lock:
            if self.stopped is None:
                self.stopped = error
            return self.stopped


class Transport:
    """Send requests through an atlassian-python-api client, with retries.

    ``service`` names the service in errors (``confluence`` or ``jira``).
    """

    def __init__(
        self,
        client: Any,
        service: str,
        policy: RetryPolicy | None = None,
        pacing: Pacing | None = None,
    ) -> None:
        # The client would sleep a 429's Retry-After itself, whatever our budget says;
        # pmsync's policy honours it instead, within RetryPolicy.wait_max and budget.
        if getattr(client, "retry_with_header", False):
            client.retry_with_header = False
        self.client = client
        self.service = service
        self.policy = policy or RetryPolicy()
        self.pacing = pacing or Pacing()

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
        self.pacing.before(self.service, method, path)
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
        self.pacing.after(self.service, response.headers, self.policy.wait_max)
        if status < 400 or status in accept:
            return response
        message = f"{self.service}: {method} {path} answered {status}: {error_message(response)}"
        if status == 429:
            wait = retry_after(response.headers)
            reason = response.headers.get("RateLimit-Reason")
            if reason == _PER_ISSUE:
                self.pacing.per_issue_limit(wait)
            if wait is not None and wait > self.policy.wait_max:
                raise self.pacing.stop(
                    QuotaExhaustedError(
                        f"{message}. {self.service} asks pmsync to wait {wait:.0f} s"
                        + (f" ({reason})" if reason else "")
                        + f", longer than a run waits ({self.policy.wait_max:.0f} s): "
                        "stopped before sending anything more. The next run picks up "
                        "where this one stopped.",
                        service=self.service,
                        url=url,
                        retry_after=wait,
                        reason=reason,
                    )
                )
            limited = RateLimitError(message, service=self.service, url=url, retry_after=wait)
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
        if status == 410:
            message += _RETIRED
        error = ServiceError(message, service=self.service, status=status, url=url)
        if status in _RETRY_STATUSES and idempotent:
            raise _Retry(error, retry_after(response.headers))
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
