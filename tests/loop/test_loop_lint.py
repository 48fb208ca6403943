"""Action-item lint: each code on a labelled set of good and bad items."""

from __future__ import annotations

import datetime as dt
import time
from unittest import mock

import pytest

from pmsync import ActionItem, Person, Postmortem, Status
from pmsync._lint import (
    LINT_MARKER,
    Finding,
    is_team_name,
    is_vague,
    lint,
    lint_corpus,
    render_lint_note,
)

TODAY = dt.date(2026, 3, 10)
ALICE = Person(account_id="557058:alice", display_name="Alice Ng")
FUTURE = dt.date(2026, 4, 1)


def item(summary="Add a disk-usage alert at 85%", *, row=0, **kwargs) -> ActionItem:
    kwargs.setdefault("owner", ALICE)
    kwargs.setdefault("due", FUTURE)
    return ActionItem(item_id=f"id{row}", summary=summary, row=row, **kwargs)


def page(*items: ActionItem, page_id="100", title="INC-1 Checkout outage") -> Postmortem:
    return Postmortem(page_id=page_id, title=title, items=items)


def codes(pm: Postmortem, **kwargs) -> list[str]:
    return [f.code for f in lint(pm, today=TODAY, **kwargs)]


# (label, item, expected codes)
CASES = [
    ("a good item", item(), []),
    ("no owner", item(owner=None), ["no-owner"]),
    ("an empty person", item(owner=Person()), ["no-owner"]),
    ("a team owner", item(owner=Person(text="Platform team")), ["owner-is-team"]),
    ("a placeholder owner", item(owner=Person(text="TBD")), ["owner-is-team"]),
    ("a broadcast owner", item(owner=Person(text="@here")), ["owner-is-team"]),
    ("no due date", item(due=None), ["no-due-date"]),
    ("due before today", item(due=dt.date(2026, 3, 1)), ["due-in-past"]),
    ("due today is not past", item(due=TODAY), []),
    (
        "past due but already in Jira (the reminders' job)",
        item(due=dt.date(2026, 3, 1), jira_key="OPS-1"),
        [],
    ),
    ("a vague item", item("Investigate the outage"), ["vague"]),
    ("too long", item("Add " + "x" * 260), ["too-long"]),
    ("done items skip owner and date checks", item(owner=None, due=None, status=Status.DONE), []),
    (
        "done but too long",
        item("Add " + "y" * 260, status=Status.DONE),
        ["too-long"],
    ),
    (
        "several problems at once, in a stable order",
        item("Look into caching", owner=None, due=None),
        ["no-owner", "no-due-date", "vague"],
    ),
]


@pytest.mark.parametrize(("label", "action", "expected"), CASES, ids=[c[0] for c in CASES])
def test_lint_codes(label, action, expected):
    """Each labelled item gets exactly the expected codes."""
    assert expected == codes(page(action))


VAGUE = [
    "Investigate the outage",
    "Look into auth and session handling",
    "Improve alerting",
    "Monitor the queue",
    "Consider moving to Postgres",
    "Review alerting on the payment API",
    "Discuss on-call load",
    "Think about rate limits",
    "Explore options for failover",
    "TODO: look into caching",
    "We should review the deploy process",
    "1. Investigate connection to database",
    "Evaluate the 2024 incident again",
]

CONCRETE = [
    "Add a disk-usage alert",
    "Review and merge the rate-limit PR (OPS-12)",
    "Review alert thresholds so that disk alerts fire at 80%",
    "Review the on-call runbook and add a failover section",
    "Review the runbook; write a checklist for deploys",
    "Review timeouts to decide on a new default",
    "Review PR #123",
    "Investigate and fix the connection leak",
    "Investigate root cause, then file tickets for each fix",
    "Monitor p99 latency and page when above 500 ms",
    "Monitor disk usage > 80% on db hosts",
    "Improve retry policy by adding jitter",
    "Improve checkout p99 to under 300 ms",
    "Monitoring: add a disk space alert",
    "Reviewer sign-off on risky deploys",
    "Checklist for database migrations",
    "Explore options (deliverables: a design doc with a decision)",
    "Better error message when the Slack token is invalid",
    "More replicas for the payments database",
    "Check that backups restore",
]


