"""embedding_stats: the one function that turns musicnn outputs into an embedding head's input."""

from __future__ import annotations

import numpy as np
import pytest

from genre_desktop.features.embedding_stats import embedding_stats, parse_stat, stat_networks


@pytest.fixture
def outputs():
    rng = np.random.default_rng(3)
    return {"musicnn_msd": {"embedding": rng.normal(size=(4, 200)).astype(np.float32),
                            "tags": rng.uniform(size=(4, 50)).astype(np.float32)},
            "musicnn_mtt": {"embedding": rng.normal(size=(4, 200)).astype(np.float32),
                            "tags": rng.uniform(size=(4, 50)).astype(np.float32)}}


def test_concatenates_the_listed_statistics_in_order(outputs):
    stats = ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max", "musicnn_mtt.tags.mean",
             "musicnn_mtt.embedding.std"]
    v = embedding_stats(outputs, stats)
    assert v.dtype == np.float32 and v.shape == (650,)
    msd, mtt = outputs["musicnn_msd"], outputs["musicnn_mtt"]
    np.testing.assert_allclose(v[:200], msd["embedding"].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(v[200:400], msd["embedding"].max(axis=0))
    np.testing.assert_allclose(v[400:450], mtt["tags"].mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(v[450:], mtt["embedding"].std(axis=0), rtol=1e-5)
    # The order of the list is the order of the vector.
    w = embedding_stats(outputs, stats[::-1])
    np.testing.assert_array_equal(w[:200], v[450:])


def test_one_patch_window_and_networks_named(outputs):
    one = {"musicnn_msd": {k: a[:1] for k, a in outputs["musicnn_msd"].items()}}
    v = embedding_stats(one, ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.std"])
    np.testing.assert_array_equal(v[:200], one["musicnn_msd"]["embedding"][0])
    assert not v[200:].any()
    assert stat_networks(["a.tags.mean", "b.embedding.max", "a.embedding.max"]) == ["a", "b"]
    assert parse_stat("my.net.tags.max") == ("my.net", "tags", "max")


@pytest.mark.parametrize("stats, message", [
    (["musicnn_msd.embedding.median"], "unknown statistic"),
    (["embedding.mean"], "network.output.statistic"),
    (["musicnn_xyz.embedding.mean"], "no output"),
    (["musicnn_msd.logits.mean"], "no output"),
    ([], "no statistics"),
])
def test_bad_requests_raise_clearly(outputs, stats, message):
    with pytest.raises(ValueError, match=message):
        embedding_stats(outputs, stats)


def test_a_window_without_patches_is_refused(outputs):
    empty = {"musicnn_msd": {"embedding": np.zeros((0, 200), np.float32)}}
    with pytest.raises(ValueError, match="at least one patch"):
        embedding_stats(empty, ["musicnn_msd.embedding.mean"])
