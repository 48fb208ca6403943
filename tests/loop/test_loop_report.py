"""Report figures on a seeded set of items and issues, and the report's renderings."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys

import pytest

from pmsync import ActionItem, JiraIssue, Person, PmsyncError, Postmortem, Status
from pmsync._report import (
    REPORT_COLUMNS,
    STATUS_MARKER,
    MissingExtraError,
    build_report,
    render_status_panel,
)

TODAY = dt.date(2026, 3, 10)
UTC = dt.UTC
ALICE = Person(account_id="a-1", display_name="Alice Ng")
BOB = Person(account_id="b-2", display_name="Bob Li")
CAROL = Person(account_id="c-3", display_name="Carol Diaz")
DAN = Person(text="Dan")


def closed(key, days, assignee, components=()):
    created = dt.datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    return JiraIssue(
        key=key,
        summary=f"summary {key}",
        assignee=assignee,
        status="Done",
        status_category=Status.DONE,
        components=components,
        created=created,
        resolved=created + dt.timedelta(days=days),
        url=f"https://jira.example/browse/{key}",
    )


def it(item_id, summary, *, row, **kwargs):
    return ActionItem(item_id=item_id, summary=summary, row=row, **kwargs)


# Two postmortems, nine items; closed issues took 2, 4, 6, 10 and 20 days.
# Median of [2, 4, 6, 10, 20] = 6; p90: position 0.9 * 4 = 3.6 -> 10 + 0.6 * (20 - 10) = 16.
CHECKOUT = Postmortem(
    page_id="1",
    title="INC-1 Checkout",
    items=(
        it("a1", "Add disk alert", row=0, jira_key="OPS-1", owner=ALICE),
        it("a2", "Add CPU alert", row=1, jira_key="OPS-2", owner=ALICE),
        it("a3", "Fix retry storm", row=2, owner=BOB, status=Status.TODO),  # by property
        it("a4", "Write runbook", row=3),  # no issue, no owner, no date
    ),
)
LOGIN = Postmortem(
    page_id="2",
    title="INC-2 Login",
    items=(
        it("b1", "Rotate keys", row=0, jira_key="OPS-4", owner=CAROL),
        it("b2", "Add MFA alert", row=1, jira_key="OPS-5", owner=CAROL),
        it("b3", "Cap sessions", row=2, jira_key="OPS-6", owner=BOB),
        it("b4", "Update docs", row=3, owner=ALICE, status=Status.DONE),  # done on the page
        it("b5", "Add <b>bold</b> & more", row=4, jira_key="OPS-7", owner=DAN),
    ),
)
ISSUES = [
    closed("OPS-1", 2, ALICE, ("SRE",)),
    closed("OPS-2", 4, ALICE, ("SRE",)),
    JiraIssue(
        key="OPS-3",
        summary="Fix retry storm",
        assignee=BOB,
        due=dt.date(2026, 3, 5),
        status="In Progress",
        status_category=Status.IN_PROGRESS,
        created=dt.datetime(2026, 2, 20, tzinfo=UTC),
        prop={"page_id": "1", "item_id": "a3"},
    ),
    closed("OPS-4", 6, CAROL, ("Identity",)),
    closed("OPS-5", 10, CAROL, ("Identity",)),
    closed("OPS-6", 20, BOB),
    JiraIssue(
        key="OPS-7",
        summary="Add bold",
        due=dt.date(2026, 3, 20),
        status="To Do",
        status_category=Status.TODO,
    ),
    closed("OPS-99", 1, ALICE),  # belongs to no chosen postmortem
]
TEAMS = {"bob li": "Payments"}


@pytest.fixture(name="report")
def _report():
    return build_report(
        [CHECKOUT, LOGIN],
        ISSUES,
        today=TODAY,
        team_map={"Bob Li": "Payments"},
        base_url="https://jira.example",
    )


def test_totals(report):
    """Totals count every item of the chosen postmortems, with or without an issue."""
    t = report.totals
    assert (9, 6, 3, 1, 1, 1) == (t.total, t.done, t.open, t.overdue, t.unowned, t.undated)
    assert pytest.approx(6 / 9) == t.done_rate


def test_time_to_close(report):
    """Median and 90th percentile (linear interpolation) over closed issues, in days."""
    assert (5, 6.0, 16.0) == (
        report.totals.closed_with_dates,
        report.totals.median_days_to_close,
        report.totals.p90_days_to_close,
    )


def test_items_match_by_key_and_by_property(report):
    """OPS-3 matches row a3 through its property; Jira's status wins over the page's."""
    a3 = next(i for i in report.items if i.item_id == "a3")
    assert ("OPS-3", Status.IN_PROGRESS, True, 5) == (
        a3.issue_key,
        a3.status,
        a3.overdue,
        a3.days_overdue,
    )


def test_page_fills_what_jira_lacks(report):
    """An unassigned issue keeps the page's owner; a page-only item keeps its status."""
    by_id = {i.item_id: i for i in report.items}
    assert "Dan" == by_id["b5"].owner
    assert Status.DONE == by_id["b4"].status
    assert by_id["b4"].issue_key is None


