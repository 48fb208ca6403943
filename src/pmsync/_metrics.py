"""What one run did, for monitoring: a Prometheus textfile and a one-line summary.

A :class:`RunMetrics` lives for one command. The command line fills it from the result
(:meth:`RunMetrics.add_sync` and friends); the transports count every HTTP request they
send through :func:`count_request` and :func:`count_retry`, which do nothing unless a run
is being recorded (:meth:`RunMetrics.recording`). :meth:`RunMetrics.write` writes the
Prometheus text exposition format for node_exporter's textfile collector, atomically;
:meth:`RunMetrics.summary` is the greppable ``key=value`` line for cron logs.

Every series carries a ``command`` label, so that sync, remind and report may share a
textfile directory (one file each) without clashing.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from pmsync._model import Postmortem
    from pmsync._plan import SyncResult
    from pmsync._remind import ReminderResult
    from pmsync._report import Figures

__all__ = ["ITEM_STATES", "RunMetrics", "count_request", "count_retry", "status_class"]

#: The item states counted by ``pmsync_items``.
ITEM_STATES = ("total", "open", "overdue", "unowned", "done")

#: What a run did, by summary key, with the help text of its ``pmsync_<key>`` gauge.
_DONE: Mapping[str, str] = {
    "issues_created": "Jira issues created by the last run.",
    "issues_updated": "Jira issues whose fields the last run updated.",
    "issues_transitioned": "Jira issues the last run moved to another status.",
    "pages_written": "Confluence pages the last run wrote.",
    "conflicts": "Fields changed on both sides that the last run reported.",
    "reminders_sent": "Slack reminders the last run sent.",
    "errors": "Items, changes or reminders that failed in the last run.",
}

_recording: contextvars.ContextVar[RunMetrics | None] = contextvars.ContextVar(
    "pmsync_run_metrics", default=None
)


def status_class(status: int | None) -> str:
    """``2xx``, ``4xx``, ... for an HTTP status; ``none`` when no response came back."""
    return "none" if status is None else f"{status // 100}xx"


#: A sync's workers count at once (``+=`` on a Counter is a read and a write).
_counting = threading.Lock()


def count_request(service: str, status: int | None) -> None:
    """Count one HTTP request sent to ``service`` and its status (None: no response)."""
    run = _recording.get()
    if run is not None:
        with _counting:
            run.requests[service, status_class(status)] += 1
            if status == 429:
                run.rate_limited[(service,)] += 1


def count_retry(service: str) -> None:
    """Count one retry of a request to ``service``."""
    run = _recording.get()
    if run is not None:
        with _counting:
            run.retries[(service,)] += 1


def _last_success(path: Path, command: str) -> float | None:
    """The last success time an earlier run wrote to ``path``, if it can be read."""
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415

    try:
        text = path.read_text(encoding="utf-8")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if (
                    sample.name == "pmsync_last_success_timestamp_seconds"
                    and sample.labels.get("command") == command
                ):
                    return float(sample.value)
    except (OSError, ValueError):
        return None  # no earlier file, or not ours: there is no earlier success to keep
    return None


@attrs.define
class RunMetrics:
    """The figures of one run of ``command`` (``sync``, ``remind`` or ``report``)."""

    command: str
    started: float = attrs.field(factory=time.time)
    done: Counter[str] = attrs.field(factory=Counter)
    items: dict[str, int] | None = None
    # Keyed by (service, status class) and (service,): the labels of their gauges.
    requests: Counter[tuple[str, ...]] = attrs.field(factory=Counter)
    retries: Counter[tuple[str, ...]] = attrs.field(factory=Counter)
    rate_limited: Counter[tuple[str, ...]] = attrs.field(factory=Counter)
    finished: float | None = None
    exit_code: int | None = None

    @contextlib.contextmanager
    def recording(self) -> Iterator[RunMetrics]:
        """Count the HTTP requests sent while the block runs into this run."""
        token = _recording.set(self)
        try:
            yield self
        finally:
            _recording.reset(token)

    # -- filling in --------------------------------------------------------------------

    def add_sync(self, result: SyncResult) -> None:
        """What a sync did (the items are counted from its plan: :meth:`add_postmortems`)."""
        self.done.update(
            issues_created=len(result.created),
            issues_updated=len(result.updated),
            issues_transitioned=len(result.transitioned),
            pages_written=len(result.pages_written),
            conflicts=len(result.conflicts),
            errors=len(result.errors),
        )

    def add_postmortems(self, postmortems: Sequence[Postmortem], today: dt.date) -> None:
        """Count the items of ``postmortems`` by state, as of ``today``."""
        from pmsync._report import build_report  # noqa: PLC0415  (pandas-free, but large)

        self.add_figures(build_report(postmortems, (), today=today).totals)

    def add_figures(self, totals: Figures) -> None:
        """The items by state, from a report's figures."""
        self.items = {state: int(getattr(totals, state)) for state in ITEM_STATES}

    def add_reminders(self, result: ReminderResult) -> None:
        """What a remind run sent (nothing on a dry run) and what failed."""
        self.done.update(
            reminders_sent=0 if result.dry_run else len(result.sent), errors=len(result.errors)
        )

    def finish(self, exit_code: int) -> None:
        """Record the end of the run and its exit code."""
        self.finished = time.time()
        self.exit_code = exit_code

    # -- reading out -------------------------------------------------------------------

    @property
    def duration(self) -> float:
        """Seconds from start to finish (to now, while running)."""
        return (self.finished or time.time()) - self.started

    @property
    def did_something(self) -> bool:
        """Whether the run wrote anything, reported a conflict or failed."""
        return bool(self.exit_code) or any(self.done.values())

    def summary(self) -> str:
        """One greppable line: ``pmsync: command=sync exit_code=0 duration_seconds=...``."""
        pairs = {
            "command": self.command,
            "exit_code": self.exit_code,
            "duration_seconds": f"{self.duration:.2f}",
            **{key: self.done[key] for key in _DONE},
            "http_requests": sum(self.requests.values()),
            "http_retries": sum(self.retries.values()),
            "http_429": sum(self.rate_limited.values()),
        }
        return "pmsync: " + " ".join(f"{key}={value}" for key, value in pairs.items())

    def write(self, path: Path) -> None:
        """Write the run's metrics to ``path`` atomically (a temporary file, renamed).

        The last success time is this run's when it exited 0, else the one the previous
        file held, so that an alert can fire when no run has succeeded for a while.
        """
        from prometheus_client import CollectorRegistry, Gauge, write_to_textfile  # noqa: PLC0415

        finished = self.finished or time.time()
        registry = CollectorRegistry()
        label = ("command",)

        def gauge(name: str, doc: str, value: float, **labels: str) -> None:
            metric = Gauge(f"pmsync_{name}", doc, [*label, *labels], registry=registry)
            metric.labels(command=self.command, **labels).set(value)

        gauge("last_run_timestamp_seconds", "When the last run finished (Unix time).", finished)
        success = finished if self.exit_code == 0 else _last_success(path, self.command)
        if success is not None:
            gauge(
                "last_success_timestamp_seconds",
                "When a run last finished with exit code 0 (Unix time).",
                success,
            )
        gauge("run_duration_seconds", "How long the last run took.", self.duration)
        gauge("exit_code", "The exit code of the last run (0: all good).", self.exit_code or 0)
        for key, doc in _DONE.items():
            gauge(key, doc, self.done[key])
        if self.items is not None:
            items = Gauge(
                "pmsync_items",
                "Action items on the pages the last run read, by state.",
                [*label, "state"],
                registry=registry,
            )
            for state, count in self.items.items():
                items.labels(command=self.command, state=state).set(count)
        service, status = ("service",), ("service", "status_class")
        for name, doc, labels, counts in (
            ("http_requests", "HTTP requests sent by the last run.", status, self.requests),
            ("http_retries", "HTTP requests the last run retried.", service, self.retries),
            ("http_rate_limited", "HTTP 429 answers in the last run.", service, self.rate_limited),
        ):
            metric = Gauge(f"pmsync_{name}", doc, [*label, *labels], registry=registry)
            for series, count in counts.items():
                metric.labels(self.command, *series).set(count)
        write_to_textfile(str(path), registry)
