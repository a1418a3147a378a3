"""Explanation: ranking, slicing, export, and save/load that refuses tampered files."""

import errno
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from scrutiny import Explanation


def make(m=4, shape=(3, 3), seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(m, *shape))
    coef = rng.normal(size=(m, *shape))
    return Explanation(
        inputs=x,
        values=coef * x,
        coefficients=coef,
        lower=coef * x - 0.1,
        upper=coef * x + 0.1,
        target=np.arange(m) % 2,
        component=np.arange(m),
        component_probability=np.full(m, 0.9),
        model_logit=rng.normal(size=m),
        surrogate_logit=rng.normal(size=m),
        baseline=0.0,
        meta={"mode": "global", "seconds": 0.5},
    )


def test_top_ranks_by_value_and_breaks_ties_by_index():
    e = make()
    top = e.top(4)
    flat = e.values.reshape(4, -1)
    assert top.shape == (4, 4)
    for i in range(4):
        assert (np.diff(flat[i, top[i]]) <= 0).all()
        assert flat[i, top[i][-1]] >= np.delete(flat[i], top[i]).max()
    tied = Explanation(
        inputs=np.ones((1, 4)),
        values=np.ones((1, 4)),
        coefficients=np.ones((1, 4)),
        target=[0],
        baseline=0.0,
    )
    assert tied.top(3).tolist() == [[0, 1, 2]]
    with pytest.raises(ValueError, match="k must be between 1 and 9"):
        e.top(10)
    for k in (2.7, True, None, float("nan"), "3"):  # 2 and 1; None and NaN: int()'s error
        with pytest.raises(ValueError, match="k must be a whole number"):
            e.top(k)
    assert e.top(np.float64(3.0)).shape == (4, 3)
    signed = Explanation(
        inputs=np.ones((1, 3)),
        values=np.array([[0.5, -2.0, 1.0]]),
        coefficients=np.ones((1, 3)),
        target=[0],
        baseline=0.0,
    )
    assert signed.top(2).tolist() == [[2, 0]]
    assert signed.top(2, by="magnitude").tolist() == [[1, 2]]
    with pytest.raises(ValueError, match="by must be"):
        signed.top(2, by="abs")


def test_slicing_keeps_everything_aligned():
    e = make()
    one = e[2]
    assert len(one) == 1 and one.values.shape == (1, 3, 3)
    np.testing.assert_array_equal(one.values[0], e.values[2])
    assert one.target[0] == e.target[2] and one.component[0] == 2
    part = e[np.array([True, False, True, False])]
    np.testing.assert_array_equal(part.model_logit, e.model_logit[[0, 2]])
    assert part.meta is not e.meta  # settings alike, costs its share (half the inputs)
    assert part.meta == {**e.meta, "seconds": e.meta["seconds"] / 2}
    assert e[np.array(2)].component.tolist() == [2]  # a 0-d index, as an int
    with pytest.raises(TypeError, match="not a bool"):
        e[True]  # was the input at 1
    with pytest.raises(TypeError, match="not a tuple"):
        e[1, 2]  # numpy's IndexError, from inside
    with pytest.raises(TypeError, match="with an int, a slice"):
        e[None]  # an axis added: "target has shape (1, 4)"
    for as_array in (np.asarray, lambda exp: np.zeros(4) == exp):  # numpy read it as a
        with pytest.raises(TypeError, match=r"not an array: take its exp\.values"):
            as_array(e)  # sequence, and failed past 64 dimensions
    held = np.array([e, e[:2]], dtype=object)  # explanations kept in an array of objects
    assert held.shape == (2,) and held[0] is e and len(held[1]) == 2
    assert len(e[...]) == len(e)  # all of them, as before
    none = e[e.target == 7]  # a class no input has: a selection of none, which still works
    assert none.top(2).shape == (0, 2) and len(none.to_frame(k=2)) == 0
    assert none.to_dict()["samples"] == []


