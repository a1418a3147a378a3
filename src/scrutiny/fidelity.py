"""Fidelity tests of explanations: does the model react to the features an explanation
ranks first? Every test works for any ``Explanation`` (scrutiny's, LIME's, SHAP's, random)
and returns per-input outcomes of shape (len(ks), m), so that rates (PCR, the positive
classification rate) and bootstrap intervals can be computed from them.

- deduction: x with its top-k elements set to the baseline; still x's class? (lower = better)
- augmentation: an input of another class with x's top-k elements copied in; now x's class?
- synthetic: the baseline with only x's top-k elements; x's class? (higher = better)
- deletion: how far x's explained output (its class's logit, or a regression's value) falls
  once its top-k elements are set to the baseline (higher = better); the one test here for
  a regression model, whose outputs are not classes

``paper_protocol`` runs the three tests as the DMM-MEN authors released them: per class,
bootstraps, and crafted values scaled from a reference input. The four tests above show a
progress bar of the inputs tested (``progress=False``: none) and make their crafted inputs
a batch at a time.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from tqdm.auto import tqdm

from scrutiny._validation import (
    column_names,
    in_column_order,
    labels_from_json,
    missing_cells,
    same_columns,
)
from scrutiny.categories import Categories
from scrutiny.explainer import guided_logit, logit_bound, other_setup, output_response
from scrutiny.models import ModelAdapter
from scrutiny.representations.image import pixel_unit
from scrutiny.representations.tokens import refuse_raw_bytes
from scrutiny.surrogate.driver import checked_generator, input_generator

K_GRID = (5, 10, 20, 40, 80)
SMALL_K_GRID = (1, 2, 3, 5, 10, 20, 40)  # inputs of under 100 elements (table rows)
PAPER_SCALES = {"deduction": -0.5, "augmentation": 5.0, "synthetic": 3.0}


def default_ks(size):
    """The k grid for inputs of ``size`` elements: the values of K_GRID that fit (images,
    of hundreds of pixels), or, for any input of under 100 elements (table rows, an 8x8
    image, a short sequence), the values of SMALL_K_GRID up to half of them: 20 of 25
    columns would ask little of a ranking."""
    if size >= 100:
        return tuple(k for k in K_GRID if k <= size)
    return tuple(k for k in SMALL_K_GRID if k <= size / 2) or (1,)


def deduction(model, explanation, ks=None, batch_size=256, progress=True):
    """(len(ks), m) bool: is each input still classified as its explained class after its
    top-k elements are set to the baseline? PCR = the mean (lower = more faithful).
    ``ks`` None: ``default_ks`` of the inputs' size, as in every test here. An input the
    model does not call its explained class to begin with is mostly not called it after
    the change either, and so counts as changed without having been: a warning says how
    many there are."""
    adapter = _adapter(model, batch_size, explanation)
    X, base, top, ks = _flat(explanation, ks, "deduction")
    _warn_unclassified(adapter, explanation, explanation.target, "deduction")

    def craft(k, a, b):
        return _put(X[a:b], top[a:b, :k], base)

    return _classify(adapter, explanation, ks, batch_size, craft, progress, "deduction")


def deletion(model, explanation, ks=None, batch_size=256, progress=True):
    """(len(ks), m) float: how far each input's explained output falls once its top-k
    elements are set to the baseline: the logit of its explained class (a regression
    model's value, for ``outputs="values"``) at x, minus the same with them removed. The
    mean is the output's drop (higher = more faithful: an explanation ranks first what
    raises its output most); unlike the share of decisions kept, it sees every change. A
    class logit is exact where finite, and just beyond every finite one where a probability
    rounded to 0 or 1, but at least 100 (``guided_logit``, bounded by the input's outputs
    and its copy's at that k, whatever else was asked): a forest of 30 trees whose p leaves
    1 for 0.9 falls by about 98, where its finite logits reach 3.4, so such drops count the
    inputs that leave certainty."""
    adapter = _adapter(model, batch_size, explanation)
    X, base, top, ks = _flat(explanation, ks, "deletion")

    def craft(k, a, b):  # k 0: the inputs themselves
        return X[a:b] if k == 0 else _put(X[a:b], top[a:b, :k], base)

    outs = _responses(adapter, explanation, [0, *ks], craft, progress, "deletion")
    _check_targets(adapter, explanation.target)
    t = explanation.target
    if adapter.regression:
        logits = [output_response(out, t, True) for out in outs]
        return logits[0] - np.stack(logits[1:])
    drops = []
    for out in outs[1:]:  # each pair's bound: from the whole grid, a drop moved with it
        bound = logit_bound(np.stack([outs[0], out]), axis=(0, 2))
        drops.append(guided_logit(outs[0], t, bound) - guided_logit(out, t, bound))
    return np.stack(drops)


def augmentation(
    model, explanation, donors, ks=None, batch_size=256, random_state=0, progress=True
):
    """(len(ks), m) bool: does an input of another class (drawn from ``donors``, inputs of
    the same shape) become x's class once x's top-k elements are copied into it? PCR =
    the mean (higher = more faithful). A top-k element the explanation gives no value and
    x has at the baseline (a filler past what it ranks, as in deduction and synthetic,
    where it changes nothing) is left as the host has it: copied, it would delete the
    host's element. An input's host depends on ``random_state``, the input and its class
    only: the same whatever else is tested with it, and the same for every method's
    explanation of it (their tests are paired)."""
    adapter = _adapter(model, batch_size, explanation)
    X, base, top, ks = _flat(explanation, ks, "augmentation")
    D = _rows(donors, "donors", explanation)
    donor_class = adapter.predict(D.reshape(-1, *explanation.shape))
    # each input's host is drawn from a stream of its own: the same whatever is tested
    # with it (augmentation(exp[5:10]) was not augmentation(exp)[:, 5:10])
    root = int(checked_generator(random_state).integers(2**63))
    picks = np.empty(len(X), dtype=np.int64)
    for i, t in enumerate(explanation.target):
        other = np.flatnonzero(donor_class != t)
        if other.size == 0:
            raise ValueError(f"no donor is classified as anything but class {t}")
        picks[i] = other[input_generator(root, X[i], t).integers(other.size)]
    host = D[picks]
    filler = (explanation.values.reshape(X.shape) == 0) & (X == base)
    source = np.where(filler, host, X)

    def craft(k, a, b):
        return _put(host[a:b], top[a:b, :k], source[a:b])

    return _classify(adapter, explanation, ks, batch_size, craft, progress, "augmentation")


def synthetic(model, explanation, ks=None, batch_size=256, progress=True):
    """(len(ks), m) bool: is the baseline carrying only x's top-k elements classified as x's
    class? PCR = the mean (higher = more faithful). A token window's context is no feature:
    it stays as x has it."""
    X, base, top, ks = _flat(explanation, ks, "synthetic")
    empty = np.where(explanation.feature_elements, base, X)

    def craft(k, a, b):
        return _put(empty[a:b], top[a:b, :k], X[a:b])

    return _classify(model, explanation, ks, batch_size, craft, progress, "synthetic")


def paper_protocol(
    model,
    explanation,
    negatives,
    k=75,
    n_boot=10,
    share=0.3,
    noise=None,
    random_value=None,
    batch_size=256,
    random_state=0,
):
    """The three tests as the DMM-MEN authors released them (``xai_cnn_dmm_men.py``), for
    explanations of one class c: {test: (n_boot,) PCR, "random " + test: (n_boot,) PCR};
    their means are the published kind of figure.

    Each bootstrap draws ``share`` of the explained inputs (positives) and of ``negatives``
    (those the model does not call c), with replacement, and takes as reference the positive
    whose own top-k elements alone, on the baseline, the model finds most like c. Values
    below are baseline + scale x (reference - baseline), so they leave the data's range as
    in the authors' code:
    - deduction: each positive with its top-k elements set to -0.5 x the reference's,
      skipping those already at the baseline, as the authors' walk down their ranking
      does (a positive of fewer than k present elements has only those set); random: k
      random elements set to the baseline (lower PCR = more faithful);
    - augmentation: each negative with the reference's top-k elements at 5 x, those at the
      baseline too (the host's there erased, as in the authors' code; ``augmentation``
      leaves them); random: k random elements set to ``random_value`` (higher = more
      faithful);
    - synthetic: as many noise inputs N(noise[0], noise[1]^2) as positives, with the
      reference's top-k elements at 3 x; random: |noise| with k random elements set to
      ``random_value`` (higher = more faithful).
    ``noise`` and ``random_value`` default to the authors' (0.03, 0.01) and 1.0 for pixels
    of [0, 1], in the images' unit (``pixel_unit``: x 255 for images of 0-255, where the
    authors' values would be no change at all). Table rows have no such unit and must be
    given both: in a credit table's units, noise near 0.03 was one class whatever the
    ranking, and 1.0 no chance level.
    Columns that name things (levels, codes) cannot be scaled and are refused, as are
    tokens (word ids, byte ids) and regression models.
    """
    _refuse_empty(explanation, "paper_protocol")
    adapter = _adapter(model, batch_size, explanation)
    adapter.check_classifier()
    if (explanation.meta.get("representation") or {}).get("kind") == "tokens":
        raise ValueError(
            "the paper's protocol scales values (0.5, 5 and 3 times a reference's), which "
            "token ids (words, bytes) cannot take: test these explanations with deduction, "
            "augmentation and synthetic, which remove tokens"
        )
    named = explanation.categorical_columns
    if named:
        names = explanation.feature_names
        which = [names[j] if names else j for j in named]
        raise ValueError(
            f"the paper's protocol scales values (0.5, 5 and 3 times a reference's), which "
            f"columns that name things ({which[:5]}) cannot take: test these explanations "
            "with deduction, augmentation and synthetic, which switch a column to its "
            "baseline level"
        )
    classes = np.unique(explanation.target)
    if classes.size != 1:
        raise ValueError(
            "the paper's protocol tests one class at a time; these explanations target "
            f"classes {classes.tolist()}: pass explanation[explanation.target == c]"
        )
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share!r}")
    n_boot = _count(n_boot, "n_boot", "bootstraps")
    c, shape = int(classes[0]), explanation.shape
    X = explanation.inputs.reshape(len(explanation), -1)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= X.shape[1]:
        raise ValueError(f"k must be between 1 and {X.shape[1]}, a whole number, got {k!r}")
    base = explanation.baseline.reshape(-1)
    images = len(shape) in (2, 3)  # as the explainer tells images from table rows
    unit = (explanation.meta.get("representation") or {}).get("unit")  # the explainer's
    if unit is None and not images and (noise is None or random_value is None):
        raise ValueError(
            "the paper's protocol's noise N(0.03, 0.01^2) and random value 1.0 are pixels of "
            "images in [0, 1]; table rows have no such scale: give noise=(mean, sd) and "
            "random_value= in the columns' units, or test these explanations with deduction, "
            "augmentation and synthetic, which set columns to their baseline"
        )
    if unit is None:
        unit = pixel_unit(explanation.inputs, explanation.baseline) if images else 1.0
    noise = np.array(unit * np.array((0.03, 0.01)) if noise is None else noise, dtype=float)
    if noise.shape != (2,) or not np.isfinite(noise).all() or noise[1] < 0:
        raise ValueError(f"noise must be (mean, standard deviation >= 0), got {noise.tolist()}")
    random_value = unit * 1.0 if random_value is None else float(random_value)
    if not np.isfinite(random_value):
        raise ValueError(f"random_value must be a finite number, got {random_value}")
    top = explanation.top(k)
    N = _rows(negatives, "negatives", explanation)
    N = N[adapter.predict(N.reshape(-1, *shape)) != c]
    if len(N) == 0:
        raise ValueError(f"no negative is classified as anything but class {c}")
    _warn_unclassified(adapter, explanation, c, "the protocol's deduction")

    def rate(Z):
        return float(np.mean(adapter.predict(Z.reshape(-1, *shape)) == c))

    order = explanation.top(X.shape[1])  # the ranking, elements at the baseline last
    at_base = np.take_along_axis(X == base, order, axis=1)
    present_top = np.take_along_axis(order, np.argsort(at_base, axis=1, kind="stable"), axis=1)
    present_top = present_top[:, : top.shape[1]]
    # an input of fewer than k present elements: the walk ends with them, the rest as is
    walked_off = np.sort(at_base, axis=1)[:, : top.shape[1]]
    alone = _put(base, top, X)
    score = adapter.log_proba(alone.reshape(-1, *shape))[:, c]
    rng = checked_generator(random_state)
    n_pos, n_neg, n = max(1, round(share * len(X))), max(1, round(share * len(N))), X.shape[1]
    high = np.full(n, float(random_value))
    out = {name: np.zeros(n_boot) for t in PAPER_SCALES for name in (t, "random " + t)}
    for b in range(n_boot):
        pos, neg = rng.choice(len(X), n_pos), rng.choice(len(N), n_neg)
        ref = pos[np.argmax(score[pos])]
        scaled = {t: base + s * (X[ref] - base) for t, s in PAPER_SCALES.items()}
        noisy = rng.normal(noise[0], noise[1], (n_pos, n))
        ref_top = np.broadcast_to(top[ref], (max(n_pos, n_neg), top.shape[1]))
        cols = present_top[pos]
        nulled = _put(X[pos], cols, scaled["deduction"])
        rows, at = np.nonzero(walked_off[pos])  # past the present ones: left as they are
        nulled[rows, cols[rows, at]] = X[pos][rows, cols[rows, at]]
        out["deduction"][b] = rate(nulled)
        out["augmentation"][b] = rate(_put(N[neg], ref_top[:n_neg], scaled["augmentation"]))
        out["synthetic"][b] = rate(_put(noisy, ref_top[:n_pos], scaled["synthetic"]))
        out["random deduction"][b] = rate(_put(X[pos], _random_cols(rng, n_pos, n, k), base))
        out["random augmentation"][b] = rate(_put(N[neg], _random_cols(rng, n_neg, n, k), high))
        out["random synthetic"][b] = rate(_put(np.abs(noisy), _random_cols(rng, n_pos, n, k), high))
    return out


def pcr(outcomes):
    """Positive classification rate of each row of outcomes (len(ks), m)."""
    out = np.asarray(outcomes, dtype=float)
    if out.ndim == 0 or out.shape[-1] == 0:  # the mean of none read NaN
        raise ValueError(f"outcomes must hold inputs, got shape {out.shape}")
    return out.mean(axis=-1)


def bootstrap_interval(outcomes, level=0.95, n_boot=2000, random_state=0):
    """Percentile bootstrap interval of each PCR over the inputs: (lower, upper), each
    (len(ks),). Inputs are resampled jointly across k, so the curve's intervals agree."""
    out = np.atleast_2d(np.asarray(outcomes, dtype=float))
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be a share in (0, 1) (0.95 for 95%), got {level!r}")
    n_boot = _count(n_boot, "n_boot", "resamples")
    if out.ndim != 2 or out.shape[1] == 0:
        raise ValueError(f"outcomes must be (len(ks), inputs) with inputs, got shape {out.shape}")
    rng = checked_generator(random_state)
    idx = rng.integers(out.shape[1], size=(n_boot, out.shape[1]))
    # one k at a time: (len(ks), n_boot, inputs) at once took 305 MB for 4,000 inputs
    rates = np.stack([row[idx].mean(axis=1) for row in out])  # (len(ks), n_boot)
    q = [(1 - level) / 2, (1 + level) / 2]
    lo, hi = np.quantile(rates, q, axis=1)
    return lo, hi


def _require_surrogate(explanation, test, model_too=True):
    """Refuses explanations with no surrogate output to measure (random ones), or no
    model logit beside it (``model_too``): the error read NaN."""
    _refuse_empty(explanation, test)
    kept = ("surrogate_output", "model_logit") if model_too else ("surrogate_output",)
    if any(np.isnan(np.asarray(getattr(explanation, n), dtype=np.float64)).any() for n in kept):
        raise ValueError(
            f"{explanation.method} explanations have no surrogate output or model logit for "
            f"{test} to compare"
        )


def approximation_error(explanation):
    """RMSE on the probability scale between the model and the explanation's surrogate at
    the explained inputs: the model's probability against the surrogate's (its logit's
    sigmoid, or LIME's and KernelSHAP's own output, uncut: a linear fit's 1.09 is 0.09
    off); for a regression model (``meta["outputs"] == "values"``), in the output's own
    units."""
    _require_surrogate(explanation, "approximation_error")
    if explanation.meta.get("outputs") == "values":
        gap = np.asarray(explanation.model_logit) - np.asarray(explanation.surrogate_output)
        return float(np.sqrt(np.mean(gap**2)))
    p_model = _sigmoid(explanation.model_logit)
    p_surrogate = explanation.surrogate_output  # as heldout_error and to_shap read it
    if explanation.meta.get("scale", "logit") == "logit":
        p_surrogate = _sigmoid(p_surrogate)
    return float(np.sqrt(np.mean((p_model - p_surrogate) ** 2)))


def heldout_error(model, explanation, n_perturbations=20, batch_size=256, random_state=0):
    """RMSE on the probability scale between the model and the explanation read as an
    additive model, on inputs no method was fitted on: per input, ``n_perturbations`` random
    deletions (a share U(0, 1) of its elements off the baseline set to it, a token window's
    context left alone), each predicted as the explanation's output at x less the values of
    the elements deleted. The output at
    x alone is in-sample for local methods (KernelSHAP's is exact by construction).
    Values are on the scale of ``meta["scale"]``: "logit" (the class logit, scrutiny's)
    or "probability" (LIME's and KernelSHAP's); a regression model's (``meta["outputs"]
    == "values"``) are in its own units, and so is the error."""
    _require_surrogate(explanation, "heldout_error", model_too=False)
    adapter = _adapter(model, batch_size, explanation)
    scale = "value" if adapter.regression else explanation.meta.get("scale", "logit")
    if scale not in ("logit", "probability", "value"):
        raise ValueError(f"meta['scale'] must be 'logit' or 'probability', got {scale!r}")
    m, R = len(explanation), _count(n_perturbations, "n_perturbations", "deletions per input")
    X = explanation.inputs.reshape(m, -1).astype(np.float64)
    base = np.broadcast_to(explanation.baseline.reshape(-1), X.shape[1:])
    values = explanation.values.reshape(m, -1)
    rng = checked_generator(random_state)
    rate = rng.uniform(size=(m, R, 1))
    movable = (X != base) & explanation.feature_elements
    off = (rng.uniform(size=(m, R, X.shape[1])) < rate) & movable[:, None, :]

    def deleted(i):  # input i's deletions, made a batch at a time (all at once: 30x X)
        return R, lambda a, b: np.where(off[i, a:b], base, X[i]).reshape(b - a, *explanation.shape)

    out = adapter.responses_of([deleted(i) for i in range(m)])
    _check_targets(adapter, explanation.target)
    out = out[np.arange(m * R), np.repeat(explanation.target, R)]
    at_x = np.asarray(explanation.surrogate_output, dtype=np.float64)  # on the values' scale
    pred = (at_x[:, None] - np.einsum("mrn,mn->mr", off, values)).reshape(-1)
    if scale == "value":
        return float(np.sqrt(np.mean((out - pred) ** 2)))
    p_pred = _sigmoid(pred) if scale == "logit" else pred  # as predicted: 1.3 is 0.3 off 1
    return float(np.sqrt(np.mean((np.exp(out) - p_pred) ** 2)))


def stability(a, b, k=None):
    """Mean share of the top-k elements two explanations of the same inputs agree on (1 =
    the same sets, e.g. across two seeds): per input, the elements both name over the most
    either names. ``k`` None: 20, or for inputs of under 100 elements the largest k of their
    grid (``default_ks``: up to half of a table's columns; 20 of 6 was refused). Only
    elements an explanation gives a non-zero value are named: past its non-zero ones, a
    sparse explanation's top k are zeros in index order, the same in both, which would pass
    for agreement (and two identical explanations of 10 non-zero values are as stable at
    k = 20 as at 10: 1, not a half)."""
    _refuse_empty(a, "stability")
    if a.values.shape != b.values.shape or not np.array_equal(a.inputs, b.inputs):
        raise ValueError(
            "explanations of different inputs: the two must explain the same inputs, in the "
            f"same order (shapes {a.values.shape} and {b.values.shape})"
        )
    if not np.array_equal(a.target, b.target):
        raise ValueError("the explanations are of different classes: compare like with like")
    if k is None:
        k = min(20, default_ks(int(a.feature_elements.sum()))[-1])
    shares = [
        np.intersect1d(x, y).size / max(x.size, y.size) if max(x.size, y.size) else 1.0
        for x, y in zip(*(_named_top(e, k) for e in (a, b)), strict=True)
    ]
    return float(np.mean(shares))


def _named_top(explanation, k):
    """Each input's top-k elements that have a non-zero value."""
    top = explanation.top(k)
    values = np.take_along_axis(explanation.values.reshape(len(top), -1), top, axis=1)
    return [t[v != 0] for t, v in zip(top, values, strict=True)]


def _adapter(model, batch_size, explanation):
    """``model`` as a ModelAdapter; a new one is told the explanation's column names and
    columns of names (``Explanation.meta["categories"]``), so that a model fitted on a
    DataFrame gets its columns by name, and names where it took names, and reads the model's
    outputs as the explanation's explainer did (``meta["outputs"]``: logits, values; else
    probabilities), in the dtype it did (``meta["input_dtype"]``, and a DataFrame's columns
    of whole numbers in theirs, ``meta["column_dtypes"]``)."""
    if isinstance(model, ModelAdapter):  # set up for these columns, or refused
        names, spec = explanation.column_names, explanation.meta.get("categories")
        categories = None if spec is None else Categories.from_json(spec)
        if other_setup(model, names, categories):  # rows read under its names (P 0.001)
            raise ValueError(
                "the ModelAdapter given reads other columns or levels than the explanations' "
                f"({list(model.input_names or [])[:5]} against {list(names or [])[:5]}): give the "
                "model itself, or the adapter of the explainer that made them"
            )
        return model
    outputs = explanation.meta.get("outputs", "probabilities")  # scrutiny's record them
    adapter = ModelAdapter(model, outputs=outputs, batch_size=batch_size)
    adapter.input_names = explanation.column_names  # a model fitted on a DataFrame: by name
    adapter.input_labels = labels_from_json(explanation.meta.get("feature_labels"))
    if explanation.meta.get("input_dtype") is not None:  # float32 data: float32 batches
        adapter.input_dtype = np.dtype(explanation.meta["input_dtype"])
    adapter.take_integer_meta(explanation.meta)  # integers as integers
    spec = explanation.meta.get("categories")
    if spec is not None:
        adapter.categories = Categories.from_json(spec)
    adapter.token_ids = (explanation.meta.get("representation") or {}).get("kind") == "tokens"
    return adapter


def _rows(inputs, name, explanation):
    """A batch of inputs of the explanations' shape (or flat rows of as many elements) as
    float rows (n, elements); an empty one is named, and so is one of another shape: images
    of as many elements in the other channel layout would otherwise be read as scrambled
    inputs. A DataFrame's columns are matched by name, as the explainer matched them."""
    shape = explanation.shape
    missing_cells(inputs, name)  # pd.NA in an Int64 column was "must be numbers"
    # rows explained as arrays and shown by names: a frame of those names, by name too
    shown = same_columns(inputs, explanation.meta.get("display_names"))
    inputs = in_column_order(inputs, explanation.column_names or shown, name[:-1])
    spec = explanation.meta.get("categories")
    if spec is not None and column_names(inputs) is not None:  # names: their levels' codes
        inputs = Categories.from_json(spec).encode(inputs, name)
    tokens = (explanation.meta.get("representation") or {}).get("kind") == "tokens"
    if tokens:
        refuse_raw_bytes(getattr(inputs, "dtype", None), name)  # 0x00 would read as none
    try:
        A = np.asarray(inputs, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        how = (
            "texts as the rows of the TextEncoder that made the explained ones (its encode)"
            if tokens
            else "a table with columns of names through explainer.check_inputs first, "
            "which gives their levels' codes"
        )
        raise TypeError(f"{name} must be numbers ({exc}): pass {how}") from None
    if A.ndim == 0 or len(A) == 0:
        raise ValueError(f"{name} must be a non-empty batch of inputs, got shape {A.shape}")
    if not np.isfinite(A).all():  # the model was blamed for them, or asked about them
        row = int(np.argwhere(~np.isfinite(A.reshape(len(A), -1)))[0][0])
        raise ValueError(f"{name} hold NaN or inf (the first in row {row}): inputs are numbers")
    if A.shape[1:] not in (tuple(shape), (int(np.prod(shape)),)):
        one = A.shape == tuple(shape)  # an image (a row) where a batch of them is wanted
        how = f": one input? pass a batch of them, {name}[None]" if one else ""
        raise ValueError(
            f"{name} have samples of shape {A.shape[1:]}, the explanations' {tuple(shape)}{how}"
        )
    return A.reshape(len(A), -1)


def _check_targets(adapter, target):
    """Refuses explained classes the model has no output for (known once it has answered):
    never called such a class, every input would count as changed, a perfect deduction."""
    t = np.asarray(target)
    bad = np.unique(t[(t < 0) | (t >= adapter.n_classes)])
    if bad.size:
        kinds = "outputs" if adapter.regression else "classes"
        raise ValueError(
            f"the explanations' targets {bad[:5].tolist()} are none of the model's "
            f"{kinds} 0..{adapter.n_classes - 1}: explanations of another model?"
        )


def _count(value, name, what):
    """``value`` as an int, refused unless a whole number of at least 1 (2.5 bootstraps
    would have run 2 under the name of 2.5; 20.0 is 20)."""
    number = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    # np.isfinite(10**23): TypeError
    finite = number and (isinstance(value, int) or np.isfinite(value))
    if not (finite and value == int(value) and value >= 1):
        raise ValueError(f"{name} must be a whole number of {what}, at least 1, got {value!r}")
    return int(value)


def _warn_unclassified(adapter, explanation, target, test):
    """Warns when inputs are not classified as their explained class before any change."""
    predicted = adapter.predict(explanation.inputs)
    _check_targets(adapter, target)
    off = np.flatnonzero(predicted != target)
    if off.size:
        warnings.warn(
            f"{off.size} of {len(explanation)} inputs (the first: #{off[0]}) are not classified "
            f"as their explained class to begin with, so {test} mostly counts them as "
            "changed without a change, and its PCR looks better than it is: test only "
            "those the model calls their explained class",
            stacklevel=3,
        )


def checked_ks(ks, size):
    """``ks`` as a tuple of ints, each an element count of inputs of ``size`` elements that
    belong to features (``default_ks`` for None). A k past the size would report the rate of
    a smaller k under its name (or, in a token window, change its context), and a k below 1
    would nullify nothing (or, sliced, all but -k elements)."""
    if ks is None:
        return default_ks(size)
    arr = np.asarray(ks)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"ks must be a non-empty list of integers, got {arr.tolist()!r:.60}")
    bad = [int(k) for k in arr if not 1 <= k <= size]
    if bad:
        raise ValueError(
            f"every k must be between 1 and {size} (the inputs' elements in features), got {bad}"
        )
    if (np.diff(arr) <= 0).any():  # a curve over k, each k once: its rows and plots in order
        raise ValueError(f"ks must rise, each k once, got {arr.tolist()}")
    return tuple(int(k) for k in arr)


def _flat(explanation, ks, test):
    """The inputs and baseline as rows, the rankings up to max(ks), and ks itself
    (``default_ks`` for None), checked."""
    _refuse_empty(explanation, test)
    ks = checked_ks(ks, int(explanation.feature_elements.sum()))  # a window's, not its context's
    m = len(explanation)
    X = explanation.inputs.reshape(m, -1)
    base = explanation.baseline.reshape(-1)
    top = explanation.top(max(ks))
    return X, base, top, ks


def _refuse_empty(explanation, test):
    """An explanation of no inputs has nothing to test: numpy's reshape failed, or the
    mean of none read NaN."""
    if len(explanation) == 0:
        raise ValueError(
            f"{test} got explanations of no inputs (a selection such as "
            "explanation[explanation.target == c] where no input has class c): nothing to test"
        )


def _put(host, cols, source):
    """Copies of ``host`` rows (m, n) or (n,) with ``cols`` (m, k) taken from ``source``."""
    out = np.array(np.broadcast_to(host, (len(cols), host.shape[-1])))
    rows = np.arange(len(cols))[:, None]
    src = np.broadcast_to(source, out.shape)
    out[rows, cols] = src[rows, cols]
    return out


def _random_cols(rng, m, n, k):
    """(m, k) distinct random elements per row: those of the k smallest of n uniform draws,
    in no particular order (``_put`` takes them as a set; a full sort of the n was a third
    of the protocol's time)."""
    return np.argpartition(rng.random((m, n)), k - 1, axis=1)[:, :k]


def _classify(model, explanation, ks, batch_size, craft, progress, desc):
    """(len(ks), m) bool: is each crafted input, ``craft(k, a, b)`` of inputs a..b, still
    classified as its explained class?"""
    adapter = _adapter(model, batch_size, explanation)
    adapter.check_classifier()
    outs = _responses(adapter, explanation, ks, craft, progress, desc)
    _check_targets(adapter, explanation.target)
    return np.stack([out.argmax(axis=1) == explanation.target for out in outs])


def _responses(adapter, explanation, ks, craft, progress, desc):
    """The model's responses to the crafted inputs of each k, made a batch at a time (at
    once, 1,000 colour images of 224 x 224 were 1.2 GB a k), with a bar of the inputs."""
    m, outs = len(explanation), []
    at = f"{desc} at {len(ks)} k"  # each input once a k: 250 for 50 inputs at 5 k
    with tqdm(total=len(ks) * m, desc=at, unit="input", disable=not progress) as bar:
        for k in ks:

            def rows(a, b, k=k):
                crafted = craft(k, a, b).reshape(-1, *explanation.shape)
                bar.update(b - a)
                return crafted

            outs.append(adapter.responses_of([(m, rows)]))
    return outs


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))
