"""A fitted ``Explainer`` as plain files: ``name.npz`` of arrays (its surrogates, its
representation, and by default the fit data with the model's outputs on them) beside
``name.json`` of its settings, with the checksums of both. Loading refuses a modified file
and runs no code (``allow_pickle=False``); the model is not saved but passed to ``load``,
which checks that it gives the outputs the explainer was fitted on."""

from __future__ import annotations

import numpy as np

from scrutiny._files import (
    array_digest,
    json_digest,
    paired,
    plain,
    read_pair,
    to_json,
    write_pair,
)
from scrutiny._validation import labels_from_json, labels_to_json
from scrutiny.categories import Categories
from scrutiny.explainer import (
    LOGIT_TOLERANCE,
    OWN_SETTINGS,
    VALUE_TOLERANCE,
    output_gap,
    scale_of,
)
from scrutiny.models import ModelAdapter
from scrutiny.representations import (
    ImageRepresentation,
    TabularRepresentation,
    TokenRepresentation,
)
from scrutiny.surrogate.backends import make_backend
from scrutiny.surrogate.mirror import MirroredRegression
from scrutiny.surrogate.persist import regression_from_parts, regression_parts

FORMAT = "scrutiny.explainer/1"
PROBE_ROWS = 16  # fit inputs re-queried by ``load`` to check the model, spread over them


def save_explainer(ex, path, fit_data=True):
    """See ``Explainer.save``; returns the .npz path."""
    if not isinstance(fit_data, bool | np.bool_):  # "no" was True
        raise TypeError(f"fit_data must be True or False, got {fit_data!r}")
    rep = ex.representation
    if type(rep) not in (ImageRepresentation, TabularRepresentation, TokenRepresentation):
        raise TypeError(
            f"a custom representation ({type(rep).__name__}) cannot be saved as plain "
            "arrays; save the explanations instead, or use representation='image', "
            "'tabular' or 'tokens'"
        )
    arrays = {"representation/baseline": rep.baseline, "representation/scale": rep.scale}
    surrogates, mirrored = {}, []
    for c, reg in sorted(ex.surrogates_.items()):
        if isinstance(reg, MirroredRegression):
            mirrored.append(c)  # read from the fit it mirrors, as fit() made it
            continue
        parts, surrogates[str(c)] = regression_parts(reg)
        arrays.update({f"surrogate/{c}/{name}": a for name, a in parts.items()})
    has_fit_data = fit_data and ex._X_fit is not None
    if has_fit_data:
        arrays["fit/X"] = ex._X_fit
        if ex._fit_log_proba is not None:
            arrays["fit/log_proba"] = ex._fit_log_proba
    if "fit/log_proba" not in arrays and rep.kind != "tokens":  # an empty text is no probe
        _refuse_retrained(ex)
        # without the fit data, the model's outputs on the baseline (already in the file)
        # let load tell another model: one with another class count explained as this one;
        # a regression's are judged against their range over the fit data, kept beside
        arrays["probe/baseline_responses"] = ex.model.responses(rep.baseline[None])
        spread, _ = _output_spread(ex)
        if spread is None and ex.model.regression and ex._X_fit is not None:
            # a fit that never queried the fit data (local mode): their range over a few
            # (without one, a regression's probe was not checked: any model loaded)
            probe = ex._X_fit[_probe_rows(len(ex._X_fit))]
            spread = np.ptp(ex.model.responses(probe), axis=0)
        if spread is not None:
            arrays["probe/spread"] = spread
    described = plain(
        {
            "settings": {
                "mode": ex.mode,
                "outputs": ex.model.outputs,
                "batch_size": ex.model.batch_size,
                "representation": rep.to_json(),
                "classes": ex.classes,
                "surrogate": ex.surrogate,
                "logit_limit": ex.logit_limit,
                "fit_perturbations": ex.fit_perturbations,
                "n_samples": ex.n_samples,
                "n_jobs": ex.n_jobs,
                "progress": ex.progress,
                "random_state": ex._entropy,
                "spawn_key": list(ex._spawn_key),
                "cache_fits": ex.cache_fits,
            },
            "input_dtype": None if ex.model.input_dtype is None else str(ex.model.input_dtype),
            **ex.model.integer_meta(),
            "feature_names": ex.feature_names_,
            "feature_labels": labels_to_json(ex.model.input_labels),
            "categories": None if ex.categories_ is None else ex.categories_.to_json(),
            "n_classes": ex.n_classes_,
            "fit_seconds": ex.fit_seconds_,
            "fit_queries": ex.fit_queries_,
            "surrogates": surrogates,
            "mirrored": mirrored,
        }
    )
    text = to_json(  # before any file is written: what JSON cannot hold leaves none
        {
            "format": FORMAT,
            **described,
            "sha256": {name: array_digest(a) for name, a in arrays.items()},
            "meta_sha256": json_digest(described),
        },
        indent=1,
    )
    # a failed save leaves an earlier one whole; a user's own files of its names are refused
    return write_pair(path, arrays, text, fmt=FORMAT)[0]


