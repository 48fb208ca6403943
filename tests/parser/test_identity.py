"""``item_id`` stays the same across everything that should not change it."""

from __future__ import annotations

import re

import pytest
from parser_helpers import action_table, parse, row

from pmsync import Status, parse_page
from pmsync._storage.edit import RowUpdate, TaskUpdate, write_back
from pmsync._storage.parse import item_digest

HEADER = "<th>Action</th><th>Owner</th><th>Due</th><th>Status</th><th>Jira</th>"
ROWS = (
    row("Rotate the keys", "Ann", "2026-10-01", "todo", ""),
    row("Add an alert", "Bob", "2026-10-08", "WIP", ""),
    row("Write the runbook", "Carol", "", "", "OPS-7"),
)


def ids(storage: str, page_id: str = "42") -> list[str]:
    """The item ids of a page, in order."""
    return [item.item_id for item in parse_page(storage, page_id=page_id).items]


def page(*rows: str) -> str:
    return action_table(*rows, header=HEADER)


class TestTableRows:
    def test_identity_is_twelve_hex_digits(self):
        """Rows without a task id get a 12-hex-digit digest."""
        assert all(re.fullmatch(r"[0-9a-f]{12}", item_id) for item_id in ids(page(*ROWS)))

    def test_reading_twice_gives_the_same_ids(self):
        """Re-reading the page changes nothing."""
        assert ids(page(*ROWS)) == ids(page(*ROWS))

    def test_adding_and_removing_other_rows_keeps_ids(self):
        """A new row above, or a removed row, leaves the others alone."""
        before = ids(page(*ROWS))
        added = ids(page(row("Brand new action", "Dan", "", "", ""), *ROWS))
        removed = ids(page(ROWS[0], ROWS[2]))

        assert before == added[1:]
        assert [before[0], before[2]] == removed

    def test_owner_due_and_status_changes_keep_the_id(self):
        """Only the summary is part of the identity."""
        edited = row("Rotate the keys", "Zoe", "2027-01-01", "done", "")

        assert ids(page(*ROWS))[0] == ids(page(edited, *ROWS[1:]))[0]

    def test_case_spacing_and_punctuation_edits_keep_the_id(self):
        """``Rotate the keys.`` and ``rotate  the KEYS`` are the same action."""
        edited = row("rotate  the KEYS.", "Ann", "", "", "")

        assert ids(page(*ROWS))[0] == ids(page(edited, *ROWS[1:]))[0]

    def test_rewording_the_summary_changes_the_id(self):
        """The documented limit: a reworded action is a new item (unless it has a key)."""
        edited = row("Rotate every key", "Ann", "", "", "")

        assert ids(page(*ROWS))[0] != ids(page(edited, *ROWS[1:]))[0]

    def test_page_id_is_part_of_the_identity(self):
        """The same action on two pages is two items."""
        assert ids(page(*ROWS), "1") != ids(page(*ROWS), "2")

    def test_duplicate_summaries_get_occurrence_numbers(self):
        """Two rows with the same text get different ids: the second carries ``1``."""
        items = parse(page(ROWS[0], ROWS[0])).items

        assert [item_digest("42", "Rotate the keys"), item_digest("42", "Rotate the keys", 1)] == [
            item.item_id for item in items
        ]

    def test_the_key_is_not_part_of_the_identity(self):
        """Writing a key into the row (pmsync's write-back) keeps the row's id."""
        with_key = row("Rotate the keys", "Ann", "2026-10-01", "todo", "OPS-99")

        assert ids(page(*ROWS))[0] == ids(page(with_key, *ROWS[1:]))[0]


class TestAfterWriteBack:
    """pmsync writes keys and lozenges into the page; reading it back finds them."""

    @pytest.mark.parametrize("name", ["cloud-table", "server-table", "merged-cells", "google-sre"])
    def test_write_back_keeps_ids_and_reads_keys_and_statuses(self, fixture_text, name):
        """After write-back each row has the same id, the written key and the status."""
        storage = fixture_text(name)
        before = parse_page(storage, page_id="42")
        keys = {item.item_id: f"PM-{n}" for n, item in enumerate(before.items, start=1)}
        updates = [
            RowUpdate(
                table=item.table,
                row=item.row,
                jira_key=None if item.jira_key else keys[item.item_id],
                status="In Review",
                category=Status.IN_PROGRESS,
            )
            for item in before.items
        ]

        written = write_back(storage, before.tables, updates)
        after = parse_page(written.storage, page_id="42")

        assert [item.item_id for item in before.items] == [item.item_id for item in after.items]
        assert [item.jira_key or keys[item.item_id] for item in before.items] == [
            item.jira_key for item in after.items
        ]
        skipped = {(skip.update.table, skip.update.row) for skip in written.skipped}
        assert {Status.IN_PROGRESS} == {
            item.status for item in after.items if (item.table, item.row) not in skipped
        }

    def test_task_write_back_keeps_ids_and_reads_keys(self, fixture_text):
        """A key appended to a task body and a ticked box read back on the same task."""
        storage = fixture_text("server-tasks")
        before = parse_page(storage, page_id="42")
        updates = [
            TaskUpdate(
                task_list=item.table,
                index=item.row,
                task_id=item.task_id,
                jira_key=f"PM-{n}",
                done=True,
            )
            for n, item in enumerate(before.items, start=1)
        ]

        after = parse_page(write_back(storage, before.tables, updates).storage, page_id="42")

        assert [
            (item.item_id, f"PM-{n}", Status.DONE) for n, item in enumerate(before.items, 1)
        ] == [(item.item_id, item.jira_key, item.status) for item in after.items]
        assert [item.summary for item in before.items] == [item.summary for item in after.items]
