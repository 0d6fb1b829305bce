"""Issue 22 item 9: paths read well. The write preview's file column elides in the middle (the
folder and the file name both show, the full path in the tooltip); the Problems dialog shows paths
inside the library relative to it; the library table has a Folder column and a header menu that
shows and hides columns, remembered across restarts."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyleOptionViewItem

from genre_desktop.app.plan import plan_write
from genre_desktop.core.status import ACCEPTED
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings

LONG = "/music/Nina Simone/Little Girl Blue (1958, remastered deluxe edition)/03 - My Baby Just Cares for Me.mp3"


def drawn_text(view, index, width: int) -> tuple[str, Qt.TextElideMode]:
    """The text a cell of ``width`` pixels shows, elided as its delegate says."""
    option = QStyleOptionViewItem()
    option.textElideMode = view.textElideMode()
    view.itemDelegateForIndex(index).initStyleOption(option, index)
    return view.fontMetrics().elidedText(option.text, option.textElideMode, width), option.textElideMode


def test_the_write_preview_elides_the_file_column_in_the_middle(qtbot):
    from genre_desktop.ui.write_dialog import WriteDialog

    tracks = [Track(LONG, genres=["Rock"], status=ACCEPTED, chosen=["jazz"]),
              Track("/music/x.mp3", genres=[], status=ACCEPTED, chosen=["jazz"])]
    dialog = WriteDialog(lambda s: plan_write(tracks, s), Settings(write_mode="replace"))
    qtbot.addWidget(dialog)
    index = dialog.model.index(0, 0)
    text, mode = drawn_text(dialog.table, index, 260)
    assert mode == Qt.TextElideMode.ElideMiddle
    assert text.startswith("Nina Simone/") and text.endswith("Cares for Me.mp3") and "…" in text
    assert dialog.model.data(index, Qt.ItemDataRole.ToolTipRole).startswith(LONG)
    other, mode = drawn_text(dialog.table, dialog.model.index(0, 1), 30)
    assert mode == Qt.TextElideMode.ElideRight  # only the file column


def test_the_problems_dialog_shows_paths_inside_the_library(qtbot):
    from genre_desktop.ui.errors_dialog import ErrorsDialog

    errors = [(LONG, "empty file"), ("/elsewhere/b.mp3", "no such file"), ("Trained model", "it failed")]
    dialog = ErrorsDialog(errors, root="/music")
    qtbot.addWidget(dialog)
    shown = [dialog.table.item(r, 0).text() for r in range(3)]
    assert shown == [os.path.relpath(LONG, "/music"), "/elsewhere/b.mp3", "Trained model"]
    assert dialog.table.item(0, 0).toolTip() == LONG and dialog.table.item(0, 0).data(256) == LONG
    text, mode = drawn_text(dialog.table, dialog.table.model().index(0, 0), 200)
    assert mode == Qt.TextElideMode.ElideMiddle and text.endswith(".mp3")


def test_the_library_folder_column_and_the_header_menu(qtbot, tmp_path):
    from media import make_audio

    from genre_desktop.audio.output import NullOutput
    from genre_desktop.library.store import Store
    from genre_desktop.paths import app_dirs
    from genre_desktop.ui.library_model import FOLDER, HEADERS
    from genre_desktop.ui.main import create_main_window

    root = tmp_path / "music"
    make_audio(root / "Nina Simone" / "Little Girl Blue" / "baby.flac", seconds=1, tags={"title": "My Baby"})
    make_audio(root / "top.flac", seconds=1, tags={"title": "Top"})
    dirs = app_dirs().ensure()

    def open_window():
        store = Store.open(dirs.store_path)
        win = create_main_window(Settings.load(dirs.settings_path), dirs.settings_path, store,
                                 output=NullOutput(reason="no audio output device"))
        qtbot.addWidget(win)
        win.show()
        return win, store

    win, store = open_window()
    win.open_folder(str(root))
    qtbot.waitUntil(lambda: win.model.total_count() == 2 and not win.jobs.runner.active(), timeout=20000)
    assert win.table.isColumnHidden(FOLDER)  # no room in the default window: shown from the menu
    header = win.table.horizontalHeader()
    header.customContextMenuRequested.emit(header.rect().center())  # right-click on the header
    menu = win.library.column_menu
    assert menu is not None and [a.text() for a in menu.actions()] == list(HEADERS)
    actions = {a.text(): a for a in menu.actions()}
    assert not actions["Title"].isEnabled()  # a row keeps something to be recognised by
    actions["Folder"].trigger()
    actions["Album"].trigger()
    menu.close()
    assert not win.table.isColumnHidden(FOLDER) and win.table.isColumnHidden(HEADERS.index("Album"))
    baby = str(root / "Nina Simone" / "Little Girl Blue" / "baby.flac")
    row = win.model.row_of(baby)
    assert win.model.data(win.model.index(row, FOLDER)) == os.path.join("Nina Simone", "Little Girl Blue")
    assert win.model.data(win.model.index(row, FOLDER), Qt.ItemDataRole.ToolTipRole) == baby
    assert win.model.data(win.model.index(win.model.row_of(str(root / "top.flac")), FOLDER)) == ""
    win.model.sort(FOLDER, Qt.SortOrder.AscendingOrder)
    win.shutdown()
    store.close()

    win, store = open_window()  # remembered
    try:
        assert not win.table.isColumnHidden(FOLDER) and win.table.isColumnHidden(HEADERS.index("Album"))
    finally:
        win.shutdown()
        store.close()
