"""Chains as one batch, in threads and in processes: who runs what, the same draws whatever
n_jobs, and errors that say where they came from."""

import os
import re

import numpy as np
import pytest

from scrutiny.surrogate import DPMixtureRegression, driver, kernel
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.driver import PROCESS_MIN_WORK, run_chains, run_separately, use_processes
from tests.surrogate.devices import TORCH


def small_problem(n_responses=1):
    """y = z0 - z1 + noise, and a second response y = 2 z1 + noise."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 8))
    ys = [Z[:, 0] - Z[:, 1], 2 * Z[:, 1]][:n_responses]
    return kernel.GibbsData.build(
        Z, ys + 0.3 * rng.standard_normal((n_responses, 200)), make_backend()
    )


def test_processes_give_the_draws_of_threads():
    data = small_problem(n_responses=2)
    params = kernel.SamplerParams(kernel.Priors(n_components=4))
    # three chains per response on two workers: each starts when one ends
    kw = dict(n_chains=3, n_sweeps=40, burn_in=10, random_state=1, progress=False, n_jobs=2)
    posteriors = run_chains(data, params, processes=True, **kw)
    for a, b, truth in zip(
        posteriors, run_chains(data, params, processes=False, **kw), [[1, -1], [0, 2]], strict=True
    ):
        np.testing.assert_array_equal(a.draws["log_likelihood"], b.draws["log_likelihood"])
        np.testing.assert_array_equal(a.coef_mean, b.coef_mean)
        assert a.diagnostics["final_lambda2"].shape == (3, params.priors.n_nets)
        main = np.argmax(a.weights)  # each response's own slopes (sd about 0.02)
        np.testing.assert_allclose(a.coef_mean[main, 1:3], truth, atol=0.15)


def test_torch_chains_run_in_processes_too():
    """The torch backend travels to a chain's process (rebuilt there, as numpy's is)."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((100, 3))
    data = kernel.GibbsData.build(
        Z, [Z[:, 0] + 0.3 * rng.standard_normal(100)], make_backend("torch")
    )
    params = kernel.SamplerParams(kernel.Priors(n_components=2))
    kw = dict(n_chains=2, n_sweeps=10, burn_in=2, random_state=0, progress=False, n_jobs=2)
    (a,) = run_chains(data, params, processes=True, **kw)
    (b,) = run_chains(data, params, processes=False, **kw)
    np.testing.assert_array_equal(a.draws["log_likelihood"], b.draws["log_likelihood"])


def test_a_failing_chain_process_names_the_chain_and_the_cause():
    """The error as it was raised (a ValueError), its process's traceback as its cause."""
    data = small_problem()
    params = kernel.SamplerParams(kernel.Priors(n_components=4), init=np.full(200, 9))
    with pytest.raises(ValueError, match=r"init labels must be") as raised:
        run_chains(data, params, n_sweeps=5, burn_in=1, progress=False, n_jobs=2, processes=True)
    assert re.match(r"chain [01] failed in its process:\n", str(raised.value.__cause__))


def test_large_fits_on_the_cpu_choose_processes_small_ones_a_batch():
    data = small_problem()  # 200 rows, 9 columns with the intercept
    enough = int(PROCESS_MIN_WORK / (200 * 9**2)) + 1
    assert not use_processes(data, 2, 600) and not run_separately(data, 600)
    assert use_processes(data, 2, enough) and run_separately(data, enough)
    assert not use_processes(data, 1, enough)  # no core to spare: one after the other
    pytest.importorskip("torch")
    on_torch = kernel.GibbsData.build(np.ones((200, 8)), np.ones(200), make_backend(TORCH))
    assert not use_processes(on_torch, 2, enough) and not run_separately(on_torch, enough)


def test_a_small_fit_gives_the_same_draws_whatever_n_jobs():
    data = small_problem()
    params = kernel.SamplerParams(kernel.Priors(n_components=4))
    kw = dict(n_chains=3, n_sweeps=30, burn_in=10, random_state=2, progress=False)
    [a], [b] = run_chains(data, params, n_jobs=1, **kw), run_chains(data, params, n_jobs=3, **kw)
    np.testing.assert_array_equal(a.draws["log_likelihood"], b.draws["log_likelihood"])
    np.testing.assert_array_equal(a.coef_mean, b.coef_mean)
    ll = a.draws["log_likelihood"]
    assert ll.shape == (3, 20) and not np.array_equal(ll[0], ll[1])  # three chains, not one


