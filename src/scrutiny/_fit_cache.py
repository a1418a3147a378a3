"""Fitted surrogates kept between runs. A fit is a pure function of its features, responses,
censoring bounds and settings (seed included) and of the sampler's code, so the SHA-256 of
all of them names it: running a command again on the same model and data loads the fits
instead of sampling again. Entries are plain .npz + .json (see ``surrogate.persist``)."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import pkgutil
import re
import warnings
from functools import cache

import numpy as np

from scrutiny._cache import cache_dir
from scrutiny._files import clear_temporaries, paired, plain
from scrutiny.surrogate.backends import backend_name
from scrutiny.surrogate.persist import load_regression, save_regression

# Fits are kept up to this many megabytes in all (``$SCRUTINY_FIT_CACHE_MB`` overrides it),
# the least recently used removed first: every change of the sampler's code or of numpy,
# scipy or torch makes new keys, so without a bound the folder only grows (one MNIST class
# fit on 1,000 digits' pixels takes about 7 MB).
MAX_MEGABYTES = 2048
_KEY = re.compile(r"[0-9a-f]{40}")  # an entry's name: its key's first 40 hex digits


def fit_key(Z, y, settings, bounds):
    h = hashlib.sha256(_sampler_digest())
    # how a fit runs (in how many processes, with a progress bar) does not change it
    settings = {k: v for k, v in settings.items() if k not in ("n_jobs", "progress")}
    spec = {"settings": settings, "bounds": list(bounds), "Z": Z.shape, "y": y.shape}
    device = settings.get("device")
    if backend_name(device) == "torch":  # its linear algebra draws the fit
        spec["torch"] = _torch_spec(device)
    # arrays in full (str() would elide the middle of a long one, such as init labels)
    h.update(json.dumps(plain(spec), sort_keys=True, default=str).encode())
    h.update(np.ascontiguousarray(Z, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(y, dtype=np.float64).tobytes())
    return h.hexdigest()


def _torch_spec(device):
    """What makes torch's draws on ``device``: its version, the float32 matrix product's
    precision (TF32 on a GPU at "high"), and the GPU's model: a cache folder shared by
    machines of other GPUs took their fits, which differ in the last bits, for this one's."""
    import torch

    spec = [torch.__version__, torch.get_float32_matmul_precision()]
    where = torch.device("cpu" if device == "torch" else device.removeprefix("torch:"))
    if where.type == "cuda" and torch.cuda.is_available():
        spec.append(torch.cuda.get_device_name(where))
    return spec


def load(key):
    """The fitted surrogate stored under ``key``, or None (also for an entry that cannot be
    read: it is refitted and written again)."""
    path = _path(key)
    try:  # a folder this user may not read: nothing there
        if not all(p.is_file() for p in paired(path)):
            return None
        reg = load_regression(path)
    # any damage (a zip index read as encrypted raises RuntimeError) is a miss, refitted
    # and written over, never a run that fails
    except Exception:
        return None
    with contextlib.suppress(OSError):  # used now: the last to be removed
        os.utime(paired(path)[0])
    return reg


def store(key, reg):
    """Arrays first, metadata last: an interrupted write leaves no .json, so no entry.
    Returns None, or the error that kept it out of a cache that cannot be written (full,
    read-only)."""
    try:
        npz, _ = save_regression(reg, _path(key))
        _prune(npz)
    except (OSError, TypeError, ValueError) as exc:  # settings JSON cannot hold, too
        return exc
    return None


def store_all(fits):
    """Store each (key, fitted surrogate) of ``fits``; a cache that cannot be written costs
    one warning, not the fits (one a fit, each naming its own temporary file, was never
    repeated alike: a read-only folder gave a 1,000-class model 1,000 warnings)."""
    failed = [exc for key, reg in fits if (exc := store(key, reg)) is not None]
    if failed:
        warnings.warn(
            f"{len(failed)} of {len(fits)} fits could not be kept in the cache: {failed[0]}",
            stacklevel=2,
        )


def _prune(kept):
    """Remove the least recently used entries, whole, until the fits take at most
    ``MAX_MEGABYTES`` (``kept``, the entry just written, stays), counting the temporaries
    of writes under way and removing those of killed writes (an hour old). An empty
    ``$SCRUTINY_FIT_CACHE_MB`` is unset, as an empty ``$SCRUTINY_CACHE``; a negative or NaN
    one is refused, not read as "remove every other fit"."""
    text = os.environ.get("SCRUTINY_FIT_CACHE_MB") or str(MAX_MEGABYTES)
    try:
        limit = float(text) * 2**20
    except ValueError:
        limit = float("nan")
    if not limit >= 0:
        warnings.warn(
            f"SCRUTINY_FIT_CACHE_MB must be a number of megabytes, got {text!r}: using "
            f"{MAX_MEGABYTES}",
            stacklevel=3,
        )
        limit = MAX_MEGABYTES * 2**20
    fresh = clear_temporaries(kept.parent)
    entries = []
    for npz in kept.parent.glob("*.npz"):
        if not _KEY.fullmatch(npz.stem):  # not an entry: a user's own file, left alone
            continue
        meta = npz.with_suffix(".json")
        with contextlib.suppress(OSError):  # removed meanwhile by another process
            stat = npz.stat()
            size = stat.st_size + (meta.stat().st_size if meta.exists() else 0)
            entries.append((stat.st_mtime, size, npz, meta))
    total = fresh + sum(size for _, size, _, _ in entries)
    for _, size, npz, meta in sorted(entries):
        if total <= limit:
            break
        if npz != kept:
            meta.unlink(missing_ok=True)  # metadata first: no entry is read half removed
            npz.unlink(missing_ok=True)
            total -= size


def _path(key):
    return cache_dir(create=False) / "fits" / key[:40]  # made when a fit is stored


@cache
def _sampler_digest():
    """The sampler's code (with the input checks and files it reads data through, and the
    function that runs it) and the versions of numpy and scipy: an upgrade may change the
    draws, so it refits. Each module's file as its loader reads it: the source (the same
    bytes, so the same keys, as when the folder's .py files were read), else the compiled
    file of an install without sources, or one inside a zip archive (reading .py files
    failed there, FileNotFoundError, after every model query)."""
    import scipy

    from scrutiny import surrogate

    h = hashlib.sha256(f"numpy {np.__version__} scipy {scipy.__version__}".encode())
    inner = sorted(m.name for m in pkgutil.iter_modules(surrogate.__path__))
    for name in [
        "scrutiny.surrogate",
        *(f"scrutiny.surrogate.{m}" for m in inner),
        "scrutiny._validation",
        "scrutiny._files",
        "scrutiny._parallel",  # fit_surrogate, which makes every cached fit
    ]:
        spec = importlib.util.find_spec(name)
        h.update(spec.loader.get_data(spec.origin))
    return h.digest()
