"""scrutinize on a model whose weak spots are known: each class of 8x8 images is decided by
three pixels of its own, so nullifying those three must fool it, and transplanting them
(with the host's own class pixels) must turn a host into the class."""

import json
import re

import numpy as np
import pytest

from scrutiny import Explainer
from scrutiny.scrutinize import scrutinize

FAST = {"n_sweeps": 150, "n_components": 3}
OWN = [(9, 10, 11), (27, 28, 29), (50, 51, 52)]


def pixel_logits(X):
    X = np.asarray(X).reshape(len(X), -1)
    return np.stack([4.0 * X[:, list(p)].sum(axis=1) for p in OWN], axis=1)


def class_images(n, seed=0):
    """Dim random images (0-0.5) whose class's three pixels are bright (0.9-1.0)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(3, size=n)
    X = rng.uniform(0.0, 0.5, size=(n, 64))
    for c, p in enumerate(OWN):
        rows = np.flatnonzero(labels == c)
        X[np.ix_(rows, list(p))] = rng.uniform(0.9, 1.0, size=(rows.size, 3))
    return X.reshape(n, 8, 8), labels


@pytest.fixture(scope="module")
def fitted():
    X, _ = class_images(400)
    ex = Explainer(
        pixel_logits, X, outputs="logits", surrogate=FAST, random_state=0, progress=False
    )
    return ex.fit(), *class_images(300, seed=1)


def test_the_known_pixels_fool_the_model_and_random_ones_do_not(fitted):
    ex, X, labels = fitted
    s = scrutinize(ex, X, 1, labels=labels, ks=(1, 3, 6, 20))
    assert s.accuracy == 1.0
    np.testing.assert_array_equal(s.index, np.flatnonzero(labels == 1))
    a = s.adversarial
    # without its three pixels a class-1 image scores 0 against > 0: always misclassified
    assert a.rate[a.at(3)] == 1.0
    # 3 random pixels of 64 hit the 3 that matter with probability < 14%
    assert a.random_rate[a.at(3)] <= 0.3
    other = s.pathological["other classes"]
    # the host's own 3 pixels dimmed and class 1's 3 brightened: called 1, whatever the host
    assert other.rate[other.at(6)] >= 0.95
    assert other.random_rate[other.at(6)] <= 0.3
    assert (ex.model.predict(other.originals) != 1).all()
    noise = s.pathological["noise"]
    assert (ex.model.predict(noise.originals) != 1).all()  # hosts are noise not called 1
    # noise draws each element from its own column of X, so the model calls it 1 with a
    # probability P fixed by X: about 1/3 by the classes' symmetry, but not exactly (X has
    # 94 class-1 images of 300), so it is estimated from 20,000 such draws (sd <= 0.0035).
    # The rate counts at least len(s.index) draws (one round of hosts): sd <= 0.048, and
    # 4 sd of it plus 3 of P's is a 1-in-10^4 false alarm; a rate left at 0 is 0.3 off
    flat = X.reshape(len(X), -1)
    draws = np.random.default_rng(7).integers(len(X), size=(20_000, flat.shape[1]))
    P = np.mean(pixel_logits(np.take_along_axis(flat, draws, axis=0)).argmax(axis=1) == 1)
    sd = np.sqrt(P * (1 - P))
    assert abs(noise.untouched_rate - P) < 4 * sd / np.sqrt(len(s.index)) + 3 * sd / np.sqrt(20_000)
    assert noise.rate[-1] >= noise.random_rate[-1]


def test_crafted_inputs_change_only_k_elements_to_the_right_values(fitted):
    ex, X, labels = fitted
    s = scrutinize(ex, X, 0, labels=labels, ks=(3, 6))
    a = s.adversarial
    for random in (False, True):
        crafted = a.samples(6, random=random).reshape(len(s.index), -1)
        changed = crafted != a.originals.reshape(len(s.index), -1)
        assert (changed.sum(axis=1) == 6).all()  # every pixel of these images is non-zero
        assert (crafted[changed] == 0.0).all()  # set to the baseline
    # images go to the model as they are (a table's, with names: test_categories)
    np.testing.assert_array_equal(a.model_inputs(6), a.samples(6))
    for attack in s.pathological.values():
        donors = X[s.index].reshape(len(s.index), -1)
        for random in (False, True):
            crafted = attack.samples(6, random=random).reshape(len(s.index), -1)
            changed = crafted != attack.originals.reshape(len(s.index), -1)
            assert (changed.sum(axis=1) <= 6).all()
            np.testing.assert_array_equal(crafted[changed], donors[changed])
    with pytest.raises(ValueError, match="k=5 was not tested"):
        a.at(5)


def test_patterns_are_the_class_surrogate_components(fitted):
    ex, X, labels = fitted
    s = scrutinize(ex, X, 2, labels=labels, ks=(3,))
    reg = ex.surrogates_[2]
    assert s.patterns, "an occupied component is a pattern"
    weights = [p.weight for p in s.patterns]
    assert weights == sorted(weights, reverse=True)
    assert sum(p.n_inputs for p in s.patterns) == len(s.index)
    for p in s.patterns:
        assert p.coefficients.shape == (8, 8)
        assert p.size >= 1 and p.component in range(reg.coef_.shape[0])
        if p.n_inputs >= 5:
            assert set(OWN[2]) <= set(p.top(3)) | set(p.top(6))
            assert p.nullified.rate[0] == 1.0  # one mask, the class's pixels, fools them all
    d = s.to_dict()
    assert d["target"] == 2 and d["adversarial"]["rate"] == s.adversarial.rate.tolist()
    # a row per k: each attack's rate, then its random chance level, in attacks() order
    lines = s.summary().splitlines()
    assert lines[1].split() == ["k", *" ".join(s.attacks()).split()]
    row = lines[2]
    assert row.split()[0] == "3"
    shown = re.findall(r"(\d\.\d\d) \(random (\d\.\d\d)\)", row)
    assert shown == [(f"{a.rate[0]:.2f}", f"{a.random_rate[0]:.2f}") for a in s.attacks().values()]
    assert s.adversarial.rate[0] != s.adversarial.random_rate[0]  # so a swap would show


def test_same_seed_same_samples(fitted):
    ex, X, labels = fitted
    a = scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=30, random_state=5)
    b = scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=30, random_state=5)
    c = scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=30, random_state=6)
    gen = np.random.default_rng(5)  # a generator seeded alike draws alike
    d = scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=30, random_state=gen)
    for x, y in zip(a.attacks().values(), b.attacks().values(), strict=True):
        np.testing.assert_array_equal(x.samples(3, random=True), y.samples(3, random=True))
        np.testing.assert_array_equal(x.predictions, y.predictions)
    assert not np.array_equal(
        a.adversarial.samples(3, random=True), c.adversarial.samples(3, random=True)
    )
    for x, y in zip(a.attacks().values(), d.attacks().values(), strict=True):
        np.testing.assert_array_equal(x.samples(3), y.samples(3))


def test_blank_inputs_are_left_out_by_their_row_and_other_hosts_are_distinct(fitted):
    """A blank image (the model calls it class 0) stopped guided scrutiny of the class,
    named by its place among the class's inputs; hosts were drawn with replacement."""
    ex, X, _ = fitted
    X = X[:60].copy()
    X[30] = 0.0
    assert ex.model.predict(X[30:31])[0] == 0
    with pytest.warns(UserWarning, match=r"1 inputs of class 0 \(the first: row 30 of X\)"):
        s = scrutinize(ex, X, 0, ks=(1, 3), n_samples=40)
    assert 30 not in s.index
    hosts = s.pathological["other classes"].originals.reshape(len(s.index), -1)
    assert len(np.unique(hosts, axis=0)) == len(s.index)  # 40 others host ~20 inputs
    assert s.pathological["other classes"].n_hosts == len(s.index)
    assert "distinct hosts" not in s.summary()


