"""The key of a cached surrogate fit: whatever changes the fit changes the key."""

import os
import time
import warnings

import numpy as np
import pytest

from scrutiny import DPMixtureRegression
from scrutiny._fit_cache import _sampler_digest, fit_key, load, store


def test_settings_arrays_count_in_full():
    # str() of a 2,000-label array shows only its ends: two initial partitions that differ
    # in the middle must not share a key (the other's fit would be loaded)
    Z, Y = np.zeros((2000, 2)), np.zeros((2000, 1))
    init = np.zeros(2000, dtype=np.int64)
    other = init.copy()
    other[1000] = 1
    key = fit_key(Z, Y, {"init": init}, (None, None))
    assert fit_key(Z, Y, {"init": other}, (None, None)) != key
    assert fit_key(Z, Y, {"init": init.copy()}, (None, None)) == key
    pd = pytest.importorskip("pandas")  # a Series' str() elides its middle too
    series = fit_key(Z, Y, {"init": pd.Series(init)}, (None, None))
    assert series == key and fit_key(Z, Y, {"init": pd.Series(other)}, (None, None)) != key


def test_initial_labels_in_a_series_are_cached_as_an_arrays(tmp_path, monkeypatch):
    """Its JSON failed after the fit (TypeError: Series is not JSON serializable), and the
    other classes' fits were dropped."""
    pd = pytest.importorskip("pandas")
    from scrutiny import Explainer

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    W = rng.normal(size=(3, 3))

    def model(R):
        e = np.exp(R @ W)
        return e / e.sum(axis=1, keepdims=True)

    init = pd.Series((X[:, 0] > 0).astype(int))
    kw = {"random_state": 0, "progress": False, "cache_fits": True}
    surrogate = {"n_sweeps": 10, "n_components": 2, "init": init}
    first = Explainer(model, X, surrogate=surrogate, **kw).fit()
    again = Explainer(model, X, surrogate=surrogate, **kw).fit()
    assert sorted(again.cached_fits_) == [0, 1, 2]
    np.testing.assert_array_equal(again.surrogates_[2].coef_, first.surrogates_[2].coef_)


def test_library_versions_and_input_code_count(monkeypatch):
    # an upgrade of numpy may change every draw: a fit from before it must not be loaded
    Z, Y = np.zeros((4, 2)), np.zeros((4, 1))
    key = fit_key(Z, Y, {}, (None, None))
    _sampler_digest.cache_clear()
    monkeypatch.setattr(np, "__version__", "0.0.0")
    assert fit_key(Z, Y, {}, (None, None)) != key
    monkeypatch.undo()
    _sampler_digest.cache_clear()
    assert fit_key(Z, Y, {}, (None, None)) == key


def test_an_install_without_sources_keys_its_fits(tmp_path):
    """Installed as compiled files only, the sampler's code was read from the folder's .py
    files: FileNotFoundError from every cached fit, after the model had been queried."""
    import compileall
    import py_compile
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import scrutiny

    copy = tmp_path / "scrutiny"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(Path(scrutiny.__file__).parent, copy, ignore=ignore)
    assert compileall.compile_dir(copy, legacy=True, quiet=1)
    for source in copy.rglob("*.py"):
        source.unlink()
    code = "from scrutiny._fit_cache import _sampler_digest; print(_sampler_digest().hex())"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def digest():
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    first = digest()
    changed = tmp_path / "kernel.py"  # the sampler's code changed: compiled anew, as shipped
    changed.write_text(
        (Path(scrutiny.__file__).parent / "surrogate" / "kernel.py").read_text()
        + "\n_CHANGED = 1\n"
    )
    py_compile.compile(changed, copy / "surrogate" / "kernel.pyc", doraise=True)
    assert len(first) == 64 and digest() != first


def test_torch_fits_are_keyed_by_torch_version(monkeypatch):
    torch = pytest.importorskip("torch")
    Z, Y = np.zeros((4, 2)), np.zeros((4, 1))
    key = fit_key(Z, Y, {"device": "torch"}, (None, None))
    assert fit_key(Z, Y, {"device": "cpu"}, (None, None)) != key
    monkeypatch.setattr(torch, "__version__", "0.0.0")
    assert fit_key(Z, Y, {"device": "torch"}, (None, None)) != key


