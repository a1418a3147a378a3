"""Report sections of ``scrutinize``: rates beside chance, class patterns, and galleries of
adversarial and pathological samples with the model's new predictions. Shared by
``scrutiny scrutinize``, the demo and the benchmark reports."""

from __future__ import annotations

import time

import numpy as np

from scrutiny import plots
from scrutiny._validation import one_line
from scrutiny.categories import exact_text
from scrutiny.report import figure_png
from scrutiny.scrutinize import (
    ADVERSARIAL_K,
    PATHOLOGICAL_K,
    PATTERN_TOP,
    headline_k,
    scrutinize,
)

TABLE_TOP = 5  # columns named per component of a table's class surrogate


def scrutiny_sections(explainer, X, labels, classes, seed=0, say=print, examples=6, options=None):
    """(report sections, results) of ``scrutinize`` for each class: the table of every
    class, then each class's rates, galleries and patterns."""
    t0 = time.perf_counter()
    options = {"random_state": seed, **(options or {})}
    found = scrutinize_classes(explainer, X, labels, classes, say, **options)
    table = class_table(found, explainer.model.class_name)
    say(table)
    parts = [("Scrutiny: adversarial and pathological samples, every class", table, [])]
    for s in found.values():
        parts.extend(sections(s, explainer, n_examples=examples))
    seconds = time.perf_counter() - t0
    say(f"scrutinized {len(found)} classes in {seconds:.1f} s")
    results = {
        "scrutiny": {str(c): s.to_dict() for c, s in found.items()},
        "scrutiny_seconds": seconds,
    }
    return parts, results


def check_classes(classes, n_classes, option):
    """Refuse classes the model does not have before any work, not after the first ones."""
    bad = sorted({int(c) for c in classes if not 0 <= int(c) < n_classes})
    if bad:
        raise ValueError(
            f"{option} {' '.join(map(str, bad))}: the model has {n_classes} classes, "
            f"0..{n_classes - 1}"
        )


def scrutinize_classes(explainer, X, labels, classes, say=print, **options):
    """{class: Scrutiny} for each class, with one line of progress per class."""
    out = {}
    for c in classes:
        out[int(c)] = s = scrutinize(explainer, X, c, labels=labels, **options)
        a, o = s.adversarial, s.pathological["other classes"]
        ka, ko = _k(a, ADVERSARIAL_K), _k(o, PATHOLOGICAL_K)  # the nearest k tested
        say(
            f"class {explainer.model.class_name(c)}: {len(s.index)} inputs; top-{ka} nullified "
            f"fool {_rate(a, ka)}; "
            f"top-{ko} transplanted fool {_rate(o, ko)} ({s.meta['seconds']:.1f} s)"
        )
    return out


def class_table(scrutinies, name=str):
    """One row per class (named by ``name``, the model's ``class_name``): the headline
    rates, each beside its random chance level."""
    some = next(iter(scrutinies.values()))
    ka = _k(some.adversarial, ADVERSARIAL_K)
    kp = _k(some.pathological["other classes"], PATHOLOGICAL_K)
    w = max(5, *(len(name(c)) for c in scrutinies))
    lines = [
        f"{'class':>{w}} {'inputs':>6}  {f'adversarial k={ka}':>24}  "
        f"{f'pathological k={kp}':>24}  {f'noise k={kp}':>24}",
        "(share fooled, random features in brackets)",
    ]
    for c, s in scrutinies.items():
        noise = s.pathological.get("noise")  # none where the model calls all noise c
        cells = [
            _rate(s.adversarial, ka),
            _rate(s.pathological["other classes"], kp),
            "-" if noise is None else _rate(noise, kp),
        ]
        lines.append(f"{name(c):>{w}} {len(s.index):>6}  " + "  ".join(f"{x:>24}" for x in cells))
    return "\n".join(lines)


