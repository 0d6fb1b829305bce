"""The training wizard: data -> genres -> training -> comparison -> activate.

Thin: every decision and figure comes from ``training/`` (``dataset.build_dataset``,
``session.run_training``, the ``Report``, ``Registry``); training runs on the job runner with
progress and cancel. Pages:

1. Data: counts per genre, what each genre lacks in the trainer's terms (``trainer.check_trainable``:
   tracks, artists), warnings (few tracks, one artist dominating), and the opt-in to trust existing
   genre tags, genre by genre.
2. Genres: every genre, also those below the minimum; rename one, or merge it into another by
   giving both the same name. Next (which starts the training) waits until the trainer's check passes.
3. Training: progress and cancel (a cancelled or failed run saves nothing; it can be started again).
4. Comparison: the new model against the current one on held-out artists (summary, per genre,
   confusion heat map), exportable as HTML and CSV.
5. Activate: use the new model now, or keep the current one (any version can be activated later).

Signals: ``model_activated(version)`` after the user activated a model (the main window rebuilds
its Analyzer). Nothing here writes the bundled models.
"""

from __future__ import annotations

import logging
import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from genre_desktop.core.genre import same_genre
from genre_desktop.jobs.runner import Job
from genre_desktop.core.track import Track
from genre_desktop.paths import AppDirs
from genre_desktop.settings import Settings
from genre_desktop.training.dataset import Dataset, build_dataset, existing_genre_counts
from genre_desktop.training.trainer import Readiness, check_trainable
from genre_desktop.ui.training_report import ReportPage
from genre_desktop.ui.wizard_tables import cell as _cell
from genre_desktop.ui.wizard_tables import table as _table

log = logging.getLogger(__name__)


class DataPage(QWizardPage):
    """Counts per genre, warnings and the trust-existing-tags opt-in."""

    def __init__(self, wizard: "TrainingWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Your training data")
        self.setSubTitle("Tracks you accepted or corrected teach the model. You may also trust the genre tags "
                         "your files already carry, genre by genre.")
        self.table = _table(["genre", "tracks", "artists", "largest artist share", "from", "what it lacks"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setObjectName("warnings")
        self.trust = QListWidget()
        # Room for a dozen genres before scrolling: a library's tags span many.
        self.trust.setMinimumHeight(self.trust.fontMetrics().height() * 8)
        self.trust.itemChanged.connect(lambda _item: self.refresh())
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.warnings)
        layout.addWidget(QLabel("Also learn from existing genre tags of these genres (tracks you have not reviewed):"))
        layout.addWidget(self.trust, 2)
        for genre, n in existing_genre_counts(wizard.tracks, wizard.settings.aliases).items():
            item = QListWidgetItem(f"{genre} ({n} track{'' if n == 1 else 's'})")
            item.setData(Qt.ItemDataRole.UserRole, genre)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.trust.addItem(item)

    def trusted(self) -> list[str]:
        return [self.trust.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.trust.count())
                if self.trust.item(i).checkState() == Qt.CheckState.Checked]

    def set_trusted(self, genres: list[str]) -> None:
        for i in range(self.trust.count()):
            item = self.trust.item(i)
            want = item.data(Qt.ItemDataRole.UserRole) in genres
            item.setCheckState(Qt.CheckState.Checked if want else Qt.CheckState.Unchecked)

    def initializePage(self) -> None:  # noqa: N802
        self.refresh()

    def refresh(self) -> None:
        self.w.rebuild(merges={})
        self.render()

    def render(self) -> None:
        """Show the datasets and the trainer's verdict as they are now (the verdict may come later)."""
        show_dataset(self.table, self.w.everything, self.w.readiness)
        ds = self.w.dataset
        warnings = [w.message for w in ds.warnings() if w.kind != "excluded"]  # the table says those
        lines = [f"⚠ {w}" for w in warnings]
        if self.w.readiness is CHECKING:
            lines.insert(0, "Checking what the trainer needs…")
        elif not self.w.readiness.ok:
            lines.insert(0, f"<b>Not ready to train: {_html(self.w.readiness.problems[0])}.</b> Label more tracks "
                            "(by other artists too), trust more tags below, or merge genres on the next page.")
        self.warnings.setText("<br>".join(lines) or "No warnings: ready to train.")
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        # Two genres (of any size) are the least the next page, where genres merge, can make a model of;
        # the training itself waits there for the trainer's own check.
        return len(self.w.everything.labels) >= 2


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def show_dataset(table: QTableWidget, ds: Dataset, readiness: Readiness) -> None:
    """Every genre of ``ds`` (built without a minimum) with what the trainer says it lacks."""
    summaries = ds.summaries()
    table.setRowCount(len(summaries))
    for r, s in enumerate(summaries):
        sources = ", ".join(f"{n} {src}" for src, n in sorted(s.sources.items()))
        lacks = readiness.genres.get(s.genre, "")
        who = s.top_artist if not os.path.isabs(s.top_artist) else f"folder {os.path.basename(s.top_artist)}"
        for c, (value, right) in enumerate(((s.genre, False), (s.tracks, True), (s.artists, True),
                                            (f"{s.top_share:.0%} ({who})", False), (sources, False),
                                            (lacks or "—", False))):
            table.setItem(r, c, _cell(value, right))
        table.item(r, 5).setToolTip(lacks)


