"""Who gets which reminder message: the pure decisions behind ``syncer.remind()``."""

from __future__ import annotations

import datetime as dt

import pmsync
from pmsync._remind import Reminder, deliveries, states_to_save

ALICE = pmsync.Person(account_id="a", display_name="Alice")
BOB = pmsync.Person(account_id="b", display_name="Bob")
AUTHOR = pmsync.Person(account_id="c", display_name="Carol")
DUE = dt.date(2026, 12, 1)


def _reminder(key, kind="overdue", recipient=ALICE):
    return Reminder(
        issue_key=key, kind=kind, recipient=recipient, due=DUE, summary=key, page_id="7"
    )


def _shape(found):
    return [(d.form, d.to, [r.issue_key for r in d.batch]) for d in found]


def test_one_dm_per_reminder_and_escalations_to_the_channel():
    policy = pmsync.ReminderPolicy()
    found = deliveries([_reminder("OPS-1"), _reminder("OPS-2", "escalation")], policy=policy)
    assert [("reminder", ALICE, ["OPS-1"]), ("escalation", None, ["OPS-2"])] == _shape(found)


def test_a_digest_per_person_and_escalations_also_to_the_author():
    policy = pmsync.ReminderPolicy(digest=True, escalate_to_author=True)
    reminders = [
        _reminder("OPS-1"),
        _reminder("OPS-2", recipient=BOB),
        _reminder("OPS-3"),
        _reminder("OPS-4", "escalation"),
    ]
    found = deliveries(reminders, policy=policy, authors={"7": AUTHOR})
    assert [
        ("digest", ALICE, ["OPS-1", "OPS-3"]),
        ("digest", BOB, ["OPS-2"]),
        ("escalation", None, ["OPS-4"]),
        ("escalation", AUTHOR, ["OPS-4"]),
    ] == _shape(found)


def test_a_failed_escalation_keeps_the_owners_reminder_recorded():
    delivered = {"OPS-1": {"overdue_count": 3}, "OPS-2": {"overdue_count": 1}}
    kept = states_to_save(delivered, failed={"OPS-1", "OPS-2"}, reached={"OPS-1"})
    assert ["OPS-1"] == list(kept)
