"""Surrogate fits in worker processes.

The user's model never crosses a process boundary (it may be a closure or live on a GPU):
the calling process queries it, and workers receive only arrays and settings. Each worker
runs one fit with one BLAS thread, so fits, not threads, share the cores.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from tqdm.auto import tqdm


def fit_surrogate(Z, y, settings, bounds=(None, None)):
    """A fitted ``DPMixtureRegression``, y censored at ``bounds`` (import inside: workers
    start clean)."""
    from threadpoolctl import threadpool_limits

    from scrutiny.surrogate import DPMixtureRegression

    with threadpool_limits(1):
        return DPMixtureRegression(**settings).fit(Z, y, lower=bounds[0], upper=bounds[1])


def fit_many(jobs, bounds=(None, None), n_jobs=None, progress=True, desc="fitting"):
    """Fit every ``(key, Z, y, settings)`` job; returns {key: fitted estimator}.

    One job, or ``n_jobs=1``, runs here; otherwise jobs run in a pool of spawned processes
    (spawn, not fork: forking a process that holds torch or OpenMP threads can deadlock).
    """
    jobs = list(jobs)
    workers = min(len(jobs), n_jobs or os.cpu_count() or 1)
    results = {}
    if workers <= 1:
        for key, Z, y, settings in tqdm(jobs, desc=desc, disable=not progress or len(jobs) < 2):
            results[key] = fit_surrogate(Z, y, settings, bounds)
        return results
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool, _main_not_rerun():
        futures = {
            pool.submit(
                fit_surrogate, Z, y, {**settings, "n_jobs": 1, "progress": False}, bounds
            ): key
            for key, Z, y, settings in jobs
        }
        for fut in tqdm(as_completed(futures), total=len(futures), desc=desc, disable=not progress):
            results[futures[fut]] = fut.result()
    return results


@contextmanager
def _main_not_rerun():
    """Start workers without re-running the user's ``__main__``.

    A spawned process normally re-imports the parent's main script so that functions defined
    there can be unpickled; a user's script without an ``if __name__ == "__main__"`` guard
    would then run again in every worker. Workers here only run scrutiny's own functions,
    so the main module is hidden from ``multiprocessing`` while they start.
    """
    main = sys.modules["__main__"]
    saved = {
        name: main.__dict__[name] for name in ("__file__", "__spec__") if name in main.__dict__
    }
    main.__spec__ = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__dict__.update(saved)