def test_frame_and_dict():
    e = make()
    df = e.to_frame(k=2)
    assert len(df) == 8 and set(df["rank"]) == {0, 1}
    row = df.iloc[0]
    assert row["value"] == e.values[0].reshape(-1)[e.top(1)[0, 0]]
    full = e.to_frame()  # every element, in element order, ranked as top ranks it
    assert len(full) == 36 and full["feature"].tolist()[:9] == list(range(9))
    for i in range(4):
        mine = full[full["sample"] == i]
        assert mine.sort_values("rank")["feature"].tolist() == e.top(9)[i].tolist()
    against = e.to_frame(k=2, by="magnitude")  # evidence against the class ranks too
    np.testing.assert_array_equal(against["feature"], e.top(2, by="magnitude").reshape(-1))
    assert (
        e.to_dict(k=2, by="magnitude")["samples"][3]["top_features"]
        == against["feature"].tolist()[6:]
    )
    e.meta.update(superpixel=np.int64(2), grid=np.arange(2))
    d = e.to_dict(k=3)
    json.dumps(d)  # JSON-ready, numpy numbers in meta included
    d["meta"]["seconds"] = 9.0
    assert e.meta["seconds"] == 0.5  # the summary is a copy
    assert d["samples"][1]["top_features"] == e.top(3)[1].tolist()
    assert len(e.to_dict(k=None)["samples"][0]["top_features"]) == 9  # every element
    np.testing.assert_array_equal(e.to_frame(k=20)["feature"], e.top(9).reshape(-1))


def test_save_load_round_trip(tmp_path):
    e = make()
    path = e.save(tmp_path / "sub" / "exp")
    assert path.name == "exp.npz" and (tmp_path / "sub" / "exp.json").is_file()
    back = Explanation.load(tmp_path / "sub" / "exp.npz")
    for name in (
        "inputs",
        "values",
        "coefficients",
        "lower",
        "upper",
        "target",
        "component",
        "component_probability",
        "model_logit",
        "surrogate_logit",
        "baseline",
    ):
        np.testing.assert_array_equal(getattr(back, name), getattr(e, name))
    assert back.meta == e.meta and back.method == e.method


def test_names_with_dots_are_kept_whole(tmp_path):
    a, b = make(seed=1), make(seed=2)
    assert a.save(tmp_path / "run.v1").name == "run.v1.npz"
    assert b.save(tmp_path / "run.v2.npz").name == "run.v2.npz"
    assert {p.name for p in tmp_path.iterdir()} == {
        f"run.v{i}.{ext}" for i in (1, 2) for ext in ("npz", "json")
    }
    np.testing.assert_array_equal(Explanation.load(tmp_path / "run.v1").values, a.values)
    np.testing.assert_array_equal(Explanation.load(tmp_path / "run.v2.json").values, b.values)


def test_a_long_name_the_file_system_takes_is_saved(tmp_path):
    """74 three-byte characters (227 bytes with .json) make a valid file name, but its
    temporary, 39 bytes longer, was not: the save failed on a name the user never chose."""
    from scrutiny._files import clear_temporaries, temporary

    name = "説明" * 37
    make().save(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"{name}.json", f"{name}.npz"]
    assert Explanation.load(tmp_path / f"{name}.npz").values.shape == make().values.shape
    left = temporary(tmp_path / f"{name}.npz")  # a killed write's, recognised as one
    left.write_bytes(b"half")
    os.utime(left, (0, 0))
    clear_temporaries(tmp_path)
    assert not left.exists()


def test_numpy_numbers_in_meta_are_saved(tmp_path):
    e = make()
    e.meta.update(max_off=np.int64(3), rate=np.float32(0.5), grid=np.arange(3))
    back = Explanation.load(e.save(tmp_path / "exp"))
    assert back.meta["max_off"] == 3 and back.meta["rate"] == 0.5 and back.meta["grid"] == [0, 1, 2]


def test_metadata_that_cannot_be_written_leaves_no_file(tmp_path):
    make().save(tmp_path / "exp")
    e = make(seed=3)
    e.meta["model"] = object()
    with pytest.raises(TypeError):
        e.save(tmp_path / "exp")
    np.testing.assert_array_equal(Explanation.load(tmp_path / "exp").values, make().values)


