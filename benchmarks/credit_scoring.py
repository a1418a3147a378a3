"""Explaining a credit-scoring model, head to head: DMM-MEN (global, guided, local) against
LIME's tabular explainer, KernelSHAP, the exact Shapley values and random columns, on the
same applicants, model and removals.

The model is the zoo's gradient-boosted trees on modeldata's credit data (Debian's
r-cran-modeldata). A column is switched off by setting it to its training mean, for every
method and every fidelity test; KernelSHAP and TreeSHAP take that mean as their one
background row, so they estimate (KernelSHAP) or compute exactly (TreeSHAP) the Shapley
values of the very game the tests play. LIME draws its perturbations from the training
data, as its users run it. k counts columns (25, factors one-hot).

With ``--factors`` the model is the same trees behind a one-hot encoder, in a pipeline that
takes the 4 factors by name (13 columns): a factor is one feature, switched off to its most
frequent level (a row the model can meet, where a one-hot column set to its mean leaves an
applicant with no home at all), LIME samples it as a category, and the reference is the
exact Shapley values of the logit by querying all 2^P coalitions of the P columns off their
baseline (``exact_shapley``; P <= 13).

    python benchmarks/credit_scoring.py [--n-test 200] [--samples 1000] [--seed 0] [--factors]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from scrutiny import Explainer, ModelAdapter
from scrutiny.baselines import (
    exact_shapley,
    kernel_shap,
    lime_tabular,
    random_explanation,
    tree_shap,
)
from scrutiny.benchmark import _score, local_head_to_head, local_runs, tables
from scrutiny.categories import Categories
from scrutiny.datasets import load_credit
from scrutiny.representations import TabularRepresentation
from scrutiny.zoo import credit_model

KS = [1, 2, 3, 5, 8]
AGREEMENT_KS = (1, 3, 5)


def agreement(exp, exact, k):
    """Mean share of the exact top k (its columns with a positive value among the k
    largest: a column no tree path uses has exactly 0) that ``exp``'s top k hold."""
    shares = []
    for ours, theirs, values in zip(exp.top(k), exact.top(k), exact.values, strict=True):
        truth = theirs[values[theirs] > 0]
        if truth.size:
            shares.append(np.intersect1d(ours, truth).size / truth.size)
    return float(np.mean(shares))


def most_often_first(exact, names, n=5):
    """The ``n`` columns the exact values rank first most often, each with its count."""
    counts = np.bincount(exact.top(1)[:, 0], minlength=len(names))
    return ", ".join(f"{names[j]} {counts[j]}" for j in np.argsort(-counts)[:n])


