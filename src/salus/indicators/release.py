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

The same counts also add up across places: a site's total is the same number on its own page,
on its area's and on the program's, and an area's total is the sum of its sites'. So the
totals of every place (the program, every area at every level, every site) in every period of
the year are one more table, solved once for the whole tree (:func:`place_pattern`); a page
then holds its place totals (its own total, its area and site cells) as that table settled
them, and protects its breakdowns around them.

Breakdowns by sex and age add up across places too (an area's women are the sum of its sites'
women, each on the site's page), but the tree's places × breakdowns × periods are too many
cells to solve as one table. For a program small enough, they are solved in parts (each place
with the places just below it, holding what the place table settled for the totals), then
every cell of every page is audited together, over each site's count of each sex and age band
in each month (:class:`_WholeTree`), and whatever it finds pinned down gets more cells hidden
(:func:`breakdown_pattern`). A count the audit cannot take (too many unknowns) hides instead a
box of cells around each of its small cells and each place total the place table hides, over
every place and period (salus.indicators.boxes), and nothing else: whatever else the pages
show, none of its hidden cells can be worked out from them. Either way a page holds its
breakdowns as that settled them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
from collections import Counter, defaultdict, deque

from salus.indicators.periods import Period, parse_period
from salus.indicators.suppression import (
    COUNT_FIELDS,
    HELD,
    adds_over_time,
    complement,
    first_hidden,
    forced_zeros,
    groups_of,
    hide,
    one_valued,
    protect,
    quarter_and_year,
    smallest_shown,
    suppress_groups,
    whole_number_fixed,
    with_quarters_and_year,
)

logger = logging.getLogger(__name__)

# The audit of all pages together (rule 8, breakdown_pattern) runs when the year has at most
# AUDIT_FINE_LIMIT fine cells (sites x months x 12 sex and age cells: the demo's 8 sites make
# 1,152, the benchmark's national program of 200 sites 28,800; no larger tree was measured),
# and gives up on a count when more than AUDIT_UNKNOWN_LIMIT of them (or the program's
# suppression_audit_limit: audit_unknown_limit) are hidden on their sites' pages (the
# reader's unknowns): each round of the audit solves them together, at a cost that grows with
# the cube of their number. The demo has at most 206 for a count. A count given up hides
# the boxes of rule 9 instead. Measured
# (docs/indicators.md, rule 8, "Less arithmetic per round"): 12 sites and 150,000 contacts have up to 1,084; at 16 sites
# the four largest counts have 1,277 to 1,402, and all 13 are audited in about 24 s a page
# (9 in about 9.5 s at 1,200); at 20 sites 9 are audited (all 13 only at 2,400, 39 s a page),
# at 40 sites 5, at 200 sites and 1 M contacts 2.
AUDIT_FINE_LIMIT = 30_000
AUDIT_UNKNOWN_LIMIT = 1_600
# The audit's round with whole numbers (_WholeTree._whole_number_picks) runs for a count only
# while at most this many unknown fine cells are in a shown cell's equation: its mixed-integer
# programs take about 10 ms each at the demo's 258 (its most) and 40 ms at 200, but about
# 1.2 s at 370 to 390 and 2 to 3 s at about 1,000 (the 12- and 16-site benchmark programs,
# whose pages took 24 s rather than 13 s with a limit of 400, and 240 and 346 s rather than
# 16 and 9 s with none).
WHOLE_NUMBER_UNKNOWN_LIMIT = 300

# How long the web app keeps a year's unsuppressed month cells (per place and indicators) for
# the next page; exports and the command line always count afresh. Pages say figures may be
# this old (as the dashboard's trend, which keeps its months as long).
YEAR_CACHE_SECONDS = 600
# How long it keeps what is worked out from numbers (boxes, audits, a year's pattern), under a
# key naming every number it was worked out from: such an answer cannot go stale, and a year
# whose numbers did not change (a past quarter's report) need not be worked out again when
# its months are counted again. Erasing records empties the cache (salus.core.retention).
ANSWER_CACHE_SECONDS = 8 * 3600
# The audits and boxes of a year are worked out side by side on the cores (salus.core.spread)
# when they hold at least this many hidden (audits) or small (boxes) cells in all: a national
# year's audits (26,800 hidden cells at 1 M contacts) take about 7 s on one core, the demo's
# (10,000) about 1 s, where starting a process costs about 0.1 s.
SPREAD_FROM = 20_000


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
    own = iter(suppress_groups([c for c in cells if not linked(c)], threshold, solve=_table_solver(cached)))
    by_year: dict[int, list[dict]] = defaultdict(list)
    for c in cells:
        if linked(c):
            by_year[parse_period(str(c["period"])).start.year].append(c)
    pattern: dict[tuple, set[str]] = {}
    for year, given in by_year.items():
        # Every count that adds up over time, not only this page's: a count's pattern hangs on
        # the counts it is at most (they are boxed and audited as one chain), so a page of a
        # few indicators (a DHIS2 export's mapped codes, the dashboard's trends) must hide
        # what the whole indicators page hides, or the two together would give it away.
        codes = sorted({c["code"] for c in given} | linked_codes())
        program, fine, program_name = year_months(year, codes, area=None, site=None, cached=cached)
        if area is None and site is None:
            months, months_name = program, program_name
        else:
            months, _fine, months_name = year_months(year, codes, area=area, site=site, cached=cached)

        def year_pattern(program=program, fine=fine, months=months, given=given) -> dict[tuple, set[str]]:
            places = place_pattern(program, given, threshold, cached=cached, fine=fine)
            return pattern_of_year(months, given, threshold, places, cached=cached)

        if cached:
            # The pattern depends on the months (named by a digest of their numbers), this
            # page's cells of the year, the threshold and the audit's limit: a page or
            # dashboard of the same numbers asks again (the web app), and its own check of the
            # year's table alone takes seconds in a national program.
            pattern |= _kept("year-pattern", (program_name, months_name, threshold, audit_unknown_limit(),
                                              _cells_digest(given)), year_pattern)
        else:
            pattern |= year_pattern()
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


def linked_codes() -> set[str]:
    """The codes of the catalogue whose counts add up over time: the counts of every year's
    pattern, whichever of them a page shows."""
    from salus.indicators import catalogue

    return {ind.code for ind in catalogue.CATALOGUE if ind.adds_over_time}


def pattern_of_year(months: list[dict], given: list[dict], threshold: int,
                    places: dict[tuple, dict[str, bool]] | None = None, *,
                    cached: bool = False) -> dict[tuple, set[str]]:
    """The year's pattern, ``(code, period, disaggregation) -> count fields hidden``, for the
    month cells ``months`` (of one calendar year and place, each month with every
    breakdown), their quarters and their year.

    Quarters and the year are the sums of their months, but for the cells of ``given``, which
    take the place of the month, quarter or year cells of the same period (and months of
    ``given`` are summed instead of those of ``months``). With ``places``
    (:func:`place_pattern`), the place totals of the table, and its breakdowns by sex and
    age when it settled them, are held as it did. With ``cached`` (the web app), each
    table's answer is kept (:func:`_table_solver`).
    """
    table: dict[tuple, dict] = {_key(c): c for c in months}
    for c in given:
        if parse_period(str(c["period"])).kind == "month":
            table[_key(c)] = c
    table = {_key(c): c for c in with_quarters_and_year(list(table.values()), COUNT_FIELDS)}
    for c in given:
        if parse_period(str(c["period"])).kind != "month":
            table[_key(c)] = c
    # Copies: the month cells may be the web app's kept ones, and a cell's hold is this table's.
    cells = [dict(c) for c in table.values()]
    if places:
        _hold_linked(cells, places)
    pattern: dict[tuple, set[str]] = {}
    for before, after in zip(cells, suppress_groups(cells, threshold, solve=_table_solver(cached)), strict=True):
        fields = {f for f in COUNT_FIELDS if before.get(f) is not None and after.get(f) is None}
        if fields:
            pattern[_key(before)] = fields
    return pattern


def place_fields(code: str) -> tuple[str, ...]:
    """The count fields of ``code`` that add up across places as they do over time: events are
    counted at the site where they happened, so a place's count is the sum of its sites'.
    ``NSP_SYRINGES_PER_PWID`` counts its people once per place, not once per site.
    ``NEW_CLIENTS`` counts each new client at the site of their first-ever contact, on every
    page (salus.indicators.engine._Computation.first_sites)."""
    return ("numerator",) if code == "NSP_SYRINGES_PER_PWID" else COUNT_FIELDS


def place_pattern(program_months: list[dict], given: list[dict], threshold: int,
                  cached: bool = False, fine: dict[str, dict[tuple, dict[str, int]]] | None = None
                  ) -> dict[tuple, dict[str, bool]]:
    """Which place totals are hidden, ``(code, period, sites, ()) -> {field: hidden}``, ``sites``
    being the frozenset of the place's site codes (places with the same sites are one).
    With ``fine`` (the same months' sums per site, sex and age band, as
    salus.indicators.engine.monthly_trend gives them), also which breakdowns by sex and age of
    every place are hidden, ``(code, period, sites, breakdown) -> {field: hidden}``
    (:func:`breakdown_pattern`).

    ``program_months`` are the whole program's month cells of one calendar year, with their
    site cells. A place is the program, an area at any level, or a site; its total in a month
    is the sum of its sites'. One table per code and field: every place's total in every month,
    quarter and the year, with each place the sum of the places just below it and each quarter
    and the year the sums of their months and quarters; the rules of
    salus.indicators.suppression run on it. The place totals of ``given`` (one page's cells of
    one place) take the place of the same totals made from the months. With ``cached`` (the
    web app), each table's answer is kept as long as the months are, under a key made of
    every number in it, so that pages of the same numbers solve it once.
    """
    site_area: dict[str, str] = {}
    counts: dict[tuple[str, str, str], dict[str, float | None]] = {}
    for c in program_months:
        dis = c.get("disaggregation") or {}
        if set(dis) == {"area", "site"} and adds_over_time(c):
            site_area[dis["site"]] = dis["area"]
            counts[(c["code"], str(c["period"]), dis["site"])] = {f: c.get(f) for f in place_fields(c["code"])}
    if not site_area:
        return {}
    tree = _place_tree(site_area)
    page_sites = frozenset(_site_areas(given))
    out: dict[tuple, dict[str, bool]] = {}
    for code in sorted({code for code, _m, _s in counts}):
        # Each period with the months it covers, and with the periods it is the sum of.
        months = sorted({m for c, m, _s in counts if c == code})
        periods: dict[str, list[str]] = {m: [m] for m in months}
        parts: dict[str, set[str]] = defaultdict(set)
        for m in months:
            quarter, year = quarter_and_year(m)
            for period in (quarter, year):
                periods.setdefault(period, []).append(m)
            parts[quarter].add(m)
            parts[year].add(quarter)
        keys = [(period, place) for period in sorted(periods) for place in tree]
        index = {k: i for i, k in enumerate(keys)}
        eqs = []
        for period in periods:
            for place, below in tree.items():
                if len(below) > 1:
                    eqs.append((index[(period, place)], [index[(period, b)] for b in below]))
            if parts[period]:
                for place in tree:
                    eqs.append((index[(period, place)], [index[(p, place)] for p in sorted(parts[period])]))
        own = {(str(c["period"]), place): c for c in given if c.get("code") == code
               for place in [_place_of(c, page_sites, site_area)] if place is not None}
        for field in place_fields(code):
            values: list[float] = []
            for period, place in keys:
                if (period, place) in own and own[(period, place)].get(field) is not None:
                    values.append(float(own[(period, place)][field]))
                    continue
                numbers = [counts.get((code, m, s), {}).get(field) for m in periods[period] for s in place]
                if any(n is None for n in numbers):
                    break  # the code has no such count (a count's denominator)
                values.append(float(sum(n for n in numbers if n is not None)))
            else:
                hidden = _table_answer(protect, values, threshold, eqs, cached=cached)
                for i, (period, place) in enumerate(keys):
                    out.setdefault((code, period, place, ()), {})[field] = i in hidden
    if fine is not None:
        codes = sorted({code for code, _m, _s in counts})
        # Field by field: a box (breakdown_pattern's boxes) can hide a place total this table shows.
        for key, fields in breakdown_pattern(fine, codes, tree, out, threshold, cached).items():
            out.setdefault(key, {}).update(fields)
    return out


def _breakdowns() -> list[tuple]:
    """A place's total and breakdowns by sex and age, as frozen disaggregations."""
    from salus.indicators.engine import AGE_BANDS, SEXES

    return [(), *((("sex", s),) for s in SEXES), *((("age", a),) for a in AGE_BANDS),
            *((("age", a), ("sex", s)) for s in SEXES for a in AGE_BANDS)]


def breakdown_pattern(fine: dict[str, dict[tuple, dict[str, int]]], codes: list[str],
                      tree: dict[frozenset[str], list[frozenset[str]]], totals: dict[tuple, dict[str, bool]],
                      threshold: int, cached: bool = False) -> dict[tuple, dict[str, bool]]:
    """Which breakdowns by sex and age of the places of ``tree`` are hidden, ``(code, period,
    place, breakdown) -> {field: hidden}``, for the counts that add up across places. The
    answer depends on the whole program's numbers alone, not on the page asking, so every
    page of the year hides the same cells.

    ``fine`` holds one calendar year's months: ``fine[month][(sex, age band, area, site)]``,
    each measure's count.

    In a year of at most AUDIT_FINE_LIMIT fine cells, each count the audit of all pages together
    can take (rule 8) is solved in parts first: each place with the places just below it (a
    *part*) is one table of the count's breakdowns (and total) in every month, quarter and the
    year, with the groups within a period, the sums over periods and each breakdown of the
    place the sum of the same breakdown of the places below; the place totals are held as
    ``totals`` (:func:`place_pattern`) settled them, the upper place's breakdowns as the part
    above settled them, and each part keeps its small cells and their complements only. Then
    the audit of all pages together (:meth:`_WholeTree.audited`). Counts each part of the next
    in every fine cell (engine.PART_OF and ONE_PER_CONTACT: positive results, results given,
    contacts), those audited, are checked again as one chain (:func:`_audited_together`);
    every indicator of a count hides what that settles for it.

    A count the audit gives up on (:func:`audit_unknown_limit`), or would give up on before
    its first round (:func:`_sure_to_give_up`), and every count of a larger year, hides a box
    of cells around each of its small cells and each place total ``totals`` hides, in every
    place (rule 9, :func:`_box_small_cells`), and nothing else: its other breakdowns are
    settled as shown.
    """
    import numpy as np

    from salus.indicators.engine import AGE_BANDS, MEASURES, ONE_PER_CONTACT, PART_OF, SEXES

    months = sorted(fine)
    if not months or not tree:
        return {}
    root = next(iter(tree))
    if not tree[root]:
        return {}  # a program of one site: no breakdown of another place adds up to its own

    sites = sorted(root)
    site_ix = {s: i for i, s in enumerate(sites)}
    sex_ix = {s: i for i, s in enumerate(SEXES)}
    age_ix = {a: i for i, a in enumerate(AGE_BANDS)}
    # (code, count field, measure) of the counts that add up across places.
    linked = [(code, field, measure) for code in codes
              for field, measure in zip(("numerator", "denominator"), MEASURES[code], strict=True)
              if measure is not None and field in place_fields(code)]
    measures = {measure for _code, _field, measure in linked}
    counts = {m: np.zeros((len(sites), len(months), len(SEXES), len(AGE_BANDS))) for m in measures}
    for j, month in enumerate(months):
        for (sex, band, _area, site), numbers in fine[month].items():
            if site in site_ix and sex in sex_ix and band in age_ix:
                for m, n in numbers.items():
                    if m in counts:
                        counts[m][site_ix[site], j, sex_ix[sex], age_ix[band]] += n
    # Each period with the months it covers and the periods it is the sum of.
    periods: dict[str, list[int]] = {m: [j] for j, m in enumerate(months)}
    parts: dict[str, list[str]] = defaultdict(list)
    for j, m in enumerate(months):
        quarter, year = quarter_and_year(m)
        for period in (quarter, year):
            periods.setdefault(period, []).append(j)
        parts[quarter].append(m)
        if quarter not in parts[year]:
            parts[year].append(quarter)
    breakdowns = _breakdowns()

    def cells(numbers) -> list[float]:
        """A place's breakdowns in one period, in ``breakdowns`` order, from its sex x age sums."""
        return [float(numbers.sum()), *map(float, numbers.sum(axis=1)), *map(float, numbers.sum(axis=0)),
                *(float(numbers[i, k]) for i in range(len(SEXES)) for k in range(len(AGE_BANDS)))]

    out: dict[tuple, dict[str, bool]] = {}
    part_values: dict[tuple[str, frozenset[str]], list[float]] = {}
    fine_hidden: Counter[tuple[str, str]] = Counter()  # (code, field) -> fine cells the parts hide
    month_labels = set(months)

    def numbers_of(measure: str, head: frozenset[str]) -> list[float]:
        """The part of ``head``'s cells of ``measure``, in its keys' order. Made once: a measure
        is often several indicators' count."""
        if (measure, head) not in part_values:
            values: list[float] = []
            for place in [head, *tree[head]]:
                by_month = counts[measure][[site_ix[s] for s in sorted(place)]].sum(axis=0)
                for period in periods:
                    values += cells(by_month[periods[period]].sum(axis=0))
            part_values[measure, head] = values
        return part_values[measure, head]

    def solve(which: set[tuple[str, str]]) -> None:
        """Solve every part for the (code, field) pairs ``which``, as the first step of the
        audit of all pages together: a part keeps its small cells and their complements only
        (the audit does the part's own audit's work, and more)."""
        for head in [place for place in tree if tree[place]]:
            places = [head, *tree[head]]
            keys = [(place, period, b) for place in places for period in periods for b in breakdowns]
            index = {k: i for i, k in enumerate(keys)}
            eqs = _part_equations(index, places, periods, parts, breakdowns)
            fine_keys = [i for i, key in enumerate(keys) if key[0] != head and _is_fine(key, month_labels)]
            for code, field, measure in linked:
                if (code, field) not in which:
                    continue
                values = numbers_of(measure, head)
                held_hidden: set[int] = set()
                held_shown: set[int] = set()
                for i, (place, period, b) in enumerate(keys):
                    held = (totals if not b else out).get((code, period, place, b), {}).get(field)
                    if held is not None and (not b or place == head):
                        (held_hidden if held else held_shown).add(i)
                hidden = _table_answer(first_hidden, values, threshold, eqs, cached=cached,
                                       held_hidden=held_hidden, held_shown=held_shown)
                fine_hidden[code, field] += sum(1 for i in fine_keys if i in hidden)
                for i, (place, period, b) in enumerate(keys):
                    if b and (place != head or head == root):
                        out.setdefault((code, period, place, b), {})[field] = i in hidden

    # A small fine cell (a site's count of one sex and age band in one month) is hidden on its
    # site's page whatever else is: a count with too many of them is past the audit at once.
    auditable = set() if len(sites) * len(months) * len(SEXES) * len(AGE_BANDS) > AUDIT_FINE_LIMIT else {
        (code, field) for code, field, measure in linked
        if not _sure_to_give_up(int(((counts[measure] > 0) & (counts[measure] < threshold)).sum()))}
    fields_of: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for code, field, measure in linked:
        fields_of[measure].append((code, field))
    if not auditable:
        _box_small_cells(out, totals, linked, counts, tree, periods, parts, months, threshold, cached, fields_of)
        return out
    # The audit of all pages together needs every part.
    solve(auditable)
    # The fine cells the parts hide are hidden on their sites' pages too, whatever the audit
    # adds: a count whose parts hide too many of them is past the audit as well.
    auditable = {pair for pair in auditable if not _sure_to_give_up(fine_hidden[pair])}
    whole = _WholeTree(tree, periods, parts, breakdowns, sites, months, SEXES, AGE_BANDS) if auditable else None
    given_up: set[tuple[str, str]] = set()

    def zero_of(measure: str):
        """The fine cells a reader knows ``measure`` to be zero in from another count (and it
        is): a result is given at a contact, and a new client counted in the cell of their
        first contact, so none where a site had no contact of a sex and age band in a month
        (nor a positive result). None when the contacts are not counted."""
        if PART_OF.get(measure, measure) not in ONE_PER_CONTACT or "contacts" not in counts:
            return None
        return (counts["contacts"] == 0).ravel() & (counts[measure] == 0).ravel()

    # One count is often several indicators' (syringes given are three's): the same numbers
    # with the same cells hidden are audited once.
    asks: dict[tuple[str, str], tuple] = {}  # (code, field) -> what its audit is asked
    audits: dict[tuple, tuple] = {}  # asked -> (values, hidden, zero)
    for code, field, measure in linked:
        if whole is None or (code, field) not in auditable:
            continue
        values = whole.values(counts[measure])
        hidden = {i for i, (place, period, b) in enumerate(whole.keys)
                  if (totals if not b else out).get((code, period, place, b), {}).get(field)}
        asked = (tuple(values), tuple(sorted(hidden)))
        asks[code, field] = asked
        audits.setdefault(asked, (values, hidden, zero_of(measure)))
    answers = _audits(whole, audits, cached) if whole is not None else {}
    before: dict[tuple[str, str], set[int]] = {}  # (code, field) -> hidden before the audit
    after: dict[tuple[str, str], set[int]] = {}  # and after it
    for code, field, _measure in linked:
        if (code, field) not in asks:
            given_up.add((code, field))
            continue
        asked = asks[code, field]
        hidden = audits[asked][1]
        audited = answers[asked]
        if audited is None:
            given_up.add((code, field))
            continue
        before[code, field], after[code, field] = hidden, audited
    if whole is not None:
        # A count that is part of another (positive results of results given, engine.PART_OF;
        # results and new clients of the contacts, engine.ONE_PER_CONTACT): the counts from a
        # smallest one up to the contacts are audited again as one chain (positives, results,
        # contacts: a reader can use both bounds on the results at once). A count can be in
        # several chains (the contacts: in the results' and the new clients'), and a chain's
        # check can hide more of it, which the others have not seen: the chains are checked in
        # turn until none hides more. A count the audit gave up is left out of its chain (each
        # is at most the next all the same).
        audited_measures = {measure for c, f, measure in linked if (c, f) in after}

        chains: list[list[str]] = []
        for leaf in sorted(set(PART_OF) | set(ONE_PER_CONTACT)):
            if leaf in PART_OF.values():
                continue  # not the smallest of its chain
            chain: list[str] = []
            step: str | None = leaf
            while step is not None:
                if step in audited_measures and all(m in after for m in fields_of[step]):
                    chain.append(step)
                step = _at_most(step)
            if len(chain) > 1:
                chains.append(chain)
        checked: dict[tuple[str, ...], tuple[frozenset[int], ...]] = {}
        while True:
            more = False
            for chain in chains:
                members = [fields_of[measure] for measure in chain]
                asked_cells = tuple(frozenset().union(*(after[m] for m in group)) for group in members)
                if checked.get(tuple(chain)) == asked_cells:
                    continue  # nothing hidden since this chain's last check
                # Each count's cells come from its own audit when its indicators agree (the same
                # numbers and cells, as they do): that audit need not run again first.
                agree = [len({frozenset(after[m]) for m in group}) == 1 for group in members]
                together = _audited_together(whole, [counts[m] for m in chain], [set(c) for c in asked_cells], cached,
                                             [zero_of(m) for m in chain], agree)
                if together is None:
                    checked[tuple(chain)] = asked_cells
                    continue
                for group, hidden in zip(members, together, strict=True):
                    for member in group:
                        after[member] = hidden
                checked[tuple(chain)] = tuple(frozenset(h) for h in together)
                more = more or checked[tuple(chain)] != asked_cells
            if not more:
                break
        for (code, field), audited in after.items():
            for i in audited - before[code, field]:
                place, period, b = whole.keys[i]
                key = (code, period, place, b)
                out[key] = {**totals.get(key, {}), **out.get(key, {}), field: True}
    if given_up:
        # The parts of these were not audited: their cells are what the boxes hide, alone.
        for key in [key for key in out if key[3] and any((key[0], f) in given_up for f in out[key])]:
            out[key] = {f: h for f, h in out[key].items() if (key[0], f) not in given_up}
            if not out[key]:
                del out[key]
        _box_small_cells(out, totals, [(c, f, m) for c, f, m in linked if (c, f) in given_up], counts, tree,
                         periods, parts, months, threshold, cached, fields_of)
    return out


def _box_small_cells(out: dict[tuple, dict[str, bool]], totals: dict[tuple, dict[str, bool]],
                     linked: list[tuple[str, str, str]], counts: dict, tree: dict[frozenset[str], list[frozenset[str]]],
                     periods: dict[str, list[int]], parts: dict[str, list[str]], months: list[str],
                     threshold: int, cached: bool, fields_of: dict[str, list[tuple[str, str]]]) -> None:
    """Hide, in ``out``, a box of cells around every small cell of the counts ``linked`` ((code,
    field, measure), those the audit of all pages together did not take: salus.indicators.boxes)
    and around every place total ``totals`` hides of them, over every place of the tree, in
    every period of the year, so that no hidden cell of them can be worked out from all the
    pages of the year together; and settle every other breakdown as shown, so that no page
    hides cells of its own. The place totals a box hides are put in ``out`` too, with an empty
    breakdown: :func:`place_pattern` adds them to its own.

    A small cell whose every box would take its count past the count it is at most (results
    past the contacts) gets a box that moves the counts above it too, the fewest that serve
    (:func:`boxes.boxes`' ``together``): its cells are hidden in every indicator of those
    counts as well (``fields_of``: each measure's ``(code, field)``, every count's, audited or
    not).

    Every page computes the same boxes from the same numbers (they depend on the whole
    program's months and on the place totals' table alone, not on the page), so a cell a box
    hides is hidden on every page that shows it.
    """
    import numpy as np

    from salus.indicators.boxes import Hierarchy, hidden_and_moving
    from salus.indicators.engine import AGE_BANDS, SEXES

    if not linked:
        return
    places = list(tree)  # the program first, each place before the places below it
    parent_of = {child: upper for upper, children in tree.items() for child in children}
    place_ix = {p: i for i, p in enumerate(places)}
    sites = sorted(places[0])
    site_ix = {s: i for i, s in enumerate(sites)}
    place_dim = Hierarchy(parent=tuple(place_ix[parent_of[p]] if p in parent_of else -1 for p in places),
                          leaves=tuple(tuple(sorted(site_ix[s] for s in p)) for p in places))
    quarters = [q for q in parts if set(parts[q]) <= set(months)]
    year = [y for y in parts if y not in quarters]
    labels = [*year, *quarters, *months]
    label_ix = {label: i for i, label in enumerate(labels)}
    upper = {m: q for q in quarters for m in parts[q]} | {q: y for y in year for q in parts[y]}
    period_dim = Hierarchy(parent=tuple(label_ix[upper[label]] if label in upper else -1 for label in labels),
                           leaves=tuple(tuple(sorted(periods[label])) for label in labels))
    dims = (place_dim, period_dim, Hierarchy.flat(len(SEXES)), Hierarchy.flat(len(AGE_BANDS)))
    sex_of = [*((("sex", s),) for s in SEXES), ()]
    age_of = [*((("age", a),) for a in AGE_BANDS), ()]

    def above(measure: str) -> list[str]:
        """The counts ``measure`` is at most, the nearest first (contacts above results above
        positive results), while they are counts here."""
        chain = []
        while (measure := _at_most(measure) or "") in counts:
            chain.append(measure)
        return chain

    def floor(measure: str, apart: str | None = None):
        """The most of the counts that are at most ``measure`` (but ``apart``), or None."""
        below = [counts[m] for m in counts if _at_most(m) == measure and m != apart]
        return np.maximum.reduce(below) if below else None

    def bounds(measure: str):
        """The least and most of ``measure`` in each fine cell that the other counts tell: alone,
        and (``together``) when it moves with the first one, two... of the counts above it."""
        chain = above(measure)
        low = floor(measure)
        together = []
        room_down = counts[measure] - (0 if low is None else low)
        for k, whole in enumerate(chain):
            # One more result at one more contact, one less at one less: each count moved
            # stays at least the other counts it holds (new clients, the other test's results)
            # and the highest moved at most what holds it in turn.
            others = floor(whole, apart=chain[k - 1] if k else measure)
            room_down = np.minimum(room_down, counts[whole] - (0 if others is None else others))
            room_up = counts[chain[k + 1]] - counts[whole] if k + 1 < len(chain) else None
            together.append((counts[measure] - room_down, None if room_up is None else counts[measure] + room_up))
        return low, (counts[chain[0]] if chain else None), together
    shape = tuple(len(d.parent) for d in dims)
    # Each cell's (period, place, breakdown), in the order of the flattened node arrays: made
    # once, for every count (a national program's year has 84,660 cells a count).
    breakdown_of = [[tuple(sorted((*sex, *age))) for age in age_of] for sex in sex_of]
    cell_keys = [(labels[t], places[p], breakdown_of[x][a])
                 for p, t, x, a in itertools.product(*(range(n) for n in shape))]
    breakdown = np.ones(shape, dtype=bool)
    breakdown[:, :, -1, -1] = False  # a place's total is rule 6's, not a breakdown
    # Each count's boxes: the same count with the same place totals held is boxed once. The
    # place totals rule 6 hides get boxes too: nothing else protects them from their
    # breakdowns here.
    helds: list[tuple] = []  # per linked count, (asked, held)
    pieces: dict[tuple, tuple] = {}  # asked -> the arguments of hidden_and_moving
    for code, field, measure in linked:
        held = np.zeros(shape, dtype=bool)
        for label in labels:
            for place in places:
                if totals.get((code, label, place, ()), {}).get(field):
                    held[place_ix[place], label_ix[label], -1, -1] = True
        asked = (measure, held.tobytes())
        helds.append((asked, held))
        if asked not in pieces:
            low, high, together = bounds(measure)
            pieces[asked] = (counts[measure], dims, threshold, held, low, high, together)

    def inputs(asked: tuple) -> tuple:
        fine, _dims, _threshold, held, low, high, together = pieces[asked]
        return ("together", threshold, [d.parent for d in dims], [d.leaves for d in dims], _digest(fine),
                _digest(held), _digest(low), _digest(high), [(_digest(least), _digest(most)) for least, most in together])

    # (boxed, moving) of each; a national year's eleven counts take a second or more each,
    # the more small cells the longer.
    answers: dict[tuple, tuple[np.ndarray, list[np.ndarray]]] = _side_by_side("boxes", {
        asked: (hidden_and_moving, args, inputs(asked), float(((args[0] > 0) & (args[0] < threshold)).sum() + args[3].sum()))
        for asked, args in pieces.items()}, cached)
    for (code, field, measure), (asked, held) in zip(linked, helds, strict=True):
        boxed, moving = answers[asked]
        for i in np.flatnonzero(boxed & ~held).tolist():
            out.setdefault((code, *cell_keys[i]), {})[field] = True
        # A box that moves the counts above this one as well hides its cells in them too, in
        # every indicator of each (hiding more of a count gives nothing away).
        chain = above(measure)
        for k, moved in enumerate(moving):
            for i in np.flatnonzero(moved).tolist():
                for whole in chain[:k + 1]:
                    for whole_code, whole_field in fields_of.get(whole, []):
                        out.setdefault((whole_code, *cell_keys[i]), {})[whole_field] = True
        # Every other breakdown is settled as shown: the boxes protect every hidden cell on
        # all pages together, and a page that chose more cells of its own to hide would choose
        # cells that other pages show.
        for i in np.flatnonzero(~boxed & breakdown).tolist():
            out.setdefault((code, *cell_keys[i]), {}).setdefault(field, False)


def _at_most(measure: str) -> str | None:
    """The count ``measure`` is at most in every fine cell, or None: positive results are
    results given (engine.PART_OF), and results and new clients are counted once at most per
    contact (engine.ONE_PER_CONTACT)."""
    from salus.indicators.engine import ONE_PER_CONTACT, PART_OF

    return PART_OF.get(measure) or ("contacts" if measure in ONE_PER_CONTACT else None)


def _coarseness(breakdown: tuple) -> int:
    """What hiding a cell costs its readers, as the audit of all pages together weighs it when
    it picks a cell to hide (lower is hidden first): a place's total (2) over its count of
    one sex or one age band (1) over one sex and age band (0). Programs report their totals
    first; the finest cells are the ones their readers miss least."""
    return 2 - len(breakdown)


def _is_fine(key: tuple[frozenset[str], str, tuple], months: set[str]) -> bool:
    """Whether a key ``(place, period, breakdown)`` is a fine cell: one site's count of one sex
    and age band in one month (``months``: the month labels)."""
    place, period, breakdown = key
    return len(place) == 1 and period in months and len(breakdown) == 2


def audit_unknown_limit() -> int:
    """The most fine cells a count may have hidden on their sites' pages for the audit of all
    pages together to take it: the program's ``suppression_audit_limit``, else
    AUDIT_UNKNOWN_LIMIT."""
    from salus.core.config import program_config

    chosen = program_config().suppression_audit_limit
    return AUDIT_UNKNOWN_LIMIT if chosen is None else chosen


def _sure_to_give_up(unknowns: int) -> bool:
    """Whether the audit of all pages together would give up on a count that has at least
    ``unknowns`` fine cells hidden on their sites' pages before its first round: it gives up
    past :func:`audit_unknown_limit`, and hiding more never makes them fewer. Telling it early
    spares building the whole tree, and solving its parts, for nothing."""
    return unknowns > audit_unknown_limit()


def _indicator(members: list[list[int]], width: int):
    """A sparse 0/1 matrix of ``width`` columns with a row per list of ``members``: 1 at each."""
    import numpy as np
    import scipy.sparse

    rows = np.repeat(np.arange(len(members)), [len(m) for m in members])
    cols = np.fromiter((c for m in members for c in m), dtype=np.int64, count=rows.size)
    return scipy.sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(members), width))


