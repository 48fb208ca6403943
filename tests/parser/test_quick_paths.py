"""The parser's shortcuts never change a result.

Two shortcuts make big pages fast: usual action rows are read without the general cell
walk (``_PageReader.quick_rows``), and long tables that are not action tables lose their
rows past the first few before lxml builds the tree (``_skim.skim``). Each test here
reads pages with and without a shortcut and expects the same :class:`~pmsync.Postmortem`.
"""

from __future__ import annotations

import functools
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import CELLS, JIRA, LOZENGE, MENTION, cells

from pmsync import Person, Status, parse_page
from pmsync._storage import _skim as skim_module
from pmsync._storage import parse as parse_module
from pmsync._storage._rows import decode
from pmsync._storage._skim import CUT, KEPT_ROWS, ROWS, Verdict, skim
from pmsync._storage._xhtml import read_small, read_storage

OPTIONS = {
    "page_id": "p",
    "vocabulary": parse_module.HeaderVocabulary.build(None),
    "date_order": None,
    "statuses": None,
    "priorities": None,
}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_without_quick_rows(storage: str, **options):
    never = mock.Mock(return_value=False)
    with mock.patch.object(parse_module._PageReader, "quick_rows", return_value=never):
        return parse_page(storage, **options)


def read_without_skim(storage: str, **options):
    with mock.patch.object(parse_module, "skim", return_value=None):
        return parse_page(storage, **options)


# --- quick rows -------------------------------------------------------------------------

ANY_CELL = st.one_of(CELLS, cells().map(lambda cell: cell[4:-5]))  # unwrapped <td>...</td>
EMPTY_CELLS = ["", "<p><br /></p>", "<br />", "<p></p>", " ", "<p>n/a</p>", "<p>-</p>"]
#: Per column: the cells pages usually hold there, then cells that look usual but need
#: the general path or a warning.
COLUMNS: dict[str, tuple[list[str], list[str]]] = {
    "Action item": (
        [
            "<p>Add an alert on queue depth&nbsp;&amp; page the on\u2011call team</p>",
            "Raise the connection pool limit on db-1",
            "<p>Write the runbook</p><p>Include the DNS steps.</p>",
            "<p>Short</p>",
        ],
        [
            "<p>Action item</p>",
            "<p>Owner</p>",
            "<p>- a dash first, long enough to pass</p>",
            "<p>n/a</p><p>Second line is the summary</p>",
            "<p><br /></p><p>Second paragraph is the summary</p>",
            "<div>Text in a div</div>",
            "<p>\u200b</p>",
            "<p>a</p> tail",
            "<p>text<br /></p>",
        ],
    ),
    "Owner": (
        [
            f"<p>{MENTION.format(n=1)}&nbsp;</p>",
            MENTION.format(n=2),
            '<ac:link><ri:user ri:userkey="ff80" /></ac:link>',
        ],
        [
            '<p><ac:link><ri:user ri:username="ann" /></ac:link></p>',
            "<ac:link><ri:user /></ac:link>",
            "<p>Ann</p>",
            "<p>TBD</p>",
            f"<p>{MENTION.format(n=1)} {MENTION.format(n=3)}</p>",
        ],
    ),
    "Due": (
        ["<p><time datetime='2026-12-01' /></p>", "<p>Dec 5, 2026</p>"],
        [
            "<time datetime='2027-01-31' />",
            "<p><time datetime='' /></p>",
            "<p><time datetime='soon' /></p>",
            "<p><time datetime='2026-12-01'>1 Dec</time></p>",
            "2026-02-30",
            "<p>03/04/2026</p>",
            "<p>TBD</p>",
        ],
    ),
    "Priority": (["<p>P1</p>", "High"], ["<p>High per SLO review</p>", "<p>Sev 9</p>"]),
    "Status": (
        [f"<p>{LOZENGE.format(word='Done')}</p>", "<p>Not started</p>"],
        [
            f"<p>{LOZENGE.format(word='Parked')}</p>",
            LOZENGE.format(word="In Review"),
            '<p><ac:structured-macro ac:name="status"></ac:structured-macro></p>',
            f"<p>{JIRA.format(n=2)}</p>",
            "<p>parked</p>",
            "<p>\u2705</p>",
        ],
    ),
    "Jira": (
        [f"<p>{JIRA.format(n=8)}</p>", "DB-7"],
        [
            JIRA.format(n=9),
            '<p><ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">x y'
            "</ac:parameter></ac:structured-macro></p>",
            '<p><ac:structured-macro ac:name="jira"></ac:structured-macro></p>',
            f"<p>{LOZENGE.format(word='Done')}</p>",
            "<p>ops-12</p>",
            "<p>OPS-1 and OPS-2</p>",
            "<p>Bug 5554823 TODO</p>",
            "<p>see the doc</p>",
        ],
    ),
    "Notes": (["<p>storage</p>", "Runbook in the wiki"], ["<p>a</p><p>b</p>", "<div>x</div>"]),
    "Description": (["<p>More words here.</p>"], ["<p>a</p><p>b</p>"]),
}
QUICK_HEADERS = [name for name in COLUMNS if name != "Action item"]


