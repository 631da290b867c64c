"""Small scenarios shared by the model tests (fast: few years, central parameters)."""

from __future__ import annotations

from salus.model import outcomes, scenarios, uncertainty

NO_PROGRAMMES = {
    "nsp": 0.0,
    "ost": 0.0,
    "art": 0.0,
    "hiv_testing": 0.0,
    "hcv_treatment": 0.0,
    "naloxone": 0.0,
}


def scenario(
    years: int = 10, coverage: dict | None = None, parameters: dict | None = None, **extra
) -> dict:
    """A validated scenario on model defaults with the given coverage and parameters."""
    data = {
        "years": years,
        "coverage": {**scenarios.DEFAULTS["coverage"], **(coverage or {})},
        "parameters": parameters or {},
        **extra,
    }
    return scenarios.validate(data)


def run(s: dict) -> dict:
    """Yearly outcome arrays of the central run (sample axis of size 1)."""
    return outcomes.simulate_scenario(
        s, uncertainty.point_parameters(scenarios.parameter_values(s))
    )


def total(result: dict, key: str, sub: str | None = None) -> float:
    """Sum over the horizon of a yearly outcome, central run."""
    value = result[key][sub] if sub else result[key]
    return float(value.sum())
