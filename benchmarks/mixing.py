"""Where the DMM-MEN sampler's mixing time goes, on the data of sampler_speed.py.

1. With the partition held fixed (a k-means++ partition into 5 components), the effective
   sample size of the log-likelihood over the last 200 of 400 sweeps, 2 chains, for fixed
   ridge, fixed elastic-net, one sampled net and three sampled nets (the default).
2. The full sampler (10 components, partition sampled): sweeps and seconds until the split
   R-hat of the log-likelihood stays below 1.05, for three sampled nets, one, and fixed
   penalties.
Sampled penalties are run with and without the ray move (``SamplerParams.ray_moves``).

    python benchmarks/mixing.py [--dtype float32] [--max-sweeps 1500] [--frozen-sweeps 400]
"""

from __future__ import annotations

import argparse

import numpy as np

from sampler_speed import converged_fit, mnist_logits, prepare, two_chains
from scrutiny.surrogate import kernel
from scrutiny.surrogate.diagnostics import effective_sample_size, split_rhat

NO_RAY = dict(ray_moves=False)
PENALTIES = {  # name: (Priors keywords, SamplerParams keywords)
    "fixed ridge (lambda1 = 0, lambda2 = 3)": (dict(n_nets=1, lambda1=0.0, lambda2=3.0), {}),
    "fixed elastic net (lambda1 = 3, lambda2 = 5)": (dict(n_nets=1, lambda1=3.0, lambda2=5.0), {}),
    "fixed elastic net (lambda1 = 0.3, lambda2 = 3)": (
        dict(n_nets=1, lambda1=0.3, lambda2=3.0),
        {},
    ),
    "one net, sampled, without the ray move": (dict(n_nets=1), NO_RAY),
    "one net, sampled": (dict(n_nets=1), {}),
    "three nets, sampled, without the ray move": ({}, NO_RAY),
    "three nets, sampled (default)": ({}, {}),
}


def frozen_partition_ess(data, labels, priors_kw, params_kw, n_sweeps=400):
    params = kernel.SamplerParams(
        kernel.Priors(n_components=5, **priors_kw), init=labels, fixed_labels=True, **params_kw
    )
    loglik, _, _ = two_chains(data, params, n_sweeps)
    kept = loglik[:, n_sweeps // 2 :]
    return float(effective_sample_size(kept)), float(split_rhat(kept)), kept.size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--max-sweeps", type=int, default=1500)
    ap.add_argument(
        "--frozen-sweeps", type=int, default=400, help="sweeps of part 1 (the last half kept)"
    )
    args = ap.parse_args()
    if args.max_sweeps < 20:
        ap.error("--max-sweeps must be at least 20: R-hat is first checked there")
    if args.frozen_sweeps < 8:
        ap.error("--frozen-sweeps must be at least 8: split R-hat needs 4 kept draws a chain")
    X, y = mnist_logits()
    data, _ = prepare(X, y, 10, args.dtype, "cpu")  # the data do not depend on the priors
    labels = kernel._kmeans_labels(np.random.default_rng(5), data, data.y_np[0], 5)
    print("| penalties, partition fixed | ESS of the log-likelihood | of draws | split R-hat |")
    print("|---|---|---|---|")
    for name, (priors_kw, params_kw) in PENALTIES.items():
        ess, rhat, n = frozen_partition_ess(data, labels, priors_kw, params_kw, args.frozen_sweeps)
        print(f"| {name} | {ess:.0f} | {n} | {rhat:.3f} |", flush=True)
    print(
        "\n| penalties, partition sampled (10 components) | sweeps until R-hat stays < 1.05 |"
        " seconds, 2 chains on 2 cores | R-hat at the last sweep |"
    )
    print("|---|---|---|---|")
    for name in (
        "three nets, sampled (default)",
        "three nets, sampled, without the ray move",
        "one net, sampled",
        "fixed elastic net (lambda1 = 0.3, lambda2 = 3)",
    ):
        priors_kw, params_kw = PENALTIES[name]
        params = kernel.SamplerParams(kernel.Priors(n_components=10, **priors_kw), **params_kw)
        sweeps, secs, final, _, _ = converged_fit(data, params, args.max_sweeps)
        shown = f"not within {args.max_sweeps}" if sweeps is None else str(sweeps)
        print(
            f"| {name} | {shown} | {'-' if secs is None else f'{secs:.0f}'} | {final:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
