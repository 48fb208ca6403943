"""Lint against a labelled table of realistic action items, the kind postmortem guides
hold up as vague or concrete, owned by people or by teams.

The table is the specification of ``vague`` and ``owner-is-team`` in examples; the
accuracy over it is printed with ``pytest -s`` and must stay at 100%: a rule change that
breaks a label has to change the label, in review, with a reason.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pmsync import ActionItem, Person, Postmortem
from pmsync._lint import is_team_name, is_vague, lint

V, C = "vague", "concrete"
P, T = "person", "team"

# (summary, owner as written, is the summary vague?, is the owner a team?)
LABELLED: list[tuple[str, str, str, str]] = [
    # behavioural promises: nothing anyone could check afterwards
    ("Be more careful when rolling out config", "Marta Kowalska", V, P),
    ("Ensure this never recurs", "@db-oncall", V, T),
    ("Pay more attention to alerts", "@payments-squad", V, T),
    ("Communicate better during incidents", "Jonas Berg", V, P),
    ("Try harder to catch this in review", "@infra", V, T),
    ("Make sure everyone knows the failover procedure", "SRE team", V, T),
    ("Be more vigilant about certificate expiry", "Priya Raman", V, P),
    ("Double-check migrations before running them", "Sam O'Neil", V, P),
    ("Always test in staging first", "everyone", V, T),
    ("Never deploy on Fridays again", "Dev Patel", V, P),
    ("Avoid manual changes in production", "@platform-eng", V, T),
    ("Keep in mind that the cache is shared", "Alice Ng", V, P),
    ("Remember to update the status page", "incident commander", V, T),
    ("Learn from this incident", "all engineers", V, T),
    ("Raise awareness of the rate limits", "Lena Fischer", V, P),
    ("Stay on top of disk usage", "DB on-call", V, T),
    ("Ensure proper monitoring", "Omar Haddad", V, P),
    ("Do better at handing over between shifts", "Kenji Sato", V, P),
    # open-ended activities
    ("Investigate the outage", "Marta Kowalska", V, P),
    ("Look into the memory growth on the API pods", "Jonas Berg", V, P),
    ("Review alerting on the payment API", "@sre_leads", V, T),
    ("Monitor the queue", "Ops", V, T),
    ("Consider moving sessions to Redis", "Priya Raman", V, P),
    ("Discuss on-call load with management", "Team Phoenix", V, T),
    ("Think about rate limits for the public API", "Dev Patel", V, P),
    ("Explore options for multi-region failover", "platform-team", V, T),
    ("Follow up with the vendor", "TBD", V, T),
    ("Improve alerting", "Alice Ng", V, P),
    ("Evaluate the 2024 incident again", "Omar Haddad", V, P),
    ("Figure out why the canary passed", "Kenji Sato", V, P),
    # concrete items, some with the same words as vague ones
    ("Ensure the backup job alerts when it fails", "Marta Kowalska", C, P),
    ("Ensure the deploy pipeline blocks config changes without a review", "Jonas Berg", C, P),
    ("Make sure every deploy runs the smoke tests", "@mallory", C, P),
    (
        "Be careful with feature flags and add a lint rule that rejects stale ones",
        "Sam O'Neil",
        C,
        P,
    ),
    ("Ensure replica lag stays below 30 s", "@db-oncall", C, T),
    ("Pay attention to queue depth: page the on-call when it passes 10000", "Dev Patel", C, P),
    ("Make sure OPS-1234 ships before the next release", "Priya Raman", C, P),
    ("Add a disk-usage alert at 85%", "Alice Ng", C, P),
    ("Write a runbook for failing over the primary database", "Lena Fischer", C, P),
    ("Cap the replication batch size at 500 rows", "Kenji Sato", C, P),
    ("Rotate the signing keys and revoke the leaked one", "security", C, T),
    ("Add jittered retries to the payment webhooks", "Omar Haddad", C, P),
    ("Page the on-call when the error budget burn rate exceeds 2x", "SREs", C, T),
    ("Remove the legacy cron job that restarts the workers", "Jonas Berg", C, P),
    ("Migrate the session store to Redis 7", "Marta Kowalska", C, P),
    ("Review the on-call runbook and add a failover section", "Dev Patel", C, P),
    ("Investigate and fix the connection leak in the billing worker", "Sam O'Neil", C, P),
    ("Monitor p99 latency and page when above 500 ms", "@payments-squad", C, T),
    ("Improve retry policy by adding jitter", "Priya Raman", C, P),
    ("Set the pool size of db-2 to 200 connections", "Alice Ng", C, P),
    ("Document the DNS failover steps in the runbook", "Lena Fischer", C, P),
    ("Block deploys when the canary error rate is above 1%", "Kenji Sato", C, P),
    ("Enable slow query logging on the reporting replica", "Omar Haddad", C, P),
    ("Schedule a failover drill for Q3", "Incident Commander", C, T),
    ("Upgrade the load balancer firmware", "networking", C, T),
    ("Delete the unused S3 buckets from the 2023 migration", "Marta Kowalska", C, P),
    ("Create a dashboard for queue depth per shard", "Jonas Berg", C, P),
    ("Fail the build if a migration locks a table for more than 5 s", "Dev Patel", C, P),
    ("Automate certificate renewal with cert-manager", "@infra", C, T),
    ("Publish the postmortem to the engineering blog", "Priya Raman", C, P),
    ("Check that backups restore", "Sam O'Neil", C, P),
    ("Reviewer sign-off on risky deploys", "Alice Ng", C, P),
    ("Add an alert on replication lag", "on-call", C, T),
    ("Write the customer notice template", "Support", C, T),
]

TODAY = dt.date(2026, 3, 10)


def _accuracy() -> tuple[float, list[str]]:
    misses = []
    for summary, owner, vague, team in LABELLED:
        if is_vague(summary) != (vague == V):
            misses.append(f"vague? {summary!r}: labelled {vague}")
        if is_team_name(Person(text=owner)) != (team == T):
            misses.append(f"team? {owner!r}: labelled {team}")
    checks = 2 * len(LABELLED)
    return (checks - len(misses)) / checks, misses


def test_the_table_is_big_and_balanced():
    labels = [(vague, team) for _, _, vague, team in LABELLED]

    assert len(LABELLED) >= 60
    assert min(labels.count(pair) for pair in [(V, P), (V, T), (C, P), (C, T)]) >= 8


def test_lint_reads_every_labelled_item_as_labelled():
    accuracy, misses = _accuracy()
    print(f"\nlint accuracy on {len(LABELLED)} labelled items: {accuracy:.1%}")

    assert misses == []


@pytest.mark.parametrize(("summary", "owner", "vague", "team"), LABELLED[:6])
def test_lint_gives_the_labelled_codes(summary, owner, vague, team):
    item = ActionItem(item_id="i", summary=summary, owner=Person(text=owner), due=TODAY)
    codes = [
        f.code for f in lint(Postmortem(page_id="1", title="INC-9", items=(item,)), today=TODAY)
    ]

    assert ("vague" in codes, "owner-is-team" in codes) == (vague == V, team == T)