def test_reused_hosts_are_counted_and_said(fitted):
    """Noise the model rarely leaves out of the class, and fewer other-class inputs than
    class inputs, host some samples several times: their rates and intervals counted each
    as an input of its own, unsaid."""
    ex, X, labels = fitted
    few = np.flatnonzero(labels != 1)[:4]  # 4 hosts for ~100 class-1 inputs
    keep = np.sort(np.r_[np.flatnonzero(labels == 1), few])
    said = r"other classes\) of class 1: 4 distinct hosts for \d+ samples"
    with pytest.warns(UserWarning, match=said):
        s = scrutinize(ex, X[keep], 1, labels=labels[keep], ks=(3,), mode="global")
    other = s.pathological["other classes"]
    assert other.n_hosts == 4 == len(np.unique(other.originals.reshape(len(s.index), -1), axis=0))
    assert other.to_dict()["n_hosts"] == 4
    assert f"other classes: 4 distinct hosts for {len(s.index)} samples" in s.summary()
    # a few short: every host used, only the shortfall twice (drawn with replacement once
    # the pool was one short, 22 hosts for 25 inputs were 15 distinct)
    short = np.flatnonzero(labels != 1)[: len(s.index) - 3]
    keep = np.sort(np.r_[np.flatnonzero(labels == 1), short])
    with pytest.warns(UserWarning, match=rf"{short.size} distinct hosts for {len(s.index)}"):
        s = scrutinize(ex, X[keep], 1, labels=labels[keep], ks=(3,), mode="global")


