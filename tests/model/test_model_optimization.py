"""Budget optimisation: program book shape, allocation quality, inverse problem."""

from __future__ import annotations

import numpy as np
import pytest
from model_helpers import scenario

from salus.model import optimization


def test_program_book_is_increasing_saturating_and_invertible():
    book = optimization.ProgramBook(scenario(years=2))
    spends = np.linspace(0, 5e6, 50)[:, None] * np.ones(6)
    cov = book.coverage(spends)
    assert np.all(np.diff(cov, axis=0) >= 0), "more money should never lower coverage"
    assert np.all(cov <= book.max_coverage + 1e-12), "coverage should saturate at its ceiling"
    mid = cov[10]
    assert np.allclose(book.spend(mid), spends[10]), "spend(coverage(s)) should return s"


def test_optimal_allocation_spends_the_budget_and_beats_an_equal_split():
    s = scenario(years=10, optimization={"budget": 3e6, "objective": "dalys"})
    report = optimization.optimize(s)
    spends = np.array([a["spend"] for a in report["allocation"].values()])
    assert spends.sum() == pytest.approx(3e6, rel=1e-6), "the whole budget should be allocated"
    ev = optimization._Evaluator(s, "dalys", {})
    equal = float(ev.value(ev.outcomes(np.full(6, 3e6 / 6)))[0])
    assert report["outcomes"]["dalys"] <= equal + 1e-6, (
        "the optimum should have no more DALYs than an equal split"
    )
    assert report["seconds"] < 30, "six-programme optimisation should take under 30 s"


def test_bounds_are_respected():
    s = scenario(years=5, optimization={"budget": 2e6, "bounds": {"ost": [5e5, 6e5]}})
    report = optimization.optimize(s)
    assert 5e5 - 1 <= report["allocation"]["ost"]["spend"] <= 6e5 + 1


def test_minimum_budget_reaches_its_target():
    s = scenario(years=5)
    report = optimization.minimum_budget(s, "new_hiv_infections", 0.2)
    assert report["target_met"], "the least-cost allocation should reach the 20 % reduction"


def test_bad_objective_is_rejected():
    with pytest.raises(optimization.OptimizationError, match="objective"):
        optimization.optimize(
            scenario(years=2, optimization={"budget": 1e6, "objective": "happiness"})
        )