def test_by_owner(report):
    """One group per owner, sorted by name, unowned last."""
    assert [
        ("Alice Ng", 3, 3, 0),
        ("Bob Li", 2, 1, 1),
        ("Carol Diaz", 2, 2, 0),
        ("Dan", 1, 0, 0),
        ("(unowned)", 1, 0, 0),
    ] == [(g.label, g.figures.total, g.figures.done, g.figures.overdue) for g in report.by_owner]


def test_by_team_uses_components_then_the_team_map(report):
    """Jira's first component names the team; else the owner's entry in team_map."""
    assert [
        ("Identity", 2),
        ("Payments", 2),
        ("SRE", 2),
        ("(no team)", 3),
    ] == [(g.label, g.figures.total) for g in report.by_team]


def test_by_postmortem(report):
    """One group per page, keyed by page id, labelled by title."""
    assert [("1", "INC-1 Checkout", 4, 2), ("2", "INC-2 Login", 5, 4)] == [
        (g.key, g.label, g.figures.total, g.figures.done) for g in report.by_postmortem
    ]
    # Page 2 closed in 6, 10 and 20 days: p90 position 0.9 * 2 = 1.8 -> 10 + 0.8 * 10 = 18.
    assert 18.0 == report.by_postmortem[1].figures.p90_days_to_close


def test_issue_urls_fall_back_to_base_url(report):
    """Issues without their own URL are linked through the Jira base URL."""
    b5 = next(i for i in report.items if i.item_id == "b5")
    assert "https://jira.example/browse/OPS-7" == b5.issue_url


def test_empty_report():
    """No items gives zeros and no rates, and still renders."""
    report = build_report([], [], today=TODAY)
    assert (0, None, None) == (
        report.totals.total,
        report.totals.done_rate,
        report.totals.median_days_to_close,
    )
    assert "0 total" in str(report)


def test_to_json_matches_to_dict(report):
    """to_json is to_dict as JSON."""
    assert report.to_dict() == json.loads(report.to_json())
    assert 9 == len(report.to_dict()["items"])


def test_to_csv_to_a_file_object(report):
    """One row per item under the stable header."""
    out = io.StringIO()
    report.to_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert list(REPORT_COLUMNS) == rows[0]
    assert 10 == len(rows)
    first = dict(zip(rows[0], rows[1], strict=True))
    assert ("1", "a1", "OPS-1", "done", "2.0") == (
        first["page_id"],
        first["item_id"],
        first["issue_key"],
        first["status"],
        first["days_to_close"],
    )


def test_to_csv_to_a_path(report, tmp_path):
    """A path is written as UTF-8."""
    target = tmp_path / "report.csv"
    report.to_csv(target)
    assert target.read_text(encoding="utf-8").startswith(",".join(REPORT_COLUMNS))
    report.to_csv(str(target))
    assert 10 == len(target.read_text(encoding="utf-8").splitlines())


def test_to_dataframe(report):
    """The DataFrame has the CSV's columns and real date types."""
    frame = report.to_dataframe()
    assert list(REPORT_COLUMNS) == list(frame.columns)
    assert 9 == len(frame)
    assert "datetime64" in str(frame["due"].dtype)
    assert 6.0 == frame["days_to_close"].median()


