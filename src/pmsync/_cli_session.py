"""What every ``pmsync`` command shares: options, output, logging, errors and exit codes.

A :class:`Session` lives for one command invocation. It owns the output streams (every
line printed goes through the secret redactor), the log setup (text or JSON lines, rich
on a terminal), the progress display, and the translation of :class:`~pmsync.PmsyncError`
into a message that says what to do and an exit code:

===  =====================================================================
 0   all good
 1   some items failed (a partial run), or an unexpected error
 2   usage or configuration error
 3   cannot reach or authenticate to a service
 4   another run holds the lock
130  interrupted (Ctrl-C), as shells report a process that SIGINT ended
===  =====================================================================
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import click

from pmsync._config_file import find_config, load_config
from pmsync._lock import RunLock, lock_path_for
from pmsync._logging import LogFormat, Redactor, log_to
from pmsync._metrics import RunMetrics
from pmsync._plan import PagePlan, Plan
from pmsync.config import Config
from pmsync.exceptions import (
    ApplyError,
    AuthError,
    ConfigError,
    LockError,
    NotFoundError,
    PmsyncError,
    RateLimitError,
    ServiceError,
)

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "EXIT_SERVICE",
    "EXIT_USAGE",
    "NO_TABLE_FOUND",
    "Session",
    "advice_for",
    "common_options",
    "describe_apply_error",
    "exit_code_for",
    "field_advice",
    "for_cli",
    "is_interactive",
    "is_tty",
    "metrics_option",
    "page_options",
    "selection",
    "today_option",
]

log = logging.getLogger("pmsync.cli")

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_SERVICE = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])


def is_interactive() -> bool:
    """Whether a person is at the keyboard: standard input and output are terminals."""
    return is_tty(sys.stdin) and is_tty(sys.stdout)


def is_tty(stream: Any) -> bool:
    """Whether ``stream`` is a terminal (False for replaced or closed streams)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def _cloud_hint(environ: Mapping[str, str]) -> bool:
    deployment = (environ.get("PMSYNC_DEPLOYMENT") or "").lower()
    if deployment:
        return deployment == "cloud"
    host = urlsplit(environ.get("PMSYNC_JIRA_URL") or "").hostname or ""
    return host.endswith((".atlassian.net", ".jira.com"))


def exit_code_for(error: BaseException) -> int:
    """The exit code for an error that stopped a command (see the module docstring)."""
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(error, LockError):
        return EXIT_LOCKED
    if isinstance(error, ConfigError | click.UsageError):
        return EXIT_USAGE
    if isinstance(error, AuthError | RateLimitError | NotFoundError):
        return EXIT_SERVICE
    if isinstance(error, ServiceError) and (error.status is None or error.status >= 500):
        return EXIT_SERVICE
    return EXIT_PARTIAL


def advice_for(error: BaseException, environ: Mapping[str, str] | None = None) -> str:
    """What to do about ``error``, in a sentence or two (empty when the message says it)."""
    env = os.environ if environ is None else environ
    if isinstance(error, AuthError):
        if error.service == "slack":
            return (
                "Check PMSYNC_SLACK_TOKEN (a bot token, xoxb-...) and that the app is "
                "installed in the workspace with the chat:write, im:write and "
                "users:read.email scopes."
            )
        if _cloud_hint(env):
            return (
                "Atlassian Cloud: PMSYNC_EMAIL must be the email of the account that owns "
                "PMSYNC_API_TOKEN (create a token at "
                "https://id.atlassian.com/manage-profile/security/api-tokens), and that "
                "account needs access to the pages and the Jira project."
            )
        return (
            "Server/Data Center: PMSYNC_JIRA_PAT and PMSYNC_CONFLUENCE_PAT must be personal "
            "access tokens (profile > Personal Access Tokens) of a user who can see the "
            "pages and the Jira project; expired tokens are refused too."
        )
    if isinstance(error, RateLimitError):
        wait = f" (it asked to wait {error.retry_after:g} s)" if error.retry_after else ""
        return (
            f"{error.service} kept rate-limiting pmsync after its retries{wait}. Run less "
            "often, sync fewer pages per run (--cql), or try again later."
        )
    if isinstance(error, NotFoundError):
        return (
            "Check PMSYNC_JIRA_URL and PMSYNC_CONFLUENCE_URL (on Cloud, Confluence is the "
            "site URL + /wiki; on Server/Data Center, include any context path)."
        )
    if isinstance(error, ServiceError) and error.status is None:
        import requests  # noqa: PLC0415  (loaded by then: the request failed)

        if isinstance(error.__cause__, requests.exceptions.SSLError):
            return (
                f"TLS: {error.url or error.service} did not present a certificate this "
                "machine trusts, or does not speak HTTPS on that port. Behind a proxy that "
                "inspects TLS, point REQUESTS_CA_BUNDLE (or ca_bundle in the configuration) "
                "at your organisation's CA bundle, a PEM file; check the URL's scheme and port."
            )
        variable = _URL_VARIABLE.get(error.service, "the service's URL")
        return (
            f"Check {variable} and that {error.service} is reachable from here (DNS, proxy, "
            "firewall), then try again."
        )
    if isinstance(error, ServiceError) and error.status is not None and error.status >= 500:
        return f"{error.service} is failing on its side; try again later."
    return ""


