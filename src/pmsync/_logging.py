"""Logging for the command line: greppable text or JSON lines, with every secret redacted.

The library only logs through the ``pmsync`` logger and never configures logging; this
module is how the command line (or a script that wants the same behaviour) turns those
records into output. Whatever the format, the values of the secret environment variables
(and the contents of the files their ``*_FILE`` variants name) never reach the output:
:class:`RedactingFilter` rewrites each record, its arguments and its traceback first.

Never log a secret on purpose anyway: redaction is the last line of defence, not a licence.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal

__all__ = [
    "REDACTED",
    "SECRET_VARIABLES",
    "JsonFormatter",
    "LogFormat",
    "RedactingFilter",
    "Redactor",
    "TextFormatter",
    "level_for",
    "log_to",
    "secrets_from_env",
]

LogFormat = Literal["text", "json"]

#: The environment variables that hold secrets; each may instead name a file in ``NAME_FILE``.
SECRET_VARIABLES = (
    "PMSYNC_API_TOKEN",
    "PMSYNC_JIRA_PAT",
    "PMSYNC_CONFLUENCE_PAT",
    "PMSYNC_SLACK_TOKEN",
    "PMSYNC_SLACK_SIGNING_SECRET",
    "PMSYNC_WEBHOOK_SECRET",
)

#: What a secret is replaced with.
REDACTED = "[redacted]"

# Shorter values would redact ordinary words; no real token is this short.
_MIN_SECRET_LENGTH = 6

#: Loggers of the libraries pmsync drives, shown with ``-vv`` and silenced otherwise
#: (pmsync logs what matters of them itself, such as each retry, under ``pmsync.http``).
_CLIENT_LOGGERS = ("atlassian", "urllib3", "slack_sdk", "stamina")


def _read_secret_file(path: str | None) -> str | None:
    if not path:
        return None
    try:
        # As _env.read_secret reads it: what pmsync sends is what it must hide.
        return Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None  # the Syncer reports an unreadable file with a clear message


def secrets_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every secret value the environment gives pmsync, in the forms it may appear in.

    That is each variable of :data:`SECRET_VARIABLES` (or the file its ``_FILE`` variant
    names), stripped and as given, and, with ``PMSYNC_EMAIL`` set, the Basic
    authentication credential built from the email and each secret.
    """
    env = os.environ if environ is None else environ
    found: set[str] = set()
    for name in SECRET_VARIABLES:
        for value in (env.get(name), _read_secret_file(env.get(f"{name}_FILE"))):
            if value:
                found.update({value, value.strip()})
    email = env.get("PMSYNC_EMAIL")
    if email:
        for value in list(found):
            found.add(base64.b64encode(f"{email}:{value}".encode()).decode("ascii"))
    return tuple(sorted((v for v in found if len(v) >= _MIN_SECRET_LENGTH), key=len, reverse=True))


class Redactor:
    """Replace known secret values in text with :data:`REDACTED`.

    >>> Redactor(["s3cr3t-token"])("auth failed for s3cr3t-token")
    'auth failed for [redacted]'
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, values))) if values else None

    def __repr__(self) -> str:
        return "Redactor(<secrets hidden>)"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Redactor:
        """A redactor for every secret in the environment (see :func:`secrets_from_env`)."""
        return cls(secrets_from_env(environ))

    def __call__(self, text: str) -> str:
        """``text`` with every secret replaced."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(REDACTED, text)

    def __bool__(self) -> bool:
        return self._pattern is not None


class RedactingFilter(logging.Filter):
    """A handler filter that removes secrets from a record's message and traceback.

    The message is rendered (``msg % args``) and redacted; a traceback is formatted and
    redacted into ``exc_text``, which formatters use instead of formatting it again.
    """

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _utc_stamp(created: float) -> str:
    return dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TextFormatter(logging.Formatter):
    """One greppable line per record: ``2026-11-26T21:00:00Z INFO pmsync: message``."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (a traceback, when there is one, follows it)."""
        line = f"{_utc_stamp(record.created)} {record.levelname} {record.name}: "
        line += record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time``, ``level``, ``logger``, ``message`` (and
    ``exception`` with the traceback, when there is one)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        payload: dict[str, Any] = {
            "time": _utc_stamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, ensure_ascii=False)


def level_for(verbosity: int) -> int:
    """The log level for a ``-v``/``-q`` balance: ``-q`` errors only, default info, ``-v``
    debug."""
    if verbosity < 0:
        return logging.ERROR
    if verbosity == 0:
        return logging.INFO
    return logging.DEBUG


@contextlib.contextmanager
def log_to(
    stream: IO[str],
    *,
    verbosity: int = 0,
    fmt: LogFormat = "text",
    redact: Redactor | None = None,
    handler: logging.Handler | None = None,
) -> Iterator[logging.Handler]:
    """Send pmsync's log records to ``stream`` while the block runs, then undo it.

    ``verbosity`` is the ``-v`` count minus the ``-q`` count (see :func:`level_for`);
    from 2 up the client libraries' own debug logs are shown too. ``handler`` replaces
    the default stream handler (the command line passes a rich handler on a terminal);
    the formatter and the redacting filter are set on it either way, except that a text
    handler passed in keeps its own formatter.
    """
    level = level_for(verbosity)
    if handler is None:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(TextFormatter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    handler.addFilter(RedactingFilter(redact or Redactor()))
    clients = verbosity >= 2
    loggers = [logging.getLogger(name) for name in ("pmsync", *_CLIENT_LOGGERS)]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    silence = logging.NullHandler()
    for lg in loggers:
        if lg.name == "pmsync" or clients:
            lg.addHandler(handler)
            lg.setLevel(level)
        else:
            # Without a handler of their own, their warnings would reach Python's
            # last-resort handler and print as bare, unformatted lines.
            lg.addHandler(silence)
            lg.propagate = False
    try:
        yield handler
    finally:
        for lg, previous, propagate in saved:
            lg.removeHandler(handler)
            lg.removeHandler(silence)
            lg.setLevel(previous)
            lg.propagate = propagate
        handler.close()
