"""Timings of the impact model. Run: .venv/bin/python benchmarks/model.py

Prints: one 30-year run (median of many, ms), 1,000 Latin hypercube samples (s), a
six-programme budget optimisation (s) and a calibration (s).
"""

from __future__ import annotations

import os
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

    # wall time and this process's CPU time: on a shared, busy machine the CPU time is the
    # fairer figure (wall time includes waiting for a core)
    print(f"load average before: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    wall, cpu = [], []
    for _ in range(50):
        t0, c0 = time.perf_counter(), time.process_time()
        simulate_scenario(scenario, params)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    print(
        f"one 30-year run (weekly steps, 252 compartments, build + simulate + outcomes): "
        f"median {statistics.median(wall) * 1e3:.1f} ms wall, "
        f"{statistics.median(cpu) * 1e3:.1f} ms CPU, best {min(wall) * 1e3:.1f} ms, "
        f"over {len(wall)} runs"
    )

    for workers in (1, None):
        t0, c0 = time.perf_counter(), time.process_time()
        api.run_scenario_dict(scenario, samples=1000, seed=1, workers=workers)
        label = "1 process" if workers == 1 else f"{os.cpu_count()} processes"
        cpu_note = f", {time.process_time() - c0:.1f} s CPU" if workers == 1 else ""
        print(f"1,000 samples, 30 years ({label}): {time.perf_counter() - t0:.1f} s wall{cpu_note}")

    t0 = time.perf_counter()
    report = optimization.optimize(scenario)
    print(
        f"six-programme optimisation, 30 years: {time.perf_counter() - t0:.1f} s wall "
        f"({report['model_runs']} model runs, {report['message']})"
    )

    t0 = time.perf_counter()
    report = calibration.calibrate(scenario)
    print(
        f"calibration ({len(report['fitted'])} parameters, {len(report['observations'])} "
        f"observations): {time.perf_counter() - t0:.2f} s wall "
        f"({report['evaluations']} evaluations)"
    )
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
