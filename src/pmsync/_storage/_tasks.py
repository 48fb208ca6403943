"""Reading the tasks of a task list under an action heading ("Action items", "Next
steps"...). A task's text is its summary; mentions, dates, lozenges and Jira macros in
it are its owner, due date, status and issue; its checkbox says whether it is done. Pure.
"""

from __future__ import annotations

import re

from lxml import etree

from pmsync._model import Person, Status
from pmsync._storage._content import all_text, read_content
from pmsync._storage._fields import FieldReader, first_line
from pmsync._storage._page import PageItems, TaskListPlace, where
from pmsync._storage._xhtml import AC
from pmsync._storage.dates import date_from_attribute

__all__ = ["read_task_list"]

_AC_TASK = f"{{{AC}}}task"
_AC_TASK_ID = f"{{{AC}}}task-id"
_AC_TASK_STATUS = f"{{{AC}}}task-status"
_AC_TASK_BODY = f"{{{AC}}}task-body"
_ALPHANUMERIC = re.compile(r"[^\W_]")
# Words left dangling at the end of a task once its mention and date are taken out:
# "Rotate the keys @alice by <date>" reads "Rotate the keys".
_DANGLING = re.compile(
    r"(?:[\s,;:\-–—(]|\b(?:by|due|on|before|until|till|for|to|with|assigned|owner|"
    r"and|with a date of|date)\b)+\Z",
    re.IGNORECASE,
)


def read_task_list(
    page: PageItems, fields: FieldReader, task_list: etree._Element, index: int, heading: str
) -> None:
    """Read the tasks of task list number ``index`` (under ``heading``) into ``page``."""
    place = TaskListPlace(index, heading)
    tasks = [child for child in task_list if child.tag == _AC_TASK]
    for position, task in enumerate(tasks):
        _read_task(page, fields, task, place, position)


def _read_task(
    page: PageItems, fields: FieldReader, task: etree._Element, place: TaskListPlace, row: int
) -> None:
    task_id: str | None = None
    checkbox = ""
    body: etree._Element | None = None
    for child in task:
        tag = child.tag
        if tag == _AC_TASK_ID:
            task_id = " ".join(all_text(child).split()) or None
        elif tag == _AC_TASK_STATUS:
            checkbox = " ".join(all_text(child).split()).casefold()
        elif tag == _AC_TASK_BODY and body is None:
            body = child
    if body is None:
        return
    content = read_content(body, keep_time_text=False, skip_task_lists=True)
    if content.is_empty:
        return
    summary, rest = first_line(content.lines)
    if content.mentions or content.times:
        # Only words a removed mention or date left hanging: "Rotate the keys @ann by".
        summary = _DANGLING.sub("", summary).strip()
    key, summary = fields.action_key(content, summary, place, row)
    if not _ALPHANUMERIC.search(summary):
        detail = f" (its issue is {key})" if key else ""
        page.warn(
            "no-summary",
            f"{where(place, row)} has no text{detail}, so it is not an item",
            place,
            row,
        )
        return
    owner: Person | None = None
    people = [*content.mentions, *content.emails]
    if people:
        owner = people[0]
        if len(people) > 1:
            page.warn(
                "extra-owners",
                f"{where(place, row)} mentions {len(people)} people; the first is the owner",
                place,
                row,
            )
    else:
        owner, summary = fields.typed_owner(summary, place, row)
    due = next((d for d in map(date_from_attribute, content.times) if d is not None), None)
    if checkbox == "complete":
        status = Status.DONE
    else:
        status = fields.lozenge_status(content.lozenges) or Status.TODO
    found = {"status": status, "jira_key": key, "task_id": task_id}
    item_id = page.task_identity(task_id, summary, key, place, row)
    page.add(place, row, item_id, summary, rest, owner, due, **found)
