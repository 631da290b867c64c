"""Structural checks of the compartmental core: conservation, positivity, purity."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from model_helpers import run, scenario

from salus.model import api, core, scenarios


def test_population_is_conserved_every_year():
    result = run(scenario(years=15))
    change = result["population_end"] - result["population_start"]
    net_flow = result["entries"] - result["exits"]["total"]
    # flows are tallied from the same per-step probabilities that move people, so the only
    # difference is floating-point rounding over 52 steps x 250 compartments
    assert np.allclose(change, net_flow, rtol=0, atol=1e-6), (
        "population_end - population_start should equal entries - exits every year"
    )


def test_conservation_holds_for_sampled_parameters_too():
    s = scenario(years=5)
    _central, sampled = api.simulate_samples(s, samples=8, seed=3, workers=1)
    change = sampled["population_end"] - sampled["population_start"]
    net_flow = sampled["entries"] - sampled["exits"]["total"]
    assert np.allclose(change, net_flow, rtol=0, atol=1e-6), (
        "conservation should hold for every parameter sample"
    )


def test_year_end_population_is_next_year_start():
    result = run(scenario(years=5))
    assert np.allclose(result["population_end"][:-1], result["population_start"][1:]), (
        "each year should start where the previous one ended"
    )


def test_no_compartment_goes_negative():
    s = scenario(
        years=30,
        coverage={
            "ost": 0.95,
            "nsp": 0.95,
            "hcv_treatment": 0.99,
            "hiv_testing": 0.99,
            "art": 0.95,
            "naloxone": 1.0,
        },
    )
    params = {
        k: np.array([v]) for k, v in {**core_defaults(), **scenarios.parameter_values(s)}.items()
    }
    trans = core.build_transitions(
        params, {k: s["coverage"][k] for k in core.INTERVENTIONS}, np.array([1e4])
    )
    x0 = core.initial_state(1, params, {**s["initial"], "pwid": 1e4, "former_per_pwid": 0.5})
    raw = core.simulate(trans, x0, 30)
    assert raw.state_end.min() > -1e-9, "no compartment should ever hold negative people"


def core_defaults():
    from salus.model.parameters import default_values

    return default_values()


def test_batch_matches_single_runs():
    s = scenario(years=3)
    central, sampled = api.simulate_samples(s, samples=3, seed=5, workers=1)
    from salus.model import uncertainty
    from salus.model.outcomes import simulate_scenario

    params = uncertainty.sample_parameters(3, 5, scenarios.parameter_values(s))
    for i in range(3):
        one = simulate_scenario(s, {k: v[i : i + 1] for k, v in params.items()})
        assert np.allclose(one["new_hiv_infections"][:, 0], sampled["new_hiv_infections"][:, i]), (
            "a sample run inside a batch should equal the same parameters run alone"
        )


def test_the_numerical_core_imports_no_django():
    code = (
        "import sys; import salus.model.api, salus.model.calibration, "
        "salus.model.optimization, salus.model.bridge; "
        "print('django' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", "the model must run without importing Django"


def test_structure_sizes():
    assert core.N == 252, "4 OST x 5 settings x 4 HIV x 3 HCV current + 12 former compartments"
    assert core.DT == 1 / 52, "the step should be one week"


def test_closed_population_decays_exactly_as_the_exit_rates_say():
    # no entries, no infection, no programmes, no prison: every current injector leaves at
    # cessation + overdose + other mortality, so the population is N0 * exp(-rate * t)
    rates = {"cessation_rate": 0.05, "overdose_mortality": 0.012, "other_mortality": 0.01}
    s = scenario(
        years=10,
        coverage={k: 0.0 for k in core.INTERVENTIONS},
        initial={"hiv_prevalence": 0.0, "hcv_prevalence": 0.0, "ost": 0.0, "nsp": 0.0},
        parameters={
            **rates,
            "initiation_rate": 0.0,
            "relapse_rate": 0.0,
            "incarceration_rate": 0.0,
        },
    )
    result = run(s)
    years = np.arange(1, 11)
    expected = 1e4 * np.exp(-sum(rates.values()) * years)
    # exact exponential step probabilities: only rounding separates model and formula
    assert np.allclose(result["population_end"][:, 0], expected, rtol=1e-9), (
        "a closed population should decay as exp(-total exit rate x t)"
    )
    overdose_share = result["exits"]["overdose"].sum() / result["exits"]["total"].sum()
    assert np.isclose(overdose_share, 0.012 / 0.072, rtol=1e-9), (
        "exits should split in proportion to the competing rates"
    )


def test_public_scipy_fallback_gives_the_same_results(monkeypatch):
    s = scenario(years=3)
    fast = run(s)
    monkeypatch.setattr(core, "_csr_matvec", None)
    slow = run(s)
    for key in ("new_hiv_infections", "new_hcv_infections", "population_end", "dalys"):
        assert np.allclose(fast[key], slow[key], rtol=1e-12), (
            f"{key}: the fallback without scipy's private kernel must match"
        )


def test_weekly_step_is_converged(monkeypatch):
    s = scenario(years=10)
    weekly = run(s)
    monkeypatch.setattr(core, "DT", 1.0 / 104.0)
    monkeypatch.setattr(core, "STEPS_PER_YEAR", 104)
    half_weekly = run(s)
    for key in ("new_hiv_infections", "new_hcv_infections", "overdose_deaths", "dalys"):
        a, b = weekly[key].sum(), half_weekly[key].sum()
        # competing rates use exact exponentials; only the infection term is first order, so
        # halving the step should move ten-year totals by well under 1 %
        assert np.isclose(a, b, rtol=0.01), f"{key}: weekly {a:.1f} vs half-weekly {b:.1f}"