class GenresPage(QWizardPage):
    """Rename genres; giving two genres the same name merges them."""

    def __init__(self, wizard: "TrainingWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Genres")
        self.setSubTitle("Rename a genre by editing its name on the right; give two genres the same name to "
                         "merge them. Any name works, including genres the bundled models never saw.")
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["genre", "tracks", "artists", "train as"])
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._changed)
        self.result = QLabel()
        self.result.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.result)

    def initializePage(self) -> None:  # noqa: N802
        merges = dict(self.w.merges)
        self.w.rebuild(merges={})
        summaries = self.w.everything.summaries()  # every genre, also those below the minimum
        self.table.blockSignals(True)
        self.table.setRowCount(len(summaries))
        for r, s in enumerate(summaries):
            for c, value in enumerate((s.genre, s.tracks, s.artists)):
                item = _cell(value, c > 0)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(self.w.readiness.genres.get(s.genre, ""))
                self.table.setItem(r, c, item)
            self.table.setItem(r, 3, _cell(merges.get(s.genre, s.genre)))
        self.table.blockSignals(False)
        self._changed()

    def set_target(self, genre: str, target: str) -> None:
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).text() == genre:
                self.table.item(r, 3).setText(target)

    def _changed(self, _item=None) -> None:
        merges = {}
        for r in range(self.table.rowCount()):
            source = self.table.item(r, 0).text()
            target = (self.table.item(r, 3).text() if self.table.item(r, 3) else "").strip()
            if target and not same_genre(target, source, self.w.settings.aliases):  # a respelling: no merge
                merges[source] = target
        self.w.rebuild(merges=merges)
        self.render()

    def render(self) -> None:
        ds, readiness = self.w.dataset, self.w.readiness
        lines = ["Training on: " + (", ".join(f"{g} ({n})" for g, n in ds.counts().items()) or "nothing yet")]
        if readiness is CHECKING:
            lines.append("Checking what the trainer needs…")
        elif not readiness.ok:
            lines.append(f"<b>Not ready to train: {_html(readiness.problems[0])}.</b>")
        lines += [f"⚠ {g}: {lacks}" for g, lacks in readiness.genres.items() if lacks]
        lines += [f"⚠ {w.message}" for w in ds.warnings() if w.kind != "excluded"]
        self.result.setText("<br>".join(lines))
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.w.readiness.ok  # Next starts the training: only what the trainer will accept


