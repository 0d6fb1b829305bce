"""The window's session sees other processes (issue 19 item 2), through the real window: the CLI
in another process writing while the window is open and while it plans, two windows on one
library, a store folder deleted under a running window, a file retagged by another program
between the preview and the write. Each is detected and explained, nothing is lost, and no write
is made from a stale plan."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from test_ui_main_window import StandInAnalyzer, path_of
from windows import wait_idle

from genre_desktop.app.review import Decision
from genre_desktop.app.workspace import Workspace
from genre_desktop.audio.output import NullOutput
from genre_desktop.core.status import ACCEPTED, CORRECTED, WRITTEN
from genre_desktop.library.journal import Journal
from genre_desktop.library.store import Store
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres, write_genres
from genre_desktop.ui.main import create_main_window
from media import make_audio


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    make_audio(root / "alpha.flac", seconds=1.0, tags={"title": "Alpha", "genre": "Rock"})
    make_audio(root / "bravo.mp3", seconds=1.0, tags={"title": "Bravo", "genre": "Pop"})
    make_audio(root / "delta.wav", seconds=1.0, tags={"title": "Delta", "genre": "Classical"})
    return root


def open_window(qtbot, library):
    """A window started the way the app starts it: the store opened in the background (and then
    watched for other processes' writes), the folder scanned, the stand-in analysis run."""
    workspace = Workspace(app_dirs().ensure(), Settings(write_mode="replace"))  # these tests are about stale plans, not the add mode
    win = create_main_window(workspace, output=NullOutput(reason="no audio output device found"),
                             analyzer_factory=lambda **kw: StandInAnalyzer(**kw))
    qtbot.addWidget(win)
    win.show()
    win.start(workspace.store_path, str(library))
    wait_idle(qtbot, win)
    win.analyze_unanalyzed()
    wait_idle(qtbot, win)
    return win


def close(win) -> None:
    win.shutdown()
    if win.workspace.store is not None:
        win.workspace.close()


def cli(*argv: str) -> subprocess.CompletedProcess:
    """The command line, in another process, on the same library (the app home of the test)."""
    proc = subprocess.run([sys.executable, "-m", "genre_desktop.cli", *argv], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_the_cli_writing_in_another_process_reaches_the_open_window_without_f5(qtbot, library):
    win = open_window(qtbot, library)
    try:
        bravo = path_of(library, "bravo.mp3")
        cli("tag", "--genre", "Jazz", bravo)
        qtbot.waitUntil(lambda: win.model.track_by_path(bravo).genres == ["Jazz"], timeout=10000)
        assert win.model.track_by_path(bravo).status == WRITTEN
        assert "Another Genre Desktop process" in win.status_text.text()
        cli("accept", "--above", "0.8")  # alpha (92 %) and bravo (85 %): the queue empties of them
        win.show_review()
        qtbot.waitUntil(lambda: [os.path.basename(t.path) for t in win.review.queued()] == ["delta.wav"],
                        timeout=10000)
    finally:
        close(win)


def test_the_cli_writing_while_the_window_plans_makes_the_plan_stale_and_nothing_is_written(qtbot, library):
    win = open_window(qtbot, library)
    try:
        alpha, bravo = path_of(library, "alpha.flac"), path_of(library, "bravo.mp3")
        win.session.decide([Decision.choose(alpha, ["jazz"], ACCEPTED), Decision.choose(bravo, ["Funk"], CORRECTED)])
        win.jobs.flush_pending()
        wait_idle(qtbot, win)
        dialog = win.open_write_dialog()
        assert dialog.changes() == {alpha: ["Jazz"], bravo: ["Funk"]}
        win.jobs.watch(False)  # the click comes before the next look at the store
        cli("reset", "--genre", "Funk")  # another process takes bravo's decision back...
        cli("write")  # ...and writes alpha itself
        assert read_genres(alpha) == ["Jazz"] and read_genres(bravo) == ["Pop"]
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        again = win.write_dialog
        assert again is not dialog and again.isVisible()  # the preview, shown again...
        assert "Nothing was written" in again.notice.text() and "changed in the library" in again.notice.text()
        assert again.changes() == {} and "Nothing to write yet" in again.summary.text()  # ...as it is now
        assert read_genres(bravo) == ["Pop"] and win.model.track_by_path(bravo).chosen is None
        with Journal(win.workspace.journal_path) as journal:
            assert {e.path for e in journal.entries()} == {alpha}  # the CLI's write alone
        again.reject()
        # With the window watching, a change while the preview is open updates it at once.
        win.jobs.watch(True)
        win.session.decide([Decision.choose(bravo, ["Funk"], CORRECTED)])
        win.jobs.flush_pending()  # saved (within a second anyway) before the other process looks
        wait_idle(qtbot, win)
        dialog = win.open_write_dialog()
        assert dialog.changes() == {bravo: ["Funk"]}
        cli("reset", "--genre", "Funk")
        qtbot.waitUntil(lambda: dialog.changes() == {}, timeout=10000)
        assert "changed while this preview was open" in dialog.notice.text()
        dialog.reject()
    finally:
        close(win)


def test_two_windows_on_one_library_see_each_others_decisions(qtbot, library):
    first = open_window(qtbot, library)
    second = open_window(qtbot, library)
    try:
        delta = path_of(library, "delta.wav")
        second.show_review()
        assert delta in [t.path for t in second.review.queued()]
        first.show_review()
        first.review.threshold.setValue(70)
        qtbot.mouseClick(first.review.bulk_button, Qt.MouseButton.LeftButton)  # alpha, bravo, delta
        first.jobs.flush_pending()
        wait_idle(qtbot, first)
        qtbot.waitUntil(lambda: second.model.track_by_path(delta).status == ACCEPTED, timeout=10000)
        qtbot.waitUntil(lambda: delta not in [t.path for t in second.review.queued()], timeout=10000)
        # The second window undoing nothing of the first's: its own undo stack is empty.
        assert not second.session.can_undo and first.session.can_undo
    finally:
        close(first)
        close(second)


def test_a_store_folder_deleted_under_the_window_is_explained_and_saved_again(qtbot, library, app_home):
    win = open_window(qtbot, library)
    try:
        store_path = win.workspace.store_path
        alpha = path_of(library, "alpha.flac")
        shutil.rmtree(store_path.parent)  # the whole data folder, while the window runs
        qtbot.waitUntil(lambda: win.libraries.lost_dialog is not None, timeout=10000)
        box = win.libraries.lost_dialog
        assert "was deleted while this window had it open" in box.text() and "3 tracks" in box.text()
        win.session.decide([Decision.choose(alpha, ["jazz"], ACCEPTED)])  # the librarian works on
        save = next(b for b in box.buttons() if b.text() == "Save the library again")
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        win.jobs.flush_pending()
        wait_idle(qtbot, win)
        assert "saved again" in win.status_text.text()
        with Store.open(store_path) as store:
            assert len(store) == 3 and store.get(alpha).chosen == ["jazz"]  # nothing lost
    finally:
        close(win)


def test_a_file_retagged_by_another_program_between_preview_and_write_is_read_again(qtbot, library):
    win = open_window(qtbot, library)
    try:
        alpha = path_of(library, "alpha.flac")
        win.session.decide([Decision.choose(alpha, ["jazz"], ACCEPTED)])
        dialog = win.open_write_dialog()
        assert dialog.model.data(dialog.model.index(0, 1)) == "Rock"
        write_genres(alpha, ["Metal"])  # another tag editor, right now
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        again = win.write_dialog
        assert again is not dialog and "changed on disk since the last scan" in again.notice.text()
        assert read_genres(alpha) == ["Metal"]  # not written from the stale plan
        assert again.model.data(again.model.index(0, 1)) == "Metal"  # "Now" is what the file holds
        qtbot.mouseClick(again.write_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        assert read_genres(alpha) == ["Jazz"] and "Wrote the genres of 1 file" in win.status_text.text()
    finally:
        close(win)


def test_the_lost_store_dialog_can_let_the_library_go(qtbot, library):
    win = open_window(qtbot, library)
    try:
        store_path = win.workspace.store_path
        os.remove(store_path)
        shutil.rmtree(store_path.with_name(store_path.name + ".shards"))
        qtbot.waitUntil(lambda: win.libraries.lost_dialog is not None, timeout=10000)
        box = win.libraries.lost_dialog
        let_go = next(b for b in box.buttons() if b.text() == "Let it go")
        assert box.buttonRole(let_go) == QMessageBox.ButtonRole.DestructiveRole
        qtbot.mouseClick(let_go, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        assert win.model.total_count() == 0 and win.workspace.store is not None and len(win.workspace.store) == 0
        assert "let go" in win.status_text.text()
    finally:
        close(win)


def test_closing_the_window_before_answering_saves_the_deleted_library_again(qtbot, library):
    win = open_window(qtbot, library)
    store_path = win.workspace.store_path
    shutil.rmtree(store_path.parent)
    qtbot.waitUntil(lambda: win.libraries.lost_dialog is not None, timeout=10000)
    close(win)  # the librarian quits with the dialog still open: its default, nothing lost
    with Store.open(store_path) as store:
        assert len(store) == 3


def test_the_window_stamps_its_analyses_and_its_writes_need_no_re_analysis(qtbot, library):
    """The window never stamped the analysed-file mark (issue 19): a file analysed there and changed
    later was never analysed again by `analyze`, and each write was analysed again the next night."""
    from genre_desktop.app.workflow import needs_analysis

    win = open_window(qtbot, library)
    try:
        win.jobs.flush_pending()
        wait_idle(qtbot, win)
        store = win.workspace.store
        assert all(not needs_analysis(t) for t in store.all())  # analysed in the window: stamped
        delta = path_of(library, "delta.wav")
        win.session.decide([Decision.choose(delta, ["Jazz"], CORRECTED)])
        dialog = win.open_write_dialog()
        model = dialog.model
        assert model.columnCount() == 3  # its ID3v2.4 chunk stays v2.4: nothing to say
        dialog.id3_version.setCurrentIndex(dialog.id3_version.findData(3))  # the librarian converts
        assert model.headerData(3, Qt.Orientation.Horizontal) == "Notes"
        assert model.data(model.index(0, 3)) == "its ID3v2.4 chunk becomes ID3v2.3 (the ID3 version setting converts it)"
        dialog.id3_version.setCurrentIndex(dialog.id3_version.findData("keep"))
        assert model.columnCount() == 3
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
        wait_idle(qtbot, win)
        assert read_genres(delta) == ["Jazz"]
        written = store.get(delta)
        assert written.status == WRITTEN and not needs_analysis(written)  # the audio was proven the same
    finally:
        close(win)
