"""SIGTERM during `pmsync sync` (a cron timeout, `kill`): stopped like Ctrl-C, pages whole."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import ALICE, action_page, emulator_env

from pmsync.testing import Emulator, RequestRecord


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child needs POSIX")
def test_sigterm_while_writing_stops_the_workers_and_leaves_no_page_half_written(
    emu: Emulator, config_file: Path, tmp_path: Path
) -> None:
    rows = [(f"Action {n}", ALICE, "2030-01-15", None) for n in range(3)]
    ids = [
        emu.add_page("SRE", f"Postmortem {p}", action_page(rows), labels=("postmortem",))
        for p in range(12)
    ]
    before = {p: emu.page(p)["storage"] for p in ids}
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")}
    env.update(emulator_env(emu), PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "pmsync", "sync", "--yes"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writes: list[str] = []

    def terminate_at_the_second_page_write(record: RequestRecord) -> None:
        if record.method == "PUT" and re.search(r"/pages/\d+$", record.path):
            writes.append(record.path)
            if len(writes) == 2:
                process.send_signal(signal.SIGTERM)

    emu.add_request_listener(terminate_at_the_second_page_write)
    _, stderr = process.communicate(timeout=60)
    assert 130 == process.returncode, stderr
    assert "interrupted" in stderr
    written = [p for p in ids if emu.page(p)["storage"] != before[p]]
    assert 2 <= len(written) < len(ids)
    for page_id in written:  # whole: a key in every row
        assert 3 == len(set(re.findall(r"OPS-\d+", emu.page(page_id)["storage"])))