class TrainPage(QWizardPage):
    """Runs the training on the job runner; progress, cancel, start again."""

    def __init__(self, wizard: "TrainingWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Training")
        self.setSubTitle("Reads each track's cached features (new tracks are analysed once), chooses among "
                         "logistic regression, SVM and XGBoost by cross-validation grouped by artist, and "
                         "compares the result with your current model.")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.status = QLabel("Waiting to start")
        self.status.setWordWrap(True)
        self.cancel_button = QPushButton("Cancel training")
        self.cancel_button.clicked.connect(self.cancel)
        self.restart_button = QPushButton("Train again")
        self.restart_button.clicked.connect(self.start)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.restart_button)
        buttons.addStretch(1)
        self.candidates = _table(["candidate (cross-validated, grouped by artist)", "accuracy", "macro F1",
                                  "log-loss", "seconds"])
        self.candidates.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.candidates, 1)
        self.handle = None
        self.result = None
        self.error: str | None = None

    def initializePage(self) -> None:  # noqa: N802
        if self.result is None and self.handle is None:
            self.start()

    def start(self) -> None:
        from genre_desktop.training.session import run_training

        if not self.w.readiness.ok:
            self.status.setText(f"Cannot train: {self.w.readiness.problems[0]}. Press Back to change the data.")
            return
        self.result, self.error = None, None
        self.candidates.setVisible(False)
        self.restart_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.bar.setValue(0)
        self.status.setText("Starting…")
        dataset, dirs, settings = self.w.dataset, self.w.dirs, self.w.settings

        def work(job):
            def progress(fraction: float, message: str) -> None:
                job.progress((fraction, message))

            result, _data = run_training(dataset, dirs, settings.segments, settings.cpu_threads, progress, job.token)
            return result

        self.handle = self.w.runner.submit(work, name=Job.TRAINING, key="training", on_progress=self._progress,
                                           on_finished=self._finished, on_failed=self._failed,
                                           on_cancelled=self._cancelled)
        self.completeChanged.emit()

    def cancel(self) -> None:
        if self.handle is not None:
            self.status.setText("Cancelling…")
            self.handle.cancel()

    def _progress(self, value) -> None:
        fraction, message = value
        self.bar.setValue(int(fraction * 1000))
        self.status.setText(message)

    def _finished(self, result) -> None:
        self.handle, self.result = None, result
        self.bar.setValue(1000)
        best = result.report.models[0]
        self.status.setText(f"Saved {result.version}: {result.report.chosen}, held-out accuracy "
                            f"{best.accuracy:.0%}, macro F1 {best.macro_f1:.2f}. Not active yet.")
        rows = result.report.candidates
        self.candidates.setRowCount(len(rows))
        for r, c in enumerate(rows):
            name = c["name"] + ("  ← chosen" if r == 0 else "")
            for col, (v, right) in enumerate(((name, False), (f"{c['accuracy']:.3f}", True),
                                              (f"{c['macro_f1']:.3f}", True), (f"{c['log_loss']:.3f}", True),
                                              (f"{c['seconds']:.1f}", True))):
                self.candidates.setItem(r, col, _cell(v, right))
        self.candidates.setVisible(True)
        self._idle()
        self.w.trained(result)

    def _failed(self, error: str) -> None:
        self.handle, self.error = None, error
        self.bar.setValue(0)  # the run is over: no bar left standing at the step that failed
        self.status.setText(f"Training failed: {error}. Nothing was saved. Some files may have become unreadable "
                            "since the analysis (see the log); press Back to trust more tags or merge genres, "
                            "or Train again.")
        self._idle()

    def _cancelled(self) -> None:
        self.handle = None
        self.bar.setValue(0)
        self.status.setText("Cancelled. Nothing was saved.")
        self._idle()

    def _idle(self) -> None:
        self.cancel_button.setEnabled(False)
        self.restart_button.setEnabled(True)
        self.completeChanged.emit()

    def isComplete(self) -> bool:  # noqa: N802
        return self.result is not None

    def cleanupPage(self) -> None:  # noqa: N802 (Back pressed: stop a running training)
        self.cancel()


class ActivatePage(QWizardPage):
    def __init__(self, wizard: "TrainingWizard") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Use the new model?")
        self.setSubTitle("The new model joins the bundled ensemble with the weight fitted on the held-out "
                         "artists. Nothing changes until you choose it.")
        self.use_new = QRadioButton()
        self.keep = QRadioButton("Keep the current model (activate the new one later from Models)")
        self.keep.setChecked(True)
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.use_new)
        layout.addWidget(self.keep)
        layout.addWidget(self.info)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802
        result = self.w.result
        new, mixed, current = result.report.models
        self.use_new.setText(f"Use {result.version} now (with the bundled models, weight {result.report.weight:.2f})")
        better = mixed.macro_f1 > current.macro_f1
        self.use_new.setChecked(better)
        self.keep.setChecked(not better)
        self.info.setText(f"On the held-out artists: your new model with the bundled ensemble reaches accuracy "
                          f"{mixed.accuracy:.3f} (macro F1 {mixed.macro_f1:.3f}); the current model {current.accuracy:.3f} "
                          f"({current.macro_f1:.3f}). Earlier versions stay available for rollback.")


CHECKING = Readiness(False, ["checking what the trainer needs"])


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
