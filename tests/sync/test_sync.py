"""The sync engine against the emulator, with the real atlassian-python-api clients."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from sync_helpers import (
    ALICE,
    BOB,
    by_summary,
    changes_made,
    make_syncer,
    mutating,
    row,
    table_page,
)

import pmsync
from pmsync import Status
from pmsync._quote import unwiki


def _page(emu, rows, **kwargs):
    return emu.add_page(
        "SRE", "2026-11-02 Disk full", table_page(rows, **kwargs), labels=("postmortem",)
    )


def _reparse(emu, page_id):
    return pmsync.parse_page(emu.page(page_id)["storage"], page_id=page_id)


class TestFirstSync:
    def test_creates_one_issue_per_row_with_label_and_property(self, emu, syncer):
        """Each row becomes an issue carrying the label and the pmsync property."""
        page_id = _page(
            emu,
            [
                row("Add a disk usage alert", ALICE, "2026-12-04", "P1", "todo"),
                row("Rotate logs daily", BOB, "2026-12-10", "low"),
            ],
        )
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert 2 == len(result.created)
        issues = by_summary(emu)
        alert = issues["Add a disk usage alert"]
        assert ["pmsync"] == alert["fields"]["labels"]
        assert ALICE == alert["fields"]["assignee"]["accountId"]
        assert "2026-12-04" == alert["fields"]["duedate"]
        assert "High" == alert["fields"]["priority"]["name"]
        prop = alert["properties"]["pmsync"]
        items = {i.summary: i for i in _reparse(emu, page_id).items}
        assert page_id == prop["page_id"]
        assert items["Add a disk usage alert"].jira_key == alert["key"]
        assert "Low" == issues["Rotate logs daily"]["fields"]["priority"]["name"]

    def test_writes_keys_and_status_back(self, emu, syncer):
        """The page shows each issue's key and Jira status after the first sync."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        (item,) = _reparse(emu, page_id).items
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        assert key == item.jira_key
        assert Status.TODO == item.status
        storage = emu.page(page_id)["storage"]
        assert 'ac:name="status"' in storage
        assert "Written by the incident commander." in storage

    def test_description_links_back_to_the_page(self, emu, syncer):
        """The issue names the postmortem and links to its page."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        description = by_summary(emu)["Add a disk usage alert"]["fields"]["description"]
        assert "2026-11-02 Disk full" in unwiki(description)
        assert page_id in description

    def test_page_status_done_moves_new_issue_to_done(self, emu, syncer):
        """A row already marked done becomes an issue in a done status."""
        page_id = _page(emu, [row("Restart the replica", ALICE, status="done")])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        issue = by_summary(emu)["Restart the replica"]
        assert "done" == issue["fields"]["status"]["statusCategory"]["key"]

    def test_long_summary_is_cut_with_full_text_in_description(self, emu, syncer):
        """Summaries over 255 characters are cut at a word; the description keeps all."""
        long = "Make the failover runbook cover " + " ".join(f"case{n}" for n in range(60))
        page_id = _page(emu, [row(long, ALICE)])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        (issue,) = emu.issues("OPS")
        assert len(issue["fields"]["summary"]) <= 255
        assert issue["fields"]["summary"].endswith("…")
        assert long in issue["fields"]["description"]


class TestIdempotency:
    def test_second_sync_makes_no_mutating_request(self, emu, syncer):
        """A rerun right after a sync changes nothing and writes nothing."""
        page_id = _page(
            emu,
            [
                row("Add a disk usage alert", ALICE, "2026-12-04", "P1", "in progress"),
                row("Rotate logs daily", BOB, "2026-12-10", "low", "done"),
            ],
        )
        syncer.sync(page_ids=[page_id])
        emu.clear_requests()
        plan = syncer.plan(page_ids=[page_id])
        assert plan.is_empty, plan.render(verbose=True)
        result = syncer.apply(plan)
        assert result.ok
        assert [] == mutating(emu)

    def test_plan_only_reads(self, emu, syncer):
        """plan() sends no mutating request."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        emu.clear_requests()
        plan = syncer.plan(page_ids=[page_id])
        assert ["create", "writeback"] == sorted(plan.counts())
        assert [] == mutating(emu)

    def test_applying_a_plan_twice_changes_nothing_the_second_time(self, emu, syncer):
        """A stale plan applied again adopts what the first apply created."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="done")])
        plan = syncer.plan(page_ids=[page_id])
        syncer.apply(plan)
        storage = emu.page(page_id)["storage"]
        again = syncer.apply(plan)
        assert again.ok, again.errors
        assert () == again.created
        assert 1 == len(emu.issues("OPS"))
        assert storage == emu.page(page_id)["storage"]


class TestMerge:
    def test_page_edit_updates_jira(self, emu, syncer):
        """A due date changed on the page goes to Jira."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        storage = emu.page(page_id)["storage"].replace("2026-12-04", "2026-12-18")
        emu.edit_page(page_id, storage)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert "2026-12-18" == by_summary(emu)["Add a disk usage alert"]["fields"]["duedate"]

    def test_jira_status_change_is_written_to_the_page(self, emu, syncer):
        """Jira moved to Done: the page's lozenge says Done afterwards."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        emu.transition_issue(key, "Done")
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert [page_id] == list(result.pages_written)
        (item,) = _reparse(emu, page_id).items
        assert Status.DONE == item.status

    def test_page_status_change_transitions_jira(self, emu, syncer):
        """A page marked done moves the issue to a done status."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="todo")])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        storage = emu.page(page_id)["storage"].replace(">To Do<", ">Done<")
        assert storage != emu.page(page_id)["storage"]
        emu.edit_page(page_id, storage)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert (key,) == result.transitioned
        issue = by_summary(emu)["Add a disk usage alert"]
        assert "done" == issue["fields"]["status"]["statusCategory"]["key"]
        assert "done" == issue["properties"]["pmsync"]["base"]["status"]

    def test_jira_only_summary_change_is_kept_and_not_reverted(self, emu, syncer):
        """Jira's own summary edit survives reruns; the page keeps its text."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        emu.edit_issue(key, {"summary": "Alert on disk usage above 80%"})
        emu.clear_requests()
        for _ in range(2):
            result = syncer.sync(page_ids=[page_id])
            assert result.ok
        assert [] == mutating(emu)
        assert "Alert on disk usage above 80%" == emu.issues("OPS")[0]["fields"]["summary"]

    def test_conflict_page_wins_by_default_for_due(self, emu, syncer):
        """Both sides changed the due date: the page wins and a conflict is listed."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        emu.edit_issue(key, {"duedate": "2026-12-24"})
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace("2026-12-04", "2026-12-11"))
        plan = syncer.plan(page_ids=[page_id])
        (conflict,) = plan.of_kind("conflict")
        assert {"due": ("2026-12-11", "2026-12-24")} == dict(conflict.fields)
        result = syncer.apply(plan)
        assert 1 == len(result.conflicts)
        assert "2026-12-11" == emu.issues("OPS")[0]["fields"]["duedate"]

    def test_conflict_report_leaves_both_sides(self, emu):
        """ownership=report lists the conflict and changes neither side."""
        syncer = make_syncer(emu, pmsync.Config(project="OPS", ownership={"due": "report"}))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        emu.edit_issue(key, {"duedate": "2026-12-24"})
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace("2026-12-04", "2026-12-11"))
        storage = emu.page(page_id)["storage"]
        result = syncer.sync(page_ids=[page_id])
        assert 1 == len(result.conflicts)
        assert "2026-12-24" == emu.issues("OPS")[0]["fields"]["duedate"]
        assert storage == emu.page(page_id)["storage"]

    def test_reassignment_on_page_reassigns_issue(self, emu, syncer):
        """A new owner mention on the page reassigns the issue."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace(ALICE, BOB))
        syncer.sync(page_ids=[page_id])
        assert BOB == emu.issues("OPS")[0]["fields"]["assignee"]["accountId"]

    def test_linked_human_issue_is_adopted(self, emu, syncer):
        """A row linking an issue a human created: pmsync labels it and never duplicates."""
        key = emu.add_issue("OPS", summary="Add a disk usage alert", status="In Progress")
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, key=key)])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert () == result.created
        (issue,) = emu.issues("OPS")
        assert "pmsync" in issue["fields"]["labels"]
        assert page_id == issue["properties"]["pmsync"]["page_id"]
        (item,) = _reparse(emu, page_id).items
        assert Status.IN_PROGRESS == item.status

    def test_adopted_issue_keeps_what_the_page_does_not_say(self, emu, syncer):
        """A human's description and due date on a linked issue survive repeated syncs."""
        key = emu.add_issue(
            "OPS",
            summary="Add a disk usage alert",
            description="Written by hand during the incident.",
            duedate="2026-12-24",
        )
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, key=key)])
        for _ in range(3):
            result = syncer.sync(page_ids=[page_id])
            assert result.ok, result.errors
        (issue,) = emu.issues("OPS")
        assert "Written by hand during the incident." == issue["fields"]["description"]
        assert "2026-12-24" == issue["fields"]["duedate"]
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)

    def test_page_description_added_later_goes_to_jira(self, emu, syncer):
        """Extra text added to the summary cell later becomes the issue's description."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        storage = emu.page(page_id)["storage"].replace(
            "<p>Add a disk usage alert</p>",
            "<p>Add a disk usage alert</p><p>Page at 80% and 90% full.</p>",
        )
        emu.edit_page(page_id, storage)
        plan = syncer.plan(page_ids=[page_id])
        assert () == plan.of_kind("conflict")
        syncer.apply(plan)
        assert "Page at 80% and 90% full." in unwiki(emu.issues("OPS")[0]["fields"]["description"])

    def test_a_key_mentioned_in_the_action_text_is_not_the_rows_issue(self, emu, syncer):
        """With a ticket column, a jira macro in the summary is a reference, never adopted."""
        incident = emu.add_issue("OPS", summary="Checkout outage", assignee=BOB)
        storage = table_page([row("Add a regression test for the bug", ALICE)]).replace(
            "Add a regression test for the bug",
            'Add a regression test for the bug in <ac:structured-macro ac:name="jira">'
            f'<ac:parameter ac:name="key">{incident}</ac:parameter></ac:structured-macro>',
        )
        page_id = emu.add_page("SRE", "Mentions", storage)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert 1 == len(result.created)
        issues = {i["key"]: i for i in emu.issues("OPS")}
        assert "Checkout outage" == issues[incident]["fields"]["summary"]
        assert BOB == issues[incident]["fields"]["assignee"]["accountId"]
        assert "pmsync" not in issues[incident]["fields"]["labels"]

    def test_adopted_issue_keeps_its_own_summary(self, emu, syncer):
        """A linked issue a person wrote keeps its wording; later page edits still flow."""
        key = emu.add_issue("OPS", summary="Alert when /var is 80% full on db hosts")
        page_id = _page(emu, [row("Disk alert", ALICE, key=key)])
        for _ in range(2):
            assert syncer.sync(page_ids=[page_id]).ok
        assert (
            "Alert when /var is 80% full on db hosts" == emu.issues("OPS")[0]["fields"]["summary"]
        )
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace("Disk alert", "Disk alerts"))
        syncer.sync(page_ids=[page_id])
        assert "Disk alerts" == emu.issues("OPS")[0]["fields"]["summary"]

    def test_text_that_only_looks_like_a_key_still_gets_an_issue(self, emu, syncer):
        """'PR-1234' in the ticket column is not a Jira issue: the row is still tracked."""
        storage = table_page([row("Add a disk usage alert", ALICE)])
        storage = storage.replace("<td><br /></td></tr>", "<td>PR-1234</td></tr>")
        page_id = emu.add_page("SRE", "Look-alike", storage)
        plan = syncer.plan(page_ids=[page_id])
        assert any("'PR-1234' is not a Jira issue" in w for w in plan.warnings)
        result = syncer.apply(plan)
        assert result.ok, result.errors
        assert 1 == len(result.created)
        emu.clear_requests()
        again = syncer.sync(page_ids=[page_id])
        assert () == again.created
        assert [] == mutating(emu)
        assert 1 == len(emu.issues("OPS"))
        key = emu.issues("OPS")[0]["key"]
        assert f'<ac:parameter ac:name="key">{key}</ac:parameter>' in emu.page(page_id)["storage"]
        assert "PR-1234" in emu.page(page_id)["storage"]

    def test_missing_linked_issue_is_a_warning_not_a_create(self, emu, syncer):
        """A row linking a key Jira does not know creates nothing and says so."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, key="OPS-999")])
        plan = syncer.plan(page_ids=[page_id])
        assert () == plan.of_kind("create")
        assert any("OPS-999" in w for w in plan.warnings)