def test_a_legacy_random_state_and_a_whole_float_n_samples_are_taken(fitted):
    """Both as the Explainer takes them: guided transplants read the seed sequence of a
    RandomState's Generator (None) and crashed; n_samples=40.0 split into float rounds."""
    ex, X, labels = fitted
    a, b = (
        scrutinize(
            ex,
            X,
            2,
            labels=labels,
            max_inputs=4,
            n_samples=40.0,
            ks=(1, 3),
            random_state=np.random.RandomState(3),
        )
        for _ in range(2)
    )
    assert a.meta["n_samples"] == 40 and a.meta["explanation_mode"] == "guided"
    np.testing.assert_array_equal(
        a.pathological["noise"].samples(3), b.pathological["noise"].samples(3)
    )
    # and its record is JSON, as a report writes it after all the work (it raised there)
    from scrutiny._files import to_json

    assert set(json.loads(to_json(a.to_dict()))["meta"]["random_state"]) == {
        "entropy",
        "spawn_key",
    }


def test_without_labels_class_means_called(fitted):
    ex, X, _ = fitted
    s = scrutinize(ex, X, 0, ks=(3,), max_inputs=10)
    assert s.accuracy is None and len(s.index) == 10
    assert (pixel_logits(X[s.index]).argmax(axis=1) == 0).all()
    assert "10 inputs scrutinized, called it (no labels)" in s.summary()  # not "correctly"


def test_bad_requests_are_named(fitted):
    ex, X, labels = fitted
    with pytest.raises(ValueError, match="class 7 does not exist"):
        scrutinize(ex, X, 7)
    with pytest.raises(ValueError, match="labels has 5 entries"):
        scrutinize(ex, X, 0, labels=labels[:5])
    with pytest.raises(ValueError, match="no input of X is a correctly classified member"):
        scrutinize(ex, X[labels == 1], 0, labels=labels[labels == 1])
    with pytest.raises(ValueError, match="nothing to host"):
        scrutinize(ex, X[labels == 1], 1, labels=labels[labels == 1])
    # labelled otherwise but all called 1: "every input is class 1" was not so
    wrong = labels[labels == 1].copy()
    wrong[:5] = 0
    with pytest.raises(ValueError, match="the 5 inputs of X labelled other than class 1 are all"):
        scrutinize(ex, X[labels == 1], 1, labels=wrong)
    for bad in ("fast", "Guided"):  # numpy's KeyError, from deep inside
        with pytest.raises(
            ValueError, match=f"mode must be 'global', 'local' or 'guided', got '{bad}'"
        ):
            scrutinize(ex, X, 0, mode=bad)
    with pytest.raises(ValueError, match="n_samples is for local and guided mode"):
        scrutinize(ex, X, 0, mode="global", n_samples=60)  # recorded as taken
    with pytest.raises(ValueError, match="samples of shape"):
        scrutinize(ex, X.reshape(len(X), -1), 0)
    for bad in (0, 2.5, "3"):
        with pytest.raises(ValueError, match="max_inputs must be a positive number of inputs"):
            scrutinize(ex, X, 0, max_inputs=bad)
    with pytest.raises(ValueError, match="n_samples must be a positive number"):
        scrutinize(ex, X, 0, n_samples=25.5)
    for bad in (1.7, True, "b", [0, 1], np.nan, np.inf):  # was run as class 1, or int()'s
        with pytest.raises(TypeError, match="target must be one class"):
            scrutinize(ex, X, bad)
    size = int(np.prod(X.shape[1:]))  # a k past the input was dropped, unsaid
    with pytest.raises(ValueError, match=rf"between 1 and {size} .*got \[{size + 1}\]"):
        scrutinize(ex, X, 0, ks=(3, size + 1))


def test_samples_outside_the_kept_rankings_are_refused(fitted):
    ex, X, labels = fitted
    s = scrutinize(ex, X, 0, labels=labels, ks=(1, 3), max_inputs=5, mode="global")
    assert (s.adversarial.samples(2) != s.adversarial.originals).sum(axis=(1, 2)).max() <= 2
    for k in (0, 4):
        with pytest.raises(ValueError, match=r"outside the rankings kept: 1\.\.3"):
            s.adversarial.samples(k)
    for k in (2.7, True):  # 2.7 gave 2's samples, True 1's
        with pytest.raises(ValueError, match="k must be a whole number of elements"):
            s.adversarial.samples(k)
    with pytest.raises(TypeError, match="random must be True or False"):
        s.adversarial.samples(2, random="no")
    assert (
        json.loads(
            json.dumps(
                scrutinize(
                    ex, X, 0, max_inputs=2, random_state=np.int64(3), mode="global"
                ).to_dict()
            )
        )["meta"]["random_state"]
        == 3
    )


