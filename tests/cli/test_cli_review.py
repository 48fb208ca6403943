"""`pmsync review`: the digest and the roll-up page from the command line."""

from __future__ import annotations

import json

import pytest
from cli_helpers import emulator_env

from pmsync.cli import main


@pytest.fixture
def reviewed(runner, emu, page_id, config_file):
    """The page synced, with a [review] table naming a parent page and a channel."""
    parent = emu.add_page("SRE", "Reviews", "<p>Our reviews.</p>")
    emu.add_channel("sre-review")
    config_file.write_text(
        config_file.read_text()
        + f'\n[review]\nparent_page = "{parent}"\nslack_channel = "#sre-review"\n'
    )
    assert 0 == runner.invoke(main, ["sync", "-q"], env=emulator_env(emu)).exit_code
    return emu


def _digests(emu):
    return [m for m in emu.slack_messages() if m["channel_name"] == "sre-review"]


def test_review_posts_the_digest_and_keeps_the_page(runner, reviewed) -> None:
    result = runner.invoke(main, ["review", "--today", "2030-01-20"], env=emulator_env(reviewed))
    assert 0 == result.exit_code, result.output
    assert "Review on 2030-01-20" in result.stdout
    assert "Done: the digest was posted and the roll-up page was updated." in result.stdout
    assert 1 == len(_digests(reviewed))
    assert ["Postmortem action items: review"] == [
        p["title"] for p in reviewed.pages() if p["title"].startswith("Postmortem action")
    ]


def test_review_twice_on_one_day_posts_once(runner, reviewed) -> None:
    env = emulator_env(reviewed)
    runner.invoke(main, ["review", "--today", "2030-01-20"], env=env)
    result = runner.invoke(main, ["review", "--today", "2030-01-20", "--json"], env=env)
    document = json.loads(result.stdout)
    assert (True, False, False) == (
        document["already_reviewed"],
        document["digest_posted"],
        document["page_written"],
    )
    assert 1 == len(_digests(reviewed))


def test_review_quiet_prints_nothing(runner, reviewed) -> None:
    result = runner.invoke(main, ["review", "-q"], env=emulator_env(reviewed))
    assert (0, "") == (result.exit_code, result.stdout)


def test_review_dry_run_with_since(runner, reviewed) -> None:
    result = runner.invoke(
        main,
        ["review", "--dry-run", "--since", "2030-01-01", "--today", "2030-01-20", "--json"],
        env=emulator_env(reviewed),
    )
    document = json.loads(result.stdout)
    assert ("2030-01-01", True) == (document["since"], document["dry_run"])
    assert ["Add a disk usage alert at 80%"] == [i["summary"] for i in document["became_overdue"]]
    assert [] == _digests(reviewed)


def test_review_without_a_parent_page_is_a_configuration_error(
    runner, emu, page_id, config_file
) -> None:
    result = runner.invoke(main, ["review"], env=emulator_env(emu))
    assert 2 == result.exit_code
    assert "parent_page" in result.stderr


def test_demo_ends_with_the_review(runner) -> None:
    """The demo's last step posts the digest, keeps the page, and a rerun does nothing."""
    result = runner.invoke(main, ["demo"])
    assert 0 == result.exit_code, result.output
    tail = result.stdout.split("5. The review meeting", 1)[1]
    assert "Action item review, " in tail
    assert "Lessons learned" in tail
    assert "Run again the same day: nothing posted, page unchanged." in tail
