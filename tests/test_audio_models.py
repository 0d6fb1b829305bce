"""The bundled audio member (embedding head), ensemble v2 and ``evaluate --audio``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.cli import main
from genre_desktop.cli.evaluate import audio_scores, genre_of_folder, labelled_audio
from genre_desktop.inference.manifest import load_manifest
from genre_desktop.paths import bundled_models_dir

ROOT = Path(__file__).resolve().parent.parent
SR = 22050


def _music(path: Path, seconds: float, seed: int) -> Path:
    """A deterministic music-like clip: a chord with vibrato, a beat, noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    root = 110.0 * 2 ** (seed % 12 / 12)
    y = sum(0.15 * np.sin(2 * np.pi * root * r * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for r in (1, 1.25, 1.5, 2))
    beat = (np.floor(t * (80 + 10 * seed) / 60) != np.floor((t - 1 / SR) * (80 + 10 * seed) / 60)).astype(float)
    kick = np.convolve(beat, np.exp(-np.arange(2000) / 300.0) * np.sin(np.arange(2000) * 0.02))[: len(t)]
    y = y + 0.6 * kick + rng.normal(0, 0.05, len(t)) * (np.sin(2 * np.pi * t) > 0.5)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.8 * y / np.abs(y).max()).astype(np.float32), SR)
    return path


def test_folder_names_state_the_genre():
    assert genre_of_folder("Hip-Hop") == "hiphop"
    assert genre_of_folder("hiphop") == "hiphop"
    assert genre_of_folder("Blues") == "blues"
    assert genre_of_folder("hip hop") == "hiphop"


def test_labelled_audio_skips_folders_without_a_known_genre(tmp_path):
    _music(tmp_path / "hip-hop" / "a.wav", 1.0, 1)
    _music(tmp_path / "Rock" / "deeper" / "b.wav", 1.0, 2)  # folder "deeper" names no genre
    _music(tmp_path / "rock" / "c.wav", 1.0, 3)
    (tmp_path / "rock" / "notes.txt").write_text("not audio")
    files, skipped = labelled_audio(tmp_path, ["hiphop", "rock"])
    assert [(Path(p).name, g) for p, g in files] == [("a.wav", "hiphop"), ("c.wav", "rock")]
    assert [Path(p).name for p in skipped] == ["b.wav"]


def test_audio_scores_count_only_the_genres_present_for_macro_f1_and_recall():
    labels = ["blues", "jazz", "rock"]
    r = audio_scores(["blues", "blues", "jazz", "jazz"], ["blues", "jazz", "jazz", "rock"], labels)
    assert r["accuracy"] == 0.5
    assert r["recall"] == {"blues": 0.5, "jazz": 0.5}  # rock never true: no recall, not in the mean
    # F1 blues = 2/3 (p 1, r .5); jazz = .5 (p .5, r .5)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 0.5) / 2)
    assert r["confusion"] == [[1, 1, 0], [0, 1, 1], [0, 0, 0]]


def _bundled_head():
    manifest = load_manifest(bundled_models_dir())
    heads = manifest.by_kind("embedding_head")
    return manifest, (heads[0] if heads else None)


def test_bundled_head_is_a_voter_with_weight_and_its_input_matches_its_stats():
    manifest, head = _bundled_head()
    if head is None:
        pytest.skip("no embedding head bundled")
    from genre_desktop.features.embedding_stats import embedding_stats

    dims = len(embedding_stats({"musicnn_msd": {"embedding": np.zeros((2, 200)), "tags": np.zeros((2, 50))},
                                "musicnn_mtt": {"embedding": np.zeros((2, 200)), "tags": np.zeros((2, 50))}},
                               head.raw["stats"]))
    assert next(iter(head.inputs.values())) == [None, dims]
    assert manifest.weights.get(head.name, 0.0) > 0  # it votes
    assert set(manifest.weights) <= {m.name for m in manifest.models}


def test_app_head_probabilities_equal_the_training_representation(tmp_path):
    """The app's head output equals the head run on the training script's vector: every patch of
    the window through both networks, the patches the app keeps chosen by the training code's
    rule, then embedding_stats. A drift in patch choice or statistics fails here."""
    manifest, head = _bundled_head()
    if head is None:
        pytest.skip("no embedding head bundled")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from audio_data import app_patch_indices
    finally:
        sys.path.remove(str(ROOT / "tools"))
    import onnxruntime as ort

    from genre_desktop.audio import decode, probe
    from genre_desktop.cancel import NEVER
    from genre_desktop.features.embedding_stats import embedding_stats
    from genre_desktop.inference.analyzer import SAMPLE_RATE, Analyzer
    from genre_desktop.inference.inputs import AudioInputs

    analyzer = Analyzer(threads=1)
    path = _music(tmp_path / "a.wav", 30.0, 4)
    analysis = analyzer.analyze(path)
    prediction = getattr(analysis, "prediction", analysis)
    assert prediction.error is None
    app = np.array([prediction.models[head.name][g] for g in manifest.labels])

    windows = analyzer._windows(lambda s, n: decode(path, SAMPLE_RATE, s, n), probe(path).duration, NEVER)
    inputs = AudioInputs(windows, analyzer.networks, patches=0)
    k = head.raw.get("patches_per_window", analyzer.tag_patches)
    rows = []
    for w in range(len(windows)):
        outs = {}
        for net in ("musicnn_msd", "musicnn_mtt"):
            every = inputs.outputs(net)[w]
            idx = app_patch_indices(len(every["embedding"]), k)
            outs[net] = {key: v[idx] for key, v in every.items()}
        rows.append(embedding_stats(outs, head.raw["stats"]))
    session = ort.InferenceSession(str(head.path), providers=["CPUExecutionProvider"])
    (proba,) = session.run(["probabilities"], {session.get_inputs()[0].name: np.stack(rows).astype(np.float32)})
    # one window: the track's distribution is that window's
    assert len(windows) == 1
    np.testing.assert_allclose(app, proba[0], atol=1e-5)


