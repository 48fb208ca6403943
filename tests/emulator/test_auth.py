"""Authentication as each service and flavour does it."""

from __future__ import annotations

import pytest
import requests
from atlassian import Confluence, Jira
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from pmsync.testing import Emulator


def test_jira_without_credentials_is_401(emu: Emulator) -> None:
    """No Authorization header: 401."""
    assert 401 == requests.get(f"{emu.url}/rest/api/2/myself", timeout=5).status_code


def test_confluence_without_credentials_is_401(emu: Emulator) -> None:
    """No Authorization header: 401, for Confluence too."""
    url = f"{emu.confluence_url}/rest/api/content/1"
    assert 401 == requests.get(url, timeout=5).status_code


def test_wrong_token_is_401_for_both_atlassian_services(emu: Emulator) -> None:
    """A wrong token is refused by Jira and Confluence alike."""
    auth = (emu.email, "wrong") if emu.flavour == "cloud" else None
    headers = {} if auth else {"Authorization": "Bearer wrong"}
    for url in (f"{emu.url}/rest/api/2/myself", f"{emu.confluence_url}/rest/api/space/X"):
        assert 401 == requests.get(url, auth=auth, headers=headers, timeout=5).status_code


def test_cloud_401_makes_atlassian_python_api_say_unauthorized() -> None:
    """Cloud answers 401 with a non-JSON body, so the Jira client raises "Unauthorized (401)"."""
    with Emulator("cloud") as emu:
        jira = Jira(url=emu.url, username=emu.email, password="wrong", cloud=True)
        with pytest.raises(requests.HTTPError, match=r"Unauthorized \(401\)"):
            jira.myself()


def test_cloud_confluence_401_raises_with_the_plain_text_body() -> None:
    """The Confluence client raises an HTTPError carrying Cloud's plain-text 401 body."""
    with Emulator("cloud") as emu:
        confluence = Confluence(
            url=emu.confluence_url, username=emu.email, password="wrong", cloud=False
        )
        with pytest.raises(requests.HTTPError, match="must be authenticated") as caught:
            confluence.get_page_by_id("1")
        assert 401 == caught.value.response.status_code


def test_server_401_carries_jiras_json_message() -> None:
    """Server answers a bad personal access token with Jira's JSON error body."""
    with Emulator("server") as emu:
        jira = Jira(url=emu.url, token="wrong")
        with pytest.raises(requests.HTTPError, match="not authenticated") as caught:
            jira.myself()
        assert "application/json;charset=UTF-8" == caught.value.response.headers["Content-Type"]


def test_cloud_refuses_a_bearer_token() -> None:
    """Cloud wants Basic email + API token; the token as a Bearer is refused."""
    with Emulator("cloud") as emu:
        headers = {"Authorization": f"Bearer {emu.token}"}
        response = requests.get(f"{emu.url}/rest/api/2/myself", headers=headers, timeout=5)
        assert 401 == response.status_code


def test_server_accepts_a_bearer_token_and_basic_username() -> None:
    """Server accepts the personal access token as a Bearer, and Basic with the username."""
    with Emulator("server") as emu:
        bearer = {"Authorization": f"Bearer {emu.token}"}
        url = f"{emu.url}/rest/api/2/myself"
        assert 200 == requests.get(url, headers=bearer, timeout=5).status_code
        basic = (emu.bot.username, emu.token)
        assert 200 == requests.get(url, auth=basic, timeout=5).status_code


def test_basic_login_compares_the_email_case_insensitively() -> None:
    """Atlassian logins are email addresses; case does not matter."""
    with Emulator("cloud") as emu:
        auth = (emu.email.upper(), emu.token)
        assert 200 == requests.get(f"{emu.url}/rest/api/2/myself", auth=auth, timeout=5).status_code


def test_garbage_basic_header_is_401(emu: Emulator) -> None:
    """A Basic header that is not base64 is refused, not a server error."""
    headers = {"Authorization": "Basic !!!not-base64"}
    response = requests.get(f"{emu.url}/rest/api/2/myself", headers=headers, timeout=5)
    assert 401 == response.status_code


def test_slack_wrong_token_is_invalid_auth(emu: Emulator) -> None:
    """Slack answers a wrong token with ok=false, invalid_auth, at HTTP 200."""
    client = WebClient(token="xoxb-wrong", base_url=emu.slack_url)
    with pytest.raises(SlackApiError) as caught:
        client.auth_test()
    assert "invalid_auth" == caught.value.response["error"]
    assert 200 == caught.value.response.status_code


def test_slack_without_token_is_not_authed(emu: Emulator) -> None:
    """No token at all: not_authed."""
    response = requests.post(f"{emu.slack_url}auth.test", timeout=5)
    assert {"ok": False, "error": "not_authed"} == response.json()


def test_slack_accepts_the_token_as_a_form_field(emu: Emulator) -> None:
    """Slack also takes the token in the body, as older clients send it."""
    response = requests.post(
        f"{emu.slack_url}auth.test", data={"token": emu.slack_token}, timeout=5
    )
    assert response.json()["ok"] is True


def test_failed_auth_is_logged(emu: Emulator) -> None:
    """Refused requests appear in the request log with their 401."""
    requests.get(f"{emu.url}/rest/api/2/myself", timeout=5)
    assert [401] == [r.status for r in emu.requests]


def test_a_token_in_the_query_string_is_not_logged(emu: Emulator) -> None:
    """Slack's token parameter is redacted in the request log."""
    requests.get(f"{emu.slack_url}auth.test", params={"token": emu.slack_token}, timeout=5)
    (record,) = emu.requests
    assert {"token": "<redacted>"} == dict(record.query)
    assert 200 == record.status
