"""Jira and Confluence webhooks end to end: changes reach the page within the test.

The emulator sends signed webhooks when a person edits a page or an issue; pmsync's web
app coalesces them per page and syncs the page after a quiet period, measured on a
manual clock that the tests move (no sleeps).
"""

from __future__ import annotations

import datetime as dt
import json

import attrs
import pytest
import requests
from interactive_helpers import ALICE, WEBHOOK_SECRET, action_page, make_syncer

from pmsync._lease import LEASE_KEY
from pmsync.testing._outbound import hub_signature

SYNCED = "webhook: synced page"


def synced(caplog) -> list[str]:
    return [m for m in caplog.messages if m.startswith(SYNCED)]


def only_issue(emu) -> dict:
    (issue,) = emu.issues("OPS")
    return issue


def post_signed(url: str, event: dict, secret: str = WEBHOOK_SECRET) -> requests.Response:
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature": hub_signature(secret, body)}
    return requests.post(url, data=body, headers=headers, timeout=30)


@pytest.fixture(autouse=True)
def _info_logs(caplog):
    caplog.set_level("INFO", logger="pmsync")


def test_a_burst_of_page_edits_is_one_sync(emu, page_id, web, clock, caplog):
    """Twenty edits in a row: one sync, after the quiet period, carrying the last edit."""
    key = only_issue(emu)["key"]
    for n in range(1, 21):
        rows = [(f"Add disk alerts, take {n}", ALICE, "2026-12-20")]
        emu.edit_page(page_id, action_page(rows, key=key))
    assert [] == synced(caplog)  # still within the quiet period
    web.settle(clock)
    assert [f"{SYNCED} {page_id} after 20 event(s): 0 created, 1 updated, 0 errors"] == synced(
        caplog
    )
    assert "Add disk alerts, take 20" == only_issue(emu)["fields"]["summary"]


def test_every_webhook_was_answered_at_once(emu, page_id, web, clock):
    """Page events are accepted (202) before any sync runs."""
    key = only_issue(emu)["key"]
    emu.edit_page(page_id, action_page([("Add disk alerts now", ALICE, "2026-12-20")], key=key))
    assert [202] == [d.status for d in emu.deliveries()]
    web.settle(clock)


def test_a_jira_status_change_reaches_the_page(emu, page_id, web, clock):
    emu.transition_issue(only_issue(emu)["key"], "Done")
    web.settle(clock)
    assert '<ac:parameter ac:name="title">Done</ac:parameter>' in emu.page(page_id)["storage"]


def test_an_issue_property_naming_no_page_id_reaches_no_query(emu, page_id, web, clock, caplog):
    """The issue property is editable by anyone in Jira: a page id that is not digits
    (here a CQL clause) is ignored, never put into a CQL search."""
    issue = only_issue(emu)
    prop = {**issue["properties"]["pmsync"], "page_id": f"{page_id} OR type = page"}
    emu.set_issue_property(issue["key"], "pmsync", prop)
    emu.clear_requests()
    emu.transition_issue(issue["key"], "Done")
    web.settle(clock)
    searches = [r.query.get("cql", "") for r in emu.requests if r.path.endswith("/search")]
    assert ([], []) == ([q for q in searches if " OR " in q], synced(caplog))


def test_webhook_and_cron_sync_at_once_no_duplicate_no_lost_edit(
    emu, page_id, web, clock, config, caplog
):
    """A cron run reads everything, then the webhook sync of the same changes lands, then
    the cron run applies what it planned: one issue, the status shown once, the person's
    page edit kept and carried to Jira, and the cron run's late write-back is a no-op."""
    key = only_issue(emu)["key"]
    rows = [("Add disk alerts to every host", ALICE, "2026-12-20")]
    emu.edit_page(page_id, action_page(rows, key=key))
    emu.transition_issue(key, "Done")
    cron = make_syncer(emu, config)
    plan = cron.plan(page_ids=[page_id])  # the cron run has read the page and the issue
    web.settle(clock)  # the webhooks' sync runs to the end in the meantime
    written = emu.page(page_id)["version"]
    result = cron.apply(plan)
    storage = emu.page(page_id)["storage"]
    assert (1, [], written) == (
        len(emu.issues("OPS")),
        list(result.errors),
        emu.page(page_id)["version"],
    )
    assert 1 == storage.count('<ac:parameter ac:name="title">Done</ac:parameter>')
    assert "Add disk alerts to every host" in storage
    assert ("Add disk alerts to every host", "Done") == (
        only_issue(emu)["fields"]["summary"],
        only_issue(emu)["fields"]["status"]["name"],
    )
    assert 1 == len(synced(caplog))


