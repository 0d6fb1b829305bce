"""The vector cache carries what the bundled voting members read (issue 12, item 6; issue 20).

Per window: the 57 table features and the statistics every bundled embedding head reads, each
computed by ``features.embedding_stats`` from the head's own units (the MSD head's 2 patches, the
EfficientAT heads' excerpts), so the bundled ensemble evaluated on cached vectors (the training
wizard's "current model", a re-score after activating a model) is the real bundle, and user models
learn from every network's statistics.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from genre_desktop.features.embedding_stats import embedding_stats, stat_networks
from genre_desktop.inference.analyzer import Analyzer, vector_stats
from genre_desktop.inference.inputs import AudioInputs, CachedInputs, MissingInput
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.inference.vector_cache import Stat, VectorCache, stats_of
from genre_desktop.paths import bundled_models_dir
from genre_desktop.training.evaluate import BundledPredictor

SR = 22050


def tone(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return (0.2 * np.sin(2 * np.pi * 220 * t) + 0.1 * np.sin(2 * np.pi * 330 * t)
            + 0.05 * rng.normal(size=len(t))).astype(np.float32)


@pytest.fixture(scope="module")
def bundled():
    manifest = load_manifest(bundled_models_dir())
    head = next(e for e in manifest.by_kind("embedding_head"))
    return manifest, head


@pytest.fixture(scope="module")
def analysis(tmp_path_factory, bundled):
    cache = tmp_path_factory.mktemp("cache")
    analyzer = Analyzer(n_segments=2, threads=1, musicnn=False, vector_cache=cache)
    y = np.concatenate([tone(35.0, seed=1), tone(35.0, seed=2)[::-1]])
    return analyzer, y, analyzer.analyze_samples(y, SR)


def test_cached_vectors_hold_every_heads_statistics(analysis, bundled):
    analyzer, y, result = analysis
    manifest, _ = bundled
    v = result.vectors
    heads = manifest.by_kind("embedding_head")
    assert {h.name for h in heads} >= {"audio_head", "efficientat_head", "efficientat_genres"}
    # each distinct statistic once, at its head's units, in the manifest's order
    assert [s.key for s in v.layout] == [s.key for s in vector_stats(manifest)]
    assert len({s.key for s in v.layout}) == len(v.layout)
    windows = analyzer._windows(lambda a, n: y[int(round(a * SR)):int(round(a * SR)) + int(round(n * SR))],
                                len(y) / SR, _never())
    assert v.n_windows == len(windows) == 2
    inputs = AudioInputs(windows, analyzer.networks, analyzer.tag_patches)
    for head in heads:
        k = head.raw.get("patches_per_window")
        outputs = {net: inputs.outputs(net, k) for net in stat_networks(head.raw["stats"])}
        expected = np.stack([embedding_stats({n: outputs[n][w] for n in outputs}, head.raw["stats"]) for w in range(2)])
        assert expected.shape[1] == head.inputs["embedding_stats"][1]
        # the same function on the same units as the head reads in the analysis: the same values
        np.testing.assert_array_equal(v.stats[:, v.columns(stats_of(head.raw["stats"], k))], expected)
    # a user model's input: every statistic, averaged over the windows
    np.testing.assert_allclose(v.vector, v.stats.mean(axis=0), rtol=1e-6)
    dims = sum(s.width for s in v.layout)
    assert v.vector.shape == (dims,) and v.map_vector.shape == (57 + dims,)
    assert dims == 400 + 384 + 527  # MSD embedding mean+max, EfficientAT embedding and scores means
    k = manifest.get("efficientat_head").raw["patches_per_window"]
    assert (f"user=stats[musicnn_msd.embedding.mean@2|musicnn_msd.embedding.max@2|efficientat.embedding.mean@{k}|"
            f"efficientat.scores.mean@{k}](efficientat:") in analyzer.vector_recipe


def test_the_bundle_on_cached_vectors_is_the_real_bundle(analysis):
    """The wizard's bundled predictor on a track's cached vectors runs every voter (the table members
    and all three embedding heads) and gives the analysis' own genres."""
    analyzer, _, result = analysis
    predictor = BundledPredictor(threads=1)
    v = result.vectors
    runnable = [m.name for m in predictor.ensemble.runnable(CachedInputs.of(v))]
    voters = {n for n, w in predictor.manifest.weights.items() if w > 0}
    assert voters <= set(runnable) and predictor.left_out == []
    assert "cnn" not in runnable and "without" not in predictor.name  # the CNN reads the audio; it has no vote
    got = predictor.predict([result.vectors])[0]
    genres = dict(result.prediction.genres)
    np.testing.assert_allclose(got, [genres[g] for g in analyzer.labels], atol=1e-6, rtol=0)


