"""The CLI reference in docs/cli.md is generated from the commands and cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import click

import pmsync
from pmsync import cli
from pmsync._cli_docs import refreshed, refreshed_environment, render_reference, undocumented
from pmsync._config_file import _REMINDERS, _TOP
from pmsync._logging import SECRET_VARIABLES

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_cli_reference_is_up_to_date() -> None:
    """If this fails, run `python -m pmsync._cli_docs` and commit docs/cli.md."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert refreshed(text, cli.main) == text


def test_every_command_and_option_has_help() -> None:
    assert [] == undocumented(cli.main)


def test_undocumented_names_a_command_without_help() -> None:
    group = click.Group("demo-group")

    @group.command()
    @click.option("--flag", is_flag=True)
    def bare(flag: bool) -> None:
        del flag

    assert ["bare", "bare --flag"] == undocumented(group)


def test_reference_has_a_section_per_command() -> None:
    text = render_reference(cli.main)
    for name in cli.main.commands:
        assert f"### `pmsync {name}`" in text


def test_every_exit_code_is_documented() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for code in (cli.EXIT_OK, cli.EXIT_PARTIAL, cli.EXIT_USAGE, cli.EXIT_SERVICE, cli.EXIT_LOCKED):
        assert f"\n| {code} | " in text


def test_configuration_reference_covers_every_setting() -> None:
    """Each top-level setting has a heading; each reminder setting a table row."""
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    headed = {
        name.strip("[]")
        for heading in re.findall(r"^### (.+)$", text, re.MULTILINE)
        for name in re.findall(r"`([^`]+)`", heading)
    }
    rows = set(re.findall(r"^\| `(\w+)` \|", text, re.MULTILINE))
    assert ([], []) == (
        [key for key in _TOP if key not in headed],
        [key for key in _REMINDERS if key not in rows],
    )


def test_environment_page_is_up_to_date() -> None:
    """If this fails, run `python -m pmsync._cli_docs` and commit docs/environment.md."""
    text = (DOCS / "environment.md").read_text(encoding="utf-8")
    assert refreshed_environment(text) == text


def _variables_read(source: str) -> set[str]:
    """The environment variables a module's source reads: PMSYNC_* names wherever they
    appear, and any name read through ``environ.get``, ``env.get`` or ``os.environ[...]``."""
    named = set(re.findall(r"\bPMSYNC_[A-Z_]*[A-Z]\b", source))
    read = re.findall(
        r"\b(?:env|environ|os\.environ)(?:\.get\(|\[)\s*\"([A-Z][A-Z0-9_]*)\"", source
    )
    return named | set(read)


def test_variables_read_finds_reads_and_names() -> None:
    source = 'x = env.get("SOME_VAR")\nhelp = "set PMSYNC_NEW_THING"\nos.environ["HOME_DIR"]\n'
    assert {"SOME_VAR", "PMSYNC_NEW_THING", "HOME_DIR"} == _variables_read(source)


def test_every_environment_variable_pmsync_reads_is_documented() -> None:
    """A variable read anywhere in src/pmsync (or named in a message) is in ENVIRONMENT,
    and so on the generated docs/environment.md page."""
    sources = (Path(pmsync.__file__).parent).rglob("*.py")
    read = set().union(*(_variables_read(p.read_text(encoding="utf-8")) for p in sources))
    read |= {f"{name}_FILE" for name in SECRET_VARIABLES}  # read as f"{name}_FILE"
    assert [] == sorted(read - set(pmsync.ENVIRONMENT))


def _readme_test_command() -> str:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    [command] = [line for line in readme.splitlines() if "-m pytest" in line]
    return command


def test_ci_runs_the_readme_test_command_character_for_character() -> None:
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_test_command() in ci.splitlines()


def test_the_readme_test_command_runs_in_parallel() -> None:
    """pytest-xdist comes with the test extra; serially the suite takes twice as long."""
    assert _readme_test_command().endswith("-m pytest -n auto")
