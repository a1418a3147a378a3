"""Surrogate fits in worker processes.

The user's model never crosses a process boundary (it may be a closure or live on a GPU):
the calling process queries it, and workers receive only arrays and settings. Each worker
runs one fit with one BLAS thread, so fits, not threads, share the cores.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager

from tqdm.auto import tqdm

from scrutiny._validation import job_count


def fit_surrogate(Z, y, settings, bounds=(None, None), summarize=None):
    """A ``DPMixtureRegression`` fitted to y (n,), censored at ``bounds``, or
    ``summarize(it, Z, y)``; for y (n, R) a list of R, one per column, fitted together
    (``fit_responses``). Imports inside: workers start clean."""
    from scrutiny.surrogate import DPMixtureRegression

    reg = DPMixtureRegression(**settings)
    with one_blas_thread():
        fits = reg.fit_responses(Z, y, *bounds) if y.ndim == 2 else [reg.fit(Z, y, *bounds)]
    if summarize is not None:
        columns = y.T if y.ndim == 2 else [y]
        fits = [summarize(f, Z, col) for f, col in zip(fits, columns, strict=True)]
    return fits if y.ndim == 2 else fits[0]


_THREADS_LOCK = threading.Lock()
_FOUND = {}  # pool ("blas", "torch") -> [fits inside, in any thread; the setting found]
_HERE = threading.local()  # pool -> fits inside in this thread (nested)


@contextmanager
def one_thread(pool, get, put, shared=lambda lib: True):
    """The body with one thread in ``pool``: ``get()`` reads its setting and ``put(value)``
    sets it (1, or a setting read) in this thread. Each thread sets its own and, when its
    outermost fit ends, puts back what it found then, but for a process-wide setting
    (``shared``, of one library in a setting that is a list of them) what was found when
    the first fit of any thread began, once the last fit of any thread ends: a fit that
    began while another held one thread found 1 and put 1 back, numpy on one BLAS thread
    for the rest of the process; counted across threads, the last fit to end put back a
    setting another thread made, which only that thread can change (OpenMP's limit is a
    thread's own); put back as each thread's fit ended, the fits still running went on
    with two BLAS threads, and their draws moved (1.2e-6 in a digits class's coefficients:
    the same explainer's explanations differed with the threads that asked for them)."""
    with _THREADS_LOCK:
        found = _FOUND.setdefault(pool, [0, None])
        if found[0] == 0:
            found[1] = get()
        found[0] += 1
        first = found[1]
    depth, own = getattr(_HERE, pool, 0), first
    try:
        if depth == 0:
            own = get()  # this thread's, before its change
            put(1)
        setattr(_HERE, pool, depth + 1)
        yield
    finally:
        setattr(_HERE, pool, depth)
        # put under the lock: a fit beginning meanwhile would read a setting half put back
        with _THREADS_LOCK:
            try:
                if depth == 0:
                    put(_setting(first, own, shared, last=found[0] == 1))
            finally:
                found[0] -= 1


def _setting(first, own, shared, last=True):
    """The setting to put back: this thread's own, but for what is shared (by library, for
    a list of them; a number, torch's threads: the process's) the first fit's when this
    is the last fit running, else 1, the other fits' still."""
    if not isinstance(own, list):
        return (first if last else 1) if shared(own) else own
    firsts = {lib.get("filepath"): lib for lib in first}

    def shared_one(lib):
        return firsts.get(lib.get("filepath"), lib) if last else {**lib, "num_threads": 1}

    return [shared_one(lib) if shared(lib) else lib for lib in own]


def one_blas_thread(controller=None, user_api=None):
    """``one_thread`` of the thread pools threadpoolctl controls (``user_api``: "blas",
    or by default OpenMP's too), through ``controller`` (default: one found now). OpenMP's
    limit, and OpenBLAS's over OpenMP, is a thread's own; OpenBLAS's otherwise the
    process's."""
    from threadpoolctl import ThreadpoolController

    controller = controller or ThreadpoolController()

    def put(limits):
        controller.limit(limits=limits, user_api=user_api if limits == 1 else None)
        _let_go_of_openblas()

    def shared(lib):
        return lib.get("internal_api") != "openmp" and lib.get("threading_layer") != "openmp"

    return one_thread("blas", controller.info, put, shared)


def _let_go_of_openblas():
    """Let any thread set OpenBLAS's process-wide pool next: threadpoolctl lets only the
    thread that set it last change it while that thread lives (the main thread, for
    good), and the user's own limits in other threads were ignored."""
    import threadpoolctl

    openblas = getattr(threadpoolctl, "OpenBLASController", None)  # 3.8 and later
    if openblas is not None and hasattr(openblas, "clear_controlling_thread"):
        openblas.clear_controlling_thread()


def fit_many(
    jobs,
    bounds=(None, None),
    n_jobs=None,
    progress=True,
    desc="fitting",
    total=None,
    summarize=None,
):
    """Fit every ``(key, Z, y, settings)`` job; returns {key: fitted estimator, or
    ``summarize(estimator, Z, y)``, a module-level function run in the worker}.

    ``jobs`` may be a generator: it is consumed as workers free up (at most two jobs per
    worker wait), so the data of many fits is never in memory at once. One worker, or
    ``n_jobs=1``, runs here; otherwise jobs run in a pool of spawned processes (spawn, not
    fork: forking a process that holds torch or OpenMP threads can deadlock), unless this
    process may start none (``may_start_processes``).
    """
    total = len(jobs) if total is None and hasattr(jobs, "__len__") else total
    jobs_at_once = job_count(n_jobs)  # checked wherever it runs
    workers = min(total or 1 << 30, jobs_at_once if may_start_processes() else 1)
    bar = tqdm(total=total, desc=desc, disable=not progress or (total is not None and total < 2))
    # one fit alone shows its sampler's bar: a bar of one job said nothing for minutes (a
    # binary model's global fit, a 50,000-row table's)
    alone = progress and total == 1
    try:  # closed whatever happens: a failed fit's bar stayed open, the next drawn below it
        return _fit_all(jobs, bounds, n_jobs, summarize, workers, bar, alone)
    finally:
        bar.close()


def may_start_processes():
    """Whether this process may start worker processes: not inside a worker of
    multiprocessing.Pool (a daemon, which may have no children) nor of joblib's loky (whose
    start method a spawned child cannot find: it died on start-up). There, work runs in
    the process itself, as joblib runs nested work; results do not depend on it."""
    if multiprocessing.current_process().daemon:
        return False
    method = multiprocessing.get_start_method(allow_none=True)
    return method is None or method in multiprocessing.get_all_start_methods()


def _fit_all(jobs, bounds, n_jobs, summarize, workers, bar, alone=False):
    """``fit_many``'s work, here (one worker) or in a pool of spawned processes."""
    results = {}
    if workers <= 1:
        for key, Z, y, settings in jobs:  # n_jobs=1: its chains in this process too
            settings = {"n_jobs": n_jobs, **settings, **({"progress": True} if alone else {})}
            results[key] = fit_surrogate(Z, y, settings, bounds, summarize)
            bar.update()
        return results
    ctx = multiprocessing.get_context("spawn")
    pending = {}

    def collect():
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            results[pending.pop(fut)], warned = fut.result()
            for message, category in warned:  # here, where a caller can catch them
                warnings.warn(message, category, stacklevel=4)
            bar.update()

    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=worker_started, initargs=(os.getpid(),)
    )
    try:
        for key, Z, y, settings in jobs:  # the model is queried here, its __main__ whole
            while len(pending) >= 2 * workers:
                collect()
            quiet = {**settings, "n_jobs": 1, "progress": False}
            with main_not_rerun():  # a submit may start a worker
                pending[pool.submit(_fit_noting_warnings, Z, y, quiet, bounds, summarize)] = key
        while pending:
            collect()
    except BaseException:  # a fit failed, or Ctrl-C: no fit left running, none queued
        for proc in list((pool._processes or {}).values()):  # running: terminated
            proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return results


def _fit_noting_warnings(*args):
    """In a worker: ``fit_surrogate``'s result and the warnings it raised, as (message,
    category) pairs for the parent to raise again (a worker's own went to its stderr,
    where no caller's filter or catch_warnings reaches)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit_surrogate(*args)
    return result, [(str(w.message), w.category) for w in caught]


def worker_started(parent):
    """In a worker: ``exit_with(parent)``, and tqdm's lock one of threads: its default holds
    a semaphore shared between processes, which a worker ended by Ctrl-C (terminated) left
    in /dev/shm, two an interrupt until the program's exit."""
    exit_with(parent)
    tqdm.set_lock(threading.RLock())


def exit_with(parent, every=1.0):
    """In a worker: end it once ``parent`` is gone (killed by SIGTERM, say, which runs no
    cleanup), instead of fitting on and then waiting forever to send the result."""

    def watch():
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


# what ``main_not_rerun`` hid of ``__main__`` while any thread starts workers, and how many do
_HIDDEN = {}
_HIDDEN_LOCK = threading.Lock()


@contextmanager
def main_not_rerun():
    """Start workers without re-running the user's ``__main__``.

    A spawned process normally re-imports the parent's main script so that functions defined
    there can be unpickled; a user's script without an ``if __name__ == "__main__"`` guard
    would then run again in every worker. Workers here only run scrutiny's own functions,
    so the main module is hidden from ``multiprocessing`` while they start.
    """
    main = sys.modules["__main__"]
    with _HIDDEN_LOCK:  # the first of threads at once hides them, the last gives them back
        if not _HIDDEN:  # (each its own: a second saved the first's None, and put it back)
            _HIDDEN["names"] = {
                name: main.__dict__[name]
                for name in ("__file__", "__spec__")
                if name in main.__dict__
            }
            main.__spec__ = None
            main.__dict__.pop("__file__", None)
        _HIDDEN["depth"] = _HIDDEN.get("depth", 0) + 1
    try:
        yield
    finally:
        with _HIDDEN_LOCK:
            _HIDDEN["depth"] -= 1
            if not _HIDDEN["depth"]:
                main.__dict__.update(_HIDDEN.pop("names"))
                _HIDDEN.clear()