def test_the_bundle_on_cached_vectors_equals_the_analysis_of_real_clips(gtzan_dir, tmp_path):
    """On the eight GTZAN clips (each analysed in 2 windows): the wizard's vote from the cache is the
    analysis' vote to 1e-6, every voter included."""
    cache = tmp_path / "cache"
    analyzer = Analyzer(n_segments=2, threads=1, musicnn=False, vector_cache=cache)
    predictor = BundledPredictor(threads=1)
    clips = sorted((Path(gtzan_dir) / "clips").glob("*.au"))
    assert len(clips) == 8
    results = [analyzer.analyze(p) for p in clips]
    for r in results:
        assert r.store(analyzer.vector_cache)
    cached = [analyzer.vector_cache.get(p) for p in clips]
    got = predictor.predict(cached)
    worst = 0.0
    for row, r in zip(got, results):
        genres = dict(r.prediction.genres)
        worst = max(worst, float(np.max(np.abs(row - [genres[g] for g in analyzer.labels]))))
    assert worst <= 1e-6, worst


def test_cached_inputs_give_each_head_its_own_columns_and_refuse_what_they_do_not_hold(analysis, bundled):
    _, _, result = analysis
    manifest, _ = bundled
    k = manifest.get("efficientat_head").raw["patches_per_window"]
    v = result.vectors
    inputs = CachedInputs.of(v)
    names = ["efficientat.embedding.mean", "efficientat.scores.mean"]
    np.testing.assert_array_equal(inputs.embedding_stats(names, k), v.stats[:, v.columns(stats_of(names, k))])
    np.testing.assert_array_equal(inputs.embedding_stats(["efficientat.scores.mean"], k), v.stats[:, -527:])
    with pytest.raises(MissingInput, match="musicnn_mtt.embedding.max@2"):
        inputs.embedding_stats(["musicnn_mtt.embedding.max"], 2)
    with pytest.raises(MissingInput):
        inputs.embedding_stats(["musicnn_msd.embedding.mean"], 5)  # other patches mean other values
    assert "embedding_stats" not in CachedInputs(v.features).kinds


@pytest.mark.parametrize("old_format", [1, 2])
def test_an_old_cache_entry_is_recomputed_not_misread(tmp_path, analysis, old_format):
    """A format-1 entry (table + MSD mean, no statistics) or a format-2 one (the first head's
    statistics only) under the same path is a miss."""
    analyzer, _, result = analysis
    audio = tmp_path / "a.flac"
    audio.write_bytes(b"x" * 10)
    cache = VectorCache(tmp_path / "cache", analyzer.cache_recipe())
    cache.put(audio, result.vectors)
    assert cache.get(audio) is not None
    v = result.vectors
    with np.load(cache.file_for(audio)) as data:
        meta = json.loads(bytes(data["meta"]).decode())
    meta["format"] = old_format
    buffer = io.BytesIO()
    np.savez_compressed(buffer, starts=v.starts, ends=v.ends, features=v.features, embeddings=v.embeddings,
                        patches=v.patches, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
    cache.file_for(audio).write_bytes(buffer.getvalue())
    assert cache.get(audio) is None


def test_the_analysis_loads_only_the_networks_the_head_reads(analysis, bundled):
    """With the tags off, an analysis runs the networks its members read and no other: the bundled
    heads read the MSD network and (ensemble v4) the EfficientAT network, and so does the content
    rule; the MTT network, whose tags are off, does not run."""
    analyzer, _, _ = analysis
    manifest = load_manifest(bundled_models_dir())
    read = {net for e in manifest.models if e.kind == "embedding_head" for net in stat_networks(e.raw["stats"])}
    reporters = {cap.split(":")[0] for m in analyzer.reporters for cap in m.reads}
    assert set(analyzer.networks) == read | reporters == {"efficientat", "musicnn_msd"}


def test_without_a_head_the_vectors_carry_the_embedding_mean(bundled):
    manifest = load_manifest(bundled_models_dir())
    manifest.models[:] = [e for e in manifest.models if e.kind != "embedding_head"]
    assert vector_stats(manifest) == [Stat(f"{manifest.embedding_model}.embedding.mean")]


def _never():
    from genre_desktop.cancel import NEVER

    return NEVER
