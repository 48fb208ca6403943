"""Helpers for the interactive tests: page markup, people, a manual clock, a served app."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pmsync
from pmsync.testing import Emulator
from pmsync.web import WebApp

ALICE = "557058:alice-0001"
BOB = "557058:bob-0002"
CAROL = "557058:carol-0003"
#: Who is on the site and in Slack: (account id, display name, Slack id).
PEOPLE = [
    (ALICE, "Alice Example", "UALICE"),
    (BOB, "Bob Example", "UBOB"),
    (CAROL, "Carol Example", "UCAROL"),
]
WEBHOOK_SECRET = "webhook-secret-for-tests"


def action_page(rows: list[tuple[str, str, str]], *, key: str | None = None) -> str:
    """A postmortem page whose action table has (summary, owner account id, due) rows;
    ``key`` is the Jira key shown in the first row (as pmsync wrote it back)."""
    cells = []
    for n, (summary, owner, due) in enumerate(rows):
        jira = (
            '<ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">'
            f"{key}</ac:parameter></ac:structured-macro>"
            if key and n == 0
            else "<br />"
        )
        cells.append(
            f"<tr><td><p>{html.escape(summary)}</p></td>"
            f'<td><ac:link><ri:user ri:account-id="{owner}" /></ac:link></td>'
            f'<td><time datetime="{due}" /></td><td><br /></td><td>{jira}</td></tr>'
        )
    return (
        "<h1>Summary</h1><p>The database ran out of disk.</p><h2>Action items</h2>"
        "<table><tbody><tr><th>Action item</th><th>Owner</th><th>Due date</th>"
        "<th>Status</th><th>Jira</th></tr>" + "".join(cells) + "</tbody></table>"
    )


class ManualClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_syncer(emu: Emulator, config: pmsync.Config) -> pmsync.Syncer:
    """A Syncer on the emulator's real clients, retrying without long waits."""
    return pmsync.Syncer(
        emu.confluence(),
        emu.jira(),
        config=config,
        slack=emu.slack(),
        retry=pmsync.RetryPolicy(attempts=4, budget=10, wait_initial=0.01, wait_max=0.1),
    )


@dataclass
class Served:
    """pmsync's web app and where it listens."""

    app: WebApp
    url: str

    def settle(self, clock: ManualClock) -> None:
        """Let quiet periods pass until every event was handled (a Jira event is looked up
        first, and only then starts its page's quiet period)."""
        while True:
            assert self.app.wait_idle(timeout=30, quiet_too=False)
            if self.app.wait_idle(timeout=0):
                return
            clock.now += 60
            self.app.wake()


def dm_to(emu: Emulator, slack_id: str) -> dict:
    """The last direct message pmsync sent to a Slack user."""
    messages = [m for m in emu.slack_messages() if m["dm_user"] == slack_id]
    assert messages, f"no DM to {slack_id}"
    return messages[-1]
