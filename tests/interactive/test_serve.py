"""`pmsync serve` as a real process against the emulator: health, a button, a shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from interactive_helpers import WEBHOOK_SECRET, dm_to

from pmsync._logging import Redactor
from pmsync._messages import ACTION_DONE


@pytest.fixture
def served(tmp_path: Path, emu) -> Iterator[str]:
    """``pmsync serve --port 0`` running; yields the URL it printed."""
    (tmp_path / "pmsync.toml").write_text(
        'project = "OPS"\nslack_buttons = true\ncql = "space = SRE"\n', encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")}
    env.update(
        PMSYNC_JIRA_URL=emu.url,
        PMSYNC_CONFLUENCE_URL=emu.confluence_url,
        PMSYNC_DEPLOYMENT="cloud",
        PMSYNC_EMAIL=emu.email,
        PMSYNC_API_TOKEN=emu.token,
        PMSYNC_SLACK_TOKEN=emu.slack_token,
        PMSYNC_SLACK_URL=emu.slack_url,
        PMSYNC_SLACK_SIGNING_SECRET=emu.slack_signing_secret,
        PMSYNC_WEBHOOK_SECRET=WEBHOOK_SECRET,
        PYTHONUNBUFFERED="1",
    )
    log = (tmp_path / "serve.log").open("w")  # log lines; a pipe nobody reads could fill
    process = subprocess.Popen(
        [sys.executable, "-m", "pmsync", "serve", "--port", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        served_log = (tmp_path / "serve.log").read_text
        assert line.startswith("pmsync: serving on http://127.0.0.1:"), served_log()
        yield line.split()[-1]
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
        log.close()
        assert 0 == code, (tmp_path / "serve.log").read_text()  # Ctrl-C is a clean stop


def test_healthz(served):
    answer = requests.get(served + "/healthz", timeout=30)
    assert 200 == answer.status_code


def test_a_press_on_done_is_carried_out(emu, page_id, served):
    del page_id
    updated = threading.Event()
    emu.add_request_listener(lambda r: r.path.endswith("/chat.update") and updated.set())
    emu.set_slack_request_url(served + "/slack/actions")
    delivery = emu.slack_click(dm_to(emu, "UALICE"), ACTION_DONE, user="UALICE")
    assert updated.wait(timeout=30)
    (issue,) = emu.issues("OPS")
    assert (200, "Done") == (delivery.status, issue["fields"]["status"]["name"])


def test_the_serve_secrets_are_redacted():
    """pmsync never prints the signing or webhook secret, like every other secret."""
    redact = Redactor.from_env(
        {"PMSYNC_SLACK_SIGNING_SECRET": "sign-8f2e1d", "PMSYNC_WEBHOOK_SECRET": "hook-77aa01"}
    )
    assert "[redacted] [redacted]" == redact("sign-8f2e1d hook-77aa01")