def column_cells(name: str) -> st.SearchStrategy[str]:
    """Mostly usual cells for the column, sometimes tricky, empty or anything at all."""
    common, tricky = COLUMNS[name]
    return st.integers(0, 9).flatmap(
        lambda n: (
            st.sampled_from(common)
            if n < 6
            else st.sampled_from(tricky)
            if n < 8
            else st.sampled_from(EMPTY_CELLS)
            if n < 9
            else ANY_CELL
        )
    )


@st.composite
def quick_tables(draw: st.DrawFn) -> str:
    """An action table of usual and unusual cells, in any column order, with short rows,
    header-like rows and repeated rows now and then."""
    others = draw(st.lists(st.sampled_from(QUICK_HEADERS), min_size=1, max_size=5, unique=True))
    order = draw(st.permutations(["Action item", *others]))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        width = len(order) - (1 if draw(st.integers(0, 7)) == 0 else 0)
        cell = "th" if draw(st.integers(0, 9)) == 0 else "td"
        row = "".join(f"<{cell}>{draw(column_cells(name))}</{cell}>" for name in order[:width])
        rows.append(f"<tr>{row}</tr>")
        if draw(st.integers(0, 5)) == 0:
            rows.append(rows[-1])
    header = "".join(f"<th>{name}</th>" for name in order)
    return f"<h2>Action items</h2><table><tbody><tr>{header}</tr>{''.join(rows)}</tbody></table>"


@SETTINGS
@given(quick_tables(), st.sampled_from([None, "DMY"]))
def test_quick_rows_read_what_the_general_path_reads(table, date_order):
    quick = parse_page(table, page_id="p", date_order=date_order)
    general = read_without_quick_rows(table, page_id="p", date_order=date_order)

    assert quick == general
    assert [item.owner for item in quick.items] == [item.owner for item in general.items]
    assert [(w.code, w.row) for w in quick.warnings] == [(w.code, w.row) for w in general.warnings]


def test_quick_rows_read_the_usual_cells():
    """The usual shapes come out right, not merely the same on both paths."""
    table = (
        "<table><tbody><tr><th>Action item</th><th>Owner</th><th>Due</th><th>Priority</th>"
        "<th>Status</th><th>Jira</th><th>Area</th></tr>"
        "<tr><td><p>Add an alert&nbsp;on queue depth</p><p>Page the on-call.</p></td>"
        f"<td><p>{MENTION.format(n=4)}</p></td><td><p><time datetime='2026-12-01' /></p></td>"
        f"<td>P1</td><td><p>{LOZENGE.format(word='In Progress')}</p></td>"
        f"<td><p>{JIRA.format(n=12)}</p></td><td><p>storage</p></td></tr>"
        "<tr><td>Raise the pool limit</td><td><p><br /></p></td><td>Dec 5, 2026</td>"
        "<td></td><td>Not started</td><td>DB-7</td><td></td></tr></tbody></table>"
    )
    first, second = parse_page(table, page_id="p", columns={"area": ["Area"]}).items

    assert first.summary == "Add an alert on queue depth"
    assert first.description == "Page the on-call."
    assert first.owner == Person(account_id="557058:4")
    assert (first.due.isoformat(), first.priority, first.status) == (
        "2026-12-01",
        "High",
        Status.IN_PROGRESS,
    )
    assert (first.jira_key, first.item_id, dict(first.extra)) == (
        "OPS-12",
        "OPS-12",
        {"area": "storage"},
    )
    assert (second.owner, second.due.isoformat(), second.priority) == (None, "2026-12-05", None)
    assert (second.status, second.jira_key) == (Status.TODO, "DB-7")


