"""Every plot draws on the ax it is given and returns it."""

import json
import os
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from scrutiny import Explanation, plots


def image_explanation(shape):
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(2, *shape))
    c = rng.normal(size=(2, *shape))
    return Explanation(inputs=x, values=c * x, coefficients=c, target=[0, 1], baseline=0.0)


def test_plots_return_the_axes_they_drew_on():
    exp = image_explanation((6, 6))
    calls = [
        lambda ax: plots.coefficient_map(np.arange(36.0), shape=(6, 6), top=5, ax=ax),
        lambda ax: plots.trace(np.ones((2, 5)), ax=ax),
        lambda ax: plots.input_image(exp.inputs[0], ax=ax),
        lambda ax: plots.explanation_image(exp, 1, ax=ax),
        lambda ax: plots.explanation_image(image_explanation((3, 6, 6)), 0, ax=ax),
        lambda ax: plots.explanation_bars(image_explanation((7,)), 0, k=4, ax=ax),
        lambda ax: plots.importance_bars(image_explanation((6, 6)), k=4, ax=ax),
        lambda ax: plots.pcr_curve([5, 10], {"a": [0.9, 0.5], "b": [1, 1]}, ax=ax),
        lambda ax: plots.pattern_map(np.arange(36.0).reshape(6, 6), top=5, ax=ax),
        lambda ax: plots.pattern_map(np.ones((6, 6, 3)), top=5, ax=ax),
    ]
    for draw in calls:
        fig, ax = plt.subplots()
        assert draw(ax) is ax
        assert ax.images or ax.lines or ax.patches
        plt.close(fig)


def test_overlays_draw_the_inputs_own_contributions_on_a_centred_scale():
    """explanation_image's overlay is input i's values (channels summed), masked where 0,
    on a colour scale symmetric about 0; coefficient_map(top=) keeps the largest |c|."""
    for exp, i in ((image_explanation((6, 6)), 1), (image_explanation((3, 6, 6)), 1)):
        exp.values[i, ..., 0, :2] = 0.0  # elements (all channels) with no contribution
        fig, ax = plt.subplots()
        overlay = plots.explanation_image(exp, i, ax=ax).images[1]
        v = exp.values[i].sum(axis=0) if exp.values[i].ndim == 3 else exp.values[i]
        shown = overlay.get_array()
        np.testing.assert_array_equal(shown.mask, v == 0)
        np.testing.assert_array_equal(shown.data[v != 0], v[v != 0])
        lim = np.abs(v).max()
        assert overlay.get_clim() == (-lim, lim)
        plt.close(fig)
    c = np.random.default_rng(1).normal(size=36)
    fig, ax = plt.subplots()
    kept = plots.coefficient_map(c, shape=(6, 6), top=5, ax=ax).images[0].get_array()
    largest = np.argsort(-np.abs(c))[:5]
    assert set(np.flatnonzero(np.ravel(kept))) == set(largest)
    np.testing.assert_array_equal(np.ravel(kept)[largest], c[largest])
    plt.close(fig)


def test_a_coefficient_map_takes_the_shape_it_can_and_names_the_one_it_cannot():
    fig, ax = plt.subplots()
    assert plots.coefficient_map(np.arange(16.0), ax=ax).images[0].get_array().shape == (4, 4)
    assert plots.coefficient_map(np.ones((2, 5)), ax=ax).images[1].get_array().shape == (2, 5)
    with pytest.raises(ValueError, match="explanation_bars"):
        plots.coefficient_map(np.arange(30.0), ax=ax)  # a table row's coefficients
    with pytest.raises(ValueError, match=r"shape \(4, 4\) does not hold 30"):
        plots.coefficient_map(np.arange(30.0), shape=(4, 4), ax=ax)
    with pytest.raises(ValueError, match=r"shape \(4, 28, 28\) have channels: .*pattern_map"):
        plots.coefficient_map(np.ones((4, 28, 28)), ax=ax)  # was drawn 56 x 56
    for shape in ((5, 9, 3), (3, 5, 9)):  # a clipped RGB picture, a crash in matplotlib
        with pytest.raises(ValueError, match=r"shape must be 2-D \(height, width\)"):
            plots.coefficient_map(np.ones(135), shape=shape, ax=ax)
    row = Explanation(np.ones((1, 3)), np.ones((1, 3)), np.ones((1, 3)), [0], baseline=0.0)
    for draw in (
        lambda: plots.explanation_image(row, 0, ax=ax),
        lambda: plots.pattern_map(row.values[0], ax=ax),
        lambda: plots.input_image(row.inputs[0], ax=ax),
    ):
        with pytest.raises(ValueError, match=r"images .*shape \(3,\) .*explanation_bars"):
            draw()  # 3 elements read as channels: a crash inside matplotlib
    plt.close(fig)


