"""Fashion-MNIST (Zalando, MIT): the official IDX files from Debian's dataset-fashion-mnist
package (60,000 training and 10,000 test images, 28x28, labels 0-9)."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from scrutiny._cache import env_path

DEFAULT_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def load_fashion_mnist(split="train", directory=None):
    """(X, labels): images as (n, 28, 28) floats in [0, 1] and their classes, for ``split``
    "train" or "test". ``directory`` (or ``$SCRUTINY_FASHION_MNIST``) overrides where the
    IDX files are looked for."""
    images, labels = fashion_files(split, directory)
    X = read_idx(images)
    y = read_idx(labels)
    if X.ndim != 3 or y.ndim != 1 or len(X) != len(y):
        raise ValueError(
            f"{images.parent} holds images {X.shape} and labels {y.shape} that do not match"
        )
    return X.astype(np.float64) / 255.0, y.astype(np.int64)


def fashion_files(split="train", directory=None):
    """The (images, labels) IDX files of ``split``, or a FileNotFoundError naming the
    Debian package."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    folder = Path(directory or env_path("SCRUTINY_FASHION_MNIST") or DEFAULT_DIR).expanduser()
    prefix = "train" if split == "train" else "t10k"
    images = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels = folder / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.is_file() or not labels.is_file():
        raise FileNotFoundError(
            f"Fashion-MNIST is not in {folder}: it comes from Debian's dataset-fashion-mnist "
            "package (apt-get install dataset-fashion-mnist), or set SCRUTINY_FASHION_MNIST "
            "to a folder holding the official *-ubyte.gz files"
        )
    return images, labels


def read_idx(path):
    """An IDX file (optionally gzipped): byte 2 = data type 0x08 (uint8), byte 3 = number of
    dimensions, then one big-endian uint32 per dimension, then the data."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:  # zlib: a broken deflate stream
        raise ValueError(f"{path} is damaged: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:  # else numpy's anonymous "buffer is smaller than requested"
        raise ValueError(
            f"{path} is truncated: {len(raw)} bytes, fewer than its header of {ndim} "
            "dimensions takes"
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: {data.size} values for shape {shape}")
    return data.reshape(shape)
