"""Slack message builders: escaping, links, limits."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmsync import ActionItem, JiraIssue, Person
from pmsync._messages import (
    BLOCK_LIMIT,
    SECTION_LIMIT,
    assignment_message,
    digest_message,
    escalation_message,
    escape_mrkdwn,
    link,
    mention,
    postmortem_summary,
    reminder_message,
)
from pmsync._remind import Reminder

ALICE = Person(account_id="a-1", display_name="Alice Ng")
HOSTILE = "Ping <!channel> and <@U123> via <http://evil.example|click> & <!here>"


def reminder(kind="overdue", *, summary="Fix the retry storm", recipient=ALICE, **kw):
    kw.setdefault("days_overdue", 3 if kind != "due_soon" else 0)
    kw.setdefault("overdue_count", 4 if kind != "due_soon" else 0)
    return Reminder(
        issue_key="OPS-1",
        kind=kind,
        recipient=recipient,
        due=dt.date(2026, 3, 20),
        summary=summary,
        url="https://jira.example/browse/OPS-1",
        **kw,
    )


def every_text(message) -> str:
    """The fallback and all block text of a message, as one string."""
    return message[0] + json.dumps(message[1])


def test_escape_order():
    """& first, then < and >: an existing entity is escaped, not trusted."""
    assert "&amp;lt;b&amp;gt; &lt;!channel&gt; a &amp; b" == escape_mrkdwn(
        "&lt;b&gt; <!channel> a & b"
    )


HOSTILE_MESSAGES = {
    "assignment": lambda: assignment_message(
        ActionItem(item_id="i", summary=HOSTILE, jira_key="OPS-1"),
        "https://jira.example/browse/OPS-1",
        "https://wiki.example/pages/1",
        HOSTILE,
    ),
    "summary": lambda: postmortem_summary(
        HOSTILE,
        "https://wiki.example/pages/1",
        [JiraIssue(key="OPS-1", summary=HOSTILE, assignee=Person(text=HOSTILE))],
    ),
    "reminder": lambda: reminder_message(reminder(summary=HOSTILE), page_title=HOSTILE),
    "digest": lambda: digest_message(ALICE, [reminder(summary=HOSTILE)]),
    "escalation": lambda: escalation_message(
        reminder(summary=HOSTILE, recipient=Person(text=HOSTILE)), page_title=HOSTILE
    ),
}


@pytest.mark.parametrize("build", HOSTILE_MESSAGES.values(), ids=HOSTILE_MESSAGES.keys())
def test_page_and_issue_text_cannot_ping_or_link(build):
    """<!channel>, <!here>, <@U123> and <http://evil|x> from a page come out inert."""
    text = every_text(build())
    for dangerous in ("<!channel>", "<!here>", "<@U123>", "<http://evil"):
        assert dangerous not in text
    assert "&lt;!channel&gt;" in text


def test_link_accepts_http_and_https_only():
    """Other schemes give plain escaped text; the label is always escaped."""
    assert "<https://x.example/a|A &amp; B>" == link("https://x.example/a", "A & B")
    assert "evil" == link("javascript:alert(1)", "evil")
    assert "label" == link("mailto:a@b.c", "label")
    assert "label" == link("//no-scheme.example", "label")
    assert "label" == link(None, "label")


def test_link_encodes_characters_that_would_end_it():
    """|, < and > in a URL are percent-encoded so the link cannot be broken out of."""
    assert "<https://x.example/a%7Cb%3Ec?q=1&r=2|k>" == link("https://x.example/a|b>c?q=1&r=2", "k")


def test_mention_only_for_slack_ids():
    """Only well-formed user ids become mentions."""
    assert "<@U0123ABC>" == mention("U0123ABC")
    assert mention("!channel") is None
    assert mention("U1|x>") is None
    assert mention(None) is None


def test_assignment_message_names_item_due_issue_and_postmortem():
    """The DM names the item, the due date and links the issue and the postmortem."""
    text, blocks = assignment_message(
        ActionItem(item_id="i", summary="Add disk alert", due=dt.date(2026, 4, 1)),
        None,
        "https://wiki.example/pages/1",
        "INC-1 Checkout",
    )
    assert "An action item from INC-1 Checkout is yours: Add disk alert (due 2026-04-01)" == text
    rendered = json.dumps(blocks)
    assert "<https://wiki.example/pages/1|INC-1 Checkout>" in rendered
    assert "2026-04-01" in rendered
    assert "not in Jira yet" in rendered


