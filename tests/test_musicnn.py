"""musicnn without TensorFlow: our input code + the bundled ONNX models vs the original model.

tests/data/musicnn_reference.npz holds the ORIGINAL TensorFlow model's tag scores and embeddings
(musicnn's own graph, checkpoint and preprocessing; written by tools/check_musicnn.py) for the
first patches of three GTZAN clips. Here the input is recomputed by our code from the audio and
run through the bundled ONNX file, so a regression in either shows up.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from genre_desktop.features.musicnn_input import (
    PATCH_FRAMES,
    RECIPE_VERSION,
    SAMPLE_RATE,
    log_mel,
    musicnn_patches,
    patch_starts,
    patch_times,
)
from genre_desktop.inference.musicnn import MusicnnTagger, genre_distribution, spread_indices

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
REFERENCE = Path(__file__).parent / "data" / "musicnn_reference.npz"
NAMES = ("musicnn_msd", "musicnn_mtt")
GTZAN_LABELS = {"blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"}

# Observed with tools/check_musicnn.py: ONNX vs TF <= 4e-6; our float32 input vs musicnn's
# float16-rounded input moves a patch's tags by <= 9e-5 and its embedding by <= 4e-4 here; a 1 %
# scaling error in the input moves them by ~1e-2 and ~1e-1.
TAG_TOL = 1e-3
EMB_TOL = 3e-3


def _meta(name: str) -> dict:
    return json.loads((MODELS / f"{name}.meta.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def taggers() -> dict[str, MusicnnTagger]:
    return {n: MusicnnTagger.from_meta(MODELS / f"{n}.meta.json", threads=1) for n in NAMES}


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def clip_audio(gtzan_dir) -> dict[str, np.ndarray]:
    """The reference clips decoded at 16 kHz the way musicnn loads them (librosa.load)."""
    import librosa

    names = sorted(set(np.load(REFERENCE)["clips"].tolist()))
    return {n: librosa.load(os.path.join(gtzan_dir, "clips", n), sr=SAMPLE_RATE)[0] for n in names}


@pytest.mark.parametrize("name", NAMES)
def test_input_and_onnx_reproduce_the_original_model(name, taggers, reference, clip_audio):
    """Per patch, our input + ONNX give the original TF model's tags and embedding."""
    clips, index = reference["clips"], reference["patch_index"]
    worst_tags = worst_emb = 0.0
    for clip in sorted(set(clips.tolist())):
        rows = np.flatnonzero(clips == clip)
        patches = musicnn_patches(clip_audio[clip])
        assert patches.shape == (10, PATCH_FRAMES, 96)  # a 30 s GTZAN clip
        tags, emb = taggers[name].run(patches[index[rows]])
        worst_tags = max(worst_tags, float(np.abs(tags - reference[f"{name}_tags"][rows]).max()))
        worst_emb = max(worst_emb, float(np.abs(emb - reference[f"{name}_embedding"][rows]).max()))
    assert worst_tags < TAG_TOL, worst_tags
    assert worst_emb < EMB_TOL, worst_emb


def test_reference_is_not_trivial(reference):
    """Guard against a reference file that could not catch anything (constant or all equal)."""
    for name in NAMES:
        tags, emb = reference[f"{name}_tags"], reference[f"{name}_embedding"]
        assert tags.shape == (9, 50) and emb.shape == (9, 200)
        assert tags.max() > 0.3 and tags.min() < 0.01
        assert np.abs(np.diff(emb, axis=0)).max() > 0.1  # patches differ


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (0.01, 1),  # shorter than one patch: zero-padded to one
        (2.9, 1),
        (2.992, 1),  # 187 frames exactly = 1 + 47872 // 256
        (5.9, 1),  # the partial second patch is dropped, as musicnn does
        (6.0, 2),
        (30.0, 10),
        (61.0, 20),
    ],
)
def test_patch_count_and_shape(seconds, expected):
    rng = np.random.default_rng(0)
    y = rng.uniform(-0.5, 0.5, int(seconds * SAMPLE_RATE)).astype(np.float32)
    patches = musicnn_patches(y)
    assert patches.shape == (expected, PATCH_FRAMES, 96)
    assert patches.dtype == np.float32
    assert np.isfinite(patches).all()
    assert len(patch_times(len(patches))) == expected