@pytest.mark.parametrize("summary", VAGUE)
def test_vague_items_are_flagged(summary):
    """An open-ended opening with no concrete outcome is vague."""
    assert is_vague(summary)


@pytest.mark.parametrize("summary", CONCRETE)
def test_concrete_items_are_not_flagged(summary):
    """Items that name an outcome are not vague, even when they open with Review; nor are
    items that open with words that often start concrete changes (better, more, check)."""
    assert not is_vague(summary)


TEAMS = [
    "Platform team",
    "platform-team",
    "SRE",
    "SREs",
    "Ops",
    "everyone",
    "All",
    "@here",
    "@channel",
    "#incidents",
    "Team Phoenix",
    "all engineers",
    "DB on-call",
    "Alice / SRE",
    "sre-team@example.com",
    "TBD",
    "n/a",
    "?",
]

PEOPLE = [
    "Alice Ng",
    "Alice (SRE team)",
    "Sam Allen",
    "Dev Patel",
    "@mallory",
    "alice@example.com",
    "Teamwork Tom",
]


@pytest.mark.parametrize("text", TEAMS)
def test_team_names_are_teams(text):
    """Group words, broadcasts, channels, placeholders and group emails are not people."""
    assert is_team_name(Person(text=text))


@pytest.mark.parametrize("text", PEOPLE)
def test_people_are_not_teams(text):
    """Names, parenthesised team notes and personal emails are people."""
    assert not is_team_name(Person(text=text))


def test_a_mention_is_never_a_team():
    """A mention of a real user is a person, whatever its display name says."""
    assert not is_team_name(Person(account_id="abc", display_name="Platform Team"))
    assert not is_team_name(Person(username="sre", text="SRE"))


def test_owner_unresolved_uses_identity():
    """An owner whose identity the engine could not map to Jira is an error."""
    owner = Person(text="Zed Unknown")
    findings = lint(page(item(owner=owner)), today=TODAY, unresolved={"Zed Unknown"})
    assert ["owner-unresolved"] == [f.code for f in findings]
    assert "error" == findings[0].severity


def test_team_owner_is_not_also_unresolved():
    """A team owner gets owner-is-team only, the more useful of the two findings."""
    owner = Person(text="Platform team")
    assert ["owner-is-team"] == codes(page(item(owner=owner)), unresolved={"Platform team"})


def test_finding_names_page_row_and_item():
    """A finding carries the ids and a message naming the page, row and table."""
    (finding,) = lint(page(item(owner=None, row=2)), today=TODAY)
    assert (
        Finding(
            code="no-owner",
            severity="error",
            message=(
                "page 'INC-1 Checkout outage', row 3 of table 1 ('Add a disk-usage alert at "
                "85%'): nobody owns this item; name one person as owner."
            ),
            item_id="id2",
            page_id="100",
            table=0,
            row=2,
        )
        == finding
    )


def test_task_findings_say_task():
    """Items from task lists are located as tasks, not rows."""
    (finding,) = lint(page(item(owner=None, kind="task", row=0)), today=TODAY)
    assert "task 1 of task list 1" in finding.message


def test_today_defaults_to_the_local_date(time_machine):
    """Without ``today`` lint uses today's date for due-in-past."""
    time_machine.move_to(dt.datetime(2026, 3, 10, 12, 0), tick=False)
    assert ["due-in-past"] == [f.code for f in lint(page(item(due=dt.date(2026, 3, 9))))]


