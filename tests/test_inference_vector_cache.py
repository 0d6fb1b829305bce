"""The vector cache carries what the bundled voting members read (issue 12, item 6).

Per window: the 57 table features and the statistics the bundled embedding head reads, computed by
``features.embedding_stats`` from the head's own patches, so the bundled ensemble evaluated on cached
vectors (the training wizard's "current model") is the real bundle, not a table-only vote, and user
models learn from the head's representation.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from genre_desktop.features.embedding_stats import embedding_stats, stat_networks
from genre_desktop.inference.analyzer import Analyzer, vector_head
from genre_desktop.inference.inputs import AudioInputs, CachedInputs, MissingInput
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.inference.vector_cache import VectorCache
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


def test_cached_vectors_hold_the_bundled_heads_statistics(analysis, bundled):
    analyzer, y, result = analysis
    _, head = bundled
    v = result.vectors
    assert v.stat_names == tuple(head.raw["stats"]) and v.stat_patches == head.raw["patches_per_window"]
    # the same function on the same patches as the head reads in the analysis
    windows = [(s.start, s.end, None) for s in result.prediction.segments]
    assert v.n_windows == len(windows) == 2
    inputs = AudioInputs(analyzer._windows(lambda a, n: y[int(round(a * SR)):int(round(a * SR)) + int(round(n * SR))],
                                           len(y) / SR, _never()), analyzer.networks, analyzer.tag_patches)
    outputs = {net: inputs.outputs(net, v.stat_patches) for net in stat_networks(list(v.stat_names))}
    expected = np.stack([embedding_stats({n: outputs[n][w] for n in outputs}, list(v.stat_names)) for w in range(2)])
    np.testing.assert_allclose(v.stats, expected, rtol=1e-5, atol=1e-6)
    # a user model's input: the head's statistics, measured better than table + statistics
    np.testing.assert_allclose(v.vector, v.stats.mean(axis=0), rtol=1e-6)
    dims = expected.shape[1]
    assert dims == next(iter(head.inputs.values()))[1]
    assert v.vector.shape == (dims,) and v.map_vector.shape == (57 + dims,)
    assert f"user=stats[{'|'.join(head.raw['stats'])}]@2" in analyzer.vector_recipe


def test_the_bundle_on_cached_vectors_is_the_real_bundle(analysis):
    """The wizard's bundled predictor on a track's cached vectors runs every voting member the cache
    can feed (the table members and the first embedding head), not a classical-only vote; it gives
    the analysis' own genres when that is every voter, and otherwise names the voters it cannot run
    (since ensemble v4: the EfficientAT members, whose statistics the cache does not hold)."""
    analyzer, _, result = analysis
    predictor = BundledPredictor(threads=1)
    v = result.vectors
    runnable = [m.name for m in predictor.ensemble.runnable(CachedInputs(v.features, v.stats, v.stat_names,
                                                                         v.stat_patches))]
    assert "audio_head" in runnable
    voters = {n for n, w in predictor.manifest.weights.items() if w > 0}
    assert set(predictor.left_out) == voters - set(runnable)
    got = predictor.predict([result.vectors])[0]
    np.testing.assert_allclose(got.sum(), 1.0, atol=1e-6)
    if predictor.left_out:
        assert all(name in predictor.name for name in predictor.left_out)
        assert "not computable from the cached vectors" in predictor.name
    else:
        genres = dict(result.prediction.genres)
        np.testing.assert_allclose(got, [genres[g] for g in analyzer.labels], atol=1e-5)
    assert "audio_head" in result.prediction.models


def test_cached_inputs_refuse_statistics_they_do_not_hold(analysis):
    _, _, result = analysis
    v = result.vectors
    inputs = CachedInputs(v.features, v.stats, v.stat_names, v.stat_patches)
    np.testing.assert_array_equal(inputs.embedding_stats(list(v.stat_names), v.stat_patches), v.stats)
    with pytest.raises(MissingInput):
        inputs.embedding_stats(["musicnn_msd.embedding.max"], v.stat_patches)
    with pytest.raises(MissingInput):
        inputs.embedding_stats(list(v.stat_names), 3)  # other patches mean other values
    assert "embedding_stats" not in CachedInputs(v.features).kinds


def test_an_old_cache_entry_is_recomputed_not_misread(tmp_path, analysis):
    """A format-1 entry (table + MSD mean, no statistics) under the same path is a miss."""
    analyzer, _, result = analysis
    audio = tmp_path / "a.flac"
    audio.write_bytes(b"x" * 10)
    cache = VectorCache(tmp_path / "cache", analyzer.cache_recipe())
    cache.put(audio, result.vectors)
    assert cache.get(audio) is not None
    v = result.vectors
    with np.load(cache.file_for(audio)) as data:
        meta = json.loads(bytes(data["meta"]).decode())
    meta["format"] = 1
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
    assert vector_head(manifest) == ([f"{manifest.embedding_model}.embedding.mean"], None)


def _never():
    from genre_desktop.cancel import NEVER

    return NEVER
