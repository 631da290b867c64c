"""Pure entry points shared by the CLI and the web page: scenario dict in, JSON-ready dict out.

Result shape (documented in docs/model/cli.md): without samples every figure is a number;
with samples every figure is ``{"value": central run, "low": 2.5th, "high": 97.5th
percentile over the samples}``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import scenarios, uncertainty
from .outcomes import simulate_scenario, totals
from .parallel import map_chunks

CEAC_THRESHOLDS = np.array([0, 100, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000], float)
CHUNK = 250  # samples per task: big enough to amortise the per-step overhead


def _run_chunk(args) -> dict:
    scenario, params = args
    return simulate_scenario(scenario, params)


def _concat(parts: list[dict]) -> dict:
    first = parts[0]
    out: dict[str, dict | np.ndarray] = {}
    for key, value in first.items():
        if isinstance(value, dict):
            out[key] = _concat([p[key] for p in parts])
        else:
            out[key] = np.concatenate([p[key] for p in parts], axis=-1)
    return out


def simulate_samples(
    scenario: dict,
    samples: int,
    seed: int,
    *,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
) -> tuple[dict, dict | None]:
    """Central run and (optionally) the Latin hypercube runs of a validated scenario.

    Returns:
        (central, sampled): yearly outcome arrays with sample axes of size 1 and ``samples``
        (``sampled`` is None when ``samples`` is 0).
    """
    overrides = scenarios.parameter_values(scenario)
    central = simulate_scenario(scenario, uncertainty.point_parameters(overrides))
    if samples <= 0:
        return central, None
    params = uncertainty.sample_parameters(samples, seed, overrides)
    chunks = []
    for start in range(0, samples, CHUNK):
        part = {k: v[start : start + CHUNK] for k, v in params.items()}
        chunks.append((scenario, part))
    parts = map_chunks(
        _run_chunk, chunks, workers=workers, ray_address=ray_address, progress=progress
    )
    return central, _concat(parts)


def _figure(central: np.ndarray, sampled: np.ndarray | None):
    value = float(central[..., 0]) if np.ndim(central) else float(central)
    if sampled is None:
        return value
    low, high = uncertainty.interval(sampled)
    return {"value": value, "low": float(low), "high": float(high)}


def _shape(central: dict, sampled: dict | None, index=None) -> dict:
    out = {}
    for key, value in central.items():
        sv = None if sampled is None else sampled[key]
        if isinstance(value, dict):
            out[key] = _shape(value, sv, index)
        else:
            c = value if index is None else value[index]
            s = None if sv is None else (sv if index is None else sv[index])
            out[key] = _figure(c, s)
    return out


def result_dict(
    scenario: dict, central: dict, sampled: dict | None, samples: int = 0, seed: int = 0
) -> dict:
    """JSON-ready result: ``years`` (one object per year) and ``totals``."""
    years = []
    for i in range(scenario["years"]):
        row = {"year": scenario["start_year"] + i}
        row.update(_shape(central, sampled, i))
        years.append(row)
    return {
        "scenario": scenario["name"],
        "start_year": scenario["start_year"],
        "samples": samples,
        "seed": seed,
        "discount_rate": scenario["discount_rate"],
        "currency": "USD",
        "coverage": dict(scenario["coverage"]),
        "years": years,
        "totals": _shape(totals(central), None if sampled is None else totals(sampled)),
    }


def run_scenario_dict(scenario: dict, samples: int = 0, seed: int = 0, **kwargs) -> dict:
    """Run a scenario (raw or validated dict) and return the JSON-shaped result.

    Args:
        scenario: scenario dict as read from TOML.
        samples: number of Latin hypercube parameter samples (0: central run only).
        seed: seed of the named random streams.
        kwargs: ``progress``, ``workers``, ``ray_address`` passed to ``simulate_samples``.
    """
    scenario = scenarios.validate(scenario)
    central, sampled = simulate_samples(scenario, samples, seed, **kwargs)
    return result_dict(scenario, central, sampled, samples, seed)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    # a ratio is only meaningful when something is averted; otherwise it is undefined (NaN)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def comparison_arrays(scen_tot: dict, base_tot: dict) -> dict:
    """Averted outcomes and incremental costs (arrays over samples) of scenario vs baseline."""
    hiv = base_tot["new_hiv_infections"] - scen_tot["new_hiv_infections"]
    hcv = base_tot["new_hcv_infections"] - scen_tot["new_hcv_infections"]
    deaths = base_tot["deaths"]["total"] - scen_tot["deaths"]["total"]
    od = base_tot["overdose_deaths"] - scen_tot["overdose_deaths"]
    dalys = base_tot["dalys"] - scen_tot["dalys"]
    inc_cost = scen_tot["cost_discounted"] - base_tot["cost_discounted"]
    return {
        "hiv_infections_averted": hiv,
        "hcv_infections_averted": hcv,
        "infections_averted": hiv + hcv,
        "deaths_averted": deaths,
        "overdose_deaths_averted": od,
        "dalys_averted": dalys,
        "incremental_cost": inc_cost,
        "cost_per_hiv_infection_averted": _ratio(inc_cost, hiv),
        "cost_per_hcv_infection_averted": _ratio(inc_cost, hcv),
        "cost_per_infection_averted": _ratio(inc_cost, hiv + hcv),
        "cost_per_death_averted": _ratio(inc_cost, deaths),
        "cost_per_daly_averted": _ratio(inc_cost, dalys),
    }


def compare_dicts(
    scenario: dict, baseline: dict | None = None, samples: int = 0, seed: int = 0, **kwargs
) -> dict:
    """Compare a scenario with its baseline (the ``baseline`` table, or a second scenario).

    Both runs use the same parameter samples (same seed and stream), so differences are
    like-for-like. Costs and DALYs are discounted; ratios are USD per unit averted and are
    ``None`` when nothing is averted (the scenario is then dominated or equal).

    Returns:
        ``{"scenario": result, "baseline": result, "comparison": {...}}`` where each
        comparison figure follows the same number or {value, low, high} convention, plus
        ``threshold``, ``net_monetary_benefit`` (USD, threshold x DALYs averted - incremental
        cost), and with samples ``probability_cost_effective`` (None without) and ``ceac``.
    """
    scenario = scenarios.validate(scenario)
    if baseline is None and not scenario["baseline"]:
        raise scenarios.ScenarioError(
            "nothing to compare with: add a [baseline] table to the scenario or give a baseline"
        )
    base = scenarios.validate(baseline) if baseline is not None else scenarios.baseline_of(scenario)
    if base["years"] != scenario["years"]:
        raise scenarios.ScenarioError("scenario and baseline must have the same 'years'")
    s_central, s_sampled = simulate_samples(scenario, samples, seed, **kwargs)
    b_central, b_sampled = simulate_samples(base, samples, seed, **kwargs)
    comp_c = comparison_arrays(totals(s_central), totals(b_central))
    comp_s = None
    if s_sampled is not None:
        # Same sample count for both runs: the baseline has samples whenever the scenario has.
        assert b_sampled is not None
        comp_s = comparison_arrays(totals(s_sampled), totals(b_sampled))
    comparison = {}
    for key, value in comp_c.items():
        fig = _figure(value, None if comp_s is None else comp_s[key])
        comparison[key] = _none_if_nan(fig)
    threshold = float(scenario["cost_effectiveness"]["threshold"])
    comparison["threshold"] = threshold
    # net monetary benefit at the threshold: positive means cost-effective
    nmb_c = threshold * comp_c["dalys_averted"] - comp_c["incremental_cost"]
    nmb_s = None
    if comp_s is not None:
        nmb_s = threshold * comp_s["dalys_averted"] - comp_s["incremental_cost"]
    comparison["net_monetary_benefit"] = _figure(nmb_c, nmb_s)
    # a probability needs samples; the central run alone only says yes or no
    comparison["probability_cost_effective"] = None
    if comp_s is not None:
        comparison["probability_cost_effective"] = uncertainty.probability_cost_effective(
            comp_s["incremental_cost"], comp_s["dalys_averted"], threshold
        )
        comparison["ceac"] = uncertainty.ceac(
            comp_s["incremental_cost"], comp_s["dalys_averted"], CEAC_THRESHOLDS
        )
    return {
        "scenario": result_dict(scenario, s_central, s_sampled, samples, seed),
        "baseline": result_dict(base, b_central, b_sampled, samples, seed),
        "comparison": comparison,
    }


def _none_if_nan(fig):
    if isinstance(fig, dict):
        return {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in fig.items()}
    return None if isinstance(fig, float) and np.isnan(fig) else fig


def calibrate_dict(scenario: dict) -> dict:
    """Fit report of ``calibration.calibrate`` (JSON-ready), for the web page and the CLI."""
    from .calibration import calibrate  # noqa: PLC0415

    return calibrate(scenario)


def optimize_dict(
    scenario: dict,
    budget: float | None = None,
    target: tuple[str, float] | None = None,
) -> dict:
    """Budget allocation (JSON-ready): optimal split of ``budget``, or with ``target`` =
    (outcome, reduction) the least annual spend reaching that reduction vs current coverage.
    """
    from . import optimization  # noqa: PLC0415

    if target is not None:
        return optimization.minimum_budget(scenario, target[0], target[1])
    return optimization.optimize(scenario, budget)
