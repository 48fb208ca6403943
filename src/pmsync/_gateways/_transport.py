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
from requests.adapters import HTTPAdapter
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

__all__ = ["Pacing", "RetryPolicy", "Transport", "error_message", "retry_after", "room_for"]

log = logging.getLogger("pmsync.http")

_RETRY_STATUSES = frozenset({429, 502, 503, 504, 500})
#: Below this share of the quota left, requests are paced (Jira's NearLimit threshold).
_NEAR_LIMIT = 0.2
#: Pacing ends once half the quota is left again: workers' answers arrive out of order,
#: and one sent before the quota ran low must not end the pacing at once.
_PACE_UNTIL = 0.5
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


def room_for(client: Any, workers: int) -> None:
    """Let the client's session keep a connection per worker to its site.

    A run's workers share the client's ``requests.Session`` (safe: its connection pool
    and cookie jar lock what they share). A plain ``HTTPAdapter`` keeps 10 connections
    per host; with more workers, the extra ones would be opened and thrown away after
    each request ("Connection pool is full"). Then a larger adapter (same retry
    settings) is mounted for the client's URL; an adapter of the user's own is left as is.
    """
    session = getattr(client, "session", None)
    url = str(getattr(client, "url", "") or "")
    if not isinstance(session, requests.Session) or not url:
        return
    adapter = session.get_adapter(url)
    if type(adapter) is not HTTPAdapter:
        return
    if adapter.poolmanager.connection_pool_kw.get("maxsize", 1) >= workers:
        return
    session.mount(url, HTTPAdapter(pool_maxsize=workers, max_retries=adapter.max_retries))


class Pacing:
    """What one run's transports share about rate limits; safe to share between threads.

    A run's workers (``concurrency``) share one :class:`Pacing`, so a limit one of them
    meets slows them all. It paces each service once ``X-RateLimit-Remaining`` falls
    below a fifth of ``X-RateLimit-Limit`` (or ``X-RateLimit-NearLimit: true``): one
    request per refill (``X-RateLimit-Interval-Seconds`` / ``X-RateLimit-FillRate``),
    else the remaining requests spread until ``X-RateLimit-Reset``; the pace counts the
    requests of every worker together, each taking the next free moment. A 429's wait
    holds every worker's next request to that service, not only the one that met it.
    It spaces out writes to one Jira issue once Jira has answered a per-issue write
    limit. And once a service has asked for a wait longer than a run may take, it holds
    that error: every later request raises it without being sent, so the run stops
    between requests and never half-way through one (:meth:`interrupt` does the same
    for a run being interrupted). ``sleep`` is injectable for tests.
    """

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep
        self.stopped: QuotaExhaustedError | None = None
        self._interrupted = False
        self._lock = threading.Lock()
        self._pace: dict[str, float] = {}
        # the monotonic moment of the run's last request sent (or booked), any service
        self._last = 0.0
        # service -> no request before this monotonic moment (a 429's wait)
        self._hold: dict[str, float] = {}
        self._issue_gap = 0.0
        self._issue_writes: dict[str, float] = {}

    def raise_if_stopped(self) -> None:
        """Raise the error that stopped the run, if one did."""
        if self.stopped is not None:
            raise self.stopped

    def before(self, service: str, method: str, path: str) -> None:
        """Wait as the service's limits ask before sending a request (or refuse it)."""
        self._refuse_if_ended(service)
        key = None
        if method.upper() != "GET" and service == "jira":
            match = _ISSUE_WRITE.match(path.lstrip("/"))
            key = match.group(1) if match else None
        with self._lock:
            now = time.monotonic()
            start = max(now, self._hold.get(service, now))
            # Jira and Confluence may draw on one quota (the headers do not say): the
            # slowest pace asked for holds for every request.
            pace = max(self._pace.values(), default=0.0)
            if pace:  # a refill's time after now or the last request, whichever is later
                start = max(start, self._last) + pace
            if key is not None and self._issue_gap:
                last = self._issue_writes.get(key)
                if last is not None:
                    start = max(start, last + self._issue_gap)
            # booked now, so that the next worker's request takes the moment after it
            self._last = max(self._last, start)
        if start > now:
            self.sleep(start - now)
            self._refuse_if_ended(service)  # stopped while waiting: nothing is sent
        if key is not None:  # one issue is written by one worker: its own clock
            with self._lock:
                self._issue_writes[key] = time.monotonic()

    def _refuse_if_ended(self, service: str) -> None:
        self.raise_if_stopped()
        if self._interrupted:
            raise ServiceError(
                f"{service}: the run was interrupted; this request was not sent. The next "
                "run picks up where this one stopped.",
                service=service,
            )

    def after(self, service: str, headers: Mapping[str, str], cap: float) -> None:
        """Learn the pace from a response's ``X-RateLimit-*`` headers."""
        limit = _number(headers, "X-RateLimit-Limit")
        remaining = _number(headers, "X-RateLimit-Remaining")
        near = (headers.get("X-RateLimit-NearLimit") or "").lower() == "true"
        if remaining is None or not (near or (limit and remaining < limit * _NEAR_LIMIT)):
            if remaining is None or not limit or remaining >= limit * _PACE_UNTIL:
                with self._lock:
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
        with self._lock:
            self._pace[service] = min(pace, cap)

    def rate_limited(self, service: str, wait: float | None) -> None:
        """A 429 asked to wait ``wait`` seconds: every worker's next request to ``service``
        waits as long (the one that met it waits in its retry)."""
        if not wait:
            return
        with self._lock:
            until = time.monotonic() + wait
            self._hold[service] = max(self._hold.get(service, until), until)

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

    def interrupt(self) -> None:
        """The run is being interrupted (Ctrl-C): refuse every request until :meth:`resume`.

        Requests already sent finish; a worker's next request raises instead of being
        sent, so a worker stops between requests, never half-way through a page write.
        """
        self._interrupted = True

    def resume(self) -> None:
        """Send requests again after :meth:`interrupt` (the interrupted run has ended)."""
        self._interrupted = False


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
            elif wait is not None and wait <= self.policy.wait_max:
                self.pacing.rate_limited(self.service, wait)
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
