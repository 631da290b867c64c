"""salus.core.spread: pieces of one answer worked out in other processes give the same answers
as here, and whatever goes wrong there only loses the saving."""

from __future__ import annotations

import logging
import math
import os
import sys

import pytest

from salus.core import spread

two_cores = pytest.mark.skipif(spread.available_cores() < 2, reason="one core: nothing to share out")


@two_cores
def test_the_pieces_are_worked_out_in_another_process_too(monkeypatch):
    monkeypatch.delenv("SALUS_PROCESSES", raising=False)
    pids = spread.spread([(os.getpid, ()), (os.getpid, ())])
    assert os.getpid() in pids and len(set(pids)) == 2
    assert spread.spread([(math.factorial, (n,)) for n in range(12)], weights=range(12)) == [
        math.factorial(n) for n in range(12)]


@two_cores
def test_another_process_is_given_no_secret(monkeypatch):
    """It only does arithmetic: the database's address and the signing key stay here."""
    monkeypatch.setenv("DATABASE_URL", "postgres://salus:a-password@db/salus")
    monkeypatch.setenv("SALUS_SECRET_KEY", "not-for-others")
    pieces = [(os.getpid, ()), (os.getenv, ("DATABASE_URL",)), (os.getenv, ("SALUS_SECRET_KEY",))]
    pid, *seen = spread.spread(pieces, weights=[3, 1, 1])  # the first here, the others there
    assert pid == os.getpid()
    assert seen == [None, None]


@two_cores
def test_a_process_that_fails_only_loses_the_saving(monkeypatch, caplog):
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with caplog.at_level(logging.WARNING, logger="salus.core.spread"):
        assert spread.spread([(math.factorial, (n,)) for n in range(6)]) == [math.factorial(n) for n in range(6)]
    assert "working" in caplog.text


def test_one_core_or_little_work_starts_no_process(monkeypatch):
    def no_process(_pieces):
        raise AssertionError("a process was started")

    monkeypatch.setattr(spread, "_start", no_process)
    monkeypatch.setenv("SALUS_PROCESSES", "1")
    assert spread.spread([(math.factorial, (5,)), (math.factorial, (6,))]) == [120, 720]
    monkeypatch.delenv("SALUS_PROCESSES")
    assert spread.spread([(math.factorial, (5,)), (math.factorial, (6,))], weights=[1, 2], at_least=10) == [120, 720]


def _fails(_n):
    raise ValueError("this share failed")


@two_cores
def test_a_share_failing_here_ends_the_processes_started(monkeypatch):
    """The error is the caller's, and no started process is left behind."""
    started = []
    real_start = spread._start
    monkeypatch.setattr(spread, "_start", lambda pieces: started.append(real_start(pieces)) or started[-1])
    with pytest.raises(ValueError, match="this share failed"):
        spread.spread([(_fails, (1,)), (math.factorial, (3,))], weights=[2, 1])
    assert started and all(p.returncode is not None for p in started)
