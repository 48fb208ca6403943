"""Every Python example in docs/testing.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_guide_has_examples() -> None:
    """The guide is not empty of code (guards the extraction below)."""
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_example_runs(source: str) -> None:
    """The example executes without error (its own asserts check its claims)."""
    exec(compile(source, str(DOC), "exec"), {"__name__": "docs_example"})  # noqa: S102
