"""Model adapters: batching, validation, and every kind of model scrutiny accepts."""

import re

import numpy as np
import pytest

from scrutiny.models import ModelAdapter, ModelError, load_callable
from tests.onnx_models import (
    write_cast_regression,
    write_labelled_classifier,
    write_softmax_regression,
)

torch = pytest.importorskip("torch")

W = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, -1.0]])  # 2 features -> 3 classes


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def probs(X):
    return softmax(X @ W)


X = np.random.default_rng(0).normal(size=(10, 2))


def test_callable_is_batched_and_counted():
    adapter = ModelAdapter(probs, batch_size=4)
    out = adapter.log_proba(X)
    np.testing.assert_allclose(np.exp(out), probs(X), rtol=1e-12)
    assert (adapter.n_calls, adapter.n_rows, adapter.n_classes) == (3, 10, 3)


def test_logits_are_normalised_exactly_even_when_confident():
    adapter = ModelAdapter(lambda x: 100 * (x @ W), outputs="logits")
    logp = adapter.log_proba(X)
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0)
    assert np.isfinite(logp).all()  # probabilities near 0 are kept as finite logs


def test_binary_scores_become_two_classes():
    adapter = ModelAdapter(lambda x: 1 / (1 + np.exp(-x[:, 0])))
    p = adapter.proba(X)
    assert p.shape == (10, 2)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-X[:, 0])))


@pytest.mark.parametrize(
    "fn, message",
    [
        (lambda x: probs(x) * np.nan, "non-finite"),
        (lambda x: x @ W, "not probabilities"),
        (lambda x: probs(x) * 0.5, "sums to"),
        (lambda x: probs(x)[:-1], "returned shape"),
        (lambda x: np.zeros((len(x), 2, 2)), "returned shape"),
        (lambda x: 0.5, r"returned shape \(\)"),
        (lambda x: np.zeros((len(x), 0)), "returned no classes"),
        (lambda x: [[0.5, 0.5]] * (len(x) - 1) + [[1.0]], "list that is not an array of numbers"),
        (lambda x: "yes", "str that is not an array of numbers"),
        (lambda x: (x[:, 0] > 0).astype(int), "whole numbers.*clf.predict_proba"),  # labels
        (lambda x: x[:, 0] > 0, "whole numbers"),
        (lambda x: [torch.ones(3, requires_grad=True)] * len(x), "list that is not an array"),
        (lambda x: [probs(x)], r"list of 1 arrays \(shapes \(10, 3\)\).*run\(...\)\[0\]"),
    ],
)
def test_bad_outputs_are_named(fn, message):
    with pytest.raises(ModelError, match=message):
        ModelAdapter(fn).log_proba(X)


def test_a_model_that_raises_is_reported():
    def broken(x):
        raise KeyError("weights")

    with pytest.raises(ModelError, match="KeyError"):
        ModelAdapter(broken).log_proba(X)


def test_a_function_of_a_dataframe_given_arrays_is_told_what_to_pass():
    """A plain function gets arrays; one around a pipeline that picks columns by name
    raised scikit-learn's own words only. Its bound method gets the DataFrame."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from scrutiny import Explainer

    frame = pd.DataFrame(X, columns=["income", "age"])
    y = (X[:, 0] > 0).astype(int)
    pipe = make_pipeline(make_column_transformer((StandardScaler(), ["income", "age"])))
    pipe.steps.append(("clf", LogisticRegression()))
    pipe.fit(frame, y)
    with pytest.raises(ModelError, match=r"order 'income', 'age': .* such as pipe.predict_proba"):
        Explainer(lambda rows: pipe.predict_proba(rows), frame, progress=False).fit()
    ex = Explainer(pipe.predict_proba, frame, surrogate={"n_sweeps": 10}, progress=False)
    assert ex.fit().explain(frame.iloc[:2]).values.shape == (2, 2)


def test_changing_number_of_classes_is_an_error():
    calls = iter([3, 4])
    adapter = ModelAdapter(lambda x: softmax(np.zeros((len(x), next(calls)))), batch_size=5)
    with pytest.raises(ModelError, match="4 classes where it returned 3"):
        adapter.log_proba(X)


def test_not_a_model():
    with pytest.raises(TypeError, match="cannot use a int"):
        ModelAdapter(3)
    with pytest.raises(ValueError, match="outputs must be"):
        ModelAdapter(probs, outputs="scores")


def test_a_torch_tensor_that_requires_grad_is_read():
    w = torch.ones(2, 3, requires_grad=True)
    adapter = ModelAdapter(lambda x: torch.softmax(torch.as_tensor(x).float() @ w, 1))
    assert adapter.log_proba(X).shape == (10, 3)


def test_a_one_class_classifier_is_named():
    from sklearn.dummy import DummyClassifier

    one = DummyClassifier().fit(X, np.full(len(X), 7))
    with pytest.raises(ModelError, match="knows one class only"):
        ModelAdapter(one).predict(X)
    with pytest.raises(ModelError, match="knows one class only"):  # was a binary model
        ModelAdapter(one.predict_proba).predict(X)


def test_probabilities_declared_as_logits_are_refused():
    """log-softmax of probabilities squeezed every class logit to about [-1, 1]."""
    with pytest.raises(ModelError, match=r"outputs='logits', but .* are probabilities"):
        ModelAdapter(probs, outputs="logits").log_proba(X)
    one_row = ModelAdapter(lambda x: np.array([[0.3, 0.7]]), outputs="logits")
    assert one_row.log_proba(X[:1]).shape == (1, 2)  # one row may be logits by chance
    # ... but not every row, however the rows are batched (one at a time, it passed)
    with pytest.raises(ModelError, match=r"are probabilities .* for 2 inputs"):
        ModelAdapter(probs, outputs="logits", batch_size=1).log_proba(X)
    logits = ModelAdapter(lambda x: np.log(probs(x)), outputs="logits", batch_size=1)
    assert logits.log_proba(X).shape == (10, 3)
    # a sigmoid's one column, read as a binary logit, calls every input class 1: said; but
    # an unsure model's logits lie in [0, 1] too, and were refused with no way through
    # (outputs='probabilities', as advised, read logit 0.09 as P(class 1) = 0.09)
    rows = np.random.default_rng(1).normal(size=(40, 2))
    sigmoid = ModelAdapter(lambda x: 1 / (1 + np.exp(-x[:, :1])), outputs="logits")
    with pytest.warns(UserWarning, match=r"lies in \[0, 1\], for 40 inputs: read as logits"):
        read = sigmoid.log_proba(rows)
    z = 1 / (1 + np.exp(-rows[:, 0]))  # the values, taken as the logits declared
    np.testing.assert_allclose(read[:, 1] - read[:, 0], z, rtol=1e-12)
    assert ModelAdapter(lambda x: x[:, 0], outputs="logits").log_proba(rows).shape == (40, 2)
    # labels 0, 1, 2 (clf.predict) were one binary logit: 2 classes, label 2 surest of 1
    for labels in (np.array([0, 1, 2, 1]), np.array([[0], [1], [1], [0]]), np.ones(4, bool)):
        with pytest.raises(ModelError, match="one column of whole numbers from 0 up: class lab"):
            ModelAdapter(lambda x, labels=labels: labels, outputs="logits").log_proba(rows[:4])
    signed = ModelAdapter(lambda x: np.array([-3, 2, 1, -1]), outputs="logits")  # int8 logits
    assert signed.log_proba(rows[:4]).shape == (4, 2)


def test_a_plain_function_gets_batches_in_the_float_dtype_of_the_data(tmp_path):
    """A torch module inside a function (torch.from_numpy(x)) refused the float64 batches it
    was always given for float32 data; the explainer gives it its data's dtype, as saved."""
    from scrutiny import Explainer

    net = torch.nn.Linear(2, 3)

    def model(x):
        with torch.no_grad():
            return torch.softmax(net(torch.from_numpy(x)), dim=1).numpy()

    X32 = np.random.default_rng(2).normal(size=(200, 2)).astype(np.float32)
    kw = {"surrogate": {"n_sweeps": 20, "n_components": 2}, "progress": False, "n_jobs": 1}
    ex = Explainer(model, X32, random_state=0, **kw)
    assert ex.explain(X32[:3]).values.shape == (3, 2)
    ex.save(tmp_path / "ex")
    assert Explainer.load(tmp_path / "ex", model).explain(X32[:3]).values.shape == (3, 2)
    from scrutiny.baselines import kernel_shap
    from scrutiny.fidelity import deduction

    assert deduction(model, ex.explain(X32[:3]), ks=[1]).shape == (1, 3)  # as explained
    # a DataFrame of float32 columns too (its dtypes, not a dtype: float64 batches, refused)
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X32, columns=["a", "b"])
    assert Explainer(model, frame, random_state=0, **kw).explain(frame[:3]).values.shape == (3, 2)
    assert kernel_shap(model, X32[:2], nsamples=50, progress=False).values.shape == (2, 2)
    with pytest.raises(ModelError, match="Double"):  # float64 data: float64 batches, as given
        Explainer(model, X32.astype(np.float64), **kw).explain(X32[:3])