def test_local_explanations_keep_the_global_regimes_for_patterns(fitted):
    """A global explainer asked for local explanations: the patterns count the inputs of
    each global component by their global regime, not by a local fit's labels."""
    ex, X, labels = fitted
    a = scrutinize(ex, X, 0, labels=labels, max_inputs=6, mode="global")
    b = scrutinize(ex, X, 0, labels=labels, max_inputs=6, mode="local", n_samples=40)
    np.testing.assert_array_equal(a.regime.component, b.regime.component)
    assert [p.n_inputs for p in a.patterns] == [p.n_inputs for p in b.patterns]


def test_tabular_rows_and_their_report_sections():
    """Rows of a table: features are columns, the baseline is the training mean."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))

    def proba(X):  # class 1 when column 2 is high
        p = 1 / (1 + np.exp(-3.0 * X[:, 2]))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(proba, X, baseline=np.full(6, -1.0), surrogate=FAST, progress=False)
    s = scrutinize(ex, X[:200], 1, ks=(1, 2))
    # column 2 at the baseline -1 means class 0; a random column is column 2 one time in 6
    assert s.adversarial.rate[0] == 1.0 and s.adversarial.random_rate[0] < 0.4
    assert s.pathological["other classes"].rate[0] == 1.0  # column 2 carried over: class 1
    from scrutiny.weakness_report import class_table, scrutinize_classes, sections

    # six columns: k = 1, 2, 3; the headline k are a fifth and two fifths of the columns
    said = []
    scrutinies = scrutinize_classes(ex, X[:200], None, [1], say=said.append, mode="global")
    assert scrutinies[1].adversarial.ks == (1, 2, 3)
    assert "top-1 nullified fool" in said[0] and "top-2 transplanted fool" in said[0]
    assert "adversarial k=1" in class_table(scrutinies)
    parts = sections(s, ex, n_examples=3)
    headings = " ".join(h for h, _, _ in parts)
    assert "gallery" not in headings and "patterns" in headings  # no pictures of rows
    assert [name for _, _, images in parts for name, _ in images] == ["class_1_fooled.png"]
    # but the crafted rows listed, column by column (a table's report showed none of them)
    said = {h: text for h, text, _ in parts}
    lines = said[
        "Class 1: adversarial samples (top-1 columns nullified, beside as many random ones)"
    ]
    lines = lines.splitlines()
    assert len(lines) == 6  # 3 inputs, each with its random crafting below it
    x = s.adversarial.originals[0]
    row = s.index[0]  # by its row of X, as the explanations are named ("#row")
    assert lines[0] == f"input #{row}: column 2 {x[2]:.4g} -> -1; called 0 (fooled)"
    assert lines[1].startswith("  random: column ") and " -> -1; called " in lines[1]
    lines = said[
        "Class 1: pathological samples (top-2 columns of a class-1 input transplanted into "
        "other classes)"
    ].splitlines()
    host, donor = s.pathological["other classes"].originals[0], s.explanation.inputs[0]
    hosts = s.pathological["other classes"]
    np.testing.assert_array_equal(X[hosts.rows[0]], host)  # its row of X
    assert hosts.to_dict()["rows"] == hosts.rows.tolist()
    assert lines[0].startswith(f"host #{hosts.rows[0]}: ")
    assert lines[0].endswith("; called 1 (fooled)")
    assert f"column 2 {host[2]:.4g} -> {donor[2]:.4g}" in lines[0]
    patterns = next(text for h, text, _ in parts if "patterns" in h)
    assert " fit inputs, " in patterns and "fit rows" not in patterns
    # with perturbed copies, a component's size counts them: 400 inputs, 800 rows
    copied = Explainer(proba, X, fit_perturbations=1, surrogate=FAST, progress=False)
    s = scrutinize(copied, X[:200], 1, ks=(1, 2), mode="global")
    assert sum(p.size for p in s.patterns) == pytest.approx(800, abs=1)
    patterns = next(text for h, text, _ in sections(s, copied) if "patterns" in h)
    assert " fit rows (with copies), " in patterns and "fit inputs" not in patterns


def test_a_listed_change_tells_its_two_values_apart():
    """At 4 digits zip 94110 -> 94112 read "9.411e+04 -> 9.411e+04", and a level holding a
    comma or a line break could not be told from the next entry."""
    from scrutiny.weakness_report import _told_apart

    assert _told_apart(94110.0, 94112.0) == ("94110", "94112")
    assert _told_apart(250000.0, 250010.5) == ("2.5e+05", "2.5001e+05")  # 5 digits
    assert _told_apart(42.0312, 42.0349) == ("42.031", "42.035")
    assert _told_apart("ok", "good, cheap") == ("'ok'", "'good, cheap'")
    assert _told_apart("bad\nold", "ok")[0] == "'bad\\nold'"  # on one line
    assert _told_apart(True, False) == ("True", "False")


def test_a_tables_patterns_rank_what_pushes_toward_the_class_below_the_mean_too():
    """Class 0 of a binary model is class 1 mirrored: its regime's driver is column 0
    below its mean, a negative coefficient. Ranked by positive coefficients alone, the
    pattern nullified noise columns (fooling fewer than chance) and the report named them."""
    from scrutiny.weakness_report import _pattern_columns

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))

    def proba(X):  # class 1 when column 0 is above -0.5
        p = 1 / (1 + np.exp(-3.0 * (X[:, 0] + 0.5)))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(proba, X, surrogate=FAST, progress=False, random_state=0)
    labels = (X[:100, 0] > -0.5).astype(int)
    s = scrutinize(ex, X[:100], 0, labels=labels, ks=(1, 2), mode="global")
    pattern = s.patterns[0]
    assert pattern.coefficients[0] < 0 and pattern.toward[0] == -1
    assert pattern.nullified.rate[0] == 1.0  # column 0 at its mean: class 1
    assert _pattern_columns(pattern, ex).startswith("column 0 -")


def test_headline_k_is_the_issues_k_on_images_and_the_same_share_of_a_table():
    from scrutiny.scrutinize import ADVERSARIAL_K, PATHOLOGICAL_K, headline_k

    assert headline_k(784, ADVERSARIAL_K) == 20 and headline_k(784, PATHOLOGICAL_K) == 40
    assert headline_k(25, ADVERSARIAL_K) == 5 and headline_k(25, PATHOLOGICAL_K) == 10
    assert headline_k(64, ADVERSARIAL_K) == 10 and headline_k(64, PATHOLOGICAL_K) == 20
    assert headline_k(3, ADVERSARIAL_K) == headline_k(3, PATHOLOGICAL_K) == 1


def test_labels_of_a_scikit_learn_classifier_are_its_own_labels():
    """Labels such as strings are matched through classes_, not taken for columns."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.where(X[:, 2] > 0, "high", "low")  # classes_: ["high", "low"]
    ex = Explainer(LogisticRegression().fit(X, y), X, surrogate=FAST, progress=False)
    s = scrutinize(ex, X[:200], 0, labels=y[:200], mode="global")
    assert s.accuracy > 0.9
    assert (y[s.index] == "high").all()
    # reports name the class by its label too: "class 0" alone read as a label 0
    assert s.summary().startswith("class 0 (high): ") and "called class 0 (high)" in s.summary()
    assert s.to_dict()["target_name"] == "0 (high)"
    from scrutiny.weakness_report import sections

    said = dict((h, text) for h, text, _ in sections(s, ex))
    assert "predictions 0 (high): " in said["Class 0 (high): new predictions"]
    with pytest.raises(ValueError, match="not among the classifier's classes_"):
        scrutinize(ex, X[:200], 0, labels=np.full(200, "medium"), mode="global")


