"""The demo seed and ``pmsync emulator``."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

import pmsync
from pmsync.cli import main
from pmsync.testing import Emulator
from pmsync.testing._serve import _describe, serve
from pmsync.testing.seeds import DemoSeed, seed_demo


@pytest.fixture
def demo(emu: Emulator) -> DemoSeed:
    """The emulator filled with the demo postmortems."""
    return seed_demo(emu)


def _items(emu: Emulator, page_id: str) -> list[pmsync.ActionItem]:
    page = emu.page(page_id)
    return list(pmsync.parse_page(page["storage"], page_id=page_id, title=page["title"]).items)


def test_three_postmortems_labelled_in_sre(emu: Emulator, demo: DemoSeed) -> None:
    """Three pages in SRE, all labelled postmortem, found by the demo's CQL."""
    found = emu.confluence().cql("space = SRE AND label = postmortem", limit=10)
    assert set(demo.page_ids) == {r["content"]["id"] for r in found["results"]}
    assert ("SRE", "OPS") == (demo.space_key, demo.project_key)


def test_every_page_parses_without_warnings(emu: Emulator, demo: DemoSeed) -> None:
    """pmsync's own parser reads every seeded page cleanly."""
    for page_id in demo.page_ids:
        page = emu.page(page_id)
        parsed = pmsync.parse_page(page["storage"], page_id=page_id, title=page["title"])
        assert [] == list(parsed.warnings)
        assert parsed.items


def test_cloud_style_table_has_the_promised_columns_and_one_linked_row(
    emu: Emulator, demo: DemoSeed
) -> None:
    """Page 1: a <th> header row, lozenges, <time> dates, mentions, one jira macro."""
    storage = emu.page(demo.table_page_id)["storage"]
    header = "".join(
        f"<th><p><strong>{h}</strong></p></th>"
        for h in ("Action item", "Owner", "Due date", "Priority", "Status", "Jira")
    )
    assert header in storage
    mention = "ri:account-id" if emu.flavour == "cloud" else "ri:userkey"
    assert 4 == storage.count(mention) - 1  # four owners and the incident commander
    items = _items(emu, demo.table_page_id)
    assert [demo.existing_issue_key] == [i.jira_key for i in items if i.jira_key]
    assert 4 == len(items)


def test_server_style_table_uses_bold_cells_plain_names_and_long_dates(
    emu: Emulator, demo: DemoSeed
) -> None:
    """Page 2: bold header cells, plain-text owners, dates like "Dec 15, 2026", text states."""
    storage = emu.page(demo.server_table_page_id)["storage"]
    assert "<td><strong>Action</strong></td><td><strong>Assigned to</strong></td>" in storage
    items = _items(emu, demo.server_table_page_id)
    assert "Carol Okafor" == items[0].owner.text  # type: ignore[union-attr]
    assert ["in_progress", "todo", "todo"] == [str(i.status) for i in items]
    today = dt.date.today()
    assert f"{(today + dt.timedelta(days=10)):%b} " in storage


def test_retro_uses_a_task_list_with_mentions_dates_and_states(
    emu: Emulator, demo: DemoSeed
) -> None:
    """Page 3: an ac:task-list under "Action items" with complete and incomplete tasks."""
    items = _items(emu, demo.retro_page_id)
    assert ["task"] * 3 == [i.kind for i in items]
    assert ["todo", "todo", "done"] == [str(i.status) for i in items]
    assert all(i.owner is not None and i.due is not None for i in items)


def test_some_items_are_overdue_and_some_due_soon(emu: Emulator, demo: DemoSeed) -> None:
    """Dates are relative to today, so the demo always has reminders to show."""
    today = dt.date.today()
    dues = [i.due for page_id in demo.page_ids for i in _items(emu, page_id) if i.due]
    assert any(d < today for d in dues)
    assert any(today <= d <= today + dt.timedelta(days=3) for d in dues)


def test_the_existing_issue_was_made_by_a_person(emu: Emulator, demo: DemoSeed) -> None:
    """The linked issue exists, has no pmsync property, and is Done in Jira."""
    issue = emu.issue(demo.existing_issue_key)
    assert {} == issue["properties"]
    assert "Done" == issue["fields"]["status"]["name"]
    assert [] == issue["fields"]["labels"]


def test_users_and_channel_exist(emu: Emulator, demo: DemoSeed) -> None:
    """Every seeded owner has an email and a Slack id; #incidents exists."""
    assert 4 == len(demo.users)
    assert all(u.email and u.slack_id for u in demo.users)
    answer = emu.slack().chat_postMessage(channel="#incidents", text="hello")
    assert demo.channel_id == answer["channel"]


def test_seeding_twice_is_refused(emu: Emulator, demo: DemoSeed) -> None:
    """seed_demo wants a fresh emulator."""
    with pytest.raises(ValueError, match="already exists"):
        seed_demo(emu)


def test_describe_names_urls_and_credentials_for_the_flavour(emu: Emulator) -> None:
    """The banner shows the three URLs and the credentials the flavour uses."""
    text = "\n".join(_describe(emu))
    for expected in (emu.url, emu.confluence_url, emu.slack_url, emu.token, emu.slack_token):
        assert expected in text
    assert (emu.email if emu.flavour == "cloud" else "Bearer") in text


def test_serve_refuses_an_unknown_seed() -> None:
    """Only the demo seed exists."""
    with pytest.raises(Exception, match="demo"):
        serve(flavour="cloud", seed="prod", port=0)


def test_cli_emulator_help_lists_the_options() -> None:
    """`pmsync emulator --help` documents its options."""
    result = CliRunner().invoke(main, ["emulator", "--help"])
    assert 0 == result.exit_code
    for option in ("--flavour", "--seed", "--port", "--v1-pages", "--search-lag", "--latency"):
        assert option in result.output


def _serving(*flags: str) -> tuple[subprocess.Popen[str], list[str]]:
    """``pmsync emulator`` started with ``flags``, and its banner up to "Serving"."""
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", "emulator", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if line.startswith("Serving") or not line:
            break
    return process, lines


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_pmsync_emulator_serves_until_interrupted() -> None:
    """The command prints the banner, serves the demo, and stops cleanly on Ctrl-C."""
    process, lines = _serving("--seed", "demo")
    jira_url = next(line.split()[-1] for line in lines if line.strip().startswith("Jira"))
    assert 401 == requests.get(f"{jira_url}/rest/api/2/myself", timeout=5).status_code
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=10)
    assert 0 == process.returncode
    assert any("Postmortem pages:" in line for line in lines)
    assert "Stopping." in output


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_pmsync_emulator_takes_v1_pages_search_lag_and_latency() -> None:
    """The flags reach the emulator: its banner says how it behaves."""
    flags = ("--v1-pages", "ok", "--search-lag", "2.5", "--latency", "0.01")
    process, lines = _serving(*flags)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=10)
    assert "v1 pages ok, search lag 2.5 s, latency 0.01 s per request" in "".join(lines)


def test_cli_emulator_refuses_a_negative_search_lag() -> None:
    result = CliRunner().invoke(main, ["emulator", "--search-lag", "-1"])
    assert 2 == result.exit_code
    assert "--search-lag" in result.output
