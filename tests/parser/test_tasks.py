"""Task lists under action headings are action items; other task lists are not."""

from __future__ import annotations

import datetime as dt

import pytest
from parser_helpers import codes, only_item, parse

from pmsync import Person, Status


def tasks(heading: str, *bodies: str, status: str = "incomplete") -> str:
    """A heading and a task list of the given task bodies (ids from 1)."""
    items = "".join(
        f"<ac:task><ac:task-id>{n}</ac:task-id><ac:task-status>{status}</ac:task-status>"
        f"<ac:task-body>{body}</ac:task-body></ac:task>"
        for n, body in enumerate(bodies, start=1)
    )
    return f"<h2>{heading}</h2><ac:task-list>{items}</ac:task-list>"


class TestFixturePages:
    def test_cloud_task_list_under_action_items_gives_items(self, parse_fixture):
        """Tasks under "Action items" are items; the review checklist and lessons are not.

        A task with a Jira key is known by its key, the others by their task id."""
        postmortem = parse_fixture("cloud-tasks")

        assert [
            ("task-7", "Add a canary for the search indexer"),
            ("SRCH-90", "Shard the query cache"),
            ("task-10", "Write the customer notice"),
            ("task-9", "Measure the hit rate per shard"),
        ] == [(item.item_id, item.summary) for item in postmortem.items]

    def test_task_fields_come_from_mention_date_and_checkbox(self, parse_fixture):
        """The mention is the owner, the date the due date, the checkbox the status."""
        item = parse_fixture("cloud-tasks").items[0]

        assert (
            Person(account_id="557058:11aa22bb-33cc-44dd-55ee-66ff77aa88bb"),
            dt.date(2026, 10, 20),
            Status.TODO,
            "task",
        ) == (item.owner, item.due, item.status, item.kind)

    def test_jira_macro_and_lozenge_in_a_task_are_key_and_status(self, parse_fixture):
        """A task body pmsync wrote a key into reads back with that key, no macro text."""
        item = parse_fixture("cloud-tasks").items[1]

        assert ("Shard the query cache", "SRCH-90", Status.IN_PROGRESS) == (
            item.summary,
            item.jira_key,
            item.status,
        )

    def test_positions_are_list_index_and_task_index(self, parse_fixture):
        """``table`` counts every task list on the page, ``row`` the task in its list."""
        items = parse_fixture("cloud-tasks").items

        assert [(1, 0), (1, 1), (1, 2), (2, 0)] == [(item.table, item.row) for item in items]

    def test_task_id_is_kept_for_write_back(self, parse_fixture):
        """``task_id`` is the ``ac:task-id`` text."""
        assert ["7", "8", "10", "9"] == [
            item.task_id for item in parse_fixture("cloud-tasks").items
        ]

    def test_server_task_list_with_userkey_mention(self, parse_fixture):
        """Server/DC tasks: a user-key mention and a date in the body, no uuid."""
        items = parse_fixture("server-tasks").items

        assert [
            (
                "Move the cron host off the shared VM",
                Person(user_key="ff808081560b912f01560c66bad90078"),
                dt.date(2026, 12, 1),
                Status.TODO,
            ),
            ("Disable the legacy exporter", None, None, Status.DONE),
        ] == [(item.summary, item.owner, item.due, item.status) for item in items]


class TestHeadings:
    @pytest.mark.parametrize(
        "heading",
        [
            "Action items",
            "Action Items (owners: please update)",
            "Follow-ups",
            "Corrective actions",
            "Next steps",
            "Remediation",
            "Corrective and preventative measures",
            "&nbsp;Action items",
        ],
    )
    def test_action_headings_make_task_lists_items(self, heading):
        """The action-heading vocabulary, case and punctuation aside."""
        assert "Fix it" == only_item(tasks(heading, "Fix it")).summary

    @pytest.mark.parametrize("heading", ["Review checklist", "Agenda", "Lessons learned"])
    def test_other_headings_do_not(self, heading):
        """A review checklist is not a list of action items."""
        assert () == parse(tasks(heading, "Fix it")).items

    def test_task_list_before_any_heading_is_not_read(self):
        """Without a heading to say so, a task list is not action items."""
        page = (
            "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>incomplete"
            "</ac:task-status><ac:task-body>Fix it</ac:task-body></ac:task></ac:task-list>"
        )

        assert () == parse(page).items

    def test_paragraph_between_heading_and_list_keeps_it_in_the_section(self):
        """The list belongs to the section of the last heading before it."""
        page = tasks("Action items", "Fix it").replace(
            "</h2>", "</h2><p>Owners, tick your task when it ships.</p>"
        )

        assert "Fix it" == only_item(page).summary

    def test_next_heading_ends_the_section(self):
        """A sub-heading such as "Review checklist" ends the action section."""
        page = "<h2>Action items</h2><p>See below.</p>" + tasks("Review checklist", "Fix it")

        assert () == parse(page).items

    def test_task_lists_inside_an_action_table_are_not_separate_items(self):
        """Checkboxes in an action table's status cell belong to the row."""
        checkbox = (
            "<ac:task-list><ac:task><ac:task-id>5</ac:task-id><ac:task-status>complete"
            "</ac:task-status><ac:task-body>done</ac:task-body></ac:task></ac:task-list>"
        )
        page = (
            "<h2>Action items</h2><table><tbody><tr><th>Action</th><th>Status</th></tr>"
            f"<tr><td>Fix it</td><td>{checkbox}</td></tr></tbody></table>"
        )

        assert [("table", Status.DONE)] == [(item.kind, item.status) for item in parse(page).items]


