"""Cron that monitoring can see: --metrics-file, metrics_file and the -q summary line."""

from __future__ import annotations

import re
from pathlib import Path

from cli_helpers import ALICE, CONFIG, action_page, emulator_env
from prometheus_client.parser import text_string_to_metric_families

from pmsync.cli import main


def _samples(path: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a metrics file, keyed by name and sorted labels (minus command)."""
    found = {}
    for family in text_string_to_metric_families(path.read_text(encoding="utf-8")):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "command"))
            found[sample.name, labels] = sample.value
    return found


def _summary(stderr: str) -> dict[str, str]:
    lines = [line for line in stderr.splitlines() if line.startswith("pmsync: command=")]
    assert 1 == len(lines), stderr
    return dict(pair.split("=", 1) for pair in lines[0].removeprefix("pmsync: ").split())


def test_quiet_sync_that_did_something_ends_with_one_key_value_line(
    runner, emu, page_id, config_file
) -> None:
    result = runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    summary = _summary(result.stderr)
    assert ("sync", "0", "2", "1", "0") == (
        summary["command"],
        summary["exit_code"],
        summary["issues_created"],
        summary["pages_written"],
        summary["errors"],
    )
    assert int(summary["http_requests"]) > 0
    assert re.fullmatch(r"\d+\.\d\d", summary["duration_seconds"])


def test_quiet_sync_with_nothing_to_do_prints_nothing(runner, emu, page_id, config_file) -> None:
    runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    again = runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    assert (0, "", "") == (again.exit_code, again.stdout, again.stderr)


def test_quiet_run_that_failed_says_so_in_its_summary(runner, emu, page_id, config_file) -> None:
    env = emulator_env(emu, PMSYNC_API_TOKEN="wrong-token-0123456789")
    result = runner.invoke(main, ["sync", "-q"], env=env)
    assert 3 == result.exit_code
    assert "3" == _summary(result.stderr)["exit_code"]


def test_summary_only_with_quiet(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["sync"], env=emulator_env(emu))
    assert "command=" not in result.output


def test_metrics_file_parses_and_counts_the_run(runner, emu, page_id, config_file, tmp_path):
    metrics = tmp_path / "pmsync.prom"
    result = runner.invoke(
        main, ["sync", "-q", "--metrics-file", str(metrics)], env=emulator_env(emu)
    )
    assert 0 == result.exit_code, result.output
    samples = _samples(metrics)
    assert (2, 0, 1, 0, 0, 0) == (
        samples["pmsync_issues_created", ()],
        samples["pmsync_issues_updated", ()],
        samples["pmsync_pages_written", ()],
        samples["pmsync_conflicts", ()],
        samples["pmsync_errors", ()],
        samples["pmsync_exit_code", ()],
    )
    assert (2, 2, 0, 0) == tuple(
        samples["pmsync_items", (("state", state),)]
        for state in ("total", "open", "done", "unowned")
    )
    assert samples["pmsync_http_requests", (("service", "jira"), ("status_class", "2xx"))] > 0
    assert samples["pmsync_http_requests", (("service", "confluence"), ("status_class", "2xx"))] > 0
    assert (
        samples["pmsync_last_success_timestamp_seconds", ()]
        == samples["pmsync_last_run_timestamp_seconds", ()]
    )
    assert [] == [p.name for p in tmp_path.iterdir() if p.name.startswith("pmsync.prom.")]


def test_metrics_file_from_the_configuration_one_file_per_command(runner, emu, page_id, tmp_path):
    (tmp_path / "pmsync.toml").write_text(
        CONFIG + 'metrics_file = "metrics/pmsync-{command}.prom"\n', encoding="utf-8"
    )
    (tmp_path / "metrics").mkdir()
    runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    runner.invoke(main, ["report", "-q"], env=emulator_env(emu))
    assert ["pmsync-report.prom", "pmsync-sync.prom"] == sorted(
        p.name for p in (tmp_path / "metrics").iterdir()
    )
    report = _samples(tmp_path / "metrics" / "pmsync-report.prom")
    assert 2 == report["pmsync_items", (("state", "total"),)]


def test_a_failed_run_keeps_the_last_success_time(runner, emu, page_id, config_file, tmp_path):
    metrics = tmp_path / "pmsync.prom"
    runner.invoke(main, ["sync", "-q", "--metrics-file", str(metrics)], env=emulator_env(emu))
    succeeded = _samples(metrics)["pmsync_last_success_timestamp_seconds", ()]
    env = emulator_env(emu, PMSYNC_API_TOKEN="wrong-token-0123456789")
    failed = runner.invoke(main, ["sync", "-q", "--metrics-file", str(metrics)], env=env)
    assert 3 == failed.exit_code
    samples = _samples(metrics)
    assert (3, succeeded) == (
        samples["pmsync_exit_code", ()],
        samples["pmsync_last_success_timestamp_seconds", ()],
    )
    refused = [
        value
        for (name, labels), value in samples.items()
        if name == "pmsync_http_requests" and ("status_class", "4xx") in labels
    ]
    assert [1.0] == refused


def test_metrics_count_429s_and_retries(runner, emu, page_id, config_file, tmp_path) -> None:
    metrics = tmp_path / "pmsync.prom"
    emu.faults.rate_limit(count=2, retry_after=0, service="jira")
    result = runner.invoke(
        main, ["sync", "-q", "--metrics-file", str(metrics)], env=emulator_env(emu)
    )
    assert 0 == result.exit_code, result.output
    samples = _samples(metrics)
    assert (2, 2) == (
        samples["pmsync_http_rate_limited", (("service", "jira"),)],
        samples["pmsync_http_retries", (("service", "jira"),)],
    )
    assert "http_429=2" in result.stderr


def test_remind_metrics_count_the_reminders_sent(runner, emu, config_file, tmp_path) -> None:
    emu.add_page(
        "SRE",
        "Postmortem: late",
        action_page([("Fix the overdue thing", ALICE, "2030-01-15", None)]),
        labels=("postmortem",),
    )
    runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    metrics = tmp_path / "remind.prom"
    result = runner.invoke(
        main,
        ["remind", "-q", "--today", "2030-01-20", "--metrics-file", str(metrics)],
        env=emulator_env(emu),
    )
    assert 0 == result.exit_code, result.output
    assert 1 == _samples(metrics)["pmsync_reminders_sent", ()]
    assert "1" == _summary(result.stderr)["reminders_sent"]


def test_unwritable_metrics_file_is_an_error_naming_it(runner, emu, page_id, config_file, tmp_path):
    target = tmp_path / "no-such-dir" / "pmsync.prom"
    result = runner.invoke(
        main, ["sync", "-q", "--metrics-file", str(target)], env=emulator_env(emu)
    )
    assert 2 == result.exit_code
    assert str(target) in result.stderr
    assert "2" == _summary(result.stderr)["exit_code"]


def test_the_cron_recipe_lists_exactly_the_metrics_written(
    runner, emu, page_id, config_file, tmp_path
) -> None:
    metrics = tmp_path / "pmsync.prom"
    emu.faults.rate_limit(count=1, retry_after=0, service="jira")
    runner.invoke(main, ["sync", "-q", "--metrics-file", str(metrics)], env=emulator_env(emu))
    written = {name for name, _labels in _samples(metrics)}
    recipe = (Path(__file__).parents[2] / "docs" / "recipes" / "cron.md").read_text("utf-8")
    table = recipe.split("| metric | what it is |")[1].split("\n\n")[0]
    assert written == set(re.findall(r"`(pmsync_\w+)", table))
