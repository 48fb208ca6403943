"""The ``pmsync`` command line: a thin click layer over the library.

It parses options, calls the library, prints results and translates
:class:`~pmsync.PmsyncError` into messages and exit codes. It holds no logic of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import sys
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import click

from pmsync import __version__
from pmsync import _cli_session as _session
from pmsync._storage.parse import parse_page
from pmsync.exceptions import PmsyncError

__all__ = ["main"]

# The exit codes, documented in docs/cli.md; _cli_session explains each.
EXIT_OK = _session.EXIT_OK
EXIT_PARTIAL = _session.EXIT_PARTIAL
EXIT_USAGE = _session.EXIT_USAGE
EXIT_SERVICE = _session.EXIT_SERVICE
EXIT_LOCKED = _session.EXIT_LOCKED
EXIT_INTERRUPTED = _session.EXIT_INTERRUPTED
# What a shell reports for a process that SIGPIPE ended (128 + 13).
EXIT_CLOSED_PIPE = 141


class _Main(click.Group):
    """The command group; a closed standard output ends any command quietly."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; on a closed pipe (``pmsync demo | head``) stop without a word."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # As Unix tools do: no message, and no second error when Python flushes
            # standard output at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(EXIT_CLOSED_PIPE) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmsync")
def main() -> None:
    """Sync postmortem action items between Confluence, Jira and Slack.

    Try it offline with `pmsync demo`. For real sites, write a configuration with
    `pmsync init` and set the connection in the environment (secrets are never taken
    from the command line):

    \b
      Cloud:      PMSYNC_JIRA_URL, PMSYNC_EMAIL, PMSYNC_API_TOKEN
                  (and PMSYNC_DEPLOYMENT=cloud when the host is not *.atlassian.net:
                  a custom domain, a proxy, `pmsync emulator`)
      Server/DC:  PMSYNC_JIRA_URL, PMSYNC_CONFLUENCE_URL,
                  PMSYNC_JIRA_PAT, PMSYNC_CONFLUENCE_PAT
      Slack:      PMSYNC_SLACK_TOKEN (optional), PMSYNC_SLACK_URL (proxy, emulator)
      Any secret may come from a file: PMSYNC_API_TOKEN_FILE=/path, etc.

    \b
    Exit codes:
      0  all good
      1  some items failed (the rest went ahead), or an unexpected error
      2  usage or configuration error
      3  cannot reach or authenticate to a service
      4  another run of the same configuration holds the lock
      130  interrupted (Ctrl-C); run the command again to finish
    """


_FLAVOUR = click.option(
    "--flavour",
    type=click.Choice(["cloud", "server"]),
    default="cloud",
    show_default=True,
    help="Emulate Atlassian Cloud or Server/Data Center.",
)


