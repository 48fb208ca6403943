"""Ready-made emulator content: three realistic postmortems for ``pmsync demo``.

:func:`seed_demo` fills a fresh :class:`~pmsync.testing.Emulator` with people, a Jira
project ``OPS``, a Slack channel ``#incidents`` and three pages labelled ``postmortem`` in
the space ``SRE``, each written the way real teams write them:

1. a Cloud-editor postmortem with an "Action items" table (a ``<th>`` header row,
   mentions, ``<time>`` due dates, status lozenges, and one row whose Jira cell already
   holds a ``jira`` macro for an issue a person created by hand);
2. a Server/Data Center postmortem whose header row is bold ``<td>`` cells, with owners
   as plain names (and one mention), dates written like "Dec 15, 2026" and statuses as
   plain text;
3. a retrospective whose action items are an ``<ac:task-list>`` with mentions, dates and
   complete/incomplete tasks.

Due dates are computed from today's date when seeding, so that some items are overdue and
some are due soon whenever the demo runs.
"""

from __future__ import annotations

import datetime as dt
from html import escape

import attrs

from pmsync.testing._emulator import Emulator
from pmsync.testing._users import User

__all__ = ["DemoSeed", "seed_demo"]

_JIRA_SERVER = "System JIRA"
_JIRA_SERVER_ID = "8f2c3f5e-3c7d-3b4e-9a36-5c6f1e0e7a1d"


@attrs.frozen
class DemoSeed:
    """What :func:`seed_demo` created: ids and keys to drive the demo with."""

    space_key: str
    project_key: str
    channel_id: str
    table_page_id: str
    server_table_page_id: str
    retro_page_id: str
    existing_issue_key: str
    users: tuple[User, ...]

    @property
    def page_ids(self) -> tuple[str, str, str]:
        """The three postmortem pages: table (Cloud style), table (Server style), retro."""
        return (self.table_page_id, self.server_table_page_id, self.retro_page_id)


def _mention(emu: Emulator, user: User) -> str:
    if emu.flavour == "cloud":
        return f'<ac:link><ri:user ri:account-id="{user.account_id}" /></ac:link>'
    return f'<ac:link><ri:user ri:userkey="{user.user_key}" /></ac:link>'


def _lozenge(title: str, colour: str, macro_id: str) -> str:
    return (
        f'<ac:structured-macro ac:name="status" ac:schema-version="1" ac:macro-id="{macro_id}">'
        f'<ac:parameter ac:name="title">{escape(title)}</ac:parameter>'
        f'<ac:parameter ac:name="colour">{colour}</ac:parameter>'
        "</ac:structured-macro>"
    )


def _jira_macro(key: str) -> str:
    return (
        '<ac:structured-macro ac:name="jira" ac:schema-version="1" '
        'ac:macro-id="5b9e0a51-4c61-4c3f-b2f4-6d2a8f0c1e77">'
        f'<ac:parameter ac:name="server">{_JIRA_SERVER}</ac:parameter>'
        f'<ac:parameter ac:name="serverId">{_JIRA_SERVER_ID}</ac:parameter>'
        f'<ac:parameter ac:name="key">{escape(key)}</ac:parameter>'
        "</ac:structured-macro>"
    )


def _time(day: dt.date) -> str:
    return f'<time datetime="{day.isoformat()}" />'


def _long_date(day: dt.date) -> str:
    return f"{day:%b} {day.day}, {day.year}"


def _timeline(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><td><p>{escape(at)}</p></td><td><p>{escape(event)}</p></td></tr>"
        for at, event in rows
    )
    return (
        '<table data-layout="default"><tbody>'
        "<tr><th><p><strong>Time (UTC)</strong></p></th><th><p><strong>Event</strong></p></th></tr>"
        f"{body}</tbody></table>"
    )


def _checklist(items: list[tuple[str, bool]], first_id: int) -> str:
    tasks = "".join(
        f"<ac:task><ac:task-id>{first_id + i}</ac:task-id>"
        f"<ac:task-status>{'complete' if done else 'incomplete'}</ac:task-status>"
        f'<ac:task-body><span class="placeholder-inline-tasks">{escape(text)}</span>'
        "</ac:task-body></ac:task>"
        for i, (text, done) in enumerate(items)
    )
    return f"<ac:task-list>{tasks}</ac:task-list>"


