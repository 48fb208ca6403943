"""Table-driven planner cases: page markup + Jira state + base -> expected plan. Pure.

Each file in scenarios/ holds one case: the page's action-item rows, the Jira issues (with
the base recorded in their pmsync property), optional ownership overrides, and the
changes the plan must contain, in order.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sync_helpers import table_page

import pmsync
from pmsync._diff import Snapshot, diff
from pmsync._plan import PagePlan

CASES = sorted(Path(__file__).parent.joinpath("scenarios").glob("*.json"))
NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)


def _issue(raw: dict, page_id: str, items: tuple[pmsync.ActionItem, ...]) -> pmsync.JiraIssue:
    row = raw.get("row")
    item_id = items[row].item_id if row is not None else "gone-row"
    return pmsync.JiraIssue(
        key=raw["key"],
        summary=raw["summary"],
        assignee=pmsync.Person(account_id=raw["assignee"]) if raw.get("assignee") else None,
        due=dt.date.fromisoformat(raw["due"]) if raw.get("due") else None,
        priority=raw.get("priority"),
        status=raw["status"],
        status_category=pmsync.Status(raw["category"]),
        labels=tuple(raw.get("labels", ())),
        prop={"v": 1, "page_id": page_id, "item_id": item_id, "base": raw["base"]},
    )


@pytest.mark.parametrize("path", CASES, ids=[c.stem for c in CASES])
def test_scenario(path: Path):
    case = json.loads(path.read_text())
    storage = table_page([tuple(r) for r in case["page"]["rows"]])
    postmortem = pmsync.parse_page(storage, page_id="100", title="Disk full")
    page = PagePlan(
        page_id="100",
        title="Disk full",
        version=3,
        url="https://wiki/x/100",
        storage=storage,
        postmortem=postmortem,
    )
    issues = tuple(_issue(raw, "100", postmortem.items) for raw in case["issues"])
    config = pmsync.Config(project="OPS", ownership=case.get("ownership") or {})
    plan = diff(Snapshot(pages=(page,), issues=issues), config, now=NOW)

    got = [c.to_dict() for c in plan.changes]
    assert len(case["expected"]) == len(got), plan.render(verbose=True)
    for want, change in zip(case["expected"], got, strict=True):
        assert want["kind"] == change["kind"], plan.render(verbose=True)
        if "fields" in want:
            assert want["fields"] == change["fields"], plan.render(verbose=True)
        if "reason" in want:
            assert want["reason"] == change["reason"]
