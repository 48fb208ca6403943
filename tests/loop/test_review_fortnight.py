"""The review meeting against the emulator, with the real clients, over a fortnight.

A fixed clock (time-machine) moves the emulator and the syncer together: items are
completed, become overdue, get stuck and slip; the digest and the roll-up page say
exactly that, a rerun the same day posts and writes nothing, a person's notes on the page
survive, and an item reopened and closed again is one lesson.
"""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from lxml import etree

import pmsync
from pmsync._review import LESSONS_MARKER, REVIEW_PROPERTY, STATE_MARKER
from pmsync._storage.blocks import find_blocks
from pmsync.testing import Emulator

ALICE = "557058:alice-0001"
BOB = "557058:bob-0002"
START = dt.date(2026, 3, 2)  # a Monday


def at(day: int, month: int = 3, hour: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=dt.UTC)


def owner_cell(owner: str | None) -> str:
    if owner is None:
        return "<td><br /></td>"
    return f'<td><ac:link><ri:user ri:account-id="{owner}" /></ac:link></td>'


def postmortem(rows: list[tuple[str, str | None, str | None]]) -> str:
    body = "".join(
        f"<tr><td><p>{html.escape(summary)}</p></td>{owner_cell(owner)}"
        + (f'<td><time datetime="{due}" /></td>' if due else "<td><br /></td>")
        + "</tr>"
        for summary, owner, due in rows
    )
    return (
        "<p>The queue backed up.</p><h2>Action items</h2><table><tbody>"
        "<tr><th>Action item</th><th>Owner</th><th>Due date</th></tr>"
        f"{body}</tbody></table>"
    )


ROWS = [
    ("Add a disk alert at 85%", ALICE, "2026-03-05"),  # completed on 4 March
    ("Cap retry storms with jitter", BOB, "2026-03-06"),  # becomes overdue
    ("Rotate the database keys", ALICE, "2026-03-27"),  # stuck: nothing happens
    ("Write the failover runbook", BOB, "2026-03-08"),  # slips twice
    ("Split the <queue> & add a limit", None, None),  # no owner, no due date
]


@pytest.fixture
def emu():
    with Emulator() as emulator:
        emulator.add_user(
            account_id=ALICE, display_name="Alice Ng", email="alice@example.com", slack_id="UALICE"
        )
        emulator.add_user(
            account_id=BOB, display_name="Bob Li", email="bob@example.com", slack_id="UBOB"
        )
        emulator.add_project("OPS", name="Operations")
        emulator.add_channel("sre-review")
        emulator.add_channel("incidents")
        yield emulator


@pytest.fixture
def world(emu, time_machine):
    """The postmortem synced on 2 March and the first review that morning."""
    time_machine.move_to(at(2, hour=8), tick=False)
    parent = emu.add_page("SRE", "Postmortems", "<p>All our postmortems.</p>")
    page = emu.add_page("SRE", "INC-7 Queue backlog", postmortem(ROWS), parent_id=parent)
    config = pmsync.Config(
        project="OPS",
        slack_channel="#incidents",
        review=pmsync.ReviewSettings(parent_page=parent, slack_channel="#sre-review"),
    )
    syncer = pmsync.Syncer(
        emu.confluence(),
        emu.jira(),
        config=config,
        slack=emu.slack(),
        retry=pmsync.RetryPolicy(attempts=3, budget=10, wait_initial=0.01, wait_max=0.1),
    )
    result = syncer.sync(page_ids=[page])
    assert result.ok, result.errors
    keys = {i["fields"]["summary"]: i["key"] for i in emu.issues("OPS")}
    time_machine.move_to(at(2), tick=False)
    first = syncer.review()
    return {"syncer": syncer, "page": page, "keys": keys, "first": first, "clock": time_machine}


def the_fortnight(emu, world):
    """What happens between the review of 2 March and the one of 16 March."""
    keys, clock = world["keys"], world["clock"]
    clock.move_to(at(4), tick=False)
    emu.transition_issue(keys["Add a disk alert at 85%"], "Done")
    clock.move_to(at(5), tick=False)
    emu.edit_issue(keys["Write the failover runbook"], {"duedate": "2026-03-12"})
    clock.move_to(at(9), tick=False)
    emu.edit_issue(keys["Write the failover runbook"], {"duedate": "2026-03-16"})
    clock.move_to(at(10), tick=False)
    emu.edit_issue(keys["Cap retry storms with jitter"], {"priority": "High"})
    clock.move_to(at(16), tick=False)


