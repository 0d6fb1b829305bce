"""End to end through the real window: open a generated library, analyse, review with the keyboard,
preview and write tags, undo; assertions on the files' tags afterwards.

The analysis uses a small stand-in with the Analyzer's method (deterministic genres from the file
name) so the flow is fast and exact; ``test_real_analyzer_in_the_window`` runs the bundled models.
"""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from genre_desktop.audio.output import NullOutput
from genre_desktop.core.prediction import Prediction, SegmentScore
from genre_desktop.library.store import Store
from genre_desktop.core.status import ACCEPTED, CORRECTED, ERROR, PREDICTED, UNANALYSED, WRITTEN
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres
from genre_desktop.ui.main import create_main_window
from genre_desktop.ui.main_window import RESUME_KEY
from media import make_audio
from windows import opened_window, wait_idle

GENRE_OF = {"alpha": "jazz", "bravo": "rock", "charlie": "hiphop", "delta": "classical"}


class StandInAnalyzer:
    def __init__(self, **_config):
        self.calls = []

    def analyze(self, path, cancel):
        cancel.raise_if_cancelled()
        self.calls.append(path)
        name = os.path.splitext(os.path.basename(path))[0]
        if name not in GENRE_OF:
            return Prediction.failed(path, "cannot decode: not an audio file")
        top = GENRE_OF[name]
        confidence = {"alpha": 0.92, "bravo": 0.85, "charlie": 0.55, "delta": 0.75}[name]
        genres = [(top, confidence), ("blues", round(1 - confidence, 2))]
        return Prediction(path, genres=genres, models={"svm": dict(genres), "xgboost": dict(genres)},
                          segments=[SegmentScore(0.0, 1.0, dict(genres))], model_version="stand-in-1")


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    make_audio(root / "alpha.flac", seconds=1.5, tags={"title": "Alpha", "artist": "A", "genre": "Rock"})
    make_audio(root / "bravo.mp3", seconds=1.5, tags={"title": "Bravo", "artist": "B", "genre": "Pop"})
    make_audio(root / "sub" / "charlie.ogg", seconds=1.5, tags={"title": "Charlie", "artist": "C"})
    make_audio(root / "delta.wav", seconds=1.5, tags={"title": "Delta", "artist": "D", "genre": "Classical"})
    (root / "broken.mp3").write_bytes(b"\x00" * 512)
    return root


@pytest.fixture
def window(qtbot, library):
    dirs = app_dirs().ensure()
    settings = Settings(write_mode="replace")  # the test follows replaced genres
    store = Store.open(dirs.store_path)
    analyzers = []
    win = create_main_window(settings, dirs.settings_path, store, output=NullOutput(reason="no audio output device found"),
                             analyzer_factory=lambda **kw: analyzers.append(StandInAnalyzer(**kw)) or analyzers[-1])
    win.analyzers = analyzers
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()
    store.close()


def path_of(library, name):
    return str(next(library.rglob(name)))


