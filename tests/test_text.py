"""Texts: word rows that give the text back exactly, local explanations of a model of
strings, LIME's text explainer on the same removals, and the real food reviews."""

import itertools
import json
import os
import re
import unicodedata

import numpy as np
import pytest

from scrutiny import Explainer, TextEncoder
from scrutiny.datasets import load_food_reviews
from scrutiny.datasets.reviews import DEFAULT_DIR
from scrutiny.fidelity import augmentation, deduction
from scrutiny.models import ModelError
from scrutiny.text import pieces

TRICKY = [
    "  I really loved this great product!",
    "awful taste, never again.",
    "Don't buy it -- café au lait\nwas flat;   sad ",
    "great",
    "...",  # no word: a row of zeros
]
WEIGHTS = {"great": 2.0, "awful": -3.0, "loved": 0.5}


def word_model(texts):
    """Logistic in the presence of three words: the effect of removing one is its weight."""
    logit = np.array([sum(WEIGHTS.get(w, 0.0) for w in re.findall(r"\w+", t)) for t in texts])
    p = 1.0 / (1.0 + np.exp(-(logit - 1.0)))
    return np.column_stack([1.0 - p, p])


def local_explainer(texts, n_samples):
    """(encoder, rows of ``texts``, a seeded local explainer of ``word_model`` on them)."""
    enc = TextEncoder()
    X = enc.encode(texts)
    ex = Explainer(
        enc.wrap(word_model),
        X,
        mode="local",
        representation="tokens",
        n_samples=n_samples,
        random_state=0,
        progress=False,
    )
    return enc, X, ex


def test_rows_give_every_text_back_exactly_and_switching_off_removes_the_word():
    enc = TextEncoder()
    X = enc.encode(TRICKY)
    assert enc.decode(X[:4]) == TRICKY[:4] and enc.decode(X[4:]) == [""]  # no word, no piece
    assert X.shape == (5, max(len(pieces(t)) for t in TRICKY)) and not X[4].any()
    assert enc.words(X[2])[:4] == ["Don", "t", "buy", "it"]
    assert "".join(pieces(TRICKY[0])) == TRICKY[0]
    off = X[1].copy()
    off[1] = 0  # "taste, "
    assert enc.decode(off[None]) == ["awful never again."]
    again = enc.encode(["awful taste, great"])  # known pieces keep their ids
    assert (
        enc.decode(again) == ["awful taste, great"] and (again[0, :3] == [*X[1, :2], X[3, 0]]).all()
    )
    assert enc.decode(enc.encode(["new words!"])) == ["new words!"]  # after a decode: grown


def test_any_row_of_pieces_decodes_as_its_pieces_joined_with_a_space_between_two_words():
    """Rows the fidelity tests and perturbations make, pieces of several texts in any
    order with any switched off, against the rule written plainly, piece by piece."""
    enc = TextEncoder(length=12)
    enc.encode([*TRICKY, "नमस्ते दुनिया", "I \u2764\ufe0fyou", "x \u0301abc", "a-b c"])
    table = enc._pieces

    def ends_in_word(text):  # a word's combining marks are part of it
        marks = "".join(c for c in text if unicodedata.category(c)[0] == "M")
        return re.match(r"\w", text.rstrip(marks)[-1:]) is not None

    def emoji_at(char):
        return unicodedata.category(char) == "So"

    def ends_in_emoji(text):  # an emoji's marks, joiners and skin tones are part of it
        parts = "".join(c for c in text if unicodedata.category(c)[0] == "M")
        parts += "\u200d" + "".join(map(chr, range(0x1F3FB, 0x1F400)))
        return emoji_at(text.rstrip(parts)[-1:] or " ")

    def plainly(ids):
        out, last = [], None
        for at in np.flatnonzero(ids):
            j = ids[at]
            if out and ends_in_word(out[-1]) and re.match(r"\w", table[j]):
                out.append(" ")
            elif out and ends_in_emoji(out[-1]) and emoji_at(table[j][0]):  # two emoji
                out.append(" ")
            elif out and at > last + 1 and not out[-1][-1].isspace():  # words left out
                c = out[-1][-1]
                if unicodedata.category(c)[0] != "P" or unicodedata.east_asian_width(c) not in "WF":
                    out.append(" ")  # none after wide punctuation
            out.append(table[j])
            last = at
        return "".join(out)

    rows = np.random.default_rng(0).integers(0, len(table), size=(500, 12))
    rows[rows < 6] = 0  # about a quarter of the positions switched off
    assert enc.decode(rows) == [plainly(r) for r in rows]


