"""What an analysis tells beside the ten-genre vote (issue 20 items 3 and 6): the content (music,
spoken word, no audible audio) and the broad genres of the genre tree.

A network kind defined here returns the class scores a test sets, so each rule is checked on
exactly the scores it reads; the real network and the measured rule are checked end to end (with
speech made by espeak-ng) when the bundled manifest lists them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from types import SimpleNamespace

import numpy as np
import pytest
from test_inference_members import _table_voters_only, tone

from genre_desktop.core.prediction import MUSIC, NO_AUDIO, SPOKEN_WORD
from genre_desktop.inference.analyzer import Analyzer
from genre_desktop.inference.broad import CALIBRATION_FORMAT, KEEP, BroadGenres
from genre_desktop.inference.common import ModelError
from genre_desktop.inference.content import RULE_FORMAT
from genre_desktop.inference.manifest import load_manifest, sha256_file
from genre_desktop.inference.members import FACTORIES
from genre_desktop.paths import bundled_models_dir

SR = 22050
LABELS = ["Speech", "Music", "Pop music", "Electronic music", "House music", "Techno", "Rock music"]
IDS = ["/m/speech", "/m/music", "/m/pop", "/m/electronic", "/m/house", "/m/techno", "/m/rock"]


class SetScores:
    """A network kind whose per-excerpt class scores are ``SetScores.scores`` (one row per window)."""

    kind = "set_scores"
    votes = False
    needs = frozenset({"outputs"})
    reads: frozenset[str] = frozenset()
    default_units = 1
    scores: list[list[float]] = []

    @staticmethod
    def provides_of(entry) -> frozenset[str]:
        return frozenset({f"{entry.name}:scores"})

    def __init__(self, entry, threads: int = 0) -> None:
        self.name, self.labels, self.label_ids = entry.name, list(LABELS), list(IDS)
        self.provides = self.provides_of(entry)

    def outputs(self, inputs, units: int) -> list[dict[str, np.ndarray]]:
        rows = np.asarray(SetScores.scores, dtype=np.float32)
        return [{"scores": rows[min(w, len(rows) - 1)][None, :]} for w in range(inputs.n_windows)]

    def predict(self, inputs) -> np.ndarray:
        return np.stack([o["scores"].mean(axis=0) for o in inputs.outputs(self.name)])


class Tree:
    """The genre tree's interface, with: Pop; Electronic > House, Techno; Rock; Ambient (no class)."""

    def __init__(self) -> None:
        n = SimpleNamespace
        self.nodes = {k: n(key=k, name=name, parent=parent, audioset_id=aid, class_index=None)
                      for k, name, parent, aid in [("pop", "Pop", None, "/m/pop"),
                                                   ("electronic", "Electronic", None, "/m/electronic"),
                                                   ("house", "House", "electronic", "/m/house"),
                                                   ("techno", "Techno", "electronic", "/m/techno"),
                                                   ("ambient", "Ambient", "electronic", None),
                                                   ("rock", "Rock", None, "/m/rock")]}

    def __iter__(self):
        return iter(self.nodes.values())

    def node(self, key):
        return self.nodes[getattr(key, "key", key)]

    def children(self, node=None):
        key = None if node is None else self.node(node).key
        return tuple(v for v in self.nodes.values() if v.parent == key)

    def roots(self):
        return self.children(None)

    def ancestors(self, node):
        chain, parent = [], self.node(node).parent
        while parent is not None:
            chain.append(self.nodes[parent])
            parent = self.nodes[parent].parent
        return tuple(reversed(chain))