class _WholeTree:
    """Every cell of every page of one calendar year (each place's total and breakdowns by sex
    and age, in each month, quarter and the year) as a sum of the *fine cells*: one site's
    count of one sex and age band in one month. For the audit of all pages together (rule 8,
    :func:`breakdown_pattern`): the reader's unknowns are the fine cells, each cell shown on
    any page is an equation over them.

    ``keys`` are ``(place, period, breakdown)``; ``eqs`` the groups of every part (each place
    with the places just below it), as (parent index, child indexes) over ``keys``.
    """

    def __init__(self, tree: dict[frozenset[str], list[frozenset[str]]], periods: dict[str, list[int]],
                 parts: dict[str, list[str]], breakdowns: list[tuple], sites: list[str], months: list[str],
                 sexes: tuple[str, ...], ages: tuple[str, ...]):
        import numpy as np
        import scipy.sparse

        self.keys = [(place, period, b) for place in tree for period in periods for b in breakdowns]
        index = {k: i for i, k in enumerate(self.keys)}
        eqs: set[tuple[int, tuple[int, ...]]] = set()
        for head, below in tree.items():
            if below:
                eqs.update((parent, tuple(children)) for parent, children in
                           _part_equations(index, [head, *below], periods, parts, breakdowns))
        self.eqs = [(parent, list(children)) for parent, children in sorted(eqs)]
        self._groups_of = groups_of(self.eqs)
        # Each group's members (a row each) and parent, for _sums_of_shown.
        self._members = _indicator([children for _parent, children in self.eqs], len(self.keys))
        self._parents = np.array([parent for parent, _children in self.eqs], dtype=np.int64)
        self._cost = np.array([_coarseness(b) for _place, _period, b in self.keys])
        # A key covers the fine cells of its place's sites, its period's months and its
        # breakdown's sexes and ages: its row is the Kronecker product of those three rows, in
        # the keys' order (place, then period, then breakdown) and the fine cells' (site, then
        # month, then sex, then age band).
        site_ix = {s: i for i, s in enumerate(sites)}
        places = list(tree)
        of_place = _indicator([[site_ix[s] for s in place] for place in places], len(sites))
        of_period = _indicator(list(periods.values()), len(months))
        of_breakdown = _indicator([[i * len(ages) + k for i, sex in enumerate(sexes) for k, age in enumerate(ages)
                                    if dict(b).get("sex", sex) == sex and dict(b).get("age", age) == age]
                                   for b in breakdowns], len(sexes) * len(ages))
        self.size = len(sites) * len(months) * len(sexes) * len(ages)
        self.matrix = scipy.sparse.kron(of_place, scipy.sparse.kron(of_period, of_breakdown), format="csr")
        # Key index -> its one fine cell, for a site's month by one sex and age band.
        month_labels = set(months)
        self.finest: dict[int, int] = {
            i: int(self.matrix.indices[self.matrix.indptr[i]]) for i, key in enumerate(self.keys)
            if _is_fine(key, month_labels)}
        self._by_column = self.matrix.tocsc()
        self._key_of_fine = {cell: i for i, cell in self.finest.items()}
        self._fine_keys = np.array(list(self.finest), dtype=np.int64)
        self._fine_cells = np.array(list(self.finest.values()), dtype=np.int64)
        # What the keys are (every place, period and breakdown, in that order), for a cache key
        # (sites sorted: a frozenset's order varies by process).
        self.signature = hashlib.sha256(repr(
            ([sorted(place) for place in tree], list(periods), breakdowns)).encode()).hexdigest()

    def values(self, numbers) -> list[float]:
        """Each key's count, from ``numbers`` (site x month x sex x age band, as the fine cells)."""
        return [float(v) for v in self.matrix @ numbers.ravel()]

    def audited(self, values: list[float], hidden: set[int], limit: int, zero=None) -> set[int] | None:
        """``hidden`` (key indexes), with what else must be hidden for no hidden cell to be worked
        out from the cells shown on all pages together; None when more than ``limit`` fine
        cells are hidden on their sites' pages (the audit gives up: its cost grows with the cube
        of that number). ``zero`` (booleans over the fine cells, or None): the fine cells a
        reader knows to be zero from another count (results given where there is no contact),
        taken as known with the zeros no count being negative gives away.

        Every group keeps no single hidden member (:func:`complement`); then, while a round of
        the audit (:meth:`_picks`) finds hidden cells pinned down exactly, it hides more cells
        and every group is made whole again. When the rounds find nothing, a round that also
        knows the zeros no count being negative gives away (``bounds``) checks again, then one
        that knows every count is a whole number (:meth:`_whole_number_picks`). It ends, for
        the same hidden cells as those, with a round that finds nothing pinned by the QR over
        every hidden cell (``exact``).
        """
        hidden = set(hidden)
        complement(values, hidden, self.eqs, index=self._groups_of)
        # Hiding more only takes equations away: a cell a round found free stays free.
        free: set[int] = set()
        while True:
            picks = self._picks(values, hidden, limit, free)
            if picks == set():
                # With what no count being negative tells (zeros worked out), which can pin
                # cells the sums alone leave free.
                picks = self._picks(values, hidden, limit, set(), exact=True, bounds=True, zero=zero)
            if picks == set():
                # With what every count being a whole number tells: a range from 1.5 to 2.6
                # holds only 2.
                picks = self._whole_number_picks(values, hidden, limit, zero)
            if picks == set():
                # The last word is the QR's, over every hidden cell: what the rounds' faster
                # arithmetic (:func:`_in_span`) found free is asked again. The check above
                # took the sums alone to pin nothing; this makes sure of it, for the same
                # hidden cells.
                checked: set[int] = set()
                picks = self._picks(values, hidden, limit, checked, exact=True)
                free |= checked
            if picks is None:
                return None
            if not picks:
                return hidden
            hidden |= picks
            complement(values, hidden, self.eqs, index=self._groups_of, added=picks)

    def chain_picks(self, values: list[list[float]], hidden: list[set[int]], steps: list, zeros: list,
                    ) -> list[set[int]] | None:
        """The shown key indexes to hide, one set per count, so that a reader who knows each
        count is at most the next in every fine cell (positives, results, contacts; each not
        negative) pins down no hidden cell of any that is not zero, in real numbers, as far as
        one round can tell: empty sets when none is pinned; None when a pinned cell finds
        nothing to hide. ``values`` and ``hidden`` are each count's cells and hidden keys;
        ``steps`` the fine cells' true increments (the first count, then each less the one
        before, none negative); ``zeros`` the fine cells the reader knows each count to be
        zero in from elsewhere (or None).

        The reader's unknowns are the increments' fine cells it does not know: an increment
        is known where both counts it lies between are. A shown cell of a count is an
        equation over the increments up to its own. A hidden cell (not zero) is pinned when
        its least and its most over the solutions (none negative) are the same: it is free
        as soon as two solutions differ on it (the true one, one for a random objective,
        those aimed at the cells still agreeing: :func:`one_valued`), else two linear
        programs decide. For each pinned cell, the smallest non-zero shown cell of the same
        count over its unknown fine cells is hidden (else of the nearest count that has one).
        """
        import numpy as np
        import scipy.optimize
        import scipy.sparse

        k = len(values)
        known, is_hidden = [], []
        for j in range(k):
            count_hidden, count_known, _unknown = self._unknowns(hidden[j])
            is_hidden.append(count_hidden)
            known.append(count_known if zeros[j] is None else count_known | zeros[j])
        # An increment is known where both counts it lies between are.
        step_known = [known[0], *(known[j - 1] & known[j] for j in range(1, k))]
        cols = [np.flatnonzero(~kn) for kn in step_known]
        on = [self._by_column[:, c].tocsr() for c in cols]
        over = [np.diff(o.indptr) > 0 for o in on]  # keys over some unknown of each increment
        known_sum = np.zeros(self.size)
        shown, rhs, asked = [], [], []
        for j in range(k):
            v = np.asarray(values[j], dtype=float)
            known_sum = known_sum + np.where(step_known[j], steps[j], 0.0)
            touches = np.logical_or.reduce(over[:j + 1])
            shown.append(np.flatnonzero(~is_hidden[j] & touches))
            rhs.append(v[shown[j]] - self.matrix[shown[j]] @ known_sum)
            asked.append(np.flatnonzero(is_hidden[j] & (v != 0) & touches))
        if not any(x.size for x in asked):
            return [set() for _j in range(k)]

        def rows(j, keys):
            return scipy.sparse.hstack([on[d][keys] if d <= j else scipy.sparse.csr_matrix((keys.size, cols[d].size))
                                        for d in range(k)], format="csr")

        a = scipy.sparse.vstack([rows(j, shown[j]) for j in range(k)], format="csr")
        targets = scipy.sparse.vstack([rows(j, asked[j]) for j in range(k)], format="csr")
        truth = np.concatenate([np.asarray(steps[d])[cols[d]] for d in range(k)])
        b = np.concatenate(rhs)
        # A count in no shown cell can be anything: a ceiling far above every count keeps the
        # programs bounded; it can only make a cell look pinned that is not (hide more).
        ceiling = 10.0 * (max(np.asarray(v, dtype=float).max(initial=0) for v in values) + 1.0)

        def solve(objective):
            result = scipy.optimize.linprog(objective, A_eq=a, b_eq=b, bounds=(0, ceiling), method="highs")
            return result.x if result.status == 0 else None

        pinned = one_valued(targets, truth, solve, tries=1, tolerance=1e-6)
        picks: list[set[int]] = [set() for _j in range(k)]
        first_row = np.cumsum([0, *(x.size for x in shown)])
        first_target = np.cumsum([0, *(x.size for x in asked)])
        by_row = a.tocsc()
        for t in np.flatnonzero(pinned):
            of = int(np.searchsorted(first_target, t, side="right")) - 1  # the count of the pinned cell
            touching = np.unique(by_row[:, targets[t].indices].indices)
            by_count = [[int(shown[j][r - first_row[j]]) for r in touching if first_row[j] <= r < first_row[j + 1]]
                        for j in range(k)]
            # A cell of the same count first; else of the nearest that has one (it pins it as well).
            order = sorted(range(k), key=lambda j: (abs(j - of), j))
            chosen = next((j for j in order if by_count[j]), None)
            if chosen is None:
                return None
            if all(picks[j].isdisjoint(by_count[j]) for j in range(k)):
                # The smallest, whatever its coarseness: weighing it here took five times the
                # rounds (docs/indicators.md, rule 8, "Which cell to hide").
                picks[chosen].add(smallest_shown(values[chosen], by_count[chosen]))
        return picks

    def _unknowns(self, hidden: set[int]):
        """Which keys are ``hidden`` (a boolean array), which fine cells a reader knows (shown
        on their sites' pages: their month, their sex and age band) and the indexes of the
        others, the reader's unknowns."""
        import numpy as np

        is_hidden = np.zeros(len(self.keys), dtype=bool)
        is_hidden[list(hidden)] = True
        known = np.zeros(self.size, dtype=bool)
        known[[cell for i, cell in self.finest.items() if not is_hidden[i]]] = True
        return is_hidden, known, np.flatnonzero(~known)

    def _shown_system(self, values: list[float], is_hidden, known, unknown):
        """What the shown cells tell about the ``unknown`` fine cells: every key's row over
        them (``reduced``, indexes sorted, so rows over the same unknowns read alike), the
        shown keys that hold one, their rows, the sums those unknowns make in them (the shown
        number less its ``known`` fine cells) and the unknowns' true counts."""
        import numpy as np

        count = np.asarray(values, dtype=float)
        fine = np.zeros(self.size)
        fine[self._fine_cells] = count[self._fine_keys]
        reduced = self._by_column[:, unknown].tocsr()
        reduced.sort_indices()
        shown = np.flatnonzero(~is_hidden & (np.diff(reduced.indptr) > 0))
        rhs = count[shown] - self.matrix[shown] @ np.where(known, fine, 0.0)
        return reduced, shown, reduced[shown], rhs, fine[unknown]

    def _whole_number_picks(self, values: list[float], hidden: set[int], limit: int,
                            zero=None) -> set[int] | None:
        """A round of the audit with what a reader knows of every count being a whole number
        (not negative): the shown key indexes to hide so that the hidden cells (not zero)
        that only one whole number fits are fixed no more, as far as this round can tell; an
        empty set when none is fixed, or when the unknowns are more than
        ``WHOLE_NUMBER_UNKNOWN_LIMIT`` (not checked); None past ``limit`` or when a fixed cell
        finds nothing to hide. The fine cells ``zero`` (see :meth:`audited`) are known. Which
        are fixed: :func:`whole_number_fixed`. For each in turn,
        unless a cell already picked shares its unknown fine cells, a non-zero shown cell that
        does is hidden, the finest first (:func:`_coarseness`), then the smallest, with the
        shown cells of the same unknown fine cells; the next rounds check again."""
        import numpy as np

        is_hidden, known, unknown = self._unknowns(hidden)
        if unknown.size > limit:
            return None
        if zero is not None:
            known |= zero
            unknown = np.flatnonzero(~known)
        reduced, shown, a, rhs, truth = self._shown_system(values, is_hidden, known, unknown)
        # An unknown in no shown equation can be anything: a cell over it is free.
        in_equation = np.diff(a.tocsc().indptr) > 0
        queries = np.flatnonzero(is_hidden & (np.diff(reduced.indptr) > 0) & (np.asarray(values) != 0))
        if not queries.size:
            return set()
        asked = reduced[queries]
        bounded = np.asarray(asked[:, ~in_equation].sum(axis=1)).ravel() == 0
        queries, asked = queries[bounded], asked[bounded]
        cols = np.flatnonzero(in_equation)
        if cols.size > WHOLE_NUMBER_UNKNOWN_LIMIT:
            return set()  # beyond this round's reach (its cost): not checked
        fixed = whole_number_fixed(a[:, cols], rhs, truth[cols], asked[:, cols])
        picks: set[int] = set()
        same = _by_unknowns(reduced, shown)
        by_column = a.tocsc()
        # The shown keys over the same unknown fine cells are hidden together: each costs what
        # the coarsest of them does.
        cost = np.zeros(len(self.keys), dtype=self._cost.dtype)
        for alike in same.values():
            cost[alike] = self._cost[alike].max()
        for i in queries[fixed]:
            touching = np.unique(by_column[:, reduced.indices[reduced.indptr[i]:reduced.indptr[i + 1]]].indices)
            candidates = [int(k) for k in shown[touching]]
            if not candidates:
                return None
            if picks.isdisjoint(candidates):
                chosen = smallest_shown(values, candidates, cost)
                picks.update(same[reduced.indices[reduced.indptr[chosen]:reduced.indptr[chosen + 1]].tobytes()])
        return picks

    def _forced_zeros(self, values: list[float], is_hidden, known, unknown, zero=None):
        """The fine cells of ``unknown`` that a reader knows to be zero: those ``zero`` (see
        :meth:`audited`) holds, and those the cells shown (``is_hidden`` false), the fine cells
        ``known`` and those pin to zero once no count may be negative (:func:`forced_zeros`);
        and the fine cells of the connected sets of unknowns that hold one. Only a fine cell
        whose count is zero can be pinned so; only the sets holding one are asked."""
        import numpy as np

        _reduced, _shown, a, rhs, truth = self._shown_system(values, is_hidden, known, unknown)
        is_zero = truth == 0
        given = np.zeros(unknown.size, dtype=bool) if zero is None else zero[unknown] & is_zero
        if not is_zero.any():
            return unknown[:0], unknown[:0]
        n_rows = a.shape[0]
        label = _linked_sets(a)
        asked = np.isin(label, np.unique(label[n_rows + np.flatnonzero(is_zero)]))
        rows_in = np.flatnonzero(asked[:n_rows])
        # The zeros given are known: their columns drop out of the equations.
        cols_in = np.flatnonzero(asked[n_rows:] & ~given)
        candidates = np.flatnonzero(is_zero[cols_in])
        pinned = forced_zeros(a[rows_in][:, cols_in], rhs[rows_in], candidates)
        zeros = np.concatenate([cols_in[candidates[pinned]], np.flatnonzero(given)])
        held = np.unique(label[n_rows + zeros])
        return unknown[zeros], unknown[np.isin(label[n_rows:], held)]

    def _sums_of_shown(self, is_hidden):
        """Which shown keys are the parent of a group whose members are all shown (a boolean
        array over the keys): each is the sum of those members, over every fine cell.

        Leaving such keys out of a round's equations leaves their span as it is: a member is
        one step finer than its parent in one of place, period or breakdown (a place below, a
        month of a quarter, a sex of the total...), so following members down always ends at
        keys that are no such parent, whose equations stay, and each key left out is a sum of
        those. Only the basis the round finds among the shown cells changes, and so which
        cell it hides for a pinned one.
        """
        import numpy as np

        whole = self._members @ is_hidden.astype(float) == 0
        out = np.zeros(len(self.keys), dtype=bool)
        out[self._parents[whole]] = True
        return out & ~is_hidden

    def _picks(self, values: list[float], hidden: set[int], limit: int, free: set[int],
               exact: bool = False, bounds: bool = False, zero=None) -> set[int] | None:
        """One round of the audit: the shown key indexes to hide so that the hidden cells the
        shown ones pin down are pinned no more, as far as this round can tell; an empty set
        when none is pinned; None past ``limit`` (see :meth:`audited`) or when a pinned cell
        finds nothing to hide. Hidden cells in ``free`` are known not to be pinned; those this
        round finds not pinned are added to it.

        A hidden cell is pinned when its fine cells' combination lies in the span of the shown
        cells' (each connected set of unknown fine cells apart). A rank-revealing factorisation
        (:func:`_in_span`: a pivoted Cholesky, or a QR) gives a basis of that span among the
        shown cells and each pinned cell's combination of them; of the non-zero basis cells it
        uses, the finest (:func:`_coarseness`) and then the smallest is hidden (with the shown
        cells of the same fine cells). Which pinned cells a hidden basis cell frees is then
        known without another factorisation (:class:`_Dropped`): the cells still pinned, the
        newly hidden ones among them, are served in turn. What rule 2 then hides, and whatever
        this round could not tell, the next round checks. ``exact``: the QR for every set (see
        :func:`_in_span`). ``bounds``: the fine cells a reader knows to be zero
        (:meth:`_forced_zeros`, with ``zero``) are known too.
        """
        import numpy as np

        is_hidden, known, unknown = self._unknowns(hidden)
        if unknown.size > limit:
            return None
        if bounds:
            # No count is negative: a reader who knows that can work out some hidden fine cells
            # to be zero where the sums alone leave them free, and such a zero is then known.
            zeros, affected = self._forced_zeros(values, is_hidden, known, unknown, zero)
            if not zeros.size:
                return set()  # the sums alone pin nothing (the caller's rounds said so)
            # Only the cells over a connected set of unknowns that held such a zero can be
            # pinned now: the others' sets are as the sums alone left them.
            touches = np.diff(self._by_column[:, affected].tocsr().indptr) > 0
            known[zeros] = True
            unknown = np.flatnonzero(~known)
        reduced = self._by_column[:, unknown].tocsr()
        reduced.sort_indices()
        length = np.diff(reduced.indptr)
        picks: set[int] = set()
        # A hidden cell whose fine cells are all shown is their sum: one of those is hidden,
        # unless a cell already picked is one of them.
        for i in np.flatnonzero(is_hidden & (length == 0)):
            if bounds and (values[i] == 0 or not touches[i]):
                continue  # a zero worked out points at nobody; the others were asked before
            covered = self.matrix.indices[self.matrix.indptr[i]:self.matrix.indptr[i + 1]]
            shown = [self._key_of_fine[c] for c in covered if not is_hidden[self._key_of_fine[c]]]
            if not shown:  # never expected: the cell would have no fine cell shown or hidden
                return None
            if picks.isdisjoint(shown):
                picks.add(smallest_shown(values, shown))
        is_free = np.zeros(len(self.keys), dtype=bool)
        is_free[list(free)] = True
        queries = is_hidden & (length > 0) & ~is_free
        if bounds:
            queries &= touches & (np.asarray(values) != 0)  # a zero worked out points at nobody
        queries = np.flatnonzero(queries)
        if not queries.size:
            return picks
        groups = list(_by_unknowns(reduced, np.flatnonzero(~is_hidden & (length > 0))).values())
        # A shown cell whose parts are all shown is their sum: it adds nothing to the span, and
        # leaving it out makes the factorisation smaller (on the 16-site benchmark program, a
        # set of 3,462 shown rows with a basis of 1,281 keeps fewer than half of them).
        redundant = self._sums_of_shown(is_hidden)
        # Per group, at once: whether all its keys are such sums, its first key and the cost
        # of its coarsest (a basis row stands for its group: see below).
        sizes = np.fromiter((len(g) for g in groups), dtype=np.int64, count=len(groups))
        flat = np.fromiter((k for g in groups for k in g), dtype=np.int64, count=int(sizes.sum()))
        starts = np.cumsum(sizes) - sizes
        kept = ~np.logical_and.reduceat(redundant[flat], starts)
        group_first = flat[starts][kept]
        group_cost = np.maximum.reduceat(self._cost[flat], starts)[kept]
        groups = [g for g, keep in zip(groups, kept, strict=True) if keep]
        equations = reduced[group_first]
        # Unknown cells linked by a shown equation are solved together; the others apart.
        n_rows = equations.shape[0]
        label = _linked_sets(equations)
        row_label, col_label = label[:n_rows], label[n_rows:]
        asked_rows = reduced[queries]
        asked = asked_rows.tocsc()
        # A cell is pinned when each connected set it touches pins its part of it: the sets are
        # solved first, and cells are served only once known pinned in all of them.
        pinned = np.ones(queries.size, dtype=bool)
        solved = []
        for lab in np.unique(col_label[asked_rows.indices]):
            cols = np.flatnonzero(col_label == lab)
            touching = asked[:, cols].tocsr()
            which = np.flatnonzero(np.diff(touching.indptr))
            rows = np.flatnonzero(row_label == lab)
            if not rows.size:
                pinned[which] = False
                continue
            v = touching[which]
            rank, r, order, weights, inside = _in_span(equations[rows][:, cols], v, exact)
            pinned[which[~inside]] = False
            if inside.any():
                solved.append((rows, r, order, rank, which[inside], weights[inside]))
        free.update(int(k) for k in queries[~pinned])
        exposed = bool(pinned.any())
        # A cell freed in one set is free: each is served in the first set it touches.
        served = ~pinned
        for rows, r, order, rank, which, weights in solved:
            weights = weights[~served[which]]
            served[which] = True
            if not weights.size:
                continue
            dropped = _Dropped(r[:rank, :rank], r[:rank, rank:])
            # Each basis row's key (the first of the shown keys over its unknowns) and value.
            first = group_first[rows[order[:rank]]]
            value = np.asarray(values, dtype=float)[first]
            # A basis row stands for the shown keys over the same unknowns, hidden together.
            cost = group_cost[rows[order[:rank]]]
            # Each pinned cell in turn, then each cell hidden for it that is pinned itself.
            queue = deque(weights)
            while queue:
                w = queue.popleft()
                if not dropped.pins(w):
                    continue
                live = np.abs(w) > 1e-9
                live[dropped.positions] = False
                used = np.flatnonzero(live)
                if not used.size:
                    continue  # pinned by the other rows alone: the next round will say how
                # smallest_shown's choice among the basis rows used: non-zero first, then the
                # lowest cost (_coarseness), the smallest value and the lowest key.
                p = int(used[np.lexsort((first[used], value[used], cost[used], value[used] <= 0))[0]])
                picks.update(groups[rows[order[p]]])
                dropped.drop(p)
                unit = np.zeros(rank)
                unit[p] = 1.0  # the cells just hidden: the basis row they were
                queue.append(unit)
        if exposed and not picks:
            return None
        return picks