class TestDuplicates:
    def test_same_action_in_another_postmortem(self):
        """Reworded copies of an action on another page are duplicates."""
        other = page(
            item("Add alerting on disk usage", jira_key="OPS-7"), page_id="200", title="INC-2"
        )
        findings = lint(page(item("Add an alert for disk usage")), today=TODAY, others=[other])
        assert ["duplicate"] == [f.code for f in findings]
        assert "'INC-2' row 1, OPS-7: 'Add alerting on disk usage'" in findings[0].message

    def test_different_actions_are_not_duplicates(self):
        """Sharing most words is not enough when the subject differs (CPU vs disk)."""
        other = page(item("Add alert for CPU usage"), page_id="200")
        assert [] == codes(page(item("Add alert for disk usage")), others=[other])

    def test_the_postmortem_itself_is_skipped(self):
        """Passing all postmortems, this one included, finds no self-duplicates."""
        pm = page(item("Add alert for disk usage"))
        same_id = page(item("Add alert for disk usage"), title="same page, other read")
        assert [] == codes(pm, others=[pm, same_id])

    def test_inflections_match(self):
        """Light stemming matches inflections (retries/retry, jittered/jitter)."""
        other = page(item("Retry payment webhooks with jitter"), page_id="200")
        pm = page(item("Add jittered retries to payment webhooks"))
        assert ["duplicate"] == codes(pm, others=[other])

    def test_thousand_items_across_a_hundred_pages_is_fast(self):
        """Linting each of 100 pages against all 100 (1,000 items) takes well under a
        second per page: candidates are bucketed, not compared pairwise."""
        words = [f"w{n}" for n in range(400)]
        pages = []
        for p in range(100):
            items = tuple(
                item(
                    f"Add {words[(p * 7 + r) % 400]} {words[(p * 13 + r * 3) % 400]} "
                    f"{words[(p + r * 11) % 400]} checks",
                    row=r,
                )
                for r in range(10)
            )
            pages.append(page(*items, page_id=str(p)))
        started = time.perf_counter()
        for pm in pages:
            lint(pm, today=TODAY, others=pages)
        assert time.perf_counter() - started < 5.0

    def test_an_item_copied_into_many_postmortems_gets_one_finding(self):
        """A recurring action names its closest few copies and counts the rest, so the
        findings grow with the items, not with the pairs of items."""
        pages = [
            page(item("Add an alert for failure mode 7", row=0), page_id=str(n), title=f"INC-{n}")
            for n in range(40)
        ]
        findings = lint(pages[0], today=TODAY, others=pages)

        assert ["duplicate"] == [f.code for f in findings]
        assert "'INC-1' row 1: 'Add an alert for failure mode 7'; 'INC-2'" in findings[0].message
        assert "INC-4" not in findings[0].message
        assert "and on other pages; link" in findings[0].message

    def test_identical_copies_come_before_reworded_ones(self):
        reworded = page(item("Add an alert for disk usage quickly"), page_id="200", title="INC-2")
        same = page(item("Add an alert for disk usage"), page_id="300", title="INC-3")
        findings = lint(
            page(item("Add an alert for disk usage")), today=TODAY, others=[reworded, same]
        )

        assert findings[0].message.index("INC-3") < findings[0].message.index("INC-2")

    def test_linting_a_corpus_at_once_finds_what_linting_each_page_finds(self):
        pages = [
            page(item("Add an alert for disk usage"), page_id="1", title="INC-1"),
            page(item("Add alerting on disk usage", owner=None), page_id="2", title="INC-2"),
            page(item("Investigate the outage"), page_id="3", title="INC-3"),
        ]
        one_by_one = [f for pm in pages for f in lint(pm, today=TODAY, others=pages)]

        assert lint_corpus(pages, today=TODAY) == tuple(one_by_one)
        assert [f.code for f in one_by_one] == ["duplicate", "no-owner", "duplicate", "vague"]

    def test_linting_each_page_of_a_set_builds_the_index_once(self):
        """A plan lints every page against the others: the index is built for the first
        page and reused for the rest, so the run stays linear."""
        from pmsync import _lint as lint_module

        pages = [page(item(f"Add alert {n} for disk usage"), page_id=str(n)) for n in range(5)]
        with mock.patch.object(lint_module, "_Corpus", wraps=lint_module._Corpus) as built:
            for pm in pages:
                lint(pm, today=TODAY, others=[other for other in pages if other is not pm])

        assert built.call_count == 1


def test_lint_note_escapes_messages():
    """The lint note is a note macro titled with the marker; messages are XML-escaped."""
    findings = lint(page(item("Investigate <script> & co", owner=None)), today=TODAY)
    note = render_lint_note(findings)
    assert note.startswith('<ac:structured-macro ac:name="note">')
    assert f'<ac:parameter ac:name="title">{LINT_MARKER}</ac:parameter>' in note
    assert "<script>" not in note
    assert "Investigate &lt;script&gt; &amp; co" in note


def test_lint_note_without_findings_says_so():
    """An empty lint note says nothing is wrong."""
    assert "No problems found" in render_lint_note([])