class TestOwners:
    def test_unknown_plain_text_owner_stays_unassigned_with_warning(self, emu, syncer):
        """A name that matches nobody is never guessed."""
        page_id = _page(emu, [row("Add a disk usage alert", "Platform team")])
        plan = syncer.plan(page_ids=[page_id])
        assert any("Platform team" in w and "row 1" in w for w in plan.warnings)
        syncer.apply(plan)
        assert emu.issues("OPS")[0]["fields"]["assignee"] is None

    def test_exact_plain_text_name_is_assigned(self, emu, syncer):
        """A plain-text owner matching exactly one user's name is assigned."""
        page_id = _page(emu, [row("Add a disk usage alert", "Bob Example")])
        syncer.sync(page_ids=[page_id])
        assert BOB == emu.issues("OPS")[0]["fields"]["assignee"]["accountId"]

    def test_ambiguous_owner_is_not_guessed(self, emu, syncer):
        """Two users with the same name: unassigned, and a warning naming both."""
        emu.add_user(
            account_id="557058:bob-0003", display_name="Bob Example", email="bob2@example.com"
        )
        page_id = _page(emu, [row("Add a disk usage alert", "Bob Example")])
        plan = syncer.plan(page_ids=[page_id])
        assert any("several" in w for w in plan.warnings)
        syncer.apply(plan)
        assert emu.issues("OPS")[0]["fields"]["assignee"] is None


