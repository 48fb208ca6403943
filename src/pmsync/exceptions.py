"""The errors pmsync raises.

Everything pmsync raises on purpose derives from :class:`PmsyncError`, so a script can
catch one class. Each error carries the context a user needs to act on it (the page,
row, field, service or issue involved) as attributes as well as in its message.

This module exists on its own to avoid import loops; it imports nothing from pmsync.

::

    PmsyncError
    ├── ParseError           a page has nothing readable (page)
    ├── ConfigError          a configuration value is wrong (key, line)
    ├── ServiceError         a service answered with an error (service, status)
    │   ├── AuthError        401/403: credentials missing, wrong or not allowed
    │   ├── NotFoundError    404: the page or issue does not exist (or is hidden)
    │   └── RateLimitError   429 after the retry budget ran out (retry_after)
    │       └── QuotaExhaustedError  asked to wait longer than the run allows; run stopped
    ├── ConflictError        the page changed under pmsync too often to write back (page)
    ├── LockError            another run holds the lock (path)
    └── ApplyError           one change of a plan failed (page, item, issue, cause)

Per-item failures during :meth:`pmsync.Syncer.apply` are collected in
:attr:`pmsync.SyncResult.errors` as :class:`ApplyError` values rather than raised: only a
failure that makes the whole run meaningless (bad credentials, an unreachable site, an
invalid configuration) is raised.
"""

from __future__ import annotations

__all__ = [
    "ApplyError",
    "AuthError",
    "ConfigError",
    "ConflictError",
    "LockError",
    "NotFoundError",
    "ParseError",
    "PmsyncError",
    "QuotaExhaustedError",
    "RateLimitError",
    "ServiceError",
]


class PmsyncError(Exception):
    """The root of every error pmsync raises on purpose."""


class ParseError(PmsyncError):
    """A page holds nothing pmsync can read. The message names the page."""

    def __init__(self, message: str, *, page_id: str | None = None) -> None:
        super().__init__(message)
        self.page_id = page_id


class ConfigError(PmsyncError):
    """A configuration value is missing or wrong.

    ``key`` is the dotted key (``slack.channel``) and ``line`` the 1-based line in the
    configuration file, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        line: int | None = None,
        path: str | None = None,
    ) -> None:
        where = []
        if path:
            where.append(str(path) + (f":{line}" if line else ""))
        elif line:
            where.append(f"line {line}")
        if key:
            where.append(f"key {key!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.key = key
        self.line = line
        self.path = path


class ServiceError(PmsyncError):
    """A service (``confluence``, ``jira`` or ``slack``) answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status: int | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.status = status
        self.url = url


class AuthError(ServiceError):
    """The service refused the credentials (HTTP 401 or 403, Slack ``invalid_auth``)."""


class NotFoundError(ServiceError):
    """The page, issue or route does not exist, or the user may not see it."""


class RateLimitError(ServiceError):
    """The service kept answering 429 until the retry budget ran out."""

    def __init__(
        self,
        message: str,
        *,
        service: str,
        status: int | None = 429,
        url: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, service=service, status=status, url=url)
        self.retry_after = retry_after


class QuotaExhaustedError(RateLimitError):
    """A service asked pmsync to wait longer than a run may (an hourly quota ran out).

    The run stops cleanly: no request is sent after this one, so no page is left
    half-written, and the next run picks up where this one stopped. ``reason`` is the
    service's ``RateLimit-Reason``, when it gave one.
    """

    def __init__(
        self,
        message: str,
        *,
        service: str,
        url: str | None = None,
        retry_after: float | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message, service=service, url=url, retry_after=retry_after)
        self.reason = reason


class ConflictError(PmsyncError):
    """A page kept changing under pmsync; the write-back gave up without overwriting."""

    def __init__(self, message: str, *, page_id: str | None = None) -> None:
        super().__init__(message)
        self.page_id = page_id


class LockError(PmsyncError):
    """Another pmsync run holds the lock for this configuration."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class ApplyError(PmsyncError):
    """One change of a plan failed; the others went ahead.

    ``page_id``, ``item_id`` and ``issue_key`` say what the change was about, ``cause``
    is the underlying error when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        page_id: str | None = None,
        item_id: str | None = None,
        issue_key: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        super().__init__(message)
        self.page_id = page_id
        self.item_id = item_id
        self.issue_key = issue_key
        self.cause = cause

    def __repr__(self) -> str:
        return (
            f"ApplyError({str(self)!r}, page_id={self.page_id!r}, "
            f"item_id={self.item_id!r}, issue_key={self.issue_key!r})"
        )