def test_a_one_row_batch_squeezed_to_a_scalar_is_one_output():
    """A binary model ending in squeeze() returns a 0-d result for a batch of one row: it
    failed only where the fit data's size left a last batch of one."""
    adapter = ModelAdapter(lambda x: np.squeeze(x[:, 0]), outputs="logits", batch_size=3)
    np.testing.assert_allclose(np.exp(adapter.log_proba(X[:4]))[:, 1], 1 / (1 + np.exp(-X[:4, 0])))
    # three classes squeezed to (3,) on one row: that row's three outputs (it was refused)
    three = ModelAdapter(lambda x: np.squeeze(x[:, :3]), outputs="logits", batch_size=3)
    full = ModelAdapter(lambda x: x[:, :3], outputs="logits").log_proba(X[:4])
    np.testing.assert_allclose(three.log_proba(X[:4]), full)


def test_methods_of_scikit_learn_models_that_give_no_probabilities_are_refused():
    from sklearn.linear_model import LinearRegression, LogisticRegression

    y = (X[:, 0] > 0).astype(int)
    clf, reg = LogisticRegression().fit(X, y), LinearRegression().fit(X, X[:, 1])
    for outputs in ("probabilities", "values"):  # its labels, as probabilities or values
        with pytest.raises(ValueError, match=r"LogisticRegression\.predict returns class labels"):
            ModelAdapter(clf.predict, outputs=outputs)
    for outputs in ("probabilities", "logits"):  # a negative value was class 0's logit
        with pytest.raises(ValueError, match="LinearRegression is a regressor"):
            ModelAdapter(reg.predict, outputs=outputs)
    assert ModelAdapter(reg.predict, outputs="values").responses(X).shape == (10, 1)
    assert ModelAdapter(clf.decision_function, outputs="logits").log_proba(X).shape == (10, 2)


def test_what_is_not_a_scikit_learn_model_or_not_whole_numbers_is_taken_as_before():
    """The refusals above are keyed on scikit-learn estimators and integer or bool dtypes:
    a wrapper's bound method (sklearn's tags raised AttributeError on it), probabilities as
    objects or pandas' nullable floats, and whole-number scores declared as logits pass."""
    import pandas as pd
    import sklearn  # noqa: F401  (the check runs once sklearn is imported)

    class Wrapper:
        def predict_proba(self, x):
            return probs(x)

    expected = ModelAdapter(probs).log_proba(X)
    for model in (
        Wrapper().predict_proba,
        lambda x: probs(x).astype(object),
        lambda x: pd.DataFrame(probs(x)).astype("Float64"),
    ):
        np.testing.assert_allclose(ModelAdapter(model).log_proba(X), expected)
    votes = ModelAdapter(lambda x: np.round(3 * x @ W).astype(int), outputs="logits")
    assert votes.log_proba(X).shape == (10, 3)


@pytest.mark.parametrize(
    "wrap", [lambda z: (z,), lambda z: {"logits": z}, lambda z: [z]], ids=["tuple", "dict", "list"]
)
def test_a_torch_module_returning_no_tensor_is_named_not_said_to_raise(wrap):
    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 3)

        def forward(self, x):
            return wrap(self.linear(x))

    with pytest.raises(ModelError, match=r"returned a (tuple|dict|list)\b.*not an array") as info:
        ModelAdapter(Wrapped(), outputs="logits").log_proba(X)
    assert "raised" not in str(info.value)  # was: "the model raised AttributeError"


