"""The inference seam without its import loop (issue 19, item 7).

- A network kind plugs in by one factory: it declares what it provides, a head declares what it
  reads, and the analyzer loads and runs it only when something reads it (no branch on the kind).
- The user model is a member kind, read by the one manifest loader.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from test_inference_members import _table_voters_only, dense_softmax, entry, softmax, tone

from genre_desktop.features.embedding_stats import embedding_stats
from genre_desktop.inference import members as members_module
from genre_desktop.inference.analyzer import Analyzer
from genre_desktop.inference.common import ModelError
from genre_desktop.inference.inputs import AudioInputs
from genre_desktop.inference.manifest import USER_FORMAT, load_manifest, sha256_file
from genre_desktop.inference.members import FACTORIES, build_member, capabilities, networks_for
from genre_desktop.inference.user_model import UserModel
from genre_desktop.paths import bundled_models_dir

SR = 22050


class ToyNetwork:
    """A network kind defined only here: per 5 s excerpt, the excerpt's RMS and peak as "scores"."""

    kind = "toy_network"
    votes = False
    needs = frozenset({"outputs"})
    reads: frozenset[str] = frozenset()
    default_units = 3
    runs = 0

    @staticmethod
    def provides_of(entry) -> frozenset[str]:
        return frozenset({f"{entry.name}:scores"})

    def __init__(self, entry, threads: int = 0) -> None:
        self.name = entry.name
        self.labels = ["rms", "peak"]
        self.provides = self.provides_of(entry)

    def outputs(self, inputs, units: int) -> list[dict[str, np.ndarray]]:
        ToyNetwork.runs += 1
        out = []
        for y in inputs.resampled(8000):
            excerpts = toy_excerpts(y, units)
            out.append({"scores": np.array([[np.sqrt(np.mean(e ** 2)), np.abs(e).max()] for e in excerpts],
                                           dtype=np.float32)})
        return out

    def predict(self, inputs) -> np.ndarray:
        return np.stack([o["scores"].mean(axis=0) for o in inputs.outputs(self.name)])


def toy_excerpts(y: np.ndarray, units: int) -> list[np.ndarray]:
    n = 5 * 8000
    starts = np.linspace(0, max(0, len(y) - n), max(1, units)).round().astype(int)
    return [y[s:s + n] for s in starts]


@pytest.fixture()
def toy_models(tmp_path, monkeypatch):
    """The bundled table models, the toy network and a head reading its mean and max scores."""
    monkeypatch.setitem(FACTORIES, "toy_network", ToyNetwork)
    ToyNetwork.runs = 0
    folder = tmp_path / "models"
    shutil.copytree(bundled_models_dir(), folder)
    (folder / "toy.bin").write_bytes(b"toy network weights")
    head = dense_softmax(folder / "head.onnx", "embedding_stats", [None, 4], 4, seed=7)
    manifest = _table_voters_only(json.loads((folder / "manifest.json").read_text()))
    manifest["models"] += [
        {"name": "toy", "kind": "toy_network", "file": "toy.bin", "sha256": sha256_file(folder / "toy.bin"),
         "size": (folder / "toy.bin").stat().st_size, "inputs": {"audio": [None]}, "outputs": {"scores": [None, 2]},
         "labels": ["rms", "peak"]},
        entry(folder, "head", "embedding_head", {"embedding_stats": [None, 4]},
              stats=["toy.scores.mean", "toy.scores.max"], patches_per_window=2),
    ]
    manifest["ensemble"]["members"]["head"] = 0.5
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder, head


def test_a_new_network_kind_is_one_factory_and_runs_when_read(toy_models):
    folder, (W, b) = toy_models
    manifest = load_manifest(folder)
    assert capabilities(manifest.get("toy")) == {"toy:scores"}
    assert [e.name for e in networks_for(manifest, {"toy:scores"})] == ["toy"]
    analyzer = Analyzer(folder, n_segments=1, threads=1, musicnn=False)
    assert list(analyzer.networks) == ["toy"]
    y = tone(30.0, seed=3)
    p = analyzer.analyze_samples(y, SR).prediction
    assert ToyNetwork.runs == 1 and p.error is None
    # independently: the head on the mean and max of the toy scores of 2 excerpts of the window
    inputs = AudioInputs([(0.0, 30.0, y)], analyzer.networks)
    scores = inputs.outputs("toy", 2)[0]
    assert scores["scores"].shape == (2, 2)
    expected = softmax(embedding_stats({"toy": scores}, ["toy.scores.mean", "toy.scores.max"])[None, :] @ W + b)[0]
    np.testing.assert_allclose([p.models["head"][g] for g in analyzer.labels], expected, atol=1e-5)