def test_batched_chains_of_a_large_fit_are_the_kernel_of_a_small_one(monkeypatch):
    """``batched=True`` runs a fit of any size as one kernel: the draws a small fit makes by
    default, on one core or two; without it, a fit this size runs chain by chain."""
    data = small_problem()
    params = kernel.SamplerParams(kernel.Priors(n_components=4))
    kw = dict(n_chains=2, n_sweeps=30, burn_in=10, random_state=3, progress=False)
    [small] = run_chains(data, params, **kw)
    monkeypatch.setattr(driver, "PROCESS_MIN_WORK", 1.0)  # every fit is large
    assert run_separately(data, 30)
    [one], [two] = (run_chains(data, params, batched=True, n_jobs=j, **kw) for j in (1, 2))
    [separate] = run_chains(data, params, n_jobs=1, **kw)
    for post in (one, two):
        np.testing.assert_array_equal(post.draws["log_likelihood"], small.draws["log_likelihood"])
        np.testing.assert_array_equal(post.coef_mean, small.coef_mean)
    assert not np.array_equal(separate.draws["log_likelihood"], small.draws["log_likelihood"])
    with pytest.raises(ValueError, match="processes=None with batched"):
        run_chains(data, params, batched=True, processes=False, **kw)


def test_the_estimator_batches_chains_when_asked(monkeypatch):
    Z = np.random.default_rng(0).standard_normal((60, 3))
    y = Z[:, 0] + 0.1 * Z[:, 1]

    def fit(**kw):
        return DPMixtureRegression(3, n_sweeps=20, progress=False, random_state=4, **kw).fit(Z, y)

    small = fit()
    monkeypatch.setattr(driver, "PROCESS_MIN_WORK", 1.0)
    np.testing.assert_array_equal(fit(batch_chains=True).coef_draws_, small.coef_draws_)
    assert not np.array_equal(fit(n_jobs=1).coef_draws_, small.coef_draws_)
    with pytest.raises(ValueError, match="batch_chains must be None, True or False"):
        fit(batch_chains="yes")


class _DiesWhenUnpickled:
    """Kills the process that unpickles it, as an out-of-memory kill would: no word back."""

    def __reduce__(self):
        import os

        return (os._exit, (3,))


def test_a_chain_process_that_dies_is_named_with_its_exit_code():
    data = small_problem()
    params = kernel.SamplerParams(kernel.Priors(n_components=4), init=_DiesWhenUnpickled())
    with pytest.raises(RuntimeError, match=r"process of chain [01] ended with exit code 3"):
        run_chains(data, params, n_sweeps=5, burn_in=1, progress=False, n_jobs=2, processes=True)


@pytest.mark.parametrize("batched", [True, False])
def test_torch_chains_on_the_cpu_run_on_one_thread_each(monkeypatch, batched):
    """torch's threads, one per core by default, fought the other chains' for the cores (a
    fit on 2 busy cores: 10 s against 0.5 s); numpy's BLAS was already held to one. The
    caller's setting is put back."""
    torch = pytest.importorskip("torch")
    Z = np.random.default_rng(0).standard_normal((60, 3))
    data = kernel.GibbsData.build(Z, Z[:, 0], make_backend(device="torch"))
    params = kernel.SamplerParams(kernel.Priors(n_components=2))
    seen, step = [], kernel.step

    def counting(*a, **k):
        seen.append(torch.get_num_threads())
        return step(*a, **k)

    monkeypatch.setattr(kernel, "step", counting)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        kw = dict(n_chains=2, n_sweeps=3, burn_in=1, random_state=0, progress=False)
        processes = None if batched else False  # threads
        run_chains(data, params, batched=batched, processes=processes, n_jobs=2, **kw)
        assert set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_ctrl_c_ends_chains_running_in_threads():
    """Leaving the thread pool waited for every chain to run to its end: Ctrl-C 2 s into a
    fit of 20 s reached the caller at 22.9 s. A chain now ends at its next sweep. Python's
    own handler is put in first: started in the background by a shell without job control
    (``nohup make test &``), Python inherits SIGINT ignored and raises nothing, and this
    test ran the chains' 5 minutes to fail on "DID NOT RAISE"."""
    import os
    import signal
    import threading
    import time

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 20))
    y = X[:, 0] + 0.1 * X[:, 1]
    # about 3 ms a sweep: 5 minutes, were the chains left to finish; below PROCESS_MIN_WORK
    # (300 x 21^2 x 1e5 = 1.3e10), so in threads, not processes
    reg = DPMixtureRegression(
        5, n_sweeps=100_000, batch_chains=False, n_jobs=2, progress=False, random_state=0
    )
    assert 300 * 21**2 * 100_000 < driver.PROCESS_MIN_WORK
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT)).start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            reg.fit(X, y)
        assert time.perf_counter() - t0 < 60
    finally:
        signal.signal(signal.SIGINT, before)