def test_a_dataframes_columns_are_matched_by_name():
    """Inputs to scrutinize with the columns in another order than the fit data's."""
    pd = pytest.importorskip("pandas")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"])
    y = (frame["c"] > 0).astype(int)
    clf = LogisticRegression().fit(frame, y)
    ex = Explainer(clf, frame, surrogate=FAST, progress=False)
    s = scrutinize(ex, frame[["d", "c", "b", "a"]][:200], 1, labels=y[:200], mode="global")
    assert s.accuracy > 0.9  # by position, column "c" would be read as "b"


def test_guided_perturbations_switch_each_feature_off_25_times_on_average():
    from scrutiny.scrutinize import _guided_samples

    def rows(present):
        Z = np.zeros((5, 784))
        Z[:, :present] = 1.0
        return Z

    # rates ~ U(0, 20 / n_present): each feature off n * 10 / n_present times on average
    assert _guided_samples(rows(150), 20) == 375
    assert _guided_samples(rows(400), 20) == 1000
    assert _guided_samples(rows(10), 20) == 300  # at least 300
    assert _guided_samples(rows(784), 20) == 1000  # at most 1,000


def test_designed_transplants_overrule_a_prior_that_ranks_the_right_pixels_last(fitted):
    """A class-1 donor's pixels into a host of class h: what makes the model call the host 1
    is its three class-1 pixels brightened and the host's three class-h pixels dimmed. A prior
    that ranks those six last (the gain of the class-1 pixels set below every other) must be
    overruled by the pair's own transplants: with 256 of them every one of the 64 elements is
    a candidate, and the model here is noiseless and, given which class leads, linear."""
    from scrutiny.scrutinize import _designed_transplants

    ex, X, labels = fitted
    donors = X[labels == 1][:30].reshape(30, -1)
    host_labels = labels[labels != 1][:30]
    hosts = X[labels != 1][:30].reshape(30, -1)
    decisive = [set(OWN[1]) | set(OWN[h]) for h in host_labels]
    wrong = np.where(np.isin(np.arange(64), OWN[1]), -1.0, 0.0) * np.ones((30, 1))
    assert all(not set(np.argsort(-g, kind="stable")[:6]) & set(OWN[1]) for g in wrong)
    seed = np.random.SeedSequence(0)
    top = _designed_transplants(ex, donors, hosts, wrong, 1, 256, 6, seed)
    assert [set(t) for t in top] == decisive
    again = _designed_transplants(ex, donors, hosts, wrong, 1, 256, 6, np.random.SeedSequence(0))
    np.testing.assert_array_equal(top, again)