def review_messages(emu):
    return [m for m in emu.slack_messages() if m["channel_name"] == "sre-review"]


def rollup(emu):
    [page] = [p for p in emu.pages() if p["title"] == pmsync.ReviewSettings().title]
    return page


def mutating(emu):
    return [f"{r.method} {r.path}" for r in emu.requests if r.mutating]


def test_the_first_review_creates_the_page_and_posts(emu, world):
    """The first run creates the roll-up page under the parent, posts one digest and
    stores the day and figures on the page."""
    first = world["first"]
    page = rollup(emu)
    assert page["parent_id"] == emu.page(world["page"])["parent_id"]
    assert 1 == len(review_messages(emu))
    assert (5, 0, 0) == (first.totals.now.open, first.totals.now.overdue, first.totals.now.done)
    stored = emu.content_property(page["id"], REVIEW_PROPERTY)["value"]
    assert [5, 0, 0] == stored["last"]["totals"]
    assert "2026-03-02" == stored["last"]["date"]
    assert first.page_written
    assert first.digest_posted


def test_the_fortnight_review_says_what_happened(emu, world):
    """Completed, new, became overdue, stuck and slipping items, exactly."""
    keys = world["keys"]
    the_fortnight(emu, world)
    emu.edit_page(
        world["page"],
        postmortem([*ROWS, ("Add a canary for config pushes", ALICE, "2026-03-30")]),
    )
    world["clock"].move_to(at(12), tick=False)
    assert world["syncer"].sync(page_ids=[world["page"]]).ok
    keys = {i["fields"]["summary"]: i["key"] for i in emu.issues("OPS")}
    world["clock"].move_to(at(16), tick=False)

    review = world["syncer"].review()

    def named(items):
        return [i.report.summary for i in items]

    assert ["Add a disk alert at 85%"] == named(review.completed)
    assert ["Add a canary for config pushes"] == named(review.new)
    assert ["Cap retry storms with jitter"] == named(review.became_overdue)
    assert ["Rotate the database keys", "Split the <queue> & add a limit"] == named(review.stuck)
    assert ["Write the failover runbook"] == named(review.slipping)
    assert ["Split the <queue> & add a limit"] == named(review.no_owner)
    assert ["Split the <queue> & add a limit"] == named(review.no_due_date)
    assert dt.date(2026, 3, 2) == review.since
    assert (5, 1, 1) == (review.totals.now.open, review.totals.now.overdue, review.totals.now.done)
    change = review.totals.change
    assert (0, 1, 1) == (change.open, change.overdue, change.done)
    [done] = review.completed
    assert ("Alice Ng", 2.04) == (done.report.owner, done.report.days_to_close)

    digest = review_messages(emu)[-1]
    text = str(digest["blocks"])
    assert 2 == len(review_messages(emu))
    assert "5 open (±0), 1 overdue (+1), 1 done (+1)" in text
    assert (
        f"|{keys['Cap retry storms with jitter']}> Cap retry storms with jitter — <@UBOB>" in text
    )
    assert "<@UALICE>, no change since 2026-03-02" in text
    assert "Split the &lt;queue&gt; &amp; add a limit — _no owner_" in text
    assert "*Completed*" in text
    assert (
        f"|{keys['Add a disk alert at 85%']}> Add a disk alert at 85% — Alice Ng, "
        "closed 2026-03-04, took 2 days" in text
    )

    storage = rollup(emu)["storage"]
    state = storage[slice(*find_blocks(storage, STATE_MARKER)[0])]
    lessons = storage[slice(*find_blocks(storage, LESSONS_MARKER)[0])]
    assert "<strong>5</strong> open, <strong>1</strong> overdue, <strong>1</strong> done" in state
    assert "Split the &lt;queue&gt; &amp; add a limit" in state
    assert "Add a disk alert" not in state
    assert "<h3>March 2026</h3>" in lessons
    assert "Add a disk alert at 85%" in lessons
    assert "Cap retry storms" not in lessons
    stored = emu.content_property(rollup(emu)["id"], REVIEW_PROPERTY)["value"]
    assert [5, 1, 1] == stored["last"]["totals"]
    assert [5, 0, 0] == stored["before"]["totals"]


