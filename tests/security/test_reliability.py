"""A short run of benchmarks/load.py against a real server: load, kill -9, restart, retries.

The full run (60 s, 16 clients, SQLite and PostgreSQL) is ``python benchmarks/load.py``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_module():
    spec = importlib.util.spec_from_file_location("salus_load_benchmark", ROOT / "benchmarks" / "load.py")
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the class is made.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_it_survives_load_a_crash_and_retries(tmp_path):
    load = _load_module()
    report = load.run(seconds=4, clients=4, crash=True, workers=2, threads=2, home=tmp_path, quiet=True)
    assert report["failures"] == []
    # The checks had something to check: contacts were acknowledged before the kill and all
    # were found after it, the server came back, and every retried id made one contact.
    assert report["crash"]["acked_before_kill"] > 0
    assert report["crash"]["present_after"] == report["crash"]["acked_before_kill"]
    assert report["crash"]["integrity"] == "ok"
    assert report["acknowledged"] > report["crash"]["acked_before_kill"]
    assert report["retries"]["created"] == report["retries"]["ids"] == 10
    # A request cut off by the kill may have committed without its answer arriving: stored but
    # not acknowledged (the device retries it with the same id). Nothing else may be extra.
    extra = report["final"]["contacts"] - report["final"]["acked"]
    assert 0 <= extra <= report["crash"]["cut_off_requests"]
