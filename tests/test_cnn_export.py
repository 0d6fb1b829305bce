"""The CNN member: the exporter of tools/train_cnn.py against torch, and the bundled models/cnn.onnx
on the app's input path (cnn_segments)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from genre_desktop.features.cnn_input import cnn_segments

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
TOL = 1e-5  # float32 softmax outputs; observed differences are ~1e-7


def _train_cnn():
    """tools/train_cnn.py (not a package), imported by path; needs torch (the train extra)."""
    pytest.importorskip("torch", reason="needs the train extra (torch CPU): pip install -e '.[train]'")
    spec = importlib.util.spec_from_file_location("train_cnn", ROOT / "tools" / "train_cnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _signal(seconds: float, sr: int = 22050) -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * sr)) / sr
    beat = (np.sin(2 * np.pi * 2 * t) > 0.95).astype(np.float32)  # clicks at 2 Hz
    y = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 1760 * t) * beat
    return (y + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A fixed-seed GenreCNN with non-trivial batch-norm statistics, exported as the tool does."""
    tc = _train_cnn()
    import torch

    tc.seed_everything(3, threads=1)
    mel = tc.MEL
    net = tc.GenreCNN(mean=-40.0, scale=20.0)
    net.train()
    with torch.no_grad():  # a few training-mode passes move the running means and variances
        for _ in range(3):
            net(torch.randn(8, 1, mel["n_mels"], mel["frames"]) * 15 - 35)
    net.eval()
    path = tmp_path_factory.mktemp("cnn") / "cnn.onnx"
    tc.export_onnx(net, path, mel["n_mels"], mel["frames"])
    return tc, net, path


def _torch_probs(tc, net, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return tc.Probabilities(net).eval()(torch.from_numpy(x)).numpy()


def test_onnxruntime_matches_torch_for_any_batch_size(exported):
    tc, net, path = exported
    session = _session(path)
    assert [i.name for i in session.get_inputs()] == ["mel"]
    assert [o.name for o in session.get_outputs()] == ["probabilities"]
    mel = tc.MEL
    segs = cnn_segments(_signal(30.0), mel["sr"], mel)
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal((3, 1, mel["n_mels"], mel["frames"])) * 20 - 40).astype(np.float32)
    for x in (segs[:1], segs, noise):
        ours = session.run(["probabilities"], {"mel": x})[0]
        theirs = _torch_probs(tc, net, x)
        assert ours.shape == (len(x), len(tc.LABELS))
        assert np.abs(ours - theirs).max() < TOL
        np.testing.assert_allclose(ours.sum(axis=1), 1.0, atol=1e-5)


def test_comparison_detects_a_changed_weight(exported):
    """The tolerance is tight enough to see a model that is not the one exported."""
    tc, net, path = exported
    import copy

    import torch

    other = copy.deepcopy(net)
    with torch.no_grad():
        other.head.bias[0] += 0.05
    mel = tc.MEL
    x = cnn_segments(_signal(9.0), mel["sr"], mel)
    ours = _session(path).run(["probabilities"], {"mel": x})[0]
    assert np.abs(ours - _torch_probs(tc, other, x)).max() > 100 * TOL


def test_tool_labels_and_params_match_the_bundled_files():
    meta = json.loads((MODELS / "cnn.meta.json").read_text())
    manifest = json.loads((MODELS / "manifest.json").read_text())
    assert meta["labels"] == manifest["labels"]
    assert meta["kind"] == "cnn"
    mel = meta["mel"]
    assert meta["inputs"] == {"mel": [None, 1, mel["n_mels"], mel["frames"]]}
    data = (MODELS / meta["file"]).read_bytes()
    assert meta["size"] == len(data)
    assert meta["sha256"] == hashlib.sha256(data).hexdigest()


def test_bundled_cnn_gives_a_distribution_on_cnn_segments():
    meta = json.loads((MODELS / "cnn.meta.json").read_text())
    mel = meta["mel"]
    session = _session(MODELS / meta["file"])
    for seconds in (30.0, 1.5):  # a full window, and one shorter than a segment
        segs = cnn_segments(_signal(seconds), 22050, mel)
        probs = session.run(["probabilities"], {"mel": segs})[0]
        assert probs.shape == (len(segs), len(meta["labels"]))
        assert np.all(np.isfinite(probs)) and np.all(probs >= 0)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # The model looks at its input: different music, different distribution.
    silence_ish = cnn_segments(0.001 * np.random.default_rng(1).standard_normal(22050 * 3).astype(np.float32),
                               22050, mel)
    other = session.run(["probabilities"], {"mel": silence_ish})[0]
    assert np.abs(other[0] - probs[0]).max() > 1e-3


def test_bundled_predictions_file_matches_its_meta():
    meta = json.loads((MODELS / "cnn.meta.json").read_text())
    preds = json.loads((MODELS / "cnn_valid_predictions.json").read_text())
    assert preds["labels"] == meta["labels"]
    clips = preds["clips"]
    assert len(clips) == meta["metrics"]["valid_clip"]["n"]
    probs = np.array([c["probabilities"] for c in clips.values()])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-4)
    truth = np.array([meta["labels"].index(c["genre"]) for c in clips.values()])
    assert np.mean(probs.argmax(axis=1) == truth) == pytest.approx(meta["metrics"]["valid_clip"]["accuracy"])