def load_explainer(cls, path, model, overrides, device=None):
    """See ``Explainer.load``."""
    meta, arrays = _read(path)
    settings = {**meta["settings"], **{k: v for k, v in overrides.items() if v is not None}}
    _refuse_other_outputs(path, meta["settings"]["outputs"], model, settings["outputs"])
    # saved before they were refused, the explainer's own settings given as a surrogate's,
    # which its fits never used (each fit takes its seed from the explainer's)
    surrogate = {k: v for k, v in settings["surrogate"].items() if k not in OWN_SETTINGS}
    settings["surrogate"] = surrogate
    if device is not None:
        surrogate = settings["surrogate"] = {**surrogate, "device": device}
    try:  # the device later fits run on: the saved one may be another machine's GPU
        make_backend(surrogate.get("device", "cpu"), surrogate.get("dtype", "float64"))
    except (ImportError, RuntimeError) as exc:
        if device is not None:  # the caller's, not the file's
            raise
        raise type(exc)(
            f"{exc}: the explainer was saved to fit on device {surrogate.get('device')!r}; "
            "Explainer.load(..., device='cpu') explains with its saved fits here"
        ) from exc
    spec = settings.pop("representation")
    # a SeedSequence's child: its entropy and spawn key (files saved before have none)
    key = tuple(settings.pop("spawn_key", ()))
    settings["random_state"] = np.random.SeedSequence(settings["random_state"], spawn_key=key)
    baseline, scale = arrays["representation/baseline"], arrays["representation/scale"]
    if spec["kind"] == "image":
        rep = ImageRepresentation(spec["input_shape"], baseline, spec.get("superpixel"), scale[0])
    elif spec["kind"] == "tokens":
        rep = TokenRepresentation(spec["input_shape"][0], baseline, spec.get("window"))
    else:
        rep = TabularRepresentation(
            spec["input_shape"][0],
            baseline,
            scale,
            spec.get("categorical", ()),
            spec.get("levels"),
            spec.get("names"),
        )
    X_fit = arrays.get("fit/X", baseline[None])  # without fit data: a stand-in, set aside
    if not isinstance(model, ModelAdapter):  # queried below by its columns' names and labels
        model = ModelAdapter(model, settings["outputs"], settings["batch_size"])
    if meta["feature_names"] is not None and model.input_names is None:
        model.input_names = meta["feature_names"]
        model.input_labels = labels_from_json(meta.get("feature_labels"))
    if meta.get("categories") is not None and model.categories is None:
        model.categories = Categories.from_json(meta["categories"])
    ex = cls(model, X_fit, representation=rep, **settings)
    ex._given = {}  # the saved settings are the explainer's, not a caller's for its mode
    if "fit/X" not in arrays:
        ex._X_fit = None
    if meta.get("input_dtype") is not None and ex.model.input_dtype is None:
        ex.model.input_dtype = np.dtype(meta["input_dtype"])  # as the data were given
    if ex.model.column_dtypes is None:
        ex.model.take_integer_meta(meta)
    ex.feature_names_ = meta["feature_names"]
    if meta.get("categories") is not None:  # the model is queried with the names
        ex.categories_ = Categories.from_json(meta["categories"])
    ex.n_classes_ = meta["n_classes"]
    ex.fit_seconds_, ex.fit_queries_ = meta["fit_seconds"], meta["fit_queries"]
    if "fit/log_proba" in arrays:
        ex._fit_X = ex._fit_inputs()  # X_fit and its seeded perturbed copies
        ex._fit_log_proba = arrays["fit/log_proba"]
        rows = _probe_rows(len(ex._fit_X))
        spread = _output_spread(ex)
        _check_model(ex, path, ex._fit_X[rows], ex._fit_log_proba[rows], "fit inputs", spread)
    for c, description in meta["surrogates"].items():
        prefix = f"surrogate/{c}/"
        parts = {k.removeprefix(prefix): a for k, a in arrays.items() if k.startswith(prefix)}
        ex.surrogates_[int(c)] = regression_from_parts(description, parts)
    ex._mirrored(bool(meta["mirrored"]))
    if "fit/log_proba" not in arrays and "probe/baseline_responses" in arrays:
        probe = arrays["probe/baseline_responses"]
        ex._saved_spread = arrays.get("probe/spread")  # for a save of this one, again
        spread = _output_spread(ex)  # the surrogates' scale, for a file without the range
        _check_model(ex, path, rep.baseline[None], probe, "the baseline input", spread)
    ex._model_state = ex.model.state()  # the model checked now, as the one fitted then
    return ex


