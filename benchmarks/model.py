"""Timings of the impact model. Run: .venv/bin/python benchmarks/model.py

Prints: one 30-year run (median of many, ms), 1,000 Latin hypercube samples (s), a
six-programme budget optimisation (s) and a calibration (s).
"""

from __future__ import annotations

import statistics
import sys
import time
import tomllib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from salus.model import api, calibration, optimization, scenarios  # noqa: E402
from salus.model.outcomes import simulate_scenario  # noqa: E402
from salus.model.uncertainty import point_parameters  # noqa: E402


def main() -> None:
    scenario = scenarios.validate(tomllib.loads(scenarios.EXAMPLE))
    params = point_parameters(scenarios.parameter_values(scenario))
    simulate_scenario(scenario, params)  # warm the sparsity-pattern cache

    times = []
    for _ in range(50):
        t0 = time.perf_counter()
        simulate_scenario(scenario, params)
        times.append(time.perf_counter() - t0)
    print(
        f"one 30-year run (weekly steps, 252 compartments, build + simulate + outcomes): "
        f"median {statistics.median(times) * 1e3:.1f} ms over {len(times)} runs"
    )

    for workers in (1, None):
        t0 = time.perf_counter()
        api.run_scenario_dict(scenario, samples=1000, seed=1, workers=workers)
        label = "1 process" if workers == 1 else "all cores"
        print(f"1,000 samples, 30 years ({label}): {time.perf_counter() - t0:.1f} s")

    t0 = time.perf_counter()
    report = optimization.optimize(scenario)
    print(
        f"six-programme optimisation, 30 years: {time.perf_counter() - t0:.1f} s "
        f"({report['model_runs']} model runs, {report['message']})"
    )

    t0 = time.perf_counter()
    report = calibration.calibrate(scenario)
    print(
        f"calibration (3 parameters, 6 observations): {time.perf_counter() - t0:.2f} s "
        f"({report['evaluations']} evaluations)"
    )


if __name__ == "__main__":
    main()
