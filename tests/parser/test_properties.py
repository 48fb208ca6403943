"""Properties that hold for any page: hypothesis generates and mutates pages."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pmsync import ParseError, parse_page
from pmsync._storage._content import read_content
from pmsync._storage._xhtml import read_storage

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.xml"))
PAGES = [path.read_text(encoding="utf-8") for path in FIXTURES]

SETTINGS = settings(
    max_examples=120,
    deadline=None,  # shared CI machines stall now and then; speed is measured elsewhere
    suppress_health_check=[HealthCheck.too_slow],
)

MENTION = '<ac:link><ri:user ri:account-id="557058:{n}" /></ac:link>'
LOZENGE = (
    '<ac:structured-macro ac:name="status"><ac:parameter ac:name="title">{word}'
    '</ac:parameter><ac:parameter ac:name="colour">Blue</ac:parameter></ac:structured-macro>'
)
JIRA = (
    '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="server">S</ac:parameter>'
    '<ac:parameter ac:name="key">OPS-{n}</ac:parameter></ac:structured-macro>'
)

#: Pieces of real storage markup, well-formed or not, that pages are made of.
FRAGMENTS = [
    "<p>",
    "</p>",
    "<table>",
    "</table>",
    "<tbody>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    "<th>",
    "</th>",
    '<td colspan="2">',
    '<td rowspan="3">',
    '<td rowspan="0">',
    '<td colspan="x">',
    "<thead>",
    "<br>",
    "<br/>",
    "<strong>",
    "</strong>",
    "<h2>Action items</h2>",
    "<h3>Review</h3>",
    "<ac:task-list>",
    "</ac:task-list>",
    "<ac:task>",
    "</ac:task>",
    "<ac:task-id>1</ac:task-id>",
    "<ac:task-status>complete</ac:task-status>",
    "<ac:task-body>",
    "</ac:task-body>",
    MENTION.format(n=1),
    LOZENGE.format(word="Done"),
    JIRA.format(n=1),
    '<time datetime="2026-02-30" />',
    '<time datetime="2026-12-15" />',
    "<![CDATA[<table>]]>",
    "<!-- <table> -->",
    "&nbsp;",
    "&",
    "&bogus;",
    "&#0;",
    "&#x110000;",
    "<",
    ">",
    '"',
    "<ac:structured-macro ac:name=",
    "<ri:user ri:userkey='k'>",
    "<foo:bar x:y='1'>",
    "<?xml version='1.0'?>",
    "<!DOCTYPE x>",
    "Action item",
    "Owner",
    "Due",
    "Status",
    "Jira",
    "Fix it",
    "03/04/2026",
    "done",
    "\x00",
    "\ud800",
]

markup = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)), max_size=60).map(
    "".join
)


def parse_or_parse_error(storage: str) -> None:
    """parse_page returns a Postmortem or raises ParseError; nothing else escapes."""
    try:
        postmortem = parse_page(storage, page_id="p")
    except ParseError:
        return
    for item in postmortem.items:
        assert item.summary
        assert item.item_id


@SETTINGS
@given(markup)
def test_random_markup_raises_nothing_but_parse_error(storage):
    """Any mix of real and broken markup is read, or refused with ParseError."""
    parse_or_parse_error(storage)


@SETTINGS
@given(st.text(max_size=200))
def test_random_text_raises_nothing_but_parse_error(storage):
    """Arbitrary text, control characters and surrogates included."""
    parse_or_parse_error(storage)


@st.composite
def mutated_pages(draw: st.DrawFn) -> str:
    """A fixture page with slices deleted, duplicated or replaced by fragments."""
    page = draw(st.sampled_from(PAGES))
    for _ in range(draw(st.integers(1, 6))):
        start = draw(st.integers(0, len(page)))
        end = draw(st.integers(start, min(len(page), start + 80)))
        action = draw(st.sampled_from(["delete", "duplicate", "replace"]))
        if action == "delete":
            page = page[:start] + page[end:]
        elif action == "duplicate":
            page = page[:end] + page[start:end] + page[end:]
        else:
            page = page[:start] + draw(st.sampled_from(FRAGMENTS)) + page[end:]
    return page


@SETTINGS
@given(mutated_pages())
def test_mutated_pages_raise_nothing_but_parse_error(storage):
    """Real pages cut, doubled and spliced at random still read or refuse cleanly."""
    parse_or_parse_error(storage)


# --- every row is an item or a warning ------------------------------------------------

CELLS = st.sampled_from(
    [
        "",
        "<p><br /></p>",
        "Fix it",
        "<p>Rotate the keys</p><p>more</p>",
        "TBD",
        "-",
        MENTION.format(n=7),
        LOZENGE.format(word="In progress"),
        LOZENGE.format(word="Parked"),
        JIRA.format(n=3),
        "OPS-9",
        '<time datetime="2026-10-01" />',
        "03/04/2026",
        "soon",
        "parked",
        "Ann, Bob",
        "<strong>Action</strong>",
    ]
)
HEADERS = ["Action item", "Owner", "Due", "Status", "Jira", "Priority", "Notes"]


@st.composite
def action_tables(draw: st.DrawFn) -> tuple[str, dict[int, str]]:
    """An action table and, per body row, what it is: ``empty``, ``label`` or ``row``."""
    qualifying = draw(st.sampled_from(HEADERS[1:6]))
    others = draw(st.lists(st.sampled_from(HEADERS[1:]), max_size=5, unique=True))
    headers = ["Action item", qualifying, *(name for name in others if name != qualifying)]
    order = draw(st.permutations(headers))
    width = len(order)
    rows = []
    kinds = {}
    for number in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 9)) == 0:
            rows.append(f'<tr><td colspan="{width}"><strong>Section {number}</strong></td></tr>')
            kinds[number] = "label"
            continue
        cells = [draw(CELLS) for _ in range(width)]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        blank = all(cell in ("", "<p><br /></p>") for cell in cells)
        kinds[number] = "empty" if blank else "row"
    header = "".join(f"<th>{name}</th>" for name in order)
    table = f"<h2>Action items</h2><table><tbody><tr>{header}</tr>{''.join(rows)}</tbody></table>"
    return table, kinds


@SETTINGS
@given(action_tables())
def test_every_non_empty_row_is_an_item_or_a_warning(table_and_kinds):
    """Nothing is lost silently: each non-empty body row gives an item or a warning
    (a section label is recorded on the items below it)."""
    table, kinds = table_and_kinds
    postmortem = parse_page(table, page_id="p")
    accounted = {item.row for item in postmortem.items}
    accounted |= {warning.row for warning in postmortem.warnings if warning.table == 0}

    for number, kind in kinds.items():
        if kind == "row":
            assert number in accounted, (number, table)
        else:
            assert number not in {item.row for item in postmortem.items}


@SETTINGS
@given(action_tables())
def test_item_ids_are_unique_on_a_page(table_and_kinds):
    """No two items of a page share an identity, duplicates included."""
    postmortem = parse_page(table_and_kinds[0] * 2, page_id="p")
    ids = [item.item_id for item in postmortem.items]

    assert len(set(ids)) == len(ids)


@SETTINGS
@given(action_tables())
def test_reading_is_deterministic(table_and_kinds):
    """The same text always gives the same result."""
    assert parse_page(table_and_kinds[0], page_id="p") == parse_page(
        table_and_kinds[0], page_id="p"
    )


# --- fast paths and skimming never change a result -------------------------------------

INLINE = st.sampled_from(
    [
        "text",
        " ",
        "\u200b",
        "&nbsp;",
        "<br/>",
        "<p>para</p>",
        "<p></p>",
        "<p><br /></p>",
        "<span>span</span>",
        "<strong>bold</strong>",
        "<s>old</s>",
        "<ul><li>one</li><li>two</li></ul>",
        MENTION.format(n=3),
        '<ac:link><ri:page ri:content-title="Page" /></ac:link>',
        '<ac:link><ri:user ri:userkey="k" /><ac:link-body>Kay</ac:link-body></ac:link>',
        LOZENGE.format(word="Done"),
        JIRA.format(n=5),
        '<ac:structured-macro ac:name="jira"></ac:structured-macro>',
        '<ac:structured-macro ac:name=" Status "><ac:parameter ac:name="title">x'
        "</ac:parameter></ac:structured-macro>",
        '<ac:structured-macro ac:name="info"><ac:rich-text-body><p>in</p></ac:rich-text-body>'
        "</ac:structured-macro>",
        '<time datetime="2026-01-02" />',
        '<time datetime="2026-01-02">Jan 2</time>',
        "<time />",
        '<a href="mailto:a@example.com">A</a>',
        '<a href="https://x/browse/OPS-1">OPS-1</a>',
        '<ac:emoticon ac:name="tick" />',
    ]
)


@st.composite
def cells(draw: st.DrawFn) -> str:
    """A table cell of one to four pieces, maybe wrapped in a paragraph or a div."""
    inner = "".join(draw(st.lists(INLINE, min_size=0, max_size=4)))
    wrapper = draw(st.sampled_from(["{}", "<p>{}</p>", "<div><p>{}</p></div>", " {} "]))
    return "<td>" + wrapper.format(inner) + "</td>"


@settings(max_examples=300, deadline=None)
@given(cells())
def test_cell_shortcuts_read_what_the_full_walk_reads(cell):
    """The fast paths for usual cell shapes agree with the general walker."""
    element = read_storage(cell).root[0]
    assert etree.QName(element).localname == "td"

    assert read_content(element, shortcuts=False) == read_content(element)
