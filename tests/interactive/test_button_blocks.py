"""The buttons' blocks, pure: what each message carries and how it reads once handled."""

from __future__ import annotations

import datetime as dt
import time

from pmsync import ActionItem, Person
from pmsync._actions import SLACK_WINDOW, ReplayGuard, press_from_payload
from pmsync._messages import (
    ACTION_DONE,
    ACTION_DUE,
    ACTION_NOT_MINE,
    ACTION_OPEN,
    assignment_message,
    handled_blocks,
    item_actions,
    item_key,
    reminder_message,
)
from pmsync._remind import Reminder

URL = "https://jira.example/browse/OPS-7"


def reminder(recipient: Person | None) -> Reminder:
    return Reminder(
        issue_key="OPS-7",
        kind="overdue",
        recipient=recipient,
        due=dt.date(2026, 3, 20),
        summary="Fix the retry storm",
        url=URL,
        days_overdue=2,
        overdue_count=1,
    )


def actions_of(blocks: list[dict]) -> list[dict]:
    return [b for b in blocks if b["type"] == "actions"]


def test_the_block_names_its_issue():
    assert "OPS-7" == item_key(item_actions("OPS-7", due=None, issue_url=URL)["block_id"])


def test_other_block_ids_name_no_issue():
    assert [None, None, None] == [item_key(b) for b in (None, "header", "pmsync:not a key")]


def test_the_date_picker_starts_at_the_due_date():
    (_, picker, _, _) = item_actions("OPS-7", due=dt.date(2026, 3, 20), issue_url=URL)["elements"]
    assert (ACTION_DUE, "2026-03-20") == (picker["action_id"], picker["initial_date"])


def test_open_links_to_the_issue():
    *_, open_button = item_actions("OPS-7", due=None, issue_url=URL)["elements"]
    assert (ACTION_OPEN, URL) == (open_button["action_id"], open_button["url"])


def test_no_open_button_without_a_web_address():
    elements = item_actions("OPS-7", due=None, issue_url="javascript:alert(1)")["elements"]
    assert [ACTION_DONE, ACTION_DUE, ACTION_NOT_MINE] == [e["action_id"] for e in elements]


def test_assignment_has_buttons_only_when_asked_and_with_an_issue():
    item = ActionItem(item_id="i", summary="Fix it", jira_key="OPS-7")
    unfiled = ActionItem(item_id="j", summary="Fix it")
    assert (1, 0, 0) == (
        len(actions_of(assignment_message(item, URL, None, "PM", buttons=True)[1])),
        len(actions_of(assignment_message(item, URL, None, "PM")[1])),
        len(actions_of(assignment_message(unfiled, None, None, "PM", buttons=True)[1])),
    )


def test_owner_reminders_have_buttons_channel_reminders_do_not():
    alice = Person(account_id="a-1", display_name="Alice")
    assert (1, 0) == (
        len(actions_of(reminder_message(reminder(alice), buttons=True)[1])),
        len(actions_of(reminder_message(reminder(None), buttons=True)[1])),
    )


def test_handled_blocks_replace_the_buttons_with_the_note():
    _, blocks = assignment_message(
        ActionItem(item_id="i", summary="Fix it", jira_key="OPS-7"), URL, None, "PM", buttons=True
    )
    handled = handled_blocks(blocks, "Done by Alice")
    assert ([], {"type": "mrkdwn", "text": "Done by Alice"}) == (
        actions_of(handled),
        handled[2]["elements"][0],
    )


def payload(**action) -> dict:
    return {
        "type": "block_actions",
        "user": {"id": "UALICE"},
        "container": {"channel_id": "D1", "message_ts": "1.000001"},
        "message": {"ts": "1.000001", "blocks": []},
        "response_url": "http://127.0.0.1:1/slack/responses/x",
        "actions": [{"block_id": "pmsync:OPS-7", **action}],
    }


def test_a_press_is_read_from_its_payload():
    press = press_from_payload(payload(action_id=ACTION_DUE, selected_date="2027-01-15"))
    assert press is not None
    assert ("OPS-7", "UALICE", "D1", dt.date(2027, 1, 15)) == (
        press.issue_key,
        press.user_id,
        press.channel,
        press.selected_date,
    )


def test_other_apps_actions_are_not_presses():
    assert (None, None) == (
        press_from_payload(payload(action_id="someone_elses_button")),
        press_from_payload({**payload(action_id=ACTION_DONE), "type": "view_submission"}),
    )


def test_a_signature_is_accepted_once():
    guard = ReplayGuard()
    stamp = str(int(time.time()))
    assert (True, False, True) == (
        guard.first_time("v0=a", stamp),
        guard.first_time("v0=a", stamp),
        guard.first_time("v0=b", stamp),
    )


def test_a_signature_is_remembered_as_long_as_its_timestamp_is_accepted():
    """Slack's clock 250 s ahead of ours: the verifier accepts the request until 300 s
    after its timestamp, so a replay 6 minutes after the first delivery is still
    refused; once the timestamp is too old for the verifier (which then refuses the
    request), the guard forgets it."""
    now = [1000.0]
    guard = ReplayGuard(clock=lambda: now[0])
    stamp = "1250"
    first = guard.first_time("v0=a", stamp)
    now[0] = 1000 + 6 * 60
    replay = guard.first_time("v0=a", stamp)
    now[0] = 1250 + SLACK_WINDOW + 2
    forgotten = guard.first_time("v0=a", stamp)
    assert (True, False, True) == (first, replay, forgotten)