def test_a_second_run_the_same_day_posts_and_writes_nothing(emu, world):
    """Rerunning the review on the day of the last one changes nothing anywhere."""
    the_fortnight(emu, world)
    first = world["syncer"].review()
    emu.clear_requests()
    world["clock"].move_to(at(16, hour=15), tick=False)

    again = world["syncer"].review()

    assert [] == mutating(emu)
    assert 2 == len(review_messages(emu))
    assert again.already_reviewed
    assert not again.digest_posted
    assert not again.page_written
    assert first.totals == again.totals
    assert [i.report.summary for i in first.completed] == [
        i.report.summary for i in again.completed
    ]


def test_two_reviews_at_the_same_moment_post_one_digest(emu, world):
    """Two machines run the review at once: each reads the last review before either
    stores its own. The digest is claimed on the roll-up page before it is posted, so
    one of them posts and the other says the day was reviewed already."""
    the_fortnight(emu, world)
    other = pmsync.Syncer(
        emu.confluence(), emu.jira(), config=world["syncer"].config, slack=emu.slack()
    )
    results = []

    def the_other_machine(record) -> None:
        v1 = record.path.endswith(f"/property/{REVIEW_PROPERTY}")
        v2 = record.path.endswith("/properties") and record.query.get("key") == REVIEW_PROPERTY
        if not results and (v1 or v2):  # Cloud reads content properties through REST v2
            results.append(None)  # once: the other review's own reads come here too
            results.append(other.review())

    emu.add_request_listener(the_other_machine)

    mine = world["syncer"].review()

    theirs = results[1]
    assert 2 == len(review_messages(emu))  # the first review's, and one for today
    assert ([True, False], [False, True]) == (
        [theirs.digest_posted, mine.digest_posted],
        [theirs.already_reviewed, mine.already_reviewed],
    )


def test_a_digest_slack_refused_is_posted_by_the_rerun(emu, world):
    """The day's record is stored before the digest is posted; when Slack then fails,
    the record says so, and a rerun the same day posts the digest."""
    the_fortnight(emu, world)
    emu.faults.server_error(status=500, service="slack")
    with pytest.raises(pmsync.PmsyncError):
        world["syncer"].review()
    emu.faults.clear()

    again = world["syncer"].review()

    assert (True, 2) == (again.digest_posted, len(review_messages(emu)))


def test_a_persons_notes_on_the_page_survive(emu, world):
    """Notes added between pmsync's sections stay byte for byte; the sections change."""
    page = rollup(emu)
    storage = page["storage"]
    lessons_start = find_blocks(storage, LESSONS_MARKER)[0][0]
    notes = "<h2>Meeting notes</h2><p>Bob will pair with Alice on the &quot;keys&quot;.</p>"
    emu.edit_page(page["id"], storage[:lessons_start] + notes + storage[lessons_start:])
    the_fortnight(emu, world)

    review = world["syncer"].review()

    after = rollup(emu)["storage"]
    assert review.page_written
    assert notes in after
    state_end = find_blocks(after, STATE_MARKER)[0][1]
    assert after[state_end:].startswith(notes)
    assert "Add a disk alert at 85%" in after[after.index(notes) :]


def closed_on_the_4th_and_reviewed(emu, world):
    """The disk alert closed on 4 March and reviewed on the 5th; its key and the clock."""
    key, clock = world["keys"]["Add a disk alert at 85%"], world["clock"]
    clock.move_to(at(4), tick=False)
    emu.transition_issue(key, "Done")
    clock.move_to(at(5), tick=False)
    world["syncer"].review()
    return key, clock


def lessons_section(emu) -> str:
    storage = rollup(emu)["storage"]
    return storage[slice(*find_blocks(storage, LESSONS_MARKER)[0])]


def test_reopened_and_closed_again_is_one_lesson(emu, world):
    """An item closed, reopened and closed again appears once, under the later month."""
    key, clock = closed_on_the_4th_and_reviewed(emu, world)
    clock.move_to(at(20), tick=False)
    emu.transition_issue(key, "To Do")
    clock.move_to(at(2, month=4), tick=False)
    emu.transition_issue(key, "Done")
    clock.move_to(at(3, month=4), tick=False)

    world["syncer"].review()

    lessons = lessons_section(emu)
    assert 1 == lessons.count("Add a disk alert at 85%")
    assert "<h3>April 2026</h3>" in lessons
    assert "March 2026" not in lessons


