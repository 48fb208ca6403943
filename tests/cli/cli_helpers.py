"""Helpers shared by the command-line tests: page builders, environments, subprocesses."""

from __future__ import annotations

import html
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pmsync._logging import SECRET_VARIABLES
from pmsync.testing import Emulator, PendingRequest
from pmsync.testing._serve import exports

ALICE = "557058:alice-0001"
BOB = "557058:bob-0002"

CONFIG = """\
project = "OPS"
cql = 'space = "SRE" AND label = "postmortem"'
"""

# Every variable pmsync reads, so that a developer's own settings never leak into tests.
PMSYNC_VARIABLES = (
    "PMSYNC_JIRA_URL",
    "PMSYNC_CONFLUENCE_URL",
    "PMSYNC_DEPLOYMENT",
    "PMSYNC_EMAIL",
    "PMSYNC_SLACK_URL",
    "PMSYNC_CONFIG",
    "PMSYNC_TOKEN_KIND",
    "PMSYNC_CLOUD_ID",
    "PMSYNC_GATEWAY_URL",
    *SECRET_VARIABLES,
    *(f"{name}_FILE" for name in SECRET_VARIABLES),
)


def action_page(rows: Sequence[tuple[str, str | None, str | None, str | None]]) -> str:
    """A postmortem page whose action-item table has (summary, owner, due, priority) rows.

    ``owner`` is a Cloud account id (``557058:...``, written as a mention), a plain name
    written as text, or None.
    """
    body = []
    for summary, owner, due, priority in rows:
        if owner is None:
            owner_cell = "<td><br /></td>"
        elif owner.startswith("557058:"):
            owner_cell = f'<td><ac:link><ri:user ri:account-id="{owner}" /></ac:link></td>'
        else:
            owner_cell = f"<td>{html.escape(owner)}</td>"
        body.append(
            f"<tr><td><p>{html.escape(summary)}</p></td>{owner_cell}"
            + (f'<td><time datetime="{due}" /></td>' if due else "<td><br /></td>")
            + (f"<td>{html.escape(priority)}</td>" if priority else "<td><br /></td>")
            + "<td><br /></td></tr>"
        )
    return (
        "<h1>Summary</h1><p>The database ran out of disk.</p><h2>Action items</h2>"
        "<table><tbody><tr><th>Action item</th><th>Owner</th><th>Due date</th>"
        "<th>Priority</th><th>Jira</th></tr>" + "".join(body) + "</tbody></table>"
    )


def emulator_env(emu: Emulator, **overrides: str) -> dict[str, str]:
    """The environment that points pmsync at ``emu``: what `pmsync emulator` prints."""
    return {**exports(emu), **overrides}


def run_pmsync(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m pmsync ARGS`` as a real process with only ``env`` added."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")}
    base.update(env)
    base["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", *args],
        env=base,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def done_in_row_2(emu: Emulator, page_id: str) -> None:
    """A person sets the second row's status lozenge (written back by a sync) to Done."""
    storage = emu.page(page_id)["storage"]
    head, found, tail = storage.rpartition('<ac:parameter ac:name="title">To Do</ac:parameter>')
    assert found, "no status written back"
    emu.edit_page(page_id, head + '<ac:parameter ac:name="title">Done</ac:parameter>' + tail)


def refuse_moving(key: str) -> Callable[[PendingRequest], None]:
    """A request gate under which Jira answers 500 to every move of ``key``."""

    def gate(request: PendingRequest) -> None:
        if request.method == "POST" and request.path.endswith(f"/{key}/transitions"):
            raise RuntimeError(f"Jira refuses to move {key}")

    return gate
