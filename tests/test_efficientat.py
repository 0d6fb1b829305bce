"""The EfficientAT network (mn04_as): the numpy front end, the bundled ONNX file and its meta json.

Tests that need torch (the train extra: ``tools/efficientat_torch.py``) or the shared material
(the checkpoint, the GTZAN clips) skip cleanly without them.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from genre_desktop.audio.decode import decode
from genre_desktop.features import efficientat_input as front

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
ONNX = MODELS / "efficientat_mn04.onnx"
META = MODELS / "efficientat_mn04.meta.json"
# The shared material sits beside a clone (../shared) or two levels up from a worktree.
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
CHECKPOINT = SHARED / "models" / "efficientat" / "mn04_as_mAP_432.pt"
CLIPS = sorted((SHARED / "data" / "gtzan" / "clips").glob("*.au"))
FRONT_TOL = 1e-4  # the bound; observed 2.4e-5 on the eight clips (torch float32 vs float64: 2e-5)


def _tone(seconds: float, sr: int = front.SAMPLE_RATE, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * np.sin(2 * np.pi * 3000 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    return (y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def _clips():
    if not CLIPS:
        pytest.skip(f"shared GTZAN clips not found under {SHARED}")
    return CLIPS


def _torch_tools():
    """tools/efficientat_torch.py imported by path (not a package); needs torch."""
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("efficientat_torch", ROOT / "tools" / "efficientat_torch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def session():
    return ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def meta():
    return json.loads(META.read_text(encoding="utf-8"))


# -- the numpy front end alone -------------------------------------------------------------------

def test_ten_seconds_make_one_excerpt_of_1000_frames():
    y = _tone(10.0)
    spec = front.log_mel(y)
    assert spec.shape == (128, 1000) and spec.dtype == np.float32
    batch = front.excerpts(y)
    assert batch.shape == (1, 1, 128, 1000)
    np.testing.assert_array_equal(batch[0, 0], spec)


def test_excerpts_cover_the_whole_window_without_padding():
    assert front.excerpt_starts(30 * front.SAMPLE_RATE) == [0, 320000, 640000]
    starts = front.excerpt_starts(25 * front.SAMPLE_RATE)  # 3 excerpts, the last ending at the end
    assert starts[0] == 0 and starts[-1] + front.EXCERPT_SAMPLES == 25 * front.SAMPLE_RATE and len(starts) == 3
    assert front.excerpt_starts(5 * front.SAMPLE_RATE) == [0]
    assert len(front.excerpt_starts(661794 * 32000 // 22050)) == 3  # a 30.01 s GTZAN clip
    assert len(front.excerpt_starts(int(31.5 * front.SAMPLE_RATE))) == 4  # 1.5 s left over: one more
    assert front.excerpt_starts(300 * front.SAMPLE_RATE, max_excerpts=3) == [0, 4640000, 9280000]
    assert front.excerpt_starts(30 * front.SAMPLE_RATE, max_excerpts=1) == [320000]  # the middle


def test_short_audio_is_zero_padded_to_one_excerpt():
    y = _tone(3.0)
    batch = front.excerpts(y)
    assert batch.shape == (1, 1, 128, 1000)
    padded = np.pad(y, (0, front.EXCERPT_SAMPLES - y.size))
    np.testing.assert_array_equal(batch[0, 0], front.log_mel(padded))
    # The padded tail is digital silence: (ln(1e-5) + 4.5) / 5 in every band.
    assert np.allclose(batch[0, 0, :, -10:], (np.log(np.float32(1e-5)) + 4.5) / 5, atol=1e-6)
    assert front.excerpts(np.zeros(3, np.float32)).shape == (1, 1, 128, 1000)  # a few samples still work


@pytest.mark.parametrize("bad", [np.zeros(0, np.float32), np.zeros((2, 100), np.float32)])
def test_bad_input_says_what_is_wrong(bad):
    with pytest.raises(ValueError, match="no audio samples|mono"):
        front.excerpts(bad)


def test_mel_bank_is_kaldis():
    bank = front.mel_basis()
    assert bank.shape == (128, 513)
    assert not bank[:, -1].any()  # the Nyquist bin has no weight
    assert bank.max() <= 1.0 and np.all(bank.max(axis=1) > 0.15)  # no empty band (the lowest are
    # narrower than one 31.25 Hz bin, so their only bin sits off their peak)
    assert np.all(bank[64:].max(axis=1) > 0.8)  # wide bands come near their peak of 1
    # Band 53's foot at bin 58 is where a float64 bank differed from torchaudio's float32 one by
    # 0.2 %; these are torchaudio's values (get_mel_banks, 128 bins, 1024, 32 kHz, 0-15 kHz).
    np.testing.assert_allclose(bank[53, 58:62], [0.0026235, 0.51529855, 0.9782887, 0.47798547], rtol=2e-5)
    assert not bank[:, 481:].any()  # nothing above 15 kHz (bin 480 = 15,000 Hz)


def test_the_band_groups_hold_every_weight_of_the_bank():
    """log_mel weighs 16 bands at a time over only their bins: together the groups are the bank."""
    bank_t, bins = front._used_bins()
    rebuilt = np.zeros_like(bank_t)
    for first, lo, hi, weights in front._band_groups():
        rebuilt[lo:hi, first:first + weights.shape[1]] = weights
    np.testing.assert_array_equal(rebuilt, bank_t)
    y = _tone(3.0, seed=9)
    spectrum = front.log_mel(y)
    # The full product, as log_mel computed it before the groups: the same up to summation order.
    pre = y[1:] - np.float32(front.PREEMPHASIS) * y[:-1]
    padded = np.pad(pre, front.N_FFT // 2, mode="reflect")
    offset = (front.N_FFT - front.WIN_LENGTH) // 2
    frames = np.lib.stride_tricks.sliding_window_view(padded[offset:], front.WIN_LENGTH)[::front.HOP_LENGTH]
    framed = np.zeros((spectrum.shape[1], front.N_FFT), np.float32)
    framed[:, :front.WIN_LENGTH] = frames[: spectrum.shape[1]] * front._window()
    import scipy.fft

    spec = scipy.fft.rfft(framed, axis=1)[:, :bins]
    power = spec.real * spec.real + spec.imag * spec.imag
    dense = (np.log(power @ bank_t + np.float32(front.LOG_OFFSET)) + front.SHIFT) / front.SCALE
    np.testing.assert_allclose(spectrum, dense.T, atol=1e-6)


# -- against the torch definitions (train extra) -------------------------------------------------

def test_numpy_front_end_matches_torch_on_real_audio_and_edge_lengths():
    et = _torch_tools()
    import torch

    reference = et.MelFrontEnd().eval()
    np.testing.assert_array_equal(
        front.mel_basis(), torch.nn.functional.pad(et.kaldi_mel_banks(128, 1024, 32000, 0.0, 15000.0), (0, 1)).numpy())
    signals = [_tone(10.0), _tone(2.5, seed=3), _tone(0.02, seed=4)]  # 0.02 s: 640 samples
    signals += [np.asarray(decode(p, sr=front.SAMPLE_RATE), dtype=np.float32)[: front.EXCERPT_SAMPLES] for p in _clips()]
    for y in signals:
        with torch.no_grad():
            theirs = reference(torch.from_numpy(y[None]))[0].numpy()
        ours = front.log_mel(y)
        assert ours.shape == theirs.shape
        assert np.abs(ours - theirs).max() <= FRONT_TOL


def test_onnx_matches_torch_on_real_audio(session):
    et = _torch_tools()
    import torch

    if not CHECKPOINT.is_file():
        pytest.skip(f"checkpoint not found at {CHECKPOINT}")
    net = et.load_mn04(CHECKPOINT)
    for path in _clips():
        batch = front.excerpts(np.asarray(decode(path, sr=front.SAMPLE_RATE), dtype=np.float32))
        assert batch.shape[0] == 3  # 30 s clips
        with torch.no_grad():
            logits, embedding = (t.numpy() for t in net(torch.from_numpy(batch)))
        ours_logits, ours_embedding = session.run(["logits", "embedding"], {"mel": batch})
        assert np.abs(ours_logits - logits).max() < 1e-4  # observed 1.7e-5 on logits of magnitude ~10
        assert np.abs(ours_embedding - embedding).max() < 1e-5  # observed 2.4e-6


def test_torch_definition_loads_every_key_of_the_checkpoint():
    et = _torch_tools()
    import torch

    if not CHECKPOINT.is_file():
        pytest.skip(f"checkpoint not found at {CHECKPOINT}")
    state = torch.load(str(CHECKPOINT), map_location="cpu", weights_only=True)
    net = et.MN04()
    assert set(net.state_dict()) == set(state)
    assert net.embedding_dim == 384 and sum(p.numel() for p in net.parameters()) == 983599


# -- the bundled file ----------------------------------------------------------------------------

def test_meta_describes_the_bundled_file(meta, session):
    data = ONNX.read_bytes()
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["size"] == len(data)
    assert {i.name: i.shape[1:3] for i in session.get_inputs()} == {"mel": [1, 128]}
    assert {o.name: o.shape[1] for o in session.get_outputs()} == {"logits": 527, "embedding": 384}
    assert len(meta["labels"]) == len(meta["label_ids"]) == 527
    assert meta["labels"][meta["speech_index"]] == "Speech" and meta["labels"][meta["music_index"]] == "Music"
    genres = [meta["labels"][i] for i in meta["music_genre_indices"]]
    assert {"Pop music", "Salsa music", "Drum and bass", "Heavy metal", "Independent music"} <= set(genres)
    assert "Speech" not in genres and "Guitar" not in genres
    assert meta["input_recipe"]["fmax"] == front.FMAX and meta["feature_recipe"] == front.RECIPE_VERSION
    for name in ("LICENSE-EfficientAT", "LICENSE-AudioSet-labels"):
        assert (MODELS / name).is_file()
    assert "MIT" in (MODELS / "LICENSE-EfficientAT").read_text() and "CC BY 4.0" in meta["labels_licence"]


def test_runs_on_any_number_of_frames(session):
    """The network pools over time: a shorter excerpt (e.g. a 3 s clip run without padding) works."""
    for frames in (100, 1000, 1500):
        logits, embedding = session.run(None, {"mel": np.zeros((2, 1, 128, frames), np.float32) - 1.4})
        assert logits.shape == (2, 527) and embedding.shape == (2, 384) and np.isfinite(logits).all()


def test_hears_the_genre_of_real_clips(session, meta):
    """Zero-shot on GTZAN clips: the AudioSet genre class named like the clip's genre is on top."""
    expected = {"classical": "Classical music", "metal": "Heavy metal", "reggae": "Reggae"}
    genres = np.array(meta["music_genre_indices"])
    for path in _clips():
        genre = path.name.split(".")[0]
        if genre not in expected:
            continue
        logits, _ = session.run(None, {"mel": front.excerpts(decode(path, sr=front.SAMPLE_RATE))})
        scores = (1.0 / (1.0 + np.exp(-logits))).mean(axis=0)
        assert meta["labels"][genres[np.argmax(scores[genres])]] == expected[genre]
        assert scores[meta["music_index"]] > 0.5 and scores[meta["speech_index"]] < 0.2


