"""Fixed-seed regression baseline: any change to the numbers must be deliberate.

Refresh with ``.venv/bin/python tests/model/update_baseline.py`` and review the diff.
"""

from __future__ import annotations

import json

import numpy as np
from update_baseline import BASELINE_PATH, compute

# The model is deterministic given the seed, so differences come only from floating-point
# order of operations (BLAS, SciPy versions): a relative 1e-6 catches every real change.
RTOL = 1e-6


def _flatten(figs: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in figs.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out


def test_results_match_the_stored_baseline():
    stored = json.loads(BASELINE_PATH.read_text())
    now = compute()
    assert now["seed"] == stored["seed"] and now["samples"] == stored["samples"]
    expected, actual = _flatten(stored["figures"]), _flatten(now["figures"])
    assert expected.keys() == actual.keys(), "the baseline keys changed: run update_baseline.py"
    for key, value in expected.items():
        assert np.isclose(actual[key], value, rtol=RTOL, atol=0), (
            f"{key} moved from {value} to {actual[key]}: if intended, run update_baseline.py "
            "and flag the change as a Regression in the changelog"
        )
