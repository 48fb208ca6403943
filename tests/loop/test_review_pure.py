"""The pure core of the review: lists, trends, the record, the page sections, the digest."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from pathlib import Path

import pytest
from lxml import etree

from pmsync import ActionItem, ConfigError, JiraIssue, Person, Postmortem, ReviewSettings, Status
from pmsync._config_file import config_from_mapping
from pmsync._gateways.atlassian import due_moves
from pmsync._messages import BLOCK_LIMIT, SECTION_LIMIT
from pmsync._report import MissingExtraError
from pmsync._review import (
    DIGEST_LIMIT,
    LESSONS_MARKER,
    REVIEW_COLUMNS,
    STATE_MARKER,
    build_review,
    previous_review,
    render_lessons_section,
    render_state_section,
    review_digest,
    review_record,
)

UTC = dt.UTC
TODAY = dt.date(2026, 3, 16)
LAST = {
    "date": "2026-03-02",
    "at": "2026-03-02T09:00:00+00:00",
    "posted": True,
    "totals": [3, 0, 0],
    "by_team": {"SRE": [2, 0, 0]},
    "by_postmortem": {"1": [3, 0, 0]},
}
ALICE = Person(account_id="a-1", display_name="Alice Ng")
HOSTILE = "Fix <!channel> & <@U999> <b>now</b>"


def when(day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, tzinfo=UTC)


def issue(key: str, **kwargs) -> JiraIssue:
    values = {
        "summary": f"summary {key}",
        "assignee": ALICE,
        "status_category": Status.TODO,
        "created": when(1),
        "updated": when(10),
        "components": ("SRE",),
        "url": f"https://jira.example/browse/{key}",
        "due_moves": 0,
    }
    values.update(kwargs)
    return JiraIssue(key=key, **values)


def pm(*keys: str, summaries: dict[str, str] | None = None) -> Postmortem:
    names = summaries or {}
    return Postmortem(
        page_id="1",
        title="INC-1 <Checkout>",
        items=tuple(
            ActionItem(item_id=k, summary=names.get(k, f"summary {k}"), row=n, jira_key=k)
            for n, k in enumerate(keys)
        ),
    )


ISSUES = [
    issue("OPS-1", status_category=Status.DONE, resolved=when(4), resolution="Fixed"),
    issue("OPS-2", due=dt.date(2026, 3, 6)),  # became overdue
    issue("OPS-3", due=dt.date(2026, 2, 20)),  # overdue before the last review
    issue("OPS-4", updated=when(1), due=dt.date(2026, 4, 1)),  # stuck
    issue("OPS-5", due=dt.date(2026, 4, 1), due_moves=2, created=when(3)),  # new, slipping
    issue("OPS-6", assignee=None, components=(), status_category=Status.DONE, resolved=when(1)),
]


@pytest.fixture
def review():
    return build_review(
        [pm("OPS-1", "OPS-2", "OPS-3", "OPS-4", "OPS-5", "OPS-6")],
        ISSUES,
        today=TODAY,
        previous=LAST,
        page_urls={"1": "https://wiki.example/pages/1"},
    )


def keys(items) -> list[str]:
    return [i.report.issue_key for i in items]


def test_the_lists(review):
    """Each list holds exactly the items the definitions pick."""
    assert (
        ["OPS-1"],
        ["OPS-5"],
        ["OPS-2"],
        ["OPS-4"],
        ["OPS-5"],
        [],
        [],
    ) == tuple(keys(items) for items in review.lists().values())


def test_done_before_the_last_review_is_not_completed_again(review):
    """OPS-6 closed on 1 March, before the review of 2 March 09:00."""
    assert "OPS-6" not in keys(review.completed)


def test_changes_count_from_the_moment_of_the_last_review():
    """An issue created the day of the last review, after it ran, is new in this one."""
    late = issue("OPS-9", created=dt.datetime(2026, 3, 2, 15, tzinfo=UTC))
    early = issue("OPS-8", created=dt.datetime(2026, 3, 2, 8, tzinfo=UTC))
    review = build_review([pm("OPS-8", "OPS-9")], [early, late], today=TODAY, previous=LAST)
    assert ["OPS-9"] == keys(review.new)


def test_trends_against_the_last_review(review):
    """Totals and groups carry their change; a group the last review did not know is new."""
    assert (4, 2, 2) == (review.totals.now.open, review.totals.now.overdue, review.totals.now.done)
    assert (1, 2, 2) == tuple(review.totals.change.to_dict().values())
    teams = {g.label: g for g in review.by_team}
    assert {"open": 2, "overdue": 2, "done": 1} == teams["SRE"].change.to_dict()
    assert teams["(no team)"].change is None


def test_since_overrides_the_last_review():
    review = build_review(
        [pm("OPS-1")], ISSUES[:1], today=TODAY, since=dt.date(2026, 3, 5), previous=LAST
    )
    assert ([], dt.date(2026, 3, 5)) == (keys(review.completed), review.since)


def test_the_first_review_looks_back_a_fortnight():
    review = build_review([pm("OPS-1", "OPS-6")], [ISSUES[0], ISSUES[5]], today=TODAY)
    assert (dt.date(2026, 3, 2), None) == (review.since, review.previous)
    assert ["OPS-1"] == keys(review.completed)  # OPS-6 closed on 1 March


def test_record_moves_the_last_review_back_on_a_new_day(review):
    record = review_record(review, {"v": 1, "last": LAST}, posted=True, at=when(16, 9))
    assert LAST == record["before"]
    assert ("2026-03-16", True) == (record["last"]["date"], record["last"]["posted"])
    assert [4, 2, 2] == record["last"]["totals"]


def test_a_rerun_the_same_day_compares_with_the_review_before(review):
    record = review_record(review, {"v": 1, "last": LAST}, posted=True, at=when(16, 9))
    previous, already = previous_review(record, TODAY)
    assert (LAST, True) == (previous, already)
    assert record == review_record(review, record, posted=False, at=when(16, 15))


def test_a_rerun_after_a_day_without_slack_posts_then():
    """A day's review that could not post does not stop a later run that day from posting."""
    unposted = {"v": 1, "last": {**LAST, "date": "2026-03-16", "posted": False}}
    assert (None, False) == previous_review(unposted, TODAY)


