"""What a press on an item's Slack buttons does: who may, what changes, what is said.

Shared by :mod:`pmsync.slack` (a bolt app) and :mod:`pmsync.web` (plain WSGI), which
verify the request and acknowledge it first; this module does the work after. A press
changes Jira (the issue's status, due date or assignee), comments on the issue, logs a
line, then syncs the item's page (``syncer.sync(page_ids=[page_id])``) so the page shows
the change through the normal three-way merge, and finally replaces the buttons of the
original message with what happened.

Only the item's owner (the Slack user of the Jira assignee) or a member of
``Config.slack_admin_group`` may act; anyone else gets an ephemeral "this is Alice's
item" and nothing changes. Issue keys come from the block id of pmsync's own message,
and the issue must be one pmsync manages: a payload cannot point pmsync at another issue.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
from slack_sdk.webhook import WebhookClient

from pmsync._apply import move_issue
from pmsync._gateways.slack import SlackNotifier
from pmsync._messages import (
    ACTION_DONE,
    ACTION_DUE,
    ACTION_NOT_MINE,
    ACTION_OPEN,
    ACTIONS,
    escape_mrkdwn,
    handback_message,
    handled_blocks,
    item_key,
)
from pmsync._model import JiraIssue, Status
from pmsync._quote import wiki_text
from pmsync.exceptions import NotFoundError, PmsyncError

if TYPE_CHECKING:
    from pmsync._sync import Syncer

__all__ = ["SLACK_WINDOW", "ItemActions", "Press", "ReplayGuard", "press_from_payload"]

log = logging.getLogger("pmsync.slack")

#: How long a Slack signature stays valid (Slack's own rule, in seconds).
SLACK_WINDOW = 5 * 60


class ReplayGuard:
    """Remembers Slack request signatures while their timestamps are valid, to refuse replays.

    A signature covers the timestamp and the body, so the same signature twice is the same
    request sent twice. Slack's verifier accepts a timestamp up to :data:`SLACK_WINDOW`
    either side of the (wall) clock, so a signature is remembered until its timestamp is
    that old, however far Slack's clock is from ours; older requests are refused by the
    verifier already. ``clock`` is the verifier's: seconds since the epoch.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, signature: str, timestamp: str) -> bool:
        """Remember ``signature`` (of a request stamped ``timestamp``, as Slack sent it);
        False if it was seen before and its timestamp is still valid."""
        now = self._clock()
        try:
            until = float(int(timestamp) + SLACK_WINDOW + 1)
        except ValueError:
            until = now + SLACK_WINDOW + 1  # the verifier refuses it anyway
        with self._lock:
            for old in [s for s, expiry in self._seen.items() if expiry < now]:
                del self._seen[old]
            if signature in self._seen:
                return False
            self._seen[signature] = max(until, now)
            return True


@attrs.frozen
class Press:
    """One press of a button (or pick of a date) under an item's message."""

    action_id: str
    issue_key: str
    user_id: str
    channel: str | None = None
    message_ts: str | None = None
    blocks: tuple[Mapping[str, Any], ...] = ()
    response_url: str | None = None
    selected_date: dt.date | None = None


