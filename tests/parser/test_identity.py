"""``item_id``: the Jira key when there is one, else the task id or a digest of the
summary; it stays the same across everything that should not change it."""

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


TASKS = (
    "<h2>Action items</h2><ac:task-list><ac:task><ac:task-id>7</ac:task-id>"
    "<ac:task-status>incomplete</ac:task-status><ac:task-body>{body}</ac:task-body>"
    "</ac:task></ac:task-list>"
)
JIRA_MACRO = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
    '<ac:parameter ac:name="key">{key}</ac:parameter></ac:structured-macro>'
)


def ids(storage: str, page_id: str = "42") -> list[str]:
    """The item ids of a page, in order."""
    return [item.item_id for item in parse_page(storage, page_id=page_id).items]


def page(*rows: str) -> str:
    return action_table(*rows, header=HEADER)


class TestTableRows:
    def test_identity_is_twelve_hex_digits(self):
        """Rows without a key or task id get a 12-hex-digit digest."""
        assert all(re.fullmatch(r"[0-9a-f]{12}", item_id) for item_id in ids(page(*ROWS))[:2])

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

    def test_a_row_with_a_key_is_known_by_its_key(self):
        """The Jira key is the identity of a row that has one."""
        assert "OPS-7" == ids(page(*ROWS))[2]

    def test_a_keyed_row_keeps_its_id_when_reworded(self):
        """Once a row has a key, rewording its summary keeps its id."""
        reworded = row("Write and review the runbook", "Carol", "", "", "OPS-7")

        assert ids(page(*ROWS))[2] == ids(page(*ROWS[:2], reworded))[2]

    def test_writing_a_key_makes_it_the_id(self):
        """When pmsync writes a key into a row, the row's id becomes that key."""
        with_key = row("Rotate the keys", "Ann", "2026-10-01", "todo", "OPS-99")

        assert ["OPS-99", *ids(page(*ROWS))[1:]] == ids(page(with_key, *ROWS[1:]))

    def test_writing_a_key_leaves_a_same_summary_row_alone(self):
        """The keyed row still counts as an occurrence of its summary, so the other row
        with the same summary keeps its digest."""
        keyed = row("Rotate the keys", "Ann", "", "", "OPS-99")

        assert ids(page(ROWS[0], ROWS[0]))[1] == ids(page(keyed, ROWS[0]))[1]

    def test_second_row_with_the_same_key_gets_a_numbered_id(self):
        """Two rows naming one issue: the second is ``KEY#2``."""
        copy = row("Write the runbook again", "Dan", "", "", "OPS-7")

        assert ["OPS-7", "OPS-7#2"] == ids(page(ROWS[2], copy))

    def test_second_row_with_the_same_key_is_warned_about(self):
        """Two rows naming one issue give ``duplicate-key`` on the second."""
        copy = row("Write the runbook again", "Dan", "", "", "OPS-7")

        warnings = parse(page(ROWS[2], copy)).warnings

        assert [("duplicate-key", 1)] == [(warning.code, warning.row) for warning in warnings]


class TestTasks:
    def test_a_task_is_known_by_its_task_id(self):
        """A task without a key is ``task-<id>``."""
        storage = TASKS.format(body="Rotate the keys")

        assert ["task-7"] == ids(storage)

    def test_a_task_with_a_key_is_known_by_its_key(self):
        """The key is the stronger identity: it wins over the task id."""
        storage = TASKS.format(body=JIRA_MACRO.format(key="OPS-5") + " Rotate the keys")

        assert ["OPS-5"] == ids(storage)


class TestAfterWriteBack:
    """pmsync writes keys and lozenges into the page; reading it back finds them."""

    @pytest.mark.parametrize("name", ["cloud-table", "server-table", "merged-cells", "google-sre"])
    def test_write_back_reads_keys_statuses_and_key_ids(self, fixture_text, name):
        """After write-back each row has the written key, the status, and its key as id."""
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

        assert [item.jira_key or keys[item.item_id] for item in before.items] == [
            item.jira_key for item in after.items
        ]
        # Rows that had a key keep it as their id; the others now have the written key.
        assert [item.jira_key or keys[item.item_id] for item in before.items] == [
            item.item_id for item in after.items
        ]
        skipped = {(skip.update.table, skip.update.row) for skip in written.skipped}
        assert {Status.IN_PROGRESS} == {
            item.status for item in after.items if (item.table, item.row) not in skipped
        }

    def test_task_write_back_reads_keys_and_key_ids(self, fixture_text):
        """A key appended to a task body and a ticked box read back on the same task,
        which is now known by that key."""
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

        assert [(f"PM-{n}", f"PM-{n}", Status.DONE) for n in range(1, len(before.items) + 1)] == [
            (item.item_id, item.jira_key, item.status) for item in after.items
        ]
        assert [item.summary for item in before.items] == [item.summary for item in after.items]