def test_sklearn_classifier_uses_predict_proba():
    from sklearn.linear_model import LogisticRegression

    y = (X[:, 0] > 0).astype(int)
    clf = LogisticRegression().fit(X, y)
    with pytest.warns(UserWarning, match="outputs='logits' does not apply to a Logistic") as w:
        adapter = ModelAdapter(clf, outputs="logits")  # sklearn gives probabilities
    from scrutiny import Explainer

    with pytest.warns(UserWarning, match="outputs='logits' does not apply") as through:
        Explainer(clf, X, outputs="logits", progress=False)
    assert w[0].filename == through[0].filename == __file__  # the user's line, not ours
    assert adapter.kind == "sklearn"
    np.testing.assert_allclose(adapter.proba(X), clf.predict_proba(X), rtol=1e-10)
    assert adapter.class_name(1) == "1"  # its label is its column: said once
    named = ModelAdapter(LogisticRegression().fit(X, np.where(y, "good", "bad")))
    assert named.class_name(0) == "0 (bad)" and named.class_name(1) == "1 (good)"


def test_a_bound_method_of_a_pipeline_gets_its_columns_by_name_and_names_its_classes():
    """pipe.predict_proba (as LIME's and shap's users pass a model) got a bare array when
    every column was a number, which a pipeline selecting its columns by name refuses."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = pd.DataFrame({"income": X[:, 0], "age": X[:, 1], "debt": X[:, 0] * X[:, 1]})
    scale = make_column_transformer((StandardScaler(), ["income", "age"]))
    labels = np.where(X[:, 0] + X[:, 1] > 0, "good", "bad")
    pipe = make_pipeline(scale, LogisticRegression()).fit(frame, labels)
    adapter = ModelAdapter(pipe.predict_proba)
    np.testing.assert_allclose(adapter.proba(frame.to_numpy()), pipe.predict_proba(frame))
    assert adapter.class_name(1) == "1 (good)"
    np.testing.assert_array_equal(adapter.label_columns(["good", "bad"]), [1, 0])
    np.testing.assert_array_equal(adapter.label_columns([1, 0]), [1, 0])  # as a callable's
    with pytest.raises(ValueError, match=r"labels must be output columns 0\.\.1"):
        adapter.label_columns([2])
    with pytest.raises(ValueError, match=r"labels \['2'\] are not among the classifier's"):
        ModelAdapter(pipe).label_columns([2])
    with pytest.raises(ValueError, match=r"labels \['cat'\] are not among the classifier's"):
        adapter.label_columns(["good", "cat"])  # a name is no column number


def test_a_pipeline_opening_with_passthrough_steps_gets_its_columns_by_name():
    """Such a pipeline has no feature_names_in_ of its own (its first real step has): its
    rows went as an array in X_fit's order, and reordered columns met other coefficients."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    frame = pd.DataFrame({"income": X[:, 0], "debt": X[:, 1], "age": X[:, 0] * 0})
    y = (X[:, 0] > 0).astype(int)
    for first in ("passthrough", None):
        pipe = Pipeline([("scale", first), ("clf", LogisticRegression())]).fit(frame, y)
        adapter = ModelAdapter(pipe)
        adapter.input_names = ["age", "debt", "income"]  # X_fit's order, not the model's
        reordered = frame[adapter.input_names].to_numpy()
        np.testing.assert_allclose(adapter.proba(reordered), pipe.predict_proba(frame))


def test_a_model_of_string_numbers_as_names_takes_a_frame_of_integer_labels():
    """scikit-learn keeps only names that are strings: a model fitted on columns "0", "1",
    "2", explained with pd.DataFrame(array) (labels 0, 1, 2), raised pandas' KeyError."""
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    from scrutiny import Explainer

    y = (X[:, 0] > 0).astype(int)
    clf = LogisticRegression().fit(pd.DataFrame(X, columns=["0", "1"]), y)
    ex = Explainer(clf, pd.DataFrame(X), surrogate={"n_sweeps": 20}, progress=False).fit()
    want = clf.predict(pd.DataFrame(X[:3], columns=["0", "1"]))
    assert ex.explain(pd.DataFrame(X[:3])).target.tolist() == want.tolist()


def torch_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 3))


def test_torch_module_runs_in_eval_mode_without_grad():
    module = torch_model().train()
    adapter = ModelAdapter(module, outputs="logits", batch_size=3)
    a, b = adapter.log_proba(X), adapter.log_proba(X)
    np.testing.assert_array_equal(a, b)  # dropout off
    assert module.training  # left as the user had it
    module.eval()
    with torch.no_grad():
        ref = torch.log_softmax(module(torch.as_tensor(X, dtype=torch.float32)), 1)
    np.testing.assert_allclose(a, ref.double().numpy(), atol=1e-6)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_torchscript_file(tmp_path):
    module = torch_model().eval()
    path = tmp_path / "model.pt"
    torch.jit.script(module).save(str(path))
    adapter = ModelAdapter(path, outputs="logits")
    assert adapter.kind == "torch-file"
    np.testing.assert_allclose(adapter.log_proba(X), ModelAdapter(module, "logits").log_proba(X))


def test_exported_program_file(tmp_path):
    module = torch_model().eval()
    path = tmp_path / "model.pt2"
    example = (torch.zeros(4, 2),)
    dims = {"input": {0: torch.export.Dim("batch")}}
    torch.export.save(torch.export.export(module, example, dynamic_shapes=dims), str(path))
    adapter = ModelAdapter(path, outputs="logits", batch_size=3)
    np.testing.assert_allclose(adapter.log_proba(X), ModelAdapter(module, "logits").log_proba(X))


def test_exported_program_file_with_a_fixed_batch_size(tmp_path):
    """torch.export without dynamic shapes takes batches of the example's size only."""
    module = torch_model().eval()
    path = tmp_path / "model.pt2"
    torch.export.save(torch.export.export(module, (torch.zeros(4, 2),)), str(path))
    adapter = ModelAdapter(path, outputs="logits", batch_size=3)  # 10 rows: 3, 3, 3, 1
    np.testing.assert_allclose(adapter.log_proba(X), ModelAdapter(module, "logits").log_proba(X))


