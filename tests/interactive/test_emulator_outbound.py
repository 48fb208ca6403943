"""The emulator's outbound side: signed button presses, webhooks, chat.update, user groups."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient
from werkzeug.wrappers import Request, Response

from pmsync.testing import Emulator
from pmsync.testing._outbound import hub_signature
from pmsync.testing._server import ServerThread

BUTTONS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "An item"}},
    {
        "type": "actions",
        "block_id": "pmsync:OPS-1",
        "elements": [
            {
                "type": "button",
                "action_id": "pmsync_done",
                "text": {"type": "plain_text", "text": "Done"},
                "value": "OPS-1",
            },
            {"type": "datepicker", "action_id": "pmsync_due"},
        ],
    },
]


class Recorder:
    """A tiny app that records what it receives and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        self.received = threading.Event()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((dict(request.headers), request.get_data()))
        self.received.set()
        return Response("", 200)(environ, start_response)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        emulator.add_user(display_name="Alice Example", slack_id="UALICE")
        emulator.add_project("OPS")
        yield emulator


@pytest.fixture
def app() -> Iterator[tuple[Recorder, str]]:
    recorder = Recorder()
    server = ServerThread()
    server.serve(recorder)
    try:
        yield recorder, f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def posted(emu) -> dict:
    emu.slack().chat_postMessage(channel="UALICE", text="An item", blocks=BUTTONS)
    return emu.slack_messages()[-1]


def test_a_press_is_signed_as_slack_signs(emu, app):
    recorder, url = app
    emu.set_slack_request_url(url)
    emu.slack_click(posted(emu), "pmsync_done", user="UALICE")
    headers, body = recorder.requests[0]
    verifier = SignatureVerifier(emu.slack_signing_secret)
    assert verifier.is_valid(
        body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    )


def test_a_press_carries_the_block_actions_payload(emu, app):
    emu.set_slack_request_url(app[1])
    message = posted(emu)
    delivery = emu.slack_click(message, "pmsync_due", user="UALICE", selected_date="2027-01-15")
    payload = delivery.payload
    (action,) = payload["actions"]
    assert ("block_actions", "UALICE", message["ts"], "pmsync:OPS-1", "2027-01-15") == (
        payload["type"],
        payload["user"]["id"],
        payload["container"]["message_ts"],
        action["block_id"],
        action["selected_date"],
    )


def test_pressing_what_the_message_lacks_is_an_error(emu, app):
    emu.set_slack_request_url(app[1])
    with pytest.raises(ValueError, match="no element with action_id 'nope'"):
        emu.slack_click(posted(emu), "nope", user="UALICE")


def test_the_response_url_records_posts(emu, app):
    emu.set_slack_request_url(app[1])
    delivery = emu.slack_click(posted(emu), "pmsync_done", user="UALICE")
    WebhookClient(delivery.payload["response_url"]).send(text="hi", response_type="ephemeral")
    assert [("hi", "ephemeral")] == [(r["text"], r["response_type"]) for r in emu.slack_responses()]


def test_chat_update_replaces_the_message(emu):
    message = posted(emu)
    emu.slack().chat_update(channel=message["channel"], ts=message["ts"], text="Handled")
    assert ("Handled", ["Handled"]) == (
        emu.slack_messages()[-1]["text"],
        [u["text"] for u in emu.slack_updates()],
    )


def test_chat_update_of_an_unknown_message_fails(emu):
    message = posted(emu)
    with pytest.raises(SlackApiError, match="message_not_found"):
        emu.slack().chat_update(channel=message["channel"], ts="1.000009", text="x")


def test_usergroup_members(emu):
    group = emu.add_usergroup("managers", ["UALICE"])
    assert ["UALICE"] == emu.slack().usergroups_users_list(usergroup=group)["users"]


def test_issue_edits_send_signed_jira_webhooks(emu, app):
    recorder, url = app
    emu.add_webhook(url, secret="s3cret")
    key = emu.add_issue("OPS", summary="Fix it")
    emu.transition_issue(key, "Done")
    headers, body = recorder.requests[0]
    event = json.loads(body)
    assert (hub_signature("s3cret", body), "jira:issue_updated", key) == (
        headers["X-Hub-Signature"],
        event["webhookEvent"],
        event["issue"]["key"],
    )
    assert [("status", "To Do", "Done")] == [
        (i["field"], i["fromString"], i["toString"]) for i in event["changelog"]["items"]
    ]


def test_page_edits_send_page_events(emu, app):
    recorder, url = app
    emu.add_webhook(url, events=["page_updated"])
    page = emu.add_page("SRE", "PM", "<p>one</p>")
    emu.edit_page(page, "<p>two</p>")
    (only,) = recorder.requests
    assert ("page_updated", page, 2) == (
        json.loads(only[1])["event"],
        json.loads(only[1])["page"]["id"],
        json.loads(only[1])["page"]["version"],
    )