def _cloud_table_page(emu: Emulator, people: dict[str, User], today: dt.date, key: str) -> str:
    incident = today - dt.timedelta(days=12)
    rows = [
        (
            "Add alerting on checkout p99 latency above 800 ms",
            people["alice"],
            today - dt.timedelta(days=3),
            "High",
            _lozenge("In progress", "Blue", "0c6f2b8e-1d0e-4b7a-9c5e-3a1f6e2d4b01"),
            "<p />",
        ),
        (
            "Roll back failed deploys automatically when error rate doubles",
            people["bob"],
            today + dt.timedelta(days=2),
            "Highest",
            _lozenge("To do", "Grey", "0c6f2b8e-1d0e-4b7a-9c5e-3a1f6e2d4b02"),
            "<p />",
        ),
        (
            "Write a runbook for payment-gateway failover",
            people["carol"],
            today + dt.timedelta(days=20),
            "Medium",
            _lozenge("In progress", "Blue", "0c6f2b8e-1d0e-4b7a-9c5e-3a1f6e2d4b03"),
            f"<p>{_jira_macro(key)}</p>",
        ),
        (
            "Load-test checkout at 3x last year's peak traffic",
            people["dan"],
            today + dt.timedelta(days=45),
            "Low",
            _lozenge("To do", "Grey", "0c6f2b8e-1d0e-4b7a-9c5e-3a1f6e2d4b04"),
            "<p />",
        ),
    ]
    header = "".join(
        f"<th><p><strong>{h}</strong></p></th>"
        for h in ("Action item", "Owner", "Due date", "Priority", "Status", "Jira")
    )
    body = "".join(
        f"<tr><td><p>{escape(summary)}</p></td><td><p>{_mention(emu, owner)}</p></td>"
        f"<td><p>{_time(due)}</p></td><td><p>{priority}</p></td><td><p>{status}</p></td>"
        f"<td>{jira}</td></tr>"
        for summary, owner, due, priority, status, jira in rows
    )
    return (
        '<ac:structured-macro ac:name="info" ac:schema-version="1" '
        'ac:macro-id="7d1c6f7a-2b53-4b1e-8f0e-9f3c2a5b6d10"><ac:rich-text-body>'
        f"<p>Incident on {_long_date(incident)}. Severity: SEV-2. "
        f"Incident commander: {_mention(emu, people['alice'])}.</p>"
        "</ac:rich-text-body></ac:structured-macro>"
        "<h2>Summary</h2>"
        "<p>For 47 minutes, 18% of checkout requests failed with HTTP 502 after a "
        "configuration push shrank the payment-gateway connection pool from 200 to 20.</p>"
        "<h2>Impact</h2>"
        "<p>About 3,100 orders could not be placed; support received 240 tickets.</p>"
        "<h2>Timeline</h2>"
        + _timeline(
            [
                ("09:02", "Config change merged and rolled out to all regions"),
                ("09:06", "Checkout error rate alert fires (5xx > 5%)"),
                ("09:21", "Incident declared; payment gateway suspected"),
                ("09:49", "Config rolled back; error rate back to baseline"),
            ]
        )
        + "<h2>Root cause</h2>"
        "<p>The pool size lives in a shared YAML file without schema validation; the "
        "change was reviewed as a typo fix.</p>"
        "<h2>Action items</h2>"
        '<table data-layout="default" ac:local-id="3f9a1c2e-6b7d-4e8f-a0b1-c2d3e4f5a6b7">'
        "<colgroup><col /><col /><col /><col /><col /><col /></colgroup>"
        f"<tbody><tr>{header}</tr>{body}</tbody></table>"
        "<h2>Postmortem review checklist</h2>"
        + _checklist(
            [
                ("Timeline reviewed by the on-call engineer", True),
                ("Customer communication sent", True),
                ("Postmortem presented at the weekly ops review", False),
            ],
            1,
        )
    )


def _server_table_page(emu: Emulator, people: dict[str, User], today: dt.date) -> str:
    rows = [
        (
            "Add a circuit breaker around the inventory service client",
            escape(people["carol"].display_name),
            today + dt.timedelta(days=10),
            "High",
            "In progress",
        ),
        (
            "Rotate the staging database credentials that leaked into logs",
            _mention(emu, people["bob"]),
            today - dt.timedelta(days=5),
            "Highest",
            "Not started",
        ),
        (
            "Document the cache warm-up procedure",
            "Platform team",
            today + dt.timedelta(days=30),
            "Low",
            "Not started",
        ),
    ]
    header = "".join(
        f"<td><strong>{h}</strong></td>"
        for h in ("Action", "Assigned to", "Target date", "Prio", "State")
    )
    body = "".join(
        f"<tr><td>{escape(summary)}</td><td>{owner}</td><td>{_long_date(due)}</td>"
        f"<td>{priority}</td><td>{state}</td></tr>"
        for summary, owner, due, priority, state in rows
    )
    return (
        "<h1>Inventory service brownout</h1>"
        "<p><strong>Date:</strong> "
        f"{_long_date(today - dt.timedelta(days=8))}&nbsp;&mdash; <strong>Duration:</strong> "
        "2 h 10 min</p>"
        "<h2>What happened</h2>"
        "<p>The inventory service exhausted its database connections during a cache "
        "rebuild, and every product page slowed to several seconds.</p>"
        "<h2>Timeline</h2>"
        '<table class="wrapped"><tbody>'
        "<tr><th>Time</th><th>Event</th></tr>"
        "<tr><td>14:10</td><td>Cache rebuild job starts</td></tr>"
        "<tr><td>14:25</td><td>p95 latency of product pages above 4 s</td></tr>"
        "<tr><td>16:20</td><td>Job throttled; latency recovers</td></tr>"
        "</tbody></table>"
        "<h2>Follow-up actions</h2>"
        '<table class="wrapped"><colgroup><col /><col /><col /><col /><col /></colgroup>'
        f"<tbody><tr>{header}</tr>{body}</tbody></table>"
        "<h2>Lessons learned</h2>"
        "<ul><li>Cache rebuilds need a concurrency limit.</li>"
        "<li>Leaked secrets must be rotated the same day.</li></ul>"
    )