class TestTaskText:
    def test_mention_and_date_are_taken_out_of_the_summary(self):
        """ "Deploy the fix @ann by <date>" reads "Deploy the fix"."""
        body = (
            'Deploy the fix <ac:link><ri:user ri:account-id="a1" /></ac:link> by '
            '<time datetime="2026-10-01" />'
        )

        assert "Deploy the fix" == only_item(tasks("Action items", body)).summary

    def test_words_at_the_end_stay_when_nothing_was_taken_out(self):
        """Without a mention or date removed, a summary ending in "to" is left whole."""
        assert (
            "Decide what to roll back to"
            == only_item(tasks("Action items", "Decide what to roll back to")).summary
        )

    def test_more_lines_are_the_description(self):
        """Lines after the first are the description."""
        item = only_item(tasks("Action items", "<p>Deploy the fix</p><p>to every region</p>"))

        assert ("Deploy the fix", "to every region") == (item.summary, item.description)

    def test_extra_mentions_warn(self):
        """The first mention is the owner; more mentions are reported."""
        body = (
            'Pair on it <ac:link><ri:user ri:account-id="a1" /></ac:link> '
            '<ac:link><ri:user ri:account-id="b2" /></ac:link>'
        )
        postmortem = parse(tasks("Action items", body))

        assert (Person(account_id="a1"), ["extra-owners"]) == (
            postmortem.items[0].owner,
            codes(postmortem),
        )

    def test_empty_task_is_dropped_quietly(self):
        """An empty checkbox left in the list is not an item and not a warning."""
        postmortem = parse(tasks("Action items", "", "Fix it"))

        assert (["Fix it"], []) == ([item.summary for item in postmortem.items], codes(postmortem))

    def test_task_of_only_a_mention_warns(self):
        """A task naming someone but saying nothing else is reported."""
        body = '<ac:link><ri:user ri:account-id="a1" /></ac:link>'

        assert ["no-summary"] == codes(parse(tasks("Action items", body)))

    def test_complete_checkbox_wins_over_a_lozenge(self):
        """A ticked task is done, whatever an old lozenge in it says."""
        body = (
            'Fix it <ac:structured-macro ac:name="status"><ac:parameter ac:name="title">'
            "In progress</ac:parameter></ac:structured-macro>"
        )

        assert Status.DONE == only_item(tasks("Action items", body, status="complete")).status


class TestTaskIdentity:
    def test_item_id_comes_from_the_task_id(self):
        """``task-<id>``: stable across re-reads and edits of the text."""
        assert "task-1" == only_item(tasks("Action items", "Fix it")).item_id

    def test_uuid_does_not_change_the_identity(self):
        """A task gaining an ``ac:task-uuid`` (editor migration) keeps its identity."""
        with_uuid = tasks("Action items", "Fix it").replace(
            "</ac:task-id>", "</ac:task-id><ac:task-uuid>0b1c2d3e</ac:task-uuid>"
        )

        assert only_item(tasks("Action items", "Fix it")).item_id == only_item(with_uuid).item_id

    def test_duplicate_task_id_falls_back_to_the_text(self):
        """A copied task with the same id gets a text-based identity and a warning."""
        page = tasks("Action items", "Fix it", "Fix that").replace(
            "<ac:task-id>2</ac:task-id>", "<ac:task-id>1</ac:task-id>"
        )
        postmortem = parse(page)

        assert "task-1" == postmortem.items[0].item_id
        assert not postmortem.items[1].item_id.startswith("task-")
        assert ["duplicate-task-id"] == codes(postmortem)

    def test_task_without_id_gets_a_text_identity(self):
        """Simplified content without ``ac:task-id`` still gets a stable identity."""
        page = (
            "<h2>Action items</h2><ac:task-list><ac:task><ac:task-status>incomplete"
            "</ac:task-status><ac:task-body>Fix it</ac:task-body></ac:task></ac:task-list>"
        )
        item = only_item(page)

        assert (None, 12) == (item.task_id, len(item.item_id))
