"""The explainer on the reference MNIST MLP: fidelity (feature deduction) and cost.

For the global mode at the demo's settings, for the same surrogates fitted to logits
clipped at +-16 instead of censored there (the ablation of the Tobit likelihood), and for
the local mode: deduction PCR at each k beside random features, seconds and model queries
per explanation, and the fit's cost. ``--device cuda`` fits the global surrogates on a GPU
(torch backend); ``--global-only`` skips the ablation and the local mode.

    python benchmarks/explainer_mnist.py [--n-test 200] [--n-local 50] [--n-fit 4000]
        [--superpixel 2] [--device cpu] [--global-only]
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from scrutiny import DPMixtureRegression, Explainer
from scrutiny.baselines import random_explanation
from scrutiny.datasets import load_mnist, split
from scrutiny.explainer import class_logit
from scrutiny.fidelity import K_GRID, deduction, pcr
from scrutiny.zoo import mnist_mlp


def global_explainer(model, X_fit, args, seed=0):
    return Explainer(
        model,
        X_fit,
        outputs="logits",
        superpixel=args.superpixel,
        surrogate={
            "n_components": args.components,
            "n_sweeps": args.sweeps,
            "device": args.device,
        },
        progress=False,
        random_state=seed,
    )


def clipped_surrogates(explainer, limit):
    """Each class's surrogate fitted to logits clipped at +-limit, treated as observed."""
    log_p = explainer._fit_outputs()  # kept: explaining then queries X_fit no more
    Z = explainer.representation.features(explainer._X_fit)
    for c in range(log_p.shape[1]):
        y = np.clip(class_logit(log_p, c), -limit, limit)
        settings = explainer._settings((0, c))
        explainer.surrogates_[c] = DPMixtureRegression(**settings).fit(Z, y)


def row(name, explainer, exp, seconds, per_expl_queries):
    d = pcr(deduction(explainer.model, exp, K_GRID))
    cells = " | ".join(f"{v:.3f}" for v in d)
    return f"| {name} | {cells} | {seconds:.3f} | {per_expl_queries:.0f} |"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n-test", type=int, default=200)
    ap.add_argument("--n-local", type=int, default=50)
    ap.add_argument("--n-fit", type=int, default=4000)
    ap.add_argument("--superpixel", type=int, default=2)
    ap.add_argument("--components", type=int, default=10)
    ap.add_argument("--sweeps", type=int, default=300)
    ap.add_argument("--device", default="cpu", help="the surrogates' device: cpu, cuda, torch")
    ap.add_argument("--global-only", action="store_true", help="no ablation, no local mode")
    args = ap.parse_args()
    model, facts = mnist_mlp(progress=False)
    X, labels = load_mnist()
    Xtr, _, Xte, _ = split(X, labels)
    Xtr, Xte = Xtr.reshape(-1, 28, 28), Xte.reshape(-1, 28, 28)
    X_fit, X_test = Xtr[: args.n_fit], Xte[: args.n_test]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}")
    print(f"model test accuracy {facts['test_accuracy']:.3f}; {args.n_test} test digits")
    print("| method | " + " | ".join(f"k={k}" for k in K_GRID) + " | s / expl | queries / expl |")
    print("|---" * (len(K_GRID) + 3) + "|")

    ex = global_explainer(model, X_fit, args)
    t0 = time.perf_counter()
    ex.fit()
    fit_s = time.perf_counter() - t0
    exp = ex.explain(X_test)
    per = (fit_s + exp.meta["seconds"]) / len(exp)
    print(row("global, censored logits", ex, exp, per, (args.n_fit + len(exp)) / len(exp)))
    print(row("random features", ex, random_explanation(exp, 0), 0.0, 0))
    if not args.global_only:
        ablation_and_local(model, X_fit, X_test, args)
    print(
        f"global fit ({args.device}): {fit_s:.1f} s for 10 classes, {args.n_fit} model queries;"
        " R-hat of the log-likelihood per class: "
        + ", ".join(
            f"{ex.surrogates_[c].diagnostics_['log_likelihood_rhat']:.2f}"
            for c in sorted(ex.surrogates_)
        )
    )


def ablation_and_local(model, X_fit, X_test, args):
    """The clipped-logit ablation of the global fit and the local mode, one row each."""
    clipped = global_explainer(model, X_fit, args)
    t0 = time.perf_counter()
    clipped_surrogates(clipped, clipped.logit_limit)  # its own fit, class after class
    clip_s = time.perf_counter() - t0
    exp_c = clipped.explain(X_test)
    print(
        row(
            "global, logits clipped at +-16 (ablation)",
            clipped,
            exp_c,
            (clip_s + exp_c.meta["seconds"]) / len(exp_c),
            1 + args.n_fit / len(exp_c),
        )
    )

    local = Explainer(
        model, X_fit[:10], mode="local", outputs="logits", progress=False, random_state=0
    )
    exp_l = local.explain(X_test[: args.n_local])
    print(
        row(
            f"local, 1,000 perturbations ({args.n_local} digits)",
            local,
            exp_l,
            exp_l.meta["seconds"] / len(exp_l),
            exp_l.meta["model_queries"] / len(exp_l),
        )
    )


if __name__ == "__main__":
    main()
