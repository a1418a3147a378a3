"""Scrutinize a model with its explanations: inputs crafted from the features an explanation
ranks first, each beside the same crafting with random features (its chance level).

- adversarial: correctly classified inputs of class c with their top-k elements set to the
  baseline: they keep most of their look, do they lose their class?
- pathological: inputs of other classes, or noise, carrying the top-k elements of class-c
  inputs: they do not look like c, are they called c? An element ranks by the rise of the
  logit of c its transplant brings to the host: in guided mode as a small fit of the pair's
  own transplants estimates it, with the donor's global regime as the prior.
- patterns: each occupied component of class c's global surrogate (one regime of the
  model), with its weight, its size and its coefficients; nullifying a pattern's top-k
  elements (one mask for every input of the regime) tests whether the insight generalizes.

Random features are drawn among the elements of the input that differ from the baseline:
setting a background pixel to the background changes nothing, so that would be no test.
Neither is changing the context around a token window, which is no feature: attacks, their
chance levels and their ks keep to the window.
Each input's random crafting changes as many elements as its explained one does (k, less
any of the top k that already held the value), so that the two differ only in which.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from tqdm.auto import tqdm

from scrutiny._validation import columns_hint
from scrutiny.explainer import GUIDED_FIRST, GUIDED_ROUNDS, _count, held_bound_logits
from scrutiny.explanation import ranked
from scrutiny.fidelity import _put, checked_ks, default_ks
from scrutiny.guided import designed_fits, random_deletions
from scrutiny.representations import TokenRepresentation
from scrutiny.surrogate.driver import check_seed, seed_sequence

# the headline k of each attack on inputs of 100 elements or more (a 784-pixel image: 2.5%
# and 5% of it); smaller inputs take at most k% of their size (20% and 40%), ``headline_k``
ADVERSARIAL_K = 20
PATHOLOGICAL_K = 40
PATTERN_TOP = 150
TIMES_OFF = 25  # guided mode: how often each present feature is off, on average
GUIDED_SAMPLES = (300, 1000)  # ... within these bounds on the perturbations per input
# Guided mode ranks a pair's transplants by a fit of its own over the elements of largest
# prior gain, one per this many transplants. At k = 40 (first 30 or 50 inputs of some
# classes) hosts called c: MNIST MLP (380 transplants) 0.78 with 200 elements, 0.82 with
# 100 or 60; Fashion-MNIST CNN (1,000) 0.29 with 100, 0.39 with 200, 0.41 with 250 or 350.
TRANSPLANTS_PER_CANDIDATE = 4
# noise rows drawn a round, at least: a round of one per scrutinized input drew 10 in all
# for one input, and breast-cancer rows whose noise a model calls malignant 96% of the time
# lost their noise attack in 13 of 20 seeds, told that it called all noise malignant
NOISE_PER_ROUND = 100


def headline_k(size, preferred):
    """``preferred`` (ADVERSARIAL_K or PATHOLOGICAL_K) for inputs of ``size`` >= 100
    elements; for table rows, the largest k of their grid within preferred / 100 of the
    size (of 25 columns: 5 nullified, 10 transplanted), at least its smallest."""
    if size >= 100:
        return preferred
    grid = default_ks(size)
    return max([k for k in grid if k <= preferred / 100 * size], default=grid[0])


@dataclass(eq=False)
class Attack:
    """Inputs crafted at each k from explanations (``success``, ``predictions``) and from
    as many random features changed (``random_success``, ``random_predictions``); arrays
    (len(ks), m).

    ``success`` means misclassified for adversarial samples and called the scrutinized
    class for pathological ones. ``samples(k)`` rebuilds the crafted inputs as scrutiny's
    rows, ``model_inputs(k)`` as the model takes them (a table's names, not codes)."""

    name: str
    ks: tuple
    success: np.ndarray
    predictions: np.ndarray
    random_success: np.ndarray
    random_predictions: np.ndarray
    originals: np.ndarray = field(repr=False)  # the m inputs before crafting
    craft: object = field(repr=False)  # (k, random) -> crafted inputs
    elements: int  # the elements of an input it may change (a token window's positions)
    untouched_rate: float | None = None  # noise: share of noise the model calls c untouched
    n_hosts: int | None = None  # pathological: the distinct inputs among the m hosts
    rows: np.ndarray | None = None  # the originals' positions in X (None: noise made)
    model: object = field(default=None, repr=False)  # the ModelAdapter they were put to

    def __repr__(self):  # its arrays in full were 240 KB in a Scrutiny's repr
        return (
            f"Attack({self.name!r}, ks={list(self.ks)}, inputs={self.success.shape[1]}, "
            f"rate={_rounded(self.rate)}, random_rate={_rounded(self.random_rate)})"
        )

    @property
    def rate(self):
        return self.success.mean(axis=1)

    @property
    def random_rate(self):
        return self.random_success.mean(axis=1)

    def samples(self, k, random=False):
        """The m inputs crafted with the top-k (or k random) elements, 1 <= k <= max(ks)."""
        if isinstance(k, bool) or not isinstance(k, int | np.integer):  # 2.7 gave 2's
            raise ValueError(f"k must be a whole number of elements, got {k!r}")
        if not 1 <= k <= max(self.ks):
            raise ValueError(f"k={k} is outside the rankings kept: 1..{max(self.ks)}")
        if not isinstance(random, bool | np.bool_):  # "no" read as True
            raise TypeError(f"random must be True or False, got {random!r}")
        return self.craft(int(k), bool(random))

    def model_inputs(self, k, random=False):
        """``samples(k, random)`` as the model takes them: for a model of a DataFrame, one
        with its columns by name and names for codes, ready for its ``predict``."""
        return self.model.model_inputs(self.samples(k, random))

    def at(self, k):
        """Index of k in ``ks``."""
        if k not in self.ks:
            raise ValueError(f"k={k} was not tested; ks are {list(self.ks)}")
        return self.ks.index(k)

    def new_predictions(self):
        """{class: count} of the crafted inputs' predictions, one dict per k."""
        out = []
        for pred in self.predictions:
            classes, n = np.unique(pred, return_counts=True)
            out.append({str(c): int(v) for c, v in zip(classes, n, strict=True)})
        return out

    def to_dict(self):
        lo, hi = wilson_interval(self.success)
        rlo, rhi = wilson_interval(self.random_success)
        return {
            "name": self.name,
            "n_inputs": int(self.success.shape[1]),
            "k": list(self.ks),
            "rate": self.rate.tolist(),
            "rate_interval": [lo.tolist(), hi.tolist()],
            "random_rate": self.random_rate.tolist(),
            "random_rate_interval": [rlo.tolist(), rhi.tolist()],
            "new_predictions": self.new_predictions(),
            "untouched_rate": self.untouched_rate,
            "n_hosts": self.n_hosts,
            "rows": None if self.rows is None else self.rows.tolist(),
        }


def _rounded(rates):
    return [round(float(r), 3) for r in rates]


def wilson_interval(success, z=1.959964):
    """95% Wilson score interval of each row's share of successes: (lower, upper). A
    percentile bootstrap of 0/1 outcomes is [1, 1] when every input is fooled, from 3
    inputs as from 3,000; this one narrows with the number of inputs (3 of 3: [0.44, 1])."""
    s = np.atleast_2d(np.asarray(success, dtype=float))
    n, p = s.shape[1], s.mean(axis=1)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


@dataclass(eq=False)
class Pattern:
    """One occupied component of class c's global surrogate."""

    component: int
    weight: float
    size: float  # posterior mean number of fit rows in it (with fit_perturbations' copies)
    n_inputs: int  # scrutinized inputs assigned to it
    coefficients: np.ndarray  # per input element, shaped like an input
    nullified: Attack | None  # its top-k elements toward the class off in its inputs
    levels: dict = field(default_factory=dict)  # a column of names: {column: its level}
    unit: np.ndarray | None = None  # per element, its feature's unit (a column's sd)
    toward: np.ndarray | None = None  # per element, +-1: the side its inputs lie on

    def __repr__(self):
        return (
            f"Pattern(component={self.component}, weight={self.weight:.3g}, "
            f"size={self.size:.4g}, n_inputs={self.n_inputs}, nullified={self.nullified!r})"
        )

    def top(self, k=PATTERN_TOP):
        """Flat indices of the k elements with the largest |coefficient| per unit of their
        feature (a table's columns per standard deviation, a pixel per unit)."""
        flat = np.nan_to_num(self.coefficients.reshape(-1))
        k = _count(k, "k", 1)  # -1 gave all but the last element, 0 none
        if self.unit is not None:
            flat = flat * self.unit
        return np.argsort(-np.abs(flat), kind="stable")[:k]


@dataclass(eq=False)
class Scrutiny:
    """What ``scrutinize`` found for one class."""

    target: int
    ks: tuple
    explanation: object  # Explanation of the scrutinized inputs: adversarial ranking
    regime: object  # their global (class-regime) explanation: the pathological prior
    index: np.ndarray  # their positions in the X given (a DataFrame's: X.iloc[index])
    adversarial: Attack
    pathological: dict  # {"other classes": Attack, "noise": Attack (unless all noise is c)}
    patterns: list
    accuracy: float | None  # the model's on X, when labels were given
    meta: dict
    target_name: str = ""  # how reports name the class: "0 (bad)" for a label "bad"

    def __repr__(self):
        attacks = ", ".join(f"{a.name!r}: {_rounded(a.rate)}" for a in self.attacks().values())
        return (
            f"Scrutiny(target={self.target_name or self.target}, inputs={len(self.index)}, "
            f"ks={list(self.ks)}, rates={{{attacks}}}, patterns={len(self.patterns)})"
        )

    def summary(self):
        """A plain-text table of every rate beside its random chance level."""
        which = "correctly classified" if self.accuracy is not None else "called it (no labels)"
        name = self.target_name or str(self.target)
        lines = [
            f"class {name}: {len(self.index)} inputs scrutinized, {which}",
            f"{'k':>5}" + "".join(f"{n:>30}" for n in self.attacks()),
        ]
        for i, k in enumerate(self.ks):
            cells = "".join(
                f"{f'{a.rate[i]:.2f} (random {a.random_rate[i]:.2f})':>30}"
                for a in self.attacks().values()
            )
            lines.append(f"{k:>5}{cells}")
        lines.append(
            "adversarial: share misclassified after nullifying; "
            "pathological: share called class " + name
        )
        for host, a in self.pathological.items():
            if a.n_hosts is not None and a.n_hosts < a.success.shape[1]:
                lines.append(
                    f"{host}: {a.n_hosts} distinct hosts for {a.success.shape[1]} samples "
                    "(reused: the rates' intervals count each sample)"
                )
            if a.untouched_rate is not None:
                lines.append(
                    f"{host}: {a.untouched_rate:.2f} of it is called {name} untouched "
                    "(those are not used as hosts)"
                )
        if "noise" not in self.pathological:
            lines.append(
                f"noise: every noise input drawn is called {name} untouched, so none hosts samples"
            )
        return "\n".join(lines)

    def attacks(self):
        """{name: Attack} of every crafting, adversarial first."""
        return {
            "adversarial": self.adversarial,
            **{f"pathological ({n})": a for n, a in self.pathological.items()},
        }

    def to_dict(self):
        return {
            "target": self.target,
            "target_name": self.target_name or str(self.target),
            "k": list(self.ks),
            "n_inputs": len(self.index),
            "index": self.index.tolist(),  # the rows of X scrutinized
            "model_accuracy": self.accuracy,
            "adversarial": self.adversarial.to_dict(),
            "pathological": {n: a.to_dict() for n, a in self.pathological.items()},
            "patterns": [
                {
                    "component": p.component,
                    "weight": p.weight,
                    "size": p.size,
                    "n_inputs": p.n_inputs,
                    f"top_{PATTERN_TOP}_elements": p.top().tolist(),
                    "levels": {str(j): v for j, v in p.levels.items()},
                    "nullified": None if p.nullified is None else p.nullified.to_dict(),
                }
                for p in self.patterns
            ],
            "meta": self.meta,
        }


def scrutinize(
    explainer,
    X,
    target,
    labels=None,
    ks=None,
    mode=None,
    n_samples=None,
    max_inputs=None,
    random_state=0,
):
    """Adversarial and pathological samples for class ``target`` from a fitted (or
    fittable) ``Explainer``, with class-level patterns.

    X : inputs to scrutinize with, shaped like the explainer's; class-``target`` inputs
        the model gets right become adversarial samples, the others host pathological ones.
    target : the class, as an output column of the model (for a scikit-learn classifier,
        an index into its ``classes_``).
    labels : optional true classes of X (for a scikit-learn classifier, its labels; for
        other models, output columns); without them, "class c" means "called c".
    ks : the numbers of elements nullified or transplanted, rising (default
        ``fidelity.default_ks``: 5 to 80 for images, fewer for short rows); each attack
        and its random chance level is run at every k.
    mode, n_samples : how the inputs are explained (default: guided mode, perturbations
        that switch off at most about ADVERSARIAL_K elements' worth of features, so that
        effects are measured at the scale of the question, as many as switch each present
        feature off TIMES_OFF times (300 to 1,000); rows of so few features that fewer
        distinct such perturbations exist (14 columns or fewer) take the explainer's own
        rates and count, 100 by default; local for a local explainer).
        Pathological samples transplant by the inputs' global regime, corrected in guided
        mode by as many designed transplants per donor-host pair (``_designed_transplants``).
    max_inputs : scrutinize at most this many class-c inputs (the first ones).
    random_state : an int, a SeedSequence, a Generator or a RandomState, recorded in
        ``meta`` (a Generator's seed with its state when the run began, which replays it).
    """
    t0, (rows0, calls0) = time.perf_counter(), explainer.model.queried()
    if mode not in (None, "global", "local", "guided"):
        raise ValueError(f"mode must be 'global', 'local' or 'guided', got {mode!r}")
    if mode == "global" and n_samples is not None:  # recorded as taken, though none was
        raise ValueError("n_samples is for local and guided mode: global mode perturbs nothing")
    X = explainer.check_inputs(X)
    predicted = explainer.model.predict(X)
    n_classes = explainer.model.n_classes
    target = _one_class(target)
    if not 0 <= target < n_classes:
        raise ValueError(
            f"class {target} does not exist: the model has {n_classes} "
            f"(0..{n_classes - 1}){columns_hint(explainer.model.classes_)}"
        )
    accuracy = None
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.shape != (len(X),):
            raise ValueError(f"labels has {labels.size} entries for {len(X)} inputs")
        labels = explainer.model.label_columns(labels)
        accuracy = float((predicted == labels).mean())
        positive = (labels == target) & (predicted == target)
        negative = (labels != target) & (predicted != target)
    else:
        positive, negative = predicted == target, predicted != target
    if max_inputs is not None:
        max_inputs = _count(max_inputs, "max_inputs", 1, "inputs")
    if n_samples is not None:
        n_samples = _count(n_samples, "n_samples", 20, "perturbations")
    rep = explainer.representation
    blank = ~rep.features(X).any(axis=1)  # a token window's context does not count
    if (positive & blank).any():  # nothing to nullify, nothing to explain
        warnings.warn(
            f"{int((positive & blank).sum())} inputs of class {target} (the first: row "
            f"{int(np.flatnonzero(positive & blank)[0])} of X) equal the baseline on every "
            "feature: left out, as nullifying their features changes nothing",
            stacklevel=2,
        )
    index = np.flatnonzero(positive & ~blank)[:max_inputs]
    if index.size == 0:
        raise ValueError(f"no input of X is a correctly classified member of class {target}")
    if not negative.any():
        others = 0 if labels is None else int((labels != target).sum())
        raise ValueError(no_hosts(others, target, "X", f"class {target}"))
    # ks count the elements an attack may change: every pixel (of a superpixel too) and
    # column, but of a token window only its positions, never the context around it
    owned = rep.groups >= 0
    size = int(owned.sum())
    ks = checked_ks(ks, size)
    kmax = max(ks)
    check_seed(random_state)  # -1 met numpy's error
    if isinstance(random_state, np.random.RandomState):  # scikit-learn's kind: a draw of it
        random_state = seed_sequence(random_state)
    # a Generator that has drawn before replays this run from its state now, not its seed
    state = (
        random_state.bit_generator.state if isinstance(random_state, np.random.Generator) else None
    )
    rng = np.random.default_rng(random_state)
    root = rng.bit_generator.seed_seq  # of an int, None, a seed sequence or a Generator

    mode = mode or ("local" if explainer.mode == "local" else "guided")
    targets = np.full(index.size, target)
    # perturb at the scale of the headline question: up to ADVERSARIAL_K elements off. A
    # token window's ids take few outputs with so few off (5 of 41 bytes), which a local
    # mixture fits by a regime per output, intercepts without effects (2 off: every effect
    # 0): windows are perturbed at the explainer's own rates; so are rows of so few
    # features that fewer distinct perturbations exist than are drawn (1 of 4 columns off:
    # 5, for 60 draws; effects of 3 nats read as 0.06)
    max_off = max(1, round(headline_k(size, ADVERSARIAL_K) / rep.group_sizes.mean()))
    window = isinstance(rep, TokenRepresentation) and rep.has_context
    if mode == "guided" and n_samples is None:  # as many as needed at that scale
        drawn = _guided_samples(rep.features(X[index]), max_off)
    else:
        drawn = None if mode == "global" else n_samples or explainer.samples_of(mode)
    few = (
        drawn is not None and sum(math.comb(rep.n_features, j) for j in range(max_off + 1)) < drawn
    )
    if window or mode == "global" or few:  # global mode perturbs nothing
        max_off = None
    elif mode == "guided" and n_samples is None:
        n_samples = drawn
    if mode != "global" and n_samples is None:  # recorded as taken
        n_samples = explainer.samples_of(mode)
    exp = explainer.explain(  # many small perturbations, spread over every present feature
        X[index],
        target=targets,
        mode=mode,
        n_samples=n_samples,
        max_off=max_off,
        candidates=rep.n_features if mode == "guided" else None,
    )
    # the inputs' global regimes, where the explainer has them (a local explainer has not)
    own = mode == "global" or explainer.mode == "local"
    with warnings.catch_warnings():  # a thin regime is only the prior of the transplants
        warnings.filterwarnings("ignore", message=r".* fit best in a regime of under")
        regime = exp if own else explainer.explain(X[index], targets, mode="global")
    P = X[index].reshape(index.size, -1)
    base = rep.baseline.reshape(-1)
    top = exp.top(kmax)
    rand = _random_present(P, base, kmax, rng, owned)

    adversarial = _attack(
        explainer.model,
        "adversarial",
        ks,
        X[index],
        functools.partial(_crafted, P, base, top, rand, X.shape[1:]),
        lambda p: p != target,
        size,
    )
    adversarial.rows = index
    noise, noise_called, noise_distinct, noise_drawn = _noise_hosts(
        explainer.model, X, index.size, target, rng
    )
    pool = negative.nonzero()[0]  # each host once, and only a shortfall again (22 hosts
    # for 25 inputs, drawn with replacement, were 15 distinct)
    if pool.size >= index.size:
        chosen = rng.choice(pool, index.size, replace=False)
    else:
        chosen = np.resize(rng.permutation(pool), index.size)
    hosts = {"other classes": X[chosen], "noise": noise}
    distinct = {"other classes": np.unique(chosen).size, "noise": noise_distinct}
    if noise is None:  # the other attacks need none: they go on without it
        del hosts["noise"]
        warnings.warn(
            f"the model calls every noise input drawn ({noise_drawn}) class {target} "
            "untouched: no pathological samples from noise",
            stacklevel=2,
        )
    coef = regime.coefficients.reshape(index.size, -1)
    values = regime.values.reshape(index.size, -1)
    pathological = {}
    for h, (name, hosts_in) in enumerate(hosts.items()):
        H = hosts_in.reshape(index.size, -1)
        gain = np.nan_to_num(coef * (P - H))  # the surrogate's rise of logit c per element
        named = getattr(rep, "categorical", np.zeros(0, dtype=np.int64))  # codes: no units
        if named.size:  # the donor's level's effect, less the host's level's
            rise = values[:, named] - _level_effects(explainer, regime, target, H)[:, named]
            gain[:, named] = np.where(P[:, named] != H[:, named], rise, 0.0)
        if rep.kind == "tokens":  # ids are names too: the donor's token's own effect
            gain = np.where(P != H, values, 0.0)
        if mode == "guided":
            seed = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, h))
            h_top = _designed_transplants(explainer, P, H, gain, target, n_samples, kmax, seed)
        else:
            h_top = ranked(gain, owned, kmax)
        h_rand = _random_present(P, H, kmax, rng, owned)
        pathological[name] = _attack(
            explainer.model,
            f"pathological ({name})",
            ks,
            hosts_in,
            functools.partial(_crafted, H, P, h_top, h_rand, X.shape[1:]),
            lambda p: p == target,
            size,
        )
        pathological[name].n_hosts = int(distinct[name])
        pathological[name].rows = chosen if name == "other classes" else None
        if distinct[name] < index.size:
            warnings.warn(
                f"pathological ({name}) of class {target}: {distinct[name]} distinct hosts "
                f"for {index.size} samples, some reused: its rates' intervals count each "
                "sample as an input",
                stacklevel=2,
            )
    if noise is not None:
        pathological["noise"].untouched_rate = noise_called
    patterns = _patterns(explainer, regime, P, base, ks, target, rng)
    rows1, calls1 = explainer.model.queried()
    return Scrutiny(
        target=target,
        ks=ks,
        explanation=exp,
        regime=regime,
        index=index,
        adversarial=adversarial,
        pathological=pathological,
        patterns=patterns,
        accuracy=accuracy,
        target_name=explainer.model.class_name(target),
        meta={
            "seconds": time.perf_counter() - t0,
            "model_calls": calls1 - calls0,
            "model_queries": rows1 - rows0,
            "explanation_mode": mode,
            "n_samples": n_samples,
            "max_off": max_off,
            # JSON-ready, as reports write it: a Generator's or SeedSequence's own seed
            "random_state": (
                random_state
                if random_state is None
                else int(random_state)
                if isinstance(random_state, int | np.integer)
                else {
                    "entropy": root.entropy,
                    "spawn_key": list(root.spawn_key),
                    **({} if state is None else {"state": state}),
                }
            ),
        },
    )


