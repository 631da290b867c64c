"""A real Ray instance (not a stand-in) runs the uncertainty samples and changes nothing.

Ray is optional (requirements-cluster.lock, ``make test-cluster``). Without it these tests skip,
unless SALUS_REQUIRE_RAY=1 (set by .ci/run), where a missing Ray fails.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from model_helpers import scenario

from salus.model import api

pytestmark = pytest.mark.cluster


@pytest.fixture
def ray():
    try:
        import ray
    except ImportError:
        if os.environ.get("SALUS_REQUIRE_RAY") == "1":
            pytest.fail("Ray is required here: .venv/bin/pip install -r requirements-cluster.lock -c requirements.lock")
        pytest.skip("Ray is not installed (optional): make test-cluster")
    yield ray
    ray.shutdown()


def test_a_local_ray_instance_gives_the_samples_of_a_local_run(ray, monkeypatch):
    monkeypatch.setattr(api, "CHUNK", 6)  # two batches, so two Ray tasks
    s = scenario(years=2)
    _c, local = api.simulate_samples(s, samples=12, seed=9, workers=1)
    _c, remote = api.simulate_samples(s, samples=12, seed=9, ray_address="local")
    assert ray.is_initialized() and ray.cluster_resources().get("CPU", 0) >= 1
    for outcome in ("dalys", "new_hiv_infections", "new_hcv_infections", "overdose_deaths"):
        assert np.allclose(local[outcome], remote[outcome]), outcome


def test_ray_is_told_not_to_send_usage_statistics(ray, monkeypatch):
    from salus.model.parallel import _ray

    monkeypatch.delenv("RAY_USAGE_STATS_ENABLED", raising=False)
    _ray()
    assert os.environ["RAY_USAGE_STATS_ENABLED"] == "0"
