"""More of what a new team meets in its first week: Ctrl-C in a sync, pages without items.

Found by trying issue 14 from the README on a fresh machine against `pmsync emulator`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import CONFIG, emulator_env
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

import pmsync._cli_session
from pmsync._logging import Redactor
from pmsync.cli import main
from pmsync.testing import Emulator


def _samples(metrics: Path) -> dict[str, float]:
    """Every sample of a metrics file by name (the command label is the same for all)."""
    text = metrics.read_text(encoding="utf-8")
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# -- Ctrl-C ---------------------------------------------------------------------------


def _sync_interrupted_while_writing_a_page(
    emu: Emulator, cwd: Path, *options: str
) -> tuple[int, str, str]:
    """Run ``pmsync sync OPTIONS`` as a process and press Ctrl-C (SIGINT) while it writes
    the first page, after its issues exist; return the exit code, stdout and stderr."""
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", "sync", *options],
        env=_process_env(emu),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    emu.faults.on_page_write(lambda _page: process.send_signal(signal.SIGINT))
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def _process_env(emu: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")}
    return env | emulator_env(emu) | {"PYTHONUNBUFFERED": "1"}


def test_ctrl_c_in_a_sync_exits_130_says_what_to_do_and_records_the_run(
    emu: Emulator, page_id: str, config_file: Path, tmp_path: Path
) -> None:
    metrics = tmp_path / "sync.prom"
    code, out, err = _sync_interrupted_while_writing_a_page(
        emu, tmp_path, "-q", "--metrics-file", str(metrics)
    )
    assert 130 == code, err
    assert "Aborted!" not in err
    assert "pmsync: interrupted" in err
    assert "pmsync sync" in err  # what to run to finish the job
    assert "Traceback" not in err
    assert "" == out
    recorded = _samples(metrics)
    assert 130 == recorded["pmsync_exit_code"]
    assert "pmsync_last_success_timestamp_seconds" not in recorded
    # The next run finishes the job without a duplicate.
    rerun = subprocess.run(
        [sys.executable, "-m", "pmsync", "sync", "-q"],
        env=_process_env(emu),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == rerun.returncode, rerun.stderr
    assert 2 == len(emu.issues())


def test_ctrl_c_with_json_prints_the_error_document(
    emu: Emulator, page_id: str, config_file: Path, tmp_path: Path
) -> None:
    code, out, err = _sync_interrupted_while_writing_a_page(emu, tmp_path, "--json")
    assert 130 == code, err
    document = json.loads(out)
    assert {"ok": False, "exit_code": 130} == {k: document[k] for k in ("ok", "exit_code")}
    assert document["error"]["message"].startswith("interrupted.")


# -- pages without action items -------------------------------------------------------


def test_a_page_the_cql_selects_without_action_items_is_a_warning_naming_it(
    runner: CliRunner, emu: Emulator, page_id: str, config_file: Path
) -> None:
    bare = emu.add_page(
        "SRE", "Postmortem: no table yet", "<p>Actions to follow.</p>", labels=("postmortem",)
    )
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    assert f"'Postmortem: no table yet' ({bare}) has no action items" in result.stderr
    assert 1 == result.stderr.count("has no action items")  # not the page with items


def test_plan_q_of_the_cql_pages_stays_quiet_about_pages_without_items(
    runner: CliRunner, emu: Emulator, page_id: str, config_file: Path
) -> None:
    emu.add_page("SRE", "Postmortem: no table yet", "<p>Later.</p>", labels=("postmortem",))
    result = runner.invoke(main, ["plan", "-q"], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    assert "" == result.stderr


def test_lint_of_a_file_without_an_action_item_table_warns_naming_it(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "draft.xml").write_text("<p>We will do better.</p>", encoding="utf-8")
    result = runner.invoke(main, ["lint", "--strict", "draft.xml"])
    assert 1 == result.exit_code
    assert "warning [no-action-items] page 'draft.xml'" in result.stdout
    assert "no action-item table found" in result.stdout
    assert "No problems" not in result.output


def test_cloud_without_an_email_names_the_email_variable(
    runner: CliRunner, emu: Emulator, page_id: str, config_file: Path
) -> None:
    env = emulator_env(emu)
    del env["PMSYNC_EMAIL"]
    result = runner.invoke(main, ["plan"], env=env)
    assert 2 == result.exit_code
    assert "key 'PMSYNC_EMAIL'" in result.stderr


def test_ctrl_c_at_the_question_of_sync_changes_nothing_and_says_so(
    runner: CliRunner,
    emu: Emulator,
    page_id: str,
    config_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pmsync._cli_session, "is_interactive", lambda: True)
    # No answer at all (the input ends): click.confirm aborts, as it does on Ctrl-C.
    result = runner.invoke(main, ["sync"], env=emulator_env(emu), input="")
    assert 130 == result.exit_code
    assert "Aborted!" not in result.output
    assert "Not applied: nothing was changed." in result.output
    assert [] == emu.issues()


def test_a_configuration_saved_as_utf16_is_a_configuration_error_naming_the_file(
    runner: CliRunner, emu: Emulator, tmp_path: Path
) -> None:
    # What Windows editors save as "Unicode".
    (tmp_path / "pmsync.toml").write_text('project = "OPS"\n', encoding="utf-16")
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert 2 == result.exit_code
    assert "pmsync.toml" in result.stderr
    assert "UTF-8" in result.stderr
    assert "bug" not in result.stderr


def test_a_configuration_with_a_utf8_byte_order_mark_is_read(
    runner: CliRunner, emu: Emulator, page_id: str, tmp_path: Path
) -> None:
    (tmp_path / "pmsync.toml").write_text(CONFIG, encoding="utf-8-sig")
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert 0 == result.exit_code, result.stderr
    assert "Plan: 2 create" in result.stdout


def test_a_token_file_that_is_not_utf8_is_a_configuration_error_naming_the_variable(
    runner: CliRunner, emu: Emulator, page_id: str, config_file: Path, tmp_path: Path
) -> None:
    # PowerShell's `echo token > file` writes UTF-16.
    (tmp_path / "token").write_text(emu.token, encoding="utf-16")
    env = emulator_env(emu, PMSYNC_API_TOKEN_FILE=str(tmp_path / "token"))
    del env["PMSYNC_API_TOKEN"]
    result = runner.invoke(main, ["plan"], env=env)
    assert 2 == result.exit_code
    assert "PMSYNC_API_TOKEN_FILE" in result.stderr
    assert "UTF-8" in result.stderr
    assert "bug" not in result.stderr


def test_a_token_file_with_a_byte_order_mark_is_used_and_redacted(
    runner: CliRunner, emu: Emulator, page_id: str, config_file: Path, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text(emu.token + "\n", encoding="utf-8-sig")
    env = emulator_env(emu, PMSYNC_API_TOKEN_FILE=str(tmp_path / "token"))
    del env["PMSYNC_API_TOKEN"]
    result = runner.invoke(main, ["plan"], env=env)
    assert 0 == result.exit_code, result.stderr
    # What pmsync authenticates with is what it hides.
    assert "[redacted]" == Redactor.from_env(env)(emu.token)


# -- ports ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["emulator"], ["serve"]])
def test_a_port_in_use_is_a_usage_error_pointing_at_the_port_option(
    runner: CliRunner, emu: Emulator, config_file: Path, command: list[str]
) -> None:
    env = emulator_env(emu, PMSYNC_WEBHOOK_SECRET="webhook-secret-for-tests")
    result = runner.invoke(main, [*command, "--port", str(emu.port)], env=env)
    assert 2 == result.exit_code, result.output
    assert f"127.0.0.1:{emu.port}" in result.stderr
    assert "--port" in result.stderr
