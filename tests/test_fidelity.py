"""Fidelity tests on a model whose decision rule is known, with explanations known to be
right or wrong, so every rate has an exact expected value."""

import numpy as np
import pytest

from scrutiny import Explanation
from scrutiny.fidelity import (
    approximation_error,
    augmentation,
    bootstrap_interval,
    deduction,
    default_ks,
    deletion,
    heldout_error,
    paper_protocol,
    pcr,
    stability,
    synthetic,
)

A, B = [0, 1, 2], [33, 34, 35]  # class 0 lives in pixels A, class 1 in pixels B of 6x6


def model(X):
    """Class 0 when pixels A outweigh pixels B, else class 1 (probabilities)."""
    X = X.reshape(len(X), -1)
    z = 5 * (X[:, A].sum(axis=1) - X[:, B].sum(axis=1))
    p0 = 0.5 * (1 + np.tanh(0.5 * z))
    return np.stack([p0, 1 - p0], axis=1)


rng = np.random.default_rng(0)
X = rng.uniform(0.2, 1.0, size=(40, 6, 6))
TARGET = model(X).argmax(axis=1)


def explanation(right=True):
    values = np.zeros((40, 36))
    for i, t in enumerate(TARGET):
        own = (A if t == 0 else B) if right else (B if t == 0 else A)
        values[i, own] = [3.0, 2.0, 1.0]
    return Explanation(
        inputs=X,
        values=values.reshape(X.shape),
        coefficients=values.reshape(X.shape),
        target=TARGET,
        baseline=0.0,
        model_logit=np.zeros(40),
        surrogate_logit=np.zeros(40),
    )


def test_deduction_synthetic_and_augmentation_score_a_right_explanation_perfectly():
    right, wrong = explanation(True), explanation(False)
    assert pcr(deduction(model, right, ks=[3])) == [0.0]  # the own pixels gone: class flips
    assert pcr(deduction(model, wrong, ks=[3])) == [1.0]
    assert pcr(synthetic(model, right, ks=[3])) == [1.0]
    assert pcr(synthetic(model, wrong, ks=[3])) == [0.0]
    donors = rng.uniform(0.0, 0.1, size=(30, 6, 6))
    donors[:15, 0, :3] = 0.3  # class 0 donors
    donors[15:, 5, 3:] = 0.3  # class 1 donors
    aug = augmentation(model, right, donors, ks=[3])
    assert pcr(aug) > 0.5 and pcr(augmentation(model, wrong, donors, ks=[3])) == [0.0]


def test_an_inputs_host_depends_on_it_not_on_the_inputs_tested_with_it():
    """Hosts were drawn input by input from one stream: the hosts of inputs 5-9 changed
    with the inputs tested before them (a subset's rates were not the whole's)."""
    seen = []

    def recording(Z):
        seen.append(np.array(Z).reshape(len(Z), -1))
        return model(Z)

    e = explanation(True)
    donors = rng.uniform(0.0, 0.1, size=(30, 6, 6))  # element 14 names its donor
    donors[:15, 0, :3] = 0.3
    donors[15:, 5, 3:] = 0.3

    def hosts(exp, seed=0):
        augmentation(recording, exp, donors, ks=[3], random_state=seed)
        crafted = seen[-1][:, 14]
        return [int(np.flatnonzero(donors.reshape(30, -1)[:, 14] == v)[0]) for v in crafted]

    whole = hosts(e)
    assert hosts(e[5:10]) == whole[5:10] and hosts(e[[7, 3]]) == [whole[7], whole[3]]
    donor_class = model(donors).argmax(axis=1)
    assert all(donor_class[h] != t for h, t in zip(whole, e.target, strict=True))
    # each class's 20 inputs pick among the 15 donors of the other: under uniform picks,
    # fewer than 8 distinct hosts in all has probability below 1e-19 (a union bound)
    assert len(set(whole)) >= 8
    assert hosts(e, seed=1) != whole


def test_the_default_k_grid_fits_inputs_of_few_elements():
    """A table of 30 columns is tested at k = 1, 2, 3, 5, 10 (up to half of it); one of 4
    at 1 and 2; an image at the issue's 5, 10, 20, 40, 80."""
    assert default_ks(784) == (5, 10, 20, 40, 80)
    assert default_ks(100) == (5, 10, 20, 40, 80)
    assert default_ks(99) == (1, 2, 3, 5, 10, 20, 40)
    assert default_ks(30) == (1, 2, 3, 5, 10)
    assert default_ks(4) == (1, 2)
    assert default_ks(1) == (1,)
    rows = rng.uniform(0.2, 1.0, size=(20, 4))

    def small(R):  # class 0 when column 0 outweighs column 3
        p0 = 1 / (1 + np.exp(-5 * (R[:, 0] - R[:, 3])))
        return np.stack([p0, 1 - p0], axis=1)

    exp = Explanation(
        inputs=rows,
        values=np.tile([1.0, 0.0, 0.0, 0.0], (20, 1)),
        coefficients=np.tile([1.0, 0.0, 0.0, 0.0], (20, 1)),
        target=small(rows).argmax(axis=1),
        baseline=0.0,
    )
    assert deduction(small, exp).shape == synthetic(small, exp).shape == (2, 20)
    assert augmentation(small, exp, rows).shape == (2, 20)


