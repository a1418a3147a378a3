"""Explaining the label of one byte from the bytes around it (LEMNA's window): local mode
and the baselines switch window bytes off in place and leave the context alone."""

import numpy as np
import pytest

from scrutiny import Explainer, Explanation
from scrutiny.representations import TokenRepresentation

LENGTH, WINDOW = 30, (10, 21)
WEIGHTS = np.zeros(LENGTH)
WEIGHTS[[12, 15, 18]] = [3.0, -2.0, 1.5]  # window positions that matter
WEIGHTS[[2, 27]] = [4.0, 4.0]  # context that matters, never switched off


def presence_model(X):
    """(n, 2) probabilities, additive in the logit over which positions hold a byte."""
    z = (np.asarray(X) != 0) @ WEIGHTS - 5.0
    p = 1 / (1 + np.exp(-z))
    return np.column_stack([1 - p, p])


def byte_rows(n, seed=0):
    return np.random.default_rng(seed).integers(1, 257, size=(n, LENGTH))


def test_local_mode_explains_the_window_and_recovers_each_bytes_effect():
    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X = byte_rows(3)
    ex = Explainer(presence_model, X[:1], mode="local", representation=rep, n_samples=300)
    exp = ex.explain(X, target=1)
    outside = np.r_[: WINDOW[0], WINDOW[1] : LENGTH]
    assert (exp.values[:, outside] == 0).all()
    # the logit is linear in presence, so each byte's effect is its weight
    np.testing.assert_allclose(
        exp.values[:, WINDOW[0] : WINDOW[1]],
        np.broadcast_to(WEIGHTS[WINDOW[0] : WINDOW[1]], (3, 11)),
        atol=0.1,
    )
    assert [sorted(t) for t in exp.top(2)] == [[12, 18]] * 3
    from scrutiny.baselines import random_explanation

    chance = random_explanation(exp)  # the chance level keeps to the window too
    assert (chance.values[:, outside] == 0).all() and (chance.values[:, 12] > 0).all()
    assert chance.meta["representation"]["window"] == list(WINDOW)
    from scrutiny.fidelity import paper_protocol

    with pytest.raises(ValueError, match="token ids"):  # 5 x a byte id is no byte
        paper_protocol(presence_model, exp, X, k=3)


def test_lime_tokens_removes_window_bytes_in_place_and_finds_the_decisive_ones():
    from scrutiny.baselines import lime_tokens

    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X = byte_rows(2)
    X[1, 13] = 0  # a window byte already absent: LIME's words are the present ones
    seen = []

    def model(rows):
        seen.append(np.asarray(rows).copy())
        return presence_model(rows)

    exp = lime_tokens(model, X, rep, target=1, num_samples=300, progress=False)
    queried = np.concatenate(seen)
    assert (queried[:, : WINDOW[0]] != 0).all() and (queried[:, WINDOW[1] :] != 0).all()
    for row in queried:  # every query is one of the inputs less some window bytes
        source = X[np.argmin([(row != x)[row != 0].sum() for x in X])]
        assert ((row == source) | (row == 0)).all()
    assert exp.values[1, 13] == 0
    assert [set(t[:1]) for t in exp.top(1)] == [{12}, {12}]
    assert exp.meta["queries_per_explanation"] == pytest.approx(301, abs=1)
    again = lime_tokens(model, X, rep, target=1, num_samples=300, progress=False)
    np.testing.assert_array_equal(again.values, exp.values)


def test_lime_tokens_refuses_another_representation():
    from scrutiny.baselines import lime_tokens
    from scrutiny.representations import TabularRepresentation

    with pytest.raises(TypeError, match="TokenRepresentation"):
        lime_tokens(presence_model, byte_rows(1), TabularRepresentation(LENGTH, 0.0, 1.0))


def test_kernel_shap_on_a_window_gives_exact_shapley_values_of_an_additive_probability():
    from scrutiny.baselines import kernel_shap

    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X = byte_rows(1)
    w = np.zeros(LENGTH)
    w[[11, 16]] = [0.2, 0.1]

    def additive(rows):  # a probability additive in presence: its Shapley values are w
        p = 0.3 + (np.asarray(rows) != 0) @ w
        return np.column_stack([1 - p, p])

    exp = kernel_shap(additive, X, target=1, l1_reg=False, representation=rep, progress=False)
    np.testing.assert_allclose(
        exp.values[0], np.where(np.isin(np.arange(LENGTH), [11, 16]), w, 0.0), atol=1e-6
    )


