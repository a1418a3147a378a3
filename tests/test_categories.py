"""Columns of names (strings, pandas categoricals): carried as level codes, switched off to
their most frequent level, and turned back into names whenever the model is queried, so a
scikit-learn pipeline with its own encoder is explained on the table it was fitted on."""

import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("sklearn")

from scrutiny import Explainer, Explanation, fidelity  # noqa: E402
from scrutiny.categories import Categories, exact_text  # noqa: E402

HOMES = ["other", "owner", "parents", "rent"]  # sorted: their codes are 0..3
EFFECT = {"other": -1.0, "owner": 2.0, "parents": 0.0, "rent": 0.0}  # on the log-odds


def table(n=1200, seed=0):
    """A credit-like table with a column of strings, a pandas categorical and a number; the
    label's log-odds are additive in them."""
    rng = np.random.default_rng(seed)
    home = rng.choice(HOMES, n, p=[0.1, 0.3, 0.2, 0.4])  # "rent" the most frequent
    job = pd.Categorical(rng.choice(["fixed", "partime"], n, p=[0.6, 0.4]))
    income = rng.normal(size=n)
    frame = pd.DataFrame({"income": income, "home": home, "job": job})
    logit = 1.5 * income + np.vectorize(EFFECT.get)(home) - 1.0 * (job == "partime")
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return frame, y