def test_an_unread_network_is_neither_loaded_nor_run(toy_models):
    folder, _ = toy_models
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["models"] = [m for m in manifest["models"] if m["name"] != "head"]
    del manifest["ensemble"]["members"]["head"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    analyzer = Analyzer(folder, n_segments=1, threads=1)
    assert "toy" not in analyzer.networks
    assert analyzer.analyze_samples(tone(30.0), SR).prediction.error is None and ToyNetwork.runs == 0


def test_a_capability_nobody_provides_is_named(toy_models):
    folder, _ = toy_models
    manifest = json.loads((folder / "manifest.json").read_text())
    next(m for m in manifest["models"] if m["name"] == "head")["stats"] = ["toy.embedding.mean", "toy.scores.max"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=r"members read toy:embedding, which no network of the manifest provides"):
        Analyzer(folder, n_segments=1, threads=1, musicnn=False)


def _user_model(folder, labels=("classical", "techno"), dim=4, weight=0.4):
    folder.mkdir(parents=True)
    dense_softmax(folder / "model.onnx", "features", [None, dim], dim, seed=5)
    manifest = {"format": USER_FORMAT, "version": folder.name, "file": "model.onnx",
                "sha256": sha256_file(folder / "model.onnx"), "size": (folder / "model.onnx").stat().st_size,
                "labels": [*labels, *[f"g{i}" for i in range(10 - len(labels))]],
                "inputs": {"features": [None, dim]}, "vector_recipe": "recipe-x", "ensemble": {"weight": weight}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return manifest


def test_the_user_model_is_a_member_kind_of_the_one_loader(tmp_path):
    raw = _user_model(tmp_path / "v3")
    manifest = load_manifest(tmp_path / "v3")
    assert manifest.format == USER_FORMAT and manifest.version == "v3" and manifest.labels == raw["labels"]
    (e,) = manifest.models
    assert (e.kind, e.name) == ("user_model", "user:v3") and "user_model" in FACTORIES
    member = build_member(e)
    assert isinstance(member, UserModel) and not member.votes and member.needs == {"vectors"}
    assert (member.version, member.weight, member.vector_recipe, member.dim) == ("v3", 0.4, "recipe-x", 4)
    p = member.predict_proba(np.ones((3, 4), np.float32))
    assert p.shape == (3, 10) and np.allclose(p.sum(axis=1), 1.0)
    assert UserModel.load(tmp_path / "v3").labels == member.labels


def test_user_model_manifests_are_verified_like_the_bundled_one(tmp_path):
    _user_model(tmp_path / "v1")
    (tmp_path / "v1" / "model.onnx").write_bytes(b"\0" * (tmp_path / "v1" / "model.onnx").stat().st_size)
    with pytest.raises(ModelError, match="'user:v1'.*does not match its sha256"):
        UserModel.load(tmp_path / "v1")
    raw = _user_model(tmp_path / "v2")
    del raw["vector_recipe"]
    (tmp_path / "v2" / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="malformed user model manifest.*vector_recipe"):
        load_manifest(tmp_path / "v2")
    with pytest.raises(ModelError, match="is not a user model manifest"):
        UserModel.load(bundled_models_dir())
    raw["format"] = "genre-desktop-user-model-9"
    (tmp_path / "v2" / "manifest.json").write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="unknown manifest format 'genre-desktop-user-model-9'"):
        load_manifest(tmp_path / "v2")


def test_members_module_has_no_kind_branches():
    """Kinds are rows of FACTORIES: the analyzer and the inputs never name one."""
    import inspect

    from genre_desktop.inference import analyzer, inputs

    for module in (analyzer, inputs):
        source = inspect.getsource(module)
        for kind in FACTORIES:
            assert f'"{kind}"' not in source and f"'{kind}'" not in source, (module.__name__, kind)
    assert members_module.FACTORIES is FACTORIES


def test_a_user_model_reads_the_columns_of_the_statistics_it_was_trained_on(tmp_path):
    """A user model trained on vectors of two statistics keeps reading those two when the vectors
    hold more, in another order (a later bundle's new head), and is refused with the statistic's
    name when they are missing."""
    from genre_desktop.inference.vector_cache import Stat, TrackVectors, network_identity, vector_recipe

    a, b = Stat("net.embedding.mean", 2, 2), Stat("net.embedding.max", 2, 2)
    ids = {"net": network_identity("ab" * 32, "net-1")}
    raw = _user_model(tmp_path / "v4", dim=4)
    raw["vector_recipe"] = vector_recipe("table-1", "net-1", "ab" * 32, [a, b], ids)
    (tmp_path / "v4" / "manifest.json").write_text(json.dumps(raw))
    user = UserModel.load(tmp_path / "v4")
    assert [s.key for s in user.stats] == [a.key, b.key]
    rng = np.random.default_rng(3)
    own = rng.normal(size=(3, 4)).astype(np.float32)  # 3 windows of [a | b]
    extra = Stat("other.scores.mean", 3, 5)
    wide = TrackVectors(np.arange(3) * 30.0, np.arange(1, 4) * 30.0, np.zeros((3, 57)), np.zeros((3, 200)),
                        [2, 2, 2], np.hstack([rng.normal(size=(3, 5)), own[:, 2:], own[:, :2]]), (extra, b, a))
    np.testing.assert_array_equal(user.window_vectors(wide), own)
    np.testing.assert_allclose(user.track_vector(wide), own.astype(np.float64).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(user.predict_proba(user.window_vectors(wide)), user.predict_proba(own))
    narrow = TrackVectors([0.0], [30.0], np.zeros((1, 57)), np.zeros((1, 200)), [2], own[:1, :2], (a,))
    with pytest.raises(ModelError, match="net.embedding.max@2"):
        user.track_vector(narrow)
