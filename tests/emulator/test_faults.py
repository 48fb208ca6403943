"""Scripted faults: rate limits, server errors, latency, dropped connections, racing humans."""

from __future__ import annotations

import base64
import time

import pytest
import requests
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from pmsync.testing import Emulator

TASK = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}}


def _headers(emu: Emulator) -> dict[str, str]:
    if emu.flavour == "cloud":
        token = base64.b64encode(f"{emu.email}:{emu.token}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {"Authorization": f"Bearer {emu.token}"}


def _get(emu: Emulator, path: str = "/rest/api/2/myself") -> requests.Response:
    return requests.get(emu.url + path, headers=_headers(emu), timeout=5)


def _statuses(emu: Emulator, count: int) -> list[int]:
    return [_get(emu).status_code for _ in range(count)]


# -- rate limits ----------------------------------------------------------------------------


def test_rate_limit_count_answers_429_then_recovers(emu: Emulator) -> None:
    """count=2: the next two requests get 429 with Retry-After, then service resumes."""
    emu.faults.rate_limit(count=2, retry_after=1)
    responses = [_get(emu) for _ in range(3)]
    assert [429, 429, 200] == [r.status_code for r in responses]
    assert "1" == responses[0].headers["Retry-After"]


def test_jira_rate_limit_body_and_headers(emu: Emulator) -> None:
    """Jira's 429 carries errorMessages and the X-RateLimit headers."""
    emu.faults.rate_limit(count=1, retry_after=3)
    response = _get(emu)
    assert ["Rate limit exceeded."] == response.json()["errorMessages"]
    assert "0" == response.headers["X-RateLimit-Remaining"]
    assert "3" == response.headers["Retry-After"]


def test_confluence_rate_limit_is_in_confluences_shape(emu: Emulator) -> None:
    """Confluence's 429 has statusCode and message."""
    emu.faults.rate_limit(count=1, retry_after=0)
    url = emu.confluence_url + "/rest/api/space/SRE"
    response = requests.get(url, headers=_headers(emu), timeout=5)
    assert (429, 429) == (response.status_code, response.json()["statusCode"])


def test_slack_rate_limit_is_ratelimited_with_429(emu: Emulator) -> None:
    """Slack answers HTTP 429 ratelimited with Retry-After; the SDK raises at once."""
    emu.faults.rate_limit(count=1, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        emu.slack().auth_test()
    assert "ratelimited" == caught.value.response["error"]
    assert 429 == caught.value.response.status_code
    assert "7" == caught.value.response.headers["Retry-After"]


def test_atlassian_client_retries_once_after_retry_after(emu: Emulator) -> None:
    """atlassian-python-api sleeps Retry-After (0 here) and retries a 429 once."""
    emu.faults.rate_limit(count=1, retry_after=0)
    emu.jira().myself()
    assert [429, 200] == [r.status for r in emu.requests]


def test_atlassian_client_gives_up_after_its_one_retry(emu: Emulator) -> None:
    """A second 429 in a row reaches the caller as an HTTPError."""
    emu.faults.rate_limit(count=2, retry_after=0)
    with pytest.raises(requests.HTTPError) as caught:
        emu.jira().myself()
    assert 429 == caught.value.response.status_code


def test_rate_limit_without_count_lasts_until_cleared(emu: Emulator) -> None:
    """With neither count nor fraction every request is limited until clear()."""
    emu.faults.rate_limit(retry_after=0)
    assert [429, 429, 429] == _statuses(emu, 3)
    emu.faults.clear()
    assert [200] == _statuses(emu, 1)


def test_rate_limit_fraction_repeats_with_the_same_seed() -> None:
    """Fractions draw from a seeded generator: the same seed gives the same pattern."""
    patterns = []
    for _ in range(2):
        with Emulator(seed=7) as emu:
            emu.faults.rate_limit(fraction=0.5, retry_after=0)
            patterns.append(_statuses(emu, 30))
    assert patterns[0] == patterns[1]
    assert {200, 429} == set(patterns[0])


def test_reset_reseeds_the_fault_generator(emu: Emulator) -> None:
    """After reset() the same fractional faults replay the same pattern."""
    emu.faults.rate_limit(fraction=0.3, retry_after=0)
    first = _statuses(emu, 20)
    emu.reset()
    emu.faults.rate_limit(fraction=0.3, retry_after=0)
    assert first == _statuses(emu, 20)


def test_fraction_with_count_limits_the_number_of_faults(emu: Emulator) -> None:
    """fraction picks requests at random; count caps how many are answered."""
    emu.faults.rate_limit(count=3, fraction=0.5, retry_after=0)
    assert 3 == _statuses(emu, 40).count(429)


def test_faults_can_target_one_service(emu: Emulator) -> None:
    """service="slack" leaves Jira and Confluence alone."""
    emu.faults.rate_limit(service="slack", retry_after=0)
    assert [200] == _statuses(emu, 1)
    with pytest.raises(SlackApiError):
        emu.slack().auth_test()


def test_faulted_requests_are_logged(emu: Emulator) -> None:
    """A faulted request appears in the log with its fault status."""
    emu.faults.rate_limit(count=1, retry_after=0)
    _get(emu)
    assert [429] == [r.status for r in emu.requests]


# -- server errors --------------------------------------------------------------------------


def test_server_error_uses_the_status_and_retry_after(emu: Emulator) -> None:
    """server_error answers the given 5xx, with Retry-After when asked."""
    emu.faults.server_error(count=1, status=502, retry_after=2)
    response = _get(emu)
    assert 502 == response.status_code
    assert "2" == response.headers["Retry-After"]
    assert [200] == _statuses(emu, 1)


def test_server_error_defaults_to_503_without_retry_after(emu: Emulator) -> None:
    """The default is 503 and no Retry-After header."""
    emu.faults.server_error(count=1)
    response = _get(emu)
    assert 503 == response.status_code
    assert "Retry-After" not in response.headers


def test_server_error_reaches_the_client_as_http_error(emu: Emulator) -> None:
    """atlassian-python-api does not retry a 503 by default."""
    emu.faults.server_error(count=1)
    with pytest.raises(requests.HTTPError):
        emu.confluence().get_page_by_id("1")


def test_a_faulted_write_changes_nothing(emu: Emulator) -> None:
    """A request answered by a fault never reaches the service."""
    emu.add_project("OPS")
    emu.faults.server_error(count=1)
    with pytest.raises(requests.HTTPError):
        emu.jira().issue_create({**TASK, "summary": "x"})
    assert [] == emu.issues()


# -- latency --------------------------------------------------------------------------------


def test_latency_delays_each_request(emu: Emulator) -> None:
    """latency(s) really waits before serving."""
    emu.faults.latency(0.05)
    started = time.monotonic()
    _get(emu)
    assert time.monotonic() - started >= 0.05


def test_latency_per_service(emu: Emulator) -> None:
    """A service's latency applies only to it; latency(0) removes it."""
    emu.faults.latency(0.2, service="slack")
    started = time.monotonic()
    _get(emu)
    assert time.monotonic() - started < 0.2
    emu.faults.latency(0, service="slack")
    started = time.monotonic()
    emu.slack().api_test()
    assert time.monotonic() - started < 0.2


# -- dropped connections --------------------------------------------------------------------


def test_drop_after_applied_changes_state_but_no_answer_arrives(emu: Emulator) -> None:
    """applied=True: the issue is created, yet the client sees ConnectionError."""
    emu.add_project("OPS")
    emu.faults.drop_after(1, applied=True)
    with pytest.raises(requests.ConnectionError):
        emu.jira().issue_create({**TASK, "summary": "landed"})
    assert ["landed"] == [i["fields"]["summary"] for i in emu.issues()]
    (record,) = emu.requests
    assert (None, True) == (record.status, record.mutating)


def test_drop_after_not_applied_changes_nothing(emu: Emulator) -> None:
    """applied=False: the connection drops before any change."""
    emu.add_project("OPS")
    emu.faults.drop_after(1, applied=False)
    with pytest.raises(requests.ConnectionError):
        emu.jira().issue_create({**TASK, "summary": "lost"})
    assert [] == emu.issues()


def test_drop_after_counts_only_mutating_requests(emu: Emulator) -> None:
    """Reads do not count: the k-th mutating request from now is dropped."""
    emu.add_project("OPS")
    jira = emu.jira()
    emu.faults.drop_after(2, applied=False)
    jira.issue_create({**TASK, "summary": "first"})
    jira.jql("project = OPS", fields="summary")
    with pytest.raises(requests.ConnectionError):
        jira.issue_create({**TASK, "summary": "second"})
    jira.issue_create({**TASK, "summary": "third"})
    assert ["first", "third"] == [i["fields"]["summary"] for i in emu.issues()]


def test_drop_of_a_page_write(emu: Emulator) -> None:
    """A dropped page update that was applied leaves the new version in place."""
    page_id = emu.add_page("SRE", "Outage", "<p>old</p>")
    emu.faults.drop_after(1, applied=True, service="confluence")
    body = {
        "type": "page",
        "title": "Outage",
        "version": {"number": 2},
        "body": {"storage": {"value": "<p>new</p>", "representation": "storage"}},
    }
    with pytest.raises(requests.ConnectionError):
        emu.confluence().update_content(page_id, body)
    assert (2, "<p>new</p>") == (emu.page(page_id)["version"], emu.page(page_id)["storage"])
    with pytest.raises(requests.HTTPError) as caught:
        emu.confluence().update_content(page_id, body)
    assert 409 == caught.value.response.status_code


def test_slack_sdk_replays_a_dropped_post(emu: Emulator) -> None:
    """slack_sdk retries connection errors once by default: an applied drop posts twice.

    This is why pmsync must not count on chat.postMessage being sent exactly once. (The
    default handler, with its back-off sleep replaced by none, to keep the test fast.)
    """
    emu.add_channel("incidents")
    emu.faults.drop_after(1, applied=True)
    handler = ConnectionErrorRetryHandler(
        max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0)
    )
    emu.slack(retry_handlers=[handler]).chat_postMessage(channel="#incidents", text="Overdue")
    assert ["Overdue", "Overdue"] == [m["text"] for m in emu.slack_messages()]


# -- a human racing the write --------------------------------------------------------------


def test_on_page_write_runs_before_the_update_and_causes_a_conflict(emu: Emulator) -> None:
    """The callback saves a human edit first; the update then meets a newer version."""
    page_id = emu.add_page("SRE", "Outage", "<p>v1</p>")
    calls: list[str] = []

    def human(pid: str) -> None:
        calls.append(pid)
        emu.edit_page(pid, "<p>human</p>")

    emu.faults.on_page_write(human)
    body = {
        "type": "page",
        "title": "Outage",
        "version": {"number": 2},
        "body": {"storage": {"value": "<p>pmsync</p>", "representation": "storage"}},
    }
    with pytest.raises(requests.HTTPError) as caught:
        emu.confluence().update_content(page_id, body)
    assert 409 == caught.value.response.status_code
    assert [page_id] == calls
    assert "<p>human</p>" == emu.page(page_id)["storage"]


def test_on_page_write_fires_once(emu: Emulator) -> None:
    """After firing, the next update goes through normally."""
    page_id = emu.add_page("SRE", "Outage", "<p>v1</p>")
    emu.faults.on_page_write(lambda pid: emu.edit_page(pid, "<p>human</p>"))
    confluence = emu.confluence()
    with pytest.raises(requests.HTTPError):
        confluence.update_page(page_id, "Outage", "<p>first try</p>", always_update=True)
    confluence.update_page(page_id, "Outage", "<p>second try</p>", always_update=True)
    assert (3, "<p>second try</p>") == (emu.page(page_id)["version"], emu.page(page_id)["storage"])


def test_on_page_write_ignores_reads_and_property_writes(emu: Emulator) -> None:
    """Only page updates fire the callback."""
    page_id = emu.add_page("SRE", "Outage", "<p>v1</p>")
    calls: list[str] = []
    emu.faults.on_page_write(calls.append)
    confluence = emu.confluence()
    confluence.get_page_by_id(page_id)
    confluence.set_page_property(page_id, {"key": "pmsync.lease", "value": {}})
    assert [] == calls


# -- housekeeping ---------------------------------------------------------------------------


def test_clear_disarms_everything(emu: Emulator) -> None:
    """clear() removes rate limits, errors, latency, drops and callbacks."""
    emu.add_project("OPS")
    emu.faults.rate_limit(retry_after=0)
    emu.faults.server_error()
    emu.faults.latency(1)
    emu.faults.drop_after(1)
    emu.faults.on_page_write(lambda pid: None)
    emu.faults.clear()
    started = time.monotonic()
    emu.jira().issue_create({**TASK, "summary": "fine"})
    assert time.monotonic() - started < 1
    assert 1 == len(emu.issues())


@pytest.mark.parametrize(
    ("arm", "message"),
    [
        (lambda f: f.rate_limit(count=0), "count"),
        (lambda f: f.rate_limit(fraction=1.5), "fraction"),
        (lambda f: f.rate_limit(retry_after=-1), "retry_after"),
        (lambda f: f.server_error(status=404), "5xx"),
        (lambda f: f.latency(-1), "latency"),
        (lambda f: f.drop_after(0), "positive"),
        (lambda f: f.rate_limit(service="github"), "service"),
    ],
)
def test_invalid_fault_settings_are_refused(emu: Emulator, arm, message: str) -> None:  # type: ignore[no-untyped-def]
    """Nonsense settings fail loudly when armed, naming the bad argument."""
    with pytest.raises(ValueError, match=message):
        arm(emu.faults)


def test_on_page_write_needs_a_callable(emu: Emulator) -> None:
    """A callback that cannot be called is refused."""
    with pytest.raises(TypeError):
        emu.faults.on_page_write("not callable")  # type: ignore[arg-type]
