"""Latin hypercube sampling, named streams, intervals and acceptability curves."""

from __future__ import annotations

import numpy as np
from model_helpers import scenario

from salus.model import api, uncertainty
from salus.model.parameters import PARAMETERS


def test_same_seed_same_samples_and_different_seed_different_samples():
    a = uncertainty.sample_parameters(50, seed=7)
    b = uncertainty.sample_parameters(50, seed=7)
    c = uncertainty.sample_parameters(50, seed=8)
    assert all(np.array_equal(a[k], b[k]) for k in a), "a seed should reproduce its samples"
    assert not np.array_equal(a["rr_hiv_ost"], c["rr_hiv_ost"]), "seeds should differ"


def test_latin_hypercube_fills_every_stratum_once():
    n = 20
    s = uncertainty.sample_parameters(n, seed=1)
    p = PARAMETERS["initiation_rate"]  # uniform
    strata = np.floor((s["initiation_rate"] - p.low) / (p.high - p.low) * n).astype(int)
    assert sorted(strata) == list(range(n)), "each of the n strata should hold one sample"


def test_named_streams_are_independent_of_each_other():
    assert uncertainty.stream(1, "parameters").random() != uncertainty.stream(1, "other").random()


def test_lognormal_samples_have_the_published_interval():
    s = uncertainty.sample_parameters(4000, seed=2)["rr_hiv_ost"]
    low, high = np.percentile(s, [2.5, 97.5])
    assert np.isclose(low, 0.32, rtol=0.05) and np.isclose(high, 0.67, rtol=0.05), (
        "the sampled 95 % interval should match MacArthur 2012 (0.32-0.67)"
    )


def test_overrides_rescale_the_distribution():
    s = uncertainty.sample_parameters(100, seed=2, overrides={"cost_ost": 1088.0})
    assert np.isclose(np.median(s["cost_ost"]) / 544.0, 2.0, rtol=0.15)


def test_comparison_intervals_and_ceac():
    comp = api.compare_dicts(
        scenario(years=5, coverage={"ost": 0.5}, baseline={"coverage": {"ost": 0.1}}),
        samples=40,
        seed=11,
        workers=1,
    )["comparison"]
    fig = comp["dalys_averted"]
    assert fig["low"] <= fig["high"], "intervals should be ordered"
    probs = [p["probability"] for p in comp["ceac"]]
    assert all(0 <= p <= 1 for p in probs)
    assert probs[-1] >= probs[0], "a higher willingness to pay should not lower the probability"


def test_probability_needs_samples_and_the_central_verdict_uses_net_benefit():
    from salus.model.report import cost_effectiveness_sentence

    s = scenario(years=5, coverage={"ost": 0.5}, baseline={"coverage": {"ost": 0.1}})
    comp = api.compare_dicts(s)["comparison"]
    assert comp["probability_cost_effective"] is None, "one run cannot give a probability"
    expected = comp["threshold"] * comp["dalys_averted"] - comp["incremental_cost"]
    assert np.isclose(comp["net_monetary_benefit"], expected)
    assert "--samples" in cost_effectiveness_sentence(comp)
