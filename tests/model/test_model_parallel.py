"""Local process pool gives the same answers as a serial run."""

from __future__ import annotations

import numpy as np
from model_helpers import scenario

from salus.model import api


def test_two_workers_match_one():
    s = scenario(years=2)
    _c, serial = api.simulate_samples(s, samples=300, seed=9, workers=1)
    _c, pooled = api.simulate_samples(s, samples=300, seed=9, workers=2)
    assert np.allclose(serial["new_hcv_infections"], pooled["new_hcv_infections"]), (
        "splitting samples over processes must not change results"
    )
