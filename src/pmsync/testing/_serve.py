"""``pmsync emulator``: serve an emulator in the foreground for manual exploration.

Prints where to connect and with which (fake) credentials, optionally seeds the demo
postmortems, then prints one line per request until interrupted.
"""

from __future__ import annotations

import shlex
import threading
from typing import Literal

import click

from pmsync.testing._app import RequestRecord
from pmsync.testing._emulator import Emulator
from pmsync.testing.seeds import seed_demo

__all__ = ["exports", "serve"]


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
    lines.append(
        f"  Behaviour   v1 pages {emu.v1_pages}, search lag {emu.search_lag:g} s, "
        f"latency {emu.faults.delay_for('jira'):g} s per request"
    )
    lines.append(f"  Slack signing secret {emu.slack_signing_secret}   (pmsync serve)")
    lines += ["", "To point pmsync at it, paste into a shell:", ""]
    lines += [f"  export {name}={shlex.quote(value)}" for name, value in exports(emu).items()]
    return lines


def exports(emu: Emulator) -> dict[str, str]:
    """The environment that points the pmsync command line at ``emu``."""
    env = {
        "PMSYNC_JIRA_URL": emu.url,
        "PMSYNC_CONFLUENCE_URL": emu.confluence_url,
        # The emulator is not *.atlassian.net: say which flavour it plays.
        "PMSYNC_DEPLOYMENT": "cloud" if emu.flavour == "cloud" else "server",
    }
    if emu.flavour == "cloud":
        env |= {"PMSYNC_EMAIL": emu.email, "PMSYNC_API_TOKEN": emu.token}
    else:
        env |= {"PMSYNC_JIRA_PAT": emu.token, "PMSYNC_CONFLUENCE_PAT": emu.token}
    return env | {"PMSYNC_SLACK_URL": emu.slack_url, "PMSYNC_SLACK_TOKEN": emu.slack_token}


def _print_request(record: RequestRecord) -> None:
    status = "dropped" if record.status is None else str(record.status)
    query = "&".join(f"{k}={v}" for k, v in record.query.items())
    click.echo(f"{record.method:6} {status:>7}  {record.path}{'?' + query if query else ''}")


def serve(
    *,
    flavour: str,
    seed: str | None,
    port: int = 0,
    v1_pages: Literal["ok", "gone"] = "gone",
    search_lag: float = 0.0,
    latency: float = 0.0,
) -> None:
    """Serve an emulator until Ctrl-C, printing its URLs, credentials and requests.

    ``seed="demo"`` fills it with :func:`~pmsync.testing.seeds.seed_demo` first.
    ``v1_pages``, ``search_lag`` and ``latency`` are those of :class:`Emulator` and
    ``faults.latency``.
    """
    if flavour not in ("cloud", "server"):
        raise click.BadParameter(f"flavour must be cloud or server, not {flavour!r}")
    if seed not in (None, "demo"):
        raise click.BadParameter(f"unknown seed {seed!r}; the only seed is 'demo'")
    emu = Emulator(
        "cloud" if flavour == "cloud" else "server",
        port=port,
        v1_pages=v1_pages,
        search_lag=search_lag,
    )
    emu.faults.latency(latency)
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
