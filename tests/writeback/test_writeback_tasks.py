"""Writing checkbox state and Jira keys into tasks of a task list."""

from __future__ import annotations

import pytest

from pmsync._storage._scan import scan
from pmsync._storage.edit import JiraServer, TaskUpdate, WriteBack, write_back

JIRA = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
    '<ac:parameter ac:name="key">OPS-5</ac:parameter></ac:structured-macro>'
)


def task(task_id: str, body: str, status: str = "incomplete") -> str:
    return (
        f"<ac:task>\n<ac:task-id>{task_id}</ac:task-id>\n"
        f"<ac:task-uuid>uuid-{task_id}</ac:task-uuid>\n"
        f"<ac:task-status>{status}</ac:task-status>\n"
        f"<ac:task-body>{body}</ac:task-body>\n</ac:task>"
    )


def task_list(*tasks: str) -> str:
    return '<ac:task-list ac:task-list-id="l1">\n' + "\n".join(tasks) + "\n</ac:task-list>"


PAGE = (
    "<h2>Action items</h2>"
    + task_list(
        task("1", '<span class="placeholder-inline-tasks">Rotate keys</span>'),
        task("2", "Add alert", status="complete"),
    )
    + "<p>after</p>"
)


def write(storage: str, *updates: TaskUpdate) -> WriteBack:
    return write_back(storage, [], updates)


def task_part(storage: str, list_index: int, task_index: int, part: str) -> str:
    found = scan(storage).task_lists[list_index].child_elements("ac:task")[task_index]
    return found.child_elements(part)[0].content(storage)


def test_done_sets_the_task_status_to_complete():
    result = write(PAGE, TaskUpdate(0, 0, "1", done=True))

    assert "complete" == task_part(result.storage, 0, 0, "ac:task-status")


def test_not_done_sets_the_task_status_to_incomplete():
    result = write(PAGE, TaskUpdate(0, 1, "2", done=False))

    assert "incomplete" == task_part(result.storage, 0, 1, "ac:task-status")


def test_setting_the_status_changes_only_the_status_word():
    update = TaskUpdate(0, 0, "1", done=True)

    result = write(PAGE, update)

    assert PAGE.replace(">incomplete<", ">complete<", 1) == result.storage
    assert (update,) == result.written


def test_status_word_keeps_the_whitespace_around_it():
    storage = PAGE.replace("<ac:task-status>incomplete", "<ac:task-status>\n  incomplete\n", 1)

    result = write(storage, TaskUpdate(0, 0, "1", done=True))

    assert "\n  complete\n" == task_part(result.storage, 0, 0, "ac:task-status")


def test_status_already_right_is_left_alone():
    result = write(PAGE, TaskUpdate(0, 1, "2", done=True))

    assert (PAGE, (), ()) == (result.storage, result.written, result.skipped)


def test_missing_task_status_is_added_after_the_task_id():
    storage = task_list(
        "<ac:task><ac:task-id>4</ac:task-id><ac:task-body>x</ac:task-body></ac:task>"
    )

    result = write(storage, TaskUpdate(0, 0, "4", done=True))

    assert (
        "<ac:task-id>4</ac:task-id><ac:task-status>complete</ac:task-status><ac:task-body>"
    ) in result.storage


def test_key_is_appended_at_the_end_of_the_task_body():
    result = write(PAGE, TaskUpdate(0, 0, "1", jira_key="OPS-5"))

    assert f'<span class="placeholder-inline-tasks">Rotate keys</span> {JIRA}' == task_part(
        result.storage, 0, 0, "ac:task-body"
    )


def test_key_goes_before_trailing_whitespace_of_the_body():
    storage = task_list(task("9", "\n\t\t<span>and a task</span>\n\t"))

    result = write(storage, TaskUpdate(0, 0, "9", jira_key="OPS-5"))

    assert f"\n\t\t<span>and a task</span> {JIRA}\n\t" == task_part(
        result.storage, 0, 0, "ac:task-body"
    )


def test_key_goes_before_subtasks_in_the_body():
    nested = task_list(task("23", "child"))
    storage = task_list(task("12", f"<span>parent</span>{nested}"))

    result = write(storage, TaskUpdate(0, 0, "12", jira_key="OPS-5"))

    assert f"<span>parent</span> {JIRA}{nested}" == task_part(result.storage, 0, 0, "ac:task-body")


def test_key_already_in_the_body_is_left_alone():
    storage = task_list(task("1", f"Rotate keys {JIRA}"))

    assert not write(storage, TaskUpdate(0, 0, "1", jira_key="OPS-5")).changed


def test_writing_the_key_twice_changes_nothing_the_second_time():
    first = write(PAGE, TaskUpdate(0, 0, "1", jira_key="OPS-5", done=True))

    second = write(first.storage, TaskUpdate(0, 0, "1", jira_key="OPS-5", done=True))

    assert (first.storage, False) == (second.storage, second.changed)