class TestSafety:
    def test_injection_strings_change_nothing_but_text(self, emu, syncer):
        """Quotes, JQL keywords and markup in a summary stay text everywhere."""
        nasty = 'x" OR project = OTHER <script>alert(1)</script> & \\ done'
        page_id = _page(emu, [row(nasty, ALICE)])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        (issue,) = emu.issues("OPS")
        assert nasty == issue["fields"]["summary"]
        storage = emu.page(page_id)["storage"]
        assert "<script>" not in storage
        (item,) = _reparse(emu, page_id).items
        assert nasty == item.summary
        assert syncer.plan(page_ids=[page_id]).is_empty

    def test_deleted_row_is_an_orphan_never_closed(self, emu, syncer):
        """A row removed from the page leaves its issue alone and says so."""
        page_id = _page(emu, [row("Keep me", ALICE), row("Delete me", BOB)])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Delete me"]["key"]
        storage = emu.page(page_id)["storage"]
        start = storage.index("<tr><td><p>Delete me")
        end = storage.index("</tr>", start) + len("</tr>")
        emu.edit_page(page_id, storage[:start] + storage[end:])
        emu.clear_requests()
        plan = syncer.plan(page_ids=[page_id])
        (orphan,) = plan.of_kind("orphan")
        assert key == orphan.issue_key
        syncer.apply(plan)
        assert [] == mutating(emu)
        assert "new" == by_summary(emu)["Delete me"]["fields"]["status"]["statusCategory"]["key"]

    def test_human_edit_during_write_back_survives(self, emu, syncer):
        """A human saving between pmsync's read and write: both edits end up on the page."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])

        def human(pid: str) -> None:
            storage = emu.page(pid)["storage"]
            emu.edit_page(
                pid,
                storage.replace(
                    "The database ran out of disk.", "The database ran out of disk at 03:12."
                ),
            )

        emu.faults.on_page_write(human)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        storage = emu.page(page_id)["storage"]
        assert "out of disk at 03:12." in storage
        (item,) = _reparse(emu, page_id).items
        assert item.jira_key is not None

    def test_rate_limit_storm_is_ridden_out(self, emu, syncer):
        """Many 429s with Retry-After: the sync still completes, nothing duplicated."""
        page_id = _page(emu, [row(f"Action {n}", ALICE) for n in range(5)])
        emu.faults.rate_limit(fraction=0.3, retry_after=0)
        result = syncer.sync(page_ids=[page_id])
        emu.faults.clear()
        assert result.ok, result.errors
        assert 5 == len(by_summary(emu))

    def test_server_errors_on_reads_are_retried(self, emu, syncer):
        """503s on reads are retried and the sync completes."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        emu.faults.server_error(count=2, status=503)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert 1 == len(emu.issues("OPS"))

    def test_an_owner_jira_refuses_is_created_unassigned_with_a_warning(self, emu, syncer):
        """A mention of an account Jira no longer knows: unassigned, the row named, once."""
        page_id = _page(
            emu, [row("Good one", ALICE, priority="P1"), row("Ghost owner", "557058:ghost")]
        )
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        issues = by_summary(emu)
        assert None is issues["Ghost owner"]["fields"]["assignee"]
        assert ALICE == issues["Good one"]["fields"]["assignee"]["accountId"]
        (warning,) = [w for w in result.warnings if "unassigned" in w]
        assert "'Ghost owner'" in warning
        assert page_id in warning
        items = {i.summary: i for i in _reparse(emu, page_id).items}
        assert items["Ghost owner"].jira_key == issues["Ghost owner"]["key"]
        assert syncer.plan(page_ids=[page_id]).is_empty

    def test_partial_bulk_create_failure_names_the_item(self, emu, syncer):
        """Jira refusing an issue for a reason pmsync cannot drop names the item and page."""
        emu.add_project("REQ", required_fields=("components",), components=("SRE",))
        syncer = make_syncer(
            emu, pmsync.Config(project="REQ", fields={"components": [{"name": "Nope"}]})
        )
        page_id = _page(emu, [row("Refused one", ALICE)])
        result = syncer.sync(page_ids=[page_id])
        assert not result.ok
        (error,) = result.errors
        assert "Refused one" in str(error)
        assert page_id == error.page_id
        assert [] == emu.issues("REQ")

    def test_an_unknown_priority_creates_the_issue_without_one(self, emu, syncer):
        """A page priority Jira does not know never keeps the action out of Jira."""
        page_id = _page(emu, [row("Bad priority", BOB, priority="Whenever")])
        plan = syncer.plan(page_ids=[page_id])
        assert any("priority 'Whenever' is not one of Jira's" in w for w in plan.warnings)
        result = syncer.apply(plan)
        assert result.ok, result.errors
        assert 1 == len(emu.issues("OPS"))
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)
        assert "Whenever" in emu.page(page_id)["storage"]