def test_a_word_with_combining_marks_is_one_word():
    """Python's \\w has no combining marks: Devanagari and Thai vowel signs, or an accent
    typed apart, cut one word into pieces (and removing one left the marks behind)."""
    enc = TextEncoder()
    texts = ["नमस्ते दुनिया", "ข้าวอร่อย มาก", "cafe\u0301 great"]
    X = enc.encode(texts)
    assert enc.decode(X) == texts
    marked = ["I \u2764\ufe0fyou", "x \u0301abc"]  # a mark after no word: no space added
    other = TextEncoder()
    assert other.decode(other.encode(marked)) == marked
    assert other.words(other.encode(marked)[0]) == ["I", "\u2764\ufe0f", "you"]  # a heart
    assert [enc.words(row)[:2] for row in X] == [
        ["नमस्ते", "दुनिया"],
        ["ข้าวอร่อย", "มาก"],
        ["cafe\u0301", "great"],
    ]
    off = X.copy()
    off[:, 0] = 0
    assert enc.decode(off) == ["दुनिया", "มาก", "great"]


def test_emoji_are_words_and_a_word_left_out_never_fuses_its_neighbours(tmp_path):
    """A smile joined the word before it, which then took the smile's effect (5.9 to "meal"
    from a model whose "meal" weighs 0.09). Without "t", "i don't like it" went to the
    model as "i don'like it", which loses "like" to one that splits on spaces."""
    family, thumb = "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\U0001f44d\U0001f3fd"
    texts = ["the meal \U0001f600 was nice", "i don't like it", f"a family {family} {thumb} ok"]
    enc = TextEncoder()
    X = enc.encode(texts)
    assert enc.decode(X) == texts
    assert enc.words(X[0])[:3] == ["the", "meal", "\U0001f600"]
    assert enc.words(X[2])[2:4] == [family, thumb]  # one word each, joiners and tone kept
    off = X.copy()
    off[0, 1] = 0  # "meal" off, the smile kept
    off[1, 2] = 0  # "t" off
    assert enc.decode(off[:2]) == ["the \U0001f600 was nice", "i don' like it"]
    wide = TextEncoder()  # no space is put in a text written without them
    row = wide.encode(["我爱北京\uff0c天安门很大\u3002你好"])  # full-width comma and stop
    row[0, 1] = 0
    assert wide.decode(row) == ["我爱北京\uff0c你好"]
    emoji = TextEncoder()  # an emoji is wide too, but a word: the space stays
    row = emoji.encode(["so great\U0001f600and loved it"])
    row[0, 3] = 0
    assert emoji.decode(row) == ["so great\U0001f600 loved it"]
    # a row mixing texts (augmentation): a text's last emoji before another's first made
    # one word of two; a word before an emoji, or after one, stays as it is
    mixed = TextEncoder(4)
    ends, starts = mixed.encode(["nice \U0001f600", "\U0001f44d ok"])
    text = mixed.decode([[ends[0], ends[1], starts[0], starts[1]]])[0]
    assert text == "nice \U0001f600 \U0001f44d ok" and len(pieces(text)) == 4
    assert mixed.decode(mixed.encode(["ok\U0001f600ok", "\U0001f600ok"])) == [
        "ok\U0001f600ok",
        "\U0001f600ok",
    ]
    # an encoder saved before emoji were words loads, its pieces as they were
    (tmp_path / "old.json").write_text(
        json.dumps(
            {"format": "scrutiny.text-encoder/1", "length": 3, "pieces": ["meal \U0001f600 "]}
        )
    )
    old = TextEncoder.load(tmp_path / "old.json")
    assert old.decode(np.array([[1, 0, 0]])) == ["meal \U0001f600 "]
    (tmp_path / "older.json").write_text(
        json.dumps(
            {"format": "scrutiny.text-encoder/1", "length": 3, "pieces": ["\U0001f600 great "]}
        )
    )
    assert TextEncoder.load(tmp_path / "older.json").words([1, 0, 0])[0] == "great"  # as then


