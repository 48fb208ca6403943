"""Slack notices during sync, reminders and reports through the Syncer, on the emulator."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from sync_helpers import ALICE, BOB, row, table_page

import pmsync


@pytest.fixture
def slack_syncer(emu):
    emu.add_channel("incidents")
    config = pmsync.Config(project="OPS", slack_channel="#incidents")
    return pmsync.Syncer(
        emu.confluence(),
        emu.jira(),
        config=config,
        slack=emu.slack(),
        retry=pmsync.RetryPolicy(attempts=4, budget=10, wait_initial=0.01, wait_max=1),
    )


def _all_text(message: dict) -> str:
    return message["text"] + json.dumps(message.get("blocks") or [])


def _page(emu, rows):
    return emu.add_page("SRE", "2026-11-02 Disk full", table_page(rows))


def test_created_issues_are_announced_once(emu, slack_syncer):
    """Owners get a DM per new issue, the channel one summary; a rerun sends nothing."""
    page_id = _page(emu, [row("Add a disk alert", ALICE, "2026-12-04"), row("Rotate logs", BOB)])
    result = slack_syncer.sync(page_ids=[page_id])
    assert result.ok, result.errors
    messages = emu.slack_messages()
    assert 3 == len(messages), messages
    channel_posts = [m for m in messages if not m["channel"].startswith("D")]
    assert 1 == len(channel_posts)
    assert "Add a disk alert" in _all_text(channel_posts[0])
    assert 3 == len(result.notified)
    slack_syncer.sync(page_ids=[page_id])
    assert 3 == len(emu.slack_messages())


def test_summary_text_cannot_ping_the_channel(emu, slack_syncer):
    """Page text such as <!channel> is escaped in every Slack message."""
    page_id = _page(emu, [row("Page <!channel> about <@U123>", ALICE)])
    slack_syncer.sync(page_ids=[page_id])
    messages = emu.slack_messages()
    assert messages
    for message in messages:
        assert "<!channel>" not in _all_text(message)
        assert "<@U123>" not in _all_text(message)
    assert any("&lt;!channel&gt;" in _all_text(m) for m in messages)


def test_reassignment_on_the_page_notifies_the_new_owner(emu, slack_syncer):
    """A new owner on the page gets a DM saying the item was handed to them."""
    page_id = _page(emu, [row("Add a disk alert", ALICE)])
    slack_syncer.sync(page_ids=[page_id])
    before = len(emu.slack_messages())
    emu.edit_page(page_id, emu.page(page_id)["storage"].replace(ALICE, BOB))
    result = slack_syncer.sync(page_ids=[page_id])
    assert result.ok, result.errors
    new = emu.slack_messages()[before:]
    assert any("Add a disk alert" in _all_text(m) for m in new)
    assert any(n.startswith("DM Bob Example") for n in result.notified)


def test_remind_sends_once_per_day_and_remembers(emu, slack_syncer):
    """Overdue items get one reminder a day, remembered in the issue property."""
    page_id = _page(emu, [row("Add a disk alert", ALICE, "2026-11-20")])
    slack_syncer.sync(page_ids=[page_id])
    before = len(emu.slack_messages())
    first = slack_syncer.remind(today=dt.date(2026, 11, 26))
    assert first.ok, first.errors
    assert ["overdue"] == [r.kind for r in first.sent]
    again = slack_syncer.remind(today=dt.date(2026, 11, 26))
    assert () == again.sent
    assert before + 1 == len(emu.slack_messages())
    (issue,) = emu.issues("OPS")
    assert "reminders" in issue["properties"]["pmsync"]
    assert page_id == issue["properties"]["pmsync"]["page_id"]


def test_remind_dry_run_sends_and_records_nothing(emu, slack_syncer):
    page_id = _page(emu, [row("Add a disk alert", ALICE, "2026-11-20")])
    slack_syncer.sync(page_ids=[page_id])
    before = len(emu.slack_messages())
    result = slack_syncer.remind(today=dt.date(2026, 11, 26), dry_run=True)
    assert 1 == len(result.sent)
    assert before == len(emu.slack_messages())
    assert "reminders" not in emu.issues("OPS")[0]["properties"]["pmsync"]


def test_report_counts_items_across_pages(emu, slack_syncer):
    """The report reads pages and issues and counts done, open and overdue items."""
    page_id = _page(
        emu,
        [
            row("Add a disk alert", ALICE, "2026-11-20"),
            row("Rotate logs", BOB, "2026-12-20", status="done"),
        ],
    )
    slack_syncer.sync(page_ids=[page_id])
    report = slack_syncer.report(page_ids=[page_id], today=dt.date(2026, 11, 26))
    data = report.to_dict()
    assert 2 == data["totals"]["total"]
    assert 1 == data["totals"]["done"]
    assert 1 == data["totals"]["overdue"]


def test_lint_note_is_written_beside_the_table_once(emu):
    """lint_writeback puts one check note on the page; a rerun leaves it alone."""
    syncer = pmsync.Syncer(
        emu.confluence(), emu.jira(), config=pmsync.Config(project="OPS", lint_writeback=True)
    )
    page_id = _page(emu, [row("Investigate the outage", "Platform team")])
    plan = syncer.plan(page_ids=[page_id])
    assert any(c.kind == "writeback" and "lint_note" in c.fields for c in plan.changes)
    assert {"vague", "owner-is-team"} <= {f.code for f in plan.findings}
    syncer.apply(plan)
    storage = emu.page(page_id)["storage"]
    assert 1 == storage.count("pmsync: action item check")
    assert syncer.plan(page_ids=[page_id]).is_empty
    emu.clear_requests()
    syncer.sync(page_ids=[page_id])
    assert [] == [r for r in emu.requests if r.mutating]


def test_report_writeback_keeps_one_status_panel(emu, slack_syncer):
    """The status panel is written once and replaced in place, never appended."""
    page_id = _page(emu, [row("Add a disk alert", ALICE, "2026-11-20")])
    slack_syncer.sync(page_ids=[page_id])
    slack_syncer.report(page_ids=[page_id], today=dt.date(2026, 11, 26), writeback=True)
    version = emu.page(page_id)["version"]
    slack_syncer.report(page_ids=[page_id], today=dt.date(2026, 11, 26), writeback=True)
    assert version == emu.page(page_id)["version"]
    key = emu.issues("OPS")[0]["key"]
    emu.transition_issue(key, "Done")
    slack_syncer.sync(page_ids=[page_id])
    slack_syncer.report(page_ids=[page_id], today=dt.date(2026, 11, 26), writeback=True)
    storage = emu.page(page_id)["storage"]
    assert 1 == storage.count("Action item status")
    assert slack_syncer.plan(page_ids=[page_id]).is_empty


def test_escalation_reaches_the_postmortem_author(emu):
    """With escalate_to_author, the page's author hears about an item overdue too long."""
    author = emu.add_user(
        account_id="557058:carol-0003",
        display_name="Carol Author",
        email="carol@example.com",
        slack_id="UCAROL",
    )
    emu.add_channel("incidents")
    policy = pmsync.ReminderPolicy(escalate_after=1, escalate_to_author=True)
    config = pmsync.Config(project="OPS", slack_channel="#incidents", reminders=policy)
    syncer = pmsync.Syncer(emu.confluence(), emu.jira(), config=config, slack=emu.slack())
    page_id = emu.add_page(
        "SRE",
        "Outage",
        table_page([row("Fix it", ALICE, "2026-11-20")]),
        author=author.account_id,
    )
    syncer.sync(page_ids=[page_id])
    syncer.remind(today=dt.date(2026, 11, 24))
    result = syncer.remind(today=dt.date(2026, 11, 26))
    assert result.ok, result.errors
    assert any(r.kind == "escalation" for r in result.sent)
    assert any(m.get("dm_user") == "UCAROL" for m in emu.slack_messages())


