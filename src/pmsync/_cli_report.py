"""``pmsync report`` output: a :class:`~pmsync._report.Report` as text, JSON, CSV or HTML.

Pure: turns a report value into a string. The HTML form is a standalone page (its own
``<head>`` and a little CSS) around the report's ``_repr_html_`` tables, so it can be
mailed or published as it is.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["format_for", "render_report"]

# The report format a file name asks for by its extension.
_EXTENSIONS = {".html": "html", ".htm": "html", ".json": "json", ".csv": "csv"}


def format_for(output: str | None, *, as_json: bool) -> str:
    """The format when ``--format`` is not given: from ``--json``, else from the output
    file's extension (``report.html`` is HTML), else text."""
    if as_json:
        return "json"
    suffix = Path(output).suffix.lower() if output and output != "-" else ""
    return _EXTENSIONS.get(suffix, "text")


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #172b4d; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #dfe1e6; padding: 0.3em 0.6em; text-align: left; }
th { background: #f4f5f7; }
h1 { font-size: 1.4em; }
h4 { margin-bottom: 0.2em; }
"""


def render_report(
    report: Any, fmt: str, *, page_url: Callable[[str], str | None] | None = None
) -> str:
    """``report`` in ``fmt``: ``text``, ``json``, ``csv`` or ``html`` (whose postmortems
    link to their pages through ``page_url``, a page id to its address)."""
    if fmt == "json":
        return str(report.to_json()) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        report.to_csv(buffer)
        return buffer.getvalue()
    if fmt == "html":
        day = html.escape(report.today.isoformat())
        return (
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>Postmortem action items on {day}</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>Postmortem action items on {day}</h1>\n"
            f"{report.to_html(page_url=page_url)}\n</body>\n</html>\n"
        )
    if fmt == "text":
        return str(report) + "\n"
    raise ValueError(f"unknown report format {fmt!r}")
