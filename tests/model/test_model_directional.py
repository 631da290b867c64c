"""Directional tests: a change in one input moves the outputs the expected way."""

from __future__ import annotations

import numpy as np
from model_helpers import NO_PROGRAMMES, run, scenario, total

from salus.model import api


def test_more_ost_means_fewer_infections_and_overdose_deaths():
    low = run(scenario(coverage={"ost": 0.1}))
    high = run(scenario(coverage={"ost": 0.6}))
    assert total(high, "new_hiv_infections") < total(low, "new_hiv_infections"), (
        "more OST should mean fewer new HIV infections"
    )
    assert total(high, "new_hcv_infections") < total(low, "new_hcv_infections"), (
        "more OST should mean fewer new HCV infections"
    )
    assert total(high, "overdose_deaths") < total(low, "overdose_deaths"), (
        "more OST should mean fewer overdose deaths"
    )


def test_more_naloxone_means_fewer_overdose_deaths_and_almost_no_change_in_infections():
    low = run(scenario(coverage={"naloxone": 0.0}))
    high = run(scenario(coverage={"naloxone": 0.9}))
    assert total(high, "overdose_deaths") < 0.8 * total(low, "overdose_deaths"), (
        "naloxone at 90 % coverage should cut overdose deaths by more than 20 %"
    )

    # naloxone has no effect on transmission, but people who survive an overdose stay at risk,
    # so infection counts grow with the number of people injecting: compare infections per
    # person-year (population averaged over each year) instead of raw counts
    def per_person_year(result, key):
        pop = (result["population_start"] + result["population_end"]) / 2
        return float(result[key].sum() / pop.sum())

    for key in ("new_hiv_infections", "new_hcv_infections"):
        assert np.isclose(per_person_year(high, key), per_person_year(low, key), rtol=0.01), (
            f"naloxone should leave {key} per person-year within 1 %"
        )


def test_no_transmission_means_no_new_infections():
    result = run(scenario(parameters={"hiv_transmission_rate": 0.0, "hcv_transmission_rate": 0.0}))
    assert total(result, "new_hiv_infections") == 0.0, "no HIV transmission, no HIV infections"
    assert total(result, "new_hcv_infections") == 0.0, "no HCV transmission, no HCV infections"


def test_zero_coverage_means_zero_programme_cost():
    result = run(scenario(coverage=NO_PROGRAMMES, initial={"ost": 0.0, "nsp": 0.0, "art": 0.0}))
    for item in ("nsp", "ost", "art", "hiv_testing", "hcv_treatment", "naloxone", "programme"):
        assert total(result, "cost", item) == 0.0, f"zero coverage should cost nothing ({item})"


def test_higher_unit_cost_means_higher_icer():
    base = scenario(coverage={"ost": 0.1}, baseline={"coverage": {"ost": 0.1}})
    cheap = api.compare_dicts(
        {
            **base,
            "coverage": {**base["coverage"], "ost": 0.5},
            "costs": {**base["costs"], "ost": 300.0},
        }
    )
    dear = api.compare_dicts(
        {
            **base,
            "coverage": {**base["coverage"], "ost": 0.5},
            "costs": {**base["costs"], "ost": 900.0},
        }
    )
    c, d = cheap["comparison"], dear["comparison"]
    assert d["cost_per_daly_averted"] > c["cost_per_daly_averted"], (
        "a higher OST unit cost should give a higher cost per DALY averted"
    )
    assert d["cost_per_infection_averted"] > c["cost_per_infection_averted"], (
        "a higher OST unit cost should give a higher cost per infection averted"
    )


def test_more_nsp_means_fewer_hcv_infections_at_central_effect():
    low = run(scenario(coverage={"nsp": 0.1}))
    high = run(scenario(coverage={"nsp": 0.7}))
    assert total(high, "new_hcv_infections") < total(low, "new_hcv_infections"), (
        "at the central NSP effect (RR 0.79) more NSP should mean fewer HCV infections"
    )


def test_more_hcv_treatment_lowers_hcv_prevalence():
    low = run(scenario(coverage={"hcv_treatment": 0.0}))
    high = run(scenario(coverage={"hcv_treatment": 0.3}))
    assert high["hcv_prevalence"][-1, 0] < low["hcv_prevalence"][-1, 0], (
        "treating more people should lower chronic HCV prevalence"
    )


def test_more_art_means_fewer_hiv_deaths_and_infections():
    low = run(scenario(coverage={"art": 0.2}))
    high = run(scenario(coverage={"art": 0.9}))
    assert total(high, "deaths", "hiv") < total(low, "deaths", "hiv"), (
        "more ART should mean fewer HIV deaths"
    )
    assert total(high, "new_hiv_infections") < total(low, "new_hiv_infections"), (
        "ART lowers infectiousness, so more ART should mean fewer HIV infections"
    )


def test_post_release_risk_raises_overdose_deaths():
    flat = run(
        scenario(
            parameters={
                "overdose_multiplier_release_weeks_1_2": 1.0,
                "overdose_multiplier_release_weeks_3_4": 1.0,
            }
        )
    )
    peaked = run(scenario())
    assert total(peaked, "overdose_deaths") > total(flat, "overdose_deaths"), (
        "the high risk in the weeks after release should add overdose deaths"
    )


def test_more_imprisonment_raises_overdose_deaths_when_prison_is_not_protective():
    # with the default low overdose risk inside prison, time in prison offsets the excess
    # after release (see docs/model/index.md); with equal risk inside, release dominates
    same_risk = {"overdose_multiplier_in_prison": 1.0}
    few = run(scenario(parameters={**same_risk, "incarceration_rate": 0.05}))
    many = run(scenario(parameters={**same_risk, "incarceration_rate": 0.3}))
    assert total(many, "overdose_deaths") > total(few, "overdose_deaths"), (
        "more imprisonment means more people in the high-risk weeks after release"
    )


def test_leaving_ost_tunnel_raises_deaths():
    safe = run(scenario(parameters={"overdose_multiplier_after_ost_first_4_weeks": 1.0}))
    risky = run(scenario(parameters={"overdose_multiplier_after_ost_first_4_weeks": 4.5}))
    assert total(risky, "overdose_deaths") > total(safe, "overdose_deaths"), (
        "a higher risk in the 4 weeks after leaving OST should raise overdose deaths"
    )


def test_discounting_lowers_dalys():
    undiscounted = run(scenario(discount_rate=0.0))
    discounted = run(scenario(discount_rate=0.05))
    assert total(discounted, "dalys") < total(undiscounted, "dalys"), (
        "discounting at 5 % should lower the DALY total"
    )
