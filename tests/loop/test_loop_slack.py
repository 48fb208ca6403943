"""The Slack gateway against the emulator, through a real slack_sdk WebClient."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from slack_sdk import WebClient

from pmsync import AuthError, JiraIssue, Person, RateLimitError, ReminderPolicy, ServiceError
from pmsync._gateways.slack import SlackNotifier, send_reminders
from pmsync._messages import assignment_message, postmortem_summary
from pmsync._remind import select_reminders
from pmsync.testing import Emulator

ALICE_EMAIL = "alice@example.com"


@pytest.fixture(name="emu")
def _emu():
    with Emulator() as emulator:
        emulator.add_user(display_name="Alice Ng", email=ALICE_EMAIL, slack_id="U0ALICE")
        emulator.add_user(display_name="Bob Li", email=None, slack_id="U0BOB")
        emulator.add_channel("incidents")
        yield emulator


class SleepRecorder:
    """Stands in for time.sleep so that Retry-After waits are checked, not waited."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(name="sleeps")
def _sleeps():
    return SleepRecorder()


@pytest.fixture(name="notifier")
def _notifier(emu, sleeps):
    return SlackNotifier(emu.slack(), user_map={"Bob Li": "U0BOB"}, sleep=sleeps)


def slack_calls(emu, method: str) -> int:
    return sum(1 for r in emu.requests if r.service == "slack" and r.path.endswith(method))


class TestLookups:
    def test_lookup_by_email(self, notifier):
        """An email finds the Slack user id."""
        assert "U0ALICE" == notifier.lookup(ALICE_EMAIL)

    def test_lookups_are_cached(self, notifier, emu):
        """The same email (in any case) is asked once per notifier."""
        notifier.lookup(ALICE_EMAIL)
        notifier.lookup("Alice@Example.com")
        assert 1 == slack_calls(emu, "users.lookupByEmail")

    def test_missing_user_is_reported_not_fatal(self, notifier, emu):
        """An unknown email gives None and is listed in missing, once."""
        assert notifier.lookup("nobody@example.com") is None
        assert notifier.lookup("nobody@example.com") is None
        assert ("nobody@example.com",) == notifier.missing
        assert 1 == slack_calls(emu, "users.lookupByEmail")

    def test_user_map_resolves_people_without_email(self, notifier, emu):
        """Sites that hide emails map owners explicitly, case-insensitively."""
        assert "U0BOB" == notifier.resolve(Person(account_id="b-2", display_name="bob li"))
        assert 0 == slack_calls(emu, "users.lookupByEmail")

    def test_person_without_email_or_mapping_is_missing(self, notifier):
        """Nobody to look up: None, and the person is reported by name."""
        assert notifier.resolve(Person(display_name="Carol Diaz")) is None
        assert ("Carol Diaz",) == notifier.missing


class TestMessages:
    def test_direct_message(self, notifier, emu):
        """send_dm opens the DM and posts text and blocks to it."""
        text, blocks = assignment_message(
            JiraIssue(key="OPS-1", summary="Add disk alert", due=dt.date(2026, 4, 1)),
            f"{emu.url}/browse/OPS-1",
            None,
            "INC-1",
        )
        ts = notifier.send_dm(Person(email=ALICE_EMAIL), text, blocks)
        (message,) = emu.slack_messages()
        assert (ts, "U0ALICE", text) == (message["ts"], message["dm_user"], message["text"])
        assert blocks == message["blocks"]

    def test_dm_channel_is_opened_once(self, notifier, emu):
        """Two messages to one person open one conversation."""
        for n in range(2):
            notifier.send_dm(Person(email=ALICE_EMAIL), f"m{n}")
        assert 1 == slack_calls(emu, "conversations.open")

    def test_channel_post_by_name(self, notifier, emu):
        """Posting to #incidents lands in that channel."""
        notifier.post("#incidents", *postmortem_summary("INC-1", None, []))
        assert ["incidents"] == [m["channel_name"] for m in emu.slack_messages()]

    def test_hostile_summary_is_stored_escaped(self, notifier, emu):
        """What reaches Slack carries no live <!channel>."""
        issue = JiraIssue(key="OPS-2", summary="Fix <!channel> now", assignee=Person(text="x"))
        notifier.post("incidents", *postmortem_summary("INC-1", None, [issue]))
        stored = json.dumps(emu.slack_messages())
        assert "<!channel>" not in stored
        assert "&lt;!channel&gt;" in stored

    def test_unknown_channel_is_a_service_error(self, notifier):
        """Slack's error code is named in the message."""
        with pytest.raises(ServiceError, match=r"chat\.postMessage failed: channel_not_found"):
            notifier.post("#nowhere", "hi")