# --- skimming long tables -----------------------------------------------------------------

TIMELINE_ROW = (
    "<tr><td><p>{n:04d} UTC</p></td><td><p>Error rates rose on service {n}; the "
    '<a href="https://grafana.example.com/d/{n}">dashboard</a> showed it &mdash; '
    "<strong>no alert fired</strong>.</p></td></tr>"
)


def timeline(rows: int = 200, *, at: dict[int, str] | None = None, head: str = "") -> str:
    """A long two-column table that is not an action table; ``at`` puts extra markup
    into the second cell of the given rows."""
    body = []
    for n in range(rows):
        row = TIMELINE_ROW.format(n=n)
        if at and n in at:
            row = row.replace("</p></td></tr>", f"</p>{at[n]}</td></tr>")
        body.append(row)
    head = head or "<tr><th>Time</th><th>Event</th></tr>"
    return f"<table><tbody>{head}{''.join(body)}</tbody></table>"


def action_table(rows: int = 3, start: int = 0) -> str:
    body = "".join(
        f"<tr><td>Write runbook {n} for the failover drill</td><td>{MENTION.format(n=n)}</td>"
        f"<td>Not started</td></tr>"
        for n in range(start, start + rows)
    )
    return (
        "<table><tbody><tr><th>Action item</th><th>Owner</th><th>Status</th></tr>"
        f"{body}</tbody></table>"
    )


def page(*parts: str) -> str:
    return "<h1>Incident</h1>" + "".join(parts)


def test_skim_cuts_a_long_timeline_and_keeps_everything_else():
    text = page("<h2>Timeline</h2>", timeline(), "<h2>Action items</h2>", action_table())
    skimmed = skim(text, lambda _: Verdict.NO_ITEMS)

    assert skimmed is not None
    assert len(skimmed.text) < len(text) // 4
    assert skimmed.text.count("<tr>") == KEPT_ROWS + 4  # the action table's rows stay
    assert action_table() in skimmed.text
    root = read_storage(skimmed.text).root
    assert len(root.findall(".//" + CUT)) == 1
    assert parse_page(text, page_id="p") == read_without_skim(text, page_id="p")


@pytest.mark.parametrize(
    "inside",
    [
        "<h3>Follow-up</h3>",
        "<ac:task-list><ac:task><ac:task-id>9</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Check the pager</ac:task-body></ac:task></ac:task-list>",
        action_table(2, start=50),
        "<P>shouting</P>",
    ],
    ids=["heading", "task-list", "nested-table", "uppercase"],
)
def test_skim_keeps_a_table_whose_rows_hold_what_the_parser_reads(inside):
    """A heading, task list, nested table or uppercase tag deep in a long table keeps it
    whole, and the page reads the same either way."""
    text = page(
        "<h2>Action items</h2>", timeline(at={150: inside}), action_table(), "<h2>Next steps</h2>"
    )

    assert skim(text, lambda _: Verdict.NO_ITEMS) is None
    assert parse_page(text, page_id="p") == read_without_skim(text, page_id="p")


