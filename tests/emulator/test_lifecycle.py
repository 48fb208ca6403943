"""Starting, stopping, resetting and configuring an emulator."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests

from pmsync.testing import Emulator, RequestRecord


def test_context_manager_serves_on_loopback_and_stops() -> None:
    """Inside ``with`` the emulator answers on 127.0.0.1; after it, the port is closed."""
    with Emulator() as emu:
        assert emu.url.startswith("http://127.0.0.1:")
        assert 401 == requests.get(f"{emu.url}/rest/api/2/serverInfo", timeout=5).status_code
        port = emu.port
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


def test_urls_follow_the_flavour() -> None:
    """Cloud serves Confluence under /wiki, Server under the /confluence context path."""
    with Emulator("cloud") as cloud, Emulator("server") as server:
        assert cloud.url + "/wiki" == cloud.confluence_url
        assert server.url + "/confluence" == server.confluence_url
        assert cloud.url + "/slack/api/" == cloud.slack_url


def test_url_before_start_is_an_error() -> None:
    """Asking where a stopped emulator serves says how to start it."""
    emu = Emulator()
    with pytest.raises(RuntimeError, match="start"):
        _ = emu.url


def test_unknown_flavour_is_rejected() -> None:
    """Only cloud and server exist."""
    with pytest.raises(ValueError, match="flavour"):
        Emulator("datacenter")  # type: ignore[arg-type]


def test_start_twice_is_an_error() -> None:
    """A running emulator cannot be started again."""
    with Emulator() as emu, pytest.raises(RuntimeError, match="already running"):
        emu.start()


def test_state_survives_a_restart() -> None:
    """stop() keeps the state; start() serves it again (on a new port)."""
    emu = Emulator(v1_pages="ok")
    page_id = emu.add_page("SRE", "Kept", "<p>x</p>")
    with emu:
        assert "Kept" == emu.confluence().get_page_by_id(page_id)["title"]
    with emu:
        assert "Kept" == emu.confluence().get_page_by_id(page_id)["title"]


def test_stop_is_quick_with_idle_keep_alive_connections() -> None:
    """An idle keep-alive connection from a client does not hold stop() up."""
    emu = Emulator().start()
    session = requests.Session()
    session.get(f"{emu.url}/rest/api/2/serverInfo", timeout=5)
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    session.close()


def test_seeding_works_before_start() -> None:
    """Seeding needs no server; the seeded state is served once started."""
    emu = Emulator()
    emu.add_project("OPS")
    key = emu.add_issue("OPS", summary="Seeded early")
    with emu:
        assert "Seeded early" == emu.jira().issue(key)["fields"]["summary"]


def test_reset_forgets_everything_but_keeps_serving(site: Emulator) -> None:
    """reset() empties users, issues, pages, messages, faults and the request log."""
    emu = site
    emu.reset()
    emu.add_user(display_name="Alice", email="alice@example.com")
    emu.add_project("OPS")
    emu.add_issue("OPS", summary="x")
    emu.add_page("SRE", "P", "<p/>")
    emu.add_channel("incidents")
    emu.slack().chat_postMessage(channel="#incidents", text="hi")
    emu.faults.latency(0.001)
    emu.reset()
    assert [] == emu.issues()
    assert [] == emu.pages()
    assert [] == emu.slack_messages()
    assert [] == emu.requests
    assert [emu.bot] == emu.users()
    assert 0 == emu.faults.delay_for("jira")
    assert 200 == requests.get(f"{emu.url}/slack/api/api.test", timeout=5).status_code


def test_the_bot_account_is_myself(emu: Emulator) -> None:
    """The credentials belong to the emulator's own account, which ``myself`` returns."""
    me = emu.jira().myself()
    assert emu.bot.display_name == me["displayName"]


def test_repr_never_shows_a_token() -> None:
    """Neither the emulator nor its credentials reveal tokens in their repr."""
    with Emulator(token="secret-token-value", slack_token="xoxb-secret") as emu:
        text = repr(emu)
        assert "secret" not in text
        assert emu.url in text


def test_request_records_say_what_happened(emu: Emulator) -> None:
    """Each request is logged with method, path, query, status, mutating and service."""
    emu.add_page("SRE", "P", "<p/>")
    emu.clear_requests()
    emu.confluence().cql("type = page", limit=5)
    (record,) = emu.requests
    assert (
        RequestRecord(
            method="GET",
            path=emu.confluence_url.removeprefix(emu.url) + "/rest/api/search",
            query={"start": "0", "limit": "5", "cql": "type = page"},
            status=200,
            mutating=False,
            service="confluence",
        )
        == record
    )


def test_request_count_filters_by_mutation_service_and_method(emu: Emulator) -> None:
    """request_count() counts all, mutating or not, per service and per method."""
    emu.add_project("OPS")
    jira = emu.jira()
    jira.issue_create({"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "a"})
    jira.issue("OPS-1")
    emu.slack().auth_test()
    assert 3 == emu.request_count()
    assert 1 == emu.request_count(mutating=True)
    assert 2 == emu.request_count(mutating=False)
    assert 2 == emu.request_count(service="jira")
    assert 1 == emu.request_count(service="jira", method="get")
    emu.clear_requests()
    assert 0 == emu.request_count()


def test_request_listeners_see_every_request(emu: Emulator) -> None:
    """add_request_listener() is called once per request, after it is served."""
    seen: list[RequestRecord] = []
    emu.add_request_listener(seen.append)
    emu.slack().auth_test()
    assert ["/slack/api/auth.test"] == [r.path for r in seen]


def test_pytest_fixture_recipe_from_the_docs() -> None:
    """The documented fixture recipe yields a running, empty emulator."""

    def emu_fixture():  # the body of the recipe in docs/testing.md
        with Emulator() as e:
            yield e

    generator = emu_fixture()
    emu = next(generator)
    assert emu.running
    assert [] == emu.issues()
    generator.close()
    assert not emu.running


def test_many_threads_can_start_emulators() -> None:
    """Emulators are independent: several can run at once on different ports."""
    ports: list[int] = []
    # All four run at once: an emulator that stopped early would free its port for the
    # next one, and the distinct-ports check would then fail for the wrong reason.
    # The timeout only guards against a hang; a loaded machine may take long to start four.
    together = threading.Barrier(4, timeout=300)
    broken: list[BaseException] = []

    def run() -> None:
        try:
            with Emulator() as emu:
                ports.append(emu.port)
                together.wait()
        except BaseException as exc:
            broken.append(exc)
            together.abort()  # the others stop waiting at once

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == broken
    assert 4 == len(set(ports))