def test_pages_outside_the_configured_cql_are_not_synced(emu, web, clock, caplog):
    page = emu.add_page(
        "OTHER", "Not a postmortem", action_page([("Tidy up", ALICE, "2026-12-20")])
    )
    web.settle(clock)
    assert ([], []) == (synced(caplog), emu.issues("OPS"))
    assert f"webhook: page {page} does not match the configured CQL; ignored" in caplog.messages


def test_a_new_page_is_synced(emu, web, clock):
    page = emu.add_page(
        "SRE", "Cache outage", action_page([("Warm the cache", ALICE, "2026-12-21")])
    )
    web.settle(clock)
    assert "OPS-1" in emu.page(page)["storage"]


class TestRefused:
    def test_wrong_signature_is_401_and_nothing_runs(self, emu, page_id, web, clock, caplog):
        event = {"event": "page_updated", "page": {"id": page_id}}
        answer = post_signed(web.url + "/webhooks/confluence", event, secret="wrong")
        web.settle(clock)
        assert (401, []) == (answer.status_code, synced(caplog))

    def test_unknown_events_are_204(self, web):
        answer = post_signed(web.url + "/webhooks/confluence", {"event": "blog_created"})
        assert 204 == answer.status_code

    def test_issues_pmsync_does_not_manage_are_204(self, web):
        event = {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "OPS-99", "fields": {"labels": ["other"]}},
        }
        assert 204 == post_signed(web.url + "/webhooks/jira", event).status_code

    def test_changes_to_other_fields_are_204(self, web):
        event = {
            "webhookEvent": "jira:issue_updated",
            "issue": {"key": "OPS-1", "fields": {"labels": ["pmsync"]}},
            "changelog": {"items": [{"field": "description"}]},
        }
        assert 204 == post_signed(web.url + "/webhooks/jira", event).status_code

    @pytest.mark.parametrize(
        ("path", "event"),
        [
            ("/webhooks/jira", {"webhookEvent": "jira:issue_updated", "issue": "OPS-1"}),
            (
                "/webhooks/jira",
                {
                    "webhookEvent": "jira:issue_updated",
                    "issue": {"key": "OPS-1", "fields": ["labels"]},
                    "changelog": {"items": [None, "status"]},
                },
            ),
            ("/webhooks/jira", {"webhookEvent": "jira:issue_updated", "changelog": "status"}),
            ("/webhooks/confluence", {"event": "page_updated", "page": "100001"}),
            ("/webhooks/confluence", {"event": "page_updated", "page": {"id": "\u0661\u0662"}}),
        ],
    )
    def test_events_of_an_unexpected_shape_are_ignored_with_204(self, web, path, event):
        """A signed body that is JSON but not shaped as the event is ignored, not a 500."""
        assert 204 == post_signed(web.url + path, event).status_code

    def test_page_events_without_a_configured_cql_are_204(
        self, emu, page_id, web, clock, syncer, caplog
    ):
        """Without ``cql`` no page can be checked against it: page events sync nothing
        (an Automation rule on every page of the site must not file their tables)."""
        syncer.config = attrs.evolve(syncer.config, cql=None)
        other = emu.add_page("ENG", "Team notes", action_page([("Buy cake", ALICE, "2026-12-21")]))
        event = {"event": "page_updated", "page": {"id": other}}
        answer = post_signed(web.url + "/webhooks/confluence", event)
        web.settle(clock)
        assert (204, [], 1) == (answer.status_code, synced(caplog), len(emu.issues("OPS")))

    def test_bodies_over_the_limit_are_413(self, web):
        body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
        answer = requests.post(web.url + "/webhooks/jira", data=body, timeout=30)
        assert 413 == answer.status_code


