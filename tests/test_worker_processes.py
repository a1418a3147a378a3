"""The model is called only from the calling process (DESIGN.md): worker processes fit
surrogates to outputs already queried, so a model holding a GPU, a session or a lock is never
pickled into a worker nor called from one, in every mode."""

import os
import pickle
import threading

import numpy as np
import pytest

from scrutiny import Explainer

X = np.random.default_rng(0).normal(size=(300, 6))


class Recorded:
    """A softmax of three classes that notes the process of every call, and holds a lock,
    as a model holding a session would: it cannot be pickled, so sent to a worker it fails."""

    def __init__(self):
        self.pids, self.lock = set(), threading.Lock()

    def __call__(self, rows):
        self.pids.add(os.getpid())
        z = rows[:, :3] * np.array([2.0, -1.0, 1.5])
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)


def test_every_mode_calls_the_model_from_the_calling_process_only():
    model = Recorded()
    with pytest.raises(TypeError, match="pickle"):
        pickle.dumps(model)
    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "progress": False, "n_jobs": 2}
    ex = Explainer(model, X, random_state=0, **kw)
    for mode in ("global", "local", "guided"):  # three class fits, four local ones
        ex.explain(X[:4], mode=mode, n_samples=None if mode == "global" else 40)
    assert model.pids == {os.getpid()}


def test_no_fit_to_run_draws_no_progress_bar(capsys):
    """Every fit loaded from the cache: an empty bar, "0it [00:00, ?it/s]", was left on
    stderr without a newline."""
    from scrutiny._parallel import fit_many

    assert fit_many(iter(()), total=0, progress=True) == {}
    assert fit_many([], progress=True) == {}
    assert capsys.readouterr().err == ""


def test_a_failed_explanation_leaves_no_progress_bar_open():
    """The bar of a fit that failed stayed open (a notebook keeps the error), and the next
    bar was drawn a line below it, the stale one printed again at exit."""
    from tqdm import tqdm

    calls = []

    def flaky(rows):
        calls.append(len(rows))
        if len(calls) == 4:
            raise RuntimeError("boom")
        return Recorded()(rows)

    for n_jobs in (1, 2):
        calls.clear()
        ex = Explainer(flaky, X, mode="local", n_samples=30, n_jobs=n_jobs, progress=True)
        with pytest.raises(Exception, match="boom") as kept:  # the error kept, as a REPL does
            ex.explain(X[:8])
        assert kept.value is not None and not list(tqdm._instances), n_jobs


def test_a_fit_that_fails_in_a_worker_leaves_no_worker_and_keeps_its_kind():
    """A setting that fails only inside a fit: the other workers fitted on after the error
    (and a SIGTERM'd parent's workers waited forever); a chain's process sent its error back
    as a RuntimeError, which `except ValueError` missed."""
    import multiprocessing

    from scrutiny._parallel import fit_many
    from scrutiny.surrogate.backends import make_backend
    from scrutiny.surrogate.driver import run_chains
    from scrutiny.surrogate.kernel import GibbsData, SamplerParams

    bad = {"n_sweeps": 5, "init": np.zeros(3, dtype=int)}  # labels of 3 rows for 50
    jobs = [(k, X[:50], X[:50, 0], bad) for k in range(4)]
    with pytest.raises(ValueError, match="init labels must be 50 integers"):
        fit_many(jobs, n_jobs=2, progress=False)
    assert multiprocessing.active_children() == []
    data = GibbsData.build(X[:50], X[None, :50, 0], make_backend("cpu", "float64"))
    params = SamplerParams(init=np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="init labels must be 50 integers"):
        run_chains(
            data,
            params,
            n_chains=2,
            n_sweeps=4,
            burn_in=2,
            progress=False,
            n_jobs=2,
            batched=False,
            processes=True,
        )


def _sleep_a_minute(parent):
    import time

    from scrutiny._parallel import exit_with

    exit_with(parent, every=0.05)
    time.sleep(60)


