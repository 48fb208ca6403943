"""Reminder selection over a simulated month, with the state fed back as the engine does."""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest

from pmsync import ApplyError, JiraIssue, Person, ReminderPolicy, Status
from pmsync._remind import (
    Reminder,
    ReminderResult,
    SkippedReminder,
    group_by_recipient,
    is_quiet_day,
    select_reminders,
)

ALICE = Person(account_id="a-1", display_name="Alice Ng", email="alice@example.com")
BOB = Person(account_id="b-2", display_name="Bob Li")
MARCH = [dt.date(2026, 3, 1) + dt.timedelta(days=n) for n in range(31)]  # 1 March is a Sunday


def issue(key="OPS-1", *, due=dt.date(2026, 3, 20), assignee=ALICE, reminders=None, **kw):
    prop = {"v": 1, "page_id": "100", "item_id": f"item-{key}"}
    if reminders is not None:
        prop["reminders"] = reminders
    return JiraIssue(key=key, summary=f"Fix {key}", assignee=assignee, due=due, prop=prop, **kw)


def stored(current: JiraIssue, reminders: tuple[Reminder, ...]) -> JiraIssue:
    """What the engine does after sending: store the state in the issue's property."""
    if not reminders:
        return current
    return attrs.evolve(current, prop={**current.prop, "reminders": dict(reminders[-1].state)})


def simulate(issues, policy, days=MARCH, runs_per_day=2, changes=None):
    """Run the selection on each day (twice, like an overlapping cron), feeding back state.

    ``changes`` maps a day to a function applied to each issue before that day's runs.
    """
    current = {i.key: i for i in issues}
    log = []
    for day in days:
        if changes and day in changes:
            current = {k: changes[day](i) for k, i in current.items()}
        for _ in range(runs_per_day):
            for key, value in current.items():
                picked = select_reminders([value], today=day, policy=policy)
                log.extend((day.day, r.kind, r.overdue_count) for r in picked)
                current[key] = stored(value, picked)
    return log


def test_a_month_with_the_default_policy():
    """Due-soon two days before, daily overdue, escalation after three overdue reminders;
    the second run of each day sends nothing."""
    expected = [(18, "due_soon", 0)]
    for n, day in enumerate(range(21, 32), start=1):
        expected.append((day, "overdue", n))
        if n > 3:
            expected.append((day, "escalation", n))
    assert expected == simulate([issue()], ReminderPolicy())


def test_overdue_interval():
    """With overdue_every_days=3, overdue reminders come every third day."""
    policy = ReminderPolicy(overdue_every_days=3, escalate_after=10)
    log = simulate([issue()], policy)
    assert [(21, "overdue", 1), (24, "overdue", 2), (27, "overdue", 3), (30, "overdue", 4)] == [
        entry for entry in log if entry[1] == "overdue"
    ]


def test_escalation_respects_the_interval():
    """Escalations come at most once per overdue interval, with the overdue reminder."""
    policy = ReminderPolicy(overdue_every_days=2, escalate_after=2)
    log = simulate([issue()], policy)
    assert [
        (25, "escalation", 3),
        (27, "escalation", 4),
        (29, "escalation", 5),
        (31, "escalation", 6),
    ] == [entry for entry in log if entry[1] == "escalation"]


def test_escalate_after_zero_escalates_at_once():
    """escalate_after=0 escalates with the very first overdue reminder."""
    log = simulate([issue()], ReminderPolicy(escalate_after=0), days=MARCH[20:21])
    assert [(21, "overdue", 1), (21, "escalation", 1)] == log