def _refuse_retrained(ex):
    """Refuse to probe a model trained again since its fit outputs were read: the file
    would pair the old model's surrogates with the new model's outputs on the baseline,
    and load then took the new model (and refused the old one), with no word."""
    if ex._retrained():
        raise ValueError(
            "the model was trained again after this explainer read its outputs on the fit "
            "data: saved without them, the file would check a loaded model against the new "
            "model's outputs, not those its surrogates were fitted to; save with "
            "fit_data=True, which keeps those, or make a new Explainer"
        )


def _probe_rows(n):
    """``PROBE_ROWS`` row numbers spread over ``n`` fit inputs (data sorted by class put
    one class in the first rows)."""
    return np.unique(np.linspace(0, n - 1, min(PROBE_ROWS, n)).round().astype(np.int64))


def _refuse_other_outputs(path, saved, model, given):
    """Refuse to read a regression's surrogates as a classifier's or the reverse (loaded
    with outputs='values' a classifier's were read as values, with word said only of
    another model, and a regression's of two outputs as class logits, with none)."""
    given = model.outputs if isinstance(model, ModelAdapter) else given
    if (given == "values") == (saved == "values"):
        return
    kinds = {True: "a regression's values", False: "a classifier's class logits"}
    raise ValueError(
        f"the explainer saved in {path} was fitted to {kinds[saved == 'values']} "
        f"(outputs={saved!r}); it cannot explain {kinds[given == 'values']} "
        f"(outputs={given!r}): load it with outputs={saved!r}, or fit a new Explainer"
    )


def _read(path):
    meta, arrays = read_pair(path, (FORMAT,), "a saved scrutiny explainer")
    described = {k: v for k, v in meta.items() if k not in ("format", "sha256", "meta_sha256")}
    if meta.get("meta_sha256") != json_digest(described):
        raise ValueError(
            f"{paired(path)[1]} was modified or corrupted: its settings do not match their "
            "recorded checksum"
        )
    return meta, arrays


def _output_spread(ex):
    """(spread, its name): each output's range over the fit data (a regression's scale),
    where it is known; else (a file saved before the range was kept) the spread of the
    fitted outputs' responses, their surrogates' scale: without any, a negated model was
    taken. (None, None) for a classifier, or a regression with neither."""
    if not ex.model.regression:
        return None, None
    if ex._fit_log_proba is not None:
        return np.ptp(ex._fit_log_proba, axis=0), "range over the fit data"
    if getattr(ex, "_saved_spread", None) is not None:  # loaded without the fit data
        return ex._saved_spread, "range over the fit data"
    # an unstandardised surrogate's scale is 1 whatever the outputs' range: no measure
    scales = {c: float(reg.y_scale_) for c, reg in ex.surrogates_.items() if reg.standardize}
    if not scales or ex.n_classes_ is None:
        return None, None  # no surrogate to explain with, either
    spread = np.array([scales.get(c, max(scales.values())) for c in range(ex.n_classes_)])
    return spread, "spread as its surrogate was fitted (no range was saved)"


def _check_model(ex, path, X, saved, where, spread_named):
    """Refuse a model that does not give the ``saved`` outputs on inputs ``X`` (fit inputs
    spread over them, as data sorted by class put one class in the first rows; or the
    baseline): the surrogates would explain another model's decisions. A regression's
    values are judged against ``spread_named``'s spread, their range over the fit data
    (and its name, for the message); without it (one probe, no fit data) only their number
    is: against the one value itself, near 0 for a centred target, a float32 copy of the
    same model was refused."""
    now = ex.model.responses(X)
    if now.shape != saved.shape:
        what = "outputs" if ex.model.regression else "classes"
        raise ValueError(
            f"the model gives {now.shape[1]} {what}; the explainer saved in {path} was "
            f"fitted to a model of {saved.shape[1]}"
        )
    if ex.model.regression and scale_of(spread_named[0]) is None and len(X) == 1:
        return  # one probe and no scale (a spread of 0: one fit row) to judge it by
    gap, what = output_gap(
        saved, now, ex.model.regression, ex.model.output_eps, ex.logit_limit, *spread_named
    )
    tolerance = VALUE_TOLERANCE if ex.model.regression else LOGIT_TOLERANCE
    if not gap <= tolerance:
        raise ValueError(
            f"the model is not the one the explainer saved in {path} was fitted to: its "
            f"{what} on {where} ({len(X)}) differ from the saved ones by up to "
            f"{gap:.3g} (tolerance {tolerance:g}); a model that answers the same input "
            "differently each time (dropout left in training mode) fails this too"
        )