def test_a_saved_window_explainer_keeps_its_window(tmp_path):
    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X = byte_rows(2)
    ex = Explainer(presence_model, X[:1], mode="local", representation=rep, n_samples=100)
    back = Explainer.load(ex.save(tmp_path / "ex"), presence_model)
    assert back.representation.window == WINDOW
    np.testing.assert_array_equal(back.explain(X).values, ex.explain(X).values)


def _function_starts_benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "benchmarks" / "function_starts.py"
    spec = importlib.util.spec_from_file_location("function_starts", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_the_benchmarks_random_bytes_are_present_window_bytes():
    pytest.importorskip("elftools")
    bench = _function_starts_benchmark()
    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X = byte_rows(4)
    X[:, 12:16] = 0  # bytes already absent
    ex = Explainer(presence_model, X[:1], mode="local", representation=rep, n_samples=50)
    rand = bench.random_bytes(ex.explain(X), rep, 0)
    top = rand.top(7)
    assert ((top >= WINDOW[0]) & (top < WINDOW[1])).all()  # the 7 present of the window
    assert (np.take_along_axis(X, top, axis=1) != 0).all()


def test_local_head_to_head_scores_every_run_on_the_same_inputs():
    from scrutiny.benchmark import local_head_to_head, local_runs

    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X, donors = byte_rows(4), byte_rows(6, seed=1)
    donors[:, [2, 27]] = 0  # without the context that makes "1", the model says 0
    calls = []
    runs = local_runs(presence_model, X, rep, 60)
    assert list(runs) == ["DMM-MEN local", "ablation: local, ridge"]

    def local(seed, m):
        calls.append((seed, m))
        return runs["DMM-MEN local"](seed, m)

    rows, first = local_head_to_head(
        {"local": local, "skipped": local},
        presence_model,
        4,
        donors,
        [1, 3],
        0,
        2,
        2,
        only=["local"],
    )
    assert list(rows) == ["local"] and calls == [(0, 4), (1, 2)]
    row = rows["local"]
    assert len(row["deduction"]["pcr"]) == 2 and row["queries_per_explanation"] == 61
    assert row["stability_top20"] == 1.0  # the two decisive window bytes, whatever the seed
    assert first.inputs.shape == (4, LENGTH)
    calls.clear()  # more inputs to explain twice than explained: all of them, not a crash
    local_head_to_head({"local": local}, presence_model, 2, donors, [1], 0, 5, 2)
    assert calls == [(0, 2), (1, 2)]
    with pytest.raises(ValueError, match=r"unknown methods \['LIME'\]; choose from"):
        local_head_to_head({"local": local}, presence_model, 4, donors, [1], 0, 2, 2, ["LIME"])


def windowed_explanation():
    """The audit's toy (t3): of the window, bytes 11, 13 and 18 are for class 1 and the
    rest against it; context bytes 2 and 27 matter to the model but are no features, so
    they have no value. Every byte present, the values exact: the model's logit is
    additive in presence."""
    w = np.zeros(LENGTH)
    w[WINDOW[0] : WINDOW[1]] = [-1, 2, -1, 3, -1, -1, -1, -1, 1.5, -1, -1]
    context = np.zeros(LENGTH)
    context[[2, 27]] = 4.0
    seen = []

    def model(X):
        seen.append(np.asarray(X).copy())
        p = 1 / (1 + np.exp(-((np.asarray(X) != 0) @ (w + context) - 5.0)))
        return np.column_stack([1 - p, p])

    X = byte_rows(2)
    exp = Explanation(
        inputs=X,
        values=np.broadcast_to(w, X.shape),
        coefficients=w / X,
        target=[1, 1],
        baseline=0.0,
        surrogate_logit=np.full(2, (w + context).sum() - 5.0),
        meta={"representation": TokenRepresentation(LENGTH, window=WINDOW).to_json()},
    )
    return exp, model, seen


def test_fidelity_tests_remove_window_bytes_only_even_those_against_the_class():
    """Three window bytes are for the class: at k = 5 the ranking goes on to bytes against
    it, not to the context's zeros (positions 0, 1, ...), which are no features at all."""
    from scrutiny.fidelity import deduction, heldout_error

    exp, model, seen = windowed_explanation()
    top = exp.top(LENGTH)
    assert top[0, :5].tolist() == [13, 11, 18, 10, 12]  # ties by index
    inside = (top >= WINDOW[0]) & (top < WINDOW[1])
    assert inside[:, :11].all() and not inside[:, 11:].any()  # the context after all 11
    seen.clear()
    deduction(model, exp, ks=[5, 11])
    crafted = np.concatenate(seen[1:])  # the first call classifies the inputs as they are
    removed = np.flatnonzero((crafted == 0).any(axis=0))
    assert removed.min() >= WINDOW[0] and removed.max() < WINDOW[1]
    with pytest.raises(ValueError, match=r"between 1 and 11 .*got \[12\]"):
        deduction(model, exp, ks=[12])  # the 12th would be context
    # held-out deletions of window bytes only: the exact values predict them exactly (a
    # context byte deleted moves the model's logit by 4 and the prediction by nothing)
    assert heldout_error(model, exp) < 1e-9
    plain = exp[:]  # without its window, ranked as before: zeros before negative values
    plain.meta = {}
    assert plain.top(5)[0].tolist() == [13, 11, 18, 0, 1]
    # summaries list the window's bytes only, however many are asked for: the context,
    # no feature, was listed and ranked after them
    assert exp.to_dict(k=15)["samples"][0]["top_features"] == top[0, :11].tolist()
    frame = exp.to_frame()
    assert frame["feature"].between(WINDOW[0], WINDOW[1] - 1).all() and len(frame) == 22
    mine = frame[frame["sample"] == 0].sort_values("rank")
    assert mine["feature"].tolist() == top[0, :11].tolist()
    from scrutiny.fidelity import augmentation

    with pytest.raises(TypeError, match="donors holds uint8 values, raw bytes"):
        augmentation(model, exp, (byte_rows(4) - 1).astype(np.uint8), ks=[3])


def test_synthetic_inputs_keep_the_context_and_carry_only_the_top_window_bytes():
    """The window's top 2 (bytes 13 and 11: 3 + 2) with the context's bytes 2 and 27
    (4 + 4) make the logit 3 + 2 + 8 - 5 = 8: class 1. Synthetic emptied the context too,
    where the top 2 alone make 0, no class 1."""
    from scrutiny.fidelity import synthetic

    exp, model, seen = windowed_explanation()
    seen.clear()
    assert synthetic(model, exp, ks=[2]).all()
    (crafted,) = seen  # the inputs' own classes are the explanation's targets
    kept = crafted != 0
    expected = np.ones(LENGTH, dtype=bool)  # byte_rows holds a byte everywhere
    expected[WINDOW[0] : WINDOW[1]] = False
    expected[[11, 13]] = True
    np.testing.assert_array_equal(kept, np.broadcast_to(expected, kept.shape))


def test_token_ids_are_whole_numbers_from_zero():
    rep = TokenRepresentation(LENGTH, window=WINDOW)
    X = byte_rows(2).astype(np.float64)
    np.testing.assert_array_equal(rep.check(X), X)
    for bad, value in ((-1.0, "-1"), (69.5, "69.5")):
        X[1, 12] = bad
        with pytest.raises(ValueError, match=rf"X holds {value} at \(1, 12\): tokens are ids"):
            rep.check(X)


def test_raw_bytes_are_refused_where_byte_ids_are_wanted():
    """uint8 code went through as floats: a 0x00 byte read as no byte, any other as its
    neighbour's id, and the explanation looked right."""
    from scrutiny.baselines import kernel_shap

    rep = TokenRepresentation(LENGTH, window=WINDOW)
    raw = (byte_rows(3) - 1).astype(np.uint8)
    with pytest.raises(TypeError, match="X_fit holds uint8 values, raw bytes"):
        Explainer(presence_model, raw, mode="local", representation=rep)
    ex = Explainer(presence_model, raw.astype(np.int64) + 1, mode="local", representation=rep)
    with pytest.raises(TypeError, match=r"X holds uint8 values, raw bytes.*byte_ids"):
        ex.explain(raw)
    with pytest.raises(TypeError, match="X holds uint8 values, raw bytes"):
        kernel_shap(presence_model, raw, representation=rep, progress=False)
    for code in ([bytes(LENGTH)], np.array([bytes(LENGTH)], dtype=object)):  # "strings"
        with pytest.raises(TypeError, match=r"X holds bytes: give rows of byte ids, byte_ids"):
            ex.explain(code)
    from scrutiny.datasets.binaries import byte_ids  # bytes failed in int(); int8 0xff was 0

    np.testing.assert_array_equal(byte_ids(b"\x55\x00\xff"), [0x56, 1, 0x100])
    np.testing.assert_array_equal(byte_ids(raw[0]), raw[0].astype(np.int64) + 1)
    for bad in (np.array([0x55, -1], dtype=np.int8), [300], [1.7]):
        with pytest.raises(ValueError, match="code must be bytes, values 0-255"):
            byte_ids(bad)


def exact_explainer(model, X, effects, monkeypatch):
    """A local explainer of the window whose explanations are ``effects(X)``, the model's
    exact ones: what scrutinize does with a ranking is tested here, not a fit."""
    rep = TokenRepresentation(LENGTH, window=WINDOW)
    ex = Explainer(model, X[:1], mode="local", representation=rep, n_samples=50)

    def explain(X, target=None, **settings):
        values = effects(X)
        return Explanation(
            inputs=X,
            values=values,
            coefficients=values / X,
            target=target,
            baseline=0.0,
            meta={"mode": "local", "representation": rep.to_json()},
        )

    monkeypatch.setattr(ex, "explain", explain)
    return ex


def test_scrutinize_crafts_and_draws_its_chance_level_within_the_window(monkeypatch):
    """Hosts of class 0 lack context bytes 2 and 27, which their donors have: a transplant
    or deletion may touch the 11 window bytes only, so k counts those, as the headline k
    (a fifth and two fifths of them) and the report do."""
    from scrutiny.fidelity import default_ks
    from scrutiny.scrutinize import scrutinize
    from scrutiny.weakness_report import class_table

    X = byte_rows(8)
    X[4:, [2, 27]] = 0  # class 0
    ex = exact_explainer(presence_model, X, lambda X: (X != 0) * WEIGHTS, monkeypatch)
    s = scrutinize(ex, X, 1)
    assert s.ks == default_ks(11) == (1, 2, 3, 5)  # not of the 30 elements: (1, ..., 10)
    assert s.meta["max_off"] is None  # a window is perturbed at the explainer's own rates
    assert "adversarial k=2" in class_table({1: s}) and "pathological k=3" in class_table({1: s})
    for attack in s.attacks().values():
        for k in s.ks:
            for random in (False, True):
                changed = attack.samples(k, random) != attack.originals
                assert changed.any(axis=1).all()
                where = np.flatnonzero(changed.any(axis=0))
                assert where.min() >= WINDOW[0] and where.max() < WINDOW[1], (attack.name, k)


def test_transplants_carry_the_donors_decisive_bytes_whatever_their_ids(monkeypatch):
    """A start here is push %rbp (0x55, id 0x56) at byte 12 and id 0x49 at byte 15; the
    hosts hold larger ids there. Ids are names: a transplant ranks by the donor byte's own
    effect, where a coefficient per unit of id times the ids' difference ranked these two,
    whose ids are the smaller, last."""
    from scrutiny.scrutinize import scrutinize

    def starts(X):
        X = np.asarray(X)
        p = 1 / (1 + np.exp(-(4.0 * (X[:, 12] == 0x56) + 4.0 * (X[:, 15] == 0x49) - 6.0)))
        return np.column_stack([1 - p, p])

    def effects(X):
        values = np.zeros(X.shape)
        values[:, 12], values[:, 15] = 4.0 * (X[:, 12] == 0x56), 4.0 * (X[:, 15] == 0x49)
        return values

    X = byte_rows(8)
    X[:4, 12], X[:4, 15] = 0x56, 0x49
    X[4:, 12], X[4:, 15] = 0xC4, 0xCD
    ex = exact_explainer(starts, X, effects, monkeypatch)
    s = scrutinize(ex, X, 1, ks=[2])
    other = s.pathological["other classes"]
    changed = other.samples(2) != other.originals
    decisive = np.isin(np.arange(LENGTH), [12, 15])
    np.testing.assert_array_equal(changed, np.broadcast_to(decisive, changed.shape))
    # every host, and every noise host (some hold one of the two already), called a start
    assert other.rate[0] == s.pathological["noise"].rate[0] == 1.0


def test_scrutinize_explains_a_window_at_rates_a_local_fit_can_read():
    """With 2 of 11 bytes off at most (a fifth of the window, the headline k), the logits
    took a few values, which the local mixture fitted by intercepts with effects near 0:
    nullifying the top 2 bytes fooled the model on 3 of the 4 starts, not all."""
    from scrutiny.representations import TokenRepresentation
    from scrutiny.scrutinize import scrutinize

    def starts(X):
        X = np.asarray(X)
        p = 1 / (1 + np.exp(-(4.0 * (X[:, 12] != 0) + 4.0 * (X[:, 15] != 0) - 6.0)))
        return np.column_stack([1 - p, p])

    X = byte_rows(6)
    X[4:, 15] = 0  # two of class 0, to host transplants
    rep = TokenRepresentation(LENGTH, 0.0, WINDOW)
    ex = Explainer(starts, X, mode="local", representation=rep, n_samples=300, random_state=0)
    s = scrutinize(ex, X, 1, ks=[2])
    assert s.adversarial.rate[0] == 1.0  # bytes 12 and 15 gone: no start


def test_an_input_with_an_empty_window_is_left_out_not_fatal():
    """Its context calls it a start, but no window byte is there to switch off: compared
    on every element, it was scrutinized and stopped the whole run ("input 0 equals the
    baseline everywhere", of the class's inputs)."""
    from scrutiny.scrutinize import scrutinize

    X = byte_rows(6)
    X[4:, [2, 27]] = 0  # class 0: hosts
    X[1, WINDOW[0] : WINDOW[1]] = 0  # context bytes 2 and 27 alone: a start
    rep = TokenRepresentation(LENGTH, 0.0, WINDOW)
    ex = Explainer(presence_model, X, mode="local", representation=rep, n_samples=100)
    assert ex.model.predict(X).tolist() == [1, 1, 1, 1, 0, 0]
    with pytest.warns(UserWarning, match=r"1 inputs of class 1 \(the first: row 1 of X\)"):
        s = scrutinize(ex, X, 1, ks=[2], random_state=0)
    assert s.index.tolist() == [0, 2, 3]
    # explained alone, it is named by its window, not said to be the baseline everywhere
    # (19 context bytes are not), by the explainer and the baselines
    from scrutiny.baselines import lime_tokens

    window = r"input 0's window \(10\.\.21\) holds only the baseline"
    with pytest.raises(ValueError, match=window):
        ex.explain(X[1:2], n_samples=20)
    with pytest.raises(ValueError, match=window):
        lime_tokens(presence_model, X[1:2], representation=rep, num_samples=20)


def test_a_window_is_two_whole_numbers():
    """80.7 was cut to 80 and True read as 1; three numbers failed to unpack."""
    for window in ((80.7, 121.9), (True, 5), (80, 121, 5), [80], 80):
        with pytest.raises(ValueError, match="window"):
            TokenRepresentation(200, window=window)
    assert TokenRepresentation(200, window=np.array([80, 121])).window == (80, 121)


def test_a_length_is_a_whole_number_of_positions():
    """200.7 was cut to 200, True and "20" read as lengths, and 0 was refused as a window
    "got None" that no one gave."""
    for length in (200.7, True, "20", 0, None):
        with pytest.raises(ValueError, match="length must be a whole number, at least 1"):
            TokenRepresentation(length)
    assert TokenRepresentation(np.int64(20)).input_shape == (20,)


def test_lemna_of_a_step_credits_nothing_and_says_so():
    """A model of two output levels: EM gives each a component, the input's a constant,
    whose fused lasso returned its rounding (3e-33) as coefficients, ranked as effects."""
    from scrutiny.baselines import lemna

    rep = TokenRepresentation(40, window=(16, 24))
    X = np.random.default_rng(3).integers(2, 257, size=(6, 40)).astype(float)

    def step(rows):  # byte 18 present or not
        p = 1 / (1 + np.exp(-(5.0 * (np.asarray(rows)[:, 18] != 0) - 2.5)))
        return np.column_stack([1 - p, p])

    with pytest.warns(UserWarning, match=r"LEMNA's regression of \d of 6 inputs .* constant"):
        exp = lemna(step, X, rep, target=1, progress=False)
    blank = ~exp.values.any(axis=1)
    assert blank.any() and (np.abs(exp.values[~blank]).max(axis=1) > 0.1).all()