def test_encoder_refuses_what_it_cannot_encode_whole():
    enc = TextEncoder(length=3)
    with pytest.raises(ValueError, match="text 1 has 4 words, more than the 3"):
        enc.encode(["one two", "one two three four"])
    with pytest.raises(TypeError, match="list of texts"):
        enc.encode("one text")
    with pytest.raises(TypeError, match="text 0 is a float, not a str"):
        enc.encode([3.5])
    # one bytes text was read as a list of ints, a dict as its keys, a gap was not placed
    with pytest.raises(TypeError, match=r"list of texts \(str\); wrap one text"):
        enc.encode(b"good food")
    with pytest.raises(TypeError, match="not a mapping"):
        enc.encode({"a": "good"})
    with pytest.raises(TypeError, match="text 2 is a NoneType"):
        enc.encode(["a", "b", None])
    with pytest.raises(TypeError, match="text 1 is a bytes, not a str: decode it first"):
        enc.encode(["a", b"b"])
    with pytest.raises(ValueError, match="not ids of this encoder"):
        enc.decode(np.array([[1.5, 0, 0]]))
    with pytest.raises(ValueError, match=r"expected rows \(n, 3\)"):
        enc.decode(np.zeros((2, 4)))
    from sklearn.dummy import DummyClassifier

    with pytest.raises(TypeError, match=r"got a DummyClassifier: wrap its predict_proba"):
        enc.wrap(DummyClassifier())  # it printed the estimator's repr, lines of it
    with pytest.raises(ValueError, match="length must be a positive int or None, got True"):
        TextEncoder(length=True)  # was length 1
    _, X, ex = local_explainer(["great food", "bad food"], 20)
    exp = ex.explain(X[:1])
    with pytest.raises(TypeError, match=r"pass texts as the rows of the TextEncoder"):
        augmentation(word_model, exp, ["bad food"])  # check_inputs was the advice


def test_local_mode_finds_the_exact_effect_of_removing_each_word():
    enc, X, ex = local_explainer(TRICKY[:4], n_samples=300)
    exp = ex.explain(X)
    # the model is additive in the words' presence with no noise: each fit recovers the
    # effects up to its posterior spread, which a noise-free response makes tiny (0.05 is
    # over ten times what the fits show, and a twentieth of the smallest effect)
    for i in range(4):
        words = enc.words(X[i])
        sign = 1.0 if exp.target[i] == 1 else -1.0
        for j, word in enumerate(words):
            expected = sign * WEIGHTS.get(word, 0.0) if word else 0.0
            assert exp.values[i, j] == pytest.approx(expected, abs=0.05), (i, word)
    assert [enc.words(X[i])[exp.top(1)[i, 0]] for i in (0, 1, 3)] == ["great", "awful", "great"]
    assert exp.meta["model_queries"] == 4 + 4 * 300  # the targets' query, then the samples
    # removing the top word of texts 0 and 3 changes their class (logit 1.5 and 1 to -0.5
    # and -1), as their explanations say
    assert not deduction(enc.wrap(word_model), exp[[0, 3]], ks=[1]).any()


