"""Marker blocks on a page: replaced in place, everything else byte-for-byte."""

from __future__ import annotations

from pmsync._lint import LINT_MARKER, render_lint_note
from pmsync._report import STATUS_MARKER
from pmsync._storage.blocks import find_blocks, remove_block, upsert_block

MARKER = STATUS_MARKER


def panel(body: str, *, name="info", marker=MARKER, attrs="") -> str:
    return (
        f'<ac:structured-macro ac:name="{name}"{attrs}>'
        f'<ac:parameter ac:name="title">{marker}</ac:parameter>'
        f"<ac:rich-text-body><p>{body}</p></ac:rich-text-body></ac:structured-macro>"
    )


PAGE = (
    "<h1>Summary</h1><p>We lost checkout&nbsp;for 20&rsquo; <![CDATA[<not a tag>]]></p>"
    '<table data-layout="default"><tbody><tr><th>Action</th></tr>'
    "<tr><td><table><tbody><tr><td>nested</td></tr></tbody></table></td></tr>"
    "</tbody></table>"
    "<p>Lessons</p><table><tbody><tr><td>second</td></tr></tbody></table>"
    '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Keep me</ac:parameter>'
    "<ac:rich-text-body><p>user's own panel</p></ac:rich-text-body></ac:structured-macro>"
)


def test_appended_at_the_end_when_absent():
    """Without a block the new one goes at the end; the page before it is unchanged."""
    out = upsert_block(PAGE, MARKER, panel("v1"))
    assert PAGE + panel("v1") == out


def test_replaced_in_place_on_the_next_run():
    """A second run replaces the block where it is instead of appending another."""
    once = upsert_block(PAGE, MARKER, panel("v1"))
    twice = upsert_block(once, MARKER, panel("v2"))
    assert PAGE + panel("v2") == twice
    assert 1 == len(find_blocks(twice, MARKER))


def test_block_moved_by_a_user_is_updated_where_it_now_is():
    """A block the user moved to the top stays at the top."""
    page = panel("v1") + PAGE
    assert panel("v2") + PAGE == upsert_block(page, MARKER, panel("v2"))


def test_found_after_the_editor_restamps_ids_and_changes_the_macro():
    """Matching uses the title parameter, not ac:macro-id; info→note still matches."""
    saved = PAGE + panel(
        "v1", name="note", attrs=' ac:schema-version="1" ac:macro-id="9f2c" ac:local-id="x1"'
    )
    assert PAGE + panel("v2") == upsert_block(saved, MARKER, panel("v2"))


def test_unchanged_block_leaves_the_page_identical():
    """Same content (ignoring re-stamped ids and whitespace) returns the page untouched."""
    saved = PAGE + panel("v1", attrs=' ac:schema-version="1" ac:macro-id="9f2c"').replace(
        "<ac:rich-text-body>", "\n  <ac:rich-text-body>"
    )
    assert saved is upsert_block(saved, MARKER, panel("v1"))


def test_title_with_entities_matches():
    """A title the editor stored with entities or extra spaces still matches."""
    saved = PAGE + panel("v1", marker="Action&#32;item  status")
    assert PAGE + panel("v2") == upsert_block(saved, MARKER, panel("v2"))


def test_other_panels_are_left_alone():
    """Panels with other titles, including nested ones, are not the block."""
    nested = panel(
        '<ac:structured-macro ac:name="info"><ac:parameter ac:name="title">Other'
        "</ac:parameter></ac:structured-macro>",
        marker="Outer",
    )
    page = PAGE + nested
    assert page + panel("v1") == upsert_block(page, MARKER, panel("v1"))


def test_a_copy_pasted_duplicate_is_removed():
    """Two blocks with the marker converge to one, in the first one's place."""
    page = panel("a") + PAGE + panel("b")
    assert panel("v2") + PAGE == upsert_block(page, MARKER, panel("v2"))


def test_inserted_after_a_given_table():
    """after_table counts every table in document order, nested ones included."""
    note = render_lint_note([])
    out = upsert_block(PAGE, LINT_MARKER, note, after_table=0)
    first_table_end = PAGE.index("</tbody></table><p>Lessons") + len("</tbody></table>")
    assert PAGE[:first_table_end] + note + PAGE[first_table_end:] == out
    out2 = upsert_block(PAGE, LINT_MARKER, note, after_table=2)
    second_end = PAGE.index("<ac:structured-macro")
    assert PAGE[:second_end] + note + PAGE[second_end:] == out2


def test_missing_table_falls_back_to_the_end():
    """An anchor table that does not exist appends at the end."""
    assert PAGE + "<p>x</p>" == upsert_block(PAGE, MARKER, "<p>x</p>", after_table=7)


def test_page_with_layout_gets_the_block_inside_the_last_cell():
    """Content must stay inside a layout: the block goes at the end of the last cell."""
    page = (
        '<ac:layout><ac:layout-section ac:type="single"><ac:layout-cell><p>a</p>'
        "</ac:layout-cell></ac:layout-section></ac:layout>"
    )
    out = upsert_block(page, MARKER, panel("v1"))
    assert page.replace("<p>a</p>", "<p>a</p>" + panel("v1")) == out


def test_cdata_and_comments_do_not_confuse_the_scanner():
    """A marker-like macro inside CDATA or a comment is not a block."""
    hidden = (
        f"<!-- {panel('c')} --><ac:plain-text-body><![CDATA[{panel('d')}]]></ac:plain-text-body>"
    )
    assert [] == find_blocks(hidden, MARKER)


def test_remove_block():
    """remove_block takes every marker block out and nothing else."""
    page = panel("a") + PAGE + panel("b")
    assert PAGE == remove_block(page, MARKER)
    assert PAGE == remove_block(PAGE, MARKER)
