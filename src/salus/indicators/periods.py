"""Reporting periods: a calendar year, quarter or month, named the way DHIS2 names them.

``parse_period`` accepts ``2025`` (year), ``2025Q1`` (quarter), ``2025-03`` or ``202503``
(month). A period runs from its first day to its last day inclusive, in the program's time
zone; its census date is the last day (docs/indicators.md).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})$")


class PeriodError(ValueError):
    """The text does not name a year, quarter or month."""


@dataclass(frozen=True)
class Period:
    """A calendar period. ``start`` and ``end`` are both inside it; ``days`` counts both."""

    start: dt.date
    end: dt.date
    label: str  # canonical: "2025", "2025Q1" or "2025-03"
    days: int
    kind: str = "year"  # "year", "quarter" or "month"

    @property
    def census_date(self) -> dt.date:
        """The day on which point-in-time indicators (OST on the census date) are counted."""
        return self.end

    @property
    def dhis2(self) -> str:
        """The DHIS2 period code: ``2025``, ``2025Q1`` or ``202503``."""
        if self.kind == "month":
            return f"{self.start.year}{self.start.month:02d}"
        return self.label

    @property
    def adx(self) -> str:
        """The ADX period: start date and ISO 8601 duration, e.g. ``2025-01-01/P3M``."""
        duration = {"year": "P1Y", "quarter": "P3M", "month": "P1M"}[self.kind]
        return f"{self.start.isoformat()}/{duration}"

    def months(self) -> list[tuple[int, int]]:
        """The calendar months (year, month) in the period, in order."""
        out = []
        y, m = self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def __str__(self) -> str:
        return self.label


def _make(start: dt.date, end: dt.date, label: str, kind: str) -> Period:
    return Period(start=start, end=end, label=label, days=(end - start).days + 1, kind=kind)


def month_period(year: int, month: int) -> Period:
    last = calendar.monthrange(year, month)[1]
    return _make(dt.date(year, month, 1), dt.date(year, month, last), f"{year}-{month:02d}", "month")


def parse_period(text: str) -> Period:
    """Parse ``2025``, ``2025Q1``, ``2025-03`` or ``202503``; raise PeriodError otherwise."""
    text = (text or "").strip()
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return _make(dt.date(year, 1, 1), dt.date(year, 12, 31), str(year), "year")
    if m := _QUARTER.match(text):
        year, q = int(m.group(1)), int(m.group(2))
        first = 3 * (q - 1) + 1
        last_day = calendar.monthrange(year, first + 2)[1]
        return _make(dt.date(year, first, 1), dt.date(year, first + 2, last_day), f"{year}Q{q}", "quarter")
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if 1 <= month <= 12:
            return month_period(year, month)
    raise PeriodError(f"not a period: {text!r} (use 2025, 2025Q1, 2025-03 or 202503)")


def months_between(first: Period, last: Period) -> list[Period]:
    """Every calendar month from the month ``first`` starts in to the month ``last`` ends in."""
    out = []
    y, m = first.start.year, first.start.month
    while (y, m) <= (last.end.year, last.end.month):
        out.append(month_period(y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out