def _by_unknowns(reduced, keys) -> dict[bytes, list[int]]:
    """``keys`` (row indexes of ``reduced``, a sparse matrix over the unknowns) grouped by the
    unknowns their rows hold: keys over the same unknowns tell a reader the same thing, so
    they are hidden together."""
    same: dict[bytes, list[int]] = defaultdict(list)
    for i in keys:
        same[reduced.indices[reduced.indptr[i]:reduced.indptr[i + 1]].tobytes()].append(int(i))
    return same


def _linked_sets(a):
    """The connected sets of a sparse system (a row per equation, a column per unknown): one
    label per row, then one per column; an equation and the unknowns it holds share one."""
    import numpy as np
    import scipy.sparse
    from scipy.sparse.csgraph import connected_components

    n_rows, n_cols = a.shape
    links = a.tocoo()
    graph = scipy.sparse.coo_matrix((np.ones(links.nnz), (links.row, n_rows + links.col)),
                                    shape=(n_rows + n_cols, n_rows + n_cols))
    return connected_components(graph, directed=False)[1]


# _in_span's Cholesky path: a shown row whose residual, once the basis rows before it are
# taken out, is at most 1e-5 (its square at most this) is in the span of those before it. The
# path is used only when every basis row's residual is at least _GRAM_CLEAR, so a row near the
# line never decides: the QR does. The benchmark's rows keep 0.04 or more (measured).
_GRAM_TOLERANCE = 1e-10
_GRAM_CLEAR = 1e-2
# _in_span measures exactly only the rows its rough distance puts nearer the span than this.
_FAR = 0.5


