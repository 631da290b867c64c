"""Calibration recovers parameters from data the model itself generated."""

from __future__ import annotations

import pytest
from model_helpers import run, scenario

from salus.model import calibration

TRUE = {
    "hiv_transmission_rate": 0.25,
    "hcv_transmission_rate": 0.20,
    "overdose_mortality": 0.018,
    "initiation_rate": 0.08,  # identified by the population size observations
}


def synthetic_targets():
    truth = run(scenario(years=6, parameters=TRUE))
    table = {"fit": list(TRUE)}
    for target in calibration.TARGETS:
        table[target] = [{"year": 2025 + i, "value": float(truth[target][i, 0])} for i in (1, 3, 5)]
    return table


def test_calibration_recovers_the_parameters_that_generated_the_data():
    s = scenario(years=6, calibration=synthetic_targets())
    report = calibration.calibrate(s)
    for name, value in TRUE.items():
        assert report["fitted"][name] == pytest.approx(value, rel=0.02), (
            f"{name} should be recovered within 2 % from noise-free data"
        )
    assert report["success"]
    assert report["seconds"] < 60, "calibration should take under a minute"


def test_calibration_without_observations_fails_clearly():
    with pytest.raises(calibration.CalibrationError, match="no \\[calibration\\] observations"):
        calibration.calibrate(scenario(years=3))


def test_observation_outside_the_run_is_rejected():
    table = {"hiv_prevalence": [{"year": 1990, "value": 0.1}]}
    with pytest.raises(calibration.CalibrationError, match="outside the run"):
        calibration.calibrate(scenario(years=3, calibration=table))
