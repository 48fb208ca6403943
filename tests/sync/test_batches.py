"""A run that reads every page (a full pass) reads, plans and applies them in batches,
so that a site's page bodies are never all held at once (docs/sync.md)."""

from __future__ import annotations

import pytest
from sync_helpers import make_syncer, mutating, row, table_page

import pmsync
import pmsync._sync
from pmsync.testing import Emulator

CQL = 'label = "postmortem"'


@pytest.fixture(params=["cloud", "server"])
def flavour(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two pages per batch, so that five pages make three batches."""
    monkeypatch.setattr(pmsync._sync, "FULL_BATCH", 2)


def _pages(emu: Emulator, count: int) -> list[str]:
    return [
        emu.add_page(
            "SRE",
            f"Postmortem {n}",
            table_page([row(f"Page {n}: rotate the {n} keys", status="in progress")]),
            labels=("postmortem",),
        )
        for n in range(count)
    ]


def test_every_batch_is_synced_and_the_result_names_them_all(emu, config):
    """Five pages in batches of two: every row gets its issue, moved to In Progress and
    linked from its page; the one result lists all of it, and its plan keeps no bodies."""
    ids = _pages(emu, 5)
    result = make_syncer(emu, config).sync(cql=CQL)
    assert result.ok, result.errors
    assert 5 == len(result.created) == len(result.transitioned)
    assert sorted(ids) == sorted(result.pages_written)
    assert result.plan is not None
    assert sorted(ids) == sorted(p.page_id for p in result.plan.pages)
    assert 5 == len(result.plan.of_kind("create"))
    assert {""} == {p.storage for p in result.plan.pages}
    for page_id in ids:
        (item,) = pmsync.parse_page(emu.page(page_id)["storage"], page_id=page_id).items
        assert item.jira_key in result.created
    emu.clear_requests()
    again = make_syncer(emu, config).sync(cql=CQL)
    assert again.ok, again.errors
    assert [] == mutating(emu)


def test_a_batch_reads_only_its_own_pages(emu, config):
    """After the one read of every page, each batch re-reads its two pages by id."""
    _pages(emu, 5)
    make_syncer(emu, config).sync(cql=CQL)
    emu.clear_requests()
    make_syncer(emu, config).sync(cql=CQL)
    searches = [r.query["cql"] for r in emu.requests if r.path.endswith("/content/search")]
    assert 1 == sum(1 for cql in searches if "postmortem" in cql), searches
    by_id = [cql for cql in searches if cql.startswith("id in")]
    assert [2, 2, 1] == [cql.count(",") + 1 for cql in by_id]


def test_the_duplicate_lint_compares_pages_of_different_batches(emu, config):
    """The same action on the first and the last page (other batches) is still found."""
    same = "Add an alert on disk usage above 80 percent"
    first = emu.add_page("SRE", "Postmortem A", table_page([row(same)]), labels=("postmortem",))
    _pages(emu, 3)
    last = emu.add_page("SRE", "Postmortem B", table_page([row(same)]), labels=("postmortem",))
    result = make_syncer(emu, config).sync(cql=CQL)
    assert result.plan is not None
    duplicates = {f.page_id for f in result.plan.findings if f.code == "duplicate"}
    assert {first, last} == duplicates
    assert any("[duplicate]" in w for w in result.plan.warnings)


def test_a_row_moved_to_a_page_of_another_batch_is_not_an_orphan(emu, config):
    """An issue created for the first page, whose row a person moved to the last page:
    the last page's batch matches it by key, and the first page's batch does not call
    it an orphan."""
    config = pmsync.Config(project="OPS", orphan_comment=True)
    ids = _pages(emu, 5)
    assert make_syncer(emu, config).sync(cql=CQL).ok
    moved = pmsync.parse_page(emu.page(ids[0])["storage"], page_id=ids[0]).items[0]
    other = pmsync.parse_page(emu.page(ids[4])["storage"], page_id=ids[4]).items[0]
    rows = [
        row(other.summary, status="in progress", key=other.jira_key),
        row(moved.summary, status="in progress", key=moved.jira_key),
    ]
    emu.edit_page(ids[0], table_page([]))
    emu.edit_page(ids[4], table_page(rows))
    result = make_syncer(emu, config).sync(cql=CQL)
    assert result.ok, result.errors
    assert () == result.plan.of_kind("orphan")
    assert [] == [m for m in mutating(emu) if m.endswith("/comment")]