def _in_span(a, v, exact: bool = False):
    """Which rows of ``v`` (sparse or dense) lie in the span of the rows of ``a`` (sparse, over
    the same unknowns), and by which combination of a basis of it.

    Returns ``(rank, r, order, weights, inside)``: the rows ``a[order[:rank]]`` are a basis
    of the span, ``r`` (``rank`` rows) the upper triangle with ``a[order].T = Q r`` for some
    orthonormal ``Q``; ``weights`` (a row per row of ``v``) the combination of the basis rows
    that makes each row of ``v`` where ``inside`` says it is in the span (zeros for a row far
    from it).

    The basis and triangle come from a pivoted Cholesky of the rows' Gram matrix (LAPACK's
    pstrf: a quarter of the time of the QR on the benchmark's sets, with the same ranks),
    unless ``exact`` or the answer is not clear-cut (a basis row's residual under
    _GRAM_CLEAR, or a row of ``v`` neither plainly in nor plainly out): then a rank-revealing
    QR of ``a``'s transpose, as the audit had before.

    Either way a row's distance from the span is first had from its coordinates along the
    span (``Q``'s columns): its squared length less theirs, a sparse product. That
    difference loses digits, so it only settles the rows it puts _FAR or more from the span
    (not in it); each nearer row is measured exactly, as the row less the combination of
    the basis rows that makes it. On the benchmark's largest sets the two squared distances
    differ by at most 7·10⁻¹² (Cholesky) and 8·10⁻¹⁴ (QR), against the 0.25 that would
    matter; a row outside the span was 0.04 or more away, one inside nearer than 10⁻⁹. The
    audit asks about every hidden cell, most of them far from the span: this spares the
    dense product over all of them.
    """
    import numpy as np
    import scipy.linalg
    import scipy.sparse
    from scipy.linalg import lapack

    v = scipy.sparse.csr_matrix(v)
    length = np.asarray(v.multiply(v).sum(axis=1)).ravel()
    if not exact:
        u, pivots, rank, info = lapack.dpstrf((a @ a.T).toarray(), tol=_GRAM_TOLERANCE, lower=0)
        if info >= 0 and rank:
            # Column-major, so that each triangular solve on a block of it (here and in
            # _Dropped, one per basis row hidden) need not copy the block first: the copy
            # cost more than the solve (2.6 ms against 0.14 ms a vector at rank 1,132).
            r = np.asfortranarray(np.triu(u[:rank]))
            if float(np.diag(r).min()) >= _GRAM_CLEAR:
                order = pivots - 1
                basis, r11 = a[order[:rank]], r[:, :rank]
                # The coordinates along the span: the basis rows' Gram matrix is r11ᵀ r11.
                # (The right-hand sides are fresh arrays: solving in place spares a copy.)
                along = scipy.linalg.solve_triangular(r11, (basis @ v.T).toarray(), trans="T", check_finite=False,
                                                      overwrite_b=True)
                near = np.flatnonzero(length - (along * along).sum(axis=0) < _FAR ** 2)
                weights = np.zeros((v.shape[0], rank))
                residual = np.full(v.shape[0], np.inf)
                if near.size:
                    weights[near] = scipy.linalg.solve_triangular(r11, along[:, near], check_finite=False,
                                                                  overwrite_b=True).T
                    residual[near] = np.abs(v[near].toarray() - (basis.T @ weights[near].T).T).max(axis=1)
                if not ((residual > 1e-9) & (residual < 1e-3)).any():
                    return rank, r, order, weights, residual < 1e-6
    q, r, order = scipy.linalg.qr(a.toarray().T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > 1e-9 * max(1.0, float(diagonal[0]))).sum())
    basis = q[:, :rank]
    along = np.asarray(v @ basis)
    near = np.flatnonzero(length - (along * along).sum(axis=1) < _FAR ** 2)
    inside = np.zeros(v.shape[0], dtype=bool)
    weights = np.zeros((v.shape[0], rank))
    if near.size:
        inside[near] = np.abs(v[near].toarray() - along[near] @ basis.T).max(axis=1) < 1e-6
        weights[near] = scipy.linalg.solve_triangular(r[:rank, :rank], along[near].T).T
    return rank, np.asfortranarray(r[:rank]), order, weights, inside


