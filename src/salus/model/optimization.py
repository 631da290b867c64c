"""Budget allocation over the six programmes, Optima-style.

Spend-to-coverage curve (the "program book"), per intervention k::

    coverage_k(spend) = max_k * (1 - exp(-spend / (unit_cost_k * target_k * max_k)))

``spend`` is USD per year, ``unit_cost_k`` the scenario's unit cost and ``target_k`` the size of
the group the programme serves: people who inject drugs for NSP, OST, HIV testing and
naloxone, people diagnosed with HIV for ART, people with chronic HCV for treatment (both at
the start). At small spend coverage grows by 1 / (unit cost x target) per dollar; it
saturates at ``max_k`` (the share a programme can realistically reach). The curve ignores that
the target groups change over time, so the model's own yearly cost of an allocation can
differ from the budget: reports show both.

``optimize`` minimises an outcome over the horizon for a fixed annual budget; ``minimum_budget``
finds the least annual spend that reaches a target. Gradients are finite differences computed
as one batched run (the base point plus one perturbed point per programme).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from . import scenarios
from .core import INTERVENTIONS
from .outcomes import simulate_scenario, totals
from .uncertainty import point_parameters

OBJECTIVES = (
    "dalys",
    "infections",
    "deaths",
    "new_hiv_infections",
    "new_hcv_infections",
    "overdose_deaths",
    "weighted",
)
UNIT_COST_KEY = {
    "nsp": "nsp",
    "ost": "ost",
    "art": "art",
    "hiv_testing": "hiv_test",
    "hcv_treatment": "hcv_course",
    "naloxone": "naloxone",
}
DEFAULT_MAX_COVERAGE = {
    "nsp": 0.8,
    "ost": 0.6,
    "art": 0.9,
    "hiv_testing": 0.9,
    "hcv_treatment": 0.5,
    "naloxone": 0.8,
}
FD_STEP = 1e-3  # finite-difference step, as a fraction of the budget


class OptimizationError(ValueError):
    """The optimisation settings are invalid."""


class ProgramBook:
    """Spend-to-coverage curves for one scenario."""

    def __init__(self, scenario: dict):
        settings = scenario["optimization"]
        pwid = scenario["population"]["pwid"]
        init = scenario["initial"]
        target = {
            "nsp": pwid,
            "ost": pwid,
            "hiv_testing": pwid,
            "naloxone": pwid,
            "art": max(pwid * init["hiv_prevalence"] * init["hiv_diagnosed"], 1.0),
            "hcv_treatment": max(pwid * init["hcv_prevalence"], 1.0),
        }
        maxc = dict(DEFAULT_MAX_COVERAGE)
        maxc.update(settings.get("max_coverage", {}))
        for k, v in maxc.items():
            if k not in INTERVENTIONS or not 0 < v <= 1:
                raise OptimizationError(f"optimization.max_coverage.{k} must be in (0, 1]")
        self.max_coverage = np.array([maxc[k] for k in INTERVENTIONS])
        unit = np.array([scenario["costs"][UNIT_COST_KEY[k]] for k in INTERVENTIONS])
        self.scale = unit * np.array([target[k] for k in INTERVENTIONS]) * self.max_coverage

    def coverage(self, spend: np.ndarray) -> np.ndarray:
        """Coverage (..., 6) from annual spend (..., 6) in USD."""
        spend = np.maximum(np.asarray(spend, float), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(self.scale > 0, spend / self.scale, np.inf)
        return self.max_coverage * -np.expm1(-frac)

    def spend(self, coverage: np.ndarray) -> np.ndarray:
        """Annual spend (USD) that buys ``coverage`` (inf at or above the ceiling)."""
        c = np.asarray(coverage, float)
        with np.errstate(divide="ignore"):
            return np.where(
                c < self.max_coverage, -self.scale * np.log1p(-c / self.max_coverage), np.inf
            )


def _outcome(tot: dict, name: str) -> np.ndarray:
    if name == "infections":
        return tot["new_hiv_infections"] + tot["new_hcv_infections"]
    if name == "deaths":
        return tot["deaths"]["total"]
    return tot[name]


class _Evaluator:
    """Evaluates the objective for many spend vectors at once (one batched model run)."""

    def __init__(self, scenario: dict, objective: str, weights: dict):
        self.scenario = scenario
        self.book = ProgramBook(scenario)
        self.params_one = point_parameters(scenarios.parameter_values(scenario))
        self.objective = objective
        self.weights = weights
        self.runs = 0
        ref = totals(simulate_scenario(scenario, self.params_one))
        # weighted objectives are sums of outcomes relative to the status quo
        self.reference = {
            k: max(float(_outcome(ref, k)[0]), 1e-9) for k in ("dalys", "infections", "deaths")
        }

    def outcomes(self, spends: np.ndarray) -> dict:
        spends = np.atleast_2d(spends)
        n = spends.shape[0]
        cov = self.book.coverage(spends)
        coverage = {k: cov[:, i] for i, k in enumerate(INTERVENTIONS)}
        params = {k: np.repeat(v, n) for k, v in self.params_one.items()}
        self.runs += n
        return totals(simulate_scenario(self.scenario, params, coverage))

    def value(self, tot: dict, name: str | None = None) -> np.ndarray:
        name = name or self.objective
        if name != "weighted":
            return _outcome(tot, name)
        return sum(w * _outcome(tot, k) / self.reference[k] for k, w in self.weights.items())

    def value_and_grad(self, spend: np.ndarray, step: float, name: str | None = None):
        pts = np.vstack([spend, spend + step * np.eye(spend.size)])
        vals = self.value(self.outcomes(pts), name)
        return float(vals[0]), (vals[1:] - vals[0]) / step


def _settings(scenario: dict) -> tuple[str, dict, float, np.ndarray, np.ndarray]:
    s = scenario["optimization"]
    objective = s.get("objective", "dalys")
    if objective not in OBJECTIVES:
        raise OptimizationError(f"optimization.objective must be one of {', '.join(OBJECTIVES)}")
    weights = dict(s.get("weights", {"dalys": 1.0}))
    for k in weights:
        if k not in ("dalys", "infections", "deaths"):
            raise OptimizationError(f"unknown weight {k!r}: use dalys, infections or deaths")
    budget = float(s.get("budget", 0.0))
    lower = np.zeros(len(INTERVENTIONS))
    upper = np.full(len(INTERVENTIONS), np.inf)
    for k, (lo, hi) in s.get("bounds", {}).items():
        if k not in INTERVENTIONS:
            raise OptimizationError(f"optimization.bounds: unknown intervention {k!r}")
        i = INTERVENTIONS.index(k)
        lower[i], upper[i] = float(lo), float(hi)
    return objective, weights, budget, lower, upper


def _report(ev: _Evaluator, spend: np.ndarray, started: float, sol, extra: dict) -> dict:
    cov = ev.book.coverage(spend)
    current = np.array([ev.scenario["coverage"][k] for k in INTERVENTIONS])
    tot = ev.outcomes(spend)
    return {
        "scenario": ev.scenario["name"],
        "allocation": {
            k: {
                "spend": float(spend[i]),
                "coverage": float(cov[i]),
                "current_coverage": float(current[i]),
                "current_spend": float(ev.book.spend(current)[i]),
            }
            for i, k in enumerate(INTERVENTIONS)
        },
        "annual_spend": float(spend.sum()),
        "outcomes": {
            k: float(_outcome(tot, k)[0])
            for k in (
                "dalys",
                "infections",
                "deaths",
                "new_hiv_infections",
                "new_hcv_infections",
                "overdose_deaths",
            )
        },
        "model_cost_discounted": float(tot["cost_discounted"][0]),
        "status_quo": ev.reference,
        "success": bool(sol.success),
        "message": str(sol.message),
        "model_runs": ev.runs,
        "seconds": time.perf_counter() - started,
        **extra,
    }


def optimize(
    scenario: dict, budget: float | None = None, progress: Callable[[int], None] | None = None
) -> dict:
    """Allocate an annual budget over the six programmes to minimise the objective.

    Settings come from the ``optimization`` table: ``budget`` (USD/year), ``objective``,
    ``weights`` (for "weighted"), ``max_coverage`` and ``bounds`` ({k: [min, max] USD/year}).
    ``progress`` is called once per optimiser iteration.
    """
    scenario = scenarios.validate(scenario)
    objective, weights, table_budget, lower, upper = _settings(scenario)
    budget = float(budget if budget is not None else table_budget)
    if budget <= 0:
        raise OptimizationError("optimization.budget must be positive")
    if lower.sum() > budget or np.minimum(upper, budget).sum() < budget:
        raise OptimizationError("the bounds cannot add up to the budget")
    t0 = time.perf_counter()
    ev = _Evaluator(scenario, objective, weights)
    # work in shares of the budget so that every variable is of order one
    lo, hi = lower / budget, np.minimum(upper / budget, 1.0)
    start = np.clip(np.full(len(INTERVENTIONS), 1.0 / len(INTERVENTIONS)), lo, hi)
    f_scale = abs(ev.value(ev.outcomes(start * budget))[0]) or 1.0

    def fun(share):
        f, g = ev.value_and_grad(share * budget, FD_STEP * budget)
        return f / f_scale, g * budget / f_scale

    sol = minimize(
        fun,
        start,
        jac=True,
        method="SLSQP",
        bounds=list(zip(lo, hi, strict=True)),
        constraints=[
            {"type": "eq", "fun": lambda s: s.sum() - 1.0, "jac": lambda s: np.ones_like(s)}
        ],
        options={"maxiter": 100, "ftol": 1e-7},
        callback=(lambda _x: progress(1)) if progress else None,
    )
    spend = np.clip(sol.x, lo, hi) * budget
    return _report(ev, spend, t0, sol, {"objective": objective, "budget": budget})


def minimum_budget(
    scenario: dict,
    outcome: str,
    reduction: float,
    progress: Callable[[int], None] | None = None,
) -> dict:
    """Least annual spend whose ``outcome`` is at least ``reduction`` below the status quo.

    Args:
        outcome: one of ``OBJECTIVES`` except "weighted".
        reduction: fraction 0-1 (0.3: 30 % fewer than with current coverage).
    """
    scenario = scenarios.validate(scenario)
    if outcome not in OBJECTIVES or outcome == "weighted":
        raise OptimizationError(f"cannot target {outcome!r}")
    if not 0 < reduction < 1:
        raise OptimizationError("reduction must be between 0 and 1")
    _, _, _, lower, upper = _settings(scenario)
    t0 = time.perf_counter()
    ev = _Evaluator(scenario, outcome, {})
    status_quo = float(ev.value(ev.outcomes(np.zeros(len(INTERVENTIONS)) + 1e-9))[0])
    current = np.array([scenario["coverage"][k] for k in INTERVENTIONS])
    current_spend = np.nan_to_num(ev.book.spend(current), posinf=0.0)
    target_value = (1 - reduction) * float(ev.value(ev.outcomes(current_spend))[0])
    scale = max(current_spend.sum(), 1e5)  # USD; keeps the variables of order one
    cap = np.where(np.isfinite(upper), upper, ev.book.scale * 20) / scale
    bounds = list(zip(lower / scale, cap, strict=True))

    def constraint(x):
        f, _ = ev.value_and_grad(x * scale, FD_STEP * scale)
        return (target_value - f) / target_value

    def constraint_jac(x):
        _, g = ev.value_and_grad(x * scale, FD_STEP * scale)
        return -g * scale / target_value

    start = np.clip(current_spend / scale * 1.5 + 0.1, lower / scale, cap)
    sol = minimize(
        lambda x: (x.sum(), np.ones_like(x)),
        start,
        jac=True,
        method="SLSQP",
        bounds=bounds,
        constraints=[{"type": "ineq", "fun": constraint, "jac": constraint_jac}],
        options={"maxiter": 100, "ftol": 1e-6},
        callback=(lambda _x: progress(1)) if progress else None,
    )
    spend = np.clip(sol.x, lower / scale, cap) * scale
    reached = float(ev.value(ev.outcomes(spend))[0])
    return _report(
        ev,
        spend,
        t0,
        sol,
        {
            "objective": outcome,
            "reduction": reduction,
            "target_value": target_value,
            "reached_value": reached,
            "target_met": reached <= target_value * 1.001,
            "no_programme_value": status_quo,
        },
    )
