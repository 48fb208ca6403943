"""The emulated Slack workspace: channels, direct messages and posted messages.

The backend half of the moto-style split: it resolves channels (ids, ``#names``, user ids
for direct messages), validates messages the way Slack does (``no_text``,
``invalid_blocks``, ``msg_too_long``), and records what was posted. Errors raise
:class:`SlackError`, which the HTTP layer turns into ``{"ok": false, "error": ...}``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from pmsync.testing._clock import now
from pmsync.testing._users import Directory, User

__all__ = ["BOT_ID", "BOT_USER_ID", "TEAM_ID", "Channel", "Message", "SlackBackend", "SlackError"]

TEAM_ID = "T0EMULATOR"
TEAM_NAME = "pmsync emulator"
BOT_USER_ID = "U0PMSYNCBOT"
BOT_ID = "B0PMSYNCBOT"
APP_ID = "A0PMSYNCAPP"
_BLOCK_TYPES = frozenset(
    {"section", "context", "divider", "header", "actions", "image", "rich_text", "input", "file"}
)
_MAX_TEXT = 40000
_CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


class SlackError(Exception):
    """A Web API call Slack answers with ``ok: false``."""

    def __init__(self, error: str, *, messages: Sequence[str] = ()) -> None:
        super().__init__(error)
        self.error = error
        self.messages = list(messages)

    def body(self) -> dict[str, Any]:
        """The JSON body Slack sends with this error."""
        data: dict[str, Any] = {"ok": False, "error": self.error}
        if self.messages:
            data["response_metadata"] = {"messages": self.messages}
        return data


@attrs.frozen
class Channel:
    """A public channel or a direct-message conversation (``user`` is set for DMs)."""

    id: str
    name: str | None
    user: str | None


@attrs.frozen
class Message:
    """A message as posted."""

    channel: str
    ts: str
    text: str
    blocks: tuple[Mapping[str, Any], ...] | None
    thread_ts: str | None
    channel_name: str | None
    dm_user: str | None

    def to_dict(self) -> dict[str, Any]:
        """The inspection shape: ``channel``, ``text``, ``blocks`` and the rest."""
        return {
            "channel": self.channel,
            "channel_name": self.channel_name,
            "dm_user": self.dm_user,
            "text": self.text,
            "blocks": None if self.blocks is None else json.loads(json.dumps(self.blocks)),
            "ts": self.ts,
            "thread_ts": self.thread_ts,
        }


class SlackBackend:
    """The state and rules of one emulated Slack workspace. Thread-safe."""

    def __init__(self, lock: threading.RLock, directory: Directory) -> None:
        self._lock = lock
        self._directory = directory
        self._channels: dict[str, Channel] = {}
        self._messages: list[Message] = []
        self._counter = 0
        self._ts_counter = 0
        self._updates: list[Message] = []
        self._responses: list[dict[str, Any]] = []
        self._usergroups: dict[str, tuple[str, tuple[str, ...]]] = {}

    def reset(self) -> None:
        """Forget every channel, message, update, response and user group."""
        with self._lock:
            self._channels.clear()
            self._messages.clear()
            self._updates.clear()
            self._responses.clear()
            self._usergroups.clear()
            self._counter = 0
            self._ts_counter = 0

    def add_channel(self, name: str) -> str:
        """Create a public channel and return its id (an existing name returns its id)."""
        clean = name.lstrip("#")
        if not _CHANNEL_NAME.match(clean):
            raise ValueError(
                f"channel name {name!r} must be lower-case letters, digits, '-', '_' or '.'"
            )
        with self._lock:
            for channel in self._channels.values():
                if channel.name == clean:
                    return channel.id
            self._counter += 1
            channel = Channel(f"C0{self._counter:08d}", clean, None)
            self._channels[channel.id] = channel
            return channel.id

    def channels(self) -> list[Channel]:
        """Every channel and DM."""
        with self._lock:
            return list(self._channels.values())

    def _open_dm(self, user: User) -> Channel:
        for channel in self._channels.values():
            if channel.user == user.slack_id:
                return channel
        self._counter += 1
        channel = Channel(f"D0{self._counter:08d}", None, user.slack_id)
        self._channels[channel.id] = channel
        return channel

    def _resolve_channel(self, ref: str) -> Channel:
        ref = ref.strip()
        if ref in self._channels:
            return self._channels[ref]
        name = ref.lstrip("#")
        for channel in self._channels.values():
            if channel.name is not None and channel.name == name:
                return channel
        user = self._directory.by_slack_id(ref)
        if user is not None:
            return self._open_dm(user)
        raise SlackError("channel_not_found")

    def _channel_param(self, params: Mapping[str, Any]) -> Channel:
        """The channel a method's ``channel`` argument names."""
        channel_ref = params.get("channel")
        if not channel_ref or not isinstance(channel_ref, str):
            raise SlackError("channel_not_found")
        return self._resolve_channel(channel_ref)

    def post_message(self, params: Mapping[str, Any]) -> Message:
        """``chat.postMessage``: validate and record; return the message."""
        with self._lock:
            channel = self._channel_param(params)
            text = params.get("text")
            if text is not None and not isinstance(text, str):
                text = str(text)
            blocks = _parse_blocks(params.get("blocks"))
            attachments = params.get("attachments")
            if not text and not blocks and not attachments:
                raise SlackError("no_text")
            if text and len(text) > _MAX_TEXT:
                raise SlackError("msg_too_long")
            thread_ts = params.get("thread_ts")
            if thread_ts is not None:
                thread_ts = str(thread_ts)
                if not any(m.ts == thread_ts and m.channel == channel.id for m in self._messages):
                    raise SlackError("thread_not_found")
            message = Message(
                channel=channel.id,
                ts=self._next_ts(),
                text=text or "",
                blocks=None if blocks is None else tuple(blocks),
                thread_ts=thread_ts,
                channel_name=channel.name,
                dm_user=channel.user,
            )
            self._messages.append(message)
            return message

    def _next_ts(self) -> str:
        self._ts_counter += 1
        return f"{int(now().timestamp())}.{self._ts_counter:06d}"

    def messages(self) -> list[Message]:
        """Every message posted, oldest first (as last updated)."""
        with self._lock:
            return list(self._messages)

    def update_message(self, params: Mapping[str, Any]) -> Message:
        """``chat.update``: replace the text and blocks of a message the app posted."""
        with self._lock:
            channel = self._channel_param(params)
            ts = str(params.get("ts") or "")
            index = next(
                (i for i, m in enumerate(self._messages) if m.ts == ts and m.channel == channel.id),
                None,
            )
            if index is None:
                raise SlackError("message_not_found")
            text = params.get("text")
            blocks = _parse_blocks(params.get("blocks"))
            if not text and not blocks:
                raise SlackError("no_text")
            old = self._messages[index]
            new = attrs.evolve(
                old,
                text=str(text or ""),
                blocks=None if blocks is None else tuple(blocks),
            )
            self._messages[index] = new
            self._updates.append(new)
            return new

    def updates(self) -> list[Message]:
        """Every ``chat.update``, oldest first, as the message read after it."""
        with self._lock:
            return list(self._updates)

    def record_response(self, response_id: str, body: Mapping[str, Any]) -> None:
        """Record a post to a ``response_url`` the emulator handed out."""
        with self._lock:
            self._responses.append({"response_id": response_id, **body})

    def responses(self) -> list[dict[str, Any]]:
        """Every post to a ``response_url``, oldest first."""
        with self._lock:
            copied: list[dict[str, Any]] = json.loads(json.dumps(self._responses))
            return copied

    def add_usergroup(self, handle: str, users: Sequence[str]) -> str:
        """Create a user group (``@handle``) of Slack user ids; return its id."""
        with self._lock:
            self._counter += 1
            group_id = f"S0{self._counter:08d}"
            self._usergroups[group_id] = (handle, tuple(users))
            return group_id

    def usergroup_users(self, params: Mapping[str, Any]) -> list[str]:
        """``usergroups.users.list``: the members of one user group."""
        with self._lock:
            group = self._usergroups.get(str(params.get("usergroup") or ""))
            if group is None:
                raise SlackError("no_such_subteam")
            return list(group[1])

    def open_conversation(self, params: Mapping[str, Any]) -> Channel:
        """``conversations.open`` with ``users`` (one user: a DM) or ``channel``."""
        with self._lock:
            users = params.get("users")
            if isinstance(users, list):
                ids = [str(u).strip() for u in users]
            elif isinstance(users, str):
                ids = [u.strip() for u in users.split(",") if u.strip()]
            else:
                ids = []
            if not ids:
                channel_ref = params.get("channel")
                if isinstance(channel_ref, str) and channel_ref in self._channels:
                    return self._channels[channel_ref]
                raise SlackError("users_list_not_supplied")
            if len(ids) > 1:
                raise SlackError(
                    "not_supported",
                    messages=["[ERROR] the emulator opens direct messages with one user only"],
                )
            user = self._directory.by_slack_id(ids[0])
            if user is None:
                raise SlackError("user_not_found")
            return self._open_dm(user)

    def lookup_by_email(self, params: Mapping[str, Any]) -> User:
        """``users.lookupByEmail``."""
        email = params.get("email")
        if not email or not isinstance(email, str):
            raise SlackError(
                "invalid_arguments", messages=["[ERROR] missing required field: email"]
            )
        user = self._directory.by_email(email)
        if user is None:
            raise SlackError("users_not_found")
        return user

    def user_info(self, params: Mapping[str, Any]) -> User:
        """``users.info``."""
        user_id = params.get("user")
        if not user_id or not isinstance(user_id, str):
            raise SlackError("invalid_arguments", messages=["[ERROR] missing required field: user"])
        user = self._directory.by_slack_id(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    @staticmethod
    def user_json(user: User) -> dict[str, Any]:
        """A user as the Web API returns it."""
        profile = {
            "real_name": user.display_name,
            "real_name_normalized": user.display_name,
            "display_name": user.display_name,
            "display_name_normalized": user.display_name,
            "team": TEAM_ID,
        }
        if user.email:
            profile["email"] = user.email
        return {
            "id": user.slack_id,
            "team_id": TEAM_ID,
            "name": user.username,
            "deleted": False,
            "color": "9f69e7",
            "real_name": user.display_name,
            "tz": "Etc/UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": False,
            "is_app_user": False,
            "updated": int(now().timestamp()),
        }

    @staticmethod
    def message_json(message: Message) -> dict[str, Any]:
        """The ``message`` object of a chat.postMessage answer."""
        data: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": message.ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": message.text,
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": "pmsync",
                "deleted": False,
                "team_id": TEAM_ID,
            },
        }
        if message.blocks is not None:
            data["blocks"] = json.loads(json.dumps(message.blocks))
        if message.thread_ts:
            data["thread_ts"] = message.thread_ts
        return data


def _parse_blocks(raw: Any) -> list[Mapping[str, Any]] | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise SlackError("invalid_blocks_format") from None
    if not isinstance(raw, list):
        raise SlackError("invalid_blocks_format")
    if len(raw) > 50:
        raise SlackError("invalid_blocks", messages=["[ERROR] no more than 50 items allowed"])
    for index, block in enumerate(raw):
        if not isinstance(block, Mapping) or block.get("type") not in _BLOCK_TYPES:
            raise SlackError(
                "invalid_blocks", messages=[f"[ERROR] unsupported type [json-pointer:/{index}]"]
            )
        text = block.get("text")
        limit = 150 if block["type"] == "header" else 3000
        if isinstance(text, Mapping) and len(str(text.get("text", ""))) > limit:
            raise SlackError(
                "invalid_blocks",
                messages=[
                    f"[ERROR] must be less than {limit + 1} characters "
                    f"[json-pointer:/{index}/text/text]"
                ],
            )
    return list(raw)
