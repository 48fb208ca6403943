"""What the race tests share: runs told apart, a person editing rows, the promises checked.

Everything here uses the public API only (``pmsync.Syncer``, ``pmsync.parse_page``,
``pmsync.testing.Emulator``), so the promises are checked against what a user sees, not
against how the engine keeps them:

1. never two issues for one item, never a key in a row it does not belong to;
2. never a person's change reverted (a value a person set is the value both sides show
   once the runs are over);
3. reruns converge: the last rerun makes no mutating request and the page stays
   well-formed, with everything a person wrote still on it.
"""

from __future__ import annotations

import datetime as dt
import html
import inspect
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import requests
import time_machine
from sync_helpers import ALICE, BOB, table_page

import pmsync
from pmsync.testing import Emulator

#: The header that tells the emulator's request gate which run sent a request.
RUN_HEADER = "X-Pmsync-Test-Run"
CAROL = "557058:carol-0003"
PEOPLE = (ALICE, BOB, CAROL)
STATUS_TITLES = {"todo": "To Do", "in_progress": "In Progress", "done": "Done"}
JIRA_CATEGORIES = {"new": "todo", "indeterminate": "in_progress", "done": "done"}
TITLE = "2026-11-02 Disk full"
#: Text a person wrote outside the action table: it must survive every run.
PROSE = "Written by the incident commander."
#: Search lags to run the race tests with: none, and a few seconds once the emulator can lag.
LAGS: tuple[float, ...] = (0.0,) + (
    (5.0,) if "search_lag" in inspect.signature(Emulator).parameters else ()
)


def emulator(
    lag: float = 0.0, seed: int = 0, workflow: Mapping[str, Sequence[str]] | None = None
) -> Emulator:
    """A Cloud emulator with Alice, Bob, Carol and project OPS (search lag if any).

    Not started: use it in a ``with`` block.
    """
    emu = Emulator(seed=seed, **({"search_lag": lag} if lag else {}))
    seed_people(emu, workflow)
    return emu


def seed_people(emu: Emulator, workflow: Mapping[str, Sequence[str]] | None = None) -> None:
    """The people and the project every race test uses (again after ``emu.reset()``)."""
    for account_id, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        emu.add_user(
            account_id=account_id, display_name=f"{name} Example", email=f"{name}@example.com"
        )
    emu.add_project("OPS", name="Operations", workflow=workflow)


def run(
    emu: Emulator, tag: str, config: pmsync.Config | None = None, *, concurrency: int | None = None
) -> pmsync.Syncer:
    """A Syncer whose requests carry ``RUN_HEADER: tag``, retrying without long waits
    (``concurrency``: its workers; the configuration's by default)."""
    clients = []
    for build in (emu.confluence, emu.jira):
        session = requests.Session()
        session.headers[RUN_HEADER] = tag
        clients.append(build(session=session))
    return pmsync.Syncer(
        *clients,
        config=config or pmsync.Config(project="OPS"),
        retry=pmsync.RetryPolicy(attempts=6, budget=20, wait_initial=0.001, wait_max=0.01),
        concurrency=concurrency,
    )


@attrs.define
class Row:
    """What a row should say once the runs are over: the page's values, or a person's."""

    summary: str
    owner: str | None = None
    due: str | None = None
    status: str = "todo"

    def cells(self) -> tuple[str | None, ...]:
        """The row for :func:`sync_helpers.table_page`."""
        return (self.summary, self.owner, self.due, None, f"[{STATUS_TITLES[self.status]}]", None)


def add_page(emu: Emulator, rows: Iterable[Row], title: str = TITLE) -> str:
    """A postmortem page holding ``rows``; its id."""
    storage = table_page([r.cells() for r in rows])
    return emu.add_page("SRE", title, storage, labels=("postmortem",))


# -- a person editing the page ------------------------------------------------------------

_ROW = re.compile(r"<tr>(?:(?!</tr>).)*</tr>", re.S)
_CELL = re.compile(r"<td[^>]*>(?:(?!</td>).)*</td>|<td[^>]*/>", re.S)
CELLS = {"owner": 1, "due": 2, "status": 4}


def _find_row(storage: str, summary: str) -> re.Match[str]:
    mark = f"<p>{html.escape(summary)}</p>"
    found = [m for m in _ROW.finditer(storage) if mark in m.group(0)]
    assert len(found) == 1, f"row {summary!r} is on the page {len(found)} times"
    return found[0]


def cell_markup(field: str, value: str | None) -> str:
    """A cell as a person types it: a mention, a date or a status lozenge."""
    row = attrs.evolve(Row(""), **{field: value})
    return str(_CELL.findall(_row_markup(row))[CELLS[field]])


def _row_markup(row: Row) -> str:
    """The ``<tr>`` that :func:`sync_helpers.table_page` writes for ``row``."""
    table = table_page([row.cells()]).split("<h2>Action items</h2>")[1]
    return _ROW.findall(table)[1]


def edit_cell(emu: Emulator, page_id: str, summary: str, field: str, value: str | None) -> None:
    """A person changes one cell of the row ``summary`` (and only that cell)."""
    storage = emu.page(page_id)["storage"]
    found = _find_row(storage, summary)
    cells = list(_CELL.finditer(found.group(0)))
    cell = cells[CELLS[field]]
    start, end = found.start() + cell.start(), found.start() + cell.end()
    emu.edit_page(page_id, storage[:start] + cell_markup(field, value) + storage[end:])


def insert_row(emu: Emulator, page_id: str, row: Row, *, above: str | None = None) -> None:
    """A person adds a row above the row ``above`` (or at the end of the table)."""
    storage = emu.page(page_id)["storage"]
    at = storage.rindex("</tbody>") if above is None else _find_row(storage, above).start()
    emu.edit_page(page_id, storage[:at] + _row_markup(row) + storage[at:])