def test_the_record_of_700_postmortems_fits_a_content_property():
    """Confluence refuses content properties over 32 kB. With 700 postmortems the
    figures of two reviews do not fit: the per-postmortem figures of the review before
    go first (only a same-day rerun reads them), and the record stays storable."""
    pms = [
        Postmortem(
            page_id=str(3_400_000_000 + n),
            title=f"INC-{n}",
            items=(ActionItem(item_id="a", summary="x", jira_key=f"OPS-{n + 1}"),),
        )
        for n in range(700)
    ]
    issues = [issue(f"OPS-{n + 1}") for n in range(700)]
    at = dt.datetime(2026, 3, 16, 9, tzinfo=UTC)
    first = review_record(build_review(pms, issues, today=TODAY), None, posted=True, at=at)
    later = build_review(pms, issues, today=TODAY + dt.timedelta(days=7), previous=first["last"])
    record = review_record(later, first, posted=True, at=at + dt.timedelta(days=7))
    assert len(json.dumps(record).encode()) <= 32 * 1024
    assert 700 == len(record["last"]["by_postmortem"])
    assert ([700, 0, 0], "by_postmortem") == (
        record["before"]["totals"],
        next(k for k in first["last"] if k not in record["before"]),
    )


def test_state_section_lists_open_items_overdue_first_and_escapes(review):
    storage = render_state_section(review)
    etree.fromstring(f'<r xmlns:ac="urn:ac">{storage}</r>')
    assert f'<ac:parameter ac:name="title">{STATE_MARKER}</ac:parameter>' in storage
    assert storage.index("OPS-3") < storage.index("OPS-2") < storage.index("OPS-4")
    assert "OPS-1" not in storage
    assert "INC-1 &lt;Checkout&gt;" in storage
    assert '<a href="https://wiki.example/pages/1">' in storage
    assert "2026-03-16" not in storage  # no day: unchanged items mean an unchanged page


def test_lessons_section_groups_by_month_newest_first():
    april = issue(
        "OPS-7", status_category=Status.DONE, resolved=dt.datetime(2026, 4, 2, tzinfo=UTC)
    )
    review = build_review([pm("OPS-1", "OPS-7")], [ISSUES[0], april], today=dt.date(2026, 4, 3))
    storage = render_lessons_section(review)
    assert f'<ac:parameter ac:name="title">{LESSONS_MARKER}</ac:parameter>' in storage
    assert storage.index("April 2026") < storage.index("OPS-7") < storage.index("March 2026")
    assert "<td>Fixed</td>" in storage
    assert 1 == storage.count("browse/OPS-1")


def test_lessons_say_how_long_in_whole_days_as_the_digest_does():
    """A close after 2 days and 1 hour reads "2 days" on the page, as in the digest and
    the docs, not "2.04167 days"."""
    done = issue(
        "OPS-1",
        status_category=Status.DONE,
        created=when(2, hour=9),
        resolved=when(4, hour=10),
    )
    review = build_review([pm("OPS-1")], [done], today=TODAY)
    _, blocks = review_digest(review)
    assert "<td>2 days</td>" in render_lessons_section(review)
    assert "took 2 days" in json.dumps(blocks)


def test_rows_of_a_second_table_name_their_table():
    """A page with two action-item tables: the rows of the second say so, so that the
    roll-up page does not show two different items as "row 1" of one postmortem."""
    postmortem = Postmortem(
        page_id="1",
        title="INC-1",
        items=(
            ActionItem(item_id="a", summary="first table", table=0, row=0, jira_key="OPS-1"),
            ActionItem(item_id="b", summary="second table", table=1, row=0),
        ),
    )
    review = build_review([postmortem], [issue("OPS-1")], today=TODAY)
    storage = render_state_section(review)
    assert "INC-1 (row 1)" in storage
    assert "INC-1 (table 2, row 1)" in storage
    assert ["OPS-1", "table 2, row 1 of INC-1"] == [i.ref for i in review.items]