def pipeline(frame, y):
    """One-hot encoding and a logistic regression: its log-odds are exactly additive, and it
    raises on level codes where it expects names."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    encode = make_column_transformer((OneHotEncoder(), ["home", "job"]), remainder="passthrough")
    return make_pipeline(encode, LogisticRegression(C=100.0)).fit(frame, y)


def log_odds(clf, frame):
    p = clf.predict_proba(frame)[:, 1]
    return np.log(p / (1 - p))


def test_codes_and_names_go_back_and_forth():
    frame, _ = table(50)
    frame["tier"] = pd.array(np.where(frame["income"] > 0, "high", "low"), dtype="string")
    cats = Categories.from_frame(frame)
    assert cats.names == ["income", "home", "job", "tier"]
    assert cats.columns.tolist() == [1, 2, 3]
    assert cats.levels["home"] == HOMES and cats.levels["job"] == ["fixed", "partime"]
    codes = cats.encode(frame)
    assert codes["home"].tolist() == [HOMES.index(h) for h in frame["home"]]
    assert np.array_equal(codes["income"], frame["income"])  # numbers stay numbers
    assert frame["home"].dtype != np.float64  # the caller's frame is untouched
    back = cats.decode(codes.to_numpy(dtype=np.float64))
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert isinstance(back["job"].dtype, pd.CategoricalDtype)  # each column in its kind
    assert back["job"].cat.categories.tolist() == ["fixed", "partime"]
    assert str(back["tier"].dtype) == "string"
    rows = codes.to_numpy(dtype=np.float64)
    for bad in (4.0, 1.5, -1.0):
        rows[0, 1] = bad
        with pytest.raises(ValueError, match=f"'home' holds {bad:g}, which is no level"):
            cats.decode(rows)
    unseen = frame.assign(home=["castle", *frame["home"].tolist()[1:]])
    with pytest.raises(ValueError, match=r"'home' holds levels the fit data never held: 'castle"):
        cats.encode(unseen)
    gap = frame.assign(home=[None, *frame["home"].tolist()[1:]])
    with pytest.raises(ValueError, match="categorical column 'home' has 1 gaps"):
        Categories.from_frame(gap)
    assert Categories.from_frame(frame[["income"]]) is None
    # a category the fit data never holds has no effect to learn: refused, as an unseen one;
    # the model still gets its categorical with every category
    wide = frame.assign(job=frame["job"].cat.add_categories(["retired"]))
    cats = Categories.from_frame(wide)
    assert cats.levels["job"] == ["fixed", "partime"]
    assert cats.decode(cats.encode(wide).to_numpy(dtype=float))["job"].cat.categories.tolist() == [
        "fixed",
        "partime",
        "retired",
    ]
    with pytest.raises(ValueError, match=r"never held: 'retired'"):
        cats.encode(wide.assign(job=pd.Categorical(["retired"] * 50, categories=["retired"])))
    with pytest.raises(ValueError, match=r"as an array \(explainer.check_inputs"):  # codes
        Categories.from_frame(frame).encode(Categories.from_frame(frame).encode(frame))
    ranked = frame.assign(job=frame["job"].cat.as_ordered())
    cats = Categories.from_frame(ranked)
    assert cats.decode(cats.encode(ranked).to_numpy(dtype=float))["job"].cat.ordered
    mixed = frame.assign(home=["a", 1, 2.5, True] * 12 + ["a", "a"])
    with pytest.raises(TypeError, match="'home' mixes values of kinds"):
        Categories.from_frame(mixed)
    assert Categories.from_json(cats.to_json()).levels == cats.levels


def test_a_pipeline_is_queried_with_names_and_levels_are_switched_off_to_the_most_frequent():
    frame, y = table()
    clf = pipeline(frame, y)
    with pytest.raises((TypeError, ValueError)):  # it cannot read codes: names must reach it
        clf.predict_proba(frame.assign(home=1.0))
    ex = Explainer(clf, frame, mode="local", n_samples=300, random_state=0, progress=False)
    rep = ex.representation
    assert rep.categorical.tolist() == [1, 2]
    assert rep.baseline[1] == HOMES.index("rent") and rep.baseline[2] == 0  # most frequent
    assert rep.baseline[0] == pytest.approx(frame["income"].mean())
    # one regime, ridge-like prior: the local fit of an additive model is its exact effects
    ex.surrogate.update(n_components=1, lambda1=0.0)
    rows = frame.iloc[:12]
    exp = ex.explain(rows[["job", "income", "home"]])  # columns matched by name
    assert exp.meta["categories"]["levels"] == {"home": HOMES, "job": ["fixed", "partime"]}
    switched = rows.assign(home="rent")
    effect = log_odds(clf, rows) - log_odds(clf, switched)
    sign = np.where(exp.target == 1, 1.0, -1.0)
    assert np.allclose(exp.values[:, 1], sign * effect, atol=0.05)  # home's exact effect
    at_base = rows["home"].to_numpy() == "rent"
    assert at_base.any() and (exp.values[at_base, 1] == 0).all()
    x = ex.check_inputs(rows)
    assert np.allclose(exp.coefficients * (x - rep.baseline), exp.values)  # the contract
    assert exp.level(0, 1) == rows["home"].iloc[0] and exp.level(0, 0) is None
    frame_out = exp.to_frame()
    assert frame_out.loc[frame_out["name"] == "home", "level"].tolist() == rows["home"].tolist()
    import matplotlib

    matplotlib.use("Agg")
    from scrutiny import plots

    labels = [t.get_text() for t in plots.explanation_bars(exp, 0, k=3).get_yticklabels()]
    assert f"home = {rows['home'].iloc[0]}" in labels  # the level by name, not its code


def test_global_mode_gives_a_categorical_column_its_regime_effect():
    frame, y = table()
    clf = pipeline(frame, y)
    ex = Explainer(
        clf, frame, surrogate={"n_sweeps": 150, "n_components": 2}, random_state=0, progress=False
    )
    exp = ex.explain(frame.iloc[:200], target=1)
    x = ex.check_inputs(frame.iloc[:200])
    assert np.allclose(exp.coefficients * (x - ex.representation.baseline), exp.values)
    home = frame["home"].iloc[:200].to_numpy()
    assert (exp.values[home == "rent", 1] == 0).all()
    # the model's log-odds are linear in one 0/1 column per level, as the global design is:
    # each level gets its own effect (one 0/1 "not rent" feature would give them one), up to
    # the prior's pull on 1,200 noiseless rows
    rows = frame.iloc[:200]
    effect = log_odds(clf, rows) - log_odds(clf, rows.assign(home="rent"))
    assert np.ptp(effect) > 3.0  # owner about +2, other about -1
    assert np.allclose(exp.values[:, 1], effect, atol=0.05)
    # rows of names and numbers as a NumPy object array are read in X_fit's order
    again = ex.explain(frame.iloc[:5].to_numpy(dtype=object), target=1)
    assert np.array_equal(again.values, exp.values[:5])


def test_fidelity_tests_switch_a_column_of_names_to_its_baseline_level():
    frame, y = table()
    clf = pipeline(frame, y)
    seen = []

    def model(rows):
        seen.append(rows.copy())
        return clf.predict_proba(rows)

    ex = Explainer(model, frame, mode="local", n_samples=100, random_state=0, progress=False)
    owners = frame[(frame["home"] == "owner") & (clf.predict(frame) == 1)].iloc[:10]
    exp = ex.explain(owners, target=1)
    assert (exp.top(1)[:, 0] == 1).all()  # owning a home is what makes these good payers
    seen.clear()
    still = fidelity.deduction(ex.model, exp, ks=(1,))
    queried = pd.concat(seen)
    assert set(queried["home"]) <= set(HOMES) and "rent" in set(queried["home"])
    flipped = log_odds(clf, owners.assign(home="rent")) < 0
    assert np.array_equal(~still[0], flipped)  # the model's own answer on the switched rows


def test_a_saved_explainer_keeps_its_levels(tmp_path):
    frame, y = table()
    clf = pipeline(frame, y)
    ex = Explainer(clf, frame, surrogate={"n_sweeps": 60}, random_state=0, progress=False)
    exp = ex.explain(frame.iloc[:20])
    ex.save(tmp_path / "ex")
    loaded = Explainer.load(tmp_path / "ex", clf)  # checks the model on codes turned names
    again = loaded.explain(frame.iloc[:20])
    assert np.array_equal(again.values, exp.values)
    assert loaded.representation.categorical.tolist() == [1, 2]
    exp.save(tmp_path / "exp")
    saved = Explanation.load(tmp_path / "exp")
    assert saved.level(0, 1) == frame["home"].iloc[0]
    # the fidelity tests with the user's own pipeline: the explanation says which columns
    # hold names, so the pipeline gets names, as through the explainer's model
    with_names = fidelity.deduction(clf, saved, ks=(1, 2))
    assert np.array_equal(with_names, fidelity.deduction(ex.model, exp, ks=(1, 2)))


def test_baselines_explain_columns_of_names():
    pytest.importorskip("lime")
    pytest.importorskip("shap")
    from scrutiny.baselines import kernel_shap, lime_tabular

    frame, y = table()
    clf = pipeline(frame, y)
    ex = Explainer(clf, frame, mode="local", random_state=0, progress=False)
    rows = frame[frame["home"] != "rent"].iloc[:4]
    lime = lime_tabular(clf, rows, frame, num_samples=500, progress=False)
    assert np.array_equal(lime.baseline, ex.representation.baseline)  # the same game
    assert lime.meta["categories"]["levels"]["home"] == HOMES
    shap = kernel_shap(
        ex.model, rows, representation=ex.representation, l1_reg=False, progress=False
    )
    p = clf.predict_proba(rows)[np.arange(4), shap.target]
    p0 = clf.predict_proba(rows.assign(home="rent", job="fixed", income=frame["income"].mean()))
    assert np.allclose(shap.values.sum(axis=1), p - p0[np.arange(4), shap.target], atol=1e-6)
    for exp in (lime, shap):  # read as scrutiny's own: by level, and refused by the protocol
        assert exp.level(0, 1) == rows["home"].iloc[0] and "level" in exp.to_frame()
        with pytest.raises(ValueError, match=r"columns that name things"):
            fidelity.paper_protocol(clf, exp, ex.check_inputs(frame.iloc[4:20]), k=1)
    with pytest.raises(TypeError, match=r"columns \['home', 'job'\] hold names.*explainer.model"):
        kernel_shap(clf, rows, baseline=0.0, progress=False)
    # tree_shap takes neither (it pointed to explainer.model and representation=, which it
    # refused in turn): it names the explainers that take columns of names
    from scrutiny.baselines import tree_shap

    for model in (clf, ex.model):
        with pytest.raises(TypeError, match=r"tree_shap takes a tree ensemble .*exact_shapley"):
            tree_shap(model, rows, ex.representation.baseline)


def test_donors_with_names_are_read_by_the_explanations_levels():
    """A DataFrame of donors with columns of names was refused, though the explanation
    carries its levels, as deduction reads them; an array of names still is."""
    frame, y = table(300)
    clf = pipeline(frame, y)
    ex = Explainer(clf, frame, mode="local", n_samples=50, random_state=0, progress=False)
    exp = ex.explain(frame.iloc[:3])
    done = fidelity.augmentation(ex.model, exp, ex.check_inputs(frame.iloc[3:50]), ks=(1,))
    assert done.shape == (1, 3)
    named = fidelity.augmentation(clf, exp, frame.iloc[3:50][frame.columns[::-1]], ks=(1,))
    np.testing.assert_array_equal(named, done)
    with pytest.raises(TypeError, match=r"donors must be numbers .*explainer.check_inputs"):
        fidelity.augmentation(ex.model, exp, frame.iloc[3:50].to_numpy(), ks=(1,))


def test_pathological_samples_transplant_the_decisive_level():
    """Owning a home decides; transplanted into a host of any other home, it must be picked
    first. A code is a name, so the host's level counts by whether it differs, not by how
    far its code is (rent is code 3 and the baseline, other code 0, owner 1 in between)."""
    from scrutiny.scrutinize import scrutinize

    rng = np.random.default_rng(1)
    frame, _ = table(1500)
    logit = 4.0 * (frame["home"] == "owner") - 2.0 + 0.3 * frame["income"]
    clf = pipeline(frame, (rng.uniform(size=len(frame)) < 1 / (1 + np.exp(-logit))).astype(int))
    ex = Explainer(clf, frame, surrogate={"n_sweeps": 100}, random_state=0, progress=False)
    found = scrutinize(ex, frame.iloc[:300], 1, mode="global", ks=(1,), max_inputs=40)
    attack = found.pathological["other classes"]
    hosts = ex.check_inputs(frame.iloc[:300])[clf.predict(frame.iloc[:300]) == 0]
    crafted = attack.samples(1)
    owner = HOMES.index("owner")
    assert (crafted[:, 1] == owner).all()  # home transplanted into every host
    assert set(hosts[:, 1]) >= {0.0, 2.0, 3.0}  # hosts of every other home were there
    assert attack.success[0].mean() > 0.8  # and the model then calls them good payers
    # as the model takes them: its columns, names for codes, what it was asked about
    rows = attack.model_inputs(1)
    assert list(rows.columns) == list(frame.columns) and (rows["home"] == "owner").all()
    np.testing.assert_array_equal(clf.predict(rows), attack.predictions[0])
    np.testing.assert_array_equal(rows["income"], crafted[:, 0])


def test_table_patterns_rank_columns_per_standard_deviation_and_name_levels():
    """A class pattern of a table nullifies the columns of largest effect per standard
    deviation, not per unit (income in thousands has a tiny coefficient per unit), and the
    report names each regime's columns, a column of names by its level."""
    from scrutiny.scrutinize import scrutinize
    from scrutiny.weakness_report import _pattern_columns

    frame, y = table(1500)
    frame["income"] *= 1000.0  # sd 1,000: 1.5 on the log-odds per sd, 0.0015 per unit
    frame["rate"] = np.random.default_rng(2).normal(size=len(frame))  # noise, sd 1
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    encode = make_column_transformer(
        (OneHotEncoder(), ["home", "job"]), (StandardScaler(), ["income", "rate"])
    )
    clf = make_pipeline(encode, LogisticRegression(C=100.0)).fit(frame, y)
    ex = Explainer(clf, frame, surrogate={"n_sweeps": 100}, random_state=0, progress=False)
    found = scrutinize(ex, frame.iloc[:300], 1, mode="global", ks=(2,), max_inputs=60)
    heaviest = found.patterns[0]
    crafted = heaviest.nullified.samples(2)
    mine = found.regime.component == heaviest.component
    inputs = ex.check_inputs(frame.iloc[:300])[found.index][mine]
    changed = np.flatnonzero((crafted != inputs).any(axis=0))
    assert changed.tolist() == [0, 1]  # owner (+2), income (+1.5 per sd, 0.0015 per unit)
    text = _pattern_columns(heaviest, ex)
    assert text.startswith("home=owner +") and ", income +" in text
    saved = found.to_dict()["patterns"][0]  # results.json ranks as the report does
    assert saved["top_150_elements"][:2] == [1, 0]
    assert saved["levels"]["1"] == HOMES.index("owner")


