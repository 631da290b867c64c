"""The audit's arithmetic (salus.indicators.release): which rows lie in the span of the shown
rows, and by which combination of a basis of them (_in_span, by Cholesky and by QR); and its
bookkeeping of one round (_Dropped): once some basis rows of the shown cells are hidden, which
combinations of the basis rows do the shown rows still make? Checked against the rank of the
rows, computed afresh."""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from salus.indicators.release import _Dropped, _in_span


def in_span(rows: np.ndarray, v: np.ndarray) -> bool:
    if not rows.shape[0]:
        return not v.any()
    return np.linalg.matrix_rank(np.vstack([rows, v])) == np.linalg.matrix_rank(rows)


@st.composite
def rounds(draw):
    """0/1 equations over a few unknowns, not all zero (rows may repeat or add up to others,
    as shown cells do), and a random generator for what a test hides and asks."""
    n_cols = draw(st.integers(min_value=2, max_value=7))
    n_rows = draw(st.integers(min_value=2, max_value=12))
    a = np.array(draw(st.lists(st.lists(st.integers(0, 1), min_size=n_cols, max_size=n_cols),
                               min_size=n_rows, max_size=n_rows)), dtype=float)
    # Sums of rows, as a total is the sum of its parts.
    for _ in range(draw(st.integers(0, 3))):
        picked = draw(st.lists(st.integers(0, n_rows - 1), min_size=2, max_size=3, unique=True))
        a = np.vstack([a, a[picked].sum(axis=0)])
    assume(a.any())
    return a, np.random.default_rng(draw(st.integers(0, 2**32 - 1)))


@settings(max_examples=200, deadline=None)
@given(case=rounds(), exact=st.booleans())
def test_the_span_is_told_alike_by_either_arithmetic(case, exact):
    a, rng = case
    # Rows to ask: combinations of the rows (in the span) and 0/1 rows (mostly not).
    made = rng.integers(-2, 3, size=(4, a.shape[0])) @ a
    other = rng.integers(0, 2, size=(4, a.shape[1])).astype(float)
    v = np.vstack([made, other])
    rank, r, order, weights, inside = _in_span(scipy.sparse.csr_matrix(a), v, exact)
    assert rank == np.linalg.matrix_rank(a)
    basis_rows = a[order[:rank]]
    assert np.linalg.matrix_rank(basis_rows) == rank
    # The triangle is the basis rows' (and the others') own: a[order].T = Q r.
    assert np.allclose(r.T @ r, a[order] @ a[order].T)
    for row, is_inside, w in zip(v, inside, weights, strict=True):
        assert is_inside == in_span(a, row)
        if is_inside:
            assert np.allclose(w @ basis_rows, row)


def test_the_cholesky_answers_without_a_qr(monkeypatch):
    """The faster arithmetic is the one used when its answer is clear (here: every row of a
    small table, its total, and a row outside)."""
    def no_qr(*args, **kwargs):
        raise AssertionError("the QR was used")

    monkeypatch.setattr(scipy.linalg, "qr", no_qr)
    a = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=float)
    v = np.array([[1, 1, 1], [1, 0, 0], [1, -1, 0]], dtype=float)
    rank, _r, _order, _weights, inside = _in_span(scipy.sparse.csr_matrix(a), v)
    assert rank == 3
    assert inside.tolist() == [True, True, True]
    a = a[:3]
    rank, _r, _order, _weights, inside = _in_span(scipy.sparse.csr_matrix(a), v)
    assert (rank, inside.tolist()) == (2, [False, True, True])


@settings(max_examples=200, deadline=None)
@given(case=rounds(), exact=st.booleans())
def test_a_combination_stays_made_exactly_when_the_rows_left_make_it(case, exact):
    a, rng = case
    rank, r, order, _weights, _inside = _in_span(scipy.sparse.csr_matrix(a), np.zeros((0, a.shape[1])), exact)
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