def test_channel_summary_links_the_new_issue_keys(emu, slack_syncer):
    """The summary names each new issue by key, linked to Jira."""
    page_id = _page(emu, [row("Add a disk alert", ALICE)])
    slack_syncer.sync(page_ids=[page_id])
    key = emu.issues("OPS")[0]["key"]
    (summary,) = [m for m in emu.slack_messages() if not m["channel"].startswith("D")]
    assert f"{emu.url}/browse/{key}" in _all_text(summary)


def test_a_failed_escalation_does_not_make_the_owner_reminder_repeat(emu):
    """Channel missing: the escalation fails and is reported, the owner's DM is recorded."""
    policy = pmsync.ReminderPolicy(escalate_after=0, overdue_every_days=3)
    config = pmsync.Config(project="OPS", slack_channel="#nonexistent", reminders=policy)
    syncer = pmsync.Syncer(emu.confluence(), emu.jira(), config=config, slack=emu.slack())
    page_id = _page(emu, [row("Add a disk alert", BOB, "2026-11-20")])
    syncer.sync(page_ids=[page_id])
    first = syncer.remind(today=dt.date(2026, 11, 26))
    assert not first.ok
    dms = [m for m in emu.slack_messages() if m.get("dm_user") == "UBOB"]
    assert dms
    second = syncer.remind(today=dt.date(2026, 11, 27))
    assert [] == [r for r in second.sent if r.kind == "overdue"]
    assert dms == [m for m in emu.slack_messages() if m.get("dm_user") == "UBOB"]


