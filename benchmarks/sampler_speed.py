"""DMM-MEN sampler speed on real MNIST: n = 5,000 digits, all p = 784 pixels.

y is the logit of the class-3 probability of a multinomial logistic regression trained on the
demo's seeded 4,000-digit split. For each setting it measures
  - CPU seconds per sweep: one chain, one BLAS thread, sweeps 31-130 (after the first moves);
    with --device cuda (or torch), wall seconds;
  - a converged fit: two chains on two cores (a process and a BLAS thread each; with
    --device cuda, one batched kernel of two chains) run for
    --max-sweeps; every 10 sweeps, the split R-hat of the log-likelihood over the second half
    of the sweeps so far; converged at the first check from which it stays below 1.05 to the
    end; wall seconds to that point from the start, initialisation included; and the
    occupied components of each chain at the last sweep (chains that settle with different
    numbers of regimes do not meet: docs/benchmarks.md, the mixing analysis);
  - memory (the first --components with the last --dtypes: 10, float32 by default): peak
    traced allocation of whole fits of 400 and 1,600 sweeps, both past the point where the
    bounded draw buffer is full.
and prints them beside the authors' released R sampler (6 components, 3 nets, OpenBLAS on
one thread: 2.5 s per sweep at p = 784, 20,000 sweeps, every sweep kept in memory).

    python benchmarks/sampler_speed.py [--components 10 20] [--dtypes float64 float32]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import platform
import time
import tracemalloc
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from scrutiny import DPMixtureRegression
from scrutiny.datasets import load_mnist, split
from scrutiny.explainer import class_logit
from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.diagnostics import split_rhat

R_SECONDS_PER_SWEEP = 2.5  # the published R sampler at p = 784, OpenBLAS, one thread
R_SWEEPS = 20_000


def mnist_logits(target=3, seed=0):
    from sklearn.linear_model import LogisticRegression

    X, labels = load_mnist()
    Xtr, ltr, _, _ = split(X, labels, seed=seed)
    clf = LogisticRegression(C=0.1, max_iter=300).fit(Xtr, ltr)
    return X, class_logit(clf.predict_log_proba(X), target)


def prepare(X, y, J, dtype, device):
    backend = make_backend(device, dtype)
    data = kernel.GibbsData.build(X, (y - y.mean()) / y.std(), backend)
    return data, kernel.SamplerParams(priors=kernel.Priors(n_components=J))


def seconds_per_sweep(data, params, warmup=30, timed=100, seed=0):
    """CPU seconds per sweep of one chain; on a GPU, wall seconds (every sweep ends on the
    host: the labels are drawn there)."""
    clock = time.process_time if data.backend.name == "numpy" else time.perf_counter
    rng = np.random.default_rng(seed)
    with threadpool_limits(1):
        state = kernel.init(rng, data, params)
        for _ in range(warmup):
            state, _ = kernel.step(rng, state, data)
        start = clock()
        for _ in range(timed):
            state, info = kernel.step(rng, state, data)
    return (clock() - start) / timed, int((info.counts > 0).sum())


def _chain(args):
    data, params, seed, n_sweeps, start = args
    rng = np.random.default_rng(seed)
    loglik, stamps = np.full(n_sweeps, np.nan), np.full(n_sweeps, np.nan)
    with threadpool_limits(1):
        state = kernel.init(rng, data, params)
        for t in range(n_sweeps):
            state, info = kernel.step(rng, state, data)
            loglik[t] = info.log_likelihood[0]
            stamps[t] = time.time() - start
    return loglik, stamps, int((info.counts > 0).sum())


def two_chains(data, params, n_sweeps, seeds=(0, 1)):
    """Two chains in two processes, one BLAS thread each, as ``run_chains`` runs a fit this
    large: per-sweep log-likelihoods and the wall seconds since the start (processes'
    start-up included) at the end of each sweep, both (2, n_sweeps), and each chain's
    occupied components at the end."""
    start = time.time()
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        out = pool.map(_chain, [(data, params, s, n_sweeps, start) for s in seeds])
    return np.array([o[0] for o in out]), np.array([o[1] for o in out]), [o[2] for o in out]


def batched_chains(data, params, n_sweeps, seed):
    """Two chains as one kernel in this process, as ``run_chains`` runs them on the torch
    backend: the same outputs as ``two_chains``."""
    rng = np.random.default_rng(seed)
    loglik, stamps = np.full((2, n_sweeps), np.nan), np.full((2, n_sweeps), np.nan)
    start = time.time()
    state = kernel.init(rng, data, params, n_chains=2)
    for t in range(n_sweeps):
        state, info = kernel.step(rng, state, data)
        loglik[:, t] = info.log_likelihood
        stamps[:, t] = time.time() - start
    occupied = (info.counts.reshape(2, -1) > 0).sum(axis=1)
    return loglik, stamps, [int(k) for k in occupied]


def converged_fit(data, params, max_sweeps, threshold=1.05, check_every=10):
    """Two chains: on the CPU in two processes, on torch as one batched kernel. Returns
    (sweeps, wall seconds) at the first check from which R-hat stays below ``threshold``
    (None if it never does), the final R-hat, the wall seconds per sweep and each chain's
    occupied components at the end."""
    seeds = np.random.SeedSequence(1).spawn(2)
    if data.backend.name == "numpy":
        loglik, stamps, occupied = two_chains(data, params, max_sweeps, seeds)
    else:
        loglik, stamps, occupied = batched_chains(data, params, max_sweeps, seeds[0])
    checks = np.arange(2 * check_every, max_sweeps + 1, check_every)
    rhat = np.array([split_rhat(loglik[:, T // 2 : T]) for T in checks])
    below = rhat < threshold
    stays = np.flatnonzero(below[::-1].cumprod()[::-1])  # checks from which it stays below
    wall_per_sweep = float(stamps[:, -1].max() / max_sweeps)
    if stays.size == 0:
        return None, None, float(rhat[-1]), wall_per_sweep, occupied
    T = int(checks[stays[0]])
    return T, float(stamps[:, T - 1].max()), float(rhat[-1]), wall_per_sweep, occupied


def peak_memory(X, y, J, dtype, n_sweeps):
    """Peak traced allocation of a whole fit, its chains run one after the other in this
    process (chains in processes of their own would escape tracemalloc)."""
    tracemalloc.start()
    DPMixtureRegression(
        J, n_sweeps=n_sweeps, dtype=dtype, n_jobs=1, progress=False, random_state=0
    ).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--components", type=int, nargs="+", default=[10, 20])
    ap.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--max-sweeps", type=int, default=600)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--out", default="benchmarks/results/sampler_speed.json")
    args = ap.parse_args()
    if args.max_sweeps < 20:
        ap.error("--max-sweeps must be at least 20: R-hat is first checked there")

    X, y = mnist_logits()
    rows = []
    for J in args.components:
        for dtype in args.dtypes:
            data, params = prepare(X, y, J, dtype, args.device)
            sps, occupied = seconds_per_sweep(data, params)
            sweeps, wall, final_rhat, wall_per_sweep, last = converged_fit(
                data, params, args.max_sweeps
            )
            row = dict(
                components=J,
                dtype=dtype,
                device=args.device,
                cpu_s_per_sweep=sps,
                occupied=occupied,
                wall_s_per_sweep_2chains=wall_per_sweep,
                sweeps_to_rhat_1_05=sweeps,
                seconds_to_converge=wall,
                rhat_at_max_sweeps=final_rhat,
                occupied_per_chain_at_max_sweeps=last,
                max_sweeps=args.max_sweeps,
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    memory = None
    if not args.no_memory:
        J, dtype = args.components[0], args.dtypes[-1]
        memory = dict(
            components=J,
            dtype=dtype,
            peak_mib_400_sweeps=peak_memory(X, y, J, dtype, 400),
            peak_mib_1600_sweeps=peak_memory(X, y, J, dtype, 1600),
        )
        print(json.dumps(memory), flush=True)

    machine = f"{platform.processor() or platform.machine()}, {platform.python_version()}"
    on_cpu = args.device == "cpu"
    per_sweep = "CPU s / sweep (1 thread)" if on_cpu else f"wall s / sweep on {args.device}"
    two_chains_head = (
        "wall s / sweep, 2 chains on 2 cores" if on_cpu else "wall s / sweep, 2 chains batched"
    )
    print(f"\nn = {X.shape[0]}, p = {X.shape[1]}; {machine}")
    print(
        f"| components | dtype | {per_sweep} | x faster than R | occupied |"
        f" {two_chains_head} | sweeps to R-hat < 1.05 (stays) | s to converge |"
        " R-hat at the last sweep | occupied per chain at the last sweep |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        stop = r["sweeps_to_rhat_1_05"]
        conv = f"not within {r['max_sweeps']}" if stop is None else stop
        secs = "-" if r["seconds_to_converge"] is None else f"{r['seconds_to_converge']:.1f}"
        print(
            f"| {r['components']} | {r['dtype']} | {r['cpu_s_per_sweep']:.3f} |"
            f" {R_SECONDS_PER_SWEEP / r['cpu_s_per_sweep']:.0f} | {r['occupied']} |"
            f" {r['wall_s_per_sweep_2chains']:.3f} | {conv} | {secs} |"
            f" {r['rhat_at_max_sweeps']:.3f} |"
            f" {', '.join(map(str, r['occupied_per_chain_at_max_sweeps']))} |"
        )
    if memory:
        print(
            f"\nPeak traced memory of a fit ({memory['components']} components, {memory['dtype']}):"
            f" {memory['peak_mib_400_sweeps']:.0f} MiB at 400 sweeps,"
            f" {memory['peak_mib_1600_sweeps']:.0f} MiB at 1,600 sweeps."
        )
    print(
        f"\nR reference: {R_SECONDS_PER_SWEEP} s / sweep x {R_SWEEPS} sweeps ="
        f" {R_SECONDS_PER_SWEEP * R_SWEEPS / 3600:.1f} h, all sweeps kept in memory."
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "rows": rows, "memory": memory}, indent=2))


if __name__ == "__main__":
    main()