def test_torch_fits_are_keyed_by_matmul_precision_and_gpu_model(monkeypatch):
    """A cache folder shared by machines of other GPUs, or other float32 precision (TF32),
    took their fits, other in the last bits, for this one's."""
    torch = pytest.importorskip("torch")
    Z, Y = np.zeros((4, 2)), np.zeros((4, 1))
    key = fit_key(Z, Y, {"device": "torch"}, (None, None))
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("medium" if before != "medium" else "highest")
        assert fit_key(Z, Y, {"device": "torch"}, (None, None)) != key
    finally:
        torch.set_float32_matmul_precision(before)
    assert fit_key(Z, Y, {"device": "torch"}, (None, None)) == key
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # as on a GPU machine
    keys = set()
    for gpu in ("NVIDIA H200", "NVIDIA A100-SXM4-80GB"):
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None, gpu=gpu: gpu)
        keys.add(fit_key(Z, Y, {"device": "cuda:0"}, (None, None)))
    assert len(keys) == 2


def test_a_cache_folder_that_cannot_be_made_costs_a_warning_not_the_fit(tmp_path, monkeypatch):
    # as in a read-only home: the fit is made (and is the one made without a cache)
    from scrutiny import Explainer

    (tmp_path / "file").write_text("")
    X = np.random.default_rng(0).normal(size=(200, 4))

    def model(X):
        p = 1 / (1 + np.exp(-2 * X[:, 0]))
        return np.stack([1 - p, p], axis=1)

    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "random_state": 0, "progress": False}
    plain = Explainer(model, X, n_jobs=1, **kw).fit()
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "file" / "cache"))
    with pytest.warns(UserWarning, match="could not be kept in the cache"):
        ex = Explainer(model, X, n_jobs=1, cache_fits=True, **kw).fit()
    assert ex.cached_fits_ == []
    np.testing.assert_array_equal(ex.explain(X[:5]).values, plain.explain(X[:5]).values)


def test_a_cache_that_cannot_be_written_warns_once_for_all_the_fits(tmp_path, monkeypatch):
    """A read-only fits folder warned once per class, each naming its own temporary file (a
    1,000-class model: 1,000 warnings, none repeated alike for Python to show once)."""
    import uuid

    from scrutiny import Explainer, _fit_cache

    def read_only(reg, path):
        raise OSError(30, "Read-only file system", f".{path.name}.{uuid.uuid4().hex}.tmp")

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    monkeypatch.setattr(_fit_cache, "save_regression", read_only)
    rng = np.random.default_rng(0)
    X, W = rng.normal(size=(60, 4)), rng.normal(size=(4, 3))

    def model(R):
        e = np.exp(R @ W)
        return e / e.sum(axis=1, keepdims=True)

    kw = {"surrogate": {"n_sweeps": 5, "n_components": 2}, "random_state": 0, "progress": False}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = Explainer(model, X, n_jobs=1, cache_fits=True, **kw).fit()
    said = [str(w.message) for w in caught if "could not be kept" in str(w.message)]
    assert len(said) == 1 and said[0].startswith("3 of 3 fits could not be kept in the cache")
    assert sorted(ex.surrogates_) == [0, 1, 2]


def small_fit_cached_in(folder, monkeypatch):
    """A small fitted regression, with $SCRUTINY_CACHE set to ``folder``."""
    monkeypatch.setenv("SCRUTINY_CACHE", str(folder))
    Z = np.random.default_rng(0).normal(size=(60, 3))
    reg = DPMixtureRegression(n_components=2, n_sweeps=20, random_state=0, progress=False)
    return reg.fit(Z, Z @ [1.0, -1.0, 0.5])


