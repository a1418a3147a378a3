"""What deduction PCR is reachable at all: the greedy attack of scrutiny_attacks.py on the
inputs of the head-to-head (`benchmarks/fidelity.py`: the first 200 test inputs, each
explained as the class the model predicts), set to 0 pixel by pixel.

    python benchmarks/deletion_bound.py mnist
    python benchmarks/deletion_bound.py fashion

At each step the attack queries the model on every pixel still present and switches off
the one that lowers the class's margin most; an input counts as kept at k when k steps do
not change the model's decision. No explanation is involved: the PCR it prints at each k
is a reference for issue 4's deduction targets (a ranking of k features that any
explainer could give), bought with about (present pixels) x k queries per input.

    python benchmarks/deletion_bound.py fashion --beam 5

also runs a beam search (the B best deletion sets kept at every step, B times the greedy
attack's queries) on the inputs that the greedy attack leaves standing at the largest k,
and prints the PCR at that k when each input counts as kept only if both searches fail.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from scrutiny.benchmark import load_task
from scrutiny.fidelity import bootstrap_interval, pcr
from scrutiny.models import ModelAdapter
from scrutiny_attacks import greedy, margin

K = (5, 10, 20)


def beam(adapter, x, c, k, width):
    """Steps (<= k) a beam search needs to flip the decision by setting elements of x to 0,
    or None. Each step extends each of the ``width`` sets kept by every single element
    still present and keeps the ``width`` distinct sets of lowest margin; width 1 is the
    greedy attack."""
    beams = x.reshape(1, -1)
    for step in range(1, k + 1):
        rows, cols = np.nonzero(beams)
        if rows.size == 0:
            return None
        batch = beams[rows]
        batch[np.arange(rows.size), cols] = 0.0
        m = margin(adapter.log_proba(batch.reshape(-1, *x.shape)), c)
        if m.min() < 0:
            return step
        _, first = np.unique(batch != 0, axis=0, return_index=True)  # distinct sets
        beams = batch[first[np.argsort(m[first], kind="stable")][:width]]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=["mnist", "fashion"])
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--beam", type=int, default=0, help="width of a beam search, 0: none")
    args = ap.parse_args()
    model, facts, _, X_test, _ = load_task(args.task, 0, progress=False)
    adapter = ModelAdapter(model, outputs="logits", batch_size=2048)
    X = X_test[: args.n_test]
    predicted = adapter.predict(X)
    t0, rows0 = time.perf_counter(), adapter.n_rows
    pairs = zip(X, predicted, strict=True)
    steps = np.array([greedy(adapter, x, 0 * x, c, max(K), True) or np.inf for x, c in pairs])
    kept = steps[None, :] > np.array(K)[:, None]  # (len(K), n): still the class after k
    lo, hi = bootstrap_interval(kept)
    seconds, queries = time.perf_counter() - t0, adapter.n_rows - rows0
    print(f"{args.task}: {facts['model']}; {platform.processor() or platform.machine()}")
    print(f"greedy deletion on the first {len(X)} test inputs, the predicted class each")
    print("| k | deduction PCR | 95% interval |\n|---|---|---|")
    for k, p, a, b in zip(K, pcr(kept), lo, hi, strict=True):
        print(f"| {k} | {p:.3f} | [{a:.3f}, {b:.3f}] |")
    print(f"{seconds:.0f} s, {queries / len(X):,.0f} queries per input")
    if args.beam:
        t0, rows0, k = time.perf_counter(), adapter.n_rows, max(K)
        standing = np.flatnonzero(~np.isfinite(steps))
        found = [beam(adapter, X[i], predicted[i], k, args.beam) for i in standing]
        kept = np.isin(np.arange(len(X)), standing[[f is None for f in found]])[None]
        (lo,), (hi,) = bootstrap_interval(kept)
        print(
            f"beam search of width {args.beam} on the {standing.size} inputs kept at k = {k}: "
            f"{sum(f is not None for f in found)} flipped; deduction PCR at k = {k} "
            f"{pcr(kept)[0]:.3f} [{lo:.3f}, {hi:.3f}]; {time.perf_counter() - t0:.0f} s, "
            f"{(adapter.n_rows - rows0) / max(1, standing.size):,.0f} queries per input searched"
        )


if __name__ == "__main__":
    main()
