"""Every command through click's runner, against an emulator started in the test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import ALICE, BOB, action_page, done_in_row_2, emulator_env, refuse_moving

import pmsync._cli_session
import pmsync._sync
from pmsync._lock import RunLock, lock_path_for
from pmsync.cli import main
from pmsync.testing import Emulator


def _mutations(emu: Emulator) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests if r.mutating]


def _summaries(emu: Emulator) -> list[str]:
    return sorted(issue["fields"]["summary"] for issue in emu.issues("OPS"))


# -- plan ----------------------------------------------------------------------------------


def test_plan_lists_the_issues_to_create(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    assert "Plan: 2 create" in result.stdout
    assert "Add a disk usage alert at 80%" in result.stdout


def test_plan_writes_nothing(runner, emu, page_id, config_file) -> None:
    emu.clear_requests()
    runner.invoke(main, ["plan"], env=emulator_env(emu))
    assert [] == _mutations(emu)


def test_plan_json_is_the_plan_document(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["plan", "--json"], env=emulator_env(emu))
    document = json.loads(result.stdout)
    # Slack is configured: the plan also lists the notices the apply would send.
    assert {"create": 2, "writeback": 2, "notify": 2} == document["counts"]
    assert [page_id] == [p["page_id"] for p in document["pages"]]
    operations = [op["operation"] for op in document["operations"]]
    assert ["CreateIssue", "CreateIssue", "WritePage", "Notify", "Notify"] == operations


def test_plan_page_option_selects_only_that_page(runner, emu, page_id, config_file) -> None:
    other = emu.add_page(
        "SRE",
        "Another",
        action_page([("Add a runbook link to the alert", ALICE, "2030-03-01", None)]),
        labels=("postmortem",),
    )
    result = runner.invoke(main, ["plan", "--json", "--page", other], env=emulator_env(emu))
    assert [other] == [p["page_id"] for p in json.loads(result.stdout)["pages"]]


def test_plan_cql_option_overrides_the_configuration(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(
        main, ["plan", "--json", "--cql", 'label = "nothing-here"'], env=emulator_env(emu)
    )
    assert [] == json.loads(result.stdout)["pages"]


def test_plan_verbose_lists_items_in_sync(runner, emu, page_id, config_file) -> None:
    runner.invoke(main, ["sync"], env=emulator_env(emu))
    result = runner.invoke(main, ["plan", "-v"], env=emulator_env(emu))
    assert "Nothing to do" in result.stdout
    assert "noop" in result.stdout


# -- sync ----------------------------------------------------------------------------------


def test_sync_creates_the_issues(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["sync"], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    assert ["Add a disk usage alert at 80%", "Rotate logs hourly on db hosts"] == _summaries(emu)
    assert "created 2" in result.stdout


def test_sync_under_cron_carries_out_the_pages_in_batches(
    runner, emu, page_id, config_file, monkeypatch
) -> None:
    """With nobody at the terminal, sync reads, plans and writes the pages a batch at a
    time (memory bounded by the batch, not the site), then prints what it did."""
    monkeypatch.setattr(pmsync._sync, "FULL_BATCH", 1)
    other = emu.add_page(
        "SRE",
        "Postmortem: cache stampede",
        action_page([("Add jitter to cache expiry", ALICE, "2030-03-01", None)]),
        labels=("postmortem",),
    )
    emu.clear_requests()
    result = runner.invoke(main, ["sync"], env=emulator_env(emu))
    assert 0 == result.exit_code, result.output
    by_id = [
        r.query["cql"]
        for r in emu.requests
        if r.path.endswith("/content/search") and r.query["cql"].startswith("id in")
    ]
    # each batch reads its one page (to plan it, then again under its lease), never both
    assert {f'id in ("{page_id}")', f'id in ("{other}")'} == set(by_id), by_id
    assert "Plan: 3 create" in result.stdout
    assert "created 3, updated 0" in result.stdout
    assert 3 == len(emu.issues("OPS"))


def test_sync_json_reports_the_keys_created(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["sync", "--json"], env=emulator_env(emu))
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert sorted(i["key"] for i in emu.issues("OPS")) == sorted(document["created"])
    assert [page_id] == document["pages_written"]


def test_sync_quiet_prints_only_the_summary_line(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["sync", "-q"], env=emulator_env(emu))
    assert 0 == result.exit_code
    assert "" == result.stdout
    assert ["pmsync: command=sync exit_code=0"] == [
        " ".join(line.split()[:3]) for line in result.stderr.splitlines()
    ]


def test_sync_again_has_nothing_to_do(runner, emu, page_id, config_file) -> None:
    runner.invoke(main, ["sync"], env=emulator_env(emu))
    emu.clear_requests()
    result = runner.invoke(main, ["sync"], env=emulator_env(emu))
    assert 0 == result.exit_code
    assert result.stdout.startswith("Nothing to do")
    assert [] == _mutations(emu)


def test_sync_again_json_is_an_ok_result(runner, emu, page_id, config_file) -> None:
    runner.invoke(main, ["sync"], env=emulator_env(emu))
    document = json.loads(runner.invoke(main, ["sync", "--json"], env=emulator_env(emu)).stdout)
    assert (True, []) == (document["ok"], document["created"])


def test_sync_dry_run_writes_nothing(runner, emu, page_id, config_file) -> None:
    emu.clear_requests()
    result = runner.invoke(main, ["sync", "--dry-run"], env=emulator_env(emu))
    assert 0 == result.exit_code
    assert "Plan: 2 create" in result.stdout
    assert [] == _mutations(emu)


def test_sync_asks_on_a_terminal_and_no_changes_nothing(
    runner, emu, page_id, config_file, monkeypatch
) -> None:
    monkeypatch.setattr(pmsync._cli_session, "is_interactive", lambda: True)
    result = runner.invoke(main, ["sync"], env=emulator_env(emu), input="n\n")
    assert 0 == result.exit_code
    assert "Apply these changes?" in result.output
    assert [] == _summaries(emu)


def test_sync_asks_on_a_terminal_and_yes_applies(
    runner, emu, page_id, config_file, monkeypatch
) -> None:
    monkeypatch.setattr(pmsync._cli_session, "is_interactive", lambda: True)
    result = runner.invoke(main, ["sync"], env=emulator_env(emu), input="y\n")
    assert 0 == result.exit_code
    assert 2 == len(_summaries(emu))


def test_sync_yes_skips_the_question(runner, emu, page_id, config_file, monkeypatch) -> None:
    monkeypatch.setattr(pmsync._cli_session, "is_interactive", lambda: True)
    result = runner.invoke(main, ["sync", "--yes"], env=emulator_env(emu))
    assert "Apply these changes?" not in result.output
    assert 2 == len(_summaries(emu))


def test_sync_partial_failure_exits_1_naming_page_row_and_cause(runner, emu, config_file) -> None:
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
    assert 0 == runner.invoke(main, ["sync"], env=emulator_env(emu)).exit_code
    page_id = emu.pages()[0]["id"]
    done_in_row_2(emu, page_id)
    emu.set_request_gate(refuse_moving("OPS-2"))  # a workflow rule, say: that row alone fails
    result = runner.invoke(main, ["sync"], env=emulator_env(emu))
    assert 1 == result.exit_code
    assert ["Add jitter to cache expiry", "Cap concurrent cache refills"] == _summaries(emu)
    assert "page 'Postmortem: cache stampede'" in result.stderr
    assert "row 2" in result.stderr
    assert "Jira refuses to move OPS-2" in result.stderr


def test_sync_with_the_lock_held_exits_4_naming_the_lock_file(
    runner, emu, page_id, config_file
) -> None:
    lock = lock_path_for(config_file)
    with RunLock(lock):
        result = runner.invoke(main, ["sync"], env=emulator_env(emu))
    assert 4 == result.exit_code
    assert str(lock) in result.stderr
    assert [] == _summaries(emu)


def test_sync_dry_run_does_not_need_the_lock(runner, emu, page_id, config_file) -> None:
    with RunLock(lock_path_for(config_file)):
        result = runner.invoke(main, ["sync", "--dry-run"], env=emulator_env(emu))
    assert 0 == result.exit_code


# -- service errors --------------------------------------------------------------------------


def test_wrong_token_exits_3_with_advice(runner, emu, page_id, config_file) -> None:
    env = emulator_env(emu, PMSYNC_API_TOKEN="wrong-token-0123456789")
    result = runner.invoke(main, ["plan"], env=env)
    assert 3 == result.exit_code
    assert "PMSYNC_API_TOKEN" in result.stderr
    assert "wrong-token-0123456789" not in result.output


def test_error_json_names_type_and_exit_code(runner, emu, page_id, config_file) -> None:
    env = emulator_env(emu, PMSYNC_API_TOKEN="wrong-token-0123456789")
    document = json.loads(runner.invoke(main, ["plan", "--json"], env=env).stdout)
    assert (False, 3, "AuthError") == (
        document["ok"],
        document["exit_code"],
        document["error"]["type"],
    )


def test_traceback_only_with_verbose(runner, emu, page_id, config_file) -> None:
    env = emulator_env(emu, PMSYNC_API_TOKEN="wrong-token-0123456789")
    plain = runner.invoke(main, ["plan"], env=env)
    verbose = runner.invoke(main, ["plan", "-v"], env=env)
    assert "Traceback" not in plain.stderr
    assert "Traceback" in verbose.stderr


def test_missing_url_is_a_configuration_error(runner, emu, page_id, config_file) -> None:
    env = emulator_env(emu)
    del env["PMSYNC_JIRA_URL"]
    result = runner.invoke(main, ["plan"], env=env)
    assert 2 == result.exit_code
    assert "PMSYNC_JIRA_URL" in result.stderr


def test_unknown_option_is_a_usage_error(runner) -> None:
    assert 2 == runner.invoke(main, ["sync", "--frobnicate"]).exit_code


def test_json_log_format_writes_json_lines(runner, emu, page_id, config_file) -> None:
    result = runner.invoke(main, ["plan", "--log-format", "json"], env=emulator_env(emu))
    lines = [json.loads(line) for line in result.stderr.splitlines() if line]
    assert lines
    assert {"time", "level", "logger", "message"} <= set(lines[0])


# -- lint ------------------------------------------------------------------------------------


@pytest.fixture
def page_file(tmp_path: Path) -> Path:
    path = tmp_path / "postmortem.xml"
    path.write_text(
        action_page(
            [
                ("Add a disk usage alert at 80%", ALICE, "2030-01-15", "High"),
                ("Rotate logs hourly on db hosts", None, "2030-02-01", None),
            ]
        ),
        encoding="utf-8",
    )
    return path


def test_lint_file_reports_an_unowned_item_and_exits_1(runner, page_file) -> None:
    result = runner.invoke(main, ["lint", str(page_file)])
    assert 1 == result.exit_code
    assert "[no-owner]" in result.stdout
    assert "row 2 of table 1" in result.stdout


def test_lint_reads_standard_input(runner, page_file) -> None:
    result = runner.invoke(main, ["lint", "-"], input=page_file.read_text())
    assert "[no-owner]" in result.stdout


def test_lint_findings_errors_and_warnings_alike_go_to_stdout(runner, tmp_path) -> None:
    """`pmsync lint f.xml > out` keeps every finding in the file."""
    path = tmp_path / "mixed.xml"
    path.write_text(action_page([("Rotate logs", None, None, None)]), encoding="utf-8")
    result = runner.invoke(main, ["lint", str(path)])
    assert ["error [no-owner]", "warning [no-due-date]"] == sorted(
        " ".join(line.split()[:2]) for line in result.stdout.splitlines() if "[" in line
    )
    assert "[" not in result.stderr


def test_lint_json_lists_findings(runner, page_file) -> None:
    document = json.loads(runner.invoke(main, ["lint", "--json", str(page_file)]).stdout)
    assert document["ok"] is False
    assert ["no-owner"] == [f["code"] for f in document["findings"]]
    assert 1 == document["findings"][0]["row"]


def test_lint_clean_file_exits_0(runner, tmp_path) -> None:
    path = tmp_path / "clean.xml"
    path.write_text(action_page([("Add a disk usage alert at 80%", ALICE, "2030-01-15", "High")]))
    result = runner.invoke(main, ["lint", str(path)])
    assert 0 == result.exit_code, result.output
    assert "No problems" in result.stdout


def test_lint_strict_fails_on_warnings(runner, tmp_path) -> None:
    path = tmp_path / "undated.xml"
    path.write_text(action_page([("Add a disk usage alert at 80%", ALICE, None, "High")]))
    assert 0 == runner.invoke(main, ["lint", str(path)]).exit_code
    assert 1 == runner.invoke(main, ["lint", "--strict", str(path)]).exit_code


def test_lint_today_judges_due_dates(runner, tmp_path) -> None:
    path = tmp_path / "late.xml"
    path.write_text(action_page([("Add a disk usage alert at 80%", ALICE, "2026-01-15", "High")]))
    result = runner.invoke(main, ["lint", "--today", "2026-02-01", str(path)])
    assert "[due-in-past]" in result.stdout


def test_lint_finds_duplicates_across_targets(runner, tmp_path, page_file) -> None:
    copy = tmp_path / "copy.xml"
    copy.write_text(page_file.read_text())
    result = runner.invoke(main, ["lint", str(page_file), str(copy)])
    assert "[duplicate]" in result.stdout


def test_lint_page_id_reads_confluence(runner, emu, config_file) -> None:
    page = emu.add_page(
        "SRE",
        "Postmortem: queue backlog",
        action_page([("Alert on queue depth", "Nobody Known", "2030-01-15", None)]),
        labels=("postmortem",),
    )
    result = runner.invoke(main, ["lint", page], env=emulator_env(emu))
    assert 1 == result.exit_code
    assert "[owner-unresolved]" in result.stdout
    assert "Postmortem: queue backlog" in result.stdout


def test_lint_rejects_a_target_that_is_neither_file_nor_id(runner) -> None:
    result = runner.invoke(main, ["lint", "no-such-file.xml"])
    assert 2 == result.exit_code
    assert "neither a file nor a page id" in result.stderr


# -- parse, demo, help -----------------------------------------------------------------------


def test_parse_prints_the_items(runner, page_file) -> None:
    result = runner.invoke(main, ["parse", str(page_file)])
    assert 0 == result.exit_code
    assert "Add a disk usage alert at 80%" in result.stdout


def test_demo_runs_every_step(runner) -> None:
    result = runner.invoke(main, ["demo"])
    assert 0 == result.exit_code, result.output
    for step in ("1. First sync", "2. People change", "3. Reminders", "4. One more run", "Done in"):
        assert step in result.stdout


def test_demo_server_flavour_runs_every_step(runner) -> None:
    result = runner.invoke(main, ["demo", "--flavour", "server"])
    assert 0 == result.exit_code, result.output


def test_every_command_has_help(runner) -> None:
    for name in main.commands:
        result = runner.invoke(main, [name, "--help"])
        assert 0 == result.exit_code, name
        assert "Usage: " in result.stdout


# -- remind ----------------------------------------------------------------------------------


@pytest.fixture
def synced(runner, emu, page_id, config_file) -> Emulator:
    """The page's items filed in Jira (due 2030-01-15 and 2030-02-01)."""
    config_file.write_text(config_file.read_text() + 'slack_channel = "#incidents"\n')
    assert 0 == runner.invoke(main, ["sync", "-q"], env=emulator_env(emu)).exit_code
    return emu