def test_onnx_file(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    adapter = ModelAdapter(write_softmax_regression(tmp_path / "m.onnx", W))
    assert adapter.kind == "onnx"
    np.testing.assert_allclose(adapter.proba(X), probs(X), atol=1e-6)


@pytest.mark.parametrize("dtype, atol", [(np.float16, 2e-3), (np.float64, 1e-12)])
def test_onnx_file_in_other_precisions(tmp_path, dtype, atol):
    """A model converted to float16 (or kept in float64) is fed its own input type."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    adapter = ModelAdapter(write_softmax_regression(tmp_path / "m.onnx", W, dtype))
    # float16 rounds inputs, weights and probabilities to 2**-11 (5e-4) relative: at most
    # 4e-4 off over 20000 normal inputs; 2e-3 leaves a margin
    np.testing.assert_allclose(adapter.proba(X), probs(X), atol=atol)


@pytest.mark.parametrize("fixed", [1, 3])
def test_onnx_file_with_a_fixed_batch_size(tmp_path, fixed):
    """torch.onnx.export without dynamic axes fixes the batch size to the example's (often
    1): the model is called on batches of exactly that many rows, the last one padded."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    path = write_softmax_regression(tmp_path / "m.onnx", W, batch=fixed)
    adapter = ModelAdapter(path, batch_size=4)  # 10 rows: batches of 4, 4, 2
    np.testing.assert_allclose(adapter.proba(X), probs(X), atol=1e-6)
    assert adapter.n_rows == len(X)


def test_onnx_classifier_with_its_label_first(tmp_path):
    """skl2onnx and others put the predicted label (int64) before the probabilities: the
    scores are read from the floating-point output."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    adapter = ModelAdapter(write_labelled_classifier(tmp_path / "m.onnx", W))
    np.testing.assert_allclose(adapter.proba(X), probs(X), atol=1e-6)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.int8, np.bool_])
def test_onnx_file_of_integer_or_bool_inputs_gets_them(tmp_path, dtype):
    """A model of counts or flags was fed float32, which onnxruntime refuses; a fraction or
    a value beyond its type is refused by name rather than cut."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    adapter = ModelAdapter(write_cast_regression(tmp_path / "m.onnx", W, dtype))
    counts = np.random.default_rng(1).integers(0, 2 if dtype == np.bool_ else 6, size=(10, 2))
    np.testing.assert_allclose(adapter.proba(counts.astype(float)), probs(counts), atol=1e-6)
    kind = r"0 or 1 \(bool\)" if dtype == np.bool_ else rf"whole numbers \({np.dtype(dtype)}\)"
    with pytest.raises(ModelError, match=rf"input 'x' takes {kind}; got 0.5 at \(1, 0\)"):
        adapter.proba([[1.0, 1.0], [0.5, 1.0]])
    beyond = 2.0 if dtype == np.bool_ else np.iinfo(dtype).max + 1.0  # 2**63 for int64
    with pytest.raises(ModelError, match=re.escape(f"got {beyond:g} at")):
        adapter.proba([[beyond, 1.0]])