def test_the_least_recently_used_fits_go_when_the_cache_is_full(tmp_path, monkeypatch):
    reg = small_fit_cached_in(tmp_path, monkeypatch)
    store("a" * 40, reg)
    entry = sum(f.stat().st_size for f in (tmp_path / "fits").iterdir())
    monkeypatch.setenv("SCRUTINY_FIT_CACHE_MB", str(2.5 * entry / 2**20))  # room for two
    store("b" * 40, reg)
    old = (tmp_path / "fits" / ("a" * 40 + ".npz")).stat().st_mtime
    for name, when in (("a", old - 100), ("b", old - 50)):  # a was written first
        npz = tmp_path / "fits" / (name * 40 + ".npz")
        os.utime(npz, (when, when))
    assert load("a" * 40) is not None  # a used again: b is now the least recently used
    store("c" * 40, reg)
    left = sorted(f.name[0] for f in (tmp_path / "fits").glob("*.npz"))
    assert left == ["a", "c"] and not (tmp_path / "fits" / ("b" * 40 + ".json")).exists()
    np.testing.assert_array_equal(load("c" * 40).coef_, reg.coef_)


def test_a_users_own_files_in_the_fits_folder_are_never_removed(tmp_path, monkeypatch):
    """$SCRUTINY_CACHE may name a project's folder, whose fits/ holds the user's saves: the
    limit removed every .npz there, and its .json, as if it were an entry."""
    reg = small_fit_cached_in(tmp_path, monkeypatch)
    fits = tmp_path / "fits"
    fits.mkdir()
    mine = [fits / "my_model_fit.npz", fits / "my_model_fit.json", fits / ("A" * 40 + ".npz")]
    for i, path in enumerate(mine):
        path.write_bytes(bytes(1000))
        os.utime(path, (1000.0 + i, 1000.0 + i))  # older than any entry
    store("a" * 40, reg)
    entry = sum(f.stat().st_size for f in fits.glob("a*"))
    monkeypatch.setenv("SCRUTINY_FIT_CACHE_MB", str(1.5 * entry / 2**20))  # room for one
    store("b" * 40, reg)
    assert all(path.exists() for path in mine)
    assert sorted(f.name for f in fits.glob("[ab]*.npz")) == ["b" * 40 + ".npz"]


def test_a_relative_xdg_cache_home_is_ignored_and_a_tilde_is_home(tmp_path, monkeypatch):
    from pathlib import Path

    from scrutiny._cache import cache_dir

    monkeypatch.delenv("SCRUTINY_CACHE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", "~/xdg")
    assert cache_dir(create=False) == tmp_path / "xdg" / "scrutiny"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the spec: ignored
    assert cache_dir(create=False) == Path.home() / ".cache" / "scrutiny"


def test_temporaries_of_killed_writes_go_and_those_of_writes_under_way_count(tmp_path, monkeypatch):
    """A write killed (SIGKILL, out of memory) leaves its temporary: one an hour old goes,
    a younger one (another process writing now) stays and counts towards the limit."""
    reg = small_fit_cached_in(tmp_path, monkeypatch)
    fits = tmp_path / "fits"
    store("a" * 40, reg)
    entry = sum(f.stat().st_size for f in fits.iterdir())
    monkeypatch.setenv("SCRUTINY_FIT_CACHE_MB", str(2.5 * entry / 2**20))  # room for two
    now = time.time()
    os.utime(fits / ("a" * 40 + ".npz"), (now - 100, now - 100))
    stale = fits / f".{'d' * 40}.npz.{'0' * 32}.tmp"
    fresh = fits / f".{'e' * 40}.npz.{'1' * 32}.tmp"
    for path, size, age in ((stale, 50 * entry, 3700), (fresh, entry, 600)):
        path.write_bytes(bytes(size))
        os.utime(path, (now - age, now - age))
    store("b" * 40, reg)  # a, b and the write under way: three entries' bytes, a goes
    assert not stale.exists() and fresh.stat().st_size == entry
    assert sorted(f.name[0] for f in fits.glob("*.npz")) == ["b"]
    np.testing.assert_array_equal(load("b" * 40).coef_, reg.coef_)


