"""Members by kind: the factory table, the embedding-head and CNN kinds on tiny real ONNX graphs
built here, lazy inputs, and the one Ensemble.

The tiny graphs are a dense layer and a softmax (weights drawn with a fixed seed): small enough to
recompute in numpy, so each kind's whole path (inputs -> member -> ensemble -> Prediction) is
checked against an independent computation.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from genre_desktop.features.cnn_input import cnn_segments
from genre_desktop.features.embedding_stats import embedding_stats
from genre_desktop.inference.analyzer import Analyzer
from genre_desktop.inference.ensemble import Ensemble, combine
from genre_desktop.inference.inputs import AudioInputs, CachedInputs, MissingInput
from genre_desktop.inference.manifest import ModelError, load_manifest, sha256_file
from genre_desktop.inference.members import FACTORIES, build_member
from genre_desktop.paths import bundled_models_dir

SR = 22050
STATS = ["musicnn_msd.embedding.mean", "musicnn_msd.embedding.max", "musicnn_mtt.tags.mean"]
MEL = {"sr": 22050, "n_fft": 1024, "hop": 512, "n_mels": 8, "frames": 16, "fmax": 8000, "log": "db"}


def dense_softmax(path, input_name: str, shape: list, n_in: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Write ONNX ``softmax(flatten(x) @ W + b)`` to ``path``; return (W, b)."""
    from onnx import TensorProto, helper, numpy_helper, save

    rng = np.random.default_rng(seed)
    W = rng.normal(0, 0.2, size=(n_in, 10)).astype(np.float32)
    b = rng.normal(0, 0.1, size=10).astype(np.float32)
    nodes = [helper.make_node("Flatten", [input_name], ["flat"], axis=1),
             helper.make_node("MatMul", ["flat", "W"], ["z"]),
             helper.make_node("Add", ["z", "b"], ["logits"]),
             helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    graph = helper.make_graph(nodes, "tiny", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 10])],
                              [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    save(model, str(path))
    return W, b


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def entry(folder, name, kind, inputs, **extra):
    path = folder / f"{name}.onnx"
    labels = json.loads((folder / "manifest.json").read_text())["labels"]
    return {"name": name, "file": path.name, "sha256": sha256_file(path), "size": path.stat().st_size,
            "kind": kind, "inputs": inputs, "outputs": {"probabilities": [None, 10]}, "labels": labels, **extra}


def _table_voters_only(manifest: dict) -> dict:
    """The manifest without the bundle's own audio voters (e.g. its embedding head) and its AudioSet
    network with what reads it (content rule, broad genres), so a test's members and weights are
    exactly the ones it adds."""
    dropped = {m["name"] for m in manifest["models"]
               if m["kind"] in ("embedding_head", "cnn", "efficientat", "content", "broad_genres")}
    manifest["models"] = [m for m in manifest["models"] if m["name"] not in dropped]
    manifest["ensemble"]["members"] = {k: v for k, v in manifest["ensemble"]["members"].items() if k not in dropped}
    return manifest


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The bundled models plus an embedding head and a CNN, both voting with the classical five."""
    folder = tmp_path_factory.mktemp("models") / "models"
    shutil.copytree(bundled_models_dir(), folder)
    head = dense_softmax(folder / "head.onnx", "embedding_stats", [None, 450], 450, seed=1)
    cnn = dense_softmax(folder / "cnn.onnx", "mel", [None, 1, 8, 16], 128, seed=2)
    manifest = _table_voters_only(json.loads((folder / "manifest.json").read_text()))
    manifest["models"] += [
        entry(folder, "head", "embedding_head", {"embedding_stats": [None, 450]}, stats=STATS, patches_per_window=3),
        entry(folder, "cnn", "cnn", {"mel": [None, 1, 8, 16]}, mel=MEL),
    ]
    manifest["ensemble"]["members"].update({"head": 0.5, "cnn": 0.25})
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return {"path": folder, "head": head, "cnn": cnn}


@pytest.fixture(scope="module")
def analyzer(folder):
    """The extended folder's analyzer without tags: only the networks the head reads are loaded."""
    return Analyzer(folder["path"], n_segments=2, threads=1, musicnn=False)


def tone(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    return (0.2 * np.sin(2 * np.pi * 196 * t) + 0.1 * np.sin(2 * np.pi * 311 * t)
            + 0.03 * rng.normal(size=len(t))).astype(np.float32)


def test_unknown_kind_is_a_clear_model_error(folder):
    manifest = load_manifest(folder["path"])
    e = manifest.get("logreg")
    e.kind = "transformer"
    with pytest.raises(ModelError, match="'logreg'.*unknown kind 'transformer'.*classical"):
        build_member(e)
    assert {"classical", "musicnn", "embedding_head", "cnn"} <= set(FACTORIES)


def test_embedding_head_and_cnn_vote_as_computed_independently(folder, analyzer):
    assert analyzer.members == ["knn", "logreg", "svm", "xgboost", "gboost", "head", "cnn"]
    # Only the networks the head reads are loaded when the tags are off.
    assert sorted(analyzer.networks) == ["musicnn_msd", "musicnn_mtt"] and analyzer.tag_members == []
    head = next(m for m in analyzer._members if m.name == "head")
    assert head.reads == {"musicnn_msd:embedding", "musicnn_mtt:tags"}
    y = tone(70.0)
    p = analyzer.analyze_samples(y, SR).prediction
    windows = [(s.start, s.end) for s in p.segments]
    assert len(windows) == 2

    # Independently: the head on the statistics of 3 patches per window, the CNN on the mel segments.
    inputs = AudioInputs([(s, e, y[int(round(s * SR)):int(round(s * SR)) + int(round((e - s) * SR))])
                          for s, e in windows], analyzer.networks)
    W, b = folder["head"]
    rows = []
    for w in range(2):
        outs = {n: inputs.outputs(n, 3)[w] for n in ("musicnn_msd", "musicnn_mtt")}
        assert len(outs["musicnn_msd"]["embedding"]) == 3
        rows.append(embedding_stats(outs, STATS))
    head = softmax(np.stack(rows) @ W + b)
    W, b = folder["cnn"]
    cnn = []
    for _, _, yw in inputs.windows:
        segs = cnn_segments(yw, SR, MEL)
        assert segs.shape[1:] == (1, 8, 16) and len(segs) > 1
        cnn.append(softmax(segs.reshape(len(segs), -1) @ W + b).mean(axis=0))
    cnn = np.stack(cnn)
    classical = {m.name: m.predict_proba(inputs.table()) for m in analyzer._members if m.kind == "classical"}
    expected = combine({**classical, "head": head, "cnn": cnn}, analyzer.manifest.weights, analyzer.manifest.pooling)
    for name, dist in (("head", head), ("cnn", cnn)):
        got = np.array([p.models[name][g] for g in analyzer.labels])
        np.testing.assert_allclose(got, combine({name: dist}, {name: 1.0}).overall, atol=1e-5)
    got = dict(p.genres)
    np.testing.assert_allclose([got[g] for g in analyzer.labels], expected.overall, atol=1e-5)


def test_inputs_are_computed_only_when_asked_and_once(analyzer, monkeypatch):
    runs = {}
    for name, net in analyzer.networks.items():
        def counted(patches, _run=net.network.run, _name=name):
            runs[_name] = runs.get(_name, 0) + 1
            return _run(patches)
        monkeypatch.setattr(net.network, "run", counted)
    y = tone(30.0, seed=2)
    inputs = AudioInputs([(0.0, 30.0, y)], analyzer.networks, patches=2)
    classical = [m for m in analyzer._members if m.kind == "classical"]
    Ensemble(classical, analyzer.manifest.weights, analyzer.labels, analyzer.manifest.pooling).member_probas(inputs)
    # table members need no network, no resampling, no spectrogram
    assert runs == {} and not any(inputs.computed(k) for k in ("resampled", "musicnn_patches", "mel", "outputs"))
    head = next(m for m in analyzer._members if m.kind == "embedding_head")
    head.predict(inputs)
    head.predict(inputs)
    assert runs == {"musicnn_msd": 1, "musicnn_mtt": 1}
    inputs.outputs("musicnn_msd", 2)  # another patch count is another run, on the same 16 kHz audio
    assert runs["musicnn_msd"] == 2


def test_cached_inputs_run_only_the_members_the_cache_can_feed(analyzer):
    ensemble = analyzer.ensemble
    X = np.random.default_rng(0).normal(size=(3, 57)).astype(np.float32)
    probas = ensemble.member_probas(CachedInputs(X))
    assert sorted(probas) == ["gboost", "knn", "logreg", "svm", "xgboost"]
    with pytest.raises(MissingInput):
        CachedInputs(X).outputs("musicnn_msd")
    # The weights renormalise over the members present: the classical-only vote.
    result = ensemble.combine(probas)
    classical_only = combine(probas, {m: w for m, w in analyzer.manifest.weights.items()
                                      if m not in ("head", "cnn")}, analyzer.manifest.pooling)
    np.testing.assert_allclose(result.overall, classical_only.overall)


def test_a_member_reading_an_unlisted_network_is_refused(folder, tmp_path):
    bad = tmp_path / "models"
    shutil.copytree(folder["path"], bad)
    manifest = json.loads((bad / "manifest.json").read_text())
    head = next(m for m in manifest["models"] if m["name"] == "head")
    head["stats"] = ["musicnn_big.embedding.mean", "musicnn_msd.embedding.max", "musicnn_mtt.tags.mean"]
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="musicnn_big:embedding, which no network of the manifest provides"):
        Analyzer(bad, n_segments=1, threads=1, musicnn=False)


def test_the_manifest_names_the_embedding_network_of_the_vectors(folder, tmp_path):
    other = tmp_path / "models"
    shutil.copytree(folder["path"], other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["embedding_model"] = "musicnn_mtt"
    (other / "manifest.json").write_text(json.dumps(manifest))
    analyzer = Analyzer(other, n_segments=1, threads=1, musicnn=False, vector_cache=tmp_path / "cache")
    mtt = next(m for m in manifest["models"] if m["name"] == "musicnn_mtt")
    assert f"msd:{mtt['sha256'][:16]}+" in analyzer.vector_recipe
    y = tone(30.0, seed=4)
    vectors = analyzer.analyze_samples(y, SR).vectors
    inputs = AudioInputs([(0.0, 30.0, y)], analyzer.networks, patches=analyzer.tag_patches)
    expected = inputs.outputs("musicnn_mtt")[0]["embedding"].mean(axis=0)
    np.testing.assert_allclose(vectors.embeddings[0], expected, rtol=1e-5, atol=1e-6)
    # Without an embedding network named, asking for vectors is refused clearly.
    del manifest["embedding_model"]
    (other / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="embedding_model"):
        Analyzer(other, n_segments=1, threads=1, musicnn=False, vector_cache=tmp_path / "cache")


def test_evaluation_on_cached_vectors_agrees_with_the_analysis(tmp_path):
    """The training side's "current model" is the Analyzer's own Ensemble: with models that all
    read the table, evaluating the cached vectors gives the analysis' own genres. (With the
    bundle's audio head too: ``test_inference_vector_cache``.)"""
    from genre_desktop.training.evaluate import BundledPredictor

    models = tmp_path / "models"
    shutil.copytree(bundled_models_dir(), models)
    manifest = _table_voters_only(json.loads((models / "manifest.json").read_text()))
    (models / "manifest.json").write_text(json.dumps(manifest))
    analyzer = Analyzer(models, n_segments=3, threads=1, musicnn=False, vector_cache=tmp_path / "cache")
    analysis = analyzer.analyze_samples(np.concatenate([tone(40.0, seed=5), tone(40.0, seed=6)[::-1]]), SR)
    assert analysis.vectors.n_windows == len(analysis.prediction.segments) > 1
    got = BundledPredictor(models, threads=1).predict([analysis.vectors])[0]
    genres = dict(analysis.prediction.genres)
    np.testing.assert_allclose(got, [genres[g] for g in analyzer.labels], atol=1e-6)
