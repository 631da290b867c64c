"""Boxes of hidden cells around small counts (salus.indicators.boxes, rule 9).

The checks here do not use the module's own reasoning: every cell of every node is an
equation over the fine cells, and a small cell is safe when the shown cells do not pin it
down, in real numbers (a rank test) or in whole numbers within the bounds a reader knows
(two integer programs: its least and its most differ).
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.optimize
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from salus.indicators.boxes import Hierarchy, boxes

# The program (0) over two areas (1, 2): sites 0 and 1 in the first, 2, 3 and 4 in the second.
PLACES = Hierarchy(parent=(-1, 0, 0, 1, 1, 2, 2, 2),
                   leaves=((0, 1, 2, 3, 4), (0, 1), (2, 3, 4), (0,), (1,), (2,), (3,), (4,)))
# The year (0) over two quarters: months 0, 1 and 2 in the first, month 3 alone in the second.
PERIODS = Hierarchy(parent=(-1, 0, 0, 1, 1, 1, 2), leaves=((0, 1, 2, 3), (0, 1, 2), (3,), (0,), (1,), (2,), (3,)))
DIMS = (PLACES, PERIODS, Hierarchy.flat(2), Hierarchy.flat(2))
SHAPE = (5, 4, 2, 2)


def rows() -> dict[tuple, np.ndarray]:
    """Every cell (a node of each dimension) as the 0/1 row of the fine cells it adds up."""
    out = {}
    for cell in itertools.product(*(range(len(d.parent)) for d in DIMS)):
        row = np.ones(SHAPE)
        for axis, (dim, node) in enumerate(zip(DIMS, cell, strict=True)):
            mask = np.zeros(SHAPE[axis])
            mask[list(dim.leaves[node])] = 1
            row = row * mask.reshape([-1 if a == axis else 1 for a in range(4)])
        out[cell] = row.ravel()
    return out


ROWS = rows()


def small_cells_pinned(fine: np.ndarray, hidden: np.ndarray, threshold: int, low=None, high=None,
                       whole: bool = False) -> list[tuple]:
    """The small hidden cells that the shown cells pin down: in the span of the shown rows, or
    (``whole``) with a single value over the whole-number tables between ``low`` and ``high``
    that show the same."""
    truth = fine.ravel()
    shown = np.array([r for c, r in ROWS.items() if not hidden[c]]).reshape(-1, truth.size)
    lo = np.zeros(truth.size) if low is None else low.ravel()
    hi = np.full(truth.size, np.inf) if high is None else high.ravel()
    basis = np.zeros((truth.size, 0))
    if shown.size:
        u, sv, _vt = np.linalg.svd(shown.T, full_matrices=False)
        basis = u[:, sv > 1e-9 * sv[0]]
    out = []
    for cell, row in ROWS.items():
        if not hidden[cell] or not 0 < row @ truth < threshold:
            continue
        if np.abs(row - basis @ (basis.T @ row)).max() < 1e-6:
            out.append(cell)
        elif whole:
            ends = []
            for sign in (1, -1):
                result = scipy.optimize.milp(
                    sign * row, integrality=np.ones(truth.size),
                    constraints=[scipy.optimize.LinearConstraint(shown, shown @ truth, shown @ truth)] if shown.size else [],
                    bounds=scipy.optimize.Bounds(lo, hi))
                assert result.status == 0, result.message
                ends.append(round(sign * result.fun))
            if ends[0] == ends[1]:
                out.append(cell)
    return out


def counts(high: int = 12):
    return arrays(np.int64, SHAPE, elements=st.integers(min_value=0, max_value=high)).map(lambda a: a.astype(float))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fine=counts(), threshold=st.integers(min_value=2, max_value=6))
def test_no_small_cell_is_pinned_down_by_the_cells_shown(fine, threshold):
    hidden = boxes(fine, DIMS, threshold).hidden
    assert small_cells_pinned(fine, hidden, threshold) == []
    # Every small cell is hidden, and nothing else need be when nothing is small.
    values = {cell: row @ fine.ravel() for cell, row in ROWS.items()}
    assert all(hidden[c] for c, v in values.items() if 0 < v < threshold)
    if not any(0 < v < threshold for v in values.values()):
        assert not hidden.any()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results=counts(4), extra=counts(3), positive=st.data(), threshold=st.integers(min_value=3, max_value=6))
def test_no_small_cell_is_pinned_down_in_whole_numbers_within_what_the_other_counts_tell(
        results, extra, positive, threshold):
    """Results given at most the contacts (``high``), and at least the positive ones
    (``low``), in each fine cell: the reader knows both."""
    contacts = results + extra
    positives = np.minimum(results, positive.draw(counts(2)))
    boxed = boxes(results, DIMS, threshold, low=positives, high=contacts)
    hidden = boxed.hidden
    if boxed.unbounded == 0:
        assert small_cells_pinned(results, hidden, threshold, positives, contacts, whole=True) == []
    else:
        # A small cell whose every box would leave a count past what the others tell still
        # has the cheapest box, which holds in real numbers.
        assert small_cells_pinned(results, hidden, threshold) == []


def test_one_small_fine_cell_among_large_ones_hides_a_box_of_sixteen():
    """Two sites, two months of a quarter, two sexes, two age bands: the fewest cells that can
    hide a small one when every other cell of every page is shown (and the cheapest: no
    place's total, no cell of one sex or one age band, is needed)."""
    fine = np.full(SHAPE, 20.0)
    fine[0, 0, 0, 0] = 2
    hidden = boxes(fine, DIMS, 5).hidden
    assert hidden.sum() == 16
    places, periods, sexes, ages = (set(np.flatnonzero(hidden.any(axis=tuple(a for a in range(4) if a != axis))))
                                    for axis in range(4))
    assert places == {3, 4} and periods <= {3, 4, 5} and len(periods) == 2 and sexes == {0, 1} and ages == {0, 1}


def test_a_box_that_would_take_a_count_past_another_is_passed_over():
    """Site 0's results are all positive (they cannot fall) and site 1's are as many as its
    contacts (they cannot rise). The cheapest boxes move some of site 0's fine cells down, so
    they are passed over: the box taken moves every fine cell of site 0 one way, site 1 the
    other (its sexes, age bands and periods single), whatever it costs."""
    results = np.full(SHAPE, 10.0)
    results[0, 0, 0, 0] = 2
    contacts = results + 5
    contacts[1] = results[1]
    positives = results.copy()
    positives[1] = 0
    found = boxes(results, DIMS, 5, low=positives, high=contacts)
    assert found.unbounded == 0
    assert found.hidden[3, 3, 2, 2] and found.hidden[4, 3, 2, 2], "both sites' totals in month 0"
    assert small_cells_pinned(results, found.hidden, 5, positives, contacts, whole=True) == []
    # Without what the other counts tell, the cheapest box (sixteen cells, no total) serves.
    assert boxes(results, DIMS, 5).hidden.sum() == 16


@settings(max_examples=60, deadline=None)
@given(results=counts(4), extra=counts(2), data=st.data())
def test_boxes_checked_at_once_keep_within_bounds_exactly_when_each_does_alone(results, extra, data):
    """The search checks its cheapest few boxes one by one, then the rest in batches: both ways
    must agree on every box (a disagreement would change which box a small cell gets)."""
    from salus.indicators.boxes import _all_within, _Dim, _Room, _within

    contacts = results + extra
    positives = np.minimum(results, data.draw(counts(2)))
    room = _Room.of(results, positives, contacts)
    cell = data.draw(st.tuples(*(st.integers(0, len(d.parent) - 1) for d in DIMS)))
    choices = [_Dim.of(d, results.sum(axis=tuple(a for a in range(4) if a != axis))).choices(node, wide=True)
               for axis, (d, node) in enumerate(zip(DIMS, cell, strict=True))]
    grid = tuple(len(c.options) for c in choices)
    picks = np.unravel_index(np.arange(int(np.prod(grid))), grid)
    at_once = _all_within(room, choices, picks)
    alone = [_within(room, tuple(c.options[i] for c, i in zip(choices, box, strict=True)))
             for box in zip(*picks, strict=True)]
    assert at_once.tolist() == alone


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fine=counts(), threshold=st.integers(min_value=2, max_value=6), data=st.data())
def test_cells_given_to_protect_are_not_pinned_down_either(fine, threshold, data):
    """Hidden place totals (``protect``), zeros among them, each get a box too: no shown
    cells pin any of them down, nor any small cell."""
    places, periods = (len(d.parent) for d in DIMS[:2])
    totals = data.draw(arrays(bool, (places, periods)))
    held = np.zeros(tuple(len(d.parent) for d in DIMS), dtype=bool)
    held[:, :, -1, -1] = totals
    hidden = boxes(fine, DIMS, threshold, hidden=held, protect=held).hidden
    assert small_cells_pinned(fine, hidden, threshold) == []
    truth = fine.ravel()
    shown = np.array([r for c, r in ROWS.items() if not hidden[c]]).reshape(-1, truth.size)
    basis = np.zeros((truth.size, 0))
    if shown.size:
        u, sv, _vt = np.linalg.svd(shown.T, full_matrices=False)
        basis = u[:, sv > 1e-9 * sv[0]]
    pinned = [cell for cell, row in ROWS.items()
              if held[cell] and np.abs(row - basis @ (basis.T @ row)).max() < 1e-6]
    assert pinned == []


