"""Many clients at once: the state stays consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from pmsync.testing import Emulator

TASK = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}}


def test_concurrent_creates_get_unique_keys(emu: Emulator) -> None:
    """Eight threads creating 80 issues get 80 distinct keys, numbered without gaps."""
    emu.add_project("OPS")

    def create(n: int) -> str:
        jira = emu.jira()
        key: str = jira.issue_create({**TASK, "summary": f"item {n}"})["key"]
        return key

    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = list(pool.map(create, range(80)))
    assert 80 == len(set(keys))
    assert {f"OPS-{n}" for n in range(1, 81)} == set(keys)
    assert 80 == len(emu.issues())
    assert 80 == emu.request_count(mutating=True)


def test_concurrent_page_updates_with_the_same_version_let_exactly_one_win(
    emu: Emulator,
) -> None:
    """Optimistic locking under a race: one PUT of version 2 wins, the others get 409."""
    page_id = emu.add_page("SRE", "Outage", "<p>v1</p>")

    def update(n: int) -> int:
        body = {
            "type": "page",
            "title": "Outage",
            "version": {"number": 2},
            "body": {"storage": {"value": f"<p>writer {n}</p>", "representation": "storage"}},
        }
        try:
            emu.confluence().update_content(page_id, body)
        except requests.HTTPError as exc:
            return int(exc.response.status_code)
        return 200

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(update, range(16)))
    assert 1 == statuses.count(200)
    assert 15 == statuses.count(409)
    assert 2 == emu.page(page_id)["version"]


def test_concurrent_property_leases_have_one_owner(emu: Emulator) -> None:
    """Two runs creating the same lease property at once: one gets it, one gets 409."""
    page_id = emu.add_page("SRE", "Outage", "<p/>")

    def take(run: str) -> int:
        try:
            emu.confluence().set_page_property(
                page_id, {"key": "pmsync.lease", "value": {"run": run}}
            )
        except requests.HTTPError as exc:
            return int(exc.response.status_code)
        return 200

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(take, [f"run-{n}" for n in range(12)]))
    assert 1 == statuses.count(200)
    lease = emu.content_property(page_id, "pmsync.lease")
    assert lease is not None
    assert 1 == lease["version"]


def test_mixed_traffic_from_three_clients(emu: Emulator) -> None:
    """Jira writes, Confluence edits and Slack posts in parallel all land, and are logged."""
    emu.add_project("OPS")
    emu.add_channel("incidents")
    page_id = emu.add_page("SRE", "Outage", "<p/>")

    def jira_work(n: int) -> None:
        key = emu.jira().issue_create({**TASK, "summary": f"item {n}"})["key"]
        emu.jira().set_issue_property(key, "pmsync", {"n": n})

    def slack_work(n: int) -> None:
        emu.slack().chat_postMessage(channel="#incidents", text=f"notice {n}")

    def confluence_work(n: int) -> None:
        emu.confluence().set_page_label(page_id, f"label-{n}")

    jobs = [(f, n) for n in range(10) for f in (jira_work, slack_work, confluence_work)]
    with ThreadPoolExecutor(max_workers=9) as pool:
        for future in [pool.submit(f, n) for f, n in jobs]:
            future.result()
    assert set(range(10)) == {i["properties"]["pmsync"]["n"] for i in emu.issues()}
    assert 10 == len(emu.slack_messages())
    assert 10 == len(emu.page(page_id)["labels"])
    assert 40 == emu.request_count(mutating=True)


def test_inspection_while_clients_write(emu: Emulator) -> None:
    """Reading issues() while threads create issues never sees a half-made issue."""
    emu.add_project("OPS")

    def create(n: int) -> None:
        emu.jira().issue_create({**TASK, "summary": f"item {n}", "labels": ["pmsync"]})

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(create, n) for n in range(40)]
        while not all(f.done() for f in futures):
            for issue in emu.issues():
                assert ["pmsync"] == issue["fields"]["labels"]
    assert 40 == len(emu.issues())
