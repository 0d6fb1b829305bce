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

from PySide6.QtCore import QByteArray, QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.app.workflow import RESUME_KEY, analysis_pending, prediction_fields, should_resume, to_analyze
from genre_desktop.app.workspace import Workspace
from genre_desktop.core.track import Track
from genre_desktop.jobs.library_jobs import AnalysisProgress, LibraryJobs, OpenResult
from genre_desktop.jobs.runner import Job
from genre_desktop.settings import Settings
from genre_desktop.ui.about_dialog import AboutDialog
from genre_desktop.ui.errors_dialog import ErrorsDialog
from genre_desktop.ui.job_status import JobStatus
from genre_desktop.ui.library_view import LibraryView
from genre_desktop.ui.menus import build_menus
from genre_desktop.ui.player_bar import PlayerBar
from genre_desktop.ui.review_queue import ReviewQueue
from genre_desktop.ui.settings_dialog import SettingsDialog
from genre_desktop.ui.side_panel import SidePanel
from genre_desktop.ui.spectrogram_view import SpectrogramView
from genre_desktop.ui.status import count, describe_analysis, describe_scan, describe_write
from genre_desktop.ui.theme import apply_theme
from genre_desktop.ui.write_dialog import WriteDialog

log = logging.getLogger(__name__)

GEOMETRY_KEY = "window_geometry"  # in Settings.extra: where the window was, base64 of saveGeometry()


