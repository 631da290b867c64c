"""Indicator cells as they leave the system: suppressed against every period they could meet.

A page, a printed report or an export shows one period of one place, and
salus.indicators.suppression protects its small cells within it. But a reader can open
several: for a count that adds up over time (catalogue ``adds_over_time``: tests, contacts,
new clients...), a month hidden on one page is the quarter on another page minus the two
other months on a third. So the cells such a count hides are chosen once for each calendar
year, place and indicator, from one table: the year's months as the engine counts them, each
quarter and the year as the sums of their months, with the groups within each period and the
sums across periods (the *year's pattern*). A published cell of such a count is hidden
exactly when the pattern hides it, the pattern being made with the published period's own
numbers in its place. Other counts (unique clients, people on OST on a day) do not add up over
time and keep their own period's suppression.

The pattern depends on the year's numbers only, not on which period was asked for: pages
read at the same time agree with each other, and none undoes another. Numbers recorded later
change it, as they change the numbers themselves.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict

from salus.indicators.periods import Period, parse_period
from salus.indicators.suppression import (
    COUNT_FIELDS,
    adds_over_time,
    hide,
    suppress_groups,
    with_quarters_and_year,
)

# How long the web app keeps a year's unsuppressed month cells (per place and indicators) for
# the next page; exports and the command line always count afresh. Pages say figures may be
# this old (as the dashboard's trend, which keeps its months as long).
YEAR_CACHE_SECONDS = 600


def suppressed_indicators(period: str | Period, area: str | None = None, site: str | None = None,
                          as_of: dt.date | None = None, codes: list[str] | None = None, *,
                          disaggregate: bool = True, threshold: int | None = None,
                          cached: bool = False) -> list[dict]:
    """:func:`salus.indicators.engine.compute_indicators`, suppressed for release.

    Cells are always computed with their breakdowns (a total may be hidden to protect one of
    them, and a page of totals must hide it too); ``disaggregate=False`` returns the totals.
    """
    from salus.indicators.engine import compute_indicators

    cells = compute_indicators(period, area=area, site=site, as_of=as_of, codes=codes, disaggregate=True)
    out = suppress_released(cells, area=area, site=site, threshold=threshold, cached=cached)
    return out if disaggregate else [c for c in out if not c.get("disaggregation")]


def suppress_released(cells: list[dict], *, area: str | None, site: str | None,
                      threshold: int | None = None, cached: bool = False) -> list[dict]:
    """Copies of ``cells`` (the engine's, of the place ``area`` / ``site``, with every breakdown
    of their periods) with what must not leave the system hidden.

    A count that adds up over time hides what the year's pattern hides, the pattern being
    made with these cells' own numbers in their periods' places (so that it answers for the
    numbers shown, even when the months kept for the web app are a few minutes old); any
    other count, what its own period's suppression hides.
    """
    if threshold is None:
        from salus.core.config import program_config

        threshold = program_config().suppression_threshold

    def linked(c: dict) -> bool:
        return threshold > 1 and adds_over_time(c) and bool(c.get("period"))

    # Each period's own suppression for the other counts, in the order the cells came.
    own = iter(suppress_groups([c for c in cells if not linked(c)], threshold))
    by_year: dict[int, list[dict]] = defaultdict(list)
    for c in cells:
        if linked(c):
            by_year[parse_period(str(c["period"])).start.year].append(c)
    pattern: dict[tuple, set[str]] = {}
    for year, given in by_year.items():
        months = year_month_cells(year, sorted({c["code"] for c in given}), area=area, site=site, cached=cached)
        pattern |= pattern_of_year(months, given, threshold)
    out = []
    for c in cells:
        if not linked(c):
            out.append(next(own))
            continue
        c = dict(c, suppressed=bool(c.get("suppressed")))
        for field in pattern.get(_key(c), ()):
            hide(c, field)
        out.append(c)
    return out


def pattern_of_year(months: list[dict], given: list[dict], threshold: int) -> dict[tuple, set[str]]:
    """The year's pattern, ``(code, period, disaggregation) -> count fields hidden``, for the
    month cells ``months`` (of one calendar year and place, each month with every
    breakdown), their quarters and their year.

    Quarters and the year are the sums of their months, but for the cells of ``given``, which
    take the place of the month, quarter or year cells of the same period (and months of
    ``given`` are summed instead of those of ``months``).
    """
    table: dict[tuple, dict] = {_key(c): c for c in months}
    for c in given:
        if parse_period(str(c["period"])).kind == "month":
            table[_key(c)] = c
    table = {_key(c): c for c in with_quarters_and_year(list(table.values()), COUNT_FIELDS)}
    for c in given:
        if parse_period(str(c["period"])).kind != "month":
            table[_key(c)] = c
    cells = list(table.values())
    pattern: dict[tuple, set[str]] = {}
    for before, after in zip(cells, suppress_groups(cells, threshold), strict=True):
        fields = {f for f in COUNT_FIELDS if before.get(f) is not None and after.get(f) is None}
        if fields:
            pattern[_key(before)] = fields
    return pattern


def year_month_cells(year: int, codes: list[str], *, area: str | None, site: str | None,
                     cached: bool = False) -> list[dict]:
    """The engine's unsuppressed cells, with every breakdown, of ``codes`` for each month of
    ``year`` that has started (salus.indicators.engine.monthly_trend)."""
    from django.core.cache import cache

    from salus.indicators import engine

    # Hashed: a key names every code, longer than some cache back ends take.
    key = "salus-release-year:" + hashlib.sha256(
        "\0".join([str(year), area or "", site or "", *codes]).encode()).hexdigest()
    if cached:
        cells = cache.get(key)
        if cells is not None:
            return cells
    # The counts the trend makes in one pass, then the others (month by month): asked
    # together, every code would go month by month.
    one_pass = [c for c in codes if engine.trend_in_one_pass(c)]
    cells = []
    for group in (one_pass, [c for c in codes if c not in one_pass]):
        if group:
            cells += engine.monthly_trend(group, f"{year}-01", f"{year}-12", area=area, site=site,
                                          disaggregate=True)
    if cached:
        cache.set(key, cells, YEAR_CACHE_SECONDS)
    return cells


def _freeze(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def _key(cell: dict) -> tuple:
    return (cell.get("code"), str(cell.get("period")), _freeze(cell.get("disaggregation") or {}))
