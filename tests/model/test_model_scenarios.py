"""Scenario files: the example runs, --set is type-checked, unknown keys fail clearly."""

from __future__ import annotations

import tomllib

import pytest

from salus.model import api, scenarios


def test_the_example_scenario_runs_as_is():
    data = tomllib.loads(scenarios.EXAMPLE)
    data["years"] = 2  # keep the test fast; the full horizon runs in the CLI test
    result = api.run_scenario_dict(data)
    assert len(result["years"]) == 2
    assert "ILLUSTRATIVE" in scenarios.EXAMPLE, "the example must say its values are invented"


def test_the_example_sets_every_coverage_key():
    data = tomllib.loads(scenarios.EXAMPLE)
    assert set(data["coverage"]) == {
        "nsp",
        "ost",
        "art",
        "hiv_testing",
        "hcv_treatment",
        "naloxone",
    }


def test_set_overrides_a_dotted_key_with_type_checking():
    s = scenarios.apply_set(
        {}, ["coverage.ost=0.4", "years=5", "parameters.rr_hiv_ost=0.5", 'name="Test"']
    )
    assert s["coverage"]["ost"] == 0.4 and s["years"] == 5 and s["name"] == "Test"
    assert s["parameters"]["rr_hiv_ost"] == 0.5


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("coverage.foo=0.1", "unknown scenario key 'coverage.foo'"),
        ("coverage.ost=lots", "'coverage.ost' must be a number"),
        ("coverage.ost=1.2", "must be a fraction between 0 and 1"),
        ("years=2.5", "must be a whole number"),
        ("parameters.no_such=1", "unknown scenario key 'parameters.no_such'"),
        ("coverage.ost", "--set expects KEY=VALUE"),
        ("optimization.budgett=5", "unknown scenario key 'optimization.budgett'"),
        ("baseline.coverage.osst=0.1", "unknown scenario key 'coverage.osst'"),
    ],
)
def test_bad_set_fails_with_a_clear_message(assignment, message):
    with pytest.raises(scenarios.ScenarioError, match=message.replace("(", r"\(")):
        scenarios.apply_set({}, [assignment])


def test_unknown_top_level_key_fails():
    with pytest.raises(scenarios.ScenarioError, match="unknown scenario key 'coverrage'"):
        scenarios.validate({"coverrage": {}})


def test_baseline_shares_the_initial_state_and_changes_only_what_it_names():
    s = scenarios.validate({"coverage": {"ost": 0.5}, "baseline": {"coverage": {"ost": 0.1}}})
    b = scenarios.baseline_of(s)
    assert b["coverage"]["ost"] == 0.1 and b["initial"] == s["initial"]
    assert b["coverage"]["nsp"] == s["coverage"]["nsp"]


def test_compare_without_a_baseline_says_what_is_missing():
    from salus.model import api

    with pytest.raises(scenarios.ScenarioError, match="nothing to compare with"):
        api.compare_dicts({"years": 2})