def test_numbers_that_name_things_are_categorical_when_asked():
    """A column of codes the model reads as names (a zip code): asked to, the explainer
    switches it off to its most frequent value, never to the mean (which is no zip code),
    gives each value its own effect, and refuses one the fit data never held."""
    rng = np.random.default_rng(3)
    n = 1500
    zips = rng.choice([10.0, 20.0, 30.0, 75.0], n, p=[0.2, 0.4, 0.2, 0.2])
    X = np.column_stack([rng.normal(size=n), zips])
    effect = {10.0: -1.0, 20.0: 0.0, 30.0: 0.5, 75.0: 2.0}
    seen = []

    def model(rows):
        seen.append(rows[:, 1].copy())
        z = rows[:, 0] + np.vectorize(effect.get)(rows[:, 1])  # raises on a non-zip
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    ex = Explainer(
        model, X, categorical=[1], surrogate={"n_sweeps": 100}, random_state=0, progress=False
    )
    rep = ex.representation
    assert rep.categorical.tolist() == [1] and rep.baseline[1] == 20.0  # the most frequent
    assert rep.levels[0].tolist() == [10.0, 20.0, 30.0, 75.0]
    exp = ex.explain(X[:200], target=1)
    truth = np.vectorize(effect.get)(X[:200, 1])  # against 20, whose effect is 0
    assert np.allclose(exp.values[:, 1], truth, atol=0.05)
    assert set(np.concatenate(seen)) <= set(effect)  # the model only ever saw zip codes
    assert [exp.level(i, 1) for i in range(3)] == [str(int(z)) for z in X[:3, 1]]
    assert exact_text(94110.0) == "94110" and exact_text(94112.5) == "94112.5"  # not 9.411e4
    with pytest.raises(ValueError, match=r"categorical column 1 holds values the fit data never"):
        ex.explain(np.array([[0.0, 99.0]]))
    frame = pd.DataFrame(X, columns=["score", "zip"])
    named = Explainer(
        model, frame, categorical=["zip"], surrogate={"n_sweeps": 100}, progress=False
    )
    assert named.representation.categorical.tolist() == [1]
    from scrutiny.scrutinize import scrutinize
    from scrutiny.weakness_report import _pattern_columns

    found = scrutinize(named, frame.iloc[:300], 1, mode="global", ks=(1,), max_inputs=40)
    assert "zip=75 +" in _pattern_columns(found.patterns[0], named)  # by value, for class 1
    pytest.importorskip("lime")
    from scrutiny.baselines import lime_tabular

    lime = lime_tabular(model, X[:3], X, categorical=[1], num_samples=300, progress=False)
    assert np.array_equal(lime.baseline, rep.baseline)  # the same game: zip 20 when off
    assert lime.level(0, 1) == str(int(X[0, 1]))  # a zip code, not its float
    with pytest.raises(ValueError, match=r"categorical column 'city' is not one of X_fit's"):
        Explainer(model, frame, categorical=["city"], progress=False)


