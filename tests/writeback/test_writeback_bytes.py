"""Property: write-back changes only the cells and task parts it writes, byte for byte.

Pages are generated with the markup that round-trip tools damage: random attributes,
``ac:local-id`` and ``ac:macro-id`` values, mentions written self-closing or with an end
tag, inline comment markers, entities, CDATA holding table markup, comments, ``<br>``
without an end tag, nested tables, merged cells and task lists.
"""

from __future__ import annotations

import html

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from pmsync import ItemTable, Status, parse_page
from pmsync._storage._scan import Element, read, scan, table_rows
from pmsync._storage.edit import RowUpdate, TaskUpdate, WriteBack, _Grid, write_back

KEYS = ["OPS-1", "OPS-2", "INC-10", "ABC_D-7"]
STATUSES = ["To Do", "In Progress", "Done", "Won't Do", 'Q&A "review"']
ENTITIES = ["&nbsp;", "&rsquo;", "&amp;", "&lt;", "&mdash;", "&#160;", "&quot;"]
WORDS = ["fix", "the", "pager", "DONE", "n/a", "Bug 5554823", "OPS-1", "→", "TODO", "wip"]

local_ids = st.uuids().map(str)
words = st.lists(st.sampled_from(WORDS + ENTITIES), min_size=1, max_size=4).map(" ".join)


@st.composite
def attributes(draw: st.DrawFn) -> str:
    found = []
    if draw(st.booleans()):
        found.append(f' ac:local-id="{draw(local_ids)}"')
    if draw(st.booleans()):
        found.append(' data-highlight-colour="#f4f5f7"')
    if draw(st.booleans()):
        found.append(" title='a > b &amp; c'")
    if draw(st.booleans()):
        found.append(' class="confluenceTd"')
    return "".join(draw(st.permutations(found)))


@st.composite
def inline(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return f'<ac:link><ri:user ri:account-id="557058:{draw(local_ids)}" /></ac:link>'
    if kind == 1:
        return '<ac:link><ri:user ri:userkey="ff8080814a03762b"></ri:user></ac:link>'
    if kind == 2:
        ref = draw(local_ids)
        return f'<ac:inline-comment-marker ac:ref="{ref}">{draw(words)}</ac:inline-comment-marker>'
    if kind == 3:
        return (
            '<ac:structured-macro ac:name="code" ac:schema-version="1" '
            f'ac:macro-id="{draw(local_ids)}"><ac:plain-text-body><![CDATA[</td></tr><tr><td>'
            "]]></ac:plain-text-body></ac:structured-macro>"
        )
    if kind == 4:
        return "<!-- </table> <td> -->"
    if kind == 5:
        return '<time datetime="2026-03-01" />'
    if kind == 6:
        return f"<strong>{draw(words)}</strong>"
    if kind == 7:
        return '<ac:emoticon ac:name="blue-star" ac:emoji-id="1f5d3" />'
    return draw(words)


@st.composite
def cell_content(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 7))
    if kind == 0:
        return draw(st.sampled_from(["", "<br />", "<br/>", "<p><br /></p>", "<p />", " "]))
    if kind == 1:
        return f"<p>{draw(jira_macro())}</p>"
    if kind == 2:
        return f"<p>{draw(status_macro())}</p>"
    if kind == 3:
        return "<br>"  # HTML style, no end tag
    if kind == 4:
        return '<a href="https://acme.atlassian.net/browse/OPS-2">OPS-2</a>'
    pieces = draw(st.lists(inline(), min_size=1, max_size=3))
    return f"<p>{''.join(pieces)}</p>" if draw(st.booleans()) else "".join(pieces)


@st.composite
def jira_macro(draw: st.DrawFn) -> str:
    return (
        '<ac:structured-macro ac:name="jira" ac:schema-version="1" '
        f'ac:macro-id="{draw(local_ids)}">'
        '<ac:parameter ac:name="server">System JIRA</ac:parameter>'
        f'<ac:parameter ac:name="key">{draw(st.sampled_from(KEYS))}</ac:parameter>'
        "</ac:structured-macro>"
    )