def delete_row(emu: Emulator, page_id: str, summary: str) -> None:
    """A person deletes the row ``summary``."""
    storage = emu.page(page_id)["storage"]
    found = _find_row(storage, summary)
    emu.edit_page(page_id, storage[: found.start()] + storage[found.end() :])


# -- the promises -------------------------------------------------------------------------


def managed(emu: Emulator, page_id: str) -> list[dict[str, Any]]:
    """The issues whose ``pmsync`` property names ``page_id``."""
    return [
        i
        for i in emu.issues("OPS")
        if str((i["properties"].get("pmsync") or {}).get("page_id")) == page_id
    ]


def duplicates(emu: Emulator, page_id: str) -> list[str]:
    """Items with more than one issue: by the property's item id, and by summary.

    Summaries are unique on the pages of these tests and nobody edits them, so two issues
    with one summary are two issues for one item, whatever their properties say.
    """
    issues = managed(emu, page_id)
    by_item = Counter(str(i["properties"]["pmsync"].get("item_id")) for i in issues)
    by_summary = Counter(i["fields"]["summary"] for i in issues)
    return [f"{n} issues for item {k}" for k, n in by_item.items() if n > 1] + [
        f"{n} issues for row {s!r}" for s, n in by_summary.items() if n > 1
    ]


def wrong_rows(emu: Emulator, page_id: str) -> list[str]:
    """Keys in a row they do not belong to, and versions not well-formed, in any version.

    Nobody edits summaries in these tests, so an issue's summary names its row.
    """
    summaries = {i["key"]: i["fields"]["summary"] for i in emu.issues("OPS")}
    broken = []
    for version in emu.page(page_id)["versions"]:
        try:
            items = pmsync.parse_page(version["storage"], page_id=page_id).items
        except pmsync.ParseError as exc:
            broken.append(f"v{version['number']} is not well-formed: {exc}")
            continue
        keys = Counter(item.jira_key for item in items if item.jira_key)
        broken += [
            f"v{version['number']}: {key} is in {n} rows" for key, n in keys.items() if n > 1
        ]
        broken += [
            f"v{version['number']}: {item.jira_key} ({summaries[item.jira_key]!r}) is in row "
            f"{item.summary!r}"
            for item in items
            if item.jira_key in summaries and summaries[item.jira_key] != item.summary
        ]
    return broken


def _page_values(item: pmsync.ActionItem) -> dict[str, str | None]:
    return {
        "owner": item.owner.account_id if item.owner else None,
        "due": item.due.isoformat() if item.due else None,
        "status": item.status.value if item.status else None,
    }


def _jira_values(issue: Mapping[str, Any]) -> dict[str, str | None]:
    fields = issue["fields"]
    return {
        "owner": (fields.get("assignee") or {}).get("accountId"),
        "due": fields.get("duedate"),
        "status": JIRA_CATEGORIES[fields["status"]["statusCategory"]["key"]],
    }


def unkept(emu: Emulator, page_id: str, rows: Iterable[Row]) -> list[str]:
    """Rows whose page or issue does not show what the row should say (None if all do).

    Also: rows missing from the page, rows without a key, rows on the page twice, and
    the text a person wrote around the table.
    """
    page = emu.page(page_id)
    items = pmsync.parse_page(page["storage"], page_id=page_id).items
    by_summary: dict[str, list[pmsync.ActionItem]] = {}
    for item in items:
        by_summary.setdefault(item.summary, []).append(item)
    issues = {i["key"]: i for i in emu.issues("OPS")}
    broken = [] if PROSE in page["storage"] else ["the text around the table was lost"]
    for row in rows:
        found = by_summary.get(row.summary, [])
        if len(found) != 1:
            broken.append(f"row {row.summary!r} is on the page {len(found)} times")
            continue
        (item,) = found
        if item.jira_key not in issues:
            broken.append(f"row {row.summary!r} has no issue (key {item.jira_key})")
            continue
        wanted = {"owner": row.owner, "due": row.due, "status": row.status}
        for side, seen in (
            ("page", _page_values(item)),
            (item.jira_key, _jira_values(issues[item.jira_key])),
        ):
            broken += [
                f"row {row.summary!r}: {side} shows {name} {seen[name]!r}, not {value!r}"
                for name, value in wanted.items()
                if seen[name] != value
            ]
    return broken


def broken_promises(emu: Emulator, page_id: str, rows: Iterable[Row]) -> dict[str, list[str]]:
    """Every promise broken on ``page_id``, by promise; an empty dict when all are kept."""
    found = {
        "duplicate": duplicates(emu, page_id),
        "wrong row": wrong_rows(emu, page_id),
        "not kept": unkept(emu, page_id, rows),
    }
    return {promise: details for promise, details in found.items() if details}


def settle(emu: Emulator, syncer: pmsync.Syncer, *page_ids: str, reruns: int = 4) -> list[str]:
    """An hour later, rerun until a run writes nothing; what went wrong if it never does.

    The hour lets leases of crashed runs expire, write-ahead intents age past their
    window and a lagging search catch up. The last rerun must make no mutating request
    and report no error.
    """
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(hours=1), tick=False):
        for _ in range(reruns):
            emu.clear_requests()
            try:
                result = syncer.sync(page_ids=list(page_ids))
            except pmsync.PmsyncError as exc:
                return [f"a rerun failed: {exc!r}"]
            if emu.request_count(mutating=True) == 0:
                return [f"the quiet rerun failed: {e}" for e in result.errors]
    writes = [f"{r.method} {r.path}" for r in emu.requests if r.mutating]
    return [f"{reruns} reruns never settled; the last wrote {writes}"]
