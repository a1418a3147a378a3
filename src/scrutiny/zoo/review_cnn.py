"""A neural sentiment classifier: a convolutional network over word embeddings (Kim 2014's
shape: embedding 32, 64 filters of 3 words, ReLU, max over the text, dropout, 2 classes),
trained with torch on the 4,000 training food reviews to tell "great" from "other".

Unlike the zoo's TF-IDF model it is not additive in its words: a filter sees three words
together ("not", "bad" and what follows), and the max over the text lets one phrase
silence another. Its vocabulary is the training reviews' lowercased words seen at least
twice (others read as one unknown word), built deterministically; the weights are cached.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from scrutiny._validation import TORCH_SEEDS, whole_number
from scrutiny.datasets import load_food_reviews
from scrutiny.zoo.training import cached, data_digest, seeded

EPOCHS = 8
EMBED, FILTERS, WIDTH = 32, 64, 3
_WORD = re.compile(r"\w+")


def vocabulary(texts, min_count=2):
    """{word: id}: lowercased words seen at least ``min_count`` times, most frequent first
    (ties alphabetically), ids from 2 (0 pads, 1 is any other word)."""
    counts = Counter(w for t in texts for w in _WORD.findall(t.lower()))
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return {w: i + 2 for i, w in enumerate(kept)}


def word_ids(texts, vocab):
    """(n, longest) int64 rows of word ids, 0 after each text's end (at least 1 column)."""
    rows = [[vocab.get(w, 1) for w in _WORD.findall(t.lower())] for t in texts]
    out = np.zeros((len(rows), max([WIDTH, *(len(r) for r in rows)])), dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def build(n_words, seed=0):
    import torch
    from torch import nn

    class WordCNN(nn.Module):
        """Logits of (other, great) from rows of word ids (floats are cast)."""

        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(n_words, EMBED, padding_idx=0)
            self.conv = nn.Conv1d(EMBED, FILTERS, WIDTH, padding=WIDTH // 2)
            self.drop = nn.Dropout(0.5)
            self.out = nn.Linear(FILTERS, 2)

        def forward(self, ids):
            ids = ids.long()
            h = torch.relu(self.conv(self.embed(ids).transpose(1, 2)))  # (n, filters, len)
            h = h.masked_fill((ids == 0)[:, None, :], 0.0)  # padding is no phrase
            return self.out(self.drop(h.amax(dim=2)))

    return seeded(seed, WordCNN)


class ReviewCNN:
    """The trained network as a model of texts: ``predict_proba(texts)`` -> (n, 2)."""

    def __init__(self, module, vocab, batch_size=256):
        self.module, self.vocab, self.batch_size = module, vocab, batch_size
        self.classes_ = np.array([0, 1])

    def predict_proba(self, texts):
        import torch

        if isinstance(texts, str):  # sliced, it was a review per character
            raise TypeError("texts must be a list of texts, got one string: pass [text]")
        odd = next((t for t in texts if not isinstance(t, str)), None)
        if odd is not None:
            raise TypeError(
                f"texts must be strings, got a {type(odd).__name__}: rows of word ids are "
                "read by TextEncoder.wrap(model.predict_proba)"
            )
        out = []
        self.module.eval()
        with torch.no_grad():
            for lo in range(0, len(texts), self.batch_size):
                ids = torch.as_tensor(word_ids(texts[lo : lo + self.batch_size], self.vocab))
                out.append(torch.softmax(self.module(ids).double(), dim=1).numpy())
        return np.concatenate(out) if out else np.zeros((0, 2))

    def predict(self, texts):
        return self.predict_proba(texts).argmax(axis=1)


def review_cnn(seed=0, progress=True):
    """(model, facts): a ``ReviewCNN`` trained on the 4,000 training reviews (cached after
    the first call) and facts including its ``test_accuracy`` on the 1,000 test reviews."""
    from scrutiny.zoo.training import train

    seed = whole_number(seed, "seed", 0, TORCH_SEEDS)  # numpy's too: the recipe is JSON
    texts, labels = load_food_reviews("train")
    test_texts, test_labels = load_food_reviews("test")
    vocab = vocabulary(texts)
    recipe = {"epochs": EPOCHS, "seed": seed, "lr": 2e-3, "batch_size": 32, "weight_decay": 0.0}

    def fit(module):
        train(
            module,
            word_ids(texts, vocab),
            labels,
            **recipe,
            progress=progress,
            desc="training the review CNN",
        )
        model = ReviewCNN(module, vocab)
        return {
            "model": "review-word-cnn-32-64x3",
            "seed": seed,
            "words": len(vocab),
            "train_accuracy": float((model.predict(texts) == labels).mean()),
            "test_accuracy": float((model.predict(test_texts) == test_labels).mean()),
        }

    facts = {
        **recipe,
        "data": "modeldata food reviews, 4,000 training, without markup",
        "words": len(vocab),
        "data_sha256": data_digest(texts, np.asarray(labels)),
    }
    module, facts = cached(
        f"review_cnn_seed{seed}", facts, lambda: build(len(vocab) + 2, seed), fit, progress=progress
    )
    return ReviewCNN(module, vocab), facts