def _after_the_intent_window():
    """The clock past the window in which an unanswered create blocks creating again."""
    return time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11), tick=True)


def _clean_state(emu):
    return sorted(
        (i["fields"]["summary"], i["fields"]["status"]["name"], i["fields"]["duedate"])
        for i in emu.issues("OPS")
    )


class TestCrashSafety:
    @pytest.mark.parametrize("applied", [True, False])
    def test_every_dropped_mutation_recovers_without_duplicates(self, emu, syncer, applied):
        """Drop the k-th mutating request, rerun: same final state as a clean run."""
        rows = [
            row("Add a disk usage alert", ALICE, "2026-12-04", status="done"),
            row("Rotate logs daily", BOB, "2026-12-10"),
        ]
        page_id = _page(emu, rows)
        syncer.sync(page_ids=[page_id])
        expected = _clean_state(emu)
        total = sum(1 for r in emu.requests if r.mutating)
        assert total >= 3
        for k in range(1, total + 1):
            emu.reset()
            emu.add_user(account_id=ALICE, display_name="Alice Example", email="alice@example.com")
            emu.add_user(account_id=BOB, display_name="Bob Example", email="bob@example.com")
            emu.add_project("OPS")
            page_id = _page(emu, rows)
            emu.faults.drop_after(k, applied=applied)
            syncer.sync(page_ids=[page_id])
            emu.faults.clear()
            with _after_the_intent_window():
                final = syncer.sync(page_ids=[page_id])
            assert final.ok, (k, final.errors)
            assert expected == _clean_state(emu), k
            by_summary(emu)  # no duplicates
            assert syncer.plan(page_ids=[page_id]).is_empty, k


class TestServerFlavour:
    @pytest.mark.parametrize("flavour", ["server"], indirect=True)
    def test_userkey_mentions_resolve_and_sync(self, emu, syncer):
        """Server/DC: user-key mentions map to usernames; search pages with startAt."""
        page_id = _page(
            emu,
            [
                row("Add a disk usage alert", "key:key-alice", "2026-12-04"),
                row("Rotate logs", "Bob Example"),
            ],
            flavour="server",
        )
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        issues = by_summary(emu)
        assert "alice" == issues["Add a disk usage alert"]["fields"]["assignee"]["name"]
        assert "bob" == issues["Rotate logs"]["fields"]["assignee"]["name"]
        emu.clear_requests()
        assert syncer.plan(page_ids=[page_id]).is_empty
        assert [] == mutating(emu)


