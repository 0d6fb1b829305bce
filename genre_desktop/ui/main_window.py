"""The main window: wiring of the table, side panel, spectrogram, player, review queue and jobs.

No domain logic and no flows here. The library session (``jobs.session``, Qt-free) holds the
tracks, the decisions and the plan; the views subscribe to it. The flows live beside this module:
``LibraryFlow`` (opening, scanning, other processes, a deleted store), ``AnalysisFlow``,
``WriteFlow`` (preview, stale plans, undo) and ``TrackDetails`` (side panel, spectrogram, player).
Menus carry every command with a shortcut.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from genre_desktop.app.workflow import RESUME_KEY
from genre_desktop.app.workspace import Workspace
from genre_desktop.core.track import Track
from genre_desktop.jobs.library_jobs import LibraryJobs
from genre_desktop.jobs.runner import Job
from genre_desktop.settings import Settings
from genre_desktop.training.member_roles import load_roles
from genre_desktop.ui.about_dialog import AboutDialog
from genre_desktop.ui.analysis_flow import AnalysisFlow
from genre_desktop.ui.errors_dialog import ErrorsDialog
from genre_desktop.ui.job_status import JobStatus
from genre_desktop.ui.library_flow import LibraryFlow
from genre_desktop.ui.library_model import DEFAULT_HIDDEN
from genre_desktop.ui.library_view import LibraryView
from genre_desktop.ui.menus import build_menus
from genre_desktop.ui.player_bar import PlayerBar
from genre_desktop.ui.review_queue import ReviewQueue
from genre_desktop.ui.settings_dialog import SettingsDialog
from genre_desktop.ui.side_panel import SidePanel
from genre_desktop.ui.spectrogram_view import SpectrogramView
from genre_desktop.ui.theme import apply_theme
from genre_desktop.ui.track_details import TrackDetails
from genre_desktop.ui.write_dialog import WriteDialog
from genre_desktop.ui.write_flow import WriteFlow

GEOMETRY_KEY = "window_geometry"  # in Settings.extra: where the window was, base64 of saveGeometry()
HIDDEN_COLUMNS_KEY = "library_hidden_columns"  # in Settings.extra: the library columns the librarian hid


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, jobs: LibraryJobs, player_bar: PlayerBar,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.jobs, self.session = workspace, jobs, jobs.session
        self.models_dir, self.user_models = workspace.models_dir, workspace.dirs.user_models
        self.write_dialog: WriteDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.closing = False
        self.setObjectName("MainWindow")
        self.setWindowTitle("Genre Desktop")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        spell = workspace.spell  # follows later settings changes

        # --- library page (table or empty state), review queue, side panel, spectrogram + player
        self.library = LibraryView(spell)
        self.library.bind(jobs.signals)
        self.library.set_hidden_columns(self.settings.extra.get(HIDDEN_COLUMNS_KEY, list(DEFAULT_HIDDEN)))
        self.library.columnsChanged.connect(lambda names: self.workspace.update_extra(**{HIDDEN_COLUMNS_KEY: names}))
        self.model, self.table, self.search = self.library.model, self.library.table, self.library.search
        self.empty, self.stack = self.library.empty, self.library
        self.review = ReviewQueue(self.session, spell, workspace.settings.bulk_threshold,
                                  rules=workspace.review_rules(), signals=jobs.signals)
        self.review.set_known_genres(lambda: list(workspace.settings.aliases))
        self.tabs = QTabWidget()
        self.tabs.addTab(self.library, "Library")
        self.tabs.addTab(self.review, "Review")
        self.side, self.spectrogram, self.player_bar = SidePanel(
            spell, session=self.session, rules=workspace.review_rules()), SpectrogramView(), player_bar
        self.side.predictions.set_member_roles(load_roles(self.models_dir))  # who votes, with what weight
        top = _splitter(Qt.Orientation.Horizontal, (self.tabs, self.side), (1, 0), [900, 340])
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.setSpacing(0)
        bottom_layout.addWidget(self.spectrogram, 1)
        bottom_layout.addWidget(self.player_bar)
        self.setCentralWidget(_splitter(Qt.Orientation.Vertical, (top, bottom), (3, 1), [560, 240]))

        # --- status bar: text, progress with count/rate/eta, cancel, problems
        self.job_status = JobStatus(self.statusBar())
        self.status_text, self.progress = self.job_status.text, self.job_status.progress
        self.cancel_button, self.errors_button = self.job_status.cancel_button, self.job_status.errors_button

        self.details = TrackDetails(self)
        self.libraries, self.analysis, self.writes = LibraryFlow(self), AnalysisFlow(self), WriteFlow(self)
        self.scan_finished = self.libraries.scan_finished
        build_menus(self)
        self._connect()
        geometry = self.settings.extra.get(GEOMETRY_KEY)
        if isinstance(geometry, str):
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))

    def _connect(self) -> None:
        details = self.details
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.table.doubleClicked.connect(lambda _i: details.toggle_play())
        self.empty.openRequested.connect(self.libraries.choose_folder)
        self.review.currentTrackChanged.connect(lambda _p: details.sync() if self.tabs.currentIndex() == 1 else None)
        # A filter that hides the current row leaves no current row (and no signal): the details follow.
        self.library.filtered.connect(lambda: details.sync() if self.tabs.currentIndex() == 0 else None)
        self.review.thresholdChanged.connect(lambda v: self.workspace.update_settings(bulk_threshold=v))
        self.review.bulkAccepted.connect(lambda n: self.status_text.setText(
            f"{n:,} predictions accepted (Ctrl+Z takes them all back). Write them to the files with Ctrl+T."
            + (f" {self.review.left_out:,} left for you: spoken word or no audible audio." if self.review.left_out else "")))
        self.jobs.signals.problems.connect(lambda _added: self.job_status.show_problems(len(self.errors)))
        self.tabs.currentChanged.connect(self._on_tab)
        self.spectrogram.seekRequested.connect(self.player_bar.seek)
        self.player_bar.positionChanged.connect(self.spectrogram.set_position)
        self.player_bar.nextRequested.connect(lambda: details.step(1))
        self.player_bar.ended.connect(details.on_track_ended)
        self.player_bar.previousRequested.connect(lambda: details.step(-1))
        self.player_bar.volume.valueChanged.connect(lambda v: self.workspace.update_settings(save=False, volume=v / 100.0))
        self.cancel_button.clicked.connect(self.cancel_jobs)
        self.errors_button.clicked.connect(self.show_errors)

    @property
    def settings(self) -> Settings:
        """The current settings (immutable: changes go through ``self.workspace``)."""
        return self.workspace.settings

    @property
    def errors(self) -> list[tuple[str, str]]:
        """The problems list: (path, reason), from the session."""
        return self.session.problems

    @property
    def root(self) -> str | None:
        return self.libraries.root

    @property
    def current_path(self) -> str | None:
        return self.details.current_path

    # ------------------------------------------------------------------------------ commands
    def start(self, store_path: Path, folder: str | None) -> None:
        self.libraries.start(store_path, folder)

    def open_folder(self, folder: str, scan: bool = True) -> None:
        self.libraries.open_folder(folder, scan)

    def analyze(self, tracks: list[Track]) -> None:
        self.analysis.analyze(tracks)

    def analyze_unanalyzed(self) -> None:
        self.analysis.analyze_unanalyzed()

    def open_write_dialog(self) -> WriteDialog:
        return self.writes.open_dialog()

    def undo_last_write(self) -> None:
        self.writes.undo_last_write()

    def focus_search(self) -> None:
        self.tabs.setCurrentIndex(0)
        self.search.setFocus()
        self.search.selectAll()

    def select_path(self, path: str, scroll: bool = True) -> None:
        self.library.select_path(path, scroll)

    def show_review(self) -> None:
        self.tabs.setCurrentIndex(1)
        self.review.table.setFocus()

    def cancel_jobs(self) -> None:
        for handle in self.jobs.runner.active():
            if handle.name.user_cancellable:
                handle.cancel()

    def _on_current_row(self, current, _previous) -> None:
        track = self.model.track(current.row()) if current.isValid() else None
        if track is not None:
            self.library.current_path = track.path  # kept selected across filtering and reloads
        if self.tabs.currentIndex() == 0:
            self.details.sync()

    def _on_tab(self, index: int) -> None:
        if index == 1:
            self.review.refresh_if_stale()
            self.review.table.setFocus()
        self.details.sync()

    # ------------------------------------------------------------------------------ dialogs
    def open_settings(self, tab: int = 0) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, self.user_models, self,
                                undo_usage=self.workspace.undo_usage().describe())
        dialog.tabs.setCurrentIndex(tab)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda d=dialog: (self._activate_model(d.chosen_model()), self._apply_settings(d.settings())))
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
        self.analysis.rescore(which)  # the library's predictions follow, from the cached vectors

    def open_training_wizard(self):
        from genre_desktop.ui.training_wizard import TrainingWizard

        wizard = TrainingWizard(self.session.tracks(), self.jobs.runner, self.workspace.dirs, self.settings, parent=self)
        wizard.model_activated.connect(self._on_model_activated)
        self.training_wizard = wizard
        wizard.open()
        return wizard

    def open_library_map(self):
        from genre_desktop.ui.library_map import LibraryMapDialog

        dialog = LibraryMapDialog(self.session.tracks(), self.jobs.runner, self.workspace.dirs, self.settings, parent=self)
        dialog.track_selected.connect(self.details.play)
        self.library_map = dialog
        dialog.show()
        return dialog

    def open_about(self) -> AboutDialog:
        dialog = AboutDialog(self.models_dir, self)
        dialog.open()
        return dialog

    def show_errors(self) -> ErrorsDialog:
        dialog = ErrorsDialog(self.errors, self, root=self.root)
        dialog.pathActivated.connect(lambda p: (self.tabs.setCurrentIndex(0), self.select_path(p)))
        dialog.open()
        return dialog

    # ------------------------------------------------------------------------------ progress
    def begin_progress(self, text: str, busy: bool = False, cancellable: bool = True) -> None:
        self.job_status.begin(text, busy, cancellable)
        self.act_cancel.setEnabled(cancellable)

    def end_progress(self) -> None:
        if any(h.name.shows_progress for h in self.jobs.runner.active()):
            return  # another long job is still running and owns the bar
        self.job_status.end()
        self.act_cancel.setEnabled(False)

    def job_failed(self, what: str, error: str) -> None:
        self.status_text.setText(f"{what} failed: {error}")

    def job_cancelled(self, what: str) -> None:
        self.status_text.setText(f"{what} cancelled.")
        self.empty.set_idle()

    # ------------------------------------------------------------------------------ misc
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if any(u.isLocalFile() and os.path.isdir(u.toLocalFile()) for u in urls):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        for url in event.mimeData().urls():
            if url.isLocalFile() and os.path.isdir(url.toLocalFile()):
                self.open_folder(url.toLocalFile())
                event.acceptProposedAction()
                return

    def shutdown(self) -> None:
        """Stop playback, save queued decisions, wait for the writer; keep 'analysis pending' if cut short."""
        if self.closing:
            return
        self.closing = True
        running = bool(self.jobs.runner.active(Job.ANALYSIS))
        if self.session.lost:  # closed before answering the deleted-library dialog: its default
            self.session.restore_store()
        self.player_bar.shutdown()
        self.jobs.shutdown()
        self.jobs.runner.shutdown()
        geometry = bytes(self.saveGeometry().toBase64().data()).decode("ascii")
        self.workspace.update_extra(**{RESUME_KEY: running or bool(self.settings.extra.get(RESUME_KEY)),
                                       GEOMETRY_KEY: geometry})

    def closeEvent(self, event) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)


def _splitter(orientation: Qt.Orientation, widgets: tuple, stretch: tuple, sizes: list[int]) -> QSplitter:
    splitter = QSplitter(orientation)
    for i, (widget, factor) in enumerate(zip(widgets, stretch)):
        splitter.addWidget(widget)
        splitter.setStretchFactor(i, factor)
    splitter.setSizes(sizes)
    return splitter
