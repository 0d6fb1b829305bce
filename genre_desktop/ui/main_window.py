"""The main window: wiring of the table, side panel, spectrogram, player, review queue and jobs.

No domain logic here: the model sorts and filters, the review queue decides, the write dialog
plans, ``LibraryJobs`` runs everything long on the job runner (store and tag writes on its one
serial writer). Menus carry every command with a shortcut.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.jobs.library_jobs import AnalysisProgress, LibraryJobs, OpenResult, prediction_fields
from genre_desktop.library.track import STATUSES, UNANALYSED, Track
from genre_desktop.settings import Settings
from genre_desktop.ui.about_dialog import AboutDialog
from genre_desktop.ui.empty_state import EmptyState
from genre_desktop.ui.errors_dialog import ErrorsDialog
from genre_desktop.ui.library_model import DEFAULT_WIDTHS, HEADERS, LibraryModel
from genre_desktop.ui.player_bar import PlayerBar
from genre_desktop.ui.review_queue import ReviewQueue
from genre_desktop.ui.settings_dialog import SettingsDialog
from genre_desktop.ui.side_panel import SidePanel
from genre_desktop.ui.spectrogram_view import SpectrogramView
from genre_desktop.ui.status import describe_analysis, describe_scan, describe_write
from genre_desktop.ui.theme import apply_theme
from genre_desktop.ui.write_dialog import WriteDialog

log = logging.getLogger(__name__)

RESUME_KEY = "analysis_pending"  # in Settings.extra: an analysis was running when the app closed


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, settings_path: Path, jobs: LibraryJobs, player_bar: PlayerBar,
                 models_dir: Path, user_models: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.settings_path = settings_path
        self.jobs = jobs
        self.models_dir = models_dir
        self.user_models = user_models
        self.root: str | None = None
        self.errors: list[tuple[str, str]] = []
        self.current_path: str | None = None
        self.write_dialog: WriteDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._analysis = None
        self._closing = False
        self.setObjectName("MainWindow")
        self.setWindowTitle("Genre Desktop")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        spell = self.settings.spell

        # --- library page: search bar + table, or the empty state
        self.model = LibraryModel(self, spell)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)  # fixed heights: no per-row measuring
        for col, width in enumerate(DEFAULT_WIDTHS):
            self.table.setColumnWidth(col, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search title, artist, album, genre, path… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in STATUSES:
            self.status_filter.addItem(status.capitalize(), status)
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.count_label)
        library_page = QWidget()
        page_layout = QVBoxLayout(library_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addLayout(bar)
        page_layout.addWidget(self.table)
        self.empty = EmptyState()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(library_page)

        self.review = ReviewQueue(spell, settings.bulk_threshold)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.stack, "Library")
        self.tabs.addTab(self.review, "Review")
        self.side = SidePanel(spell)
        self.spectrogram = SpectrogramView()
        self.player_bar = player_bar
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.tabs)
        top.addWidget(self.side)
        top.setStretchFactor(0, 1)
        top.setSizes([900, 340])
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(0)
        bottom_layout.addWidget(self.spectrogram, 1)
        bottom_layout.addWidget(self.player_bar)
        main = QSplitter(Qt.Orientation.Vertical)
        main.addWidget(top)
        main.addWidget(bottom)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 1)
        main.setSizes([560, 240])
        self.setCentralWidget(main)

        # --- status bar: text, progress with count/rate/eta, cancel
        self.status_text = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Cancel the running scan or analysis (Ctrl+.)")
        self.cancel_button.hide()
        self.errors_button = QToolButton()
        self.errors_button.setAutoRaise(True)
        self.errors_button.hide()
        self.statusBar().addWidget(self.status_text, 1)
        self.statusBar().addPermanentWidget(self.errors_button)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)

        self._build_actions()
        self._connect()
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)  # filter after a pause in typing, not on every key
        self._search_timer.timeout.connect(lambda: self._apply_filter())
        # Decoding starts once the selection rests for a moment: holding the arrow key down over
        # fifty rows must not start fifty decodes on a two-core machine.
        self._load_timer = QTimer(self)
        self._load_timer.setSingleShot(True)
        self._load_timer.setInterval(150)
        self._load_timer.timeout.connect(self._load_media)
        self._autoplay = False
        self._update_counts()
        self._show_page()

    # ------------------------------------------------------------------------------ actions
    def _action(self, menu, text: str, slot, shortcut=None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_actions(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_open = self._action(f, "&Open folder…", self.choose_folder, QKeySequence.StandardKey.Open)
        self.act_rescan = self._action(f, "&Rescan", self.rescan, "F5", "Look for new, changed and removed files")
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        e = mb.addMenu("&Edit")
        self._action(e, "&Find", self.focus_search, QKeySequence.StandardKey.Find)
        self.act_write = self._action(e, "&Write genres to files…", self.open_write_dialog, "Ctrl+T",
                                      "Preview and write the accepted and corrected genres")
        self.act_undo_write = self._action(e, "&Undo last write", self.undo_last_write, "Ctrl+Shift+Z")
        e.addSeparator()
        self._action(e, "&Settings…", self.open_settings, "Ctrl+,")
        v = mb.addMenu("&View")
        self._action(v, "&Library", lambda: self.tabs.setCurrentIndex(0), "Ctrl+1")
        self._action(v, "&Review queue", self.show_review, "Ctrl+2")
        v.addSeparator()
        self._action(v, "Zoom to the playing &segment", self.zoom_to_playing_segment, "Ctrl+=")
        self._action(v, "Show the &whole track", self.spectrogram.zoom_out, "Ctrl+0")
        a = mb.addMenu("&Analysis")
        self.act_analyse = self._action(a, "Analyse &unanalysed tracks", self.analyse_unanalysed, "Ctrl+R")
        self.act_analyse_sel = self._action(a, "Analyse &selected tracks", self.analyse_selection, "Ctrl+Shift+R")
        self.act_cancel = self._action(a, "&Cancel", self.cancel_jobs, "Ctrl+.")
        self.act_cancel.setEnabled(False)
        a.addSeparator()
        self._action(a, "Show &errors…", self.show_errors, "Ctrl+Shift+E")
        p = mb.addMenu("&Playback")
        self._action(p, "&Play / pause", self.toggle_play, "Space")
        self._action(p, "&Stop", self.player_bar.stop, "Ctrl+Space")
        self._action(p, "&Next track", self.next_track, "Ctrl+Right")
        self._action(p, "P&revious track", self.previous_track, "Ctrl+Left")
        self._action(p, "Seek &forward 5 s", lambda: self.player_bar.seek(self.player_bar.player.position() + 5), "Shift+Right")
        self._action(p, "Seek &back 5 s", lambda: self.player_bar.seek(self.player_bar.player.position() - 5), "Shift+Left")
        self._action(p, "Volume &up", lambda: self.player_bar.set_volume(self.player_bar.player.volume + 0.1), "Ctrl+Up")
        self._action(p, "Volume &down", lambda: self.player_bar.set_volume(self.player_bar.player.volume - 0.1), "Ctrl+Down")
        # The training wizard (issue 5) adds its entries to this menu.
        self.models_menu = mb.addMenu("&Models")
        self._action(self.models_menu, "Model &information…", self.open_about)
        self._action(self.models_menu, "Model &settings…", lambda: self.open_settings(tab=2))
        h = mb.addMenu("&Help")
        self._action(h, "&About Genre Desktop…", self.open_about, "F1")

    def _connect(self) -> None:
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status_filter.currentIndexChanged.connect(lambda _i: self._apply_filter())
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.table.doubleClicked.connect(lambda _i: self.toggle_play())
        self.model.countsChanged.connect(self._update_counts)
        self.model.modelReset.connect(self._update_counts)
        self.empty.openRequested.connect(self.choose_folder)
        self.review.decided.connect(self.apply_decisions)
        self.review.currentTrackChanged.connect(self.show_track)
        self.review.thresholdChanged.connect(self._set_threshold)
        self.tabs.currentChanged.connect(self._on_tab)
        self.spectrogram.seekRequested.connect(self.player_bar.seek)
        self.player_bar.positionChanged.connect(self.spectrogram.set_position)
        self.player_bar.nextRequested.connect(self.next_track)
        self.player_bar.ended.connect(self._on_track_ended)
        self.player_bar.previousRequested.connect(self.previous_track)
        self.player_bar.volume.valueChanged.connect(lambda v: setattr(self.settings, "volume", v / 100.0))
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.errors_button.clicked.connect(self.show_errors)

    # ------------------------------------------------------------------------------ library
    def start(self, store_path: Path, folder: str | None) -> None:
        """Open the store in the background, then ``folder``: the window never waits for the disk."""
        self.empty.set_opening()
        self._begin_progress("Opening the library…", busy=True)
        self.cancel_button.hide()
        self.jobs.open_store(store_path, on_finished=lambda store: self._store_opened(store, folder),
                             on_failed=lambda e: self._job_failed("Opening the library", e), on_done=self._end_progress)

    def _store_opened(self, store, folder: str | None) -> None:
        recovered = getattr(store, "recovered_from", None)
        if recovered:
            box = QMessageBox(QMessageBox.Icon.Warning, "Library file repaired",
                              "Part of the library file was damaged and has been set aside "
                              f"({', '.join(str(p) for p in recovered)}). Rescanning the folder rebuilds it.",
                              QMessageBox.StandardButton.Ok, self)
            box.open()
        if folder:
            self.open_folder(folder)
        else:
            self.empty.set_idle()
            self.status_text.setText("Open a music folder to begin (Ctrl+O).")

    def choose_folder(self) -> None:
        start = self.root or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Open a music folder", start)
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str, scan: bool = True) -> None:
        """Show what the store knows about ``folder`` at once, then rescan it in the background."""
        root = os.path.abspath(folder)
        self.root = root
        self.settings.last_library = root
        self.save_settings()
        self.setWindowTitle(f"{os.path.basename(root) or root} — Genre Desktop")
        self.empty.set_scanning(root) if scan else None
        self.jobs.load(root, on_finished=self._on_loaded)
        if scan:
            self.rescan()

    def rescan(self) -> None:
        if not self.root:
            self.choose_folder()
            return
        if not os.path.isdir(self.root):
            self.status_text.setText(f"The folder {self.root} is not available (unplugged drive?). Open another with Ctrl+O.")
            self.empty.set_missing(self.root)
            self._show_page()
            return
        self._begin_progress("Scanning…", busy=True)
        self.jobs.scan(self.root, on_progress=self._on_scan_progress, on_finished=self._on_scanned,
                       on_failed=lambda e: self._job_failed("Scan", e), on_cancelled=lambda: self._job_cancelled("Scan"),
                       on_done=self._end_progress)

    def _on_loaded(self, result: OpenResult) -> None:
        self._set_tracks(result.tracks)
        if self.settings.extra.get(RESUME_KEY) and any(t.status == UNANALYSED for t in result.tracks):
            self.status_text.setText("Resuming the analysis that was interrupted last time…")
            self.analyse_unanalysed()

    def _on_scan_progress(self, progress: Any) -> None:
        if progress.total:
            self.progress.setRange(0, progress.total)
            self.progress.setValue(progress.done)
        self.status_text.setText(describe_scan(progress))

    def _on_scanned(self, result: OpenResult) -> None:
        self._set_tracks(result.tracks)
        summary = result.summary
        unreadable = list(getattr(summary, "unreadable", []) or [])
        if unreadable:
            self._add_errors(unreadable)
        self.status_text.setText(describe_scan(summary, finished=True))
        self.empty.set_idle()
        self._show_page()

    def _set_tracks(self, tracks: list[Track]) -> None:
        keep = self.current_path
        self.model.set_tracks(tracks)
        self._apply_filter()
        if keep is not None and self.model.row_of(keep) is not None:
            self.select_path(keep)
        self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))
        self._show_page()

    def _show_page(self) -> None:
        self.stack.setCurrentIndex(1 if self.model.total_count() else 0)

    def _apply_filter(self) -> None:
        self.model.set_status_filter(self.status_filter.currentData())
        self.model.set_search(self.search.text())
        if self.current_path is not None and self.model.row_of(self.current_path) is not None:
            self.select_path(self.current_path, scroll=True)

    def _update_counts(self) -> None:
        total, shown = self.model.total_count(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,}" if shown != total else f"{total:,} tracks")

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    # ------------------------------------------------------------------------------ selection
    def select_path(self, path: str, scroll: bool = True) -> None:
        row = self.model.row_of(path)
        if row is None:
            return
        index = self.model.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        if scroll:
            self.table.scrollTo(index)

    def _on_current_row(self, current, _previous) -> None:
        track = self.model.track(current.row()) if current.isValid() else None
        if track is not None and track.path != self.current_path:
            self.show_track(track.path)

    def show_track(self, path: str) -> None:
        """Make ``path`` the current track: details, spectrogram (background), player (background)."""
        track = self.model.track_by_path(path)
        if track is None:
            return
        self._autoplay = self._autoplay or self.player_bar.player.wants_play
        if self.player_bar.player.wants_play:
            self.player_bar.stop()  # the old track must not play on under the new selection
        self.current_path = path
        self.side.show_track(track)
        self.spectrogram.clear("Computing the spectrogram…")
        self.spectrogram.set_segments(track.prediction)
        self._load_timer.start()

    def _load_media(self) -> None:
        """Decode the current track for the player and the spectrogram (both in the background)."""
        self._load_timer.stop()
        path = self.current_path
        if path is None or path == self.player_bar.player.path:
            return
        self.jobs.spectrogram(path, on_finished=self._on_spectrogram,
                              on_failed=lambda e, p=path: self._on_spectrogram_failed(p, e))
        self.player_bar.load(path, autoplay=self._autoplay)
        self._autoplay = False

    def toggle_play(self) -> None:
        if self._load_timer.isActive():
            self._autoplay = True  # play what is selected now, not what was loaded before
            self._load_media()
            return
        self.player_bar.toggle()

    def _on_spectrogram(self, result) -> None:
        path, mel, reason = result
        if path != self.current_path:
            return  # stale: the user moved on
        if mel is None:
            self.spectrogram.clear(f"No spectrogram: {reason}")
            return
        track = self.model.track_by_path(path)
        self.spectrogram.set_mel(mel, track.duration if track else None)
        self.spectrogram.set_segments(track.prediction if track else None)

    def _on_spectrogram_failed(self, path: str, error: str) -> None:
        if path == self.current_path:
            self.spectrogram.clear(f"No spectrogram: {error}")

    def _step(self, delta: int) -> None:
        if self.tabs.currentIndex() == 1:
            table = self.review.table
        else:
            table = self.table
        row = table.currentIndex().row() + delta
        if 0 <= row < table.model().rowCount():
            table.selectionModel().setCurrentIndex(
                table.model().index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def _on_track_ended(self) -> None:
        self._autoplay = True  # keep playing: the next row starts once loaded
        self.next_track()

    def next_track(self) -> None:
        self._step(1)

    def previous_track(self) -> None:
        self._step(-1)

    def zoom_to_playing_segment(self) -> None:
        track = self.model.track_by_path(self.current_path or "")
        segments = (track.prediction or {}).get("segments") if track else None
        position = self.player_bar.player.position()
        for i, seg in enumerate(segments or []):
            if seg["start"] <= position < seg["end"] or (i == 0 and position < seg["start"]):
                self.spectrogram.zoom_to_segment(i)
                return

    # ------------------------------------------------------------------------------ analysis
    def selected_tracks(self) -> list[Track]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [t for t in (self.model.track(r) for r in rows) if t is not None]

    def analyse_unanalysed(self) -> None:
        self.analyse([t for t in self.model.tracks() if t.status == UNANALYSED and not t.missing])

    def analyse_selection(self) -> None:
        self.analyse(self.selected_tracks())

    def analyse(self, tracks: list[Track]) -> None:
        if not tracks:
            self.status_text.setText("Nothing to analyse: every track has a prediction. "
                                     "Select tracks and press Ctrl+Shift+R to analyse them again.")
            return
        if self.jobs.runner.active("analysis"):
            self.status_text.setText("An analysis is already running; cancel it first (Ctrl+.).")
            return
        self.settings.extra[RESUME_KEY] = True
        self.save_settings()
        self._begin_progress(f"Analysing {len(tracks):,} tracks…")
        self.progress.setRange(0, len(tracks))
        self._analysis = self.jobs.analyse(
            tracks, on_item=self._on_prediction, on_progress=self._on_analysis_progress,
            on_finished=self._on_analysed, on_failed=lambda e: self._job_failed("Analysis", e),
            on_cancelled=lambda: self._analysis_stopped("Analysis cancelled; Ctrl+R resumes with the tracks left."),
            on_done=self._end_progress)

    def _on_prediction(self, prediction) -> None:
        track = self.model.track_by_path(prediction.path)
        if track is None:
            return
        self.model.update_fields(prediction.path, **prediction_fields(track, prediction))
        if prediction.error:
            self._add_errors([(prediction.path, prediction.error)])
        if prediction.path == self.current_path:
            self.side.show_track(track)
            self.spectrogram.set_segments(track.prediction)

    def _on_analysis_progress(self, progress: AnalysisProgress) -> None:
        self.progress.setValue(progress.done)
        self.progress.setFormat(f"{progress.done:,} / {progress.total:,}")
        self.status_text.setText(describe_analysis(progress))

    def _on_analysed(self, summary) -> None:
        self._analysis_stopped(describe_analysis(summary, finished=True))
        self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))

    def _analysis_stopped(self, message: str) -> None:
        if self._closing:
            return  # cancelled by closing the window: keep "pending" so the next start resumes
        self.settings.extra[RESUME_KEY] = False
        self.save_settings()
        self.status_text.setText(message)

    def cancel_jobs(self) -> None:
        for handle in self.jobs.runner.active():
            if handle.name in ("analysis", "scan"):
                handle.cancel()

    # ------------------------------------------------------------------------------ review
    def show_review(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.review.table.setFocus()

    def _on_tab(self, index: int) -> None:
        if index == 1:
            self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))
            self.review.table.setFocus()

    def apply_decisions(self, decisions: list[tuple[str, dict]]) -> None:
        """Review decisions: update the table now, save through the serial writer (batched)."""
        for path, fields in decisions:
            self.model.update_fields(path, **fields)
            self.jobs.queue_save(path, fields)
        if self.current_path and any(p == self.current_path for p, _ in decisions):
            self.side.show_track(self.model.track_by_path(self.current_path))
        n = len(decisions)
        if n > 1:
            self.status_text.setText(f"{n:,} predictions accepted. Write them to the files with Ctrl+T.")

    def _set_threshold(self, value: float) -> None:
        self.settings.bulk_threshold = value
        self.save_settings()

    # ------------------------------------------------------------------------------ writing
    def write_options(self):
        from genre_desktop.tagging import WriteOptions

        return WriteOptions(id3_version=self.settings.id3_version, id3_separator=self.settings.id3_separator)

    def open_write_dialog(self) -> WriteDialog:
        dialog = WriteDialog(self.model.tracks(), self.settings, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda d=dialog: self._write_from(d))
        self.write_dialog = dialog
        dialog.open()
        return dialog

    def _write_from(self, dialog: WriteDialog) -> None:
        self.activateWindow()  # the window's shortcuts (Undo last write…) work at once after the dialog
        self.settings.__dict__.update(dialog.settings().__dict__)
        self.save_settings()
        changes = dialog.changes()
        if not changes:
            return
        self._begin_progress(f"Writing genres to {len(changes):,} files…", busy=True)
        self.jobs.write_tags(changes, self.write_options(), on_finished=lambda r: self._on_written(r, "Wrote"),
                             on_failed=lambda e: self._job_failed("Writing tags", e), on_done=self._end_progress)

    def undo_last_write(self) -> None:
        self._begin_progress("Undoing the last write…", busy=True)
        self.jobs.undo_last_write(self.write_options(), on_finished=lambda r: self._on_written(r, "Restored"),
                                  on_failed=lambda e: self._job_failed("Undo", e), on_done=self._end_progress)

    def _on_written(self, outcome, verb: str) -> None:
        results, tracks = outcome
        self.model.update_tracks(tracks)
        failed = [(r.path, r.error or "failed") for r in results if not r.ok]
        if failed:
            self._add_errors(failed)
        self.status_text.setText(describe_write(verb, len(results) - len(failed), failed))
        if self.current_path:
            self.side.show_track(self.model.track_by_path(self.current_path))
        self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))

    # ------------------------------------------------------------------------------ dialogs
    def open_settings(self, tab: int = 0) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.user_models, self)
        dialog.tabs.setCurrentIndex(tab)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda d=dialog: self._apply_settings(d.settings()))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _apply_settings(self, new: Settings) -> None:
        theme_changed = new.theme != self.settings.theme
        self.settings.__dict__.update(new.__dict__)
        self.save_settings()
        self.review.threshold.setValue(round(new.bulk_threshold * 100))
        if theme_changed:
            apply_theme(QApplication.instance(), new.theme)
        self.table.viewport().update()

    def open_about(self) -> AboutDialog:
        dialog = AboutDialog(self.models_dir, self)
        dialog.open()
        return dialog

    def show_errors(self) -> ErrorsDialog:
        dialog = ErrorsDialog(self.errors, self)
        dialog.pathActivated.connect(lambda p: (self.tabs.setCurrentIndex(0), self.select_path(p)))
        dialog.open()
        return dialog

    def _add_errors(self, errors: list[tuple[str, str]]) -> None:
        known = {p for p, _ in self.errors}
        self.errors.extend((p, r) for p, r in errors if p not in known)
        self.errors_button.setText(f"⚠ {len(self.errors):,} problem{'s' if len(self.errors) != 1 else ''}")
        self.errors_button.setToolTip("Files that could not be read or analysed, with the reason (Ctrl+Shift+E)")
        self.errors_button.setVisible(bool(self.errors))

    # ------------------------------------------------------------------------------ progress
    def _begin_progress(self, text: str, busy: bool = False) -> None:
        self.status_text.setText(text)
        self.progress.setRange(0, 0 if busy else 1)
        self.progress.setFormat("%v / %m")
        self.progress.show()
        self.cancel_button.setVisible(not text.startswith(("Writing", "Undoing")))
        self.act_cancel.setEnabled(True)

    def _end_progress(self) -> None:
        if any(h.name in ("analysis", "scan", "write-tags", "undo") for h in self.jobs.runner.active()):
            return  # another long job is still running and owns the bar
        self.progress.hide()
        self.cancel_button.hide()
        self.act_cancel.setEnabled(False)

    def _job_failed(self, what: str, error: str) -> None:
        if what == "Analysis":
            self.settings.extra[RESUME_KEY] = False
            self.save_settings()
        self.status_text.setText(f"{what} failed: {error}")

    def _job_cancelled(self, what: str) -> None:
        self.status_text.setText(f"{what} cancelled.")
        self.empty.set_idle()

    # ------------------------------------------------------------------------------ misc
    def save_settings(self) -> None:
        try:
            self.settings.save(self.settings_path)
        except OSError as exc:
            log.warning("could not save settings to %s: %s", self.settings_path, exc)

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and os.path.isdir(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        for url in event.mimeData().urls():
            if url.isLocalFile() and os.path.isdir(url.toLocalFile()):
                self.open_folder(url.toLocalFile())
                event.acceptProposedAction()
                return

    def shutdown(self) -> None:
        """Stop playback, save queued decisions, wait for the writer; keep 'analysis pending' if cut short."""
        if self._closing:
            return
        self._closing = True
        running = bool(self.jobs.runner.active("analysis"))
        self.player_bar.shutdown()
        self.jobs.flush_pending()
        self.jobs.runner.shutdown()
        self.settings.extra[RESUME_KEY] = running or bool(self.settings.extra.get(RESUME_KEY))
        self.save_settings()

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