def test_key_of_a_subtask_does_not_count_for_its_parent():
    nested = task_list(task("23", f"child {JIRA}"))
    storage = task_list(task("12", f"parent{nested}"))

    result = write(storage, TaskUpdate(0, 0, "12", jira_key="OPS-5"))

    assert f"parent {JIRA}{nested}" == task_part(result.storage, 0, 0, "ac:task-body")


def test_body_linking_another_issue_is_skipped():
    other = JIRA.replace("OPS-5", "OPS-4")
    storage = task_list(task("1", f"Rotate keys {other}"))

    result = write(storage, TaskUpdate(0, 0, "1", jira_key="OPS-5"))

    assert "task list 1, task 1: the task already links OPS-4; not adding OPS-5" == (
        result.skipped[0].reason
    )


def test_other_key_mentioned_in_the_summary_text_does_not_block_the_key():
    storage = task_list(task("1", "Follow up on OPS-4"))

    result = write(storage, TaskUpdate(0, 0, "1", jira_key="OPS-5"))

    assert f"Follow up on OPS-4 {JIRA}" == task_part(result.storage, 0, 0, "ac:task-body")


def test_empty_body_gets_the_macro_without_a_leading_space():
    storage = task_list(task("1", ""))

    result = write(storage, TaskUpdate(0, 0, "1", jira_key="OPS-5"))

    assert JIRA == task_part(result.storage, 0, 0, "ac:task-body")


def test_self_closing_body_is_opened_up():
    storage = task_list(task("1", "").replace("<ac:task-body></ac:task-body>", "<ac:task-body />"))

    result = write(storage, TaskUpdate(0, 0, "1", jira_key="OPS-5"))

    assert f"<ac:task-body>{JIRA}</ac:task-body>" in result.storage


def test_task_key_macro_names_the_server():
    server = JiraServer("System JIRA", "42")

    result = write_back(PAGE, [], [TaskUpdate(0, 0, "1", jira_key="OPS-5")], server=server)

    assert '<ac:parameter ac:name="serverId">42</ac:parameter>' in result.storage


def test_task_id_mismatch_is_skipped_because_the_page_changed():
    update = TaskUpdate(0, 0, "7", jira_key="OPS-5", done=True)

    result = write(PAGE, update)

    assert (
        PAGE,
        "task list 1, task 1: the task there has id '1', not '7'; "
        "the page changed since it was read",
    ) == (
        result.storage,
        result.skipped[0].reason,
    )


def test_task_id_none_skips_the_check():
    assert write(PAGE, TaskUpdate(0, 0, None, done=True)).changed


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        (TaskUpdate(3, 0, "1", done=True), "task list 4, task 1: the page has no task list 4"),
        (TaskUpdate(0, 2, "1", done=True), "task list 1, task 3: the task list has no such task"),
        (TaskUpdate(0, -1, "1", done=True), "task list 1, task 0: the task list has no such task"),
        (
            TaskUpdate(0, 0, "1", jira_key="ops-5"),
            "task list 1, task 1: 'ops-5' is not a Jira issue key",
        ),
    ],
)
def test_tasks_that_cannot_be_written_are_skipped(update, reason):
    result = write(PAGE, update)

    assert (PAGE, reason) == (result.storage, result.skipped[0].reason)


def test_task_lists_are_counted_in_document_order_including_nested_ones():
    nested = task_list(task("23", "child"))
    storage = task_list(task("12", f"parent{nested}")) + task_list(task("30", "third"))

    result = write(storage, TaskUpdate(1, 0, "23", done=True), TaskUpdate(2, 0, "30", done=True))

    assert ["complete", "complete"] == [
        task_part(result.storage, 1, 0, "ac:task-status"),
        task_part(result.storage, 2, 0, "ac:task-status"),
    ]


def test_task_index_counts_only_direct_tasks_of_the_list():
    nested = task_list(task("23", "child"))
    storage = task_list(task("12", f"parent{nested}"), task("13", "second"))

    result = write(storage, TaskUpdate(0, 1, "13", done=True))

    assert "complete" == task_part(result.storage, 0, 1, "ac:task-status")


def test_second_update_for_the_same_task_is_skipped():
    result = write(PAGE, TaskUpdate(0, 0, "1", done=True), TaskUpdate(0, 0, "1", done=False))

    assert "task list 1, task 1: an earlier update wrote here" == result.skipped[0].reason


def test_empty_task_status_gets_the_word():
    storage = PAGE.replace("<ac:task-status>incomplete</ac:task-status>", "<ac:task-status />", 1)

    result = write(storage, TaskUpdate(0, 0, "1", done=True))

    assert "<ac:task-status>complete</ac:task-status>" in result.storage


def test_self_closing_task_gets_a_status():
    result = write(task_list("<ac:task />"), TaskUpdate(0, 0, None, done=False))

    assert "<ac:task><ac:task-status>incomplete</ac:task-status></ac:task>" in result.storage


def test_task_without_a_body_cannot_take_a_key():
    storage = task_list("<ac:task><ac:task-id>1</ac:task-id></ac:task>")

    result = write(storage, TaskUpdate(0, 0, "1", jira_key="OPS-5"))

    assert "task list 1, task 1: the task has no body to add OPS-5 to" == result.skipped[0].reason