def sections(scrutiny, explainer, n_examples=6):
    """[(heading, text, [(png name, png bytes)])] for one class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    whole = isinstance(n_examples, int | np.integer) and not isinstance(n_examples, bool)
    if not whole or n_examples < 0:
        raise ValueError(f"n_examples must be a whole number, 0 or more, got {n_examples!r}")
    s, c = scrutiny, scrutiny.target
    class_name = explainer.model.class_name
    label = class_name(c)
    image = explainer.representation.kind == "image"
    curves = {}
    for name, a in s.attacks().items():
        curves[name] = a.rate
        curves[f"{name}, random"] = a.random_rate
    fig, ax = plt.subplots(figsize=(6, 4))
    plots.pcr_curve(
        s.ks,
        curves,
        ax=ax,
        title=f"class {plots.short(label)}: share fooled",
        ylabel="share of inputs fooled",
    )
    rate_png = [(f"class_{c}_fooled.png", figure_png(fig))]
    out = [(f"Class {label}: adversarial and pathological samples", s.summary(), rate_png)]
    out.append((f"Class {label}: new predictions", _new_predictions(s, explainer.model), []))
    n = min(n_examples, len(s.index))

    def drawn(c):  # a class as the galleries' titles name it
        return plots.short(class_name(c))

    if image and n:  # n_examples=0: no galleries
        out.append(
            (
                f"Class {label}: adversarial gallery (top-{_k(s.adversarial, ADVERSARIAL_K)} "
                "elements nullified, beside as many random ones)",
                "",
                [(f"class_{c}_adversarial.png", _adversarial_gallery(s, n, plt, drawn))],
            )
        )
        out.append(
            (
                f"Class {label}: pathological gallery (top-"
                f"{_k(s.pathological['other classes'], PATHOLOGICAL_K)} elements of a "
                f"class-{label} input transplanted)",
                "",
                [(f"class_{c}_pathological.png", _pathological_gallery(s, n, plt, drawn))],
            )
        )
    elif explainer.representation.kind == "tabular" and n:  # rows listed, column by column
        ka, ko = (
            _k(s.adversarial, ADVERSARIAL_K),
            _k(s.pathological["other classes"], PATHOLOGICAL_K),
        )
        out.append(
            (
                f"Class {label}: adversarial samples (top-{ka} columns nullified, beside as "
                "many random ones)",
                _listed(s.adversarial, ka, n, class_name, explainer, c, "input"),
                [],
            )
        )
        for host, attack in s.pathological.items():
            out.append(
                (
                    f"Class {label}: pathological samples (top-{ko} columns of a class-{label} "
                    f"input transplanted into {host})",
                    _listed(attack, ko, n, class_name, explainer, c, "host"),
                    [],
                )
            )
    out.append(_patterns_section(s, label, image, plt, explainer))
    return out


def _listed(attack, k, n, name, explainer, c, what):
    """The first n table rows of an attack at k as text: the columns crafting changed,
    from the original's value to the crafted one, and the model's prediction after, for
    the explanation's columns and, below each, for as many random ones."""
    i = attack.at(k)
    columns, before = _cells(attack.model.model_inputs(attack.originals[:n]), explainer)
    crafted = {
        random: _cells(attack.model_inputs(k, random=random)[:n], explainer)[1]
        for random in (False, True)
    }
    pathological = attack.name != "adversarial"
    lines = []
    for r in range(n):
        for random, pred in ((False, attack.predictions), (True, attack.random_predictions)):
            changed = [
                f"{col} {' -> '.join(_told_apart(a, b))}"
                for col, a, b in zip(columns, before[r], crafted[random][r], strict=True)
                if not _same(a, b)
            ]
            # by its row of X (--data), as the explanations are; noise by its place
            place = f"{r}" if attack.rows is None else f"#{attack.rows[r]}"
            head = "  random" if random else f"{what} {place}"
            lines.append(
                f"{head}: {', '.join(changed) or 'no column changed'}; "
                + _called(pred[i, r], c, name, fooled_if_equal=pathological)
            )
    return "\n".join(lines)