def small_cells_pinned_with_contacts(results: np.ndarray, contacts: np.ndarray, hidden: np.ndarray,
                                     hidden_contacts: np.ndarray, threshold: int, positives: np.ndarray,
                                     new_clients: np.ndarray) -> list[tuple]:
    """The small hidden cells of ``results`` that a reader pins down in whole numbers from the
    cells shown of both counts, knowing that in every fine cell the positives are at most the
    results, the results at most the contacts, and the new clients at most the contacts (the
    positives and new clients shown in full)."""
    n = results.size
    truth = np.concatenate([results.ravel(), contacts.ravel()])
    shown = [np.concatenate([r, np.zeros(n)]) for c, r in ROWS.items() if not hidden[c]]
    shown += [np.concatenate([np.zeros(n), r]) for c, r in ROWS.items() if not hidden_contacts[c]]
    eye = np.eye(n)
    constraints = [scipy.optimize.LinearConstraint(np.hstack([eye, -eye]), -np.inf, 0)]  # results <= contacts
    if shown:
        rows_shown = np.array(shown)
        constraints.append(scipy.optimize.LinearConstraint(rows_shown, rows_shown @ truth, rows_shown @ truth))
    # A cap no reader knows keeps every program bounded; it can only pin down more, not less.
    bounds = scipy.optimize.Bounds(np.concatenate([positives.ravel(), new_clients.ravel()]), 1000)
    out = []
    for cell, row in ROWS.items():
        if not hidden[cell] or not 0 < row @ results.ravel() < threshold:
            continue
        true = row @ results.ravel()

        def ends(presolve: bool, row=row) -> list[int]:
            out = []
            for sign in (1, -1):
                result = scipy.optimize.milp(sign * np.concatenate([row, np.zeros(n)]), integrality=np.ones(2 * n),
                                             constraints=constraints, bounds=bounds, options={"presolve": presolve})
                assert result.status == 0, result.message
                out.append(round(sign * result.fun))
            return out

        least, most = ends(True)
        if least == most or not least <= true <= most:
            # HiGHS's presolve was seen to give a wrong optimum for these programs (a most of
            # 0 where the true tables hold 1): what it pins down is asked again without it.
            least, most = ends(False)
            assert least <= true <= most
        if least == most:
            out.append(cell)
    return out