@pytest.fixture()
def models(tmp_path, monkeypatch):
    """The bundled table models, the set-scores network, a content rule and a broad-genre calibration."""
    monkeypatch.setitem(FACTORIES, "set_scores", SetScores)
    monkeypatch.setitem(FACTORIES, "broad_genres", lambda entry, threads=0: BroadGenres(entry, threads, tree=Tree()))
    folder = tmp_path / "models"
    shutil.copytree(bundled_models_dir(), folder)
    files = {
        "net.bin": b"weights",
        "content_rule.json": json.dumps({"format": RULE_FORMAT, "network": "net", "classes": ["Speech", "Music"],
                                         "weights": [1.0, -1.0], "bias": 0.0, "threshold": 0.5}).encode(),
        "broad.json": json.dumps({"format": CALIBRATION_FORMAT, "network": "net",
                                  "default": {"x": [0.0, 0.1, 1.0], "y": [0.0, 0.5, 1.0]},
                                  "classes": {"/m/techno": {"x": [0.0, 1.0], "y": [0.0, 0.2]}}}).encode(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)

    def listed(name, kind, file, **extra):
        path = folder / file
        return {"name": name, "kind": kind, "file": file, "sha256": sha256_file(path), "size": path.stat().st_size,
                "inputs": {}, "labels": [], **extra}

    manifest = _table_voters_only(json.loads((folder / "manifest.json").read_text()))
    manifest["models"] += [listed("net", "set_scores", "net.bin", outputs={"scores": [None, len(LABELS)]}),
                           listed("content", "content", "content_rule.json"),
                           listed("broad_genres", "broad_genres", "broad.json")]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def scores(**named) -> list[float]:
    return [named.get(label.split()[0].lower(), 0.0) for label in LABELS]


def test_speech_with_little_music_is_spoken_word_and_not_for_a_music_genre(models):
    analyzer = Analyzer(models, n_segments=2, threads=1, musicnn=False)
    assert list(analyzer.networks) == ["net"] and {m.name for m in analyzer.reporters} == {"content", "broad_genres"}
    SetScores.scores = [scores(speech=0.9, music=0.2), scores(speech=0.8, music=0.3)]
    p = analyzer.analyze_samples(tone(70.0), SR).prediction
    assert p.content == SPOKEN_WORD and not p.is_music and p.genres  # the vote is still there to see
    SetScores.scores = [scores(speech=0.6, music=0.7)]
    p = analyzer.analyze_samples(tone(70.0), SR).prediction
    assert p.content == MUSIC and p.is_music
    # one spoken window (an intro) and one of music: the track's mean evidence decides
    SetScores.scores = [scores(speech=0.9, music=0.1), scores(speech=0.05, music=0.95)]
    assert analyzer.analyze_samples(tone(70.0), SR).prediction.content == MUSIC
    assert json.loads(json.dumps(p.to_dict()))["content"] == "music"


def test_a_silent_track_has_no_audible_audio(models):
    analyzer = Analyzer(models, n_segments=2, threads=1, musicnn=False)
    p = analyzer.analyze_samples(np.zeros(40 * SR, np.float32), SR).prediction
    assert p.content == NO_AUDIO and not p.is_music and "no audible audio" in p.error and p.genres == []


def test_broad_genres_are_calibrated_a_parent_scores_its_best_child_and_the_best_few_are_kept(models):
    analyzer = Analyzer(models, n_segments=2, threads=1, musicnn=False)
    # house 0.1 -> 0.5, electronic 0.05 -> 0.25 (but at least house), techno 0.5 -> 0.1 (its own map),
    # pop 0.4 -> 0.6667, rock 0.02 -> 0.1; windows averaged before calibration
    SetScores.scores = [scores(music=0.9, house=0.05, electronic=0.05, techno=0.5, pop=0.3, rock=0.02),
                        scores(music=0.9, house=0.15, electronic=0.05, techno=0.5, pop=0.5, rock=0.02)]
    p = analyzer.analyze_samples(tone(70.0), SR).prediction
    got = [(b.genre, b.path, round(b.probability, 4)) for b in p.broad]
    assert got == [("Pop", (), 0.6667), ("House", ("Electronic",), 0.5), ("Electronic", (), 0.5),
                   ("Techno", ("Electronic",), 0.1), ("Rock", (), 0.1)]
    assert len(p.broad) <= KEEP and "Ambient" not in [b.genre for b in p.broad]  # no class, no child scored
    data = json.loads(json.dumps(p.to_dict()))
    assert data["broad"][1] == {"genre": "House", "path": ["Electronic"], "probability": 0.5}


def test_a_broken_calibration_or_rule_is_refused_clearly(models):
    (models / "broad.json").write_text(json.dumps({"format": CALIBRATION_FORMAT, "network": "net",
                                                   "default": {"x": [0.0, 1.0], "y": [0.9, 0.1]}}))
    manifest = json.loads((models / "manifest.json").read_text())
    for m in manifest["models"]:
        if m["name"] == "broad_genres":
            m.update(sha256=sha256_file(models / "broad.json"), size=(models / "broad.json").stat().st_size)
    (models / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="'broad_genres'.*not a broad-genre calibration.*non-decreasing"):
        Analyzer(models, n_segments=1, threads=1, musicnn=False)


def _bundled_reporters():
    manifest = load_manifest(bundled_models_dir(), verify=False)
    kinds = {e.kind for e in manifest.models}
    if not {"efficientat", "content"} <= kinds:
        pytest.skip("the bundled manifest lists no efficientat network and content rule yet")
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


def test_espeak_speech_is_spoken_word_and_a_gtzan_clip_is_music(tmp_path, gtzan_dir):
    _bundled_reporters()
    speech = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(speech),
                    "This is the second chapter of the book. The morning was cold, and the station was empty "
                    "when she arrived; the first train was late, as it always was in winter."], check=True)
    analyzer = Analyzer(n_segments=3, threads=1, musicnn=False)
    p = analyzer.analyze(speech).prediction
    assert p.error is None and p.content == SPOKEN_WORD and not p.is_music
    music = analyzer.analyze(f"{gtzan_dir}/clips/metal.00000.au").prediction
    assert music.content == MUSIC and music.is_music


