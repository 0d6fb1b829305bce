"""Activating a model re-scores the library from its cached vectors (training/rescore.py), through
``models activate`` / ``models rollback``: no decoding for tracks whose vectors are cached, the
predictions an analysis with the new model would give, the uncached tracks analysed and counted."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
from media import two_genre_library

from genre_desktop.cli import main
from genre_desktop.inference import analyzer as analyzer_module
from genre_desktop.settings import Settings


@pytest.fixture
def library(tmp_path, app_home):
    from genre_desktop.paths import app_dirs

    Settings(cpu_threads=1, segments=1).save(app_dirs().settings_path)
    root = tmp_path / "music"
    two_genre_library(root)
    store = str(tmp_path / "lib.json")
    assert main(["scan", str(root), "--store", store]) == 0
    assert main(["analyze", "--store", store, "--workers", "1"]) == 0
    return store


def _rows(capsys, store) -> dict:
    capsys.readouterr()
    assert main(["list", "--json", "--store", store]) == 0
    return {r["path"]: r for r in json.loads(capsys.readouterr().out)}


def _stored(store):
    from genre_desktop.library.store import Store

    s = Store.open(store)
    try:
        return {t.path: t.prediction for t in s.all()}
    finally:
        s.close()


def test_activating_rescores_from_the_cache_and_analyses_only_what_is_not_cached(library, capsys, monkeypatch):
    from genre_desktop.inference.user_model import load_active
    from genre_desktop.paths import app_dirs
    from genre_desktop.training.session import vector_analyzer

    before = _stored(library)
    assert main(["train", "--store", library, "--trust-existing", "Techno", "Classical"]) == 0
    version = next(line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("saved "))
    cache = vector_analyzer(app_dirs(), n_segments=1).vector_cache
    forgotten = sorted(before)[0]
    cache.discard(forgotten)  # analysed before the cache kept it: this one must be analysed again

    decoded = []
    real_decode = analyzer_module.decode
    monkeypatch.setattr(analyzer_module, "decode", lambda path, *a, **k: (decoded.append(str(path)),
                                                                         real_decode(path, *a, **k))[1])
    assert main(["models", "activate", version, "--store", library, "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert f"active: {version}" in out
    assert f"re-scored {len(before) - 1} of {len(before)} analysed tracks from their cached vectors" in out
    assert "1 track cannot be re-scored (analysed before the vector cache held them, or changed since): " \
           "analysing it" in out and "analysed 1 of 1" in out
    assert set(decoded) == {forgotten}  # every other track came from its cached vectors

    after = _stored(library)
    user = load_active(app_dirs().user_models, threads=1)
    fresh = analyzer_module.Analyzer(n_segments=1, threads=1, user_model=user)
    for path, prediction in after.items():
        assert prediction.model_version.endswith(version)
        assert f"user:{version}" in prediction.models
        assert prediction.tags == before[path].tags  # what the audio alone says is kept
        expected = fresh.analyze(path).prediction  # what an analysis with the new model gives
        assert [g for g, _ in prediction.genres] == [g for g, _ in expected.genres]
        for (_, p), (_, q) in zip(prediction.genres, expected.genres):
            assert p == pytest.approx(q, abs=2e-5)
        assert len(prediction.segments) == len(expected.segments)
    rows = _rows(capsys, library)
    assert all(r["status"] == "predicted" for r in rows.values())

    # Rolling back: the bundled models' predictions again, still without decoding.
    decoded.clear()
    assert main(["models", "rollback", "--store", library]) == 0
    out = capsys.readouterr().out
    assert f"re-scored {len(before)} of {len(before)} analysed tracks" in out and decoded == []
    for path, prediction in _stored(library).items():
        assert not any(m.startswith("user:") for m in prediction.models)
        assert prediction.model_version == before[path].model_version
        for (g, p), (h, q) in zip(prediction.genres, before[path].genres):
            assert g == h and p == pytest.approx(q, abs=2e-5)


def test_no_rescore_only_switches(library, capsys):
    assert main(["train", "--store", library, "--trust-existing", "Techno", "Classical"]) == 0
    version = next(line.split()[1] for line in capsys.readouterr().out.splitlines() if line.startswith("saved "))
    before = _stored(library)
    assert main(["models", "activate", version, "--store", library, "--no-rescore"]) == 0
    assert "re-scored" not in capsys.readouterr().out
    assert _stored(library) == before


def test_a_vote_that_reads_the_audio_sends_every_track_to_analysis():
    from genre_desktop.training.rescore import rescore

    member = SimpleNamespace(name="cnn", needs=frozenset({"mel"}), votes=True)
    analyzer = SimpleNamespace(ensemble=SimpleNamespace(members=[member]), vector_cache=object())
    tracks = [SimpleNamespace(path=f"/m/{i}.flac") for i in range(3)]
    summary = rescore(analyzer, tracks, lambda p: pytest.fail("nothing can be re-scored"))
    assert summary.done == 0 and summary.uncached == [t.path for t in tracks]
    assert "cnn, which reads the audio itself" in summary.cannot