def test_onnx_file_of_an_input_type_scrutiny_cannot_give_is_refused_by_name(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    path = write_cast_regression(tmp_path / "m.onnx", W, np.uint16)
    with pytest.raises(ValueError, match=r"input 'x' is a tensor\(uint16\); scrutiny gives"):
        ModelAdapter(path)


class WordIds(torch.nn.Module):
    """Logits of two classes from rows of word ids: an embedding first."""

    def __init__(self, bag=False):
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.EmbeddingBag(10, 4) if bag else torch.nn.Embedding(10, 4)
        self.out = torch.nn.Linear(4, 2)

    def forward(self, ids):
        h = self.embed(ids)  # a bag's is the mean already
        return self.out(h.mean(1) if h.dim() == 3 else h)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("bag", [False, True])
def test_a_torch_module_that_embeds_word_ids_gets_them_as_integers(tmp_path, bag):
    """Its inputs were cast to its weights' float32, which an embedding refuses."""
    module = WordIds(bag)
    ids = np.random.default_rng(0).integers(1, 10, size=(5, 6))
    with torch.no_grad():
        expected = torch.log_softmax(module(torch.as_tensor(ids)), 1).double().numpy()
    path = tmp_path / "ids.pt"
    torch.jit.script(module).save(str(path))
    for model in (module, path):  # as TorchScript too
        adapter = ModelAdapter(model, outputs="logits")
        np.testing.assert_allclose(adapter.log_proba(ids.astype(float)), expected, atol=1e-6)
        with pytest.raises(ModelError, match=r"embedding\) takes whole numbers \(int64\)"):
            adapter.log_proba(ids + 0.5)


class ScaledWordIds(WordIds):
    """Word ids with a parameter of its own before the embedding's (a temperature)."""

    def __init__(self):
        super().__init__()
        self.temperature = torch.nn.Parameter(torch.tensor(2.0))

    def forward(self, ids):
        return super().forward(ids) / self.temperature


class CodeAndAmounts(torch.nn.Module):
    """A level's code embedded (column 0, cast by the model itself) beside float columns:
    it takes floats, as it always did."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.embed = torch.nn.Embedding(5, 3)
        self.out = torch.nn.Linear(5, 2)

    def forward(self, x):
        return self.out(torch.cat([self.embed(x[:, 0].long()), x[:, 1:]], dim=1))


def test_models_that_look_up_indices_get_whole_numbers_and_others_floats(tmp_path):
    """Whatever comes first in the module (a parameter of its own, or an exported program
    with no layers to inspect), a model that refuses floats as indices gets whole numbers;
    a model that casts its own codes keeps its float columns' fractions."""
    ids = np.random.default_rng(0).integers(1, 10, size=(4, 6))
    scaled = ScaledWordIds()
    program = torch.export.export(WordIds(), (torch.as_tensor(ids),))
    torch.export.save(program, str(tmp_path / "ids.pt2"))
    for model, reference in ((scaled, scaled), (tmp_path / "ids.pt2", WordIds())):
        with torch.no_grad():
            expected = torch.log_softmax(reference(torch.as_tensor(ids)), 1).double().numpy()
        adapter = ModelAdapter(model, outputs="logits")
        np.testing.assert_allclose(adapter.log_proba(ids.astype(float)), expected, atol=1e-6)
    mixed = CodeAndAmounts()
    X = np.column_stack([np.arange(4.0), np.full((4, 2), 0.5)])
    with torch.no_grad():
        expected = torch.log_softmax(mixed(torch.as_tensor(X, dtype=torch.float32)), 1)
    adapter = ModelAdapter(mixed, outputs="logits")
    np.testing.assert_allclose(adapter.log_proba(X), expected.double().numpy(), atol=1e-6)


def test_the_model_gets_a_copy_of_the_inputs():
    """A model that normalises its input in place edits neither the caller's array nor the
    next call's."""

    def in_place(x):
        x -= 1.0
        return probs(x + 1.0)

    data = X.copy()
    adapter = ModelAdapter(in_place, batch_size=4)
    first, again = adapter.proba(data), adapter.proba(data)
    np.testing.assert_array_equal(data, X)
    np.testing.assert_array_equal(first, again)


def test_probabilities_in_low_precision_are_accepted():
    """bfloat16 probabilities sum to 1 within its rounding (0.4% a value), not 1e-3."""
    torch = pytest.importorskip("torch")
    logits = torch.as_tensor(np.random.default_rng(1).normal(size=(200, 10)))
    p16 = torch.softmax(logits, dim=1).to(torch.bfloat16)
    assert (p16.double().sum(1) - 1).abs().max() > 1e-3  # the old tolerance refused it
    adapter = ModelAdapter(lambda x: p16[: len(x)], batch_size=200)
    np.testing.assert_allclose(adapter.proba(np.zeros((200, 1))), p16.double(), atol=1e-2)
    with pytest.raises(ModelError, match="sums to"):  # float64 rows still must sum to 1
        ModelAdapter(lambda x: np.full((len(x), 2), 0.51)).log_proba(np.zeros((3, 1)))
    # handed back as float32 (numpy has no bfloat16): refused at float32's tolerance
    as_f32 = p16.float().numpy()
    bf16 = ModelAdapter(lambda x: as_f32[: len(x)], batch_size=200)
    np.testing.assert_allclose(bf16.proba(np.zeros((200, 1))), p16.double(), atol=1e-2)
    # full float32 digits that sum to 1 within 0.2% only are still no distribution
    off = np.float32([[0.499, 0.499 + 1e-7]])
    with pytest.raises(ModelError, match="sums to"):
        ModelAdapter(lambda x: np.repeat(off, len(x), axis=0)).log_proba(np.zeros((3, 1)))


def test_a_binary_output_out_of_range_is_quoted_as_returned():
    with pytest.raises(ModelError, match=r"range over \[0.2, 1.5\]"):
        ModelAdapter(lambda x: np.linspace(0.2, 1.5, len(x))).log_proba(np.zeros((4, 1)))


def test_true_labels_map_to_output_columns():
    """A scikit-learn classifier's labels (1..3, strings) go through classes_; other
    models' labels must be column numbers."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    Xs = rng.normal(size=(90, 2))
    y = np.repeat(["setosa", "versicolor", "virginica"], 30)
    Xs[y == "versicolor"] += 3.0
    clf = LogisticRegression().fit(Xs, y)
    adapter = ModelAdapter(clf)
    assert adapter.label_columns(y[[0, 40, 80]]).tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match=r"\['daisy'\] are not among"):
        adapter.label_columns(np.array(["setosa", "daisy"]))
    plain = ModelAdapter(probs)
    plain.log_proba(X)
    assert plain.label_columns([2, 0]).tolist() == [2, 0]
    with pytest.raises(ValueError, match=r"output columns 0\.\.2"):
        plain.label_columns([3])
    with pytest.raises(ValueError, match="class numbers"):
        plain.label_columns(["a"])


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        ModelAdapter(tmp_path / "nope.onnx")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="could not load it"):
        ModelAdapter(junk)


def test_load_callable_from_file(tmp_path):
    src = tmp_path / "mymodel.py"
    src.write_text("import numpy as np\ndef predict(x):\n    return np.full((len(x), 2), 0.5)\n")
    fn = load_callable(f"{src}:predict")
    assert fn(X).shape == (10, 2)
    with pytest.raises(ValueError, match="no attribute 'nope'"):
        load_callable(f"{src}:nope")
    with pytest.raises(ValueError, match="module:function"):
        load_callable("just_a_name")


def test_a_model_file_imports_its_neighbours_and_a_failed_one_is_not_kept(tmp_path, monkeypatch):
    """`python proj/load.py` finds proj/helpers.py; --model proj/load.py:predict did not."""
    import sys

    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "scrutiny_helpers_x.py").write_text("HALF = 0.5\n")
    (proj / "scrutiny_load_x.py").write_text(
        "import numpy as np\nfrom scrutiny_helpers_x import HALF\n"
        "def predict(x):\n    return np.full((len(x), 2), HALF)\n"
    )
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)  # the folder is not the working one
    try:
        assert load_callable("proj/scrutiny_load_x.py:predict")(X)[0, 1] == 0.5
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "scrutiny_broken_x.py").write_text("raise RuntimeError('no')\n")
        (tmp_path / "other" / "scrutiny_nothing_x.py").write_text("x = 1\n")
        with pytest.raises(ImportError, match=r"scrutiny_broken_x.py raised RuntimeError: no"):
            load_callable("other/scrutiny_broken_x.py:predict")
        assert "scrutiny_broken_x" not in sys.modules
        assert str((tmp_path / "other").resolve()) not in sys.path
        with pytest.raises(ValueError, match="no attribute 'nope'"):  # it ran, but no model
            load_callable("other/scrutiny_nothing_x.py:nope")
        assert "scrutiny_nothing_x" not in sys.modules
        assert str((tmp_path / "other").resolve()) not in sys.path
    finally:
        for name in ("scrutiny_helpers_x", "scrutiny_load_x"):
            sys.modules.pop(name, None)


def test_bool_inputs_and_dataframes_with_bool_columns_are_numbers():
    """pandas.get_dummies makes bool columns; a frame mixing them with floats converts to an
    object array, which was refused as not numbers. Non-numeric columns are named."""
    import pandas as pd

    from scrutiny._validation import as_input_batch

    frame = pd.get_dummies(pd.DataFrame({"age": [30.0, 41.5, 50.0], "city": ["a", "b", "a"]}))
    expected = [[30.0, 1.0, 0.0], [41.5, 0.0, 1.0], [50.0, 1.0, 0.0]]
    np.testing.assert_array_equal(as_input_batch(frame, "X"), expected)
    np.testing.assert_array_equal(as_input_batch(frame.to_numpy(), "X"), expected)  # object
    with pytest.raises(TypeError, match="X must be real numbers, got dtype object"):
        as_input_batch(np.array([[1.0, "2"]], dtype=object), "X")
    np.testing.assert_array_equal(as_input_batch(np.eye(2, dtype=bool), "X"), np.eye(2))
    with pytest.raises(TypeError, match=r"columns \['city'\] are not numbers"):
        as_input_batch(pd.DataFrame({"age": [30.0], "city": ["a"]}), "X")
    codes = pd.DataFrame({"age": [30.0, 41.5], "code": pd.Categorical([3, 5])})
    np.testing.assert_array_equal(as_input_batch(codes, "X"), [[30.0, 3.0], [41.5, 5.0]])
    with pytest.raises(ValueError, match="1 NaN or inf values, the first at \\(1, 0\\)"):
        as_input_batch(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}), "X")


def test_a_torch_module_whose_weights_are_buffers_gets_their_dtype():
    """A module without parameters (frozen weights kept as buffers) in float64 was fed
    float32 rows; its first floating-point buffer says what it takes."""

    class Frozen(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("steps", torch.tensor(0))  # an integer buffer is skipped
            self.register_buffer("W", torch.as_tensor(W))

        def forward(self, x):
            return x @ self.W

    adapter = ModelAdapter(Frozen(), outputs="logits")
    np.testing.assert_allclose(adapter.proba(X), probs(X), rtol=1e-12)


def test_a_bad_output_names_the_input_row_not_its_place_in_a_batch():
    """With batches of 4, input 7 is row 3 of the second batch: the message names 7."""

    def nan_at_7(x):
        p = probs(x)
        p[x[:, 0] == X[7, 0]] = np.nan
        return p

    with pytest.raises(ModelError, match="the first for row 7 it was asked about"):
        ModelAdapter(nan_at_7, batch_size=4).log_proba(X)

    def off_at_9(x):
        p = probs(x)
        p[x[:, 0] == X[9, 0]] *= 0.5
        return p

    with pytest.raises(ModelError, match=r"output for row 9 it was asked about .* sums to"):
        ModelAdapter(off_at_9, batch_size=4).log_proba(X)


def test_low_precision_scores_of_many_classes_must_still_sum_to_1():
    """Rounding each probability to a relative 2**-11 (float16) moves a row's sum by at most
    that much, whatever the number of classes; a slack of n_classes x eps (0.98 for 1000
    float16 classes) let a sigmoid head whose rows sum to 1.5 pass as probabilities."""
    scores = torch.full((3, 1000), 0.0015, dtype=torch.float16)  # rows sum to 1.5
    with pytest.raises(ModelError, match=r"sums to 1\.50"):
        ModelAdapter(lambda x: scores[: len(x)]).log_proba(np.zeros((3, 1)))
    logits = torch.as_tensor(np.random.default_rng(2).normal(scale=5, size=(200, 1000)))
    softmax16 = torch.softmax(logits, 1).to(torch.float16)  # rows off 1 by up to 0.4 eps
    adapter = ModelAdapter(lambda x: softmax16[: len(x)], batch_size=200)
    assert adapter.log_proba(np.zeros((200, 1))).shape == (200, 1000)


def test_a_torch_module_put_back_in_train_mode_is_still_queried_in_eval_mode():
    """A user who trains on after making the adapter switches the module back to train
    mode: queries then updated BatchNorm's running statistics (the user's model changed by
    being explained) and dropped units at random."""
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.5), torch.nn.Linear(4, 3)
    )
    adapter = ModelAdapter(module, outputs="logits")
    module.train()
    stats = module[1].running_mean.clone()
    a, b = adapter.log_proba(X + 5.0), adapter.log_proba(X + 5.0)
    torch.testing.assert_close(module[1].running_mean, stats, rtol=0, atol=0)
    np.testing.assert_array_equal(a, b)


def test_each_submodule_is_left_in_the_mode_the_user_set():
    """Explaining a model between training steps must not change how it trains: a layer
    the user froze in eval mode inside a training model stays frozen, the rest trains."""
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.5)
    )
    module.train()
    module[1].eval()
    ModelAdapter(module, outputs="logits").log_proba(X)
    assert [m.training for m in module.modules()] == [True, True, False, True]


def test_queries_from_several_threads_each_run_in_eval_mode():
    """One thread's restore must not put the module back in train mode under another's
    forward pass."""
    import threading
    import time

    class Slow(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear, self.seen = torch.nn.Linear(2, 3), []

        def forward(self, x):
            self.seen.append(self.training)
            time.sleep(0.01)  # long enough for the other thread to finish its call
            self.seen.append(self.training)
            return self.linear(x)

    module = Slow().train()
    adapter = ModelAdapter(module, outputs="logits", batch_size=1)
    threads = [threading.Thread(target=adapter.log_proba, args=(X[:5],)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(module.seen) == 40 and not any(module.seen)
    assert module.training


def test_bfloat16_probabilities_from_numpy_are_accepted():
    """JAX and TensorFlow hand out bfloat16 as an ml_dtypes type, which numpy does not
    count as floating point: its rounding (0.4%) was not allowed for."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    logits = np.random.default_rng(1).normal(size=(200, 10))
    p16 = softmax(logits).astype(ml_dtypes.bfloat16)
    assert np.abs(p16.astype(np.float64).sum(1) - 1).max() > 1e-3  # beyond float slack
    adapter = ModelAdapter(lambda x: p16[: len(x)], batch_size=200)
    np.testing.assert_allclose(adapter.proba(np.zeros((200, 1))), softmax(logits), atol=1e-2)


