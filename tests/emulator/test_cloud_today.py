"""The Cloud flavour as Atlassian Cloud is today: v2 pages, search lag, quotas, the gateway."""

from __future__ import annotations

import datetime as dt
import email.utils

import pytest
import requests
import time_machine
from atlassian import Confluence, Jira

from pmsync.testing import Emulator

TASK = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "labels": ["pmsync"]}
JQL = "project = OPS AND labels = pmsync"


@pytest.fixture(scope="module")
def site():
    with Emulator("cloud") as emu:
        yield emu


@pytest.fixture
def emu(site):
    site.reset()
    site.v1_pages = "gone"
    site.search_lag = 0.0
    return site


def _v2_body(page_id, number, value="<p>ours</p>", title="Outage"):
    return {
        "id": page_id,
        "status": "current",
        "title": title,
        "body": {"representation": "storage", "value": value},
        "version": {"number": number, "message": "pmsync"},
    }


def _status(call):
    with pytest.raises(requests.HTTPError) as caught:
        call()
    return caught.value.response.status_code


class TestV1PagesGone:
    def test_v1_page_read_answers_410_by_default(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        assert 410 == _status(lambda: emu.confluence().get_page_by_id(page_id))

    def test_v1_page_write_answers_410_and_writes_nothing(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        body = {
            "type": "page",
            "title": "Outage",
            "version": {"number": 2},
            "body": {"storage": {"value": "<p>y</p>", "representation": "storage"}},
        }
        confluence = emu.confluence()
        assert 410 == _status(lambda: confluence.put(f"rest/api/content/{page_id}", data=body))
        assert 1 == emu.page(page_id)["version"]

    def test_cql_search_stays_on_v1(self, emu):
        emu.add_page("SRE", "Outage", "<p>x</p>", labels=["postmortem"])
        found = emu.confluence().cql("label = postmortem")
        assert ["Outage"] == [r["content"]["title"] for r in found["results"]]

    def test_v1_pages_ok_serves_them_as_older_sites_do(self, emu):
        emu.v1_pages = "ok"
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        assert "Outage" == emu.confluence().get_page_by_id(page_id)["title"]

    def test_server_always_serves_v1(self):
        with Emulator("server") as emu:
            page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
            assert "Outage" == emu.confluence().get_page_by_id(page_id)["title"]

    def test_unknown_mode_is_refused(self):
        with pytest.raises(ValueError, match="v1_pages"):
            Emulator(v1_pages="sometimes")  # type: ignore[arg-type]


class TestV2Pages:
    def test_read_has_the_v2_shape(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        page = emu.confluence().get(f"api/v2/pages/{page_id}", params={"body-format": "storage"})
        space_id = emu.confluence().get("rest/api/space/SRE")["id"]
        assert str(space_id) == page["spaceId"]
        assert "space" not in page
        assert {"representation": "storage", "value": "<p>x</p>"} == page["body"]["storage"]
        assert 1 == page["version"]["number"]

    def test_read_without_body_format_has_no_body(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        assert {} == emu.confluence().get(f"api/v2/pages/{page_id}")["body"]

    def test_write_saves_the_next_version(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        answer = emu.confluence().put(f"api/v2/pages/{page_id}", data=_v2_body(page_id, 2))
        assert 2 == answer["version"]["number"]
        assert "<p>ours</p>" == emu.page(page_id)["storage"]
        assert "pmsync" == emu.page(page_id)["versions"][-1]["message"]

    def test_write_with_a_stale_version_answers_409(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        emu.edit_page(page_id, "<p>human</p>")
        body = _v2_body(page_id, 2)
        assert 409 == _status(lambda: emu.confluence().put(f"api/v2/pages/{page_id}", data=body))
        assert "<p>human</p>" == emu.page(page_id)["storage"]

    def test_errors_have_the_v2_shape(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        emu.edit_page(page_id, "<p>human</p>")
        response = emu.confluence().put(
            f"api/v2/pages/{page_id}", data=_v2_body(page_id, 2), advanced_mode=True
        )
        assert "CONFLICT" == response.json()["errors"][0]["code"]

    def test_write_without_a_version_is_a_400(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        body = _v2_body(page_id, 2)
        del body["version"]
        assert 400 == _status(lambda: emu.confluence().put(f"api/v2/pages/{page_id}", data=body))

    def test_missing_page_is_a_404(self, emu):
        assert 404 == _status(lambda: emu.confluence().get("api/v2/pages/999999"))


class TestV2Properties:
    def test_create_find_by_key_and_update(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        confluence = emu.confluence()
        base = f"api/v2/pages/{page_id}/properties"
        created = confluence.post(base, data={"key": "pmsync.lease", "value": {"run": "a"}})
        assert 1 == created["version"]["number"]
        found = confluence.get(base, params={"key": "pmsync.lease"})["results"]
        assert [created["id"]] == [p["id"] for p in found]
        update = {"key": "pmsync.lease", "value": {"run": "b"}, "version": {"number": 2}}
        assert 2 == confluence.put(f"{base}/{created['id']}", data=update)["version"]["number"]
        assert {"run": "b"} == emu.content_property(page_id, "pmsync.lease")["value"]

    def test_stale_update_answers_409(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        confluence = emu.confluence()
        base = f"api/v2/pages/{page_id}/properties"
        created = confluence.post(base, data={"key": "pmsync.lease", "value": {"run": "a"}})
        emu.set_content_property(page_id, "pmsync.lease", {"run": "other"})
        update = {"key": "pmsync.lease", "value": {"run": "b"}, "version": {"number": 2}}
        assert 409 == _status(lambda: confluence.put(f"{base}/{created['id']}", data=update))
        assert {"run": "other"} == emu.content_property(page_id, "pmsync.lease")["value"]

    def test_delete(self, emu):
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        emu.set_content_property(page_id, "pmsync.lease", {"run": "a"})
        confluence = emu.confluence()
        base = f"api/v2/pages/{page_id}/properties"
        prop_id = confluence.get(base, params={"key": "pmsync.lease"})["results"][0]["id"]
        confluence.delete(f"{base}/{prop_id}")
        assert emu.content_property(page_id, "pmsync.lease") is None


class TestSearchLag:
    def test_a_new_issue_is_found_only_after_the_lag(self):
        with (
            time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)) as clock,
            Emulator(search_lag=5) as emu,
        ):
            emu.add_project("OPS")
            jira = emu.jira()
            jira.issue_create({**TASK, "summary": "Add alerting"})
            assert [] == jira.get("rest/api/3/search/jql", params={"jql": JQL})["issues"]
            clock.shift(6)
            assert 1 == len(jira.get("rest/api/3/search/jql", params={"jql": JQL})["issues"])

    def test_reconcile_issues_shows_a_new_issue_at_once(self):
        with (
            time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)),
            Emulator(search_lag=5) as emu,
        ):
            emu.add_project("OPS")
            jira = emu.jira()
            created = jira.issue_create({**TASK, "summary": "Add alerting"})
            found = jira.get(
                "rest/api/3/search/jql", params={"jql": JQL, "reconcileIssues": created["id"]}
            )
            assert ["OPS-1"] == [i["key"] for i in found["issues"]]
            posted = jira.post(
                "rest/api/3/search/jql", data={"jql": JQL, "reconcileIssues": [created["id"]]}
            )
            assert ["OPS-1"] == [i["key"] for i in posted["issues"]]

    def test_an_edit_is_matched_as_before_until_the_lag_passes(self):
        with (
            time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)) as clock,
            Emulator(search_lag=5) as emu,
        ):
            emu.add_project("OPS")
            key = emu.add_issue("OPS", summary="Add alerting", labels=["pmsync"])
            jira = emu.jira()
            jira.update_issue_field(key, {"labels": []})
            issues = jira.get("rest/api/3/search/jql", params={"jql": JQL, "fields": "labels"})[
                "issues"
            ]
            assert [[]] == [i["fields"]["labels"] for i in issues]  # stale match, fresh fields
            clock.shift(6)
            assert [] == jira.get("rest/api/3/search/jql", params={"jql": JQL})["issues"]

    def test_seeded_issues_are_indexed_at_once(self):
        with Emulator(search_lag=60) as emu:
            emu.add_project("OPS")
            emu.add_issue("OPS", summary="Add alerting", labels=["pmsync"])
            assert 1 == len(emu.jira().get("rest/api/3/search/jql", params={"jql": JQL})["issues"])

    def test_more_than_50_reconcile_ids_are_refused(self, emu):
        emu.add_project("OPS")
        ids = ",".join(str(10000 + n) for n in range(51))
        params = {"jql": JQL, "reconcileIssues": ids}
        assert 400 == _status(lambda: emu.jira().get("rest/api/3/search/jql", params=params))


class TestRateLimitHeaders:
    def test_every_atlassian_answer_carries_them(self, emu):
        emu.add_project("OPS")
        response = emu.jira().get("rest/api/2/project/OPS", advanced_mode=True)
        assert response.headers["X-RateLimit-Remaining"] == response.headers["X-RateLimit-Limit"]
        page = emu.confluence().get("rest/api/space/SRE", advanced_mode=True)
        assert "X-RateLimit-Limit" in page.headers

    def test_a_quota_counts_down_then_answers_429(self, emu):
        emu.add_project("OPS")
        emu.faults.quota(3, per=60, service="jira")
        jira = emu.jira(retry_with_header=False)
        remaining = [
            jira.get("rest/api/2/project/OPS", advanced_mode=True).headers["X-RateLimit-Remaining"]
            for _ in range(3)
        ]
        last = jira.get("rest/api/2/project/OPS", advanced_mode=True)
        assert (["2", "1", "0"], 429) == (remaining, last.status_code)
        assert "true" == last.headers["X-RateLimit-NearLimit"]
        assert int(last.headers["Retry-After"]) >= 1

    def test_retry_after_in_seconds_with_a_reason(self, emu):
        emu.faults.rate_limit(count=1, retry_after=1800, reason="jira-quota-tenant-based")
        response = emu.jira(retry_with_header=False).get("rest/api/2/myself", advanced_mode=True)
        assert ("1800", "jira-quota-tenant-based") == (
            response.headers["Retry-After"],
            response.headers["RateLimit-Reason"],
        )

    def test_retry_after_as_an_http_date(self, emu):
        with time_machine.travel(dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC)):
            emu.faults.rate_limit(count=1, retry_after=30, header="http-date")
            response = emu.jira(retry_with_header=False).get(
                "rest/api/2/myself", advanced_mode=True
            )
        moment = email.utils.parsedate_to_datetime(response.headers["Retry-After"])
        assert dt.datetime(2026, 12, 4, 9, 0, 30, tzinfo=dt.UTC) == moment

    def test_beta_retry_after_alone(self, emu):
        emu.faults.rate_limit(count=1, retry_after=7, header="beta", service="confluence")
        confluence = emu.confluence(retry_with_header=False)
        response = confluence.get("rest/api/space/SRE", advanced_mode=True)
        assert (429, "7", None) == (
            response.status_code,
            response.headers.get("Beta-Retry-After"),
            response.headers.get("Retry-After"),
        )

    def test_unknown_header_form_is_refused(self, emu):
        with pytest.raises(ValueError, match="header"):
            emu.faults.rate_limit(header="minutes")  # type: ignore[arg-type]


class TestGateway:
    def test_tenant_info_tells_the_cloud_id_without_credentials(self, emu):
        answer = requests.get(f"{emu.url}/_edge/tenant_info", timeout=5).json()
        assert {"cloudId": emu.cloud_id} == answer

    def test_jira_through_the_gateway(self, emu):
        emu.add_project("OPS")
        jira = Jira(url=emu.gateway_url("jira"), username=emu.email, password=emu.token, cloud=True)
        assert "OPS" == jira.get("rest/api/3/project/OPS")["key"]

    def test_confluence_v2_through_the_gateway(self, emu):
        emu.v1_pages = "ok"  # the gateway refuses v1 pages whatever the site does
        page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
        confluence = Confluence(
            url=emu.gateway_url("confluence"),
            username=emu.email,
            password=emu.token,
            cloud=False,
        )
        assert "Outage" == confluence.get(f"api/v2/pages/{page_id}")["title"]
        assert 410 == _status(lambda: confluence.get_page_by_id(page_id))

    def test_a_wrong_cloud_id_is_a_404(self, emu):
        url = f"{emu.url}/ex/jira/00000000-0000-0000-0000-000000000000/rest/api/2/myself"
        response = requests.get(url, auth=(emu.email, emu.token), timeout=5)
        assert 404 == response.status_code


def test_priorities_are_searched_page_by_page(emu):
    jira = emu.jira()
    first = jira.get("rest/api/3/priority/search", params={"maxResults": 2})
    rest = jira.get("rest/api/3/priority/search", params={"startAt": 2, "maxResults": 50})
    names = [p["name"] for p in first["values"] + rest["values"]]
    everything = [p["name"] for p in jira.get("rest/api/2/priority")]
    assert (everything, False, True) == (names, first["isLast"], rest["isLast"])
