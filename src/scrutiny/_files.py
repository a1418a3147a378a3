"""Plain-file pairs (``name.npz`` of arrays beside ``name.json`` of metadata) as
explanations and fitted surrogates are saved: the names, and JSON for numpy values."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import numpy as np


def paired(path):
    """(name.npz, name.json) for ``path`` with or without either suffix; any other dot in
    the name is part of it (``run.v1`` -> ``run.v1.npz``)."""
    path = Path(path)
    if path.suffix in (".npz", ".json"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".npz"), path.with_name(path.name + ".json")


def plain(v):
    """``v`` with numpy scalars and arrays as Python numbers and lists, for JSON."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [plain(x) for x in v]
    return v


def to_json(obj, **kw):
    """JSON text of ``obj`` with numpy values converted; a TypeError names anything else."""
    return json.dumps(plain(obj), **kw)


def array_digest(a):
    """SHA-256 of an array's dtype, shape and bytes: checksums that make a modified file
    refused, not read."""
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()


def json_digest(obj):
    """SHA-256 of JSON-ready metadata, independent of key order."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


def write_pair(path, arrays, text):
    """Write ``path``'s .npz of ``arrays`` and .json of ``text``; returns (npz, json).

    Each is written under a temporary name beside it and then renamed over it, so a write
    that fails (a full disk) leaves the files that were there whole, and two writers at once
    never mix their bytes in one file. The old .json goes first: new arrays never sit
    beside stale metadata."""
    npz, meta_path = paired(path)
    npz.parent.mkdir(parents=True, exist_ok=True)
    tmp = [p.with_name(f".{p.name}.{uuid.uuid4().hex}.tmp") for p in (npz, meta_path)]
    try:
        with open(tmp[0], "xb") as f:  # a file, not a name: savez would add ".npz"
            np.savez(f, **arrays)
        tmp[1].write_text(text, encoding="utf-8")
        meta_path.unlink(missing_ok=True)
        tmp[0].replace(npz)
        tmp[1].replace(meta_path)
    finally:
        for t in tmp:
            t.unlink(missing_ok=True)
    return npz, meta_path
