"""Scenario files: defaults, validation, ``--set`` overrides and the example scenario.

A scenario is a nested dict (read from TOML with ``tomllib``). ``DEFAULTS`` lists every key
the model understands; a key outside it is an error, so a typo never passes silently.
"""

from __future__ import annotations

import copy
import tomllib
from typing import Any

from .core import INTERVENTIONS
from .parameters import PARAMETERS, check_overrides

# Every accepted key with its default. Free-form tables are handled in ``validate``.
DEFAULTS: dict[str, Any] = {
    "name": "Scenario",
    "description": "",
    "start_year": 2025,
    "years": 30,
    "discount_rate": 0.03,
    "population": {"pwid": 10000.0, "former_per_pwid": 0.5},
    "initial": {
        "hiv_prevalence": 0.10,
        "hiv_diagnosed": 0.5,
        "art": 0.5,
        "hcv_prevalence": 0.50,
        "hcv_cured": 0.0,
        "ost": 0.10,
        "nsp": 0.30,
    },
    "coverage": {
        "nsp": 0.30,
        "ost": 0.10,
        "art": 0.50,
        "hiv_testing": 0.30,
        "hcv_treatment": 0.05,
        "naloxone": 0.10,
    },
    # unit costs; each maps to the parameter cost_<key> and defaults to its value
    "costs": {
        "nsp": PARAMETERS["cost_nsp"].value,
        "ost": PARAMETERS["cost_ost"].value,
        "art": PARAMETERS["cost_art"].value,
        "hiv_test": PARAMETERS["cost_hiv_test"].value,
        "hcv_course": PARAMETERS["cost_hcv_course"].value,
        "naloxone": PARAMETERS["cost_naloxone"].value,
        "hiv_care": PARAMETERS["cost_hiv_care"].value,
    },
    "parameters": {},  # {parameter name: value}, any name in parameters.py
    "cost_effectiveness": {"threshold": 1000.0},  # USD per DALY averted
    "baseline": {},  # overrides applied to this scenario to get its comparator
    "calibration": {},  # targets, see calibration.py
    "optimization": {},  # budget settings, see optimization.py
}

FRACTION_KEYS = {f"coverage.{k}" for k in INTERVENTIONS} | {
    f"initial.{k}" for k in DEFAULTS["initial"]
}
FREE_TABLES = ("parameters", "baseline", "calibration", "optimization")
# keys of the free-form tables whose contents are checked by their own module
FREE_TABLE_KEYS = {
    "calibration": {
        "fit",
        "bounds",
        "hiv_prevalence",
        "hcv_prevalence",
        "overdose_deaths",
        "population_end",
    },
    "optimization": {"budget", "objective", "weights", "max_coverage", "bounds"},
}