def test_a_refused_input_leaves_no_empty_figure_open():
    """The figure a plot made for itself stayed open, blank, each time it refused its input
    (a notebook drew an empty figure under every traceback)."""
    plt.close("all")
    row = Explanation(np.ones((1, 3)), np.ones((1, 3)), np.ones((1, 3)), [0], baseline=0.0)
    for draw in (
        lambda: plots.explanation_image(row, 0),
        lambda: plots.importance_bars(row, target=7),
        lambda: plots.beeswarm(row, target=7),
    ):
        with pytest.raises(ValueError):
            draw()
        assert plt.get_fignums() == []
    fig, ax = plt.subplots()  # a caller's figure stays theirs
    with pytest.raises(ValueError):
        plots.explanation_image(row, 0, ax=ax)
    assert plt.get_fignums() == [fig.number]
    plt.close(fig)


def test_bars_show_the_largest_contributions_with_names():
    exp = image_explanation((7,))
    fig, ax = plt.subplots()
    names = [f"col{j}" for j in range(7)]
    plots.explanation_bars(exp, 0, k=3, names=names, ax=ax)
    shown = {t.get_text() for t in ax.get_yticklabels()}
    v = exp.values[0]
    assert shown == {names[j] for j in np.argsort(-np.abs(v))[:3]}
    cats = {"names": ["x", "suffix"], "levels": {"suffix": ["", "jr"]}, "dtypes": {}}
    x = np.array([[1.304, 0.0]])  # suffix "", code 0
    row = Explanation(x, x + 1, x, [0], baseline=0.0, meta={"feature_names": cats["names"]})
    row.meta["categories"] = cats
    plots.explanation_bars(row, 0, ax=ax)
    assert {t.get_text() for t in ax.get_yticklabels()} == {"x = 1.304", "suffix = "}
    plt.close(fig)


def test_importance_bars_rank_the_mean_absolute_contribution_over_inputs():
    exp = image_explanation((7,))
    exp.values[:, 2] = [5.0, -5.0]  # large in both inputs, of either sign
    exp.values[0, 4] = 8.0  # larger in one input, 0 in the other: mean 4
    exp.values[1, 4] = 0.0
    fig, ax = plt.subplots()
    plots.importance_bars(exp, k=2, names=[f"col{j}" for j in range(7)], ax=ax)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["col4", "col2"]  # largest on top
    assert [p.get_width() for p in ax.patches] == [4.0, 5.0]
    assert "logit" in ax.get_xlabel()
    exp.meta["scale"] = "probability"  # LIME's and KernelSHAP's values
    assert "probability" in plots.explanation_bars(exp, 0, ax=ax).get_xlabel()
    plt.close(fig)
    figures = plt.get_fignums()
    for k in (-1, 0, 2.5, True):  # -1 left the last feature out, 0 drew none
        for plot in (plots.importance_bars, plots.beeswarm):
            with pytest.raises(ValueError, match=r"k must be a whole number, at least 1"):
                plot(exp, k=k)
    assert plt.get_fignums() == figures  # refused before any figure was made


