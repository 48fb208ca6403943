"""Fixtures for command-line tests: a seeded emulator, its environment, a config file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import ALICE, BOB, CONFIG, PMSYNC_VARIABLES, action_page
from click.testing import CliRunner

from pmsync.testing import Emulator


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No PMSYNC_* settings from the developer's shell; no user config directory."""
    for name in PMSYNC_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    """A Cloud emulator with two users, the OPS project, #incidents and no pages yet."""
    with Emulator(flavour="cloud") as emulator:
        emulator.add_user(
            account_id=ALICE,
            display_name="Alice Example",
            email="alice@example.com",
            slack_id="UALICE",
        )
        emulator.add_user(
            account_id=BOB, display_name="Bob Example", email="bob@example.com", slack_id="UBOB"
        )
        emulator.add_project("OPS", name="Operations")
        emulator.add_channel("incidents")
        yield emulator


@pytest.fixture
def page_id(emu: Emulator) -> str:
    """One postmortem page with two owned, dated action items."""
    return emu.add_page(
        "SRE",
        "Postmortem: disk full",
        action_page(
            [
                ("Add a disk usage alert at 80%", ALICE, "2030-01-15", "High"),
                ("Rotate logs hourly on db hosts", BOB, "2030-02-01", None),
            ]
        ),
        labels=("postmortem",),
    )


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A pmsync.toml in the working directory selecting the SRE postmortems."""
    path = tmp_path / "pmsync.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def runner() -> CliRunner:
    """A click runner that keeps standard error apart from standard output."""
    return CliRunner()