def test_random_features_change_as_many_elements_as_the_explained_ones():
    """Half of the pixels at the baseline: a top-k that ranks some of them changes fewer
    than k elements, and its chance level must change as many, not k, or random features
    get more of the input to work with (a pattern's one mask hit about half as many)."""
    X, labels = class_images(400, seed=2)
    X = np.where(np.random.default_rng(3).random(X.shape) < 0.5, 0.0, X)
    for c, p in enumerate(OWN):  # the class's own pixels stay bright
        X[np.ix_(labels == c, [q // 8 for q in p], [q % 8 for q in p])] = 0.95
    ex = Explainer(
        pixel_logits, X, outputs="logits", surrogate=FAST, random_state=0, progress=False
    )
    s = scrutinize(ex, X, 1, labels=labels, ks=(3, 20, 40), mode="global")
    attacks = [*s.attacks().values(), *(p.nullified for p in s.patterns if p.nullified)]
    fewer = 0
    for a in attacks:
        o = a.originals.reshape(len(a.originals), -1)
        for k in a.ks:
            top = (a.samples(k).reshape(len(o), -1) != o).sum(axis=1)
            rand = (a.samples(k, random=True).reshape(len(o), -1) != o).sum(axis=1)
            np.testing.assert_array_equal(rand, top, err_msg=f"{a.name}, k={k}")
            fewer += int((top < k).sum())
    assert fewer > 0  # the case in question arose


def test_rate_intervals_are_wide_for_few_inputs(fitted):
    """Three inputs all fooled is no certainty: the Wilson interval of 3 of 3 is [0.44, 1]
    (a percentile bootstrap said [1, 1]); 0 of 1 is [0, 0.79]."""
    ex, X, labels = fitted
    s = scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=3, mode="global")
    d = s.adversarial.to_dict()
    assert d["rate"] == [1.0]
    np.testing.assert_allclose(d["rate_interval"], [[0.438], [1.0]], atol=1e-3)
    from scrutiny.scrutinize import wilson_interval

    (lo,), (hi,) = wilson_interval([[False]])
    assert lo == 0.0 and hi == pytest.approx(0.793, abs=1e-3)
    # many inputs: close to the normal approximation, p +- 1.96 sqrt(p (1 - p) / n)
    (lo,), (hi,) = wilson_interval(np.arange(1000) < 300)
    assert lo == pytest.approx(0.3 - 0.0284, abs=2e-3)
    assert hi == pytest.approx(0.3 + 0.0284, abs=2e-3)


def test_a_model_that_calls_all_noise_the_class_is_scrutinized_without_noise_hosts():
    """An anomaly detector calls every row of column-wise noise an anomaly (its redundant
    sensors disagree): the noise attack has no host, and the other attacks, which need
    none, go on (the whole scrutiny was refused), in the report too."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 1)) + 0.02 * rng.normal(size=(300, 6))
    X[:40, 3] += 2.0  # 40 faulty readings

    def disagree(R):
        spread = np.ptp(np.asarray(R), axis=1)
        p = 1 / (1 + np.exp(-(10 * spread - 5)))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(disagree, X, surrogate=FAST, random_state=0, progress=False)
    with pytest.warns(
        UserWarning, match=r"calls every noise input drawn \(1000\) class 1 untouched"
    ):
        s = scrutinize(ex, X, 1, ks=(1, 2), mode="global")
    assert list(s.pathological) == ["other classes"] and s.adversarial.rate[0] > 0.3
    assert "noise: every noise input drawn is called 1 untouched" in s.summary()
    from scrutiny.weakness_report import class_table

    assert class_table({1: s}).splitlines()[-1].endswith("-")
    json.dumps(s.to_dict())


def test_noise_the_model_rarely_calls_another_class_still_hosts_samples():
    """One scrutinized input drew 10 noise rows in all: a model that calls 94.5% of noise
    class 1 lost the noise attack in most seeds, and was said to call all noise class 1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))

    def proba(R):  # class 0 only where column 0 is above 1.6: 5.5% of rows and of noise
        p = 1 / (1 + np.exp(-20 * (1.6 - np.asarray(R)[:, 0])))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(proba, X, surrogate=FAST, random_state=0, progress=False)
    for seed in range(10):  # each lost it with probability 0.945^10 = 0.57 before
        s = scrutinize(ex, X, 1, ks=(1, 2), mode="global", max_inputs=1, random_state=seed)
        noise = s.pathological["noise"]
        assert (ex.model.predict(noise.originals) != 1).all()
        # 0.94 of 100 draws or more (sd 0.023); of one draw it read 0 or 1
        assert 0.85 < noise.untouched_rate < 1


