"""The shared vocabulary: statuses and priorities (reused for Jira), dates, headings."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmsync import Status
from pmsync._storage.dates import date_from_attribute, read_date
from pmsync._storage.vocabulary import (
    _SPACE_LIKE,
    _fold_unicode,
    fold_words,
    is_action_heading,
    normalise_priority,
    normalise_words,
    status_from_lozenge,
    status_from_text,
    trailing_status,
)


class TestStatusFromText:
    @pytest.mark.parametrize(
        ("text", "status"),
        [
            ("To Do", Status.TODO),
            ("Backlog", Status.TODO),
            ("Selected for Development", Status.TODO),
            ("Open", Status.TODO),
            ("Reopened", Status.TODO),
            ("In Progress", Status.IN_PROGRESS),
            ("In Review", Status.IN_PROGRESS),
            ("in_progress", Status.IN_PROGRESS),
            ("Blocked", Status.IN_PROGRESS),
            ("Done", Status.DONE),
            ("Closed", Status.DONE),
            ("Resolved", Status.DONE),
            ("Won't Do", Status.DONE),
            ("Done - shipped in 2.3", Status.DONE),
            ("not started yet", Status.TODO),
            ("✅ shipped", Status.DONE),
        ],
    )
    def test_page_words_and_jira_status_names_map_to_categories(self, text, status):
        """Page words and the usual Jira workflow names share one vocabulary."""
        assert status == status_from_text(text)

    @pytest.mark.parametrize("text", ["", "   ", "parked", "42", "n/a"])
    def test_unknown_or_empty_text_is_none(self, text):
        """Words pmsync does not know give ``None``."""
        assert None is status_from_text(text)

    def test_extra_words_win_over_built_in_ones(self):
        """``status_map`` can move a word to another category."""
        assert Status.TODO == status_from_text("Blocked", {"blocked": Status.TODO})

    def test_extra_words_match_case_insensitively(self):
        """``{"Parked": "todo"}`` reads ``PARKED``."""
        assert Status.TODO == status_from_text("PARKED", {"Parked": "todo"})

    def test_extra_category_must_be_known(self):
        """A category other than todo, in_progress, done is a ValueError."""
        with pytest.raises(ValueError, match="todo, in_progress or done"):
            status_from_text("x", {"parked": "someday"})


class TestLozengesAndTrailingStatus:
    @pytest.mark.parametrize(
        ("title", "colour", "status"),
        [
            ("Done", None, Status.DONE),
            ("QA", "Blue", Status.IN_PROGRESS),
            ("Awaiting release", "Green", Status.DONE),
            ("Triaged", "Grey", Status.TODO),
            ("Parked", "Yellow", None),
            ("Parked", None, None),
        ],
    )
    def test_lozenge_title_first_then_colour(self, title, colour, status):
        """pmsync colours lozenges by category, so any workflow status reads back."""
        assert status == status_from_lozenge(title, colour)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Bug 5554823 TODO", (Status.TODO, "Bug 5554823")),
            ("n/a DONE", (Status.DONE, "n/a")),
            ("OPS-1 in progress", (Status.IN_PROGRESS, "OPS-1")),
            ("Bug 5554823", (None, "Bug 5554823")),
        ],
    )
    def test_trailing_status_is_split_off(self, text, expected):
        """The Google SRE ``Bug`` column: status after the bug."""
        assert expected == trailing_status(text)


class TestPriorities:
    @pytest.mark.parametrize(
        ("text", "priority"),
        [
            ("P0", "Highest"),
            ("urgent", "Highest"),
            ("P1", "High"),
            ("Major", "High"),
            ("p2", "Medium"),
            ("Minor", "Low"),
            ("P4", "Lowest"),
            ("  Nice  to have ", "Lowest"),
            ("Whenever", "Whenever"),
            ("", None),
            ("-", None),
        ],
    )
    def test_priority_words_map_to_jira_names(self, text, priority):
        """Built-in words map to Jira's five names; others are kept as written."""
        assert priority == normalise_priority(text)

    def test_extra_names_win(self):
        """``priority_map`` adds words and can override built-in ones."""
        assert "Blocker" == normalise_priority("P0", {"P0": "Blocker"})


