"""The ensemble's arithmetic: weighted soft vote per segment, log-probability mean over segments."""

from __future__ import annotations

import numpy as np
import pytest

from genre_desktop.inference.ensemble import combine, combine_segments, normalise_weights, weighted_mean


def test_weighted_mean_is_the_normalised_weighted_sum():
    a = np.array([[0.7, 0.2, 0.1]])
    b = np.array([[0.1, 0.3, 0.6]])
    got = weighted_mean({"a": a, "b": b}, {"a": 3.0, "b": 1.0})
    np.testing.assert_allclose(got, [[0.55, 0.225, 0.225]])


def test_members_without_weight_drop_out_and_weights_renormalise():
    a = np.array([[1.0, 0.0]])
    b = np.array([[0.0, 1.0]])
    assert normalise_weights({"a": 2.0, "b": 0.0, "c": 5.0}, ["a", "b"]) == {"a": 1.0}
    np.testing.assert_allclose(weighted_mean({"a": a, "b": b}, {"a": 0.2}), a)


def test_no_positive_weight_is_an_error():
    with pytest.raises(ValueError):
        normalise_weights({"a": 0.0}, ["a", "b"])
    with pytest.raises(ValueError):
        normalise_weights({"a": -1.0, "b": 2.0}, ["a", "b"])


def test_segments_combine_by_mean_log_probability():
    segs = np.array([[0.8, 0.2], [0.5, 0.5]])
    got = combine_segments(segs)
    expected = np.sqrt(segs[0] * segs[1])
    np.testing.assert_allclose(got, expected / expected.sum())
    # One confident "not this genre" counts more than an arithmetic mean would let it.
    segs = np.array([[0.6, 0.4], [0.6, 0.4], [0.01, 0.99]])
    assert combine_segments(segs)[1] > segs.mean(axis=0)[1] + 0.1


def test_zero_probabilities_do_not_produce_nan_and_one_segment_is_identity():
    got = combine_segments(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
    assert np.all(np.isfinite(got)) and abs(got.sum() - 1) < 1e-12
    np.testing.assert_allclose(combine_segments(np.array([[0.2, 0.3, 0.5]])), [0.2, 0.3, 0.5])
    with pytest.raises(ValueError):
        combine_segments(np.zeros((0, 3)))


def test_combine_returns_overall_members_and_segments():
    rng = np.random.default_rng(0)
    raw = {m: rng.random((4, 10)) for m in ("a", "b", "c")}
    probas = {m: p / p.sum(axis=1, keepdims=True) for m, p in raw.items()}
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    r = combine(probas, weights)
    assert r.overall.shape == (10,) and r.segments.shape == (4, 10)
    assert set(r.members) == {"a", "b", "c"}
    for dist in [r.overall, *r.members.values(), *r.segments]:
        assert abs(dist.sum() - 1.0) < 1e-9 and np.all(dist >= 0)
    np.testing.assert_allclose(r.segments[2], sum(w * probas[m][2] for m, w in weights.items()))
    np.testing.assert_allclose(r.overall, combine_segments(r.segments))
    np.testing.assert_allclose(r.members["b"], combine_segments(probas["b"]))


def test_geometric_pooling_is_the_weighted_mean_of_log_probabilities():
    a = np.array([[0.6, 0.3, 0.1]])
    b = np.array([[0.2, 0.2, 0.6]])
    got = weighted_mean({"a": a, "b": b}, {"a": 0.75, "b": 0.25}, pooling="geometric")
    expected = a ** 0.75 * b ** 0.25
    np.testing.assert_allclose(got, expected / expected.sum())
    with pytest.raises(ValueError):
        weighted_mean({"a": a}, {"a": 1.0}, pooling="median")
    r = combine({"a": np.vstack([a, b]), "b": np.vstack([b, a])}, {"a": 1, "b": 1}, pooling="geometric")
    np.testing.assert_allclose(r.segments[0], r.segments[1])
