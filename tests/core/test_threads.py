"""Salus runs the linear algebra library (OpenBLAS, under NumPy and SciPy) on one thread."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# Prints the threads of every BLAS library loaded once NumPy and SciPy's linear algebra are.
PROBE = """
import json, sys
if sys.argv[1] == "salus":
    import salus  # noqa: F401
import numpy, scipy.linalg  # noqa: E401,F401
from threadpoolctl import threadpool_info
print(json.dumps(sorted(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")))
"""


def blas_threads(first: str, **env: str) -> list[int]:
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"} | env
    out = subprocess.run([sys.executable, "-c", PROBE, first], capture_output=True, text=True, check=True,
                         env=environment)
    return json.loads(out.stdout)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenBLAS starts one thread anyway")
def test_importing_salus_first_leaves_numpy_and_scipy_one_blas_thread():
    # Without Salus, OpenBLAS starts a thread per core: the check below can fail.
    assert max(blas_threads("numpy")) > 1
    threads = blas_threads("salus")
    assert threads and set(threads) == {1}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: OpenBLAS starts one thread anyway")
def test_an_operators_own_number_of_blas_threads_is_kept():
    assert set(blas_threads("salus", OPENBLAS_NUM_THREADS="2")) == {2}