def test_hostile_text_is_escaped_everywhere():
    summary = {"OPS-2": HOSTILE}
    review = build_review(
        [pm("OPS-2", summaries=summary)], [issue("OPS-2", due=dt.date(2026, 3, 6))], today=TODAY
    )
    storage = render_state_section(review)
    assert "Fix &lt;!channel&gt; &amp; &lt;@U999&gt; &lt;b&gt;now&lt;/b&gt;" in storage
    _, blocks = review_digest(review)
    text = json.dumps(blocks)
    assert "<!channel>" not in text
    assert "<@U999>" not in text
    assert "&lt;!channel&gt;" in text


def test_digest_lists_at_most_ten_then_links_the_page():
    late = [issue(f"OPS-{n}", due=dt.date(2026, 3, 1)) for n in range(1, 15)]
    review = build_review([pm(*(i.key for i in late))], late, today=TODAY)
    text, blocks = review_digest(
        review, mentions={"Alice Ng": "UALICE"}, page_url="https://wiki.example/rollup"
    )
    [attention] = [b for b in blocks if "*Overdue and stuck*" in b.get("text", {}).get("text", "")]
    lines = attention["text"]["text"].splitlines()[1:]
    assert DIGEST_LIMIT + 1 == len(lines)
    assert "…and 4 more on <https://wiki.example/rollup|the roll-up page>" == lines[-1]
    assert all("<@UALICE>" in line for line in lines[:-1])
    assert len(blocks) <= BLOCK_LIMIT
    assert all(len(b.get("text", {}).get("text", "")) <= SECTION_LIMIT for b in blocks)
    assert text.startswith("Action item review 2026-03-16: 14 open")


def test_a_bad_slack_id_is_no_mention(review):
    _, blocks = review_digest(review, mentions={"Alice Ng": "<!here>"})
    assert "<!here>" not in json.dumps(blocks)


def test_renderings(review):
    """Text, JSON, HTML and DataFrame say the same things."""
    document = json.loads(review.to_json())
    assert ["OPS-1"] == [i["issue_key"] for i in document["completed"]]
    assert {"open": 1, "overdue": 2, "done": 2} == document["totals"]["change"]
    text = str(review)
    assert "4 open (+1), 2 overdue (+2), 2 done (+2)" in text
    assert "Slipping (due date moved more than once) (1)" in text
    html_text = review._repr_html_()
    assert "INC-1 &lt;Checkout&gt;" in html_text
    assert "<Checkout>" not in html_text
    frame = review.to_dataframe()
    assert list(REVIEW_COLUMNS) == list(frame.columns)
    assert ["completed", "new", "became_overdue", "stuck", "slipping"] == list(frame["list"])


def test_to_dataframe_without_pandas(review, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'pmsync\[pandas\]'"):
        review.to_dataframe()


def test_due_moves_count_moves_not_first_dates():
    changelog = {
        "histories": [
            {"items": [{"field": "duedate", "from": None, "to": "2026-03-08"}]},
            {"items": [{"field": "duedate", "from": "2026-03-08", "to": "2026-03-12"}]},
            {"items": [{"field": "summary", "from": "a", "to": "b"}]},
            {"items": [{"fieldId": "duedate", "from": "2026-03-12", "to": "2026-03-16"}]},
        ]
    }
    assert 2 == due_moves(changelog)


def test_review_settings_from_toml():
    config = config_from_mapping(
        {"project": "OPS", "review": {"parent_page": "42", "stuck_after_days": 7}}
    )
    assert ReviewSettings(parent_page="42", stuck_after_days=7) == config.review


@pytest.mark.parametrize(
    ("table", "key"),
    [
        ({"parent_page": "Reviews"}, "review.parent_page"),
        ({"stuck_after_days": 0}, "review.stuck_after_days"),
        ({"title": "  "}, "review.title"),
        ({"stuck_after": 3}, "review.stuck_after"),
    ],
)
def test_review_settings_name_the_bad_key(table, key):
    with pytest.raises(ConfigError) as info:
        config_from_mapping({"project": "OPS", "review": table})
    assert key == info.value.key


def test_the_docs_example_runs_and_prints_what_it_says(capsys):
    """The pure example of closing-the-loop.md's review section prints its comment."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "closing-the-loop.md"
    section = doc.read_text(encoding="utf-8").split("## The review meeting", 1)[1]
    source = re.findall(r"```python\n(.*?)```", section, flags=re.S)[-1]
    exec(compile(source, str(doc), "exec"), {"__name__": "docs_example"})  # noqa: S102
    assert "['OPS-1']\n" == capsys.readouterr().out
