"""Small-cell suppression for everything that leaves the system.

A count from 1 to ``threshold - 1`` (program configuration ``suppression_threshold``, default
5: counts 1-4) could point at a person, so it is never shown (*primary suppression*). Hiding
it is not enough when the total and the other cells of its group are shown: the hidden cell
would be their difference. So, in every additive group (a parent cell and the cells that add
up to it), a group with exactly one hidden member gets a second one: the smallest non-zero
shown member (*complementary suppression*), repeated until no group has exactly one hidden
member. A final linear-algebra check then makes sure that no hidden cell can be solved from
all the equations together, hiding more cells if needed. Proportions, ratios and rates are
hidden when their numerator or denominator is hidden.

Counts that add up over time (an indicator's ``adds_over_time``: tests, contacts, new
clients...) are also linked across periods: a quarter is the sum of its months, a year of its
quarters. Hiding a small month is no use if the quarter and the other two months are shown,
on another page or in another export. Cells of such an indicator given together for several
periods of one calendar year are one table, with those sums among its groups; see
salus.indicators.release for how every published period is suppressed against the whole year.

``suppress_groups`` is a pure function over cell dicts; reports, exports and the care and
rights reports all use it.
"""

from __future__ import annotations

import heapq
from collections import defaultdict

from django.utils.translation import gettext as _

# Fields that may hold an additive count, in the order they are checked.
COUNT_FIELDS = ("numerator", "denominator")
# Fields derived from the counts: hidden with them.
DERIVED_FIELDS = ("value", "programme_value", "value_low", "value_high", "level")
# A cell's key holding ``{count field: True (hidden) or False (shown)}`` for counts whose fate
# another table settled (see :func:`protect`); taken off the cells suppress_groups returns.
HELD = "_held"


def _table_key(cell: dict) -> tuple:
    # The periods of one calendar year are one table when the counts add up over time.
    period = cell.get("period")
    if period and adds_over_time(cell):
        period = str(period)[:4]
    return (cell.get("code"), period, cell.get("area"), cell.get("site"))