def _dms(emu: Emulator) -> list[str]:
    return [m["text"] for m in emu.slack_messages() if m.get("dm_user")]


def test_remind_sends_due_soon_reminders(runner, synced) -> None:
    before = len(_dms(synced))
    result = runner.invoke(main, ["remind", "--today", "2030-01-14"], env=emulator_env(synced))
    assert 0 == result.exit_code, result.output
    assert "Reminders sent: 1" in result.stdout
    assert before + 1 == len(_dms(synced))


def test_remind_twice_on_one_day_sends_once(runner, synced) -> None:
    env = emulator_env(synced)
    runner.invoke(main, ["remind", "--today", "2030-01-14"], env=env)
    result = runner.invoke(main, ["remind", "--today", "2030-01-14", "--json"], env=env)
    assert [] == json.loads(result.stdout)["sent"]


def test_remind_dry_run_sends_nothing(runner, synced) -> None:
    before = synced.slack_messages()
    result = runner.invoke(
        main, ["remind", "--dry-run", "--today", "2030-01-14"], env=emulator_env(synced)
    )
    assert 0 == result.exit_code
    assert "would send: 1" in result.stdout
    assert before == synced.slack_messages()


def test_remind_json_lists_the_reminders(runner, synced) -> None:
    result = runner.invoke(
        main, ["remind", "--json", "--today", "2030-01-20"], env=emulator_env(synced)
    )
    document = json.loads(result.stdout)
    assert (True, ["overdue"]) == (document["ok"], [r["kind"] for r in document["sent"]])


