"""Local process pool gives the same answers as a serial run."""

from __future__ import annotations

import numpy as np
from model_helpers import scenario

from salus.model import api


def test_two_workers_match_one(monkeypatch):
    monkeypatch.setattr(api, "CHUNK", 6)  # small batches keep the test fast
    s = scenario(years=2)
    _c, serial = api.simulate_samples(s, samples=12, seed=9, workers=1)
    _c, pooled = api.simulate_samples(s, samples=12, seed=9, workers=2)
    assert np.allclose(serial["new_hcv_infections"], pooled["new_hcv_infections"]), (
        "splitting samples over processes must not change results"
    )


class FakeRay:
    """Stands in for Ray: runs each remote task at once, records how it was used."""

    def __init__(self):
        self.address = None
        self.tasks = 0

    def is_initialized(self):
        return self.address is not None

    def init(self, address):
        self.address = address

    def remote(self, func):
        ray = self

        class Remote:
            @staticmethod
            def remote(arg):
                ray.tasks += 1
                return func(arg)

        return Remote

    def get(self, ref):
        return ref


def test_ray_address_sends_each_batch_as_a_remote_task(monkeypatch):
    fake = FakeRay()
    monkeypatch.setitem(__import__("sys").modules, "ray", fake)
    monkeypatch.setattr(api, "CHUNK", 6)
    s = scenario(years=2)
    _c, local = api.simulate_samples(s, samples=12, seed=9, workers=1)
    _c, remote = api.simulate_samples(s, samples=12, seed=9, ray_address="ray://head:10001")
    assert fake.address == "ray://head:10001" and fake.tasks == 2, "one task per batch"
    assert np.allclose(local["dalys"], remote["dalys"]), "Ray must not change results"
