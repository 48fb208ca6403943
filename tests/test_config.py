"""Config: defaults, validation, and TOML errors that name the key and line."""

from __future__ import annotations

import pytest

import pmsync
from pmsync import Config, ConfigError, Status


def test_defaults():
    """Status follows Jira, everything else follows the page; label and type default."""
    config = Config(project="OPS")
    assert config.issue_type == "Task"
    assert config.label == "pmsync"
    assert config.writeback is True
    assert config.ownership["status"] == "jira"
    assert config.ownership["summary"] == "page"
    assert config.ownership["owner"] == "page"


def test_ownership_override_keeps_other_defaults():
    config = Config(project="OPS", ownership={"due": "report"})
    assert config.ownership["due"] == "report"
    assert config.ownership["status"] == "jira"


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"project": "ops team"}, "project"),
        ({"project": "OPS", "label": "two words"}, "label"),
        ({"project": "OPS", "ownership": {"status": "nobody"}}, "ownership.status"),
        ({"project": "OPS", "ownership": {"colour": "page"}}, "ownership.colour"),
        ({"project": "OPS", "status_map": {"parked": "later"}}, "status_map.parked"),
    ],
)
def test_invalid_values_name_the_key(kwargs, key):
    with pytest.raises(ConfigError) as info:
        Config(**kwargs)
    assert key == info.value.key


def test_status_map_is_case_insensitive():
    config = Config(project="OPS", status_map={"Won't Fix": "done"})
    assert {"won't fix": Status.DONE} == dict(config.status_map)


def test_from_file_reads_toml(tmp_path):
    path = tmp_path / "pmsync.toml"
    path.write_text(
        'project = "OPS"\nlabel = "postmortem"\nslack_channel = "#sre"\n'
        '[ownership]\nstatus = "page"\n'
        '[reminders]\ndue_soon_days = 3\nquiet_days = ["sat", "sun"]\n'
    )
    config = Config.from_file(path)
    assert config.label == "postmortem"
    assert config.slack_channel == "#sre"
    assert config.ownership["status"] == "page"
    assert config.reminders.due_soon_days == 3
    assert config.reminders.quiet_days == ("sat", "sun")


def test_unknown_key_names_key_and_line(tmp_path):
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\n\nslack_chanel = "#sre"\n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert info.value.key == "slack_chanel"
    assert info.value.line == 3
    assert "pmsync.toml:3" in str(info.value)


def test_wrong_type_in_table_names_dotted_key_and_line(tmp_path):
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\n[reminders]\ndue_soon_days = "two"\n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert info.value.key == "reminders.due_soon_days"
    assert info.value.line == 3


def test_invalid_value_in_file_gets_line(tmp_path):
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\nlabel = "has space"\n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert info.value.line == 2


def test_missing_project(tmp_path):
    path = tmp_path / "pmsync.toml"
    path.write_text('label = "x"\n')
    with pytest.raises(ConfigError, match="project"):
        Config.from_file(path)


def test_bad_toml_names_line(tmp_path):
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\nlabel = \n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert info.value.line == 2


def test_missing_file():
    with pytest.raises(ConfigError, match="does not exist"):
        pmsync.Config.from_file("/nonexistent/pmsync.toml")


def test_quiet_days_accept_toml_dates_and_refuse_impossible_ones(tmp_path):
    """Unquoted TOML dates work; 2026-02-30 is refused with the key."""
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\n[reminders]\nquiet_days = ["sat", 2026-12-24]\n')
    assert ("sat", "2026-12-24") == Config.from_file(path).reminders.quiet_days
    path.write_text('project = "OPS"\n[reminders]\nquiet_days = ["2026-02-30"]\n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert "reminders.quiet_days" == info.value.key


def test_status_map_categories_are_case_insensitive():
    assert (
        Status.DONE == Config(project="OPS", status_map={"shipped": "DONE"}).status_map["shipped"]
    )
