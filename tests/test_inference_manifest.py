"""The bundled models' manifest: hashes verified, a bad model refused with a clear ModelError."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from genre_desktop.inference.manifest import ModelError, load_manifest
from genre_desktop.inference.members import OnnxClassifier, load_classical
from genre_desktop.paths import bundled_models_dir

GTZAN = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]


@pytest.fixture
def models_copy(tmp_path):
    """A copy of the bundled classical models (musicnn files left out: big, and not needed here)."""
    src = bundled_models_dir()
    manifest = json.loads((src / "manifest.json").read_text())
    manifest["models"] = [m for m in manifest["models"] if m["kind"] == "classical"]
    for m in manifest["models"]:
        shutil.copy(src / m["file"], tmp_path / m["file"])
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_bundled_manifest_lists_five_verified_classical_members():
    manifest = load_manifest(bundled_models_dir())
    assert manifest.labels == GTZAN
    assert {m.name for m in manifest.by_kind("classical")} == {"knn", "logreg", "svm", "xgboost", "gboost"}
    assert manifest.version and manifest.feature_recipe
    assert set(manifest.weights) >= {m.name for m in manifest.by_kind("classical")}
    assert abs(sum(manifest.feature_table_weights.values()) - 1.0) < 1e-6
    for m in manifest.models:
        assert len(m.sha256) == 64 and m.licence and m.training_data


def test_missing_model_file_is_refused(models_copy):
    (models_copy / "svm.onnx").unlink()
    with pytest.raises(ModelError, match=r"'svm'.*svm\.onnx is missing"):
        load_manifest(models_copy)


def test_truncated_model_file_is_refused(models_copy):
    path = models_copy / "xgboost.onnx"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match=r"xgboost\.onnx is truncated"):
        load_manifest(models_copy)


def test_tampered_model_file_is_refused(models_copy):
    path = models_copy / "logreg.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"logreg\.onnx does not match its sha256"):
        load_manifest(models_copy)


def test_missing_or_corrupt_manifest_is_refused(models_copy, tmp_path):
    with pytest.raises(ModelError, match="manifest.json is missing"):
        load_manifest(tmp_path / "nowhere")
    (models_copy / "manifest.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable"):
        load_manifest(models_copy)


def test_wrong_input_shape_is_refused(models_copy):
    manifest = load_manifest(models_copy)
    member = {m.name: m for m in load_classical(manifest, threads=1)}["logreg"]
    with pytest.raises(ModelError, match=r"expects input \[n, 57\]"):
        member.predict_proba(np.zeros((2, 56), np.float32))
    # A manifest that declares a different shape from the graph's is refused on load.
    entry = manifest.get("knn")
    entry.inputs = {"features": [None, 20]}
    with pytest.raises(ModelError, match="does not match"):
        OnnxClassifier(entry, threads=1)


def test_members_return_distributions(models_copy):
    manifest = load_manifest(models_copy)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(4, 57)).astype(np.float32) * 10 + 50
    for member in load_classical(manifest, threads=1):
        p = member.predict_proba(X)
        assert p.shape == (4, 10) and np.all(p >= 0)
        np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-9)


def _tool(name):
    """Import a developer script from tools/ (not a package) by path."""
    import importlib.util

    path = bundled_models_dir().parent / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_tool_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_manifest_and_model_card_are_up_to_date():
    """Rebuilding from the files gives the committed manifest; the card's tables match metrics.json.

    Fails when a model file or sidecar changed without ``python tools/build_manifest.py``.
    """
    models = bundled_models_dir()
    committed = json.loads((models / "manifest.json").read_text())
    assert _tool("build_manifest").build(models) == committed
    metrics = json.loads((models / "metrics.json").read_text())
    card = (models / "README.md").read_text()
    if (models / "ensemble_v3.json").exists():  # the card gains the audio members' section
        assert _tool("train_ensemble_card").render(models) == card
    else:
        assert _tool("train_classical").render_model_card(metrics) == card