def test_evaluate_audio_json_scores_every_member_and_the_ensemble(tmp_path, capsys):
    _music(tmp_path / "blues" / "a.wav", 6.0, 1)
    _music(tmp_path / "Hip-Hop" / "b.wav", 6.0, 2)
    _music(tmp_path / "hiphop" / "c.flac", 6.0, 3)
    (tmp_path / "hiphop" / "broken.mp3").write_bytes(b"\xff\xfb" + bytes(range(256)) * 8)
    code = main(["evaluate", "--audio", str(tmp_path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1  # the broken file failed; the others were scored
    assert [Path(f["path"]).name for f in out["failed"]] == ["broken.mp3"]
    assert out["n"] == 3
    manifest = load_manifest(bundled_models_dir())
    assert out["labels"] == manifest.labels
    voters = {m.name for m in manifest.models if m.name in manifest.weights}  # networks and reporters do not vote
    assert set(out["models"]) == voters | {"ensemble"}
    for r in out["models"].values():
        assert set(r) == {"accuracy", "macro_f1", "confusion", "recall"}
        confusion = np.array(r["confusion"])
        assert confusion.shape == (10, 10) and confusion.sum() == 3
        assert confusion[manifest.labels.index("hiphop")].sum() == 2  # Hip-Hop/ and hiphop/ are one genre
        assert set(r["recall"]) == {"blues", "hiphop"}
        assert r["accuracy"] == pytest.approx(np.trace(confusion) / 3)


def test_evaluate_audio_without_genre_folders_is_an_error(tmp_path, capsys):
    _music(tmp_path / "misc" / "a.wav", 2.0, 1)
    assert main(["evaluate", "--audio", str(tmp_path)]) == 2
    assert "no audio files in genre folders" in capsys.readouterr().err


def test_classify_bundled_runs_the_bundled_models_and_says_so(tmp_path, capsys):
    path = _music(tmp_path / "a.wav", 4.0, 5)
    assert main(["classify", "--bundled", "--json", str(path)]) == 0
    (out,) = json.loads(capsys.readouterr().out)
    assert out["error"] is None
    assert out["model_version"] == load_manifest(bundled_models_dir()).version


def test_pair_rows_hold_every_two_patch_view_of_a_clip_and_weigh_one_clip():
    """The head's ``pairs`` training rows (tools/train_audio_head.py): each clip gives one row per
    pair of its patches, the app's own pair among them, and its rows weigh one clip in total;
    class balance then gives every genre the same total weight whatever its clip count."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from audio_data import AudioSet, app_patch_indices
        from train_audio_head import balanced_weights
    finally:
        sys.path.remove(str(ROOT / "tools"))
    from genre_desktop.features.embedding_stats import embedding_stats

    rng = np.random.default_rng(0)
    sizes, genres = [10, 5, 10], [0, 0, 3]
    patches = [{"musicnn_msd": {"embedding": rng.normal(size=(n, 200)).astype(np.float32),
                                "tags": rng.random((n, 50)).astype(np.float32)}} for n in sizes]
    data = AudioSet(clip=np.array(["a", "b", "c"]), genre=np.array(["blues", "blues", "disco"]),
                    split=np.array(["train"] * 3), origin=np.array(["x"] * 3), y=np.array(genres),
                    groups=np.array(["blues/0", "blues/0", "disco/0"]), features=np.zeros((3, 57)),
                    patches=patches)
    stats = ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max"]
    X, y, w, owner = data.training_rows(np.arange(3), stats, 2, "pairs")
    assert np.bincount(owner).tolist() == [45, 10, 45]
    np.testing.assert_allclose(np.bincount(owner, weights=w), [1, 1, 1])
    app_row = data.stats(stats, 2)[0]  # the app's two patches of clip 0 (first and last)
    assert app_patch_indices(10, 2).tolist() == [0, 9]
    assert np.any(np.all(np.isclose(X[owner == 0], app_row), axis=1))
    assert X.shape[1] == 400 and np.all(y == np.array(genres)[owner])
    bw = balanced_weights(y, w)
    np.testing.assert_allclose(np.bincount(y, weights=bw)[[0, 3]], [1.5, 1.5])  # 3 clips, 2 genres
    window = data.training_rows(np.arange(3), stats, 2, "window")
    np.testing.assert_array_equal(window[0], data.stats(stats, 2))
    with pytest.raises(ValueError):
        data.training_rows(np.arange(3), stats, 4, "pairs")
    assert embedding_stats(patches[2], stats).shape == (400,)