def test_k_grid_is_monotone_for_a_right_explanation():
    out = deduction(model, explanation(True), ks=[1, 2, 3])
    rates = pcr(out)
    assert out.shape == (3, 40) and rates[0] >= rates[1] >= rates[2] == 0.0


def test_bootstrap_interval_brackets_the_rate():
    outcomes = np.array([[True] * 30 + [False] * 10, [True] * 40])
    lo, hi = bootstrap_interval(outcomes, n_boot=4000)
    assert lo[0] < 0.75 < hi[0] and 0.55 < lo[0] and hi[0] < 0.9  # about +-1.96 * 0.068
    assert lo[1] == hi[1] == 1.0
    # 1000 outcomes at 0.3: the bootstrap rates are Binomial(1000, 0.3) / 1000, sd
    # sqrt(0.21 / 1000) = 0.0145, so the 95% ends are 0.3 -+ 1.96 sd = 0.3 -+ 0.0284. The
    # Monte-Carlo sd of a 2.5% quantile of 4000 draws is sqrt(.025 .975 / 4000) over the
    # density there (phi(1.96) / 0.0145 = 4.0): 0.0006; 3 of those plus 0.001 for the rates'
    # grid of 1/1000 and the normal approximation make 0.003 (a 90% interval is 0.0046 in)
    o = np.arange(1000) < 300
    lo, hi = bootstrap_interval(o[None], n_boot=4000)
    assert abs(lo[0] - (0.3 - 0.0284)) < 0.003 and abs(hi[0] - (0.3 + 0.0284)) < 0.003
    # inputs are resampled jointly across k: equal rows get equal ends, and a row of the
    # opposite outcomes the mirrored ends (to rounding), at every level; resampled row by
    # row, these 12 equalities all held in none of 300 seeds tried
    few = np.arange(300) < 90
    for level in (0.5, 0.8, 0.95):
        lo, hi = bootstrap_interval(np.stack([few, few, ~few]), level=level)
        assert lo[0] == lo[1] and hi[0] == hi[1]
        np.testing.assert_allclose([lo[0] + hi[2], hi[0] + lo[2]], 1.0, rtol=0, atol=1e-12)


def test_stability_and_approximation_error():
    a = explanation(True)
    assert stability(a, a, k=3) == 1.0
    assert stability(a, explanation(False), k=3) == 0.0
    # past its 3 non-zero values an explanation's top 6 are zeros in index order, the same
    # for any two such explanations: they name 3 elements each, and agree on those only
    assert stability(a, a, k=6) == 1.0  # was 0.5: divided by k, not by what they name
    assert stability(a, explanation(False), k=6) == 0.0
    fewer = explanation(True)
    first = np.where(TARGET == 0, A[0], B[0])
    fewer.values.reshape(40, -1)[np.arange(40), first] = 0.0  # names 2 of a's 3
    assert stability(a, fewer, k=6) == pytest.approx(2 / 3)
    nothing = explanation(True)
    nothing.values[:] = 0.0
    assert stability(nothing, nothing, k=3) == 1.0 and stability(a, nothing, k=3) == 0.0
    other = explanation(True)
    other.target = 1 - other.target
    with pytest.raises(ValueError, match="different classes"):
        stability(a, other, k=3)
    # k by default: 20 was refused for rows of under 20 elements; a grid's largest instead
    rows = Explanation(
        inputs=X[:, 0], values=X[:, 0], coefficients=X[:, 0], target=TARGET, baseline=0.0
    )
    assert stability(rows, rows) == 1.0  # 6 columns: k = 3
    reversed_rows = Explanation(**{**vars(rows), "values": X[:, 0, ::-1]})
    assert stability(rows, reversed_rows) == stability(rows, reversed_rows, k=3)
    assert approximation_error(a) == 0.0
    off = explanation(True)
    off.surrogate_output = np.full(40, np.log(3.0))  # p = 0.75 against the model's 0.5
    assert approximation_error(off) == pytest.approx(0.25)


