"""Request budgets: a no-op run and a first run stay within fixed request counts."""

from __future__ import annotations

from sync_helpers import ALICE, row, table_page


def _seed(emu, pages, items):
    return [
        emu.add_page(
            "SRE",
            f"Postmortem {p}",
            table_page([row(f"P{p} action {n}", ALICE, "2026-12-04", "P2") for n in range(items)]),
            labels=("postmortem",),
        )
        for p in range(pages)
    ]


def test_first_run_and_noop_rerun_stay_within_budget(emu, syncer):
    """20 pages x 10 items: first run <= 0.2 req/item + 3 per page written (the lease
    with its intent, the write, the release); a no-op rerun <= 20 requests, none for a lease."""
    _seed(emu, 20, 10)
    emu.clear_requests()
    result = syncer.sync(cql='label = "postmortem"')
    assert result.ok, result.errors
    assert 200 == len(result.created)
    first = len(emu.requests)
    assert first <= 0.2 * 200 + 3 * 20, first
    emu.clear_requests()
    again = syncer.sync(cql='label = "postmortem"')
    assert again.ok
    assert [] == [r for r in emu.requests if r.mutating]
    assert len(emu.requests) <= 20, [f"{r.method} {r.path}" for r in emu.requests]
