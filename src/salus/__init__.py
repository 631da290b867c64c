"""Salus: information system for harm reduction programs."""

import os

# One thread for the linear algebra library under NumPy and SciPy (OpenBLAS), unless the
# operator sets another number. Its default, a thread per core in every process, made two
# suppressed pages counted at once (two web workers, or a page and an export) about five
# times slower each than one alone, and one alone no faster (docs/operator.md, "Threads").
# OpenBLAS reads the variable when it is loaded: this runs before anything of Salus imports
# NumPy, and a worker process started from here inherits it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