def test_issues_adopted_after_a_crash_are_announced(emu, slack_syncer, search_lag):
    """The create landed but the run died: the rerun that links the rows tells the owners."""
    page_id = _page(emu, [row("Add a disk alert", ALICE), row("Rotate logs", BOB)])
    emu.faults.drop_after(1, applied=True, service="jira")  # the create lands, unanswered
    slack_syncer.sync(page_ids=[page_id])
    emu.faults.clear()
    assert [] == emu.slack_messages()
    if search_lag:
        # Search cannot show the new issues yet, and the page's write-ahead intent is
        # young: the rerun creates nothing (better late than duplicated)...
        held = slack_syncer.sync(page_ids=[page_id])
        assert ((), 2) == (held.created, len(emu.issues("OPS")))
        # ...and once search has caught up, a later run adopts them.
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
        with time_machine.travel(later, tick=False):
            result = slack_syncer.sync(page_ids=[page_id])
    else:
        result = slack_syncer.sync(page_ids=[page_id])
    assert result.ok, result.errors
    assert () == result.created
    assert 3 == len(emu.slack_messages())


def test_the_plan_lists_the_notices_it_will_send(emu, slack_syncer):
    """`pmsync plan` shows who will be told what; nothing is sent by planning."""
    page_id = _page(emu, [row("Add a disk alert", ALICE), row("Rotate logs", BOB)])
    plan = slack_syncer.plan(page_ids=[page_id])
    notices = plan.of_kind("notify")
    assert 2 == len(notices)
    assert any("Alice Example" in n.describe() for n in notices), [n.describe() for n in notices]
    assert [] == emu.slack_messages()
    result = slack_syncer.apply(plan)
    assert 3 == len(result.notified)


def test_a_late_plan_does_not_announce_what_another_run_created(emu, slack_syncer):
    """Run A plans; run B creates and announces; A's late apply adopts and stays quiet."""
    page_id = _page(emu, [row("Add a disk alert", ALICE)])
    late = slack_syncer.plan(page_ids=[page_id])
    assert 1 == len(late.of_kind("notify"))
    other = pmsync.Syncer(
        emu.confluence(), emu.jira(), config=slack_syncer.config, slack=emu.slack()
    )
    assert other.sync(page_ids=[page_id]).created
    sent = len(emu.slack_messages())
    result = slack_syncer.apply(late)
    assert result.ok, result.errors
    assert ((), ()) == (result.created, result.notified)
    assert sent == len(emu.slack_messages())
    assert 1 == len(emu.issues("OPS"))