@st.composite
def status_macro(draw: st.DrawFn) -> str:
    params = [
        f'<ac:parameter ac:name="title">{html.escape(draw(st.sampled_from(STATUSES)), quote=False)}'
        "</ac:parameter>"
    ]
    if draw(st.booleans()):
        colour = draw(st.sampled_from(["Green", "Blue", "Grey", "Red"]))
        params.append(f'<ac:parameter ac:name="colour">{colour}</ac:parameter>')
    return (
        '<ac:structured-macro ac:name="status" ac:schema-version="1" '
        f'ac:local-id="{draw(local_ids)}">'
        + "".join(draw(st.permutations(params)))
        + "</ac:structured-macro>"
    )


@attrs.frozen
class GeneratedPage:
    storage: str
    table: ItemTable
    body_rows: int
    task_ids: tuple[str, ...]


HEADERS = {"summary": "Action item", "owner": "Owner", "ticket": "Ticket", "status": "Status"}


@st.composite
def pages(draw: st.DrawFn, *, allow_uppercase: bool = True) -> GeneratedPage:
    fields = ["summary", "owner"] + [f for f in ("ticket", "status") if draw(st.booleans())]
    fields = draw(st.permutations(fields))
    width = len(fields)
    # Storage format is lowercase; the scanner also accepts HTML's uppercase tags.
    upper = allow_uppercase and draw(st.booleans())
    td, th, tr = ("TD", "TH", "TR") if upper else ("td", "th", "tr")
    bold_td_header = draw(st.booleans())
    header_cells = "".join(
        f"<td><strong>{HEADERS[field]}</strong></td>"
        if bold_td_header
        else f"<{th}{draw(attributes())}>{HEADERS[field]}</{th}>"
        for field in fields
    )
    rows = []
    title_rows = 0
    if draw(st.booleans()):
        rows.append(f'<{tr}><{th} colspan="{width}">Title</{th}></{tr}>')
        title_rows = 1
    rows.append(f"<{tr}{draw(attributes())}>{header_cells}</{tr}>")
    body_rows = draw(st.integers(1, 5))
    covered = False  # the owner cell of this row is covered by a rowspan from above
    for index in range(body_rows):
        if width > 1 and not covered and draw(st.integers(0, 5)) == 0:
            rows.append(f'<{tr}><{td} colspan="{width}"><strong>Section</strong></{td}></{tr}>')
        cells = []
        spans_down = not covered and index + 1 < body_rows and draw(st.integers(0, 4)) == 0
        for field in fields:
            if field == "owner" and covered:
                continue
            span = ' rowspan="2"' if field == "owner" and spans_down else ""
            nested = ""
            if field == "summary" and draw(st.integers(0, 5)) == 0:
                nested = "<table><tbody><tr><td>inner</td></tr></tbody></table>"
            content = draw(cell_content()) + nested
            cells.append(f"<{td}{span}{draw(attributes())}>{content}</{td}>")
        rows.append(f"<{tr}{draw(attributes())}>{''.join(cells)}</{tr}>")
        covered = spans_down
    colgroup = "<colgroup>" + "<col />" * width + "</colgroup>" if draw(st.booleans()) else ""
    table = (
        f'<table data-layout="default" ac:local-id="{draw(local_ids)}">{colgroup}'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    task_ids = tuple(str(n) for n in range(draw(st.integers(0, 3))))
    tasks = "".join(
        f"<ac:task>\n<ac:task-id>{n}</ac:task-id>\n<ac:task-status>incomplete</ac:task-status>\n"
        f"<ac:task-body>{draw(inline())}</ac:task-body>\n</ac:task>\n"
        for n in task_ids
    )
    task_list = f"<ac:task-list>\n{tasks}</ac:task-list>" if task_ids else ""
    before = draw(st.sampled_from(["", "<p>Intro&nbsp;&rsquo;</p>", "<h2>Action items</h2>"]))
    storage = f"{before}{table}<p>between</p>{task_list}<p>end</p>"
    columns = {field: position for position, field in enumerate(fields)}
    return GeneratedPage(storage, ItemTable(0, title_rows, columns, width), body_rows, task_ids)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[GeneratedPage, list[RowUpdate | TaskUpdate]]:
    page = draw(pages())
    updates: list[RowUpdate | TaskUpdate] = []
    item_rows = _item_rows(page)
    for row in draw(st.lists(st.integers(0, len(item_rows) + 1), max_size=4)):
        updates.append(
            RowUpdate(
                0,
                row,
                jira_key=draw(st.none() | st.sampled_from(KEYS)),
                status=draw(st.none() | st.sampled_from(STATUSES)),
                category=draw(st.none() | st.sampled_from(list(Status))),
            )
        )
    for index in draw(st.lists(st.integers(0, len(page.task_ids)), max_size=3)):
        task_id = page.task_ids[index] if index < len(page.task_ids) else "99"
        updates.append(
            TaskUpdate(
                0,
                index,
                task_id,
                jira_key=draw(st.none() | st.sampled_from(KEYS)),
                done=draw(st.none() | st.booleans()),
            )
        )
    return page, updates


def _item_rows(page: GeneratedPage) -> list[Element]:
    rows = table_rows(scan(page.storage).tables[0])
    return rows[page.table.header_row + 1 :]


def allowed_regions(storage: str, table: ItemTable) -> list[tuple[int, int]]:
    """Where write-back may write: ticket/status cell contents, row ends, the colgroup's end,
    colspan values, and the status and body of tasks."""
    document = scan(storage)
    element = document.tables[0]
    grid = _Grid(storage, element)
    regions: list[tuple[int, int]] = []
    targets = {table.columns[f] for f in ("ticket", "status") if f in table.columns}
    for r, row in enumerate(grid.rows):
        regions.append((row.close_start, row.close_start))
        for slot in grid.cells[r]:
            if slot.col in targets:
                regions.append((slot.cell.open_end, slot.cell.close_start))
            colspan = slot.cell.attributes(storage).get("colspan")
            if colspan is not None:
                regions.append((colspan.value_start, colspan.value_end))
    for child in element.children:
        if child.name == "colgroup":
            regions.append((child.close_start, child.close_start))
    for task_list in document.task_lists:
        for task in task_list.child_elements("ac:task"):
            for part in task.children:
                if part.name in {"ac:task-status", "ac:task-body"}:
                    regions.append((part.open_end, part.close_start))
    return regions


def strip_edits(original: str, result: WriteBack) -> tuple[str, str]:
    """Both texts with the written spans removed."""
    old_pieces, new_pieces = [], []
    old_pos = new_pos = 0
    for edit in result.edits:
        kept = edit.start - old_pos
        old_pieces.append(original[old_pos : edit.start])
        new_pieces.append(result.storage[new_pos : new_pos + kept])
        old_pos = edit.end
        new_pos += kept + len(edit.text)
    old_pieces.append(original[old_pos:])
    new_pieces.append(result.storage[new_pos:])
    return "".join(old_pieces), "".join(new_pieces)


_DTD = (
    '<!DOCTYPE root [<!ENTITY nbsp "&#160;"> <!ENTITY rsquo "&#8217;"> <!ENTITY mdash "&#8212;">]>'
)


def xml_tree(storage: str) -> etree._Element | None:
    """The page as XML when it is well-formed XML (``<br>`` without an end tag is not)."""
    wrapped = (
        f'{_DTD}<root xmlns:ac="http://atlassian.com/content" '
        f'xmlns:ri="http://atlassian.com/resource/identifier">{storage}</root>'
    )
    parser = etree.XMLParser(strip_cdata=False, resolve_entities=True, load_dtd=False)
    try:
        return etree.fromstring(wrapped.encode(), parser)
    except etree.XMLSyntaxError:
        return None


def cell_after(result: WriteBack, field: str, update: RowUpdate) -> Element | None:
    storage = result.storage
    table = result.tables[0]
    grid = _Grid(storage, scan(storage).tables[0])
    slot = grid.slots[table.header_row + 1 + update.row].get(table.columns[field])
    return None if slot is None else slot.cell


def lozenge_titles(storage: str, cell: Element) -> list[str]:
    titles = []
    for macro in cell.descendants():
        if (
            macro.name == "ac:structured-macro"
            and 'ac:name="status"' in storage[macro.start : macro.open_end]
        ):
            for parameter in macro.child_elements("ac:parameter"):
                if 'ac:name="title"' in storage[parameter.start : parameter.open_end]:
                    titles.append(html.unescape(parameter.content(storage)))
    return titles


PROPERTY = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(scenarios())
def test_text_outside_the_written_spans_is_unchanged(scenario):
    page, updates = scenario

    result = write_back(page.storage, [page.table], updates)

    before, after = strip_edits(page.storage, result)
    assert before == after


@PROPERTY
@given(scenarios())
def test_every_edit_lies_inside_a_writable_region(scenario):
    page, updates = scenario
    regions = allowed_regions(page.storage, page.table)

    result = write_back(page.storage, [page.table], updates)

    for edit in result.edits:
        assert any(start <= edit.start <= edit.end <= stop for start, stop in regions), edit


@PROPERTY
@given(scenarios())
def test_written_page_still_scans_and_stays_well_formed(scenario):
    page, updates = scenario

    result = write_back(page.storage, [page.table], updates)

    scan(result.storage)
    if xml_tree(page.storage) is not None:
        assert xml_tree(result.storage) is not None


@PROPERTY
@given(scenarios())
def test_written_keys_and_statuses_are_found_in_their_cells(scenario):
    page, updates = scenario

    result = write_back(page.storage, [page.table], updates)

    refused = {id(skip.update) for skip in result.skipped}
    for update in result.written:
        if not isinstance(update, RowUpdate) or id(update) in refused:
            continue
        if update.jira_key is not None:
            cell = cell_after(result, "ticket", update)
            assert cell is not None
            keys = read(result.storage, [(cell.open_end, cell.close_start)]).keys
            assert update.jira_key in keys
        if update.status is not None:
            cell = cell_after(result, "status", update)
            assert cell is not None
            assert update.status in lozenge_titles(result.storage, cell)


@PROPERTY
@given(scenarios())
def test_writing_the_same_updates_again_changes_nothing(scenario):
    page, updates = scenario
    first = write_back(page.storage, [page.table], updates)

    second = write_back(first.storage, first.tables, updates)

    assert first.storage == second.storage


@PROPERTY
@given(scenarios())
def test_added_columns_are_covered_in_every_row_and_headed_by_their_name(scenario):
    page, updates = scenario

    result = write_back(page.storage, [page.table], updates)

    new = result.tables[0]
    grid = _Grid(result.storage, scan(result.storage).tables[0])
    assert new.width == grid.width
    for r in range(len(grid.rows)):
        assert set(range(new.width)) == set(grid.slots[r])
    header = grid.slots[new.header_row]
    for field, name in (("ticket", "Jira"), ("status", "Status")):
        if field in new.columns and field not in page.table.columns:
            cell = header[new.columns[field]].cell
            assert name == read(result.storage, [(cell.open_end, cell.close_start)]).text


# Through the parser.

STATUS_CATEGORIES = [
    ("To Do", Status.TODO),
    ("In Progress", Status.IN_PROGRESS),
    ("Done", Status.DONE),
]


@st.composite
def parsed_scenarios(draw: st.DrawFn) -> tuple[str, list[RowUpdate | TaskUpdate]]:
    page = draw(pages(allow_uppercase=False))
    parsed = parse_page(page.storage, page_id="7")
    updates: list[RowUpdate | TaskUpdate] = []
    for item in parsed.items:
        key = draw(st.none() | st.sampled_from(KEYS))
        status, category = draw(st.sampled_from(STATUS_CATEGORIES))
        if item.kind == "table":
            updates.append(RowUpdate(item.table, item.row, key, status, category))
        else:
            updates.append(TaskUpdate(item.table, item.row, item.task_id, key, status == "Done"))
    return page.storage, updates


@PROPERTY
@given(parsed_scenarios())
def test_parser_reads_back_what_was_written_and_only_keyed_ids_change(scenario):
    """Items with a key are known by it (``KEY#2`` for the second one); every other
    item keeps its id."""
    storage, updates = scenario
    before = parse_page(storage, page_id="7")

    result = write_back(storage, before.tables, updates)

    after = parse_page(result.storage, page_id="7")
    seen: dict[str, int] = {}
    expected_ids = []
    for old, new in zip(before.items, after.items, strict=True):
        if new.jira_key is None:
            # A key read from the action text counts only while the table has no ticket
            # column; once write-back adds one, that row is known by its digest.
            expected_ids.append(new.item_id if old.jira_key else old.item_id)
            continue
        seen[new.jira_key] = count = seen.get(new.jira_key, 0) + 1
        expected_ids.append(new.jira_key if count == 1 else f"{new.jira_key}#{count}")
    assert expected_ids == [i.item_id for i in after.items]
    refused = {id(skip.update) for skip in result.skipped}
    by_place = {(i.kind, i.table, i.row): i for i in after.items}
    for update in result.written:
        if id(update) in refused:
            continue
        if isinstance(update, RowUpdate):
            item = by_place["table", update.table, update.row]
            expected = (update.jira_key or item.jira_key, update.category)
        else:
            item = by_place["task", update.task_list, update.index]
            expected = (update.jira_key or item.jira_key, item.status)
        assert expected == (item.jira_key, item.status)
