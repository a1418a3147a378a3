"""``Explainer``: explain any classifier we can query with DMM-MEN surrogates.

Global mode (the default) queries the model once on ``X_fit`` and fits one surrogate per
explained class to y = logit p_class(x) on the representation's features; explaining new
inputs then costs one batched query (for their class and logit) and no more. Local mode
(LEMNA-style) fits a small mixture per input to the model's logits on perturbed copies of
that input, each with a random subset of its present features switched to the baseline,
regressed on the presence indicators.
"""

from __future__ import annotations

import numbers
import threading
import time
import warnings
import weakref
import zlib

import numpy as np
from scipy.special import logsumexp
from tqdm.auto import tqdm

from scrutiny import _fit_cache
from scrutiny._parallel import fit_many
from scrutiny._validation import (
    as_input_batch,
    background_row,
    class_targets,
    column_names,
    in_column_order,
    job_count,
    labels_to_json,
    missing_cells,
    numbers_inferred,
    numpy_dtype,
    same_columns,
    series_as_row,
)
from scrutiny.categories import Categories, many_levels
from scrutiny.explanation import Explanation
from scrutiny.guided import designed_fits, random_deletions
from scrutiny.models import ModelAdapter
from scrutiny.representations import Representation, make_representation
from scrutiny.representations.tokens import refuse_raw_bytes
from scrutiny.surrogate import DPMixtureRegression
from scrutiny.surrogate.backends import backend_name
from scrutiny.surrogate.driver import chains_run_separately, seed_sequence
from scrutiny.surrogate.estimator import check_settings
from scrutiny.surrogate.kernel import fitted_width
from scrutiny.surrogate.mirror import MirroredRegression

GLOBAL_SURROGATE = {"n_components": 10, "n_sweeps": 300, "dtype": "float32"}
# Small global fits of several classes share one batched kernel, up to this many classes:
# a sweep of such fits costs mostly Python calls, which the classes' chains then share
# (MNIST 2x2 superpixels, 1,000 digits, one core: 6-8 ms per chain-sweep for one class's
# 2 chains, 4-5 ms for 5 classes' 10). Blocks of 5 split 10 classes evenly over 2 cores.
CLASSES_PER_KERNEL = 5
# A global regime holding less than this share of the fit data explains an input mostly
# with prior draws (on 1,000 MNIST digits, under 10 rows for 784 coefficients): say so.
THIN_REGIME = 0.01
# float32 like the global fits: on 50 MNIST digits the same deduction and synthetic PCR at
# every k as float64, 11% less time; on 30 Fashion-MNIST images (470 present pixels) 19% less.
# Local and guided fits are many and parallel over inputs: their chains always run as one
# kernel, whatever their size (10-24% less time per fit on Fashion-MNIST items).
LOCAL_SURROGATE = {"n_components": 5, "n_sweeps": 200, "dtype": "float32", "batch_chains": True}
_SAMPLES = {"global": 1000, "local": 1000, "guided": 100}  # perturbations per input
_PERTURBING = ("n_samples", "max_off", "candidates")  # explain's settings of perturbations
# Guided perturbations delete at most 40% of an input's features: the linear effects that
# rank features are those of removing a few; large deletions saturate the logit. On the
# MNIST MLP (100 perturbations) deduction PCR at k=20 was 0.30 with U(0, 0.4) rates, 0.35
# with U(0, 1).
GUIDED_MAX_RATE = 0.4
# ... and at most this many, whatever the number of candidates: the questions asked of an
# explanation (the fidelity tests' k = 5-80, nullify 20, transplant 40) are about tens of
# features. With 1,000 queries every present feature is a candidate, and 40% of them was
# 60 MNIST pixels, 160 Fashion-MNIST ones. Deduction PCR at k = 20 (200 test inputs,
# guided with 1,000 queries): MNIST 0.115 -> 0.08, Fashion-MNIST 0.335 -> 0.295 and (the
# global fit of seed 1) 0.36 -> 0.285, with k = 40 and 80 level; synthetic PCR pays (MNIST
# k = 20 0.945 -> 0.90). 100 queries (80 candidates, at most 32 off) are unchanged.
GUIDED_MAX_OFF = 40
# Guided perturbations switch off only the present features the global fit ranks highest,
# this many per perturbation: a budget spread over every present feature leaves most of
# them to the prior. On the MNIST MLP (100 random perturbations) deduction PCR at k=20 was
# 0.30 over all ~150 present pixels, 0.18-0.19 over the top 60, 0.20-0.21 over the top 80
# or 100; with the designed rounds below, 0.135 over the top 80, 0.145 over 100, 0.16 over
# 60, 0.165 over 150 (docs/benchmarks.md).
GUIDED_CANDIDATES_PER_SAMPLE = 0.8
# Surrogate settings that are the explainer's own, set for each fit it makes: given in
# surrogate=, they are refused (a seed of 1 or 2 gave the same explanations)
OWN_SETTINGS = frozenset({"random_state", "progress"})
# A guided budget starts with this share of random perturbations; the rest comes in rounds,
# each designed on the posterior so far (``guided.thompson_deletions``). On the MNIST MLP
# (100 perturbations, 80 candidates) deduction PCR at k=20 was 0.19 all random, 0.135 with
# 40 random and 6 rounds of 10.
GUIDED_FIRST = 0.4
GUIDED_ROUNDS = 6
# Guided fits are Gaussian, not censored like global and local ones, so they take the exact
# logit. Clipping it at logit_limit flattened the responses that start beyond the limit,
# whose first changes then showed no effect: on the MNIST MLP 25 of 200 test digits have a
# logit above 16, and 60% of the hosts of pathological transplants a logit of the donor's
# class below -16 (pathological rate at k=40: 0.83 clipped, 0.90 exact). A finite logit is
# taken as it is (a logit model's 150 was clipped to 100 here, its explanations off by tens);
# where a probability output rounded to 0 or 1 (an infinite logit) it takes a bound just
# beyond every finite logit of the same input's queries (``logit_bound``), at least this.
GUIDED_LOGIT_LIMIT = 100.0


def class_logit(log_proba, c):
    """log p_c - log(1 - p_c), from log-probabilities: exact for confident classes. c is
    one class, or one per row (rows of several inputs in one call)."""
    n, C = log_proba.shape
    c = np.broadcast_to(c, (n,))
    others = log_proba[np.arange(C) != c[:, None]].reshape(n, C - 1)
    return log_proba[np.arange(n), c] - logsumexp(others, axis=1)


def class_logits(log_proba):
    """(n, C) every class's ``class_logit`` at once, in O(n C) (a class at a time it was
    O(n C^2): a 1,000-class model spent 88 s on them before its first fit). Each class's
    others add up as the row's sum less its own share, scaled by the row's largest
    probability, which holds them to rounding for every class but the largest, whose
    others are added up exactly."""
    lp = np.asarray(log_proba, dtype=np.float64)
    rows = np.arange(len(lp))
    top = lp.argmax(axis=1)
    high = lp[rows, top]
    share = np.exp(lp - high[:, None])  # the largest is 1: no other's total cancels
    with np.errstate(divide="ignore"):  # one class: no others, an infinite logit
        others = high[:, None] + np.log(share.sum(axis=1, keepdims=True) - share)
    rest = lp.copy()
    rest[rows, top] = -np.inf
    others[rows, top] = logsumexp(rest, axis=1)
    return lp - others


# an explainer's model state, pickled, where its model had been trained again: it equals
# no ``ModelAdapter.state()``, so the copy warns as the original did
_RETRAINED = "trained again"

# How far two answers of a model to the same inputs may differ: a classifier's compared as
# the surrogates are fitted to them, each class's logit, censored at the explainer's
# logit_limit, in nats beyond what rounding its probabilities to the model's precision
# moves them (their probabilities hid a change of nats in a confident model's logits, 1e-6
# in p); a regression model's values relative to the largest of each output (float32
# rounds them by ~1e-7 of that; one output in thousands hid another in hundredths).
LOGIT_TOLERANCE = 1e-3
VALUE_TOLERANCE = 1e-4
# A model asked about a few fit inputs twice, to warn of one that answers at random (dropout
# in training mode moved a small net's logits by 0.3 nats), may move them by far more than
# rounding: a GPU's reduced-precision matrix products (TF32: 2^-11 relative) differ with the
# batch they are computed in. Tolerated, as noise a fit hardly notices: 0.1 nats, or 1% of
# a regression output's largest value.
REPEATED_ROWS = 8
REPEAT_TOLERANCE = {"logits": 0.1, "values": 1e-2}


def scale_of(spread):
    """``spread`` (each output's range) where it is a scale, None where it is not given or
    is 0 everywhere (one fit row, a flat model: divided by it, rounding read 1e293 times
    the tolerance)."""
    return spread if spread is not None and np.max(spread) > 0 else None


