"""A fitted ``DPMixtureRegression`` as plain files: ``.npz`` of its arrays (loaded with
``allow_pickle=False``, so loading runs no code) beside ``.json`` of its parameters and
scalars."""

from __future__ import annotations

import json

import numpy as np

from scrutiny._files import paired, to_json
from scrutiny.surrogate.estimator import DPMixtureRegression

FORMAT = "scrutiny.dp-mixture-regression/1"


def save_regression(reg, path):
    """Write ``path``.npz and ``path``.json; returns the two paths."""
    reg._check_fitted()
    arrays, scalars, diagnostics = {}, {}, {}
    for name, value in vars(reg).items():
        if not name.endswith("_") or name.startswith("_"):
            continue
        if name == "diagnostics_":
            for key, v in value.items():
                if isinstance(v, np.ndarray):
                    arrays[f"diagnostics/{key}"] = v
                else:
                    diagnostics[key] = v
        elif isinstance(value, np.ndarray):
            arrays[name] = value
        else:
            scalars[name] = value
    params = reg.get_params()
    if isinstance(params["random_state"], np.random.Generator | np.random.RandomState):
        params["random_state"] = None  # its state is spent: the fit is what is saved
    text = to_json(
        {"format": FORMAT, "params": params, "fitted": scalars, "diagnostics": diagnostics}
    )  # before any file is written: settings that JSON cannot hold leave none
    npz, meta_path = paired(path)
    npz.parent.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)  # no stale metadata beside new arrays
    np.savez(npz, **arrays)
    meta_path.write_text(text, encoding="utf-8")
    return npz, meta_path


def load_regression(path):
    """The fitted ``DPMixtureRegression`` written by ``save_regression``."""
    npz, meta_path = paired(path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{meta_path} is not a saved {FORMAT} surrogate")
    reg = DPMixtureRegression(**meta["params"])
    for name, value in meta["fitted"].items():
        setattr(reg, name, tuple(value) if isinstance(value, list) else value)
    diagnostics = dict(meta["diagnostics"])
    with np.load(npz, allow_pickle=False) as data:
        for key in data.files:
            if key.startswith("diagnostics/"):
                diagnostics[key.removeprefix("diagnostics/")] = data[key]
            else:
                setattr(reg, key, data[key])
    reg.diagnostics_ = diagnostics
    return reg