def joint_bounds(results, contacts, positives, new_clients):
    """What :func:`boxes` is given to move results with their contacts: the contacts may grow
    without end, and fall while they stay at least the new clients."""
    return np.maximum(positives, results - (contacts - new_clients)), None


def test_a_small_count_that_no_box_of_its_own_can_hide_moves_with_its_contacts():
    """Every contact got a result (results = contacts in every fine cell), and the small
    cell's results were all positive: no box of results alone can move it either way (up past
    the contacts, down past the positives), so one moves both counts, and hides its cells in
    the contacts too. Alone, the cheapest box is kept, which holds in real numbers only."""
    results = np.full(SHAPE, 10.0)
    results[0, 0, 0, 0] = 2
    contacts = results.copy()
    positives = np.zeros(SHAPE)
    positives[0, 0, 0, 0] = 2
    new_clients = np.zeros(SHAPE)
    alone = boxes(results, DIMS, 5, low=positives, high=contacts)
    assert alone.unbounded == 1 and alone.together == []
    assert small_cells_pinned_with_contacts(results, contacts, alone.hidden, np.zeros_like(alone.hidden), 5, positives,
                                            new_clients) != []
    found = boxes(results, DIMS, 5, low=positives, high=contacts,
                  together=[joint_bounds(results, contacts, positives, new_clients)])
    assert found.unbounded == 0
    moved = found.together[0]
    assert moved.sum() == 16 and (moved <= found.hidden).all()
    assert small_cells_pinned_with_contacts(results, contacts, found.hidden, moved, 5, positives,
                                            new_clients) == []
    # The contacts' cells must be hidden too: shown, they pin the small cell down again.
    assert small_cells_pinned_with_contacts(results, contacts, found.hidden, np.zeros_like(moved), 5, positives,
                                            new_clients) != []


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results=counts(4), extra=counts(1), data=st.data(), threshold=st.integers(min_value=3, max_value=6))
def test_boxes_that_move_results_with_their_contacts_pin_down_no_small_count(results, extra, data, threshold):
    """Results mostly as many as the contacts (every contact tested), some positive, some
    contacts a new client's: every small count whose box keeps within what a reader knows,
    alone or with the contacts moved too, stays unknown in whole numbers."""
    contacts = results + extra * data.draw(arrays(bool, SHAPE))
    positives = np.minimum(results, data.draw(counts(1)))
    new_clients = np.minimum(contacts, data.draw(counts(1)))
    found = boxes(results, DIMS, threshold, low=positives, high=contacts,
                  together=[joint_bounds(results, contacts, positives, new_clients)])
    if found.unbounded == 0:
        assert small_cells_pinned_with_contacts(results, contacts, found.hidden, found.together[0], threshold,
                                                positives, new_clients) == []
    else:
        assert small_cells_pinned(results, found.hidden, threshold) == []