def output_gap(before, now, regression, eps, limit, spread=None, scale_name=None):
    """(gap, what): how far ``now`` strays from ``before``, two answers
    (``ModelAdapter.responses``, the same shape) to the same inputs, in the units of what
    is fitted; ``eps`` the model's output precision, ``limit`` the logits' censoring.
    ``spread``: each output's range over the fit data, a regression's scale (else its
    largest |value| on these rows, which an offset inflates: the same noise went unseen in
    kelvin that was seen in Celsius), named ``scale_name`` where it is another scale."""
    if regression:
        # each output on its own scale, but not below a thousandth of the largest: an
        # output at 0 on these rows would turn rounding into a refusal
        spread = scale_of(spread)
        scale = np.abs(before).max(axis=0) if spread is None else np.asarray(spread, float)
        scale = np.maximum(np.maximum(scale, 1e-3 * scale.max()), np.finfo(float).tiny)
        slack = 2 * eps * np.maximum(np.abs(before), np.abs(now))  # each answer's rounding
        gap = float((np.maximum(np.abs(now - before) - slack, 0) / scale).max())
        what = "largest" if spread is None else scale_name or "range over the fit data"
        return gap, f"outputs, relative to each one's {what}, past rounding,"
    p = np.exp(before)
    moved = np.abs(
        np.clip(class_logits(now), -limit, limit) - np.clip(class_logits(before), -limit, limit)
    )
    # a probability rounded to the model's precision (1 - p too, which a sigmoid's [1 - p,
    # p] takes by subtraction) moves the logit by eps / p + eps / (1 - p), in each of the
    # two answers: 1e-3 nats at logit 10 in float32
    with np.errstate(divide="ignore"):
        slack = 2 * eps * (1 / p + 1 / (1 - p))
    gap = max(0.0, float((moved - slack).max()))
    return gap, f"class logits (within +-{limit:g}, as fitted), past rounding,"


def logit_bound(log_proba, axis=None):
    """Where a probability that rounded to 0 or 1 puts a class logit (infinite): just
    beyond every finite one these outputs hold (a class logit is at most minus the smallest
    log-probability of the other classes), and at least ``GUIDED_LOGIT_LIMIT`` (a random
    forest's 1 / 100 trees: 100, as its votes). Taken from one input's own queries (per
    row of ``axis``), so that its explanation depends on nothing else the model was asked:
    a bound kept over every output so far changed an explanation with the inputs explained
    before it, beside it, and across a save and load."""
    deepest = np.min(log_proba, axis=axis, where=np.isfinite(log_proba), initial=0.0)
    return np.maximum(GUIDED_LOGIT_LIMIT, 1.0 - deepest)


def guided_logit(log_proba, c, bound=None):
    """``class_logit`` of class c as the response of a guided fit: exact where finite, and
    +-``bound`` (at least ``GUIDED_LOGIT_LIMIT``; one, or one per row) where a probability
    rounded to 0 or 1; None: the ``logit_bound`` of these outputs."""
    y = class_logit(log_proba, c)
    bound = logit_bound(log_proba) if bound is None else bound
    return np.where(np.isfinite(y), y, np.sign(y) * np.maximum(bound, GUIDED_LOGIT_LIMIT))


def held_bound_logits(outs, idx, targets, bounds):
    """[``guided_logit`` of outs[n], input idx[n]'s outputs, of class targets[idx[n]]], an
    infinite logit at ``bounds[idx[n]]``: set by the input's first round of queries and
    held for its rounds after it, so that nothing else the model was asked moves it."""
    pairs = list(zip(idx, outs, strict=True))
    for i, out in pairs:
        if i not in bounds:
            bounds[i] = logit_bound(out)
    return [guided_logit(out, targets[i], bounds[i]) for i, out in pairs]


def output_response(out, c, regression):
    """What a surrogate of output column c regresses, from ``ModelAdapter.responses``: a
    class's logit, or a regression model's value. c is one column, or one per row."""
    if not regression:
        return class_logit(out, c)
    return out[np.arange(len(out)), np.broadcast_to(c, (len(out),))]


def target_logit(log_proba, targets):
    """``class_logit`` of a different class for each row."""
    rows = np.arange(len(targets))
    others = log_proba.copy()
    others[rows, targets] = -np.inf
    return log_proba[rows, targets] - logsumexp(others, axis=1)


_FIT_LOCKS = weakref.WeakKeyDictionary()  # explainer -> the lock its fits take turns on
_FIT_LOCKS_LOCK = threading.Lock()


def _lock_of(explainer):
    """The explainer's fit lock: 8 threads explaining digits at once with a fresh explainer
    fitted each of its 2 blocks of classes 6 times, and counted 25x the fit's seconds. Not
    an attribute: explainers are pickled and deep-copied, and a lock is neither."""
    with _FIT_LOCKS_LOCK:
        return _FIT_LOCKS.setdefault(explainer, threading.RLock())