def _retro_page(emu: Emulator, people: dict[str, User], today: dt.date) -> str:
    tasks = [
        (
            "Add a canary stage to the deploy pipeline",
            people["dan"],
            today + dt.timedelta(days=1),
            False,
        ),
        (
            "Page the owning team, not #ops, when a deploy is rolled back",
            people["alice"],
            today - dt.timedelta(days=2),
            False,
        ),
        ("Remove the manual approval step for config-only changes", people["bob"], today, True),
    ]
    items = "".join(
        f"<ac:task><ac:task-id>{10 + i}</ac:task-id>"
        f"<ac:task-status>{'complete' if done else 'incomplete'}</ac:task-status>"
        f'<ac:task-body><span class="placeholder-inline-tasks">{_mention(emu, owner)} '
        f"{escape(text)} by {_time(due)}</span></ac:task-body></ac:task>"
        for i, (text, owner, due, done) in enumerate(tasks)
    )
    return (
        "<h2>What went well</h2>"
        "<ul><li>Rollbacks took under five minutes.</li>"
        "<li>The incident channel stayed focused.</li></ul>"
        "<h2>What could be better</h2>"
        "<p>Three of the four incidents this quarter started with a deploy that no canary "
        "would have let through.</p>"
        "<h2>Action items</h2>"
        f"<ac:task-list>{items}</ac:task-list>"
        "<h2>Retro prep</h2>"
        + _checklist([("Collect the quarter's incident list", True), ("Book a room", True)], 1)
    )


def seed_demo(emu: Emulator) -> DemoSeed:
    """Fill a fresh emulator with the demo content; return the ids and keys created.

    Call it on a new emulator (or after ``emu.reset()``): users and the project are
    created, not looked up.
    """
    today = dt.date.today()
    people = {
        "alice": emu.add_user(display_name="Alice Chen", email="alice@example.com"),
        "bob": emu.add_user(display_name="Bob Martinez", email="bob@example.com"),
        "carol": emu.add_user(display_name="Carol Okafor", email="carol@example.com"),
        "dan": emu.add_user(display_name="Dan Kim", email="dan@example.com"),
    }
    emu.add_project("OPS", "Operations", ("Task",))
    channel_id = emu.add_channel("incidents")
    carol = people["carol"]
    existing = emu.add_issue(
        "OPS",
        summary="Write a runbook for payment-gateway failover",
        description="Created by hand during the incident review.",
        assignee=carol.account_id if emu.flavour == "cloud" else carol.username,
        reporter=people["alice"].email,
        duedate=today + dt.timedelta(days=20),
        priority="Medium",
        status="Done",
    )
    space = emu.add_space("SRE", "Site Reliability")
    table = emu.add_page(
        space,
        f"Postmortem: checkout API outage ({today - dt.timedelta(days=12):%Y-%m-%d})",
        _cloud_table_page(emu, people, today, existing),
        labels=("postmortem", "sev-2"),
        author=people["alice"].email,
    )
    server_table = emu.add_page(
        space,
        f"Postmortem: inventory service brownout ({today - dt.timedelta(days=8):%Y-%m-%d})",
        _server_table_page(emu, people, today),
        labels=("postmortem",),
        author=people["carol"].email,
    )
    retro = emu.add_page(
        space,
        "Retro: deploy pipeline incidents this quarter",
        _retro_page(emu, people, today),
        labels=("postmortem", "retro"),
        author=people["dan"].email,
    )
    return DemoSeed(
        space_key=space,
        project_key="OPS",
        channel_id=channel_id,
        table_page_id=table,
        server_table_page_id=server_table,
        retro_page_id=retro,
        existing_issue_key=existing,
        users=tuple(people.values()),
    )
