"""Fixtures for sync-engine tests: an emulator per test, seeded users, page builders."""

from __future__ import annotations

import html
from collections.abc import Iterator, Sequence

import pytest

import pmsync
from pmsync.testing import Emulator

ALICE = "557058:alice-0001"
BOB = "557058:bob-0002"


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
        cells.append(f"<td>{status}</td>" if status else "<td><br /></td>")
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


@pytest.fixture(params=["cloud"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def emu(flavour: str) -> Iterator[Emulator]:
    with Emulator(flavour=flavour) as emulator:
        if flavour == "cloud":
            emulator.add_user(
                account_id=ALICE,
                display_name="Alice Example",
                email="alice@example.com",
                slack_id="UALICE",
            )
            emulator.add_user(
                account_id=BOB, display_name="Bob Example", email="bob@example.com", slack_id="UBOB"
            )
        else:
            emulator.add_user(
                username="alice",
                user_key="key-alice",
                display_name="Alice Example",
                email="alice@example.com",
                slack_id="UALICE",
            )
            emulator.add_user(
                username="bob",
                user_key="key-bob",
                display_name="Bob Example",
                email="bob@example.com",
                slack_id="UBOB",
            )
        emulator.add_project("OPS", name="Operations")
        yield emulator


@pytest.fixture
def config() -> pmsync.Config:
    return pmsync.Config(project="OPS")


@pytest.fixture
def syncer(emu: Emulator, config: pmsync.Config) -> pmsync.Syncer:
    return make_syncer(emu, config)


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


def by_summary(emu: Emulator) -> dict[str, dict]:
    """The project's issues keyed by summary (fails on duplicates)."""
    out: dict[str, dict] = {}
    for issue in emu.issues("OPS"):
        summary = issue["fields"]["summary"]
        assert summary not in out, f"duplicate issue for {summary!r}"
        out[summary] = issue
    return out