class _Dropped:
    """Which combinations of a basis of the shown rows stay in their span once some basis rows
    are hidden, for one round of :meth:`_WholeTree._picks`.

    ``r11`` and ``r12`` are the blocks of :func:`_in_span`'s triangle: the other shown rows are
    the basis rows combined by ``X = r11⁻¹ r12`` (a column each). Once the basis rows at
    ``positions`` are hidden, a combination ``w`` of the basis rows is still in the span of
    the shown rows exactly when ``y · w = 0`` for every ``y`` on those positions with
    ``y · X = 0`` (the rows of X at the hidden positions: their left null space).

    That null space grows with each row dropped: a row of X in the span of those before it
    (``row = β · rows``) adds ``(-β, 1)``; any other leaves it as it was. The span is kept
    as an orthonormal basis (Gram-Schmidt, twice over) with each basis vector's combination
    of the rows.
    """

    def __init__(self, r11, r12):
        import numpy as np

        self.r11, self.r12 = r11, r12
        self.positions: list[int] = []
        rank, others = r12.shape
        # An orthonormal basis of the span of X's rows at ``positions`` (a row each, the first
        # ``_spanned``), with each basis vector's combination of those rows.
        self._basis = np.zeros((min(rank, others), others))
        self._combo = np.zeros((min(rank, others), rank))
        self._spanned = 0
        # Vectors y over ``positions`` with y · X = 0, a row each (the first ``_nulls``).
        self._null = np.zeros((rank, rank))
        self._nulls = 0
        self._inverse = None  # r11⁻¹, once enough rows are dropped for it to be worth making

    def drop(self, position: int) -> None:
        import numpy as np
        import scipy.linalg

        d = len(self.positions)
        if self._inverse is None and d >= 16:
            self._inverse = scipy.linalg.solve_triangular(self.r11, np.eye(self.r11.shape[0]), check_finite=False)
        if self._inverse is not None:
            row = self._inverse[position] @ self.r12
        else:
            unit = np.zeros(self.r11.shape[0])
            unit[position] = 1.0
            # Row ``position`` of r11⁻¹, then of X.
            row = scipy.linalg.solve_triangular(self.r11, unit, trans="T", check_finite=False) @ self.r12
        self.positions.append(position)
        combo = np.zeros(self.r11.shape[0])
        combo[d] = 1.0  # residue = combo · rows, all along
        residue = row
        basis, of = self._basis[:self._spanned], self._combo[:self._spanned]
        for _twice in range(2):
            along = basis @ residue
            residue = residue - along @ basis
            combo -= along @ of
        left = float(np.linalg.norm(residue))
        if left > 1e-9 * max(1.0, float(np.linalg.norm(row))):
            self._basis[self._spanned] = residue / left
            self._combo[self._spanned] = combo / left
            self._spanned += 1
        else:
            self._null[self._nulls] = combo / float(np.linalg.norm(combo))
            self._nulls += 1

    def pins(self, w) -> bool:
        """Whether combination ``w`` of the basis rows is still in the span of those shown."""
        if not self._nulls:
            return True
        d = len(self.positions)
        along = self._null[:self._nulls, :d] @ w[self.positions]
        return bool(abs(along).max() <= 1e-7 * max(1.0, float(abs(w).max())))