def test_fidelity_gives_a_models_columns_by_name_from_the_explanation():
    """A DataFrame explained in another column order than the model was fitted on: the
    fidelity tests with the raw model must give it each column by name."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    f = pd.DataFrame(rng.normal(size=(400, 3)), columns=["a", "b", "c"])
    clf = LogisticRegression().fit(f, (f["a"] - 2 * f["c"] > 0).astype(int))
    g = f[["c", "b", "a"]]
    ex = Explainer(clf, g, mode="local", n_samples=100, random_state=0, progress=False)
    exp = ex.explain(g.iloc[:20])
    assert np.array_equal(
        fidelity.deduction(clf, exp, ks=(1,)), fidelity.deduction(ex.model, exp, ks=(1,))
    )
    # a column the model was not fitted on: never read, it was credited with a's effect
    copy = g.assign(a_pct=(g["a"] * 100).round())
    with pytest.raises(ValueError, match=r"X_fit's columns \['a_pct'\] are not among those"):
        Explainer(clf, copy, progress=False)


def test_the_papers_protocol_refuses_columns_of_names_before_any_query():
    """It crafts -0.5, 5 and 3 times a reference's values: a level's code times 5 is no
    level (the pipeline raised on it, at the first query)."""
    frame, y = table(300)
    clf = pipeline(frame, y)
    ex = Explainer(clf, frame, mode="local", n_samples=50, random_state=0, progress=False)
    exp = ex.explain(frame.iloc[:4], target=1)
    with pytest.raises(ValueError, match=r"columns that name things \(\['home', 'job'\]\)"):
        fidelity.paper_protocol(clf, exp, ex.check_inputs(frame.iloc[4:20]), k=1)


def test_a_transplanted_level_is_weighed_against_the_hosts_own():
    """Transplanting "parents" (+2.5) into a host that owns its home (+3) lowers the class:
    its gain is the donor's level's effect less the host's, not the donor's alone."""
    from scrutiny.scrutinize import scrutinize

    rng = np.random.default_rng(5)
    frame, _ = table(2000, seed=5)
    home = frame["home"].to_numpy()
    logit = 3.0 * (home == "owner") + 2.5 * (home == "parents") - 2.5 + frame["income"]
    clf = pipeline(frame, (rng.uniform(size=len(frame)) < 1 / (1 + np.exp(-logit))).astype(int))
    ex = Explainer(clf, frame, surrogate={"n_sweeps": 100}, random_state=0, progress=False)
    found = scrutinize(ex, frame.iloc[:1500], 1, mode="global", ks=(1,), max_inputs=400)
    attack = found.pathological["other classes"]
    donors = ex.check_inputs(frame.iloc[:1500])[found.index]
    hosts, crafted = attack.originals.reshape(len(donors), -1), attack.samples(1)
    parents, owner = HOMES.index("parents"), HOMES.index("owner")
    pairs = (donors[:, 1] == parents) & (hosts[:, 1] == owner)
    assert pairs.sum() >= 3
    assert (crafted[pairs, 1] == owner).all()  # the host keeps its better home


def test_one_row_of_a_dataframe_is_explained_as_shap_and_lime_users_pass_it():
    frame, y = table(300)
    clf = pipeline(frame, y)
    ex = Explainer(clf, frame, surrogate={"n_sweeps": 40}, random_state=0, progress=False)
    one = ex.explain(frame.iloc[3])  # a pandas Series: names and numbers
    assert len(one) == 1 and np.array_equal(one.values, ex.explain(frame.iloc[[3]]).values)
    # its values as an array were refused as strings, to encode with TextEncoder
    np.testing.assert_array_equal(ex.explain(frame.iloc[3].to_numpy()).values, one.values)
    for row in (frame.iloc[3].tolist(), tuple(frame.iloc[3])):  # as a list, not as text
        np.testing.assert_array_equal(ex.explain(row).values, one.values)
    rows = frame.iloc[[3, 4]]
    np.testing.assert_array_equal(ex.explain(rows.values.tolist()).values, ex.explain(rows).values)


def test_a_tables_baseline_is_given_by_column_name():
    """ "Absent" by name: owning no home means renting, say, and income its median; the
    columns not named keep their default, and a level or column that is not is refused."""
    frame, y = table(400)
    clf = pipeline(frame, y)
    ex = Explainer(
        clf,
        frame,
        baseline={"home": "other", "income": frame["income"].median()},
        mode="local",
        progress=False,
    )
    b = ex.representation.baseline
    assert b[1] == HOMES.index("other") and b[0] == frame["income"].median()
    assert b[2] == 0  # job: its most frequent level still
    flagged = frame.assign(flag=np.arange(len(frame)) % 2 == 0)  # a bool's median: 0.5
    median = flagged.select_dtypes("number").median()  # the README's recipe
    by_series = Explainer(
        lambda f: clf.predict_proba(f[frame.columns]), flagged, baseline=median, progress=False
    )
    assert by_series.representation.baseline[0] == frame["income"].median()
    with pytest.raises(
        ValueError, match="the baseline of 'home' is 'castle', not one of its levels"
    ):
        Explainer(clf, frame, baseline={"home": "castle"}, progress=False)
    # levels shown as they are: 'True' is no level of bools, and read "not one of its
    # levels ['False', 'True']"
    with pytest.raises(
        ValueError, match=r"'flag' is 'True', not one of its levels \(False, True\)"
    ):
        Explainer(lambda f: clf.predict_proba(f[frame.columns]), flagged, baseline={"flag": "True"})
    with pytest.raises(ValueError, match="the baseline names column 'city', which X_fit lacks"):
        Explainer(clf, frame, baseline={"city": 1.0}, progress=False)
    rows = frame[frame["home"] == "owner"].iloc[:3]
    exp = ex.explain(rows, target=1)  # owner against other: the model's +3 (2 - -1)
    effect = log_odds(clf, rows) - log_odds(clf, rows.assign(home="other"))
    assert np.allclose(exp.values[:, 1], effect, atol=0.3)


def test_numpy_scalars_are_of_their_python_values_kind():
    """pd.concat of a frame built from numpy choices and one from literals holds str and
    numpy.str_ (int and numpy.int64): one kind, not a mix to refuse."""
    drawn = pd.DataFrame({"home": list(np.array(["rent", "owner"])), "zip": [np.int64(94110)] * 2})
    typed = pd.DataFrame(
        {"home": ["other", "rent"], "zip": pd.Series([10001, 94110], dtype=object)}
    )
    cats = Categories.from_frame(pd.concat([drawn, typed], ignore_index=True))
    assert cats.levels == {"home": ["other", "owner", "rent"], "zip": [10001, 94110]}
    for mix, kinds in [
        (["a", np.int64(1)], "integer', 'string"),
        ([np.bool_(True), 2], "bool', 'integer"),
        ([np.int64(1), 2.5], "integer', 'real number"),  # 2.5 beside level 1 names nothing
    ]:
        with pytest.raises(TypeError, match=f"'home' mixes values of kinds .*{kinds}"):
            Categories.from_frame(pd.DataFrame({"home": pd.Series(mix, dtype=object)}))


def test_times_and_dates_are_refused_not_taken_as_names():
    """A time-zoned time or a period was a column of names (each time a level of its own),
    and a column of dates was explained, then could not be saved: levels go to JSON."""
    import datetime

    from scrutiny.categories import Categories, is_categorical

    n = 40
    times = {
        "zoned": pd.date_range("2024-01-01", periods=n, tz="UTC"),
        "period": pd.period_range("2024-01", periods=n, freq="M"),
        "interval": pd.interval_range(0, n),
    }
    for name, col in times.items():
        frame = pd.DataFrame({"x": np.arange(n, dtype=float), name: col})
        assert not is_categorical(frame[name])
        with pytest.raises(TypeError, match=rf"columns \['{name}'\] are not numbers"):
            Explainer(lambda f: np.full((len(f), 2), 0.5), frame, progress=False)
    dates = pd.DataFrame({"day": [datetime.date(2024, 1, 1 + i % 28) for i in range(n)]})
    with pytest.raises(TypeError, match=r"column 'day' holds values of type \['date'\]"):
        Categories.from_frame(dates)
    lists = pd.DataFrame({"tags": [["a", "b"], ["c"]] * 5})  # unhashable: was set()'s error
    with pytest.raises(TypeError, match=r"column 'tags' holds values of type \['list'\]"):
        Categories.from_frame(lists)


def test_explanations_go_to_shaps_plots_adding_up_as_shap_reads_them():
    pytest.importorskip("shap")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import shap

    from scrutiny.baselines import kernel_shap

    frame, y = table(400)
    clf = pipeline(frame, y)
    ex = Explainer(clf, frame, mode="local", n_samples=60, random_state=0, progress=False)
    # one regime, ridge-like prior: with the mixture, a row can fall in a component of a few
    # perturbations whose intercept is off by 0.6-1.2 (14 of 40 seeds); with one, 0.01 at most
    ex.surrogate.update(n_components=1, lambda1=0.0)
    rows = frame.iloc[:3]
    ours = ex.explain(rows)
    rep = ex.representation
    theirs = kernel_shap(ex.model, rows, representation=rep, l1_reg=False, progress=False)
    for exp in (ours, theirs):
        s = exp.to_shap()
        assert s.feature_names == ["income", "home", "job"]
        assert list(s.display_data[:, 1]) == list(rows["home"])  # levels, not their codes
        np.testing.assert_array_equal(s.values, exp.values)
        ax = shap.plots.waterfall(s[0], show=False)  # shap's own plot draws it
        plt.close(ax.figure)
    # the base value is the surrogate at the baseline: for this exactly additive logit the
    # model's logit there, to the posterior mean's error (at most 0.010 over seeds 0-39)
    p0 = clf.predict_proba(ex.categories_.decode(ex.representation.baseline[None]))[0]
    at_baseline = np.log(p0[ours.target] / (1 - p0[ours.target]))
    np.testing.assert_allclose(ours.to_shap().base_values, at_baseline, atol=0.02)
    p = clf.predict_proba(rows)[np.arange(3), theirs.target]  # KernelSHAP: the probability
    np.testing.assert_allclose(
        theirs.to_shap().base_values + theirs.values.sum(axis=1), p, atol=1e-6
    )
    assert ours.to_shap().lower_bounds is not None and theirs.to_shap().lower_bounds is None
    from scrutiny.baselines import random_explanation

    with pytest.raises(ValueError, match="random explanations have no surrogate output"):
        random_explanation(ours).to_shap()


def test_bools_and_categoricals_of_numbers_are_levels_given_back_in_their_dtype():
    """A bool switched off to its mean (0.55) is a value it never takes: a one-hot
    encoder of the model's refused it, and a model reading a pandas categorical of numbers
    took its mean for a missing value. Both are levels, and the model gets its dtypes."""
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    frame, y = table()
    rng = np.random.default_rng(1)
    frame = frame.assign(
        flag=rng.random(len(frame)) < 0.55,
        grade=pd.Categorical(rng.choice([1, 2, 3], len(frame), p=[0.2, 0.5, 0.3])),
        member=pd.array(rng.random(len(frame)) < 0.3, dtype="boolean"),
    )
    y = np.where(frame["flag"], y, 1 - y)
    encode = make_column_transformer(
        (OneHotEncoder(), ["home", "job", "flag", "grade", "member"]), remainder="passthrough"
    )
    clf = make_pipeline(encode, LogisticRegression(C=100.0)).fit(frame, y)
    seen = []

    def model(rows):
        seen.append(rows.dtypes.astype(str).to_dict())
        return clf.predict_proba(rows)

    ex = Explainer(model, frame, mode="local", n_samples=200, random_state=0, progress=False)
    rep = ex.representation
    assert rep.categorical.tolist() == [1, 2, 3, 4, 5]
    assert ex.categories_.levels["flag"] == [False, True] and rep.baseline[3] == 1  # True
    as_text = frame.iloc[:3].astype({"flag": str})  # 'False' was unknown and known at once
    with pytest.raises(ValueError, match=r"never held: 'False', 'True' \(known: False, True\)"):
        ex.check_inputs(as_text)
    assert ex.categories_.levels["grade"] == [1, 2, 3] and rep.baseline[4] == 1  # grade 2
    assert rep.baseline[5] == 0  # member: False, the most frequent
    ex.surrogate.update(n_components=1, lambda1=0.0)
    exp = ex.explain(frame.iloc[:8])
    flipped = frame.iloc[:8].assign(flag=True)
    effect = log_odds(clf, frame.iloc[:8]) - log_odds(clf, flipped)
    sign = np.where(exp.target == 1, 1.0, -1.0)
    assert np.allclose(exp.values[:, 3], sign * effect, atol=0.05)  # flag's exact effect
    want = {"flag": "bool", "grade": "category", "member": "boolean"}
    assert all({k: d[k] for k in want} == want for d in seen)
    few = Explainer(
        model, frame.assign(flag=False).iloc[:50], mode="local", n_samples=40, progress=False
    )
    assert few.categories_.levels["flag"] == [False, True]
    assert np.isfinite(few.explain(frame[frame["flag"]].iloc[:1]).values).all()  # unseen
    assert exp.to_frame().query("name == 'flag'")["level"].tolist() == [
        str(v) for v in frame["flag"].iloc[:8]
    ]


def test_bools_reach_a_model_of_arrays_as_numbers_and_the_baselines_take_them():
    """pd.get_dummies makes bool columns: as levels, they were decoded into a DataFrame of
    objects that a torch model refused, and the baselines refused them as names."""
    from sklearn.linear_model import LogisticRegression

    from scrutiny.baselines import exact_shapley, kernel_shap

    rng = np.random.default_rng(0)
    raw = pd.DataFrame({"age": rng.normal(size=200), "home": rng.choice(["rent", "own"], 200)})
    X = pd.get_dummies(raw)  # age, home_own, home_rent (bools)
    seen = []

    def arrays(rows):  # a model of float arrays, not fitted on a DataFrame
        seen.append(type(rows))
        z = np.asarray(rows, dtype=np.float64) @ [1.0, 2.0, -1.0]
        p = 1 / (1 + np.exp(-z))
        return np.column_stack([1 - p, p])

    ex = Explainer(arrays, X, mode="local", n_samples=60, random_state=0, progress=False)
    ex.surrogate.update(n_components=1, lambda1=0.0)
    exp = ex.explain(X.iloc[:4], target=1)
    assert set(seen) == {np.ndarray}
    own = X["home_own"].iloc[:4].to_numpy()
    base_own = ex.representation.baseline[1]  # the most frequent level's code
    # switching home_own to its baseline level moves the logit by 2 where it differs
    expected = np.where(own != bool(base_own), 2.0 * (own.astype(float) - base_own), 0.0)
    np.testing.assert_allclose(exp.values[:, 1], expected, atol=0.05)
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(3, 2)
    with torch.no_grad():  # set, not drawn: some draws' logits all lay in [0, 1], and were
        net.weight.copy_(torch.tensor([[1.0, 2.0, -1.0], [-1.0, 0.5, 1.0]]))  # refused as
        net.bias.zero_()  # probabilities
    local = Explainer(net, X, outputs="logits", mode="local", n_samples=30, progress=False)
    assert np.isfinite(local.explain(X.iloc[:1]).values).all()
    clf = LogisticRegression().fit(X, X["home_own"] ^ (X["age"] > 0))
    for values in (
        kernel_shap(clf.predict_proba, X.iloc[:3], baseline=X.mean(), nsamples=60, progress=False),
        exact_shapley(clf.predict_proba, X.iloc[:3], baseline=X.mean()),
    ):
        assert values.values.shape == (3, 3) and np.isfinite(values.values).all()


def test_a_frames_own_labels_and_kinds_reach_the_model(tmp_path):
    """Columns labelled 0, 1, 2 (or by a MultiIndex) reached the model as '0', '1', '2' (a
    model reading frame[0] failed); object columns of numbers (df.T.T, pd.concat of rows)
    were read as names, a level per value, and new rows refused; a Series row was refused
    by the baselines; a complex column lost its imaginary part."""
    from scrutiny.baselines import exact_shapley, lime_tabular

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({0: rng.normal(size=60), 1: rng.choice(["a", "b"], 60)})
    seen = []

    def model(rows):
        seen.append(list(rows.columns))
        z = rows[0].to_numpy(float) + 2.0 * (rows[1] == "a").to_numpy()
        p = 1 / (1 + np.exp(-z))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(model, frame, surrogate={"n_sweeps": 4, "n_components": 2}, progress=False)
    ex.explain(frame.iloc[:2])
    assert seen[-1] == [0, 1]
    lime_tabular(model, frame.iloc[0], frame, num_samples=30, progress=False)  # a Series row
    assert seen[-1] == [0, 1]
    numbers = pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40)}).astype(object)
    linear = Explainer(
        lambda R: model(pd.DataFrame({0: R[:, 0], 1: "a"})),
        numbers,
        surrogate={"n_sweeps": 4, "n_components": 2},
        progress=False,
    )
    assert linear.categories_ is None or not linear.categories_.columns.size  # numbers
    assert linear.explain(numbers.iloc[:2] + 1.0).values.shape == (2, 2)  # new values: taken
    exact = exact_shapley(ex.model, frame.iloc[3], representation=ex.representation)
    assert exact.values.shape == (1, 2)
    exp = ex.explain(frame.iloc[:3])  # the tests of it, and a loaded explainer, query alike
    from scrutiny import fidelity

    fidelity.deletion(model, exp, ks=(1,))
    assert seen[-1] == [0, 1]
    ex.save(tmp_path / "ex")
    back = Explainer.load(tmp_path / "ex", model, progress=False)
    np.testing.assert_array_equal(back.explain(frame.iloc[:3]).values, exp.values)
    months = pd.DataFrame(
        rng.normal(size=(60, 2)), columns=pd.date_range("2024-01", periods=2, freq="MS")
    )
    dated = Explainer(
        lambda R: model(pd.DataFrame({0: np.asarray(R)[:, 0], 1: "a"})),
        months,
        surrogate={"n_sweeps": 4, "n_components": 2},
        progress=False,
    )
    dated.explain(months.iloc[:2]).save(tmp_path / "months")  # labels JSON cannot hold
    dated.save(tmp_path / "dated")
    with pytest.raises(TypeError, match=r"columns \['z'\] hold complex numbers"):
        Explainer(model, frame.assign(z=rng.normal(size=60) + 1j))


def test_a_background_set_as_shap_takes_is_told_to_give_one_row():
    """shap's idiom: a background set. A one-row one (a DataFrame, by name) is a baseline;
    several rows were refused by their shape alone."""
    frame, y = table(400)
    clf = pipeline(frame, y)
    row = frame.iloc[[7]][["job", "income", "home"]]  # another column order: by name
    ex = Explainer(clf, frame, baseline=row, mode="local", progress=False)
    assert ex.representation.baseline[0] == frame["income"].iloc[7]
    assert ex.representation.baseline[1] == HOMES.index(frame["home"].iloc[7])
    numbers = frame[["income"]].assign(x=1.0)
    with pytest.raises(ValueError, match=r"baseline has 50 rows: .*background.mean\(axis=0\)"):
        Explainer(
            lambda f: clf.predict_proba(frame.iloc[: len(f)]),
            numbers.to_numpy(),
            baseline=numbers.to_numpy()[:50],
            progress=False,
        )
    unseen = frame.iloc[:3].assign(home="castle")
    with pytest.raises(ValueError, match=r"a level is explained only if the fit data hold it"):
        Explainer(clf, frame, progress=False).explain(unseen)


def test_a_level_no_fit_row_held_is_said_to_get_no_global_effect():
    """A bool the fit data hold only as False is explained as True (its levels are both),
    but its global coefficient is 0, the posterior mean of a column that never moved:
    its effect read 0 where the model's is 3, unsaid. Local mode measures it (guided mode
    starts from that coefficient and its interval of one draw: with other seeds it stayed
    at 0 for one input of three)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    frame["flag"] = False

    def model(rows):
        F = np.asarray(rows, dtype=float)
        p = 1 / (1 + np.exp(-(F[:, 0] + 0.5 * F[:, 1] + 3.0 * F[:, 2])))
        return np.stack([1 - p, p], axis=1)

    kw = {"surrogate": {"n_sweeps": 60, "n_components": 3}, "progress": False}
    ex = Explainer(model, frame, random_state=0, **kw)
    flagged = frame.iloc[:3].assign(flag=True)
    with pytest.warns(UserWarning, match=r"3 of 3 inputs \(the first: input 0\) hold a value"):
        assert (ex.explain(flagged, target=1).values[:, 2] == 0).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        ex.explain(frame.iloc[:3], target=1)  # what the fit held: nothing to say
    local = Explainer(model, frame, mode="local", n_samples=100, random_state=0, progress=False)
    np.testing.assert_allclose(local.explain(flagged, target=1).values[:, 2], 3.0, atol=0.05)