class TestFailures:
    def test_rate_limit_is_retried_honouring_retry_after(self, notifier, emu, sleeps):
        """A 429 waits Retry-After seconds (plus a little jitter) and sends once."""
        emu.faults.rate_limit(count=1, retry_after=2, service="slack")
        notifier.post("incidents", "hello")
        assert 1 == len(sleeps.waits)
        assert 2.0 <= sleeps.waits[0] < 2.2
        assert ["hello"] == [m["text"] for m in emu.slack_messages()]

    def test_rate_limit_with_real_sleep(self, emu):
        """With the default sleep and Retry-After: 0, the retry goes through for real."""
        emu.faults.rate_limit(count=1, retry_after=0, service="slack")
        SlackNotifier(emu.slack()).post("incidents", "hello")
        assert 1 == len(emu.slack_messages())
        assert 2 == slack_calls(emu, "chat.postMessage")

    def test_rate_limit_past_the_budget(self, emu, sleeps):
        """After max_retries the 429 becomes RateLimitError with Retry-After."""
        emu.faults.rate_limit(retry_after=1, service="slack")
        notifier = SlackNotifier(emu.slack(), max_retries=2, sleep=sleeps)
        with pytest.raises(RateLimitError) as info:
            notifier.post("incidents", "hello")
        assert ("slack", 1.0, 2) == (info.value.service, info.value.retry_after, len(sleeps.waits))

    def test_long_retry_after_gives_up_at_once(self, emu, sleeps):
        """A Retry-After beyond max_wait is not waited for."""
        emu.faults.rate_limit(count=1, retry_after=120, service="slack")
        notifier = SlackNotifier(emu.slack(), max_wait=60, sleep=sleeps)
        with pytest.raises(RateLimitError, match="Retry-After 120"):
            notifier.post("incidents", "hello")
        assert [] == sleeps.waits

    def test_invalid_token_is_auth_error_without_the_token(self, emu):
        """invalid_auth becomes AuthError(service='slack'); the token appears nowhere."""
        token = "xoxb-secret-wrong-token"
        notifier = SlackNotifier(WebClient(token=token, base_url=emu.slack_url))
        with pytest.raises(AuthError) as info:
            notifier.post("incidents", "hello")
        assert "slack" == info.value.service
        assert token not in str(info.value)
        assert token not in repr(info.value)
        assert token not in repr(notifier)
        assert info.value.__cause__ is None

    def test_unreachable_slack_is_a_service_error(self):
        """A closed port gives a ServiceError naming the URL."""
        client = WebClient(token="t", base_url="http://127.0.0.1:9/api/", retry_handlers=[])
        notifier = SlackNotifier(client)
        with pytest.raises(ServiceError, match="could not reach"):
            notifier.post("incidents", "hello")