def test_a_text_is_explained_alike_whatever_the_encoder_met_before_and_however_padded():
    """Its perturbations were seeded by its row of ids: another text encoded first gave
    its words other ids, and a longer text beside it more trailing zeros, and so other
    explanations from the same seed (the top word changed)."""
    text = TRICKY[0]
    rows = []
    for corpus in ([text], [*TRICKY[1:4], text], [text, TRICKY[2]]):
        enc, X, ex = local_explainer(corpus, n_samples=60)
        row = X[corpus.index(text)]
        rows.append(row)
        exp = ex.explain(row[None])
        values = zip(exp.values[0], exp.lower[0], exp.upper[0], strict=True)
        words = enc.words(row)
        if len(rows) == 1:
            first = dict(zip(words, values, strict=True))
        else:
            kept = {w: v for w, v in zip(words, values, strict=True) if w}
            # the same draws, to the last bit (a value, and then an interval's end, was its
            # coefficient per unit of id times the id: one in the last place with other ids)
            assert kept == first
    assert not np.array_equal(rows[0], rows[1][: rows[0].size])  # other ids
    assert rows[2].size > rows[0].size  # padded


def test_a_wrapped_method_is_checked_as_the_estimator_it_belongs_to():
    """A text regressor's predict, wrapped, was explained as class probabilities (its
    values in [0, 1]); a classifier's predict_proba names its classes as the pipeline."""
    pytest.importorskip("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline

    texts = [t for t in TRICKY if re.search(r"\w", t)] * 3
    enc = TextEncoder()
    X = enc.encode(texts)
    y = np.arange(len(texts)) % 2
    reg = make_pipeline(TfidfVectorizer(), Ridge()).fit(texts, y / 2 + 0.2)
    with pytest.raises(ValueError, match="a Pipeline is a regressor"):
        Explainer(enc.wrap(reg.predict), X, mode="local")
    clf = make_pipeline(TfidfVectorizer(), LogisticRegression()).fit(
        texts, np.where(y, "pos", "neg")
    )
    with pytest.raises(ValueError, match="returns class labels"):
        Explainer(enc.wrap(clf.predict), X, mode="local")
    ex = Explainer(enc.wrap(clf.predict_proba), X, mode="local")
    assert list(ex.model.classes_) == ["neg", "pos"]
    # given unwrapped, as LIME's own lime_text takes it: a crash inside scikit-learn, which
    # now points to encoder.wrap (from the explainer, lime_text and the fidelity tests)
    from scrutiny.baselines import lime_text

    exp = ex.explain(X[:1], n_samples=20)
    hint = r"AttributeError .*rows of token ids: .*encoder\.wrap\(model\)"
    for call in (
        lambda: Explainer(clf.predict_proba, X, mode="local", representation="tokens")(X[:1]),
        lambda: lime_text(clf.predict_proba, X[:1], enc, num_samples=20, progress=False),
        lambda: deduction(clf.predict_proba, exp),
    ):
        with pytest.raises(ModelError, match=hint):
            call()


def test_tokens_are_refused_outside_local_mode():
    enc = TextEncoder()
    X = enc.encode(TRICKY[:2])
    for mode in ("global", "guided"):
        with pytest.raises(ValueError, match="mode='local'"):
            Explainer(enc.wrap(word_model), X, mode=mode, representation="tokens")
    with pytest.raises(ValueError, match="baseline is 0"):
        Explainer(enc.wrap(word_model), X, mode="local", representation="tokens", baseline=3)
    ex = Explainer(enc.wrap(word_model), X, mode="local", representation="tokens")
    with pytest.raises(ValueError, match="equals the baseline everywhere"):
        ex.explain(enc.encode(["..."]))


def test_a_wrapped_model_is_explained_by_its_words_without_being_told():
    """Its rows of word ids were a table of numbers about their mean: global mode ran and
    ranked "great" last. The encoder's model takes tokens, refused outside local mode."""
    enc = TextEncoder()
    X = enc.encode(TRICKY[:2])
    assert Explainer(enc.wrap(word_model), X, mode="local").representation.kind == "tokens"
    with pytest.raises(ValueError, match="mode='local'"):
        Explainer(enc.wrap(word_model), X)
    with pytest.raises(ValueError, match="representation='tokens', not 'tabular'"):
        Explainer(enc.wrap(word_model), X, mode="local", representation="tabular")


def test_lime_text_removes_the_same_words_and_finds_the_decisive_one():
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_text

    enc = TextEncoder()
    X = enc.encode(TRICKY[:2])
    exp = lime_text(enc.wrap(word_model), X, enc, num_samples=200, progress=False)
    assert [enc.words(X[i])[exp.top(1)[i, 0]] for i in range(2)] == ["great", "awful"]
    assert exp.meta["model_queries"] == 2 * 200 and exp.meta["scale"] == "probability"
    assert not exp.values[:, (X == 0).all(axis=0)].any()  # nothing past the texts' ends
    again = lime_text(enc.wrap(word_model), X, enc, num_samples=200, progress=False)
    np.testing.assert_array_equal(exp.values, again.values)
    other = TextEncoder()  # the model would read LIME's texts as this encoder's words
    other.encode(["bad awful meal"])
    with pytest.raises(ValueError, match="reads rows of another TextEncoder than the one given"):
        lime_text(other.wrap(word_model), X, enc, num_samples=20, progress=False)
    copy = TextEncoder()  # the same words in the same order (a loaded copy): the same
    copy.encode(TRICKY[:2])
    lime_text(copy.wrap(word_model), X, enc, num_samples=20, progress=False)


def test_reviews_are_read_without_their_html():
    from scrutiny.datasets.reviews import _plain

    packaged = 'Great!<br /><br />A &quot;must&quot;: <a href="http://a.b/c">this</a> &lt;3 <3 >'
    assert _plain(packaged) == 'Great! A "must": this <3 <3 >'


def test_missing_reviews_name_the_debian_package(tmp_path):
    with pytest.raises(FileNotFoundError, match="r-cran-modeldata"):
        load_food_reviews("train", directory=tmp_path)
    with pytest.raises(ValueError, match="split"):
        load_food_reviews("validation", directory=tmp_path)


@pytest.mark.skipif(
    not (DEFAULT_DIR / "Rdata.rdx").is_file() and not os.environ.get("SCRUTINY_MODELDATA"),
    reason="Debian's r-cran-modeldata is not installed (.ci/run installs it)",
)
def test_real_reviews_and_the_reference_classifier():
    pytest.importorskip("rdata")
    pytest.importorskip("sklearn")
    from scrutiny.zoo import review_classifier

    texts, labels = load_food_reviews("test")
    assert len(texts) == 1000 and labels.sum() == 658  # 658 "great", as packaged
    markup = re.compile(r"<(?:br|a|/a|p|span)\b|&(?:quot|amp|lt|gt|eacute);")
    assert not [t for t in texts if markup.search(t)]  # 246 of the packaged ones hold some
    model, facts = review_classifier()
    assert facts["test_accuracy"] >= 0.78  # 0.812 measured; a majority vote gets 0.658
    enc = TextEncoder()
    X = enc.encode(texts[:2])
    np.testing.assert_allclose(enc.wrap(model.predict_proba)(X), model.predict_proba(texts[:2]))


@pytest.mark.slow
@pytest.mark.skipif(
    not (DEFAULT_DIR / "Rdata.rdx").is_file() and not os.environ.get("SCRUTINY_MODELDATA"),
    reason="Debian's r-cran-modeldata is not installed (.ci/run installs it)",
)
def test_the_neural_review_classifier(tmp_path, monkeypatch):
    """Trained from scratch (about 40 s), then read back from the cache."""
    pytest.importorskip("torch")
    from scrutiny.zoo.review_cnn import review_cnn

    monkeypatch.setenv("SCRUTINY_CACHE", str(tmp_path))
    model, facts = review_cnn(progress=False)
    assert facts["test_accuracy"] >= 0.75  # 0.779 measured; a majority vote gets 0.658
    again, _ = review_cnn(progress=False)
    texts, _ = load_food_reviews("test")
    np.testing.assert_array_equal(again.predict_proba(texts[:5]), model.predict_proba(texts[:5]))


def test_text_plot_colours_each_word_on_the_axes_it_is_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scrutiny import plots

    enc, X, ex = local_explainer(TRICKY[:2], n_samples=100)
    exp = ex.explain(X[:1])
    fig, ax = plt.subplots()
    assert plots.explanation_text(exp, 0, enc.words(X[0]), ax=ax, width=12) is ax
    shown = {t.get_text(): t for t in ax.texts}
    assert list(shown) == [w for w in enc.words(X[0]) if w]
    red, neutral = shown["great"].get_bbox_patch(), shown["this"].get_bbox_patch()
    r, g, b, _ = red.get_facecolor()
    assert r > b + 0.2 and r > g + 0.2  # supports the class: red
    assert max(neutral.get_facecolor()[:3]) - min(neutral.get_facecolor()[:3]) < 0.1  # ~0: white
    assert len({t.get_position()[1] for t in ax.texts}) > 1  # wrapped at 12 characters
    small, narrow = plt.subplots(figsize=(3.2, 3))  # wrapped where the axes end
    plots.explanation_text(exp, 0, enc.words(X[0]), ax=narrow)
    for figure, axes in ((fig, ax), (small, narrow)):
        figure.canvas.draw()  # words of a line stand side by side, not on top of each other
        boxes = [t.get_window_extent() for t in axes.texts]
        for a, b in itertools.pairwise(boxes):
            assert b.y0 < a.y0 - 1 or b.x0 >= a.x1 - 0.5, (a, b)
        assert max(b.x1 for b in boxes) <= axes.get_window_extent().x1 + 2
    plt.close(small)
    with pytest.raises(ValueError, match="3 words for an explanation of"):
        plots.explanation_text(exp, 0, ["a", "b", "c"], ax=ax)
    plt.close(fig)


def test_a_saved_local_text_explainer_explains_as_before(tmp_path):
    enc, X, ex = local_explainer(TRICKY[:2], n_samples=100)
    path = ex.save(tmp_path / "ex")
    back = Explainer.load(path, enc.wrap(word_model))
    assert back.representation.kind == "tokens"
    np.testing.assert_array_equal(back.explain(X[:1]).values, ex.explain(X[:1]).values)


def test_lime_text_puts_each_value_at_its_words_position_in_a_row_with_a_gap():
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_text

    enc = TextEncoder()
    X = enc.encode(["this is a great thing"])
    X[0, 1] = 0  # "is " switched off, as deduction and local mode's perturbations do
    exp = lime_text(enc.wrap(word_model), X, enc, num_samples=200, progress=False)
    assert enc.words(X[0])[exp.top(1)[0, 0]] == "great"
    assert exp.values[0, 1] == 0.0  # no word there, so no value


def test_augmentation_copies_a_texts_last_word_in_as_a_word_of_its_own():
    enc, X, ex = local_explainer(["so great", "bad bad bad", "bad"], n_samples=100)
    exp = ex.explain(X[:1])
    assert exp.top(1)[0, 0] == 1  # "great", the text's last piece: nothing follows its word
    # copied into a donor, it meets the donor's next word, or its last one before it
    crafted = X[1:].copy()
    crafted[:, 1] = X[0, 1]
    assert enc.decode(crafted) == ["bad great bad", "bad great"]  # not "greatbad", "badgreat"
    assert augmentation(enc.wrap(word_model), exp, X[1:], ks=[1]).all()
    enc = TextEncoder()
    assert enc.decode(enc.encode(TRICKY)) == [*TRICKY[:4], ""]  # texts still come back exactly


def test_lime_text_names_an_input_with_no_word():
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_text

    enc = TextEncoder()
    X = enc.encode(["great", "..."])
    with pytest.raises(ValueError, match="input 1 equals the baseline everywhere"):
        lime_text(enc.wrap(word_model), X, enc, num_samples=50, progress=False)


def test_lime_text_keeps_values_at_their_words_when_lime_drops_a_piece():
    """LIME kept the text's words as numpy strings, which drop a trailing NUL: such a piece
    was no word to LIME, and every later value moved one word to the left. It is given the
    positions now, each a word however it is written: "nice" (no weight) is a word of
    about no effect, "great" the decisive one."""
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_text

    enc = TextEncoder()
    X = enc.encode(["nice\x00meal great"])
    exp = lime_text(enc.wrap(word_model), X, enc, num_samples=300, progress=False)
    great = exp.values[0, exp.top(1)[0, 0]]
    assert enc.words(X[0])[exp.top(1)[0, 0]] == "great" and abs(exp.values[0, 0]) < 0.1 * great


def test_lime_text_sends_the_model_what_local_mode_does():
    """LIME joined its kept words with nothing between them, and the texts were encoded
    again: "great" and a smile after it went to the model as "greatand", and new pieces
    joined the encoder. Removals are switched off in the row now, decoded as local mode's."""
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_text

    enc = TextEncoder()
    X = enc.encode(["so great\U0001f600 and loved it", "i don't like it"])
    known = list(enc._pieces)
    seen = []

    def recording(texts):
        seen.extend(texts)
        return word_model(texts)

    lime_text(enc.wrap(recording), X, enc, num_samples=100, progress=False)
    assert enc._pieces == known
    decoded = set()
    for row in X:
        present = np.flatnonzero(row)
        for keep in itertools.product([False, True], repeat=present.size):
            off = row.copy()
            off[present[~np.array(keep)]] = 0
            decoded.add(enc.decode(off[None])[0])
    assert set(seen) <= decoded


def test_kernel_shap_names_an_input_with_no_word():
    pytest.importorskip("shap")
    from scrutiny.baselines import kernel_shap

    enc = TextEncoder()
    X = enc.encode(["great", "..."])
    with pytest.raises(ValueError, match="input 1 equals the baseline everywhere"):
        kernel_shap(enc.wrap(word_model), X, representation="tokens", progress=False)


def test_random_words_are_words_not_padding():
    """Rows are padded to the longest review: a random top-k of positions would mostly
    remove or keep padding, which changes nothing."""
    from scrutiny.baselines import random_explanation

    enc = TextEncoder(length=40)  # padded to a longer review, as the benchmark's rows are
    X = enc.encode(TRICKY[:2])
    ex = Explainer(enc.wrap(word_model), X, mode="local", representation="tokens")
    exp = ex.explain(X, n_samples=50)
    rand = random_explanation(exp, 0)
    top = rand.top(3)
    assert (np.take_along_axis(X, top, axis=1) != 0).all()  # 3 of the texts' 6 and 4 words
    assert rand.method == "random" and rand.values.shape == exp.values.shape


def test_lime_text_queries_the_text_less_whole_pieces_each_at_its_own_position():
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_text

    text = "great food, great price"  # a repeated word: two positions, not one feature
    asked = []

    def recording(texts):
        asked.extend(texts)
        return word_model(texts)

    enc = TextEncoder()
    X = enc.encode([text])
    exp = lime_text(enc.wrap(recording), X, enc, num_samples=200, progress=False)
    assert set(exp.top(2)[0]) == {0, 2}  # both "great"s, each credited where it stands
    assert len(asked) == 1 + 200 and all(set(pieces(t)) <= set(pieces(text)) for t in asked)


def test_a_saved_encoder_reads_its_rows_as_before(tmp_path):
    enc = TextEncoder()
    X = enc.encode(TRICKY)
    back = TextEncoder.load(enc.save(tmp_path / "enc.json"))
    assert back.length == enc.length and back.decode(X) == enc.decode(X)
    np.testing.assert_array_equal(back.encode(TRICKY[:2]), X[:2])
    (tmp_path / "bad.json").write_text(
        '{"format": "scrutiny.text-encoder/1", "length": 3, "pieces": ["a ", "a "]}'
    )
    with pytest.raises(ValueError, match="damaged"):
        TextEncoder.load(tmp_path / "bad.json")
    for broken in ('"length": 3, "pieces": ["a b "]', '"pieces": ["a "]'):  # two words; no length
        (tmp_path / "bad.json").write_text(f'{{"format": "scrutiny.text-encoder/1", {broken}}}')
        with pytest.raises(ValueError, match="damaged"):
            TextEncoder.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a saved TextEncoder"):
        TextEncoder.load(tmp_path / "other.json")
    enc.save(tmp_path / "enc.json")  # over an earlier save: as any re-save
    with pytest.raises(FileExistsError, match=r"other\.json exists and is not a saved"):
        enc.save(tmp_path / "other.json")  # a user's own file
    assert (tmp_path / "other.json").read_text() == "[1, 2]"


def test_strings_given_as_inputs_point_to_the_encoder():
    with pytest.raises(TypeError, match="TextEncoder"):
        Explainer(word_model, ["great", "awful"], mode="local")


def test_kernel_shap_takes_the_representation_by_name():
    pytest.importorskip("shap")
    from scrutiny.baselines import kernel_shap

    enc = TextEncoder()
    X = enc.encode(TRICKY[:1])
    exp = kernel_shap(
        enc.wrap(word_model), X, representation="tokens", l1_reg=False, progress=False
    )
    assert enc.words(X[0])[exp.top(1)[0, 0]] == "great"


def test_scrutinize_perturbs_a_text_at_the_scale_of_the_question():
    """Only a window of bytes is explained at the explainer's own rates (its few outputs
    defeat a local mixture at small ones); a text's words are switched off as many at a
    time as the headline k, as images' pixels are. Every token representation had a
    window, its whole length, and took the exception."""
    from scrutiny.scrutinize import scrutinize

    # 20 words: texts of three were perturbed at the explainer's rates, as any input of
    # fewer distinct perturbations than drawn is (4 with 1 of 3 words off, for 100)
    filler = " ".join(f"w{i}" for i in range(18))
    texts = ["so great", f"great stuff {filler}", "really great taste", "awful stuff", "bad"]
    enc = TextEncoder()
    X = enc.encode(texts)
    # one regime: with five, the rows of a three-word text without "great" may take a
    # component of their own, whose intercept then holds its effect (the input's
    # component, where "great" never changes, gives it its prior's 0: 4 of seeds 0-5)
    surrogate = {"n_components": 1}
    kw = {"n_samples": 100, "surrogate": surrogate, "random_state": 0, "progress": False}
    ex = Explainer(enc.wrap(word_model), X, mode="local", **kw)
    s = scrutinize(ex, X, 1, ks=[1], random_state=0)
    assert s.meta["max_off"] == 3  # the headline k of 20 positions: 3 words at a time
    assert s.adversarial.rate[0] == 1.0  # "great" gone: not great


def test_the_neural_classifier_refuses_one_string_and_rows_of_ids():
    """One string was scored as a review per character; ids failed in str.lower."""
    pytest.importorskip("torch")
    from scrutiny.zoo.review_cnn import ReviewCNN

    cnn = ReviewCNN(module=None, vocab={})
    with pytest.raises(TypeError, match="got one string: pass \\[text\\]"):
        cnn.predict_proba("great food")
    with pytest.raises(TypeError, match="texts must be strings, got a ndarray"):
        cnn.predict(np.ones((2, 5)))


def test_lemna_refuses_word_ids_which_name_words_in_the_order_the_encoder_met_them():
    """LEMNA regresses on a token's id (a byte's value); a review's explanation changed
    with the texts encoded before it (top-5 words: 'not', 'Unless', ... then 'flavor')."""
    from scrutiny.baselines import lemna

    enc = TextEncoder()
    X = enc.encode(["great taste, never again", "awful"])
    with pytest.raises(ValueError, match="lime_text or an Explainer in local mode"):
        lemna(enc.wrap(word_model), X, "tokens", num_samples=20, progress=False)
