"""What a plan tells the person reviewing it (issue 14): people by name, one warning line
per row, bookkeeping kept out of the changes to review, conflicts that say which value stays.

The Python API against the emulator, on Cloud (mentions by account id) and on Server/Data
Center (mentions by user key).
"""

from __future__ import annotations

import pytest
from sync_helpers import ALICE, BOB, make_syncer, row, table_page

import pmsync

pytestmark = pytest.mark.parametrize("flavour", ["cloud", "server"], indirect=True)


def _mention(flavour: str, who: str) -> str:
    """How a page mentions alice or bob in this flavour (account id, or user key)."""
    return {"alice": ALICE, "bob": BOB}[who] if flavour == "cloud" else f"key:key-{who}"


def _user_id(flavour: str, who: str) -> str:
    """The id Jira takes for alice or bob: the account id, or the username."""
    return {"alice": ALICE, "bob": BOB}[who] if flavour == "cloud" else who


def _page(emu, flavour, rows):
    return emu.add_page(
        "SRE",
        "2026-11-02 Disk full",
        table_page(rows, flavour=flavour),
        labels=("postmortem",),
    )


def _synced(emu, syncer, flavour, owner="alice", due="2026-12-04"):
    """A page with one row owned by ``owner``, synced once; (page id, issue key)."""
    page_id = _page(emu, flavour, [row("Add a disk usage alert", _mention(flavour, owner), due)])
    assert syncer.sync(page_ids=[page_id]).ok
    (issue,) = emu.issues("OPS")
    return page_id, issue["key"]


def _edit_row(emu, page_id, old, new):
    emu.edit_page(page_id, emu.page(page_id)["storage"].replace(old, new))


def _reassign_row(emu, page_id, flavour):
    """A person changes the row's owner mention from alice to bob."""
    alice, bob = (_mention(flavour, who).removeprefix("key:") for who in ("alice", "bob"))
    _edit_row(emu, page_id, alice, bob)


# -- owners by name ---------------------------------------------------------------------


def test_a_new_items_owner_is_shown_by_name_and_kept_as_an_id(emu, syncer, flavour):
    """str(plan) and the Jupyter table name the person; to_dict() keeps Jira's id."""
    page_id = _page(emu, flavour, [row("Add a disk usage alert", _mention(flavour, "alice"))])
    plan = syncer.plan(page_ids=[page_id])
    (create,) = plan.of_kind("create")
    assert "owner: - → Alice Example" in str(plan)
    assert "owner: - → Alice Example" in plan._repr_html_()
    assert ALICE not in str(plan) + plan._repr_html_()
    assert [None, _user_id(flavour, "alice")] == create.to_dict()["fields"]["owner"]
    assert [None, _user_id(flavour, "alice")] == plan.to_dict()["changes"][0]["fields"]["owner"]


def test_a_reassignment_on_the_page_names_both_people(emu, syncer, flavour):
    """The new owner is assigned to no issue yet: the name still shows, not the id."""
    page_id, _ = _synced(emu, syncer, flavour)
    _reassign_row(emu, page_id, flavour)
    plan = syncer.plan(page_ids=[page_id])
    (update,) = plan.of_kind("update")
    assert "owner: Alice Example → Bob Example" == update.describe()
    ids = (_user_id(flavour, "alice"), _user_id(flavour, "bob"))
    assert ids == update.fields["owner"]
    assert "owner: Alice Example → Bob Example" in plan.render()


def test_a_reassignment_in_jira_written_back_names_both_people(emu, syncer, flavour):
    """Jira's new assignee goes into the owner cell; the plan says who, by name."""
    page_id, key = _synced(emu, syncer, flavour)
    emu.edit_issue(key, {"assignee": _user_id(flavour, "bob")})
    plan = syncer.plan(page_ids=[page_id])
    (writeback,) = plan.of_kind("writeback")
    assert "owner: Alice Example → Bob Example" in writeback.describe()
    assert (_user_id(flavour, "alice"), _user_id(flavour, "bob")) == writeback.fields["owner"]


def test_an_owner_conflict_names_the_person_kept(emu, syncer, flavour):
    """Page -> Bob, Jira -> nobody: the page wins, and the line says Bob is kept."""
    page_id, key = _synced(emu, syncer, flavour)
    emu.edit_issue(key, {"assignee": None})
    _reassign_row(emu, page_id, flavour)
    (conflict,) = syncer.plan(page_ids=[page_id]).of_kind("conflict")
    assert conflict.describe().startswith("owner: page Bob Example kept over Jira -; ")


# -- one warning line per row -------------------------------------------------------------