def test_short_audio_is_padded_with_silence():
    y = np.full(SAMPLE_RATE, 0.1, dtype=np.float32)  # 1 s: 63 frames
    patches = musicnn_patches(y)
    frames = log_mel(y).shape[0]
    assert frames == 1 + SAMPLE_RATE // 256
    assert np.all(patches[0, frames:] == 0.0)
    assert patches[0, :frames].max() > 0.0


def test_overlapping_patches_follow_musicnn_windowing():
    # musicnn: range(0, n_frames - 187 + 1, hop)
    assert patch_starts(1876, 187) == list(range(0, 1690, 187))
    assert patch_starts(1876, 94)[-1] == 1598
    y = np.random.default_rng(1).uniform(-0.5, 0.5, 10 * SAMPLE_RATE).astype(np.float32)
    spec = log_mel(y)
    patches = musicnn_patches(y, hop_patches=94)
    assert len(patches) == len(patch_starts(spec.shape[0], 94))
    np.testing.assert_array_equal(patches[2], spec[188 : 188 + PATCH_FRAMES])


def test_loud_audio_stays_finite():
    """musicnn's float16 step overflows to inf on loud input under numpy 2; ours must not."""
    t = np.arange(3 * SAMPLE_RATE) / SAMPLE_RATE
    y = np.sign(np.sin(2 * np.pi * 440 * t)).astype(np.float32)  # full-scale square wave
    patches = musicnn_patches(y)
    assert np.isfinite(patches).all()
    # 10000 * mel beyond 65504 (float16's largest value) is where musicnn's step would give inf
    assert patches.max() > np.log10(65504.0 + 1.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        musicnn_patches(np.zeros(0, np.float32))
    with pytest.raises(ValueError):
        musicnn_patches(np.zeros((2, 16000), np.float32))


def test_embeddings_differ_between_patches(taggers, clip_audio):
    """Each patch gets its own embedding (musicnn's extractor repeats the first one)."""
    patches = musicnn_patches(clip_audio["metal.00000.au"])
    for tagger in taggers.values():
        tags, emb = tagger.run(patches)
        assert emb.shape == (len(patches), 200)
        distances = np.abs(emb[1:] - emb[0]).max(axis=1)
        assert np.all(distances > 1e-2), distances
        assert np.all((tags >= 0.0) & (tags <= 1.0))


def test_tags_and_embedding_are_means_over_patches(taggers, clip_audio):
    y = clip_audio["classical.00000.au"]
    tagger = taggers["musicnn_mtt"]
    scores, emb = tagger.tags_and_embedding(y)
    tags, embs = tagger.run(musicnn_patches(y))
    assert list(scores) == tagger.labels and len(scores) == 50
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    np.testing.assert_allclose([scores[t] for t in tagger.labels], tags.mean(0), rtol=1e-6)
    np.testing.assert_allclose(emb, embs.mean(0), rtol=1e-5, atol=1e-6)
    assert max(scores, key=scores.get) == "classical"
    assert max(tagger.genre_distribution(scores).items(), key=lambda kv: kv[1])[0] == "classical"


def test_max_patches_uses_evenly_spread_patches(taggers, clip_audio):
    assert spread_indices(10, None).tolist() == list(range(10))
    assert spread_indices(10, 3).tolist() == [0, 4, 9]
    assert spread_indices(2, 5).tolist() == [0, 1]
    assert spread_indices(10, 1).tolist() == [0]  # the analysis' rule: the first of a window's patches
    assert spread_indices(10, 0).tolist() == list(range(10))
    y = clip_audio["blues.00000.au"]
    tagger = taggers["musicnn_msd"]
    scores, emb = tagger.tags_and_embedding(y, max_patches=3)
    tags, embs = tagger.run(musicnn_patches(y)[spread_indices(10, 3)])
    np.testing.assert_allclose([scores[t] for t in tagger.labels], tags.mean(0), rtol=1e-6)
    np.testing.assert_allclose(emb, embs.mean(0), rtol=1e-5, atol=1e-6)


def test_run_validates_shape_and_handles_empty_batch(taggers):
    tagger = taggers["musicnn_msd"]
    with pytest.raises(ValueError):
        tagger.run(np.zeros((1, 100, 96), np.float32))
    tags, emb = tagger.run(np.zeros((0, PATCH_FRAMES, 96), np.float32))
    assert tags.shape == (0, 50) and emb.shape == (0, 200)


def test_genre_distribution_rule():
    scores = {"rock": 0.6, "hard rock": 0.9, "jazz": 0.3, "pop": 0.0}
    dist = genre_distribution(scores, {"rock": ["rock", "hard rock"], "jazz": ["jazz"], "pop": ["pop"], "disco": []})
    assert set(dist) == {"rock", "jazz", "pop"}  # unmapped labels are absent, not zero
    assert dist["rock"] == pytest.approx(0.9 / 1.2) and dist["jazz"] == pytest.approx(0.3 / 1.2)
    assert sum(dist.values()) == pytest.approx(1.0)
    assert genre_distribution(scores, {"disco": []}) == {}


@pytest.mark.parametrize("name", NAMES)
def test_sidecar_names_the_model_and_maps_onto_gtzan_labels(name):
    meta = _meta(name)
    assert meta["file"] == f"{name}.onnx" and (MODELS / meta["file"]).is_file()
    assert meta["kind"] == "musicnn"
    assert meta["inputs"] == {"patches": [None, PATCH_FRAMES, 96]}
    assert meta["outputs"] == {"tags": [None, 50], "embedding": [None, 200]}
    assert meta["feature_recipe"] == RECIPE_VERSION
    assert len(meta["labels"]) == 50 and len(set(meta["labels"])) == 50
    assert "ISC" in meta["licence"]
    assert set(meta["genre_map"]) == GTZAN_LABELS
    mapped = [t for tags in meta["genre_map"].values() for t in tags]
    assert set(mapped) <= set(meta["labels"])
    assert len(mapped) == len(set(mapped))  # a tag maps to one label at most


@pytest.mark.parametrize("name", NAMES)
def test_manifest_hash_matches_when_built(name):
    manifest_path = MODELS / "manifest.json"
    if not manifest_path.is_file():
        pytest.skip("models/manifest.json not built yet (tools/build_manifest.py)")
    entries = {e["name"]: e for e in json.loads(manifest_path.read_text(encoding="utf-8"))["models"]}
    assert name in entries, f"{name} missing from the manifest"
    entry = entries[name]
    assert entry["file"] == _meta(name)["file"]
    assert entry["sha256"] == hashlib.sha256((MODELS / entry["file"]).read_bytes()).hexdigest()


@pytest.mark.parametrize("seconds", [30.0, 29.93, 3.0, 3.1, 2.9, 0.01, 12.0171875])
def test_chosen_patches_equal_the_whole_spectrograms_patches_bit_for_bit(seconds):
    """The analysis computes only the frames of its 2 patches of 10: the values must not change."""
    from genre_desktop.features.musicnn_input import n_patches

    rng = np.random.default_rng(int(seconds * 100))
    y = (0.3 * rng.standard_normal(max(1, int(seconds * SAMPLE_RATE)))).astype(np.float32)
    whole = musicnn_patches(y)
    assert n_patches(len(y)) == len(whole)
    for which in ([0, len(whole) - 1], [len(whole) // 2], list(range(len(whole))), []):
        np.testing.assert_array_equal(musicnn_patches(y, which=which), whole[which].reshape(-1, PATCH_FRAMES, 96))
    with pytest.raises(IndexError):
        musicnn_patches(y, which=[len(whole)])


def test_a_patchs_outputs_do_not_depend_on_the_other_patches_of_the_run(taggers, clip_audio):
    """Patches run one at a time (the arena's peak: ~110 MB per network instead of ~30 MB per patch
    of the batch); so a window's tags and embeddings are the same whatever else the track holds."""
    patches = np.concatenate([musicnn_patches(y)[:3] for y in clip_audio.values()])
    for tagger in taggers.values():
        together = tagger.run(patches)
        for i in (0, len(patches) - 1):
            alone = tagger.run(patches[i:i + 1])
            np.testing.assert_array_equal(together[0][i:i + 1], alone[0])
            np.testing.assert_array_equal(together[1][i:i + 1], alone[1])