def test_to_dataframe_without_pandas(report, monkeypatch):
    """Without pandas the error names the extra to install, and is a PmsyncError."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingExtraError, match=r"pip install 'pmsync\[pandas\]'") as info:
        report.to_dataframe()
    assert isinstance(info.value, PmsyncError)
    assert isinstance(info.value, ImportError)


def test_str_has_aligned_tables(report):
    """str() gives totals and aligned text tables per owner, team, postmortem, overdue."""
    text = str(report)
    assert text.startswith(
        "Action items on 2026-03-10: 9 total, 6 done, 3 open, 1 overdue, 1 unowned, "
        "1 undated; done rate 67%\n"
        "Time to close: median 6 days, 90th percentile 16 days (5 closed items)"
    )
    assert (
        "By owner\n"
        "owner       total  done  open  overdue  unowned  undated  done rate\n"
        "----------  -----  ----  ----  -------  -------  -------  ---------\n"
        "Alice Ng        3     3     0        0        0        0       100%\n"
    ) in text
    assert "Overdue\nissue  days  due         owner   summary\n" in text
    assert "OPS-3     5  2026-03-05  Bob Li  Fix retry storm" in text


def test_html_is_escaped(report):
    """_repr_html_ renders tables and escapes summaries."""
    page = Postmortem(page_id="3", title="<i>t</i>", items=(it("x", "<script>", row=0),))
    html = build_report([page], [], today=TODAY)._repr_html_()
    assert "<script>" not in html
    assert "&lt;i&gt;t&lt;/i&gt;" in html
    assert "<table>" in report._repr_html_()


class TestStatusPanel:
    def test_overdue_page_gets_a_note_panel(self, report):
        """A page with overdue items gets a yellow note titled with the marker."""
        panel = render_status_panel(report, "1")
        assert panel.startswith(
            '<ac:structured-macro ac:name="note">'
            f'<ac:parameter ac:name="title">{STATUS_MARKER}</ac:parameter>'
        )
        assert (
            "<strong>4</strong> items: <strong>2</strong> done, <strong>2</strong> open, "
            "<strong>1</strong> overdue; done rate 50%; median days to close 3"
        ) in panel
        assert "<table" not in panel  # a table would be one more table for reads to judge
        assert "Fix retry storm (Bob Li, due 2026-03-05)" in panel

    def test_done_list_links_issues(self, report):
        """Done items list with their issue link and close date."""
        panel = render_status_panel(report, "1")
        assert (
            '<li><a href="https://jira.example/browse/OPS-1">OPS-1</a> Add disk alert '
            "(closed 2026-02-03)</li>"
        ) in panel

    def test_all_done_page_gets_a_tip_panel(self):
        """Every item done makes the panel green (tip)."""
        pm = Postmortem(page_id="9", title="t", items=(it("z", "x", row=0, status=Status.DONE),))
        panel = render_status_panel(build_report([pm], [], today=TODAY), "9")
        assert panel.startswith('<ac:structured-macro ac:name="tip">')

    def test_text_is_escaped(self):
        """Summaries and owners are XML-escaped in the panel."""
        late = it("q", "Add <b>bold</b> & more", row=0, owner=Person(text="<i>Eve</i>"),
                  due=dt.date(2026, 3, 1))  # fmt: skip
        report = build_report([Postmortem(page_id="5", title="t", items=(late,))], [], today=TODAY)
        panel = render_status_panel(report, "5")
        assert "Add &lt;b&gt;bold&lt;/b&gt; &amp; more (&lt;i&gt;Eve&lt;/i&gt;, due" in panel

    def test_panel_does_not_change_from_day_to_day(self, report):
        """The panel carries no date, so the same figures give the same bytes."""
        later = build_report(
            [CHECKOUT, LOGIN], ISSUES, today=TODAY + dt.timedelta(days=1), team_map=TEAMS,
            base_url="https://jira.example",
        )  # fmt: skip
        assert render_status_panel(report, "1") == render_status_panel(later, "1")
