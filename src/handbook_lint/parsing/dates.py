"""Dates as Hugo reads them from front matter (spf13/cast's StringToDate
layouts, written as Go layouts), for `date`, `publishDate`, `expiryDate` and
`lastmod`: whether a value is a date Hugo accepts, and as what moment."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone

__all__ = ["date_value", "parse_date"]

# The string layouts of spf13/cast's StringToDate, which Hugo uses for `date`,
# `publishDate`, `expiryDate` and `lastmod`, written as Go layouts. Left out on
# purpose: the time-only layouts (Kitchen "3:04PM" and the Stamp family "Jan _2
# 15:04:05"), which Hugo accepts but turn into a date in year 0.
_GO_LAYOUTS = (
    "2006-01-02T15:04:05Z07:00",  # RFC 3339 (fractional seconds allowed)
    "2006-01-02T15:04:05",  # ISO 8601 without a zone
    "Mon, 02 Jan 2006 15:04:05 -0700",  # RFC 1123 with numeric zone
    "Mon, 02 Jan 2006 15:04:05 MST",  # RFC 1123
    "02 Jan 06 15:04 -0700",  # RFC 822 with numeric zone
    "02 Jan 06 15:04 MST",  # RFC 822
    "Monday, 02-Jan-06 15:04:05 MST",  # RFC 850
    "2006-01-02 15:04:05.999999999 -0700 MST",  # Go's Time.String()
    "2006-01-02T15:04:05-0700",  # RFC 3339 without the colon in the zone
    "2006-01-02 15:04:05Z0700",  # ... and without the T
    "2006-01-02 15:04:05",
    "Mon Jan _2 15:04:05 2006",  # ANSI C
    "Mon Jan _2 15:04:05 MST 2006",  # Unix date
    "Mon Jan 02 15:04:05 -0700 2006",  # Ruby date
    "2006-01-02 15:04:05Z07:00",
    "2006-01-02",
    "02 Jan 2006",
    "2006-01-02 15:04:05 -07:00",
    "2006-01-02 15:04:05 -0700",
)

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LONG_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# Go layout element -> regular expression. Go's parser takes month and day
# names in any case, allows a one-digit hour, and accepts fractional seconds
# right after the seconds even when the layout does not show them.
_GO_ELEMENTS = {
    "January": rf"(?P<month_name>(?i:{'|'.join(_LONG_MONTHS)}))",
    "Monday": rf"(?i:{'|'.join(_LONG_DAYS)})",
    "Jan": rf"(?P<month_name>(?i:{'|'.join(_MONTHS)}))",
    "Mon": rf"(?i:{'|'.join(_DAYS)})",
    "2006": r"(?P<year>\d{4})",
    "Z07:00": r"(?:Z|(?P<zone_hour>[+-]\d{2}):(?P<zone_minute>\d{2}))",
    "Z0700": r"(?:Z|(?P<zone_hour>[+-]\d{2})(?P<zone_minute>\d{2}))",
    "-07:00": r"(?P<zone_hour>[+-]\d{2}):(?P<zone_minute>\d{2})",
    "-0700": r"(?P<zone_hour>[+-]\d{2})(?P<zone_minute>\d{2})",
    ".999999999": "",  # covered by the optional fraction after "05"
    "MST": r"(?:[A-Z]{3}|[A-Z]{3,4}T|ChST|MeST|GMT[+-]\d{1,2})",
    "06": r"(?P<short_year>\d{2})",
    "01": r"(?P<month>\d{2})",
    "02": r"(?P<day>\d{2})",
    "_2": r" ?(?P<day>\d{1,2})",
    "15": r"(?P<hour>\d{1,2})",
    "04": r"(?P<minute>\d{2})",
    "05": r"(?P<second>\d{2})(?:[.,]\d+)?",
}
_GO_ELEMENT = re.compile(
    "|".join(re.escape(e) for e in sorted(_GO_ELEMENTS, key=len, reverse=True))
)


@functools.cache
def _layout_pattern(layout: str) -> re.Pattern[str]:
    parts: list[str] = []
    pos = 0
    for found in _GO_ELEMENT.finditer(layout):
        parts.append(_literal(layout[pos : found.start()]))
        parts.append(_GO_ELEMENTS[found[0]])
        pos = found.end()
    parts.append(_literal(layout[pos:]))
    return re.compile("".join(parts))


def _literal(text: str) -> str:
    # A run of spaces in a Go layout matches one or more spaces.
    return " +".join(re.escape(piece) for piece in re.split(r" +", text))


def _date_patterns() -> Iterator[re.Pattern[str]]:
    """The layouts' patterns in order, each compiled when first tried (all 19
    take 8 ms; most dates are YAML dates, or RFC 3339, the first)."""
    for layout in _GO_LAYOUTS:
        yield _layout_pattern(layout)


_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_date(value: object) -> bool:
    """Whether Hugo can read ``value`` as a front matter date.

    True for ``datetime.date`` and ``datetime.datetime`` values (what YAML and
    TOML dates load as) and for strings in one of the layouts of
    ``_GO_LAYOUTS``: RFC 3339 (``2024-01-02T15:04:05Z``,
    ``2024-01-02T15:04:05.123+07:00``), ``2024-01-02``, ``2024-01-02T15:04:05``,
    ``2024-01-02 15:04:05`` with or without a ``Z``, ``+07:00``, ``-0700`` or
    `` -0700 MST`` zone, RFC 822/850/1123 (``02 Jan 06 15:04 MST``,
    ``Mon, 02 Jan 2006 15:04:05 -0700``), ANSI C, Unix and Ruby dates, and
    ``02 Jan 2006``. Fields are range-checked as Go does (month 1-12, a day
    that exists in that month, hour 0-23, minute and second 0-59).

    False for everything else, including ``datetime.time`` (a TOML local
    time), numbers (which Hugo would read as Unix seconds, almost never what
    an author meant), time-only strings such as ``3:04PM``, and strings with
    leading or trailing spaces.
    """
    if isinstance(value, date):  # datetime is a subclass of date
        return True
    if not isinstance(value, str) or not value or len(value) > 64:
        return False
    for pattern in _date_patterns():
        found = pattern.fullmatch(value)
        if found is not None and _fields_in_range(found.groupdict()):
            return True
    return False


def date_value(value: object) -> datetime | None:
    """The moment a front matter date stands for (naive times are UTC, as Hugo
    reads them without a timezone setting), or None when Hugo cannot read it."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    for pattern in _date_patterns():
        found = pattern.fullmatch(value)
        if found is None or not _fields_in_range(found.groupdict()):
            continue
        fields = found.groupdict()
        year, month = _year_month(fields)
        offset = 0
        if fields.get("zone_hour") is not None:
            hours = int(fields["zone_hour"] or 0)
            minutes = int(fields.get("zone_minute") or 0)
            offset = hours * 60 + (minutes if hours >= 0 else -minutes)
        return datetime(
            year,
            month,
            int(fields.get("day") or 1),
            int(fields.get("hour") or 0),
            int(fields.get("minute") or 0),
            int(fields.get("second") or 0),
            tzinfo=timezone(timedelta(minutes=offset)),
        )
    return None


def _year_month(fields: dict[str, str | None]) -> tuple[int, int]:
    if fields.get("year") is not None:
        year = int(fields["year"] or 0)
    else:
        short = int(fields.get("short_year") or 0)
        year = short + (1900 if short >= 69 else 2000)
    if fields.get("month") is not None:
        return year, int(fields["month"] or 0)
    name = (fields.get("month_name") or "").lower()
    return year, (_LONG_MONTHS.index(name) if name in _LONG_MONTHS else _MONTHS.index(name)) + 1


def _fields_in_range(fields: dict[str, str | None]) -> bool:
    year, month = _year_month(fields)
    if not 1 <= month <= 12:
        return False
    days = _DAYS_IN_MONTH[month - 1]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        days = 29
    checks = (
        (fields.get("day"), 1, days),
        (fields.get("hour"), 0, 23),
        (fields.get("minute"), 0, 59),
        (fields.get("second"), 0, 59),
        (fields.get("zone_hour"), -24, 24),
        (fields.get("zone_minute"), 0, 60),
    )
    return all(raw is None or low <= int(raw) <= high for raw, low, high in checks)
