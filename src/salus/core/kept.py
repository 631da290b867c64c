"""Answers the web app keeps for a while in Django's cache, each computed once at a time.

A national program's suppressed page takes tens of seconds to count afresh. Several readers
(or one reader's page and its dashboard) often ask for the same answer at once: without care,
each thread would count it again, all competing for the same cores, and each would take
longer than one alone. :func:`kept` lets one thread of the process count an answer while
the others asking for it wait, then read what it kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

_counting: dict[str, threading.Lock] = {}
_counting_guard = threading.Lock()


def kept(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()``, kept in the default cache under ``key`` for ``seconds``.

    While one thread of this process computes the answer for ``key``, others asking for the
    same key wait for it instead of computing it too. An answer of None is kept as well.
    ``key`` must name everything the answer depends on (and fit the cache's key limits: hash
    long inputs).
    """
    from django.core.cache import cache

    found = cache.get(key)
    if found is not None:
        return found[0]
    with _counting_guard:
        lock = _counting.setdefault(key, threading.Lock())
    with lock:
        try:
            found = cache.get(key)  # kept by the thread this one waited for
            if found is None:
                found = (compute(),)  # in a tuple: an answer of None is kept as well
                cache.set(key, found, seconds)
        finally:
            # Threads already waiting hold the lock itself; later ones find the answer.
            with _counting_guard:
                if _counting.get(key) is lock:
                    del _counting[key]
    return found[0]