def test_a_containers_cpu_quota_caps_the_job_count(tmp_path, monkeypatch):
    """A container with a quota of 2 cores sees every core of its host: a 64-core host
    gave 64 processes taking turns on 2 cores' time."""
    import scrutiny._validation as validation

    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cpu.max").write_text("150000 100000\n")  # --cpus=1.5
    assert validation.quota_cores(v2) == 2
    (v2 / "cpu.max").write_text("max 100000\n")
    assert validation.quota_cores(v2) is None
    v1 = tmp_path / "v1" / "cpu"
    v1.mkdir(parents=True)
    (v1 / "cpu.cfs_quota_us").write_text("100000\n")
    (v1 / "cpu.cfs_period_us").write_text("100000\n")
    assert validation.quota_cores(v1.parent) == 1
    (v1 / "cpu.cfs_quota_us").write_text("-1\n")
    assert validation.quota_cores(v1.parent) is None
    assert validation.quota_cores(tmp_path / "none") is None
    monkeypatch.setattr(validation, "quota_cores", lambda: 1)
    assert validation.job_count(None) == 1 and validation.job_count(-1) == 1
    assert validation.job_count(4) == 4  # a number asked for is taken as it is


def test_job_and_batch_counts_are_whole_and_negative_jobs_count_back_from_the_cores():
    import os

    from scrutiny import DPMixtureRegression, Explainer
    from scrutiny._validation import job_count

    cores = os.cpu_count() or 1
    assert job_count(None) == cores and job_count(-1) == cores and job_count(3) == 3
    assert job_count(-cores - 5) == 1
    for bad in (0, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n_jobs"):
            job_count(bad)
    Z = np.random.default_rng(0).normal(size=(30, 2))
    with pytest.raises(ValueError, match="n_jobs"):
        DPMixtureRegression(n_jobs=0, n_sweeps=20).fit(Z, Z[:, 0])
    with pytest.raises(ValueError, match="n_jobs"):
        Explainer(lambda X: np.full((len(X), 2), 0.5), Z, n_jobs=0.5)
    with pytest.raises(ValueError, match="batch_size must be a whole number"):
        ModelAdapter(lambda X: np.full((len(X), 2), 0.5), batch_size=2.5)


def test_a_model_writing_every_batch_into_one_buffer_gives_each_row_its_own_output():
    """The outputs were kept as the model's own array: a model reusing one buffer (a
    TFLite tensor view) overwrote the batches before, 44 of 300 rows read another's."""
    buffer = np.empty(256)

    def into_buffer(rows):
        out = buffer[: len(rows)]
        out[:] = np.asarray(rows) @ [2.0, 1.0, -0.5]
        return out

    X = np.random.default_rng(0).normal(size=(300, 3))
    got = ModelAdapter(into_buffer, outputs="values", batch_size=256).responses(X)
    np.testing.assert_allclose(got.reshape(-1), X @ [2.0, 1.0, -0.5])


def test_probabilities_rounded_just_past_zero_are_probabilities():
    """A float32 softmax whose last class is 1 - (the others) rounds to -2e-7 on confident
    rows: it was refused with a hint to pass outputs='logits', which then explained
    log-softmax(p) (class logits of 6 to 17 read as about -1.2)."""
    rng = np.random.default_rng(0)
    W32 = (rng.normal(size=(4, 10)) * 8).astype(np.float32)

    def model(x):
        p = softmax(x.astype(np.float32) @ W32)
        p[:, -1] = 1 - p[:, :-1].sum(axis=1)
        return p

    rows = rng.normal(size=(300, 4)).astype(np.float32)
    assert model(rows).min() < 0  # the case itself
    log_p = ModelAdapter(model).log_proba(rows)
    np.testing.assert_allclose(np.exp(log_p), model(rows).clip(0), atol=1e-6)
    with pytest.raises(ModelError, match=r"each row in \[0, 1\], summing to 1, for 256 inputs"):
        ModelAdapter(model, outputs="logits").log_proba(rows)
    # beyond the rows' rounding slack, as before
    with pytest.raises(ModelError, match=r"range over \[-0.00\d+, .*outside \[0, 1\]"):
        ModelAdapter(lambda x: probs(x) + np.array([-0.01, 0.01, 0.0])).log_proba(X)


def test_probabilities_that_do_not_sum_to_1_are_not_sent_to_logits():
    """Multi-label sigmoids, or a softmax's few classes of interest, were refused with a
    hint to pass outputs='logits', which then took them: each class's 'logit' read off
    log-softmax of the probabilities (-0.47 for the model's -1.06)."""
    rows = np.random.default_rng(3).normal(size=(40, 2))

    def labels(x):  # three independent sigmoids
        return 1 / (1 + np.exp(-(x @ W)))

    with pytest.raises(ModelError, match=r"sums to .*independent labels") as refused:
        ModelAdapter(labels).log_proba(rows)
    assert "outputs='logits'" not in str(refused.value)
    with pytest.warns(UserWarning, match=r"for 40 inputs: .*rows not summing to 1: prob"):
        ModelAdapter(labels, outputs="logits").log_proba(rows)
    # logits in [0, 1] for a few rows by chance pass, as before
    assert ModelAdapter(labels, outputs="logits").log_proba(rows[:5]).shape == (5, 3)


def test_classifiers_without_probabilities_are_pointed_at_their_decision_function():
    """A LinearSVC with outputs='values' had its predicted labels (3 or 7) explained as a
    regression; the refusals of it and of its predict named a predict_proba it lacks."""
    from sklearn.linear_model import RidgeClassifier
    from sklearn.svm import LinearSVC

    y = np.where(X[:, 0] > 0, 7, 3)
    for clf in (LinearSVC().fit(X, y), RidgeClassifier().fit(X, y)):
        name = type(clf).__name__
        hint = rf"{name}\.decision_function with outputs='logits'"
        with pytest.raises(ValueError, match=rf"a {name} is a classifier: pass {hint}"):
            ModelAdapter(clf, outputs="values")
        with pytest.raises(ValueError, match=rf"{name}\.predict returns class labels.*{hint}"):
            ModelAdapter(clf.predict, outputs="values")
        with pytest.raises(TypeError, match=rf"cannot use a {name} as it is: pass {hint}"):
            ModelAdapter(clf)
        taken = ModelAdapter(clf.decision_function, outputs="logits").log_proba(X)
        np.testing.assert_allclose(taken[:, 1] - taken[:, 0], clf.decision_function(X))


def test_outputs_that_are_not_one_column_per_class_are_refused():
    """SVC(decision_function_shape='ovo') gives a column per pair of classes: with 4 classes
    6 columns, named past the end of classes_ (an IndexError in every report)."""
    from sklearn.svm import SVC

    rows = np.random.default_rng(4).normal(size=(80, 2))
    y = np.digitize(rows[:, 0] + rows[:, 1], [-1, 0, 1])
    ovo = SVC(decision_function_shape="ovo").fit(rows, y)
    with pytest.raises(ValueError, match=r"a column per\s+pair of classes.*'ovr'"):
        ModelAdapter(ovo.decision_function, outputs="logits")

    class Pairs:  # an estimator-like wrapper of the pairs' scores, naming the 4 classes
        classes_ = ovo.classes_

        def fit(self, x, y):
            return self

        def predict_proba(self, x):
            return softmax(ovo.decision_function(x))

    with pytest.raises(ModelError, match=r"6 columns for its 4 classes .*'ovr'"):
        ModelAdapter(Pairs()).log_proba(rows)
    # with 3 classes, 3 pairs: as many columns as classes, each read as a class
    three = SVC(decision_function_shape="ovo").fit(rows, np.minimum(y, 2))
    with pytest.raises(ValueError, match=r"a column per\s+pair of classes"):
        ModelAdapter(three.decision_function, outputs="logits")
    ovr = SVC(decision_function_shape="ovr").fit(rows, y)
    assert ModelAdapter(ovr.decision_function, outputs="logits").log_proba(rows).shape == (80, 4)
    with pytest.raises(TypeError, match=r"outputs='logits' \(or fit it with probability=True\)"):
        ModelAdapter(ovr)


def test_a_wrapper_of_a_sigmoid_naming_two_classes_gives_class_1():
    """An estimator-like wrapper whose predict_proba returns a sigmoid's (n, 1) column, as
    Keras' predict does, was refused as knowing one class only (its bound method passed)."""

    class Wrapper:
        classes_ = np.array([0, 1])

        def fit(self, x, y):
            return self

        def predict_proba(self, x):
            return 1 / (1 + np.exp(-x[:, :1]))

    for model in (Wrapper(), Wrapper().predict_proba):
        p = ModelAdapter(model).proba(X)
        np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-X[:, 0])))


