"""Registry (staging, activation history, rollback), the ensemble mixture, the vector cache,
the report and the library map, on small synthetic inputs (no audio)."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest

from genre_desktop.inference.manifest import MANIFEST_NAME
from genre_desktop.inference.user_model import mix, union_labels
from genre_desktop.inference.vector_cache import FileKey, Stat, TrackVectors, VectorCache
from genre_desktop.paths import bundled_models_dir
from genre_desktop.training.evaluate import fit_mix_weight, score
from genre_desktop.training.library_map import library_map, write_csv
from genre_desktop.training.registry import STALE_STAGING_SECONDS, Registry, RegistryError
from genre_desktop.training.report import Report, heat_colour


def _fake_version(registry: Registry, name: str, created: str) -> None:
    with registry.staging() as stage:
        (stage / MANIFEST_NAME).write_text(json.dumps({"version": name, "created": created, "labels": ["a", "b"],
                                                       "head": {"kind": "logreg"}, "training_set": {"tracks": 9}}))
        registry.commit(stage, name)


def test_registry_activation_history_and_rollback(tmp_path):
    reg = Registry(tmp_path / "models")
    assert reg.versions() == [] and reg.active() is None
    _fake_version(reg, "v1", "2026-01-01")
    _fake_version(reg, "v2", "2026-01-02")
    with pytest.raises(RegistryError):
        reg.activate("nope")
    reg.activate("v1")
    reg.activate("v2")
    assert [(v.version, v.active) for v in reg.versions()] == [("v1", False), ("v2", True)]
    assert reg.rollback() == "v1"
    assert reg.rollback() is None  # before v1: the bundled models alone
    with pytest.raises(RegistryError):
        reg.rollback()
    reg.activate("v2")
    assert reg.active() == "v2"


def test_staging_failure_and_stale_staging_leave_nothing(tmp_path):
    reg = Registry(tmp_path / "models")
    with pytest.raises(RuntimeError):
        with reg.staging() as stage:
            (stage / "model.onnx").write_bytes(b"half")
            raise RuntimeError("boom")
    assert list(reg.root.iterdir()) == []
    crashed = reg.root / ".staging-crashed"
    crashed.mkdir()
    (crashed / "model.onnx").write_bytes(b"x")
    old = time.time() - 2 * STALE_STAGING_SECONDS
    os.utime(crashed, (old, old))
    Registry(reg.root)  # a crash's leftovers go when the registry is next opened
    assert not crashed.exists()


def test_opening_the_registry_leaves_a_training_in_progress_alone(tmp_path):
    """The settings dialog or `models list` constructs a Registry while the wizard may be writing
    its new version: that staging folder must survive until its own commit."""
    reg = Registry(tmp_path / "models")
    with reg.staging() as stage:
        (stage / "manifest.json").write_text(json.dumps({"version": "v1", "created": "x", "labels": ["a"],
                                                         "head": {"kind": "logreg"}, "training_set": {"tracks": 1}}))
        Registry(reg.root).versions()  # someone else looks meanwhile
        assert stage.exists()
        reg.commit(stage, "v1")
    assert [v.version for v in reg.versions()] == ["v1"]


def test_registry_refuses_the_bundled_folder():
    with pytest.raises(RegistryError):
        Registry(bundled_models_dir())


def test_mix_is_a_distribution_over_the_union_of_labels():
    bundled = ["blues", "rock"]
    user = ["rock", "techno"]
    labels, p = mix(bundled, np.array([[0.2, 0.8]]), user, np.array([[0.3, 0.7]]), 0.25)
    assert labels == union_labels(bundled, user) == ["blues", "rock", "techno"]
    np.testing.assert_allclose(p, [[0.75 * 0.2, 0.75 * 0.8 + 0.25 * 0.3, 0.25 * 0.7]])
    assert p.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        mix(bundled, np.array([0.5, 0.5]), user, np.array([0.5, 0.5]), 1.5)


def test_mix_weight_favours_the_model_that_knows_the_truth():
    bundled, user = ["blues", "rock"], ["techno", "rock"]
    p_b = np.array([[0.1, 0.9], [0.9, 0.1]])
    p_u = np.array([[0.9, 0.1], [0.8, 0.2]])
    assert fit_mix_weight(bundled, p_b, user, p_u, ["techno", "techno"]) == 1.0
    assert fit_mix_weight(bundled, p_b, user, p_u, ["rock", "blues"]) < 0.5


def test_vector_cache_hits_misses_and_corruption(tmp_path):
    audio = tmp_path / "a.flac"
    audio.write_bytes(b"x" * 100)
    stats = np.stack([np.zeros(400), np.full(400, 2.0)])
    v = TrackVectors([0.0, 30.0], [30.0, 60.0], np.ones((2, 57)), np.stack([np.zeros(200), np.ones(200)]), [1, 3],
                     stats, (Stat("musicnn_msd.embedding.mean", 2, 200), Stat("musicnn_mtt.embedding.mean", 2, 200)))
    np.testing.assert_allclose(v.embedding_mean, np.full(200, 0.75))  # weighted by patches
    # the user model's input: the mean of the head's statistics; the map's: features, then those
    assert v.vector.shape == (400,) and v.window_vectors.shape == (2, 400) and v.map_vector.shape == (457,)
    np.testing.assert_allclose(v.vector, np.ones(400))
    np.testing.assert_allclose(v.map_vector[:57], np.ones(57))
    cache = VectorCache(tmp_path / "cache", "recipe-1")
    assert cache.get(audio) is None
    cache.put(audio, v)
    got = cache.get(audio)
    np.testing.assert_array_equal(got.features, v.features)
    np.testing.assert_array_equal(got.stats, v.stats)
    assert got.layout == v.layout and got.stat_names == ("musicnn_msd.embedding.mean", "musicnn_mtt.embedding.mean")
    assert VectorCache(tmp_path / "cache", "recipe-2").get(audio) is None  # another recipe
    st = os.stat(audio)
    os.utime(audio, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache.get(audio) is None  # the file changed
    cache.put(audio, v, FileKey.of(audio))
    cache.file_for(audio).write_bytes(b"not a zip")
    assert cache.get(audio) is None  # corrupt: a miss, not an error


def test_scores_count_unknown_genres_as_errors():
    s = score("m", ["rock", "techno", "techno"], ["rock", "rock", "blues"], ["rock", "techno"], ["blues", "rock"])
    assert s.accuracy == pytest.approx(1 / 3) and s.accuracy_known == 1.0
    assert s.confusion == [[1, 0, 0], [1, 0, 1]]  # last column: a label outside the dataset
    assert s.per_genre["rock"]["precision"] == 0.5 and s.per_genre["techno"]["recall"] == 0.0
    report = Report("now", "v", ["rock", "techno"], {"rock": 1, "techno": 2}, ["w <b>"], [], "logreg", 3, 2, 0.5,
                    [s], ["note"])
    page = report.to_html()
    assert "w &lt;b&gt;" in page and heat_colour(1.0) in page and heat_colour(0.5) in page
    assert "m,(all),0.3333,0.3333" in report.metrics_csv().replace("\r", "")
    assert report.confusion_csv().count("\n") == 1 + 2 * 3


def test_library_map_flags_a_planted_mislabel(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.normal(0, 0.3, (15, 257)) + 5
    b = rng.normal(0, 0.3, (15, 257)) - 5
    X = np.vstack([a, b])
    genres = ["jazz"] * 15 + ["metal"] * 15
    genres[3] = "metal"  # a jazz-like track labelled metal
    paths = [f"/t/{i}" for i in range(30)]
    for method in ("pca", "tsne"):
        points = library_map(paths, X, genres, method=method, k=5)
        flagged = [p for p in points if p.flagged]
        assert [p.path for p in flagged] == ["/t/3"] and flagged[0].suspected == "jazz"
        assert flagged[0].reason == "tagged metal; 5 of its 5 nearest neighbours are tagged jazz"
        xy = np.array([[p.x, p.y] for p in points])
        assert np.all(np.isfinite(xy))
        if method == "pca":  # centred: the two clusters land on opposite sides of the origin
            assert xy[:15].mean(axis=0) @ xy[15:].mean(axis=0) < 0
    write_csv(points, tmp_path / "map.csv")
    rows = (tmp_path / "map.csv").read_text().splitlines()
    assert rows[0] == "path,genre,x,y,mislabel_score,flagged,suspected_genre,reason"
    assert sum(",yes,jazz," in r for r in rows) == 1
