"""The window shows how much undo data is kept, its limits are settings, and it says before a write
makes older undo data expire (issue 21)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from genre_desktop.audio.output import NullOutput
from genre_desktop.library.store import Store
from genre_desktop.library.undo_expiry import UndoLimits
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres
from genre_desktop.ui.main import create_main_window
from genre_desktop.ui.settings_dialog import SettingsDialog
from genre_desktop.ui.theme import apply_theme
from media import make_audio


@pytest.fixture
def window(qtbot, tmp_path):
    root = tmp_path / "music"
    for name in ("a", "b", "c"):
        make_audio(root / f"{name}.flac", seconds=0.5, tags={"title": name, "genre": "Rock"})
    dirs = app_dirs().ensure()
    store = Store.open(dirs.store_path)
    win = create_main_window(Settings(), dirs.settings_path, store, output=NullOutput(reason="no audio output"))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.open_folder(str(root))
    qtbot.waitUntil(lambda: win.model.total_count() == 3, timeout=20000)
    win.jobs.runner.wait()
    yield win, root
    win.shutdown()
    store.close()


def write_through_the_service(win, paths, genres):
    with win.workspace.tag_service() as (service, _):
        assert all(r.ok for r in service.write({str(p): genres for p in paths}))


def test_settings_show_the_undo_data_kept_and_its_limits(qtbot, window, tmp_path):
    win, root = window
    write_through_the_service(win, [root / "a.flac", root / "b.flac"], ["Jazz"])
    dialog = win.open_settings(tab=1)
    assert dialog.undo_usage.text().endswith(")") and " bytes for 2 writes (the oldest from " in dialog.undo_usage.text()
    assert (dialog.undo_max_mb.value(), dialog.undo_max_days.value()) == (1024, 0)
    assert dialog.undo_max_days.text() == "never"
    dialog.undo_max_mb.setValue(50)
    dialog.undo_max_days.setValue(90)
    dialog.accept()
    assert (win.settings.undo_max_mb, win.settings.undo_max_days) == (50, 90)
    shots = os.environ.get("GENRE_DESKTOP_SCREENSHOTS") or str(tmp_path)
    app = QApplication.instance()
    for theme in ("light", "dark"):
        apply_theme(app, theme)
        shown = SettingsDialog(win.settings, win.user_models, win, undo_usage="1.2 MB for 2 writes (the oldest from 6 Dec 2026)")
        shown.tabs.setCurrentIndex(1)
        shown.show()
        qtbot.waitExposed(shown)
        assert shown.grab().save(os.path.join(shots, f"settings_undo_{theme}.png"))
        shown.close()
    apply_theme(app, "light")


def test_a_write_that_would_expire_undo_data_asks_first(qtbot, window, monkeypatch):
    win, root = window
    write_through_the_service(win, [root / "a.flac"], ["Jazz"])
    win.workspace.update_settings(undo_max_mb=0)
    assert win.workspace.undo_limits().max_bytes is None
    assert win.writes._undo_data_may_expire(100)  # no limit: nothing to say
    # A limit below what is kept already: the next write would expire the oldest write's data.
    win.workspace.update_settings(undo_max_mb=1)
    monkeypatch.setattr(type(win.workspace), "undo_limits", lambda self: UndoLimits(max_bytes=1))
    asked = []

    def answer(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert not win.writes._undo_data_may_expire(1)
    assert asked and "can then only be undone genre by genre" in asked[0] and "Write anyway?" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert win.writes._undo_data_may_expire(1)
    assert read_genres(root / "b.flac") == ["Rock"]


def test_undo_offers_the_genres_of_files_changed_since_the_write(qtbot, window, monkeypatch):
    import mutagen

    win, root = window
    write_through_the_service(win, [root / "a.flac", root / "b.flac"], ["Jazz"])
    audio = mutagen.File(root / "a.flac")  # another program edits a.flac afterwards
    audio["title"] = "Edited elsewhere"
    audio.save()
    asked = []

    def answer(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    win.undo_last_write()
    qtbot.waitUntil(lambda: read_genres(root / "a.flac") == ["Rock"], timeout=20000)
    win.jobs.runner.wait()
    assert len(asked) == 1 and "1 file changed since the write" in asked[0]
    assert read_genres(root / "b.flac") == ["Rock"]
    assert mutagen.File(root / "a.flac")["title"] == ["Edited elsewhere"]  # the other program's edit stays


def test_the_write_button_asks_before_undo_data_expires_and_no_writes_nothing(qtbot, window, monkeypatch):
    """Driven through the preview's Write button: the question comes before anything is written;
    No leaves every file and all undo data as they were, Yes writes and the oldest data expires."""
    from genre_desktop.app.review import Decision
    from genre_desktop.core.status import CORRECTED
    from genre_desktop.library.journal import Journal

    win, root = window
    write_through_the_service(win, [root / "a.flac"], ["Jazz"])
    monkeypatch.setattr(type(win.workspace), "undo_limits", lambda self: UndoLimits(max_bytes=1))
    b = str(root / "b.flac")
    win.session.decide([Decision.choose(b, ["Blues"], CORRECTED)])
    answers, asked = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes], []

    def answer(parent, title, text, *args, **kwargs):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", answer)

    def expired() -> list[bool]:
        with Journal(win.workspace.journal_path) as journal:
            return [e.expired is not None for e in journal.entries() if e.kind == "write"]

    for expected_genres in (["Rock"], ["Rock", "Blues"]):
        dialog = win.open_write_dialog()
        assert dialog.changes() == {b: ["Rock", "Blues"]}  # the default mode adds
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: read_genres(b) == expected_genres, timeout=20000)
        win.jobs.runner.wait()
        if expected_genres == ["Rock"]:
            assert len(asked) == 1 and "undo data of the 1 oldest write" in asked[0]
            assert expired() == [False]  # nothing expired: the user said No
    assert len(asked) == 2 and expired()[0] is True  # a's data expired once the user said Yes
    assert read_genres(root / "a.flac") == ["Jazz"]
