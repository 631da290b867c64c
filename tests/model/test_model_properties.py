"""Property-based checks: invariants hold for any coverage and any sampled parameters."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_helpers import run, scenario

from salus.model import api

fraction = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
coverages = st.fixed_dictionaries(
    {k: fraction for k in ("nsp", "ost", "art", "hiv_testing", "hcv_treatment", "naloxone")}
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(coverage=coverages)
def test_any_coverage_conserves_people_and_keeps_outputs_valid(coverage):
    result = run(scenario(years=3, coverage=coverage))
    change = result["population_end"] - result["population_start"]
    assert np.allclose(change, result["entries"] - result["exits"]["total"], atol=1e-6), (
        "conservation should hold at any coverage"
    )
    for key in ("hiv_prevalence", "hcv_prevalence"):
        assert np.all((result[key] >= 0) & (result[key] <= 1)), f"{key} should be a fraction"
    assert np.all(result["new_hiv_infections"] >= 0) and np.all(result["cost"]["total"] >= 0)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_any_parameter_sample_conserves_people(seed):
    _central, sampled = api.simulate_samples(scenario(years=2), samples=16, seed=seed, workers=1)
    change = sampled["population_end"] - sampled["population_start"]
    assert np.allclose(change, sampled["entries"] - sampled["exits"]["total"], atol=1e-6)
    assert np.all(sampled["overdose_deaths"] >= 0)
