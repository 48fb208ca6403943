"""``pmsync emulator``: serve an emulator in the foreground for manual exploration.

Prints where to connect and with which (fake) credentials, optionally seeds the demo
postmortems, then prints one line per request until interrupted.
"""

from __future__ import annotations

import threading

import click

from pmsync.testing._app import RequestRecord
from pmsync.testing._emulator import Emulator
from pmsync.testing.seeds import seed_demo

__all__ = ["serve"]


def _describe(emu: Emulator) -> list[str]:
    lines = [
        f"pmsync emulator ({emu.flavour}) on 127.0.0.1:{emu.port}",
        "",
        f"  Jira        {emu.url}",
        f"  Confluence  {emu.confluence_url}",
        f"  Slack       {emu.slack_url}",
        "",
    ]
    if emu.flavour == "cloud":
        lines += [
            f"  email       {emu.email}",
            f"  API token   {emu.token}",
        ]
    else:
        lines += [
            f"  username    {emu.bot.username}",
            f"  PAT         {emu.token}   (Authorization: Bearer)",
        ]
    lines.append(f"  Slack token {emu.slack_token}")
    lines.append(f"  Slack signing secret {emu.slack_signing_secret}   (pmsync serve)")
    return lines


def _print_request(record: RequestRecord) -> None:
    status = "dropped" if record.status is None else str(record.status)
    query = "&".join(f"{k}={v}" for k, v in record.query.items())
    click.echo(f"{record.method:6} {status:>7}  {record.path}{'?' + query if query else ''}")


def serve(*, flavour: str, seed: str | None, port: int = 0) -> None:
    """Serve an emulator until Ctrl-C, printing its URLs, credentials and requests.

    ``seed="demo"`` fills it with :func:`~pmsync.testing.seeds.seed_demo` first.
    """
    if flavour not in ("cloud", "server"):
        raise click.BadParameter(f"flavour must be cloud or server, not {flavour!r}")
    if seed not in (None, "demo"):
        raise click.BadParameter(f"unknown seed {seed!r}; the only seed is 'demo'")
    emu = Emulator("cloud" if flavour == "cloud" else "server", port=port)
    emu.start()
    try:
        for line in _describe(emu):
            click.echo(line)
        if seed == "demo":
            demo = seed_demo(emu)
            click.echo("")
            click.echo(f"  Seeded space {demo.space_key}, project {demo.project_key}, #incidents")
            click.echo(f"  Postmortem pages: {', '.join(demo.page_ids)}")
            click.echo(f"  Existing issue:   {demo.existing_issue_key}")
        click.echo("")
        click.echo("Serving; press Ctrl-C to stop.")
        emu.add_request_listener(_print_request)
        stopped = threading.Event()
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        click.echo("\nStopping.")
    finally:
        emu.stop()