@pytest.mark.parametrize(
    "text",
    [
        page(timeline(), "<table><tr><td>never closed</td></tr>"),
        page(timeline(), "</table>"),
        page("<table><tr><td>", timeline()),
    ],
    ids=["unclosed", "stray-end", "unclosed-outer"],
)
def test_skim_gives_up_when_table_tags_do_not_pair(text):
    assert skim(text, lambda _: Verdict.NO_ITEMS) is None


def test_a_long_action_table_is_read_from_its_text():
    text = page("<h2>Action items</h2>", action_table(300), timeline())
    skimmed = skim(text, functools.partial(parse_module._settled_by_first_rows, OPTIONS))
    postmortem = parse_page(text, page_id="p")

    assert skimmed is not None
    assert len(skimmed.regions) == 1  # the action table's rows, read from the text
    root = read_storage(skimmed.text).root
    assert len(root.findall(".//" + ROWS)) == 1
    assert len(root.findall(".//" + CUT)) == 1  # the timeline's
    assert len(postmortem.items) == 300
    assert postmortem == read_without_skim(text, page_id="p")


def test_a_header_below_the_rows_kept_keeps_the_table_whole():
    """Blank rows above the header: the first rows settle nothing, so nothing is cut."""
    blanks = "<tr><td></td><td></td><td></td></tr>" * (KEPT_ROWS + 1)
    long_table = action_table(300).replace("<tbody>", f"<tbody>{blanks}", 1)
    text = page(timeline(), long_table)
    postmortem = parse_page(text, page_id="p")

    assert len(postmortem.items) == 300
    assert postmortem == read_without_skim(text, page_id="p")


def test_a_cut_table_that_needs_its_rows_makes_the_reader_read_the_whole_page():
    """The safety net: if a cut ever took an action table's rows, the page is read whole."""
    text = page("<h2>Action items</h2>", action_table(300), timeline())
    skimmed = skim(text, lambda _: Verdict.NO_ITEMS)  # cuts the action table too
    assert skimmed is not None
    reader = parse_module._PageReader(
        page_id="p",
        vocabulary=parse_module.HeaderVocabulary.build(None),
        date_order=None,
        statuses=None,
        priorities=None,
        skimmed=skimmed,
    )

    with pytest.raises(parse_module._ReadWholePage):
        reader.read(read_storage(skimmed.text).root)


def test_broken_markup_outside_the_cut_rows_is_still_reported():
    text = page(timeline(), "<p>Tom & Jerry</p>", action_table())
    postmortem = parse_page(text, page_id="p")

    assert [w.code for w in postmortem.warnings] == ["broken-markup"]
    assert len(postmortem.items) == 3


def test_broken_markup_inside_the_cut_rows_changes_no_item():
    """The cut rows are not parsed: a stray & there is not reported, and the items are
    the ones a lenient reading of the whole page finds."""
    text = page(timeline(at={120: "<p>Tom & Jerry<br></p>"}), action_table())
    skimmed = parse_page(text, page_id="p")
    whole = read_without_skim(text, page_id="p")

    assert skimmed.items == whole.items
    assert [w.code for w in whole.warnings] == ["broken-markup"]
    assert skimmed.warnings == ()


# --- pages with long tables of every kind ---------------------------------------------------

EXTRAS = st.sampled_from(
    [
        "",
        "<h3>Aside</h3>",
        "<hr />",
        "<![CDATA[</tr></table>]]>",
        "<!-- </tr> -->",
        "<ac:task-list><ac:task><ac:task-id>4</ac:task-id><ac:task-body>Ping Bob</ac:task-body>"
        "</ac:task></ac:task-list>",
        "<table><tr><td>inner</td></tr></table>",
        "<TABLE><TR><TD>upper</TD></TR></TABLE>",
        "<?pi x?>",
        "table",
        "&lt;table&gt;",
        "<p>Owner: Ann &amp; Bob</p>",
    ]
)
HEADS = st.sampled_from(
    [
        "<tr><th>Time</th><th>Event</th></tr>",
        "<tr><td></td><td></td></tr>" * (KEPT_ROWS + 1),
        "<tr><th>Action item</th><th>Owner</th></tr>",
        "<tr><td><strong>Action</strong></td><td><strong>Owner</strong></td></tr>",
        "",
    ]
)