class TestWordsAndHeadings:
    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("Owner(s):", "owner"),
            ("OWNER  (primary)", "owner"),
            ("Due\xa0date", "due date"),
            ("(Owner)", "owner"),
            ("Bug #", "bug"),
            ("Über-Owner", "über owner"),
        ],
    )
    def test_normalise_words_folds_case_punctuation_and_asides(self, text, words):
        """Header names fold to plain lower-case words."""
        assert words == normalise_words(text)

    @pytest.mark.parametrize(
        ("heading", "is_action"),
        [
            ("Action items", True),
            ("Action Items for Q3", True),
            ("Follow-up actions", True),
            ("Actions", True),
            ("Actions taken during the incident", False),
            ("Review checklist", False),
        ],
    )
    def test_action_headings(self, heading, is_action):
        """Headings that announce action items, and ones that do not."""
        assert is_action == is_action_heading(heading)


class TestDates:
    @pytest.mark.parametrize(
        ("text", "date"),
        [
            ("2026-12-15", dt.date(2026, 12, 15)),
            ("2026.12.15", dt.date(2026, 12, 15)),
            ("Dec 15 2026", dt.date(2026, 12, 15)),
            ("Sept 1st, 2026", dt.date(2026, 9, 1)),
            ("1 of March 2027", dt.date(2027, 3, 1)),
            ("31.12.2026", dt.date(2026, 12, 31)),
            ("05/05/2026", dt.date(2026, 5, 5)),
            ("due 2026-12-15, maybe later", dt.date(2026, 12, 15)),
        ],
    )
    def test_written_dates_are_read(self, text, date):
        """Full dates in the usual written forms."""
        assert date == read_date(text).date

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("03/04/2026", "ambiguous-date"),
            ("13/14/2026", "unreadable-date"),
            ("Feb 30, 2026", "unreadable-date"),
            ("March 2026", "unreadable-date"),
            ("asap", "unreadable-date"),
        ],
    )
    def test_problem_dates_say_why(self, text, problem):
        """Ambiguous and unreadable dates give no date and a problem code."""
        reading = read_date(text)

        assert (None, problem) == (reading.date, reading.problem)
        assert reading.reason

    @pytest.mark.parametrize("text", ["", "TBD", "n/a", "-"])
    def test_no_date_is_no_problem(self, text):
        """Empty and placeholder cells are simply undated."""
        assert (None, None) == tuple(read_date(text)[:2])

    @pytest.mark.parametrize(
        ("value", "date"),
        [
            ("2026-12-15", dt.date(2026, 12, 15)),
            ("2026-12-15T09:30:00Z", dt.date(2026, 12, 15)),
            ("", None),
            ("tomorrow", None),
            ("2026-13-01", None),
        ],
    )
    def test_time_element_attribute(self, value, date):
        """``<time datetime>`` values, timestamps included."""
        assert date == date_from_attribute(value)


# --- word folding: the quick path for mostly-ASCII text agrees with full folding -------

#: ASCII, the characters the quick path turns into spaces, and characters that compose
#: or decompose under NFKC (combining marks, Hangul jamo, full-width letters, ™).
_FOLD_ALPHABET = st.sampled_from(
    [
        *"aeZ09 _-.,'=<",
        *_SPACE_LIKE.pattern[1:-1].replace("\\", ""),
        *"\u0301\u0308\u0338\u0327\u00e9\u2122\u1100\u1161\uff26\u00bd",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.text(_FOLD_ALPHABET, max_size=12) | st.text(max_size=12))
def test_fold_words_quick_path_agrees_with_nfkc_folding(text):
    assert fold_words(text) == _fold_unicode(text)


def test_every_space_like_character_folds_to_a_word_break_in_any_company():
    chars = _SPACE_LIKE.pattern[1:-1].replace("\\", "")
    assert "\xa0" in chars
    assert "\u2019" in chars
    for char in chars:
        for before, after in (("a", "b"), ("e", "\u0301"), ("=", "\u0338"), ("9", "")):
            text = f"{before}{char}{after}"
            assert fold_words(text) == _fold_unicode(text), repr(text)


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Page the on-call\xa0team at 10\u2019000", "page the on call team at 10 000"),
        ("Café – étape 2", "café étape 2"),
        ("Ｆｕｌｌ width", "full width"),
        ("e\u0301te\u0301", "été"),
    ],
)
def test_fold_words_reads_non_ascii_text(text, folded):
    assert fold_words(text) == folded