def test_bad_arguments_are_named():
    e = explanation(True)
    with pytest.raises(ValueError, match="k must be between 1 and 36"):
        deduction(model, e, ks=[40])
    with pytest.raises(ValueError, match=r"k must be between 1 and 36 .*got \[0, 37\]"):
        deletion(model, e, ks=[0, 3, 37])
    for ks in ([], [2.5], 3):
        with pytest.raises(ValueError, match="ks must be a non-empty list of integers"):
            synthetic(model, e, ks=ks)
    with pytest.raises(ValueError, match=r"donors have samples of shape \(35,\)"):
        augmentation(model, e, np.zeros((3, 35)), ks=[3])
    with pytest.raises(ValueError, match=r"one input\? pass a batch of them, donors\[None\]"):
        augmentation(model, e, X[0], ks=[3])  # one image, its rows read as samples
    with pytest.raises(ValueError, match="no donor"):
        augmentation(model, e, X[TARGET == 0][:1].repeat(3, axis=0), ks=[3])
    with pytest.raises(ValueError, match=r"donors must be a non-empty batch .* shape \(0, 6, 6\)"):
        augmentation(model, e, X[:0], ks=[3])
    with pytest.raises(ValueError, match="negatives must be a non-empty batch"):
        paper_protocol(model, class_zero(True), NEGATIVES[:0], k=3)
    for ks in ([3, 1], [2, 2]):  # a curve's rows in order, each k once
        with pytest.raises(ValueError, match=r"ks must rise, each k once"):
            deduction(model, e, ks=ks)
    for n in (0, 2.7, True):  # 2.7 ran 2
        with pytest.raises(ValueError, match="n_perturbations must be a whole number"):
            heldout_error(model, e, n_perturbations=n)
    assert heldout_error(model, e, n_perturbations=2.0) == heldout_error(model, e, 2)


@pytest.mark.parametrize("target", [2, -1])
def test_a_target_the_model_has_no_output_for_is_refused(target):
    """Explanations of a class the model lacks (another model's): never called that class,
    each input counted as changed, a perfect deduction (-1 read the last class)."""
    e = explanation(True)
    e = Explanation(**{**vars(e), "target": np.full(len(e), target)})
    for test in (deduction, synthetic, deletion, heldout_error):
        with pytest.raises(ValueError, match=rf"targets \[{target}\] are none of the model's"):
            test(model, e)
    with pytest.raises(ValueError, match=rf"targets \[{target}\] are none of the model's"):
        paper_protocol(model, e, NEGATIVES, k=3)


def test_deletion_bounds_every_logit_alike_whatever_was_queried_first():
    """A probability that rounds to 1 has no finite logit: it stands just beyond the
    deepest finite one read in the same call, so its drop is never negative, and a second
    call on the same adapter gives the same numbers (the bound was read before the crafted
    inputs' logits raised it: a drop of -200)."""
    from scrutiny.models import ModelAdapter

    def steep(R):  # class 0's logit: 900 (its probability rounds to 1), 300 without column 0
        z = 600 * R[:, 0] + 300
        with np.errstate(over="ignore"):
            return np.stack([1 / (1 + np.exp(-z)), 1 / (1 + np.exp(z))], axis=1)

    rows = np.array([[1.0, 0.3, 0.5, 0.2]])
    e = Explanation(
        inputs=rows,
        values=np.array([[3.0, 0.0, 0.0, 0.0]]),
        coefficients=np.array([[3.0, 0.0, 0.0, 0.0]]),
        target=[0],
        baseline=0.0,
    )
    adapter = ModelAdapter(steep)
    first = deletion(adapter, e, ks=[1])
    assert first[0, 0] > 0  # from +inf, beyond 300, down to 300 (it read 100 - 300)
    np.testing.assert_array_equal(deletion(adapter, e, ks=[1]), first)


def test_donors_in_the_other_channel_layout_are_refused():
    """(n, 6, 6, 3) donors hold as many elements as (3, 6, 6) inputs: read as rows, they
    would be scrambled images; flat rows of as many elements are still taken."""
    C = np.repeat(X[:, None], 3, axis=1)

    def colour(Z):
        return model(Z.reshape(len(Z), 3, 6, 6).mean(axis=1))

    e = Explanation(
        inputs=C, values=C, coefficients=C, target=TARGET, baseline=0.0, model_logit=TARGET
    )
    for name, test in (
        ("donors", lambda D: augmentation(colour, e, D, ks=[3])),
        ("negatives", lambda D: paper_protocol(colour, e[TARGET == 0], D, k=3, n_boot=1)),
    ):
        with pytest.raises(ValueError, match=rf"{name} have samples of shape \(6, 6, 3\)"):
            test(C.transpose(0, 2, 3, 1))
        test(C.reshape(len(C), -1))