class TestSelection:
    def test_cql_selects_labelled_pages(self, emu, syncer):
        """Pages are found by CQL, with their bodies, in one request."""
        first = _page(emu, [row("One", ALICE)])
        second = emu.add_page(
            "SRE", "Another", table_page([row("Two", BOB)]), labels=("postmortem",)
        )
        emu.add_page("SRE", "Not a postmortem", table_page([row("Three", BOB)]))
        plan = syncer.plan(cql='space = "SRE" AND label = "postmortem"')
        assert {first, second} == {p.page_id for p in plan.pages}

    def test_no_selection_is_a_config_error(self, syncer):
        """Without ids, CQL or a configured query, plan() says what is missing."""
        with pytest.raises(pmsync.ConfigError, match="which pages"):
            syncer.plan()

    def test_client_with_backoff_and_retry_is_refused(self, emu, config):
        """A client that would replay POSTs is refused with the reason."""
        jira = emu.jira()
        jira.backoff_and_retry = True
        with pytest.raises(pmsync.ConfigError, match="duplicate"):
            pmsync.Syncer(emu.confluence(), jira, config=config)


class TestConcurrentRuns:
    def test_run_planned_before_another_runs_sync_adopts_instead_of_duplicating(self, emu, config):
        """Run A plans, run B syncs everything, then A applies: no duplicates."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE), row("Rotate logs", BOB)])
        run_a, run_b = make_syncer(emu, config), make_syncer(emu, config)
        plan_a = run_a.plan(page_ids=[page_id])
        assert 2 == len(plan_a.of_kind("create"))
        run_b.sync(page_ids=[page_id])
        result_a = run_a.apply(plan_a)
        assert result_a.ok, result_a.errors
        assert () == result_a.created
        assert 2 == len(by_summary(emu))

    def test_two_runs_in_parallel_threads_create_each_issue_once(self, emu, config):
        """Two syncs racing over ten pages end with one issue per row."""
        from concurrent.futures import ThreadPoolExecutor

        pages = [
            emu.add_page(
                "SRE",
                f"Postmortem {p}",
                table_page([row(f"Page {p} action {n}", ALICE) for n in range(3)]),
            )
            for p in range(10)
        ]
        plans = [make_syncer(emu, config).plan(page_ids=pages) for _ in range(2)]
        runs = [make_syncer(emu, config) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool:
            results = list(
                pool.map(lambda pair: pair[0].apply(pair[1]), zip(runs, plans, strict=True))
            )
        assert all(r.ok for r in results), [r.errors for r in results]
        managed = [i for i in emu.issues("OPS") if "pmsync" in i["fields"]["labels"]]
        assert 30 == len({i["fields"]["summary"] for i in managed})
        assert 30 == len(managed)
        linked = {item.jira_key for p in pages for item in _reparse(emu, p).items}
        assert {i["key"] for i in managed} == linked


class TestRetries:
    def test_timeouts_are_retried_within_the_budget_then_reported(self, emu, config):
        """A site that never answers in time fails the run with a ServiceError, boundedly."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        confluence = emu.confluence()
        confluence.timeout = 0.05
        syncer = pmsync.Syncer(
            confluence,
            emu.jira(),
            config=config,
            retry=pmsync.RetryPolicy(attempts=3, budget=5, wait_initial=0.01, wait_max=0.05),
        )
        emu.faults.latency(0.2, service="confluence")
        with pytest.raises(pmsync.ServiceError, match="no response") as info:
            syncer.plan(page_ids=[page_id])
        emu.faults.clear()
        assert "confluence" == info.value.service

    def test_503_on_a_write_is_not_replayed_and_a_rerun_recovers(self, emu, syncer):
        """A bulk create answered 503 is reported, not replayed; the next run creates it."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        plan = syncer.plan(page_ids=[page_id])
        emu.faults.server_error(count=1, status=500, service="jira")
        emu.faults.latency(0)
        result = syncer.apply(plan)
        emu.faults.clear()
        posts = [r for r in emu.requests if r.method == "POST" and r.path.endswith("/bulk")]
        assert 0 == len(posts) or not result.ok or 1 == len(emu.issues("OPS"))
        with _after_the_intent_window():
            final = syncer.sync(page_ids=[page_id])
        assert final.ok, final.errors
        assert 1 == len(by_summary(emu))


class TestRequiredFields:
    def test_required_field_from_config_lets_creates_succeed(self, emu):
        """A project demanding components gets them from Config.fields."""
        emu.add_project("REQ", required_fields=("components",), components=("SRE",))
        syncer = make_syncer(
            emu, pmsync.Config(project="REQ", fields={"components": [{"name": "SRE"}]})
        )
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        (issue,) = emu.issues("REQ")
        assert ["SRE"] == [c["name"] for c in issue["fields"]["components"]]

    def test_missing_required_field_names_item_and_jira_message(self, emu):
        """Without it, the error names the item and repeats Jira's message."""
        emu.add_project("REQ", required_fields=("components",), components=("SRE",))
        syncer = make_syncer(emu, pmsync.Config(project="REQ"))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        result = syncer.sync(page_ids=[page_id])
        (error,) = result.errors
        assert "Add a disk usage alert" in str(error)
        assert "components" in str(error).lower()
        assert [] == emu.issues("REQ")


