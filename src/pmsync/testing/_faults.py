"""Faults that tests script into an emulator: rate limits, errors, latency, drops.

``emu.faults`` is a :class:`Faults`. Each knob arms a rule; the WSGI app asks the rules
about every request before it is served. Fractions draw from a random generator seeded
when the emulator is created (and again on ``reset()``), so a run repeats exactly.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Literal

import attrs

__all__ = ["Faults", "Service"]

Service = Literal["jira", "confluence", "slack"]
_SERVICES = ("jira", "confluence", "slack")


@attrs.define
class _StatusRule:
    kind: Literal["rate_limit", "server_error"]
    status: int
    retry_after: int | None
    remaining: int | None
    fraction: float | None
    service: str | None


@attrs.define
class _DropRule:
    remaining: int
    applied: bool
    service: str | None


@attrs.frozen
class StatusFault:
    """A fault answer decided for one request: the status and the ``Retry-After`` header."""

    kind: Literal["rate_limit", "server_error"]
    status: int
    retry_after: int | None


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

    def rate_limit(
        self,
        count: int | None = None,
        fraction: float | None = None,
        retry_after: int = 1,
        *,
        service: Service | None = None,
    ) -> None:
        """Answer requests with 429 and ``Retry-After: retry_after`` (integer seconds).

        Each service answers in its own shape: Jira and Confluence with their JSON error
        bodies, Slack with ``{"ok": false, "error": "ratelimited"}``.
        """
        _check_count_fraction(count, fraction)
        _check_service(service)
        if not isinstance(retry_after, int) or retry_after < 0:
            raise ValueError(f"retry_after must be a non-negative integer, not {retry_after!r}")
        with self._lock:
            self._status_rules.append(
                _StatusRule("rate_limit", 429, retry_after, count, fraction, service)
            )

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
                return StatusFault(rule.kind, rule.status, rule.retry_after)
        return None

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
