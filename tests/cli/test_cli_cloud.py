"""Cron runs against Atlassian Cloud's rate limits: a long quota wait ends the run with 3."""

from __future__ import annotations

import datetime as dt

import time_machine
from cli_helpers import emulator_env

from pmsync.cli import main


def test_a_long_quota_wait_ends_a_cron_run_with_exit_3_and_nothing_half_written(
    emu, page_id, config_file, runner
):
    """Jira's hourly quota runs out right after the create: stop, exit 3, resume next run."""

    def quota_runs_out(record):
        if record.path.endswith("/issue/bulk") and record.status == 201:
            emu.faults.rate_limit(retry_after=1800, reason="jira-quota-tenant-based")

    emu.add_request_listener(quota_runs_out)
    result = runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    assert 3 == result.exit_code, result.output
    assert "jira-quota-tenant-based" in result.stderr
    statuses = [r.status for r in emu.requests]
    assert [429] == statuses[statuses.index(429) :]  # nothing was sent after the 429
    assert 1 == emu.page(page_id)["version"]  # the page was not written at all

    emu.faults.clear()
    # The stopped run could not release its page lease: the next cron run, once the lease
    # has expired (15 minutes), takes the page over and finishes it.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        again = runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    assert 0 == again.exit_code, again.output
    assert 2 == len(emu.issues("OPS"))  # the next run adopted them: no duplicates
    assert 2 == emu.page(page_id)["version"]
