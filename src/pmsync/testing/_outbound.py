"""What the emulated services send to apps: Slack button presses and webhooks.

Slack sends an interactivity payload to the app's request URL when a person presses a
button: a form-encoded ``payload`` field holding JSON, signed with the app's signing
secret (``X-Slack-Signature: v0=HMAC-SHA256("v0:{timestamp}:{body}")`` and
``X-Slack-Request-Timestamp``). Jira and Confluence send webhooks as JSON bodies; with a
secret, Jira signs the body as ``X-Hub-Signature: sha256=HMAC-SHA256(body)``, and the
emulator signs its Confluence page events the same way.

Every request sent is kept as a :class:`Delivery` with the app's answer. Sending happens in
the thread that caused it (the test's), outside the emulator's lock, so an app that calls
back into the emulator while answering cannot deadlock it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode

import attrs
import requests

from pmsync.testing._clock import now
from pmsync.testing._slack import APP_ID, BOT_USER_ID, TEAM_ID
from pmsync.testing._users import User

__all__ = [
    "Delivery",
    "Outbound",
    "Webhook",
    "block_actions_payload",
    "hub_signature",
    "slack_signature",
]

#: Where nobody listens: a delivery that could not connect has this status.
NOT_DELIVERED = 0


def slack_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Slack's request signature: ``v0=`` and the hex HMAC-SHA256 of ``v0:ts:body``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def hub_signature(secret: str, body: bytes) -> str:
    """A webhook signature as Jira sends it: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@attrs.frozen
class Delivery:
    """One request the emulator sent to an app, and the app's answer.

    ``status`` is the HTTP status answered, or ``0`` when the app could not be reached.
    ``headers`` and ``body`` are exactly what was sent, so a test can send them again (a
    replay).
    """

    url: str
    headers: Mapping[str, str]
    body: bytes
    status: int
    answer: str

    @property
    def payload(self) -> Any:
        """The JSON sent: the ``payload`` field of a Slack form, or a webhook's body."""
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            return json.loads(parse_qs(self.body.decode())["payload"][0])
        return json.loads(self.body)


@attrs.frozen
class Webhook:
    """A registered webhook: where to send which events, signed with ``secret``."""

    url: str
    secret: str | None
    events: frozenset[str] | None


class Outbound:
    """The Slack request URL, the registered webhooks and every delivery. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.request_url: str | None = None
        self.signing_secret = "emulator-signing-secret"
        self._webhooks: list[Webhook] = []
        self._deliveries: list[Delivery] = []

    def reset(self) -> None:
        """Forget the request URL, the webhooks and the deliveries."""
        with self._lock:
            self.request_url = None
            self._webhooks.clear()
            self._deliveries.clear()

    def add_webhook(self, url: str, secret: str | None, events: Sequence[str] | None) -> None:
        """Register ``url`` for ``events`` (``None``: every event)."""
        with self._lock:
            self._webhooks.append(
                Webhook(url, secret, None if events is None else frozenset(events))
            )

    def wants(self, event: str) -> bool:
        """Whether any webhook listens to ``event`` (so the emulator can skip building it)."""
        with self._lock:
            return any(w.events is None or event in w.events for w in self._webhooks)

    def deliveries(self) -> list[Delivery]:
        """Every request sent, oldest first."""
        with self._lock:
            return list(self._deliveries)

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Delivery:
        """POST ``body`` to ``url`` and record the delivery."""
        try:
            response = requests.post(url, data=body, headers=dict(headers), timeout=30)
            delivery = Delivery(url, dict(headers), body, response.status_code, response.text)
        except requests.RequestException as exc:
            delivery = Delivery(url, dict(headers), body, NOT_DELIVERED, str(exc))
        with self._lock:
            self._deliveries.append(delivery)
        return delivery

    def click(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> Delivery:
        """Send an interactivity payload to the request URL, signed as Slack signs it."""
        if self.request_url is None:
            raise RuntimeError("no Slack request URL: call emu.set_slack_request_url(url) first")
        body = urlencode({"payload": json.dumps(payload)}).encode()
        stamp = int(now().timestamp()) if timestamp is None else timestamp
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": slack_signature(secret or self.signing_secret, stamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        return self.send(self.request_url, body, headers)

    def fire(self, event: str, body: Mapping[str, Any]) -> list[Delivery]:
        """Send ``body`` to every webhook registered for ``event``."""
        with self._lock:
            hooks = [w for w in self._webhooks if w.events is None or event in w.events]
        raw = json.dumps(body).encode()
        out = []
        for hook in hooks:
            headers = {"Content-Type": "application/json", "User-Agent": "Atlassian Webhook"}
            if hook.secret:
                headers["X-Hub-Signature"] = hub_signature(hook.secret, raw)
            out.append(self.send(hook.url, raw, headers))
        return out


def _find_element(
    blocks: Sequence[Mapping[str, Any]], action_id: str
) -> tuple[str, dict[str, Any]]:
    for block in blocks:
        if block.get("type") != "actions":
            continue
        for element in block.get("elements") or ():
            if element.get("action_id") == action_id:
                return str(block.get("block_id") or ""), dict(element)
    raise ValueError(f"the message has no element with action_id {action_id!r}")


def block_actions_payload(
    message: Mapping[str, Any],
    action_id: str,
    *,
    user: User,
    response_url: str,
    selected_date: str | None = None,
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when ``user`` uses an element of ``message``.

    ``message`` is a message as :meth:`Emulator.slack_messages` lists it. A date picker
    sends ``selected_date``; a button its ``value`` (and its ``url``, if it is a link).
    """
    block_id, element = _find_element(message.get("blocks") or (), action_id)
    stamp = f"{now().timestamp():.6f}"
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": element.get("type"),
        "action_ts": stamp,
    }
    if element.get("type") == "datepicker":
        if selected_date is None:
            raise ValueError("a date picker sends a date: pass selected_date='YYYY-MM-DD'")
        action["selected_date"] = selected_date
        if element.get("initial_date"):
            action["initial_date"] = element["initial_date"]
    else:
        action["text"] = element.get("text")
        for name in ("value", "url", "style"):
            if name in element:
                action[name] = element[name]
    channel = str(message["channel"])
    return {
        "type": "block_actions",
        "user": {
            "id": user.slack_id,
            "username": user.username,
            "name": user.username,
            "team_id": TEAM_ID,
        },
        "api_app_id": APP_ID,
        "token": "emulator-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{secrets.randbelow(10**10)}.{secrets.token_hex(8)}",
        "team": {"id": TEAM_ID, "domain": "pmsync-emulator"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": message.get("channel_name") or "directmessage"},
        "message": {
            "type": "message",
            "user": BOT_USER_ID,
            "ts": message["ts"],
            "text": message.get("text") or "",
            "blocks": message.get("blocks") or [],
        },
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [action],
    }