def test_deduction_warns_of_inputs_not_of_their_explained_class():
    """Explaining the other class, every input is 'changed' before anything is removed:
    a perfect PCR of 0 at every k, even for a wrong explanation, so the test says so."""
    e = explanation(False)
    e.target = 1 - e.target
    with pytest.warns(UserWarning, match=r"40 of 40 inputs \(the first: #0\) are not classified"):
        assert pcr(deduction(model, e, ks=[1, 3])).tolist() == [0.0, 0.0]
    pos = class_zero(True)
    pos.target[:] = 1
    with pytest.warns(UserWarning, match="the protocol's deduction mostly counts them"):
        paper_protocol(model, pos, X[TARGET == 0], k=3, n_boot=1)


def class_zero(right):
    e = explanation(right)
    return e[np.flatnonzero(e.target == 0)]


NEGATIVES = X[TARGET == 1]


def test_paper_protocol_scores_right_and_wrong_explanations_exactly():
    """Class 0 inputs, k = 3. Right: pixels A. Deduction writes -0.5 x the reference's A, so
    A sums below 0 < B: every input flips. Augmentation writes 5 x the reference's A, and
    the reference's A sum exceeds its B sum >= 0.6, so 5 x exceeds 3 >= any negative's B
    sum: all become class 0.
    Synthetic: 3 x A on noise near 0.03: class 0. The wrong explanation (pixels B) does the
    opposite in every test."""
    right = paper_protocol(model, class_zero(True), NEGATIVES, k=3, n_boot=4, share=0.5)
    wrong = paper_protocol(model, class_zero(False), NEGATIVES, k=3, n_boot=4, share=0.5)
    for out, ded, gain in ((right, 0.0, 1.0), (wrong, 1.0, 0.0)):
        assert out["deduction"].shape == (4,)
        np.testing.assert_array_equal(out["deduction"], ded)
        np.testing.assert_array_equal(out["augmentation"], gain)
        np.testing.assert_array_equal(out["synthetic"], gain)
    # 3 random pixels of 36 miss all of A with probability C(33,3)/C(36,3) = 0.76, and an
    # input keeps its class at least then; 3 random pixels set to 1 on |noise| make class 0
    # as often as not (none in A or B, probability 0.57, leaves it to the noise: 0.497 in
    # all, by simulation), where the right pixels always do
    assert right["random deduction"].mean() > 0.5
    assert right["random synthetic"].mean() < 1.0
    again = paper_protocol(model, class_zero(True), NEGATIVES, k=3, n_boot=4, share=0.5)
    for name, rates in right.items():
        np.testing.assert_array_equal(rates, again[name])


def test_paper_protocol_deduction_skips_elements_already_at_the_baseline():
    """The authors walk down their ranking past pixels already 0: pixel 4 is 0 in every
    positive, its value 0 ranks it third, above A[2]'s small negative one, so the top 3
    to write are A[0], A[1] and A[2], not pixel 4 (which got -0.5 x the reference's, ink
    where there was none)."""
    e = class_zero(True)
    e.inputs.reshape(len(e), -1)[:, 4] = 0.0  # a pixel the model ignores
    flat = e.values.reshape(len(e), -1)
    flat[:] = -0.1
    flat[:, 4] = 0.0
    flat[:, A] = [3.0, 2.0, -0.05]
    seen = []

    def spy(Z):
        seen.append(np.array(Z).reshape(len(Z), -1))
        return model(Z)

    paper_protocol(spy, e, NEGATIVES, k=3, n_boot=1, share=1.0)
    (crafted,) = [Z for Z in seen if (Z[:, A[0]] < 0).all()]  # deduction's: -0.5 x
    assert (crafted[:, 4] == 0).all() and (crafted[:, A] < 0).all()
    assert ((crafted < 0).sum(axis=1) == 3).all()


