"""Slack buttons end to end: the emulator's Slack presses them on pmsync's web app.

Each test presses a button of a real message pmsync sent, through signed HTTP, and then
reads Jira, the page and Slack back from the emulator.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from urllib.parse import urlencode

import attrs
import pytest
import requests
from interactive_helpers import ALICE, dm_to

from pmsync._messages import ACTION_DONE, ACTION_DUE, ACTION_NOT_MINE, ACTION_OPEN
from pmsync.testing._outbound import slack_signature


def only_issue(emu) -> dict:
    (issue,) = emu.issues("OPS")
    return issue


def comments(emu) -> list[str]:
    return [c["body"] for c in only_issue(emu)["fields"]["comment"]["comments"]]


def action_ids(message: dict) -> list[str]:
    return [
        element["action_id"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_assignment_message_carries_the_buttons(emu, page_id):
    """Alice's DM about her new item has Done, New due date, Not mine and Open."""
    del page_id
    assert [ACTION_DONE, ACTION_DUE, ACTION_NOT_MINE, ACTION_OPEN] == action_ids(
        dm_to(emu, "UALICE")
    )


class TestDone:
    def test_owner_press_is_acknowledged_at_once(self, emu, page_id, web):
        """Slack gets its 200 before the work (which needs Jira and Confluence) is done."""
        del page_id
        delivery = emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
        assert 200 == delivery.status
        assert web.app.wait_idle(timeout=30)

    def test_owner_press_closes_the_issue_and_the_page_shows_it(self, emu, page_id, web):
        """Done moves the issue to a done status and the sync writes it into the page."""
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        assert "Done" == only_issue(emu)["fields"]["status"]["name"]
        assert '<ac:parameter ac:name="title">Done</ac:parameter>' in emu.page(page_id)["storage"]

    def test_the_press_is_a_jira_comment(self, emu, page_id, web):
        del page_id
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        assert ["Marked done from Slack by Alice Example."] == comments(emu)

    def test_the_press_is_logged(self, emu, page_id, web, caplog):
        del page_id
        caplog.set_level("INFO", logger="pmsync")
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        key = only_issue(emu)["key"]
        assert f"Slack: Alice Example (UALICE) on {key}: {key} marked done" in caplog.messages

    def test_the_buttons_become_what_happened(self, emu, page_id, web):
        """The original message is updated in place: no buttons, "Done by Alice at ..."."""
        del page_id
        message = dm_to(emu, "UALICE")
        emu.slack_click(message, ACTION_DONE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        (updated,) = emu.slack_updates()
        assert (message["channel"], message["ts"]) == (updated["channel"], updated["ts"])
        assert [] == action_ids(updated)
        note = updated["blocks"][2]["elements"][0]["text"]
        assert note.startswith("Done by Alice Example at <!date^")


class TestSomeoneElse:
    def test_another_user_changes_nothing(self, emu, page_id, web):
        """Bob pressing Done on Alice's item: the issue, the page and the message stay."""
        version = emu.page(page_id)["version"]
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UBOB")
        assert web.app.wait_idle(timeout=30)
        assert ("To Do", version, [], []) == (
            only_issue(emu)["fields"]["status"]["name"],
            emu.page(page_id)["version"],
            comments(emu),
            emu.slack_updates(),
        )

    def test_another_user_is_told_whose_item_it_is(self, emu, page_id, web):
        """Only Bob sees the answer (ephemeral, through the response_url)."""
        del page_id
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UBOB")
        assert web.app.wait_idle(timeout=30)
        (answer,) = emu.slack_responses()
        key = only_issue(emu)["key"]
        assert (
            "ephemeral",
            f"This is Alice Example's item ({key}); only its owner can change it.",
        ) == (
            answer["response_type"],
            answer["text"],
        )

    def test_a_member_of_the_admin_group_may_act(self, emu, page_id, web, syncer):
        """Carol, in the configured user group, closes Alice's item."""
        del page_id
        group = emu.add_usergroup("incident-managers", ["UCAROL"])
        syncer.config = attrs.evolve(syncer.config, slack_admin_group=group)
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UCAROL")
        assert web.app.wait_idle(timeout=30)
        assert ["Marked done from Slack by Carol Example."] == comments(emu)

    def test_a_name_with_wiki_markup_is_plain_text_in_the_comment(self, emu, page_id, web, syncer):
        """A Slack display name is the person's to choose: in the Jira comment (wiki
        markup) it is escaped, so it cannot make a link or a macro."""
        del page_id
        emu.add_user(display_name="Mal [click|https://evil.example]", slack_id="UMAL")
        group = emu.add_usergroup("incident-managers", ["UMAL"])
        syncer.config = attrs.evolve(syncer.config, slack_admin_group=group)
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UMAL")
        assert web.app.wait_idle(timeout=30)
        assert [r"Marked done from Slack by Mal \[click\|https://evil.example\]."] == comments(emu)


class TestSignatures:
    def test_forged_signature_is_refused_and_changes_nothing(self, emu, page_id, web):
        version = emu.page(page_id)["version"]
        delivery = emu.slack_click(
            dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE", signing_secret="not-the-secret"
        )
        assert web.app.wait_idle(timeout=30)
        assert (401, "To Do", version, []) == (
            delivery.status,
            only_issue(emu)["fields"]["status"]["name"],
            emu.page(page_id)["version"],
            comments(emu),
        )

    def test_replayed_request_is_refused_and_changes_nothing(self, emu, page_id, web):
        """The same signed request sent again is a replay: 401, and no second change."""
        del page_id
        first = emu.slack_click(
            dm_to(emu, "UALICE"), ACTION_DUE, user="UALICE", selected_date="2027-01-15"
        )
        assert web.app.wait_idle(timeout=30)
        again = requests.post(first.url, data=first.body, headers=dict(first.headers), timeout=30)
        assert web.app.wait_idle(timeout=30)
        assert (200, 401, ["Due date moved to 2027-01-15 from Slack by Alice Example."]) == (
            first.status,
            again.status_code,
            comments(emu),
        )

    def test_old_request_is_refused(self, emu, page_id, web):
        """A signature older than 5 minutes is refused, even when correctly signed."""
        del page_id
        delivery = emu.slack_click(
            dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE", timestamp=int(time.time()) - 301
        )
        assert web.app.wait_idle(timeout=30)
        assert (401, []) == (delivery.status, comments(emu))


class TestOtherButtons:
    def test_new_due_date_reaches_jira_and_the_page(self, emu, page_id, web):
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DUE, user="UALICE", selected_date="2027-01-15")
        assert web.app.wait_idle(timeout=30)
        assert "2027-01-15" == only_issue(emu)["fields"]["duedate"]
        assert '<time datetime="2027-01-15"' in emu.page(page_id)["storage"]

    def test_a_new_due_date_the_page_overrules_is_not_reported_as_done(self, emu, page_id, web):
        """Someone changed the due date on the page (not synced yet); the page wins the
        three-way merge, so the press does not hold: the person is told so, and the
        message keeps its buttons instead of claiming the date moved."""
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace("2026-12-20", "2026-12-24"))
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DUE, user="UALICE", selected_date="2027-01-15")
        assert web.app.wait_idle(timeout=30, quiet_too=False)  # the edit's webhook waits
        (answer,) = emu.slack_responses()
        assert ("2026-12-24", []) == (only_issue(emu)["fields"]["duedate"], emu.slack_updates())
        assert "the postmortem page had an edit of its own" in answer["text"]

    def test_not_mine_unassigns_and_asks_the_channel(self, emu, page_id, web):
        del page_id
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_NOT_MINE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        issue = only_issue(emu)
        asked = [m for m in emu.slack_messages() if m["channel_name"] == "incidents"]
        assert issue["fields"]["assignee"] is None
        assert ALICE == issue["properties"]["pmsync"]["declined"]["by"]
        assert asked[-1]["text"].startswith(f"{issue['key']} needs an owner")

    def test_open_changes_nothing(self, emu, page_id, web):
        """Open is a link; Slack still tells the app, which only acknowledges."""
        version = emu.page(page_id)["version"]
        delivery = emu.slack_click(dm_to(emu, "UALICE"), ACTION_OPEN, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        assert (200, version, []) == (delivery.status, emu.page(page_id)["version"], comments(emu))


@pytest.mark.parametrize("path", ["/slack/actions", "/webhooks/jira"])
def test_unsigned_requests_are_refused(web, path):
    answer = requests.post(web.url + path, data=b"{}", timeout=30)
    assert 401 == answer.status_code


def test_a_reminder_carries_buttons_that_work(emu, page_id, web, syncer):
    """An overdue reminder to Alice; her Done on it closes the item."""
    result = syncer.remind(today=dt.date(2026, 12, 22))
    assert 1 == len(result.sent)
    reminder = dm_to(emu, "UALICE")
    assert "overdue" in reminder["text"]
    emu.slack_click(reminder, ACTION_DONE, user="UALICE")
    assert web.app.wait_idle(timeout=30)
    assert '<ac:parameter ac:name="title">Done</ac:parameter>' in emu.page(page_id)["storage"]


def test_after_not_mine_the_item_stays_unowned_and_reminders_go_to_the_channel(
    emu, page_id, web, syncer
):
    """A later cron run does not hand the item back to Alice (the page still names her),
    and its overdue reminder asks the channel instead of messaging her."""
    emu.slack_click(dm_to(emu, "UALICE"), ACTION_NOT_MINE, user="UALICE")
    assert web.app.wait_idle(timeout=30)
    syncer.sync(page_ids=[page_id])
    before = len([m for m in emu.slack_messages() if m["dm_user"] == "UALICE"])
    result = syncer.remind(today=dt.date(2026, 12, 22))
    (reminder,) = result.sent
    assert (None, None, before) == (
        only_issue(emu)["fields"]["assignee"],
        reminder.recipient,
        len([m for m in emu.slack_messages() if m["dm_user"] == "UALICE"]),
    )
    assert emu.slack_messages()[-1]["channel_name"] == "incidents"


def test_when_slack_cannot_say_who_pressed_nothing_changes(emu, page_id, web):
    """The owner check needs Slack; when Slack fails it, the press changes nothing and
    the person is told."""
    del page_id
    message = dm_to(emu, "UALICE")
    emu.faults.server_error(count=1, service="slack")  # the owner's look-up
    emu.slack_click(message, ACTION_DONE, user="UALICE")
    assert web.app.wait_idle(timeout=30)
    (answer,) = emu.slack_responses()
    assert ("To Do", []) == (only_issue(emu)["fields"]["status"]["name"], comments(emu))
    assert answer["text"].startswith("Slack could not be asked who you are")


class TestPressedTwice:
    def test_done_on_a_done_item_changes_and_records_nothing(self, emu, page_id, web):
        """The second Done (a double click, an old message) says the item was already
        done: one comment, not two."""
        del page_id
        message = dm_to(emu, "UALICE")
        emu.slack_click(message, ACTION_DONE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        emu.slack_click(message, ACTION_DONE, user="UALICE")
        assert web.app.wait_idle(timeout=30)
        assert ("Done", ["Marked done from Slack by Alice Example."]) == (
            only_issue(emu)["fields"]["status"]["name"],
            comments(emu),
        )
        assert "Already done when Alice Example pressed Done" in str(emu.slack_updates()[-1])

    def test_two_presses_at_once_are_carried_out_one_after_the_other(self, emu, page_id, web):
        """Two presses of Done sent at the same moment: the second sees the first's
        result, so the issue is moved and commented on once."""
        del page_id
        message = dm_to(emu, "UALICE")
        presses = [
            threading.Thread(target=emu.slack_click, args=(message, ACTION_DONE), kwargs=KW)
            for KW in ({"user": "UALICE"}, {"user": "UALICE"})
        ]
        for press in presses:
            press.start()
        for press in presses:
            press.join(timeout=30)
        assert web.app.wait_idle(timeout=30)
        assert ["Marked done from Slack by Alice Example."] == comments(emu)

    def test_the_due_date_it_already_has_is_no_change(self, emu, page_id, web):
        """Picking the item's current due date again writes no comment."""
        del page_id
        emu.slack_click(dm_to(emu, "UALICE"), ACTION_DUE, user="UALICE", selected_date="2026-12-20")
        assert web.app.wait_idle(timeout=30)
        assert [] == comments(emu)


class TestMalformedRequests:
    def test_a_timestamp_that_is_not_ascii_digits_is_401(self, web):
        """'²' passes str.isdigit() but is no number: refused like any bad signature."""
        answer = requests.post(
            web.url + "/slack/actions",
            data=b"payload=%7B%7D",
            headers={"X-Slack-Request-Timestamp": b"\xb2", "X-Slack-Signature": "v0=00"},
            timeout=30,
        )
        assert 401 == answer.status_code

    @pytest.mark.parametrize(
        "payload",
        [
            "[1, 2]",
            '"block_actions"',
            '{"type": "block_actions", "actions": {"action_id": "pmsync_done"}}',
            '{"type": "block_actions", "user": "UALICE", "actions": '
            '[{"action_id": "pmsync_done", "block_id": "pmsync:OPS-1"}]}',
            '{"type": "block_actions", "user": {"id": "UALICE"}, "actions": ["pmsync_done"]}',
        ],
    )
    def test_a_signed_payload_of_the_wrong_shape_is_400(self, emu, web, payload):
        body = urlencode({"payload": payload}).encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(stamp),
            "X-Slack-Signature": slack_signature(emu.slack_signing_secret, stamp, body),
        }
        answer = requests.post(web.url + "/slack/actions", data=body, headers=headers, timeout=30)
        assert 400 == answer.status_code
