"""Fixtures for the Slack buttons and webhooks: an emulator, a synced page, pmsync served.

Everything runs over real HTTP on 127.0.0.1: the emulator's Slack presses buttons by
POSTing signed payloads to pmsync's web app, which calls Jira, Confluence and Slack back
through the real clients.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from interactive_helpers import (
    ALICE,
    PEOPLE,
    WEBHOOK_SECRET,
    ManualClock,
    Served,
    action_page,
    make_syncer,
)

import pmsync
from pmsync.testing import Emulator
from pmsync.testing._server import ServerThread
from pmsync.web import wsgi_app


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        for account_id, name, slack_id in PEOPLE:
            first = name.split()[0].lower()
            emulator.add_user(
                account_id=account_id,
                display_name=name,
                email=f"{first}@example.com",
                slack_id=slack_id,
            )
        emulator.add_project("OPS", name="Operations")
        emulator.add_channel("incidents")
        yield emulator


@pytest.fixture
def config() -> pmsync.Config:
    return pmsync.Config(
        project="OPS", slack_buttons=True, slack_channel="#incidents", cql="space = SRE"
    )


@pytest.fixture
def syncer(emu: Emulator, config: pmsync.Config) -> pmsync.Syncer:
    return make_syncer(emu, config)


@pytest.fixture
def page_id(emu: Emulator, syncer: pmsync.Syncer) -> str:
    """A page with one item of Alice's, synced: its issue exists and Alice got her DM."""
    page = emu.add_page("SRE", "Disk full", action_page([("Add disk alerts", ALICE, "2026-12-20")]))
    result = syncer.sync(page_ids=[page])
    assert 1 == len(result.created)
    return page


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def web(emu: Emulator, syncer: pmsync.Syncer, clock: ManualClock) -> Iterator[Served]:
    """pmsync's web app on 127.0.0.1, registered with the emulator's Slack and webhooks."""
    app = wsgi_app(
        syncer,
        signing_secret=emu.slack_signing_secret,
        webhook_secret=WEBHOOK_SECRET,
        quiet=2.0,
        workers=2,
        clock=clock,
    )
    server = ServerThread()
    server.serve(app)
    base = f"http://127.0.0.1:{server.port}"
    emu.set_slack_request_url(base + "/slack/actions")
    emu.add_webhook(base + "/webhooks/jira", secret=WEBHOOK_SECRET, events=["jira:issue_updated"])
    emu.add_webhook(
        base + "/webhooks/confluence",
        secret=WEBHOOK_SECRET,
        events=["page_created", "page_updated"],
    )
    try:
        yield Served(app, base)
    finally:
        server.stop()
        app.close()