def test_paper_protocol_on_table_rows_asks_for_their_noise_and_random_value():
    """The authors' noise N(0.03, 0.01^2) and random value 1.0 are pixels of [0, 1]: on a
    credit table every noise row was one class, and a reversed ranking scored as the right
    one. Table rows must be given both; a regression is refused as the class tests are."""
    e = class_zero(True)
    flat = e.values.reshape(len(e), -1)
    rows = Explanation(
        inputs=e.inputs.reshape(len(e), -1),
        values=flat,
        coefficients=flat,
        target=e.target,
        baseline=0.0,
    )
    flat_negatives = NEGATIVES.reshape(len(NEGATIVES), -1)
    with pytest.raises(ValueError, match=r"table rows have no such scale: give noise="):
        paper_protocol(model, rows, flat_negatives, k=3, n_boot=1)
    given = paper_protocol(
        model, rows, flat_negatives, k=3, n_boot=2, noise=(0.03, 0.01), random_value=1.0
    )
    image = paper_protocol(model, e, NEGATIVES, k=3, n_boot=2)
    for name, rates in image.items():
        np.testing.assert_array_equal(given[name], rates)
    values = Explanation(**{**vars(rows), "meta": {"outputs": "values"}})
    with pytest.raises(ValueError, match=r"\(a regression\) predicts no class.*fidelity\.deletion"):
        paper_protocol(lambda R: R[:, :1], values, flat_negatives, k=3, n_boot=1)


def test_paper_protocol_names_bad_arguments():
    e = explanation(True)
    with pytest.raises(ValueError, match="one class at a time"):
        paper_protocol(model, e, NEGATIVES, k=3)
    with pytest.raises(ValueError, match="no negative"):
        paper_protocol(model, class_zero(True), X[TARGET == 0], k=3)
    with pytest.raises(ValueError, match="share must be in"):
        paper_protocol(model, class_zero(True), NEGATIVES, k=3, share=0.0)
    for k in (37, 20.0, 0):  # 20.0 failed in numpy's argpartition
        with pytest.raises(ValueError, match="k must be between 1 and 36"):
            paper_protocol(model, class_zero(True), NEGATIVES, k=k)
    for level in (95, 0.0):  # numpy's "Quantiles must be in the range [0, 1]"
        with pytest.raises(ValueError, match=r"level must be a share in \(0, 1\)"):
            bootstrap_interval(np.ones((2, 5)), level=level)
    with pytest.raises(ValueError, match="with inputs"):  # was (nan, nan) and warnings
        bootstrap_interval(np.ones((2, 0)))
    with pytest.raises(ValueError, match="n_boot must be a whole number"):
        bootstrap_interval(np.ones((2, 5)), n_boot=0)
    values = explanation(True).values.copy()
    values[3, 1, 2] = np.nan  # top(k) ranked it last, and every test went on unsaid
    with pytest.raises(ValueError, match=r"values hold nan at \(3, 1, 2\)"):
        Explanation(**{**vars(explanation(True)), "values": values})


def test_paper_protocol_writes_scaled_reference_values():
    """The crafted inputs carry -0.5, 5 and 3 times one positive's values in the reference's
    top-k elements (here A for every positive), the same positive in all three tests."""
    seen = []

    def recording(Z):
        seen.append(np.array(Z).reshape(len(Z), -1))
        return model(Z)

    pos = class_zero(True)
    own = pos.inputs.reshape(len(pos), -1)[:, A]
    paper_protocol(recording, pos, NEGATIVES, k=3, n_boot=1, share=0.5)
    # after the filter, the check of the positives' class and the scores
    deduction_in, augmentation_in, synthetic_in = seen[3:6]
    refs = []
    for crafted, scale in ((deduction_in, -0.5), (augmentation_in, 5.0), (synthetic_in, 3.0)):
        written = crafted[:, A] / scale
        np.testing.assert_allclose(written, np.broadcast_to(written[0], written.shape))
        match = np.flatnonzero(np.isclose(own, written[0]).all(axis=1))
        assert match.size == 1
        refs.append(match[0])
    assert refs[0] == refs[1] == refs[2]


def additive(scale, factor=1.0):
    """The model's own class logit (or, on the probability scale, its tangent at x) as an
    explanation, times ``factor``."""
    flat = X.reshape(40, -1)
    sign = np.where(TARGET == 0, 1.0, -1.0)[:, None]
    values = np.zeros((40, 36))
    values[:, A], values[:, B] = 5 * sign * flat[:, A], -5 * sign * flat[:, B]
    logit = values.sum(axis=1)
    if scale == "probability":
        p = 1 / (1 + np.exp(-logit))
        values *= (p * (1 - p))[:, None]
    return Explanation(
        inputs=X,
        values=factor * values.reshape(X.shape),
        coefficients=np.zeros(X.shape),
        target=TARGET,
        baseline=0.0,
        model_logit=logit,
        surrogate_logit=logit,
        meta={"scale": scale},
    )


def test_heldout_error_reads_an_explanation_as_an_additive_model_off_the_input():
    # the class logit is exactly additive in the pixels: its own terms predict every deletion
    assert heldout_error(model, additive("logit"), random_state=1) < 1e-12
    assert heldout_error(model, additive("logit", 2.0), random_state=1) > 0.05
    # right at x (approximation_error 0) but linear in the probability: off by the curvature
    tangent = additive("probability")
    assert approximation_error(tangent) == 0.0
    assert heldout_error(model, tangent, random_state=1) > 0.05
    with pytest.raises(ValueError, match="meta\\['scale'\\] must be"):
        heldout_error(model, Explanation(**{**vars(tangent), "meta": {"scale": "odds"}}))


