"""Amazon Fine Food reviews (SNAP; MIT as packaged by the R package modeldata): 4,000
training and 1,000 test reviews of 10 products, each "great" (5 stars) or "other" (1-4).

They come from Debian's r-cran-modeldata package, whose R lazy-load database is read here
without R: ``Rdata.rdx`` indexes ``Rdata.rdb``, whose entries are a 4-byte length, a type
byte ``Z`` and raw LZMA2 data holding one serialised R object (parsed with ``rdata``).
"""

from __future__ import annotations

import lzma
import os
import warnings
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path("/usr/lib/R/site-library/modeldata/data")
CLASSES = ("other", "great")


def load_food_reviews(split="train", directory=None):
    """(texts, labels): a list of review texts and (n,) int labels, 1 for "great" (5 stars),
    0 for "other", for ``split`` "train" (4,000) or "test" (1,000). ``directory`` (or
    ``$SCRUTINY_MODELDATA``) overrides where ``Rdata.rdx`` and ``Rdata.rdb`` are looked for."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(directory or os.environ.get("SCRUTINY_MODELDATA") or DEFAULT_DIR)
    index, db = folder / "Rdata.rdx", folder / "Rdata.rdb"
    if not index.is_file() or not db.is_file():
        raise FileNotFoundError(
            f"the food reviews are not in {folder}: they come from Debian's r-cran-modeldata "
            "package (apt-get install r-cran-modeldata, or apt-get download it and dpkg-deb "
            "-x it, then set SCRUTINY_MODELDATA to its usr/lib/R/site-library/modeldata/data)"
        )
    try:
        import rdata
    except ImportError:
        raise ImportError(
            "reading the food reviews needs rdata: pip install rdata (or 'scrutiny[text]')"
        ) from None
    with warnings.catch_warnings():  # rdata names the R classes it reads as data frames
        warnings.simplefilter("ignore", UserWarning)
        where = rdata.conversion.convert(rdata.parser.parse_file(index))["variables"]
        name = "training_data" if split == "train" else "testing_data"
        offset, length = (int(v) for v in where[name])
        with open(db, "rb") as f:
            f.seek(offset)
            entry = f.read(length)
        if len(entry) != length or entry[4:5] != b"Z":
            raise ValueError(f"{db} is damaged or not an LZMA-compressed R database")
        raw = lzma.decompress(
            entry[5:],
            format=lzma.FORMAT_RAW,
            filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 1 << 26}],
        )
        frame = rdata.conversion.convert(rdata.parser.parse_data(raw))
    texts = [str(t) for t in frame["review"]]
    labels = (np.asarray(frame["score"].astype(str)) == "great").astype(np.int64)
    return texts, labels
