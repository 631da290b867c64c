"""Reading one cell of an import file. Each reader returns the value or raises CellError.

The readers are small and cache-friendly: contact files repeat the same dates, counts and
codes on thousands of rows, so callers keep a dict from cell text to result.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

# Dates before this are taken for typing mistakes, not old records.
EARLIEST_DATE = dt.date(1980, 1, 1)
# The largest count one contact may carry (as in salus.services.actions.ContactServices).
MAX_COUNT = 100_000


class CellError(ValueError):
    """The cell's text is not valid; ``str()`` is a translated message."""


def date(text: str, today: dt.date, *, not_after_today: bool = True) -> dt.date:
    """A date written YYYY-MM-DD, not before 1980 and (by default) not after ``today``."""
    s = text.strip()
    if not s:
        raise CellError(_("a date is needed (YYYY-MM-DD)"))
    try:
        if len(s) != 10 or s[4] != "-" or s[7] != "-":
            raise ValueError
        value = dt.date.fromisoformat(s)
    except ValueError:
        raise CellError(_("%(value)s is not a date written YYYY-MM-DD") % {"value": s}) from None
    if value < EARLIEST_DATE:
        raise CellError(_("%(value)s is before 1980") % {"value": s})
    if not_after_today and value > today:
        raise CellError(_("%(value)s is in the future") % {"value": s})
    return value


def optional_date(text: str, today: dt.date) -> dt.date | None:
    return date(text, today) if text.strip() else None


def count(text: str) -> int:
    """A whole number from 0 to MAX_COUNT; blank is 0."""
    s = text.strip()
    if not s:
        return 0
    if not (s.isascii() and s.isdigit()):
        raise CellError(_("%(value)s is not a whole number, zero or more") % {"value": s})
    value = int(s)
    if value > MAX_COUNT:
        raise CellError(_("%(value)s is too large for one contact") % {"value": s})
    return value


def positive_int(text: str, *, blank_ok: bool = False) -> int | None:
    s = text.strip()
    if not s:
        if blank_ok:
            return None
        raise CellError(_("a number is needed"))
    if not (s.isascii() and s.isdigit()) or int(s) <= 0:
        raise CellError(_("%(value)s is not a whole number above zero") % {"value": s})
    return int(s)


def yes_no(text: str, *, blank: bool | None) -> bool | None:
    """``yes`` or ``no`` (any case); blank gives ``blank``."""
    s = text.strip().lower()
    if s == "yes":
        return True
    if s == "no":
        return False
    if not s:
        return blank
    raise CellError(_("%(value)s is not yes or no") % {"value": text.strip()})


def choice(text: str, values, *, blank_ok: bool) -> str:
    """One of ``values`` exactly (codes are lower case); blank allowed if ``blank_ok``."""
    s = text.strip()
    if not s and blank_ok:
        return ""
    if s in values:
        return s
    raise CellError(
        _("%(value)s is not one of: %(values)s") % {"value": s or '""', "values": ", ".join(values)}
    )


def text(value: str, *, max_length: int, required: bool) -> str:
    s = value.strip()
    if required and not s:
        raise CellError(_("this cell cannot be blank"))
    if len(s) > max_length:
        raise CellError(_("longer than %(n)d characters") % {"n": max_length})
    return s
