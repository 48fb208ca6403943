"""Configuration on the command line: finding the file, `pmsync init`, and validation."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pmsync import Config, ConfigError
from pmsync._config_file import (
    _REMINDERS,
    _TOP,
    config_from_mapping,
    default_config_paths,
    example_config,
    find_config,
)
from pmsync.cli import main

# An example line in the template: "# key = value" or "# [table]".
_EXAMPLE_LINE = re.compile(r"^# ((?:\"[^\"]*\"|[A-Za-z_][\w-]*) = .+)$")


def _uncommented(template: str) -> str:
    return "\n".join(_EXAMPLE_LINE.sub(r"\1", line) for line in template.splitlines())


def test_find_config_prefers_the_working_directory(tmp_path: Path) -> None:
    user_dir = Path(click.get_app_dir("pmsync"))
    user_dir.mkdir(parents=True)
    (user_dir / "pmsync.toml").write_text('project = "USER"\n')
    (tmp_path / "pmsync.toml").write_text('project = "HERE"\n')
    assert tmp_path / "pmsync.toml" == find_config(cwd=tmp_path)


def test_find_config_falls_back_to_the_user_config_directory(tmp_path: Path) -> None:
    user_dir = Path(click.get_app_dir("pmsync"))
    user_dir.mkdir(parents=True)
    (user_dir / "pmsync.toml").write_text('project = "USER"\n')
    assert user_dir / "pmsync.toml" == find_config(cwd=tmp_path)


def test_find_config_without_any_file_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(cwd=tmp_path)
    for path in default_config_paths(tmp_path):
        assert str(path) in str(info.value)
    assert "pmsync init" in str(info.value)


def test_find_config_refuses_a_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(tmp_path / "elsewhere.toml")


def test_example_config_loads_as_written() -> None:
    text = example_config(project="PAY", space="PAYMENTS")
    config = config_from_mapping(tomllib.loads(text), text=text)
    assert "PAY" == config.project
    assert 'space = "PAYMENTS" AND label = "postmortem"' == config.cql


def test_example_config_mentions_every_setting() -> None:
    text = example_config()
    missing = [
        key
        for key in [*_TOP, *(f"reminders.{k}" for k in _REMINDERS)]
        if not re.search(rf"^(# )?\[?{re.escape(key.split('.')[-1])}\]?( =|$)", text, re.M)
    ]
    assert [] == missing


def test_example_config_examples_are_valid_when_uncommented() -> None:
    """Every commented example line is correct TOML for its key."""
    text = _uncommented(example_config())
    config = config_from_mapping(tomllib.loads(text), text=text)
    assert "DMY" == config.date_order
    assert "#incidents" == config.slack_channel
    assert "Highest" == config.priority_map["sev1"]
    assert ("Driver", "Point person") == config.columns["owner"]


def test_init_writes_a_configuration_that_loads(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["init", "--project", "PAY"])
    assert 0 == result.exit_code, result.output
    assert "PAY" == Config.from_file(tmp_path / "pmsync.toml").project


def test_init_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pmsync.toml").write_text("mine\n")
    result = runner.invoke(main, ["init"])
    assert 2 == result.exit_code
    assert "--force" in result.stderr
    assert "mine\n" == (tmp_path / "pmsync.toml").read_text()


def test_init_overwrites_with_force(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "pmsync.toml").write_text("mine\n")
    result = runner.invoke(main, ["init", "--force"])
    assert 0 == result.exit_code
    assert "OPS" == Config.from_file(tmp_path / "pmsync.toml").project


def test_init_rejects_an_invalid_project_key(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["init", "--project", "ops team"])
    assert 2 == result.exit_code
    assert "'project'" in result.stderr
    assert not (tmp_path / "pmsync.toml").exists()


def test_unknown_setting_suggests_the_close_one(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\nslack_chanel = "#sre"\n')
    with pytest.raises(ConfigError, match="did you mean 'slack_channel'"):
        Config.from_file(path)


def test_map_values_must_be_strings(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\n\n[priority_map]\nsev1 = 1\n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert "priority_map.sev1" == info.value.key
    assert 4 == info.value.line


def test_columns_accept_one_header_name(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\n[columns]\nowner = "Driver"\n')
    assert ("Driver",) == Config.from_file(path).columns["owner"]


def test_columns_refuse_a_number(tmp_path: Path) -> None:
    path = tmp_path / "pmsync.toml"
    path.write_text('project = "OPS"\n[columns]\nowner = 3\n')
    with pytest.raises(ConfigError) as info:
        Config.from_file(path)
    assert "columns.owner" == info.value.key


def test_a_command_with_a_broken_config_exits_2_naming_key_and_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    (tmp_path / "pmsync.toml").write_text('project = "OPS"\n[reminders]\ndigest = "yes"\n')
    result = runner.invoke(main, ["plan"])
    assert 2 == result.exit_code
    assert "pmsync.toml:3" in result.stderr
    assert "reminders.digest" in result.stderr


def test_a_command_without_config_exits_2_and_suggests_init(runner: CliRunner) -> None:
    result = runner.invoke(main, ["plan"])
    assert 2 == result.exit_code
    assert "pmsync init" in result.stderr


def test_config_option_takes_the_environment_variable(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["plan"], env={"PMSYNC_CONFIG": str(tmp_path / "nope.toml")})
    assert 2 == result.exit_code
    assert "nope.toml" in result.stderr


def test_init_writes_the_reminder_defaults_the_docs_state(runner: CliRunner, tmp_path: Path):
    """docs/configuration.md's [reminders] table and `pmsync init` agree on every default."""
    assert 0 == runner.invoke(main, ["init"]).exit_code
    written = Config.from_file(tmp_path / "pmsync.toml").reminders
    docs = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text("utf-8")
    section = docs.split("### `[reminders]`")[1].split("\n### ")[0]
    documented = dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", section, re.MULTILINE))
    assert {key: tomllib.loads(f"v = {value}")["v"] for key, value in documented.items()} == {
        key: list(value) if isinstance(value, tuple) else value
        for key, value in ((key, getattr(written, key)) for key in documented)
    }
