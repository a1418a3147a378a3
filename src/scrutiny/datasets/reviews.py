"""Amazon Fine Food reviews (SNAP; MIT as packaged by the R package modeldata): 4,000
training and 1,000 test reviews of 10 products, each "great" (5 stars) or "other" (1-4),
from Debian's r-cran-modeldata package (``datasets.modeldata``).
"""

from __future__ import annotations

import html
import re

import numpy as np

from scrutiny.datasets.modeldata import DEFAULT_DIR, read_modeldata

__all__ = ["DEFAULT_DIR", "load_food_reviews"]

CLASSES = ("other", "great")

_BREAKS = re.compile(r"(?:\s*</?(?:br|p|div|li)\b[^<>]*>\s*)+", re.IGNORECASE)
_TAGS = re.compile(r"</?[a-zA-Z][^<>]*>")


def load_food_reviews(split="train", directory=None):
    """(texts, labels): a list of review texts and (n,) int labels, 1 for "great" (5 stars),
    0 for "other", for ``split`` "train" (4,000) or "test" (1,000). ``directory`` (or
    ``$SCRUTINY_MODELDATA``) overrides where ``Rdata.rdx`` and ``Rdata.rdb`` are looked for.
    The texts are as a reader sees them: modeldata keeps Amazon's HTML (a ``<br />`` in
    910 of the training reviews, links, ``&quot;``), which a model would learn as words."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    name = "training_data" if split == "train" else "testing_data"
    frame = read_modeldata(name, directory, "the food reviews")
    texts = [_plain(str(t)) for t in frame["review"]]
    labels = (np.asarray(frame["score"].astype(str)) == "great").astype(np.int64)
    return texts, labels


def _plain(text):
    """``text`` without its tags (a line break becomes a space, a link keeps its words) and
    with entities decoded; tags go first, so an escaped "&lt;" stays a character and a
    "<3" (no tag) stays as written."""
    return html.unescape(_TAGS.sub("", _BREAKS.sub(" ", text)).strip())