def test_a_worker_ends_once_its_parent_is_gone():
    """A parent killed by SIGTERM runs no cleanup: its workers fitted on, then waited
    forever to send their results. Told another process is its parent, one ends at once."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    proc = ctx.Process(target=_sleep_a_minute, args=(-1,))  # never its parent's pid
    proc.start()
    proc.join(timeout=30)
    assert proc.exitcode == 1


def test_the_model_is_called_with_its_main_module_whole():
    """Workers start without re-running __main__, which hid its __file__ while local mode
    queried the model between their starts: a model reading it failed with n_jobs=2."""
    import sys

    main = sys.modules["__main__"]
    had = "__file__" in main.__dict__
    seen = []

    def model(rows):
        seen.append("__file__" in main.__dict__)
        return Recorded()(rows)

    kw = {"surrogate": {"n_sweeps": 10, "n_components": 2}, "progress": False, "n_jobs": 2}
    Explainer(model, X, mode="local", n_samples=30, random_state=0, **kw).explain(X[:4])
    assert seen and all(s == had for s in seen)


def test_one_job_runs_a_large_fits_chains_in_this_process(monkeypatch):
    """n_jobs=1 did not reach a global fit's own chains: one large enough (MNIST pixels by
    default) ran one process per chain, as n_jobs=2 does; and job counts are the cores
    this process may run on, not the machine's (taskset: 2 workers on 1 core)."""
    import multiprocessing.context

    import scrutiny.surrogate.driver as driver
    from scrutiny._validation import job_count

    monkeypatch.setattr(driver, "PROCESS_MIN_WORK", 1e5)  # this fit counts as large
    started = []
    spawn = multiprocessing.context.SpawnProcess._Popen
    monkeypatch.setattr(
        multiprocessing.context.SpawnProcess,
        "_Popen",
        staticmethod(lambda process: (started.append(process.name), spawn(process))[1]),
    )
    kw = {"progress": False, "random_state": 0, "surrogate": {"n_sweeps": 20, "n_components": 3}}
    one = Explainer(Recorded(), X, n_jobs=1, **kw).fit([0])
    assert started == []
    two = Explainer(Recorded(), X, n_jobs=2, **kw).fit([0])
    assert len(started) >= 1  # so the count above would see them
    # the same fit (class 0's: other classes' would be fitted in workers, where the
    # patched size does not reach)
    same = [ex.explain(X[:3], target=0).values for ex in (one, two)]
    np.testing.assert_array_equal(*same)
    if hasattr(os, "sched_getaffinity"):
        assert job_count(None) == len(os.sched_getaffinity(0))


def test_a_workers_warnings_reach_the_caller():
    """A fit's warning in a worker went to that worker's stderr: no filter or
    catch_warnings of the caller saw it (2 caught with n_jobs=1, 0 with n_jobs=2)."""
    import warnings

    rng = np.random.default_rng(0)
    far, W = rng.normal(size=(200, 6)) + 50.0, rng.normal(size=(6, 7))

    def seven(rows):  # seven classes: two blocks of fits, one per worker
        z = (rows - 50) @ W
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    kw = {"baseline": 0.0, "progress": False, "random_state": 0}
    kw["surrogate"] = {"n_sweeps": 20, "n_components": 3}
    caught = {}
    for n_jobs in (1, 2):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            Explainer(seven, far, n_jobs=n_jobs, **kw).fit()
        caught[n_jobs] = sorted(str(w.message) for w in seen if "lie far from 0" in str(w.message))
    assert caught[1] and caught[2] == caught[1]


def _explained_in_a_worker(seed):
    """Local explanations whose fits would go to worker processes (n_jobs=2)."""
    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "progress": False, "n_jobs": 2}
    ex = Explainer(Recorded(), X, mode="local", n_samples=40, random_state=seed, **kw)
    return ex.explain(X[:3]).values


