"""Runs chains of the Gibbs kernel: burn-in, thinning, progress, relabelling, diagnostics.

Chains run in threads (the heavy work is BLAS/LAPACK, which releases the GIL), each with one
BLAS thread, so two chains on two cores take about the time of one.
Each chain has its own generator spawned from one seed, so results do not depend on n_jobs.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

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
    label_counts: np.ndarray  # (n, J) kept draws in which row i was in component j
    draws: dict  # name -> (chains, draws, ...) thinned draws
    diagnostics: dict


def _seed_sequence(random_state):
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(2**63)))
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.SeedSequence(random_state)
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


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
):
    """Run ``n_chains`` chains and return their pooled ``Posterior``."""
    if n_chains < 1 or n_sweeps < 1 or thin < 1 or not 0 <= burn_in < n_sweeps:
        raise ValueError(
            f"need n_chains >= 1, thin >= 1 and 0 <= burn_in < n_sweeps; got n_chains={n_chains},"
            f" n_sweeps={n_sweeps}, burn_in={burn_in}, thin={thin}"
        )
    seeds = _seed_sequence(random_state).spawn(n_chains)
    J = params.priors.n_components
    n_jobs = min(n_chains, n_jobs or os.cpu_count() or 1)
    lock = threading.Lock()
    bar = _progress_bar(n_chains * n_sweeps, progress, desc)

    def run_one(c):
        rng = np.random.default_rng(seeds[c])
        start = time.perf_counter()
        state = kernel.init(rng, data, params)
        summary = ChainSummary(data.n_rows, J, max_stored_draws)
        for t in range(n_sweeps):
            state, info = kernel.step(rng, state, data)
            if t >= burn_in and (t - burn_in) % thin == 0:
                summary.record(state, info)
            with lock:
                bar.update(1)
                if c == 0 and t % 10 == 0:
                    bar.set_postfix(
                        loglik=f"{info.log_likelihood:.1f}", occupied=int((info.counts > 0).sum())
                    )
        return summary, state, time.perf_counter() - start

    try:
        # One BLAS thread per chain: at these sizes OpenBLAS runs a whole sweep 2-3x slower
        # on two threads than on one (docs/benchmarks.md), so the cores go to the chains.
        with threadpool_limits(1) if data.backend.name == "numpy" else nullcontext():
            if n_jobs > 1:
                with ThreadPoolExecutor(n_jobs) as pool:
                    results = list(pool.map(run_one, range(n_chains)))
            else:
                results = [run_one(c) for c in range(n_chains)]
    finally:
        bar.close()
    return _pool_chains(results, n_sweeps)


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
    with np.errstate(invalid="ignore", divide="ignore"):
        coef_mean = total["coef"] / occ[:, None]
        coef_var = np.maximum(total["coef_sq"] / occ[:, None] - coef_mean**2, 0.0)
        noise_var = total["noise_var"] / occ
    seconds = [r[2] for r in results]
    diagnostics = {
        "n_chains": len(summaries),
        "n_kept_draws": n,
        "n_stored_draws": int(draws["log_likelihood"].shape[1]),
        "seconds_per_chain": seconds,
        "seconds_per_sweep": float(np.mean(seconds) / n_sweeps),
        "log_likelihood_trace": draws["log_likelihood"],
        "n_occupied_trace": (draws["counts"] > 0).sum(axis=2),
        "concentration_trace": draws["concentration"],
        # the last state's penalties (per chain, per net) and each component's net (chain labels)
        "final_lambda1": np.array([r[1].lam1 for r in results]),
        "final_lambda2": np.array([r[1].lam2 for r in results]),
        "final_nets": np.array([r[1].nets for r in results]),
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
        label_counts=sum(s.label_counts for s in summaries),
        draws=draws,
        diagnostics=diagnostics,
    )