def test_a_probability_surrogate_past_1_is_measured_as_it_predicts(tmp_path):
    """LIME's linear fit said 1.09 where the model is sure: stored as a logit it was cut
    to 1, and its error at the input read 0 (0.09 is right); deletions were predicted
    from 1 instead of 1.09, and shap's base value was off by as much."""
    certain = np.full(40, 40.0)  # p = 1 to double precision
    sure = Explanation(
        **{
            **vars(additive("probability")),
            "model_logit": certain,
            "surrogate_logit": certain,
            "surrogate_output": None,  # derived: the sigmoid, 1
        }
    )
    past = Explanation(**{**vars(sure), "surrogate_output": np.full(40, 1.09)})
    assert approximation_error(past) == pytest.approx(0.09)
    assert approximation_error(sure) == 0.0  # the default: the logit's sigmoid
    cut = Explanation(**{**vars(past), "surrogate_output": np.ones(len(past))})
    assert heldout_error(model, past, random_state=1) != heldout_error(model, cut, random_state=1)
    # held out as at the input: predictions past 1 were cut to 1 there, and read 0 off
    flat = Explanation(
        **{**vars(past), "values": np.zeros_like(past.values), "target": np.ones(40, int)}
    )
    from scrutiny.models import ModelAdapter

    sure_model = ModelAdapter(
        lambda X: np.stack([np.zeros(len(X)), np.full(len(X), 40.0)], 1), outputs="logits"
    )
    assert heldout_error(sure_model, flat) == pytest.approx(0.09)
    past.save(tmp_path / "past")
    assert (Explanation.load(tmp_path / "past").surrogate_output == 1.09).all()
    pytest.importorskip("shap")
    with pytest.warns(UserWarning, match="shap's plots would mix them"):  # classes 0 and 1
        base = past.to_shap().base_values
    np.testing.assert_allclose(base, 1.09 - past.values.reshape(len(past), -1).sum(axis=1))


def test_augmentation_copies_no_filler_that_x_lacks():
    """x (class 0) has feature 0 and none of 1 and 2, its explanation names feature 0 only:
    its top 3 go on with 1 and 2, zeros in index order. Copied, those absences deleted the
    host's evidence for class 1 and turned it to class 0, as if the explanation had named
    them; elements it does rank (random ones, say) are copied, absent in x or not."""

    def rows(R):  # class 0 when feature 0 outweighs features 1 and 2
        p0 = 1 / (1 + np.exp(-5 * (R[:, 0] - R[:, 1] - R[:, 2])))
        return np.stack([p0, 1 - p0], axis=1)

    x = np.array([[1.0, 0.0, 0.0, 0.5, 0.5, 0.5]])
    host = np.array([[0.6, 0.8, 0.8, 0.0, 0.0, 0.0]])  # class 1: 0.6 < 1.6

    def named(values):
        values = np.array([values])
        return Explanation(inputs=x, values=values, coefficients=values, target=[0], baseline=0.0)

    assert augmentation(rows, named([3.0, 0, 0, 0, 0, 0]), host, ks=[1, 3]).tolist() == [
        [False],
        [False],
    ]
    assert augmentation(rows, named([3.0, 2, 1, 0, 0, 0]), host, ks=[1, 3]).tolist() == [
        [False],
        [True],
    ]


def test_donors_in_a_dataframe_are_matched_by_column_name():
    """Donors (and the protocol's negatives) of a table come by name, as the explainer takes
    rows: by position, columns in another order were silently scrambled."""
    pd = pytest.importorskip("pandas")
    names = [f"x{j}" for j in range(36)]
    rows = X.reshape(40, 36)
    e = explanation(True)
    values = e.values.reshape(40, 36)
    e = Explanation(
        inputs=rows,
        values=values,
        coefficients=values,
        target=e.target,
        baseline=0.0,
        meta={"feature_names": names},
    )
    donors = pd.DataFrame(rng.uniform(0.0, 0.4, size=(30, 36)), columns=names)
    in_order = augmentation(model, e, donors, ks=[3])
    np.testing.assert_array_equal(augmentation(model, e, donors[names[::-1]], ks=[3]), in_order)
    with pytest.raises(
        ValueError, match=r"donor's columns are not the fit data's: missing \['x0'\]"
    ):
        augmentation(model, e, donors.rename(columns={"x0": "y"}), ks=[3])