def test_a_save_that_fails_leaves_the_explanation_saved_before(tmp_path):
    # a full disk, as a limit on the size of files makes one (in a process of its own):
    # the earlier explanation stays whole and alone, not deleted beside a truncated .npz
    make().save(tmp_path / "exp")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    script = f"""
import resource, signal
from tests.test_explanation import make
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, resource.RLIM_INFINITY))
try:
    make(m=100, shape=(28, 28)).save({str(tmp_path / "exp")!r})
except OSError as exc:
    print(exc.errno)
"""
    root = Path(__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), *sys.path])}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == str(errno.EFBIG), done.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    np.testing.assert_array_equal(Explanation.load(tmp_path / "exp").values, make().values)


def test_a_save_interrupted_between_its_two_files_finishes_them(tmp_path, monkeypatch):
    """Ctrl-C as the arrays were renamed in: the old .json had been removed and the new one
    was deleted, leaving arrays no metadata names, which later saves refused to replace."""
    make().save(tmp_path / "exp")
    rename = Path.replace

    def interrupted(self, target):
        out = rename(self, target)
        if Path(target).suffix == ".npz":
            raise KeyboardInterrupt
        return out

    monkeypatch.setattr(Path, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        make(seed=3).save(tmp_path / "exp")
    monkeypatch.undo()
    np.testing.assert_array_equal(Explanation.load(tmp_path / "exp").values, make(seed=3).values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.json", "exp.npz"]


def test_a_tilde_in_a_path_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    npz = make().save("~/results/exp")
    assert npz == tmp_path / "results" / "exp.npz" and not (tmp_path / "~").exists()
    np.testing.assert_array_equal(Explanation.load("~/results/exp").values, make().values)


def test_a_users_own_files_of_the_same_names_are_never_replaced(tmp_path):
    """save("iris") beside the user's iris.npz or iris.json: refused, the files untouched;
    an earlier explanation saved there is replaced (re-saving), whatever its version."""

    def refused(match):
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
        with pytest.raises(FileExistsError, match=match + ".*choose another name or remove"):
            make().save(tmp_path / "iris")
        assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before

    np.savez(tmp_path / "iris.npz", X=np.ones((3, 2)))  # a data set, no JSON beside it
    refused(r"iris\.npz exists without the iris\.json")
    (tmp_path / "iris.json").write_text(json.dumps({"source": "UCI", "rows": 150}))
    refused(r"iris\.json exists and is not a saved scrutiny\.explanation file")
    (tmp_path / "iris.json").write_text("source: UCI")  # not JSON at all
    refused(r"iris\.json exists and is not")
    (tmp_path / "iris.npz").unlink()
    refused(r"iris\.json exists and is not")  # a JSON alone is the user's too
    # an explanation's JSON beside a user's own arrays: not a pair of ours
    make().save(tmp_path / "exp")
    np.savez(tmp_path / "exp.npz", X=np.ones(3))
    with pytest.raises(FileExistsError, match=r"exp\.npz exists and does not hold the arrays"):
        make(seed=1).save(tmp_path / "exp")
    # re-saving: an earlier explanation (also of format /1) is replaced
    make().save(tmp_path / "again")
    meta = json.loads((tmp_path / "again.json").read_text())
    (tmp_path / "again.json").write_text(json.dumps({**meta, "format": "scrutiny.explanation/1"}))
    make(seed=2).save(tmp_path / "again")
    np.testing.assert_array_equal(Explanation.load(tmp_path / "again").values, make(seed=2).values)


def test_a_file_saved_before_surrogate_output_loads_with_it_derived(tmp_path):
    e = make()
    e.save(tmp_path / "old")
    meta = json.loads((tmp_path / "old.json").read_text())
    with np.load(tmp_path / "old.npz") as f:
        arrays = {k: f[k] for k in f.files if k != "surrogate_output"}
    np.savez(tmp_path / "old.npz", **arrays)
    del meta["sha256"]["surrogate_output"]
    (tmp_path / "old.json").write_text(json.dumps({**meta, "format": "scrutiny.explanation/2"}))
    back = Explanation.load(tmp_path / "old")
    np.testing.assert_array_equal(back.surrogate_output, e.surrogate_logit)  # logit scale
    with pytest.raises(ValueError, match="does not hold the arrays"):  # /3 needs it
        (tmp_path / "old.json").write_text(json.dumps(meta))
        Explanation.load(tmp_path / "old")


def test_edited_metadata_is_refused(tmp_path):
    make().save(tmp_path / "exp")
    meta = json.loads((tmp_path / "exp.json").read_text())
    meta["meta"]["mode"] = "local"
    (tmp_path / "exp.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="metadata do not match"):
        Explanation.load(tmp_path / "exp")


def test_slices_are_copies():
    e = make()
    before = e.values.copy()
    for part in (e[0:2], e[[0, 1]], e[0]):
        part.values[0, 0, 0] = -99.0
        part.meta["mode"] = "edited"
    np.testing.assert_array_equal(e.values, before)
    assert e.meta["mode"] == "global"


def test_a_file_of_a_newer_format_is_named_as_such(tmp_path):
    make().save(tmp_path / "exp")
    meta = json.loads((tmp_path / "exp.json").read_text())
    meta["format"] = "scrutiny.explanation/4"
    (tmp_path / "exp.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=r"explanation/4 file, which this version .* a newer"):
        Explanation.load(tmp_path / "exp")
    (tmp_path / "exp.json").write_text(json.dumps({**meta, "format": "other/1"}))
    with pytest.raises(ValueError, match="is not a scrutiny explanation"):
        Explanation.load(tmp_path / "exp")


def test_tampered_array_is_refused(tmp_path):
    make().save(tmp_path / "exp")
    with np.load(tmp_path / "exp.npz") as f:
        arrays = dict(f)
    arrays["values"][0, 0, 0] += 1.0
    np.savez(tmp_path / "exp.npz", **arrays)
    with pytest.raises(ValueError, match="'values' does not match"):
        Explanation.load(tmp_path / "exp")


def test_corrupted_files_are_refused(tmp_path):
    make().save(tmp_path / "exp")
    raw = (tmp_path / "exp.npz").read_bytes()
    (tmp_path / "exp.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="corrupted") as refused:
        Explanation.load(tmp_path / "exp")
    assert "pickle" not in str(refused.value)  # numpy's advice to unpickle it, for a cut zip
    (tmp_path / "exp.npz").write_bytes(b"\x00" * len(raw))  # a disk's hole: no archive
    with pytest.raises(ValueError, match=r"corrupted: not a \.npz archive"):
        Explanation.load(tmp_path / "exp")
    make().save(tmp_path / "b")
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        Explanation.load(tmp_path / "b")
    (tmp_path / "b.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a scrutiny explanation"):
        Explanation.load(tmp_path / "b")
    with pytest.raises(FileNotFoundError):
        Explanation.load(tmp_path / "missing")


def test_pickled_objects_are_never_loaded(tmp_path):
    make().save(tmp_path / "exp")
    with np.load(tmp_path / "exp.npz") as f:
        arrays = dict(f)
    arrays["values"] = np.array([{"evil": 1}], dtype=object)
    np.savez(tmp_path / "exp.npz", **arrays)
    with pytest.raises(ValueError, match="corrupted"):
        Explanation.load(tmp_path / "exp")


def test_classes_and_components_that_are_not_whole_numbers_are_errors():
    kw = {"inputs": np.ones((2, 3)), "values": np.ones((2, 3)), "coefficients": np.ones((2, 3))}
    with pytest.raises(ValueError, match=r"target must hold whole numbers, got \[0.7 2.9\]"):
        Explanation(**kw, target=[0.7, 2.9], baseline=0.0)  # was read as classes 0 and 2
    with pytest.raises(ValueError, match=r"component must hold whole numbers, got \[nan\]"):
        Explanation(**kw, target=[0, 1], component=[np.nan, 1], baseline=0.0)
    e = Explanation(**kw, target=np.array([1.0, 3.0]), component=[True, 2], baseline=0.0)
    assert e.target.tolist() == [1, 3] and e.component.tolist() == [1, 2]


def test_inconsistent_shapes_are_errors():
    with pytest.raises(ValueError, match="coefficients has shape"):
        Explanation(
            inputs=np.ones((2, 3)),
            values=np.ones((2, 3)),
            coefficients=np.ones((2, 4)),
            target=[0, 1],
            baseline=0.0,
        )
    with pytest.raises(ValueError, match="lower has shape"):  # was reshaped, scrambled
        Explanation(
            inputs=np.ones((2, 3)),
            values=np.ones((2, 3)),
            coefficients=np.ones((2, 3)),
            lower=np.zeros((3, 2)),
            target=[0, 1],
            baseline=0.0,
        )
    with pytest.raises(ValueError, match="target has shape"):
        Explanation(
            inputs=np.ones((2, 3)),
            values=np.ones((2, 3)),
            coefficients=np.ones((2, 3)),
            target=[0, 1, 2],
            baseline=0.0,
        )


def test_rows_of_several_classes_handed_to_shap_are_warned_of():
    """shap reads every row as explaining one output: each input's predicted class, mixed,
    turned a feature's direction round in its beeswarm (+0.45 where TreeSHAP had -0.89)."""
    pytest.importorskip("shap")
    exp = make()  # classes 0, 1, 0, 1
    exp.surrogate_output = np.zeros(len(exp))
    with pytest.warns(UserWarning, match=r"explained for classes \[0, 1\]: shap's plots"):
        exp.to_shap()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert exp[exp.target == 1].to_shap().values.shape == (2, 3, 3)


def test_rows_of_unnamed_elements_go_to_shaps_plots_that_pick_a_feature():
    """shap's explainers name unnamed columns 'Feature j'; without names its heatmap,
    scatter and cohorts raised (IndexError, TypeError) on digits' 64 pixels."""
    shap = pytest.importorskip("shap")
    pytest.importorskip("matplotlib").use("Agg")
    import matplotlib.pyplot as plt

    exp = make(m=3, shape=(5,))[[0, 2]]  # one class
    exp.surrogate_output = np.zeros(len(exp))
    s = exp.to_shap()
    assert s.feature_names == [f"Feature {j}" for j in range(5)]
    shap.plots.heatmap(s, show=False)
    shap.plots.scatter(s[:, 0], show=False)
    assert len(s.cohorts(2).cohorts) == 2
    plt.close("all")
    exp.feature_names = list("abcde")
    assert exp.to_shap().feature_names == list("abcde")
    image = make()[[0, 2]]
    image.surrogate_output = np.zeros(2)
    assert image.to_shap().feature_names is None  # shap's image plot takes none


def test_explanations_made_in_batches_are_one_when_concatenated():
    """shap's users stack explanations made in batches; scrutiny's could not be."""
    from scrutiny import Explainer
    from tests.test_explainer import FAST, X_TAB, softmax

    ex = Explainer(softmax, X_TAB, surrogate=FAST, random_state=0, progress=False)
    whole = ex.explain(X_TAB[:9])
    parts = [ex.explain(X_TAB[:4]), ex.explain(X_TAB[4:9])]
    one = Explanation.concatenate(parts)
    for name in ("inputs", "values", "lower", "upper", "target", "component"):
        np.testing.assert_array_equal(getattr(one, name), getattr(whole, name))
    assert one.meta["model_queries"] == 9 and one.meta["model_calls"] == 2
    assert one.meta["fit_queries"] == parts[0].meta["fit_queries"]
    other = parts[1][[0]]
    other.meta["outputs"] = "logits"
    with pytest.raises(ValueError, match=r"other settings: meta\['outputs'\] is 'probab"):
        Explanation.concatenate([parts[0], other])
    guided = ex.explain(X_TAB[:2], mode="guided", n_samples=20)
    assert guided.meta["n_samples"] == 20 and whole.meta["n_samples"] is None
    with pytest.raises(ValueError, match=r"meta\['n_samples'\] is 20 and 40"):
        Explanation.concatenate(
            [guided, ex.explain(X_TAB[2:4], mode="guided", n_samples=40, candidates=16)]
        )
    with pytest.raises(ValueError, match="other methods or shapes: dmm-men-global"):
        Explanation.concatenate([parts[0], ex.explain(X_TAB[:2], mode="guided", n_samples=20)])
    with pytest.raises(TypeError, match="non-empty list of Explanations"):
        Explanation.concatenate([])
    # a cost that one did not record is none of the whole's (a KeyError)
    unrecorded = parts[1][:]
    del unrecorded.meta["model_calls"]
    assert "model_calls" not in Explanation.concatenate([parts[0], unrecorded]).meta
    # a split is charged its share: joined again, the batch's costs, once (3x by class)
    by_class = [whole[whole.target == t] for t in np.unique(whole.target)]
    assert len(by_class) >= 2
    rejoined = Explanation.concatenate(by_class)
    for key in ("model_queries", "model_calls", "seconds"):
        assert rejoined.meta[key] == pytest.approx(whole.meta[key], rel=1e-12)
    assert whole[:3].meta["model_queries"] == pytest.approx(3.0)
    # explainers set otherwise were joined as one (their meta held none of these settings)
    for setting, name in (
        ({"logit_limit": 3.0}, r"\['settings'\]\['logit_limit'\] is 16.0 and 3.0"),
        ({"random_state": 7}, r"\['settings'\]\['seed'\] is \['0', \[\]\] and \['7'"),
        ({"surrogate": {**FAST, "lambda1": 0.0}}, r"\['surrogate'\]\['lambda1'\] is None"),
        ({"fit_perturbations": 1}, r"\['fit_perturbations'\] is 0 and 1"),
    ):
        kw = {"surrogate": FAST, "random_state": 0, "progress": False, **setting}
        other = Explainer(softmax, X_TAB, **kw).explain(X_TAB[4:6])
        with pytest.raises(ValueError, match=name):
            Explanation.concatenate([parts[0], other])


def test_rows_given_as_arrays_can_be_given_names():
    """LIME and shap take feature_names; scrutiny's array rows had none, so shap's plots
    showed 'Feature 0'. A DataFrame's names stay: the fidelity tests give columns by them."""
    exp = make(shape=(3,))
    exp.feature_names = ["age", "income", "debt"]
    assert exp.feature_names == ["age", "income", "debt"]
    assert set(exp.to_frame()["name"]) <= {"age", "income", "debt"}
    exp.feature_names = ["age", "income", "debts"]  # shown only: a typo may be mended
    assert exp.feature_names[2] == "debts" and exp.column_names is None
    framed = make(shape=(3,))
    framed.meta["feature_names"] = ["a", "b", "c"]  # a DataFrame's, as the explainer records
    with pytest.raises(ValueError, match="keep their DataFrame's column names"):
        framed.feature_names = ["x", "y", "z"]
    framed.feature_names[0] = "x"  # edited in place, the list itself renamed a column
    assert framed.column_names == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"3 different names, one per element, got 2"):
        make(shape=(3,)).feature_names = ["a", "b"]
    with pytest.raises(ValueError, match=r"got 3 \(2 different\)"):
        make(shape=(3,)).feature_names = ["a", "b", "a"]
    exp.feature_names = None  # raised "not iterable"
    assert exp.feature_names is None and "name" not in exp.to_frame()
    with pytest.raises(TypeError, match="a list of names, got the text 'abc'"):
        exp.feature_names = "abc"  # named the elements a, b and c


def test_the_first_k_are_those_of_the_full_ranking_ties_by_index():
    """A few of many elements (the fidelity tests' 80 of a colour image's 150,528) are
    chosen without sorting every row: the same indices in the same order as the full
    stable sort, with ties (a baseline's zeros, whole-number scores) broken by index."""
    from scrutiny.explanation import ranked

    rng = np.random.default_rng(0)
    for trial in range(150):
        m, n = int(rng.integers(1, 5)), int(rng.integers(16, 300))
        score = [
            rng.normal(size=(m, n)),
            rng.integers(-2, 3, size=(m, n)).astype(float),  # ties everywhere
            np.where(rng.random((m, n)) < 0.7, 0.0, rng.normal(size=(m, n))),
        ][trial % 3]
        k = int(rng.integers(1, n // 8 + 1))
        full = np.argsort(-score, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(ranked(score, np.ones(n, dtype=bool), k), full)