def _cells(rows, explainer):
    """(column names, rows of cells) of the model's inputs, a DataFrame or an array."""
    if hasattr(rows, "columns"):
        return [one_line(col) for col in rows.columns], rows.to_numpy(dtype=object)
    rows = np.asarray(rows, dtype=object).reshape(len(rows), -1)
    names = explainer.feature_names_ or [f"column {j}" for j in range(rows.shape[1])]
    return [one_line(col) for col in names], rows


def _told_apart(a, b):
    """Two cells as text that tells them apart: numbers with as many digits as that takes
    (at 4, zip 94110 -> 94112 read "9.411e+04 -> 9.411e+04"), names quoted (a level
    "good, cheap" or one holding a line break stays one entry)."""
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        if all(float(v).is_integer() and abs(v) < 1e15 for v in (a, b)):  # zip 94110
            return exact_text(a), exact_text(b)
        for digits in range(4, 18):
            pair = f"{a:.{digits}g}", f"{b:.{digits}g}"
            if pair[0] != pair[1]:
                break
        return pair
    return tuple(repr(str(v)) if isinstance(v, str) else str(v) for v in (a, b))


def _same(a, b):
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return a is b


def _pattern_columns(p, explainer, n=TABLE_TOP):
    """A table's component by its n columns of largest effect toward the class: a numeric
    column's per standard deviation, on the side of its mean the component's inputs lie
    (a negative one: below it), a column of names' for its level most for the class."""
    rep = explainer.representation
    names = explainer.feature_names_ or [f"column {j}" for j in range(rep.n_features)]
    levels = {} if explainer.categories_ is None else explainer.categories_.level_names()
    effect = p.coefficients.reshape(-1) * p.unit
    cells = []
    toward = effect * (1.0 if p.toward is None else p.toward)
    for j in np.argsort(-toward, kind="stable")[:n]:
        if not toward[j] >= 0.005:  # "+0.00 per sd" would say nothing
            break
        if j in p.levels:  # a code of a column of strings, or a number that names a thing
            level = p.levels[j]
            level = levels[names[j]][int(level)] if names[j] in levels else exact_text(level)
            cells.append(f"{one_line(names[j])}={one_line(level)} {effect[j]:+.2f}")
        else:
            cells.append(f"{one_line(names[j])} {effect[j]:+.2f} per sd")
    return ", ".join(cells) or "none"


def _patterns_section(s, label, image, plt, explainer):
    c = s.target
    if not s.patterns:
        return (f"Class {label}: patterns", "local mode: no class-level surrogate", [])
    lines = [
        f"occupied components of class {label}'s surrogate, heaviest first; nullified: share of "
        "the component's inputs fooled when its top-k effects toward the class are set to "
        "the baseline, one mask for all (random k in brackets)"
    ]
    pictures = []
    for p in s.patterns:
        rows = "fit inputs" if not explainer.fit_perturbations else "fit rows (with copies)"
        line = (
            f"component {p.component}: weight {p.weight:.3f}, {p.size:.0f} {rows}, "
            f"{p.n_inputs} scrutinized inputs"
        )
        if p.nullified is not None:
            line += "; nullified " + ", ".join(
                f"k={k}: {p.nullified.rate[i]:.2f} ({p.nullified.random_rate[i]:.2f})"
                for i, k in enumerate(p.nullified.ks)
            )
        if explainer.representation.kind == "tabular":
            line += "; for the class: " + _pattern_columns(p, explainer)
        lines.append(line)
        if image:  # every regime listed, as the heading says: one without inputs too
            fig, ax = plt.subplots(figsize=(3.4, 3))
            plots.pattern_map(
                p.coefficients,
                top=PATTERN_TOP,
                ax=ax,
                title=f"component {p.component}: weight {p.weight:.2f}, {p.n_inputs} inputs",
            )
            pictures.append((f"class_{c}_pattern_{p.component}.png", figure_png(fig)))
    heading = f"Class {label}: patterns (top {PATTERN_TOP} coefficients of each regime)"
    if explainer.representation.kind == "tabular":
        heading = f"Class {label}: patterns (the columns of each regime)"
    return (heading, "\n".join(lines), pictures)


