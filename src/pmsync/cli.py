"""The ``pmsync`` command line: a thin click layer over the library.

It parses options, calls the library, prints results and translates
:class:`~pmsync.PmsyncError` into messages and exit codes. It holds no logic of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

import click

from pmsync import __version__
from pmsync._storage.parse import parse_page
from pmsync.exceptions import PmsyncError

__all__ = ["main"]

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3
EXIT_LOCKED = 4


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmsync")
def main() -> None:
    """Sync postmortem action items between Confluence, Jira and Slack."""


@main.command()
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON.")
@click.option("--page-id", default=None, help="The page id to use for item identities.")
@click.option(
    "--date-order",
    type=click.Choice(["DMY", "MDY"]),
    default=None,
    help="How to read ambiguous numeric dates such as 03/04/2026.",
)
def parse(file: TextIO, as_json: bool, page_id: str | None, date_order: str | None) -> None:
    """Print the action items of a storage-format FILE (or - for standard input)."""
    storage = file.read()
    name = getattr(file, "name", "-")
    try:
        pm = parse_page(
            storage,
            page_id=page_id or Path(str(name)).stem,
            title=None,
            date_order=date_order,  # type: ignore[arg-type]
        )
    except PmsyncError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(pm.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_postmortem(pm)


def _print_postmortem(pm: object) -> None:
    from pmsync._model import Postmortem  # noqa: PLC0415

    assert isinstance(pm, Postmortem)
    if not pm.items:
        click.echo("No action items found.")
    for item in pm.items:
        owner = str(item.owner) if item.owner else "-"
        due = item.due.isoformat() if item.due else "-"
        status = item.status.value if item.status else "-"
        key = item.jira_key or "-"
        click.echo(
            f"{item.item_id:<14} {key:<10} {status:<11} {due:<10} {owner:<20} {item.summary}"
        )
    for warning in pm.warnings:
        click.echo(f"warning [{warning.code}]: {warning}", err=True)


@main.command()
@click.option(
    "--flavour",
    type=click.Choice(["cloud", "server"]),
    default="cloud",
    show_default=True,
    help="Emulate Atlassian Cloud or Server/Data Center.",
)
@click.option(
    "--seed",
    type=click.Choice(["demo"]),
    default=None,
    help="Seed the emulator with the demo postmortems.",
)
@click.option("--port", type=int, default=0, help="Port to listen on (default: any free one).")
def emulator(flavour: str, seed: str | None, port: int) -> None:
    """Serve the Confluence, Jira and Slack emulator on 127.0.0.1 until interrupted."""
    from pmsync.testing._serve import serve  # noqa: PLC0415  (keep werkzeug off the fast path)

    serve(flavour=flavour, seed=seed, port=port)
