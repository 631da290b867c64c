"""Independent pieces of one answer worked out on several cores at once.

Small-cell suppression of a national page boxes each count on its own (salus.indicators.boxes):
eleven pieces of pure arithmetic, a second or more each, whose Python loops hold the
interpreter's lock, so threads would take turns. :func:`spread` hands some of the pieces to
fresh Python processes (``python -m salus.core.spread``: the pieces and the answers cross a
pipe, pickled) while the calling thread works out the others, and returns every answer in
order. A process is started for each share, not forked: forking a process that holds database
connections and threads of its own (the web app's) is not safe.

A piece is ``(function, args)`` with a function of a module (pickled by its name). Whatever
goes wrong in a process (it cannot start, fails, or answers nothing) only loses the saving:
its pieces are worked out here, and a warning is logged. The answers are the same either way.

``SALUS_PROCESSES`` (environment) caps how many cores one answer takes, this one included
(default: all of them); 1 works every piece out here.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# What a started process is given of the environment: enough to find Python and Salus, and
# one thread for its numerical library (the processes already fill the cores). Nothing else:
# a process that only does arithmetic needs no secret, database or program setting.
_PASSED_ON = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

Piece = tuple[Callable[..., Any], tuple]


def available_cores() -> int:
    """How many cores this process may use, whatever ``SALUS_PROCESSES`` says."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cores() -> int:
    """How many cores one answer may take (``SALUS_PROCESSES``, else all this process may use)."""
    available = available_cores()
    wanted = os.environ.get("SALUS_PROCESSES", "")
    return max(1, min(available, int(wanted))) if wanted.strip().isdigit() else available


def spread(pieces: Sequence[Piece], weights: Sequence[float] | None = None, at_least: float = 0.0) -> list:
    """``[function(*args) for function, args in pieces]``, the pieces shared out over up to
    :func:`cores` processes (this one included) by ``weights`` (how long each is expected to
    take, in any unit; the heaviest are shared out first, each to the least loaded). One
    piece, one core, or weights adding up to less than ``at_least`` (not worth starting a
    process for: about 0.1 s), and the pieces are worked out here alone."""
    weights = list(weights) if weights is not None else [1.0] * len(pieces)
    n = min(cores(), len(pieces))
    if n <= 1 or sum(weights) < at_least:
        return [function(*args) for function, args in pieces]
    shares: list[list[int]] = [[] for _ in range(n)]
    load = [0.0] * n
    for i in sorted(range(len(pieces)), key=lambda i: -weights[i]):
        least = min(range(n), key=load.__getitem__)
        shares[least].append(i)
        load[least] += weights[i]
    answers: list = [None] * len(pieces)
    started = [(share, _start([pieces[i] for i in share])) for share in shares[1:] if share]
    try:
        for i in shares[0]:
            function, args = pieces[i]
            answers[i] = function(*args)
    except BaseException:
        # This share failed (or the request was stopped): the others' answers are not wanted.
        for _share, process in started:
            if process is not None:
                process.kill()
                process.communicate()
        raise
    for share, process in started:
        got = _finish(process)
        if got is None or len(got) != len(share):
            got = [pieces[i][0](*pieces[i][1]) for i in share]
        for i, answer in zip(share, got, strict=True):
            answers[i] = answer
    return answers


def _start(pieces: list[Piece]) -> subprocess.Popen | None:
    """A process working out ``pieces``, given them on its standard input; None if it could
    not be started."""
    import salus

    env = {k: os.environ[k] for k in _PASSED_ON if k in os.environ} | _ONE_THREAD
    # The Salus this process runs, wherever it was imported from (an installed copy, a
    # checkout on PYTHONPATH).
    env["PYTHONPATH"] = str(Path(salus.__file__).resolve().parents[1])
    try:
        process = subprocess.Popen([sys.executable, "-m", "salus.core.spread"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        assert process.stdin is not None
        # The pipe holds what the process has not read yet; the process reads it all before
        # it starts, so this write does not wait on its answers.
        process.stdin.write(pickle.dumps(pieces, protocol=pickle.HIGHEST_PROTOCOL))
        process.stdin.close()
        process.stdin = None  # given all it needs: communicate() only reads now
    except (OSError, pickle.PicklingError, AttributeError, TypeError):
        logger.warning("could not start a process to share the work; working it out here", exc_info=True)
        return None
    return process


def _finish(process: subprocess.Popen | None) -> list | None:
    """The answers of a process :func:`_start` started, or None if it gave none."""
    if process is None:
        return None
    out, err = process.communicate()
    if process.returncode != 0:
        logger.warning("a process sharing the work failed (exit %s); working its share out here: %s",
                       process.returncode, err.decode("utf-8", "replace")[-2000:])
        return None
    try:
        answers = pickle.loads(out)
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        logger.warning("a process sharing the work answered nothing readable; working its share out here")
        return None
    return answers if isinstance(answers, list) else None


def _serve() -> None:
    """The started process: read the pieces, work each out, write the answers."""
    pieces = pickle.loads(sys.stdin.buffer.read())
    answers = [function(*args) for function, args in pieces]
    sys.stdout.buffer.write(pickle.dumps(answers, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()


if __name__ == "__main__":
    _serve()