def _part_equations(index: dict[tuple, int], places: list[frozenset[str]], periods: dict[str, list[int]],
                    parts: dict[str, list[str]], breakdowns: list[tuple]) -> list[tuple[int, list[int]]]:
    """The groups of one part of :func:`breakdown_pattern` (its first place is the sum of the
    others), as (parent index, child indexes)."""
    by_sex = [b for b in breakdowns if len(b) == 1 and b[0][0] == "sex"]
    by_age = [b for b in breakdowns if len(b) == 1 and b[0][0] == "age"]
    crossed = [b for b in breakdowns if len(b) == 2]  # (("age", a), ("sex", s))
    # Within a period: sexes and age bands each add up to the total, and the crossed cells
    # of one sex (of one age band) to that sex's (that age band's) cell.
    within: list[tuple[tuple, list[tuple]]] = [((), by_sex), ((), by_age)]
    within += [(sex, [b for b in crossed if b[1] == sex[0]]) for sex in by_sex]
    within += [(age, [b for b in crossed if b[0] == age[0]]) for age in by_age]
    eqs = []
    for place in places:
        for period in periods:
            for total, cells in within:
                eqs.append((index[(place, period, total)], [index[(place, period, b)] for b in cells]))
        for b in breakdowns:
            for period, below in parts.items():
                eqs.append((index[(place, period, b)], [index[(place, p, b)] for p in below]))
    for period in periods:
        for b in breakdowns:
            eqs.append((index[(places[0], period, b)], [index[(p, period, b)] for p in places[1:]]))
    return eqs