@st.composite
def long_pages(draw: st.DrawFn) -> str:
    parts = ["<h1>Incident</h1>"]
    for _ in range(draw(st.integers(1, 3))):
        heading = draw(st.sampled_from(["", "<h2>Timeline</h2>", "<h2>Action items</h2>"]))
        kind = draw(st.sampled_from(["timeline", "actions", "long-actions", "tasks"]))
        if kind == "timeline":
            at = {draw(st.integers(0, 239)): draw(EXTRAS) for _ in range(draw(st.integers(0, 3)))}
            table = timeline(240, at=at, head=draw(HEADS))
            if draw(st.booleans()):
                table = table.replace("<tbody>", "<thead>", 1).replace(
                    "</th></tr>", "</th></tr></thead><tbody>", 1
                )
            parts.append(heading + table)
        elif kind == "tasks":
            parts.append(
                heading + "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-body>"
                "Rotate the keys</ac:task-body></ac:task></ac:task-list>"
            )
        else:
            rows = 3 if kind == "actions" else 150
            parts.append(heading + action_table(rows, start=draw(st.integers(0, 9))))
    return "".join(parts)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(long_pages())
def test_skimming_never_changes_a_well_formed_page(text):
    whole = read_without_skim(text, page_id="p")
    if any(warning.code == "broken-markup" for warning in whole.warnings):
        return  # covered by the broken-markup tests above
    assert parse_page(text, page_id="p") == whole


def test_a_repeated_header_row_of_plain_cells_is_not_an_item():
    """Every cell of this row is quick to read ("Priority" is a priority as written),
    so only the header check keeps it from becoming an item."""
    table = (
        "<table><tbody><tr><th>Action item</th><th>Priority</th></tr>"
        "<tr><td>Rotate the signing keys</td><td>P1</td></tr>"
        "<tr><th>Action item</th><th>Priority</th></tr>"
        "<tr><td>Alert on queue depth</td><td>low</td></tr></tbody></table>"
    )
    postmortem = parse_page(table, page_id="p")

    assert [(item.summary, item.priority) for item in postmortem.items] == [
        ("Rotate the signing keys", "High"),
        ("Alert on queue depth", "Low"),
    ]
    assert [(w.code, w.row) for w in postmortem.warnings] == [("repeated-header", 1)]


# --- long action tables, read from their text ---------------------------------------------

