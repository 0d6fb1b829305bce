"""A mistyped folder (``genre-desktop /path/nope``) shows "not available" but is not remembered as
the last library: the next plain start still opens the real one (issue 13 item 9)."""

from __future__ import annotations

from genre_desktop.app.workspace import Workspace
from genre_desktop.audio.output import NullOutput
from genre_desktop.jobs.runner import JobRunner
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.ui.main import create_main_window


def test_a_missing_folder_does_not_replace_the_last_library(qtbot, tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    dirs = app_dirs().ensure()
    Settings(last_library=str(music)).save(dirs.settings_path)
    workspace = Workspace(dirs)
    workspace.open_store()
    window = create_main_window(workspace, runner=JobRunner(synchronous=True), output=NullOutput("test"))
    qtbot.addWidget(window)
    nope = tmp_path / "nope"
    window.open_folder(str(nope))
    assert "not available" in window.status_text.text()
    assert window.settings.last_library == str(music)
    assert Settings.load(dirs.settings_path).last_library == str(music)
    other = tmp_path / "other"
    other.mkdir()
    window.open_folder(str(other))  # a real folder is remembered
    assert Settings.load(dirs.settings_path).last_library == str(other)
    window.shutdown()
    workspace.close()
