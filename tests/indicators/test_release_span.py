"""The audit's bookkeeping of one round (salus.indicators.release._Dropped): once some basis
rows of the shown cells are hidden, which combinations of the basis rows do the shown rows
still make? Checked against the rank of the rows left, computed afresh."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from salus.indicators.release import _Dropped


def in_span(rows: np.ndarray, v: np.ndarray) -> bool:
    if not rows.shape[0]:
        return not v.any()
    return np.linalg.matrix_rank(np.vstack([rows, v])) == np.linalg.matrix_rank(rows)


@st.composite
def rounds(draw):
    """0/1 equations over a few unknowns (rows may repeat or add up to others, as shown cells
    do), the order in which basis rows are hidden, and combinations of the basis rows to ask."""
    n_cols = draw(st.integers(min_value=2, max_value=7))
    n_rows = draw(st.integers(min_value=2, max_value=12))
    a = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=n_cols, max_size=n_cols),
                               min_size=n_rows, max_size=n_rows)), dtype=float)
    # Sums of rows, as a total is the sum of its parts.
    for _ in range(draw(st.integers(0, 3))):
        picked = draw(st.lists(st.integers(0, n_rows - 1), min_size=2, max_size=3, unique=True))
        a = np.vstack([a, a[picked].sum(axis=0)])
    seed = draw(st.integers(0, 2**32 - 1))
    return a, seed


@settings(max_examples=200, deadline=None)
@given(case=rounds())
def test_a_combination_stays_made_exactly_when_the_rows_left_make_it(case):
    a, seed = case
    rng = np.random.default_rng(seed)
    if not a.any():
        return
    q, r, order = scipy.linalg.qr(a.T, mode="economic", pivoting=True)
    diagonal = np.abs(np.diag(r))
    rank = int((diagonal > 1e-9 * max(1.0, float(diagonal[0]))).sum())
    dropped = _Dropped(r[:rank, :rank], r[:rank, rank:])
    basis_rows = a[order[:rank]]
    gone: list[int] = []
    for position in rng.permutation(rank)[:rng.integers(1, rank + 1)]:
        dropped.drop(int(position))
        gone.append(int(order[position]))
        left = np.delete(a, gone, axis=0)
        for _ in range(6):
            # A combination of a few basis rows, with small whole weights (as the cells' sums).
            w = np.zeros(rank)
            chosen = rng.choice(rank, size=rng.integers(1, rank + 1), replace=False)
            w[chosen] = rng.integers(-2, 3, size=chosen.size)
            if not w.any():
                continue
            assert dropped.pins(w) == in_span(left, w @ basis_rows), (a, gone, w)
        # The row just hidden: still made by the others, or not.
        unit = np.eye(1, rank, int(position))[0]
        assert dropped.pins(unit) == in_span(left, basis_rows[position])