# -- the bundle's vote (issue 20 item 4, issue 22 item 11) ----------------------------------------

def test_the_manifest_says_which_members_vote_and_with_what_weight():
    manifest = json.loads((MODELS / "manifest.json").read_text(encoding="utf-8"))
    entries = {e["name"]: e for e in manifest["models"]}
    weights = manifest["ensemble"]["members"]
    genre_models = [n for n, e in entries.items() if e["kind"] in ("classical", "embedding_head", "cnn")]
    assert set(weights) == set(genre_models)  # every genre model listed, voting or not
    for name in genre_models:
        assert entries[name]["weight"] == weights[name] and entries[name]["votes"] == (weights[name] > 0)
    assert manifest["ensemble"]["voters"] == [n for n, w in weights.items() if w > 0]
    assert set(manifest["ensemble"]["shown_not_voting"]) == {n for n, w in weights.items() if w <= 0}
    # The study's CNN runs and is shown with its valid figure, and does not vote.
    assert entries["cnn"]["votes"] is False and entries["cnn"]["metrics"]["valid_clip"]["accuracy"] > 0.5
    # The EfficientAT members vote; the network itself feeds them and is no voter.
    assert entries["efficientat"]["votes"] is False and entries["efficientat"]["excerpts_per_window"] == 3
    assert entries["efficientat_head"]["votes"] and entries["efficientat_genres"]["votes"]
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    assert manifest["ensemble"]["metrics"]["valid_audio"]["accuracy"] >= 0.85


def test_broad_calibration_is_monotone_and_reads_the_bundled_excerpts():
    cal = json.loads((MODELS / "broad_calibration.json").read_text(encoding="utf-8"))
    manifest = json.loads((MODELS / "manifest.json").read_text(encoding="utf-8"))
    effat = next(e for e in manifest["models"] if e["name"] == cal["network"])
    assert cal["excerpts_per_window"] == effat["excerpts_per_window"]
    assert cal["a"] > 0  # monotone: the suggestions keep the raw scores' order
    s = np.array([0.01, 0.05, 0.1, 0.3, 0.6])
    p = 1 / (1 + np.exp(-(cal["a"] * np.log(s / (1 - s)) + cal["b"])))
    assert np.all(np.diff(p) > 0) and p[2] > s[2]  # old recordings' low raw scores are lifted
    from genre_desktop.core import genre as G

    assert set(cal["nodes"]) <= {n.key for n in G.default_tree()}
