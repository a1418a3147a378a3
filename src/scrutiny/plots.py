"""Pictures of explanations. Every function draws on a matplotlib ``ax`` and returns it."""

from __future__ import annotations

import functools
import math
import warnings
import weakref

import numpy as np

from scrutiny._validation import one_line, whole_number

# characters of a name a picture draws: 40 at 8 points are 2 of a bar chart's 5 inches
NAME_MOST = 40


def as_written(draw):
    """``draw`` with the texts it makes (legends, words, colour bars' labels) drawn as
    written: matplotlib reads "$...$" as TeX, and column names, class labels and words hold
    dollars ("$5-$10", "$1_to_$2" failed). The axes' title and labels exist before it:
    the plots set theirs with ``parse_math=False``, and leave a caller's alone. A figure it
    made for itself is closed if it raises."""

    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        import matplotlib

        before = set(_OWN_FIGURES)
        with matplotlib.rc_context({"text.parse_math": False}):
            try:
                ax = draw(*args, **kwargs)
            except Exception:  # a refused input left an empty figure open per call
                import matplotlib.pyplot as plt

                for fig in set(_OWN_FIGURES) - before:
                    plt.close(fig)
                raise
            if getattr(ax, "figure", None) in _OWN_FIGURES:
                _fit_labels(ax.figure)
            return ax

    return drawn


# figures a plot made for itself (no ``ax`` given), laid out once drawn: on the default
# 3.2 x 3 in, saved, bars lost every feature name past the left edge
_OWN_FIGURES = weakref.WeakSet()


def _fit_labels(fig, margin=0.05):
    """Lay out a plot's own figure once, growing it until everything drawn is ``margin``
    inches inside it: on its 3.2 x 3 in, tight_layout alone left long feature names, or a
    long axis label, past its edges ("contribution to" of "contribution to logit"); no
    layout engine is left for the caller's own calls. A title wraps within the figure
    instead (over an image of fixed aspect, a wider figure moved it further out), and a
    figure that growing does not help is laid out at its first size."""
    for ax in fig.axes:
        ax.title.set_wrap(True)
    first = fig.get_size_inches().copy()
    history = []
    for _ in range(6):
        _tight(fig)
        box = fig.get_tightbbox()  # in inches, of everything drawn, inside the figure or not
        width, height = fig.get_size_inches()
        wider = max(0.0, margin - box.x0) + max(0.0, box.x1 + margin - width)
        taller = max(0.0, margin - box.y0) + max(0.0, box.y1 + margin - height)
        if wider < 0.01 and taller < 0.01:
            return
        if history and wider + taller >= history[-1]:  # no better for the room it was given
            break
        history.append(wider + taller)
        # twice what is out: a label centred under the axes gains half of it on each side
        fig.set_size_inches(width + 2 * wider, height + 2 * taller)
    if history and (wider + taller) < history[0]:
        return
    fig.set_size_inches(first)
    _tight(fig)


def _tight(fig):
    with warnings.catch_warnings():  # "not applied": labels wider than the figure
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout()


def _axes(ax):
    """The caller's axes, or those of a new figure (``_OWN_FIGURES``)."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(3.2, 3))
        _OWN_FIGURES.add(fig)
    return ax


def _limit(values):
    """Half-width of a colour scale centred at 0: the largest finite |value| (1 if none), so
    that a NaN (a coefficient without draws) does not make matplotlib's (-0.1, 0.1)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


