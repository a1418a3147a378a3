"""The reference text classifier: TF-IDF of words and word pairs, then logistic regression
(scikit-learn), trained on the 4,000 training food reviews to tell "great" (5 stars) from
"other". It is linear in TF-IDF, not in the words: each text's vector is normalised, and a
removed word also breaks the pairs it was part of. Training takes about a second, so it is
not cached; lbfgs makes it deterministic."""

from __future__ import annotations

from scrutiny.datasets import load_food_reviews


def review_classifier():
    """(pipeline, facts): the fitted pipeline (``predict_proba`` takes a list of texts) and
    facts including its ``test_accuracy`` on the 1,000 test reviews."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, labels = load_food_reviews("train")
    test_texts, test_labels = load_food_reviews("test")
    pipeline = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=2000),
    ).fit(texts, labels)
    facts = {
        "model": "tfidf-1-2-grams-logistic-regression",
        "classes": ["other", "great"],
        "test_accuracy": float((pipeline.predict(test_texts) == test_labels).mean()),
    }
    return pipeline, facts
