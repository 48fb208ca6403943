"""Shared helpers for the parser tests: fixture pages and small page builders."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pmsync import Postmortem, parse_page

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(name="fixture_text")
def _fixture_text() -> Callable[[str], str]:
    """Read a hand-written page from tests/parser/fixtures by its name."""

    def read(name: str) -> str:
        return (FIXTURES / f"{name}.xml").read_text(encoding="utf-8")

    return read


@pytest.fixture(name="parse_fixture")
def _parse_fixture(fixture_text: Callable[[str], str]) -> Callable[..., Postmortem]:
    """Parse a fixture page with page id ``"42"`` (plus any parse_page options)."""

    def parse(name: str, **options: object) -> Postmortem:
        return parse_page(fixture_text(name), page_id="42", **options)  # type: ignore[arg-type]

    return parse
