"""Adversarial and pathological samples from explanations, every class, on the reference
models, beside random features, and beside a query-hungry greedy attack that shows what is
reachable at all with k changed pixels.

    python benchmarks/scrutiny_attacks.py mnist
    python benchmarks/scrutiny_attacks.py fashion --oracle 10

The greedy attack knows nothing of explanations: at each step it queries the model on every
remaining candidate change (one pixel set to 0, or one donor pixel copied into the host)
and keeps the one that lowers the class's margin most (raises it, for pathological).
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from scrutiny.benchmark import load_task
from scrutiny.explainer import Explainer
from scrutiny.models import ModelAdapter
from scrutiny.scrutinize import ADVERSARIAL_K, PATHOLOGICAL_K, scrutinize


def margin(log_p, c):
    """log p_c minus the largest other log-probability: negative = not called c."""
    other = np.delete(log_p, c, axis=1).max(axis=1)
    return log_p[:, c] - other


def greedy(adapter, start, source, c, k, lower_is_goal):
    """Steps (<= k) a greedy attack needs to flip the decision, or None: each step sets one
    element of ``start`` to ``source``'s value, the one that moves the margin most."""
    x = start.reshape(-1).copy()
    src = source.reshape(-1)
    for step in range(1, k + 1):
        cand = np.flatnonzero(x != src)
        if cand.size == 0:
            return None
        batch = np.repeat(x[None], cand.size, axis=0)
        batch[np.arange(cand.size), cand] = src[cand]
        m = margin(adapter.log_proba(batch.reshape(-1, *start.shape)), c)
        best = np.argmin(m) if lower_is_goal else np.argmax(m)
        x[cand[best]] = src[cand[best]]
        if (m[best] < 0) if lower_is_goal else (m[best] > 0):
            return step
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=["mnist", "fashion"])
    ap.add_argument("--n-fit", type=int, default=4000)
    ap.add_argument("--sweeps", type=int, default=300)
    ap.add_argument("--superpixel", type=int, default=None)
    ap.add_argument("--mode", default="guided", choices=["global", "guided", "local"])
    ap.add_argument("--samples", type=int, default=None)
    ap.add_argument("--max-inputs", type=int, default=100, help="class inputs per class")
    ap.add_argument("--oracle", type=int, default=0, help="inputs per class for greedy")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    model, facts, X_fit, X_test, y_test = load_task(args.task, args.seed, progress=False)
    adapter = ModelAdapter(model, outputs="logits", batch_size=1024)
    X, y = X_test[:1000], y_test[:1000]
    t0 = time.perf_counter()
    ex = Explainer(
        adapter,
        X_fit[: args.n_fit],
        mode="local" if args.mode == "local" else "global",
        superpixel=args.superpixel,
        surrogate={"n_components": 10, "n_sweeps": args.sweeps},
        n_samples=args.samples if args.mode == "local" else None,
        progress=False,
        random_state=args.seed,
        cache_fits=True,
    )
    if args.mode != "local":
        ex.fit()
    print(
        f"{args.task}: {facts['model']}, test accuracy {facts['test_accuracy']:.3f}; "
        f"{platform.processor() or platform.machine()}; fit {time.perf_counter() - t0:.0f} s "
        f"({len(ex.cached_fits_)} classes from cache)"
    )
    ka, kp = ADVERSARIAL_K, PATHOLOGICAL_K
    head = (
        f"| class | inputs | adversarial k={ka} | random | pathological k={kp} | random "
        f"| noise k={kp} | random | seconds |"
    )
    if args.oracle:
        head += f" greedy adversarial k={ka} | greedy pathological k={kp} |"
    print(head)
    print("|---" * (head.count("|") - 1) + "|")  # one cell per column of the head
    rows = []
    n_classes = adapter.n_classes or adapter.log_proba(X[:1]).shape[1]  # local: not queried yet
    for c in range(n_classes):
        s = scrutinize(
            ex, X, c, labels=y, mode=args.mode, n_samples=args.samples,
            max_inputs=args.max_inputs, random_state=args.seed,
        )  # fmt: skip
        a, o, n = s.adversarial, s.pathological["other classes"], s.pathological["noise"]
        row = [
            a.rate[a.at(ka)], a.random_rate[a.at(ka)],
            o.rate[o.at(kp)], o.random_rate[o.at(kp)],
            n.rate[n.at(kp)], n.random_rate[n.at(kp)],
        ]  # fmt: skip
        cells = [f"{v:.2f}" for v in row] + [f"{s.meta['seconds']:.1f}"]
        if args.oracle:
            m = min(args.oracle, len(s.index))
            adv = [
                greedy(adapter, a.originals[i], 0 * a.originals[i], c, ka, True) for i in range(m)
            ]
            pat = [
                greedy(adapter, o.originals[i], s.explanation.inputs[i], c, kp, False)
                for i in range(m)
            ]
            row += [np.mean([v is not None for v in adv]), np.mean([v is not None for v in pat])]
            cells += [f"{row[-2]:.2f}", f"{row[-1]:.2f}"]
        rows.append(row)
        print(f"| {c} | {len(s.index)} | " + " | ".join(cells) + " |", flush=True)
    mean = np.mean(rows, axis=0)
    cells = [f"{v:.2f}" for v in mean[:6]] + [""] + [f"{v:.2f}" for v in mean[6:]]
    print("| mean | | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