def global_runs(adapter, X_fit, X):
    """Global and guided mode as runs of ``local_head_to_head``, one global fit per seed
    (its seconds and queries kept in ``fits``, counted into the rows afterwards)."""
    explainers, fits = {}, {}

    def fitted(seed):
        if seed not in explainers:
            t0 = time.perf_counter()
            explainers[seed] = Explainer(adapter, X_fit, random_state=seed, progress=False).fit()
            fits[seed] = (time.perf_counter() - t0, explainers[seed].fit_queries_)
        return explainers[seed]

    def run(mode, n_samples=None):
        return lambda seed, m: fitted(seed).explain(X[:m], mode=mode, n_samples=n_samples)

    runs = {
        "DMM-MEN global": run("global"),
        "DMM-MEN guided (100 queries)": run("guided", 100),
        "DMM-MEN guided (1,000 queries)": run("guided", 1000),
    }
    return runs, fits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=200, help="applicants explained (first)")
    parser.add_argument("--n-stability", type=int, default=50, help="explained twice")
    parser.add_argument("--samples", type=int, default=1000, help="perturbations (local, LIME)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--factors", action="store_true", help="factors as one feature each")
    args = parser.parse_args()

    clf, facts = credit_model(args.factors)
    frame, _ = load_credit("train", factors=args.factors)
    X_test, _ = load_credit("test", factors=args.factors)
    adapter = ModelAdapter(clf, batch_size=1024)
    adapter.input_names = list(frame.columns)  # rows of arrays, in the fit data's order
    cats = adapter.categories = Categories.from_frame(frame)  # None without factors
    codes = (lambda f: f) if cats is None else cats.encode
    X_fit, X = codes(frame).to_numpy(), codes(X_test[: args.n_test]).to_numpy()
    donors = codes(X_test[args.n_test :]).to_numpy()
    rep = TabularRepresentation.from_data(  # baseline: the training mean, or modal level
        X_fit, None, *((cats.columns, [np.arange(n) for n in cats.n_levels]) if cats else ())
    )
    mean = rep.baseline
    print(
        f"{facts['model']}: test accuracy {facts['test_accuracy']:.3f} (a majority vote "
        f"0.742); {len(X_fit)} training rows, {len(X)} explained, {len(donors)} donors"
    )

    glob, fits = global_runs(adapter, frame, X)
    runs = {
        **glob,
        **local_runs(adapter, X, rep, args.samples),
        "LIME (tabular)": lambda seed, m: lime_tabular(
            adapter, X[:m], X_fit, num_samples=args.samples, random_state=seed, progress=False
        ),
        "LIME (tabular, 5,000 samples: its default)": lambda seed, m: lime_tabular(
            adapter, X[:m], X_fit, num_samples=5000, random_state=seed, progress=False
        ),
        "KernelSHAP": lambda seed, m: kernel_shap(
            adapter, X[:m], representation=rep, random_state=seed, progress=False
        ),
        "KernelSHAP l1_reg=False": lambda seed, m: kernel_shap(
            adapter, X[:m], representation=rep, l1_reg=False, random_state=seed, progress=False
        ),
    }
    if args.factors:  # no TreeSHAP through the encoder: every coalition, queried
        runs["exact Shapley values (2^P queries)"] = lambda seed, m: exact_shapley(
            adapter, X[:m], rep
        )
        exact = exact_shapley(adapter, X, rep)
    else:
        runs["exact Shapley values (TreeSHAP)"] = lambda seed, m: tree_shap(clf, X_test[:m], mean)
        exact = tree_shap(clf, X_test[: args.n_test], mean)
    explained = {}

    def keep(name, run):
        def kept(seed, m):
            exp = run(seed, m)
            if seed == args.seed:
                explained[name] = exp
            return exp

        return kept

    rows, first = local_head_to_head(
        {name: keep(name, run) for name, run in runs.items()},
        adapter,
        len(X),
        donors,
        KS,
        args.seed,
        args.n_stability,
        5,
        args.methods,
    )
    for name, (seconds, queries) in ((n, fits[args.seed]) for n in glob if n in rows):
        row = rows[name]
        row.update(
            fit_seconds=seconds,
            fit_queries=queries,
            seconds_for_1000=seconds + row["seconds_for_1000"],
            queries_for_1000=queries + row["queries_for_1000"],
        )
    rows["random"] = {
        **_score(adapter, random_explanation(first, args.seed), donors, KS, args.seed),
        "seconds_per_explanation": 0.0,
        "queries_per_explanation": 0,
    }
    print(f"\n{platform.machine()}, Python {platform.python_version()}; k counts columns")
    print(tables(rows, KS).replace("top-20 stability", "top-5 stability"))
    print("\nagreement with the exact Shapley values: share of their top k each method has\n")
    print("| method | " + " | ".join(f"top {k}" for k in AGREEMENT_KS) + " |")
    print("|---" * (len(AGREEMENT_KS) + 1) + "|")
    random = random_explanation(exact, args.seed)
    for name, exp in [*explained.items(), ("random", random)]:
        cells = [f"{agreement(exp, exact, k):.2f}" for k in AGREEMENT_KS]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print(f"\nthe exact Shapley values' top column: {most_often_first(exact, frame.columns)}")


if __name__ == "__main__":
    main()