def test_remind_without_slack_is_a_configuration_error(runner, synced) -> None:
    env = emulator_env(synced)
    del env["PMSYNC_SLACK_TOKEN"]
    result = runner.invoke(main, ["remind", "--today", "2030-01-14"], env=env)
    assert 2 == result.exit_code
    assert "PMSYNC_SLACK_TOKEN" in result.stderr


def test_remind_with_the_lock_held_exits_4(runner, synced, config_file) -> None:
    with RunLock(lock_path_for(config_file)):
        result = runner.invoke(main, ["remind"], env=emulator_env(synced))
    assert 4 == result.exit_code


# -- report ----------------------------------------------------------------------------------


def test_report_text_has_the_totals(runner, synced) -> None:
    result = runner.invoke(main, ["report", "--today", "2030-01-20"], env=emulator_env(synced))
    assert 0 == result.exit_code, result.output
    assert "2 total, 0 done, 2 open, 1 overdue" in result.stdout


def test_report_json_has_totals_and_items(runner, synced) -> None:
    result = runner.invoke(
        main, ["report", "--json", "--today", "2030-01-20"], env=emulator_env(synced)
    )
    document = json.loads(result.stdout)
    assert (2, 1) == (document["totals"]["total"], document["totals"]["overdue"])
    assert 2 == len(document["items"])


