"""Scenario from programme indicators, with hand-made indicator rows."""

from __future__ import annotations

import pytest

from salus.model.bridge import pse_from_rows, scenario_from_program


def row(code, value=None, programme_value=None):
    return {
        "code": code,
        "value": value,
        "programme_value": programme_value,
        "numerator": None,
        "denominator": None,
        "value_low": None,
        "value_high": None,
    }


def test_indicators_map_to_coverage_and_population():
    rows = [
        row("OST_COVERAGE", 0.25),
        row("NSP_SYRINGES_PER_PWID", 120.0),
        row("NSP_COVERAGE", 0.7),
        row("HTS_PWID", 40.0),
        row("ART_PWID", 0.3, programme_value=0.6),
        row("NALOXONE_KITS_DISTRIBUTED", 500),
    ]
    s = scenario_from_program("AREA-1", 2024, rows, {"pwid": {"value": 5000, "low": 4000}})
    assert s["population"]["pwid"] == 5000
    assert s["coverage"]["ost"] == 0.25
    assert s["coverage"]["nsp"] == pytest.approx(0.6), "120 syringes / 200, below the reach 0.7"
    assert s["coverage"]["hiv_testing"] == pytest.approx(0.40), "percentages are read as such"
    assert s["coverage"]["art"] == 0.6, "ART uses the programme-level value (of diagnosed)"
    assert s["coverage"]["naloxone"] == pytest.approx(0.1), "500 kits for 5000 PWID"
    assert s["start_year"] == 2024
    assert s["initial"]["ost"] == 0.25, "the status quo is also the initial state"
    assert s["baseline"]["coverage"] == s["coverage"], "the status quo is the comparator"


def test_nsp_share_is_capped_by_reach():
    rows = [row("NSP_SYRINGES_PER_PWID", 300.0), row("NSP_COVERAGE", 0.5)]
    s = scenario_from_program("A", 2024, rows, {"pwid": 1000})
    assert s["coverage"]["nsp"] == 0.5


def test_missing_indicators_keep_defaults_and_are_listed():
    s = scenario_from_program("A", 2024, [], {"pwid": 1000})
    assert "coverage.ost" in s["description"] and "coverage.hcv_treatment" in s["description"]


def test_a_pwid_estimate_is_required():
    with pytest.raises(ValueError, match="population size estimate"):
        scenario_from_program("A", 2024, [row("OST_COVERAGE", 0.2)], {})


def test_pse_comes_from_the_population_denominator_of_pwid_rows():
    rows = [row("OST_COVERAGE", 0.2), {**row("HTS_PWID", 0.5), "population_denominator": 2500}]
    assert pse_from_rows(rows) == {"pwid": 2500.0}
    assert pse_from_rows([row("OST_COVERAGE", 0.2)]) == {}