def test_crafted_rows_are_made_one_batch_at_a_time():
    """Guided mode and scrutinize made every perturbed copy of 32 inputs before the first
    batch (64x64x3 images: 279 MB whatever batch_size; 224x224 ones: gigabytes)."""
    made = []

    def block(i, n):
        def rows(a, b):
            made.append(b - a)
            return X[i] + np.arange(a, b)[:, None]

        return n, rows

    adapter = ModelAdapter(probs, batch_size=4)
    blocks = [block(0, 3), block(1, 6), block(2, 1), block(3, 5)]
    whole = np.concatenate([X[i] + np.arange(n)[:, None] for i, n in enumerate((3, 6, 1, 5))])
    np.testing.assert_array_equal(adapter.responses_of(blocks), adapter.responses(whole))
    assert max(made) <= 4 and sum(made) == 15  # no more rows at once than a batch
    assert adapter.n_calls == 8  # 4 batches each way, as before


def test_an_explainer_of_a_torch_module_pickles_and_explains_as_before():
    """Its queries went through a closure, which pickle refuses ("Can't pickle local
    object"): an explainer of a scikit-learn model went to joblib and worker processes,
    one of a torch module did not. The dtype it learned (word ids) goes with it."""
    import pickle

    from scrutiny import Explainer

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 3))
    X = np.random.default_rng(0).normal(size=(60, 5)).astype(np.float32)
    ex = Explainer(net, X, outputs="logits", surrogate={"n_sweeps": 10}, progress=False)
    back = pickle.loads(pickle.dumps(ex))
    np.testing.assert_array_equal(back.explain(X[:3]).values, ex.explain(X[:3]).values)
    adapter = ModelAdapter(WordIds(), outputs="logits")
    ids = np.random.default_rng(1).integers(1, 10, size=(4, 6)).astype(float)
    adapter.log_proba(ids)
    assert pickle.loads(pickle.dumps(adapter))._call.dtype == torch.long