def test_one_number_as_the_baseline_is_the_numbers_columns_only():
    """baseline=0 made a column of names' baseline code 0, its first name in order
    ('other'), not its most frequent level ('rent'), unsaid."""
    frame, y = table()
    clf = pipeline(frame, y)
    default = Explainer(clf, frame, progress=False).representation
    zero = Explainer(clf, frame, baseline=0.0, progress=False).representation
    assert zero.baseline[0] == 0.0 and default.baseline[0] != 0.0  # income
    np.testing.assert_array_equal(zero.baseline[1:], default.baseline[1:])  # home, job
    assert HOMES[int(zero.baseline[1])] == "rent"  # the most frequent, not code 0 ('other')
    # numbers that name things (categorical=) keep their most frequent level too: with no
    # column of names beside them, baseline=0 was refused ("baseline 0 is none of its levels")
    coded = pd.DataFrame(
        {
            "income": frame["income"],
            "zip": np.repeat([94110, 10001], [7, 13])[np.arange(len(frame)) % 20],
        }
    )
    f = lambda R: np.column_stack([np.full(len(R), 0.5), np.full(len(R), 0.5)])  # noqa: E731
    rep = Explainer(f, coded, categorical=["zip"], baseline=0.0, progress=False).representation
    assert rep.baseline.tolist() == [0.0, 10001.0]