def test_the_protocols_chance_levels_are_in_the_images_unit():
    """The authors' random values (1.0, noise about 0.03) are pixels of [0, 1]: on images of
    0-255 they changed nothing, and every method's lead over chance looked larger. In the
    images' unit the chance levels are the same on both."""

    def model255(Z):
        return model(np.asarray(Z) / 255.0)

    X0 = class_zero(True).inputs.copy()
    X0.reshape(len(X0), -1)[0, 7] = 1.0  # the images' largest pixel is 1, i.e. 255
    ones = Explanation(**{**vars(class_zero(True)), "inputs": X0})
    scaled = Explanation(**{**vars(ones), "inputs": X0 * 255})
    a = paper_protocol(model, ones, NEGATIVES, k=3, n_boot=5)
    b = paper_protocol(model255, scaled, NEGATIVES * 255, k=3, n_boot=5)
    for test in ("random augmentation", "random synthetic"):
        np.testing.assert_array_equal(a[test], b[test])
    assert a["random augmentation"].mean() > 0  # a chance level, not a no-op
    given = paper_protocol(model255, scaled, NEGATIVES * 255, k=3, n_boot=5, noise=(7.65, 2.55))
    np.testing.assert_array_equal(given["random synthetic"], b["random synthetic"])  # as given


def test_nan_given_to_a_test_is_named_not_blamed_on_the_model():
    """NaN in donors, negatives, a baseline or random_value reached the model, whose
    'non-finite values' error was then blamed on it (or a model taking NaN ran on them);
    the errors of a random explanation, which has no surrogate, read NaN."""
    from scrutiny.baselines import random_explanation

    exp = additive("logit")
    donors = X.copy()
    donors[5, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"donors hold NaN or inf \(the first in row 5\)"):
        augmentation(model, exp, donors, ks=[3])
    one = exp[exp.target == 0]  # the protocol tests one class at a time
    with pytest.raises(ValueError, match="negatives hold NaN"):
        paper_protocol(model, one, donors, k=3, n_boot=2)
    with pytest.raises(ValueError, match="random_value must be a finite number"):
        paper_protocol(model, one, X, k=3, n_boot=2, random_value=np.nan)
    with pytest.raises(ValueError, match="baseline hold NaN or inf"):
        Explanation(**{**vars(exp), "baseline": np.nan})
    chance = random_explanation(exp)
    with pytest.raises(ValueError, match="random explanations have no surrogate output"):
        approximation_error(chance)
    with pytest.raises(ValueError, match="random explanations have no surrogate output"):
        heldout_error(model, chance)


def test_an_adapter_of_other_columns_is_refused_not_asked_under_its_names():
    """deduction(ex1.model, ex2's explanation), ex2 fitted on the columns in another order:
    the rows were read under ex1's names (a probability of 0.001 for 0.53, deletion 0.21
    for 2.66)."""
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    from scrutiny import Explainer

    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    clf = LogisticRegression().fit(df, (df.a > 0).astype(int))
    kw = {"mode": "local", "n_samples": 30, "random_state": 0, "progress": False}
    ex1, ex2 = Explainer(clf, df, **kw), Explainer(clf, df[["c", "b", "a"]], **kw)
    exp2 = ex2.explain(df.iloc[:4])
    with pytest.raises(ValueError, match="reads other columns or levels than the explanations'"):
        deletion(ex1.model, exp2, ks=(1,))
    np.testing.assert_array_equal(deletion(ex2.model, exp2, ks=(1,)), deletion(clf, exp2, ks=(1,)))


def test_a_rate_of_no_inputs_is_refused_not_nan():
    with pytest.raises(ValueError, match="outcomes must hold inputs"):
        pcr([])
    assert pcr([[True, False]]).tolist() == [0.5]