@main.command()
@click.argument("file", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True, help="Print the items as JSON.")
@click.option("--page-id", default=None, help="The page id to use for item identities.")
@click.option(
    "--date-order",
    type=click.Choice(["DMY", "MDY"]),
    default=None,
    help="How to read ambiguous numeric dates such as 03/04/2026.",
)
def parse(file: BinaryIO, as_json: bool, page_id: str | None, date_order: str | None) -> None:
    """Print the action items of a storage-format FILE (or - for standard input)."""
    # Bytes, decoded leniently: a stray Latin-1 byte must not stop the page being read.
    storage = file.read().decode("utf-8-sig", "replace")
    name = str(getattr(file, "name", "-"))
    if page_id is None and name not in ("-", "<stdin>"):
        page_id = Path(name).stem
    try:
        pm = parse_page(
            storage,
            page_id=page_id,
            title=None,
            date_order=date_order,  # type: ignore[arg-type]  # click.Choice checked it
        )
    except PmsyncError as exc:
        raise click.ClickException(_session.for_cli(str(exc))) from None
    if as_json:
        click.echo(json.dumps(pm.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_postmortem(pm)
    for warning in pm.warnings:
        click.echo(f"warning [{warning.code}]: {_session.for_cli(warning.message)}", err=True)


def _print_postmortem(pm: object) -> None:
    """The items as an aligned table: identity, key, status, due date, owner, summary."""
    from pmsync._model import Postmortem  # noqa: PLC0415

    assert isinstance(pm, Postmortem)
    items = len(pm.items)
    warned = f", {len(pm.warnings)} warning{'s' if len(pm.warnings) != 1 else ''}"
    click.echo(
        f"{items} action item{'s' if items != 1 else ''}"
        f"{warned if pm.warnings else ''}" + (f" in page {pm.page_id}" if pm.page_id else "")
    )
    if not pm.items:
        return
    rows = [("ID", "KEY", "STATUS", "DUE", "OWNER", "SUMMARY")]
    for item in pm.items:
        owner = str(item.owner) if item.owner else "-"
        rows.append(
            (
                item.item_id,
                item.jira_key or "-",
                item.status.value if item.status else "-",
                item.due.isoformat() if item.due else "-",
                owner if len(owner) <= 24 else owner[:23] + "…",
                item.summary,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    for row in rows:
        cells = [value.ljust(width) for value, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[5]]))


def _check_port(host: str, port: int) -> None:
    """Refuse a port another program listens on as a usage error naming ``--port``
    (werkzeug would print its own advice and exit 1, which reads as a partial run)."""
    if port == 0:
        return
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.BadParameter(
                f"cannot listen on {host}:{port}: {exc.strerror}; choose another port, "
                "or 0 for any free one",
                param_hint="--port",
            ) from None


def _seconds_option(name: str, help_text: str) -> Callable[[_session.F], _session.F]:
    """An option of seconds, 0 or more, 0 by default."""
    return click.option(
        name,
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        metavar="SECONDS",
        help=help_text,
    )


@main.command()
@_FLAVOUR
@click.option(
    "--seed",
    type=click.Choice(["demo"]),
    default=None,
    help="Seed the emulator with the demo postmortems.",
)
@click.option("--port", type=int, default=0, help="Port to listen on (default: any free one).")
@click.option(
    "--v1-pages",
    type=click.Choice(["gone", "ok"]),
    default="gone",
    show_default=True,
    help="Cloud: answer 410 Gone to the REST v1 page endpoints, as newer sites do, or "
    "serve them like older sites.",
)
@_seconds_option(
    "--search-lag",
    "Let Jira's search show new and edited issues only after this many seconds, as Jira "
    "Cloud's does (unless named in reconcileIssues).",
)
@_seconds_option("--latency", "Delay every request by this many seconds, like a site far away.")
def emulator(
    *, flavour: str, seed: str | None, port: int, v1_pages: str, search_lag: float, latency: float
) -> None:
    """Serve the Confluence, Jira and Slack emulator on 127.0.0.1 until interrupted.

    Prints the URLs, the (fake) credentials and the `export` lines that point the pmsync
    command line at it, then one line per request.
    """
    from pmsync.testing._serve import serve  # noqa: PLC0415  (keep werkzeug off the fast path)

    _check_port("127.0.0.1", port)
    serve(
        flavour=flavour,
        seed=seed,
        port=port,
        v1_pages="ok" if v1_pages == "ok" else "gone",
        search_lag=search_lag,
        latency=latency,
    )


# -- commands that talk to the services ------------------------------------------------
# Each returns its exit code; _cli_session.common_options turns errors into messages and
# codes, sets up logging and redaction, and exits.


@main.command()
@_session.page_options
@_session.common_options
def plan(session: _session.Session, page_ids: tuple[str, ...], cql: str | None) -> int:
    """Show what a sync would change, and change nothing.

    Reads the selected pages and the Jira issues pmsync manages and prints one line per
    change: issues to create, fields to update, statuses to move, keys to write back,
    conflicts. With -v, items already in sync are listed too. Exits 0 whether or not there
    is something to do.
    """
    config, _path = session.load_config()
    syncer = session.syncer(config)
    with session.status("Reading pages and issues"):
        the_plan = syncer.plan(**_session.selection(page_ids, cql))
    if session.as_json:
        session.emit_json(the_plan.to_json())
    else:
        session.say(the_plan.render(verbose=session.verbose))
    return EXIT_PARTIAL if session.check_pages(page_ids, the_plan.pages) else EXIT_OK


@main.command()
@_session.page_options
@_session.common_options
@_session.metrics_option
@click.option("--dry-run", is_flag=True, help="Print the plan and write nothing.")
@click.option(
    "-y", "--yes", is_flag=True, help="Apply without asking, even on an interactive terminal."
)
@click.option(
    "--full",
    is_flag=True,
    help="Read every page and issue, not only what changed since the last run (with a cursor).",
)
def sync(
    *,
    session: _session.Session,
    page_ids: tuple[str, ...],
    cql: str | None,
    dry_run: bool,
    yes: bool,
    full: bool,
) -> int:
    """Make Jira match the pages, write keys and statuses back, and notify owners.

    Plans like `pmsync plan`, then applies the plan. On an interactive terminal it shows
    the plan and asks before changing anything (--yes skips the question); under cron it
    just runs, a batch of pages at a time (memory bounded by the batch, not the site),
    and prints the plan with what it did afterwards. Only one run per configuration at a
    time: a second run exits 4. Exits 1 when some changes failed (the others are applied;
    rerun to retry the rest). With a cursor
    (`cursor_page` or `cursor_file`), a run reads only what changed since the last one;
    --full reads everything and reports what the incremental runs missed.
    """
    config, path = session.load_config()
    syncer = session.syncer(config)
    if dry_run:
        with session.status("Reading pages and issues"):
            the_plan = syncer.plan(**_session.selection(page_ids, cql), full=full)
        if session.as_json:
            session.emit_json(the_plan.to_json())
        else:
            session.say(the_plan.render(verbose=session.verbose))
        return EXIT_PARTIAL if session.check_pages(page_ids, the_plan.pages) else EXIT_OK
    if not _session.is_interactive():
        return _sync_unattended(session, syncer, path, page_ids, cql, full=full)
    with session.lock(path):
        with session.status("Reading pages and issues"):
            the_plan = syncer.plan(**_session.selection(page_ids, cql), full=full)
        missing = session.check_pages(page_ids, the_plan.pages)
        if session.metrics is not None:
            session.metrics.add_postmortems(
                [page.postmortem for page in the_plan.pages], syncer.clock().date()
            )
        if the_plan.is_empty:
            if the_plan.selection is not None:
                syncer.apply(the_plan)  # nothing to write; the cursor moves on
            if session.as_json:
                session.emit_json(_empty_result(the_plan))
            else:
                session.say(the_plan.render(verbose=session.verbose))
            return EXIT_PARTIAL if missing else EXIT_OK
        if not yes and _session.is_interactive() and the_plan.to_review:
            session.echo(the_plan.render(verbose=session.verbose), err=session.as_json)
            try:
                apply_it = click.confirm("Apply these changes?", default=False, err=session.as_json)
            except click.Abort:  # Ctrl-C or the end of input at the question
                session.echo("\nNot applied: nothing was changed.", err=session.as_json)
                return EXIT_INTERRUPTED
            if not apply_it:
                session.echo("Not applied: nothing was changed.", err=session.as_json)
                return EXIT_OK
        elif not session.as_json:
            session.say(the_plan.render(verbose=session.verbose))
        changes = len(the_plan.to_review)
        with (
            session.progress(f"Applying {changes} change(s)", len(the_plan.pages)) as tick,
            _terminate_as_interrupt(),
        ):
            result = syncer.apply(the_plan, progress=tick)
    if session.metrics is not None:
        session.metrics.add_sync(result)
    if session.as_json:
        session.emit_json(result.to_json())
    else:
        _print_sync_result(session, result)
    return EXIT_OK if result.ok and not missing else EXIT_PARTIAL


def _sync_unattended(
    session: _session.Session,
    syncer: Any,
    path: Path,
    page_ids: Sequence[str],
    cql: str | None,
    *,
    full: bool,
) -> int:
    """``sync`` with nobody at the terminal (cron): no question to ask, so the pages are
    read, planned and written in batches (:meth:`pmsync.Syncer.sync`) and the memory
    does not grow with the site; what was done is printed afterwards, as a plan and a
    result."""
    with (
        session.lock(path),
        session.status("Reading pages and issues, and applying in batches"),
        _terminate_as_interrupt(),
    ):
        result = syncer.sync(**_session.selection(page_ids, cql), full=full)
    the_plan = result.plan
    assert the_plan is not None  # a sync's result holds what it planned
    missing = session.check_pages(page_ids, the_plan.pages)
    if session.metrics is not None:
        session.metrics.add_postmortems(
            [page.postmortem for page in the_plan.pages], syncer.clock().date()
        )
        session.metrics.add_sync(result)
    if session.as_json:
        session.emit_json(result.to_json())
        return EXIT_OK if result.ok and not missing else EXIT_PARTIAL
    session.say(the_plan.render(verbose=session.verbose))
    if not the_plan.is_empty:
        _print_sync_result(session, result)
    return EXIT_OK if result.ok and not missing else EXIT_PARTIAL


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While pages are written, SIGTERM (a cron timeout, ``kill``) stops the run as
    Ctrl-C does: every worker finishes the request it is sending and stops."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread (an embedding app's own)
        return

    def interrupt(signum: int, frame: object) -> None:
        del signum, frame
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _empty_result(the_plan: object) -> str:
    from pmsync._plan import Plan, SyncResult  # noqa: PLC0415

    assert isinstance(the_plan, Plan)
    return SyncResult(warnings=the_plan.warnings, plan=the_plan).to_json()


def _print_sync_result(session: _session.Session, result: object) -> None:
    from pmsync._plan import SyncResult  # noqa: PLC0415

    assert isinstance(result, SyncResult)
    for line in str(result).splitlines():
        if not line.startswith("error: "):
            session.say(line)
    for error in result.errors:
        session.error(_session.describe_apply_error(error, result.plan))
    if result.errors:
        session.echo(
            f"pmsync: {len(result.errors)} change(s) failed; the others were applied. Fix "
            "what the errors name and run again: pmsync retries only what is left.",
            err=True,
        )


@main.command(name="lint")
@click.argument("targets", nargs=-1, required=True, metavar="PAGE_ID|FILE|-...")
@_session.common_options
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@_session.today_option("Judge due dates as of this date (default: today).")
def lint_command(
    session: _session.Session,
    targets: tuple[str, ...],
    strict: bool,
    today: dt.date | None,
) -> int:
    """Check action items: owners, due dates, vague or overlong items, duplicates.

    Each target is a Confluence page id, a local storage-format file, or - for standard
    input; all of them are checked together, so the same action in two postmortems is
    reported. Page ids need the environment and a configuration; files do not (a
    configuration, when found, still sets date order and extra column names). Exits 1
    when an item has an error (no owner, an owner that matches no Jira user, a summary
    too long for Jira) or a target cannot be read; with --strict, on warnings too.
    """
    from pmsync._cli_lint import print_lint, run_lint  # noqa: PLC0415

    return print_lint(session, run_lint(session, targets, today=today), strict=strict)


@main.command()
@click.argument(
    "path",
    required=False,
    default="pmsync.toml",
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--project", default="OPS", show_default=True, help="The Jira project key.")
@click.option(
    "--space", default="SRE", show_default=True, help="The Confluence space of the postmortems."
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
def init(path: Path, project: str, space: str, force: bool) -> None:
    """Write a commented example configuration to PATH (default: ./pmsync.toml).

    Every setting is listed with its default or an example. Refuses to overwrite an
    existing file unless --force is given.
    """
    from pmsync._config_file import config_from_mapping, example_config  # noqa: PLC0415

    if path.exists() and not force:
        click.echo(
            f"pmsync: {path} exists; pass --force to overwrite it, or name another file.",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_USAGE)
    try:
        text = example_config(project=project, space=space)
        config_from_mapping(tomllib.loads(text), source=str(path), text=text)
    except PmsyncError as exc:
        click.echo(f"pmsync: configuration error: {exc}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"pmsync: cannot write {path}: {exc.strerror}", err=True)
        raise click.exceptions.Exit(EXIT_USAGE) from None
    click.echo(
        f"Wrote {path}. Next: check `project` and `cql` in it, set the PMSYNC_* environment "
        "variables (see `pmsync --help`), then run `pmsync plan`."
    )


@main.command()
@_FLAVOUR
@click.option(
    "-v", "--verbose", count=True, help="Also list items already in sync, and show the log."
)
def demo(flavour: str, verbose: int) -> None:
    """Run the whole job offline against the bundled emulator, in a few seconds.

    Starts an emulated Confluence, Jira and Slack on 127.0.0.1, seeds three postmortems,
    syncs them (issues created, keys and statuses written back, owners told), lets
    "people" edit a page and close an issue, syncs the changes both ways, and shows that
    a last run has nothing to do. Exits 0 when every step did what it should, else 1
    with the step that went wrong: it doubles as a smoke test of an installation.
    """
    from pmsync._demo import PlainOutput, RichOutput, run_demo  # noqa: PLC0415

    # Quiet logs by default: the demo shows plans, warnings and results itself.
    session = _session.Session(verbosity=verbose if verbose else -1)

    def body() -> int:
        if _session.is_tty(sys.stdout):
            from rich.console import Console  # noqa: PLC0415

            output: PlainOutput | RichOutput = RichOutput(Console())
        else:
            output = PlainOutput(session.echo)
        run_demo(output, flavour=flavour, verbose=verbose > 0)
        return EXIT_OK

    raise click.exceptions.Exit(session.run(body))


@main.command()
@_session.common_options
@_session.metrics_option
@click.option("--dry-run", is_flag=True, help="List the reminders that are due; send nothing.")
@_session.today_option("Act as if today were this date (default: today).")
def remind(session: _session.Session, dry_run: bool, today: dt.date | None) -> int:
    """Remind owners in Slack about items due soon or overdue, and escalate.

    Reads the open issues pmsync manages and sends what the [reminders] policy of the
    configuration calls for today: a due-soon note, overdue reminders at most once per
    interval, an escalation to the channel after repeated ones. What was sent is
    remembered in each issue, so reruns and other machines never repeat a reminder.
    Takes the same lock as `pmsync sync`. Exits 1 when some reminders could not be sent.
    """
    config, path = session.load_config()
    syncer = session.syncer(config)
    lock = contextlib.nullcontext() if dry_run else session.lock(path)
    with lock, session.status("Reading issues and sending reminders"):
        result = syncer.remind(today=today, dry_run=dry_run)
    if session.metrics is not None:
        session.metrics.add_reminders(result)
    if session.as_json:
        session.emit_json(result.to_json())
        return EXIT_OK if result.ok else EXIT_PARTIAL
    for line in str(result).splitlines():
        if line.strip().startswith("error: "):
            session.error(line.strip().removeprefix("error: "))
        else:
            session.say(line)
    if not result.ok:
        session.echo(
            f"pmsync: {len(result.errors)} reminder(s) could not be sent; the next run "
            "tries them again.",
            err=True,
        )
    return EXIT_OK if result.ok else EXIT_PARTIAL


@main.command()
@_session.page_options
@_session.common_options
@_session.metrics_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "html"]),
    default=None,
    help="The output format (default: from the --output file's extension, such as "
    "report.html; json with --json; else text).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@_session.today_option("Count overdue items as of this date (default: today).")
def report(
    *,
    session: _session.Session,
    page_ids: tuple[str, ...],
    cql: str | None,
    fmt: str | None,
    output: str | None,
    today: dt.date | None,
) -> int:
    """Report progress across postmortems: done, open, overdue, unowned, time to close.

    Figures overall, per owner, per team and per postmortem, and the overdue items. As
    text, JSON, CSV (one row per item, for spreadsheets) or a standalone HTML page.
    """
    from pmsync._cli_report import format_for, render_report  # noqa: PLC0415

    if session.as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json asks for JSON but --format asks for {fmt}")
    fmt = fmt or format_for(output, as_json=session.as_json)
    config, _path = session.load_config()
    syncer = session.syncer(config)
    with session.status("Reading pages and issues"):
        the_report = syncer.report(today=today, **_session.selection(page_ids, cql))
    if session.metrics is not None:
        session.metrics.add_figures(the_report.totals)
    missing = _check_report_pages(session, syncer, page_ids, the_report) if page_ids else 0
    wiki = syncer.confluence.http.base_url
    text = render_report(
        the_report, fmt, page_url=lambda page_id: f"{wiki}/pages/viewpage.action?pageId={page_id}"
    )
    if output is None or output == "-":
        click.echo(text, nl=not text.endswith("\n"))
    else:
        try:
            Path(output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(
                f"cannot write {output}: {exc.strerror}", param_hint="--output"
            ) from None
        session.say(f"Report written to {output}.")
    return EXIT_PARTIAL if missing else EXIT_OK


def _check_report_pages(
    session: _session.Session, syncer: Any, page_ids: Sequence[str], report: Any
) -> int:
    """:meth:`~_session.Session.check_selection` for a report: the pages with items are in
    it; the others are read once more (rarely) to tell a page without items from none."""
    items = Counter(item.page_id for item in report.items)
    titles = {item.page_id: item.page_title or "" for item in report.items if item.page_id}
    absent = [page_id for page_id in page_ids if page_id not in titles]
    if absent:
        pages, _missing = syncer.read_pages(page_ids=absent)
        titles.update((page.id, page.title) for page in pages)
    return session.check_selection(page_ids, {p: (t, items[p]) for p, t in titles.items()})


@main.command()
@_session.common_options
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    metavar="YYYY-MM-DD",
    help="Look at changes from this day on (default: since the last review).",
)
@click.option("--dry-run", is_flag=True, help="Print the review; post and write nothing.")
@_session.today_option("Review as if today were this date (default: today).")
def review(
    *, session: _session.Session, since: dt.datetime | None, dry_run: bool, today: dt.date | None
) -> int:
    """Prepare the review meeting: a Slack digest and a roll-up page in Confluence.

    What changed since the last review across every postmortem pmsync manages: items
    completed, new, become overdue, stuck, without owner or due date, and slipping; per
    team and per postmortem with the trend. Posts one digest to the [review] channel and
    keeps the roll-up page under [review] parent_page (open items by team and owner, and
    the lessons learned). The last review is remembered on that page: a rerun the same
    day posts and writes nothing. Takes the same lock as `pmsync sync`.
    """
    config, path = session.load_config()
    syncer = session.syncer(config)
    lock = contextlib.nullcontext() if dry_run else session.lock(path)
    with lock, session.status("Reading issues and pages for the review"):
        the_review = syncer.review(
            since=since.date() if since else None, today=today, dry_run=dry_run
        )
    if session.as_json:
        session.emit_json(the_review.to_json())
    else:
        for line in str(the_review).splitlines():
            session.say(line)
    return EXIT_OK


@main.command()
@_session.common_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port (0: any free one).")
def serve(session: _session.Session, host: str, port: int) -> int:
    """Answer Slack's buttons and Jira and Confluence webhooks over HTTP.

    Serves /slack/actions (the Slack app's interactivity URL), /webhooks/jira,
    /webhooks/confluence and /healthz with werkzeug, for small sites and trials; in
    production run pmsync.web.wsgi_app under gunicorn (docs/recipes/slack-app.md).
    Secrets come from the environment: PMSYNC_SLACK_SIGNING_SECRET turns on the Slack
    endpoint, PMSYNC_WEBHOOK_SECRET the webhooks. Runs until interrupted; takes no run
    lock, so cron runs of `pmsync sync` go on beside it.
    """
    from pmsync._env import read_secret  # noqa: PLC0415
    from pmsync.web import serve as run  # noqa: PLC0415
    from pmsync.web import wsgi_app  # noqa: PLC0415

    _check_port(host, port)
    config, _path = session.load_config()
    syncer = session.syncer(config)
    app = wsgi_app(
        syncer,
        signing_secret=read_secret(os.environ, "PMSYNC_SLACK_SIGNING_SECRET"),
        webhook_secret=read_secret(os.environ, "PMSYNC_WEBHOOK_SECRET"),
    )
    run(app, host, port, ready=lambda url: session.echo(f"pmsync: serving on {url}"))
    return EXIT_OK