def test_a_gallery_draws_an_input_and_its_changed_copies_on_one_grey_scale(fitted):
    """Each picture on its own scale, a copy that lost its brightest pixels was stretched
    to full contrast and looked nothing like the input it differs from in 3 pixels; the
    classes are named as the model names them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scrutiny.weakness_report import _adversarial_gallery, _pathological_gallery

    ex, X, labels = fitted
    s = scrutinize(ex, X, 0, labels=labels, ks=(3,), max_inputs=2, mode="global")
    seen = []
    subplots = plt.subplots

    def keep(*args, **kwargs):
        fig, axes = subplots(*args, **kwargs)
        seen.append(axes)
        return fig, axes

    plt_spy = type("P", (), {"subplots": staticmethod(keep)})
    for gallery in (_adversarial_gallery, _pathological_gallery):
        gallery(s, 2, plt_spy, lambda c: f"{c} (named)")
    for axes in seen:
        for row in axes:
            pictures = [ax for ax in row if ax.get_title() != "contributions"]
            assert len(pictures) >= 3 and len({ax.images[0].get_clim() for ax in pictures}) == 1
    assert seen[0][0, 0].get_title() == "input: class 0 (named)"
    assert "(named)" in seen[0][0, 2].get_title()
    plt.close("all")
    from scrutiny.weakness_report import sections

    headings = [h for h, _, _ in sections(s, ex, n_examples=0)]  # failed in matplotlib
    assert headings and not any("gallery" in h for h in headings)
    with pytest.raises(ValueError, match="n_examples must be a whole number, 0 or more"):
        sections(s, ex, n_examples=-1)
    assert sections(s, ex, n_examples=np.int64(0))  # numpy's whole numbers too


def test_an_input_in_a_regime_under_one_fit_row_keeps_its_pattern(fitted, monkeypatch):
    """Patterns skipped components under one fit row's weight, and the inputs in them with
    them (17 of 54 outlying digits were in no pattern, and nothing said so)."""
    ex, X, labels = fitted
    sizes = ex.surrogates_[0].component_sizes_
    thin = int(np.argmin(sizes))
    assert sizes[thin] < 1
    explain = ex.explain

    def in_thin_regime(*args, **kwargs):  # as an outlying input is assigned
        exp = explain(*args, **kwargs)
        exp.component[0] = thin
        return exp

    monkeypatch.setattr(ex, "explain", in_thin_regime)
    s = scrutinize(ex, X, 0, labels=labels, ks=(3,), mode="global", max_inputs=20)
    assert sum(p.n_inputs for p in s.patterns) == len(s.index)
    assert thin in [p.component for p in s.patterns]
    assert all(p.size >= 1 or p.n_inputs for p in s.patterns)  # no empty thin one


def test_the_record_replays_a_run_seeded_by_a_used_generator_and_names_its_samples(fitted):
    """A Generator that had drawn was recorded by its seed, which gave other random
    features; a local explainer's perturbation count was recorded as None."""
    ex, X, labels = fitted
    gen = np.random.default_rng(5)
    gen.random(3)
    kw = {"labels": labels, "ks": (3,), "max_inputs": 10}
    a = scrutinize(ex, X, 1, random_state=gen, **kw)
    seed = a.meta["random_state"]
    again = np.random.default_rng(
        np.random.SeedSequence(seed["entropy"], spawn_key=seed["spawn_key"])
    )
    again.bit_generator.state = seed["state"]
    b = scrutinize(ex, X, 1, random_state=again, **kw)
    np.testing.assert_array_equal(
        a.adversarial.samples(3, random=True), b.adversarial.samples(3, random=True)
    )
    assert a.meta["n_samples"] > 0  # guided: the designed count
    local = Explainer(pixel_logits, X[:5], outputs="logits", mode="local", n_samples=60)
    s = scrutinize(local, X, 1, labels=labels, ks=(3,), max_inputs=2)
    assert s.meta["n_samples"] == 60


def test_a_negative_seed_is_refused_by_name(fitted):
    ex, X, labels = fitted
    with pytest.raises(ValueError, match="random_state must be a non-negative int"):
        scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=2, random_state=-1)


def test_a_patterns_top_takes_a_count_of_at_least_one(fitted):
    """top(-1) gave every element but the last, top(0) none."""
    ex, X, labels = fitted
    p = scrutinize(ex, X, 1, labels=labels, ks=(3,), max_inputs=4, mode="global").patterns[0]
    assert len(p.top(3)) == 3
    for bad in (-1, 0, 2.5):
        with pytest.raises(ValueError, match="k must be"):
            p.top(bad)


