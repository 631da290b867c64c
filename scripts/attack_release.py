"""Try to undo the small-cell suppression of one calendar year, as a reader of every page could.

Reads every page a reader could open (the program, every area, every site) for every month,
quarter and the year, suppressed for release, and for each count that adds up over time and
across places, takes each site's count of each sex and age band in each month as an unknown
and every cell shown on any page as an equation over them. It also uses that no count is
negative: the unknowns that every solution puts at zero are known to be zero (``--sums-only``
leaves that out). A hidden cell whose equation lies in the span of the shown ones and those
zeros is *worked out*; the script prints how many there are per count, how many of them are
small counts (1 to the threshold minus one) and how many zeros (which are shown anyway), with a
few of them (small ones first), and their totals. Nothing is written.

``--whole-numbers`` also uses that every count is a whole number: a hidden cell that only one
whole number fits is worked out too (two mixed-integer programs per hidden cell left, fewer in
practice). ``--together`` attacks the counts that are at most another (positives and
results given, completed and made referrals, results given and new clients with contacts) a
pair at a time, then positives, results and contacts as one chain,
using that as well.

    SALUS_HOME=<data dir> .venv/bin/python scripts/attack_release.py --year 2026
    SALUS_HOME=<data dir> .venv/bin/python scripts/attack_release.py --year 2026 --whole-numbers

It reads 15 pages x 16 periods on the demo (about 4 minutes). docs/indicators.md, "Across
places", gives what it found on the demo with and without rule 8.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys


def zeros(a, b):
    """Which unknowns are zero in every solution of ``a x = b`` (``a`` sparse) with ``x >= 0``,
    and one such solution. Round by round, a linear program lifts as many of the unknowns not
    yet seen above zero as it can (the sum of min(x, 1) over them); when it lifts none, none
    of them can be above zero."""
    import numpy as np
    import scipy.optimize
    import scipy.sparse

    m, n = a.shape
    maybe = np.ones(n, dtype=bool)
    x = None
    while maybe.any():
        ask = np.flatnonzero(maybe)
        k = ask.size
        lift = scipy.sparse.hstack([
            -scipy.sparse.csr_matrix((np.ones(k), (np.arange(k), ask)), shape=(k, n)),
            scipy.sparse.identity(k, format="csr")], format="csr")
        result = scipy.optimize.linprog(
            np.concatenate([np.zeros(n), -np.ones(k)]), A_ub=lift, b_ub=np.zeros(k),
            A_eq=scipy.sparse.hstack([a, scipy.sparse.csr_matrix((m, k))], format="csr"), b_eq=b,
            bounds=[(0, None)] * n + [(0, 1)] * k, method="highs")
        if result.status != 0:
            raise RuntimeError(f"linear program: {result.message}")
        x = result.x[:n]
        lifted = ask[result.x[n:] > 1e-6]
        if not lifted.size:
            break
        maybe[lifted] = False
    return maybe, x


# Counts that are at most another, cell by cell (the same site, sex, age band and month):
# positives are among the tests, completed referrals among those made. A reader may use that too.
# Each measure of a pair is at most the other in every fine cell, by its definition (kept here
# rather than taken from the engine: the attacker is independent of the code it checks).
AT_MOST = (("hiv_pos", "hiv_tests"), ("hcv_pos", "hcv_tests"), ("ref_attended", "ref_made"),
           ("hiv_tests", "contacts"), ("hcv_tests", "contacts"), ("new", "contacts"))
# Counts each at most the next, attacked as one system: a reader can bound the results from
# below (positives) and above (contacts) at once, which neither pair alone does.
CHAINS = (("hiv_pos", "hiv_tests", "contacts"), ("hcv_pos", "hcv_tests", "contacts"))


def whole_number_values(a, b, targets, *, tries: int = 4, seed: int = 0) -> list[float | None]:
    """For each target (a row over the unknowns), the value it has in every solution of
    ``a x = b`` (``a`` sparse) in whole numbers ``x >= 0``, or None when two such solutions
    differ on it. Two mixed-integer programs per target (its least and its most), except for
    the targets on which whole-number solutions already found differ (a few found first for
    random objectives, and every one found since)."""
    import numpy as np
    import scipy.optimize
    import scipy.sparse

    # An unknown in no equation can be anything: a target over it is free.
    a = scipy.sparse.csc_matrix(a)
    bound = np.diff(a.indptr) > 0
    a = a[:, bound]
    free = [bool(np.any(np.asarray(v)[~bound])) for v in targets]
    targets = [np.asarray(v, dtype=float)[bound] for v in targets]
    n = a.shape[1]
    rule = scipy.optimize.LinearConstraint(a, b, b)
    kwargs = {"constraints": rule, "integrality": np.ones(n), "bounds": scipy.optimize.Bounds(0, np.inf)}
    rng = np.random.default_rng(seed)
    pool = []

    def solve(objective):
        # Only a solution that holds may free a target: HiGHS's presolve was seen to end on a
        # wrong answer, so one that does not hold is asked again without it.
        for presolve in (True, False):
            result = scipy.optimize.milp(objective, options={"presolve": presolve}, **kwargs)
            if result.status != 0:
                raise RuntimeError(f"mixed-integer program: {result.message}")
            x = np.round(result.x)
            if (x >= 0).all() and np.abs(a @ x - b).max() < 0.5:
                pool.append(x)
                return x
        raise RuntimeError("mixed-integer program: its solution does not hold")

    for _ in range(tries):
        solve(rng.normal(size=n))
    out: list[float | None] = []
    for v, unbounded in zip(targets, free, strict=True):
        if unbounded or len({float(v @ x) for x in pool}) > 1:
            out.append(None)
            continue
        low, high = float(np.round(v @ solve(v))), float(np.round(v @ solve(-v)))
        out.append(low if low == high else None)
    return out


def _cells(year: int, last_month: int, read) -> tuple[int, dict[tuple[str, str], list[tuple]]]:
    """How many unknowns there are (a site's count of a sex and age band in a month), and for
    each (code, count field): every cell read, as (the unknowns it sums, its number or None
    when hidden, where it is shown)."""
    from salus.core.models import Area, Site
    from salus.indicators.engine import AGE_BANDS, MEASURES, SEXES
    from salus.indicators.release import place_fields, suppressed_indicators
    from salus.indicators.suppression import adds_over_time

    read = read or (lambda period, area, site: suppressed_indicators(period, area=area, site=site, cached=True))
    months = [f"{year}-{m:02d}" for m in range(1, last_month + 1)]
    # A quarter or the year is the sum of the months read when it has no other months: it
    # lies within them, or the months after them have not come yet.
    whole = year >= dt.date.today().year
    periods = {m: [m] for m in months}
    for q in range(1, 5):
        in_quarter = [m for m in months if (int(m[5:]) - 1) // 3 + 1 == q]
        if in_quarter and (whole or len(in_quarter) == 3):
            periods[f"{year}Q{q}"] = in_quarter
    if whole or last_month == 12:
        periods[str(year)] = months
    site_area = {s.code: s.area.path for s in Site.objects.select_related("area")}
    pages: dict[tuple[str | None, str | None], set[str]] = {(None, None): set(site_area)}
    for a in Area.objects.all():
        pages[(a.path, None)] = {s for s, path in site_area.items() if path == a.path or path.startswith(a.path + "/")}
    for s in site_area:
        pages[(None, s)] = {s}
    unknown = {key: i for i, key in enumerate(
        (s, sex, age, m) for s in sorted(site_area) for sex in SEXES for age in AGE_BANDS for m in months)}

    cells: dict[tuple[str, str], list[tuple[tuple[int, ...], float | None, tuple]]] = {}
    for (area, site), sites in pages.items():
        for period, in_period in periods.items():
            for c in read(period, area, site):
                dis = c.get("disaggregation") or {}
                if not adds_over_time(c) or not (set(dis) <= {"sex", "age"} or set(dis) in ({"area"}, {"area", "site"})):
                    continue
                covered = sites
                if "site" in dis:
                    covered = {dis["site"]}
                elif "area" in dis:
                    covered = {s for s in sites if site_area[s] == dis["area"]}
                row = tuple(sorted(
                    unknown[(s, sex, age, m)] for s in covered for sex in ([dis["sex"]] if "sex" in dis else SEXES)
                    for age in ([dis["age"]] if "age" in dis else AGE_BANDS) for m in in_period))
                for field, measure in zip(("numerator", "denominator"), MEASURES[c["code"]], strict=True):
                    if measure is None or field not in place_fields(c["code"]):
                        continue  # a count has no denominator
                    where = (area or site or "program", period, dis)
                    cells.setdefault((c["code"], field), []).append((row, c.get(field), where))
    return len(unknown), cells


def _attack(n: int, counts: list[tuple[list[tuple], list[int]]], bounds: bool, whole_numbers: bool):
    """The reader's work over ``counts``: each is (its cells as ``_cells`` gives them, the
    blocks of ``n`` unknowns its cells sum). One count is one block; a count that is at most
    another is the first block of the other, whose second block is the difference (no count
    negative makes it at least the first). For each count, the hidden cells worked out, as
    (where, value); ``whole_numbers``: also those that only one whole number fits."""
    import numpy as np
    import scipy.sparse

    def spread(row, blocks):
        return tuple(block * n + i for block in blocks for i in row)

    shown: dict[tuple[int, ...], float] = {}
    hidden: list[dict[tuple[int, ...], tuple]] = []
    for rows, blocks in counts:
        shown.update({spread(row, blocks): float(value) for row, value, _w in rows if value is not None})
    for rows, blocks in counts:
        hidden.append({spread(row, blocks): where for row, value, where in rows
                       if value is None and spread(row, blocks) not in shown})
    used = sorted({i for row in [*shown, *(r for h in hidden for r in h)] for i in row})
    col = {u: j for j, u in enumerate(used)}
    a = np.zeros((len(shown), len(used)))
    for k, row in enumerate(shown):
        a[k, [col[i] for i in row]] = 1.0
    b = np.array(list(shown.values()))
    known = a
    solution = np.zeros(len(used))
    if bounds and shown:
        zero, solution = zeros(scipy.sparse.csr_matrix(a), b)
        known = np.vstack([a, np.eye(len(used))[zero]])
    elif shown:
        solution = np.linalg.lstsq(a, b, rcond=None)[0]
    basis = np.zeros((len(used), 0))
    if known.shape[0]:
        u, sv, _vt = np.linalg.svd(known.T, full_matrices=False)
        basis = u[:, sv > 1e-9 * sv[0]]
    out = []
    for cells in hidden:
        found, left = [], []
        for row, where in cells.items():
            v = np.zeros(len(used))
            v[[col[i] for i in row]] = 1.0
            if np.abs(v - basis @ (basis.T @ v)).max() < 1e-6:
                found.append((where, round(float(v @ solution), 6)))
            else:
                left.append((v, where))
        by_whole = []
        if whole_numbers and left and shown:
            values = whole_number_values(scipy.sparse.csr_matrix(a), b, [v for v, _w in left])
            by_whole = [(where, value) for (_v, where), value in zip(left, values, strict=True) if value is not None]
        out.append((len(cells), found, by_whole))
    return out


def worked_out(year: int, last_month: int = 12, read=None, bounds: bool = True,
               whole_numbers: bool = False, together: bool = False) -> dict[tuple[str, str], tuple[int, list[tuple]]]:
    """For each (code, count field) with hidden cells: how many are hidden, and each one that
    can be worked out, as (where it is shown hidden: place, period, breakdown; the number it
    is worked out to be). ``read`` is how a page is read (default: ``suppressed_indicators``,
    as the web app and files give it); months after ``last_month`` are left out, with the
    quarters and the year that hold them (unless they have not come yet). ``bounds``: the
    reader also uses that no count is negative; ``whole_numbers``: and that counts are whole
    (those found only that way come after the others); ``together``: and that positives are
    at most the results given, completed referrals at most those made, and results and new
    clients at most the contacts (``AT_MOST``), each pair attacked together (bounds implied),
    then positives, results and contacts as one chain (``CHAINS``)."""
    from salus.indicators.engine import MEASURES

    n, cells = _cells(year, last_month, read)
    out: dict[tuple[str, str], tuple[int, list[tuple]]] = {}
    keys = sorted(cells)
    if not together:
        for key in keys:
            (hidden, found, by_whole), = _attack(n, [(cells[key], [0])], bounds, whole_numbers)
            if hidden:
                out[key] = (hidden, found + by_whole)
        return out
    measure_of = {key: MEASURES[key[0]][0 if key[1] == "numerator" else 1] for key in keys}
    for low, high in AT_MOST:
        pair = [k for k in keys if measure_of[k] == low] + [k for k in keys if measure_of[k] == high]
        if not pair:
            continue
        results = _attack(n, [(cells[k], [0] if measure_of[k] == low else [0, 1]) for k in pair], True, whole_numbers)
        for key, (hidden, found, by_whole) in zip(pair, results, strict=True):
            if hidden:
                # A count in two pairs (results: with positives, with contacts) keeps what both found.
                before = out.get(key, (hidden, []))[1]
                out[key] = (hidden, before + [f for f in found + by_whole if f not in before])
    for chain in CHAINS:
        # Each count of a chain sums the blocks up to its own: the first count, then each
        # increment (none negative).
        members = [(k, list(range(chain.index(measure_of[k]) + 1))) for k in keys if measure_of[k] in chain]
        if len({tuple(blocks) for _k, blocks in members}) < 2:
            continue
        results = _attack(n, [(cells[k], blocks) for k, blocks in members], True, whole_numbers)
        for (key, _blocks), (hidden, found, by_whole) in zip(members, results, strict=True):
            if hidden:
                before = out.get(key, (hidden, []))[1]
                out[key] = (hidden, before + [f for f in found + by_whole if f not in before])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=dt.date.today().year)
    parser.add_argument("--sums-only", action="store_true",
                        help="the reader uses the sums alone, not that no count is negative")
    parser.add_argument("--whole-numbers", action="store_true",
                        help="the reader also uses that counts are whole numbers (mixed-integer programs; slower)")
    parser.add_argument("--together", action="store_true",
                        help="only the counts that are at most another (positives and results given, referrals"
                             " completed and made, results and new clients with contacts), each pair together: the reader also uses"
                             " that one is at most the other")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salus.settings")
    import django

    django.setup()
    today = dt.date.today()
    from salus.core.config import program_config

    threshold = program_config().suppression_threshold
    total = small_found = zeros_found = 0
    last = 12 if args.year < today.year else today.month
    for (code, field), (hidden, found) in worked_out(args.year, last, bounds=not args.sums_only,
                                                       whole_numbers=args.whole_numbers, together=args.together).items():
        zero = sum(1 for _where, value in found if value == 0)
        small = [f for f in found if 0 < f[1] < threshold]
        total += len(found) - zero
        small_found += len(small)
        zeros_found += zero
        print(f"{code} {field}: {hidden} hidden, {len(found) - zero} worked out ({len(small)} of them small;"
              f" and {zero} zeros)", *(small or [f for f in found if f[1] != 0])[:3], flush=True)
    print(f"worked out in all: {total}, {small_found} of them small counts (1 to {threshold - 1});"
          f" and {zeros_found} zeros")
    return 0


if __name__ == "__main__":
    sys.exit(main())
