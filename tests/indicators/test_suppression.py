"""Small-cell suppression: nothing from 1 to threshold-1 shows, and nothing hidden can be solved."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.indicators.suppression import smallest_shown, suppress_groups

SEXES = ("F", "M", "T", "X")
AGES = ("<25", "25+", "unknown")


def table(fine: dict[tuple[str, str, str, str], int], code: str = "CLIENTS_REACHED", kind: str = "count") -> list[dict]:
    """Engine-shaped cells (total, sex, age, sex x age, area, area x site) from fine counts."""
    sites = sorted({(a, s) for (_x, _y, a, s) in fine})
    cells: dict[tuple, int] = {}

    def add(dis: dict, n: int) -> None:
        key = tuple(sorted(dis.items()))
        cells[key] = cells.get(key, 0) + n

    for dis in [{}, *({"sex": s} for s in SEXES), *({"age": a} for a in AGES),
                *({"sex": s, "age": a} for s in SEXES for a in AGES),
                *({"area": a} for a, _s in sites), *({"area": a, "site": s} for a, s in sites)]:
        add(dis, 0)
    for (sex, age, area, site), n in fine.items():
        for dis in ({}, {"sex": sex}, {"age": age}, {"sex": sex, "age": age}, {"area": area},
                    {"area": area, "site": site}):
            add(dis, n)
    return [
        {"code": code, "period": "2025", "area": None, "site": None, "disaggregation": dict(k), "kind": kind,
         "value": n, "numerator": n, "denominator": None, "programme_value": n}
        for k, n in cells.items()
    ]


def groups(cells: list[dict]) -> list[tuple[int, list[int]]]:
    """The additive groups, written out by hand (independently of the code under test)."""
    ix = {tuple(sorted(c["disaggregation"].items())): i for i, c in enumerate(cells)}
    out = []
    total = ix[()]
    for dim in ("sex", "age", "area"):
        out.append((total, [i for k, i in ix.items() if len(k) == 1 and k[0][0] == dim]))
    for s in SEXES:
        out.append((ix[(("sex", s),)], [ix[(("age", a), ("sex", s))] for a in AGES]))
    for a in AGES:
        out.append((ix[(("age", a),)], [ix[(("age", a), ("sex", s))] for s in SEXES]))
    for k, i in ix.items():
        if len(k) == 1 and k[0][0] == "area":
            out.append((i, [j for kk, j in ix.items() if len(kk) == 2 and kk[0] == k[0] and kk[1][0] == "site"]))
    return out


def solvable(values: list[int], hidden: set[int], eqs) -> list[int]:
    """Hidden cells that the shown cells and the group sums determine (rank test)."""
    unknowns = sorted(hidden)
    rows = []
    for parent, children in eqs:
        row = [0.0] * len(unknowns)
        for m, coef in [(parent, 1.0)] + [(c, -1.0) for c in children]:
            if m in hidden:
                row[unknowns.index(m)] += coef
        if any(row):
            rows.append(row)
    if not rows:
        return []
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for j, m in enumerate(unknowns):
        e = np.zeros(len(unknowns))
        e[j] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(m)
    return out


def pinned_with_bounds(values: list[int], hidden: set[int], eqs) -> list[int]:
    """Hidden cells, not zero, whose value the shown cells, the group sums and the fact that
    no count is negative fix exactly: the least and the most each can be (two linear
    programs per cell) are the same. A hidden zero fixed is not counted: zeros are shown."""
    import scipy.optimize

    unknowns = sorted(hidden)
    col = {m: j for j, m in enumerate(unknowns)}
    a, b = [], []
    for parent, children in eqs:
        row, rest = np.zeros(len(unknowns)), 0.0
        for m, coef in [(parent, 1.0)] + [(c, -1.0) for c in children]:
            if m in hidden:
                row[col[m]] += coef
            else:
                rest -= coef * values[m]
        if row.any():
            a.append(row)
            b.append(rest)
    if not a:
        return []
    out = []
    for m in unknowns:
        if values[m] == 0:
            continue
        e = np.zeros(len(unknowns))
        e[col[m]] = 1.0
        low = scipy.optimize.linprog(e, A_eq=np.array(a), b_eq=b, bounds=(0, None), method="highs")
        high = scipy.optimize.linprog(-e, A_eq=np.array(a), b_eq=b, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3)  # 3: no most (the cell is free above)
        if high.status == 0 and -high.fun - low.fun < 0.5:
            out.append(m)
    return out


fine_counts = st.dictionaries(
    st.tuples(st.sampled_from(SEXES), st.sampled_from(AGES),
              st.sampled_from(["XL/N1", "XL/N2"]), st.sampled_from(["S1", "S2", "S3"])),
    st.integers(min_value=0, max_value=40), min_size=1, max_size=12,
).map(lambda d: {(s, a, area, f"{area[-2:]}{site}"): n for (s, a, area, site), n in d.items()})


@settings(max_examples=150, deadline=None)
@given(fine_counts, st.integers(min_value=2, max_value=11))
def test_it_never_shows_a_small_count_or_lets_one_be_solved(fine, threshold):
    cells = table(fine)
    out = suppress_groups(cells, threshold)
    hidden = {i for i, c in enumerate(out) if c["value"] is None}
    values = [c["value"] for c in cells]
    for i, c in enumerate(out):
        if c["value"] is not None:
            assert not (0 < c["value"] < threshold)
            assert c["value"] == values[i]  # shown numbers are unchanged
    eqs = groups(cells)
    for parent, children in eqs:
        members = [parent, *children]
        n_hidden = sum(m in hidden for m in members)
        assert n_hidden == 0 or n_hidden >= 2
    assert solvable(values, hidden, eqs) == []


@settings(max_examples=120, deadline=None)
@given(fine_counts, st.integers(min_value=2, max_value=11))
def test_no_hidden_count_is_fixed_by_the_sums_and_no_count_being_negative(fine, threshold):
    """A reader who also uses that no count is negative learns bounds: two hidden cells adding
    up to 6 are each at most 6. A bound is allowed; a hidden count fixed exactly is not."""
    cells = table(fine)
    out = suppress_groups(cells, threshold)
    hidden = {i for i, c in enumerate(out) if c["value"] is None}
    assert pinned_with_bounds([c["value"] for c in cells], hidden, groups(cells)) == []


def test_zeros_hidden_elsewhere_do_not_leave_a_small_count_fixed():
    """Two groups: 10 = x + y + z and 0 = z + w, with x = 3 small, y = 7, and z and w zeros
    that another table hid (held hidden). By the sums alone x + z = 3 leaves x free; but z + w
    = 0 with neither negative makes z zero, and then x is 3. So one more cell is hidden."""
    from salus.indicators.suppression import protect

    values = [10, 3, 7, 0, 0, 0]
    eqs = [(0, [1, 2, 3]), (4, [3, 5])]
    hidden = protect(values, 5, eqs, held_hidden={3, 5})
    assert {1, 3, 5} < hidden
    assert solvable(values, hidden, eqs) == []
    assert pinned_with_bounds(values, hidden, eqs) == []
    assert pinned_with_bounds(values, {1, 3, 5}, eqs) == [1]  # what the sums alone left (can fail)


def test_it_hides_the_next_smallest_cell_as_a_complement():
    fine = {("F", "25+", "XL/N1", "N1S1"): 3, ("M", "25+", "XL/N1", "N1S1"): 40, ("T", "25+", "XL/N1", "N1S1"): 9}
    out = {tuple(sorted(c["disaggregation"].items())): c for c in suppress_groups(table(fine), 5)}
    assert out[(("sex", "F"),)]["value"] is None
    assert out[(("sex", "T"),)]["value"] is None  # 9: the next smallest, not 40
    assert out[(("sex", "M"),)]["value"] == 40
    assert out[()]["value"] == 52
    assert out[(("sex", "F"),)]["suppressed"] and out[(("sex", "F"),)]["note"]


def test_a_complement_is_a_non_zero_cell_of_the_lowest_cost_then_the_smallest():
    values = [0.0, 30.0, 9.0, 12.0]
    assert smallest_shown(values, [0, 1, 2, 3]) == 2  # no costs: the smallest non-zero
    cost = {0: 0, 1: 0, 2: 1, 3: 0}
    assert smallest_shown(values, [0, 1, 2, 3], cost) == 3  # 9 costs more: the next smallest
    assert smallest_shown(values, [0, 2], cost) == 2  # a zero hidden tells nothing: last of all


def test_it_hides_a_small_total_and_keeps_zero_cells():
    fine = {("F", "25+", "XL/N1", "N1S1"): 2}
    out = {tuple(sorted(c["disaggregation"].items())): c for c in suppress_groups(table(fine), 5)}
    assert out[()]["value"] is None
    assert out[(("sex", "M"),)]["value"] == 0


def test_it_hides_proportions_whose_numerator_or_denominator_is_hidden():
    rows = [
        {"code": "NSP_COVERAGE", "disaggregation": {}, "kind": "proportion", "numerator": 30, "denominator": 50,
         "value": 0.6, "programme_value": 0.6, "value_low": 0.5, "value_high": 0.7, "level": "medium"},
        {"code": "NSP_COVERAGE", "disaggregation": {"sex": "F"}, "kind": "proportion", "numerator": 2,
         "denominator": 10, "value": None, "programme_value": 0.2, "value_low": None, "value_high": None, "level": None},
        {"code": "NSP_COVERAGE", "disaggregation": {"sex": "M"}, "kind": "proportion", "numerator": 28,
         "denominator": 40, "value": None, "programme_value": 0.7, "value_low": None, "value_high": None, "level": None},
    ]
    out = suppress_groups(rows, 5)
    f, m = out[1], out[2]
    assert f["numerator"] is None and f["programme_value"] is None
    assert f["denominator"] == 10  # 10 is not small and its group has no hidden denominator
    assert m["numerator"] is None and m["programme_value"] is None  # the complement
    assert out[0]["numerator"] == 30 and out[0]["value"] == 0.6


def test_it_leaves_indicators_not_about_people_alone():
    rows = [{"code": "STOCKOUT_DAYS", "disaggregation": {}, "value": 3, "numerator": 3, "denominator": None}]
    assert suppress_groups(rows, 5)[0]["value"] == 3


def test_it_reads_the_threshold_from_program_config(tmp_path, monkeypatch):
    from salus.core.config import reset_cache

    cfg = tmp_path / "program.toml"
    cfg.write_text("suppression_threshold = 11\n")
    monkeypatch.setenv("SALUS_PROGRAM_CONFIG", str(cfg))
    reset_cache()
    fine = {("F", "25+", "XL/N1", "N1S1"): 10, ("M", "25+", "XL/N1", "N1S1"): 40}
    out = suppress_groups(table(fine))
    assert all(c["value"] != 10 for c in out)


def test_it_accepts_plain_count_cells_from_other_reports():
    cells = [{"disaggregation": {}, "value": 20}] + [
        {"disaggregation": {"kind": k}, "value": v} for k, v in zip("abc", (1, 12, 7), strict=True)
    ]
    out = suppress_groups(cells, 5)
    assert [c["value"] for c in out] == [20, None, 12, None]


def test_every_engine_table_is_protected(world):
    from tests.indicators.conftest import AS_OF

    from salus.indicators.engine import compute_indicators

    rows = compute_indicators("2025", as_of=AS_OF)
    out = suppress_groups(rows, 5)
    for r in out:
        for f in ("numerator", "denominator"):
            v = r[f]
            if r["code"] != "STOCKOUT_DAYS" and isinstance(v, int):
                assert not (0 < v < 5), r
    # Five clients in all (shown: 5 is not below 5); every non-zero cell is 1-4, so hidden.
    reached = [r for r in out if r["code"] == "CLIENTS_REACHED"]
    assert reached[0]["disaggregation"] == {} and reached[0]["numerator"] == 5
    assert all(r["numerator"] in (0, None) for r in reached[1:])



@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=0, max_value=1), min_size=6, max_size=6), min_size=1, max_size=5),
       st.lists(st.integers(min_value=0, max_value=3), min_size=6, max_size=6))
def test_forced_zeros_are_the_unknowns_no_solution_lifts_above_zero(rows, truth):
    """Against one linear program per unknown (the most it can be): an unknown whose count is
    zero is forced to zero exactly when no non-negative solution of the sums makes it more."""
    import scipy.optimize
    import scipy.sparse

    from salus.indicators.suppression import forced_zeros

    a = np.array(rows, dtype=float)
    b = a @ np.array(truth, dtype=float)
    candidates = [j for j, v in enumerate(truth) if v == 0]
    got = forced_zeros(scipy.sparse.csr_matrix(a), b, candidates)
    for j, forced in zip(candidates, got, strict=True):
        e = np.zeros(len(truth))
        e[j] = -1.0
        most = scipy.optimize.linprog(e, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        can_rise = most.status == 3 or (most.status == 0 and -most.fun > 1e-7)
        assert forced == (not can_rise), (j, rows, truth)


def test_whole_number_fixed_finds_what_only_whole_numbers_fix():
    """Unknowns x1, x2, x3, a, b, c, d, w with x1 + x2 + a = x2 + x3 + b = x1 + x3 + c = 1,
    a + b + c + d = 2 and x1 + x2 + x3 + w = 2 (true counts: x1 = b = d = w = 1). In real
    numbers w is anything from 0.5 to 1.5 and d from 0 to 2; in whole numbers both are 1.
    x1 + x2 is 0 or 1 (x3 = 1 instead)."""
    import scipy.sparse

    from salus.indicators.suppression import whole_number_fixed

    a = np.array([[1, 1, 0, 1, 0, 0, 0, 0], [0, 1, 1, 0, 1, 0, 0, 0], [1, 0, 1, 0, 0, 1, 0, 0],
                  [0, 0, 0, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0, 0, 1]], dtype=float)
    truth = np.array([1, 0, 0, 0, 1, 0, 1, 1], dtype=float)
    targets = np.array([np.eye(8)[7], np.eye(8)[6], np.eye(8)[0] + np.eye(8)[1], np.eye(8)[7]])
    fixed = whole_number_fixed(scipy.sparse.csr_matrix(a), a @ truth, truth, scipy.sparse.csr_matrix(targets))
    assert fixed.tolist() == [True, True, False, True]


def test_whole_number_fixed_frees_nothing_on_a_solution_that_does_not_solve_the_sums(monkeypatch):
    """A solver that ends on a wrong answer (HiGHS was seen to) must not make a cell look free:
    with every program answering a table that breaks the sums, the cell that only whole
    numbers fix is still taken as fixed, and so is the one that is free (the audit hides
    more, never less)."""
    import types

    import scipy.optimize
    import scipy.sparse

    from salus.indicators.suppression import whole_number_fixed

    a = np.array([[1, 1, 0, 1, 0, 0, 0, 0], [0, 1, 1, 0, 1, 0, 0, 0], [1, 0, 1, 0, 0, 1, 0, 0],
                  [0, 0, 0, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0, 0, 1]], dtype=float)
    truth = np.array([1, 0, 0, 0, 1, 0, 1, 1], dtype=float)
    targets = scipy.sparse.csr_matrix(np.array([np.eye(8)[7], np.eye(8)[0] + np.eye(8)[1]]))
    assert whole_number_fixed(scipy.sparse.csr_matrix(a), a @ truth, truth, targets).tolist() == [True, False]
    monkeypatch.setattr(scipy.optimize, "milp", lambda *args, **kwargs: types.SimpleNamespace(
        status=0, x=np.full(8, 5.0), fun=0.0))
    assert whole_number_fixed(scipy.sparse.csr_matrix(a), a @ truth, truth, targets).tolist() == [True, True]


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 1), min_size=7, max_size=7), min_size=1, max_size=6),
       truth=st.lists(st.integers(0, 3), min_size=7, max_size=7),
       asked=st.lists(st.lists(st.integers(0, 1), min_size=7, max_size=7), min_size=1, max_size=4))
def test_whole_number_fixed_agrees_with_asking_for_another_whole_number(rows, truth, asked):
    """Against two mixed-integer programs per target, each asking for a whole-number solution
    where the target is at least one less, or one more, than its true value: a target is
    fixed exactly when neither exists. (A row of every unknown keeps each one bounded.)"""
    import scipy.optimize
    import scipy.sparse

    from salus.indicators.suppression import whole_number_fixed

    a = np.array([*rows, [1] * 7], dtype=float)
    x = np.array(truth, dtype=float)
    b = a @ x
    targets = np.array(asked, dtype=float)
    got = whole_number_fixed(scipy.sparse.csr_matrix(a), b, x, scipy.sparse.csr_matrix(targets))
    sums = scipy.optimize.LinearConstraint(a, b, b)
    for target, fixed in zip(targets, got, strict=True):
        value = float(target @ x)
        other = [scipy.optimize.milp(np.zeros(7), constraints=[sums, scipy.optimize.LinearConstraint(target, lo, hi)],
                                     integrality=np.ones(7), bounds=scipy.optimize.Bounds(0, np.inf)).status
                 for lo, hi in ((-np.inf, value - 1), (value + 1, np.inf))]
        assert fixed == (other == [2, 2]), (rows, truth, target.tolist(), other)


def _real_solver(a, b):
    """``solve(objective)`` for :func:`one_valued` over ``a x = b``, 0 <= x <= 10, counting its calls."""
    import scipy.optimize

    calls = []

    def solve(objective):
        calls.append(1)
        result = scipy.optimize.linprog(objective, A_eq=a, b_eq=b, bounds=(0, 10), method="highs")
        return result.x if result.status == 0 else None

    return solve, calls


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 1), min_size=7, max_size=7), min_size=1, max_size=6),
       truth=st.lists(st.integers(0, 3), min_size=7, max_size=7),
       asked=st.lists(st.lists(st.integers(-1, 1), min_size=7, max_size=7), min_size=1, max_size=6),
       tries=st.integers(0, 2))
def test_one_valued_agrees_with_each_rows_least_and_most(rows, truth, asked, tries):
    """With the programs aimed at the rows still agreeing (the default), after any number of
    random tries: a row is one-valued exactly when its own least and most over the solutions
    (0 <= x <= 10) are the same, each found by a program of its own."""
    import scipy.optimize

    from salus.indicators.suppression import one_valued

    a = np.array(rows, dtype=float)
    x = np.array(truth, dtype=float)
    b = a @ x
    targets = np.array(asked, dtype=float)
    solve, _calls = _real_solver(a, b)
    got = one_valued(targets, x, solve, tries=tries, tolerance=1e-6)
    for target, fixed in zip(targets, got, strict=True):
        least, most = (scipy.optimize.linprog(sign * target, A_eq=a, b_eq=b, bounds=(0, 10), method="highs")
                       for sign in (1.0, -1.0))
        assert fixed == (abs(least.fun + most.fun) < 1e-6), (rows, truth, target.tolist())


def test_one_valued_frees_many_rows_in_few_aimed_programs():
    """Twenty-five pairs of unknowns, each pair summing to 2, the true counts (0, 2): no row of
    a pair's first unknown is one-valued, yet a program asking for one row's least or most
    moves no other. Asked one by one they take two programs a row; the programs aimed at the
    rows still agreeing move many at once."""
    from salus.indicators.suppression import one_valued

    a = np.kron(np.eye(25), np.ones((1, 2)))
    x = np.tile([0.0, 2.0], 25)
    targets = np.kron(np.eye(25), np.array([[1.0, 0.0]]))
    counts = {}
    for aimed in (True, False):
        solve, calls = _real_solver(a, a @ x)
        assert not one_valued(targets, x, solve, tries=0, tolerance=1e-6, aimed=aimed).any()
        counts[aimed] = len(calls)
    assert counts[True] <= 12 and counts[False] == 50, counts


def _sums(rng, n_rows: int, n_unknowns: int, pinned_by_difference: int):
    """Equations over hidden cells as the audit meets them: each a signed sum of a few
    unknowns, every unknown in two or more; then ``pinned_by_difference`` pairs of equations
    whose difference is one unknown (``x + y + z`` and ``y + z``), which pins it."""
    a = np.zeros((n_rows, n_unknowns))
    for j in range(n_unknowns):
        for i in rng.choice(n_rows, size=2, replace=False):
            a[i, j] = rng.choice([-1.0, 1.0])
    extra = []
    for _pair in range(pinned_by_difference):
        x, y, z = rng.choice(n_unknowns, size=3, replace=False)
        whole = np.zeros(n_unknowns)
        whole[[x, y, z]] = 1.0
        part = whole.copy()
        part[x] = 0.0
        extra += [whole, part]
    return np.vstack([a, *extra]) if extra else a


def _pinned_by_qr(a):
    from salus.indicators.suppression import _row_space

    return (_row_space(a) ** 2).sum(axis=1) > 1 - 1e-9


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), pinned=st.integers(0, 4),
       shape=st.sampled_from([(120, 200), (150, 160), (200, 200), (90, 260)]))
def test_random_null_vectors_free_exactly_the_unknowns_the_qr_frees(seed, pinned, shape):
    """suppression._pinned answers as the rank-revealing QR does, on systems large enough for
    its random vectors of the null space (_CERTIFY_FROM), with and without pinned unknowns."""
    from salus.indicators import suppression

    a = _sums(np.random.default_rng(seed), *shape, pinned)
    assert a.size >= suppression._CERTIFY_FROM
    expected = _pinned_by_qr(a)
    assert list(suppression._pinned(a)) == list(expected)
    # What the vectors show free is free: no unknown the QR pins is among them.
    assert not (suppression._certainly_free(a) & expected).any()


def _hidden_table(rows: int, columns: int, pinned: bool):
    """A table whose cells are all hidden, its row and column totals shown: each cell is free
    (one more in it and in the opposite corner of any rectangle, one less in the other two).
    With ``pinned``, also the first row's total without its first cell, which pins that cell."""
    a = np.zeros((rows + columns + int(pinned), rows * columns))
    for r in range(rows):
        for c in range(columns):
            a[r, r * columns + c] = a[rows + c, r * columns + c] = 1.0
    if pinned:
        a[-1, 1:columns] = 1.0
    return a


def test_a_system_with_nothing_pinned_needs_no_qr(monkeypatch):
    """The protection's last round, where every unknown is free: the random vectors say so,
    and the QR (seconds on a national page's largest systems) is not run."""
    from salus.indicators import suppression

    free, one_pinned = _hidden_table(15, 30, False), _hidden_table(15, 30, True)
    assert free.size >= suppression._CERTIFY_FROM
    assert not _pinned_by_qr(free).any()
    assert list(np.flatnonzero(_pinned_by_qr(one_pinned))) == [0]

    def no_qr(_a):
        raise AssertionError("the QR ran")

    monkeypatch.setattr(suppression, "_row_space", no_qr)
    assert not suppression._pinned(free).any()
    # With one unknown pinned, the QR decides, and finds it.
    monkeypatch.undo()
    assert list(np.flatnonzero(suppression._pinned(one_pinned))) == [0]