def test_an_owner_matching_no_jira_user_is_said_once_per_row(emu, syncer, flavour):
    """A team and an unknown person: one line each, saying what to do and what pmsync does."""
    page_id = _page(
        emu,
        flavour,
        [row("Document the cache warm-up", "Platform team"), row("Rotate keys", "Zed Unknown")],
    )
    plan = syncer.plan(page_ids=[page_id])
    for where, code in (
        ("row 1 of table 2", "owner-is-team"),
        ("row 2 of table 2", "owner-unresolved"),
    ):
        (line,) = [w for w in plan.warnings if where in w and "owner" in w]
        assert f"[{code}]" in line
        assert "pmsync assigns nobody" in line
    assert not [w for w in plan.warnings if "matches no Jira user" in w]


# -- bookkeeping ---------------------------------------------------------------------------


def test_recording_an_agreed_value_is_not_a_change_to_review_but_is_applied(emu, syncer, flavour):
    """Both sides moved the due date to the same day: only the base is recorded."""
    page_id, key = _synced(emu, syncer, flavour)
    emu.edit_issue(key, {"duedate": "2026-12-18"})
    _edit_row(emu, page_id, "2026-12-04", "2026-12-18")
    plan = syncer.plan(page_ids=[page_id])
    (update,) = plan.of_kind("update")
    assert update.bookkeeping
    assert () == plan.to_review
    assert {"noop": 1} == plan.counts()
    assert not plan.is_empty  # still applied: the next merge needs the base
    assert plan.render().startswith("Nothing to do: 1 item(s) in sync.")
    assert "update" not in plan.render()
    verbose = plan.render(verbose=True)
    assert "recording the values both sides agree on" in verbose
    (line,) = [line for line in verbose.splitlines() if "agree on" in line]
    assert line.startswith("noop ")
    (change,) = plan.to_dict()["changes"]
    assert ("update", True) == (change["kind"], change["bookkeeping"])

    result = syncer.apply(plan)
    assert result.ok, result.errors
    assert () == result.updated
    (issue,) = emu.issues("OPS")
    assert "2026-12-18" == issue["properties"]["pmsync"]["base"]["due"]
    assert syncer.plan(page_ids=[page_id]).is_empty


# -- conflicts say which value stays -----------------------------------------------------------


@pytest.mark.parametrize(
    ("ownership", "line", "kept"),
    [
        ("page", "due: page 2026-12-18 kept over Jira 2026-12-20", "2026-12-18"),
        ("jira", "due: Jira 2026-12-20 kept over page 2026-12-18", "2026-12-20"),
        ("report", "due: page 2026-12-18, Jira 2026-12-20", None),
    ],
)
def test_a_due_date_conflict_says_which_value_is_kept(emu, flavour, ownership, line, kept):
    """Not 'due: 2026-12-18 → 2026-12-20; the page wins' while the page's date is kept."""
    syncer = make_syncer(emu, pmsync.Config(project="OPS", ownership={"due": ownership}))
    page_id, key = _synced(emu, syncer, flavour)
    emu.edit_issue(key, {"duedate": "2026-12-20"})
    _edit_row(emu, page_id, "2026-12-04", "2026-12-18")
    plan = syncer.plan(page_ids=[page_id])
    (conflict,) = plan.of_kind("conflict")
    assert conflict.describe().startswith(line + "; changed on both sides; ")
    assert ownership == conflict.to_dict()["resolution"]
    assert line in plan.render()
    assert syncer.apply(plan).ok
    (issue,) = emu.issues("OPS")
    page_due = "2026-12-20" if kept == "2026-12-20" else "2026-12-18"
    assert (kept or "2026-12-20") == issue["fields"]["duedate"]
    assert page_due in emu.page(page_id)["storage"]


def test_jira_winning_a_field_the_page_cannot_show_says_both_stay(emu, flavour):
    """A summary Jira owns cannot be written into the page: no side is 'kept over' another."""
    syncer = make_syncer(emu, pmsync.Config(project="OPS", ownership={"summary": "jira"}))
    page_id, key = _synced(emu, syncer, flavour)
    emu.edit_issue(key, {"summary": "Alert on disk usage"})
    _edit_row(emu, page_id, "Add a disk usage alert", "Add a disk alert at 80%")
    (conflict,) = syncer.plan(page_ids=[page_id]).of_kind("conflict")
    assert "report" == conflict.resolution
    assert conflict.describe() == (
        "summary: page Add a disk alert at 80%, Jira Alert on disk usage; changed on both "
        "sides; Jira wins, but the page cannot show it: both stay"
    )
