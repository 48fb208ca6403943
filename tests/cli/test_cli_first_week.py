"""What a new team trips over in its first week on a real site (issue 14).

Wrong input that used to pass silently, network failures that were slow and vague, and
configuration mistakes that read as pmsync bugs.
"""

from __future__ import annotations

import html
import io
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest
import requests
from cli_helpers import ALICE, BOB, CONFIG, action_page, emulator_env, run_pmsync
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

import pmsync
from pmsync._demo import PlainOutput, RichOutput, run_demo
from pmsync.cli import main
from pmsync.config import Config
from pmsync.testing import Emulator


def _closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _requests(metrics: Path) -> dict[tuple[str, str], float]:
    """HTTP requests by (service, status class) from a metrics file."""
    found = {}
    for family in text_string_to_metric_families(metrics.read_text(encoding="utf-8")):
        for sample in family.samples:
            if sample.name == "pmsync_http_requests":
                found[sample.labels["service"], sample.labels["status_class"]] = sample.value
    return found


# -- pages selected by id -------------------------------------------------------------


def test_a_page_that_does_not_exist_is_an_error_naming_it(runner, emu, page_id, config_file):
    result = runner.invoke(main, ["sync", "-q", "--page", "999999"], env=emulator_env(emu))
    assert 1 == result.exit_code
    assert "error: page 999999 does not exist" in result.stderr


def test_plan_of_a_page_that_does_not_exist_exits_1(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["plan", "--page", "999999"], env=emulator_env(emu))
    assert 1 == result.exit_code
    assert "page 999999" in result.stderr


def test_a_page_without_action_items_is_a_warning_naming_it(runner, emu, config_file) -> None:
    bare = emu.add_page("SRE", "Postmortem: no table", "<p>We will do better.</p>")
    result = runner.invoke(main, ["sync", "-q", "--page", bare], env=emulator_env(emu))
    assert 0 == result.exit_code
    assert f"'Postmortem: no table' ({bare}) has no action items" in result.stderr
    # The message the troubleshooting page tells readers to look for.
    docs = (Path(__file__).parents[2] / "docs" / "troubleshooting.md").read_text("utf-8")
    promised = "has no action items: no action-item table found"
    assert promised in " ".join(docs.split())
    assert promised in result.stderr


