"""Where a DMM-MEN sweep's time goes, move by move, on real MNIST pixels.

Each move of ``kernel.step`` is timed with the device synchronised before and after (so
the phases add up to the sweep, at the cost of the overlap a GPU would otherwise get), over
--sweeps sweeps after as many warm-up sweeps. y: the logits of a multinomial logistic
regression (as in ``sampler_speed.py``), one class per response (3, 0, 1, ...); --chains
chains run as one kernel, shared evenly among --responses classes, as the explainer's global
fits run them (5 classes x 2 chains: ``--chains 10 --responses 5 --rows 4000``).

    python benchmarks/sweep_phases.py [--device cuda] [--components 10 20] [--dtypes float32]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections import defaultdict

import numpy as np

from scrutiny.explainer import class_logit
from scrutiny.surrogate import kernel
from scrutiny.surrogate.backends import make_backend

MOVES = [
    "_draw_labels",
    "_draw_censored",
    "_draw_weights",
    "_prior_precisions",
    "_factorize",
    "_scale_penalties",
    "_draw_noise_and_coef",
    "_draw_nets_and_penalties",
    "_draw_scales",
]


def timed_moves(sync):
    """Wrap the kernel's moves (and the statistics' update) to add their seconds to a dict;
    a move called inside another counts in the outer one only."""
    spent, inside = defaultdict(float), []

    def wrap(name, f):
        def g(*args, **kwargs):
            if inside:
                return f(*args, **kwargs)
            inside.append(name)
            sync()
            t = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                sync()
                spent[name] += time.perf_counter() - t
                inside.pop()

        return g

    for name in MOVES:
        setattr(kernel, name, wrap(name, getattr(kernel, name)))
    kernel.ComponentStats.update = wrap("statistics update", kernel.ComponentStats.update)
    return spent


def responses(n_rows, n_responses):
    """(R, n): the standardised logits of classes 3, 0, 1, 2, ... of the first n digits."""
    from sklearn.linear_model import LogisticRegression

    from scrutiny.datasets import load_mnist, split

    X, labels = load_mnist()
    Xtr, ltr, _, _ = split(X, labels, seed=0)
    log_p = LogisticRegression(C=0.1, max_iter=300).fit(Xtr, ltr).predict_log_proba(X[:n_rows])
    classes = [3] + [c for c in range(10) if c != 3]
    Y = np.stack([class_logit(log_p, c) for c in classes[:n_responses]])
    return X[:n_rows], (Y - Y.mean(1, keepdims=True)) / Y.std(1, keepdims=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--components", type=int, nargs="+", default=[10])
    ap.add_argument("--dtypes", nargs="+", default=["float32"])
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--responses", type=int, default=1)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--sweeps", type=int, default=30)
    args = ap.parse_args()
    if args.chains % args.responses:
        ap.error("--chains must be a multiple of --responses")
    probe = make_backend(args.device)
    sync = probe.torch.cuda.synchronize if str(probe.device).startswith("cuda") else lambda: None
    spent = timed_moves(sync)
    X, Y = responses(args.rows, args.responses)
    print(
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()};"
        f" n = {len(X)}, p = {X.shape[1]}, {args.chains} chains on {args.responses} response(s),"
        f" {args.device}"
    )
    for J in args.components:
        for dtype in args.dtypes:
            data = kernel.GibbsData.build(X, Y, make_backend(args.device, dtype))
            params = kernel.SamplerParams(priors=kernel.Priors(n_components=J))
            rng = np.random.default_rng(0)
            state = kernel.init(rng, data, params, n_chains=args.chains)
            for _ in range(args.sweeps):
                state, info = kernel.step(rng, state, data)
            spent.clear()
            sync()
            start = time.perf_counter()
            for _ in range(args.sweeps):
                state, info = kernel.step(rng, state, data)
            sync()
            per_sweep = (time.perf_counter() - start) / args.sweeps
            occupied = int((info.counts > 0).sum())
            print(
                f"\nJ = {J}, {dtype}: {1e3 * per_sweep:.1f} ms a sweep of all chains;"
                f" {occupied} of {J * args.chains} components occupied, {info.n_woodbury}"
                " factored from their rows"
            )
            for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
                print(f"  {name:26s} {1e3 * seconds / args.sweeps:8.2f} ms")


if __name__ == "__main__":
    main()
