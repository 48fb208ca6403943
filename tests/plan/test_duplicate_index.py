"""The duplicate index finds every copy a comparison of every pair would find.

Its filters (word combinations, word-set signatures, the item's own page) only pass over
candidates that cannot be copies; on corpora small enough that no search reaches its
bound, what it finds is exactly the set of items on other pages whose summaries are
similar enough. Pure."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from pmsync import ActionItem, Person, Postmortem
from pmsync._lint import DUPLICATE_THRESHOLD, DUPLICATES_NAMED, _Corpus, _tokens

# Few words, so that summaries often share most of them.
WORDS = ["disk", "alert", "queue", "shard", "runbook", "dns", "cache", "pool", "the", "add"]


def _postmortem(page_id: str | None, summaries: list[str]) -> Postmortem:
    items = tuple(
        ActionItem(
            item_id=f"{page_id}-{row}",
            summary=summary,
            owner=Person(account_id="557058:alice"),
            due=dt.date(2027, 1, 1),
            row=row,
        )
        for row, summary in enumerate(summaries)
    )
    return Postmortem(page_id=page_id, title=f"Postmortem {page_id}", items=items)


summaries = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
corpora = st.lists(
    st.tuples(st.sampled_from(["1", "2", "3", None]), st.lists(summaries, max_size=5)),
    min_size=1,
    max_size=6,
)


def _similar(a: str, b: str) -> bool:
    x, y = _tokens(a), _tokens(b)
    return bool(x and y) and len(x & y) / len(x | y) >= DUPLICATE_THRESHOLD


def _other_page(a: Postmortem, b: Postmortem) -> bool:
    return a is not b and (a.page_id is None or a.page_id != b.page_id)


@settings(max_examples=300, deadline=None)
@given(corpora)
def test_the_index_finds_what_comparing_every_pair_finds(pages):
    postmortems = [_postmortem(page_id, rows) for page_id, rows in pages]
    corpus = _Corpus(postmortems, DUPLICATE_THRESHOLD)

    for pm in postmortems:
        for item in pm.items:
            copies, more = corpus.copies(pm, item)
            expected = {
                (id(other), copy.item_id)
                for other in postmortems
                if _other_page(other, pm)
                for copy in other.items
                if _similar(item.summary, copy.summary)
            }
            found = {(id(ref.postmortem), ref.item.item_id) for ref in copies}
            if len(expected) <= DUPLICATES_NAMED:
                assert (expected, False) == (found, more)
            else:
                assert found <= expected
                assert more