class ScenarioError(ValueError):
    """A scenario key or value is invalid; the message names the key."""


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _check_types(defaults: dict, given: dict, prefix: str = "") -> None:
    for key, value in given.items():
        path = f"{prefix}{key}"
        if key not in defaults:
            raise ScenarioError(f"unknown scenario key {path!r}")
        if key in FREE_TABLES and not prefix:
            if not isinstance(value, dict):
                raise ScenarioError(f"{path!r} must be a table")
            continue
        default = defaults[key]
        if isinstance(default, dict):
            if not isinstance(value, dict):
                raise ScenarioError(f"{path!r} must be a table")
            _check_types(default, value, path + ".")
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ScenarioError(f"{path!r} must be true or false, got {value!r}")
        elif isinstance(default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScenarioError(f"{path!r} must be a number, got {value!r}")
            if (
                isinstance(default, int)
                and not isinstance(default, bool)
                and (not float(value).is_integer())
            ):
                raise ScenarioError(f"{path!r} must be a whole number, got {value!r}")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ScenarioError(f"{path!r} must be text, got {value!r}")


def validate(scenario: dict) -> dict:
    """Return the scenario merged over ``DEFAULTS``; raise ``ScenarioError`` on bad input."""
    _check_types(DEFAULTS, scenario)
    merged = _merge(DEFAULTS, scenario)
    for path in FRACTION_KEYS:
        table, key = path.split(".")
        value = merged[table][key]
        if not 0.0 <= value <= 1.0:
            raise ScenarioError(f"{path!r} must be a fraction between 0 and 1, got {value!r}")
    if merged["years"] < 1:
        raise ScenarioError("'years' must be at least 1")
    if merged["population"]["pwid"] <= 0:
        raise ScenarioError("'population.pwid' must be positive")
    if not 0.0 <= merged["discount_rate"] < 1.0:
        raise ScenarioError("'discount_rate' must be between 0 and 1")
    if merged["initial"]["hcv_prevalence"] + merged["initial"]["hcv_cured"] > 1:
        raise ScenarioError("'initial.hcv_prevalence' + 'initial.hcv_cured' must not exceed 1")
    for key, value in merged["costs"].items():
        if value < 0:
            raise ScenarioError(f"'costs.{key}' must not be negative")
    try:
        check_overrides(merged["parameters"])
    except (KeyError, TypeError) as exc:
        raise ScenarioError(f"parameters: {exc.args[0]}") from None
    for table, allowed in FREE_TABLE_KEYS.items():
        for key in merged[table]:
            if key not in allowed:
                raise ScenarioError(
                    f"unknown scenario key '{table}.{key}' (known: {', '.join(sorted(allowed))})"
                )
    baseline = merged["baseline"]
    if baseline:
        _check_types({k: v for k, v in DEFAULTS.items() if k != "baseline"}, baseline)
    merged["years"] = int(merged["years"])
    merged["start_year"] = int(merged["start_year"])
    return merged


def baseline_of(scenario: dict) -> dict:
    """The comparator: the validated scenario with its ``baseline`` overrides applied.

    The comparator starts from the same initial state: only what ``baseline`` names differs.
    """
    scenario = validate(scenario)
    over = scenario["baseline"]
    base = _merge({k: v for k, v in scenario.items() if k != "baseline"}, over)
    base.setdefault("name", scenario["name"] + " (baseline)")
    if "name" not in over:
        base["name"] = "Baseline"
    base["baseline"] = {}
    return validate(base)


def parameter_values(scenario: dict) -> dict[str, float]:
    """Parameter overrides implied by the scenario (``parameters`` table and unit costs)."""
    values = {f"cost_{k}": float(v) for k, v in scenario["costs"].items()}
    values.update(check_overrides(scenario["parameters"]))
    return values


def parse_value(text: str) -> Any:
    """Parse a ``--set`` value as a TOML value; bare words are taken as text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_set(scenario: dict, assignments: list[str]) -> dict:
    """Apply ``KEY=VALUE`` overrides (dotted keys) and validate the result.

    Raises:
        ScenarioError: malformed assignment, unknown key or wrong type.
    """
    out = copy.deepcopy(scenario)
    for item in assignments:
        if "=" not in item:
            raise ScenarioError(f"--set expects KEY=VALUE, got {item!r}")
        key, text = item.split("=", 1)
        path = key.strip().split(".")
        value = parse_value(text.strip())
        node_default: Any = DEFAULTS
        known = True
        for part in path:
            if isinstance(node_default, dict) and part in node_default:
                node_default = node_default[part]
            elif path[0] == "parameters" and len(path) == 2 and part in PARAMETERS:
                node_default = PARAMETERS[part].value
            elif path[0] in ("baseline", "calibration", "optimization"):
                node_default = None
            else:
                known = False
                break
        if not known:
            raise ScenarioError(f"unknown scenario key {key!r}")
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ScenarioError(f"{key!r}: {part!r} is not a table")
        node[path[-1]] = value
    return validate(out)


def load(path: str) -> dict:
    """Read and validate a TOML scenario file."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return validate(data)


EXAMPLE = """\
# Salus impact model: example scenario.
# ILLUSTRATIVE VALUES ONLY. The area, its population and its prevalences are invented to show
# the format; replace every number with local data before drawing any conclusion.
# Run it with:  salus model run example.toml   (or compare / calibrate / optimize)

name = "Example area: scale up OST and naloxone (illustrative)"
description = "Invented numbers showing every key; not a real place."
start_year = 2020
years = 30               # horizon in years (weekly steps inside)
discount_rate = 0.03     # per year, for costs and DALYs

[population]
pwid = 10000             # people who currently inject drugs (population size estimate)
former_per_pwid = 0.5    # people who formerly injected, per current PWID

[initial]                # the state at the start of start_year, shared with the baseline
hiv_prevalence = 0.10    # share of PWID living with HIV
hiv_diagnosed = 0.5      # share of people with HIV who know their status
art = 0.5                # share of diagnosed people on ART
hcv_prevalence = 0.50    # share with chronic (RNA-positive) HCV
hcv_cured = 0.0          # share cured by treatment
ost = 0.10               # share on OST now
nsp = 0.30               # share using a high-coverage NSP now

[coverage]               # fractions 0-1 held from start_year onwards
nsp = 0.40               # share of PWID on high-coverage NSP (>= 200 syringes a year)
ost = 0.40               # share of PWID on OST
art = 0.80               # share of diagnosed people with HIV on ART
hiv_testing = 0.50       # share of PWID tested for HIV each year
hcv_treatment = 0.10     # share of people with chronic HCV starting treatment each year
naloxone = 0.50          # share of PWID with take-home naloxone

[costs]                  # unit costs in USD (currency years differ: see docs/model/parameters.md)
nsp = 71                 # per person-year on NSP
ost = 544                # per person-year on OST
art = 880                # per person-year on ART
hiv_test = 10            # per test
hcv_course = 800         # per treatment course
naloxone = 40            # per person-year covered
hiv_care = 202           # per person-year diagnosed, not on ART

[cost_effectiveness]
threshold = 1000         # USD per DALY averted, for "probability cost-effective"

[parameters]             # overrides of any parameter in docs/model/parameters.md
# hiv_transmission_rate = 0.17

[baseline.coverage]      # the comparator: this scenario with these keys changed
nsp = 0.30
ost = 0.10
art = 0.50
hiv_testing = 0.30
hcv_treatment = 0.05
naloxone = 0.10

[calibration]            # observed data (invented) fitted by the baseline run: salus model calibrate
fit = ["hiv_transmission_rate", "hcv_transmission_rate", "overdose_mortality", "initiation_rate"]
hiv_prevalence = [{year = 2022, value = 0.11, low = 0.09, high = 0.13},
                  {year = 2024, value = 0.12, low = 0.10, high = 0.14}]
hcv_prevalence = [{year = 2022, value = 0.48, low = 0.42, high = 0.54},
                  {year = 2024, value = 0.47, low = 0.41, high = 0.53}]
overdose_deaths = [{year = 2022, value = 110, low = 90, high = 130},
                   {year = 2024, value = 120, low = 100, high = 140}]
population_end = [{year = 2024, value = 10500, low = 8000, high = 13000}]  # PSE of PWID

[optimization]           # salus model optimize
budget = 3000000         # USD per year to allocate over the six programmes
objective = "dalys"      # dalys, infections, deaths or weighted
weights = {dalys = 1.0, infections = 0.0, deaths = 0.0}
max_coverage = {nsp = 0.8, ost = 0.6, art = 0.9, hiv_testing = 0.9, hcv_treatment = 0.5, naloxone = 0.8}
"""
