"""Reading action items out of Confluence storage-format XHTML. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

from pmsync._model import Postmortem

__all__ = ["parse_page"]


def parse_page(
    storage: str,
    *,
    page_id: str | None = None,
    title: str | None = None,
    columns: Mapping[str, Sequence[str]] | None = None,
    date_order: Literal["DMY", "MDY"] | None = None,
) -> Postmortem:
    """Read the action items of one page's storage-format XHTML."""
    raise NotImplementedError  # replaced by the parser work in progress