class TestSendReminders:
    def issues(self):
        prop = {"page_id": "100", "item_id": "i"}
        return [
            JiraIssue(
                key="OPS-1",
                summary="Fix <!here> retry storm",
                assignee=Person(display_name="Alice Ng", email=ALICE_EMAIL),
                due=dt.date(2026, 3, 5),
                prop={**prop, "reminders": {"overdue_count": 3, "overdue_last": "2026-03-09"}},
            ),
            JiraIssue(
                key="OPS-2",
                summary="Add disk alert",
                assignee=Person(display_name="Alice Ng", email=ALICE_EMAIL),
                due=dt.date(2026, 3, 12),
                prop=prop,
            ),
            JiraIssue(key="OPS-3", summary="Orphan", due=dt.date(2026, 3, 12), prop=prop),
            JiraIssue(
                key="OPS-4",
                summary="Carol's",
                assignee=Person(display_name="Carol Diaz"),
                due=dt.date(2026, 3, 11),
                prop=prop,
            ),
        ]

    def run(self, notifier, policy, saved, **kwargs):
        picked = select_reminders(self.issues(), today=dt.date(2026, 3, 10), policy=policy)
        return send_reminders(
            notifier,
            picked,
            policy=policy,
            channel="#incidents",
            save_state=lambda key, state: saved.__setitem__(key, dict(state)),
            pages={"100": ("INC-1 Checkout", "https://wiki.example/pages/100")},
            **kwargs,
        )

    def test_one_message_per_reminder(self, notifier, emu):
        """DMs to owners, the unassigned item and the escalation to the channel; an owner
        without Slack is skipped with a reason; every record is saved."""
        saved: dict = {}
        result = self.run(notifier, ReminderPolicy(), saved)
        where = [(m["dm_user"] or m["channel_name"]) for m in emu.slack_messages()]
        assert ["U0ALICE", "U0ALICE", "incidents", "incidents"] == where
        assert ["OPS-1", "OPS-2", "OPS-3", "OPS-1"] == [r.issue_key for r in result.sent]
        assert ["OPS-4: Carol Diaz has no Slack user"] == [
            f"{s.reminder.issue_key}: {s.reason}" for s in result.skipped
        ]
        assert {"OPS-1", "OPS-2", "OPS-3", "OPS-4"} == set(saved)
        assert 4 == saved["OPS-1"]["overdue_count"]
        assert result.ok
        assert "<@U0ALICE>" in json.dumps(emu.slack_messages()[-1]["blocks"])
        assert "<!here>" not in json.dumps(emu.slack_messages())

    def test_digest(self, notifier, emu):
        """With digest, Alice gets one message for both her items."""
        result = self.run(notifier, ReminderPolicy(digest=True), {})
        where = [(m["dm_user"] or m["channel_name"]) for m in emu.slack_messages()]
        assert ["U0ALICE", "incidents", "incidents"] == where
        assert "1 overdue, 1 due soon" in emu.slack_messages()[0]["text"]
        assert 4 == len(result.sent)

    def test_dry_run_sends_and_saves_nothing(self, notifier, emu):
        """A dry run lists what would go out and touches nothing."""
        saved: dict = {}
        result = self.run(notifier, ReminderPolicy(), saved, dry_run=True)
        assert (True, 5, [], {}) == (
            result.dry_run,
            len(result.sent),
            emu.slack_messages(),
            saved,
        )

    def test_failed_delivery_is_an_error_and_not_recorded(self, notifier, emu):
        """A post that fails is reported per issue, and its record is not saved."""
        emu.faults.server_error(status=500, service="slack")
        saved: dict = {}
        result = self.run(notifier, ReminderPolicy(), saved)
        assert not result.ok
        assert {"OPS-1", "OPS-2", "OPS-3"} == {e.issue_key for e in result.errors}
        assert ["OPS-4"] == list(saved)  # skipped (no Slack user), so recorded


def test_a_month_of_reminders_through_slack(emu, notifier, time_machine):
    """Day by day with a fixed clock, two runs a day, state fed back through the saved
    records: exactly the expected messages reach Slack, and reruns add none."""
    policy = ReminderPolicy(quiet_days=("sat", "sun"), escalate_after=2, overdue_every_days=2)
    assignee = Person(display_name="Alice Ng", email=ALICE_EMAIL)
    records: dict[str, dict] = {}
    delivered = []
    for day in (dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(31)):
        time_machine.move_to(dt.datetime(day.year, day.month, day.day, 9, 0), tick=False)
        for _ in range(2):
            issue = JiraIssue(
                key="OPS-1",
                summary="Add disk alert",
                assignee=assignee,
                due=dt.date(2026, 3, 11),  # a Wednesday
                prop={"page_id": "100", "item_id": "i", "reminders": records.get("OPS-1", {})},
            )
            today = dt.date.today()
            before = len(emu.slack_messages())
            send_reminders(
                notifier,
                select_reminders([issue], today=today, policy=policy),
                policy=policy,
                channel="incidents",
                save_state=lambda key, state: records.__setitem__(key, dict(state)),
            )
            delivered += [
                (today.day, m["dm_user"] or m["channel_name"])
                for m in emu.slack_messages()[before:]
            ]
    assert [
        (9, "U0ALICE"),  # due soon, two days before
        (12, "U0ALICE"),  # overdue 1
        (16, "U0ALICE"),  # overdue 2: 14th is a Saturday, so Monday catches up once
        (18, "U0ALICE"),  # overdue 3 ...
        (18, "incidents"),  # ... with the escalation, after two reminders
        (20, "U0ALICE"),
        (20, "incidents"),
        (23, "U0ALICE"),
        (23, "incidents"),
        (25, "U0ALICE"),
        (25, "incidents"),
        (27, "U0ALICE"),
        (27, "incidents"),
        (30, "U0ALICE"),
        (30, "incidents"),
    ] == delivered