# The library's messages give Python advice (keyword arguments); on the command line the
# same advice is a setting or a variable. No quotes here: JSON output goes through it too.
_CLI_WORDING = (
    (
        "pass date_order='DMY' or 'MDY' to read it",
        "set date_order (DMY or MDY) in the configuration, or --date-order for pmsync "
        "parse, to read it",
    ),
    (
        "add your header names with columns=",
        "add your header names to [columns] in the configuration",
    ),
    (
        "pass slack=WebClient(...) or set PMSYNC_SLACK_TOKEN",
        "set PMSYNC_SLACK_TOKEN (or PMSYNC_SLACK_TOKEN_FILE) to a Slack bot token",
    ),
)


def for_cli(text: str) -> str:
    """``text`` with the library's Python advice reworded for command-line users."""
    for python, cli in _CLI_WORDING:
        text = text.replace(python, cli)
    return text


# The variable that sets each service's URL, named in advice about unreachable services.
_URL_VARIABLE = {
    "jira": "PMSYNC_JIRA_URL",
    "confluence": "PMSYNC_CONFLUENCE_URL",
    "slack": "PMSYNC_SLACK_URL",
}

# What to do when Jira refuses a field, by the field name in its error message.
_FIELD_ADVICE = {
    "priority": "use a priority name Jira knows on the page, or map the page's word to one "
    "in [priority_map] of the configuration",
    "assignee": "mention the owner with @ on the page, or check that the user may be "
    "assigned issues in the project",
    "duedate": "write the due date as a date (2026-12-01, or pick one in the editor)",
    "summary": "shorten the item's text on the page (Jira allows 255 characters)",
    "components": "add the component to [fields] in the configuration, or create it in the project",
    "issuetype": "set issue_type in the configuration to a type the project has",
}
_FIELD_IN_MESSAGE = re.compile(r"\b(" + "|".join(_FIELD_ADVICE) + r")\b:")
_REQUIRED = re.compile(r"\b(customfield_\d+|[a-z]+)\b: [^;]*\bis required", re.IGNORECASE)


def field_advice(message: str) -> str:
    """What to do about a field Jira refused, when ``message`` names one; else empty."""
    required = _REQUIRED.search(message)
    if required:
        return (
            f"the project requires {required.group(1)}: give it a value in [fields] of "
            "the configuration"
        )
    found = _FIELD_IN_MESSAGE.search(message)
    return _FIELD_ADVICE[found.group(1)] if found else ""


def describe_apply_error(error: ApplyError, plan: Plan | None) -> str:
    """``error`` with the page, table and row of its item when the plan knows them, and
    what to do when Jira refused a field."""
    message = str(error)
    advice = field_advice(message)
    if advice:
        message = f"{message} (to fix: {advice})"
    if plan is None or error.page_id is None:
        return message
    for page in plan.pages:
        if page.page_id != error.page_id:
            continue
        where = f"page {page.title!r} ({page.page_id})"
        for item in page.postmortem.items:
            if item.item_id == error.item_id:
                if item.kind == "task":
                    where += f", task list {item.table + 1} task {item.row + 1}"
                else:
                    where += f", table {item.table + 1} row {item.row + 1}"
                break
        if page.title and repr(page.title) in message and error.item_id is None:
            return message
        return f"{where}: {message}"
    return message


