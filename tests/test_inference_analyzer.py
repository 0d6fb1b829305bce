"""The Analyzer on real files: generated audio, a shared GTZAN clip, corrupt and silent files;
and the bundled models' figures on the valid rows, recomputed through onnxruntime."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.inference.analyzer import Analyzer
from genre_desktop.inference.ensemble import weighted_mean
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.inference.members import load_classical
from genre_desktop.paths import bundled_models_dir
from genre_desktop.training.classical import evaluate_probabilities, load_feature_table, read_split

SR = 22050


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(n_segments=3, threads=1)


def music_like(seconds: float, seed: int = 0) -> np.ndarray:
    """Chord tones, a beat and noise bursts: not music, but everything the features look at moves."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    y = sum(0.12 * np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6))
    beat = (np.sin(2 * np.pi * 2.0 * t) > 0.95) * rng.normal(0, 0.3, len(t))
    return (y + beat).astype(np.float32)


def assert_sane(p, analyzer, path=None):
    assert p.error is None, p.error
    if path is not None:
        assert p.path == str(path)
    assert [g for g, _ in p.genres] and {g for g, _ in p.genres} == set(analyzer.labels)
    probs = [v for _, v in p.genres]
    assert probs == sorted(probs, reverse=True)
    assert abs(sum(probs) - 1.0) < 1e-6
    assert set(p.models) == set(analyzer.members)
    for dist in p.models.values():
        assert abs(sum(dist.values()) - 1.0) < 1e-6
    assert p.segments
    for s in p.segments:
        assert 0 <= s.start < s.end and abs(sum(s.genres.values()) - 1.0) < 1e-6
    assert p.model_version == analyzer.model_version == load_manifest(bundled_models_dir(), verify=False).version
    json.dumps(p.to_dict())  # the JSON shape serialises


def test_generated_long_file_gives_one_segment_per_window(analyzer, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, music_like(100.0), SR, subtype="PCM_16")
    p = analyzer.analyze(path).prediction
    assert_sane(p, analyzer, path)
    assert len(p.segments) == 3
    assert p.segments[0].start >= 5.0 - 1e-6 and p.segments[-1].end <= 95.0 + 1e-6
    if analyzer.tag_members:
        assert p.tags and all(0.0 <= v <= 1.0 for v in p.tags.values())


def test_samples_and_file_agree(analyzer, tmp_path):
    y = music_like(20.0, seed=3)
    path = tmp_path / "short.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    from_file = analyzer.analyze(path).prediction
    from_samples = analyzer.analyze_samples(y, SR).prediction
    assert_sane(from_samples, analyzer)
    assert len(from_file.segments) == 1 and from_file.segments[0].end == pytest.approx(20.0, abs=0.01)
    for (g1, p1), (g2, p2) in zip(from_file.genres, from_samples.genres):
        assert g1 == g2 and p1 == pytest.approx(p2, abs=1e-4)


def test_shared_gtzan_clip_is_recognised(analyzer, gtzan_dir):
    path = os.path.join(gtzan_dir, "clips", "classical.00000.au")
    p = analyzer.analyze(path).prediction
    assert_sane(p, analyzer, path)
    assert len(p.segments) == 1
    # A clip the models were fitted on (valid rows are in the refit): it must come out on top.
    assert p.top[0] == "classical"


def test_corrupt_and_missing_files_give_an_error_and_the_batch_goes_on(analyzer, tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(3000))
    good = tmp_path / "good.wav"
    sf.write(good, music_like(12.0), SR)
    results = [analyzer.analyze(p).prediction for p in (bad, tmp_path / "missing.flac", good)]
    assert results[0].error and results[0].genres == [] and results[0].path == str(bad)
    assert results[1].error
    assert_sane(results[2], analyzer, good)


def test_silent_file_is_reported_not_guessed(analyzer, tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(SR * 40, np.float32), SR)
    p = analyzer.analyze(path).prediction
    assert p.error and "silent" in p.error and p.genres == []


def test_silent_window_is_shifted_to_audible_audio(analyzer):
    y = np.concatenate([np.zeros(SR * 45, np.float32), music_like(45.0)])
    p = Analyzer(n_segments=1, threads=1, musicnn=False).analyze_samples(y, SR).prediction
    assert p.error is None
    # plan_segments puts the one window at 30-60 s, half silent but audible on average...
    assert len(p.segments) == 1
    q = Analyzer(n_segments=3, threads=1, musicnn=False).analyze_samples(y, SR).prediction
    # ...and with three windows the first (5-35 s, silent) moves forward into the music.
    assert len(q.segments) == 3 and q.segments[0].start > 5.0


def test_bundled_models_reproduce_their_recorded_valid_figures(gtzan_dir):
    """onnxruntime on the VALID rows gives exactly the figures metrics.json records for the bundle."""
    metrics = json.loads((bundled_models_dir() / "metrics.json").read_text())
    manifest = load_manifest(bundled_models_dir())
    table = load_feature_table(os.path.join(gtzan_dir, "features_30_sec.csv"))
    valid = table.subset(read_split(os.path.join(gtzan_dir, "splits", "valid_filtered.txt")))
    probas = {m.name: m.predict_proba(valid.X) for m in load_classical(manifest, threads=1)}
    for name, proba in probas.items():
        recorded = metrics["members"][name]["bundled_on_valid_in_sample"]
        got = evaluate_probabilities(proba, valid.y)
        assert got["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-9), name
        assert got["macro_f1"] == pytest.approx(recorded["macro_f1"], abs=1e-9), name
    # A table has no audio: the recorded figure is the table vote's (feature_table_only).
    pooling = manifest.raw["ensemble"].get("feature_table_only_pooling", manifest.pooling)
    ensemble = evaluate_probabilities(weighted_mean(probas, manifest.feature_table_weights, pooling), valid.y)
    assert ensemble["accuracy"] == pytest.approx(metrics["ensemble"]["bundled_on_valid_in_sample"]["accuracy"])