def _freeze(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def _is_person_based(cell: dict) -> bool:
    if "person_based" in cell:
        return bool(cell["person_based"])
    from salus.indicators import catalogue

    ind = catalogue.BY_CODE.get(cell.get("code") or "")
    return ind.person_based if ind else True


def adds_over_time(cell: dict) -> bool:
    """Whether the cell's counts add up over time (the cell says so, or its indicator does)."""
    if "adds_over_time" in cell:
        return bool(cell["adds_over_time"])
    from salus.indicators import catalogue

    ind = catalogue.BY_CODE.get(cell.get("code") or "")
    return ind.adds_over_time if ind else False


def _additive_fields(cells: list[dict]) -> list[str]:
    """The count fields of a table: numerator and denominator where every cell has them,
    else ``value`` (a plain count table, e.g. from the care reports)."""
    fields = [f for f in COUNT_FIELDS if all(isinstance(c.get(f), int | float) for c in cells)]
    if fields:
        return fields
    if all(isinstance(c.get("value"), int | float) for c in cells):
        return ["value"]
    return []


def equations(cells: list[dict]) -> list[tuple[int, list[int]]]:
    """The additive groups of one table as (parent index, child indexes).

    Within a period, a cell with disaggregation D adds up, with the cells that share its
    dimensions and agree with it on all but one dimension k, to the cell D minus k, when that
    cell is present: ``{"sex": "F"}`` cells add to the total ``{}``; ``{"sex", "age"}`` cells to
    their sex cell and to their age cell; ``{"area", "site"}`` cells to their area cell.

    Across periods (a table of several periods, see :func:`_table_key`), each cell of a
    quarter is the sum of the same cell of the quarter's months in the table, and each cell of
    a year the sum of its quarters' (of its months' when the table has no quarter of it).
    A group is written for whatever sub-periods are present; one that does not really add up
    only makes suppression hide more, never less.
    """
    index = {(_period(c), _freeze(c.get("disaggregation") or {})): i for i, c in enumerate(cells)}
    groups: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(cells):
        dis = c.get("disaggregation") or {}
        for k in dis:
            parent = {kk: vv for kk, vv in dis.items() if kk != k}
            pkey = (_period(c), _freeze(parent))
            if pkey in index:
                groups[(pkey, tuple(sorted(dis)), k)].append(i)
    out = [(index[pkey], children) for (pkey, _dims, _k), children in groups.items()]
    return out + _time_equations(cells, index)


def quarter_and_year(month: str) -> tuple[str, str]:
    """The labels of the quarter and the year a month (``2025-03`` or ``202503``) lies in."""
    from salus.indicators.periods import parse_period

    start = parse_period(month).start
    return f"{start.year}Q{(start.month - 1) // 3 + 1}", str(start.year)


def with_quarters_and_year(months: list[dict], fields: tuple[str, ...]) -> list[dict]:
    """``months`` (cells of months of one calendar year), then, for each code and breakdown, a
    cell for each quarter and one for the year: a copy of its first month's cell whose
    ``fields`` are the sums of its months' (a field that month does not give stays None; one
    missing from a later month counts for nothing) and whose derived values are None.
    """
    sums: dict[tuple, dict] = {}
    for c in months:
        for period in quarter_and_year(str(c["period"])):
            key = (c.get("code"), period, _freeze(c.get("disaggregation") or {}))
            cell = sums.get(key)
            if cell is None:
                cell = sums[key] = {**c, "period": period, "disaggregation": dict(c.get("disaggregation") or {}),
                                    **{f: None for f in DERIVED_FIELDS},
                                    **{f: 0 if isinstance(c.get(f), int | float) else None for f in fields}}
            for f in fields:
                if cell[f] is not None:
                    cell[f] += c.get(f) or 0
    return [*months, *sums.values()]


def _order(cell: dict) -> tuple[str, str]:
    """Where a cell stands in its table: by period, then by breakdown."""
    return (str(cell.get("period") or ""), repr(_freeze(cell.get("disaggregation") or {})))


def _period(cell: dict) -> str | None:
    """A cell's period as text (the engine's labels: ``2025``, ``2025Q1``, ``2025-03``)."""
    period = cell.get("period")
    return str(period) if period else None


def _time_equations(cells: list[dict], index: dict[tuple, int]) -> list[tuple[int, list[int]]]:
    from salus.indicators.periods import PeriodError, parse_period

    parsed = {}
    for label in sorted({str(c["period"]) for c in cells if c.get("period")}):
        try:
            parsed[label] = parse_period(label)
        except PeriodError:
            continue  # not a calendar period: linked to no other
    if len(parsed) < 2:
        return []

    def within(kind: str, outer) -> list[str]:
        return sorted(label for label, p in parsed.items()
                      if p.kind == kind and outer.start <= p.start and p.end <= outer.end)

    out = []
    for label, p in parsed.items():
        if p.kind == "quarter":
            parts = within("month", p)
        elif p.kind == "year":
            parts = within("quarter", p) or within("month", p)
        else:
            continue
        if not parts:
            continue
        for (period, dis), i in index.items():
            if period != label:
                continue
            children = [index[(part, dis)] for part in parts if (part, dis) in index]
            if children:
                out.append((i, children))
    return out


def groups_of(eqs: list[tuple[int, list[int]]]) -> dict[int, list[int]]:
    """Each cell's groups, as indexes into ``eqs`` (for :func:`complement`)."""
    out: dict[int, list[int]] = defaultdict(list)
    for e, (parent, children) in enumerate(eqs):
        out[parent].append(e)
        for m in children:
            out[m].append(e)
    return out


def forced_zeros(a, rhs, candidates):
    """Which of the unknowns ``candidates`` (column indexes of ``a``) are zero in every
    solution of ``a x = rhs`` with ``x >= 0``: counts a reader can work out to be zero from
    the sums shown and the fact that no count is negative, where the sums alone would not pin
    them. ``a`` is a sparse matrix (an equation per row, over the unknowns), ``rhs`` its
    values; returns a boolean array over ``candidates``.

    Callers pass as candidates only the unknowns whose true count is zero: a count that is
    not zero in one solution (the true one) is not zero in all of them. One linear program
    answers for all of them: maximise the sum of ``t`` with ``0 <= t_j <= 1`` and
    ``t_j <= x_j``, over the solutions scaled by any ``s >= 1`` (``a x = s rhs``). Scaling
    lets every unknown that can be positive reach 1 at once (the average of solutions where
    each is positive is a solution where all are), so ``t_j`` ends at 1 for those and at 0
    for the forced zeros. Should the solver fail, every candidate is taken as forced: the
    audit then hides more, never less.
    """
    import numpy as np
    import scipy.optimize
    import scipy.sparse

    candidates = np.asarray(candidates, dtype=np.int64)
    if not candidates.size:
        return np.zeros(0, dtype=bool)
    rows, n = a.shape
    k = candidates.size
    equalities = scipy.sparse.hstack([
        scipy.sparse.csr_matrix(a), scipy.sparse.csr_matrix((rows, k)),
        scipy.sparse.csr_matrix(-np.asarray(rhs, dtype=float).reshape(-1, 1))], format="csr")
    # t_j - x_{candidate j} <= 0
    at_most = scipy.sparse.hstack([
        -scipy.sparse.csr_matrix((np.ones(k), (np.arange(k), candidates)), shape=(k, n)),
        scipy.sparse.identity(k, format="csr"), scipy.sparse.csr_matrix((k, 1))], format="csr")
    objective = np.concatenate([np.zeros(n), -np.ones(k), [0.0]])
    bounds = [(0, None)] * n + [(0, 1)] * k + [(1, None)]
    result = scipy.optimize.linprog(objective, A_ub=at_most, b_ub=np.zeros(k), A_eq=equalities,
                                    b_eq=np.zeros(rows), bounds=bounds, method="highs")
    if result.status != 0:
        return np.ones(k, dtype=bool)
    return result.x[n:n + k] < 0.5


# The most branch-and-bound nodes one mixed-integer program of :func:`whole_number_fixed` may
# use: one that needs more is answered "fixed", so the audit hides more, never less. A count
# of nodes rather than a time, so that every page gets the same answer whatever the machine's
# load (the pages must agree). The demo's programs solve in their first node.
WHOLE_NUMBER_NODE_LIMIT = 1_000


def whole_number_fixed(a, rhs, truth, targets, *, tries: int = 2, seed: int = 0):
    """Which ``targets`` (a sparse matrix: a row per hidden cell, over the unknowns) have the
    same value in every solution of ``a x = rhs`` in whole numbers ``x >= 0``: counts a reader
    can work out from the sums shown, no count being negative and every count being whole,
    where real numbers leave them a range (a range from 1.5 to 2.6 holds only 2). ``truth`` is
    the true counts, one such solution; returns a boolean array over the targets.

    A target is free as soon as two whole-number solutions differ on it: the true one, a few
    found for random objectives (``tries``, from ``seed``), and every one found since. A
    target on which all of those agree gets two mixed-integer programs (HiGHS, through
    SciPy's ``milp``), its least and its most. A program that fails or needs more than
    ``WHOLE_NUMBER_NODE_LIMIT`` nodes leaves its target taken as fixed: the audit then hides
    more, never less.
    """
    import numpy as np
    import scipy.optimize
    import scipy.sparse

    if not targets.shape[0]:
        return np.zeros(0, dtype=bool)
    n = a.shape[1]
    problem = {
        "constraints": scipy.optimize.LinearConstraint(scipy.sparse.csr_matrix(a), rhs, rhs),
        "integrality": np.ones(n), "bounds": scipy.optimize.Bounds(0, np.inf),
        "options": {"node_limit": WHOLE_NUMBER_NODE_LIMIT},
    }

    def solve(objective):
        result = scipy.optimize.milp(objective, **problem)
        if result.status != 0:
            return None
        x = np.round(result.x)
        # A solution that does not solve the sums would free cells it should not: a solver's
        # slip (HiGHS was seen to end on a wrong optimum) counts as a failed program.
        if (x < 0).any() or np.abs(a @ x - rhs).max() > 0.5:
            return None
        return x

    return one_valued(targets, truth, solve, tries=tries, seed=seed, tolerance=0.5)


def one_valued(targets, truth, solve, *, tries: int, tolerance: float, seed: int = 0, aimed: bool = True):
    """Which rows of ``targets`` (sparse, a row per hidden cell over the unknowns) take one
    value only over the solutions ``solve(objective)`` finds (an array over the unknowns, or
    None when the program fails: the row is then taken as one-valued, so the audit hides
    more, never less). ``truth`` is one solution, the true counts; two values closer than
    ``tolerance`` are the same (0.5 for whole numbers, a rounding error for real ones).

    A row is free as soon as two solutions differ on it: ``truth``, ``tries`` found for
    random objectives (from ``seed``: every page must get the same answer), those found for
    programs aimed at the rows still agreeing (``aimed``: their sum with random signs, while
    each such program moves one), and every one found since; a row on which all of those
    agree gets two programs, its least and its most. Rows over the same unknowns with the
    same weights get the same answer, asked once. Which solutions are found changes how many
    programs are solved, not the answer, save where a row's own program fails: a solution
    found before may have freed it. Returns a boolean array over the rows.
    """
    import numpy as np
    import scipy.sparse

    targets = scipy.sparse.csr_matrix(targets)
    targets.sum_duplicates()
    fixed = np.zeros(targets.shape[0], dtype=bool)
    if not targets.shape[0]:
        return fixed
    # Each row's value in the true solution, and whether a solution found so far gives it
    # another: one product over every row per solution, rather than one per row.
    value = targets @ np.asarray(truth, dtype=float)
    differs = np.zeros(targets.shape[0], dtype=bool)

    def found_one(x) -> None:
        differs[:] |= np.abs(targets @ x - value) > tolerance

    rng = np.random.default_rng(seed)
    for _try in range(tries):
        found = solve(rng.normal(size=targets.shape[1]))
        if found is not None:
            found_one(found)
    if aimed:
        # Then programs aimed at the rows every solution so far agrees on: their sum, each
        # with a random sign, taken to its least. A row that can move mostly moves in that
        # one program, where asking it alone takes one or two; a program that moves none
        # ends these, and the rows left are asked one by one.
        while True:
            agreeing = np.flatnonzero(~differs)
            if agreeing.size < 2:
                break
            found = solve(targets[agreeing].T @ rng.choice((-1.0, 1.0), size=agreeing.size))
            if found is None:
                break
            found_one(found)
            if not differs[agreeing].any():
                break
    answer: dict[bytes, bool] = {}
    for j in range(targets.shape[0]):
        span = slice(targets.indptr[j], targets.indptr[j + 1])
        key = targets.indices[span].tobytes() + targets.data[span].tobytes()
        if key not in answer:
            answer[key] = not differs[j] and _one_value(targets[j].toarray().ravel(), j, differs, found_one, solve)
        fixed[j] = answer[key]
    return fixed


def _one_value(row, j: int, differs, found_one, solve) -> bool:
    """Whether ``row`` (row ``j`` of :func:`one_valued`'s targets, on which every solution
    found so far agrees) has one value: its least and its most. Each solution found goes to
    ``found_one``, which marks in ``differs`` the rows it gives another value."""
    for sign in (1.0, -1.0):
        found = solve(sign * row)
        if found is None:
            return True
        found_one(found)
        if differs[j]:
            return False
    return True


def smallest_shown(values: list[float], cells, cost=None) -> int:
    """Of ``cells`` (indexes into ``values``), the one to hide as a complement: a non-zero one
    first (a zero hidden tells nothing a reader did not know), then the lowest ``cost`` (any
    mapping from a cell to a number; None: all alike), then the smallest value, then the
    lowest index."""
    return min(cells, key=lambda m: (values[m] <= 0, 0 if cost is None else cost[m], values[m], m))


def complement(values: list[float], hidden: set[int], eqs: list[tuple[int, list[int]]],
               held_shown: frozenset[int] | set[int] = frozenset(), *,
               index: dict[int, list[int]] | None = None, added: set[int] | None = None) -> None:
    """Hide more cells until no group has exactly one hidden member (modifies ``hidden``).

    Cells of ``held_shown`` are picked only when a group has no other cell to give. Groups
    are looked at in their order, pass after pass until a pass changes nothing; a pass looks
    again only at the groups a cell hidden since their last look belongs to (the others
    would decide as they did), which gives what looking at every group would. ``index`` is
    :func:`groups_of` ``eqs``, when the caller keeps it; ``added``, the cells hidden since
    ``hidden`` last came out of this function with the same ``eqs`` (only their groups can
    have changed).
    """
    index = groups_of(eqs) if index is None else index
    current = list(range(len(eqs))) if added is None else sorted({e for m in added for e in index.get(m, ())})
    while current:
        heap, queued, later = current, set(current), set()
        heapq.heapify(heap)
        while heap:
            e = heapq.heappop(heap)
            queued.discard(e)
            parent, children = eqs[e]
            members = [parent, *children]
            unknown = [m for m in members if m in hidden]
            if len(unknown) != 1:
                continue
            shown = [m for m in members if m not in hidden]
            shown = [m for m in shown if m not in held_shown] or shown
            # The smallest non-zero shown member; children before the parent on a tie.
            pick = min(
                (m for m in shown if values[m] > 0),
                key=lambda m: (values[m], m == parent, m),
                default=None,
            )
            if pick is None:
                pick = min(shown, key=lambda m: (m == parent, values[m], m))
            hidden.add(pick)
            for f in index[pick]:
                if f > e and f not in queued:  # still ahead in this pass
                    heapq.heappush(heap, f)
                    queued.add(f)
                elif f <= e:
                    later.add(f)
        current = sorted(later)


def _determined(values: list[float], hidden: set[int], eqs: list[tuple[int, list[int]]],
                solved: dict[tuple, list[int]] | None = None, bounds: bool = False) -> list[int]:
    """Hidden cells that the equations pin down exactly, given the shown cells (``solved``
    keeps the answer for each connected set of hidden cells, for the next call).

    ``bounds``: also with what no count being negative tells. Hidden zeros a reader can work
    out that way (:func:`forced_zeros`) are then known, and the hidden cells they pin are
    returned, zeros apart (a zero points at nobody). Meant for when the sums alone pin
    nothing: a set with no hidden zero is not asked again."""

    if not hidden:
        return []
    solved = {} if solved is None else solved
    # Equations that mention a hidden cell, as its hidden members with their signs (and what
    # the shown members make the hidden ones add up to). Hidden cells that share no equation
    # cannot help solve each other: each connected set of them is solved on its own (a
    # year's table holds thousands of cells, most in small sets).
    rows: list[list[tuple[int, float]]] = []
    sums: list[float] = []
    for parent, children in eqs:
        terms = [(m, -1.0) for m in children if m in hidden]
        if parent in hidden:
            terms.append((parent, 1.0))
        if terms:
            rows.append(terms)
            if bounds:
                shown = sum(values[m] for m in children if m not in hidden)
                sums.append(shown - (0.0 if parent in hidden else values[parent]))
    if not rows:
        return []  # no group links a hidden cell to shown ones: nothing can be solved
    root = {m: m for m in hidden}

    def find(m: int) -> int:
        while root[m] != m:
            root[m] = root[root[m]]
            m = root[m]
        return m

    for terms in rows:
        first = find(terms[0][0])
        for m, _coef in terms[1:]:
            root[find(m)] = first
    parts: dict[int, list[int]] = defaultdict(list)
    for r, terms in enumerate(rows):
        parts[find(terms[0][0])].append(r)
    out = []
    for part in parts.values():
        part_rows = [rows[r] for r in part]
        unknowns = sorted({m for terms in part_rows for m, _coef in terms})
        if bounds:
            out += _pinned_by_zeros(values, unknowns, part_rows, [sums[r] for r in part])
            continue
        # A connected set's equations are those of its hidden cells: the same set, the same
        # answer (protection adds cells one at a time; most sets are left as they were).
        key = tuple(unknowns)
        if key not in solved:
            pinned = _pinned(_matrix(unknowns, part_rows))
            solved[key] = [m for m, is_pinned in zip(unknowns, pinned, strict=True) if is_pinned]
        out += solved[key]
    return sorted(out)


def _pinned_by_zeros(values: list[float], unknowns: list[int], part_rows: list[list[tuple[int, float]]],
                     rhs: list[float]) -> list[int]:
    """For :func:`_determined` with ``bounds``: the hidden cells of one connected set
    (``unknowns``, with its equations ``part_rows`` adding up to ``rhs``), zeros apart, that
    its hidden cells worked out to be zero pin down."""
    import numpy as np
    import scipy.sparse

    candidates = [j for j, m in enumerate(unknowns) if values[m] == 0]
    if not candidates:
        return []
    a = _matrix(unknowns, part_rows)
    zero = np.zeros(len(unknowns), dtype=bool)
    zero[np.asarray(candidates)[forced_zeros(scipy.sparse.csr_matrix(a), rhs, candidates)]] = True
    if not zero.any():
        return []
    others = [m for m, z in zip(unknowns, zero, strict=True) if not z]
    if not others:
        return []
    # What is left once the zeros are known: a cell is pinned when its unit vector lies in the
    # row space of the equations over the other cells.
    pinned = _pinned(a[:, ~zero])
    return [m for m, is_pinned in zip(others, pinned, strict=True) if values[m] != 0 and is_pinned]


def _matrix(unknowns: list[int], part_rows: list[list[tuple[int, float]]]):
    """The equations ``part_rows`` (each a list of (cell, coefficient)) as a dense matrix over
    ``unknowns`` (sorted cell indexes), a column per unknown."""
    import numpy as np

    col = {m: j for j, m in enumerate(unknowns)}
    a = np.zeros((len(part_rows), len(unknowns)))
    for r, terms in enumerate(part_rows):
        for m, coef in terms:
            a[r, col[m]] += coef
    return a


# _pinned asks random vectors of the null space first for systems of at least this many
# entries (rows x unknowns): below it one QR takes less time than the vectors.
_CERTIFY_FROM = 20_000
# How many random vectors, and how far from zero a vector's entry must be to show that its
# unknown is free (see _certainly_free).
_NULL_DRAWS = 3
_FREE_ABOVE = 1e-3
# The named random stream of those vectors: fixed, so that every page gets the same answer.
_NULL_SEED = 20261128


def _pinned(a):
    """Per unknown (column) of the equations ``a`` (dense, a row per equation), whether they
    pin it down: whether its unit vector lies in their row space.

    When every unknown of a large system is shown free by :func:`_certainly_free` (as in a
    protection's last round, which finds nothing left to hide), that is the answer; otherwise
    the rank-revealing QR of :func:`_row_space` decides every unknown, as it always did."""
    import numpy as np

    if a.size >= _CERTIFY_FROM:
        free = _certainly_free(a)
        if free.all():
            return np.zeros(a.shape[1], dtype=bool)
    basis = _row_space(a)
    return (basis ** 2).sum(axis=1) > 1 - 1e-9


def _certainly_free(a):
    """Per unknown (column) of ``a``, True where a vector of its null space shows it free.

    A vector z with a z = 0 changes no sum, so a table that differs from the true one by z
    shows the same sums: every unknown where z is not zero is free. Each of _NULL_DRAWS
    random vectors is taken into the null space by two least-squares passes (LSQR, sparse:
    about 0.06 s on a national page's largest system, 2,062 equations over 3,344 unknowns,
    where its QR takes 1.9 s). An unknown is taken as shown free where some vector's entry
    is over _FREE_ABOVE while ``|a z|`` stays under 1e-9 everywhere: were the unknown pinned,
    with its unit vector ``w·a``, the entry would be ``w·(a z)``, which needs weights ``w``
    adding up to a million where the pages' sums use small whole numbers. An unknown the
    QR would call pinned (its distance from the row space under 3·10⁻⁵) has an entry over
    _FREE_ABOVE with odds under 10⁻²⁰⁰. On the national benchmark's systems a pinned
    unknown's entries stayed under 2·10⁻¹⁵ and a free one's largest over 0.02. A vector
    that does not reach the null space shows nothing (the QR then decides)."""
    import numpy as np
    import scipy.sparse
    import scipy.sparse.linalg

    sums = scipy.sparse.csr_matrix(a)
    rng = np.random.default_rng(_NULL_SEED)
    free = np.zeros(a.shape[1], dtype=bool)
    for _draw in range(_NULL_DRAWS):
        z = rng.standard_normal(a.shape[1])
        # The first pass leaves what it has not converged on; the second takes that out.
        for _pass in range(2):
            z = z - sums.T @ scipy.sparse.linalg.lsqr(sums.T, z, atol=1e-15, btol=1e-15)[0]
        if sums.shape[0] and np.abs(sums @ z).max() > 1e-9:
            continue
        free |= np.abs(z) > _FREE_ABOVE
        if free.all():
            break
    return free


def _row_space(a):
    """An orthonormal basis of the row space of ``a`` (dense), a column per basis vector, from
    a rank-revealing QR of its transpose. Unknown j is determined by the rows exactly when
    the unit vector e_j lies in that space, i.e. when row j of the basis has length 1."""
    import numpy as np
    import scipy.linalg

    q, r, _order = scipy.linalg.qr(a.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > 1e-9 * max(1.0, float(diagonal[0]) if diagonal.size else 1.0)).sum())
    return q[:, :rank]