class TestJiraToPage:
    def test_jira_due_owner_and_priority_changes_are_written_into_the_row(self, emu, syncer):
        """Only Jira changed them: the row's cells show Jira's values, then all is quiet."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04", "P2")])
        syncer.sync(page_ids=[page_id])
        key = by_summary(emu)["Add a disk usage alert"]["key"]
        emu.edit_issue(key, {"duedate": "2026-12-31", "assignee": BOB, "priority": "Highest"})
        plan = syncer.plan(page_ids=[page_id])
        (writeback,) = plan.of_kind("writeback")
        assert {"due", "owner", "priority"} <= set(writeback.fields)
        result = syncer.apply(plan)
        assert result.ok, result.errors
        (item,) = _reparse(emu, page_id).items
        assert "2026-12-31" == item.due.isoformat()
        assert BOB == item.owner.account_id
        assert "Highest" == item.priority
        assert "Written by the incident commander." in emu.page(page_id)["storage"]
        emu.clear_requests()
        assert syncer.plan(page_ids=[page_id]).is_empty
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)

    def test_cells_holding_more_than_a_value_are_kept_and_jira_never_reverted(self, emu, syncer):
        """Notes, a backup owner or a struck-out date: the page keeps them, Jira keeps its."""
        storage = table_page([row("Add a disk usage alert", ALICE, "2026-12-04")])
        storage = storage.replace(
            '<td><time datetime="2026-12-04" /></td>',
            '<td><p><s><time datetime="2026-11-20" /></s> <time datetime="2026-12-04" /></p>'
            "<p>slipped once already, see thread</p></td>",
        ).replace(
            f'<td><ac:link><ri:user ri:account-id="{ALICE}" /></ac:link></td>',
            f'<td><p><ac:link><ri:user ri:account-id="{ALICE}" /></ac:link> (backup: '
            f'<ac:link><ri:user ri:account-id="{BOB}" /></ac:link>)</p></td>',
        )
        page_id = emu.add_page("SRE", "Busy cells", storage)
        assert syncer.sync(page_ids=[page_id]).ok
        key = emu.issues("OPS")[0]["key"]
        emu.edit_issue(key, {"duedate": "2027-01-10", "assignee": BOB})
        before = emu.page(page_id)["storage"]
        for _ in range(3):
            result = syncer.sync(page_ids=[page_id])
            assert result.ok, result.errors
        issue = emu.issues("OPS")[0]
        assert "2027-01-10" == issue["fields"]["duedate"]
        assert BOB == issue["fields"]["assignee"]["accountId"]
        assert before == emu.page(page_id)["storage"]
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)

    def test_without_writeback_the_page_keeps_its_values(self, emu):
        """writeback=False: Jira's edits stay in Jira and nothing is reverted."""
        syncer = make_syncer(emu, pmsync.Config(project="OPS", writeback=False))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        key = emu.issues("OPS")[0]["key"]
        emu.edit_issue(key, {"duedate": "2026-12-31"})
        storage = emu.page(page_id)["storage"]
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)
        assert storage == emu.page(page_id)["storage"]
        assert "2026-12-31" == emu.issues("OPS")[0]["fields"]["duedate"]


class TestClientConstruction:
    def test_cloud_jira_client_built_without_cloud_true_still_works(self, emu, config):
        """A Cloud Jira client built as a Server one falls back from the removed search."""
        from atlassian import Jira

        jira = Jira(url=emu.url, username=emu.email, password=emu.token)  # no cloud=True
        syncer = pmsync.Syncer(emu.confluence(), jira, config=config)
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert ALICE == emu.issues("OPS")[0]["fields"]["assignee"]["accountId"]
        assert syncer.plan(page_ids=[page_id]).is_empty

    def test_confluence_cloud_client_class_works_too(self, emu, config):
        """pmsync talks REST v1 itself, so the client's v2-only Cloud class is fine."""
        from atlassian import Confluence

        confluence = Confluence(
            url=emu.confluence_url, username=emu.email, password=emu.token, cloud=True
        )
        syncer = pmsync.Syncer(confluence, emu.jira(), config=config)
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert [page_id] == list(result.pages_written)


