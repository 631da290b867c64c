"""Refresh tests/model/baseline.json. Run only when a model change is intended:

    .venv/bin/python tests/model/update_baseline.py

then review the diff and note the change as a Regression in the changelog.
"""

from __future__ import annotations

import json
from pathlib import Path

from salus.model import api, scenarios

BASELINE_PATH = Path(__file__).with_name("baseline.json")
SEED = 20240601
SAMPLES = 16
YEARS = 10
KEYS = (
    "new_hiv_infections",
    "new_hcv_infections",
    "overdose_deaths",
    "dalys",
    "cost_discounted",
    "entries",
)


def baseline_scenario() -> dict:
    """The fixed scenario of the baseline: the example, shortened to ten years."""
    import tomllib

    data = tomllib.loads(scenarios.EXAMPLE)
    data["years"] = YEARS
    return scenarios.validate(data)


def compute() -> dict:
    """Central and sampled totals of the baseline scenario, and its comparison."""
    comp = api.compare_dicts(baseline_scenario(), samples=SAMPLES, seed=SEED, workers=1)
    totals = comp["scenario"]["totals"]
    out = {k: totals[k] for k in KEYS}
    out["deaths_total"] = totals["deaths"]["total"]
    out["hiv_prevalence_end"] = totals["hiv_prevalence"]
    out["hcv_prevalence_end"] = totals["hcv_prevalence"]
    for k in ("dalys_averted", "incremental_cost", "cost_per_daly_averted"):
        out[k] = comp["comparison"][k]
    return {"seed": SEED, "samples": SAMPLES, "years": YEARS, "figures": out}


if __name__ == "__main__":
    BASELINE_PATH.write_text(json.dumps(compute(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {BASELINE_PATH}")