def _part(payload: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """The object ``payload[name]`` (empty when absent); ValueError when it is no object."""
    value = payload.get(name) or {}
    if not isinstance(value, Mapping):
        raise ValueError(f"the payload's {name} is not an object")
    return value


def press_from_payload(payload: Mapping[str, Any]) -> Press | None:
    """The press in a ``block_actions`` payload, or ``None`` when it is not one of pmsync's.

    Raises ValueError when the payload is not shaped as Slack shapes it, or a date picker
    sends something that is not a date.
    """
    if not isinstance(payload, Mapping):
        raise ValueError("the payload is not a JSON object")
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or [{}]
    action = actions[0] if isinstance(actions, list) else None
    if not isinstance(action, Mapping):
        raise ValueError("the payload's actions are not a list of objects")
    action_id = action.get("action_id")
    key = item_key(action.get("block_id"))
    user = _part(payload, "user").get("id")
    if action_id not in ACTIONS or key is None or not user:
        return None
    container = _part(payload, "container")
    message = _part(payload, "message")
    picked = action.get("selected_date")
    return Press(
        action_id=str(action_id),
        issue_key=key,
        user_id=str(user),
        channel=container.get("channel_id") or _part(payload, "channel").get("id"),
        message_ts=container.get("message_ts") or message.get("ts"),
        blocks=tuple(message.get("blocks") or ()),
        response_url=payload.get("response_url"),
        selected_date=dt.date.fromisoformat(str(picked)) if picked else None,
    )


def _when(moment: dt.datetime) -> str:
    """A time Slack shows in each reader's own time zone (``14:02 UTC`` as a fallback)."""
    utc = moment.astimezone(dt.UTC)
    return f"<!date^{int(utc.timestamp())}^{{time}}|{utc:%H:%M} UTC>"


class ItemActions:
    """Carry out presses on item buttons for one :class:`~pmsync.Syncer`.

    The syncer needs its Slack client (``slack=``), which also updates the messages.
    """

    def __init__(self, syncer: Syncer) -> None:
        syncer.notifier()  # a ConfigError now, when the syncer has no Slack client
        self.syncer = syncer
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def handle(self, press: Press) -> str:
        """Do what ``press`` asks, if its user may; return what happened, in words.

        Presses on one issue are carried out one after the other, each on the issue as
        the one before left it (a double click moves and comments once). Never raises for
        a failure a person can cause or a service answers with: the person is told
        (ephemerally) and the failure is logged.
        """
        if press.action_id == ACTION_OPEN:
            return "opened"  # a link: Slack opens it, and still tells the app
        with self._locks_lock:
            lock = self._locks.setdefault(press.issue_key, threading.Lock())
        with lock:
            return self._handle(press)

    def _handle(self, press: Press) -> str:
        key = press.issue_key
        try:
            issue = self.syncer.jira.issue(key)
        except NotFoundError:
            return self.reply(press, f"{key} no longer exists in Jira.")
        except PmsyncError as exc:
            log.warning("Slack: could not read %s for a button press: %s", key, exc)
            return self.reply(press, f"Jira could not be reached for {key}; try again later.")
        prop = dict(issue.prop or {})
        page_id = prop.get("page_id")
        if self.syncer.config.label not in issue.labels or not page_id:
            return self.reply(press, f"pmsync does not manage {key}; nothing changed.")
        owner = str(issue.assignee) if issue.assignee else None
        # A notifier per press: a long-running service must not keep its user look-ups
        # for ever (a person who joins Slack later is found on the next press).
        notifier = SlackNotifier(self.syncer.slack, user_map=self.syncer.config.user_map)
        try:
            allowed = self.may_act(notifier, press.user_id, issue)
            name = notifier.display_name(press.user_id) if allowed else press.user_id
        except PmsyncError as exc:
            log.warning(
                "Slack: could not check who pressed %s on %s: %s", press.action_id, key, exc
            )
            return self.reply(
                press, f"Slack could not be asked who you are; {key} was not changed."
            )
        if not allowed:
            whose = f"{owner}'s item" if owner else "an item without an owner"
            log.info(
                "Slack: %s pressed %s on %s, which is %s: refused",
                press.user_id,
                press.action_id,
                key,
                whose,
            )
            return self.reply(press, f"This is {whose} ({key}); only its owner can change it.")
        try:
            done, note = self.act(notifier, press, issue, prop, name)
        except (PmsyncError, ValueError) as exc:
            log.warning(
                "Slack: %s pressed %s on %s and it failed: %s", name, press.action_id, key, exc
            )
            return self.reply(press, f"{key} was not changed: {exc}")
        log.info("Slack: %s (%s) on %s: %s", name, press.user_id, key, done)
        try:
            result = self.syncer.sync(page_ids=[str(page_id)])
            problems = [str(e) for e in result.errors]
        except PmsyncError as exc:
            problems = [str(exc)]
        if problems:
            log.warning("Slack: page %s was not updated after %s: %s", page_id, key, problems)
            self.reply(press, f"{done}, but the page was not updated yet: {problems[0]}")
        elif not self.held(press):
            # The page had an edit of the same field since the last sync, and the merge
            # let the page win (Config.ownership): the press was undone; keep the buttons.
            log.warning("Slack: %s on %s was overruled by an edit on page %s", done, key, page_id)
            return self.reply(
                press,
                f"{key} was not changed: the postmortem page had an edit of its own, which "
                "wins. Change it on the page, or press again.",
            )
        if press.channel and press.message_ts and press.blocks:
            when = _when(self.syncer.clock())
            blocks = handled_blocks(press.blocks, f"{escape_mrkdwn(note)} at {when}")
            try:
                text = escape_mrkdwn(done)
                notifier.update(press.channel, press.message_ts, text, blocks)
            except PmsyncError as exc:
                log.warning("Slack: could not update the message about %s: %s", key, exc)
        return done

    def held(self, press: Press) -> bool:
        """Whether Jira still shows what ``press`` did, after the page's sync (True when
        Jira cannot be asked: the press is not to be reported as undone on a guess)."""
        try:
            issue = self.syncer.jira.issue(press.issue_key)
        except PmsyncError:
            return True
        if press.action_id == ACTION_DONE:
            return issue.status_category is Status.DONE
        if press.action_id == ACTION_DUE:
            return issue.due == press.selected_date
        return issue.assignee is None  # Not mine

    def may_act(self, notifier: SlackNotifier, user_id: str, issue: JiraIssue) -> bool:
        """Whether ``user_id`` is the issue's owner or in the configured admin group."""
        if issue.assignee is not None:
            owner = notifier.resolve(self.syncer.person_for_slack(issue.assignee))
            if owner == user_id:
                return True
        group = self.syncer.config.slack_admin_group
        return bool(group) and user_id in notifier.group_members(str(group))

    def act(
        self,
        notifier: SlackNotifier,
        press: Press,
        issue: JiraIssue,
        prop: dict[str, Any],
        name: str,
    ) -> tuple[str, str]:
        """Change Jira for one press; return what happened and the message's new note."""
        jira, key = self.syncer.jira, issue.key
        if press.action_id == ACTION_DONE:
            if issue.status_category is Status.DONE:
                return f"{key} was already done", f"Already done when {name} pressed Done"
            move_issue(jira, key, Status.DONE, issue)
            jira.comment(key, f"Marked done from Slack by {wiki_text(name)}.")
            return f"{key} marked done", f"Done by {name}"
        if press.action_id == ACTION_DUE:
            if press.selected_date is None:
                raise ValueError("no date was picked")
            day = press.selected_date.isoformat()
            if press.selected_date == issue.due:
                return f"{key} was already due {day}", f"Due {day}, as {name} confirmed"
            jira.edit(key, {"duedate": day})
            jira.comment(key, f"Due date moved to {day} from Slack by {wiki_text(name)}.")
            return f"{key} is now due {day}", f"Due date moved to {day} by {name}"
        if press.action_id == ACTION_NOT_MINE:
            return self.hand_back(notifier, issue, prop, name), f"Handed back by {name}"
        raise ValueError(f"unknown action {press.action_id!r}")

    def hand_back(
        self, notifier: SlackNotifier, issue: JiraIssue, prop: dict[str, Any], name: str
    ) -> str:
        """Unassign the issue, record who handed it back, and ask the channel for an owner.

        Unassigned issues are reminded in the channel, not to the former owner.
        """
        jira, key = self.syncer.jira, issue.key
        jira.edit(key, {"assignee": None})
        former = issue.assignee.identity if issue.assignee else None
        declined = {"by": former, "at": self.syncer.clock().isoformat()}
        jira.set_property(key, {**prop, "declined": declined})
        jira.comment(
            key, f"{wiki_text(name)} said from Slack that this is not theirs; it needs an owner."
        )
        channel = self.syncer.config.slack_channel
        if channel:
            url = f"{jira.base_url}/browse/{key}"
            notifier.post(channel, *handback_message(key, url, issue.summary, name))
        return f"{key} handed back; it needs an owner"

    def reply(self, press: Press, text: str) -> str:
        """Tell the person who pressed, and only them (the ``response_url``)."""
        if press.response_url:
            try:
                WebhookClient(press.response_url).send(
                    text=escape_mrkdwn(text), response_type="ephemeral", replace_original=False
                )
            except Exception as exc:  # a lost reply must not hide the outcome
                log.warning("Slack: could not answer a button press: %s", type(exc).__name__)
        return text
