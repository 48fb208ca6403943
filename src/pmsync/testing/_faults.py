"""Faults that tests script into an emulator: rate limits, errors, latency, drops.

``emu.faults`` is a :class:`Faults`. Each knob arms a rule; the WSGI app asks the rules
about every request before it is served. Fractions draw from a random generator seeded
when the emulator is created (and again on ``reset()``), so a run repeats exactly.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import random
import threading
import time
from collections.abc import Callable
from typing import Literal

import attrs

from pmsync.testing._clock import now

__all__ = ["Faults", "RetryHeader", "Service", "rate_limit_headers"]

Service = Literal["jira", "confluence", "slack"]
#: How a 429 says when to come back: ``Retry-After`` in seconds or as an HTTP date,
#: ``Beta-Retry-After`` (seconds) alone, or nothing at all.
RetryHeader = Literal["seconds", "http-date", "beta", "none"]
_SERVICES = ("jira", "confluence", "slack")
_HEADERS = ("seconds", "http-date", "beta", "none")
#: What ``X-RateLimit-Limit`` says when no quota is armed (nothing is enforced).
_NOMINAL_LIMIT = 1000


@attrs.define
class _StatusRule:
    kind: Literal["rate_limit", "server_error"]
    status: int
    retry_after: int | None
    remaining: int | None
    fraction: float | None
    service: str | None
    header: RetryHeader = "seconds"
    reason: str | None = None


@attrs.define
class _DropRule:
    remaining: int
    applied: bool
    service: str | None


@attrs.define
class _Quota:
    """A token bucket: ``limit`` requests, refilled at ``limit`` per ``per`` seconds."""

    limit: int
    per: float
    tokens: float
    stamp: float

    def take(self) -> float | None:
        """Spend a token; return ``None``, or the seconds until one is free when empty."""
        moment = time.monotonic()
        rate = self.limit / self.per
        self.tokens = min(self.limit, self.tokens + (moment - self.stamp) * rate)
        self.stamp = moment
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / rate


@attrs.frozen
class StatusFault:
    """A fault answer decided for one request: the status, when to retry and how to say it.

    ``header`` is the form of the retry hint (see :data:`RetryHeader`), ``reason`` the
    ``RateLimit-Reason`` a 429 carries (Jira), if any.
    """

    kind: Literal["rate_limit", "server_error"]
    status: int
    retry_after: int | None
    header: RetryHeader = "seconds"
    reason: str | None = None


def rate_limit_headers(fault: StatusFault) -> dict[str, str]:
    """The retry headers of a fault answer, in the form the fault asks for."""
    if fault.retry_after is None or fault.header == "none":
        return {}
    if fault.header == "beta":
        return {"Beta-Retry-After": str(fault.retry_after)}
    if fault.header == "http-date":
        moment = now() + dt.timedelta(seconds=fault.retry_after)
        return {"Retry-After": email.utils.format_datetime(moment, usegmt=True)}
    return {"Retry-After": str(fault.retry_after)}


def _check_service(service: str | None) -> None:
    if service is not None and service not in _SERVICES:
        raise ValueError(f"service must be one of {', '.join(_SERVICES)} or None, not {service!r}")


def _check_count_fraction(count: int | None, fraction: float | None) -> None:
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError(f"count must be a positive integer or None, not {count!r}")
    if fraction is not None and not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1] or None, not {fraction!r}")


class Faults:
    """Scriptable faults for one emulator (``emu.faults``).

    Rules apply to the requests that arrive after they are armed, for every service or
    only for ``service`` (``"jira"``, ``"confluence"`` or ``"slack"``). With neither
    ``count`` nor ``fraction``, a status rule answers every request until :meth:`clear`;
    ``count`` limits it to that many answers; ``fraction`` picks requests at random (with
    the emulator's seeded generator); both together answer ``count`` randomly picked
    requests.
    """

    def __init__(self, lock: threading.RLock, seed: int = 0) -> None:
        self._lock = lock
        self._random = random.Random(seed)
        self._status_rules: list[_StatusRule] = []
        self._latency: dict[str | None, float] = {}
        self._drops: list[_DropRule] = []
        self._page_write_callbacks: list[Callable[[str], object]] = []
        self._quotas: dict[str | None, _Quota] = {}

    def rate_limit(
        self,
        count: int | None = None,
        fraction: float | None = None,
        retry_after: int = 1,
        *,
        service: Service | None = None,
        header: RetryHeader = "seconds",
        reason: str | None = None,
    ) -> None:
        """Answer requests with 429 and a hint to come back after ``retry_after`` seconds.

        ``header`` picks how the hint is sent: ``"seconds"`` (``Retry-After: 30``),
        ``"http-date"`` (``Retry-After: Fri, 04 Dec 2026 21:00:30 GMT``, from the
        emulator's clock), ``"beta"`` (only ``Beta-Retry-After: 30``) or ``"none"``.
        ``reason`` sets Jira's ``RateLimit-Reason`` (default ``jira-burst-based`` on
        Cloud); a point-based hourly quota running out looks like
        ``rate_limit(retry_after=1800, reason="jira-quota-tenant-based")``.

        Each service answers in its own shape: Jira and Confluence with their JSON error
        bodies, Slack with ``{"ok": false, "error": "ratelimited"}``.
        """
        _check_count_fraction(count, fraction)
        _check_service(service)
        if not isinstance(retry_after, int) or retry_after < 0:
            raise ValueError(f"retry_after must be a non-negative integer, not {retry_after!r}")
        if header not in _HEADERS:
            raise ValueError(f"header must be one of {', '.join(_HEADERS)}, not {header!r}")
        with self._lock:
            self._status_rules.append(
                _StatusRule(
                    "rate_limit", 429, retry_after, count, fraction, service, header, reason
                )
            )

    def quota(self, requests: int, per: float = 1.0, *, service: Service | None = None) -> None:
        """Enforce a request quota: ``requests`` per ``per`` seconds (a token bucket).

        Jira and Confluence then report the bucket on every response
        (``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-NearLimit`` below
        a fifth, ``X-RateLimit-FillRate`` and ``X-RateLimit-Interval-Seconds``) and answer
        429 with ``Retry-After`` once it is empty. Without a quota they report a nominal
        limit that is never reached. The bucket runs on real (monotonic) time.
        """
        _check_service(service)
        if not isinstance(requests, int) or requests < 1 or per <= 0:
            raise ValueError(f"a quota needs requests >= 1 and per > 0, not {requests!r}/{per!r}")
        with self._lock:
            self._quotas[service] = _Quota(requests, float(per), float(requests), time.monotonic())

    def server_error(
        self,
        count: int | None = None,
        fraction: float | None = None,
        status: int = 503,
        *,
        retry_after: int | None = None,
        service: Service | None = None,
    ) -> None:
        """Answer requests with a 5xx ``status`` (and ``Retry-After`` if given)."""
        _check_count_fraction(count, fraction)
        _check_service(service)
        if not 500 <= status <= 599:
            raise ValueError(f"status must be a 5xx code, not {status!r}")
        if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
            raise ValueError(f"retry_after must be a non-negative integer, not {retry_after!r}")
        with self._lock:
            self._status_rules.append(
                _StatusRule("server_error", status, retry_after, count, fraction, service)
            )

    def latency(self, seconds: float, *, service: Service | None = None) -> None:
        """Delay every request by ``seconds`` before it is served (0 removes the delay)."""
        _check_service(service)
        if seconds < 0:
            raise ValueError(f"latency must not be negative, not {seconds!r}")
        with self._lock:
            if seconds:
                self._latency[service] = float(seconds)
            else:
                self._latency.pop(service, None)

    def drop_after(self, k: int, applied: bool = True, *, service: Service | None = None) -> None:
        """Close the connection without any response on the ``k``-th mutating request.

        ``k`` counts mutating requests from now (1 is the next one) that reach the
        service: authenticated, routed and not answered by another fault. With
        ``applied=True`` the change is made and then the connection drops (the client
        cannot know it landed); with ``applied=False`` it drops before any change.
        """
        _check_service(service)
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive integer, not {k!r}")
        with self._lock:
            self._drops.append(_DropRule(k, applied, service))

    def on_page_write(self, callback: Callable[[str], object]) -> None:
        """Call ``callback(page_id)`` once, just before the next page update is processed.

        Use it to play a human saving the page at the worst moment: the callback may call
        ``emu.edit_page(page_id, ...)``, and the update that follows then meets a newer
        version, exactly as it would against the real service.
        """
        if not callable(callback):
            raise TypeError("on_page_write needs a callable taking the page id")
        with self._lock:
            self._page_write_callbacks.append(callback)

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._status_rules.clear()
            self._quotas.clear()
            self._latency.clear()
            self._drops.clear()
            self._page_write_callbacks.clear()

    # -- used by the WSGI app ------------------------------------------------------------

    def reseed(self, seed: int) -> None:
        """Restart the random generator (``Emulator.reset()`` calls this)."""
        with self._lock:
            self._random.seed(seed)

    def delay_for(self, service: str) -> float:
        """The latency to apply to a request for ``service``."""
        with self._lock:
            return self._latency.get(service, self._latency.get(None, 0.0))

    def status_fault_for(self, service: str) -> StatusFault | None:
        """Decide whether this request gets a fault status; consume a count if so."""
        with self._lock:
            for rule in list(self._status_rules):
                if rule.service not in (None, service):
                    continue
                if rule.fraction is not None and self._random.random() >= rule.fraction:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._status_rules.remove(rule)
                return StatusFault(
                    rule.kind, rule.status, rule.retry_after, rule.header, rule.reason
                )
        return None

    def take_quota(self, service: str) -> tuple[StatusFault | None, dict[str, str]]:
        """Spend one request of the service's quota: a 429 fault when it is empty, and the
        ``X-RateLimit-*`` headers every response carries."""
        with self._lock:
            quota = self._quotas.get(service, self._quotas.get(None))
            if quota is None:
                limit = str(_NOMINAL_LIMIT)
                return None, {"X-RateLimit-Limit": limit, "X-RateLimit-Remaining": limit}
            wait = quota.take()
            remaining = int(quota.tokens)
            headers = {
                "X-RateLimit-Limit": str(quota.limit),
                "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-FillRate": str(quota.limit),
                "X-RateLimit-Interval-Seconds": f"{quota.per:g}",
            }
            if remaining < quota.limit / 5:
                headers["X-RateLimit-NearLimit"] = "true"
            if wait is None:
                return None, headers
            return StatusFault("rate_limit", 429, math.ceil(wait)), headers

    def drop_for_mutation(self, service: str) -> Literal["before", "after"] | None:
        """Count one mutating request; say whether to drop it, before or after applying."""
        with self._lock:
            fired: _DropRule | None = None
            for rule in list(self._drops):
                if rule.service not in (None, service):
                    continue
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._drops.remove(rule)
                    fired = fired or rule
            if fired is None:
                return None
            return "after" if fired.applied else "before"

    def take_page_write_callback(self) -> Callable[[str], object] | None:
        """The pending ``on_page_write`` callback, removed so that it runs once."""
        with self._lock:
            return self._page_write_callbacks.pop(0) if self._page_write_callbacks else None