@as_written
def coefficient_map(coef, shape=None, top=None, ax=None, title=None, colorbar=True):
    """Heat map of coefficients laid out as an image, on a diverging colour map centred at
    0; with ``top``, only the ``top`` largest |coef| are shown. ``shape`` None: the array's
    own if it is 2-D, a square if a flat vector's length is one (784 -> 28 x 28)."""
    if top is not None:  # -1 drew all but one, quietly; 2.5 failed in a slice
        top = whole_number(top, "top", 1)
    values = np.asarray(coef, dtype=float)
    if shape is None:
        side = math.isqrt(values.size)
        if values.ndim > 2:  # squared, (4, 28, 28) was a 56 x 56 picture of nothing
            raise ValueError(
                f"coefficients of shape {values.shape} have channels: draw them with "
                "pattern_map, which sums them, or pass a 2-D shape= (height, width) of "
                "as many values"
            )
        if values.ndim < 2 and side * side != values.size:
            raise ValueError(
                f"cannot lay out {values.size} coefficients as a square image: pass shape=, "
                "or draw the coefficients of table rows with explanation_bars"
            )
        shape = values.shape if values.ndim == 2 else (side, side)
    elif len(shape) != 2:  # (H, W, 3) was drawn as a clipped RGB picture, not a heat map
        raise ValueError(f"shape must be 2-D (height, width) for a heat map, got {tuple(shape)}")
    elif int(np.prod(shape)) != values.size:
        raise ValueError(f"shape {tuple(shape)} does not hold {values.size} coefficients")
    ax = _axes(ax)
    values = values.reshape(-1).copy()
    if top is not None and top < values.size:
        keep = np.argsort(-np.abs(np.nan_to_num(values)))[:top]
        mask = np.zeros(values.size, dtype=bool)
        mask[keep] = True
        values[~mask] = 0.0
    lim = _limit(values)
    im = ax.imshow(values.reshape(shape), cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return ax


def feature_labels(explanation, i, elements, names=None, most=None):
    """How input ``i``'s ``elements`` are named: by ``names``, else by the explanation's
    feature names with the input's values ("Home = rent", "Age = 42"), else "feature j";
    each name and level on one line, and with ``most``, ``short``."""

    def written(text):
        return one_line(text) if most is None else short(text, most)

    x = explanation.inputs[i].reshape(-1)
    shown = explanation.feature_names
    if names is None and shown is not None:  # a table's row: its values
        return [
            f"{written(shown[j])} = {written(_shown(explanation.level(i, j), x[j]))}"
            for j in elements
        ]
    return [written(names[j]) if names is not None else f"feature {j}" for j in elements]


def short(name, most=NAME_MOST):
    """A name as a picture draws it: on one line (``one_line``), and at most ``most``
    characters, its middle elided (the report's text has it whole): a 300-character column
    name made a bar chart 2,620 pixels wide, its bars 400 of them, and the page shrank it
    to 1,100, its labels to 5 pixels high."""
    name = one_line(name)
    if len(name) <= most:
        return name
    tail = most // 3  # names that differ at their end (income_2021, income_2022) still do
    return f"{name[: most - tail - 1]}\u2026{name[-tail:]}"


def _short_names(names, elements):
    """Tick labels of ``elements``: their ``names``, ``short``, else "feature j"."""
    return [short(names[j]) if names is not None else f"feature {j}" for j in elements]


def _shown(level, value):
    """A column's level as named (an empty name too), else its value."""
    if level is not None:
        return level
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:  # a count or an amount, in full
        return str(int(value))
    if not 1e-4 <= abs(value) < 1e15:
        return format(value, ".4g")
    # four significant digits, and at least its whole part and one decimal: 52000.5 read
    # "5.2e+04", 1234.5678 "1235", as if whole
    digits = max(4, int(math.log10(abs(value))) + 2)
    text = np.format_float_positional(value, digits, unique=False, fractional=False, trim="-")
    # rounded up to a whole number (99999.99: "100000"): the shortest text that reads back
    return text if "." in text else np.format_float_positional(value, trim="-")


def _require_image(shape, plot):
    """Refuses flat samples (table rows, texts), whose 1, 3 or 4 elements read as channels
    and crashed inside matplotlib."""
    if len(shape) not in (2, 3):
        raise ValueError(
            f"{plot} draws images (H, W[, C]); samples of shape {tuple(shape)} are drawn "
            "with explanation_bars (tables) or explanation_text (texts)"
        )


@as_written
def pattern_map(coefficients, top=150, ax=None, title=None):
    """A component's per-element coefficients (shaped like an input image; channels summed)
    as a heat map of its ``top`` largest |coefficients|: the regime's pattern. A flat
    vector (``DPMixtureRegression.coef_[k]`` of flat images) of a square of at least 8 x 8
    is laid out as ``coefficient_map`` lays it out (784 -> 28 x 28)."""
    from scrutiny.representations.image import channel_axis

    c = np.asarray(coefficients, dtype=float)
    if c.ndim == 1 and c.size >= 64 and math.isqrt(c.size) ** 2 == c.size:
        # a square image's coef_ (784: 28 x 28; scikit-learn's digits: 8 x 8); a table's
        # few coefficients are refused below, not drawn as a picture of 4 x 4
        return coefficient_map(c, top=top, ax=ax, title=title)
    _require_image(c.shape, "pattern_map")
    axis = channel_axis(c.shape)
    if axis is not None:
        c = c.sum(axis=axis)
    return coefficient_map(c.reshape(-1), shape=c.shape, top=top, ax=ax, title=title)


@as_written
def trace(values, ax=None, ylabel="log-likelihood"):
    """Per-chain traces of a scalar, as stored by the sampler: values (chains, draws)."""
    ax = _axes(ax)
    for c, v in enumerate(np.atleast_2d(values)):
        ax.plot(v, lw=0.8, label=f"chain {c}")
    ax.set_xlabel("stored draw")
    ax.set_ylabel(ylabel, parse_math=False)
    ax.legend(fontsize=7)
    return ax


def _grey_map(shape, channel_axis):
    """Ink on paper for one channel (a digit), brightness as it is for colour."""
    return "gray_r" if channel_axis is None or shape[channel_axis] == 1 else "gray"


@as_written
def input_image(x, ax=None, title=None, vmin=None, vmax=None):
    """One input image in grey: a one-channel image as ink on paper (bright pixels dark, as
    MNIST's digits are drawn), a colour one as its brightness (channels averaged, bright
    pixels bright: inverted, a photograph was its negative); ``vmin`` and ``vmax`` fix its
    grey scale, so that images drawn side by side (an input and its changed copy) share one: each on
    its own, a copy with its brightest pixels removed is drawn brighter."""
    from scrutiny.representations.image import channel_axis

    x = np.asarray(x)
    _require_image(x.shape, "input_image")
    ax = _axes(ax)
    axis = channel_axis(x.shape)
    grey = x if axis is None else x.mean(axis=axis)
    ax.imshow(grey, cmap=_grey_map(x.shape, axis), vmin=vmin, vmax=vmax)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    return ax


@as_written
def explanation_image(explanation, i, ax=None, title=None, colorbar=True):
    """Input ``i`` of an image explanation in grey (as ``input_image`` draws it) with its
    contributions overlaid on a
    diverging colour map centred at 0 (red supports the explained class, blue opposes it),
    in the units of ``meta["scale"]``: the logit (scrutiny's), the probability (LIME's,
    KernelSHAP's), or a regression model's output."""
    import numpy as np

    ax = _axes(ax)
    from scrutiny.representations.image import channel_axis

    x, v = explanation.inputs[i], explanation.values[i]
    _require_image(x.shape, "explanation_image")
    axis = channel_axis(x.shape)
    grey = _grey_map(x.shape, axis)
    if axis is not None:  # show brightness; sum contributions over channels
        x, v = x.mean(axis=axis), v.sum(axis=axis)
    lim = _limit(v)
    ax.imshow(x, cmap=grey, alpha=0.45)
    shown = np.ma.masked_where(v == 0, v)
    im = ax.imshow(shown, cmap="RdBu_r", vmin=-lim, vmax=lim, alpha=0.85)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    if colorbar:
        ax.figure.colorbar(
            im, ax=ax, fraction=0.046, pad=0.04, label=f"contribution to {_scale(explanation)}"
        )
    return ax


@as_written
def explanation_text(explanation, i, words, ax=None, title=None, colorbar=True, width=None):
    """Text ``i`` of a text explanation, each word on a background from a diverging colour
    map centred at 0 (red supports the explained class, blue opposes it). Lines are wrapped
    at ``width`` characters, or (None) where the axes end; without ``ax``, a figure tall
    enough for every line. ``words``: the word at each position (``TextEncoder.words``)."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    v = np.asarray(explanation.values[i], dtype=float).reshape(-1)
    if len(words) != v.size:
        raise ValueError(f"{len(words)} words for an explanation of {v.size} positions")
    own_figure = ax is None  # a caller's figure keeps its size
    if own_figure:  # tall enough for the colour bar's label (1 in cut it to "ntribution to lo")
        fig, ax = plt.subplots(figsize=(7.0, 1.8 if colorbar else 1.0))
        _OWN_FIGURES.add(fig)
    lim = _limit(v)
    norm, cmap = mpl.colors.Normalize(-lim, lim), mpl.colormaps["RdBu_r"]
    if colorbar:  # first: it takes its share of the axes' width
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        bar = ax.figure.colorbar(sm, ax=ax, fraction=0.046, pad=0.04)
        bar.set_label(f"contribution to {_scale(explanation)}", fontsize=8)
    fontsize = 8
    char = 0.6 * fontsize / 72 * ax.figure.dpi  # a monospace character's advance, in pixels
    fits = max(1, int(ax.get_window_extent().width / char))
    per_line = fits if width is None else min(int(width), fits)
    placed, col, line = [], 0, 0
    for word, value in zip(words, v, strict=True):
        if not word:
            continue
        if col and col + len(word) > per_line:
            col, line = 0, line + 1
        placed.append((col, line, word, value))
        col += len(word) + 1
    if own_figure and ax.figure.get_figheight() < 0.2 * (line + 1) + 0.5:
        ax.figure.set_figheight(0.2 * (line + 1) + 0.5)  # one line of 8-point text: 0.2 in
    for col, line_i, word, value in placed:
        face = cmap(norm(value))
        box = {"facecolor": face, "edgecolor": "none", "pad": 1.0}
        # white on the darkest reds and blues, where black could not be read
        ink = "white" if _luminance(face) < 0.4 else "black"
        ax.text(
            col / fits,
            -line_i,
            word,
            family="monospace",
            fontsize=fontsize,
            va="top",
            bbox=box,
            color=ink,
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(-line - 1, 0.2)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    return ax


def _luminance(rgba):
    """Relative luminance of a colour (sRGB weights, as WCAG's contrast uses)."""
    return 0.2126 * rgba[0] + 0.7152 * rgba[1] + 0.0722 * rgba[2]


@as_written
def explanation_bars(explanation, i, k=10, names=None, ax=None, title=None):
    """The k largest contributions (by absolute value) of input ``i`` as horizontal bars,
    labelled with ``names``, or by default with the explanation's feature names and the
    input's values ("Home = rent", "Age = 42"), if it has names."""
    import numpy as np

    ax = _axes(ax)
    v = explanation.values[i].reshape(-1)
    own = int(explanation.feature_elements.sum())  # a token window's, not its context's
    # input i's row alone: top() of every row, to read one, made a report quadratic
    order = explanation[i].top(min(k, own), by="magnitude")[0][::-1]
    if (explanation.meta.get("representation") or {}).get("kind") == "tokens":
        # positions past a text's end hold no word: 4 of a short review's 10 bars were those
        present = explanation.inputs[i].reshape(-1) != explanation.baseline.reshape(-1)
        order = order[present[order]]
    labels = feature_labels(explanation, i, order, names, most=NAME_MOST)
    ax.barh(range(len(order)), v[order], color=np.where(v[order] >= 0, "#c0392b", "#2e6da4"))
    ax.set_yticks(range(len(order)), labels, fontsize=8, parse_math=False)  # "$" is no TeX
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel(f"contribution to {_scale(explanation)}")
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    return ax


@as_written
def importance_bars(explanation, k=10, names=None, ax=None, title=None, target=None):
    """The k features with the largest mean |contribution| over the explained inputs (those
    explained for class ``target``, if given), as horizontal bars (a global view of many
    local explanations, as shap's bar summary), labelled with ``names`` (default: the
    explanation's feature names, if it has them)."""
    k = whole_number(k, "k", 1)  # -1 left the last feature out, quietly
    ax = _axes(ax)
    explanation = _of_target(explanation, target)
    mean = np.abs(explanation.values.reshape(len(explanation.values), -1)).mean(axis=0)
    order = np.argsort(-mean, kind="stable")[: min(k, mean.size)][::-1]
    names = explanation.feature_names if names is None else names
    labels = _short_names(names, order)
    ax.barh(range(len(order)), mean[order], color="#7f8c8d")
    ax.set_yticks(range(len(order)), labels, fontsize=8, parse_math=False)  # "$" is no TeX
    ax.set_xlabel(f"mean |contribution to {_scale(explanation)}|, {len(explanation.values)} inputs")
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    return ax


def _of_target(explanation, target):
    """The inputs explained for class ``target`` (a whole number; 1.7 and True were class
    1); with None, all of them, warned of where they are explained for several classes (a
    contribution to one class's logit drawn beside one to another's).
    A regression model's targets are named outputs: it has no classes."""
    if len(explanation) == 0:  # a selection of none (exp[exp.target == c]): numpy's reshape
        raise ValueError(  # failed
            "the explanation holds no input to draw (a selection such as "
            "explanation[explanation.target == c] of a class none is explained for?)"
        )
    regression = explanation.meta.get("outputs") == "values"
    a, what, whats = ("an", "output", "outputs") if regression else ("a", "class", "classes")
    if target is None:
        classes = np.unique(explanation.target)
        if classes.size > 1:
            warnings.warn(
                f"the inputs are explained for {whats} {classes.tolist()[:10]}, drawn "
                f"together: pass target=c to draw one {what}'s",
                stacklevel=4,
            )
        return explanation
    number = isinstance(target, int | float | np.integer | np.floating)
    if isinstance(target, bool | np.bool_) or not (number and float(target).is_integer()):
        raise ValueError(f"target must be {a} {what}, a whole number, got {target!r}")
    chosen = explanation[np.flatnonzero(explanation.target == target).tolist()]
    if len(chosen) == 0:
        raise ValueError(f"no input is explained for {what} {target}")
    return chosen


@as_written
def beeswarm(explanation, k=10, target=None, ax=None, title=None, colorbar=True):
    """The k features of largest mean |contribution| over the explained inputs (those
    explained for class ``target``, if given: a contribution is to its class's logit), one
    row each: a dot per input at its contribution, coloured by the input's value of the
    feature (between its 5th and 95th percentiles, low blue to high red; a categorical
    column red where it is off its baseline level), dots of like contribution spread apart,
    as shap's summary plot draws them."""
    k = whole_number(k, "k", 1)
    ax = _axes(ax)
    explanation = _of_target(explanation, target)
    m = len(explanation)
    v = explanation.values.reshape(m, -1)
    x = explanation.inputs.reshape(m, -1)
    order = np.argsort(-np.abs(v).mean(axis=0), kind="stable")[: min(k, v.shape[1])][::-1]
    named = set(explanation.categorical_columns)
    base = explanation.baseline.reshape(-1)
    names = explanation.feature_names
    for row, j in enumerate(order):
        if j in named:
            colour = (x[:, j] != base[j]).astype(float)
        else:
            colour = _value_colour(x[:, j])
        dots = ax.scatter(
            v[:, j], row + _swarm(v[:, j]), c=colour, cmap="coolwarm", vmin=0, vmax=1, s=9
        )
    ax.set_yticks(
        range(len(order)),
        _short_names(names, order),
        fontsize=8,
        parse_math=False,
    )
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel(f"contribution to {_scale(explanation)}, {m} inputs")
    if colorbar and len(order):
        bar = ax.figure.colorbar(dots, ax=ax, ticks=[0, 1], fraction=0.05)
        bar.ax.set_yticklabels(["low", "high"], fontsize=8)
        bar.set_label("feature value", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9, parse_math=False)
    return ax


def _value_colour(x):
    """Values as 0..1 between their 5th and 95th percentiles (their least and most, where
    those are equal), as shap's beeswarm colours them: a 0/1 column is blue and red however
    few of its inputs are 0, where ranks made 90 ones out of 100 nearly as blue as the 0s."""
    lo, hi = np.nanpercentile(x, [5, 95])
    if hi <= lo:
        lo, hi = np.nanmin(x), np.nanmax(x)
    if hi <= lo:
        return np.full(x.shape, 0.5)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def _swarm(values, bins=60, width=0.4):
    """Vertical offsets that spread dots of like value: within each of ``bins`` bins of the
    values' range, 0, +d, -d, +2d, ... in the order of the values, the widest at ``width``
    and d at most a fifth of it (a lone pair of dots read as a row of their own at 0.4)."""
    values = np.asarray(values, dtype=float)
    lo, hi = values.min(initial=0.0), values.max(initial=0.0)
    which = np.minimum(((values - lo) / ((hi - lo) or 1.0) * bins).astype(int), bins - 1)
    place = np.zeros(values.size)
    for b in np.unique(which):
        members = np.flatnonzero(which == b)
        members = members[np.argsort(values[members], kind="stable")]
        steps = np.arange(members.size)
        place[members] = np.where(steps % 2, -1.0, 1.0) * ((steps + 1) // 2)
    biggest = np.abs(place).max(initial=0.0)
    return place * min(width / biggest, width / 5) if biggest > 0 else place


def _scale(explanation):
    """What the values add up to: the class logit (scrutiny's) or its probability
    (LIME's, KernelSHAP's), or a regression model's output."""
    if explanation.meta.get("outputs") == "values":
        return "the output"
    return "probability" if explanation.meta.get("scale") == "probability" else "logit"


@as_written
def pcr_curve(
    ks, rates, ax=None, title="feature deduction", intervals=None, ylabel="PCR", ylim=(-0.02, 1.02)
):
    """PCR (or any rate, or with ``ylim=None`` any score) against k for several methods:
    rates {method: (len(ks),)}; optional intervals {method: (lower, upper)}; "<method>,
    random" is drawn dashed in the colour of <method>."""
    ax = _axes(ax)
    colors = {}

    def paired(name):
        return name.endswith(", random") and name.removesuffix(", random") in rates

    # "<method>, random" right after <method>, whichever the caller gave first
    order = [n for name in rates if not paired(name) for n in (name, f"{name}, random")]
    for name in [n for n in order if n in rates]:
        r = rates[name]
        base = name.removesuffix(", random")
        style = {"ls": "--", "color": colors[base]} if base in colors else {}
        line = ax.plot(ks, r, marker="o", label=name, **style)[0]
        colors.setdefault(name, line.get_color())
        if intervals and name in intervals:
            lo, hi = intervals[name]
            ax.fill_between(ks, lo, hi, color=line.get_color(), alpha=0.15)
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(ks), [str(k) for k in ks])
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.set_xlabel("k (input elements changed: pixels, columns, tokens)")
    ax.set_ylabel(ylabel, parse_math=False)
    ax.set_title(title, fontsize=10, parse_math=False)
    ax.legend(fontsize=8)
    return ax