def test_quiet_weekends_catch_up_without_doubles():
    """Nothing on Saturdays and Sundays; Monday sends one reminder, not one per missed day,
    and a due-soon window that fell on the weekend is caught up on the due day."""
    policy = ReminderPolicy(quiet_days=("sat", "sun"), escalate_after=100)
    log = simulate([issue(due=dt.date(2026, 3, 16))], policy)  # due on a Monday
    assert [
        (16, "due_soon", 0),
        (17, "overdue", 1),
        (18, "overdue", 2),
        (19, "overdue", 3),
        (20, "overdue", 4),
        (23, "overdue", 5),
        (24, "overdue", 6),
        (25, "overdue", 7),
        (26, "overdue", 8),
        (27, "overdue", 9),
        (30, "overdue", 10),
        (31, "overdue", 11),
    ] == log


def test_quiet_dates():
    """An ISO date in quiet_days silences that date only."""
    policy = ReminderPolicy(quiet_days=("2026-03-18",))
    log = simulate([issue()], policy, days=MARCH[16:20])
    assert [(19, "due_soon", 0)] == log


def test_is_quiet_day_reads_weekday_names_and_dates():
    """Weekdays match by their first three letters, dates exactly."""
    policy = ReminderPolicy(quiet_days=("Saturday", "2026-12-25"))
    assert is_quiet_day(dt.date(2026, 3, 7), policy)
    assert is_quiet_day(dt.date(2026, 12, 25), policy)
    assert not is_quiet_day(dt.date(2026, 3, 9), policy)


def test_due_date_moved_later_sends_due_soon_again_and_resets_the_count():
    """A new due date starts afresh: a new due-soon, and overdue counting from one."""
    later = {dt.date(2026, 3, 23): lambda i: attrs.evolve(i, due=dt.date(2026, 3, 27))}
    log = simulate([issue()], ReminderPolicy(escalate_after=3), days=MARCH[16:31], changes=later)
    assert [
        (18, "due_soon", 0),
        (21, "overdue", 1),
        (22, "overdue", 2),
        (25, "due_soon", 0),
        (28, "overdue", 1),
        (29, "overdue", 2),
        (30, "overdue", 3),
        (31, "overdue", 4),
        (31, "escalation", 4),
    ] == log


def test_due_date_moved_within_window_sends_again():
    """Moving the date after the due-soon went out gives a due-soon for the new date."""
    moved = {dt.date(2026, 3, 19): lambda i: attrs.evolve(i, due=dt.date(2026, 3, 21))}
    log = simulate([issue()], ReminderPolicy(), days=MARCH[16:20], changes=moved)
    assert [(18, "due_soon", 0), (19, "due_soon", 0)] == log


def test_done_issues_get_nothing():
    """A done issue is never reminded, however overdue."""
    done = issue(status_category=Status.DONE)
    assert [] == simulate([done], ReminderPolicy())


def test_issues_without_due_date_get_nothing():
    """Without a due date there is nothing to remind about."""
    assert [] == simulate([issue(due=None)], ReminderPolicy())


def test_due_soon_off():
    """due_soon_days=0 turns due-soon reminders off."""
    log = simulate([issue()], ReminderPolicy(due_soon_days=0), days=MARCH[15:21])
    assert [(21, "overdue", 1)] == log


def test_unassigned_issue_goes_to_the_channel_without_escalation():
    """Unassigned issues get reminders with no recipient (for the channel), and no
    separate escalation, since the channel already hears about them."""
    picked = select_reminders(
        [issue(assignee=None, reminders={"overdue_count": 5, "overdue_last": "2026-03-25"})],
        today=dt.date(2026, 3, 26),
        policy=ReminderPolicy(),
    )
    assert [("overdue", None, True)] == [(r.kind, r.recipient, r.to_channel) for r in picked]


def test_reminder_fields_and_state():
    """A reminder names the issue, recipient, dates and the state to store."""
    (reminder,) = select_reminders(
        [issue(url="https://jira.example/browse/OPS-1", reminders={"custom": "kept"})],
        today=dt.date(2026, 3, 22),
        policy=ReminderPolicy(),
    )
    assert (
        Reminder(
            issue_key="OPS-1",
            kind="overdue",
            recipient=ALICE,
            due=dt.date(2026, 3, 20),
            summary="Fix OPS-1",
            page_id="100",
            item_id="item-OPS-1",
            url="https://jira.example/browse/OPS-1",
            days_left=0,
            days_overdue=2,
            overdue_count=1,
            state={
                "custom": "kept",
                "due": "2026-03-20",
                "overdue_last": "2026-03-22",
                "overdue_count": 1,
            },
        )
        == reminder
    )