def test_classify_and_list_json_carry_content_and_broad(models, tmp_path, capsys):
    import soundfile as sf

    from genre_desktop.cli import main
    from genre_desktop.core import Status, Track
    from genre_desktop.library.store import Store

    song = tmp_path / "talk.wav"
    sf.write(song, tone(40.0), SR)
    SetScores.scores = [scores(speech=0.9, music=0.1, pop=0.3)]
    assert main(["classify", "--json", "--models", str(models), "--segments", "1", str(song)]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert record["content"] == "spoken word" and record["broad"][0] == {"genre": "Pop", "path": [], "probability": 0.61111}
    assert main(["classify", "--models", str(models), "--segments", "1", str(song)]) == 0
    assert "spoken word: a music genre does not apply" in capsys.readouterr().out
    store = Store.open(tmp_path / "lib.json")
    store.upsert([Track(str(song), status=Status.PREDICTED, prediction=record),
                  Track(str(tmp_path / "old.wav"), status=Status.PREDICTED,
                        prediction={"path": "old.wav", "genres": [{"genre": "jazz", "probability": 0.9}]})])
    store.close()
    assert main(["list", "--json", "--store", str(tmp_path / "lib.json")]) == 0
    rows = {r["path"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[str(song)]["content"] == "spoken word" and rows[str(song)]["broad"] == record["broad"]
    assert rows[str(tmp_path / "old.wav")]["broad"] == [] and rows[str(tmp_path / "old.wav")]["content"] is None


def test_broad_genres_with_the_real_tree_and_network(tmp_path, gtzan_dir):
    """The shipped genre tree and the bundled AudioSet network, with a calibration file of one
    identity map (the network engineer's calibration replaces it): every genre reported is a node
    of the tree with its real parents, parents at least their children."""
    from genre_desktop.core.genre import default_tree

    manifest = load_manifest(bundled_models_dir(), verify=False)
    network = next((e for e in manifest.models if e.kind == "efficientat"), None)
    if network is None:
        pytest.skip("the bundled manifest lists no efficientat network yet")
    folder = tmp_path / "models"
    shutil.copytree(bundled_models_dir(), folder)
    calibration = folder / "broad_test.json"
    calibration.write_text(json.dumps({"format": CALIBRATION_FORMAT, "network": network.name,
                                       "default": {"x": [0.0, 1.0], "y": [0.0, 1.0]}}))
    raw = json.loads((folder / "manifest.json").read_text())
    raw["models"] = [m for m in raw["models"] if m["kind"] != "broad_genres"] + [
        {"name": "broad_genres", "kind": "broad_genres", "file": calibration.name, "sha256": sha256_file(calibration),
         "size": calibration.stat().st_size, "inputs": {}, "labels": []}]
    (folder / "manifest.json").write_text(json.dumps(raw))
    analyzer = Analyzer(folder, n_segments=1, threads=1, musicnn=False)
    p = analyzer.analyze(f"{gtzan_dir}/clips/metal.00000.au").prediction
    tree = default_tree()
    assert 0 < len(p.broad) <= KEEP
    by_name = {n.name: n for n in tree}
    scores = {b.genre: b.probability for b in p.broad}
    for b in p.broad:
        node = by_name[b.genre]
        assert b.path == tuple(a.name for a in tree.ancestors(node))
        for parent in b.path:
            if parent in scores:
                assert scores[parent] >= b.probability
    assert [b.probability for b in p.broad] == sorted(scores.values(), reverse=True)
    assert any("Rock" in (b.genre, *b.path) or "Metal" in b.genre for b in p.broad[:3]), p.broad
