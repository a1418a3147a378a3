"""Explaining a sentiment classifier, head to head: DMM-MEN in local mode against LIME's
text explainer, KernelSHAP and random words, on the same reviews, model and removals.

The model is the zoo's TF-IDF + logistic regression on Amazon food reviews (Debian's
r-cran-modeldata), or with ``--model cnn`` its convolutional network over word embeddings,
which is not additive in the words. Features are the words of a review by position;
switching one off removes it and the characters after it up to the next word
(``scrutiny.text``), for every method and every fidelity test. k counts words.

    python benchmarks/text_sentiment.py [--model {tfidf,cnn}] [--n-test 100] [--samples 1000]
"""

from __future__ import annotations

import argparse
import platform

import numpy as np

from scrutiny import ModelAdapter, TextEncoder
from scrutiny.baselines import kernel_shap, lime_text, random_explanation
from scrutiny.benchmark import _score, local_head_to_head, local_runs, tables
from scrutiny.datasets import load_food_reviews
from scrutiny.text import pieces
from scrutiny.zoo import review_classifier
from scrutiny.zoo.review_cnn import review_cnn

KS = [1, 2, 3, 5, 10]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-test", type=int, default=100, help="reviews explained (first)")
    parser.add_argument("--n-stability", type=int, default=20, help="reviews explained twice")
    parser.add_argument("--samples", type=int, default=1000, help="perturbations (local, LIME)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--methods", nargs="+", default=None)
    parser.add_argument("--model", choices=["tfidf", "cnn"], default="tfidf")
    args = parser.parse_args()

    pipeline, facts = review_classifier() if args.model == "tfidf" else review_cnn()
    texts, _ = load_food_reviews("test")
    explained, donors_text = texts[: args.n_test], texts[args.n_test : args.n_test + 400]
    encoder = TextEncoder(length=max(len(pieces(t)) for t in explained + donors_text))
    X, donors = encoder.encode(explained), encoder.encode(donors_text)
    adapter = ModelAdapter(encoder.wrap(pipeline.predict_proba), batch_size=1024)
    words = (X != 0).sum(axis=1)
    print(
        f"{facts['model']}: test accuracy {facts['test_accuracy']:.3f}; {len(X)} reviews of "
        f"{words.min()}-{words.max()} words (median {np.median(words):.0f})"
    )

    runs = {
        **local_runs(adapter, X, "tokens", args.samples),
        "LIME (text)": lambda seed, m: lime_text(
            adapter, X[:m], encoder, num_samples=args.samples, random_state=seed
        ),
        "LIME (text, 5,000 samples: its default)": lambda seed, m: lime_text(
            adapter, X[:m], encoder, num_samples=5000, random_state=seed
        ),
        "KernelSHAP l1_reg=False": lambda seed, m: kernel_shap(
            adapter, X[:m], l1_reg=False, representation="tokens", random_state=seed
        ),
    }
    rows, first = local_head_to_head(
        runs, adapter, len(X), donors, KS, args.seed, args.n_stability, 5, args.methods
    )
    rows["random"] = {
        **_score(adapter, random_explanation(first, args.seed), donors, KS, args.seed),
        "seconds_per_explanation": 0.0,
        "queries_per_explanation": 0,
    }
    print(f"\n{platform.machine()}, Python {platform.python_version()}; k counts words")
    print(tables(rows, KS).replace("top-20 stability", "top-5 stability"))


if __name__ == "__main__":
    main()
