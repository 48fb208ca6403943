"""More of what a new team meets in its first week: Ctrl-C in a sync, pages without items.

Found by trying issue 14 from the README on a fresh machine against `pmsync emulator`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from cli_helpers import emulator_env
from prometheus_client.parser import text_string_to_metric_families

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


def test_ctrl_c_in_a_sync_exits_130_says_what_to_do_and_records_the_run(
    emu: Emulator, page_id: str, config_file: Path, tmp_path: Path
) -> None:
    metrics = tmp_path / "sync.prom"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMSYNC_")}
    env |= emulator_env(emu) | {"PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "pmsync", "sync", "-q", "--metrics-file", str(metrics)],
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The person presses Ctrl-C while pmsync writes the page, after the issues exist.
    emu.faults.on_page_write(lambda _page: process.send_signal(signal.SIGINT))
    out, err = process.communicate(timeout=60)

    assert 130 == process.returncode, err
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
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == rerun.returncode, rerun.stderr
    assert 2 == len(emu.issues())
