"""Answers the web app keeps for a while in Django's cache, each worked out once at a time.

A national program's suppressed page takes tens of seconds to work out afresh. Several
readers (or one reader's page and its dashboard) often ask for the same answer at once:
without care, each would work it out again, all competing for the same cores, and each would
take longer than one alone. :func:`kept` lets one thread work an answer out while the others
asking for it wait, then read what it kept: the other threads of its process by a lock per
answer, and, when the cache is in files (the default: settings.CACHES, shared by the server's
worker processes), the other processes by a lock file.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

logger = logging.getLogger(__name__)

_counting: dict[str, threading.Lock] = {}
_counting_guard = threading.Lock()
_within = threading.local()  # how deep this thread is in answers being worked out

# Lock files for other processes, one per bucket of answers: a file per answer would be left
# behind for every answer ever asked for (removing one that another process may be waiting on
# would let two work it out). Two answers in one bucket wait for each other, no more: with
# 1,024 (empty files), a site's page meets a national page being worked out one time in 1,024.
LOCK_BUCKETS = 1024


def kept(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()``, kept in the default cache under ``key`` for ``seconds``.

    While one thread works out the answer for ``key``, others asking for the same key wait
    for it instead of working it out too. An answer of None is kept as well. ``key`` must name
    everything the answer depends on (and fit the cache's key limits: hash long inputs).
    """
    found = _read(key)
    if found is not None:
        return found[0]
    # The lock file first, holding nothing else: a thread waiting for it blocks no one.
    with _other_processes_wait(key):
        with _counting_guard:
            lock = _counting.setdefault(key, threading.Lock())
        with lock:
            try:
                found = _read(key)  # kept by the thread or process this one waited for
                if found is None:
                    _within.depth = _depth() + 1
                    try:
                        found = (compute(),)  # in a tuple: an answer of None is kept as well
                    finally:
                        _within.depth -= 1
                    _keep(key, found, seconds)
            finally:
                # Threads already waiting hold the lock itself; later ones find the answer.
                with _counting_guard:
                    if _counting.get(key) is lock:
                        del _counting[key]
    return found[0]


def has(key: str) -> bool:
    """Whether the cache holds an answer for ``key`` now (it may expire the next moment:
    :func:`kept` still answers either way)."""
    return _read(key) is not None


def _read(key: str) -> tuple | None:
    """What the cache holds for ``key``, or None. Keeping is a saving, never a condition: a
    cache that cannot be read (a damaged file, a disk gone) is as one that holds nothing."""
    from django.core.cache import cache

    try:
        found = cache.get(key)
    except Exception:  # noqa: BLE001  (any failure of the back end; the answer is worked out)
        logger.warning("the cache could not be read; working the answer out", exc_info=True)
        return None
    return found if isinstance(found, tuple) else None


def _keep(key: str, found: tuple, seconds: int) -> None:
    """Keep ``found``; a cache that cannot be written (a full disk) only loses the saving."""
    from django.core.cache import cache

    try:
        cache.set(key, found, seconds)
    except Exception:  # noqa: BLE001
        logger.warning("the cache could not be written; the answer is not kept", exc_info=True)


def _depth() -> int:
    depth: int = getattr(_within, "depth", 0)
    return depth


def _lock_directory() -> Path | None:
    """Where the lock files are: the file cache's directory, or None for another cache."""
    from django.conf import settings

    if not shared_between_processes():
        return None
    return Path(str(settings.CACHES["default"]["LOCATION"]))


def shared_between_processes() -> bool:
    """Whether the cache is in files (settings.CACHES), which the server's processes and the
    command line share."""
    from django.conf import settings

    return str(settings.CACHES["default"]["BACKEND"]).endswith(".FileBasedCache")


@contextlib.contextmanager
def _other_processes_wait(key: str) -> Iterator[None]:
    """Hold the lock file of ``key``'s bucket, for the outermost answer a thread works out.

    Answers worked out within another (the boxes within a year's pattern) take no lock
    file: their outer answer holds one already, and a second in the same bucket would wait
    for the first, held by the same thread, forever. So a thread takes a lock file only when
    it holds no lock at all, and the locks it takes within are those of answers within.
    """
    directory = _lock_directory()
    if directory is None or _depth() > 0:
        yield
        return
    import fcntl

    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % LOCK_BUCKETS
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(directory / f"working-out-{bucket:04d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        # Without the lock file another process may work the same answer out: slower, no worse.
        logger.warning("no lock file for the cache; other processes will not wait", exc_info=True)
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def forget_all() -> None:
    """Empty the cache (`salus serve` at start: answers of a previous run are not needed,
    and none should lie in the data directory longer than it must)."""
    from django.core.cache import cache

    cache.clear()