def test_a_callable_of_float32_gets_its_batch_with_no_float64_copy_on_the_way():
    """A batch of the explainer's float64 rows was copied whole, then cast: 256 colour
    images of 224 x 224 took 462 MB for the model's 154 MB."""
    import tracemalloc

    rows = np.random.default_rng(1).normal(size=(64, 3, 64, 64))  # 6.3 MB of float64
    adapter = ModelAdapter(lambda x: softmax(x.reshape(len(x), -1)[:, :3]))
    adapter.take_dtype(rows.astype(np.float32))
    tracemalloc.start()
    try:
        given = adapter.model_inputs(rows)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert given.dtype == np.float32 and np.array_equal(given, rows.astype(np.float32))
    assert peak < 1.25 * given.nbytes


def test_the_state_of_an_ensemble_does_not_walk_its_members():
    """A fit makes a new list of an ensemble's members: walking a forest's 500 trees at
    each explain took 8 ms, a third of the explanation of one input."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline

    walked = []

    class Tree:  # a member that counts each look into it
        def get_params(self, deep=True):
            return {}

        @property
        def __dict__(self):
            walked.append(1)
            return {}

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    forest = RandomForestClassifier(3, random_state=0).fit(X, X[:, 0] > 0)
    pipe = make_pipeline(forest)
    state = ModelAdapter(pipe).state()
    forest.estimators_ = [Tree()] * 500
    assert ModelAdapter(pipe).state() != state  # a new list: trained again
    assert walked == []
    forest.fit(X, X[:, 1] > 0)  # a step fitted in place is still seen
    assert ModelAdapter(pipe).state() != state


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`torch.jit.freeze` is deprecated:DeprecationWarning")
def test_a_frozen_torchscript_module_and_its_file(tmp_path):
    """torch.jit.freeze leaves a module without ``training``: it was refused as a model
    that raised AttributeError, as a module and as a saved file."""
    module = torch_model().eval()
    frozen = torch.jit.freeze(torch.jit.script(module))
    path = tmp_path / "frozen.pt"
    frozen.save(str(path))
    ref = ModelAdapter(module, "logits").log_proba(X)
    for model in (torch.jit.freeze(torch.jit.script(module)), path):
        np.testing.assert_allclose(ModelAdapter(model, "logits").log_proba(X), ref, atol=1e-6)


def test_a_model_of_one_input_at_a_time_is_told_of_batch_size():
    """A model that takes one row only raised its own words; the adapter, which answers
    one row alone, says which setting to change."""

    def one_at_a_time(x):
        if len(x) != 1:
            raise ValueError(f"got {len(x)} rows")
        return probs(x)

    with pytest.raises(ModelError, match=r"got 4 rows \(it answered one input alone.*batch_size"):
        ModelAdapter(one_at_a_time, batch_size=4).log_proba(X)
    out = ModelAdapter(one_at_a_time, batch_size=1).log_proba(X)
    np.testing.assert_allclose(np.exp(out), probs(X), rtol=1e-12)


def test_images_without_their_channel_for_a_channels_first_module_are_named():
    """(N, 8, 8) images for a Conv2d of 1 channel: torch read N as the channels of one
    unbatched image and said so in its own terms; the adapter says what to give."""
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(), torch.nn.Linear(72, 3))
    images = np.random.default_rng(0).random((4, 8, 8), dtype=np.float32)
    with pytest.raises(ModelError, match=r"channels.*\(N, 1, H, W\).*X\[:, None\]"):
        ModelAdapter(conv, outputs="logits").log_proba(images)
    assert ModelAdapter(conv, outputs="logits").log_proba(images[:, None]).shape == (4, 3)
