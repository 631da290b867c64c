"""Fit uncertain rates to observed HIV and HCV prevalence and reported overdose deaths.

The fit runs the scenario's baseline (status quo coverage) from ``start_year`` and compares
year-end prevalence, deaths during the year and the year-end number of people who inject
drugs (``population_end``, e.g. from population size estimates) with each observation. Residuals are on the
logit scale for prevalences and the log scale for counts, divided by the standard error
implied by the observation's 95 % interval, and minimised with
``scipy.optimize.least_squares`` over the log of each fitted parameter.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import least_squares

from . import scenarios
from .outcomes import simulate_scenario
from .parameters import PARAMETERS
from .uncertainty import point_parameters

# observation name -> model output it is compared with
TARGETS = ("hiv_prevalence", "hcv_prevalence", "overdose_deaths", "population_end")
DEFAULT_FIT = ("hiv_transmission_rate", "hcv_transmission_rate", "overdose_mortality")
# standard error assumed on the fitting scale when an observation has no interval
DEFAULT_SE = 0.1
# fitted parameters may move this many times away from their default in either direction
DEFAULT_RANGE = 10.0


class CalibrationError(ValueError):
    """The calibration table is missing or invalid."""


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _transform(target: str):
    return _logit if target.endswith("prevalence") else (lambda v: np.log(np.maximum(v, 1e-9)))


def observations(scenario: dict) -> list[dict]:
    """Observations from the ``calibration`` table as dicts with target, year, value, se."""
    table = scenario["calibration"]
    obs = []
    for target in TARGETS:
        for item in table.get(target, []):
            year, value = int(item["year"]), float(item["value"])
            if not scenario["start_year"] <= year < scenario["start_year"] + scenario["years"]:
                raise CalibrationError(f"{target} observation year {year} is outside the run")
            f = _transform(target)
            if "low" in item and "high" in item:
                se = (f(float(item["high"])) - f(float(item["low"]))) / (2 * 1.959964)
            else:
                se = DEFAULT_SE
            obs.append(
                {
                    "target": target,
                    "year": year,
                    "value": value,
                    "low": item.get("low"),
                    "high": item.get("high"),
                    "se": max(se, 1e-6),
                }
            )
    if not obs:
        raise CalibrationError("the scenario has no [calibration] observations")
    return obs


def _model_values(result: dict, scenario: dict, obs: list[dict]) -> np.ndarray:
    out = []
    for o in obs:
        i = o["year"] - scenario["start_year"]
        out.append(float(result[o["target"]][i, 0]))
    return np.array(out)


def calibrate(scenario: dict) -> dict:
    """Fit the parameters named in ``calibration.fit`` and return a fit report.

    Returns:
        ``{"fitted": {name: value}, "start": {name: value}, "observations": [...with
        "model" before and after], "cost": final sum of squared residuals / 2, "success",
        "message", "evaluations", "seconds", "parameters_toml"}``.
    """
    scenario = scenarios.validate(scenario)
    base = scenarios.baseline_of(scenario)
    obs = observations(base)
    table = base["calibration"]
    names = list(table.get("fit", DEFAULT_FIT))
    for name in names:
        if name not in PARAMETERS:
            raise CalibrationError(f"cannot fit unknown parameter {name!r}")
    overrides = scenarios.parameter_values(base)
    start = {n: overrides.get(n, PARAMETERS[n].value) for n in names}
    bounds_table = table.get("bounds", {})
    lo, hi = [], []
    for n in names:
        if n in bounds_table:
            b = bounds_table[n]
            lo.append(np.log(b[0]))
            hi.append(np.log(b[1]))
        else:
            lo.append(np.log(start[n] / DEFAULT_RANGE))
            high = start[n] * DEFAULT_RANGE
            if PARAMETERS[n].unit in ("probability", "fraction (unitless)"):
                high = min(high, 1.0)
            hi.append(np.log(high))
    # only the years up to the last observation matter for the fit
    fit_run = dict(base, years=max(o["year"] for o in obs) - base["start_year"] + 1)
    observed = np.array([_transform(o["target"])(o["value"]) for o in obs])
    se = np.array([o["se"] for o in obs])
    transforms = [_transform(o["target"]) for o in obs]
    evaluations = 0

    def run(theta) -> dict:
        values = dict(overrides)
        values.update(dict(zip(names, np.exp(theta), strict=True)))
        return simulate_scenario(fit_run, point_parameters(values))

    def residuals(theta):
        nonlocal evaluations
        evaluations += 1
        model = _model_values(run(theta), fit_run, obs)
        fitted = np.array([f(m) for f, m in zip(transforms, model, strict=True)])
        return (fitted - observed) / se

    t0 = time.perf_counter()
    theta0 = np.clip(np.log([start[n] for n in names]), lo, hi)
    before = _model_values(run(theta0), fit_run, obs)
    sol = least_squares(residuals, theta0, bounds=(lo, hi), x_scale=1.0, diff_step=1e-3)
    after = _model_values(run(sol.x), fit_run, obs)
    fitted = {n: float(v) for n, v in zip(names, np.exp(sol.x), strict=True)}
    for o, b, a in zip(obs, before, after, strict=True):
        o["model_start"] = float(b)
        o["model"] = float(a)
    toml_lines = ["[parameters]  # calibrated by salus model calibrate"]
    toml_lines += [f"{n} = {v:.6g}" for n, v in fitted.items()]
    return {
        "scenario": base["name"],
        "fitted": fitted,
        "start": {n: float(v) for n, v in start.items()},
        "observations": obs,
        "cost": float(sol.cost),
        "success": bool(sol.success),
        "message": str(sol.message),
        "evaluations": evaluations,
        "seconds": time.perf_counter() - t0,
        "parameters_toml": "\n".join(toml_lines) + "\n",
        "trajectory": _trajectories(run(sol.x), fit_run),
    }


def _trajectories(result: dict, scenario: dict) -> dict:
    years = list(range(scenario["start_year"], scenario["start_year"] + scenario["years"]))
    return {"years": years, **{t: [float(v) for v in result[t][:, 0]] for t in TARGETS}}


def apply_fit(scenario: dict, report: dict) -> dict:
    """The scenario with the fitted values written into its ``parameters`` table."""
    out = dict(scenario)
    params = dict(scenario.get("parameters", {}))
    params.update(report["fitted"])
    out["parameters"] = params
    return scenarios.validate(out)
