"""pmsync.slack.register in a real slack_bolt App, served over HTTP like a user's own bot."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from interactive_helpers import dm_to
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request import BoltRequest

import pmsync.slack
from pmsync._messages import ACTION_DONE, ACTION_DUE
from pmsync.testing._outbound import block_actions_payload
from pmsync.testing._server import ServerThread


@pytest.fixture
def bolt(emu, syncer) -> Iterator[App]:
    """A user's bolt app with pmsync mounted: the five lines of docs/recipes/slack-app.md."""
    app = App(token=emu.slack_token, signing_secret=emu.slack_signing_secret, client=emu.slack())
    pmsync.slack.register(app, syncer)
    server = ServerThread()
    server.serve(SlackRequestHandler(app, path="/slack/events"))
    emu.set_slack_request_url(f"http://127.0.0.1:{server.port}/slack/events")
    try:
        yield app
    finally:
        server.stop()


def wait_for_update(emu, count: int = 1) -> list[dict]:
    """The chat.update calls, once ``count`` have arrived (bolt works after its ack)."""
    arrived = threading.Event()

    def listener(record) -> None:
        if record.path.endswith("/chat.update"):
            arrived.set()

    emu.add_request_listener(listener)
    if len(emu.slack_updates()) < count:
        assert arrived.wait(timeout=30)
    return emu.slack_updates()


def test_owner_presses_done_in_a_bolt_app(emu, page_id, bolt):
    del bolt
    delivery = emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
    wait_for_update(emu)
    (issue,) = emu.issues("OPS")
    assert (200, "Done") == (delivery.status, issue["fields"]["status"]["name"])
    assert '<ac:parameter ac:name="title">Done</ac:parameter>' in emu.page(page_id)["storage"]


def test_bolt_refuses_a_forged_signature(emu, page_id, bolt):
    del page_id, bolt
    delivery = emu.slack_click(
        dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE", signing_secret="not-the-secret"
    )
    assert 401 == delivery.status


def test_bolt_refuses_a_replay(emu, page_id, bolt):
    del page_id, bolt
    first = emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
    wait_for_update(emu)
    again = requests.post(first.url, data=first.body, headers=dict(first.headers), timeout=30)
    assert (200, 401) == (first.status, again.status_code)


def test_socket_mode_presses_carry_no_signature_and_are_not_replays(emu, page_id, syncer):
    """A bolt app in Socket Mode (no request URL; requests come over a websocket, with no
    signature): every press is carried out, not refused as a replay of the first."""
    del page_id
    app = App(token=emu.slack_token, client=emu.slack())
    pmsync.slack.register(app, syncer)
    (alice,) = [u for u in emu.users() if u.slack_id == "UALICE"]
    message = dm_to(emu, "UALICE")  # as sent: a press replaces its buttons
    statuses = []
    for day in ("2027-01-15", "2027-02-01"):
        payload = block_actions_payload(
            message,
            ACTION_DUE,
            user=alice,
            response_url=f"{emu.url}/slack/responses/socket",
            selected_date=day,
        )
        statuses.append(app.dispatch(BoltRequest(body=payload, mode="socket_mode")).status)
        wait_for_update(emu, count=len(statuses))
    (issue,) = emu.issues("OPS")
    assert ([200, 200], "2027-02-01") == (statuses, issue["fields"]["duedate"])