def test_an_attacks_crafted_inputs_go_to_the_model_in_full_batches():
    """Two calls per k of a few dozen inputs each: a model behind a network paid for each.
    Every k's crafting and its random counterpart now share full batches, each made once."""
    from scrutiny.models import ModelAdapter
    from scrutiny.scrutinize import _attack

    rng = np.random.default_rng(0)
    rows = rng.normal(size=(10, 3))
    made = []

    def craft(k, random):
        made.append((k, random))
        out = rows.copy()
        out[:, 0] += k * (-1 if random else 1)
        return out

    def softmax3(x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    model = ModelAdapter(softmax3, batch_size=1000)
    attack = _attack(model, "test", (1, 2, 3), rows, craft, lambda p: p == 0, 3)
    assert model.n_calls == 1 and sorted(made) == [(k, r) for k in (1, 2, 3) for r in (0, 1)]
    for i, k in enumerate((1, 2, 3)):
        np.testing.assert_array_equal(attack.predictions[i], softmax3(craft(k, False)).argmax(1))
        np.testing.assert_array_equal(
            attack.random_predictions[i], softmax3(craft(k, True)).argmax(1)
        )


def test_every_listed_regime_gets_its_heat_map(fitted):
    """The heading promises the top coefficients of each regime: those holding no
    scrutinized input were listed but not pictured."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scrutiny.weakness_report import _patterns_section

    ex, X, labels = fitted
    s = scrutinize(ex, X, 2, labels=labels, ks=(3,), mode="global")
    s.patterns[0].n_inputs = 0  # as a regime of fit rows only
    _, text, pictures = _patterns_section(s, "2", True, plt, ex)
    assert [name for name, _ in pictures] == [
        f"class_2_pattern_{p.component}.png" for p in s.patterns
    ]
    assert text.count("component ") == len(s.patterns)


def test_rows_of_few_columns_are_perturbed_at_the_explainers_own_rates():
    """Four columns: the headline k of 1 let each perturbation switch one column off, so
    60 draws held 5 distinct rows and the local mixture read effects of 3 nats as 0.06
    (a regime per output). With fewer distinct perturbations than draws, scrutinize
    explains as explain() does; 25 columns keep the headline scale (5 off)."""
    rng = np.random.default_rng(0)

    def logistic(X):
        p = 1 / (1 + np.exp(-(X[:, 0] + X[:, 1]) * 2.0))
        return np.stack([1 - p, p], axis=1)

    X = rng.normal(size=(80, 4))
    ex = Explainer(logistic, X, mode="local", n_samples=60, random_state=0, progress=False)
    found = scrutinize(ex, X, 0, max_inputs=10)
    assert found.meta["max_off"] is None
    again = ex.explain(X[found.index], target=0)
    np.testing.assert_array_equal(found.explanation.values, again.values)
    wide = rng.normal(size=(80, 25))
    ex = Explainer(logistic, wide, mode="local", n_samples=60, random_state=0, progress=False)
    assert scrutinize(ex, wide, 0, max_inputs=3).meta["max_off"] == 5
    # guided mode draws 300 or more: 14 columns, 2 off, hold 106 distinct (it compared
    # them with local mode's 100)
    narrow = rng.normal(size=(200, 14))
    ex = Explainer(logistic, narrow, surrogate={"n_sweeps": 20}, random_state=0, progress=False)
    found = scrutinize(ex, narrow, 0, ks=[1, 2], max_inputs=2)
    assert found.meta["max_off"] is None and found.meta["n_samples"] == 100


def test_results_pickle_and_say_themselves_in_a_line(fitted):
    """Each attack's craft was a closure: a multiprocessing.Pool could not send the results
    back ("Can't pickle local object"), and the error it raised held their repr, 240 KB of
    arrays for 28 x 28 images."""
    import pickle

    ex, X, labels = fitted
    s = scrutinize(ex, X, 1, labels=labels, ks=(1, 3, 6))
    back = pickle.loads(pickle.dumps(s))
    attacks = {**s.attacks(), **{i: p.nullified for i, p in enumerate(s.patterns)}}
    attacks_back = {**back.attacks(), **{i: p.nullified for i, p in enumerate(back.patterns)}}
    assert any(a is not None for a in list(attacks.values())[3:])  # a pattern's too
    for name, attack in attacks.items():
        if attack is None:
            continue
        for random in (False, True):
            assert np.array_equal(attacks_back[name].samples(3, random), attack.samples(3, random))
        np.testing.assert_array_equal(attacks_back[name].rate, attack.rate)
    shown = repr(s)
    assert len(shown) < 600 and "\n" not in shown
    assert shown.startswith("Scrutiny(target=1, inputs=") and "'adversarial': [" in shown
    assert len(repr(s.patterns[0])) < 400 and len(repr(s.adversarial)) < 200
