"""Fixtures for the emulator's own tests.

One emulator per flavour is started per test module and reset before each test, which
keeps the suite fast while every test still starts from an empty site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pmsync.testing import Emulator, User


@pytest.fixture(scope="module", params=["cloud", "server"])
def site(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A running emulator shared by the tests of a module (one per flavour).

    These tests exercise the v1 REST API too, so Cloud serves the v1 page endpoints here
    as older sites do (tests/emulator/test_cloud_today.py covers the newer sites' 410).
    """
    with Emulator(flavour=request.param, v1_pages="ok") as emu:
        yield emu


@pytest.fixture
def emu(site: Emulator) -> Emulator:
    """The module's emulator, emptied for this test."""
    site.reset()
    return site


@pytest.fixture
def alice(emu: Emulator) -> User:
    """A user with an email address."""
    return emu.add_user(display_name="Alice Chen", email="alice@example.com")


@pytest.fixture
def bob(emu: Emulator) -> User:
    """Another user."""
    return emu.add_user(display_name="Bob Martinez", email="bob@example.com")


@pytest.fixture
def user_ref(emu: Emulator) -> Callable[[User], dict[str, str]]:
    """How this flavour's REST API names a user in a field value."""

    def ref(user: User) -> dict[str, str]:
        if emu.flavour == "cloud":
            return {"accountId": user.account_id}
        return {"name": user.username}

    return ref


@pytest.fixture
def user_id(emu: Emulator) -> Callable[[User], str]:
    """How this flavour identifies a user in a single string."""

    def ident(user: User) -> str:
        return user.account_id if emu.flavour == "cloud" else user.username

    return ident
