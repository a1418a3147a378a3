"""Explanations to compare against, with the same ``Explanation`` interface: LIME and
KernelSHAP through their own packages (``pip install lime shap``), LEMNA (its mixture of
fused-lasso regressions is scrutiny's own, ``scrutiny.surrogate.lemna``), and random
features.

Both competitors explain the class probability over the same interpretable features as
scrutiny (pixels or superpixels, "absent" = the baseline), and their weights are spread
over the elements of each feature that differ from the baseline: an element equal to the
baseline cannot contribute, so it gets no share of the ranking.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import numbers
import re
import time
import warnings
from contextlib import contextmanager

import numpy as np
from tqdm.auto import tqdm

from scrutiny._validation import (
    as_input_batch,
    background_row,
    class_targets,
    column_names,
    in_column_order,
    labels_to_json,
    numbers_inferred,
    numpy_dtype,
    same_columns,
    series_as_row,
)
from scrutiny.categories import Categories, holds_names
from scrutiny.explainer import (
    _column_numbers,
    _count,
    _require_present,
    guided_logit,
    output_response,
    target_logit,
)
from scrutiny.explanation import Explanation
from scrutiny.models import ModelAdapter
from scrutiny.representations import (
    ImageRepresentation,
    Representation,
    TabularRepresentation,
    TokenRepresentation,
    make_representation,
)
from scrutiny.representations.tokens import refuse_raw_bytes
from scrutiny.surrogate.driver import checked_generator, input_generator

_QUERY_META = (
    "outputs",
    "input_dtype",
    "column_dtypes",
    "whole_columns",
    "feature_names",
    "feature_labels",
    "categories",
)


def random_explanation(explanation, random_state=0):
    """The same inputs and targets with uniformly random contributions to the elements that
    differ from the baseline: the chance level of every fidelity test. An element at the
    baseline gets none, as in every other explanation here: switching a background pixel
    or a padding token to the baseline changes nothing, so ranking it would be no test. Nor
    does a token window's context, which is no feature; the representation is kept, so the
    tests keep to the window as for the explanation mimicked. An input's values depend on
    ``random_state``, the input and its class only, as its hosts in augmentation do: the
    chance level of an input is the same whatever is tested with it."""
    root = int(checked_generator(random_state).integers(2**63))
    inputs = np.asarray(explanation.inputs)
    moved = inputs != np.asarray(explanation.baseline)
    moved &= explanation.feature_elements.reshape(explanation.shape)
    values = np.zeros(explanation.values.shape)
    for i, t in enumerate(explanation.target):
        values[i] = input_generator(root, inputs[i], t).uniform(size=explanation.shape)
    values *= moved
    return Explanation(
        inputs=explanation.inputs,
        values=values,
        coefficients=np.full(values.shape, np.nan),
        target=explanation.target,
        baseline=explanation.baseline,
        model_logit=explanation.model_logit,
        method="random",
        meta={  # and what the model is queried with, as for the explanation it mimics
            "seconds": 0.0,
            "model_queries": 0,
            **{
                k: copy.deepcopy(explanation.meta[k])
                for k in (*_QUERY_META, "representation")
                if k in explanation.meta
            },
        },
    )


def lime_image(
    model,
    X,
    target=None,
    num_samples=1000,
    superpixel=None,
    baseline=0.0,
    batch_size=256,
    random_state=0,
    progress=True,
    outputs="probabilities",
):
    """LIME's image explainer (``lime.lime_image``) with one segment per pixel (all its
    channels), or square superpixels; perturbations set segments to ``baseline``;
    ``num_samples`` queries each. Images may be grey or have channels in either layout."""
    from lime import lime_image as lime

    random_state = _seed(random_state)
    num_samples = _count(num_samples, "num_samples", 2, "perturbations")
    adapter, X, rep, _ = _setup(model, X, baseline, superpixel, batch_size, None, outputs)
    _classifier(adapter, "lime_image")
    if not isinstance(rep, ImageRepresentation):  # lime_image segments pixels only
        raise ValueError(
            f"the LIME baseline explains images (n, H, W[, C]), got table rows of shape "
            f"{X.shape}: explain them with kernel_shap"
        )
    log_p, targets = _targets(adapter, X, target)
    axis = rep.channel_axis
    segments = rep.groups.reshape(rep.input_shape)
    if axis is not None:  # lime takes (H, W, C) images and (H, W) segments
        segments = segments.take(0, axis=axis)
        X_lime = np.moveaxis(X - rep.baseline, axis + 1, -1)
    else:
        X_lime = X - rep.baseline

    def classify(images):  # lime passes RGB copies of a grey image, less the baseline
        images = images[..., 0] if axis is None else np.moveaxis(images, -1, axis + 1)
        return adapter.proba(images + rep.baseline)

    feature_values = np.zeros((len(X), rep.n_features))
    local_pred = np.zeros(len(X))
    t0, rows0 = time.perf_counter(), adapter.queried()[0]
    for i in tqdm(range(len(X)), desc="LIME", disable=not progress):
        # an explainer per input, seeded alike (as KernelSHAP's generator is): one shared
        # explainer's generator runs on, so an input's explanation would depend on the
        # inputs before it in the batch
        explainer = lime.LimeImageExplainer(random_state=random_state)
        with contextlib.redirect_stderr(io.StringIO()):  # lime's own bar, one per input
            e = explainer.explain_instance(  # lime hides with one value: 0, off the baseline
                X_lime[i],
                classify,
                labels=(int(targets[i]),),
                top_labels=None,
                hide_color=0.0,
                num_samples=num_samples,
                batch_size=batch_size,
                segmentation_fn=lambda image: segments,
                random_seed=random_state,
            )
        for f, w in e.local_exp[int(targets[i])]:
            feature_values[i, f] = w
        local_pred[i] = float(np.ravel(e.local_pred)[0])
    meta = _costs(t0, adapter, rows0, len(X), num_samples=num_samples, superpixel=superpixel)
    return _explanation(rep, X, feature_values, targets, log_p, local_pred, "lime", meta)


def lime_text(
    model,
    X,
    encoder,
    target=None,
    num_samples=1000,
    batch_size=256,
    random_state=0,
    progress=True,
    outputs="probabilities",
):
    """LIME's text explainer (``lime.lime_text``) on rows of ``encoder`` (a
    ``scrutiny.text.TextEncoder``), ``model`` taking such rows (``encoder.wrap``). Its
    words are the encoder's pieces, by position (``bow=False``), and a word LIME removes is
    switched off in its row, which the model reads as ``encoder.decode`` gives it: LIME
    perturbs exactly as local mode and the fidelity tests do (joined by LIME and encoded
    again, "great" and a smile after it went to the model as one word). ``num_samples``
    queries each."""
    adapter = _classifier(_adapter(model, batch_size, outputs), "lime_text")
    adapter.token_ids = True
    own = getattr(adapter._call, "text_encoder", None)  # a model encoder.wrap made
    same = own is None or (own.length, own._pieces) == (encoder.length, encoder._pieces)
    if not same:  # it would read the rows as other words (a loaded copy is the same)
        raise ValueError(
            "the model reads rows of another TextEncoder than the one given: pass the "
            "encoder that wrapped it (model = encoder.wrap(...))"
        )
    rep = TokenRepresentation(encoder.length)
    X = rep.check(as_input_batch(X, "X"))
    return _lime_positions(
        adapter, X, rep, target, num_samples, random_state, progress, "lime-text"
    )


def lime_tokens(
    model,
    X,
    representation,
    target=None,
    num_samples=1000,
    batch_size=256,
    random_state=0,
    progress=True,
    outputs="probabilities",
):
    """LIME's text explainer (``lime.lime_text``) on the positions of a
    ``TokenRepresentation`` (bytes in a window, as LEMNA compares with LIME): each present
    position is one of its words, named by its place, and a word LIME removes is switched
    off in its place (id 0), as local mode and the fidelity tests remove it. ``num_samples``
    queries each."""
    if not isinstance(representation, TokenRepresentation):
        raise TypeError(
            "lime_tokens explains the positions of a TokenRepresentation; got "
            f"{type(representation).__name__} (images: lime_image; texts: lime_text)"
        )
    adapter, X, rep, _ = _setup(model, X, None, None, batch_size, representation, outputs)
    _classifier(adapter, "lime_tokens")
    return _lime_positions(
        adapter, X, rep, target, num_samples, random_state, progress, "lime-tokens"
    )


def _lime_positions(adapter, X, rep, target, num_samples, random_state, progress, method):
    """LIME's text explainer over the present positions of each row of ``rep``: each is one
    of its words ("p7 "), and the texts it makes are read back as which positions it kept,
    the others switched off in the row."""
    from lime.lime_text import LimeTextExplainer

    random_state = _seed(random_state)
    num_samples = _count(num_samples, "num_samples", 2, "perturbations")
    log_p, targets = _targets(adapter, X, target)
    feature_values = np.zeros((len(X), rep.n_features))
    local_pred = np.zeros(len(X))
    t0, rows0 = time.perf_counter(), adapter.queried()[0]
    for i in tqdm(range(len(X)), desc="LIME", disable=not progress):
        on = _require_present(np.flatnonzero(rep.present(X[i])), i, rep)  # lime: "low >= high"

        def classify(texts, x=X[i]):
            keep = np.zeros((len(texts), rep.n_features), dtype=bool)
            for row, text in enumerate(texts):
                keep[row, [int(j) for j in _POSITION.findall(text)]] = True
            return adapter.proba(rep.switch_off(x, keep))

        explainer = LimeTextExplainer(  # one per input, seeded alike, as in lime_image
            bow=False,
            split_expression=_POSITION_PIECE.findall,
            mask_string="",
            random_state=random_state,
        )
        e = explainer.explain_instance(
            "".join(f"p{j} " for j in on),
            classify,
            labels=(int(targets[i]),),
            num_features=on.size,
            num_samples=num_samples,
        )
        for f, w in e.local_exp[int(targets[i])]:
            feature_values[i, on[f]] = w
        local_pred[i] = float(np.ravel(e.local_pred)[0])
    meta = _costs(t0, adapter, rows0, len(X), num_samples=num_samples)
    return _explanation(rep, X, feature_values, targets, log_p, local_pred, method, meta)


_POSITION_PIECE = re.compile(r"p\d+ ")  # a position's word, with the space that ends it
_POSITION = re.compile(r"p(\d+) ")


def kernel_shap(
    model,
    X,
    target=None,
    nsamples="auto",
    l1_reg="num_features(10)",
    representation=None,
    baseline=None,
    superpixel=None,
    batch_size=256,
    random_state=0,
    progress=True,
    outputs="probabilities",
):
    """KernelSHAP (``shap.KernelExplainer``) of the class probability (a regression model's
    value: ``outputs="values"``, or its ``ModelAdapter``) over the features that are present
    in each input, with an all-absent background: every feature at ``baseline``.
    ``l1_reg`` as in shap: its default keeps 10 features; ``False`` keeps them all.
    ``nsamples`` as in shap: coalitions queried per input ("auto": 2 x features + 2,048).
    ``superpixel=s`` explains images in s x s blocks of pixels, as the Explainer's. Table
    rows (n, columns), a DataFrame's too, are explained column by column against
    ``baseline`` (0 unless given: pass the training mean, as the ``Explainer`` uses, or
    ``representation=explainer.representation``, which brings its own); a DataFrame's
    column names are kept."""
    import shap

    random_state = _seed(random_state)
    if not (isinstance(nsamples, str) and nsamples == "auto"):
        nsamples = _count(nsamples, "nsamples", 2, "coalitions")
    no_l1 = _checked_l1_reg(l1_reg)
    adapter, X, rep, names = _setup(
        model, X, baseline, superpixel, batch_size, representation, outputs
    )
    log_p, targets = _targets(adapter, X, target)
    feature_values = np.zeros((len(X), rep.n_features))
    fitted = np.zeros(len(X))
    t0, rows0 = time.perf_counter(), adapter.queried()[0]
    for i in tqdm(range(len(X)), desc="KernelSHAP", disable=not progress):
        on = _require_present(np.flatnonzero(rep.present(X[i])), i, rep)
        c = int(targets[i])

        def f(masks, x=X[i], on=on, c=c):
            keep = np.zeros((len(masks), rep.n_features), dtype=bool)
            keep[:, on] = masks > 0.5
            return _explained(adapter, rep.switch_off(x, keep), c)

        explainer = shap.KernelExplainer(f, np.zeros((1, on.size)))
        with _seeded_global_numpy(random_state):
            phi = explainer.shap_values(
                np.ones((1, on.size)), nsamples=nsamples, l1_reg=l1_reg, silent=True
            )
        feature_values[i, on] = np.ravel(phi)
        fitted[i] = float(np.ravel(explainer.expected_value)[0]) + feature_values[i].sum()
    meta = _costs(
        t0,
        adapter,
        rows0,
        len(X),
        nsamples=nsamples,
        l1_reg=str(l1_reg),
        superpixel=getattr(rep, "superpixel", None),  # a representation given: its own
    )
    _name_columns(meta, names, adapter)
    name = "kernel-shap-no-l1" if no_l1 else "kernel-shap"
    return _explanation(rep, X, feature_values, targets, log_p, fitted, name, meta)


def _checked_l1_reg(l1_reg):
    """Whether ``l1_reg`` asks for no L1 selection (False or 0, as shap reads them: 0 ran
    without L1 under the with-L1 name); anything shap does not take is refused here, not
    in scikit-learn's Lasso after the first input's queries."""
    if isinstance(l1_reg, str):
        if l1_reg in ("auto", "aic", "bic") or re.fullmatch(r"num_features\([1-9][0-9]*\)", l1_reg):
            return False
    elif isinstance(l1_reg, bool | np.bool_):
        if not l1_reg:
            return True
    elif isinstance(l1_reg, numbers.Real) and np.isfinite(l1_reg) and l1_reg >= 0:
        return bool(l1_reg == 0)
    raise ValueError(
        "l1_reg must be False (no selection), 'auto', 'aic', 'bic', "
        f"'num_features(k)' or a positive alpha, got {l1_reg!r}"
    )


def lime_tabular(
    model,
    X,
    X_train,
    target=None,
    num_samples=5000,
    discretize_continuous=True,
    categorical=None,
    batch_size=256,
    random_state=0,
    progress=True,
    outputs="probabilities",
):
    """LIME's tabular explainer (``lime.lime_tabular``) as its users run it: perturbations
    drawn from ``X_train``'s distribution (each continuous column in its quartile bins with
    ``discretize_continuous``, the default; 0/1 columns as categories), weights for the
    input's own bin or value of each column; ``num_samples`` queries each (lime's default
    5,000). Effects are against the training mean, the baseline the Explainer and the
    fidelity tests use for tables; a DataFrame's column names are kept, and its columns of
    names (strings, categoricals, bools) are categories to LIME, their baseline the most frequent
    level, as the Explainer's; so are the ``categorical`` columns (names or numbers) of
    numbers that name things, as the Explainer's ``categorical``. A regression model
    (``outputs="values"``, or its ``ModelAdapter``) is explained in LIME's regression
    mode."""
    from lime.lime_tabular import LimeTabularExplainer

    random_state = _seed(random_state)
    num_samples = _count(num_samples, "num_samples", 2, "perturbations")
    X = series_as_row(X)  # df.iloc[i]: one row
    adapter = _adapter(model, batch_size, outputs, X)
    train_names, names = column_names(X_train), column_names(X)
    # an array X_train is in the model's order, where the model knows its columns by name
    order = train_names or same_columns(X, adapter.fitted_names)
    if order is not None and names is not None and order != names:
        if sorted(order) != sorted(names):
            raise ValueError(f"X's columns {names[:5]} are not X_train's {order[:5]}")
        # X in X_train's order, as the model was fitted (X_train in X's fed a model that
        # reads by position, a function or a frame of int labels, swapped columns; X's
        # columns met others' distributions from an array X_train)
        X = X.iloc[:, [names.index(n) for n in order]]
    if train_names is not None and adapter.categories is None:
        if adapter is model:  # the caller's (an explainer's): its rows stay numbers, or its
            adapter = copy.copy(adapter)  # next explain read a column of codes as levels
        adapter.categories = Categories.from_frame(X_train, "X_train")
    cats = adapter.categories
    train = as_input_batch(_encoded(adapter, X_train, train_names, "X_train"), "X_train")
    if train.ndim != 2 or np.shape(X)[1:] != train.shape[1:]:
        raise ValueError(
            f"lime_tabular explains table rows (n, columns) like X_train's {train.shape[1:]}, "
            f"got shape {np.shape(X)}"
        )
    order = cats.names if cats is not None and train_names is not None else train_names
    named = sorted(  # columns of strings, and of numbers that name things (as asked)
        {*(() if cats is None else cats.columns), *_column_numbers(categorical, order, train)}
    )
    baseline = TabularRepresentation.from_data(train, categorical=named).baseline
    adapter, X, rep, names = _setup(adapter, X, baseline, None, batch_size)
    levels = [np.union1d(train[:, j], X[:, j]) for j in named]  # LIME takes unseen levels
    rep = TabularRepresentation(rep.n_features, rep.baseline, 1.0, named, levels)
    log_p, targets = _targets(adapter, X, target)
    binary = [j for j in range(train.shape[1]) if np.isin(train[:, j], (0.0, 1.0)).all()]
    binary = sorted({*binary, *named})  # 0/1 columns and columns of names are categories
    level_names = None
    if cats is not None:
        level_names = {int(j): cats.level_names()[cats.names[j]] for j in cats.columns}
    feature_values = np.zeros((len(X), rep.n_features))
    local_pred = np.zeros(len(X))
    t0, rows0 = time.perf_counter(), adapter.queried()[0]
    rebuilt = 0.0  # LIME's users build one explainer: the others' seconds are not its cost
    for i in tqdm(range(len(X)), desc="LIME", disable=not progress):
        t_build = time.perf_counter()
        explainer = LimeTabularExplainer(  # per input, seeded alike, as lime_image
            train,
            mode="regression" if adapter.regression else "classification",
            feature_names=names,
            categorical_features=binary,
            categorical_names=level_names,
            discretize_continuous=discretize_continuous,
            random_state=random_state,
        )
        rebuilt += (time.perf_counter() - t_build) * (i > 0)
        c = int(targets[i])
        e = explainer.explain_instance(
            X[i],
            (lambda Z, c=c: _explained(adapter, Z, c)) if adapter.regression else adapter.proba,
            labels=(c,),
            top_labels=None,
            num_features=rep.n_features,
            num_samples=num_samples,
        )
        # in regression mode LIME keeps the weights under label 1 (label 0: their negatives)
        row = _lime_row(explainer, X[i], binary, discretize_continuous)
        for f, w in e.local_exp[1 if adapter.regression else c]:
            feature_values[i, f] = w * row[f]
        local_pred[i] = float(np.ravel(e.local_pred)[0])
    meta = _costs(
        t0 + rebuilt,
        adapter,
        rows0,
        len(X),
        num_samples=num_samples,
        discretized=discretize_continuous,
    )
    _name_columns(meta, names, adapter)
    name = "lime-tabular" if discretize_continuous else "lime-tabular-continuous"
    return _explanation(rep, X, feature_values, targets, log_p, local_pred, name, meta)


def _lime_row(explainer, x, categorical, discretized):
    """The input's row in LIME's regression, whose weights times it are the columns'
    effects: 1 for an indicator (a bin, a level: the input's own), and for a continuous
    column that is not discretized, its value standardised around the training mean (a
    weight is per standard deviation, so a column below its mean takes its effect's sign
    reversed)."""
    row = np.ones(x.size)
    if not discretized:
        row = (x - explainer.scaler.mean_) / explainer.scaler.scale_
        row[categorical] = 1.0
    return row


def tree_shap(model, X, baseline, target=None):
    """Exact Shapley values of a tree ensemble's log-odds (``shap.TreeExplainer``,
    interventional, one background row: ``baseline``, the training mean the Explainer
    uses for tables), for the explained class, or of a tree regressor's value: the game
    every fidelity test plays, each column either the input's value or the baseline's. No
    model queries beyond the predictions; binary classifiers (one log-odds) and regressors
    of one output only. A DataFrame's columns are given to shap in the order the model was
    fitted on, matched by name (shap reads them by position), and values that do not add up
    to the model's log-odds (or predictions) are refused. An array ``baseline`` follows X's
    columns as given; an explainer's ``representation.baseline`` follows X_fit's, so for X
    in another order give it by name (``pd.Series(baseline, index=ex.feature_names_)``)."""
    import shap

    text = [c for c, col in X.items() if holds_names(col)] if column_names(X) else []
    if text:  # _encoded's advice (explainer.model, representation=) is for the others
        raise TypeError(
            f"X's columns {text[:5]} hold names: tree_shap takes a tree ensemble on columns "
            "of numbers; explain a pipeline that takes names with exact_shapley or "
            "kernel_shap (model=explainer.model, representation=explainer.representation)"
        )
    outputs = "probabilities" if hasattr(model, "predict_proba") else "values"
    adapter = ModelAdapter(model, outputs=outputs)
    adapter, X, rep, names = _setup(adapter, X, baseline, None, 256)
    log_p, targets = _targets(adapter, X, target)
    if log_p.shape[1] != (1 if adapter.regression else 2):
        kind = "outputs" if adapter.regression else "classes"
        raise ValueError(
            "tree_shap explains binary classifiers and regressors of one output, got "
            f"{log_p.shape[1]} {kind}"
        )
    rows, background = X, rep.baseline[None, :]
    order = np.arange(X.shape[1])  # the model's column j is X's column order[j]
    if names is not None:
        import pandas as pd

        fitted_on = adapter.fitted_names or names
        if sorted(fitted_on) != sorted(names):
            raise ValueError(f"X's columns {names[:5]} are not the model's {fitted_on[:5]}")
        order = np.array([names.index(c) for c in fitted_on])
        rows = pd.DataFrame(X[:, order], columns=fitted_on)
        background = pd.DataFrame(background[:, order], columns=fitted_on)
    t0 = time.perf_counter()
    explainer = shap.TreeExplainer(
        model, data=background, feature_perturbation="interventional", model_output="raw"
    )
    values = np.asarray(explainer.shap_values(rows), dtype=np.float64)
    if values.size != X.size:  # e.g. a random forest's: per class, of its probabilities
        raise ValueError(
            f"shap gives {type(model).__name__} values of shape {values.shape}, not one "
            "log-odds per column: tree_shap explains models whose trees add up to log-odds "
            "(gradient boosting) or to a regression's value; explain this one with "
            "exact_shapley or kernel_shap"
        )
    phi = np.zeros(X.shape)
    phi[:, order] = values.reshape(X.shape)
    # log-odds of class 1 -> of the target; a regressor's value as it is
    sign = np.where((targets == 1) | adapter.regression, 1.0, -1.0)
    phi *= sign[:, None]
    fitted = sign * float(np.ravel(explainer.expected_value)[0]) + phi.sum(axis=1)
    if adapter.regression:
        logit, ours = log_p[:, 0], fitted
    elif hasattr(model, "decision_function"):  # the log-odds themselves, not from rounded p
        logit, ours = sign * np.ravel(model.decision_function(rows)), fitted
    else:  # from probabilities, which lose the log-odds' digits beyond about +-20
        logit = np.clip(target_logit(log_p, targets), -20.0, 20.0)
        ours = np.clip(fitted, -20.0, 20.0)
    off = np.abs(ours - logit).max()
    if off > 1e-4 * max(1.0, np.abs(logit).max()):
        what = "predictions" if adapter.regression else "log-odds"
        raise ValueError(
            f"TreeSHAP's values miss the model's {what} by up to {off:.3g}: shap does not "
            f"read this {type(model).__name__} exactly"
        )
    meta = {
        "scale": "value" if adapter.regression else "logit",
        "outputs": adapter.outputs,
        "seconds": time.perf_counter() - t0,
        "model_queries": 0,
    }
    _name_columns(meta, names, adapter)
    return _explanation(rep, X, phi, targets, log_p, fitted, "tree-shap-exact", meta)


def exact_shapley(
    model,
    X,
    representation=None,
    target=None,
    max_features=16,
    batch_size=1024,
    outputs="probabilities",
    baseline=None,
):
    """Exact Shapley values of the explained class's logit (a regression model's value:
    ``outputs="values"``, or its ``ModelAdapter``) in the fidelity tests' game (each feature
    the input's or the baseline's), by querying every coalition of the features present in
    an input: 2^P queries for P of them, so for inputs of few features (table rows), and any
    model. The reference KernelSHAP estimates, and TreeSHAP computes for trees alone.
    Features and baseline (0 unless given) as kernel_shap's: pass ``representation=
    explainer.representation`` (or the training mean as ``baseline``) to play the
    Explainer's game;
    a baseline is never taken from the rows explained, which would make each value depend
    on the others explained with it. An input with more than ``max_features`` present
    features is refused (2^16 = 65,536 queries at the default)."""
    adapter, X, rep, names = _setup(model, X, baseline, None, batch_size, representation, outputs)
    log_p, targets = _targets(adapter, X, target)
    feature_values, fitted = np.zeros((len(X), rep.n_features)), np.zeros(len(X))
    t0, rows0 = time.perf_counter(), adapter.queried()[0]
    for i, x in enumerate(X):
        on = np.flatnonzero(rep.present(x))
        P = on.size
        if P > max_features:
            raise ValueError(
                f"input {i} has {P} features present: its 2^{P} coalitions are too many to "
                f"query (max_features={max_features}); use kernel_shap"
            )
        ids = np.arange(2**P)
        masks = (ids[:, None] >> np.arange(P)) & 1 == 1
        keep = np.zeros((ids.size, rep.n_features), dtype=bool)
        keep[:, on] = masks
        rows = rep.switch_off(x, keep)
        v = _game_value(adapter, adapter.responses(rows), targets[i])
        fitted[i] = v[-1]  # every feature present: x; efficiency, v(all) = v(none) + sum
        sizes = masks.sum(axis=1)
        weight = np.array(
            [math.factorial(s) * math.factorial(P - s - 1) / math.factorial(P) for s in range(P)]
        )
        for f in range(P):
            without = ids[~masks[:, f]]  # coalitions S without feature f; S + f is S | 2^f
            gain = v[without | (1 << f)] - v[without]
            feature_values[i, on[f]] = weight[sizes[without]] @ gain
    meta = _costs(t0, adapter, rows0, len(X))
    meta["scale"] = "value" if adapter.regression else "logit"
    _name_columns(meta, names, adapter)
    return _explanation(rep, X, feature_values, targets, log_p, fitted, "exact-shapley", meta)


def lemna(
    model,
    X,
    representation,
    target=None,
    num_samples=500,
    n_components=3,
    fusion=None,
    batch_size=256,
    random_state=0,
    progress=True,
    outputs="probabilities",
):
    """LEMNA (Guo et al., CCS 2018): a mixture of ``n_components`` fused-lasso regressions
    (``scrutiny.surrogate.lemna.LemnaMixture``, ``fusion=None``: the authors' sqrt(n log p))
    of the class probability on the input's present features, adjacent features sharing
    coefficients. As in the authors' code a feature's regressor is its raw value (a byte's
    id, 0 when switched off; a pixel's departure from the baseline): on 0/1 presence the
    authors' fusion merges every coefficient into one. A feature's value in the explanation
    is its contribution, coefficient times value (a byte 0x00, id 1, is credited about a
    hundredth of an ordinary byte's; the authors rank by the coefficient). As in the
    authors' code, each of ``num_samples`` perturbations switches off m ~ U{1..present}
    random present features, and row 0 is the input itself: ``num_samples + 1`` queries
    each. The explanation is the coefficients of the component holding the input (row 0's
    largest responsibility, as the reimplementation reads it). ``representation``: a
    ``Representation`` or a name ("image", "tabular", "tokens"; a table's baseline 0, as
    kernel_shap's)."""
    from scrutiny.surrogate.lemna import LemnaMixture

    adapter, X, rep, names = _setup(model, X, None, None, batch_size, representation, outputs)
    _classifier(adapter, "lemna")
    if getattr(adapter._call, "text_encoder", None) is not None:
        raise ValueError(  # its explanation changed with the texts encoded before
            "lemna regresses on each token's id, as its authors on a byte's value; a word's "
            "id is a name the encoder gave in the order it met texts: explain texts with "
            "lime_text or an Explainer in local mode"
        )
    log_p, targets = _targets(adapter, X, target)
    feature_values = np.zeros((len(X), rep.n_features))
    local_pred = np.zeros(len(X))
    seed = _seed(random_state)  # a Generator's draw: each input's stream starts alike
    num_samples = _count(num_samples, "num_samples", 1, "perturbations")  # 0: all zeros
    n_components = _count(n_components, "n_components", 1, "regressions")
    t0, rows0 = time.perf_counter(), adapter.queried()[0]
    for i in tqdm(range(len(X)), desc="LEMNA", disable=not progress):
        on = _require_present(np.flatnonzero(rep.present(X[i])), i, rep)
        rng = np.random.default_rng(seed)  # one per input, seeded alike, as in lime
        keep = _lemna_perturbations(rng, on.size, num_samples)
        full = np.zeros((len(keep), rep.n_features), dtype=bool)
        full[:, on] = keep
        y = adapter.proba(rep.switch_off(X[i], full))[:, int(targets[i])]
        value = rep.group_sum((X[i] - rep.baseline)[None])[0, on]  # a byte's id, as LEMNA
        Z = keep * value
        # f features give 2^f distinct perturbations, and a regression on them needs f + 1:
        # with one or two bytes, three components each fitted a constant, no byte credited
        K = min(n_components, max(1, 2 ** min(on.size, 8) // (on.size + 1)))
        mix = LemnaMixture(K, fusion, random_state=rng).fit(Z, y)
        k = mix.labels_[0]  # the component of the input itself
        feature_values[i, on] = mix.coef_[k] * value  # a feature's contribution
        local_pred[i] = mix.predict(Z[:1])[0, k]
    blank = np.flatnonzero(~feature_values.any(axis=1))
    if blank.size:  # a model of a few output levels: EM gives each level a constant
        warnings.warn(
            f"LEMNA's regression of {blank.size} of {len(X)} inputs (the first: #{blank[0]}) "
            "is a constant, which credits no feature: their rankings are arbitrary",
            UserWarning,
            stacklevel=2,
        )
    settings = {"num_samples": num_samples, "n_components": n_components, "fusion": fusion}
    meta = _costs(t0, adapter, rows0, len(X), **settings)
    _name_columns(meta, names, adapter)
    return _explanation(rep, X, feature_values, targets, log_p, local_pred, "lemna", meta)


def _lemna_perturbations(rng, n_present, num_samples):
    """(num_samples + 1, n_present) presence: row 0 all present, then rows switching off
    m ~ U{1..n_present} features each, a uniformly random subset of that size."""
    m = rng.integers(1, n_present + 1, size=num_samples)
    rank = rng.random((num_samples, n_present)).argsort(axis=1)  # a random order a row
    return np.vstack([np.ones((1, n_present), dtype=bool), rank >= m[:, None]])


def _adapter(model, batch_size, outputs="probabilities", X=None):
    """``model`` as a ModelAdapter (one given is used as it is, its outputs too) that gives
    a function batches in the dtype of ``X``, unless it was given data before (an
    explainer's ``model``: its fit data's)."""
    if not isinstance(model, ModelAdapter):
        model = ModelAdapter(model, outputs=outputs, batch_size=batch_size)
    return model.take_dtype(X)


def _game_value(adapter, out, targets):
    """The value exact Shapley values share out: a regression's output, or the class logit,
    exact where finite and just beyond every finite one of the input's coalitions (at
    least 100) where a probability rounded to 0 or 1 (``guided_logit``: an infinite one
    would make every difference with it NaN)."""
    if adapter.regression:
        return output_response(out, targets, True)
    return guided_logit(out, targets)


def _classifier(adapter, method):
    """Refuse a regression model where a method explains classes only."""
    if adapter.regression:
        raise ValueError(
            f"{method} explains classifiers; a regression model (outputs='values') is "
            "explained by lime_tabular, kernel_shap, exact_shapley and tree_shap"
        )
    return adapter


def _setup(model, X, baseline, superpixel, batch_size, representation=None, outputs=None):
    if isinstance(representation, Representation):  # its own: these would be ignored
        given = {"baseline": baseline, "superpixel": superpixel}
        ignored = [name for name, value in given.items() if value is not None]
        if ignored:
            raise ValueError(
                f"{', '.join(ignored)} cannot be given with a Representation, which has "
                f"its own: make the representation with them"
            )
    baseline = 0.0 if baseline is None else baseline  # never the mean of the rows explained
    X = series_as_row(X)  # df.iloc[i]: one row (a Series' dtype is no column's)
    adapter = _adapter(model, batch_size, outputs or "probabilities", X)
    X = numbers_inferred(in_column_order(X, getattr(representation, "names", None)))
    names = column_names(X)
    X = _encoded(adapter, X, names, "X")
    if names is not None:  # in the order X now has: the model's, where it knows one
        names = adapter.categories.names if adapter.categories is not None else column_names(X)
    if names is not None and adapter.input_names is None:
        if adapter is model:  # the caller's (an explainer's): its own columns stay unset,
            adapter = copy.copy(adapter)  # or its next call read arrays in this X's order
        adapter.input_names = names  # a model fitted on a DataFrame is queried with one
        if column_names(X) == names:  # as it had them (0, not "0"), where X keeps its order
            adapter.input_labels = list(X.columns)
    given = getattr(X, "dtype", None)
    X = as_input_batch(X, "X")
    if isinstance(representation, str):  # "image", "tabular", "tokens", as the Explainer's
        representation = make_representation(
            representation,
            X,
            _by_name(baseline, names, adapter._frame_names),
            superpixel,
            dtype=numpy_dtype(given),
        )
    if getattr(representation, "kind", None) == "tokens":
        refuse_raw_bytes(given, "X")
    if representation is None and X.ndim == 2:  # table rows
        if superpixel is not None:
            raise ValueError(
                f"superpixel groups the pixels of images; table rows (shape {X.shape}) are "
                "explained column by column"
            )
        baseline = _by_name(baseline, names, adapter._frame_names)
        representation = TabularRepresentation(X.shape[1], baseline, 1.0)
    if representation is None:
        if X.ndim not in (3, 4):
            raise ValueError(
                f"expected a batch of images (n, H, W[, C]) or table rows (n, columns), got "
                f"shape {X.shape}"
            )
        # in their unit, as the Explainer's (0-255 images recorded unit 1: the authors'
        # protocol then scaled their chance levels as [0, 1] pixels, a no-op)
        representation = make_representation(
            "image", X, baseline, superpixel, dtype=numpy_dtype(given)
        )
    return adapter, representation.check(X), representation, names


def _encoded(adapter, X, names, name):
    """DataFrame X with its columns of names as the codes of ``adapter.categories`` (an
    Explainer's model knows them), in their order; refused when the adapter knows none."""
    cats = adapter.categories
    if names is None:
        return X
    if cats is None:
        X = in_column_order(X, adapter.input_names, name)  # an Explainer's model: by name
        text = [c for c, col in X.items() if holds_names(col)]  # bools go as 0 and 1
        if text:
            raise TypeError(
                f"{name}'s columns {text[:5]} hold names, not numbers: pass "
                "model=explainer.model, which knows their levels, and "
                "representation=explainer.representation"
            )
        return X
    if sorted(names) != sorted(cats.names):
        raise ValueError(f"{name}'s columns {names[:5]} are not the explainer's {cats.names[:5]}")
    position = {n: j for j, n in enumerate(names)}  # names as strings, as X_fit's were
    return cats.encode(X.iloc[:, [position[n] for n in cats.names]], name)


def _name_columns(meta, names, adapter):
    """Explanations of a DataFrame's rows keep its column names, and its columns of names
    with their levels; rows given as arrays to a model fitted on named columns are shown by
    its names, by which the fidelity tests take a DataFrame of donors in another order."""
    if names is None and adapter._frame_names is not None:  # in the order the rows are in
        meta["display_names"] = list(adapter._frame_names)
    if names is not None:
        meta["feature_names"] = names
        labels = labels_to_json(adapter.input_labels)
        if labels is not None:  # 0, not "0": the fidelity tests query the model with them
            meta["feature_labels"] = labels
        if adapter.categories is not None:
            meta["categories"] = adapter.categories.to_json()


def _by_name(baseline, names, order=None):
    """A pandas baseline (``frame.mean()``) in the order of X's columns, matched by name:
    taken by position, a DataFrame's reordered columns would meet other columns' values.
    Rows of an array are in the order the model's frames are made in (``order``: the
    names of the columns of its rows, as the adapter lays them out): a baseline named by
    strings is matched to those, and refused where none is known; one labelled by numbers
    (a Series of an array's columns) is taken by position. A one-row DataFrame is its
    row, as the Explainer takes it; a list or tuple is values by position."""
    baseline = background_row(baseline)
    index = getattr(baseline, "index", None)
    if index is None or callable(index):  # a list's .index is a method, not names
        return baseline
    if names is None:
        labels = list(index)
        numbered = all(isinstance(label, int | np.integer) for label in labels)
        if order is not None and {str(label) for label in labels} == set(order):
            names = list(order)  # the columns the rows are laid out as: by them
        elif numbered and sorted(labels) == list(range(len(labels))):
            # an array's columns' own numbers (frame.mean().sort_values()): by them
            values = dict(zip(labels, np.asarray(baseline, dtype=np.float64), strict=True))
            return np.array([values[j] for j in range(len(labels))])
        elif not all(isinstance(label, str) for label in labels):  # other numbers: positions
            return baseline
        elif order is None:
            raise ValueError(
                "a baseline by column name needs X as a DataFrame (or a model that knows "
                "its columns' names): pass its values in X's order"
            )
        else:
            names = list(order)
    index = [str(i) for i in index]
    missing = sorted(set(names) - set(index))
    if missing:
        raise ValueError(f"the baseline has no value of X's columns {missing[:5]}")
    values = dict(zip(index, np.asarray(baseline, dtype=np.float64), strict=True))
    return np.array([values[name] for name in names])


def _targets(adapter, X, target):
    """The model's responses on X (``ModelAdapter.responses``) and the targets explained."""
    out = adapter.responses(X)
    return out, class_targets(target, out, adapter.regression, adapter.classes_)


def _explained(adapter, X, c):
    """What LIME and KernelSHAP explain: the probability of class c, or output c's value."""
    return adapter.responses(X)[:, c] if adapter.regression else adapter.proba(X)[:, c]


def _explanation(rep, X, feature_values, targets, log_p, output, method, meta):
    """Per-feature effects spread equally over the feature's elements that differ from the
    baseline; the representation is recorded, as scrutiny's own explanations record it, so
    that levels, labels and the tests that refuse columns of names read them alike.
    ``output``: the surrogate's at each input, on the scale of ``meta["scale"]`` (a
    probability as LIME predicts it, possibly past 1; a logit; a regression's value)."""
    moved = (X != rep.baseline).astype(float)
    share = rep.group_sum(moved)
    per_element = np.where(share > 0, feature_values / np.maximum(share, 1), 0.0)
    values = rep.spread(per_element) * moved
    with np.errstate(divide="ignore", invalid="ignore"):
        coef = np.where(moved > 0, values / (X - rep.baseline), 0.0)
    return Explanation(
        inputs=X,
        values=values,
        coefficients=coef,
        target=targets,
        baseline=rep.baseline,
        model_logit=output_response(log_p, targets, meta.get("outputs") == "values"),
        surrogate_logit=_logit(output) if meta["scale"] == "probability" else output,
        surrogate_output=output,
        method=method,
        meta={"representation": rep.to_json(), **meta},
    )


def _costs(t0, adapter, rows0, m, **settings):
    """What the method costs as its package runs it: from ``t0`` and ``rows0``, taken after
    this module's own query of X (the explained class and the model's logit, which LIME and
    shap do not need: LIME's first sample is the input itself, and the exact Shapley
    values' full coalition), so that LIME's 1,000 samples count 1,000 queries."""
    seconds = time.perf_counter() - t0
    queries = adapter.queried()[0] - rows0
    return {
        **settings,
        # the values add up to the class probability (a regression's value)
        "scale": "value" if adapter.regression else "probability",
        "outputs": adapter.outputs,
        # a function's batches come in X's float dtype, here and in the fidelity tests
        "input_dtype": None if adapter.input_dtype is None else str(adapter.input_dtype),
        **adapter.integer_meta(),
        "seconds": seconds,
        "model_queries": queries,
        "seconds_per_explanation": seconds / m,
        "queries_per_explanation": queries / m,
    }


def _logit(p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def _seed(random_state):
    """An integer seed (or None) for lime and shap, which take no numpy Generator and 32
    bits at most: a Generator, RandomState or SeedSequence given to scrutiny gives one of
    its draws, a larger integer (which scrutiny's own functions take) its SeedSequence's."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {random_state}")
        if random_state < 2**32:  # numpy's global seed, and lime's, takes 32 bits
            return int(random_state)
        return int(np.random.SeedSequence(int(random_state)).generate_state(1)[0])
    if random_state is None:
        return random_state
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**32, dtype=np.int64))
    if isinstance(random_state, np.random.SeedSequence):
        return int(random_state.generate_state(1)[0])
    raise TypeError(
        f"random_state must be an int, a numpy Generator, RandomState or SeedSequence, or "
        f"None; got "
        f"{type(random_state).__name__}"
    )


@contextmanager
def _seeded_global_numpy(seed):
    """shap draws from numpy's global generator: seed it for reproducibility, then give the
    caller back the state it had."""
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(state)  # noqa: NPY002