def _one_class(target):
    """``target`` as an int, refused unless it is one whole number: 1.7 is no class, and a
    label ("b") names no output column."""
    t = np.asarray(target)
    number = t.ndim == 0 and t.dtype != bool and t.dtype.kind in "iuf"
    if not (number and np.isfinite(t) and t == np.round(t)):
        raise TypeError(
            f"target must be one class, an output column's number (an integer), got "
            f"{target!r:.60}: a scikit-learn classifier's label b is "
            "list(model.classes_).index(b)"
        )
    return int(t)


def _level_effects(explainer, regime, target, H):
    """(m, F) the effect of each host's level in the donor's global regime (0 for numeric
    columns, and where a local explainer has no global regime)."""
    if regime.meta.get("mode") != "global" or explainer.mode == "local":
        return np.zeros(H.shape)
    rep = explainer.representation
    coef = explainer.surrogates_[target].coef_[regime.component]
    return rep.from_design(coef, H) * rep.features(H)


def _designed_transplants(explainer, P, H, gain, target, n_samples, kmax, seed, chunk=32):
    """(m, kmax) flat indices per pair: the donor elements whose transplant into the host
    raises the model's logit of ``target`` most, as a guided fit of the pair estimates it.
    Its features: the n_samples / TRANSPLANTS_PER_CANDIDATE differing elements of largest
    prior gain (the global regime's); the others follow in that order. n_samples transplants
    of up to PATHOLOGICAL_K of them (the scale of the question): a random first share, then
    rounds designed on the posterior so far. The global gain alone often picks elements
    that move a CNN only together with others: on Fashion-MNIST it made 0.13 of hosts be
    called c at k = 40, the designed fits 0.61 (docs/benchmarks.md)."""
    shape = (-1, *explainer.representation.input_shape)
    order = np.argsort(-gain, axis=1, kind="stable")
    n_cands = max(2, n_samples // TRANSPLANTS_PER_CANDIDATE)
    cands = []
    for i, row in enumerate(order):
        differs = row[P[i, row] != H[i, row]][:n_cands]
        cands.append(differs if differs.size >= 2 else None)  # nothing to fit
    fitted = [i for i, c in enumerate(cands) if c is not None]
    n_first = round(GUIDED_FIRST * n_samples)
    rounds = [r.size for r in np.array_split(np.arange(n_samples - n_first), GUIDED_ROUNDS)]
    rngs = [np.random.default_rng(s) for s in seed.spawn(len(P))]
    bounds = {}  # each pair's logit bound, from its first (random) round's outputs
    targets = np.full(len(P), target)

    def respond(idx, keeps):
        """The model's ``guided_logit`` of target, negated (the effect of keeping a host
        element is minus its transplant's gain), on each host with the candidates that a
        keep does not keep copied from its donor; in full batches for all of idx, each made
        when it is asked."""

        def crafted(i, keep):
            def rows(a, b):
                out = np.repeat(H[i][None], b - a, axis=0)
                r, cols = np.nonzero(~keep[a:b])
                out[r, cands[i][cols]] = P[i, cands[i][cols]]
                return out.reshape(shape)

            return len(keep), rows

        blocks = [crafted(i, keep) for i, keep in zip(idx, keeps, strict=True)]
        log_p = explainer.model.responses_of(blocks)
        outs = np.split(log_p, np.cumsum([len(k) for k in keeps])[:-1])
        return [-y for y in held_bound_logits(outs, idx, targets, bounds)]

    top = order[:, :kmax].copy()
    k_off = headline_k(P.shape[1], PATHOLOGICAL_K)  # the most copied in one transplant
    for lo in tqdm(
        range(0, len(fitted), chunk),
        desc="designed transplants",
        disable=not explainer.progress or len(fitted) <= chunk,
    ):
        idx = fitted[lo : lo + chunk]
        rate = [min(1.0, k_off / cands[i].size) for i in idx]
        first = [
            random_deletions(cands[i].size, n_first, r, rngs[i])
            for i, r in zip(idx, rate, strict=True)
        ]
        prior = [gain[i, cands[i]] for i in idx]
        rng_idx = [rngs[i] for i in idx]
        fits = designed_fits(
            first, prior, rate, rng_idx, rounds, lambda keeps, idx=idx: respond(idx, keeps)
        )
        for i, (mean, *_) in zip(idx, fits, strict=True):
            ranked = cands[i][np.argsort(-mean, kind="stable")]
            rest = order[i][~np.isin(order[i], ranked)]
            top[i] = np.concatenate([ranked, rest])[:kmax]
    return top


def _guided_samples(Z, max_off):
    """Perturbations per input such that, with rates ~ U(0, max_off / n_present), each
    present feature is switched off TIMES_OFF times on average: n * max_off / 2 / n_present
    = TIMES_OFF for the median input. Small perturbations need many of them: the Fashion-MNIST
    CNN's top-20 nullification fools it more often with 1,000 than 300 (docs/benchmarks.md)."""
    n_present = np.median((Z != 0).sum(axis=1))
    lo, hi = GUIDED_SAMPLES
    return int(np.clip(round(2 * TIMES_OFF * n_present / max_off), lo, hi))


def _attack(model, name, ks, originals, craft, success_of, elements):
    """Every k's crafted inputs and their random counterparts in full model batches (two
    calls per k of a few dozen inputs each cost a model behind a network dearly), each
    crafting made once, when its first batch is asked for."""
    made = {}

    def crafted(k, random):
        def rows(a, b):
            if made.get("key") != (k, random):
                made.update(key=(k, random), rows=craft(k, random))
            return made["rows"][a:b]

        return len(originals), rows

    blocks = [crafted(k, random) for k in ks for random in (False, True)]
    both = model.responses_of(blocks).argmax(axis=1).reshape(len(ks), 2, len(originals))
    pred, rpred = both[:, 0].copy(), both[:, 1].copy()
    return Attack(
        name,
        ks,
        success_of(pred),
        pred,
        success_of(rpred),
        rpred,
        originals,
        craft,
        elements,
        model=model,
    )


def _crafted(hosts, source, top, rand, shape, k, random):
    """``hosts`` (m, n) with the elements ``top[:, :k]`` taken from ``source``, or as many
    random ones that change as many elements (``_matched``), shaped as inputs: an
    ``Attack``'s craft, a function of the module's, so that results pickle (a closure did
    not: a ``multiprocessing.Pool`` could not send them back)."""
    cols = _matched(hosts, source, top[:, :k], rand) if random else top[:, :k]
    return _put(hosts, cols, source).reshape(-1, *shape)


def _random_present(P, ref, k, rng, owned):
    """(m, k) random flat indices per row among the elements of features (``owned``: not a
    token window's context): those that differ from ``ref`` (the baseline, or a host)
    first, in random order, then the others if a row has fewer than k."""
    # differing: [0, 1), equal: [1, 2), context: [2, 4), past any k <= owned.sum()
    keys = rng.uniform(size=P.shape) + (P == ref) + 2 * ~owned
    return np.argsort(keys, axis=1)[:, :k]


def _matched(host, source, cols, rand):
    """(m, k) random columns per row that change as many elements of ``host`` as ``cols``
    do when taken from ``source``: the first that many of ``rand`` (``_random_present``: the
    differing ones first), padded with the row's own unchanged columns of ``cols``."""
    src = np.broadcast_to(source, host.shape)
    same = np.take_along_axis(host, cols, axis=1) == np.take_along_axis(src, cols, axis=1)
    k = cols.shape[1]
    n = k - same.sum(axis=1, keepdims=True)  # elements cols change, per row
    unchanged = np.argsort(~same, axis=1, kind="stable")  # their places, unchanged first
    pad = np.take_along_axis(unchanged, np.maximum(np.arange(k) - n, 0), axis=1)
    return np.where(np.arange(k) < n, rand[:, :k], np.take_along_axis(cols, pad, axis=1))


def no_hosts(others, name, data, other_than=None):
    """Why no input of ``data`` can host pathological samples of class ``name``: all of it
    is the class, or the ``others`` labelled otherwise (than ``other_than``, the class as
    named there) are all called it."""
    if others:
        return (
            f"the {others} inputs of {data} labelled other than {other_than or name} are all "
            f"called {name} by the model: none can host pathological ones"
        )
    return f"every input of {data} is class {name}: nothing to host pathological ones"


def _noise_hosts(model, X, m, target, rng, rounds=10):
    """m noise inputs the model does not call ``target`` (None if it calls all of them), the
    share of noise it does call ``target``, how many of the m are distinct, and how many
    were drawn. Every element is drawn independently from that element's values in X: noise
    with the data's range and brightness, but no shape a human could read."""
    flat = X.reshape(len(X), -1)
    n = max(m, NOISE_PER_ROUND)
    kept, drawn, called = [], 0, 0
    for _ in range(rounds):
        rows = rng.integers(len(X), size=(n, flat.shape[1]))
        noise = np.take_along_axis(flat, rows, axis=0).reshape(n, *X.shape[1:])
        is_target = model.predict(noise) == target
        drawn, called = drawn + n, called + int(is_target.sum())
        kept.extend(noise[~is_target])
        if len(kept) >= m:
            break
    if not kept:
        return None, 1.0, 0, drawn
    hosts = np.asarray(kept)[np.arange(m) % len(kept)]  # reuse some if noise is rarely not c
    return hosts, called / drawn, min(len(kept), m), drawn


def _patterns(explainer, exp, P, base, ks, target, rng):
    """Occupied components of the class's global surrogate (those holding a fit row's
    worth or a scrutinized input), heaviest first; each one's
    top-k effects toward the class nullified at once in the inputs assigned to it."""
    if explainer.mode == "local":
        return []  # local mode has no class-level surrogate
    reg = explainer.fit([target]).surrogates_[target]
    rep = explainer.representation  # a column of names: its level most for the class
    owned = rep.groups >= 0
    coef = rep.element_coefficients(rep.from_design(reg.coef_))
    named = getattr(rep, "categorical", np.zeros(0, dtype=np.int64))
    best = rep.best_levels(reg.coef_) if named.size else np.zeros((len(coef), 0))
    # ranked by effect per unit of each feature (a table's column: per standard deviation),
    # not of each element, whose units differ from column to column
    unit = rep.spread(rep.scale[None])[0].reshape(-1)
    out = []
    for j in np.argsort(-reg.weights_):
        if reg.component_sizes_[j] < 1 and not (exp.component == j).any():
            continue  # no fit row's worth and no input: a regime of the prior
        mine = np.flatnonzero(exp.component == j)
        # toward the class: an effect per unit in the direction its inputs lie from the
        # baseline (a table's column below its mean, a coefficient below 0)
        toward = _direction(P[mine] if len(mine) else P, base, named, rep)
        nullified = None
        if len(mine):
            order = np.argsort(-(coef[j].reshape(-1) * unit * toward), kind="stable")[: max(ks)]
            Pj = P[mine]
            rand = _random_present(Pj, base, max(ks), rng, owned)
            top = np.broadcast_to(order, (len(Pj), order.size))
            nullified = _attack(
                explainer.model,
                f"pattern {j} nullified",
                ks,
                Pj.reshape(-1, *exp.shape),
                functools.partial(_crafted, Pj, base, top, rand, exp.shape),
                lambda pred: pred != target,
                int(owned.sum()),
            )
        out.append(
            Pattern(
                component=int(j),
                weight=float(reg.weights_[j]),
                size=float(reg.component_sizes_[j]),
                n_inputs=len(mine),
                coefficients=coef[j],
                nullified=nullified,
                levels={int(c): float(v) for c, v in zip(named, best[j], strict=True)},
                unit=unit,
                toward=toward,
            )
        )
    return out


def _direction(P, base, named, rep):
    """Per element, the side of the baseline the inputs lie on on average (+1 or -1; +1
    where they do not depart, and for a column of names, whose codes have no side)."""
    toward = np.where(np.mean(P - base, axis=0) < 0, -1.0, 1.0)
    if len(named):
        toward[rep.spread(np.isin(np.arange(rep.n_features), named)[None])[0].reshape(-1) > 0] = 1
    return toward