def _digest(array) -> str | None:
    """A short stand-in for a numpy array's numbers in a :func:`_kept` key (None for None)."""
    import numpy as np

    return None if array is None else hashlib.sha256(np.asarray(array).tobytes()).hexdigest()


def _months_digest(cells: list[dict], fine: dict[str, dict[tuple, dict[str, int]]]) -> str:
    """A name for a year's month cells and their sums (:func:`year_months`) that is the same
    whenever the numbers are, in whatever order the engine gave them (0.3 s for a national
    program's year at 1 M contacts)."""
    digest = hashlib.sha256(json.dumps(sorted(cells, key=lambda c: repr(_key(c))), sort_keys=True,
                                       default=str).encode())
    for month in sorted(fine):
        digest.update(repr((month, sorted(fine[month].items(), key=lambda item: repr(item[0])))).encode())
    return digest.hexdigest()


def _cells_digest(cells: list[dict]) -> str:
    """A short stand-in for ``cells`` (engine rows, as given) in a :func:`_kept` key."""
    return hashlib.sha256(json.dumps(cells, sort_keys=True, default=str).encode()).hexdigest()


def _kept(name: str, inputs: tuple, compute):
    """``compute()``, kept for ANSWER_CACHE_SECONDS under a key made of ``name`` and every
    value in ``inputs``, which must name every number the answer is worked out from (the web
    app: pages of the same numbers solve it once). None is kept too."""
    from salus.core.kept import kept

    return kept(_kept_key(name, inputs), ANSWER_CACHE_SECONDS, compute)


def _kept_key(name: str, inputs: tuple) -> str:
    """The cache key :func:`_kept` keeps the answer of ``name`` for ``inputs`` under."""
    return f"salus-release-{name}:" + hashlib.sha256(repr(inputs).encode()).hexdigest()


def _side_by_side(name: str, asked: dict, cached: bool) -> dict:
    """``{key: function(*args)}`` for each ``key: (function, args, inputs, weight)`` of
    ``asked``, each kept under ``name`` and ``inputs`` (as :func:`_kept`) when ``cached``.
    Those not kept yet are worked out side by side on the cores (salus.core.spread) when their
    ``weight`` (hidden or small cells) adds up to SPREAD_FROM."""
    from salus.core import kept, spread

    todo = [key for key, (_f, _args, inputs, _w) in asked.items() if not (cached and kept.has(_kept_key(name, inputs)))]
    worked = dict(zip(todo, spread.spread([asked[key][:2] for key in todo], [asked[key][3] + 1 for key in todo],
                                          at_least=SPREAD_FROM), strict=True))
    answers = {}
    for key, (function, args, inputs, _weight) in asked.items():

        def compute(key=key, function=function, args=args):
            # Worked out above, unless kept then and gone since.
            return worked[key] if key in worked else function(*args)

        answers[key] = _kept(name, inputs, compute) if cached else compute()
    return answers