def first_hidden(values: list[float], threshold: int, eqs: list[tuple[int, list[int]]], *,
                 held_hidden: frozenset[int] | set[int] = frozenset(),
                 held_shown: frozenset[int] | set[int] = frozenset()) -> set[int]:
    """What :func:`protect` hides before its audit: the small counts, ``held_hidden``, and the
    complements that leave no group with exactly one hidden member. Cheap (no linear algebra);
    the audit's cost grows with the cube of this set's size."""
    hidden = {i for i, v in enumerate(values) if 0 < v < threshold} | set(held_hidden)
    if hidden:
        complement(values, hidden, eqs, held_shown)
    return hidden


def protect(values: list[float], threshold: int, eqs: list[tuple[int, list[int]]], *,
            held_hidden: frozenset[int] | set[int] = frozenset(),
            held_shown: frozenset[int] | set[int] = frozenset()) -> set[int]:
    """The indexes of ``values`` to hide: the small ones, ``held_hidden``, and what protects
    them in the groups ``eqs`` (parent index, child indexes).

    ``held_hidden`` and ``held_shown`` are cells whose fate another table has settled (the
    same number published elsewhere, salus.indicators.release): the first are hidden from the
    start, the second are never chosen to protect another cell while a group has any other
    cell to give. A small count is hidden even if held shown.
    """
    hidden = first_hidden(values, threshold, eqs, held_hidden=held_hidden, held_shown=held_shown)
    if not hidden:
        return hidden
    memberships = [(parent, *children) for parent, children in eqs]
    index = groups_of(eqs)
    solved: dict[tuple, list[int]] = {}
    while True:
        exposed = [m for m in _determined(values, hidden, eqs, solved) if _linked(m, eqs)]
        if not exposed:
            # The sums alone pin nothing: now with what no count being negative tells.
            exposed = [m for m in _determined(values, hidden, eqs, bounds=True) if _linked(m, eqs)]
        if not exposed:
            return hidden
        # For each exposed cell, hide the smallest non-zero shown cell of a group around it
        # (one cell for all the exposed cells of those groups: it may free them all); each
        # round solves the equations again, and a year's table can take seconds to solve.
        # An exposed cell whose groups are all hidden already (solved through a chain of
        # groups) waits for the others; if all are such, a group around any exposed cell
        # gives one, failing that any group with a hidden cell.
        picks: set[int] = set()
        settled: set[int] = set()
        for target in exposed:
            if target in settled:
                continue
            around = [members for members in memberships if target in members]
            # A cell held shown is published elsewhere: hiding it here would protect nothing.
            shown = {m for members in around for m in members if m not in hidden and m not in held_shown}
            if shown:
                picks.add(smallest_shown(values, shown))
                settled.update(m for members in around for m in members)
        if not picks:
            # Failing that, any free cell of a group around an exposed cell, then around any
            # hidden cell; a cell held shown only when there is nothing else at all.
            for near, free in ((set(exposed), True), (hidden, True), (set(exposed), False)):
                shown = {m for members in memberships if not near.isdisjoint(members)
                         for m in members if m not in hidden and (not free or m not in held_shown)}
                if shown:
                    picks.add(smallest_shown(values, shown))
                    break
        if not picks:
            return hidden
        hidden |= picks
        complement(values, hidden, eqs, held_shown, index=index, added=picks)


