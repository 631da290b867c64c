"""Run a validated scenario for a batch of parameter sets and tally yearly outcomes.

Everything here works on arrays whose last axis is the parameter sample, so the same code
serves one central run and a thousand uncertainty samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

import numpy as np

from . import core
from .core import INTERVENTIONS, MASKS

# yearly outcome names that are counts (summed in totals) or levels (not summed)
COUNT_KEYS = (
    "entries",
    "new_hiv_infections",
    "new_hcv_infections",
    "overdose_deaths",
    "dalys",
    "cost_discounted",
)
LEVEL_KEYS = ("population_start", "population_end", "hiv_prevalence", "hcv_prevalence")
EXIT_CAUSES = ("cessation", "overdose", "hiv", "hcv", "other")
DEATH_CAUSES = ("overdose", "hiv", "hcv", "other")
COST_ITEMS = (*INTERVENTIONS, "hiv_care")


def coverage_of(scenario: dict) -> dict[str, float]:
    """Coverage fractions of a validated scenario."""
    return {k: float(scenario["coverage"][k]) for k in INTERVENTIONS}


def initial_of(scenario: dict) -> dict[str, float]:
    """Initial-state inputs for ``core.initial_state``."""
    init = dict(scenario["initial"])
    init["pwid"] = scenario["population"]["pwid"]
    init["former_per_pwid"] = scenario["population"]["former_per_pwid"]
    return init


def simulate_scenario(
    scenario: dict,
    params: dict[str, np.ndarray],
    coverage: Mapping[str, float | np.ndarray] | None = None,
) -> dict:
    """Run ``scenario`` for every parameter sample and return yearly outcome arrays.

    Args:
        scenario: validated scenario dict (``scenarios.validate``).
        params: ``{name: array (n_samples,)}``.
        coverage: optional coverage replacing the scenario's (used by the optimiser), a
            fraction or an array (n_samples,) per intervention.

    Returns:
        Nested dict of arrays shaped (years, n_samples); see ``summarise``.
    """
    n = len(params["cessation_rate"])
    cov = coverage if coverage is not None else coverage_of(scenario)
    pwid = np.full(n, float(scenario["population"]["pwid"]))
    trans = core.build_transitions(params, cov, pwid)
    x0 = core.initial_state(n, params, initial_of(scenario))
    raw = core.simulate(trans, x0, scenario["years"])
    return summarise(raw, params, cov, scenario["discount_rate"])


def discount_factors(years: int, rate: float) -> np.ndarray:
    """Mid-year discount factors (years,): (1 + rate) ** -(t + 0.5)."""
    return (1.0 + rate) ** -(np.arange(years) + 0.5)


def discounted_life_years(life_years: np.ndarray, rate: float) -> np.ndarray:
    """Continuously discounted years of life lost per death."""
    if rate == 0:
        return life_years
    r = np.log1p(rate)
    return (1.0 - np.exp(-r * life_years)) / r


def summarise(
    raw: core.RawResult, params: dict, coverage: Mapping[str, float | np.ndarray], discount_rate: float
) -> dict:
    """Turn raw tallies into named yearly outcomes.

    Returns a dict with arrays (years, n_samples):
        population_start, population_end: people currently injecting (incl. in prison).
        entries: initiation plus relapse; exits: {cause: people}, where causes are stopping
            injecting and deaths of current injectors by cause, and "total".
        new_hiv_infections, new_hcv_infections: incident infections (HCV counts infections
            that later clear spontaneously too).
        deaths: {cause: deaths} among current and former injectors, and "total".
        overdose_deaths; hiv_prevalence, hcv_prevalence (chronic) among current injectors
            at year end (fractions).
        people_on: {intervention: average people on it over the year}; for hiv_testing the
            number of tests, for hcv_treatment the number of courses started.
        cost: {item: USD, undiscounted}, items are the six programmes, "hiv_care"
            (treatment cost), "programme" (sum of the six) and "total".
        cost_discounted: total cost discounted to the start year (USD).
        dalys: disability-adjusted life years, discounted (YLD on HIV and HCV time plus YLL
            at death).
    """
    py = raw.person_years  # (years, n_samples, N)
    years = py.shape[0]

    def total(mask_name: str) -> np.ndarray:
        return py[:, :, MASKS[mask_name]].sum(axis=2)

    fc, ff = raw.flows_current, raw.flows_former
    exits = {
        "cessation": fc["cessation"],
        "overdose": fc["death_overdose"],
        "hiv": fc["death_hiv"],
        "hcv": fc["death_hcv"],
        "other": fc["death_other"],
    }
    # A sum of arrays (EXIT_CAUSES is not empty), never sum()'s start value 0.
    exits["total"] = cast(np.ndarray, sum(exits[c] for c in EXIT_CAUSES))
    deaths = {c: fc[f"death_{c}"] + ff[f"death_{c}"] for c in DEATH_CAUSES}
    deaths["total"] = sum(deaths[c] for c in DEATH_CAUSES)
    entries = raw.initiation + ff["relapse"]

    end = raw.state_end
    current_end = end[:, :, MASKS["current"]].sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        hiv_prev = end[:, :, MASKS["current_hiv_positive"]].sum(axis=2) / current_end
        hcv_prev = end[:, :, MASKS["current_hcv_chronic"]].sum(axis=2) / current_end

    community = total("community")
    c = {k: np.broadcast_to(np.asarray(coverage[k], float), (py.shape[1],)) for k in coverage}
    hcv_course_rate = core.annual_probability_to_rate(c["hcv_treatment"])
    people_on = {
        "nsp": total("on_nsp"),
        "ost": total("on_ost"),
        "art": total("on_art"),
        # tests: annual test probability x person-years (the programme reaches prisons too)
        "hiv_testing": c["hiv_testing"] * total("current"),
        "hcv_treatment": hcv_course_rate * total("hcv_chronic"),  # courses started
        "naloxone": c["naloxone"] * community,
    }
    unit = {
        "nsp": params["cost_nsp"],
        "ost": params["cost_ost"],
        "art": params["cost_art"],
        "hiv_testing": params["cost_hiv_test"],
        "hcv_treatment": params["cost_hcv_course"],
        "naloxone": params["cost_naloxone"],
    }
    cost = {k: people_on[k] * unit[k] for k in INTERVENTIONS}
    cost["hiv_care"] = total("hiv_diagnosed_not_on_art") * params["cost_hiv_care"]
    cost["programme"] = sum(cost[k] for k in INTERVENTIONS)
    cost["total"] = cost["programme"] + cost["hiv_care"]

    disc = discount_factors(years, discount_rate)[:, None]
    yld = (
        params["dw_hiv_untreated"] * total("hiv_untreated")
        + params["dw_hiv_art"] * total("on_art")
        + params["dw_hcv_chronic"] * total("hcv_chronic")
    )
    yll = deaths["total"] * discounted_life_years(
        np.asarray(params["life_years_lost_per_death"], float), discount_rate
    )
    return {
        "population_start": raw.population_start,
        "population_end": raw.population_end,
        "entries": entries,
        "exits": exits,
        "new_hiv_infections": raw.new_hiv,
        "new_hcv_infections": raw.new_hcv,
        "overdose_deaths": deaths["overdose"],
        "deaths": deaths,
        "hiv_prevalence": hiv_prev,
        "hcv_prevalence": hcv_prev,
        "people_on": people_on,
        "cost": cost,
        "cost_discounted": cost["total"] * disc,
        "dalys": (yld + yll) * disc,
    }


def totals(yearly: dict) -> dict:
    """Sums over the horizon (n_samples,) of every count; levels give first/last values."""
    out: dict = {}
    for key, value in yearly.items():
        if isinstance(value, dict):
            out[key] = {k: v.sum(axis=0) for k, v in value.items()}
        elif key == "population_start":
            out[key] = value[0]
        elif key == "population_end":
            out[key] = value[-1]
        elif key in ("hiv_prevalence", "hcv_prevalence"):
            out[key] = value[-1]  # at the end of the horizon
        else:
            out[key] = value.sum(axis=0)
    return out
