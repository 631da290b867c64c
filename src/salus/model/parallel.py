"""Run independent chunks of work on local cores or, when asked, on a Ray cluster.

Ray is optional (``pip install salus[cluster]``) and imported only when an address is given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor


class ClusterUnavailable(RuntimeError):
    """Ray was requested but is not installed."""


def _ray():
    # Ray reports usage statistics to its developers over the internet unless told not to.
    # Nothing about a program leaves the machine: off unless the operator turns it on.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray  # noqa: PLC0415 - optional dependency, imported on demand
    except ImportError:
        raise ClusterUnavailable(
            "Ray is not installed: install salus[cluster] to use --ray"
        ) from None
    return ray


def map_chunks(
    func: Callable,
    chunks: Sequence,
    *,
    workers: int | None = None,
    ray_address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list:
    """Apply ``func`` to every chunk and return the results in order.

    Args:
        func: a picklable top-level function of one argument.
        chunks: the arguments.
        workers: local processes; None uses every core, 1 (or a single chunk) runs in this
            process.
        ray_address: address passed to ``ray.init``; runs each chunk as a Ray task.
            ``"local"`` starts a Ray instance on this machine; ``"auto"`` joins the cluster
            this machine is a node of; ``"ray://HOST:10001"`` connects as a client.
        progress: called with the number of chunks just finished.
    """
    if ray_address:
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=ray_address)
        remote = ray.remote(func)
        refs = [remote.remote(c) for c in chunks]
        results = []
        for ref in refs:
            results.append(ray.get(ref))
            if progress:
                progress(1)
        return results
    workers = workers or os.cpu_count() or 1
    if workers <= 1 or len(chunks) <= 1:
        results = []
        for c in chunks:
            results.append(func(c))
            if progress:
                progress(1)
        return results
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        futures = [pool.submit(func, c) for c in chunks]
        results = []
        for f in futures:
            results.append(f.result())
            if progress:
                progress(1)
        return results
