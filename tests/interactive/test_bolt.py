"""pmsync.slack.register in a real slack_bolt App, served over HTTP like a user's own bot."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from interactive_helpers import dm_to
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

import pmsync.slack
from pmsync._messages import ACTION_DONE
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