def test_healthz(web):
    answer = requests.get(web.url + "/healthz", timeout=30)
    assert (200, {"ok": True}) == (answer.status_code, answer.json())


def test_a_rate_limited_sync_is_left_for_the_cron_run(emu, page_id, web, clock, syncer, caplog):
    """Confluence keeps answering 429: the webhook's sync gives up within its retry budget,
    says so, and the next cron run carries the edit."""
    key = only_issue(emu)["key"]
    emu.faults.rate_limit(retry_after=0, service="confluence")
    emu.edit_page(page_id, action_page([("Add disk alerts today", ALICE, "2026-12-20")], key=key))
    web.settle(clock)
    emu.faults.clear()
    assert "Add disk alerts" == only_issue(emu)["fields"]["summary"]
    assert any(
        m.startswith(f"webhook: the sync of page {page_id} failed") and "next cron run" in m
        for m in caplog.messages
    )
    syncer.sync(page_ids=[page_id])
    assert "Add disk alerts today" == only_issue(emu)["fields"]["summary"]


def test_webhook_sync_lands_in_the_middle_of_a_cron_run(emu, page_id, web, clock, config, caplog):
    """A cron run creates an issue for a new row; just before it writes the key back, a
    person closes the other issue in Jira and the webhook's sync starts. The cron run holds
    the page's lease (docs/sync.md), so the webhook's sync skips the page and says who holds
    it; the cron run finishes, and the next run shows the Jira status: two issues, each key
    on the page once, the person's edits kept."""
    key = only_issue(emu)["key"]
    rows = [("Add disk alerts", ALICE, "2026-12-20"), ("Add a runbook", ALICE, "2026-12-28")]
    emu.edit_page(page_id, action_page(rows, key=key) + "<p>Reviewed.</p>")

    def in_the_middle(_page: str) -> None:
        emu.transition_issue(key, "Done")
        web.settle(clock)

    emu.faults.on_page_write(in_the_middle)
    result = make_syncer(emu, config).sync(page_ids=[page_id])  # the cron run
    web.settle(clock)
    assert any("holds its lease" in m for m in caplog.messages)
    make_syncer(emu, config).sync(page_ids=[page_id])  # the next run
    final = emu.page(page_id)["storage"]
    issues = {i["fields"]["summary"]: i for i in emu.issues("OPS")}
    assert ([], ["Add a runbook", "Add disk alerts"]) == (list(result.errors), sorted(issues))
    assert [1, 1] == [final.count(f">{i['key']}<") for i in issues.values()]
    assert ("Done", 1) == (
        issues["Add disk alerts"]["fields"]["status"]["name"],
        final.count('<ac:parameter ac:name="title">Done</ac:parameter>'),
    )
    assert "<p>Reviewed.</p>" in final


def test_a_page_held_by_another_run_is_tried_once_more(emu, page_id, web, clock, caplog):
    """The webhook's sync finds a cron run holding the page's lease: it skips the page,
    and tries once more after the quiet period, carrying the person's edit then."""

    def lease(expires: dt.datetime) -> dict:
        return {"v": 1, "run": "cron", "host": "cron-1", "expires": expires.isoformat()}

    now = dt.datetime.now(dt.UTC)
    emu.set_content_property(page_id, LEASE_KEY, lease(now + dt.timedelta(minutes=10)))
    key = only_issue(emu)["key"]
    emu.edit_page(page_id, action_page([("Add disk alerts now", ALICE, "2026-12-20")], key=key))
    clock.now += 60
    web.app.wake()
    assert web.app.wait_idle(timeout=30, quiet_too=False)
    assert any("holds its lease" in m for m in caplog.messages)
    assert "Add disk alerts now" != only_issue(emu)["fields"]["summary"]
    # the cron run ends (its lease has lapsed), and the retry carries the edit
    emu.set_content_property(page_id, LEASE_KEY, lease(now - dt.timedelta(minutes=1)))
    web.settle(clock)
    assert "Add disk alerts now" == only_issue(emu)["fields"]["summary"]
    assert 2 == len(synced(caplog))