def test_contributions_are_labelled_in_the_units_they_add_up_to():
    """LIME's and KernelSHAP's values add up to the class probability, not its logit."""
    exp = image_explanation((3, 6, 6))
    exp.meta["scale"] = "probability"
    fig, (a, b) = plt.subplots(1, 2)
    plots.explanation_image(exp, 0, ax=a)
    plots.explanation_bars(exp, 0, ax=b)
    assert fig.axes[-1].get_ylabel() == b.get_xlabel() == "contribution to probability"
    plots.explanation_image(image_explanation((6, 6)), 0, ax=a)  # scrutiny's: the logit
    assert fig.axes[-1].get_ylabel() == "contribution to logit"
    plt.close(fig)


def test_a_random_curve_takes_its_method_colour_dashed():
    _, ax = plt.subplots()
    plots.pcr_curve([5, 10], {"a": [0.9, 0.5], "a, random": [1, 1], "b": [1, 0]}, ax=ax)
    a, a_random, b = ax.get_lines()
    assert a_random.get_color() == a.get_color() != b.get_color()
    assert a_random.get_linestyle() == "--" and a.get_linestyle() == "-"
    plt.close(ax.figure)
    _, ax = plt.subplots()
    plots.pcr_curve([5, 10], {"a, random": [1, 1], "a": [0.9, 0.5]}, ax=ax)  # random first
    shown = {line.get_label(): line for line in ax.get_lines()}
    assert shown["a, random"].get_color() == shown["a"].get_color()
    assert shown["a, random"].get_linestyle() == "--"
    plt.close(ax.figure)


