"""The classical members: pipelines fit, ONNX export reproduces predict_proba, vote weights are sane.

Small models fitted on the shared feature table (train split) in the test; the grid search of
tools/train_classical.py is not rerun here.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from genre_desktop.features.gtzan import FEATURE_COLUMNS
from genre_desktop.training import classical as C

SMALL = {
    "knn": {"clf__n_neighbors": 5},
    "logreg": {"clf__C": 0.3},
    "svm": {"clf__estimator__C": 3.0},
    "xgboost": {"clf__n_estimators": 30, "clf__max_depth": 3},
    "gboost": {"clf__n_estimators": 15, "clf__max_depth": 2},
}


@pytest.fixture(scope="module")
def splits(gtzan_dir):
    table = C.load_feature_table(os.path.join(gtzan_dir, "features_30_sec.csv"))
    train = table.subset(C.read_split(os.path.join(gtzan_dir, "splits", "train_filtered.txt")))
    valid = table.subset(C.read_split(os.path.join(gtzan_dir, "splits", "valid_filtered.txt")))
    return train, valid


def test_table_columns_are_the_extractors_and_splits_are_disjoint(splits):
    train, valid = splits
    assert train.columns == tuple(FEATURE_COLUMNS) and len(FEATURE_COLUMNS) == 57
    assert (len(train), len(valid)) == (443, 197)
    assert not set(train.filenames) & set(valid.filenames)
    assert set(np.unique(train.y)) == set(range(10))


def test_load_feature_table_rejects_other_columns(tmp_path):
    bad = tmp_path / "t.csv"
    bad.write_text("filename,length,a,b,label\nx.wav,1,0.1,0.2,rock\n")
    with pytest.raises(ValueError, match="feature columns differ"):
        C.load_feature_table(bad)


@pytest.mark.parametrize("member", C.MEMBERS)
def test_onnx_reproduces_predict_proba(member, splits):
    train, valid = splits
    model = C.build_pipeline(member, seed=0, **SMALL[member]).fit(C.as_float32_inputs(train.X), train.y)
    onnx_bytes = C.to_onnx_bytes(model, name=member)
    held_out = C.as_float32_inputs(valid.X)
    expected = model.predict_proba(held_out)
    got = C.onnx_proba(onnx_bytes, valid.X).astype(np.float64)
    assert got.shape == (len(valid), 10)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-5)
    assert C.check_onnx(model, onnx_bytes, valid.X) <= 1e-5
    # Better than chance on artists it has never seen (10 classes: chance is 0.1).
    assert C.evaluate_probabilities(expected, valid.y)["accuracy"] > 0.25


def test_check_onnx_catches_a_different_model(splits):
    train, valid = splits
    X = C.as_float32_inputs(train.X)
    a = C.build_pipeline("logreg", clf__C=0.01).fit(X, train.y)
    b = C.build_pipeline("logreg", clf__C=10.0).fit(X, train.y)
    with pytest.raises(AssertionError, match="differ"):
        C.check_onnx(a, C.to_onnx_bytes(b), valid.X)


def test_vote_weights_prefer_the_informative_member():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 300)
    good = np.full((300, 10), 0.02)
    good[np.arange(300), y] = 0.82
    noise = rng.dirichlet(np.ones(10), 300)
    weights = C.fit_vote_weights({"good": good, "noise": noise}, y)
    assert abs(sum(weights.values()) - 1) < 1e-9 and min(weights.values()) >= 0
    assert weights["good"] > 0.8
    oof = C.cross_validated_vote({"good": good, "noise": noise}, y, folds=5, seed=0)
    assert oof.shape == good.shape
    np.testing.assert_allclose(oof.sum(axis=1), 1.0)
    assert C.evaluate_probabilities(oof, y)["accuracy"] == 1.0