def test_a_worker_of_a_pool_or_of_joblib_explains_in_its_own_process(monkeypatch):
    """A multiprocessing.Pool's worker is a daemon, which may start no process ("daemonic
    processes are not allowed to have children"), and joblib's loky workers run under a
    start method a spawned child cannot find (scrutiny's children died on start-up): there
    the fits run in the worker itself, with the same results."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        got = pool.map(_explained_in_a_worker, [0])[0]
    np.testing.assert_array_equal(got, _explained_in_a_worker(0))
    from scrutiny._parallel import may_start_processes

    assert may_start_processes()
    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: "loky")
    assert not may_start_processes()


def test_a_chain_process_that_dies_is_said_at_once(monkeypatch):
    """A chain's process killed (the out-of-memory killer's SIGKILL) was noticed only once
    a second passed without a message, which the other chains' progress never let happen:
    the error came when they had all run to the end (minutes into a large fit)."""
    import multiprocessing
    import signal
    import time

    import scrutiny.surrogate.driver as driver
    from scrutiny import DPMixtureRegression

    monkeypatch.setattr(driver, "PROCESS_MIN_WORK", 0)  # every fit's chains in processes

    def kill_one():
        while not multiprocessing.active_children():
            time.sleep(0.05)
        time.sleep(4.0)  # started (a second or two), and reporting progress
        os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_one, daemon=True)
    # 20,000 sweeps of 60 rows: about a minute a chain, each on a core of its own
    reg = DPMixtureRegression(3, n_sweeps=20000, n_jobs=2, progress=False, random_state=1)
    began = time.perf_counter()
    killer.start()
    with pytest.raises(RuntimeError, match=r"the process of chain \d ended with exit code -9"):
        reg.fit(X[:60, :5], X[:60, 0])
    assert time.perf_counter() - began < 20  # about 2 s
    deadline = time.perf_counter() + 10
    while multiprocessing.active_children() and time.perf_counter() < deadline:
        time.sleep(0.1)
    assert not multiprocessing.active_children()  # the other chain stopped too


def test_one_fit_alone_shows_its_samplers_progress(capsys):
    """A bar counts fits, and one of one is no bar: a binary model's global fit (or a
    50,000-row table's, 48 s) said nothing until it ended."""

    def binary(rows):
        p = 1 / (1 + np.exp(-rows[:, 0]))
        return np.stack([1 - p, p], axis=1)

    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "n_jobs": 1}
    Explainer(binary, X, progress=True, **kw).fit()
    assert "DMM-MEN Gibbs" in capsys.readouterr().err
    Explainer(binary, X, progress=False, **kw).fit()
    assert capsys.readouterr().err == ""


def _tqdm_lock_kind():
    from tqdm.auto import tqdm

    return type(tqdm.get_lock()).__name__


def test_a_worker_holds_no_semaphore_for_tqdm():
    """tqdm's default lock holds a semaphore shared between processes: a worker ended by
    Ctrl-C (terminated) left it in /dev/shm, two an interrupt, and the resource tracker
    warned of them at exit. A worker's bars (none: its fits are quiet) take a lock of
    threads."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from scrutiny._parallel import worker_started

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, ctx, initializer=worker_started, initargs=(os.getpid(),)) as pool:
        assert pool.submit(_tqdm_lock_kind).result() == "RLock"


def test_threads_starting_workers_at_once_give_back_mains_names():
    """Each call hid ``__main__``'s __spec__ and __file__ and put back what it had found: a
    second thread inside while the first was found them hidden and, leaving last, left
    them hidden for good (a `python -m` program's own spawn pool then hung, its workers
    failing to import it)."""
    import sys
    import types

    from scrutiny._parallel import main_not_rerun

    main = sys.modules["__main__"]
    before = {name: main.__dict__.get(name, "absent") for name in ("__spec__", "__file__")}
    spec = types.SimpleNamespace(name="pkg.app")
    main.__spec__, main.__file__ = spec, "/somewhere/app.py"
    inside, first_left = threading.Event(), threading.Event()
    seen = []

    def second():
        with main_not_rerun():
            seen.append((main.__spec__, "__file__" in main.__dict__))
            inside.set()
            first_left.wait(10)
            seen.append((main.__spec__, "__file__" in main.__dict__))

    try:
        with main_not_rerun():
            worker = threading.Thread(target=second)
            worker.start()
            assert inside.wait(10)
        first_left.set()
        worker.join(10)
        assert seen == [(None, False), (None, False)]  # hidden while either starts workers
        assert main.__spec__ is spec and main.__file__ == "/somewhere/app.py"
    finally:
        for name, value in before.items():
            if value == "absent":
                main.__dict__.pop(name, None)
            else:
                main.__dict__[name] = value
