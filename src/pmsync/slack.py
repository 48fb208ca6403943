"""pmsync's Slack buttons in your own bolt app.

``register(app, syncer)`` adds one action listener to a :class:`slack_bolt.App` for the
buttons pmsync puts on assignment messages and reminders (``Config.slack_buttons``)::

    from slack_bolt import App
    import pmsync, pmsync.slack

    app = App()  # your bot: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET
    syncer = pmsync.Syncer.from_env(pmsync.Config.from_file("pmsync.toml"))
    pmsync.slack.register(app, syncer)

Bolt verifies each request's signature and timestamp (5 minutes); the listener also
refuses a signature it has seen before (a replay, 401). Socket Mode apps work too (their
requests carry no signature). The press is acknowledged at once
and carried out after (see :mod:`pmsync._actions`): only the item's owner or a member of
``Config.slack_admin_group`` may act. Needs the ``slack`` extra: ``pip install
'pmsync[slack]'``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pmsync._actions import ItemActions, ReplayGuard, press_from_payload

if TYPE_CHECKING:
    from pmsync._sync import Syncer

__all__ = ["ACTION_PATTERN", "register"]

#: The action ids pmsync's listener answers (``pmsync_done``, ``pmsync_due``...).
ACTION_PATTERN = re.compile(r"^pmsync_")


def register(app: Any, syncer: Syncer) -> None:
    """Answer pmsync's buttons in ``app`` (a ``slack_bolt.App``) with ``syncer``.

    ``syncer`` needs its own Slack client (``slack=``; ``from_env`` reads
    ``PMSYNC_SLACK_TOKEN``), which updates the messages; it may be the bot's token.
    """
    from slack_bolt import BoltResponse  # noqa: PLC0415  (an optional extra)

    actions = ItemActions(syncer)
    replays = ReplayGuard()

    def refuse_replays(request: Any, next: Callable[[], None]) -> Any:  # bolt passes `next` by name
        signature = request.headers.get("x-slack-signature", [""])[0]
        stamp = request.headers.get("x-slack-request-timestamp", [""])[0]
        # Socket Mode requests come over the app's own websocket and carry no signature:
        # nothing to replay, and "" must not make every press after the first a replay.
        if signature and not replays.first_time(signature, stamp):
            return BoltResponse(status=401, body="replayed request")
        next()
        return None

    def on_press(ack: Callable[[], None], body: dict[str, Any]) -> None:
        ack()  # at once: Slack waits 3 seconds at most; the work goes on after
        press = press_from_payload(body)
        if press is not None:
            actions.handle(press)

    app.action(ACTION_PATTERN, middleware=[refuse_replays])(on_press)