def test_report_csv_has_a_header_and_a_row_per_item(runner, synced) -> None:
    result = runner.invoke(main, ["report", "--format", "csv"], env=emulator_env(synced))
    lines = result.stdout.splitlines()
    assert lines[0].startswith("page_id,page_title,item_id")
    assert 3 == len(lines)


def test_report_html_to_a_file_is_a_standalone_page(runner, synced, tmp_path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(
        main, ["report", "--format", "html", "--output", str(out)], env=emulator_env(synced)
    )
    assert 0 == result.exit_code
    assert f"Report written to {out}." in result.stdout
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<table>" in page


def test_report_json_and_another_format_disagree(runner, synced) -> None:
    result = runner.invoke(main, ["report", "--json", "--format", "csv"], env=emulator_env(synced))
    assert 2 == result.exit_code


def test_lint_reports_an_unreadable_file_and_exits_1(runner, tmp_path) -> None:
    path = tmp_path / "binary.xml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(main, ["lint", str(path)])
    assert 1 == result.exit_code
    assert "not UTF-8 text" in result.stderr


def test_report_to_an_unwritable_path_is_a_usage_error(runner, synced, tmp_path) -> None:
    target = tmp_path / "missing-dir" / "report.html"
    result = runner.invoke(main, ["report", "-o", str(target)], env=emulator_env(synced))
    assert 2 == result.exit_code
    assert "cannot write" in result.stderr
