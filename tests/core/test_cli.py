"""The ``salus`` command itself, whatever the subcommand."""

from __future__ import annotations

import subprocess
import sys

from tests.security.fresh import clean_env


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """``salus ... | head``: when the reader has gone, the command stops quietly (exit 1), as
    other command-line tools do, instead of printing a BrokenPipeError traceback."""
    child = subprocess.Popen(
        [sys.executable, "-m", "salus", "model", "example"], env=clean_env(tmp_path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    # Closed before the child has set Django up, let alone written: its first write fails.
    assert child.stdout is not None
    child.stdout.close()
    _, err = child.communicate(timeout=120)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert child.returncode == 1