def test_found_pages_with_items_give_no_selection_message(runner, emu, page_id, config_file):
    result = runner.invoke(main, ["plan", "--page", page_id], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    assert "no action items" not in result.stderr


# -- configuration mistakes -----------------------------------------------------------


def test_a_url_without_scheme_is_a_configuration_error_naming_it(
    runner, emu, page_id, config_file
) -> None:
    env = emulator_env(emu, PMSYNC_JIRA_URL=f"127.0.0.1:{emu.port}")
    result = runner.invoke(main, ["plan"], env=env)
    assert 2 == result.exit_code
    assert "PMSYNC_JIRA_URL" in result.stderr
    assert "bug" not in result.stderr


def test_a_cloud_site_under_another_name_gets_the_deployment_hint(
    runner, emu, page_id, config_file
) -> None:
    env = emulator_env(emu)
    del env["PMSYNC_CONFLUENCE_URL"], env["PMSYNC_DEPLOYMENT"]
    result = runner.invoke(main, ["plan"], env=env)
    assert 2 == result.exit_code
    assert "PMSYNC_DEPLOYMENT=cloud" in result.stderr


def test_a_missing_ca_bundle_is_a_configuration_error(runner, emu, page_id, tmp_path) -> None:
    (tmp_path / "pmsync.toml").write_text(
        'project = "OPS"\ncql = "space = SRE"\nca_bundle = "missing.pem"\n', encoding="utf-8"
    )
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert 2 == result.exit_code
    assert "ca_bundle" in result.stderr
    assert "missing.pem" in result.stderr


def test_a_ca_bundle_that_is_not_pem_is_a_configuration_error(runner, emu, page_id, tmp_path):
    (tmp_path / "ca.pem").write_text("not a certificate\n", encoding="utf-8")
    (tmp_path / "pmsync.toml").write_text(
        'project = "OPS"\ncql = "space = SRE"\nca_bundle = "ca.pem"\n', encoding="utf-8"
    )
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert 2 == result.exit_code
    assert "key 'ca_bundle'" in result.stderr


def test_the_ca_bundle_setting_is_what_the_clients_verify_with(emu, tmp_path) -> None:
    bundle = certifi.where()  # a real bundle, standing in for a corporate one
    config = Config(project="OPS", ca_bundle=bundle)
    syncer = pmsync.Syncer.from_env(config, environ=emulator_env(emu))
    assert [bundle] * 2 == [
        syncer.jira.http.client.verify_ssl,
        syncer.confluence.http.client.verify_ssl,
    ]


# -- network failures -----------------------------------------------------------------


def test_connection_refused_fails_fast_naming_the_url(runner, page_id, config_file, tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}"
    env = {
        "PMSYNC_JIRA_URL": url,
        "PMSYNC_DEPLOYMENT": "cloud",
        "PMSYNC_EMAIL": "bot@example.com",
        "PMSYNC_API_TOKEN": "token-0123456789",
    }
    metrics = tmp_path / "pmsync.prom"
    result = runner.invoke(main, ["sync", "--metrics-file", str(metrics)], env=env)
    assert 3 == result.exit_code
    assert f"{url}/wiki/rest/api/" in result.stderr
    assert "connection refused" in result.stderr
    assert "PMSYNC_CONFLUENCE_URL" in result.stderr  # the advice names the variable
    # One request and one retry, not a minute of backoff.
    assert {("confluence", "none"): 2} == _requests(metrics)


def test_a_tls_error_names_the_url_and_advises_a_ca_bundle(
    runner, emu, page_id, config_file, tmp_path
) -> None:
    https = emu.url.replace("http://", "https://")
    env = emulator_env(emu, PMSYNC_JIRA_URL=https, PMSYNC_CONFLUENCE_URL=f"{https}/wiki")
    metrics = tmp_path / "pmsync.prom"
    result = runner.invoke(main, ["sync", "--metrics-file", str(metrics)], env=env)
    assert 3 == result.exit_code
    assert f"{https}/wiki/rest/api/" in result.stderr
    assert "TLS" in result.stderr
    assert "REQUESTS_CA_BUNDLE" in result.stderr
    assert "ca_bundle" in result.stderr
    assert {("confluence", "none"): 1} == _requests(metrics)  # not retried


@pytest.fixture
def overdue(runner, emu: Emulator, config_file: Path) -> Emulator:
    """Two items filed in Jira and overdue on 2030-03-01, with a channel to escalate to."""
    config_file.write_text(config_file.read_text() + 'slack_channel = "#incidents"\n')
    emu.add_page(
        "SRE",
        "Postmortem: late",
        action_page(
            [
                ("Fix the first thing", ALICE, "2030-01-15", None),
                ("Fix the second thing", BOB, "2030-01-16", None),
            ]
        ),
        labels=("postmortem",),
    )
    assert 0 == runner.invoke(main, ["sync", "-q"], env=emulator_env(emu)).exit_code
    return emu


def test_remind_with_slack_unreachable_exits_3_with_one_error(runner, overdue) -> None:
    slack = f"http://127.0.0.1:{_closed_port()}/api/"
    env = emulator_env(overdue, PMSYNC_SLACK_URL=slack)
    result = runner.invoke(main, ["remind", "--today", "2030-03-01"], env=env)
    assert 3 == result.exit_code
    assert 1 == result.stderr.count(slack), result.stderr
    assert "PMSYNC_SLACK_URL" in result.stderr


# -- pmsync emulator ------------------------------------------------------------------


@pytest.fixture(params=["cloud", "server"])
def served(request, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    """`pmsync emulator --seed demo` running, and the variables its export lines set."""
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", "emulator", "--seed", "demo", "--flavour", request.param],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    exports: dict[str, str] = {}
    assert process.stdout is not None
    for line in process.stdout:
        if line.strip().startswith("export "):
            name, value = line.strip().removeprefix("export ").split("=", 1)
            exports[name] = shlex.split(value)[0]
        if line.startswith("Serving"):
            break
    try:
        yield process, exports
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_the_emulator_prints_the_exports_that_point_the_cli_at_it(served, tmp_path) -> None:
    _process, exports = served
    (tmp_path / "pmsync.toml").write_text(CONFIG, encoding="utf-8")
    result = run_pmsync(["plan"], env=exports, cwd=tmp_path)
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "create" in result.stdout
    assert {"PMSYNC_DEPLOYMENT", "PMSYNC_SLACK_URL", "PMSYNC_SLACK_TOKEN"} <= set(exports)


def test_a_tls_client_on_the_emulator_port_logs_no_error(served) -> None:
    process, exports = served
    https = exports["PMSYNC_JIRA_URL"].replace("http://", "https://")
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https}/rest/api/2/myself", timeout=10)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert "Error" not in output, output


# -- closed pipes ---------------------------------------------------------------------


def _first_lines_then_close(args: list[str], cwd: Path, lines: int) -> tuple[int, str]:
    """Run pmsync, read ``lines`` lines of its output and close the pipe, like `| head`."""
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", *args],
        env={k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    for _ in range(lines):
        process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    return process.wait(timeout=60), stderr


def test_parse_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    rows = [(f"Action item number {n} " + "x" * 60, ALICE, "2030-01-15", None) for n in range(3000)]
    page = tmp_path / "big.xml"
    page.write_text(action_page(rows), encoding="utf-8")  # far more than a pipe holds
    code, stderr = _first_lines_then_close(["parse", str(page)], tmp_path, 1)
    assert (141, "") == (code, stderr)


def test_demo_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    code, stderr = _first_lines_then_close(["demo"], tmp_path, 3)
    assert (141, "") == (code, stderr)


# -- report ---------------------------------------------------------------------------

LONG_TITLE = "Postmortem: checkout API outage during the Black Friday peak (2026-11-27)"


@pytest.fixture
def late_page(runner, emu: Emulator, config_file: Path) -> str:
    """A long-titled page with one item, filed in Jira and overdue by 2030-03-01."""
    page = emu.add_page(
        "SRE",
        LONG_TITLE,
        action_page(
            [("Add a circuit breaker & a <fallback> for payments", ALICE, "2030-01-15", None)]
        ),
        labels=("postmortem",),
    )
    assert 0 == runner.invoke(main, ["sync", "-q"], env=emulator_env(emu)).exit_code
    return page


def test_report_output_html_file_is_html(runner, emu, late_page, tmp_path) -> None:
    out = tmp_path / "x.html"
    result = runner.invoke(main, ["report", "-o", str(out)], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_format_still_wins_over_the_extension(runner, emu, late_page, tmp_path) -> None:
    out = tmp_path / "x.html"
    runner.invoke(main, ["report", "--format", "csv", "-o", str(out)], env=emulator_env(emu))
    assert out.read_text(encoding="utf-8").startswith("page_id,")


def test_html_report_has_full_titles_and_links(runner, emu, late_page, tmp_path) -> None:
    out = tmp_path / "report.html"
    runner.invoke(main, ["report", "--today", "2030-03-01", "-o", str(out)], env=emulator_env(emu))
    text = out.read_text(encoding="utf-8")
    [issue] = emu.issues("OPS")
    page_link = f'<a href="{emu.confluence_url}/pages/viewpage.action?pageId={late_page}">'
    assert f"{page_link}{html.escape(LONG_TITLE)}</a>" in text
    assert f'<a href="{emu.url}/browse/{issue["key"]}">{issue["key"]}</a>' in text
    assert "circuit breaker &amp; a &lt;fallback&gt; for payments</a>" in text


# -- advice worded for the command line -----------------------------------------------


def test_an_ambiguous_date_points_cli_users_at_the_setting(runner, emu, config_file) -> None:
    page = action_page([("Rotate the logs", ALICE, None, None)]).replace(
        "<td><br /></td><td><br /></td><td><br /></td></tr>",
        "<td>03/04/2030</td><td><br /></td><td><br /></td></tr>",
    )
    emu.add_page("SRE", "Postmortem: dates", page, labels=("postmortem",))
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert "set date_order (DMY or MDY) in the configuration" in result.output
    assert "date_order='DMY'" not in result.output
    # Python users keep the Python advice.
    [warning] = pmsync.parse_page(page).warnings
    assert "pass date_order='DMY' or 'MDY'" in warning.message


def test_parse_points_at_the_date_order_flag_and_the_columns_setting(runner, tmp_path) -> None:
    page = tmp_path / "page.xml"
    page.write_text(
        "<h2>Action items</h2><table><tbody><tr><th>Remedy</th><th>Primary contact</th>"
        "<th>Land by</th></tr><tr><td>Fix it</td><td>Alice</td><td>03/04/2030</td></tr>"
        "</tbody></table>",
        encoding="utf-8",
    )
    result = runner.invoke(main, ["parse", str(page)])
    assert "[columns] in the configuration" in result.stderr
    assert "columns=" not in result.stderr


def test_remind_without_a_slack_token_names_the_variable(runner, emu, page_id, config_file):
    env = emulator_env(emu)
    del env["PMSYNC_SLACK_TOKEN"]
    result = runner.invoke(main, ["remind"], env=env)
    assert 2 == result.exit_code
    assert "set PMSYNC_SLACK_TOKEN (or PMSYNC_SLACK_TOKEN_FILE)" in result.stderr
    assert "WebClient" not in result.stderr


# -- how warnings and tables read -----------------------------------------------------


def test_a_lint_error_is_not_called_a_warning(runner, emu, config_file) -> None:
    emu.add_page(
        "SRE",
        "Postmortem: unowned",
        action_page([("Rotate the logs hourly", None, "2030-01-15", None)]),
        labels=("postmortem",),
    )
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert "lint error [no-owner]: " in result.output
    assert "warning: lint" not in result.output


def _words(text: str) -> set[str]:
    """Whole words of four letters or more, leaving out those cut short by an ellipsis."""
    return set(re.findall(r"[A-Za-z]{4,}(?![A-Za-z…])", text))


def test_the_demo_on_an_80_column_terminal_cuts_no_word_and_shows_empty_tables(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    plain: list[str] = []
    run_demo(PlainOutput(plain.append))
    screen = io.StringIO()
    run_demo(RichOutput(Console(file=screen, width=80, force_terminal=True, color_system=None)))
    text = screen.getvalue()
    assert [] == sorted(_words(text) - _words("\n".join(plain)))  # no "laten" + "cy"
    assert "Slack messages: (none)" in text


def test_report_of_a_page_that_does_not_exist_is_an_error(runner, emu, page_id, config_file):
    bare = emu.add_page("SRE", "Postmortem: no table", "<p>We will do better.</p>")
    result = runner.invoke(
        main,
        ["report", "--page", page_id, "--page", "999999", "--page", bare],
        env=emulator_env(emu),
    )
    assert 1 == result.exit_code
    assert "error: page 999999 does not exist" in result.stderr
    assert f"'Postmortem: no table' ({bare}) has no action items" in result.stderr
    assert f"({page_id})" not in result.stderr