def _no_items_warning(title: str, page_id: str) -> str:
    return f"warning: page {title!r} ({page_id}) has no action items: {NO_TABLE_FOUND}"


#: Why a page can hold no action items, and what to do about it.
NO_TABLE_FOUND = (
    "no action-item table found (a header row naming an action column and an owner, due, "
    "status, priority or ticket column; add unusual header names to [columns] in the "
    "configuration)"
)


@attrs.define
class Session:
    """One command invocation: its options, its output and its log setup."""

    config_path: str | None = None
    as_json: bool = False
    verbosity: int = 0
    log_format: LogFormat = "text"
    redact: Redactor = attrs.field(factory=Redactor.from_env)
    #: What this run did, for ``--metrics-file`` and the ``-q`` summary line; None for
    #: commands that report no metrics.
    metrics: RunMetrics | None = None
    metrics_file: str | None = None
    config: Config | None = None
    _console: Any = None

    @property
    def quiet(self) -> bool:
        """``-q``: print nothing when all is well."""
        return self.verbosity < 0

    @property
    def verbose(self) -> bool:
        """``-v``: show no-ops, debug logs and tracebacks."""
        return self.verbosity > 0

    # -- output ------------------------------------------------------------------------

    def echo(self, text: str = "", *, err: bool = False) -> None:
        """Print ``text`` with secrets redacted and advice worded for the command line."""
        click.echo(self.redact(for_cli(text)), err=err)

    def say(self, text: str) -> None:
        """Print a result line unless ``-q`` (JSON output is printed regardless)."""
        if not self.quiet:
            self.echo(text)

    def warn(self, text: str) -> None:
        """Print a warning on standard error unless ``-q``."""
        if not self.quiet:
            self.echo(f"warning: {text}", err=True)

    def error(self, text: str) -> None:
        """Print an error on standard error, always."""
        self.echo(f"error: {text}", err=True)

    def emit_json(self, text: str) -> None:
        """Print a JSON document on standard output, always."""
        self.echo(text)

    @property
    def console(self) -> Any:
        """A rich console on standard error when standard output is a terminal, else None."""
        return self._console

    def progress_wanted(self) -> bool:
        """Whether to show spinners: a terminal, not quiet, and text logs."""
        return self._console is not None and not self.quiet and self.log_format == "text"

    @contextlib.contextmanager
    def status(self, message: str) -> Iterator[None]:
        """Show ``message`` with a spinner on a terminal, or log it (cron) while a phase runs."""
        if self.progress_wanted():
            with self._console.status(self.redact(message)):
                yield
        else:
            log.info("%s", message)
            yield

    @contextlib.contextmanager
    def progress(self, message: str, total: int) -> Iterator[Callable[[int, int], None]]:
        """A progress bar on a terminal (else one log line per tenth) for a counted phase."""
        if self.progress_wanted() and total > 1:
            from rich.progress import Progress  # noqa: PLC0415  (only on terminals)

            with Progress(console=self._console, transient=True) as bar:
                task = bar.add_task(self.redact(message), total=total)
                yield lambda done, _total: bar.update(task, completed=done)
            return
        log.info("%s", message)
        step = max(1, total // 10)

        def report(done: int, total: int) -> None:
            if done == total or done % step == 0:
                log.info("%s: %d/%d page(s)", message, done, total)

        yield report

    # -- configuration and services ----------------------------------------------------

    def find_config(self) -> Path:
        """The configuration file for this run (``--config``, else the default places)."""
        return find_config(self.config_path)

    def load_config(self) -> tuple[Config, Path]:
        """The validated configuration and the file it came from."""
        path = self.find_config()
        config = self.config = load_config(path)
        log.debug("configuration from %s", path)
        return config, path

    def syncer(self, config: Config) -> Any:
        """A :class:`~pmsync.Syncer` built from the environment for ``config``."""
        from pmsync._sync import Syncer  # noqa: PLC0415  (the clients import slowly)

        return Syncer.from_env(config)

    def lock(self, config_path: Path) -> RunLock:
        """The run lock of the configuration file ``config_path`` (enter it to take it)."""
        return RunLock(lock_path_for(config_path))

    def check_pages(self, page_ids: Sequence[str], pages: Sequence[PagePlan]) -> int:
        """Report each page of ``--page`` that was not found (an error) or holds no action
        items (a warning), even with ``-q``, and each page the CQL query selected that
        holds no action items (a warning, unless ``-q``); return the number of errors."""
        found = {page.page_id: (page.title, len(page.postmortem.items)) for page in pages}
        for page_id, (title, items) in found.items():
            if not items and page_id not in page_ids and not self.quiet:
                self.echo(_no_items_warning(title, page_id), err=True)
        return self.check_selection(page_ids, found)

    def check_selection(self, page_ids: Sequence[str], found: Mapping[str, tuple[str, int]]) -> int:
        """:meth:`check_pages` for pages given as id -> (title, number of action items)."""
        errors = 0
        for page_id in dict.fromkeys(page_ids):
            title, items = found.get(page_id, (None, 0))
            if title is None:
                errors += 1
                self.error(
                    f"page {page_id} does not exist or this account cannot see it "
                    "(check the id in the page's URL and the account's space permissions)"
                )
            elif not items:
                self.echo(_no_items_warning(title, page_id), err=True)
        if errors and self.metrics is not None:
            self.metrics.done["errors"] += errors
        return errors

    # -- running a command -------------------------------------------------------------

    @contextlib.contextmanager
    def routed_logs(self) -> Iterator[None]:
        """Route pmsync's log records for the duration of the command."""
        stderr = sys.stderr
        handler: logging.Handler | None = None
        if is_tty(sys.stdout) and self.log_format == "text":
            from rich.console import Console  # noqa: PLC0415  (only on a terminal)
            from rich.logging import RichHandler  # noqa: PLC0415

            self._console = Console(stderr=True)
            handler = RichHandler(
                console=self._console,
                show_path=False,
                markup=False,
                rich_tracebacks=False,
                log_time_format="%H:%M:%S",
            )
        with log_to(
            stderr,
            verbosity=self.verbosity,
            fmt=self.log_format,
            redact=self.redact,
            handler=handler,
        ):
            yield

    def fail(self, error: BaseException) -> int:
        """Report an error that stopped the command; return its exit code."""
        code = exit_code_for(error)
        if isinstance(error, PmsyncError | click.UsageError):
            kind = {
                EXIT_USAGE: "configuration error" if isinstance(error, ConfigError) else "usage",
                EXIT_SERVICE: "service error",
                EXIT_LOCKED: "locked",
            }.get(code, "error")
            message = f"{kind}: {error}"
        elif code == EXIT_INTERRUPTED:
            context = click.get_current_context(silent=True)
            command = f"pmsync {context.info_name}" if context else "the command"
            message = (
                f"interrupted. What this run already changed stays changed; run `{command}` "
                "again to finish: it carries on from where this run stopped, without "
                "creating anything twice."
            )
        else:
            message = (
                f"unexpected error ({type(error).__name__}): {error}. This is a bug in "
                "pmsync; run again with -v for the traceback and report it."
            )
        advice = advice_for(error)
        if self.verbose:
            self.echo("".join(traceback.format_exception(error)).rstrip(), err=True)
        self.echo(f"pmsync: {message}" + (f"\n{advice}" if advice else ""), err=True)
        if self.as_json:
            self.emit_json(
                json.dumps(
                    {
                        "ok": False,
                        "exit_code": code,
                        "error": {
                            "type": type(error).__name__,
                            "message": self.redact(str(error) or message),
                            "advice": advice or None,
                        },
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
        return code

    def run(self, body: Callable[[], int | None]) -> int:
        """Run a command body with logging set up; translate what it raises."""
        with self.routed_logs():
            if self.metrics is None:
                return self._run(body)
            with self.metrics.recording():
                code = self._run(body)
            return self.finish_metrics(code)

    def _run(self, body: Callable[[], int | None]) -> int:
        try:
            return body() or EXIT_OK
        except (click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise  # a closed pipe ends the command quietly (see cli.main)
        except click.UsageError:
            raise  # click prints usage errors itself, with exit code 2
        except KeyboardInterrupt as interrupt:
            # Not click's "Aborted!" and exit 1 ("some items failed"): say what happened
            # and what to do. Every write is recorded as it lands, so a rerun carries on.
            return self.fail(interrupt)
        except Exception as error:  # every error gets a message and an exit code
            return self.fail(error)

    def finish_metrics(self, code: int) -> int:
        """Write the metrics file, if one is wanted, and the ``-q`` summary line, if the
        run did something or failed; return the exit code (2 if the file cannot be written)."""
        assert self.metrics is not None
        self.metrics.finish(code)
        target = self.metrics_file or (self.config.metrics_file if self.config else None)
        if target:
            path = target.replace("{command}", self.metrics.command)
            try:
                self.metrics.write(Path(path))
            except OSError as exc:
                self.error(f"cannot write the metrics file {path}: {exc.strerror or exc}")
                code = code or EXIT_USAGE
                self.metrics.exit_code = code  # for the summary line
        if self.quiet and self.metrics.did_something:
            self.echo(self.metrics.summary(), err=True)
        return code


def common_options(fn: F) -> F:
    """Add ``--config``, ``--json``, ``-v``, ``-q`` and ``--log-format`` to a command.

    The command receives a :class:`Session` as ``session`` and returns its exit code.
    """

    @click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        envvar="PMSYNC_CONFIG",
        show_envvar=True,
        default=None,
        help="The configuration file. Default: ./pmsync.toml, then pmsync.toml in the user "
        "configuration directory.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @click.option(
        "-v",
        "--verbose",
        count=True,
        help="More detail: no-ops, debug logs, tracebacks (-vv: HTTP clients too).",
    )
    @click.option("-q", "--quiet", count=True, help="Print nothing when all is well (for cron).")
    @click.option(
        "--log-format",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Log lines on standard error as text or as JSON objects.",
    )
    @functools.wraps(fn)
    def wrapper(
        *,
        config_path: str | None,
        as_json: bool,
        verbose: int,
        quiet: int,
        log_format: LogFormat,
        **kwargs: Any,
    ) -> None:
        metrics = None
        if "metrics_file" in kwargs:  # see metrics_option
            metrics = RunMetrics(command=click.get_current_context().info_name or "pmsync")
        session = Session(
            config_path=config_path,
            as_json=as_json,
            verbosity=verbose - quiet,
            log_format=log_format,
            metrics=metrics,
            metrics_file=kwargs.pop("metrics_file", None),
        )
        code = session.run(lambda: fn(session=session, **kwargs))
        raise click.exceptions.Exit(code)

    return wrapper  # type: ignore[return-value]


def metrics_option(fn: F) -> F:
    """Add ``--metrics-file`` to a command that uses :func:`common_options`: the session
    then records a :class:`~pmsync._metrics.RunMetrics` and prints the ``-q`` summary."""
    return click.option(
        "--metrics-file",
        type=click.Path(dir_okay=False),
        default=None,
        metavar="PATH",
        help="Write Prometheus metrics of this run to PATH, atomically, for "
        "node_exporter's textfile collector (default: metrics_file in the configuration).",
    )(fn)


def page_options(fn: F) -> F:
    """Add ``--page`` (repeatable) and ``--cql`` page selection to a command."""
    fn = click.option(
        "--cql",
        default=None,
        metavar="QUERY",
        help="Select pages with a Confluence CQL query (default: `cql` in the configuration).",
    )(fn)
    return click.option(
        "--page",
        "page_ids",
        multiple=True,
        metavar="ID",
        help="A page id to include (repeatable).",
    )(fn)


def today_option(help_text: str) -> Callable[[F], F]:
    """A ``--today YYYY-MM-DD`` option passed as a :class:`datetime.date` (or None)."""

    def convert(_ctx: click.Context, _param: click.Parameter, value: Any) -> dt.date | None:
        return value.date() if value is not None else None

    return click.option(
        "--today",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        callback=convert,
        metavar="YYYY-MM-DD",
        help=help_text,
    )


def selection(page_ids: Sequence[str], cql: str | None) -> dict[str, Any]:
    """The page selection keyword arguments for the Syncer (None means the config's cql)."""
    return {"page_ids": list(page_ids) or None, "cql": cql}
