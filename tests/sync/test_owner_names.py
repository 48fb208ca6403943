"""Cloud owners' display names cost at most one request per plan, and none on a rerun.

A Cloud mention is only an account id; the plan shows the person's name (issue 14). The
assignees read with the issues already carry names; the other accounts are looked up in
one ``user/bulk`` request per 50 ids.
"""

from __future__ import annotations

from sync_helpers import ALICE, BOB, make_syncer, row, table_page


def _user_requests(emu) -> list[str]:
    return [f"{r.method} {r.path}" for r in emu.requests if "/user" in r.path]


def _page(emu, owners, title="Disk full"):
    rows = [row(f"Action {n}", owner, "2026-12-04") for n, owner in enumerate(owners)]
    return emu.add_page("SRE", title, table_page(rows), labels=("postmortem",))


def test_new_owners_names_cost_one_bulk_request_and_a_rerun_none(emu, syncer):
    """Two people on ten rows: one user/bulk request; after the sync, none at all."""
    page_id = _page(emu, [ALICE, BOB] * 5)
    emu.clear_requests()
    plan = syncer.plan(page_ids=[page_id])
    assert ["GET /rest/api/2/user/bulk"] == _user_requests(emu)
    assert {"Alice Example", "Bob Example"} == {
        c.names[c.fields["owner"][1]] for c in plan.of_kind("create")
    }
    assert syncer.apply(plan).ok
    emu.clear_requests()
    rerun = syncer.plan(page_ids=[page_id])
    assert [] == _user_requests(emu)
    assert rerun.is_empty


def test_names_come_from_the_assignees_read_when_they_are_known(emu, syncer):
    """Bob is assigned an issue already: a row newly owned by Bob needs no look-up."""
    page_id = _page(emu, [BOB])
    assert syncer.sync(page_ids=[page_id]).ok
    storage = emu.page(page_id)["storage"]
    emu.edit_page(page_id, storage.replace("</tbody>", _row_markup(BOB) + "</tbody>"))
    emu.clear_requests()
    (create,) = syncer.plan(page_ids=[page_id]).of_kind("create")
    assert [] == _user_requests(emu)
    assert "owner: - → Bob Example" in create.describe()


def test_applying_a_plan_looks_up_no_name_the_plan_knew(emu, syncer):
    """Bob's name came from his issue on another page; re-planning the page under its
    lease (docs/sync.md) finds it in the plan's snapshot, not by asking Jira again."""
    _page(emu, [BOB], title="Checkout outage")
    page_id = _page(emu, [ALICE])
    assert syncer.sync(cql='label = "postmortem"').ok
    storage = emu.page(page_id)["storage"]
    emu.edit_page(page_id, storage.replace("</tbody>", _row_markup(BOB) + "</tbody>"))
    later = make_syncer(emu, syncer.config)  # the next cron run: nothing cached
    emu.clear_requests()
    plan = later.plan(cql='label = "postmortem"')
    result = later.apply(plan)
    assert result.ok, result.errors
    assert 1 == len(result.created)
    assert () == result.replanned
    assert [] == _user_requests(emu)


def _row_markup(owner: str) -> str:
    page = table_page([row("Rotate logs hourly", owner, "2026-12-20")])
    start = page.rindex("<tr>")
    return page[start : page.index("</tr>", start) + len("</tr>")]


def test_a_mention_of_an_unknown_account_keeps_its_id(emu, syncer):
    """An account Jira does not know has no name to show: the id is shown as it is."""
    page_id = _page(emu, ["557058:ghost-0009"])
    (create,) = syncer.plan(page_ids=[page_id]).of_kind("create")
    assert "owner: - → 557058:ghost-0009" in create.describe()


def test_bulk_look_up_pages_through_many_accounts(emu, syncer):
    """120 accounts, 60 of them real: three requests of at most 50 ids, every name found."""
    real = [
        emu.add_user(account_id=f"557058:user-{n:04}", display_name=f"User {n}").account_id
        for n in range(60)
    ]
    ghosts = [f"557058:ghost-{n:04}" for n in range(60)]
    jira = syncer.jira
    emu.clear_requests()
    found = jira.users_by_account(real + ghosts)
    assert 3 == len(_user_requests(emu))
    assert {f"User {n}" for n in range(60)} == {u.display_name for u in found.values()}
    emu.clear_requests()
    assert found == jira.users_by_account(ghosts + real)  # cached, found or not
    assert None is jira.user_by_account(ghosts[0])
    assert [] == _user_requests(emu)
