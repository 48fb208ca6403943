"""How errors become exit codes and advice: one table, and the hints for each kind."""

from __future__ import annotations

import pytest

from pmsync import (
    ApplyError,
    AuthError,
    ConfigError,
    ConflictError,
    LockError,
    NotFoundError,
    ParseError,
    RateLimitError,
    ServiceError,
)
from pmsync._cli_session import advice_for, describe_apply_error, exit_code_for, field_advice
from pmsync._model import ActionItem, Postmortem
from pmsync._plan import PagePlan, Plan


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("bad", key="project"), 2),
        (AuthError("401", service="jira", status=401), 3),
        (RateLimitError("429", service="jira"), 3),
        (NotFoundError("404", service="confluence", status=404), 3),
        (ServiceError("no response", service="jira"), 3),
        (ServiceError("503", service="jira", status=503), 3),
        (ServiceError("400", service="jira", status=400), 1),
        (LockError("held", path="/x.lock"), 4),
        (ApplyError("one item failed"), 1),
        (ConflictError("kept changing"), 1),
        (ParseError("nothing readable"), 1),
        (RuntimeError("a bug"), 1),
    ],
)
def test_exit_codes(error: BaseException, code: int) -> None:
    assert code == exit_code_for(error)


def test_auth_advice_on_cloud_names_the_api_token() -> None:
    error = AuthError("401", service="jira", status=401)
    advice = advice_for(error, {"PMSYNC_JIRA_URL": "https://example.atlassian.net"})
    assert "PMSYNC_API_TOKEN" in advice
    assert "id.atlassian.com" in advice


def test_auth_advice_on_server_names_the_personal_access_tokens() -> None:
    error = AuthError("401", service="confluence", status=401)
    advice = advice_for(error, {"PMSYNC_JIRA_URL": "https://jira.example.com"})
    assert "PMSYNC_CONFLUENCE_PAT" in advice


def test_auth_advice_follows_an_explicit_deployment() -> None:
    error = AuthError("401", service="jira", status=401)
    advice = advice_for(
        error, {"PMSYNC_JIRA_URL": "https://jira.example.com", "PMSYNC_DEPLOYMENT": "cloud"}
    )
    assert "PMSYNC_API_TOKEN" in advice


def test_slack_auth_advice_names_the_bot_token_and_scopes() -> None:
    advice = advice_for(AuthError("invalid_auth", service="slack"), {})
    assert "PMSYNC_SLACK_TOKEN" in advice
    assert "chat:write" in advice


def test_rate_limit_advice_says_how_long_it_asked_to_wait() -> None:
    error = RateLimitError("429", service="jira", retry_after=90)
    assert "90 s" in advice_for(error, {})


def test_unreachable_advice_names_the_service() -> None:
    assert "confluence is reachable" in advice_for(
        ServiceError("no response", service="confluence"), {}
    )


def test_item_errors_get_no_general_advice() -> None:
    assert "" == advice_for(ApplyError("one item failed"), {})


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("priority: Priority name 'Whenever' is not valid", "[priority_map]"),
        ("assignee: User 'x' cannot be assigned issues.", "mention the owner"),
        ("components: Component/s is required.", "requires components"),
        ("customfield_10010: Team is required.", "requires customfield_10010"),
        ("Request timed out", ""),
    ],
)
def test_field_advice(message: str, expected: str) -> None:
    assert (expected in field_advice(message)) if expected else ("" == field_advice(message))


def _plan_with_item() -> Plan:
    item = ActionItem(item_id="abc123", summary="Add a disk alert", table=1, row=2)
    postmortem = Postmortem(page_id="42", title="Disk full", items=(item,))
    page = PagePlan(
        page_id="42", title="Disk full", version=3, url=None, storage="", postmortem=postmortem
    )
    return Plan(pages=(page,))


def test_apply_error_names_page_table_and_row() -> None:
    error = ApplyError("Jira refused it", page_id="42", item_id="abc123")
    assert "page 'Disk full' (42), table 2 row 3: Jira refused it" == describe_apply_error(
        error, _plan_with_item()
    )


def test_apply_error_without_a_plan_is_left_as_is() -> None:
    error = ApplyError("Jira refused it", page_id="42", item_id="abc123")
    assert "Jira refused it" == describe_apply_error(error, None)
