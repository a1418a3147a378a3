"""The main job shared by ``scrutiny demo`` and ``scrutiny explain``: explain inputs, test
the explanations by feature deduction (a regression model's by deletion) against random
features, and write the report."""

from __future__ import annotations

import os
import sys
import time

import numpy as np

from scrutiny import plots
from scrutiny.baselines import random_explanation
from scrutiny.fidelity import checked_ks, deduction, deletion, pcr
from scrutiny.report import figure_png, write_report

# The report flags a fit whose chains' split R-hat of the log-likelihood exceeds this: Gelman
# and Rubin's limit; Vehtari et al. (2021) ask 1.01 of a fit whose draws are to be trusted.
RHAT_LIMIT = 1.1
EXPLANATION_FILES = ("explanation.npz", "explanation.json")  # exp.save of "explanation"


def status_printer(quiet=False):
    """``print`` for a command's status lines, or nothing when ``quiet``. A reader that
    stops reading (``| head -1``) stops the lines, not the job: a broken pipe ended a run
    before its report was written; so did a class name the console cannot encode."""
    if quiet:
        return lambda *args: None

    def say(*args):
        try:
            try:
                print(*args, flush=True)
            except UnicodeEncodeError:  # a class named "逾期" on an ASCII or cp1252 console
                encoding = sys.stdout.encoding or "ascii"
                line = " ".join(map(str, args)).encode(encoding, "backslashreplace")
                print(line.decode(encoding), flush=True)
        except BrokenPipeError:  # later lines, and the exit's flush, to nowhere
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

    return say