def test_a_lesson_stays_when_its_row_leaves_the_postmortem(emu, world):
    """The lessons grow: an item closed in Jira, whose row a person later removed from
    the postmortem (tidying up done items), is still a lesson, once, saying its row is
    gone; it is not counted as an item of the page any more."""
    _, clock = closed_on_the_4th_and_reviewed(emu, world)
    storage = emu.page(world["page"])["storage"]
    start = storage.index("<tr><td><p>Add a disk alert")
    emu.edit_page(world["page"], storage[:start] + storage[storage.index("</tr>", start) + 5 :])
    clock.move_to(at(16), tick=False)

    review = world["syncer"].review()

    lessons = lessons_section(emu)
    assert 1 == lessons.count("Add a disk alert at 85%")
    assert "INC-7 Queue backlog</a> (no longer on the page)" in lessons
    assert (0, 4) == (review.totals.now.done, review.totals.now.open)


def test_the_page_is_well_formed_and_renders_tables(emu, world):
    """The roll-up page parses as XML, its page view shows the sections as tables, and
    it holds no action-item table of its own (a query that selects it syncs nothing)."""
    the_fortnight(emu, world)
    world["syncer"].review()
    page = rollup(emu)
    etree.fromstring(f'<r xmlns:ac="urn:ac" xmlns:ri="urn:ri">{page["storage"]}</r>')
    read = emu.confluence().get(f"api/v2/pages/{page['id']}", params={"body-format": "view"})
    view = read["body"]["view"]
    tree = etree.fromstring(f'<r xmlns:ac="urn:ac" xmlns:ri="urn:ri">{view["value"]}</r>')
    tables = tree.findall(".//table")
    assert 2 == len(tables)
    headers = [[th.text for th in t.find("tbody/tr").findall("th")] for t in tables]
    assert ["Team", "Person", "What", "Due", "State", "Postmortem", "Jira"] == headers[0]
    assert 1 + 4 == len(tables[0].findall("tbody/tr"))
    assert [] == list(pmsync.parse_page(page["storage"], page_id=page["id"]).items)


def test_dry_run_posts_and_writes_nothing(emu, world):
    """A dry run builds the review and leaves Confluence and Slack alone."""
    the_fortnight(emu, world)
    emu.clear_requests()

    review = world["syncer"].review(dry_run=True)

    assert [] == mutating(emu)
    assert review.dry_run
    assert ["Write the failover runbook"] == [i.report.summary for i in review.slipping]


def test_since_overrides_the_last_review(emu, world):
    """--since looks at changes from that day on, whatever the last review was."""
    the_fortnight(emu, world)

    review = world["syncer"].review(since=dt.date(2026, 3, 5), dry_run=True)

    assert [] == list(review.completed)  # closed on 4 March
    assert dt.date(2026, 3, 5) == review.since


def test_review_needs_a_parent_page(emu):
    """Without [review] parent_page a review that would write is a configuration error."""
    syncer = pmsync.Syncer(emu.confluence(), emu.jira(), config=pmsync.Config(project="OPS"))
    with pytest.raises(pmsync.ConfigError, match=re.escape("parent_page")):
        syncer.review()


@pytest.mark.parametrize("flavour", ["cloud", "server"])
def test_the_changelog_comes_with_the_managed_search(flavour):
    """Both search APIs return each issue's changelog with expand=changelog, newest
    first, and the gateway counts the due-date moves (a first due date is no move)."""
    with Emulator(flavour=flavour) as emulator:
        emulator.add_project("OPS", name="Operations")
        key = emulator.add_issue("OPS", summary="Write the runbook", labels=["pmsync"])
        for due in ("2026-03-08", "2026-03-12", "2026-03-16"):
            emulator.edit_issue(key, {"duedate": due})
        emulator.transition_issue(key, "In Progress")
        jira = emulator.jira()
        histories = jira.get_issue(key, expand="changelog")["changelog"]["histories"]
        syncer = pmsync.Syncer(emulator.confluence(), jira, config=pmsync.Config(project="OPS"))
        [issue] = syncer.managed_issues(history=True)
        [plain] = syncer.managed_issues()

    assert [["status"], ["duedate"], ["duedate"], ["duedate"]] == [
        [item["field"] for item in h["items"]] for h in histories
    ]
    assert ("2026-03-12", "2026-03-16") == (
        histories[1]["items"][0]["fromString"],
        histories[1]["items"][0]["toString"],
    )
    assert (2, None) == (issue.due_moves, plain.due_moves)
