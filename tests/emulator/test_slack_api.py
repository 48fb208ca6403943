"""The Slack Web API as slack_sdk's WebClient drives it."""

from __future__ import annotations

import json

import pytest
import requests
from slack_sdk.errors import SlackApiError

from pmsync.testing import Emulator, User


def _error(caught: pytest.ExceptionInfo[SlackApiError]) -> str:
    return str(caught.value.response["error"])


def test_auth_test_names_the_bot(emu: Emulator) -> None:
    """auth.test answers with the bot's user id and the team."""
    answer = emu.slack().auth_test()
    assert emu.bot.slack_id == answer["user_id"]
    assert answer["ok"] is True


def test_post_to_a_channel_by_id_name_or_hash_name(emu: Emulator) -> None:
    """chat.postMessage takes a channel id, '#name' or 'name'."""
    channel = emu.add_channel("incidents")
    slack = emu.slack()
    for ref in (channel, "#incidents", "incidents"):
        answer = slack.chat_postMessage(channel=ref, text=f"to {ref}")
        assert channel == answer["channel"]
    assert [channel] * 3 == [m["channel"] for m in emu.slack_messages()]
    assert ["incidents"] * 3 == [m["channel_name"] for m in emu.slack_messages()]


def test_post_to_a_user_id_opens_a_direct_message(emu: Emulator, alice: User) -> None:
    """A user id as the channel posts a DM; conversations.open returns the same channel."""
    answer = emu.slack().chat_postMessage(channel=alice.slack_id, text="Your item is overdue")
    assert answer["channel"].startswith("D")
    opened = emu.slack().conversations_open(users=[alice.slack_id])
    assert answer["channel"] == opened["channel"]["id"]
    (message,) = emu.slack_messages()
    assert alice.slack_id == message["dm_user"]


def test_post_answers_with_the_message(emu: Emulator) -> None:
    """The answer carries ts and the message with text, blocks and the bot's ids."""
    emu.add_channel("incidents")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Overdue*"}}]
    answer = emu.slack().chat_postMessage(channel="#incidents", text="Overdue", blocks=blocks)
    assert answer["ts"] == answer["message"]["ts"]
    assert blocks == answer["message"]["blocks"]
    assert emu.bot.slack_id == answer["message"]["user"]


def test_messages_are_recorded_with_blocks(emu: Emulator) -> None:
    """slack_messages() shows channel, text and blocks as posted (JSON body)."""
    emu.add_channel("incidents")
    blocks = [{"type": "divider"}]
    emu.slack().chat_postMessage(channel="#incidents", text="fallback", blocks=blocks)
    (message,) = emu.slack_messages()
    assert ("fallback", blocks) == (message["text"], message["blocks"])


def test_blocks_as_a_json_string_in_a_form_body(emu: Emulator) -> None:
    """Form-encoded calls send blocks as a JSON string; it is decoded."""
    emu.add_channel("incidents")
    blocks = [{"type": "section", "text": {"type": "plain_text", "text": "hi"}}]
    response = requests.post(
        f"{emu.slack_url}chat.postMessage",
        data={"channel": "#incidents", "text": "hi", "blocks": json.dumps(blocks)},
        headers={"Authorization": f"Bearer {emu.slack_token}"},
        timeout=5,
    )
    assert response.json()["ok"] is True
    assert blocks == emu.slack_messages()[0]["blocks"]


def test_unknown_channel_is_channel_not_found(emu: Emulator) -> None:
    """Posting to a channel that does not exist fails; nothing is recorded."""
    with pytest.raises(SlackApiError) as caught:
        emu.slack().chat_postMessage(channel="#nowhere", text="hi")
    assert "channel_not_found" == _error(caught)
    assert [] == emu.slack_messages()