def test_state_without_due_refers_to_the_current_date():
    """A record written without ``due`` (an older pmsync) is not sent again."""
    legacy = issue(reminders={"due_soon": "2026-03-18"})
    assert () == select_reminders([legacy], today=dt.date(2026, 3, 19), policy=ReminderPolicy())


@pytest.mark.parametrize("garbage", ["not a dict", {"overdue_count": "x", "overdue_last": 5}])
def test_garbled_state_is_started_afresh(garbage):
    """A property someone edited by hand does not break the selection."""
    picked = select_reminders(
        [issue(reminders=garbage)], today=dt.date(2026, 3, 21), policy=ReminderPolicy()
    )
    assert [("overdue", 1)] == [(r.kind, r.overdue_count) for r in picked]


def test_issues_without_property_are_reminded():
    """An issue whose property has no reminder record starts one."""
    bare = JiraIssue(key="OPS-9", summary="s", assignee=BOB, due=dt.date(2026, 3, 20))
    (picked,) = select_reminders([bare], today=dt.date(2026, 3, 19), policy=ReminderPolicy())
    assert {"due": "2026-03-20", "due_soon": "2026-03-19"} == dict(picked.state)


def test_digest_groups_by_recipient():
    """Reminders group per person (escalations left out), unassigned under None."""
    issues = [
        issue("OPS-1", due=dt.date(2026, 3, 10)),
        issue("OPS-2", due=dt.date(2026, 3, 12), assignee=BOB),
        issue("OPS-3", due=dt.date(2026, 3, 13)),
        issue("OPS-4", due=dt.date(2026, 3, 13), assignee=None),
    ]
    picked = select_reminders(issues, today=dt.date(2026, 3, 12), policy=ReminderPolicy())
    groups = group_by_recipient(picked)
    assert [
        (ALICE, ["OPS-1", "OPS-3"]),
        (BOB, ["OPS-2"]),
        (None, ["OPS-4"]),
    ] == [(p, [r.issue_key for r in rs]) for p, rs in groups]


class TestReminderResult:
    def result(self, **kwargs) -> ReminderResult:
        (reminder,) = select_reminders(
            [issue()], today=dt.date(2026, 3, 18), policy=ReminderPolicy()
        )
        return ReminderResult(sent=[reminder], **kwargs)

    def test_ok_without_errors(self):
        """No errors means ok, even with skips."""
        result = self.result(skipped=[SkippedReminder(self.result().sent[0], "no Slack user")])
        assert result.ok

    def test_not_ok_with_errors(self):
        """Any error makes the result not ok."""
        assert not self.result(errors=["boom"]).ok

    def test_to_json_round_trips(self):
        """to_json gives the same data as to_dict, errors included with their context."""
        error = ApplyError("Slack post failed", issue_key="OPS-1", page_id="100")
        result = self.result(errors=[error], dry_run=True)
        data = json.loads(result.to_json())
        assert result.to_dict() == data
        assert {
            "message": "Slack post failed",
            "page_id": "100",
            "item_id": None,
            "issue_key": "OPS-1",
        } == data["errors"][0]
        assert "due_soon" == data["sent"][0]["kind"]

    def test_str_is_readable(self):
        """str() lists what was (or would be) sent."""
        text = str(self.result(dry_run=True))
        assert (
            "Reminders would send: 1, skipped: 0, errors: 0\n"
            "  would send: OPS-1 due_soon to Alice Ng: due in 2 day(s): Fix OPS-1"
        ) == text

    def test_quiet_day_is_said(self):
        """A quiet-day result says so."""
        assert str(ReminderResult(quiet_day=True)).startswith("Today is a quiet day")
