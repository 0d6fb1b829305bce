"""The main window's menus: every command, each with a shortcut where a librarian needs one."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu


def add_action(window: QMainWindow, menu: QMenu, text: str, slot: Callable[[], object], shortcut=None,
               tip: str | None = None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    menu.addAction(action)
    window.addAction(action)  # shortcuts work even when the menu bar is hidden
    return action


def build_menus(w) -> None:
    """Create the menus of MainWindow ``w``; sets ``w.act_*`` for actions enabled/disabled later."""
    mb = w.menuBar()
    f = mb.addMenu("&File")
    w.act_open = add_action(w, f, "&Open folder…", w.libraries.choose_folder, QKeySequence.StandardKey.Open)
    w.act_rescan = add_action(w, f, "&Rescan", w.libraries.rescan, "F5", "Look for new, changed and removed files")
    f.addSeparator()
    add_action(w, f, "&Quit", w.close, QKeySequence.StandardKey.Quit)

    e = mb.addMenu("&Edit")
    add_action(w, e, "&Find", w.focus_search, QKeySequence.StandardKey.Find)
    w.act_write = add_action(w, e, "&Write genres to files…", w.open_write_dialog, "Ctrl+T",
                             "Preview and write the accepted and corrected genres")
    w.act_undo_write = add_action(w, e, "&Undo last write", w.undo_last_write, "Ctrl+Shift+Z")
    e.addSeparator()
    add_action(w, e, "&Settings…", w.open_settings, "Ctrl+,")

    v = mb.addMenu("&View")
    add_action(w, v, "&Library", lambda: w.tabs.setCurrentIndex(0), "Ctrl+1")
    add_action(w, v, "&Review queue", w.show_review, "Ctrl+2")
    v.addSeparator()
    add_action(w, v, "Zoom to the playing &segment", w.details.zoom_to_playing_segment, "Ctrl+=")
    add_action(w, v, "Show the &whole track", w.spectrogram.zoom_out, "Ctrl+0")

    a = mb.addMenu("&Analysis")
    w.act_analyze = add_action(w, a, "Analyse &unanalysed tracks", w.analysis.analyze_unanalyzed, "Ctrl+R")
    w.act_analyze_sel = add_action(w, a, "Analyse &selected tracks", w.analysis.analyze_selection, "Ctrl+Shift+R")
    w.act_cancel = add_action(w, a, "&Cancel", w.cancel_jobs, "Ctrl+.")
    w.act_cancel.setEnabled(False)
    a.addSeparator()
    add_action(w, a, "Show &problems…", w.show_errors, "Ctrl+Shift+E")

    p = mb.addMenu("&Playback")
    bar = w.player_bar
    add_action(w, p, "&Play / pause", w.details.toggle_play, "Space")
    add_action(w, p, "&Stop", bar.stop, "Ctrl+Space")
    add_action(w, p, "&Next track", lambda: w.details.step(1), "Ctrl+Right")
    add_action(w, p, "P&revious track", lambda: w.details.step(-1), "Ctrl+Left")
    add_action(w, p, "Seek &forward 5 s", lambda: bar.seek(bar.player.position() + 5), "Shift+Right")
    add_action(w, p, "Seek &back 5 s", lambda: bar.seek(bar.player.position() - 5), "Shift+Left")
    add_action(w, p, "Volume &up", lambda: bar.set_volume(bar.player.volume + 0.1), "Ctrl+Up")
    add_action(w, p, "Volume &down", lambda: bar.set_volume(bar.player.volume - 0.1), "Ctrl+Down")

    # The training wizard (issue 5) adds its entries to this menu.
    w.models_menu = mb.addMenu("&Models")
    add_action(w, w.models_menu, "&Train your own model…", w.open_training_wizard, "Ctrl+Shift+T")
    add_action(w, w.models_menu, "Library &map…", w.open_library_map)
    w.models_menu.addSeparator()
    add_action(w, w.models_menu, "Model &information…", w.open_about)
    add_action(w, w.models_menu, "Model &settings…", lambda: w.open_settings(tab=2))

    h = mb.addMenu("&Help")
    add_action(w, h, "&About Genre Desktop…", w.open_about, "F1")
