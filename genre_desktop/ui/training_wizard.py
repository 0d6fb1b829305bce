"""The training wizard: data -> genres -> training -> comparison -> activate.

Thin: every decision and figure comes from ``training/`` (``dataset.build_dataset``,
``session.run_training``, the ``Report``, ``Registry``); training runs on the job runner with
progress and cancel. This module wires the pages together and holds the state they share (the
tracks, the trust choices and merges, the dataset and the trainer's verdict on it, the result):

1. Data and 2. Genres: ``wizard_data_pages``;
3. Training and 5. Activate: ``wizard_train_pages``;
4. Comparison: the new model against the current one on held-out artists (summary, per genre,
   confusion heat map), exportable as HTML and CSV: ``training_report``.

Signals: ``model_activated(version)`` after the user activated a model (the main window rebuilds
its Analyzer). Nothing here writes the bundled models.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget, QWizard

from genre_desktop.jobs.runner import Job
from genre_desktop.core.track import Track
from genre_desktop.paths import AppDirs
from genre_desktop.settings import Settings
from genre_desktop.training.dataset import Dataset, build_dataset
from genre_desktop.training.trainer import Readiness, check_trainable
from genre_desktop.ui.training_report import ReportPage
from genre_desktop.ui.wizard_data_pages import CHECKING, DataPage, GenresPage
from genre_desktop.ui.wizard_train_pages import ActivatePage, TrainPage

log = logging.getLogger(__name__)


class TrainingWizard(QWizard):
    """The wizard; ``tracks``: the library's tracks (e.g. ``LibraryModel.tracks()``)."""

    model_activated = Signal(object)  # the version made active (str)
    # Above this many labelled tracks the trainer's check (grouped splits: seconds for tens of
    # thousands of tracks) runs on the job runner; the pages say "checking" until it answers.
    SYNC_CHECK_LIMIT = 3000

    def __init__(self, tracks: list[Track], runner, dirs: AppDirs, settings: Settings,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train your own model")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.resize(900, 640)
        self.tracks = list(tracks)
        self.runner = runner
        self.dirs = dirs
        self.settings = settings
        self.merges: dict[str, str] = {}
        self.dataset: Dataset = build_dataset(self.tracks, aliases=settings.aliases)
        self.everything: Dataset = build_dataset(self.tracks, aliases=settings.aliases, min_tracks=1)
        self.readiness: Readiness = CHECKING
        self._check_handle = None
        self.result = None
        self.data_page = DataPage(self)
        self.genres_page = GenresPage(self)
        self.train_page = TrainPage(self)
        self.report_page = ReportPage()
        self.activate_page = ActivatePage(self)
        for page in (self.data_page, self.genres_page, self.train_page, self.report_page, self.activate_page):
            self.addPage(page)
        self._check()

    def rebuild(self, merges: dict[str, str]) -> Dataset:
        """The dataset for the current trust choices and ``merges`` (also kept as ``self.dataset``)."""
        self.merges = dict(merges)
        trusted = self.data_page.trusted() if hasattr(self, "data_page") else []
        self.dataset = build_dataset(self.tracks, trusted, self.merges, self.settings.aliases)
        # The same tracks with no minimum: every genre for the tables, and what the trainer will
        # say of them (its check leaves out small genres exactly as training does).
        self.everything = build_dataset(self.tracks, trusted, self.merges, self.settings.aliases, min_tracks=1)
        self._check()
        return self.dataset

    def _check(self) -> None:
        examples = list(self.everything.examples)
        if len(examples) <= self.SYNC_CHECK_LIMIT:
            self.readiness = check_trainable(examples)
            return
        self.readiness = CHECKING  # a newer check supersedes an older one (same key): no stale verdict
        self._check_handle = self.runner.submit(lambda _job: check_trainable(examples), name=Job.TRAINING_CHECK, key="training-check",
                           on_finished=self._checked,
                           on_failed=lambda e: self._checked(Readiness(False, [f"the check failed: {e}"])))

    def _checked(self, readiness: Readiness) -> None:
        self.readiness = readiness
        page = self.currentPage()
        if page in (self.data_page, self.genres_page):
            page.render()

    def trained(self, result) -> None:
        self.result = result
        self.report_page.set_result(result)

    def accept(self) -> None:
        if self.result is not None and self.activate_page.use_new.isChecked():
            from genre_desktop.training.registry import Registry

            Registry(self.dirs.user_models).activate(self.result.version)
            self.model_activated.emit(self.result.version)
        super().accept()

    def done(self, result: int) -> None:
        if self._check_handle is not None:
            self._check_handle.supersede()  # a verdict arriving after the wizard closed is dropped
        super().done(result)

    def reject(self) -> None:
        self.train_page.cancel()
        super().reject()