class MainWindow(QMainWindow):
    scan_finished = Signal()  # a scan of the open folder completed and the table shows its result
    def __init__(self, workspace: Workspace, jobs: LibraryJobs, player_bar: PlayerBar,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.jobs = jobs
        self.models_dir = workspace.models_dir
        self.user_models = workspace.dirs.user_models
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
        spell = workspace.spell  # follows later settings changes
        settings = workspace.settings

        # --- library page (table or empty state), review queue, side panel, spectrogram + player
        self.library = LibraryView(spell)
        self.model, self.table, self.search = self.library.model, self.library.table, self.library.search
        self.empty, self.stack = self.library.empty, self.library
        self.review = ReviewQueue(spell, settings.bulk_threshold, rules=workspace.review_rules())
        self.tabs = QTabWidget()
        self.tabs.addTab(self.library, "Library")
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

        # --- status bar: text, progress with count/rate/eta, cancel, problems
        self.job_status = JobStatus(self.statusBar())
        self.status_text, self.progress = self.job_status.text, self.job_status.progress
        self.cancel_button, self.errors_button = self.job_status.cancel_button, self.job_status.errors_button

        build_menus(self)
        self._connect()
        geometry = self.settings.extra.get(GEOMETRY_KEY)
        if isinstance(geometry, str):
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        # Decoding starts once the selection rests for a moment: holding the arrow key down over
        # fifty rows must not start fifty decodes on a two-core machine.
        self._load_timer = QTimer(self)
        self._load_timer.setSingleShot(True)
        self._load_timer.setInterval(150)
        self._load_timer.timeout.connect(self._load_media)
        self._autoplay = False

    # ------------------------------------------------------------------------------ actions
    def _connect(self) -> None:
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.table.doubleClicked.connect(lambda _i: self.toggle_play())
        self.empty.openRequested.connect(self.choose_folder)
        self.review.decided.connect(self.apply_decisions)
        self.review.currentTrackChanged.connect(lambda _path: self._sync_details() if self.tabs.currentIndex() == 1 else None)
        self.review.thresholdChanged.connect(self._set_threshold)
        self.tabs.currentChanged.connect(self._on_tab)
        self.spectrogram.seekRequested.connect(self.player_bar.seek)
        self.player_bar.positionChanged.connect(self.spectrogram.set_position)
        self.player_bar.nextRequested.connect(self.next_track)
        self.player_bar.ended.connect(self._on_track_ended)
        self.player_bar.previousRequested.connect(self.previous_track)
        self.player_bar.volume.valueChanged.connect(lambda v: self.workspace.update_settings(save=False, volume=v / 100.0))
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.errors_button.clicked.connect(self.show_errors)

    @property
    def settings(self) -> Settings:
        """The current settings (immutable: changes go through ``self.workspace``)."""
        return self.workspace.settings

    # ------------------------------------------------------------------------------ library
    def start(self, store_path: Path, folder: str | None) -> None:
        """Open the store in the background, then ``folder``: the window never waits for the disk."""
        self.empty.set_opening()
        self._begin_progress("Opening the library…", busy=True, cancellable=False)
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
        if os.path.isdir(root):  # a mistyped or unplugged folder must not replace the last library
            self.workspace.update_settings(last_library=root)
        self.setWindowTitle(f"{os.path.basename(root) or root} — Genre Desktop")
        if scan:
            self.empty.set_scanning(root)
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
        self.jobs.scan(self.root, on_progress=self._on_scan_progress, on_item=self._on_scan_found,
                       on_finished=self._on_scanned,
                       on_failed=lambda e: self._job_failed("Scan", e), on_cancelled=lambda: self._job_cancelled("Scan"),
                       on_done=self._end_progress)

    def _on_loaded(self, result: OpenResult) -> None:
        self._set_tracks(result.tracks)
        if should_resume(self.settings, result.tracks):
            self.status_text.setText("Resuming the analysis that was interrupted last time…")
            self.analyze_unanalyzed()

    def _on_scan_progress(self, progress: Any) -> None:
        if progress.total:
            self.job_status.step(progress.done, progress.total, describe_scan(progress))
        else:
            self.status_text.setText(describe_scan(progress))

    def _on_scan_found(self, tracks: list[Track]) -> None:
        """Tracks found so far by a running scan: appended, the selection and scroll stay put."""
        self.model.update_tracks(tracks)
        self._show_page()

    def _on_scanned(self, result: OpenResult) -> None:
        self._set_tracks(result.tracks)
        summary = result.summary
        unreadable = list(getattr(summary, "unreadable", []) or [])
        if unreadable:
            self._add_errors(unreadable)
        self.status_text.setText(describe_scan(summary, finished=True))
        self.empty.set_idle()
        self._show_page()
        self.scan_finished.emit()

    def _set_tracks(self, tracks: list[Track]) -> None:
        self.library.set_tracks(tracks)
        self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))

    def _show_page(self) -> None:
        self.library.show_page()

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    # ------------------------------------------------------------------------------ selection
    def select_path(self, path: str, scroll: bool = True) -> None:
        self.library.select_path(path, scroll)

    def _on_current_row(self, current, _previous) -> None:
        track = self.model.track(current.row()) if current.isValid() else None
        if track is not None:
            self.library.current_path = track.path  # kept selected across filtering and reloads
        if self.tabs.currentIndex() == 0:
            self._sync_details()

    def _sync_details(self) -> None:
        """The side panel and spectrogram show the visible page's current row, or nothing."""
        if self.tabs.currentIndex() == 1:
            track = self.review.current()
        else:
            index = self.table.currentIndex()
            track = self.model.track(index.row()) if index.isValid() else None
        if track is None:
            if self.current_path is not None:
                self.current_path = None
                self._load_timer.stop()
                self.side.show_track(None)
                self.spectrogram.clear()
        elif track.path != self.current_path:
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
        if path is None:
            return
        if not self.spectrogram.has_image:  # show_track cleared it, also when coming back to the loaded track
            self.jobs.spectrogram(path, on_finished=self._on_spectrogram,
                                  on_failed=lambda e, p=path: self._on_spectrogram_failed(p, e))
        if path == self.player_bar.player.path:
            return
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
        if track is None or track.prediction is None:
            return
        index = track.prediction.segment_at(self.player_bar.player.position())
        if index is not None:
            self.spectrogram.zoom_to_segment(index)

    # ------------------------------------------------------------------------------ analysis
    def selected_tracks(self) -> list[Track]:
        return self.library.selected_tracks()

    def analyze_unanalyzed(self) -> None:
        self.analyze(to_analyze(self.model.tracks(), only_new=True))

    def analyze_selection(self) -> None:
        self.analyze(to_analyze(self.selected_tracks()))

    def analyze(self, tracks: list[Track]) -> None:
        if not tracks:
            self.status_text.setText("Nothing to analyse: every track has a prediction. "
                                     "Select tracks and press Ctrl+Shift+R to analyse them again.")
            return
        if self.jobs.runner.active(Job.ANALYSIS):
            self.status_text.setText("An analysis is already running; cancel it first (Ctrl+.).")
            return
        self.workspace.set_settings(analysis_pending(self.settings, True))
        self._begin_progress(f"Analysing {count(len(tracks), 'track')}…")
        problem = self.workspace.user_model_problem()
        if problem and ("Trained model", problem) not in self.errors:
            self._add_errors([("Trained model", problem)])  # analysed with the bundled models meanwhile
        self.job_status.step(0, len(tracks), f"Analysing {count(len(tracks), 'track')}…")
        self._analysis = self.jobs.analyze(
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
        self.job_status.step(progress.done, progress.total, describe_analysis(progress))

    def _on_analysed(self, summary) -> None:
        self._analysis_stopped(describe_analysis(summary, finished=True))
        self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))

    def _analysis_stopped(self, message: str) -> None:
        if self._closing:
            return  # cancelled by closing the window: keep "pending" so the next start resumes
        self.workspace.set_settings(analysis_pending(self.settings, False))
        self.status_text.setText(message)

    def cancel_jobs(self) -> None:
        for handle in self.jobs.runner.active():
            if handle.name.user_cancellable:
                handle.cancel()

    # ------------------------------------------------------------------------------ review
    def show_review(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.review.table.setFocus()

    def _on_tab(self, index: int) -> None:
        if index == 1:
            self.review.set_tracks(self.model.tracks(), list(self.settings.aliases))
            self.review.table.setFocus()
        self._sync_details()

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
        self.workspace.update_settings(bulk_threshold=value)

    # ------------------------------------------------------------------------------ writing
    def write_options(self):
        return self.workspace.write_options()

    def open_write_dialog(self) -> WriteDialog:
        dialog = WriteDialog(self.model.tracks(), self.settings, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda d=dialog: self._write_from(d))
        self.write_dialog = dialog
        dialog.open()
        return dialog

    def _write_from(self, dialog: WriteDialog) -> None:
        self.activateWindow()  # the window's shortcuts (Undo last write…) work at once after the dialog
        self.workspace.set_settings(dialog.settings())
        changes = dialog.changes()
        if not changes or not self._undo_data_may_expire(len(changes)):
            return
        self._begin_progress(f"Writing genres to {len(changes):,} files…", busy=True, cancellable=False)
        self.jobs.write_tags(changes, self.write_options(), on_finished=lambda r: self._on_written(r, "Wrote"),
                             on_failed=lambda e: self._job_failed("Writing tags", e), on_done=self._end_progress)

    def _undo_data_may_expire(self, files: int) -> bool:
        """Say before a write makes older writes' undo data expire; False if the user stops there."""
        notice = self.workspace.undo_expiry_notice(files)
        if notice is None:
            return True
        answer = QMessageBox.question(self, "Older undo data will expire", f"{notice}\n\nWrite anyway?")
        return answer == QMessageBox.StandardButton.Yes

    def undo_last_write(self, genre_level: bool = False) -> None:
        self._begin_progress("Undoing the last write…", busy=True, cancellable=False)
        self.jobs.undo_last_write(self.write_options(), genre_level,
                                  on_finished=lambda r: self._on_written(r, "Restored"),
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
        offered = sum(r.offer == "genres" for r in results if not r.ok)
        if verb == "Restored" and offered and QMessageBox.question(
                self, "Files changed since the write",
                f"{offered:,} file{'s' if offered != 1 else ''} changed since the write (another program edited "
                f"{'them' if offered != 1 else 'it'}), so {'they' if offered != 1 else 'it'} cannot come back byte "
                f"for byte.\n\nPut back only the old genres, keeping the other program's changes?"
        ) == QMessageBox.StandardButton.Yes:
            self.undo_last_write(genre_level=True)

    # ------------------------------------------------------------------------------ dialogs
    def open_settings(self, tab: int = 0) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.user_models, self,
                                undo_usage=self.workspace.undo_usage().describe())
        dialog.tabs.setCurrentIndex(tab)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda d=dialog: (self._activate_model(d.chosen_model()),
                                                  self._apply_settings(d.settings())))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _apply_settings(self, new: Settings) -> None:
        theme_changed = new.theme != self.settings.theme
        self.workspace.set_settings(new)
        self.review.threshold.setValue(round(new.bulk_threshold * 100))
        if theme_changed:
            apply_theme(QApplication.instance(), new.theme)
        self.table.viewport().update()

    def _activate_model(self, version: str | None) -> None:
        """Record the chosen model in the registry; the next analysis builds its Analyzer anew."""
        from genre_desktop.training.registry import Registry

        registry = Registry(self.user_models)
        if registry.active() != version:
            registry.activate(version)
            self._on_model_activated(version)

    def _on_model_activated(self, version: str | None) -> None:
        which = f"your model {version} with the bundled models" if version else "the bundled models alone"
        self.status_text.setText(f"Analyses now use {which}. Select tracks and press Ctrl+Shift+R "
                                 "to analyse them again.")

    def open_training_wizard(self):
        from genre_desktop.ui.training_wizard import TrainingWizard

        wizard = TrainingWizard(self.model.tracks(), self.jobs.runner, self.workspace.dirs, self.settings, parent=self)
        wizard.model_activated.connect(self._on_model_activated)
        self.training_wizard = wizard
        wizard.open()
        return wizard

    def open_library_map(self):
        from genre_desktop.ui.library_map import LibraryMapDialog

        dialog = LibraryMapDialog(self.model.tracks(), self.jobs.runner, self.workspace.dirs, self.settings, parent=self)
        dialog.track_selected.connect(self._play_from_map)
        self.library_map = dialog
        dialog.show()
        return dialog

    def _play_from_map(self, path: str) -> None:
        """A click on the library map selects the track and plays it (as soon as it is loaded)."""
        self.tabs.setCurrentIndex(0)  # the details follow the library's row
        self.select_path(path)
        self._autoplay = True
        self._load_media()

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
        self.job_status.show_problems(len(self.errors))

    # ------------------------------------------------------------------------------ progress
    def _begin_progress(self, text: str, busy: bool = False, cancellable: bool = True) -> None:
        self.job_status.begin(text, busy, cancellable)
        self.act_cancel.setEnabled(cancellable)

    def _end_progress(self) -> None:
        if any(h.name.shows_progress for h in self.jobs.runner.active()):
            return  # another long job is still running and owns the bar
        self.job_status.end()
        self.act_cancel.setEnabled(False)

    def _job_failed(self, what: str, error: str) -> None:
        if what == "Analysis":
            self.workspace.set_settings(analysis_pending(self.settings, False))
        self.status_text.setText(f"{what} failed: {error}")

    def _job_cancelled(self, what: str) -> None:
        self.status_text.setText(f"{what} cancelled.")
        self.empty.set_idle()

    # ------------------------------------------------------------------------------ misc
    def save_settings(self) -> None:
        self.workspace.save_settings()

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
        running = bool(self.jobs.runner.active(Job.ANALYSIS))
        self.player_bar.shutdown()
        self.jobs.flush_pending()
        self.jobs.runner.shutdown()
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.workspace.update_extra(**{RESUME_KEY: running or bool(self.settings.extra.get(RESUME_KEY)),
                                       GEOMETRY_KEY: geometry})

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)
