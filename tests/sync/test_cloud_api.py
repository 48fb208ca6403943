"""Atlassian Cloud as it is today: v2 pages, lagging search, rate limits, scoped tokens."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from sync_helpers import ALICE, make_syncer, row, table_page

import pmsync
from pmsync._gateways._transport import Pacing, Transport, retry_after
from pmsync._gateways.atlassian import ConfluenceGateway, JiraGateway
from pmsync._gateways.cloud import cloud_urls
from pmsync.testing import Emulator


def _page(emu, rows):
    return emu.add_page("SRE", f"Postmortem {len(emu.pages())}", table_page(rows))


def _paths(emu, method=None):
    return [f"{r.method} {r.path}" for r in emu.requests if method in (None, r.method)]


class TestPagesThroughV2:
    def test_cloud_writes_pages_through_v2_and_never_v1(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk alert", ALICE)])
        assert syncer.sync(page_ids=[page_id]).ok
        writes = [p for p in _paths(emu, "PUT") if "/wiki/" in p]
        assert [f"PUT /wiki/api/v2/pages/{page_id}"] == writes
        assert [] == [p for p in _paths(emu) if f"/rest/api/content/{page_id}" in p]
        assert "OPS-1" in emu.page(page_id)["storage"]

    def test_server_keeps_v1(self):
        with Emulator("server") as emu:
            emu.add_project("OPS")
            page_id = emu.add_page("SRE", "Outage", table_page([row("Add a disk alert")]))
            syncer = make_syncer(emu, pmsync.Config(project="OPS"))
            assert syncer.sync(page_ids=[page_id]).ok
            writes = [p for p in _paths(emu, "PUT") if "/confluence/" in p]
            assert [f"PUT /confluence/rest/api/content/{page_id}"] == writes

    def test_a_stale_v2_write_is_retried_and_the_human_edit_survives(self, emu, syncer):
        page_id = _page(emu, [row("Add a disk alert", ALICE)])

        def human(pid):
            storage = emu.page(pid)["storage"].replace("database", "disk")
            emu.edit_page(pid, storage)

        emu.faults.on_page_write(human)
        assert syncer.sync(page_ids=[page_id]).ok
        storage = emu.page(page_id)["storage"]
        assert ("OPS-1" in storage, "ran out of disk" in storage) == (True, True)

    def test_auto_switches_to_v2_once_when_v1_is_gone(self, emu, caplog):
        page_id = _page(emu, [row("Add a disk alert")])
        gateway = ConfluenceGateway(emu.confluence(), cloud=False)  # thinks: Server
        with caplog.at_level(logging.INFO, logger="pmsync"):
            first = gateway.get_page(page_id)
            gateway.get_page(page_id)
        gone = [r for r in emu.requests if r.status == 410]
        assert (1, 1, "v2") == (first.version, len(gone), gateway.pages_api)
        assert "using REST v2 for pages" in caplog.text

    def test_auto_switches_to_v1_when_the_site_has_no_v2(self):
        with Emulator("server") as emu:
            page_id = emu.add_page("SRE", "Outage", "<p>x</p>")
            gateway = ConfluenceGateway(emu.confluence(), cloud=True)  # thinks: Cloud
            assert ("Outage", "v1") == (gateway.get_page(page_id).title, gateway.pages_api)

    def test_a_forced_v1_on_a_site_without_it_names_the_setting(self, emu):
        page_id = _page(emu, [row("Add a disk alert")])
        gateway = ConfluenceGateway(emu.confluence(), api="v1")
        with pytest.raises(pmsync.ServiceError, match='confluence_api = "v2"') as caught:
            gateway.get_page(page_id)
        assert 410 == caught.value.status

    def test_a_missing_page_is_not_a_missing_api(self, emu):
        gateway = ConfluenceGateway(emu.confluence(), cloud=True)
        with pytest.raises(pmsync.NotFoundError):
            gateway.get_page("999999")
        assert "v2" == gateway.pages_api

    def test_the_config_key_reaches_the_gateway(self, emu):
        syncer = make_syncer(emu, pmsync.Config(project="OPS", confluence_api="v1"))
        assert "v1" == syncer.confluence.pages_api

    def test_an_unknown_api_is_a_config_error(self):
        with pytest.raises(pmsync.ConfigError, match="confluence_api"):
            pmsync.Config.from_dict({"project": "OPS", "confluence_api": "v3"})


class TestContentPropertiesThroughV2:
    def test_cloud_reads_and_writes_properties_through_v2(self, emu):
        page_id = _page(emu, [row("x")])
        gateway = ConfluenceGateway(emu.confluence(), cloud=True)
        assert gateway.set_content_property(page_id, "pmsync.lease", {"run": "a"}, version=None)
        value, version = gateway.content_property(page_id, "pmsync.lease")
        assert gateway.set_content_property(page_id, "pmsync.lease", {"run": "b"}, version=version)
        assert ({"run": "a"}, {"run": "b"}) == (
            value,
            emu.content_property(page_id, "pmsync.lease")["value"],
        )
        assert all("/api/v2/pages/" in r.path for r in emu.requests)

    def test_a_stale_version_writes_nothing(self, emu):
        page_id = _page(emu, [row("x")])
        gateway = ConfluenceGateway(emu.confluence(), cloud=True)
        gateway.set_content_property(page_id, "pmsync.lease", {"run": "a"}, version=None)
        emu.set_content_property(page_id, "pmsync.lease", {"run": "other"})
        assert not gateway.set_content_property(page_id, "pmsync.lease", {"run": "b"}, version=1)
        assert not gateway.set_content_property(page_id, "pmsync.lease", {"run": "c"}, version=None)
        assert {"run": "other"} == emu.content_property(page_id, "pmsync.lease")["value"]

    @staticmethod
    def _lease_calls(site):
        """Take, renew, lose and release a lease; the outcomes and whether v2 was used."""
        page_id = site.add_page("SRE", "Outage", table_page([row("x")]))
        site.clear_requests()
        gateway = ConfluenceGateway(site.confluence(), cloud=site.flavour == "cloud")
        outcomes = (
            gateway.put_content_property(page_id, "pmsync.lease", {"run": "a"}, version=0),
            gateway.put_content_property(page_id, "pmsync.lease", {"run": "b"}, version=1),
            gateway.put_content_property(page_id, "pmsync.lease", {"run": "c"}, version=1),
        )
        gateway.delete_content_property(page_id, "pmsync.lease")
        gateway.delete_content_property(page_id, "pmsync.lease")  # gone already: fine
        assert site.content_property(page_id, "pmsync.lease") is None
        return outcomes, {"/api/v2/" in r.path for r in site.requests}

    def test_the_lease_goes_through_v2_on_cloud(self, emu):
        assert ((1, 2, None), {True}) == self._lease_calls(emu)

    def test_the_lease_stays_on_v1_on_server(self):
        with Emulator("server") as server:
            assert ((1, 2, None), {False}) == self._lease_calls(server)

    def test_a_missing_property_is_none(self, emu):
        page_id = _page(emu, [row("x")])
        assert (
            ConfluenceGateway(emu.confluence(), cloud=True).content_property(page_id, "k") is None
        )


class TestRetiredEndpoints:
    def test_410_names_the_endpoint_and_what_to_do(self, emu):
        transport = Transport(emu.confluence(), "confluence")
        page_id = _page(emu, [row("x")])
        with pytest.raises(pmsync.ServiceError) as caught:
            transport.json("GET", f"rest/api/content/{page_id}")
        message = str(caught.value)
        assert f"rest/api/content/{page_id}" in message
        assert "Upgrade pmsync" in message


class TestPriorities:
    def test_cloud_pages_through_priority_search(self, emu):
        gateway = JiraGateway(emu.jira())
        assert "High" in gateway.priorities()
        assert ["GET /rest/api/3/priority/search"] == _paths(emu)

    def test_server_reads_the_priority_list(self):
        with Emulator("server") as emu:
            assert "High" in JiraGateway(emu.jira()).priorities()
            assert ["GET /rest/api/2/priority"] == _paths(emu)


class TestSearchLag:
    def test_a_search_after_creating_reconciles_the_new_issues(self):
        with Emulator(search_lag=60) as emu:
            emu.add_project("OPS")
            gateway = JiraGateway(emu.jira())
            fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "labels": ["p"]}
            outcomes = gateway.bulk_create(
                [{"fields": {**fields, "summary": f"item {n}"}} for n in range(3)]
            )
            found = [i.key for i in gateway.managed("OPS", "p")]
            assert [o.key for o in outcomes] == found
            fresh = JiraGateway(emu.jira())  # another run: it wrote nothing, so sees nothing
            assert [] == fresh.managed("OPS", "p")

    def test_more_than_50_written_issues_are_reconciled_50_per_search(self):
        with Emulator(search_lag=60) as emu:
            emu.add_project("OPS")
            gateway = JiraGateway(emu.jira())
            fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "labels": ["p"]}
            gateway.bulk_create(
                [{"fields": {**fields, "summary": f"item {n}"}} for n in range(120)]
            )
            emu.clear_requests()
            assert 120 == len(gateway.managed("OPS", "p"))
            searches = [r for r in emu.requests if r.path.endswith("/search/jql")]
            assert 3 == len(searches)

    def test_edits_are_reconciled_too(self):
        with Emulator(search_lag=60) as emu:
            emu.add_project("OPS")
            key = emu.add_issue("OPS", summary="Add alerting", labels=["p"])
            gateway = JiraGateway(emu.jira())
            gateway.managed("OPS", "p")  # learns the issue's id
            gateway.edit(key, {"labels": ["p", "q"]})
            assert [key] == [i.key for i in gateway.search("labels = q AND project = OPS")]


class TestRateLimits:
    @pytest.mark.parametrize(
        ("headers", "expected"),
        [
            ({"Retry-After": "30"}, 30.0),
            ({"Retry-After": "Fri, 04 Dec 2026 09:00:30 GMT"}, 30.0),
            ({"Beta-Retry-After": "12"}, 12.0),
            ({"Retry-After": "soon"}, None),
            ({}, None),
        ],
    )
    def test_retry_after_forms(self, headers, expected):
        now = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
        assert expected == retry_after(headers, now)

    def test_an_http_date_wait_is_honoured(self, emu):
        emu.faults.rate_limit(count=1, retry_after=0, header="http-date", service="jira")
        transport = Transport(emu.jira(), "jira", pmsync.RetryPolicy(wait_max=5))
        transport.json("GET", "rest/api/2/myself")  # a date of now: retried at once
        assert [429, 200] == [r.status for r in emu.requests]

    def test_a_long_quota_wait_stops_every_later_request(self, emu):
        emu.faults.rate_limit(count=1, retry_after=1800, reason="jira-quota-tenant-based")
        pacing = Pacing()
        jira = Transport(emu.jira(), "jira", pacing=pacing)
        confluence = Transport(emu.confluence(), "confluence", pacing=pacing)
        with pytest.raises(pmsync.QuotaExhaustedError, match="jira-quota-tenant-based") as caught:
            jira.json("GET", "rest/api/2/myself")
        assert 1800 == caught.value.retry_after
        with pytest.raises(pmsync.QuotaExhaustedError):
            confluence.json("GET", "rest/api/space/SRE")
        assert 1 == len(emu.requests)

    def test_writes_to_one_issue_are_spaced_once_jira_asks(self, emu):
        key = emu.add_issue("OPS", summary="Add alerting")
        slept = []
        transport = Transport(emu.jira(), "jira", pacing=Pacing(sleep=slept.append))
        emu.faults.rate_limit(count=1, retry_after=0, reason="jira-per-issue-on-write")
        transport.request("PUT", f"rest/api/2/issue/{key}", body={"fields": {"summary": "a"}})
        transport.request("PUT", f"rest/api/2/issue/{key}", body={"fields": {"summary": "b"}})
        assert 0.5 < max(slept, default=0) <= 1.0
        assert "b" == emu.issue(key)["fields"]["summary"]

    def test_pacing_spreads_the_last_requests_until_the_reset(self):
        slept = []
        pacing = Pacing(sleep=slept.append)
        reset = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)).isoformat()
        plenty = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "50"}
        pacing.after("jira", plenty, cap=60)
        pacing.before("jira", "GET", "rest/api/2/myself")
        low = {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "5", "X-RateLimit-Reset": reset}
        pacing.after("jira", low, cap=60)
        pacing.before("jira", "GET", "rest/api/2/myself")
        # Jira and Confluence may draw on one quota: the pace holds for both, and each
        # request (of any worker) takes the next refill after the one before it.
        pacing.before("confluence", "GET", "rest/api/space/SRE")
        assert 2 == len(slept)
        assert 1.5 < slept[0] <= 2.0
        assert 1.5 < slept[1] - slept[0] <= 2.0

    def test_pacing_keeps_a_first_sync_of_1000_items_under_a_quota(self, emu):
        """20 pages x 50 items against 20 requests per second: no 429 at all."""
        config = pmsync.Config(project="OPS")
        for p in range(20):
            rows = [row(f"P{p} action {n}", ALICE, "2026-12-04") for n in range(50)]
            emu.add_page("SRE", f"Postmortem {p}", table_page(rows), labels=("postmortem",))
        emu.faults.quota(20, per=1.0)
        emu.clear_requests()
        result = make_syncer(emu, config).sync(cql='label = "postmortem"')
        assert result.ok, result.errors
        assert 1000 == len(result.created)
        assert [] == [f"{r.method} {r.path}" for r in emu.requests if r.status == 429]


SCOPED = {"PMSYNC_TOKEN_KIND": "scoped", "PMSYNC_CLOUD_ID": "abc-123"}


class TestScopedTokens:
    def test_classic_tokens_call_the_site(self):
        site = "https://x.atlassian.net"
        assert (site, f"{site}/wiki") == cloud_urls({}, site, f"{site}/wiki")

    def test_scoped_tokens_call_the_gateway(self):
        site = "https://x.atlassian.net"
        assert (
            "https://api.atlassian.com/ex/jira/abc-123",
            "https://api.atlassian.com/ex/confluence/abc-123/wiki",
        ) == cloud_urls(SCOPED, site, f"{site}/wiki")

    def test_the_cloud_id_is_discovered_from_the_site(self, emu):
        env = {"PMSYNC_TOKEN_KIND": "scoped", "PMSYNC_GATEWAY_URL": emu.url}
        jira, confluence = cloud_urls(env, emu.url, emu.confluence_url)
        assert (emu.gateway_url("jira"), emu.gateway_url("confluence")) == (jira, confluence)

    def test_a_gateway_url_needs_no_token_kind(self):
        jira = "https://api.atlassian.com/ex/jira/abc-123"
        assert (
            "https://api.atlassian.com/ex/confluence/abc-123/wiki"
            == (cloud_urls({}, jira, f"{jira}/wiki")[1])
        )

    def test_a_sync_through_the_gateway(self, emu):
        page_id = _page(emu, [row("Add a disk alert", ALICE)])
        env = {
            "PMSYNC_JIRA_URL": emu.url,
            "PMSYNC_DEPLOYMENT": "cloud",
            "PMSYNC_TOKEN_KIND": "scoped",
            "PMSYNC_GATEWAY_URL": emu.url,
            "PMSYNC_EMAIL": emu.email,
            "PMSYNC_API_TOKEN": emu.token,
        }
        syncer = pmsync.Syncer.from_env(pmsync.Config(project="OPS"), environ=env)
        assert syncer.sync(page_ids=[page_id]).ok
        atlassian = [r.path for r in emu.requests if r.path != "/_edge/tenant_info"]
        assert all(p.startswith("/ex/") for p in atlassian), atlassian
        assert "OPS-1" in emu.page(page_id)["storage"]

    def test_a_bad_token_kind_is_a_config_error(self):
        with pytest.raises(pmsync.ConfigError, match="PMSYNC_TOKEN_KIND"):
            cloud_urls({"PMSYNC_TOKEN_KIND": "oauth"}, "https://x.atlassian.net", "")