def test_names_given_to_show_are_not_columns_to_give_the_model():
    """Names given to an explanation of arrays, to show, became the columns the tests gave
    a model fitted on a DataFrame (an error), or other columns (names in another order)."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from scrutiny import Explainer

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=["age", "income", "debt"])
    clf = LogisticRegression().fit(frame, frame.age + frame.debt > 0)
    kw = {"surrogate": {"n_sweeps": 6, "n_components": 2}, "progress": False, "random_state": 0}
    exp = Explainer(clf, frame.to_numpy(), **kw).explain(frame.to_numpy()[:4])
    before = deduction(clf, exp, ks=[1, 2])
    for names in (["Age (years)", "Income ($)", "Debt ($)"], ["debt", "income", "age"]):
        shown = exp[:]
        shown.feature_names = names
        np.testing.assert_array_equal(deduction(clf, shown, ks=[1, 2]), before)


def test_a_deletion_at_k_depends_on_that_k_alone():
    """An infinite logit's bound was taken over every k asked for: the same removal of
    one feature dropped the logit by 1 with ks=(1,) and by 201 with ks=(1, 2, 3)."""
    from scipy.special import log_softmax

    def sure(Z):  # logit sum(x) - 500: at x, p(class 0) underflows to 0
        z = np.asarray(Z).reshape(len(Z), -1).sum(axis=1) - 500.0
        return np.exp(log_softmax(np.stack([np.zeros_like(z), z], axis=1), axis=1))

    x = np.array([[500.0, 500.0, 300.0, 0.0]])
    e = Explanation(
        inputs=x, values=x.copy(), coefficients=np.ones_like(x), target=[1], baseline=0.0
    )
    alone = deletion(sure, e, ks=(1,))[0]
    np.testing.assert_array_equal(deletion(sure, e, ks=(1, 2, 3))[0], alone)


def test_explanations_of_no_inputs_are_refused_by_every_test():
    """A selection of none (exp[exp.target == c] for a class no input has) failed in
    numpy's reshape, or read NaN (approximation_error)."""
    none = explanation(True)[TARGET == 7]
    for name, test in [
        ("deduction", lambda: deduction(model, none)),
        ("deletion", lambda: deletion(model, none)),
        ("synthetic", lambda: synthetic(model, none)),
        ("augmentation", lambda: augmentation(model, none, NEGATIVES)),
        ("stability", lambda: stability(none, none)),
        ("approximation_error", lambda: approximation_error(none)),
        ("heldout_error", lambda: heldout_error(model, none)),
        ("paper_protocol", lambda: paper_protocol(model, none, NEGATIVES, k=3)),
    ]:
        with pytest.raises(ValueError, match=f"^{name} got explanations of no inputs"):
            test()


def test_stability_compares_explanations_of_the_same_inputs_only():
    """Explanations of other inputs of the same shape were compared as if of the same."""
    a = explanation(True)
    b = Explanation(**{**vars(a), "inputs": a.inputs[::-1].copy()})
    assert stability(a, a, k=3) == 1.0
    with pytest.raises(ValueError, match="explanations of different inputs"):
        stability(a, b, k=3)


def test_paper_protocol_deduction_of_an_input_with_fewer_than_k_present_sets_only_those():
    """The authors' walk down the ranking ends with an input's present elements: those past
    them, at the baseline, got -0.5 x the reference's value (ink where there was none).
    Positives 0-4 hold pixels A only (weak ones: the reference, the surest, is another);
    k = 5 ranks pixels 3 and 4 (value 0) after A."""
    e = class_zero(True)
    flat = e.inputs.reshape(len(e), -1)
    flat[:5] = 0.0
    flat[:5, A] = 0.3
    seen = []

    def spy(Z):
        seen.append(np.array(Z).reshape(len(Z), -1))
        return model(Z)

    paper_protocol(spy, e, NEGATIVES, k=5, n_boot=1, share=1.0)
    (crafted,) = [Z for Z in seen if len(Z) == len(e) and (Z[:, A[0]] < 0).all()]
    sparse = (crafted[:, 5:] == 0).all(axis=1)  # positives 0-4, as crafted
    assert sparse.any() and not sparse.all()
    assert ((crafted[sparse] < 0).sum(axis=1) == 3).all()  # A only
    assert ((crafted[~sparse] < 0).sum(axis=1) == 5).all()


def test_the_tests_show_progress_and_craft_a_batch_at_a_time(capsys, monkeypatch):
    """They made every crafted input of a k at once (1,000 colour images of 224 x 224: 1.2
    GB a k) and said nothing for the half minute they took."""
    import scrutiny.fidelity as fidelity

    e = explanation()
    batches, crafted = [], []
    put = fidelity._put
    monkeypatch.setattr(fidelity, "_put", lambda h, c, s: crafted.append(len(c)) or put(h, c, s))

    def noted(rows):
        batches.append(len(rows))
        return model(rows)

    right = deduction(model, e, ks=[3, 6])
    crafted.clear()
    got = deduction(noted, e, ks=[3, 6], batch_size=16)
    np.testing.assert_array_equal(got, right)
    assert max(batches) <= 16 and sum(batches) == 40 + 2 * 40  # the start, then each k
    assert max(crafted) <= 16 and sum(crafted) == 2 * 40
    assert "deduction at 2 k: 100%" in capsys.readouterr().err
    synthetic(model, e, ks=[3], progress=False)
    deletion(model, e, ks=[3], progress=False)
    assert capsys.readouterr().err == ""