def test_message_without_text_or_blocks_is_no_text(emu: Emulator) -> None:
    """A message needs text or blocks."""
    emu.add_channel("incidents")
    with pytest.raises(SlackApiError) as caught, pytest.warns(UserWarning, match="text"):
        emu.slack().chat_postMessage(channel="#incidents", text="")
    assert "no_text" == _error(caught)


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "unknown"}],
        [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        [{"type": "divider"}] * 51,
    ],
)
def test_invalid_blocks_are_refused(emu: Emulator, blocks: list[dict[str, object]]) -> None:
    """Unknown block types, over-long section text and more than 50 blocks are invalid."""
    emu.add_channel("incidents")
    with pytest.raises(SlackApiError) as caught:
        emu.slack().chat_postMessage(channel="#incidents", text="x", blocks=blocks)
    assert "invalid_blocks" == _error(caught)


def test_over_long_text_is_msg_too_long(emu: Emulator) -> None:
    """Text over 40,000 characters is refused."""
    emu.add_channel("incidents")
    with pytest.raises(SlackApiError) as caught:
        emu.slack().chat_postMessage(channel="#incidents", text="x" * 40001)
    assert "msg_too_long" == _error(caught)


def test_thread_replies_need_an_existing_parent(emu: Emulator) -> None:
    """thread_ts must name a message of the channel."""
    emu.add_channel("incidents")
    slack = emu.slack()
    parent = slack.chat_postMessage(channel="#incidents", text="parent")
    slack.chat_postMessage(channel="#incidents", text="reply", thread_ts=parent["ts"])
    assert parent["ts"] == emu.slack_messages()[1]["thread_ts"]
    with pytest.raises(SlackApiError) as caught:
        slack.chat_postMessage(channel="#incidents", text="reply", thread_ts="1.000001")
    assert "thread_not_found" == _error(caught)


def test_lookup_by_email_finds_the_user(emu: Emulator, alice: User) -> None:
    """users.lookupByEmail (form body) finds a user, case-insensitively."""
    answer = emu.slack().users_lookupByEmail(email="Alice@Example.com")
    assert alice.slack_id == answer["user"]["id"]
    assert alice.email == answer["user"]["profile"]["email"]


def test_lookup_of_an_unknown_email_is_users_not_found(emu: Emulator) -> None:
    """An email nobody has: users_not_found."""
    with pytest.raises(SlackApiError) as caught:
        emu.slack().users_lookupByEmail(email="ghost@example.com")
    assert "users_not_found" == _error(caught)


def test_users_info(emu: Emulator, alice: User) -> None:
    """users.info returns the user or user_not_found."""
    assert alice.display_name == emu.slack().users_info(user=alice.slack_id)["user"]["real_name"]
    with pytest.raises(SlackApiError) as caught:
        emu.slack().users_info(user="U999")
    assert "user_not_found" == _error(caught)


def test_conversations_open_with_an_unknown_user(emu: Emulator) -> None:
    """Opening a DM with someone who is not in the workspace fails."""
    with pytest.raises(SlackApiError) as caught:
        emu.slack().conversations_open(users=["U404"])
    assert "user_not_found" == _error(caught)


def test_conversations_open_return_im(emu: Emulator, alice: User) -> None:
    """return_im=true answers with the full IM channel."""
    answer = emu.slack().conversations_open(users=[alice.slack_id], return_im=True)
    assert answer["channel"]["is_im"] is True
    assert alice.slack_id == answer["channel"]["user"]


def test_unknown_method_is_404_unknown_method(emu: Emulator) -> None:
    """A method the emulator does not serve answers 404 unknown_method."""
    response = requests.post(f"{emu.slack_url}chat.scheduleMessage", timeout=5)
    assert 404 == response.status_code
    assert "unknown_method" == response.json()["error"]


def test_api_test_needs_no_token(emu: Emulator) -> None:
    """api.test echoes its arguments without authentication."""
    response = requests.post(f"{emu.slack_url}api.test", data={"foo": "bar"}, timeout=5)
    assert {"ok": True, "args": {"foo": "bar"}} == response.json()


def test_add_channel_validates_names(emu: Emulator) -> None:
    """Channel names are Slack-style: lower case, no spaces."""
    with pytest.raises(ValueError, match="channel name"):
        emu.add_channel("Incident Room")


def test_add_channel_twice_returns_the_same_id(emu: Emulator) -> None:
    """Adding an existing channel name returns its id."""
    assert emu.add_channel("incidents") == emu.add_channel("#incidents")