#: Pieces of hole text: words, entities good and bad, and what XML refuses.
HOLE_PIECES = [
    "Rotate",
    " keys ",
    "OPS-12",
    "P1",
    "Done",
    "In Progress",
    "2026-12-01",
    "Dec 5, 2026",
    "03/04/2026",
    "n/a",
    "Action item",
    "Owner",
    "&amp;",
    "&nbsp;",
    "&rsquo;",
    "&#8217;",
    "&#x41;",
    "&apos;",
    "\u2019",
    "\u200b",
    "\xa0",
    "\t",
    "\r\n",
    ">",
    "'",
]
#: Pieces that lxml refuses: the page is then read whole, leniently.
BAD_PIECES = ["&foo;", "&#0;", "&", "]]>", "\x01", "<", "\ufffe", "\ud800"]
HOLE_TEXT = st.lists(
    st.integers(0, 39).flatmap(lambda n: st.sampled_from(BAD_PIECES if n == 0 else HOLE_PIECES)),
    max_size=4,
).map("".join)
ID_TEXT = st.sampled_from(
    ["557058:1", " 557058:2 ", "", "557058:3", "ff80", "ann", "ff80&amp;1", "a\tb"]
)
GAP_TEXT = st.sampled_from(["", "", "", "&nbsp;", " ", "\n", "&#160;", "x", "&bad;"])
#: Cell shapes with holes: {t} text, {i} an id, {g} a gap, {d} a date.
SHAPES = {
    "Action item": [
        "<p>{t} runbook {t}</p>",
        "Write the runbook {t}",
        '<p local-id="{i}">Alert on queue depth {t}</p>',
        "<p>Alert {t}</p><p>{t}</p>",
        "<p>Alert {t}</p>{g}",
        "{g}<p>{t}</p>",
    ],
    "Owner": [
        '<p><ac:link><ri:user ri:account-id="{i}" /></ac:link>{g}</p>',
        '<ac:link><ri:user ri:userkey="{i}" ri:username="{i}" /></ac:link>',
        "<p>{t}</p>",
        "<p><br /></p>",
    ],
    "Due": ['<p><time datetime="{d}" /></p>', '<time datetime="{d}"></time>', "<p>{d}</p>"],
    "Status": [
        '<p><ac:structured-macro ac:name="status" ac:macro-id="{i}"><ac:parameter '
        'ac:name="title">{t}</ac:parameter><ac:parameter ac:name="colour">{t}</ac:parameter>'
        "</ac:structured-macro></p>",
        "<p>{t}</p>",
    ],
    "Jira": [
        '<p><ac:structured-macro ac:name="jira"><ac:parameter ac:name="server">{t}'
        '</ac:parameter><ac:parameter ac:name=" key ">{t}</ac:parameter>'
        "</ac:structured-macro></p>",
        "{t}",
    ],
}
#: Cells that make a page read whole, or that the rows read as text must read the same.
ODD_CELLS = [
    "<p>{t}</p><h3>Aside</h3>",
    "<ac:task-list><ac:task><ac:task-id>7</ac:task-id><ac:task-body>Ping {t}</ac:task-body>"
    "</ac:task></ac:task-list>",
    "<P>{t}</P>",
    '<p COLSPAN="2">{t}</p>',
    "<p>{t}<!-- </tr> --></p>",
    "<p>{t}<!-- note --></p>",
    "<![CDATA[</tr>]]>",
    "<![CDATA[a < b]]>",
    "<p>{t}</p><?pi x?>",
    "<table><tr><td>inner {t}</td></tr></table>",
    "<p><strong>{t}</strong></p>",
    "<p>{t}</td>",
]
DATES = st.sampled_from(["2026-12-01", " 2027-01-31 ", "", "soon", "Dec 5, 2026", "03/04/2026"])
CELL_TAGS = st.sampled_from(
    ['<td colspan="1">', "<th>", '<td rowspan="2">', "<td class='x'>", '<td COLSPAN="2">']
)


@st.composite
def long_action_tables(draw: st.DrawFn) -> str:
    """An action table whose rows repeat a few shapes with different words, ids, dates
    and entities in them (good and bad), then a timeline."""
    order = draw(st.permutations(list(SHAPES)))
    shapes = [
        [draw(st.sampled_from(SHAPES[name])) for name in order]
        for _ in range(draw(st.integers(1, 3)))
    ]
    rows = []
    for _ in range(draw(st.integers(KEPT_ROWS + 1, KEPT_ROWS + 14))):
        cells = []
        for usual in draw(st.sampled_from(shapes)):
            odd = draw(st.integers(0, 59)) == 0
            shape = draw(st.sampled_from(ODD_CELLS)) if odd else usual
            tag = draw(CELL_TAGS) if draw(st.integers(0, 29)) == 0 else "<td>"
            closing = "</th>" if tag == "<th>" else "</td>"
            inner = shape.format(
                t=draw(HOLE_TEXT), i=draw(ID_TEXT), g=draw(GAP_TEXT), d=draw(DATES)
            )
            cells.append(f"{tag}{inner}{closing}")
        if draw(st.integers(0, 9)) == 0:
            cells.pop()  # a short row
        rows.append(f"{draw(st.sampled_from(['', '', ' ', chr(10)]))}<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th>{name}</th>" for name in order)
    intro = draw(st.sampled_from(["", "<p>Intro</p>", "<P>Intro</P>"]))
    return (
        f"{intro}<h2>Action items</h2><table><tbody><tr>{header}</tr>{''.join(rows)}"
        f"</tbody></table>{timeline(8)}"
    )