@pytest.mark.parametrize("value", ["", "-1", "nan"])
def test_an_empty_limit_is_unset_and_a_negative_one_is_refused(tmp_path, monkeypatch, value):
    """An empty $SCRUTINY_FIT_CACHE_MB is the default, silently (an empty $SCRUTINY_CACHE
    is unset too); a negative or NaN one is named and the default used, instead of every
    other fit being removed at each store."""
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    monkeypatch.setenv("SCRUTINY_FIT_CACHE_MB", value)
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(60, 3))
    reg = DPMixtureRegression(n_components=2, n_sweeps=20, random_state=0, progress=False)
    reg.fit(Z, Z @ [1.0, -1.0, 0.5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store("a" * 40, reg)
        store("b" * 40, reg)
    named = [str(w.message) for w in caught if "SCRUTINY_FIT_CACHE_MB" in str(w.message)]
    assert len(named) == (2 if value else 0)
    assert all(repr(value) in message for message in named)
    assert load("a" * 40) is not None and load("b" * 40) is not None


def test_an_entry_that_is_not_what_was_stored_is_refitted(tmp_path, monkeypatch):
    """Another entry's arrays under a key were read as a hit (an explanation 0.29 off), and
    a description missing a fitted value failed later, in fit(): checksums refuse both."""
    import json

    reg = small_fit_cached_in(tmp_path, monkeypatch)
    other = DPMixtureRegression(n_components=2, n_sweeps=20, random_state=1, progress=False)
    store("a" * 40, reg)
    store("b" * 40, other.fit(np.eye(4), np.arange(4.0)))
    fits = tmp_path / "fits"
    (fits / ("a" * 40 + ".npz")).write_bytes((fits / ("b" * 40 + ".npz")).read_bytes())
    assert load("a" * 40) is None and load("b" * 40) is not None
    meta = json.loads((fits / ("b" * 40 + ".json")).read_text())
    meta["description"] = meta["description"].replace('"n_features_in_"', '"n_features"')
    (fits / ("b" * 40 + ".json")).write_text(json.dumps(meta))
    assert load("b" * 40) is None


def test_how_a_fit_runs_is_not_part_of_its_key():
    """n_jobs gave every key anew, and refits of fits the cache held."""
    Z, y = np.eye(3), np.arange(3.0)
    key = fit_key(Z, y, {"n_sweeps": 5}, (None, None))
    assert fit_key(Z, y, {"n_sweeps": 5, "n_jobs": 1, "progress": False}, (None, None)) == key
    assert fit_key(Z, y, {"n_sweeps": 6}, (None, None)) != key


def test_a_damaged_entry_is_a_miss_and_an_unseeded_explainer_caches_nothing(tmp_path, monkeypatch):
    """A zip index whose flag says "encrypted" raised RuntimeError from np.load, on every run
    until the entry was removed by hand; random_state=None wrote entries no run could load."""
    import zipfile

    from scrutiny import Explainer

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    X = np.random.default_rng(0).normal(size=(200, 4))

    def model(X):
        p = 1 / (1 + np.exp(-2 * X[:, 0]))
        return np.stack([1 - p, p], axis=1)

    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "progress": False, "n_jobs": 1}
    first = Explainer(model, X, cache_fits=True, random_state=0, **kw).fit()
    (npz,) = (tmp_path / "fits").glob("*.npz")
    data = bytearray(npz.read_bytes())
    data[zipfile.ZipFile(npz).start_dir + 8] ^= 1  # the first member: "encrypted"
    npz.write_bytes(bytes(data))
    again = Explainer(model, X, cache_fits=True, random_state=0, **kw).fit()
    assert again.cached_fits_ == []  # refitted, and written over
    np.testing.assert_array_equal(again.explain(X[:3]).values, first.explain(X[:3]).values)
    assert Explainer(model, X, cache_fits=True, random_state=0, **kw).fit().cached_fits_
    with pytest.warns(UserWarning, match="cache_fits needs a random_state"):
        unseeded = Explainer(model, X, cache_fits=True, **kw)
    unseeded.fit()
    assert len(list((tmp_path / "fits").glob("*.npz"))) == 1
