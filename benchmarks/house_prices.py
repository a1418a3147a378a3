"""Explaining a regression model, head to head: a house-price model, explained by DMM-MEN
(global, guided, local) against LIME's tabular explainer (regression mode), KernelSHAP,
the exact Shapley values and random columns, on the same houses, model and removals.

The model is the zoo's gradient-boosted trees behind a one-hot encoder on modeldata's Ames
houses (Debian's r-cran-modeldata), predicting the sale price in $1,000 from 14 columns, 3
of them factors (one feature each, switched off to their most frequent level; the numbers
to their training mean). Fidelity is the deletion test (``fidelity.deletion``): how far the
predicted price falls once a method's top k columns are switched off (higher = more
faithful; each method ranks first what raises the price most). The reference is the exact
Shapley values of the price in that same game, by querying all 2^P coalitions of the P
columns a house has off their baseline (``exact_shapley``).

Stability: the share of each house's top 3 columns that a run with the next seed (a
global fit of its own for DMM-MEN) finds too, on the first --n-stability houses.

    python benchmarks/house_prices.py [--n-test 200] [--n-local 50] [--n-stability 50]
        [--seed 0]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from credit_scoring import agreement, most_often_first
from scrutiny import Explainer, ModelAdapter, fidelity
from scrutiny.baselines import exact_shapley, kernel_shap, lime_tabular, random_explanation
from scrutiny.datasets import load_ames
from scrutiny.zoo import house_price_model

KS = (1, 2, 3, 5)
EXACT = "exact Shapley values (2^P queries)"
AGREEMENT_KS = (1, 3, 5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=200, help="houses explained (first)")
    parser.add_argument("--n-local", type=int, default=50, help="of them, in local mode")
    parser.add_argument("--n-stability", type=int, default=50, help="explained again")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model, facts = house_price_model()
    X_fit, _ = load_ames("train")
    X_test, _ = load_ames("test")
    adapter = ModelAdapter(model, outputs="values", batch_size=4096)
    explainers = {}

    def fitted(seed):  # one global fit per seed
        if seed not in explainers:
            explainers[seed] = Explainer(
                adapter, X_fit, outputs="values", random_state=seed, progress=False
            ).fit()
        return explainers[seed]

    t0 = time.perf_counter()
    explainer = fitted(args.seed)
    fit_s, fit_q = time.perf_counter() - t0, explainer.fit_queries_
    X = explainer.check_inputs(X_test[: args.n_test])  # factors as their levels' codes
    rep = explainer.representation
    print(
        f"{facts['model']}: test R^2 {facts['test_r2']:.3f}, mean absolute error "
        f"${facts['test_mae']:.1f}k; {len(X_fit)} training houses (the global fit: "
        f"{fit_s:.1f} s, {fit_q} queries), {len(X)} explained"
    )
    runs = {  # (seed, rows) -> Explanation
        "DMM-MEN global (1 query)": lambda seed, Z: fitted(seed).explain(Z),
        "DMM-MEN guided (100 queries)": lambda seed, Z: fitted(seed).explain(Z, mode="guided"),
        "DMM-MEN guided (1,000 queries)": lambda seed, Z: fitted(seed).explain(
            Z, mode="guided", n_samples=1000
        ),
        f"DMM-MEN local (1,000 queries; first {args.n_local})": lambda seed, Z: Explainer(
            adapter, X_fit, mode="local", random_state=seed, progress=False
        ).explain(Z[: args.n_local]),
        "LIME (tabular, regression, 1,000 samples)": lambda seed, Z: lime_tabular(
            adapter, Z, X_fit, num_samples=1000, random_state=seed, progress=False
        ),
        "LIME (5,000 samples: its default)": lambda seed, Z: lime_tabular(
            adapter, Z, X_fit, num_samples=5000, random_state=seed, progress=False
        ),
        "KernelSHAP": lambda seed, Z: kernel_shap(
            adapter, Z, representation=rep, random_state=seed, progress=False
        ),
        "KernelSHAP l1_reg=False": lambda seed, Z: kernel_shap(
            adapter, Z, representation=rep, l1_reg=False, random_state=seed, progress=False
        ),
        EXACT: lambda seed, Z: exact_shapley(adapter, Z, rep),
    }
    explained, cost, stable = {}, {}, {}
    for name, run in runs.items():
        rows0 = adapter.n_rows
        explained[name] = run(args.seed, X)
        m = len(explained[name])
        # each method's own seconds: lime_tabular's leave out the LimeTabularExplainer it
        # builds per row (a quarter of a stopwatch's at 1,000 samples), the global fit's
        # are added below
        cost[name] = (explained[name].meta["seconds"] / m, (adapter.n_rows - rows0) / m)
        print(f"  {name}: {cost[name][0]:.3f} s an explanation", flush=True)
        again = run(args.seed + 1, X[: args.n_stability])  # another seed, the first houses
        stable[name] = fidelity.stability(explained[name][: len(again)], again, k=3)
    exact = explained[EXACT]
    explained["random"] = random_explanation(exact, args.seed)
    cost["random"] = (0.0, 0.0)
    stable["random"] = fidelity.stability(
        explained["random"][: args.n_stability],
        random_explanation(exact[: args.n_stability], args.seed + 1),
        k=3,
    )

    print(f"\n{platform.machine()}, Python {platform.python_version()}; k counts columns")
    drops = {name: fidelity.deletion(adapter, exp, KS) for name, exp in explained.items()}
    print(
        "\n| method | "
        + " | ".join(f"price drop, top {k} off ($1,000)" for k in KS)
        + " | top 3 off, less the exact values' (paired 95% CI) | "
        + " | ".join(f"share of exact top {k}" for k in AGREEMENT_KS)
        + f" | top-3 stability (seeds {args.seed}, {args.seed + 1}; first {args.n_stability})"
        + " | s / expl | queries / expl | s for 1,000 with the fit |"
    )
    print("|---" * (len(KS) + len(AGREEMENT_KS) + 6) + "|")
    three = KS.index(3)
    for name, exp in explained.items():
        drop, m = drops[name], len(exp)
        gap = drop[three] - drops[EXACT][three, :m]
        half = 1.96 * gap.std(ddof=1) / np.sqrt(m)
        share = [agreement(exp, exact[:m], k) for k in AGREEMENT_KS]
        seconds, queries = cost[name]
        total = 1000 * seconds + (fit_s if name.startswith("DMM-MEN g") else 0.0)
        print(
            f"| {name} | "
            + " | ".join(f"{d:.1f}" for d in drop.mean(axis=1))
            + f" | {gap.mean():+.1f} +- {half:.1f} | "
            + " | ".join(f"{s:.2f}" for s in share)
            + f" | {stable[name]:.2f} | {seconds:.3f} | {queries:.0f} | {total:.0f} |"
        )
    n = args.n_local
    print(f"\nthe first {n} houses, which local mode explained: price drop, top k off ($1,000)\n")
    print("| method | " + " | ".join(f"top {k}" for k in KS) + " |")
    print("|---" * (len(KS) + 1) + "|")
    for name, drop in drops.items():
        print(f"| {name} | " + " | ".join(f"{d:.1f}" for d in drop[:, :n].mean(axis=1)) + " |")
    print(f"\nthe exact Shapley values' top column: {most_often_first(exact, X_fit.columns)}")


if __name__ == "__main__":
    main()