def test_columns_of_whole_numbers_reach_a_frame_model_as_whole_numbers(tmp_path):
    """A zip code the pipeline reads as text: queried as float64, 10001 became "10001.0",
    a level its encoder ignored, and the explainer explained another probability than the
    model's (0.41 for 0.59). Whole values go back in the column's dtype, in the explainer,
    the fidelity tests, a loaded explainer and the baselines; a baseline of 2.5 stays one."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder

    from scrutiny.baselines import lime_tabular

    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame(
        {"zip": rng.choice([94110, 10001, 60601], n), "age": rng.integers(18, 70, n)}
    )
    y = ((frame.zip == 10001) ^ (rng.uniform(size=n) < 0.1)).astype(int)
    seen = []

    def as_text(part):
        seen.append(part.dtypes.astype(str).tolist())
        return part.astype(str)

    text = FunctionTransformer(as_text, feature_names_out="one-to-one")
    encode = make_pipeline(text, OneHotEncoder(handle_unknown="ignore"))
    pipe = make_pipeline(encode, LogisticRegression()).fit(frame, y)
    ex = Explainer(
        pipe,
        frame,
        categorical=["zip"],
        surrogate={"n_sweeps": 20},
        random_state=0,
        progress=False,
    )
    rows = frame.iloc[:5]
    exp = ex.explain(rows, target=1)
    np.testing.assert_allclose(exp.model_logit, log_odds(pipe, rows), rtol=1e-9)
    assert all(kinds == ["int64", "int64"] for kinds in seen[1:])
    # a row reaches the model alike whatever rows are beside it: beside one of age 43.9
    # (off: its mean) every age went as "40.0", ignored (P 0.33 for 0.94); such rows go
    # apart, zip (of a whole baseline) as whole numbers, age as floats
    assert ex.model.whole_columns == ["zip"]
    x = ex.check_inputs(rows.iloc[:1])
    off = x.copy()
    off[0, 1] = ex.representation.baseline[1]
    alone = ex.model.responses(x)
    np.testing.assert_array_equal(ex.model.responses(np.vstack([x, off]))[:1], alone)
    del seen[:]
    fidelity.deletion(pipe, exp, ks=(1, 2))
    assert ["int64", "float64"] in seen  # age off: its mean, 43.9; zip a zip code
    ex.save(tmp_path / "ex")
    Explainer.load(tmp_path / "ex", pipe, progress=False).explain(rows, target=1)
    lime = lime_tabular(pipe, rows, frame, categorical=["zip"], num_samples=50, progress=False)
    fidelity.deletion(pipe, lime, ks=(1,))  # as the explanation's adapter queried it
    assert seen and all(kinds[0] == "int64" for kinds in seen)  # zip, always


def test_a_baseline_given_an_explainers_model_leaves_it_as_it_was():
    """lime_tabular(ex.model, rows, frame) with a categorical column in the frame set the
    explainer's own adapter to read that column as level codes: the explainer, fitted on
    the frame's numbers, then refused the rows it had just explained."""
    from scrutiny.baselines import lime_tabular

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "a": rng.normal(size=60),
            "grade": pd.Categorical(rng.choice([10, 20, 30], 60)),
            "c": rng.normal(size=60),
        }
    )
    A = frame.to_numpy(dtype=float)  # the model takes plain arrays of numbers

    def model(X):
        X = np.asarray(X, dtype=float)
        p = 1 / (1 + np.exp(-(X[:, 0] + 0.1 * (X[:, 1] - 20) - X[:, 2])))
        return np.stack([1 - p, p], axis=1)

    ex = Explainer(model, A, surrogate={"n_sweeps": 4, "n_components": 2}, progress=False)
    before = ex.explain(A[:3])
    lime_tabular(ex.model, frame.iloc[:2], frame, num_samples=30, progress=False)
    assert ex.model.categories is None
    np.testing.assert_array_equal(ex.explain(A[:3]).values, before.values)
