"""The window re-scores the library from the cached vectors when a model is activated (and when it
is rolled back): no track is decoded again, the predictions are the new model's, the status bar
says what happened (training/rescore.py through jobs/ and ui/analysis_flow.py)."""

from __future__ import annotations

import pytest
import windows
from media import two_genre_library

from genre_desktop.audio.output import NullOutput
from genre_desktop.inference import analyzer as analyzer_module
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    two_genre_library(root)
    return root


def wait_idle(qtbot, win):
    windows.wait_idle(qtbot, win, timeout=120000, settle=50)


def test_activating_a_model_in_the_window_rescores_without_decoding(qtbot, library, monkeypatch):
    from genre_desktop.training.dataset import build_dataset
    from genre_desktop.training.session import run_training

    dirs = app_dirs().ensure()
    settings = Settings(segments=1, cpu_threads=1, analysis_workers=1)
    with windows.opened_window(qtbot, settings, output=NullOutput()) as win:
        win.open_folder(str(library))
        wait_idle(qtbot, win)
        win.analyze_unanalyzed()
        wait_idle(qtbot, win)
        tracks = win.session.tracks()
        assert len(tracks) == 12 and all(t.prediction is not None and not t.prediction.error for t in tracks)
        bundled = {t.path: t.prediction.model_version for t in tracks}
        dataset = build_dataset(tracks, ["Techno", "Classical"])
        result, _ = run_training(dataset, dirs, settings.segments, 1)

        decoded = []
        real = analyzer_module.decode
        monkeypatch.setattr(analyzer_module, "decode", lambda p, *a, **k: (decoded.append(p), real(p, *a, **k))[1])
        win._activate_model(result.version)
        wait_idle(qtbot, win)
        assert decoded == []
        assert all(t.prediction.model_version.endswith(result.version) for t in win.session.tracks())
        assert all(f"user:{result.version}" in t.prediction.models for t in win.session.tracks())
        text = win.status_text.text()
        assert f"Analyses now use your model {result.version}" in text and "12 tracks re-scored" in text
        win.grab().save(str(app_dirs().data / "rescored.png"))

        win._activate_model(None)  # back to the bundled models alone
        wait_idle(qtbot, win)
        assert decoded == [] and {t.path: t.prediction.model_version for t in win.session.tracks()} == bundled
        assert "Analyses now use the bundled models alone: 12 tracks re-scored" in win.status_text.text()