def skim_everything():
    """Small pages and tables get skimmed too, so that short examples reach the rows
    read from text."""
    return mock.patch.multiple(skim_module, SHORTEST_PAGE=0, SHORTEST_CUT=0)


@SETTINGS
@given(long_action_tables(), st.sampled_from([None, "DMY"]))
def test_rows_read_from_text_are_the_rows_lxml_reads(table, date_order):
    whole = read_without_skim(table, page_id="p", date_order=date_order)
    with skim_everything():
        from_text = parse_page(table, page_id="p", date_order=date_order)

    assert from_text == whole
    assert [item.owner for item in from_text.items] == [item.owner for item in whole.items]
    assert [(w.code, w.row) for w in from_text.warnings] == [
        (w.code, w.row) for w in whole.warnings
    ]


@pytest.mark.parametrize(
    "bad", ["\ufffe", "\ud800", "\x01", "&foo;", "&#0;", "&#xD800;", "]]>", " & ", "<b>"]
)
def test_a_row_read_as_text_with_what_xml_refuses_makes_the_page_read_leniently(bad):
    """Deep in a long action table, past the rows kept in the tree: the page is read
    whole and leniently, with its warning, as if there were no shortcut."""
    text = page(
        "<h2>Action items</h2>",
        action_table(300).replace("runbook 150 ", f"runbook 150 {bad}"),
        timeline(),
    )
    postmortem = parse_page(text, page_id="p")

    assert "broken-markup" in [w.code for w in postmortem.warnings]
    assert postmortem == read_without_skim(text, page_id="p")


def test_rows_read_as_text_keep_their_numbers_and_identities():
    """Rows past the kept ones, some read from templates and some by lxml (a bold
    summary, a text owner), come out in order with the numbers and ids of a whole read."""
    table = action_table(300)
    table = table.replace("<td>Write runbook 120 ", "<td><strong>Write</strong> runbook 120 ")
    table = table.replace(MENTION.format(n=200), "Platform team")
    table = table.replace("runbook 250 for the failover drill", "runbook 7 for the failover drill")
    text = page("<h2>Action items</h2>", table, timeline())
    skimmed = skim(text, functools.partial(parse_module._settled_by_first_rows, OPTIONS))
    postmortem = parse_page(text, page_id="p")

    assert skimmed is not None
    assert skimmed.regions
    assert [item.row for item in postmortem.items] == list(range(300))
    assert postmortem.items[200].owner == Person(text="Platform team")
    assert postmortem.items[250].item_id != postmortem.items[7].item_id  # occurrence 2
    assert postmortem == read_without_skim(text, page_id="p")


REFERENCE_PIECES = st.sampled_from(
    [
        *("a", " ", "&amp;", "&nbsp;", "&lt;", "&gt;", "&quot;", "&apos;", "&rsquo;", "&mdash;"),
        *("&#65;", "&#x42;", "&#0;", "&#xD800;", "&#1114111;", "&#1114112;", "&foo;", "&", ";"),
        *("amp;", "nbsp;", "]]>", ">", "&eacute;", "&Eacute;", "&#9;", "&#13;"),
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(REFERENCE_PIECES, max_size=6).map("".join))
def test_template_text_decodes_as_lxml_reads_it(text):
    """A template's text hole means what lxml makes of the same text, or is refused."""
    tree = read_small(f"<p>{text}</p>")
    assert decode(text) == (None if tree is None else tree[0].text or "")


def test_a_long_table_of_usual_rows_is_read_from_templates_without_lxml():
    """The shortcut works: past the rows kept, no row of a table of usual rows goes to
    lxml (only the first rows of the two long tables are parsed on their own)."""
    text = page("<h2>Action items</h2>", action_table(300), timeline())
    with mock.patch.object(
        parse_module, "_small_table", side_effect=parse_module._small_table
    ) as parsed:
        postmortem = parse_page(text, page_id="p")

    assert len(postmortem.items) == 300
    assert parsed.call_count == 2
