"""Amazon Fine Food reviews (SNAP; MIT as packaged by the R package modeldata): 4,000
training and 1,000 test reviews of 10 products, each "great" (5 stars) or "other" (1-4),
from Debian's r-cran-modeldata package (``datasets.modeldata``).
"""

from __future__ import annotations

import numpy as np

from scrutiny.datasets.modeldata import DEFAULT_DIR, read_modeldata

__all__ = ["DEFAULT_DIR", "load_food_reviews"]

CLASSES = ("other", "great")


def load_food_reviews(split="train", directory=None):
    """(texts, labels): a list of review texts and (n,) int labels, 1 for "great" (5 stars),
    0 for "other", for ``split`` "train" (4,000) or "test" (1,000). ``directory`` (or
    ``$SCRUTINY_MODELDATA``) overrides where ``Rdata.rdx`` and ``Rdata.rdb`` are looked for."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    name = "training_data" if split == "train" else "testing_data"
    frame = read_modeldata(name, directory, "the food reviews")
    texts = [str(t) for t in frame["review"]]
    labels = (np.asarray(frame["score"].astype(str)) == "great").astype(np.int64)
    return texts, labels
