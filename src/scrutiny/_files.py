"""Plain-file pairs (``name.npz`` of arrays beside ``name.json`` of metadata) as
explanations and fitted surrogates are saved: the names, and JSON for numpy values."""

from __future__ import annotations

import json
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
