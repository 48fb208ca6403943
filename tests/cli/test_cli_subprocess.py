"""The real entry point, `python -m pmsync`, as cron runs it: exit codes, the lock, secrets.

Each test starts real processes (about 0.3 s each), so these cover what only a process
shows; the click runner tests cover the breadth of options.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import (
    ALICE,
    BOB,
    action_page,
    done_in_row_2,
    emulator_env,
    refuse_moving,
    run_pmsync,
)

WRONG = "wrong-token-5c1d2e3f4a5b"


def _both(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def test_demo_exits_0_in_a_fresh_process(tmp_path: Path) -> None:
    result = run_pmsync(["demo"], env={}, cwd=tmp_path)
    assert 0 == result.returncode, _both(result)
    assert "4. One more run" in result.stdout
    assert "Nothing to do" in result.stdout
    assert "" == result.stderr


def test_sync_exits_0_and_prints_json(tmp_path, emu, page_id, config_file) -> None:
    result = run_pmsync(["sync", "--json"], env=emulator_env(emu), cwd=tmp_path)
    assert 0 == result.returncode, _both(result)
    document = json.loads(result.stdout)
    assert (True, 2) == (document["ok"], len(document["created"]))


def test_cron_run_is_silent_when_all_is_well(tmp_path, emu, page_id, config_file) -> None:
    """A run that changed something says so in one line; a run with nothing to do is silent."""
    first = run_pmsync(["sync", "-q"], env=emulator_env(emu), cwd=tmp_path)
    assert (0, "", 1) == (first.returncode, first.stdout, len(first.stderr.splitlines()))
    assert first.stderr.startswith("pmsync: command=sync exit_code=0 ")
    result = run_pmsync(["sync", "-q"], env=emulator_env(emu), cwd=tmp_path)
    assert (0, "", "") == (result.returncode, result.stdout, result.stderr)


def test_log_lines_are_greppable_when_not_a_terminal(tmp_path, emu, page_id, config_file) -> None:
    result = run_pmsync(["sync"], env=emulator_env(emu), cwd=tmp_path)
    first = result.stderr.splitlines()[0]
    assert first.endswith("INFO pmsync.cli: Reading pages and issues, and applying in batches")
    assert "\x1b[" not in result.stdout + result.stderr  # no colour codes


def test_partial_failure_exits_1(tmp_path, emu, config_file) -> None:
    emu.add_page(
        "SRE",
        "Postmortem: cache stampede",
        action_page(
            [
                ("Add jitter to cache expiry", ALICE, "2030-01-15", "High"),
                ("Cap concurrent cache refills", BOB, "2030-01-20", "High"),
            ]
        ),
        labels=("postmortem",),
    )
    assert 0 == run_pmsync(["sync", "-q"], env=emulator_env(emu), cwd=tmp_path).returncode
    page_id = emu.pages()[0]["id"]
    done_in_row_2(emu, page_id)
    emu.set_request_gate(refuse_moving("OPS-2"))  # a workflow rule, say: that row alone fails
    result = run_pmsync(["sync", "-q"], env=emulator_env(emu), cwd=tmp_path)
    assert 1 == result.returncode, _both(result)
    assert "" == result.stdout
    assert "row 2" in result.stderr


def test_configuration_error_exits_2(tmp_path, emu) -> None:
    (tmp_path / "pmsync.toml").write_text('project = "OPS"\nwriteback = "yes"\n')
    result = run_pmsync(["sync"], env=emulator_env(emu), cwd=tmp_path)
    assert 2 == result.returncode
    assert "pmsync.toml:2" in result.stderr


def test_wrong_token_exits_3_and_never_shows_it(tmp_path, emu, page_id, config_file) -> None:
    env = emulator_env(emu, PMSYNC_API_TOKEN=WRONG)
    result = run_pmsync(["sync", "-vv"], env=env, cwd=tmp_path)
    assert 3 == result.returncode, _both(result)
    basic = base64.b64encode(f"{emu.email}:{WRONG}".encode()).decode()
    assert WRONG not in _both(result)
    assert basic not in _both(result)
    assert "Traceback" in result.stderr  # -v shows it, redacted


def test_token_from_a_file_never_shows(tmp_path, emu, page_id, config_file) -> None:
    secret = tmp_path / "token"
    secret.write_text(WRONG + "\n")
    env = emulator_env(emu, PMSYNC_API_TOKEN_FILE=str(secret))
    del env["PMSYNC_API_TOKEN"]
    result = run_pmsync(["plan", "-vv", "--json"], env=env, cwd=tmp_path)
    assert 3 == result.returncode
    assert WRONG not in _both(result)
    assert "AuthError" == json.loads(result.stdout)["error"]["type"]


def test_debug_logs_of_a_good_run_never_show_the_tokens(
    tmp_path, emu, page_id, config_file
) -> None:
    result = run_pmsync(
        ["sync", "-vv", "--log-format", "json"], env=emulator_env(emu), cwd=tmp_path
    )
    assert 0 == result.returncode, _both(result)
    assert emu.token not in _both(result)
    assert emu.slack_token not in _both(result)
    assert all(json.loads(line)["level"] for line in result.stderr.splitlines())


def test_second_run_exits_4_while_the_first_holds_the_lock(
    tmp_path, emu, page_id, config_file
) -> None:
    """The first run is paused inside its page write while a second run starts."""
    env = emulator_env(emu)
    second: list[subprocess.CompletedProcess[str]] = []
    emu.faults.on_page_write(
        lambda _page: second.append(run_pmsync(["sync"], env=env, cwd=tmp_path))
    )
    first = subprocess.Popen(
        [sys.executable, "-m", "pmsync", "sync", "-q"],
        env={**{k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")}, **env},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = first.communicate(timeout=60)
    assert (0, "", True) == (first.returncode, out, err.startswith("pmsync: command=sync"))
    [blocked] = second
    assert 4 == blocked.returncode, _both(blocked)
    assert str(tmp_path / "pmsync.toml.lock") in blocked.stderr
    assert f"pid {first.pid}" in blocked.stderr
    assert 2 == len(emu.issues("OPS"))  # the second run created nothing


def test_emulator_serves_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pmsync", "emulator", "--seed", "demo"],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Serving"):
            break
    process.send_signal(signal.SIGINT)
    rest, _err = process.communicate(timeout=30)
    assert 0 == process.returncode
    assert any("Postmortem pages:" in line for line in lines)
    assert "Stopping." in rest


@pytest.mark.parametrize("command", ["plan", "sync", "remind", "report", "lint", "demo", "init"])
def test_every_command_answers_help_in_a_process(tmp_path: Path, command: str) -> None:
    result = run_pmsync([command, "--help"], env={}, cwd=tmp_path)
    assert 0 == result.returncode
    assert f"Usage: pmsync {command}" in result.stdout


def _run_on_a_terminal(args: list[str], cwd: Path, **env: str) -> str:
    """Run pmsync with a pseudo-terminal as standard input and output; return the output."""
    import pty

    leader, follower = pty.openpty()
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", *args],
        env={**base, "TERM": "xterm-256color", "COLUMNS": "160", **env},
        cwd=cwd,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert 0 == process.wait(timeout=60)
    return b"".join(chunks).decode("utf-8", "replace")


def _colours(output: str) -> set[int]:
    """The foreground colours (SGR 30-38, 90-97) that terminal output switches on."""
    return {
        code
        for params in re.findall(r"\x1b\[([\d;]*)m", output)
        for code in map(int, filter(None, params.split(";")))
        if 30 <= code <= 38 or 90 <= code <= 97
    }


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")
def test_demo_on_a_terminal_uses_colour(tmp_path: Path) -> None:
    output = _run_on_a_terminal(["demo"], tmp_path)
    assert _colours(output)
    assert "┏" in output  # rich tables


@pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")
def test_no_color_turns_colour_off_on_a_terminal(tmp_path: Path) -> None:
    output = _run_on_a_terminal(["demo"], tmp_path, NO_COLOR="1")
    assert set() == _colours(output)
    assert "┏" in output