def _adversarial_gallery(s, n, plt, name):
    a, c = s.adversarial, s.target
    k = _k(a, ADVERSARIAL_K)
    i = a.at(k)
    crafted, rand = a.samples(k)[:n], a.samples(k, random=True)[:n]
    fig, axes = plt.subplots(n, 4, figsize=(9.6, 2.4 * n), squeeze=False)
    for r in range(n):
        x = s.explanation.inputs[r]
        grey = _grey_range(x, crafted[r], rand[r])
        plots.input_image(x, ax=axes[r, 0], title=f"input: class {name(c)}", **grey)
        plots.explanation_image(s.explanation, r, ax=axes[r, 1], title="contributions")
        title = _called(a.predictions[i, r], c, name)
        plots.input_image(crafted[r], ax=axes[r, 2], title=title, **grey)
        title = "random: " + _called(a.random_predictions[i, r], c, name)
        plots.input_image(rand[r], ax=axes[r, 3], title=title, **grey)
    fig.tight_layout()
    return figure_png(fig)


def _pathological_gallery(s, n, plt, name):
    c = s.target
    other, noise = s.pathological["other classes"], s.pathological.get("noise")
    k = _k(other, PATHOLOGICAL_K)
    i = other.at(k)
    cols = [
        (other.originals[:n], None, "host"),
        (other.samples(k)[:n], other.predictions[i], "from another class"),
        (other.samples(k, random=True)[:n], other.random_predictions[i], "random"),
    ]
    if noise is not None:  # none where the model calls all noise c
        cols += [
            (noise.samples(k)[:n], noise.predictions[i], "from noise"),
            (noise.samples(k, random=True)[:n], noise.random_predictions[i], "noise, random"),
        ]
    width = len(cols) + 1
    fig, axes = plt.subplots(n, width, figsize=(2.4 * width, 2.4 * n), squeeze=False)
    for r in range(n):
        donor = s.explanation.inputs[r]
        grey = _grey_range(donor, *(X[r] for X, _, _ in cols))
        plots.input_image(donor, ax=axes[r, 0], title=f"donor: class {name(c)}", **grey)
        for j, (X, pred, what) in enumerate(cols, start=1):
            called = _called(pred[r], c, name, fooled_if_equal=True) if pred is not None else ""
            title = f"{what}\n{called}"
            plots.input_image(X[r], ax=axes[r, j], title=title, **grey)
    fig.tight_layout()
    return figure_png(fig)


def _grey_range(*images):
    """One grey scale for a gallery's row: an input and its changed copies drawn alike (each
    on its own scale, a copy that lost its brightest pixels looked brighter)."""
    return {"vmin": min(np.min(x) for x in images), "vmax": max(np.max(x) for x in images)}


def _new_predictions(s, model):
    lines = []
    for name, a in s.attacks().items():
        for k, counts in zip(a.ks, a.new_predictions(), strict=True):
            listed = ", ".join(f"{model.class_name(int(cl))}: {v}" for cl, v in counts.items())
            lines.append(f"{name:<30} k={k:<4} predictions {listed}")
    return "\n".join(lines)


def _called(pred, c, name, fooled_if_equal=False):
    fooled = (pred == c) if fooled_if_equal else (pred != c)
    return f"called {name(pred)}" + (" (fooled)" if fooled else "")


def _k(attack, preferred):
    """The headline k of ``preferred`` for the attack's inputs (``headline_k``) if it was
    tested, else the largest k below it (or the smallest)."""
    k = headline_k(attack.elements, preferred)
    below = [t for t in attack.ks if t <= k]
    return max(below) if below else min(attack.ks)


def _rate(attack, k):
    i = attack.at(k)
    return f"{attack.rate[i]:.2f} ({attack.random_rate[i]:.2f})"
