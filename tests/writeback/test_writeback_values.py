"""Owner, due date and priority cells: Jira's values written into a row, and only then."""

from __future__ import annotations

import pytest

import pmsync
from pmsync._storage.edit import OwnerRef, RowUpdate, write_back

PAGE = (
    '<p>Intro &amp; notes</p><table data-layout="default"><tbody>'
    "<tr><th>Action</th><th>Owner</th><th>Due</th><th>Priority</th></tr>"
    '<tr><td><p>Add an alert</p></td><td><p><ac:link><ri:user ri:account-id="557058:a" />'
    '</ac:link></p></td><td><p><time datetime="2026-12-04" /></p></td><td>P2</td></tr>'
    "</tbody></table><p>Outro</p>"
)


def _tables():
    return pmsync.parse_page(PAGE, page_id="1").tables


def test_values_go_into_their_cells_and_read_back():
    """Jira's owner, date and priority are what a re-read of the page finds."""
    update = RowUpdate(
        table=0, row=0, due="2026-12-31", owner=OwnerRef(account_id="557058:b"), priority="Highest"
    )
    result = write_back(PAGE, _tables(), [update])
    assert (update,) == result.written
    (item,) = pmsync.parse_page(result.storage, page_id="1").items
    assert "2026-12-31" == item.due.isoformat()
    assert "557058:b" == item.owner.account_id
    assert "Highest" == item.priority
    assert result.storage.startswith("<p>Intro &amp; notes</p>")
    assert result.storage.endswith("</tbody></table><p>Outro</p>")


def test_cells_already_showing_the_values_are_left_alone():
    """The same owner, date and a priority that reads as the same name change nothing."""
    update = RowUpdate(
        table=0, row=0, due="2026-12-04", owner=OwnerRef(account_id="557058:a"), priority="Medium"
    )
    result = write_back(PAGE, _tables(), [update])
    assert PAGE == result.storage
    assert () == result.written


def test_server_owner_is_a_user_key_mention_and_text_is_escaped():
    """Server/DC owners are mentioned by user key; every value is XML-escaped."""
    update = RowUpdate(
        table=0, row=0, owner=OwnerRef(user_key='k"<x>', username="jdoe"), priority="<b>Urgent</b>"
    )
    result = write_back(PAGE, _tables(), [update])
    assert 'ri:userkey="k&quot;&lt;x&gt;"' in result.storage
    assert "&lt;b&gt;Urgent&lt;/b&gt;" in result.storage
    assert "<b>" not in result.storage


def test_a_value_that_is_not_a_date_is_skipped_with_a_reason():
    update = RowUpdate(table=0, row=0, due="next week")
    result = write_back(PAGE, _tables(), [update])
    assert PAGE == result.storage
    (skipped,) = result.skipped
    assert "not a date" in skipped.reason


def test_a_status_word_above_notes_becomes_the_lozenge_and_the_notes_stay():
    """'In progress' over a paragraph of notes: one status shows afterwards, notes kept."""
    page = (
        "<table><tbody><tr><th>Action</th><th>Status</th></tr>"
        "<tr><td>Fix it</td><td><p>In progress</p><p>waiting on vendor</p></td></tr>"
        "</tbody></table>"
    )
    tables = pmsync.parse_page(page, page_id="1").tables
    update = RowUpdate(table=0, row=0, status="Done", category=pmsync.Status.DONE)
    result = write_back(page, tables, [update])
    assert "<p>In progress</p>" not in result.storage
    assert "<p>waiting on vendor</p>" in result.storage
    (item,) = pmsync.parse_page(result.storage, page_id="1").items
    assert pmsync.Status.DONE == item.status


@pytest.mark.parametrize(
    "empty", ["", " ", "<br />", "<p />", "<p></p>", "<p><br /></p>", "<p>&nbsp;</p>"]
)
def test_an_empty_owner_cell_gets_jiras_assignee(empty):
    """A blank owner cell (as the editors save it) holds no one's work: Jira's owner goes in."""
    page = PAGE.replace(
        '<td><p><ac:link><ri:user ri:account-id="557058:a" /></ac:link></p></td>',
        f"<td>{empty}</td>",
    )
    tables = pmsync.parse_page(page, page_id="1").tables
    update = RowUpdate(table=0, row=0, owner=OwnerRef(account_id="557058:b"))

    result = write_back(page, tables, [update])

    assert ((update,), ()) == (result.written, result.skipped)
    (item,) = pmsync.parse_page(result.storage, page_id="1").items
    assert "557058:b" == item.owner.account_id