class TestStatusKeptElsewhere:
    def _sre_page(self, emu, word):
        storage = (
            "<h2>Action items</h2><table><tbody><tr><th>Action Item</th><th>Type</th>"
            "<th>Owner</th><th>Bug</th></tr>"
            f"<tr><td>Add a disk usage alert</td><td>prevent</td><td>Bob Example</td>"
            f"<td>n/a {word}</td></tr></tbody></table>"
        )
        return emu.add_page("SRE", "SRE book style", storage)

    def test_bug_cell_status_is_not_duplicated_and_jira_is_never_reverted(self, emu, syncer):
        """Status written as 'n/a TODO' in a Bug cell: no Status column is added."""
        page_id = self._sre_page(emu, "TODO")
        assert syncer.sync(page_ids=[page_id]).ok
        assert "Status" not in emu.page(page_id)["storage"]
        key = emu.issues("OPS")[0]["key"]
        emu.transition_issue(key, "Done")
        for _ in range(2):
            assert syncer.sync(page_ids=[page_id]).ok
        assert "Done" == emu.issues("OPS")[0]["fields"]["status"]["name"]
        assert "Status" not in emu.page(page_id)["storage"]
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)

    def test_bug_cell_status_change_moves_jira(self, emu, syncer):
        """'n/a TODO' becoming 'n/a DONE' on the page moves the issue to Done."""
        page_id = self._sre_page(emu, "TODO")
        assert syncer.sync(page_ids=[page_id]).ok
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace("n/a TODO", "n/a DONE"))
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert "done" == emu.issues("OPS")[0]["fields"]["status"]["statusCategory"]["key"]
        assert "Status" not in emu.page(page_id)["storage"]

    def test_without_writeback_a_jira_status_change_is_not_reverted(self, emu):
        syncer = make_syncer(emu, pmsync.Config(project="OPS", writeback=False))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="To Do")])
        assert syncer.sync(page_ids=[page_id]).ok
        emu.transition_issue(emu.issues("OPS")[0]["key"], "Done")
        for _ in range(2):
            assert syncer.sync(page_ids=[page_id]).ok
        assert "Done" == emu.issues("OPS")[0]["fields"]["status"]["name"]


class TestOwnershipJiraForText:
    def test_summary_owned_by_jira_reports_the_conflict_once(self, emu):
        """ownership summary=jira: both sides changed -> one conflict, then quiet reruns."""
        syncer = make_syncer(emu, pmsync.Config(project="OPS", ownership={"summary": "jira"}))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        syncer.sync(page_ids=[page_id])
        key = emu.issues("OPS")[0]["key"]
        emu.edit_issue(key, {"summary": "Alert on disk usage"})
        emu.edit_page(
            page_id, emu.page(page_id)["storage"].replace("Add a disk usage alert", "Disk alert")
        )
        first = syncer.sync(page_ids=[page_id])
        assert 1 == len(first.conflicts)
        assert "Alert on disk usage" == emu.issues("OPS")[0]["fields"]["summary"]
        again = syncer.plan(page_ids=[page_id])
        assert () == again.of_kind("conflict")
        assert again.is_empty


class TestKeyTypedDuringWriteBack:
    def test_a_person_typing_a_key_never_makes_pmsync_delete_its_issue(self, emu, syncer):
        """A key a person types while pmsync writes stays; pmsync's issue is kept, unlinked."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])

        def human(pid: str) -> None:
            storage = emu.page(pid)["storage"]
            emu.edit_page(pid, storage.replace("<td><br /></td></tr>", "<td>OPS-99</td></tr>"))

        emu.faults.on_page_write(human)
        result = syncer.sync(page_ids=[page_id])
        assert 1 == len(result.created)
        assert 1 == len(emu.issues("OPS"))
        assert "pmsync" in emu.issues("OPS")[0]["fields"]["labels"]
        key = emu.issues("OPS")[0]["key"]
        assert any(f"{key}: its row was not found" in w for w in result.warnings)
        assert "OPS-99" in emu.page(page_id)["storage"]


class TestStalePlans:
    def _planned_due_change(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        emu.edit_page(page_id, emu.page(page_id)["storage"].replace("2026-12-04", "2027-01-20"))
        return page_id, syncer.plan(page_ids=[page_id])

    def test_a_jira_edit_made_after_the_plan_is_not_overwritten(self, emu, syncer):
        """apply re-reads the issue: a person's newer Jira value wins over a stale plan."""
        page_id, plan = self._planned_due_change(emu, syncer)
        key = emu.issues("OPS")[0]["key"]
        emu.edit_issue(key, {"duedate": "2030-09-09"})
        result = syncer.apply(plan)
        assert result.ok, result.errors
        assert "2030-09-09" == emu.issues("OPS")[0]["fields"]["duedate"]
        assert any("since the plan was made" in line for line in result.replanned)
        (conflict,) = syncer.plan(page_ids=[page_id]).of_kind("conflict")
        assert {"due": ("2027-01-20", "2030-09-09")} == dict(conflict.fields)

    def test_applying_an_update_plan_twice_writes_nothing_the_second_time(self, emu, syncer):
        _, plan = self._planned_due_change(emu, syncer)
        syncer.apply(plan)
        emu.clear_requests()
        again = syncer.apply(plan)
        assert again.ok, again.errors
        assert [] == changes_made(emu)
        assert () == again.updated


class TestWorkflows:
    def test_done_only_via_in_progress_is_reached(self, emu, config):
        """A workflow where Done is reachable only from In Progress still gets there."""
        emu.add_project(
            "WF",
            workflow={"To Do": ["In Progress"], "In Progress": ["Done", "To Do"], "Done": []},
        )
        syncer = make_syncer(emu, pmsync.Config(project="WF"))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="done")])
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        assert "Done" == emu.issues("WF")[0]["fields"]["status"]["name"]

    def test_no_route_to_done_keeps_the_pages_status_and_names_where_it_stopped(self, emu):
        """No way to Done: the error names the status, and the page's 'done' survives."""
        emu.add_project(
            "WF",
            workflow={"To Do": ["In Progress"], "In Progress": ["To Do"], "Done": ["To Do"]},
        )
        syncer = make_syncer(emu, pmsync.Config(project="WF"))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="done")])
        result = syncer.sync(page_ids=[page_id])
        (error,) = result.errors
        assert "no way from In Progress" in str(error)
        for _ in range(2):
            syncer.sync(page_ids=[page_id])
        (item,) = _reparse(emu, page_id).items
        assert Status.DONE == item.status


