"""Helpers for sync tests: page markup builders, seeded ids, request inspection."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pmsync

if TYPE_CHECKING:
    from pmsync.testing import Emulator

ALICE = "557058:alice-0001"
BOB = "557058:bob-0002"

_COLOURS = {"to do": "Grey", "in progress": "Blue", "in review": "Blue", "done": "Green"}


def _status_cell(status: str | None) -> str:
    """A status cell: ``[Done]`` is a lozenge, anything else plain text."""
    if not status:
        return "<td><br /></td>"
    if status.startswith("[") and status.endswith("]"):
        title = status[1:-1]
        colour = _COLOURS.get(title.lower(), "Grey")
        return (
            '<td><ac:structured-macro ac:name="status"><ac:parameter ac:name="title">'
            f'{html.escape(title)}</ac:parameter><ac:parameter ac:name="colour">{colour}'
            "</ac:parameter></ac:structured-macro></td>"
        )
    return f"<td>{html.escape(status)}</td>"


def row(
    summary: str,
    owner: str | None = None,
    due: str | None = None,
    priority: str | None = None,
    status: str | None = None,
    key: str | None = None,
) -> tuple[str | None, ...]:
    """One action-item row for :func:`table_page` (owner: an account id or plain text)."""
    return (summary, owner, due, priority, status, key)


def _owner_cell(owner: str | None, flavour: str) -> str:
    if not owner:
        return "<td><br /></td>"
    if owner.startswith("557058:"):
        return f'<td><ac:link><ri:user ri:account-id="{owner}" /></ac:link></td>'
    if owner.startswith("key:"):
        return f'<td><ac:link><ri:user ri:userkey="{owner[4:]}" /></ac:link></td>'
    return f"<td>{html.escape(owner)}</td>"


def table_page(
    rows: Sequence[tuple[str | None, ...]],
    *,
    flavour: str = "cloud",
    with_ticket: bool = True,
    prose: str = "",
) -> str:
    """A postmortem page with a timeline table and an action-item table."""
    head = "<th>Action item</th><th>Owner</th><th>Due date</th><th>Priority</th><th>Status</th>"
    if with_ticket:
        head += "<th>Jira</th>"
    body = []
    for summary, owner, due, priority, status, key in rows:
        cells = [f"<td><p>{html.escape(summary or '')}</p></td>", _owner_cell(owner, flavour)]
        cells.append(f'<td><time datetime="{due}" /></td>' if due else "<td><br /></td>")
        cells.append(f"<td>{priority}</td>" if priority else "<td><br /></td>")
        cells.append(_status_cell(status))
        if with_ticket:
            cells.append(
                '<td><ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">'
                f"{key}</ac:parameter></ac:structured-macro></td>"
                if key
                else "<td><br /></td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        "<h1>Summary</h1><p>The database ran out of disk.</p>"
        + prose
        + "<h2>Timeline</h2><table><tbody><tr><th>Time</th><th>Event</th></tr>"
        "<tr><td>10:00</td><td>Alert fired</td></tr></tbody></table>"
        "<h2>Action items</h2><table><tbody><tr>"
        + head
        + "</tr>"
        + "".join(body)
        + "</tbody></table><p>Written by the incident commander.</p>"
    )


def make_syncer(emu: Emulator, config: pmsync.Config) -> pmsync.Syncer:
    """A Syncer on the emulator's real clients, retrying without long waits."""
    confluence, jira = emu.confluence(), emu.jira()
    return pmsync.Syncer(
        confluence,
        jira,
        config=config,
        retry=pmsync.RetryPolicy(attempts=8, budget=30, wait_initial=0.01, wait_max=2),
    )


def mutating(emu: Emulator) -> list[str]:
    """The mutating requests the emulator has seen, as 'METHOD path' strings."""
    return [f"{r.method} {r.path}" for r in emu.requests if r.mutating]


def is_page_property(path: str) -> bool:
    """A page content-property request: REST v1 (Server/DC) or v2 (Cloud)."""
    return ("/wiki/rest/api/content/" in path and "/property" in path) or (
        "/wiki/api/v2/pages/" in path and "/properties" in path
    )


def changes_made(emu: Emulator) -> list[str]:
    """The mutating requests other than taking and releasing page leases."""
    return [m for m in mutating(emu) if not is_page_property(m)]


def by_summary(emu: Emulator) -> dict[str, dict]:
    """The project's issues keyed by summary (fails on duplicates)."""
    out: dict[str, dict] = {}
    for issue in emu.issues("OPS"):
        summary = issue["fields"]["summary"]
        assert summary not in out, f"duplicate issue for {summary!r}"
        out[summary] = issue
    return out
