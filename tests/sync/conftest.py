"""Fixtures for sync-engine tests: an emulator per test, seeded users, page builders."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sync_helpers import ALICE, BOB, make_syncer

import pmsync
from pmsync.testing import Emulator


@pytest.fixture(params=["cloud"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=[0, 5], ids=["consistent", "search-lag"])
def search_lag(request: pytest.FixtureRequest) -> float:
    """Jira Cloud's search lags behind writes; every sync test also runs with a lag of
    5 s, longer than any test, so that no issue written in a test is ever found by a
    search that does not reconcile it."""
    return float(request.param)


@pytest.fixture
def emu(flavour: str, search_lag: float) -> Iterator[Emulator]:
    with Emulator(flavour=flavour, search_lag=search_lag) as emulator:
        if flavour == "cloud":
            emulator.add_user(
                account_id=ALICE,
                display_name="Alice Example",
                email="alice@example.com",
                slack_id="UALICE",
            )
            emulator.add_user(
                account_id=BOB, display_name="Bob Example", email="bob@example.com", slack_id="UBOB"
            )
        else:
            emulator.add_user(
                username="alice",
                user_key="key-alice",
                display_name="Alice Example",
                email="alice@example.com",
                slack_id="UALICE",
            )
            emulator.add_user(
                username="bob",
                user_key="key-bob",
                display_name="Bob Example",
                email="bob@example.com",
                slack_id="UBOB",
            )
        emulator.add_project("OPS", name="Operations")
        yield emulator


@pytest.fixture
def config() -> pmsync.Config:
    return pmsync.Config(project="OPS")


@pytest.fixture
def syncer(emu: Emulator, config: pmsync.Config) -> pmsync.Syncer:
    return make_syncer(emu, config)