def test_fits_overlapping_in_threads_give_back_the_blas_threads():
    """Each fit saved the thread limit it found and restored it: fit B, started while A
    held one thread, saved 1 and restored it after A had restored 2. Counted across
    threads instead, the last fit to end restored a limit only the first one's thread
    could change (threadpoolctl's OpenBLAS; OpenMP's is per thread): the main thread
    stayed on one BLAS and one OpenMP thread for good. Nested in one thread, the outer
    fit keeps its one thread to its end."""
    import threading

    from threadpoolctl import threadpool_info, threadpool_limits

    from scrutiny._parallel import one_blas_thread

    def threads():
        return {i["num_threads"] for i in threadpool_info()}

    def openmp():  # a thread's own limit (a new thread's: $OMP_NUM_THREADS, or the cores)
        return {i["num_threads"] for i in threadpool_info() if i["internal_api"] == "openmp"}

    def shared():
        return {i["num_threads"] for i in threadpool_info() if i["internal_api"] != "openmp"}

    with threadpool_limits(2):
        a, b = one_blas_thread(), one_blas_thread()
        a.__enter__()
        b.__enter__()  # nested: B ends first
        b.__exit__(None, None, None)
        assert threads() == {1}  # A still runs on one
        a.__exit__(None, None, None)
        assert threads() == {2}
        began, main_done, seen = threading.Event(), threading.Event(), []

        def other():  # a fit in another thread, begun while the main thread's runs
            own = openmp()
            with one_blas_thread():
                began.set()
                main_done.wait()
            seen.append((shared(), openmp() == own))

        with one_blas_thread():
            thread = threading.Thread(target=other)
            thread.start()
            began.wait()
        main_done.set()  # the main thread's fit ends first
        thread.join()
        assert threads() == {2} and seen == [({2}, True)]
    # OpenMP's limit is a thread's own: the main thread's 1, set before its fit, came
    # back as the other thread's 2 (read when that one's fit began)
    pytest.importorskip("torch")  # its OpenMP runtime
    with threadpool_limits(limits=2):
        began, main_done = threading.Event(), threading.Event()

        def waits():
            with one_blas_thread():
                began.set()
                main_done.wait()

        thread = threading.Thread(target=waits)
        thread.start()
        began.wait()
        with threadpool_limits(limits=1, user_api="openmp"):  # the main thread's own
            with one_blas_thread():
                pass
            mine = openmp()
        main_done.set()
        thread.join()
        assert mine == {1}  # not the empty set: torch brings an OpenMP runtime


def test_a_fit_keeps_one_blas_thread_while_another_threads_fit_ends():
    """A fit ending put OpenBLAS's process-wide pool back to 2 threads under another
    thread's fit still running, whose draws then moved (1.2e-6 in a digits class's
    coefficients: one explainer's explanations differed with the threads asking). The
    setting found comes back when the last fit ends."""
    import threading

    from threadpoolctl import threadpool_info, threadpool_limits

    from scrutiny._parallel import one_blas_thread

    def shared():
        return {i["num_threads"] for i in threadpool_info() if i["internal_api"] != "openmp"}

    with threadpool_limits(2):
        if shared() != {2}:  # numpy's wheels bring OpenBLAS: make test requires it
            if os.environ.get("SCRUTINY_REQUIRE_DEV_DEPS"):
                raise AssertionError(f"no process-wide BLAS pool of 2 threads: {shared()}")
            pytest.skip("no process-wide BLAS pool of 2 threads to set")
        began, main_done, during = threading.Event(), threading.Event(), []

        def other():
            with one_blas_thread():
                began.set()
                main_done.wait()
                during.append(shared())

        thread = threading.Thread(target=other)
        with one_blas_thread():
            thread.start()
            began.wait()
        main_done.set()  # the main thread's fit ends first, the other's runs on
        thread.join()
        assert during == [{1}] and shared() == {2}