def _audits(whole: _WholeTree, asked: dict[tuple, tuple], cached: bool) -> dict[tuple, set[int] | None]:
    """``whole.audited(values, hidden, audit_unknown_limit(), zero)`` for each ``(values, hidden,
    zero)`` of ``asked``, each kept when ``cached`` (:func:`_side_by_side`: a national year's
    audits take seconds each)."""
    limit = audit_unknown_limit()
    return _side_by_side("audit", {
        key: (_audit, (whole, values, hidden, zero, limit), (limit, whole.signature, values, sorted(hidden), _digest(zero)),
              float(len(hidden)))
        for key, (values, hidden, zero) in asked.items()}, cached)


def _audited(whole: _WholeTree, values: list[float], hidden: set[int], cached: bool,
             zero=None) -> set[int] | None:
    """``whole.audited(values, hidden, audit_unknown_limit(), zero)``, kept when ``cached``."""
    return _audits(whole, {(): (values, hidden, zero)}, cached)[()]


def _audit(whole: _WholeTree, values: list[float], hidden: set[int], zero, limit: int) -> set[int] | None:
    """``whole.audited``, as a function of this module (so that another process can be given
    it: salus.core.spread)."""
    return whole.audited(values, hidden, limit, zero)


def _audited_together(whole: _WholeTree, counts: list, hidden: list[set[int]], cached: bool, zeros: list,
                      audited: list[bool]) -> list[set[int]] | None:
    """The cells to hide of a chain of counts, each at most the next in every fine cell (site
    x month x sex x age band arrays: positives, results, contacts; engine.PART_OF and
    ONE_PER_CONTACT), so that a reader who also knows that works out no hidden cell of any
    (but zeros), in real numbers; None when the audit gives up on one of them, or the chain's
    check finds a cell it cannot free.

    Each count is audited on its own (:func:`_audited`, with its ``zeros``: the fine cells a
    reader knows it to be zero in from another count, or None; not at first for those
    ``audited`` says their hidden cells already come from), then the chain is checked as one
    (:meth:`_WholeTree.chain_picks`); while that hides more, the counts it hid more of are
    audited again. Kept when ``cached``, as :func:`_audited`.
    """

    def compute():
        return _chain_audited(whole, counts, hidden, cached, zeros, audited)

    if not cached:
        return compute()

    return _kept("chain", (audit_unknown_limit(), whole.signature, tuple(_digest(c) for c in counts),
                           tuple(tuple(sorted(h)) for h in hidden), tuple(_digest(z) for z in zeros),
                           tuple(audited)), compute)


def _chain_audited(whole: _WholeTree, counts: list, hidden: list[set[int]], cached: bool, zeros: list,
                   audited: list[bool]) -> list[set[int]] | None:
    """:func:`_audited_together`, computed."""
    import numpy as np

    counts = [np.asarray(c) for c in counts]
    steps = [counts[0].ravel(), *((counts[j] - counts[j - 1]).ravel() for j in range(1, len(counts)))]
    if any((step < 0).any() for step in steps):
        # Never expected (engine.PART_OF is the counts' definition): each keeps its own audit.
        logger.warning("A count is larger, in a fine cell, than the count it is part of; "
                       "the counts are audited apart.")
        return None
    values = [whole.values(c) for c in counts]
    hidden = [set(h) for h in hidden]
    # Each count's own audit, again only when the chain's check hid more of it (the audit of
    # the same cells answers the same).
    again = [not done for done in audited]
    while True:
        for j in range(len(counts)):
            if again[j]:
                own = _audited(whole, values[j], hidden[j], cached, zeros[j])
                if own is None:
                    return None
                hidden[j] = own
        picks = whole.chain_picks(values, hidden, steps, zeros)
        if picks is None:
            return None
        if not any(picks):
            return hidden
        hidden = [h | p for h, p in zip(hidden, picks, strict=True)]
        again = [bool(p) for p in picks]


# The steps of a table whose answers are kept, and the names they are kept under.
_TABLE_STEPS = {protect: "places", first_hidden: "first"}


def _table_answer(step, values: list[float], threshold: int, eqs: list[tuple[int, list[int]]], *, cached: bool,
                  held_hidden: set[int] | frozenset[int] = frozenset(),
                  held_shown: set[int] | frozenset[int] = frozenset()) -> set[int]:
    """``step(values, threshold, eqs, held_hidden=..., held_shown=...)`` (``protect`` or
    ``first_hidden``), kept when ``cached``: a table or part whose numbers did not change,
    when others did, is not worked out again."""
    def compute():
        return step(values, threshold, eqs, held_hidden=held_hidden, held_shown=held_shown)

    if not cached:
        return compute()
    return _kept(_TABLE_STEPS[step], (threshold, values, eqs, sorted(held_hidden), sorted(held_shown)), compute)


def _table_solver(cached: bool):
    """For :func:`suppression.suppress_groups`: each table's answer kept (:func:`_table_answer`)
    when ``cached``, else None (worked out afresh). A page whose numbers changed in a few
    tables then works those out again, not the year's every table."""
    return functools.partial(_table_answer, protect, cached=True) if cached else None


def _place_tree(site_area: dict[str, str]) -> dict[frozenset[str], list[frozenset[str]]]:
    """Every place as its set of sites, with the distinct places just below it, in a fixed
    order: the program, every area above a site (at every level), every site."""
    below: dict[str, set[str]] = defaultdict(set)  # "" is the program; areas by path
    sites_of: dict[str, set[str]] = defaultdict(set)
    for site, path in site_area.items():
        parts = path.split("/")
        chain = ["", *("/".join(parts[:i]) for i in range(1, len(parts) + 1))]
        for upper, lower in zip(chain, chain[1:], strict=False):
            below[upper].add(lower)
        below[path].add("site:" + site)
        for node in chain:
            sites_of[node].add(site)
        sites_of["site:" + site] = {site}
    tree: dict[frozenset[str], list[frozenset[str]]] = {}
    for node in sorted(sites_of):
        place = frozenset(sites_of[node])
        children: list[frozenset[str]] = sorted(
            {frozenset(sites_of[b]) for b in below.get(node, ())} - {place}, key=_in_order)
        # Places with the same sites are one; keep whichever says more of what lies below.
        if len(children) > len(tree.get(place, [])):
            tree[place] = children
        tree.setdefault(place, children)
    return dict(sorted(tree.items(), key=lambda item: (-len(item[0]), _in_order(item[0]))))


def _in_order(place: frozenset[str]) -> list[str]:
    return sorted(place)


def _place_of(cell: dict, page_sites: frozenset[str], site_area: dict[str, str]) -> frozenset[str] | None:
    """The sites whose total ``cell`` is, on a page of the place with sites ``page_sites``, or
    None for a breakdown (sex, age)."""
    dis = cell.get("disaggregation") or {}
    if not dis:
        return page_sites or None
    if set(dis) == {"area", "site"}:
        return frozenset([dis["site"]])
    if set(dis) == {"area"}:
        return frozenset(s for s in page_sites if site_area.get(s) == dis["area"]) or None
    return None


def _site_areas(cells: list[dict]) -> dict[str, str]:
    """Site code -> area path, from the site cells among ``cells`` (the sites of their page)."""
    out = {}
    for c in cells:
        dis = c.get("disaggregation") or {}
        if set(dis) == {"area", "site"}:
            out[dis["site"]] = dis["area"]
    return out


def _hold_linked(cells: list[dict], places: dict[tuple, dict[str, bool]]) -> None:
    """Mark the place totals and the page's breakdowns among ``cells`` (one place's year
    table) as :func:`place_pattern` settled them (suppression's ``HELD``)."""
    site_area = _site_areas(cells)
    page_sites = frozenset(site_area)
    for c in cells:
        if not adds_over_time(c):
            continue
        place = _place_of(c, page_sites, site_area)
        breakdown: tuple = ()
        if place is None:
            dis = c.get("disaggregation") or {}
            if not page_sites or not set(dis) <= {"sex", "age"}:
                continue
            place, breakdown = page_sites, _freeze(dis)
        held = places.get((c.get("code"), str(c.get("period")), place, breakdown))
        if held:
            c[HELD] = dict(held)


def year_months(year: int, codes: list[str], *, area: str | None, site: str | None,
                cached: bool = False) -> tuple[list[dict], dict[str, dict[tuple, dict[str, int]]], str | None]:
    """The engine's unsuppressed cells, with every breakdown, of ``codes`` for each month of
    ``year`` that has started, and, for the whole program (no ``area`` or ``site``), the sums
    they are made of for the codes made in one pass (salus.indicators.engine.monthly_trend,
    its ``fine_out``; only the program's are needed, by :func:`breakdown_pattern`).

    The third item names these numbers when ``cached`` (a digest of them, kept with them):
    what is worked out from them can be kept under it. None when not ``cached``."""
    from salus.indicators import engine

    def count() -> tuple[list[dict], dict[str, dict[tuple, dict[str, int]]], str | None]:
        # The counts the trend makes in one pass, then the others (month by month): asked
        # together, every code would go month by month.
        one_pass = [c for c in codes if engine.trend_in_one_pass(c)]
        cells: list[dict] = []
        fine: dict[str, dict[tuple, dict[str, int]]] = {}
        if one_pass:
            cells += engine.monthly_trend(one_pass, f"{year}-01", f"{year}-12", area=area, site=site,
                                          disaggregate=True, fine_out=fine if area is None and site is None else None)
        others = [c for c in codes if c not in one_pass]
        if others:
            cells += engine.monthly_trend(others, f"{year}-01", f"{year}-12", area=area, site=site, disaggregate=True)
        # Named only when kept: exports and the command line need no name (0.3 s nationally).
        return cells, fine, _months_digest(cells, fine) if cached else None

    if not cached:
        return count()
    from salus.core.kept import kept

    # Hashed: a key names every code, longer than some cache back ends take.
    key = "salus-release-year-fine:" + hashlib.sha256(
        "\0".join([str(year), area or "", site or "", *codes]).encode()).hexdigest()
    return kept(key, YEAR_CACHE_SECONDS, count)


def _freeze(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def _key(cell: dict) -> tuple:
    return (cell.get("code"), str(cell.get("period")), _freeze(cell.get("disaggregation") or {}))