def test_open_analyse_review_write_and_undo(qtbot, window, library):
    win = window
    assert win.stack.currentIndex() == 0  # empty state before anything is opened
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    assert win.model.total_count() == 5
    assert win.stack.currentIndex() == 1
    assert "Scan finished" in win.status_text.text()

    # Search as you type narrows the table.
    qtbot.keyClicks(win.search, "brav")
    qtbot.waitUntil(lambda: win.model.rowCount() == 1, timeout=2000)
    win.search.clear()
    qtbot.waitUntil(lambda: win.model.rowCount() == 5, timeout=2000)

    # Analyse everything from the keyboard; results land in the table and the store.
    win.table.setFocus()
    qtbot.keyClick(win.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, win)
    statuses = {os.path.basename(t.path): t.status for t in win.model.tracks()}
    assert statuses == {"alpha.flac": PREDICTED, "bravo.mp3": PREDICTED, "charlie.ogg": PREDICTED,
                        "delta.wav": PREDICTED, "broken.mp3": ERROR}
    assert [os.path.basename(p) for p, _ in win.errors] == ["broken.mp3"]
    assert win.errors_button.isVisible() and "1 problem" in win.errors_button.text()
    assert win.jobs.store.get(path_of(library, "bravo.mp3")).predicted_genre == "rock"
    assert "Analysed 4 tracks" in win.status_text.text()  # the broken file was already flagged by the scan
    assert win.settings.extra[RESUME_KEY] is False

    # Selecting a track shows its prediction and computes its spectrogram in the background.
    win.select_path(path_of(library, "alpha.flac"))
    qtbot.waitUntil(lambda: win.spectrogram.has_image, timeout=20000)
    assert "Jazz" in win.side.predictions.summary.text()
    assert "Silent" in win.player_bar.status.text()

    # Review from the keyboard: most confident first (alpha 92%, bravo 85%, delta 75%, charlie 55%).
    qtbot.keyClick(win.table, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert win.tabs.currentIndex() == 1
    queue = win.review
    assert [os.path.basename(t.path) for t in queue.queued()] == ["alpha.flac", "bravo.mp3", "delta.wav", "charlie.ogg"]
    qtbot.keyClick(queue.table, Qt.Key.Key_A)  # alpha: accept jazz
    qtbot.keyClick(queue.table, Qt.Key.Key_2)  # bravo: pick the second genre, blues
    qtbot.keyClick(queue.table, Qt.Key.Key_S)  # delta: skip
    qtbot.keyClick(queue.table, Qt.Key.Key_E)  # charlie: type a new genre
    qtbot.keyClicks(queue.new_genre, "Trip Hop")
    qtbot.keyClick(queue.new_genre, Qt.Key.Key_Return)
    qtbot.keyClick(queue.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo charlie
    assert win.model.track_by_path(path_of(library, "charlie.ogg")).status == PREDICTED
    qtbot.keyClick(queue.table, Qt.Key.Key_3)  # charlie: nothing at 3 -> ignored
    qtbot.keyClick(queue.table, Qt.Key.Key_E)
    qtbot.keyClicks(queue.new_genre, "Trip Hop")
    qtbot.keyClick(queue.new_genre, Qt.Key.Key_Return)
    wait_idle(qtbot, win)
    win.jobs.flush_pending()
    wait_idle(qtbot, win)
    store = win.jobs.store
    assert store.get(path_of(library, "alpha.flac")).status == ACCEPTED
    assert store.get(path_of(library, "bravo.mp3")).chosen == ["blues"]
    assert store.get(path_of(library, "charlie.ogg")).chosen == ["Trip Hop"]
    assert store.get(path_of(library, "charlie.ogg")).status == CORRECTED
    assert store.get(path_of(library, "delta.wav")).status == PREDICTED

    # Preview: every file and its exact change, nothing written yet.
    qtbot.keyClick(queue.table, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    dialog = win.write_dialog
    assert dialog is not None and dialog.isVisible()
    rows = {dialog.model.data(dialog.model.index(r, 0)): (dialog.model.data(dialog.model.index(r, 1)),
                                                           dialog.model.data(dialog.model.index(r, 2)))
            for r in range(dialog.model.rowCount())}
    assert rows == {"alpha.flac": ("Rock", "Jazz"), "bravo.mp3": ("Pop", "Blues"), "sub/charlie.ogg": ("(none)", "Trip Hop")}
    assert read_genres(path_of(library, "alpha.flac")) == ["Rock"]
    qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, win)
    assert read_genres(path_of(library, "alpha.flac")) == ["Jazz"]
    assert read_genres(path_of(library, "bravo.mp3")) == ["Blues"]
    assert read_genres(path_of(library, "sub/charlie.ogg")) == ["Trip Hop"]
    assert read_genres(path_of(library, "delta.wav")) == ["Classical"]  # skipped: untouched
    assert win.model.track_by_path(path_of(library, "alpha.flac")).status == WRITTEN
    assert "Wrote the genres of 3 files" in win.status_text.text()

    # Undo the write from the keyboard: the old values are back in the files.
    queue.table.setFocus()
    qtbot.keyClick(queue.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    wait_idle(qtbot, win)
    assert read_genres(path_of(library, "alpha.flac")) == ["Rock"]
    assert read_genres(path_of(library, "bravo.mp3")) == ["Pop"]
    assert read_genres(path_of(library, "sub/charlie.ogg")) == []
    assert "Restored the genres of 3 files" in win.status_text.text()
    assert win.model.track_by_path(path_of(library, "alpha.flac")).genres == ["Rock"]


def test_interrupted_analysis_resumes_on_the_next_start(qtbot, window, library):
    win = window
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    first = [win.model.track_by_path(path_of(library, n)) for n in ("alpha.flac", "bravo.mp3")]
    win.analyze(first)  # the part done before the app was closed
    wait_idle(qtbot, win)
    win.workspace.update_extra(**{RESUME_KEY: True})  # as left by a session closed mid-analysis
    win.open_folder(str(library), scan=False)  # what the next start does
    wait_idle(qtbot, win)
    assert not [t for t in win.model.tracks() if t.status == UNANALYSED]
    calls = [os.path.basename(p) for p in win.analyzers[-1].calls]
    assert calls[:2] == ["alpha.flac", "bravo.mp3"]
    assert sorted(calls[2:]) == ["charlie.ogg", "delta.wav"]  # only what was left
    assert Settings.load(app_dirs().settings_path).extra[RESUME_KEY] is False


def test_drop_a_folder_and_dialogs_open(qtbot, window, library):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    win = window
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(library))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    win.dropEvent(event)
    wait_idle(qtbot, win)
    assert win.root == str(library) and win.model.total_count() == 5
    assert Settings.load(app_dirs().settings_path).last_library == str(library)
    settings_dialog = win.open_settings()
    settings_dialog.segments.setValue(2)
    settings_dialog.accept()
    assert win.settings.segments == 2
    errors = win.show_errors()
    assert errors.table.rowCount() >= 0
    errors.close()
    win.open_about().close()


def test_real_analyzer_in_the_window(qtbot, library):
    """The bundled models through the whole window (skips when the models are not there yet)."""
    from genre_desktop.inference.analyzer import Analyzer, ModelError

    try:
        analyzer = Analyzer()
    except ModelError as exc:
        pytest.skip(f"bundled models unavailable: {exc}")
    with opened_window(qtbot, Settings(write_mode="replace"), output=NullOutput(),
                       analyzer_factory=lambda **kw: analyzer) as win:
        win.open_folder(str(library))
        wait_idle(qtbot, win)
        win.analyze_unanalyzed()
        wait_idle(qtbot, win, timeout=120000)
        tracks = {os.path.basename(t.path): t for t in win.model.tracks()}
        assert tracks["broken.mp3"].status == ERROR and tracks["broken.mp3"].error
        for name in ("alpha.flac", "bravo.mp3", "charlie.ogg", "delta.wav"):
            assert tracks[name].status == PREDICTED, tracks[name].error
            assert tracks[name].predicted_genre in analyzer.labels
        # Accept the most confident prediction and type a genre for the next, write, check, undo.
        win.show_review()
        first = win.review.current()
        qtbot.keyClick(win.review.table, Qt.Key.Key_A)
        second = win.review.current()
        qtbot.keyClick(win.review.table, Qt.Key.Key_E)
        qtbot.keyClicks(win.review.new_genre, "Archive Test")
        qtbot.keyClick(win.review.new_genre, Qt.Key.Key_Return)
        wait_idle(qtbot, win)
        before = {t.path: read_genres(t.path) for t in (first, second)}
        expected = {second.path: ["Archive Test"]}
        accepted = win.settings.spell(first.predicted_genre)
        if before[first.path] != [accepted]:  # an accepted genre the file already has is not rewritten
            expected[first.path] = [accepted]
        dialog = win.open_write_dialog()
        assert dialog.changes() == expected
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        assert {p: read_genres(p) for p in expected} == expected
        win.undo_last_write()
        wait_idle(qtbot, win)
        assert {t.path: read_genres(t.path) for t in (first, second)} == before


def test_space_toggles_playback_and_ctrl_right_moves_to_the_next_track(qtbot, window, library):
    win = window
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    win.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    win.select_path(path_of(library, "alpha.flac"))
    win.table.setFocus()
    qtbot.waitUntil(lambda: win.player_bar.player.state == "ready", timeout=10000)
    qtbot.keyClick(win.table, Qt.Key.Key_Space)
    assert win.player_bar.player.state == "playing"
    qtbot.keyClick(win.table, Qt.Key.Key_Space)
    assert win.player_bar.player.state == "paused"
    qtbot.keyClick(win.table, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert win.current_path == path_of(library, "bravo.mp3")
    qtbot.waitUntil(lambda: win.player_bar.player.path == path_of(library, "bravo.mp3")
                    and win.player_bar.player.state == "ready", timeout=10000)
    # Playing to the end of a track moves on and keeps playing (1.5 s files, a clock-driven output);
    # broken.mp3 (sorted between bravo and charlie) cannot play and is skipped.
    qtbot.keyClick(win.table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.current_path == path_of(library, "sub/charlie.ogg")
                    and win.player_bar.player.state == "playing", timeout=15000)


def shown(win):
    """The path whose details the side panel shows (None for "No track selected")."""
    title = win.side.title.text()
    if title == "No track selected":
        return None
    return next(t.path for t in win.model.tracks() if win.side.fields["file"].text().replace("\u200b", "") == t.path)


def test_details_follow_the_visible_current_row(qtbot, window, library):
    win = window
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    assert win.table.currentIndex().row() == -1
    win.analyze_unanalyzed()
    wait_idle(qtbot, win)
    # An analysis ending with nothing selected leaves the details empty (the queue is not on screen).
    assert shown(win) is None and win.current_path is None
    assert not win.spectrogram.has_image

    # The review tab: the details are the queue's current track, also when the library table
    # had another row selected.
    win.show_review()
    alpha = path_of(library, "alpha.flac")
    assert win.review.current().path == alpha and shown(win) == alpha
    win.tabs.setCurrentIndex(0)
    win.select_path(path_of(library, "delta.wav"))
    assert shown(win) == path_of(library, "delta.wav")
    loads = []
    win.spectrogram.clear = lambda *a, **k: loads.append(a)  # a reload would clear the spectrogram first
    win.session.set_tracks(list(win.model.tracks()))  # a rescan's result: the same row stays, nothing reloads
    assert shown(win) == win.current_path == path_of(library, "delta.wav") and loads == []
    del win.spectrogram.clear
    win.show_review()
    assert shown(win) == win.review.current().path == alpha and win.current_path == alpha

    # Ctrl+Z in the queue brings back the undone track, in the queue and in the details.
    qtbot.keyClick(win.review.table, Qt.Key.Key_A)
    assert shown(win) == win.review.current().path == path_of(library, "bravo.mp3")
    qtbot.keyClick(win.review.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.review.current().path == alpha and shown(win) == alpha

    # Back on the library tab: its own current row again.
    win.tabs.setCurrentIndex(0)
    assert shown(win) == path_of(library, "delta.wav")

    # A queue emptied by decisions shows nothing, not the last decided track.
    win.show_review()
    win.review.threshold.setValue(0)
    qtbot.mouseClick(win.review.bulk_button, Qt.MouseButton.LeftButton)
    assert win.review.current() is None and shown(win) is None
    wait_idle(qtbot, win)


_RUN_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from genre_desktop.paths import app_dirs
from genre_desktop.ui.main import run

app = QApplication([])
def close_when_scanned():
    windows = [w for w in QApplication.topLevelWidgets() if w.objectName() == "MainWindow" and w.isVisible()]
    if windows and windows[0].model.total_count() == 5 and not windows[0].jobs.runner.active():
        windows[0].close()
        QApplication.quit()
    else:
        QTimer.singleShot(50, close_when_scanned)
QTimer.singleShot(50, close_when_scanned)
sys.exit(run([sys.argv[1]], app_dirs()))
"""


def test_run_opens_the_folder_given_and_remembers_it(library):
    """The entry point app.py calls: store opened, folder scanned, last library saved. In a child
    process: once a QApplication's exec() has returned, Qt delivers no more queued signals in it."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _RUN_SCRIPT, str(library)], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    saved = Settings.load(app_dirs().settings_path)
    assert saved.last_library == str(library)
    assert saved.extra.get("window_geometry")  # the window reopens where it was
    store = Store.open(app_dirs().store_path)
    assert len(store) == 5
    store.close()


def test_every_library_column_is_visible_at_the_default_window_size(qtbot, window, library):
    from genre_desktop.ui.library_model import CONFIDENCE, HEADERS

    win = window
    win.resize(1280, 820)  # a first start: the window's default size
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    qtbot.wait(50)
    header = win.table.horizontalHeader()
    visible = win.table.viewport().width()
    last = len(HEADERS) - 1
    assert header.sectionViewportPosition(last) + header.sectionSize(last) <= visible + 1
    # Each header reads in full (text, margins and the sort arrow).
    room = header.fontMetrics().horizontalAdvance("Confidence") + 2 * header.style().pixelMetric(
        header.style().PixelMetric.PM_HeaderMargin) + header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMarkSize)
    assert header.sectionSize(CONFIDENCE) >= room


def test_coming_back_quickly_to_the_loaded_track_shows_its_spectrogram(qtbot, window, library):
    win = window
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    alpha, bravo = path_of(library, "alpha.flac"), path_of(library, "bravo.mp3")
    win.select_path(alpha)
    qtbot.waitUntil(lambda: win.spectrogram.has_image and win.player_bar.player.path == alpha, timeout=20000)
    win.select_path(bravo)  # and straight back, before the selection has rested
    win.select_path(alpha)
    assert not win.spectrogram.has_image  # cleared for the new selection...
    qtbot.waitUntil(lambda: win.spectrogram.has_image, timeout=20000)  # ...and computed again
    wait_idle(qtbot, win)


def test_the_status_column_shows_predicted_truncated_in_full_at_the_default_size(qtbot, window, library, tmp_path):
    """The longest status text ("predicted · truncated") reads in full at the default window size,
    and the default columns still need no horizontal scrollbar."""
    import dataclasses

    from genre_desktop.ui.library_model import STATUS

    win = window
    win.resize(1280, 820)
    win.open_folder(str(library))
    wait_idle(qtbot, win)
    bravo = win.store.get(path_of(library, "bravo.mp3")) if hasattr(win, "store") else None
    track = next(t for t in win.model._tracks if t.path.endswith("bravo.mp3")) if bravo is None else bravo
    win.model.update_tracks([dataclasses.replace(track, status=PREDICTED, error=(
        "truncated MP3: the header says 0:30, the file holds about 0:12"))])
    qtbot.wait(50)
    row = next(r for r in range(win.model.rowCount()) if win.model.index(r, STATUS).data() == "predicted · truncated")
    header = win.table.horizontalHeader()
    needed = win.table.sizeHintForColumn(STATUS)  # the delegate's width for the visible rows' text
    assert needed > 0 and header.sectionSize(STATUS) >= needed, (header.sectionSize(STATUS), needed)
    assert win.table.visualRect(win.model.index(row, STATUS)).right() <= win.table.viewport().width()
    assert not win.table.horizontalScrollBar().isVisible()
    from PySide6.QtWidgets import QApplication

    from genre_desktop.ui.theme import apply_theme

    app = QApplication.instance()
    before = app.palette()
    try:
        for theme in ("light", "dark"):  # looked at by a person: tmp_path/../status_column_<theme>.png
            apply_theme(app, theme)
            qtbot.wait(20)
            win.grab().save(str(tmp_path.parent / f"status_column_{theme}.png"))
    finally:
        app.setPalette(before)
