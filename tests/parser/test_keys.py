"""Jira's issue-key grammar, shared by the parser, the write-back editor, lint and the
configuration: a project key of two or more uppercase letters, digits or underscores
starting with a letter, a hyphen, and an issue number from 1 without leading zeros."""

from __future__ import annotations

import pytest

from pmsync import Config
from pmsync._lint import is_vague
from pmsync._storage.edit import RowUpdate, write_back
from pmsync._storage.keys import (
    is_issue_key,
    is_project_key,
    key_in_url,
    keys_in_text,
    valid_key,
)
from pmsync.exceptions import ConfigError


@pytest.mark.parametrize("key", ["OPS-1", "OPS-77", "DB2-10", "SRE_X-3", "AB-1000000"])
def test_issue_keys_jira_writes_are_keys(key):
    assert is_issue_key(key)


@pytest.mark.parametrize(
    "text",
    ["OPS-0", "OPS-012", "O-1", "ops-1", "2FA-1", "_X-1", "OPS-", "OPS1", "OPS-1a", " OPS-1"],
)
def test_anything_else_is_not_a_key(text):
    assert not is_issue_key(text)


def test_project_keys_have_two_characters_at_least():
    assert [is_project_key(k) for k in ("OPS", "O", "DB2", "2DB", "ops")] == [
        True,
        False,
        True,
        False,
        False,
    ]


def test_a_key_written_loosely_is_normalised():
    assert [valid_key(k) for k in (" ops-12 ", "OPS-012", "x")] == ["OPS-12", None, None]


def test_keys_in_text_stand_alone():
    assert keys_in_text("after OPS-1, DB-2 and XOPS-3b; not OPS-4-1 or OPS-05") == ["OPS-1", "DB-2"]


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://example.atlassian.net/browse/OPS-77", "OPS-77"),
        ("https://jira.example.com/browse/ops-77?focusedId=1", "OPS-77"),
        (
            "https://example.atlassian.net/jira/software/projects/OPS/boards/1?selectedIssue=OPS-9",
            "OPS-9",
        ),
        ("https://example.atlassian.net/browse/OPS-07", None),
        ("https://example.com/wiki/OPS-77", None),
    ],
)
def test_links_name_the_issue_they_browse(url, key):
    assert key_in_url(url) == key


def test_the_editor_refuses_a_key_the_parser_would_not_read():
    page = "<table><tr><th>Action</th><th>Jira</th></tr><tr><td>Fix it</td><td></td></tr></table>"
    from pmsync import parse_page

    tables = parse_page(page).tables
    result = write_back(page, tables, [RowUpdate(0, 0, jira_key="OPS-012")])

    assert not result.changed
    assert "is not a Jira issue key" in result.skipped[0].reason


def test_a_key_makes_an_item_concrete_for_lint_only_when_it_is_one():
    assert not is_vague("Investigate the timeouts (OPS-12)")
    assert is_vague("Investigate the timeouts (OPS-012)")


def test_the_configured_project_must_be_a_project_key():
    with pytest.raises(ConfigError):
        Config(project="O")