def explain_and_report(
    explainer,
    X,
    out,
    title,
    facts,
    X_test=None,
    ks=None,
    seed=0,
    say=print,
    weakness=None,
    rows=None,
    pictured=None,
    target=None,
):
    """Explain X (``rows``: each one's row in the user's data, which names it as "#row";
    default 0, 1, ...), run the deduction test (for a regression model, or a ``target``
    class or output given for every input, deletion) on the explanations of ``X_test``
    (default: X),
    and write ``out``/index.html, results.json, one PNG per input and the explanation
    (explanation.npz + .json). With ``weakness`` (keyword arguments of
    ``weakness_report.scrutiny_sections``: X, labels, classes, ...), also scrutinize those
    classes and report adversarial and pathological samples and class patterns. Only the
    first ``pictured`` inputs (default: all) are drawn; the explanation holds all. Returns
    the results dict."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = time.perf_counter()
    exp = explainer.explain(X, target=target)
    rows = np.arange(len(exp)) if rows is None else np.asarray(rows).reshape(-1)
    say(
        f"explained {len(exp)} inputs in {exp.meta['seconds']:.1f} s "
        f"({exp.meta['model_queries']} model queries; fit {explainer.fit_seconds_:.1f} s, "
        f"{explainer.fit_queries_} queries"
        + (
            f"; {len(explainer.cached_fits_)} fits loaded from cache)"
            if explainer.cached_fits_
            else ")"
        )
    )
    test = exp if X_test is None else explainer.explain(X_test, target=target)
    ks = checked_ks(ks, int(test.feature_elements.sum()))  # a token window's, not its context
    methods = {"DMM-MEN": test, "random": random_explanation(test, seed)}
    regression = explainer.model.regression
    # a class chosen for every input: deduction counts decisions kept, and inputs the model
    # does not call that class have none to keep; the fall of its logit sees them all
    dropping = regression or target is not None
    if dropping:  # the mean fall of the output
        test_name, thing = "deletion", "the output" if regression else "the class logit"
        what = f"{thing}'s fall"
        heading = (
            f"deletion: mean fall of {thing} once the top k are at the baseline "
            "(higher = more faithful)"
        )
        rates = {
            n: deletion(explainer.model, e, ks, progress=explainer.progress).mean(axis=1)
            for n, e in methods.items()
        }
    else:
        test_name, what = "deduction", "PCR"
        heading = (
            "deduction PCR (share still classified as the explained class; lower = more faithful)"
        )
        rates = {
            name: pcr(deduction(explainer.model, e, ks, progress=explainer.progress))
            for name, e in methods.items()
        }
    table = "\n".join(
        [
            heading,
            f"{'k':>8}" + "".join(f"{name:>10}" for name in rates),
            *[
                f"{k:>8}" + "".join(f"{rates[n][i]:>10.3f}" for n in rates)
                for i, k in enumerate(ks)
            ],
        ]
    )
    say(table)
    image = explainer.representation.kind == "image"
    pictures, listed = [], []  # a row's top features as text too: searchable, any script
    if explainer.representation.kind == "tabular":  # the rows of the most common class
        c = int(np.bincount(test.target).argmax())
        caption = (  # not ``title``: that is the report's
            f"{_target(explainer, c, plots.NAME_MOST)}: the columns that matter most, "
            f"{int((test.target == c).sum())} rows"
        )
        fig, ax = plt.subplots(figsize=(5.6, 3.8))
        plots.beeswarm(test, target=c, ax=ax, title=caption)
        pictures.append(("overview.png", figure_png(fig)))
    drawn = len(exp) if pictured is None else min(pictured, len(exp))
    if drawn < len(exp):
        say(f"pictured the first {drawn} of the {len(exp)} inputs; explanation.npz holds all")
    for i in range(drawn):
        regime = f"component {exp.component[i]} (p={exp.component_probability[i]:.2f})"
        title_i = f"#{rows[i]}: {_target(explainer, exp.target[i])}, {regime}"
        pictured_as = f"#{rows[i]}: {_target(explainer, exp.target[i], plots.NAME_MOST)}, {regime}"
        if image:
            fig, axes = plt.subplots(1, 2, figsize=(6.2, 3))
            plots.explanation_image(exp[i], 0, ax=axes[1], title="contributions")
            plots.input_image(exp.inputs[i], ax=axes[0], title="input")
            fig.suptitle(pictured_as, fontsize=9, parse_math=False)
        else:
            fig, ax = plt.subplots(figsize=(5, 3.2))
            plots.explanation_bars(exp, i, ax=ax, title=pictured_as)
            top = exp[i].top(min(5, exp.values[i].size), by="magnitude")[0]
            flat = exp.values[i].reshape(-1)
            cells = zip(plots.feature_labels(exp, i, top), flat[top], strict=True)
            listed.append(f"{title_i}: " + ", ".join(f"{n} {v:+.3g}" for n, v in cells))
        pictures.append((f"explanation_{i:02d}.png", figure_png(fig)))
    fig, ax = plt.subplots(figsize=(4.8, 3.4))
    plots.pcr_curve(
        ks,
        rates,
        ax=ax,
        title=f"feature {test_name}, {len(test)} inputs",
        ylabel=what,
        ylim=None if dropping else (-0.02, 1.02),
    )
    pcr_png = [(f"{test_name}_{'drop' if dropping else 'pcr'}.png", figure_png(fig))]
    weak_sections, weak_results = [], {}
    if weakness is not None:
        from scrutiny.weakness_report import scrutiny_sections

        weak_sections, weak_results = scrutiny_sections(explainer, seed=seed, say=say, **weakness)
    # traces of the classes explained or scrutinized; the table has every class fitted (a
    # 100-class model's blocks fitted 95 for 39 explained: their traces, 80% of the page)
    traced = {int(t) for t in np.unique(exp.target)}
    traced |= {int(c) for c in (weakness or {}).get("classes") or ()}
    diag_rows, traces = _diagnostics(explainer, plt, traced)
    diag_names = {c: explainer.model.class_name(int(c)) for c in diag_rows}
    exp.save(f"{out}/explanation")
    results = {
        **facts,
        "explainer": {
            "mode": explainer.mode,
            "representation": explainer.representation.to_json(),
            "surrogate": explainer.surrogate,
            "fit_seconds": explainer.fit_seconds_,
            "fit_queries": explainer.fit_queries_,
            "fits_loaded_from_cache": list(explainer.cached_fits_),
        },
        "explanations": exp.to_dict(k=20),
        "explained_rows": rows.tolist(),
        **_class_labels(explainer.model),
        test_name: {
            "n_inputs": len(test),
            "k": list(ks),
            ("mean_drop" if dropping else "pcr"): {n: r.tolist() for n, r in rates.items()},
        },
        "surrogates": diag_rows,
        **weak_results,
        "seconds": time.perf_counter() - t0,
    }
    summary = "\n".join(
        [
            *(f"{k}: {v}" for k, v in facts.items() if not isinstance(v, dict)),
            f"explanations below: {exp.meta['mode']} mode",  # scrutinize's may be others
        ]
    )
    sections = [
        ("Summary", summary, []),
        (
            f"Explanations, {exp.meta['mode']} mode (red raises the output, blue lowers it)"
            if regression
            else f"Explanations, {exp.meta['mode']} mode "
            "(red supports the explained class, blue opposes it)",
            "\n".join(listed),
            pictures,
        ),
        (f"Fidelity: feature {test_name} against random features", table, pcr_png),
        *weak_sections,
        ("Surrogate diagnostics", _diag_text(diag_rows, regression, diag_names), traces),
    ]
    path = write_report(out, title, sections, results, also=EXPLANATION_FILES)
    say(f"report written to {path}")
    return results


def _diagnostics(explainer, plt, traced):
    """Each fitted class's row of the diagnostics table, and the log-likelihood traces of
    those ``traced``."""
    rows, traces = {}, []
    for c, reg in sorted(explainer.surrogates_.items()):
        d = reg.diagnostics_
        rows[str(c)] = {
            "occupied_components": int((reg.component_sizes_ >= 1).sum()),
            "component_sizes": np.round(reg.component_sizes_, 1).tolist(),
            "log_likelihood_rhat": d.get("log_likelihood_rhat"),
            "log_likelihood_ess": d.get("log_likelihood_ess"),
            "seconds_per_sweep": d.get("seconds_per_sweep"),
        }
        if "log_likelihood_trace" in d and c in traced:
            fig, ax = plt.subplots(figsize=(4, 2.6))
            plots.trace(d["log_likelihood_trace"], ax=ax)
            ax.set_title(_target(explainer, c, plots.NAME_MOST), fontsize=9, parse_math=False)
            kind = "output" if explainer.model.regression else "class"
            traces.append((f"trace_{kind}_{c}.png", figure_png(fig)))
    return rows, traces


def _class_labels(model):
    """{"class_labels": a classifier's labels, one per output column}, for results.json:
    its targets, surrogates and scrutinies name classes by column, and only the page said
    which label a column is. A label JSON has no kind for (a date) is written as text."""
    if model.classes_ is None or model.regression:
        return {}
    labels = [c.item() if isinstance(c, np.generic) else c for c in model.classes_]
    plain = (str, int, float, bool)
    return {"class_labels": [c if isinstance(c, plain) else str(c) for c in labels]}


def _target(explainer, c, most=None):
    """How the report names what was explained: "class 1 (good)", or "output 0"; with
    ``most``, as its pictures draw it (``plots.short``)."""
    name = explainer.model.class_name(c)
    name = name if most is None else plots.short(name, most)
    return name if explainer.model.regression else f"class {name}"


def _diag_text(rows, regression=False, names=None):
    """The diagnostics table, a row per fit (keyed by output column) named by ``names``
    (a classifier's labels: "1 (yes)") or its column."""
    if not rows:  # each one's diagnostics are not kept
        return "local mode: one small surrogate per input, fitted and summarised"
    names = {c: (names or {}).get(c, c) for c in rows}
    what = "output" if regression else "class"
    width = max(len(what), *map(len, names.values()))
    lines = [f"{what:>{width}}  occupied  R-hat(loglik)  ESS(loglik)  s/sweep"]
    for c, r in rows.items():
        rhat, ess = _fmt(r["log_likelihood_rhat"], 3), _fmt(r["log_likelihood_ess"], 0)
        lines.append(
            f"{names[c]:>{width}}  {r['occupied_components']:>8}  {rhat:>13}  {ess:>11}"
            f"  {r['seconds_per_sweep']:.4f}"
        )
    apart = [
        names[c] for c, r in rows.items() if not (r["log_likelihood_rhat"] or np.nan) <= RHAT_LIMIT
    ]
    if apart:
        lines += [
            "",
            f"R-hat above {RHAT_LIMIT}, or none, for {', '.join(apart)}.",
            "The chains of those fits did not meet: their surrogates average regimes that",
            "different chains found. More sweeps (--sweeps) bring the chains closer.",
        ]
    return "\n".join(lines)


def _fmt(x, digits):
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"
