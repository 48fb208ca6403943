"""``pmsync lint``: read postmortems from files, standard input or Confluence, and lint them.

A target is ``-`` (standard input), the path of a local storage-format file, or a page id
(read from Confluence, which needs the environment and a configuration). All targets are
linted together, so the same action in two of them is reported as a duplicate.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import click

from pmsync._cli_session import EXIT_OK, EXIT_PARTIAL, NO_TABLE_FOUND, Session
from pmsync._lint import Finding, lint
from pmsync._model import Postmortem
from pmsync._storage.parse import parse_page
from pmsync.config import Config
from pmsync.exceptions import ConfigError, ParseError

__all__ = ["LintRun", "print_lint", "run_lint"]


@attrs.frozen
class LintRun:
    """What ``pmsync lint`` found: the postmortems read, the findings, unreadable targets."""

    postmortems: tuple[Postmortem, ...]
    findings: tuple[Finding, ...]
    failures: tuple[str, ...] = ()

    def counts(self) -> tuple[int, int]:
        """The number of error and warning findings."""
        errors = sum(1 for f in self.findings if f.severity == "error")
        return errors, len(self.findings) - errors

    def to_json(self, *, strict: bool) -> str:
        """The run as JSON: ``ok``, the postmortems, the findings and the failures."""
        errors, warnings = self.counts()
        payload: dict[str, Any] = {
            "ok": not self.failures and not errors and not (strict and warnings),
            "errors": errors,
            "warnings": warnings,
            "postmortems": [
                {"page_id": pm.page_id, "title": pm.title, "items": len(pm.items)}
                for pm in self.postmortems
            ],
            "findings": [f.to_dict() for f in self.findings],
            "failures": list(self.failures),
        }
        return json.dumps(payload, indent=2, ensure_ascii=False)


def _parse_local(text: str, page_id: str, title: str, config: Config | None) -> Postmortem:
    if config is None:
        return parse_page(text, page_id=page_id, title=title)
    return parse_page(
        text,
        page_id=page_id,
        title=title,
        columns=config.columns or None,
        date_order=config.date_order,
        statuses=config.status_map or None,
        priorities=config.priority_map or None,
        projects=(config.project,),
    )


def _parse_findings(pm: Postmortem) -> list[Finding]:
    """The parser's warnings about ``pm`` as lint findings, so one report shows both; a
    page without action items is one too (lint would otherwise find "no problems")."""
    where = f"page {pm.title!r}" if pm.title else f"page {pm.page_id}"
    if not pm.items and not pm.warnings:
        return [
            Finding(
                code="no-action-items",
                severity="warning",
                message=f"{where}: {NO_TABLE_FOUND}",
                item_id=None,
                page_id=pm.page_id,
            )
        ]
    return [
        Finding(
            code=warning.code,
            severity="warning",
            message=f"{where}, {warning}" if warning.table is not None else f"{where}: {warning}",
            item_id=None,
            page_id=pm.page_id,
            table=warning.table,
            row=warning.row,
        )
        for warning in pm.warnings
    ]


def _optional_config(session: Session) -> Config | None:
    """The configuration when there is one; lint of local files works without."""
    try:
        path = session.find_config()
    except ConfigError:
        if session.config_path is not None:
            raise  # a file named explicitly must exist
        return None
    return Config.from_file(path)


def _is_page_id(target: str) -> bool:
    return target.isdigit()


def run_lint(session: Session, targets: Sequence[str], *, today: dt.date | None) -> LintRun:
    """Read every target, then lint each postmortem against all the others."""
    config = _optional_config(session)
    postmortems: list[Postmortem] = []
    failures: list[str] = []
    page_ids: list[str] = []
    for target in targets:
        if target == "-":
            text = sys.stdin.read()
            source, page_id, title = "standard input", "-", "standard input"
        elif Path(target).is_file():
            path = Path(target)
            source, page_id, title = str(path), path.stem, path.name
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
                failures.append(f"{source}: cannot read the file: {reason}")
                continue
        elif _is_page_id(target):
            page_ids.append(target)
            continue
        else:
            raise click.BadParameter(
                f"{target!r} is neither a file nor a page id (digits only)",
                param_hint="TARGETS",
            )
        try:
            postmortems.append(_parse_local(text, page_id, title, config))
        except ParseError as exc:
            failures.append(f"{source}: {exc}")
    unresolved: set[str] = set()
    if page_ids:
        if config is None:
            config = Config.from_file(session.find_config())  # raises the helpful message
        syncer = session.syncer(config)
        with session.status(f"Reading {len(page_ids)} page(s)"):
            pages, missing = syncer.read_pages(page_ids=page_ids)
        failures.extend(missing)
        remote: list[Postmortem] = []
        for page in pages:
            try:
                remote.append(syncer.parse(page))
            except ParseError as exc:
                failures.append(f"page {page.title!r} ({page.id}): {exc}")
        with session.status("Matching owners with Jira users"):
            owners = syncer.resolve_owners(
                item.owner for pm in remote for item in pm.items if item.owner
            )
        unresolved = {ident for ident, users in owners.items() if len(users) != 1}
        postmortems.extend(remote)
    findings: list[Finding] = []
    for pm in postmortems:
        findings.extend(_parse_findings(pm))
        findings.extend(lint(pm, today=today, others=postmortems, unresolved=unresolved))
    return LintRun(tuple(postmortems), tuple(findings), tuple(failures))


def print_lint(session: Session, run: LintRun, *, strict: bool) -> int:
    """Print ``run`` as text or JSON; return the exit code.

    1 when a target could not be read or an item has an error-level finding (with
    ``strict``, a warning too), else 0.
    """
    errors, warnings = run.counts()
    failed = bool(run.failures or errors or (strict and warnings))
    if session.as_json:
        session.emit_json(run.to_json(strict=strict))
        return EXIT_PARTIAL if failed else EXIT_OK
    # Findings are the output, errors and warnings alike: all on standard output, so that
    # `pmsync lint f.xml > out` keeps them together. Only unreadable targets go to stderr.
    for finding in run.findings:
        if finding.severity == "error" or not session.quiet or strict:
            session.echo(str(finding))
    for failure in run.failures:
        session.error(failure)
    items = sum(len(pm.items) for pm in run.postmortems)
    summary = (
        f"{errors} error(s), {warnings} warning(s) in {items} item(s) of "
        f"{len(run.postmortems)} postmortem(s)"
    )
    if failed:
        session.echo(f"pmsync: {summary}", err=True)
    else:
        session.say(summary if run.findings else f"No problems: {summary}")
    return EXIT_PARTIAL if failed else EXIT_OK