def test_assignment_from_issue_links_it():
    """From a Jira issue the DM links its key."""
    issue = JiraIssue(key="OPS-7", summary="Cap sessions", due=dt.date(2026, 4, 2))
    text, blocks = assignment_message(
        issue, "https://jira.example/browse/OPS-7", None, None, reassigned=True
    )
    assert "has been handed to you" in text
    assert "<https://jira.example/browse/OPS-7|OPS-7>" in json.dumps(blocks)


def test_reminder_to_an_unassigned_issue_asks_for_an_owner():
    """A channel reminder for an unassigned item says it has no owner."""
    text, blocks = reminder_message(reminder(recipient=None))
    assert text.startswith("An unassigned action item OPS-1 is 3 day(s) overdue")
    assert "who will take it?" in json.dumps(blocks)


def test_due_soon_wording():
    """Due-soon reminders say how many days are left, or today."""
    assert (
        "is due in 2 day(s), on 2026-03-20"
        in reminder_message(reminder("due_soon", days_left=2))[0]
    )
    assert "is due today" in reminder_message(reminder("due_soon", days_left=0))[0]


def test_escalation_mentions_owner_by_slack_id():
    """An escalation mentions the owner when their Slack id is known."""
    text, blocks = escalation_message(reminder(), owner_slack_id="U0ALICE")
    assert "OPS-1 is 3 day(s) overdue after 4 reminder(s): Fix the retry storm" == text
    assert "<@U0ALICE>" in json.dumps(blocks)


def test_escalation_names_owner_in_text_without_id():
    """Without a Slack id the owner is named, not mentioned."""
    _, blocks = escalation_message(reminder())
    assert "to Alice Ng" in json.dumps(blocks)


def test_digest_lists_overdue_then_due_soon():
    """A digest counts and lists a person's items, overdue first."""
    text, blocks = digest_message(ALICE, [reminder("due_soon", days_left=1), reminder()])
    assert "Your action items: 1 overdue, 1 due soon" == text
    body = blocks[1]["text"]["text"]
    assert body.index("Overdue") < body.index("Due soon")


def test_long_lists_respect_block_and_section_limits():
    """Hundreds of items stay within 50 blocks of at most 3,000 characters each."""
    items = [
        JiraIssue(key=f"OPS-{n}", summary="x" * 250 + " <!channel>", url=f"https://j.example/{n}")
        for n in range(600)
    ]
    text, blocks = postmortem_summary("Big", None, items)
    assert len(blocks) <= BLOCK_LIMIT
    for block in blocks:
        inner = block.get("text") or block["elements"][0]
        assert len(inner["text"]) <= SECTION_LIMIT
    assert blocks[-1]["type"] == "context"
    assert "more" in blocks[-1]["elements"][0]["text"]
    assert "600 action item(s) created" in text


def test_a_huge_summary_is_shortened_without_breaking_an_entity():
    """Summaries are capped and never cut in the middle of an escape."""
    text, _ = reminder_message(reminder(summary="&" * 2000))
    assert len(text) <= SECTION_LIMIT
    assert text.endswith("&amp;…")


@given(st.text())
def test_escaped_text_has_no_angle_brackets_and_round_trips(text):
    """Any text escapes to something without < or > that Slack decodes back to the text."""
    escaped = escape_mrkdwn(text)
    assert "<" not in escaped
    assert ">" not in escaped
    assert text == escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@given(st.text(max_size=400), st.text(max_size=50))
def test_no_summary_can_open_a_mention_in_a_reminder(summary, key):
    """Whatever an issue says, a reminder's text and blocks only hold < in links pmsync built."""
    message = reminder_message(
        Reminder(issue_key=key, kind="overdue", recipient=ALICE, due=dt.date(2026, 3, 1),
                 summary=summary, url=None, days_overdue=1, overdue_count=1)
    )  # fmt: skip
    assert "<" not in every_text(message)