def test_reports_are_utf8_whatever_the_locale(tmp_path):
    """The page declares utf-8, so it is written in utf-8 even under an ASCII locale."""
    code = (
        "import sys; from scrutiny.report import write_report; "
        "write_report(sys.argv[1], 'scrutiny explain: mod\\u00e8le.onnx', [], "
        "{'model': 'mod\\u00e8le'})"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": ""}
    env["PYTHONCOERCECLOCALE"] = "0"
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    assert "modèle.onnx" in (tmp_path / "index.html").read_bytes().decode("utf-8")
    assert json.loads((tmp_path / "results.json").read_bytes())["model"] == "modèle"


def test_a_report_written_over_another_removes_only_that_reports_images(tmp_path):
    from scrutiny.report import write_report

    (tmp_path / "mine.png").write_bytes(b"the user's")
    write_report(tmp_path, "first", [("s", "", [("a.png", b"1"), ("b.png", b"2")])], {})
    write_report(tmp_path, "second", [("s", "", [("a.png", b"3")])], {})
    assert (tmp_path / "a.png").read_bytes() == b"3"
    assert not (tmp_path / "b.png").exists()  # the first report's class 7, say, is gone
    assert (tmp_path / "mine.png").read_bytes() == b"the user's"
    # a report's other files too: a benchmark's tables stayed beside an explain report
    (tmp_path / "tables.md").write_text("a benchmark's")
    write_report(tmp_path, "benchmark", [("s", "", [])], {}, also=["tables.md"])
    write_report(tmp_path, "explain", [("s", "", [("a.png", b"4")])], {})
    assert not (tmp_path / "tables.md").exists() and (tmp_path / "a.png").exists()


def test_feature_names_are_drawn_as_written_not_as_tex():
    """A DataFrame column may hold dollar signs: matplotlib would parse a pair of them as
    mathtext, mangling the name or refusing to draw it at all."""
    import io

    exp = image_explanation((3,))
    names = ["spend_$_per_$_user", "Amount ($) / Budget ($)", "rate"]
    for draw in (
        lambda ax: plots.explanation_bars(exp, 0, names=names, ax=ax),
        lambda ax: plots.importance_bars(exp, names=names, ax=ax),
    ):
        fig, ax = plt.subplots()
        draw(ax)
        fig.savefig(io.BytesIO(), format="png")  # mathtext raised ValueError here
        labels = ax.get_yticklabels()
        assert {t.get_text() for t in labels} == set(names)
        assert not any(t.get_parse_math() for t in labels)
        plt.close(fig)


def test_titles_and_words_are_drawn_as_written_not_as_tex():
    """Class labels in titles and a review's words hold dollars too ("$1_to_$2" refused to
    draw), and a caller's own texts keep matplotlib's mathtext outside the plots."""
    import io

    tex = "$1_to_$2"
    exp = image_explanation((6, 6))
    words = image_explanation((3,))
    for draw in (
        lambda ax: plots.explanation_image(exp, 0, ax=ax, title=tex),
        lambda ax: plots.explanation_text(words, 0, [tex, "$5-$10", "ok"], ax=ax, title=tex),
        lambda ax: plots.pcr_curve([5, 10], {tex: [0.9, 0.5]}, ax=ax, title=tex),
    ):
        fig, ax = plt.subplots()
        draw(ax)
        fig.savefig(io.BytesIO(), format="png")  # mathtext raised ValueError here
        assert ax.get_title() == tex and not ax.title.get_parse_math()
        plt.close(fig)
    fig, ax = plt.subplots()
    ax.set_title("$\\alpha$")  # a caller's own title, which no plot sets, keeps its TeX
    plots.trace(np.ones((2, 5)), ax=ax)
    assert ax.title.get_parse_math() and plt.figure().text(0, 0, "$x$").get_parse_math()
    plt.close("all")


def test_a_missing_contribution_leaves_the_colour_scale_to_the_others():
    """One NaN value (a coefficient with no posterior draws) must not collapse the scale:
    it was (-0.1, 0.1), saturating every other contribution."""
    exp = image_explanation((4, 4))
    exp.values[0] = (np.arange(16.0) - 3).reshape(4, 4)
    exp.values[0, 0, 2] = np.nan
    fig, (a, b) = plt.subplots(1, 2)
    assert plots.explanation_image(exp, 0, ax=a).images[1].get_clim() == (-12.0, 12.0)
    assert plots.coefficient_map(exp.values[0], ax=b).images[0].get_clim() == (-12.0, 12.0)
    plt.close(fig)


def test_results_json_holds_no_nan_that_a_browser_would_refuse(tmp_path):
    from scrutiny.report import write_report

    results = {"ess": float("nan"), "rates": np.array([np.inf, 0.5]), "n": np.int64(3)}
    write_report(tmp_path, "t", [("s", "text", [])], results)

    def refuse(token):
        raise ValueError(f"{token} is not JSON")

    back = json.loads((tmp_path / "results.json").read_text(), parse_constant=refuse)
    assert back == {"ess": None, "rates": [None, 0.5], "n": 3}


def test_a_beeswarm_draws_every_input_in_the_rows_of_the_columns_that_matter():
    rng = np.random.default_rng(0)
    m = 120
    x = rng.normal(size=(m, 5))
    x[:, 3] = rng.integers(3, size=m)  # a categorical column, baseline level 0
    c = np.array([0.1, 2.0, 0.0, 1.0, 0.5])
    values = c * (x - np.array([0, 0, 0, 0, 0]))
    exp = Explanation(
        inputs=x,
        values=values,
        coefficients=np.broadcast_to(c, x.shape),
        target=np.zeros(m, dtype=int),
        baseline=0.0,
        meta={"feature_names": list("abcde"), "representation": {"categorical": [3]}},
    )
    fig, ax = plt.subplots()
    assert plots.beeswarm(exp, k=3, ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    top = np.argsort(-np.abs(values).mean(axis=0))[:3][::-1]  # the largest on top
    assert labels == [list("abcde")[j] for j in top]
    assert len(ax.collections) == 3
    for row, (dots, j) in enumerate(zip(ax.collections, top, strict=True)):
        xy = dots.get_offsets()
        assert np.allclose(xy[:, 0], values[:, j])  # every input, at its contribution
        assert (np.abs(xy[:, 1] - row) <= 0.4 + 1e-9).all()  # within its row
        if j == 3:  # off the baseline level: red (1), at it: blue (0)
            assert np.array_equal(dots.get_array(), (x[:, 3] != 0).astype(float))
        else:  # by value: the largest input is the reddest
            assert dots.get_array()[np.argmax(x[:, j])] == 1.0
    flags = np.where(np.arange(100) < 90, 1.0, 0.0)[:, None]  # 90 ones: ranks made them blue
    ones = np.ones_like(flags)
    indicator = Explanation(flags, flags, ones, np.zeros(100, int), baseline=0.0)
    dots = plots.beeswarm(indicator, ax=ax).collections[-1]
    assert np.array_equal(dots.get_array(), flags[:, 0])  # the ones red, the zeros blue
    one = plots.beeswarm(exp, k=2, target=0, ax=ax)  # those explained for class 0: all
    assert one is ax
    with pytest.raises(ValueError, match="no input is explained for class 1"):
        plots.beeswarm(exp, target=1, ax=ax)
    for bad in (0.7, True):  # read as class 0 and class 1
        with pytest.raises(ValueError, match="target must be a class, a whole number"):
            plots.beeswarm(exp, target=bad, ax=ax)
    mixed = Explanation(**{**vars(exp), "target": np.arange(len(exp)) % 2})
    for draw in (plots.beeswarm, plots.importance_bars):  # drawn as one group, unsaid
        with pytest.warns(UserWarning, match=r"explained for classes \[0, 1\], drawn together"):
            draw(mixed, ax=ax)
    assert plots.importance_bars(mixed, target=1, ax=ax) is ax
    assert plots.beeswarm(mixed, target=1.0, ax=ax) is ax  # a whole float is a class
    same = plots._swarm(np.zeros(7))
    assert len(set(np.round(same, 9))) == 7  # equal contributions spread apart
    assert np.abs(same).max() <= 0.4  # within the feature's row
    pair = plots._swarm(np.array([0.0, 1e-9, 5.0]))  # one collision: near its row's line,
    assert 0 < np.abs(pair).max() <= 0.08  # not 0.4 away, where it read as a row of its own
    plt.close(fig)


def test_table_values_are_labelled_in_full_and_a_window_draws_only_its_own_tokens():
    """An amount of 52000 read "5.2e+04"; a token window's context drew as zero bars."""
    x = np.array([[42.0, 52000.0, 1234567.0, 0.125]])
    names = ["Age", "Income", "Loan", "Rate"]
    row = Explanation(x, np.ones((1, 4)), np.ones((1, 4)), [0], baseline=0.0)
    row.meta["feature_names"] = names
    assert plots.feature_labels(row, 0, range(4)) == [
        "Age = 42",
        "Income = 52000",
        "Loan = 1234567",
        "Rate = 0.125",
    ]
    # and so is one not whole: 52000.5 read "5.2e+04" and 1234.5678 "1235", as if whole
    row.inputs[0, 1:4] = 52000.5, 1234.5678, 99999.99  # the last rounds up to 100000
    labels = ["Income = 52000.5", "Loan = 1234.6", "Rate = 99999.99"]
    assert plots.feature_labels(row, 0, [1, 2, 3]) == labels
    v = np.array([[0, 0, -1, 2, 0.5, 0, 0.0]])
    window = Explanation(np.arange(1, 8.0)[None], v, v, [1], baseline=0.0)
    window.meta["representation"] = {"kind": "tokens", "window": [2, 5]}
    ax = plots.explanation_bars(window, 0, k=10)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["feature 4", "feature 2", "feature 3"]
    plt.close("all")


def test_text_grows_only_a_figure_it_made():
    """A caller's two-panel figure grew from 2 to 6.3 inches tall under a long text."""
    words = [f"word{i}" for i in range(300)]
    exp = Explanation(np.ones((1, 300)), np.linspace(-1, 1, 300)[None], np.ones((1, 300)), [0], 0)
    fig, (top, _) = plt.subplots(2, 1, figsize=(7, 2))
    plots.explanation_text(exp, 0, words, ax=top, colorbar=False)
    assert tuple(fig.get_size_inches()) == (7, 2)
    own = plots.explanation_text(exp, 0, words).figure
    assert own.get_figheight() > 3  # its own figure holds every line
    plt.close("all")


def test_a_texts_own_figure_holds_its_colour_bars_label_and_dark_words_are_white():
    """On its own 1 in tall figure the label read "ntribution to lo", and the top word was
    black on a box of luminance 0.09."""
    exp = Explanation(np.ones((1, 3)), np.array([[-0.1, 2.0, 0.3]]), np.ones((1, 3)), [0], 0)
    ax = plots.explanation_text(exp, 0, ["plain", "TERRIBLE", "fine"])
    fig = ax.figure
    fig.canvas.draw()
    (bar,) = [a for a in fig.axes if a is not ax]
    label = bar.yaxis.label.get_window_extent(fig.canvas.get_renderer())
    assert label.y0 >= 0 and label.y1 <= fig.bbox.height and label.x1 <= fig.bbox.width
    inks = {t.get_text(): t.get_color() for t in ax.texts}
    assert inks == {"plain": "black", "TERRIBLE": "white", "fine": "black"}
    plt.close("all")


def test_a_texts_bars_leave_out_positions_past_its_end():
    """Rows of word ids end in 0s (no word): a short text's bars showed them, 4 of 10."""
    v = np.array([[0.5, -1.0, 0.2, 0.0, 0.0, 0.0]])
    text = Explanation(np.array([[3.0, 1.0, 2.0, 0, 0, 0]]), v, v, [1], baseline=0.0)
    text.meta["representation"] = {"kind": "tokens"}
    ax = plots.explanation_bars(text, 0, k=5)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["feature 2", "feature 0", "feature 1"]
    plt.close("all")


def test_a_plot_on_its_own_figure_keeps_its_labels_inside_it():
    """On the default 3.2 x 3 in figure, saved, bars lost their feature names past the left
    edge ("... = high" of "risk = high")."""
    exp = image_explanation((7,))
    names = [f"a rather long column name {j}" for j in range(7)]
    ax = plots.explanation_bars(exp, 0, k=5, names=names)
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    assert all(t.get_window_extent(renderer).x0 >= 0 for t in ax.get_yticklabels())
    plt.close(fig)
    # nor their axis labels: tight_layout alone left names of 38 characters 259 px past
    # the left edge, and "contribution to logit" and pcr_curve's label past the right one
    for draw in (
        lambda: plots.explanation_bars(
            exp, 0, names=[f"remainder__household_{j:016d}" for j in range(7)]
        ),
        lambda: plots.pcr_curve([1, 2, 4, 8], {"scrutiny": [0.9, 0.5, 0.3, 0.1]}),
        # a title wider than a heat map with its colour bar: it wraps (a wider figure moved
        # the image of fixed aspect, and its title, further out: 11 in, still cut)
        lambda: plots.pattern_map(np.ones((28, 28)), title="regime of class 7 " * 5),
    ):
        ax = draw()
        fig = ax.figure
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        drawn = ax.get_tightbbox(renderer)  # its labels and the tick labels shown
        assert 0 <= drawn.x0 and drawn.x1 <= fig.bbox.width
        assert 0 <= drawn.y0 and drawn.y1 <= fig.bbox.height
        plt.close(fig)
    # and no layout engine is left: a caller's tight_layout after a colour bar raised
    for draw in (
        lambda: plots.explanation_image(image_explanation((6, 6)), 0),
        lambda: plots.explanation_bars(exp, 0),
    ):
        fig = draw().figure
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig.tight_layout()
            fig.subplots_adjust(left=0.3)
        plt.close(fig)


def test_colour_images_are_drawn_bright_where_they_are_bright():
    """Grey images are drawn as ink on paper (MNIST's dark digits on white); a colour
    photograph, averaged to grey the same way, was drawn as its negative."""
    rgb = np.zeros((4, 5, 3))
    rgb[1, 2] = 1.0  # one white pixel on black
    for x, white in ((rgb, 1.0), (rgb[..., :1], 0.0), (rgb[..., 0], 0.0)):
        im = plots.input_image(x).images[0]
        assert im.to_rgba(im.get_array())[1, 2][:3].tolist() == [white] * 3
        plt.close("all")


def test_a_top_that_is_no_count_and_an_explanation_of_none_are_refused():
    """pattern_map(top=-1) drew all but one coefficient, quietly, and top=2.5 failed in a
    slice; beeswarm and importance_bars of a selection of no input failed in numpy's
    reshape."""
    for top in (-1, 0, 2.5, True):
        with pytest.raises(ValueError, match="top must be a whole number, at least 1"):
            plots.pattern_map(np.ones((6, 6)), top=top)
    exp = image_explanation((6, 6))
    none = exp[exp.target == 99]
    for draw in (plots.beeswarm, plots.importance_bars):
        with pytest.raises(ValueError, match="the explanation holds no input to draw"):
            draw(none)
    plt.close("all")


def test_a_flat_vector_of_coefficients_is_a_pattern_as_coefficient_map_lays_it_out():
    """A component's coef_ of flat 28 x 28 images was refused as a table row, naming
    plots that take explanations, not coefficients."""
    coef = np.random.default_rng(0).normal(size=784)
    drawn = plots.pattern_map(coef, top=20).images[0].get_array()
    assert drawn.shape == (28, 28) and np.count_nonzero(drawn) == 20
    assert np.array_equal(drawn, plots.coefficient_map(coef, top=20).images[0].get_array())
    for size in (7, 16):  # a table's coefficients, not a picture of 4 x 4
        with pytest.raises(ValueError, match=rf"pattern_map draws images .*\({size},\)"):
            plots.pattern_map(np.ones(size))
    plt.close("all")


def test_long_names_are_drawn_short_and_names_with_tabs_or_line_breaks_on_one_line():
    """A 300-character column name made a report's bar chart 2,620 pixels wide (its bars
    400 of them, its labels 5 pixels high on the page that shrank it), and a tab was drawn
    as a box, with a warning to install a font that has one."""
    import io

    from PIL import Image

    exp = Explanation(
        inputs=np.ones((2, 4)),
        values=np.array([[4.0, 3.0, 2.0, 1.0], [4.0, 3.0, 2.0, 1.0]]),
        coefficients=np.ones((2, 4)),
        target=[0, 0],
        baseline=0.0,
        meta={"feature_names": ["x" * 150 + "y" * 150, "tab\there", "new\nline", "$a$"]},
    )
    for draw in (
        lambda ax: plots.explanation_bars(exp, 0, ax=ax),
        lambda ax: plots.importance_bars(exp, ax=ax),
        lambda ax: plots.beeswarm(exp, ax=ax),
    ):
        fig, ax = plt.subplots(figsize=(5, 3.2))  # as the report draws them
        draw(ax)
        labels = {t.get_text().split(" = ")[0] for t in ax.get_yticklabels()}
        short = "x" * 26 + "\u2026" + "y" * 13
        assert labels == {short, "tab\\there", "new\\nline", "$a$"}
        png = io.BytesIO()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
        assert not [w for w in caught if "missing from font" in str(w.message)]
        assert Image.open(png).size[0] < 900  # 2,620 with the whole name
        plt.close(fig)
    assert plots.feature_labels(exp, 0, [0, 1]) == [
        "x" * 150 + "y" * 150 + " = 1",
        "tab\\there = 1",
    ]
