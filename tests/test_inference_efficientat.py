"""The EfficientAT member kind (issue 20 item 1): 10 s excerpts per window, run only when read.

A tiny ONNX graph with the network's interface (mel [n, 1, 128, frames] -> logits [n, 527],
embedding [n, 128]: the mean over time of each band, and a dense layer) checks the member's whole
path against numpy; the excerpt resampling is checked against resampling the whole window.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import soxr

pytest.importorskip("genre_desktop.features.efficientat_input", reason="the network's front end is not merged yet")

from test_inference_members import _table_voters_only, dense_softmax, entry, tone  # noqa: E402

from genre_desktop.features.efficientat_input import EXCERPT_SAMPLES, excerpt_starts, log_mel  # noqa: E402
from genre_desktop.inference.analyzer import Analyzer  # noqa: E402
from genre_desktop.inference.common import ModelError  # noqa: E402
from genre_desktop.inference.efficientat import window_excerpts  # noqa: E402
from genre_desktop.inference.inputs import AudioInputs  # noqa: E402
from genre_desktop.inference.manifest import load_manifest, sha256_file  # noqa: E402
from genre_desktop.paths import bundled_models_dir  # noqa: E402

SR = 22050


def toy_tagger(path, seed: int = 0) -> np.ndarray:
    """ONNX: embedding = mean over frames of the mel (n, 128); logits = embedding @ W. Returns W."""
    from onnx import TensorProto, helper, numpy_helper, save

    W = np.random.default_rng(seed).normal(0, 0.5, size=(128, 527)).astype(np.float32)
    nodes = [helper.make_node("ReduceMean", ["mel"], ["m"], axes=[3], keepdims=0),
             helper.make_node("Flatten", ["m"], ["embedding"], axis=1),
             helper.make_node("MatMul", ["embedding", "W"], ["logits"])]
    graph = helper.make_graph(nodes, "toy", [helper.make_tensor_value_info("mel", TensorProto.FLOAT, [None, 1, 128, None])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [None, 527]),
                               helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [None, 128])],
                              [numpy_helper.from_array(W, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(path))
    return W


@pytest.fixture()
def models(tmp_path):
    """The bundled table models, a toy AudioSet tagger and a head reading its scores."""
    folder = tmp_path / "models"
    shutil.copytree(bundled_models_dir(), folder)
    W = toy_tagger(folder / "tagger.onnx")
    head = dense_softmax(folder / "head.onnx", "embedding_stats", [None, 527], 527, seed=9)
    manifest = _table_voters_only(json.loads((folder / "manifest.json").read_text()))
    manifest["models"] = [m for m in manifest["models"] if m["kind"] != "efficientat"]
    manifest["models"] += [
        {"name": "tagger", "kind": "efficientat", "file": "tagger.onnx", "sha256": sha256_file(folder / "tagger.onnx"),
         "size": (folder / "tagger.onnx").stat().st_size, "inputs": {"mel": [None, 1, 128, None]},
         "outputs": {"logits": [None, 527], "embedding": [None, 128]}, "labels": [f"class {i}" for i in range(527)],
         "feature_recipe": "efficientat-logmel-1"},
        entry(folder, "head", "embedding_head", {"embedding_stats": [None, 527]}, stats=["tagger.scores.mean"]),
    ]
    manifest["ensemble"]["members"]["head"] = 0.5
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder, W, head


def test_excerpts_are_cut_from_the_window_as_if_it_were_resampled_whole():
    y = tone(30.0, seed=1)
    for part in (y, y[:7 * SR], y[:12 * SR + 17]):
        whole = soxr.resample(part, SR, 32000, quality="HQ")
        whole = np.pad(whole, (0, max(0, EXCERPT_SAMPLES - len(whole))))
        for k in (1, 2, 3, 0):
            ref = [whole[s:s + EXCERPT_SAMPLES] for s in excerpt_starts(len(whole), k or None)]
            got = window_excerpts(part, k)
            assert len(got) == len(ref) and all(len(g) == EXCERPT_SAMPLES for g in got)
            for a, b in zip(ref, got):
                np.testing.assert_allclose(b, a, atol=2e-6)


def test_the_member_scores_each_windows_excerpts(models):
    folder, W, (Wh, bh) = models
    analyzer = Analyzer(folder, n_segments=2, threads=1, musicnn=False)
    assert list(analyzer.networks) == ["tagger"]
    tagger = analyzer.networks["tagger"]
    assert tagger.provides == {"tagger:scores", "tagger:embedding"} and tagger.default_units == 1
    y = tone(70.0, seed=2)
    p = analyzer.analyze_samples(y, SR).prediction
    assert p.error is None and len(p.segments) == 2
    inputs = AudioInputs([(s.start, s.end, y[int(round(s.start * SR)):int(round(s.start * SR)) + int(round((s.end - s.start) * SR))])
                          for s in p.segments], analyzer.networks)
    outputs = inputs.outputs("tagger")
    for (_, _, yw), out in zip(inputs.windows, outputs):
        (excerpt,) = window_excerpts(yw, 1)  # one excerpt per window: the middle 10 s
        embedding = log_mel(excerpt).mean(axis=1)
        np.testing.assert_allclose(out["embedding"][0], embedding, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(out["scores"][0], 1 / (1 + np.exp(-(embedding @ W))), rtol=1e-4, atol=1e-5)
    three = inputs.outputs("tagger", 3)
    assert [o["scores"].shape for o in three] == [(3, 527), (3, 527)]
    z = np.stack([o["scores"].mean(axis=0) for o in outputs]) @ Wh + bh
    head = np.exp(z - z.max(axis=1, keepdims=True))
    head /= head.sum(axis=1, keepdims=True)
    from genre_desktop.inference.ensemble import combine

    np.testing.assert_allclose([p.models["head"][g] for g in analyzer.labels],
                               combine({"head": head}, {"head": 1.0}).overall, atol=1e-5)


def test_a_short_clip_gives_one_padded_excerpt(models):
    folder, _, _ = models
    analyzer = Analyzer(folder, n_segments=1, threads=1, musicnn=False)
    p = analyzer.analyze_samples(tone(4.0, seed=3), SR).prediction
    assert p.error is None and len(p.segments) == 1 and p.segments[0].end == pytest.approx(4.0, abs=0.01)


def test_a_graph_without_the_networks_interface_is_refused(models):
    folder, _, _ = models
    dense_softmax(folder / "tagger.onnx", "mel", [None, 1, 128, 4], 512, seed=1)
    manifest = json.loads((folder / "manifest.json").read_text())
    tagger = next(m for m in manifest["models"] if m["name"] == "tagger")
    tagger.update(sha256=sha256_file(folder / "tagger.onnx"), size=(folder / "tagger.onnx").stat().st_size)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="'tagger': expected input mel"):
        Analyzer(folder, n_segments=1, threads=1, musicnn=False)


def test_the_bundled_network_if_listed_matches_its_interface():
    manifest = load_manifest(bundled_models_dir(), verify=False)
    listed = manifest.by_kind("efficientat")
    if not listed:
        pytest.skip("the bundled manifest lists no efficientat network yet")
    (e,) = listed
    assert len(e.labels) == 527 and e.labels[0] == "Speech" and e.labels[137] == "Music"
