"""The reference Fashion-MNIST classifier: the CNN the DMM-MEN authors released
(conv 32 5x5 same + ReLU, max-pool 2, conv 64 5x5 same + ReLU, max-pool 2, dense 10),
trained with torch on the CPU on the 60,000 official training images.

It returns logits and accepts images as (n, 28, 28) or (n, 1, 28, 28).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from scrutiny._validation import TORCH_SEEDS, whole_number
from scrutiny.datasets import load_fashion_mnist
from scrutiny.datasets.fashion import fashion_files
from scrutiny.zoo.training import accuracy, cached, data_digest, seeded, train

EPOCHS = 4


def build(seed=0):
    from torch import nn

    class FashionCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(1, 32, 5, padding=2),
                nn.ReLU(),
                nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 5, padding=2),
                nn.ReLU(),
                nn.MaxPool2d(2),
            )
            self.head = nn.Linear(7 * 7 * 64, 10)

        def forward(self, x):
            if x.dim() == 3:
                x = x.unsqueeze(1)
            return self.head(self.features(x).flatten(1))

    return seeded(seed, FashionCNN)


def fashion_cnn(seed=0, progress=True):
    """(module, facts): the CNN trained on the official training split (cached after the
    first call), and facts including its ``test_accuracy`` on the 10,000 test images."""
    seed = whole_number(seed, "seed", 0, TORCH_SEEDS)  # numpy's too: the recipe is JSON
    recipe = {"epochs": EPOCHS, "seed": seed, "lr": 1e-3, "batch_size": 128, "weight_decay": 0.0}

    def fit(module):
        Xtr, ltr = load_fashion_mnist("train")
        Xte, lte = load_fashion_mnist("test")
        train(module, Xtr, ltr, **recipe, progress=progress, desc="training the Fashion-MNIST CNN")
        return {
            "model": "fashion-cnn-conv32-conv64-dense10",
            "seed": seed,
            "epochs": EPOCHS,
            "test_accuracy": accuracy(module, Xte, lte),
        }

    files = fashion_files("train")  # their bytes: other IDX files (MNIST's) train anew
    recipe_facts = {
        **recipe,
        "data": "Fashion-MNIST, the 60,000 official training images",
        "data_sha256": data_digest(*(np.frombuffer(f.read_bytes(), np.uint8) for f in files)),
    }
    return cached(
        f"fashion_cnn_seed{seed}", recipe_facts, partial(build, seed), fit, progress=progress
    )
