"""Parameter uncertainty: named random streams, Latin hypercube samples, intervals, CEAC.

Every random draw comes from a stream named after its purpose and seeded from the user's
seed, so a scenario and its baseline see the same parameter samples (common random numbers)
and adding a new stream never shifts the draws of an existing one.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.stats import qmc

from .parameters import PARAMETERS, uncertain_names

INTERVAL = (2.5, 97.5)  # percentiles of the reported 95 % interval


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for the named purpose; the same (seed, name) always gives the same draws."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(name.encode())]))


def sample_parameters(
    n: int, seed: int, overrides: dict[str, float] | None = None
) -> dict[str, np.ndarray]:
    """Draw ``n`` Latin hypercube samples of every parameter.

    Args:
        n: number of samples (>= 1).
        seed: user seed; draws come from the stream named "parameters".
        overrides: ``{name: value}`` set by the scenario (calibrated values, local costs).
            An overridden parameter keeps its uncertainty, rescaled so that its central value
            becomes the override (its distribution is multiplied by override / default); a
            parameter whose default is zero is fixed at the override.

    Returns:
        ``{name: array (n,)}`` for every parameter.
    """
    overrides = overrides or {}
    names = uncertain_names()
    sampler = qmc.LatinHypercube(d=len(names), rng=stream(seed, "parameters"))
    u = sampler.random(n)
    out: dict[str, np.ndarray] = {}
    for name, p in PARAMETERS.items():
        if name in names:
            values = p.ppf(u[:, names.index(name)])
        else:
            values = np.full(n, p.value)
        if name in overrides:
            if p.value != 0:
                values = values * (overrides[name] / p.value)
            else:
                values = np.full(n, overrides[name])
        out[name] = values
    return out


def point_parameters(overrides: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """The central parameter set (one sample) with ``overrides`` applied."""
    values = {name: p.value for name, p in PARAMETERS.items()}
    values.update(overrides or {})
    return {k: np.array([float(v)]) for k, v in values.items()}


def interval(samples: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Low and high ends of the 95 % interval over ``axis``, ignoring NaN."""
    low, high = np.nanpercentile(samples, INTERVAL, axis=axis)
    return low, high


def probability_cost_effective(
    delta_cost: np.ndarray, delta_dalys_averted: np.ndarray, threshold: float
) -> float:
    """Share of samples with positive net monetary benefit at ``threshold`` USD per DALY."""
    nmb = threshold * np.asarray(delta_dalys_averted) - np.asarray(delta_cost)
    return float(np.mean(nmb > 0))


def ceac(
    delta_cost: np.ndarray, delta_dalys_averted: np.ndarray, thresholds: np.ndarray
) -> list[dict]:
    """Cost-effectiveness acceptability curve: probability cost-effective per threshold."""
    return [
        {
            "threshold": float(t),
            "probability": probability_cost_effective(delta_cost, delta_dalys_averted, t),
        }
        for t in thresholds
    ]
