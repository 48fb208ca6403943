"""The Slack gateway: user lookups, direct messages and channel posts over ``slack_sdk``.

:class:`SlackNotifier` wraps a real :class:`slack_sdk.WebClient` (so its base URL, proxy,
TLS and timeout settings are the user's) and adds what pmsync needs around it:

- a bounded retry of HTTP 429 that honours ``Retry-After`` (a 429 means Slack did not
  process the request, so even ``chat.postMessage`` is safe to send again); a
  ``Retry-After`` longer than ``max_wait`` gives up at once rather than stall a run;
- lookups cached per run, including misses: a missing Slack user is recorded in
  :attr:`SlackNotifier.missing` and logged, never raised;
- error translation: ``invalid_auth``, ``not_authed`` and other credential errors become
  :class:`~pmsync.AuthError`, a 429 past the budget :class:`~pmsync.RateLimitError`,
  anything else :class:`~pmsync.ServiceError`, all with ``service="slack"``.

It never logs, repr()s or puts the token in an error message.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from pmsync._messages import digest_message, escalation_message, reminder_message
from pmsync._metrics import count_request, count_retry
from pmsync._model import Person
from pmsync._remind import (
    Reminder,
    ReminderResult,
    SkippedReminder,
    deliveries,
    states_to_save,
)
from pmsync.config import ReminderPolicy
from pmsync.exceptions import (
    ApplyError,
    AuthError,
    PmsyncError,
    RateLimitError,
    ServiceError,
)

__all__ = ["AUTH_ERRORS", "PageLinks", "SlackNotifier", "send_reminders"]

log = logging.getLogger("pmsync.slack")

#: Slack error codes that mean the token is missing, wrong, expired or not allowed.
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "not_allowed_token_type",
        "ekm_access_denied",
    }
)

_NOT_FOUND = frozenset({"users_not_found", "user_not_found"})


def _retry_after(response: HttpResponse | None) -> float | None:
    if response is None:
        return None
    for name, values in response.headers.items():
        if name.lower() == "retry-after":
            value = values[0] if isinstance(values, list) and values else values
            try:
                return max(0.0, float(str(value)))
            except ValueError:
                return None
    return None


class _BoundedRateLimitHandler(RateLimitErrorRetryHandler):
    """Retry a 429 after ``Retry-After`` seconds, at most ``max_retry_count`` times.

    Unlike slack_sdk's own handler it accepts a fractional ``Retry-After``, and gives up
    (so the caller raises :class:`~pmsync.RateLimitError`) when Slack asks for a wait
    longer than ``max_wait``.
    """

    def __init__(
        self, max_retry_count: int, max_wait: float, sleep: Callable[[float], None]
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait = max_wait
        self.sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response)
        return wait is None or wait <= self.max_wait

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        state.next_attempt_requested = True
        count_request("slack", 429)
        count_retry("slack")
        wait = _retry_after(response)
        # A little jitter so that parallel runs do not come back in lockstep.
        jitter = random.uniform(0, 0.1)  # noqa: S311  (not for security)
        self.sleep((1.0 if wait is None else wait) + jitter)
        state.increment_current_attempt()


class SlackNotifier:
    """Send pmsync's Slack messages through a :class:`slack_sdk.WebClient`.

    ``user_map`` maps page owner text, Jira user (account id, user name, display name) or
    email to a Slack user id, for sites that hide emails; keys are compared
    case-insensitively. ``max_retries`` bounds the retries of one rate-limited request and
    ``max_wait`` the ``Retry-After`` (seconds) pmsync accepts to wait; ``sleep`` is how it
    waits (tests may pass a recorder).

    The client's own rate-limit handlers are replaced by a bounded one; its other retry
    handlers (connection errors) stay.
    """

    def __init__(
        self,
        client: WebClient,
        *,
        user_map: Mapping[str, str] | None = None,
        max_retries: int = 3,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.user_map = {str(k).casefold(): v for k, v in (user_map or {}).items()}
        # Only rate limits are retried: slack_sdk's connection-error handler would replay a
        # chat.postMessage that Slack may already have delivered (a duplicate message).
        client.retry_handlers = [_BoundedRateLimitHandler(max_retries, max_wait, sleep)]
        self._emails: dict[str, str | None] = {}
        self._dms: dict[str, str] = {}
        self._missing: list[str] = []

    @classmethod
    def from_token(
        cls,
        token: str,
        *,
        base_url: str | None = None,
        timeout: int = 30,
        user_map: Mapping[str, str] | None = None,
        max_retries: int = 3,
        max_wait: float = 60.0,
    ) -> SlackNotifier:
        """A notifier over a new ``WebClient`` for ``token`` (a bot token, ``xoxb-...``)."""
        kwargs: dict[str, Any] = {"token": token, "timeout": timeout}
        if base_url:
            kwargs["base_url"] = base_url
        return cls(
            WebClient(**kwargs), user_map=user_map, max_retries=max_retries, max_wait=max_wait
        )

    def __repr__(self) -> str:
        return f"SlackNotifier(base_url={self.client.base_url!r})"

    @property
    def missing(self) -> tuple[str, ...]:
        """Who had no Slack user (emails or names), in the order they were looked up."""
        return tuple(self._missing)

    def _call(
        self,
        method: str,
        send: Callable[[], Any],
        *,
        tolerate: frozenset[str] = frozenset(),
    ) -> Any:
        """Run one client call; ``None`` when Slack answers with a ``tolerate`` error."""
        try:
            answer = send()
        except SlackApiError as exc:
            count_request("slack", getattr(exc.response, "status_code", None))
            if _error_code(exc) in tolerate:
                return None
            raise _translate(method, exc) from None
        except (SlackClientError, URLError, OSError) as exc:
            count_request("slack", None)
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise ServiceError(
                f"Slack {method}: could not reach {self.client.base_url} ({reason})",
                service="slack",
                url=self.client.base_url,
            ) from None
        count_request("slack", getattr(answer, "status_code", 200))
        return answer

    def lookup(self, email: str) -> str | None:
        """The Slack user id for ``email``, or ``None`` (recorded in :attr:`missing`).

        Answers are cached for the life of this notifier, misses included.
        """
        key = email.strip().casefold()
        if key in self._emails:
            return self._emails[key]
        response = self._call(
            "users.lookupByEmail",
            lambda: self.client.users_lookupByEmail(email=email.strip()),
            tolerate=_NOT_FOUND,
        )
        if response is None:
            log.warning("No Slack user has the email %s; nobody will be messaged", email)
            self._missing.append(email)
            self._emails[key] = None
            return None
        user_id = response["user"]["id"]
        self._emails[key] = user_id
        return str(user_id)

    def _mapped(self, person: Person) -> str | None:
        candidates = (
            person.account_id,
            f"key:{person.user_key}" if person.user_key else None,
            person.user_key,
            person.username,
            person.email,
            person.display_name,
            person.text,
        )
        for name in candidates:
            if name and name.strip().casefold() in self.user_map:
                return self.user_map[name.strip().casefold()]
        return None

    def resolve(self, person: Person) -> str | None:
        """The Slack user id of ``person``: from ``user_map``, else by email lookup.

        ``None`` when neither finds one; the person is then listed in :attr:`missing`.
        """
        mapped = self._mapped(person)
        if mapped:
            return mapped
        if person.email:
            return self.lookup(person.email)
        label = str(person) or person.identity or "an unnamed person"
        if label not in self._missing:
            log.warning(
                "No Slack user for %s: no email is visible and user_map has no entry", label
            )
            self._missing.append(label)
        return None

    def open_dm(self, user_id: str) -> str:
        """The id of the direct-message channel with ``user_id`` (opened if needed)."""
        if user_id not in self._dms:
            response = self._call(
                "conversations.open", lambda: self.client.conversations_open(users=user_id)
            )
            self._dms[user_id] = str(response["channel"]["id"])
        return self._dms[user_id]

    def post(
        self, channel: str, text: str, blocks: Sequence[Mapping[str, Any]] | None = None
    ) -> str:
        """Post ``text`` (the fallback) and ``blocks`` to ``channel``; return the message ts.

        Links are not unfurled and names are not linked (no ``link_names``): mentions only
        come from ``<@U...>`` that pmsync wrote itself.
        """
        payload = [dict(b) for b in blocks] if blocks else None
        response = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=text,
                blocks=payload,
                unfurl_links=False,
                unfurl_media=False,
            ),
        )
        return str(response["ts"])

    def update(self, channel: str, ts: str, text: str, blocks: Sequence[Mapping[str, Any]]) -> None:
        """Replace the text and blocks of a message pmsync posted (``chat.update``)."""
        payload = [dict(b) for b in blocks]
        self._call(
            "chat.update",
            lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=payload),
        )

    def group_members(self, group_id: str) -> frozenset[str]:
        """The Slack user ids in a user group (``usergroups.users.list``)."""
        response = self._call(
            "usergroups.users.list",
            lambda: self.client.usergroups_users_list(usergroup=group_id),
        )
        return frozenset(str(u) for u in response.get("users") or ())

    def display_name(self, user_id: str) -> str:
        """How Slack names a user (``users.info``), or the id when Slack does not know it."""
        response = self._call(
            "users.info", lambda: self.client.users_info(user=user_id), tolerate=_NOT_FOUND
        )
        if response is None:
            return user_id
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        return str(
            profile.get("display_name") or user.get("real_name") or user.get("name") or user_id
        )

    def send_dm(
        self, person: Person, text: str, blocks: Sequence[Mapping[str, Any]] | None = None
    ) -> str | None:
        """Message ``person`` directly; ``None`` (and :attr:`missing`) when not on Slack."""
        user_id = self.resolve(person)
        if user_id is None:
            return None
        return self.post(self.open_dm(user_id), text, blocks)


def _error_code(exc: SlackApiError) -> str:
    try:
        return str(exc.response["error"])
    except (KeyError, TypeError):
        return f"HTTP {getattr(exc.response, 'status_code', None)}"


def _translate(method: str, exc: SlackApiError) -> ServiceError:
    response = exc.response
    status = getattr(response, "status_code", None)
    error = _error_code(exc)
    if error in AUTH_ERRORS:
        return AuthError(
            f"Slack refused the token ({error}) on {method}; check the Slack token and "
            "the app's scopes (chat:write, im:write, users:read.email)",
            service="slack",
            status=status,
        )
    if status == 429 or error == "ratelimited":
        wait = None
        for name, value in (getattr(response, "headers", None) or {}).items():
            if name.lower() == "retry-after":
                try:
                    wait = float(value[0] if isinstance(value, list) else value)
                except (ValueError, IndexError):
                    wait = None
        return RateLimitError(
            f"Slack kept rate-limiting {method}; try again later"
            + (f" (Retry-After {wait:g} s)" if wait is not None else ""),
            service="slack",
            retry_after=wait,
        )
    return ServiceError(f"Slack {method} failed: {error}", service="slack", status=status)


#: Where a page's title and URL come from when messages link the postmortem.
PageLinks = Mapping[str, tuple[str | None, str | None]]


def send_reminders(
    notifier: SlackNotifier,
    reminders: Sequence[Reminder],
    *,
    policy: ReminderPolicy,
    channel: str | None,
    save_state: Callable[[str, Mapping[str, Any]], None],
    pages: PageLinks | None = None,
    authors: Mapping[str, Person] | None = None,
    dry_run: bool = False,
    buttons: bool = False,
) -> ReminderResult:
    """Send the reminders :func:`~pmsync._remind.select_reminders` chose; record each.

    This is the I/O of ``syncer.remind()`` after the selection: the messages
    :func:`~pmsync._remind.deliveries` lays out go out (DMs, or the ``channel`` for
    unassigned items and escalations), then ``save_state(issue_key, state)`` stores the
    reminder records :func:`~pmsync._remind.states_to_save` picks in the issues'
    ``pmsync`` property.

    A reminder that cannot be delivered (no Slack user, no channel configured) is skipped
    with a reason and its record is still saved, so it is not retried every run and the
    overdue count still leads to an escalation. A reminder whose delivery failed is an
    error, and that issue's record is not saved, so the next run tries again.
    :class:`~pmsync.AuthError` is raised: no message can go out with a bad token.
    ``pages`` maps page ids to ``(title, url)`` for links to the postmortem.
    With ``dry_run`` nothing is sent or saved, and ``sent`` lists what would be.
    ``buttons`` puts the item's buttons on each owner's reminder (not on digests).
    """
    if dry_run:
        return ReminderResult(sent=reminders, dry_run=True)
    links = pages or {}
    sent: list[Reminder] = []
    skipped: list[SkippedReminder] = []
    errors: list[str | ApplyError] = []
    failed: set[str] = set()
    reached: set[str] = set()  # issues whose owner (or the channel, unassigned) got theirs
    done: dict[str, Mapping[str, Any]] = {}

    def deliver(
        batch: Sequence[Reminder],
        to: Person | None,
        message: tuple[str, list[dict[str, Any]]],
    ) -> None:
        """Send one message about ``batch`` to ``to`` (``None``: the channel)."""
        text, blocks = message
        try:
            if to is None:
                ts = notifier.post(channel, text, blocks) if channel else None
                why = "no Slack channel is configured (slack_channel)"
            else:
                ts = notifier.send_dm(to, text, blocks)
                why = f"{_label(to)} has no Slack user"
        except AuthError:
            raise
        except PmsyncError as exc:
            if isinstance(exc, ServiceError) and exc.status is None:
                raise  # Slack cannot be reached: no message can go out
            for r in batch:
                failed.add(r.issue_key)
                errors.append(
                    ApplyError(
                        f"{r.issue_key}: the {r.kind.replace('_', '-')} reminder was not "
                        f"sent: {exc}",
                        page_id=r.page_id,
                        item_id=r.item_id,
                        issue_key=r.issue_key,
                        cause=exc,
                    )
                )
            return
        for r in batch:
            done[r.issue_key] = r.state
            if r.kind != "escalation":
                reached.add(r.issue_key)
            if ts is None:
                skipped.append(SkippedReminder(r, why))
            elif r not in sent:
                sent.append(r)

    def page(r: Reminder) -> tuple[str | None, str | None]:
        return links.get(r.page_id or "", (None, None))

    for d in deliveries(reminders, policy=policy, authors=authors):
        first = d.batch[0]
        title, url = page(first)
        if d.form == "digest":
            message = digest_message(d.to, d.batch)
        elif d.form == "reminder":
            message = reminder_message(first, page_title=title, page_url=url, buttons=buttons)
        else:
            owner_id = _mention_id(notifier, first.recipient)
            message = escalation_message(
                first, owner_slack_id=owner_id, page_title=title, page_url=url
            )
        deliver(d.batch, d.to, message)
    for key, state in states_to_save(done, failed, reached).items():
        try:
            save_state(key, state)
        except PmsyncError as exc:
            errors.append(
                ApplyError(
                    f"{key}: reminders went out but could not be recorded: {exc}",
                    issue_key=key,
                    cause=exc,
                )
            )
    return ReminderResult(sent=sent, skipped=skipped, errors=errors)


def _mention_id(notifier: SlackNotifier, person: Person | None) -> str | None:
    """The owner's Slack id for a mention; a failed lookup just names them instead."""
    if person is None:
        return None
    try:
        return notifier.resolve(person)
    except AuthError:
        raise
    except PmsyncError:
        return None


def _label(person: Person) -> str:
    """How a person is named in a skip reason."""
    return str(person) or person.identity or "someone"
