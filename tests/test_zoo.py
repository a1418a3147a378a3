"""Reference models: architectures, and the cache of weights as plain arrays."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from scrutiny.zoo.fashion_cnn import build as build_cnn  # noqa: E402
from scrutiny.zoo.mnist_mlp import build as build_mlp  # noqa: E402
from scrutiny.zoo.training import cached  # noqa: E402
from tests.temporaries import age, plant_temporaries  # noqa: E402


def test_architectures_accept_images_and_return_ten_logits():
    for module in (build_mlp(), build_cnn()):
        out = module(torch.zeros(3, 28, 28))
        assert out.shape == (3, 10)
    assert build_cnn()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    sizes = [p.numel() for p in build_mlp().parameters()]
    assert sum(sizes) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10


def test_cache_round_trip_and_recovery(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    calls = []

    def build():
        torch.manual_seed(len(calls) + 10)  # a different start every time it is built
        return torch.nn.Linear(3, 2)

    def fit(module):
        calls.append(1)
        with torch.no_grad():
            module.weight.fill_(0.5)
        return {"test_accuracy": 1.0}

    first, _ = cached("tiny", {"epochs": 1}, build, fit, progress=False)
    again, facts2 = cached("tiny", {"epochs": 1}, build, fit, progress=False)
    assert len(calls) == 1 and facts2["test_accuracy"] == 1.0
    torch.testing.assert_close(first.weight, again.weight)
    (tmp_path / "tiny.npz").write_bytes(b"garbage")
    cached("tiny", {"epochs": 1}, build, fit, progress=False)
    assert len(calls) == 2  # an unreadable cache is rebuilt, not trusted
    with np.load(tmp_path / "tiny.npz", allow_pickle=False) as f:
        assert set(f.files) == {"weight", "bias", "__facts__"}  # the weights' own facts
    whole = (tmp_path / "tiny.npz").read_bytes()
    for damaged in (whole[: len(whole) // 2], b""):  # a truncated zip, an empty file
        (tmp_path / "tiny.npz").write_bytes(damaged)
        cached("tiny", {"epochs": 1}, build, fit, progress=False)
    assert len(calls) == 4
    cached("tiny", {"epochs": 2}, build, fit, progress=False)  # another recipe: not reused
    for name in ("coreutils/gcc-O2", "../escaped", ".."):  # never cached; written beside
        with pytest.raises(ValueError, match="a model's name is a plain file name"):
            cached(name, {"epochs": 1}, build, fit, progress=False)
    cached("tiny", {"epochs": 2}, build, fit, progress=False)
    assert len(calls) == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.json", "tiny.npz"]
    with np.load(tmp_path / "tiny.npz", allow_pickle=False) as f:  # an array of text:
        kept = dict(f)  # torch's TypeError stopped the run
    np.savez(tmp_path / "tiny.npz", **{**kept, "weight": np.array(["w"] * 6).reshape(2, 3)})
    cached("tiny", {"epochs": 2}, build, fit, progress=False)
    assert len(calls) == 6


def half_weights(module):
    """A "training" that sets every weight to 0.5: what a cached model must keep."""
    with torch.no_grad():
        module.weight.fill_(0.5)
    return {}


def test_a_cache_that_cannot_be_written_keeps_the_trained_model(tmp_path, monkeypatch):
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    monkeypatch.setattr(
        np, "savez", lambda *a, **k: (_ for _ in ()).throw(OSError("No space left on device"))
    )

    with pytest.warns(UserWarning, match="could not cache the trained model"):
        module, _ = cached("tiny", {}, lambda: torch.nn.Linear(3, 2), half_weights, progress=False)
    assert float(module.weight[0, 0].detach()) == 0.5
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_temporaries_of_killed_writes_are_named_as_ours_and_removed(tmp_path, monkeypatch):
    """Weights are written under a temporary name that ``clear_temporaries`` recognises,
    so a write killed halfway leaves nothing for good; caching removes those an hour old
    and keeps a younger one (a training writing now)."""
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    _, fresh = plant_temporaries(tmp_path, "tiny.npz")
    written, savez = [], np.savez
    monkeypatch.setattr(np, "savez", lambda f, **a: (written.append(Path(f.name)), savez(f, **a)))
    cached("tiny", {}, lambda: torch.nn.Linear(3, 2), half_weights, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [fresh.name, "tiny.json", "tiny.npz"]
    from scrutiny._files import clear_temporaries

    (killed,) = written  # as a write killed before its rename would leave it
    killed.write_bytes(b"half an npz")
    age(killed)
    assert clear_temporaries(tmp_path) == fresh.stat().st_size and not killed.exists()


def test_a_cache_folder_that_cannot_be_made_costs_a_warning(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "file" / "cache"))  # below a file

    with pytest.warns(UserWarning, match="could not cache the trained model"):
        module, _ = cached("tiny", {}, lambda: torch.nn.Linear(3, 2), half_weights, progress=False)
    assert float(module.weight[0, 0].detach()) == 0.5


def test_a_cache_entry_that_fails_to_load_is_trained_from_the_seeded_start(tmp_path, monkeypatch):
    # weights of the right names but a wrong shape, or facts that are not an object: the
    # model is trained again as it would be without a cache, not from half-loaded weights
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    starts = []

    def build():
        torch.manual_seed(0)
        return torch.nn.Linear(3, 2)

    def fit(module):
        starts.append(module.weight.detach().clone())
        return {}

    cached("tiny", {}, build, fit, progress=False)
    np.savez(tmp_path / "tiny.npz", weight=np.full((2, 3), 9.0, np.float32), bias=np.zeros(5))
    cached("tiny", {}, build, fit, progress=False)
    weights = {"weight": np.zeros((2, 3), np.float32), "bias": np.zeros(2, np.float32)}
    np.savez(tmp_path / "tiny.npz", **weights, __facts__=np.array("null"))
    cached("tiny", {}, build, fit, progress=False)
    assert len(starts) == 3
    for start in starts[1:]:
        torch.testing.assert_close(start, starts[0], rtol=0, atol=0)


def test_weights_are_taken_with_the_facts_in_their_own_file(tmp_path, monkeypatch):
    """Two trainings of one name by other recipes (another torch, other epochs) at once:
    the facts' .json and the weights' .npz were replaced one after the other, and a reader
    between the two took one recipe's weights for the other's."""
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))

    def filled(value):
        def fit(module):
            with torch.no_grad():
                module.weight.fill_(value)
            return {}

        return fit

    cached("tiny", {"epochs": 1}, lambda: torch.nn.Linear(3, 2), filled(1.0), progress=False)
    one = (tmp_path / "tiny.json").read_text()
    cached("tiny", {"epochs": 2}, lambda: torch.nn.Linear(3, 2), filled(2.0), progress=False)
    (tmp_path / "tiny.json").write_text(one)  # the other writer's facts beside these weights
    again, facts = cached(
        "tiny", {"epochs": 1}, lambda: torch.nn.Linear(3, 2), filled(1.0), progress=False
    )
    assert float(again.weight[0, 0].detach()) == 1.0  # trained anew
    assert facts["recipe"]["epochs"] == 1


def test_training_leaves_the_callers_random_numbers_and_takes_numpy_seeds():
    from scrutiny.zoo.training import train

    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    module = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.5))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(module, X, y, epochs=np.int64(1), seed=np.int64(4), progress=False)
    torch.testing.assert_close(torch.rand(3), expected, rtol=0, atol=0)
    from scrutiny.zoo import mnist_mlp

    for bad in (0.9, "0", True):  # seed 0's model, unsaid
        with pytest.raises(ValueError, match="seed must be a whole number, at least 0"):
            mnist_mlp(seed=bad, progress=False)
    with pytest.raises(ValueError, match="at most 18446744073709551615"):  # torch overflowed
        mnist_mlp(seed=2**64, progress=False)


def test_a_model_of_other_training_data_is_trained_again(tmp_path, monkeypatch):
    """The Fashion-MNIST CNN's recipe named its data in words: IDX files of another folder
    (MNIST's, given by mistake) got the first folder's model and facts."""
    import gzip
    import importlib

    fashion = importlib.import_module("scrutiny.zoo.fashion_cnn")  # the module, not its function
    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(fashion, "EPOCHS", 1)
    rng = np.random.default_rng(0)
    accuracies = {}
    for name, bright in (("a", 0), ("b", 1)):  # bright images are class 0 in a, 1 in b
        y = rng.integers(0, 2, 128)
        X = np.where((y == bright)[:, None, None], 255, 0) * np.ones((128, 28, 28))
        for prefix in ("train", "t10k"):
            for kind, a in (("images-idx3", X), ("labels-idx1", y)):
                (tmp_path / name).mkdir(exist_ok=True)
                with gzip.open(tmp_path / name / f"{prefix}-{kind}-ubyte.gz", "wb") as f:
                    head = bytes([0, 0, 8, a.ndim]) + np.array(a.shape, ">u4").tobytes()
                    f.write(head + a.astype(np.uint8).tobytes())
        monkeypatch.setenv("SCRUTINY_FASHION_MNIST", str(tmp_path / name))
        model, facts = fashion.fashion_cnn(progress=False)
        accuracies[name] = facts["test_accuracy"]
        with torch.no_grad():
            assert int(model(torch.ones(1, 28, 28)).argmax()) == bright
    assert accuracies == {"a": 1.0, "b": 1.0}


def test_review_cnn_reads_words_and_ignores_padding():
    """Its vocabulary is the training words seen twice, others one unknown id; a text's
    probabilities do not depend on the longer texts padded beside it in a batch."""
    from scrutiny.zoo.review_cnn import ReviewCNN, build, vocabulary, word_ids

    texts = ["Great coffee, great price!", "Not great. Bad coffee.", "bad bad"]
    vocab = vocabulary(texts)
    assert vocab == {"bad": 2, "great": 3, "coffee": 4}  # by count, then alphabetically
    np.testing.assert_array_equal(
        word_ids(["Great tea", "bad"], vocab),
        [[3, 1, 0], [2, 0, 0]],  # at least 3 columns
    )
    model = ReviewCNN(build(len(vocab) + 2), vocab)
    alone = model.predict_proba(["not bad coffee"])
    padded = model.predict_proba(["not bad coffee", " ".join(["great"] * 50)])
    np.testing.assert_allclose(padded[:1], alone, rtol=1e-6)  # float32 sums
    np.testing.assert_allclose(alone.sum(axis=1), 1.0)
    assert model.predict_proba([]).shape == (0, 2)


def test_zoo_builds_start_each_seed_apart_and_leave_the_callers_random_numbers():
    """Every seed started from seed 0's weights, and building (on a cache hit too) reset
    the caller's torch generator to seed 0. Seed 0 must still start where the published
    models did: its first layer is what torch draws first after ``manual_seed(0)``."""
    from torch import nn

    from scrutiny.zoo.function_start_rnn import build as build_rnn
    from scrutiny.zoo.review_cnn import build as build_review

    first_layers = [  # (build of a seed, its first layer, that layer made alone)
        (build_mlp, lambda m: m[1], lambda: nn.Linear(784, 256)),
        (build_cnn, lambda m: m.features[0], lambda: nn.Conv2d(1, 32, 5, padding=2)),
        (
            lambda seed: build_review(50, seed),
            lambda m: m.embed,
            lambda: nn.Embedding(50, 32, padding_idx=0),
        ),
        (build_rnn, lambda m: m.embed, lambda: nn.Embedding(257, 16, padding_idx=0)),
    ]
    for build, first, alone in first_layers:
        torch.manual_seed(0)
        published = alone().weight
        torch.manual_seed(123)
        module = build(0)
        after = torch.rand(3)
        torch.manual_seed(123)
        torch.testing.assert_close(after, torch.rand(3), rtol=0, atol=0)
        torch.testing.assert_close(first(module).weight, published, rtol=0, atol=0)
        assert not torch.equal(first(build(1)).weight, published)


def test_a_model_cached_when_every_seed_started_from_seed_0_is_trained_again(tmp_path, monkeypatch):
    """Seed 0's start is unchanged, so its cached models stay; another seed's was seed
    0's, so a model cached then is not what its recipe now makes."""
    import json

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    fits = []

    def fit(module):
        fits.append(seed)
        return {}

    for seed in (0, 1):
        cached(f"tiny{seed}", {"seed": seed}, lambda: torch.nn.Linear(3, 2), fit, progress=False)
        info = tmp_path / f"tiny{seed}.json"
        facts = json.loads(info.read_text())
        facts["recipe"].pop("initial_weights_seed", None)  # as the code before recorded it
        info.write_text(json.dumps(facts))
        npz = tmp_path / f"tiny{seed}.npz"  # and with the facts beside the weights only
        with np.load(npz) as f:
            weights = {k: f[k] for k in f.files if k != "__facts__"}
        np.savez(npz, **weights)
        cached(f"tiny{seed}", {"seed": seed}, lambda: torch.nn.Linear(3, 2), fit, progress=False)
    assert fits == [0, 1, 1]  # seed 0's cached model reused, seed 1's trained again


def test_the_function_start_rnn_takes_byte_ids_only():
    """Byte b is id b + 1 and 0 is no byte: raw bytes would read 0x00 as no byte, an id
    past 256 failed deep in torch, and a fraction was cut to a byte."""
    from scrutiny import ModelAdapter
    from scrutiny.models import ModelError
    from scrutiny.zoo.function_start_rnn import at_position, build

    classify = at_position(build(), 2)
    ids = torch.tensor([[1, 0x56, 256, 0, 9]])
    torch.testing.assert_close(classify(ids.double()), classify(ids))  # whole floats are ids
    with pytest.raises(TypeError, match=r"not raw bytes \(uint8\): pass .*byte_ids\(code\)"):
        classify((ids - 1).clamp(min=0).to(torch.uint8))
    for bad in (257.0, -1.0, 2.5):
        x = ids.double()
        x[0, 3] = bad
        with pytest.raises(ValueError, match=rf"whole numbers 0\.\.256 .*got {bad:g} at \(0, 3\)"):
            classify(x)
    x = ids.numpy().astype(np.float64)
    x[0, 4] = 300
    with pytest.raises(ModelError, match=r"whole numbers 0\.\.256 .*got 300 at \(0, 4\)"):
        ModelAdapter(classify, outputs="logits").predict(x)


def test_the_function_start_rnn_is_trained_again_for_other_bytes_or_starts(tmp_path, monkeypatch):
    """Its cache told training data apart by name, size and number of starts only: a
    program rebuilt, or labelled otherwise, got the model trained on the old one."""
    import dataclasses

    from scrutiny.datasets.binaries import Program
    from scrutiny.zoo import function_start_rnn as rnn

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    trained = []
    monkeypatch.setattr(rnn, "train_labeller", lambda module, ids, *a, **k: trained.append(ids))
    code = np.random.default_rng(0).integers(0, 256, 400).astype(np.uint8)
    starts = np.isin(np.arange(400), [0, 90, 250])
    program = Program("p", code, starts)
    others = [  # the same name, size and number of starts
        dataclasses.replace(program, code=np.roll(code, 1)),
        dataclasses.replace(program, starts=np.roll(starts, 1)),
    ]
    for p in (program, program, *others):
        rnn.function_start_rnn([p], [program], "tiny", epochs=0, progress=False)
    assert len(trained) == 3  # the second call is a cache hit, each other program is not
