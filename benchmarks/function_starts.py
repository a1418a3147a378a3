"""Explaining a function-start finder, head to head (LEMNA's security case): DMM-MEN in
local mode against LEMNA, LIME, KernelSHAP and random bytes, on the same inputs, model and
removals.

The model is the zoo's bidirectional RNN (LEMNA's architecture) trained on Debian's
coreutils built here at -O2; the inputs are function starts it finds in the other programs
of the corpus (grep, sed, hello), each a 200-byte sequence with the byte in
question in the middle. Features are the 41 bytes around it (LEMNA's window); switching one
off sets it to "no byte", as the authors' code does, for every method and every fidelity
test. Augmentation copies bytes into sequences whose middle byte is no start. k counts bytes.

    benchmarks/build_binaries.sh                      # once: the corpus (root, ~6 minutes)
    SCRUTINY_BINARIES=~/.cache/scrutiny/binaries/O2 python benchmarks/function_starts.py
"""

from __future__ import annotations

import argparse
import platform
from dataclasses import replace

import numpy as np

from scrutiny import ModelAdapter
from scrutiny.baselines import kernel_shap, lemna, lime_tokens, random_explanation
from scrutiny.benchmark import _score, local_head_to_head, local_runs, tables
from scrutiny.datasets.binaries import centred, load_programs
from scrutiny.representations import TokenRepresentation
from scrutiny.zoo.function_start_rnn import LENGTH, at_position, function_start_rnn

KS = [1, 2, 3, 5, 10, 15, 25, 35]
HALF_WINDOW = 20  # LEMNA's 41 bytes


def random_bytes(explanation, rep, seed):
    """``random_explanation`` over each input's window bytes (it ranks only those present)."""
    r = random_explanation(explanation, seed)
    inside = rep.spread(np.ones((1, rep.n_features)))[0] > 0
    return replace(r, values=np.where(inside, r.values, 0.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=200, help="function starts explained")
    parser.add_argument("--n-stability", type=int, default=20, help="inputs explained twice")
    parser.add_argument("--samples", type=int, default=500, help="perturbations (LEMNA's 500)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=None)
    args = parser.parse_args()

    programs = load_programs()
    train = [p for p in programs if p.name.startswith("coreutils-")]
    test = [p for p in programs if not p.name.startswith("coreutils-")]
    if not train or not test:
        raise SystemExit("the corpus needs coreutils-* programs to train on and others to test")
    rnn, facts = function_start_rnn(train, test, name="function_start_rnn_coreutils")
    s = facts["test"]
    print(
        f"{facts['model']}: trained on {len(train)} coreutils programs "
        f"({facts['train_sequences']} sequences); on {len(test)} other programs precision "
        f"{s['precision']:.3f}, recall {s['recall']:.3f}, F1 {s['f1']:.3f}"
    )
    adapter = ModelAdapter(at_position(rnn, LENGTH // 2), outputs="logits", batch_size=2048)
    ids, labels, _ = centred(test, 4 * args.n_test, 4 * args.n_test, LENGTH, args.seed)
    pred = adapter.proba(ids).argmax(axis=1)
    order = np.random.default_rng(args.seed).permutation(len(ids))  # ids come program by program
    ids, labels, pred = ids[order], labels[order], pred[order]
    X = ids[(labels == 1) & (pred == 1)][: args.n_test]
    donors = ids[(labels == 0) & (pred == 0)][:400]
    if len(X) < args.n_test:
        raise SystemExit(f"only {len(X)} function starts found; asked for {args.n_test}")
    mid = LENGTH // 2
    rep = TokenRepresentation(LENGTH, window=(mid - HALF_WINDOW, mid + HALF_WINDOW + 1))
    print(f"{len(X)} function starts the model finds; {len(donors)} donors; window {rep.window}")

    runs = {
        **local_runs(adapter, X, rep, args.samples),
        "LEMNA (3 fused-lasso regressions)": lambda seed, m: lemna(
            adapter, X[:m], rep, num_samples=args.samples, random_state=seed
        ),
        "LIME": lambda seed, m: lime_tokens(
            adapter, X[:m], rep, num_samples=args.samples, random_state=seed
        ),
        "KernelSHAP l1_reg=False": lambda seed, m: kernel_shap(
            adapter, X[:m], l1_reg=False, representation=rep, random_state=seed
        ),
        "KernelSHAP (default l1_reg)": lambda seed, m: kernel_shap(
            adapter, X[:m], representation=rep, random_state=seed
        ),
    }
    rows, first = local_head_to_head(
        runs, adapter, len(X), donors, KS, args.seed, args.n_stability, 5, args.methods
    )
    rows["random"] = {
        **_score(adapter, random_bytes(first, rep, args.seed), donors, KS, args.seed),
        "seconds_per_explanation": 0.0,
        "queries_per_explanation": 0,
    }
    print(f"\n{platform.machine()}, Python {platform.python_version()}; k counts bytes")
    print(tables(rows, KS).replace("top-20 stability", "top-5 stability"))


if __name__ == "__main__":
    main()
