"""``pmsync parse FILE [--json]`` prints the action items of a storage-format file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pmsync._storage.parse import item_digest
from pmsync.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
CLOUD = FIXTURES / "cloud-table.xml"


@pytest.fixture(name="runner")
def _runner() -> CliRunner:
    return CliRunner()


def test_text_output_lists_each_item_with_its_fields(runner):
    """One aligned line per item: id, key, status, due date, owner, summary."""
    result = runner.invoke(main, ["parse", str(CLOUD)])

    assert 0 == result.exit_code, result.output
    lines = result.stdout.splitlines()
    assert "3 action items in page cloud-table" == lines[0]
    assert ["ID", "KEY", "STATUS", "DUE", "OWNER", "SUMMARY"] == lines[1].split()
    assert lines[2].split()[1:4] == ["SHOP-412", "in_progress", "2026-10-01"]
    assert lines[2].endswith("Add a circuit breaker around the tax service")


def test_json_output_is_the_postmortem(runner):
    """``--json`` prints Postmortem.to_dict(), with the file name as page id."""
    result = runner.invoke(main, ["parse", str(CLOUD), "--json"])

    data = json.loads(result.stdout)
    assert ("cloud-table", 3) == (data["page_id"], len(data["items"]))
    assert {
        "summary": "Add a circuit breaker around the tax service",
        "jira_key": "SHOP-412",
        "status": "in_progress",
        "due": "2026-10-01",
        "priority": "High",
    }.items() <= data["items"][0].items()


def test_page_id_option_sets_the_identities(runner):
    """``--page-id`` gives the ids the page would have when read from Confluence."""
    result = runner.invoke(main, ["parse", str(CLOUD), "--json", "--page-id", "123456"])

    data = json.loads(result.stdout)
    assert "123456" == data["page_id"]
    assert [
        item["jira_key"] or item_digest("123456", item["summary"]) for item in data["items"]
    ] == [item["item_id"] for item in data["items"]]


def test_standard_input_is_read_with_a_dash(runner):
    """``-`` reads the page from standard input."""
    result = runner.invoke(main, ["parse", "-", "--json"], input=CLOUD.read_bytes())

    assert 3 == len(json.loads(result.stdout)["items"])


def test_warnings_go_to_standard_error_with_their_code(runner):
    """Warnings do not mix with the items: they go to stderr, code first."""
    result = runner.invoke(main, ["parse", str(FIXTURES / "merged-cells.xml"), "--json"])

    assert 0 == result.exit_code
    assert result.stderr.startswith("warning [merged-summary]: row 6 of the table under")
    json.loads(result.stdout)


def test_date_order_option_reads_ambiguous_dates(runner, tmp_path):
    """``--date-order DMY`` reads 03/04/2026 as 3 April."""
    page = tmp_path / "page.xml"
    page.write_text(
        "<table><tr><th>Action</th><th>Due</th></tr><tr><td>Fix it</td><td>03/04/2026</td>"
        "</tr></table>"
    )

    result = runner.invoke(main, ["parse", str(page), "--json", "--date-order", "DMY"])

    assert "2026-04-03" == json.loads(result.stdout)["items"][0]["due"]


def test_unreadable_file_is_a_clear_error(runner, tmp_path):
    """A file without markup exits 1 with the reason, not a traceback."""
    page = tmp_path / "notes.txt"
    page.write_text("just some notes")

    result = runner.invoke(main, ["parse", str(page)])

    assert 1 == result.exit_code
    assert "page notes holds no storage-format markup" in result.stderr


def test_invalid_utf8_is_read_leniently(runner, tmp_path):
    """A stray Latin-1 byte in an exported page does not stop it being read."""
    page = tmp_path / "page.xml"
    page.write_bytes(CLOUD.read_bytes().replace(b"Platform team", b"Plattform-\xe9quipe"))

    result = runner.invoke(main, ["parse", str(page)])

    assert (0, 3) == (result.exit_code, result.stdout.count("\n") - 2)


def test_page_without_items_says_so(runner, tmp_path):
    """An empty result is said in words."""
    page = tmp_path / "page.xml"
    page.write_text("<p>Nothing to do.</p>")

    assert "0 action items in page page\n" == runner.invoke(main, ["parse", str(page)]).stdout


def test_real_process_prints_json(tmp_path):
    """``python -m pmsync parse FILE --json`` works as a real process."""
    completed = subprocess.run(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", "parse", str(CLOUD), "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert 0 == completed.returncode, completed.stderr
    assert 3 == len(json.loads(completed.stdout)["items"])
