"""Unknown routes and wrong methods answer like the real services, never 200."""

from __future__ import annotations

import base64

import pytest
import requests

from pmsync.testing import Emulator


def _headers(emu: Emulator) -> dict[str, str]:
    if emu.flavour == "cloud":
        token = base64.b64encode(f"{emu.email}:{emu.token}".encode()).decode()
        return {"Authorization": f"Basic {token}"}
    return {"Authorization": f"Bearer {emu.token}"}


@pytest.mark.parametrize(
    "path", ["/rest/api/2/nothing", "/rest/agile/1.0/board", "/rest/api/9/myself"]
)
def test_unknown_jira_route_is_404_json(emu: Emulator, path: str) -> None:
    """Unknown REST paths under Jira: 404 with a JSON message naming the URI."""
    response = requests.get(emu.url + path, headers=_headers(emu), timeout=5)
    assert 404 == response.status_code
    assert "null for uri" in response.json()["message"]


def test_unknown_confluence_route_is_404_in_confluences_shape(emu: Emulator) -> None:
    """Unknown Confluence REST paths: 404 with statusCode and message."""
    url = f"{emu.confluence_url}/rest/api/nothing"
    response = requests.get(url, headers=_headers(emu), timeout=5)
    assert (404, 404) == (response.status_code, response.json()["statusCode"])


def test_non_rest_paths_are_html_404s(emu: Emulator) -> None:
    """Outside the REST APIs the sites answer with an HTML 404."""
    for url in (f"{emu.url}/browse/OPS-1", f"{emu.confluence_url}/display/SRE"):
        response = requests.get(url, headers=_headers(emu), timeout=5)
        assert 404 == response.status_code
        assert response.headers["Content-Type"].startswith("text/html")


def test_wrong_method_is_405(emu: Emulator) -> None:
    """A known route with a method it does not serve answers 405."""
    response = requests.delete(f"{emu.url}/rest/api/2/myself", headers=_headers(emu), timeout=5)
    assert 405 == response.status_code
    page_id = emu.add_page("SRE", "Outage", "<p/>")
    url = f"{emu.confluence_url}/rest/api/content/{page_id}/history"
    assert 405 == requests.post(url, headers=_headers(emu), timeout=5).status_code


def test_unknown_routes_still_need_credentials(emu: Emulator) -> None:
    """Atlassian checks credentials before routing: no credentials, 401."""
    assert 401 == requests.get(f"{emu.url}/rest/api/2/nothing", timeout=5).status_code


def test_the_other_flavours_confluence_context_is_not_confluence(emu: Emulator) -> None:
    """Cloud serves Confluence only under /wiki, Server only under /confluence."""
    other = "/confluence" if emu.flavour == "cloud" else "/wiki"
    response = requests.get(
        f"{emu.url}{other}/rest/api/space/SRE", headers=_headers(emu), timeout=5
    )
    assert 404 == response.status_code
    assert "jira" == emu.requests[-1].service


def test_invalid_json_body_is_400(emu: Emulator) -> None:
    """A body that is not JSON is a 400, not a server error."""
    emu.add_project("OPS")
    headers = {**_headers(emu), "Content-Type": "application/json"}
    response = requests.post(
        f"{emu.url}/rest/api/2/issue", data="{not json", headers=headers, timeout=5
    )
    assert 400 == response.status_code
    assert response.json()["errorMessages"]


def test_emulator_bugs_become_500s_not_hangs(
    emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected failure in a handler answers 500 in the service's shape and is logged."""

    def broken(page_id: str) -> None:
        raise RuntimeError(f"callback failed for {page_id}")

    page_id = emu.add_page("SRE", "Outage", "<p/>")
    emu.faults.on_page_write(broken)
    body = {"type": "page", "title": "Outage", "version": {"number": 2}}
    url = f"{emu.confluence_url}/rest/api/content/{page_id}"
    response = requests.put(url, json=body, headers=_headers(emu), timeout=5)
    assert 500 == response.status_code
    assert 500 == response.json()["statusCode"]
    assert "callback failed" in caplog.text
