"""Runs chains of the Gibbs kernel: burn-in, thinning, progress, relabelling, diagnostics.

Small fits run all their chains as one batched kernel (``kernel.init(..., n_chains)``) in
the calling thread: their sweeps cost mostly Python calls, which the chains then share; the
chains of several responses to the same features (the classes of a model) can share one
kernel too.
Large fits run each chain on its own, with one BLAS thread, in a process of its own when a
core is spare (threads share the GIL, which the kernel's Python parts hold for a quarter to
a third of a sweep at p = 784: two chains in threads took 0.136 s per sweep each, in
processes 0.097, one alone 0.097), else one after the other. Which of the two depends only
on the size of the fit, and each separate chain has its own generator spawned from one
seed, so results do not depend on n_jobs, threads or processes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from scrutiny._parallel import (
    main_not_rerun,
    may_start_processes,
    one_blas_thread,
    one_thread,
    worker_started,
)
from scrutiny._validation import job_count
from scrutiny.surrogate import kernel
from scrutiny.surrogate.diagnostics import effective_sample_size, split_rhat
from scrutiny.surrogate.summaries import ChainSummary, match_labels


@dataclass
class Posterior:
    """Pooled, relabelled posterior summaries of all chains (in the data's internal units).

    Coefficient and noise summaries are conditional on the component holding rows; they are
    NaN for a component that never held any.
    """

    coef_mean: np.ndarray  # (J, P)
    coef_var: np.ndarray  # (J, P)
    noise_var: np.ndarray  # (J,)
    occupancy: np.ndarray  # (J,) share of kept draws in which the component held rows
    weights: np.ndarray  # (J,)
    counts: np.ndarray  # (J,) mean rows per component
    mixture_coef: np.ndarray  # (P,) the mixture's regression (``ChainSummary.record``)
    label_counts: np.ndarray  # (n, J) kept draws in which row i was in component j
    draws: dict  # name -> (chains, draws, ...) thinned draws; "coef" times coef_unit
    diagnostics: dict
    coef_unit: np.ndarray | float = 1.0  # (P,) ``GibbsData.coef_unit``


def seed_sequence(random_state):
    """The root seed of a fit (and of an explainer's draws): from an int >= 0, a Generator or
    a legacy RandomState (scikit-learn's kind; a draw from it), or fresh for None."""
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.RandomState):
        return np.random.SeedSequence(int(random_state.randint(2**31 - 1)))
    if isinstance(random_state, np.random.SeedSequence):  # a copy: spawn() would change it
        return np.random.SeedSequence(
            random_state.entropy, spawn_key=random_state.spawn_key, pool_size=random_state.pool_size
        )
    if random_state is None:
        return np.random.SeedSequence()
    check_seed(random_state)
    return np.random.SeedSequence(int(random_state))


def check_run(n_chains, n_sweeps, burn_in, thin, max_stored_draws):
    """Refuse chains that cannot run as asked (the estimator's settings are checked with
    this before any model is queried for their fit)."""
    if n_chains < 1 or n_sweeps < 1 or thin < 1 or not 0 <= burn_in < n_sweeps:
        raise ValueError(
            f"need n_chains >= 1, thin >= 1 and 0 <= burn_in < n_sweeps; got n_chains={n_chains},"
            f" n_sweeps={n_sweeps}, burn_in={burn_in}, thin={thin}"
        )
    if max_stored_draws < 2 or max_stored_draws % 2:  # the buffer halves itself when full
        raise ValueError(f"max_stored_draws must be an even number >= 2, got {max_stored_draws}")


def check_seed(random_state):
    """Refuse what ``seed_sequence`` cannot take, drawing nothing from a generator given."""
    kinds = np.random.Generator | np.random.RandomState | np.random.SeedSequence
    if random_state is None or isinstance(random_state, kinds):
        return
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise TypeError(
            "random_state must be None, an int or a numpy Generator, RandomState or "
            "SeedSequence, got "
            f"{random_state!r}"
        )
    if random_state < 0:
        raise ValueError(f"random_state must be a non-negative int, got {random_state}")


def checked_generator(random_state):
    """numpy's generator of ``random_state``, refused by name where ``check_seed`` refuses
    it (-1 met numpy's 'expected non-negative integer')."""
    check_seed(random_state)
    return np.random.default_rng(random_state)


def input_generator(root, x, target):
    """A generator of one input's own, named by the seed ``root``, the input and its class:
    its draws are the same whatever else is drawn with it (drawn input by input from one
    stream, those of inputs 5-10 changed with the inputs before them)."""
    named = hashlib.sha256(np.ascontiguousarray(x).tobytes() + str(int(target)).encode())
    return np.random.default_rng([root, *np.frombuffer(named.digest(), dtype=np.uint32).tolist()])


# chains run separately (in processes of their own, given spare cores) from this much work,
# n_rows x n_cols^2 x n_sweeps (a second of start-up is then a few percent of the fit);
# below it they run as one batched kernel
PROCESS_MIN_WORK = 2e10


def _progress_bar(total, enabled, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="sweep", leave=False)


def run_chains(
    data,
    params,
    *,
    n_chains=2,
    n_sweeps=600,
    burn_in=300,
    thin=1,
    random_state=None,
    progress=True,
    n_jobs=None,
    max_stored_draws=200,
    desc="DMM-MEN Gibbs",
    processes=None,
    batched=None,
):
    """Run ``n_chains`` chains for each response of ``data``; returns each response's pooled
    ``Posterior``, in order. ``batched``: run them all as one kernel (True), separately
    (False), or decide by the size of the fit (None: batched below ``PROCESS_MIN_WORK``).
    ``processes``: run separate chains in processes (True) or threads (False); None: in
    processes when ``n_jobs`` > 1, the fit is large and on the CPU backend."""
    check_run(n_chains, n_sweeps, burn_in, thin, max_stored_draws)
    if batched and processes is not None:
        raise ValueError("batched chains run as one kernel: give processes=None with batched")
    R = data.n_responses
    seeds = seed_sequence(random_state).spawn(R * n_chains)
    n_jobs = min(R * n_chains, job_count(n_jobs))
    if batched is None:
        batched = processes is None and not run_separately(data, n_sweeps)
    if processes is None:
        processes = use_processes(data, n_jobs, n_sweeps)

    def chain_data(c):  # chain c fits response c // n_chains, as in the batched kernel
        return data if batched else data.response(c // n_chains)

    args = [
        (chain_data(c), params, seeds[c], n_sweeps, burn_in, thin, max_stored_draws)
        for c in range(R * n_chains)
    ]
    bar = _progress_bar(R * n_chains * n_sweeps, progress, desc)
    try:
        if batched:
            results = _in_batch(args, bar, data.backend)
        elif processes:
            results = _in_processes(args, n_jobs, bar)
        else:
            results = _in_threads(args, n_jobs, bar, data.backend)
    finally:
        bar.close()
    return [_pool_chains(results[r * n_chains : (r + 1) * n_chains], n_sweeps) for r in range(R)]


def run_separately(data, n_sweeps):
    """Whether the chains of a fit run each on its own rather than as one batched kernel."""
    return chains_run_separately(data.n_rows, data.n_cols, n_sweeps, data.backend.name)


def chains_run_separately(n_rows, n_cols, n_sweeps, backend="numpy"):
    """Whether chains of this size run each on its own: CPU fits large enough that their
    arithmetic, not their calls, takes the time. ``n_cols``: used columns, intercept too."""
    return backend == "numpy" and n_rows * n_cols**2 * n_sweeps >= PROCESS_MIN_WORK


def use_processes(data, n_jobs, n_sweeps):
    """Whether chains get processes: on the CPU backend, with cores to spare, for a fit
    large enough that a process's start-up is small beside it, where this process may
    start them (otherwise threads: the same draws)."""
    return n_jobs > 1 and run_separately(data, n_sweeps) and may_start_processes()


def _run_chain(data, params, seed, n_sweeps, burn_in, thin, max_stored_draws, report, n_chains=1):
    """``n_chains`` chains as one kernel, from the generator of ``seed``: per chain its
    ChainSummary, last penalties and nets, and seconds (the batch's, shared out). ``report(t,
    info)`` after every sweep."""
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    state = kernel.init(rng, data, params, n_chains)
    summaries = [
        ChainSummary(data.n_rows, params.priors.n_components, max_stored_draws, data.coef_unit)
        for _ in range(n_chains)
    ]
    for t in range(n_sweeps):
        state, info = kernel.step(rng, state, data)
        if t >= burn_in and (t - burn_in) % thin == 0:
            for summary, draw in zip(summaries, kernel.chain_draws(state, info), strict=True):
                summary.record(draw)
        report(t, info)
    seconds = (time.perf_counter() - start) / n_chains
    return [
        (summary, {"lambda1": d.lam1, "lambda2": d.lam2, "nets": d.nets}, seconds)
        for summary, d in zip(summaries, kernel.chain_draws(state, info), strict=True)
    ]


def _postfix(bar, info):
    bar.set_postfix(loglik=f"{info[0]:.1f}", occupied=info[1])


def _first_chain(info):
    """(log-likelihood, occupied components) of the first chain of a step's info."""
    J = info.counts.size // info.log_likelihood.size
    return float(info.log_likelihood[0]), int((info.counts[:J] > 0).sum())


@contextmanager
def _one_thread(backend):
    """One BLAS (numpy) or intra-op (torch on the CPU) thread while chains run: at these
    sizes a sweep is 2-3x slower on two threads than on one (docs/benchmarks.md), and
    torch's threads, one per core by default, fought the other chains' (and processes')
    for the cores: a small torch fit on 2 busy cores took 10 s against 0.5 s on one
    thread. The draws are the same either way."""
    if backend.name == "numpy":
        with one_blas_thread():
            yield
    elif backend.device.type == "cpu":
        torch = backend.torch
        with one_thread("torch", torch.get_num_threads, torch.set_num_threads):
            yield
    else:
        yield


def _in_batch(args, bar, backend):
    def report(t, info):
        bar.update(len(args))
        if t % 10 == 0:
            _postfix(bar, _first_chain(info))

    with _one_thread(backend):
        return _run_chain(*args[0], report, n_chains=len(args))


class _Stopped(Exception):
    """Ends a chain in a thread once the caller has stopped waiting (Ctrl-C, another
    chain's error): leaving the pool waited for every chain to run to its end."""


def _in_threads(args, n_jobs, bar, backend):
    lock, stop = threading.Lock(), threading.Event()

    def run_one(c):
        def report(t, info):
            if stop.is_set():
                raise _Stopped
            with lock:
                bar.update(1)
                if c == 0 and t % 10 == 0:
                    _postfix(bar, _first_chain(info))

        return _run_chain(*args[c], report)[0]

    with _one_thread(backend):  # the cores go to the chains
        if n_jobs <= 1:
            return [run_one(c) for c in range(len(args))]
        pool = ThreadPoolExecutor(n_jobs)
        try:
            return list(pool.map(run_one, range(len(args))))
        except BaseException:
            stop.set()  # the others end at their next sweep, the queued never start
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _chain_process(messages, c, args, parent):
    """A chain's process: progress every 10 sweeps, then its result or its error (the
    exception itself where it pickles, and its traceback); it ends with its parent."""
    worker_started(parent)

    def report(t, info):
        if t % 10 == 9 or t == args[3] - 1:
            messages.put(("progress", c, t + 1, _first_chain(info)))

    try:
        with _one_thread(args[0].backend):
            messages.put(("done", c, _run_chain(*args, report)[0]))
    except BaseException as exc:
        text = traceback.format_exc()
        try:
            pickle.dumps(exc)
        except Exception:  # an exception that does not pickle: its text alone
            exc = None
        messages.put(("error", c, (exc, text)))


def _in_processes(args, n_jobs, bar):
    """Run the chains in spawned processes (spawn, not fork: forking a process that holds
    torch or OpenMP threads can deadlock), at most ``n_jobs`` at a time."""
    ctx = multiprocessing.get_context("spawn")
    messages = ctx.Queue()
    todo, running, results, done_sweeps = list(range(len(args))), {}, {}, {}
    try:
        while len(results) < len(args):
            while todo and len(running) < n_jobs:
                c = todo.pop(0)
                with main_not_rerun():
                    running[c] = ctx.Process(
                        target=_chain_process, args=(messages, c, args[c], os.getpid())
                    )
                    running[c].start()
            # a chain that ended normally has sent its result (read next); any other exit
            # means it died without a word (killed, out of memory): said at once, not once
            # the other chains, whose progress kept the queue busy, had finished
            for c, proc in running.items():
                if proc.exitcode not in (None, 0):
                    raise RuntimeError(
                        f"the process of chain {c} ended with exit code {proc.exitcode}"
                    )
            try:
                kind, c, *rest = messages.get(timeout=1.0)
            except queue.Empty:
                continue
            if kind == "error":  # as it was raised (a ValueError of a bad setting, say)
                exc, text = rest[0]
                remote = _RemoteTraceback(f"chain {c} failed in its process:\n{text}")
                raise (exc if exc is not None else RuntimeError(str(remote))) from remote
            if kind == "progress":
                bar.update(rest[0] - done_sweeps.get(c, 0))
                done_sweeps[c] = rest[0]
                if c == 0:
                    _postfix(bar, rest[1])
            else:
                results[c] = rest[0]
                running.pop(c).join()
    finally:
        for proc in running.values():
            if proc.is_alive():  # one that failed to start has nothing to stop
                proc.terminate()
        for proc in running.values():  # reaped: after a caught Ctrl-C (a notebook's) they
            if proc.pid is not None:  # stayed behind as zombies
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
    return [results[c] for c in range(len(args))]


class _RemoteTraceback(Exception):
    """The traceback of an error raised in a chain's process, as its cause."""


def _pool_chains(results, n_sweeps):
    summaries = [r[0] for r in results]
    ref = summaries[0]
    for s in summaries[1:]:
        s.permute(match_labels(ref.label_counts, s.label_counts))
    draws = {
        key: np.stack([s.buffer.get(key) for s in summaries])
        for key in ("coef", "noise_var", "weights", "counts", "log_likelihood", "concentration")
    }
    n = sum(s.n_draws for s in summaries)
    total = {k: sum(s.sums[k] for s in summaries) for k in ref.sums}
    occ = total["occupied"]
    held = np.stack([s.sums["occupied"] for s in summaries])[..., None]  # (chains, J, 1)
    means = np.stack([s.coef_mean for s in summaries])
    with np.errstate(invalid="ignore", divide="ignore"):
        coef_mean = (held * means).sum(axis=0) / occ[:, None]
        # the chains' sums of squared deviations, merged exactly (Chan, Golub & LeVeque)
        spread = (held * (means - coef_mean) ** 2).sum(axis=0)
        coef_var = (sum(s.coef_m2 for s in summaries) + spread) / occ[:, None]
        noise_var = total["noise_var"] / occ
    coef_var[occ < 2] = np.nan  # one draw is no spread: a std of 0 read as certainty
    seconds = [r[2] for r in results]
    diagnostics = {
        "n_chains": len(summaries),
        "n_kept_draws": n,
        "n_stored_draws": int(draws["log_likelihood"].size),  # of all chains, as n_kept_draws
        "seconds_per_chain": seconds,
        "seconds_per_sweep": float(np.mean(seconds) / n_sweeps),
        "log_likelihood_trace": draws["log_likelihood"],
        "n_occupied_trace": (draws["counts"] > 0).sum(axis=2),
        "concentration_trace": draws["concentration"],
        # the last state's penalties (per chain, per net) and each component's net (chain labels)
        "final_lambda1": np.array([r[1]["lambda1"] for r in results]),
        "final_lambda2": np.array([r[1]["lambda2"] for r in results]),
        "final_nets": np.array([r[1]["nets"] for r in results]),
    }
    if draws["log_likelihood"].shape[1] >= 4:
        diagnostics["log_likelihood_rhat"] = float(split_rhat(draws["log_likelihood"]))
        diagnostics["log_likelihood_ess"] = float(effective_sample_size(draws["log_likelihood"]))
        diagnostics["coef_rhat"] = split_rhat(draws["coef"])
        diagnostics["coef_ess"] = effective_sample_size(draws["coef"])
        # components holding rows in every stored draw of every chain: their coefficient
        # draws are posterior draws throughout, so their R-hat is meaningful
        diagnostics["always_occupied"] = (draws["counts"] > 0).all(axis=(0, 1))
    return Posterior(
        coef_mean=coef_mean,
        coef_var=coef_var,
        noise_var=noise_var,
        occupancy=occ / n,
        weights=total["weights"] / n,
        counts=total["counts"] / n,
        mixture_coef=total["mixture_coef"] / n,
        label_counts=sum(s.label_counts for s in summaries),
        draws=draws,
        diagnostics=diagnostics,
        coef_unit=ref.coef_unit,
    )
