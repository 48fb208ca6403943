"""Quoting for JQL, CQL and Jira wiki markup: text stays text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pmsync._quote import cql_string, jql_string, unwiki, wiki_text


@given(st.text())
def test_wiki_escaping_round_trips(text):
    """Whatever a page says comes back unchanged from Jira's description."""
    assert text == unwiki(wiki_text(text))


def test_line_start_block_markup_is_escaped():
    """'h1.' or 'bq.' at the start of a line would render as a heading or a quote."""
    assert "\\h1. not a heading\n  \\bq. no quote" == wiki_text("h1. not a heading\n  bq. no quote")


def test_query_literals_cannot_be_broken_out_of():
    """Quotes and backslashes are escaped; the literal is always one quoted string."""
    assert '"x\\" OR project = OTHER \\\\"' == jql_string('x" OR project = OTHER \\')
    assert '"a\\"b"' == cql_string('a"b')
