"""Reading due dates as people write them in table cells. Pure: no clock.

``<time datetime="2026-12-15">`` is the easy case. Written dates are read when they
say the day, the month and the year: ``2026-12-15``, ``Dec 15, 2026``,
``15 December 2026``, ``15-Dec-26``, ``15/12/2026``. A numeric date where both the day
and the month could be either (``03/04/2026``) is ambiguous: it is only read when the
caller says which order the page uses. Without a clock there is no "this year", so a
date without a year (``Dec 15``) is not read.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Literal, NamedTuple

from pmsync._storage.vocabulary import is_placeholder

__all__ = ["DateReading", "date_from_attribute", "read_date"]

DateOrder = Literal["DMY", "MDY"]

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_MONTH_NUMBER = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"""
    \b(?P<iso_y>\d{{4}})[-/.](?P<iso_m>\d{{1,2}})[-/.](?P<iso_d>\d{{1,2}})(?!\d)
    | \b(?P<num_a>\d{{1,2}})(?P<sep>[-/.])(?P<num_b>\d{{1,2}})(?P=sep)
      (?P<num_y>\d{{4}}|\d{{2}})(?!\d)
    | \b(?P<dmy_d>\d{{1,2}}){_ORDINAL}[\s\-./]*(?:of\s+)?(?P<dmy_m>{_MONTHS})\b\.?
      (?:[\s\-./,']*(?P<dmy_y>\d{{4}}|\d{{2}})(?!\d))?
    | \b(?P<mdy_m>{_MONTHS})\b\.?[\s\-./]*(?P<mdy_d>\d{{1,2}}){_ORDINAL}\b
      (?:[\s,\-./]*(?P<mdy_y>\d{{4}})(?!\d))?
    """,
    re.IGNORECASE | re.VERBOSE,
)
_ISO_PREFIX = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_ONLY = re.compile(rf"\b(?:{_MONTHS})\b", re.IGNORECASE)


class DateReading(NamedTuple):
    """What a due-date cell says.

    ``date`` is the date read, or ``None``. ``problem`` is ``None`` when the cell was
    read (or is empty or a placeholder such as ``TBD``), else ``"ambiguous-date"`` or
    ``"unreadable-date"`` with ``reason`` saying why in a few words.
    """

    date: dt.date | None
    problem: Literal["ambiguous-date", "unreadable-date"] | None = None
    reason: str = ""


_NOTHING = DateReading(None)


@functools.lru_cache(maxsize=4096)
def date_from_attribute(value: str | None) -> dt.date | None:
    """The date of a ``<time datetime="...">`` attribute (``2026-12-15``, or a timestamp)."""
    if not value:
        return None
    match = _ISO_PREFIX.match(value)
    if match is None:
        return None
    return _make_date(int(match[1]), int(match[2]), int(match[3]))


def read_date(text: str, date_order: DateOrder | None = None) -> DateReading:
    """Read the first date written in ``text``.

    Returns a :class:`DateReading`; never raises.
    """
    written = " ".join(text.split())
    if not written or is_placeholder(written):
        return _NOTHING
    match = _DATE.search(written)
    if match is None:
        if _MONTH_ONLY.search(written):
            return DateReading(None, "unreadable-date", "it has no day or no year")
        return DateReading(None, "unreadable-date", "it is not a date")
    groups = match.groupdict()
    if groups["iso_y"]:
        return _reading(int(groups["iso_y"]), int(groups["iso_m"]), int(groups["iso_d"]))
    if groups["num_a"]:
        return _numeric(
            int(groups["num_a"]), int(groups["num_b"]), _year(groups["num_y"]), date_order
        )
    if groups["dmy_m"]:
        if not groups["dmy_y"]:
            return DateReading(None, "unreadable-date", "it has no year")
        month = _MONTH_NUMBER[groups["dmy_m"].casefold()]
        return _reading(_year(groups["dmy_y"]), month, int(groups["dmy_d"]))
    if not groups["mdy_y"]:
        return DateReading(None, "unreadable-date", "it has no year")
    month = _MONTH_NUMBER[groups["mdy_m"].casefold()]
    return _reading(int(groups["mdy_y"]), month, int(groups["mdy_d"]))


def _year(digits: str) -> int:
    year = int(digits)
    return 2000 + year if len(digits) == 2 else year


def _numeric(first: int, second: int, year: int, order: DateOrder | None) -> DateReading:
    if first > 12 and second > 12:
        return DateReading(None, "unreadable-date", "it is not a valid date")
    if first > 12 >= second:
        return _reading(year, second, first)
    if second > 12 >= first:
        return _reading(year, first, second)
    if first == second or order == "MDY":
        return _reading(year, first, second)
    if order == "DMY":
        return _reading(year, second, first)
    return DateReading(None, "ambiguous-date", "the day and the month could be either way round")


def _reading(year: int, month: int, day: int) -> DateReading:
    date = _make_date(year, month, day)
    if date is None:
        return DateReading(None, "unreadable-date", "it is not a valid date")
    return DateReading(date)


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None
