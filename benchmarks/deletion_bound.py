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
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from scrutiny.benchmark import load_task
from scrutiny.fidelity import bootstrap_interval, pcr
from scrutiny.models import ModelAdapter
from scrutiny_attacks import greedy

K = (5, 10, 20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=["mnist", "fashion"])
    ap.add_argument("--n-test", type=int, default=200)
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


if __name__ == "__main__":
    main()