class Explainer:
    """Explain a classifier's decisions (or a regression model's outputs) with DMM-MEN
    surrogates.

    Parameters
    ----------
    model : callable, torch.nn.Module, scikit-learn classifier, or .onnx / TorchScript /
        torch.export (.pt2) path
        See ``scrutiny.models.ModelAdapter``.
    X_fit : array (n, *input_shape), or a DataFrame of table rows
        Inputs the global surrogates are fitted on (and the tabular baseline is taken from).
        A DataFrame's columns of names (strings, categoricals) and bools are categorical
        (``categories_``, ``scrutiny.categories``): carried as level codes, their levels
        those of X_fit, and the model is queried with the names.
    mode : "global", "local" or "guided"
        Guided: the global fit, then per input a Bayesian linear update of its component's
        effects on ``n_samples`` perturbations, most of them designed in rounds on the
        posterior so far (``scrutiny.guided``).
    outputs : "probabilities", "logits" or "values"
        What the model returns. "values": a regression model, whose outputs (one or
        several columns) are explained as they are, uncensored, in place of class logits;
        its target is an output column (default: the first).
    representation : None, "image", "tabular", "tokens" or a ``Representation``
        None: images when samples have 2 or 3 dimensions, tabular when they are flat,
        tokens for a model ``TextEncoder.wrap`` made. "tokens": texts as rows of
        ``scrutiny.text.TextEncoder`` (local mode only).
    baseline : None, scalar, array of the input shape, or {column name: value}
        The value meaning "absent": 0 for images, the training mean for tabular data (for a
        DataFrame's columns of names, strings, categoricals or bools, their most frequent
        level, as its code: the model is queried with the names). An image's may also be
        one value per channel, (C,), in either channel layout. A table's may be given by
        column name (a dict, or a pandas Series such as
        ``X_fit.select_dtypes("number").median()``, which leaves bools out; a column of
        names takes a level's name), the columns not named keeping their default. One
        number is every column of numbers' (columns of names keep their most frequent).
    superpixel : int or None
        Square blocks of this many pixels a side as the image features.
    categorical : None or list of column names or numbers
        Table columns of numbers that name something (a zip code, a level's code), to be
        explained as columns of names are: switched off to their most frequent value, one
        effect per value in global fits. The values X_fit holds are the only ones explained.
    classes : None or list of int
        Classes that ``fit()`` fits in global mode (default: every class). Each is fitted
        the first time it is explained, or by ``fit()``; an input explained for another
        class (its predicted class, by default) has that class fitted too, on its own.
        Small fits share batched kernels in fixed blocks of these classes, fitted whole, so
        an explanation does not depend on the order in which inputs are explained or on
        which others are explained with it.
    surrogate : dict
        Settings of ``DPMixtureRegression`` (defaults: ``GLOBAL_SURROGATE`` or
        ``LOCAL_SURROGATE``).
    logit_limit : float
        Global and local fits censor logits beyond +-logit_limit there (their likelihood is
        a Tobit one): over many inputs, the exact far tails (logits of -50) would dominate
        the fit, while clipping them would tie thousands of rows at the bound. Guided fits,
        around one input, take the exact logit. A regression model's values are never
        censored.
    fit_perturbations : int
        Global mode: also fit on this many perturbed copies of every ``X_fit`` input (each
        with a random share of its present features switched to the baseline), so that the
        surrogates see the kind of inputs that removing features creates.
    n_samples : int or None
        Perturbations per input in local (default 1,000) and guided (default 100) mode, the
        explainer's own (a global explainer's guided explanations take 100 unless
        ``explain`` is given another); the unperturbed input is the first.
    batch_size : int
        Rows per model call.
    n_jobs : int or None
        Surrogate fits run at once in worker processes; None = one per core, -1 all cores,
        -2 all but one. Results do not depend on it. Small global fits run up to
        ``CLASSES_PER_KERNEL`` classes as one job, their chains in one batched kernel.
    progress : bool
    random_state : None, int, numpy.random.Generator or SeedSequence
    cache_fits : bool
        Keep global fits on disk (``$SCRUTINY_CACHE/fits``) keyed by a hash of their data,
        settings and the sampler's code, and load them instead of refitting: the same
        command on the same model and data then skips the fit. ``cached_fits_`` lists the
        classes loaded.
    """

    def __init__(
        self,
        model,
        X_fit=None,
        *,
        mode="global",
        outputs="probabilities",
        representation=None,
        baseline=None,
        superpixel=None,
        categorical=None,
        classes=None,
        surrogate=None,
        logit_limit=16.0,
        fit_perturbations=0,
        n_samples=None,
        batch_size=256,
        n_jobs=None,
        progress=True,
        random_state=None,
        cache_fits=False,
    ):
        if mode not in ("global", "local", "guided"):
            raise ValueError(f"mode must be 'global', 'local' or 'guided', got {mode!r}")
        if isinstance(representation, Representation):  # its own: these would be ignored
            given = {"baseline": baseline, "superpixel": superpixel, "categorical": categorical}
            ignored = [name for name, value in given.items() if value is not None]
            if ignored:
                raise ValueError(
                    f"{', '.join(ignored)} cannot be given with a Representation, which has "
                    f"its own: make the representation with them"
                )
        self.model = (
            model
            if isinstance(model, ModelAdapter)
            else ModelAdapter(model, outputs=outputs, batch_size=batch_size)
        )
        representation = _of_texts(model, representation)
        if X_fit is None:
            raise ValueError("X_fit is required: inputs like the ones to explain")
        X_fit = numbers_inferred(X_fit)
        missing_cells(X_fit, "X_fit")  # by column and row label, as X's ("(5, 1)" before)
        self.feature_names_ = column_names(X_fit)
        labels = getattr(X_fit, "columns", None)
        self.categories_ = None if self.feature_names_ is None else Categories.from_frame(X_fit)
        _refuse_other_setup(self.model, self.feature_names_, self.categories_)
        _refuse_unread_columns(self.model.fitted_names, self.feature_names_)
        if self.categories_ is not None:
            X_fit = self.categories_.encode(X_fit, "X_fit")
            self.model.categories = self.categories_  # queried with the names, not the codes
        self.model.take_dtype(X_fit)
        given = getattr(X_fit, "dtype", None)
        X_fit = as_input_batch(X_fit, "X_fit")
        if self.feature_names_ is not None and self.model.input_names is None:
            self.model.input_names = self.feature_names_  # for a model fitted on a DataFrame
            self.model.input_labels = list(labels)  # as it had them: 0, not "0"
        self.mode = mode
        cats = self.categories_
        named = set() if cats is None else set(cats.columns.tolist())
        columns = sorted(named | set(_column_numbers(categorical, self.feature_names_, X_fit)))
        levels = [  # a column of strings: its codes; numbers that name things: their values
            np.arange(cats.n_levels[cats.columns.tolist().index(j)])
            if j in named
            else np.unique(X_fit[:, j])
            for j in columns
        ]
        for j, lv in zip(columns, levels, strict=True):
            if j not in named:
                many_levels(lv.size, len(X_fit), f"X_fit's column {j}")
        baseline = background_row(baseline)  # a one-row DataFrame: by name, as a Series
        if columns and self.feature_names_ is not None and isinstance(baseline, numbers.Real):
            # one number, for the columns of numbers: 0 made a column of names' baseline
            # code 0, its first name in order, not its most frequent (categorical=
            # columns' too: "baseline 0 is none of its levels")
            numeric = [n for j, n in enumerate(self.feature_names_) if j not in columns]
            baseline = dict.fromkeys(numeric, baseline)
        if isinstance(baseline, dict) or (  # by column name: a dict, or a pandas Series
            hasattr(baseline, "to_dict") and getattr(baseline, "ndim", 0) == 1
        ):
            baseline = self._baseline_by_name(baseline, X_fit, columns, levels)
        fitted = self.model.fitted_names  # fit data without names are in the model's order
        own = fitted if fitted is not None and len(fitted) == X_fit[0].size else None
        self.representation = make_representation(
            representation,
            X_fit,
            baseline,
            superpixel,
            columns,
            levels,
            self.feature_names_ or own,  # a baseline's DataFrame rows go there by name
            numpy_dtype(given),  # X_fit's own: uint8 pixels are of 0-255
        )
        names = self.feature_names_
        if self.representation.kind == "tabular" and self.model.column_dtypes and names:
            # columns of whole numbers whose baseline is whole: whole in every row made
            base = dict(zip(names, self.representation.baseline, strict=True))
            self.model.whole_columns = sorted(
                n for n in self.model.column_dtypes if float(base.get(n, 0.5)).is_integer()
            )
        if self.representation.kind == "tokens":
            refuse_raw_bytes(given, "X_fit")
            self.model.token_ids = True
        if self.representation.kind == "tokens" and mode != "local":
            raise ValueError(
                f"tokens are explained in mode='local', not {mode!r}: a position holds "
                "different words in different texts, so no global surrogate fits them"
            )
        self.classes = None if classes is None else _class_list(classes)
        defaults = LOCAL_SURROGATE if mode == "local" else GLOBAL_SURROGATE
        if surrogate is not None and not isinstance(surrogate, dict):  # "x": not a mapping
            raise TypeError(f"surrogate must be a dict of settings or None, got {surrogate!r}")
        own = sorted(OWN_SETTINGS & set(surrogate or {}))
        if own:
            raise ValueError(
                f"surrogate={{{own[0]!r}: ...}} is the explainer's own setting, not a "
                f"surrogate's: pass Explainer(..., {own[0]}=...)"
            )
        self.surrogate = {**defaults, **(surrogate or {})}
        check_settings(self.surrogate)
        if isinstance(logit_limit, bool) or not isinstance(logit_limit, numbers.Real):
            raise TypeError(f"logit_limit must be a number, got {logit_limit!r}")  # "16"
        if not (np.isfinite(logit_limit) and logit_limit > 0):  # inf: a certain class's logit
            raise ValueError(f"logit_limit must be finite and positive, got {logit_limit!r}")
        self.logit_limit = float(logit_limit)
        self.n_samples = _count(
            _SAMPLES[mode] if n_samples is None else n_samples, "n_samples", 20, "perturbations"
        )
        # what the caller set for this explainer's own mode, which other modes do not take
        self._given = {"surrogate": bool(surrogate), "n_samples": n_samples is not None}
        job_count(n_jobs)  # refused here, before any query, if it is no number of jobs
        self.n_jobs = n_jobs
        self.progress = progress
        # the seed's spawn key too: children of one SeedSequence (its spawn()) share entropy
        root = seed_sequence(random_state)
        self._entropy, self._spawn_key = root.entropy, tuple(root.spawn_key)
        self.fit_perturbations = _count(fit_perturbations, "fit_perturbations", 0, "copies")
        self._X_fit = X_fit
        self._fit_range = None  # each element's (min, max) over X_fit, when first needed
        self._fit_log_proba = None
        self._model_state = None  # the model's ``state()`` when the fit outputs were read
        self._graded = None  # (classes, those with something to learn), found once
        self.n_classes_ = None  # the model's, once it was queried on the fit data
        self.cache_fits = bool(cache_fits)
        if self.cache_fits and random_state is None:  # a fresh seed: a key never met again
            warnings.warn(
                "cache_fits needs a random_state: without one each explainer draws a fresh "
                "seed, so no stored fit would ever be loaded again; fits are not cached",
                stacklevel=2,
            )
            self.cache_fits = False
        self.cached_fits_ = []
        self.surrogates_ = {}
        self._intervals_ = {}
        self.fit_seconds_ = 0.0
        self.fit_queries_ = 0
        self._fit_by_thread = {}  # the fit costs each thread incurred, for its explain's

    def _baseline_by_name(self, given, X_fit, columns, levels):
        """A table's baseline from {column name: value} (a dict, or a pandas Series such as
        ``frame.median()``): the named columns take their values (a column of names its
        level, by name), the others their default (the mean, or the most frequent level)."""
        names = self.feature_names_
        if names is None:
            raise ValueError("a baseline by column name needs X_fit as a DataFrame")
        default = make_representation("tabular", X_fit, None, None, columns, levels).baseline
        cats = self.categories_
        for name, value in dict(given).items():
            if str(name) not in names:
                raise ValueError(f"the baseline names column {name!r}, which X_fit lacks")
            j = names.index(str(name))
            if cats is not None and j in cats.columns:
                default[j] = cats.code(name, value, "the baseline")
            else:
                default[j] = float(value)
        return default

    def __repr__(self):
        return (
            f"Explainer(mode={self.mode!r}, model={self.model!r}, "
            f"representation={self.representation.kind!r}, fitted={sorted(self.surrogates_)})"
        )

    # -- global mode ----------------------------------------------------------------------

    def fit(self, classes=None):
        """Fit the global surrogates of ``classes`` (default: the ``classes`` given, or
        every class) that are not fitted yet, each with the others of its block (see
        ``_class_blocks``). Returns self."""
        if self.mode == "local":
            raise RuntimeError("fit() builds global surrogates; local mode fits per input")
        if isinstance(classes, int | np.integer) and not isinstance(classes, bool):
            classes = [classes]  # fit(3), as explain(X, target=3) takes one
        if classes is not None:
            classes = _class_list(classes)  # 3.9 fitted class 3, True class 1
        if self._X_fit is None:
            return self._fitted_only(classes)
        with _lock_of(self):  # threads explaining at once fit each class once, in turn
            return self._fit_classes(classes)

    def _fit_classes(self, classes):
        """``fit`` of ``classes`` (a list, or None), while no other thread fits."""
        if not self.surrogates_ and self._fit_log_proba is None:  # a first fit: refused before
            # the model is queried for it if this machine cannot hold one class's (a loaded
            # explainer's other classes are refused by the fit itself)
            self._refuse_beyond_memory()
        log_p = self._fit_outputs()
        regression = self.model.regression
        every = self.classes if self.classes is not None else range(log_p.shape[1])
        classes = every if classes is None else classes
        todo = sorted(set(classes) - set(self.surrogates_))
        for c in {*todo, *every}:
            if not 0 <= c < log_p.shape[1]:
                raise ValueError(
                    f"{self._name(c)} does not exist: the model has {log_p.shape[1]} "
                    + ("outputs" if regression else "classes")
                )
        # class 0's logit is minus class 1's: fit class 1 only
        binary = log_p.shape[1] == 2 and not regression
        if binary:
            every, todo = [1], [1] if todo and 1 not in self.surrogates_ else []
        if not todo:
            return self._mirrored(binary)
        t0 = time.perf_counter()
        Z = self.representation.design(self._fit_X)
        responses = log_p if regression else class_logits(log_p)  # every class's, at once
        # blocks of the classes with something to learn (a class whose logit is censored
        # on every fit input is refused below, when asked for)
        limit = np.inf if regression else self.logit_limit
        if self._graded is None or self._graded[0] != tuple(every):
            # once: a new block of a 400-class model spent 7 s here, and its fit 0.2 s
            found = [c for c in every if _graded(responses[:, c], limit)]
            self._graded = (tuple(every), found)
        graded = self._graded[1]
        jobs = []
        for block in self._class_blocks(graded, Z) + [(c,) for c in todo if c not in graded]:
            if not set(block) & set(todo):
                continue
            Y = responses[:, list(block)]
            for c, y in zip(block, Y.T, strict=True):
                _require_graded(y, limit, f"{self._name(c)} on every fit input")
            jobs.append((block, Z, Y, self._settings((0, *block))))
        keys = {}
        if self.cache_fits:  # a block is loaded only whole: its classes share one kernel
            for block, _, Y, s in jobs:
                for i, c in enumerate(block):
                    keys[c] = _fit_cache.fit_key(Z, Y, {**s, "response": i}, self._bounds)
                regs = [_fit_cache.load(keys[c]) for c in block]
                if all(reg is not None for reg in regs):
                    self.surrogates_.update(zip(block, regs, strict=True))
                    self.cached_fits_.extend(block)
            jobs = [job for job in jobs if job[0][0] not in self.surrogates_]
        fits = fit_many(
            jobs,
            self._bounds,
            self.n_jobs,
            self.progress,
            desc="fitting blocks of class surrogates",
        )
        for block, regs in fits.items():
            self.surrogates_.update(zip(block, regs, strict=True))
        if self.cache_fits:
            _fit_cache.store_all([(keys[c], self.surrogates_[c]) for b in fits for c in b])
        self._count_fit(time.perf_counter() - t0)
        return self._mirrored(binary)

    def _fitted_only(self, classes):
        """Self, if ``classes`` (default: all) were fitted before this explainer was saved
        without its fit data; else a ValueError naming those that were not (or that none
        was: saved before any fit, it cannot tell its model's classes, and can explain none)."""
        every = self.classes if self.classes is not None else range(self.n_classes_ or 0)
        missing = sorted(set(every if classes is None else classes) - set(self.surrogates_))
        if missing or not self.surrogates_:
            kind, kinds = (
                ("output", "output(s)") if self.model.regression else ("class", "class(es)")
            )
            what = f"{kinds} {missing} were not fitted" if missing else f"no {kind} was fitted"
            raise ValueError(
                f"{what} when this explainer was saved without its fit data "
                "(save(fit_data=False)): fit() them before saving, or save with the fit data"
            )
        return self

    def _mirrored(self, binary):
        """Self, with a binary model's class 0 read from the fit of class 1."""
        if binary and 1 in self.surrogates_:
            self.surrogates_.setdefault(0, MirroredRegression(self.surrogates_[1]))
        return self

    def _class_blocks(self, classes, Z):
        """``classes`` in blocks fitted as one: up to ``CLASSES_PER_KERNEL`` of them when
        their fits are small enough to run batched, else one by one. The blocks depend only
        on the fit's size and the explainer's classes, and a block is always fitted whole,
        so a class's fit depends neither on n_jobs nor on which classes were asked for
        first."""
        s = {**DPMixtureRegression().get_params(), **self.surrogate}
        n_cols = fitted_width(Z, s["fit_intercept"])
        backend = backend_name(s["device"])
        alone = chains_run_separately(len(Z), n_cols, s["n_sweeps"], backend)
        size = 1 if alone else CLASSES_PER_KERNEL
        n_blocks = max(1, -(-len(classes) // size))
        return [tuple(int(c) for c in b) for b in np.array_split(classes, n_blocks) if b.size]

    def _refuse_beyond_memory(self):
        """Refuse a global fit this machine cannot hold, as its surrogate would once the
        model had been queried: on the fit data's design, of its columns not 0 everywhere
        (perturbed copies switch columns off, never on), with the explainer's n_jobs; the
        design's width first, then (only if that is too much) its used columns, counted a
        chunk of rows at a time (the whole design of 1,500 colour images was 1.7 GiB)."""
        settings = {"n_jobs": self.n_jobs, **self.surrogate}
        rows = len(self._X_fit) * (1 + self.fit_perturbations)
        intercept = int(settings.get("fit_intercept", True))
        rep, X = self.representation, self._X_fit
        width = rep.design(X[:1]).shape[1]
        try:
            check_settings(settings, fit_shape=(rows, width + intercept))
            return
        except ValueError:
            used = np.zeros(width, dtype=bool)
            for a in range(0, len(X), 256):
                used |= (rep.design(X[a : a + 256]) != 0).any(axis=0)
        check_settings(settings, fit_shape=(rows, int(used.sum()) + intercept))

    def _fit_outputs(self):
        if self._fit_log_proba is None:
            t0, (rows, calls) = time.perf_counter(), self.model.queried()
            self._fit_X = self._fit_inputs()
            self._model_state = self.model.state()
            self._fit_log_proba = self.model.responses(self._fit_X)
            self._warn_nondeterministic()
            self.n_classes_ = self._fit_log_proba.shape[1]
            rows1, calls1 = self.model.queried()
            self._count_fit(time.perf_counter() - t0, rows1 - rows, calls1 - calls)
        return self._fit_log_proba

    def _count_fit(self, seconds, queries=0, calls=0):
        """Add to the fit's costs, in all and this thread's (``_fit_costs``)."""
        self.fit_seconds_ += seconds
        self.fit_queries_ += queries
        mine = self._fit_by_thread.setdefault(threading.get_ident(), [0.0, 0, 0])
        mine[0] += seconds
        mine[1] += queries
        mine[2] += calls

    def __getstate__(self):
        """Pickled (or deep-copied) after its model was trained again, it says so: taken
        again on the copy, the new model's state passed for the one fitted, and the copy
        explained the new model with the old one's surrogates, with no word."""
        state = self.__dict__.copy()
        if self._retrained():
            state["_model_state"] = _RETRAINED
        return state

    def __setstate__(self, state):
        """Unpickled (or deep-copied), its model's tensors and fitted objects are new ones:
        their ``state`` is taken again, as of the model it was pickled with (one pickled
        before explainers took it has none, and checks nothing)."""
        self.__dict__.update(state)
        known = state.get("_model_state")
        self._model_state = known if known in (None, _RETRAINED) else self.model.state()

    def _retrained(self):
        """Whether the model was trained again since its outputs on the fit data were read
        (a torch module's tensors changed in place, a scikit-learn model fitted anew);
        False for models that say nothing of their state (a plain function)."""
        return self._model_state is not None and self.model.state() != self._model_state

    def _warn_retrained(self):
        """Warn where the model was ``_retrained``: the surrogates still explain the model
        as it was, and guided fits mixed the two."""
        if self._retrained():
            warnings.warn(
                "the model was trained again after this explainer read its outputs on the "
                "fit data: its surrogates explain the model as it was then; make a new "
                "Explainer to explain it as it is",
                UserWarning,
                stacklevel=3,
            )

    def _warn_nondeterministic(self):
        """Ask the model about a few fit inputs again: one that answers differently (dropout
        left in training mode inside a function) had every surrogate fitted to its noise,
        and its explanations changed from call to call, seed and all, with no word said.
        A warning, not a refusal: a model may sample on purpose (Monte-Carlo dropout, the
        mean of 50 passes: 0.4 nats apart), and is then explained as the draws it gave."""
        rows = np.unique(np.linspace(0, len(self._fit_X) - 1, REPEATED_ROWS).astype(np.int64))
        before = self._fit_log_proba[rows]
        tolerance = REPEAT_TOLERANCE["values" if self.model.regression else "logits"]
        gap, what = output_gap(
            before,
            self.model.responses(self._fit_X[rows]),
            self.model.regression,
            self.model.output_eps,
            self.logit_limit,
            spread=np.ptp(self._fit_log_proba, axis=0),
        )
        if not gap <= tolerance:
            warnings.warn(
                f"the model answers the same inputs differently: asked about {len(rows)} fit "
                f"inputs again, its {what} moved by up to {gap:.3g} (tolerance {tolerance:g}), "
                "so the explanations fit its noise and change from run to run. Dropout or "
                "batch normalisation left in training mode? Call model.eval() before wrapping "
                "it, then make a new Explainer (this one keeps the outputs it read); a model "
                "that samples on purpose is explained as the draws it gave",
                UserWarning,
                stacklevel=4,
            )

    @property
    def _bounds(self):
        """Where the responses are censored: class logits at +-logit_limit, values nowhere."""
        return (None, None) if self.model.regression else (-self.logit_limit, self.logit_limit)

    def _name(self, c):
        return f"output {c}" if self.model.regression else f"class {c}"

    def _fit_inputs(self):
        """X_fit, then ``fit_perturbations`` seeded perturbed copies of it."""
        if not self.fit_perturbations:
            return self._X_fit
        rep, X = self.representation, self._X_fit
        rng = np.random.default_rng(self._seed((2,)))
        copies = [X]
        for _ in range(self.fit_perturbations):
            rate = rng.uniform(size=(len(X), 1))
            keep = rng.uniform(size=(len(X), rep.n_features)) >= rate
            copies.append(np.where(rep.spread(keep, context=True), X, rep.baseline))
        return np.concatenate(copies)

    def _seed(self, key):
        """The seed of the draws named by ``key``, under this explainer's random_state."""
        return np.random.SeedSequence(self._entropy, spawn_key=(*self._spawn_key, *key))

    def _settings(self, key, local=False):
        """Surrogate settings with a seed of its own for each fit; a global explainer asked
        for local explanations uses the local defaults."""
        seed = self._seed(key).generate_state(2)
        base = LOCAL_SURROGATE if local and self.mode != "local" else self.surrogate
        return {
            **base,
            "progress": False,
            "random_state": int(seed[0]) << 32 | int(seed[1]),
        }

    # -- saving -------------------------------------------------------------------------

    def save(self, path, fit_data=True):
        """Write ``path.npz`` and ``path.json``: the settings, the representation, every
        surrogate fitted so far and (``fit_data``) X_fit with the model's outputs on it, so
        that ``Explainer.load`` gives back an explainer whose explanations are identical
        and that fits any other class as this one would, with no new query of the fit
        data. Without the fit data only the classes fitted so far can be explained (call
        ``fit()`` first for all). Plain arrays and JSON with checksums: loading refuses a
        modified file and never unpickles. Returns the .npz path."""
        from scrutiny.saved_explainer import save_explainer

        return save_explainer(self, path, fit_data=fit_data)

    @classmethod
    def load(
        cls, path, model, *, outputs=None, batch_size=None, n_jobs=None, progress=None, device=None
    ):
        """The explainer written by ``save``, explaining ``model`` (which is not saved;
        its settings ``outputs`` and ``batch_size`` default to the saved ones). A model
        that does not give the saved outputs on 16 fit inputs is refused (without the fit
        data, on the baseline input; texts cannot be checked so): a classifier's class
        logits as fitted, to 1e-3 nats. ``device``
        (default: the saved one) is where later fits run: an explainer fitted on a GPU
        explains with its saved fits on a machine without one given ``device="cpu"``;
        ``n_jobs`` and ``progress`` as the constructor's (default: the saved ones)."""
        from scrutiny.saved_explainer import load_explainer

        overrides = {"outputs": outputs, "batch_size": batch_size, "n_jobs": n_jobs}
        return load_explainer(cls, path, model, {**overrides, "progress": progress}, device)

    # -- explaining ----------------------------------------------------------------------

    def _warn_unused(self, mode, n_samples):
        """Say when settings given for this explainer's mode are not the ones another mode
        takes (the README's ridge ablation ran the default local mixture, unsaid)."""
        given = getattr(self, "_given", {})  # {} for a loaded one (load_explainer): its own
        unused = []
        if mode not in (self.mode, "global") and n_samples is None and given.get("n_samples"):
            unused.append(
                f"n_samples={self.n_samples} (mode={mode!r} takes {_SAMPLES[mode]}: pass "
                "n_samples to explain)"
            )
        if mode == "local" and self.mode != "local" and given.get("surrogate"):
            unused.append(
                "surrogate= (local fits take LOCAL_SURROGATE: make an "
                "Explainer(mode='local', surrogate=...))"
            )
        if unused:
            warnings.warn(
                f"{' and '.join(unused)}, set for this explainer's mode={self.mode!r}",
                stacklevel=3,
            )

    def samples_of(self, mode):
        """Perturbations per input that ``explain`` takes in ``mode`` by default: this
        explainer's own count in its own mode, else the mode's default."""
        return self.n_samples if mode == self.mode else _SAMPLES[mode]

    def explain(self, X, target=None, mode=None, n_samples=None, max_off=None, candidates=None):
        """Explain the model's outputs on X (n, *input_shape). The explanation's ``meta``
        holds the costs of explaining (``seconds``, ``model_queries``, ``model_calls``)
        apart from those of the global fits (``fit_seconds``, ``fit_queries``: all so far),
        even when this call made them.

        target : None, int or (n,) ints
            Class to explain for each input, as an output column of the model (for a
            scikit-learn classifier, an index into its ``classes_``); None = the model's
            predicted class (for a regression model, ``outputs="values"``, its first output).
        mode, n_samples : None or as in the constructor
            Override the explainer's for this call: a global explainer's surrogates also
            serve ``mode="guided"``.
        max_off : None or int
            Guided and local modes: the scale of the perturbations. Each switches the
            features it may perturb (the present ones; in guided mode the candidates) off
            with its own rate ~ U(0, max_off / n_perturbed), so about max_off of them at
            most (default: rates up to 40% of the candidates and at most
            ``GUIDED_MAX_OFF`` = 40 of them in guided mode, up to 100% in local mode). Set
            near the number of features a question changes (nullify the top 20?), the fit
            measures effects at that scale: on the Fashion-MNIST CNN, whose response to many
            deletions differs from its response to a few, top-20 nullification fools it 48%
            of the time instead of 36% (docs/benchmarks.md).
        candidates : None or int
            Guided mode: perturb only this many of each input's present features, those
            with the largest contributions in its global regime (a binary model's: the
            largest for or against the class, the same for both classes, whose
            explanations are then exact mirror images); the others keep their global
            coefficients. Default: 0.8 x n_samples (80 for 100 perturbations).
        """
        mode = self.mode if mode is None else mode
        if mode not in ("global", "local", "guided"):
            raise ValueError(f"mode must be 'global', 'local' or 'guided', got {mode!r}")
        if mode != "local" and self.mode == "local":
            raise ValueError(f"a local explainer has no global surrogates for mode={mode!r}")
        # a setting this mode does not take was ignored without a word (candidates=2 in
        # local mode gave the default's explanation)
        takes = {"global": (), "local": ("n_samples", "max_off"), "guided": _PERTURBING}
        given = {"n_samples": n_samples, "max_off": max_off, "candidates": candidates}
        unused = [k for k in _PERTURBING if given[k] is not None and k not in takes[mode]]
        if unused:
            raise ValueError(
                f"mode={mode!r} takes no {' or '.join(unused)}: "
                + ("it perturbs nothing" if mode == "global" else "candidates are guided mode's")
            )
        X = self.check_inputs(X)
        self._warn_unused(mode, n_samples)
        if mode != "local":  # a local fit reads the model around each input, wherever it is
            self._warn_far_outside(X)
            # as it is now: the same explanations as a new explainer's, told to make one
            self._warn_retrained()
        if n_samples is None:
            n_samples = self.samples_of(mode)
        n_samples = _count(n_samples, "n_samples", 20, "perturbations")
        if max_off is not None:
            max_off = _count(max_off, "max_off", 1)
        if candidates is None:
            candidates = max(1, round(GUIDED_CANDIDATES_PER_SAMPLE * n_samples))
        candidates = _count(candidates, "candidates", 1)
        fit0 = self._fit_costs()
        t0, (rows0, calls0) = time.perf_counter(), self.model.queried()
        log_p = self.model.responses(X)
        targets = class_targets(target, log_p, self.model.regression, self.model.classes_)
        if mode == "global":
            exp = self._explain_global(X, log_p, targets)
        elif mode == "guided":
            # a binary model's class 0 is its class 1 mirrored, as its global fit is: the
            # same candidates (by |contribution|), perturbations and rounds for both,
            # negated (seeded and ranked per class, effects differed by up to 1 nat); the
            # rounds switch off the top effects for the class the model predicts, whichever
            # is asked (for class 1's, an input of class 0 lost 10.8 nats to its top 10
            # features, against 13.4 designed for its own)
            binary = log_p.shape[1] == 2 and not self.model.regression
            asked = np.ones_like(targets) if binary else targets
            signs = np.where(log_p[:, 0] > log_p[:, 1], -1.0, 1.0) if binary else None
            exp = self._explain_guided(
                X,
                log_p,
                asked,
                n_samples,
                max_off,
                candidates,
                by_magnitude=binary,
                signs=signs,
            )
            if binary:
                _mirror_rows(exp, targets == 0)
                exp.target = targets
        else:
            exp = self._explain_local(X, targets, n_samples, max_off)
        exp.method = f"dmm-men-{mode}"
        # the costs of explaining only: a fit this call made is counted in fit_seconds and
        # fit_queries, once
        fit_s, fit_q, fit_c = (a - b for a, b in zip(self._fit_costs(), fit0, strict=True))
        rows1, calls1 = self.model.queried()
        exp.meta.update(
            mode=mode,
            representation=self.representation.to_json(),
            seconds=time.perf_counter() - t0 - fit_s,
            model_queries=rows1 - rows0 - fit_q,
            model_calls=calls1 - calls0 - fit_c,
            max_off=max_off if mode != "global" else None,  # global mode perturbs nothing
            n_samples=n_samples if mode != "global" else None,  # concatenate compares it
            candidates=candidates if mode == "guided" else None,
            fit_seconds=self.fit_seconds_,
            fit_queries=self.fit_queries_,
            outputs=self.model.outputs,
            # concatenate compares them: batches of explainers set otherwise were joined
            settings={
                "surrogate": _json_ready(self.surrogate),
                "logit_limit": self.logit_limit,
                "fit_perturbations": self.fit_perturbations,
                "seed": [str(self._entropy), list(self._spawn_key)],
            },
        )
        if self.model.input_dtype is not None:  # for the fidelity tests' queries
            exp.meta["input_dtype"] = str(self.model.input_dtype)
        exp.meta.update(self.model.integer_meta())  # and the model its columns of integers
        if self.feature_names_ is not None:
            exp.meta["feature_names"] = list(self.feature_names_)
            labels = labels_to_json(self.model.input_labels)  # 0, not "0", for the tests
            if labels is not None:
                exp.meta["feature_labels"] = labels
        elif self.model.fitted_names is not None:  # fit data without names, in the model's
            # order: shown by its names (a DataFrame in another order was put in that one)
            exp.meta["display_names"] = list(self.model.fitted_names)
        if self.categories_ is not None:
            exp.meta["categories"] = self.categories_.to_json()  # levels, for the model too
        return exp

    __call__ = explain  # explainer(X), as shap's explainers are called

    def _fit_costs(self):
        """(seconds, queries, calls) of fitting, this thread's: an explain subtracts those
        it made from its own costs, not another thread's made meanwhile."""
        return tuple(self._fit_by_thread.get(threading.get_ident(), (0.0, 0, 0)))

    def check_inputs(self, X, name="X"):
        """X as the float64 batch the explainer works on, checked: a DataFrame's columns
        are put in X_fit's order, matched by name, and its columns of names become their
        levels' codes."""
        X = numbers_inferred(X)  # object columns of numbers as numbers: their inf too
        missing_cells(X, name)  # by the caller's column and row, before any reordering
        X = self._in_fit_order(X, name)
        if self.categories_ is not None and column_names(X) is None:
            A = np.asarray(X)
            if A.dtype == object and A.ndim == 2 and A.shape[1] == len(self.feature_names_):
                import pandas as pd  # rows of names and numbers, in X_fit's order

                X = pd.DataFrame(A, columns=self.feature_names_).infer_objects()
        if self.categories_ is not None and column_names(X) is not None:
            X = self.categories_.encode(X, name)
        if self.representation.kind == "tokens":
            refuse_raw_bytes(getattr(X, "dtype", None), name)
        return self.representation.check(as_input_batch(X, name), name)

    def _in_fit_order(self, X, name="X"):
        """X, with a DataFrame's columns put in the order of X_fit's, matched by name (a
        pandas Series is one row, ``df.iloc[i]``, as LIME's and shap's users pass one, and
        so is an array or list of a row's values, ``df.iloc[i].to_numpy()``)."""
        if self.feature_names_ is not None and isinstance(X, list | tuple):
            X = np.asarray(X, dtype=object)  # names and numbers as they are, not as text
        if self.feature_names_ is not None and getattr(X, "ndim", None) == 1:
            X = series_as_row(X)
            if column_names(X) is None and len(X) == len(self.feature_names_):
                X = np.asarray(X)[None]
        # fit data without names are in the model's order: a DataFrame of its columns goes
        # there by name (taken by position, reordered ones met other coefficients)
        names = self.feature_names_ or same_columns(X, self.model.fitted_names)
        return in_column_order(X, names, name)

    def _explain_global(self, X, log_p, targets):
        g = self._global_parts(X, log_p, targets)
        self._warn_unseen(X, targets, g.pop("design"))
        if g["thin"]:
            warnings.warn(
                f"{g['thin']} of {len(X)} inputs fit best in a regime of under "
                f"{THIN_REGIME:.0%} of the fit data, whose coefficients are mostly the "
                "prior's (their surrogate_logit shows how far off it is): fit on more inputs "
                "like them, or explain them with mode='guided'",
                stacklevel=3,
            )
        surrogate_logit = g["intercept"] + np.einsum("ij,ij->i", g["coef"], g.pop("Z"))
        rep = self.representation
        # each (m, F) array let go once mapped to elements: they are the size of the result
        elements = [rep.coefficients_at(X, g.pop(key)) for key in ("coef", "lo", "hi")]
        return self._explanation(
            X, elements, targets, g["comp"], g["prob"], g["y"], surrogate_logit
        )

    def _warn_far_outside(self, X):
        """Warn of inputs beyond the fit data's range by more than its span (images of 0 to
        255 beside fit data of 0 to 1): the global fit extrapolates there, and explained
        without a word, their surrogate logits were 500 where the model's were infinite.
        An image's range is its pixels' together (a digit's rarely lit edge pixel is no
        other scale), a table's each column's; columns the fit data hold constant are
        ``_warn_unseen``'s; token ids are no quantities."""
        kind = self.representation.kind
        if self._X_fit is None or kind not in ("image", "tabular"):
            return
        if self._fit_range is None:
            axis = None if kind == "image" else 0
            self._fit_range = self._X_fit.min(axis=axis), self._X_fit.max(axis=axis)
        lo, hi = self._fit_range
        span = hi - lo
        far = ((X < lo - span) | (X > hi + span)) & (span > 0)
        if far.any():
            i, *at = np.argwhere(far)[0]
            at = tuple(int(a) for a in at)
            where, (low, high) = (at[0] if len(at) == 1 else at), (lo, hi)
            if kind == "tabular":
                low, high = lo[at], hi[at]
            what = "pixels span" if kind == "image" else f"column {where} spans"
            warnings.warn(
                f"{int(far.any(axis=tuple(range(1, X.ndim))).sum())} of {len(X)} inputs hold "
                f"values far outside the fit data's (the first: input {int(i)}, element "
                f"{where}: {X[(i, *at)]:g}, where X_fit's {what} {low:g} to {high:g}): "
                "the global fit extrapolates there (data on another scale, 0 to 255 beside "
                "0 to 1?); fit on inputs like them, or explain them with mode='local'",
                stacklevel=3,
            )

    def _warn_unseen(self, X, targets, design):
        """Warn of table rows holding what no fit row held (a bool True, a level, past a
        column constant at fit): its global coefficient is 0, the posterior mean of a
        column the fit never saw move, an effect of 0 where the model's may be large."""
        if self.representation.kind != "tabular":
            return  # an image's unlit border pixel, lit in a test digit, is no news
        held = np.zeros(len(X), dtype=bool)
        for c in np.unique(targets):
            coef = np.asarray(self.surrogates_[int(c)].coef_)
            never = np.all(_never_moved(coef), axis=0)  # set so at fit
            rows = np.flatnonzero(targets == c)
            held[rows] = (design[np.ix_(rows, np.flatnonzero(never))] != 0).any(axis=1)
        if held.any():
            warnings.warn(
                f"{int(held.sum())} of {len(X)} inputs (the first: input "
                f"{int(np.flatnonzero(held)[0])}) hold a value or level no fit row held: "
                "global mode gives it no effect (the fit never saw it move); explain them "
                "with mode='local', or fit on rows that hold it",
                stacklevel=4,
            )

    def _global_parts(self, X, log_p, targets):
        """Each input's global component and its coefficients (per feature), intervals,
        intercept, posterior probability, and the model's logit."""
        self.fit(np.unique(targets))
        rep = self.representation
        Z, design = rep.features(X), rep.design(X)
        m, F = Z.shape
        g = {
            "Z": Z,
            "coef": np.zeros((m, F)),
            "lo": np.zeros((m, F)),
            "hi": np.zeros((m, F)),
            "comp": np.zeros(m, dtype=np.int64),
            "prob": np.zeros(m),
            "intercept": np.zeros(m),
            "y": np.zeros(m),
            "design": design,  # for the warning of what no fit row held
        }
        thin = 0
        for c in np.unique(targets):
            rows = np.flatnonzero(targets == c)
            reg = self.surrogates_[int(c)]
            g["y"][rows] = output_response(log_p[rows], c, self.model.regression)
            resp = reg.responsibilities(design[rows], g["y"][rows])
            resp[:, reg.occupancy_ == 0] = -1.0  # a component that never held rows
            j = resp.argmax(axis=1)
            thin += int((reg.weights_[j] < THIN_REGIME).sum())
            g["comp"][rows], g["prob"][rows] = j, resp[np.arange(len(rows)), j]
            g["coef"][rows] = rep.from_design(reg.coef_[j], X[rows])
            g["intercept"][rows] = reg.intercept_[j]
            lower, upper = self._class_intervals(c, reg, j)
            g["lo"][rows] = rep.from_design(lower[j], X[rows])
            g["hi"][rows] = rep.from_design(upper[j], X[rows])
        g["thin"] = thin
        return g

    def _class_intervals(self, c, reg, components):
        """Class c's 95% intervals, computed for each of ``components`` the first time it is
        asked: they are quantiles of every draw, and inputs fall in few components (200
        MNIST digits in 14 of the 100 of 10 classes)."""
        if int(c) not in self._intervals_:
            self._intervals_[int(c)] = np.zeros(reg.coef_.shape), np.zeros(reg.coef_.shape), set()
        lower, upper, done = self._intervals_[int(c)]
        todo = sorted(set(np.unique(components).tolist()) - done)
        if todo:
            lower[todo], upper[todo] = (end[todo] for end in _intervals(reg, todo))
            done.update(todo)
        return lower, upper

    def _explain_guided(
        self,
        X,
        log_p,
        targets,
        n_samples,
        max_off,
        candidates,
        by_magnitude=False,
        signs=None,
        chunk=32,
    ):
        """Global component as the prior, corrected by ``n_samples`` perturbations per input
        of its top ``candidates`` present features (by |contribution| if ``by_magnitude``):
        a random first share, then rounds designed on the posterior so far
        (``scrutiny.guided.designed_fits``, for the effects on the target times ``signs``,
        +1 by default). A round queries the model once for a chunk of inputs."""
        rep = self.representation
        g = self._global_parts(X, log_p, targets)
        Z, coef, lo, hi = g["Z"], g["coef"], g["lo"], g["hi"]
        s0 = np.zeros(len(X))
        present = [
            _require_present(np.flatnonzero(rep.present(x)), i, rep) for i, x in enumerate(X)
        ]
        rank = np.abs if by_magnitude else np.asarray
        cands = [  # the top contributions of the input's global regime, largest first,
            # after any the fit never saw move (coefficient 0: a column constant at fit,
            # set in the input, decided the output and was given no effect)
            on[_unseen_first(-rank(coef[i, on] * Z[i, on]), coef[i, on])[:candidates]]
            for i, on in enumerate(present)
        ]
        prior = [coef[i, on] * Z[i, on] for i, on in enumerate(cands)]
        # effects of switching each feature off: the global regime's, then the fits' for
        # the candidates
        effect, e_lo, e_hi = coef * Z, lo * Z, hi * Z
        n_first = round(GUIDED_FIRST * n_samples)  # n_samples >= 20: at least 8
        rounds = [r.size for r in np.array_split(np.arange(n_samples - n_first), GUIDED_ROUNDS)]
        for lo_i in tqdm(
            range(0, len(X), chunk),
            desc=f"guided refits, {chunk} inputs a chunk",
            unit="chunk",
            disable=not self.progress or len(X) <= chunk,
        ):
            idx = range(lo_i, min(lo_i + chunk, len(X)))
            keys = [(self._content_key(X[i]), int(targets[i])) for i in idx]
            rate = [
                min(GUIDED_MAX_RATE, GUIDED_MAX_OFF / cands[i].size)
                if max_off is None
                else min(1.0, max_off / cands[i].size)
                for i in idx
            ]
            first = [
                self._perturbations(cands[i].size, (3, *key), n_first, r)
                for i, key, r in zip(idx, keys, rate, strict=True)
            ]
            rngs = [np.random.default_rng(self._seed((4, *key))) for key in keys]
            bounds = {}  # each input's logit bound, from its first (random) round's outputs

            def respond(keeps, idx=idx, bounds=bounds):
                return self._guided_logits(X, idx, keeps, present, cands, targets, bounds)

            fits = designed_fits(
                first,
                [prior[i] for i in idx],
                rate,
                rngs,
                rounds,
                respond,
                None if signs is None else [signs[i] for i in idx],
            )
            for i, (mean, sd, intercept, _) in zip(idx, fits, strict=True):
                on = cands[i]
                effect[i, on] = mean
                e_lo[i, on], e_hi[i, on] = mean - 1.96 * sd, mean + 1.96 * sd
                s0[i] = intercept + mean.sum()
        values = [rep.effect_values(X, e) for e in (effect, e_lo, e_hi)]
        coef = rep.effect_coefficients(X, effect)
        return self._explanation(X, coef, targets, g["comp"], g["prob"], g["y"], s0, values)

    def _guided_logits(self, X, idx, keeps, present, cands, targets, bounds):
        """[the model's ``guided_logit`` of targets[i] on X[i] with the candidates that keeps
        does not keep switched off, for i in idx], in full batches, each made when it is
        asked; an infinite logit at ``bounds[i]``, set by the first call's outputs of input
        i and held after it."""
        rep = self.representation

        def crafted(i, keep):
            def rows(a, b):
                full = np.zeros((b - a, rep.n_features), dtype=bool)
                full[:, present[i]] = True  # the features that are not candidates stay
                full[:, cands[i]] = keep[a:b]
                return rep.switch_off(X[i], full)

            return len(keep), rows

        blocks = [crafted(i, keep) for i, keep in zip(idx, keeps, strict=True)]
        sizes = [len(k) for k in keeps]
        outs = np.split(self.model.responses_of(blocks), np.cumsum(sizes)[:-1])
        if self.model.regression:
            pairs = zip(idx, outs, strict=True)
            return [output_response(out, targets[i], True) for i, out in pairs]
        return held_bound_logits(outs, idx, targets, bounds)

    def _explanation(self, X, elements, targets, comp, prob, y, surrogate_logit, values=None):
        """The Explanation of ``elements``, per-element coefficients and the lower and upper
        ends of their intervals (three new arrays shaped like X; the ends are overwritten,
        so that no more arrays of X's size are alive than the result holds, and one), times
        X - baseline; or of ``values``, the contributions and their ends as
        ``effect_values`` shares effects, with ``elements`` the coefficients alone (through
        them, a word's interval moved in the last place with the id its encoder gave it)."""
        rep = self.representation
        if values is None:
            d = X - rep.baseline
            coef_el, lo_el, hi_el = elements
            values = coef_el * d, np.multiply(lo_el, d, out=lo_el), np.multiply(hi_el, d, out=hi_el)
        else:
            coef_el = elements
        contributions, a, b = values
        lower = np.minimum(a, b)
        return Explanation(
            inputs=X,
            values=contributions,
            coefficients=coef_el,
            lower=lower,
            upper=np.maximum(a, b, out=b),
            target=targets,
            component=comp,
            component_probability=prob,
            model_logit=y,
            surrogate_logit=surrogate_logit,
            baseline=rep.baseline,
            method="dmm-men",
        )

    # -- local mode -----------------------------------------------------------------------

    def _explain_local(self, X, targets, n_samples, max_off):
        rep = self.representation
        m, F = len(X), rep.n_features
        present = [
            _require_present(np.flatnonzero(rep.present(x)), i, rep) for i, x in enumerate(X)
        ]
        y0 = np.zeros(m)

        def jobs():  # queries the model here, in the calling process, one input at a time
            for i, on in enumerate(present):
                x = X[i]
                key = (1, self._content_key(x), int(targets[i]))
                rate = 1.0 if max_off is None else min(1.0, max_off / on.size)
                keep = self._perturbations(on.size, key, n_samples, rate)
                full = np.zeros((len(keep), F), dtype=bool)
                full[:, on] = keep

                def rows(a, b, x=x, full=full):  # a batch at a time: 1,000 perturbations of
                    return rep.switch_off(x, full[a:b])  # a 224 x 224 colour image were 1.1 GB

                out = self.model.responses_of([(len(full), rows)])
                y = output_response(out, targets[i], self.model.regression)
                _require_graded(
                    y,
                    np.inf if self.model.regression else self.logit_limit,
                    f"{self._name(targets[i])} on every perturbation of input {i}",
                )
                y0[i] = y[0]
                yield i, keep.astype(np.float64), y, self._settings(key, local=True)

        fits = fit_many(
            jobs(),
            self._bounds,
            self.n_jobs,
            self.progress,
            desc="explaining locally",
            total=m,
            summarize=summarize_local,
        )
        # an indicator's coefficient is the effect of switching its feature off
        effect, e_lo, e_hi = np.zeros((m, F)), np.zeros((m, F)), np.zeros((m, F))
        comp, prob, s0 = np.zeros(m, dtype=np.int64), np.zeros(m), np.zeros(m)
        for i, on in enumerate(present):
            comp[i], prob[i], intercept, beta, lower, upper = fits[i]
            s0[i] = intercept + beta.sum()
            effect[i, on], e_lo[i, on], e_hi[i, on] = beta, lower, upper
        values = [rep.effect_values(X, e) for e in (effect, e_lo, e_hi)]
        coef = rep.effect_coefficients(X, effect)
        return self._explanation(X, coef, targets, comp, prob, y0, s0, values)

    def _content_key(self, x):
        """What seeds an input's perturbations: its content, so that the same input gets
        the same explanation whatever it is explained with. Rows of word ids are keyed by
        their text: the ids depend on which texts the encoder met first, and the trailing
        zeros on the longest text encoded beside it."""
        encoder = getattr(self.model._call, "text_encoder", None)
        rep = self.representation
        if encoder is not None:
            return zlib.crc32(encoder.decode(x[None])[0].encode("utf-8", "surrogatepass"))
        if rep.kind == "image":  # in [0, 1], channels last: as the explainer reads it
            # (an image of 0-255 and its copy in [0, 1], channels first or last, were
            # keyed apart, and their guided explanations differed by a third)
            x = np.asarray(x, dtype=np.float64) / float(rep.scale.reshape(-1)[0])
            if rep.channel_axis == 0:
                x = np.moveaxis(x, 0, -1)
        x = np.ascontiguousarray(x)
        if x.dtype.kind == "f":  # -0.0 (np.round of a small negative) is 0.0: its bytes not
            x = x + 0.0  # (a row holding it got other perturbations, values 0.2 apart)
        return zlib.crc32(x.tobytes())

    def _perturbations(self, n_on, key, n_samples, max_rate=1.0):
        """``guided.random_deletions`` of n_on present features, drawn from this
        explainer's generator for ``key``: the same input gets the same perturbations."""
        rng = np.random.default_rng(self._seed(key))
        return random_deletions(n_on, n_samples, max_rate, rng)


def other_setup(adapter, names, categories):
    """What a ModelAdapter was set up for (by another explainer, say) that differs from
    ``names`` and ``categories`` (a ``Categories``): "columns", "levels", or None. Such an
    adapter queries the model with its own: the second of two explainers of one adapter
    sent its columns under the first's names (P 0.93 for 0.37)."""
    if None not in (names, adapter.input_names) and list(adapter.input_names) != list(names):
        return "columns"
    if None not in (categories, adapter.categories) and (
        adapter.categories.to_json() != categories.to_json()
    ):
        return "levels"
    return None


def _refuse_other_setup(adapter, names, categories):
    """Refuse a ModelAdapter set up for other columns or levels than X_fit's."""
    if names is None:
        return
    other = other_setup(adapter, names, categories)
    if other == "columns":
        raise ValueError(
            f"the ModelAdapter given takes columns {adapter.input_names[:5]}, X_fit has "
            f"{names[:5]} (another explainer's adapter?): give each explainer the model, "
            "or an adapter of its own"
        )
    if other == "levels":
        raise ValueError(
            "the ModelAdapter given reads other levels of X_fit's columns of names (another "
            "explainer's adapter?): give each explainer the model, or an adapter of its own"
        )


def _refuse_unread_columns(fitted, names):
    """Refuse X_fit's columns a model fitted on a DataFrame never reads (its target, an id,
    a copy of a column): kept as features, a global fit credited them with the effect of
    the columns they follow (a copy of one was the top feature of 7 rows in 10)."""
    if fitted is None or names is None:
        return
    read = set(fitted)
    unread = [n for n in names if n not in read]
    if unread:
        raise ValueError(
            f"X_fit's columns {unread[:5]} are not among those the model was fitted on "
            f"({', '.join(fitted[:5])}{', ...' if len(fitted) > 5 else ''}): it never reads "
            "them, and explanations would credit them with what the columns they follow do; "
            "drop them from X_fit"
        )


def _of_texts(model, representation):
    """A model ``TextEncoder.wrap`` made takes rows of word ids: the "tokens"
    representation, whose positions are words, not numbers about a mean."""
    model = model._call if isinstance(model, ModelAdapter) else model
    if getattr(model, "text_encoder", None) is None:
        return representation
    kind = getattr(representation, "kind", representation)
    if kind not in (None, "tokens"):
        raise ValueError(
            f"the model takes rows of word ids (TextEncoder.wrap): explain them with "
            f"representation='tokens', not {kind!r}"
        )
    return "tokens" if representation is None else representation


def summarize_local(reg, Z, y):
    """What a local explanation keeps of its fit (in the worker, so that only these small
    arrays travel back): the component of the unperturbed input (row 0) and its posterior
    probability; the intercept, coefficients and 95% intervals of the component holding
    it, draw by draw (``row_posterior``: where chains split the perturbations otherwise,
    the pooled component's halved an exactly linear model's effect)."""
    j = int(reg.labels_[0])
    coef, intercept, lower, upper = reg.row_posterior(Z[0], y[0])
    return j, reg.label_probabilities_[0, j], intercept, coef, lower, upper


def _class_list(classes):
    """``classes`` as sorted distinct ints; a fraction, bool or negative number is refused,
    not truncated (1.9 ran class 1)."""
    out = set()
    for c in classes:
        try:
            out.add(_count(c, "class", 0))
        except ValueError:
            raise ValueError(
                f"classes must be output columns, whole numbers from 0, got {c!r}"
            ) from None
    return sorted(out)


def _count(value, name, least, unit="features"):
    """``value`` as an int of at least ``least``; a fraction, NaN, inf, bool or string is
    refused, not truncated, so that what runs (and the metadata records) is what was asked."""
    whole = isinstance(value, int | np.integer | float | np.floating) and not isinstance(
        value, bool | np.bool_
    )
    # a Python int past 2**64 (--max-inputs 10**23: all of them) is whole: np.isfinite
    # refused it with a TypeError naming a ufunc, not the option
    finite = whole and (isinstance(value, int) or np.isfinite(value))
    if not (finite and value == int(value) and value >= least):
        raise ValueError(
            f"{name} must be a positive number of {unit} (whole, at least {least}), got {value!r}"
        )
    return int(value)


def _graded(y, limit):
    """Whether responses give a regression something to learn: not all censored (beyond
    +-limit) and, for values (limit inf), not all the same."""
    return bool((np.abs(y) < limit).any()) and (np.isfinite(limit) or np.ptp(y) > 0)


def _require_graded(y, limit, where):
    """Refuse responses that are all censored: a model whose probability is 0 or 1 (to
    within e^-limit) everywhere gives a regression on its logit nothing to learn; nor does
    a regression model's output that is the same everywhere."""
    if _graded(y, limit):
        return
    if not np.isfinite(limit):
        raise ValueError(
            f"the model's {where} is {y[0]:.6g}, the same everywhere: nothing to regress"
        )
    raise ValueError(
        f"the model's probability of {where} is 0 or 1 (its logit is beyond "
        f"+-{limit:g}): nothing to regress. A model with hard outputs, such as a tree "
        "with pure leaves, needs inputs on which it is less than certain"
    )


def _column_numbers(categorical, names, X):
    """The column numbers of ``categorical``: names of a DataFrame's columns (a name first,
    so that a column named "1" is that column), or numbers (digits, on the command line)."""
    if categorical is None or isinstance(categorical, str | int | np.integer):
        categorical = [] if categorical is None else [categorical]
    if not len(categorical):
        return []
    if X.ndim != 2:
        raise ValueError(f"categorical columns are table columns; X_fit has shape {X.shape}")
    out = []
    for c in categorical:
        number = str(c).isdigit() and not isinstance(c, bool)
        if names is not None and str(c) in names:
            out.append(names.index(str(c)))
        elif number and int(c) < X.shape[1]:
            out.append(int(c))
        else:
            known = f"columns {names[:5]}..." if names else f"{X.shape[1]} columns"
            raise ValueError(f"categorical column {c!r} is not one of X_fit's ({known})")
    return out


def _mirror_rows(exp, rows):
    """Explanations of class 1 at ``rows`` made those of class 0, whose logit is minus
    class 1's: every effect and logit negated, the interval's ends swapped."""
    for name in ("values", "coefficients", "model_logit", "surrogate_logit", "surrogate_output"):
        getattr(exp, name)[rows] *= -1.0
    exp.lower[rows], exp.upper[rows] = -exp.upper[rows], -exp.lower[rows]


def _unseen_first(key, coef):
    """The order of ``key`` (stable: ties by position), with the features whose global
    coefficient is 0 or NaN, which the fit never saw move, ahead of every other: their
    effect is not known, only queries can tell it."""
    return np.argsort(np.where(_never_moved(coef), -np.inf, key), kind="stable")


def _never_moved(coef):
    """Where a surrogate's coefficients are 0 or NaN, as set at fit for a column the fit
    data never saw move (a posterior mean is never exactly 0 otherwise)."""
    return (coef == 0) | np.isnan(coef)


def _require_present(on, i, rep=None):
    """``on``, the features present in input i, refused when there are none; a token
    window's input is named by its window (its context is no feature)."""
    if on.size == 0:
        if getattr(rep, "has_context", False):
            raise ValueError(
                f"input {i}'s window ({rep.window[0]}..{rep.window[1]}) holds only the baseline "
                "(no byte, padding): nothing to explain there"
            )
        raise ValueError(f"input {i} equals the baseline everywhere: nothing to explain")
    return on


def _intervals(reg, components):
    """95% credible intervals of a surrogate's coefficients, of ``components``: 0 where a
    component never held rows (no input is in one: products stay finite), NaN where it
    held rows in fewer than two stored draws (none exists; 0 read as [0, 0] around
    values that are not 0)."""
    lo, hi = reg.coef_interval(0.95, components)
    never = np.isnan(reg.coef_).all(axis=1)
    lo[never], hi[never] = 0.0, 0.0
    return lo, hi


def _json_ready(settings):
    """Settings as JSON holds them, for an explanation's meta: numbers, text, bools and
    None as they are, anything else (a dtype object, an array of initial labels) by repr."""
    plain = (bool, int, float, str, type(None))
    return {k: v if isinstance(v, plain) else repr(v) for k, v in settings.items()}