class TestServerDetectedConfigErrors:
    def test_unknown_project_is_a_config_error_naming_the_key(self, emu):
        syncer = make_syncer(emu, pmsync.Config(project="NOPE"))
        page_id = _page(emu, [row("Add a disk usage alert", ALICE)])
        with pytest.raises(pmsync.ConfigError) as info:
            syncer.plan(page_ids=[page_id])
        assert "project" == info.value.key

    def test_malformed_cql_is_a_config_error_naming_the_key(self, syncer):
        with pytest.raises(pmsync.ConfigError) as info:
            syncer.plan(cql="space = ")
        assert "cql" == info.value.key


class TestRewordDuringWriteBack:
    def test_a_row_reworded_while_pmsync_writes_still_gets_its_key(self, emu, syncer):
        """Same place, same owner and date, no key: the reworded row is the one created."""
        page_id = _page(emu, [row("Row A", ALICE, "2026-12-04"), row("Row B", BOB)])

        def human(pid: str) -> None:
            emu.edit_page(pid, emu.page(pid)["storage"].replace("Row A", "Row A reworded"))

        emu.faults.on_page_write(human)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        items = {i.summary: i for i in _reparse(emu, page_id).items}
        assert items["Row A reworded"].jira_key is not None
        again = syncer.sync(page_ids=[page_id])
        assert () == again.created
        assert 2 == len(emu.issues("OPS"))


class TestPersonEditsDuringApply:
    def test_a_persons_cell_edit_during_write_back_survives(self, emu, syncer):
        """Jira changed the due date; a person sets another one while pmsync writes."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, "2026-12-04")])
        syncer.sync(page_ids=[page_id])
        key = emu.issues("OPS")[0]["key"]
        emu.edit_issue(key, {"duedate": "2027-03-03"})

        def human(pid: str) -> None:
            emu.edit_page(pid, emu.page(pid)["storage"].replace("2026-12-04", "2027-09-09"))

        emu.faults.on_page_write(human)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        (item,) = _reparse(emu, page_id).items
        assert "2027-09-09" == item.due.isoformat()
        syncer.sync(page_ids=[page_id])
        assert "2027-09-09" == emu.issues("OPS")[0]["fields"]["duedate"]

    def test_a_stale_transition_does_not_override_a_newer_jira_status(self, emu, syncer):
        """Page says done, plan made, then a person moves the issue to In Review."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="To Do")])
        syncer.sync(page_ids=[page_id])
        key = emu.issues("OPS")[0]["key"]
        storage = emu.page(page_id)["storage"].replace(">To Do<", ">Done<")
        emu.edit_page(page_id, storage)
        plan = syncer.plan(page_ids=[page_id])
        assert plan.of_kind("transition")
        emu.transition_issue(key, "In Review")
        result = syncer.apply(plan)
        assert "In Review" == emu.issues("OPS")[0]["fields"]["status"]["name"]
        assert any("since the plan was made" in line for line in result.replanned)


class TestRewordAndReassignDuringWriteBack:
    def test_reworded_and_reassigned_row_keeps_its_new_issue(self, emu, syncer):
        page_id = _page(emu, [row("Add disk alert", ALICE, "2026-12-04")])

        def human(pid: str) -> None:
            storage = emu.page(pid)["storage"].replace("Add disk alert", "Add a disk usage alert")
            emu.edit_page(pid, storage.replace(ALICE, BOB))

        emu.faults.on_page_write(human)
        result = syncer.sync(page_ids=[page_id])
        assert result.ok, result.errors
        syncer.sync(page_ids=[page_id])
        assert 1 == len(emu.issues("OPS"))
        (item,) = _reparse(emu, page_id).items
        assert item.jira_key == emu.issues("OPS")[0]["key"]


class TestEmptiedStatusCell:
    def test_jira_status_written_into_an_emptied_cell_becomes_the_base(self, emu, syncer):
        """A person empties the status cell, Jira moves: the lozenge is written once, and
        a later Jira move back is not reverted."""
        page_id = _page(emu, [row("Add a disk usage alert", ALICE, status="To Do")])
        syncer.sync(page_ids=[page_id])
        key = emu.issues("OPS")[0]["key"]
        storage = emu.page(page_id)["storage"]
        start = storage.index('<ac:structured-macro ac:name="status"')
        end = storage.index("</ac:structured-macro>", start) + len("</ac:structured-macro>")
        emu.edit_page(page_id, storage[:start] + storage[end:])
        emu.transition_issue(key, "In Progress")
        syncer.sync(page_ids=[page_id])
        emu.clear_requests()
        syncer.sync(page_ids=[page_id])
        assert [] == mutating(emu)
        emu.transition_issue(key, "To Do")
        syncer.sync(page_ids=[page_id])
        assert "To Do" == emu.issues("OPS")[0]["fields"]["status"]["name"]
        (item,) = _reparse(emu, page_id).items
        assert Status.TODO == item.status