def _linked(m: int, eqs) -> bool:
    return any(m == p or m in ch for p, ch in eqs)


def suppress_groups(cells: list[dict], threshold: int | None = None, *, solve=None) -> list[dict]:
    """Return copies of ``cells`` with small counts and the cells that would reveal them hidden.

    ``cells`` are dicts like the engine's rows: ``disaggregation`` (``{}`` for the total),
    ``value`` and, for proportions/ratios, ``numerator`` and ``denominator``; ``code``,
    ``period``, ``area``, ``site`` (when present) separate tables. Each table must hold every
    cell of each group it contains (zeros included), as the engine returns them.
    ``threshold`` defaults to the program's ``suppression_threshold``.

    Hidden numbers become ``None``; a cell with anything hidden gets ``suppressed: True`` and a
    note. Tables of indicators not about people (STOCKOUT_DAYS) are returned unchanged. A cell
    may carry ``HELD`` (see :func:`protect`).

    ``solve`` (or None for :func:`protect`): called as :func:`protect` is, for each table and
    count field, to give the same answer (salus.indicators.release keeps answers with it).
    """
    if threshold is None:
        from salus.core.config import program_config

        threshold = program_config().suppression_threshold
    out = [dict(c) for c in cells]
    for c in out:
        c.setdefault("suppressed", False)
    if threshold <= 1:
        return out
    tables: dict[tuple, list[int]] = defaultdict(list)
    for i, c in enumerate(out):
        tables[_table_key(c)].append(i)
    for members in tables.values():
        # In an order of their own, not the order given: ties between equal counts are broken
        # by position, and the same numbers must hide the same cells however they come (two
        # pages of one year, read by one person, would otherwise undo each other).
        table = sorted((out[i] for i in members), key=_order)
        if not _is_person_based(table[0]):
            continue
        eqs = equations(table)
        for field in _additive_fields(table):
            values = [float(c[field]) for c in table]
            held = [(c.get(HELD) or {}).get(field) for c in table]
            for j in (solve or protect)(values, threshold, eqs,
                                        held_hidden={j for j, h in enumerate(held) if h is True},
                                        held_shown={j for j, h in enumerate(held) if h is False}):
                hide(table[j], field)
    for c in out:
        c.pop(HELD, None)
    return out


def hide(cell: dict, field: str) -> None:
    """Hide the count ``field`` of ``cell`` and what is derived from it; mark the cell."""
    cell[field] = None
    for f in DERIVED_FIELDS:
        if f in cell:
            cell[f] = None
    if field == "value" or cell.get("kind") in (None, "count"):
        # A count's value, numerator and programme value are the same number.
        for f in ("value", "numerator", "programme_value"):
            if f in cell:
                cell[f] = None
    if not cell.get("suppressed"):
        cell["suppressed"] = True
        note = _("Hidden: a small number that could identify people, or one that would reveal it.")
        cell["note"] = f"{cell['note']} {note}".strip() if cell.get("note") else note


def suppress_rows(rows: list[dict], threshold: int | None = None) -> list[dict]:
    """Alias of :func:`suppress_groups` for engine rows."""
    return suppress_groups(rows, threshold)
