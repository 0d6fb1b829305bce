"""The training wizard's training and activation pages.

Split from ``training_wizard.py`` (the wizard's wiring); every figure comes from ``training/``.

3. Training: progress and cancel (a cancelled or failed run saves nothing; it can be started
   again). When it is done, one figure to judge the model by and how it was obtained
   (``Report.headline``: what activating gives, on the held-out artists), then the candidates with
   both of their figures, cross-validated (how the head was chosen) and held out (the chosen one's
   is the summary's "your new model"), and the files that could not be read, by name.
5. Activate: use the new model now, or keep the current one. A model that would change nothing is
   not offered; one that cannot predict a taught genre is not preselected and says which, and what
   would help (``training.can_predict``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWizardPage,
)

from genre_desktop.jobs.runner import Job
from genre_desktop.ui.wizard_data_pages import html, unreadable_lines
from genre_desktop.ui.wizard_tables import cell as _cell
from genre_desktop.ui.wizard_tables import table as _table

if TYPE_CHECKING:
    from genre_desktop.ui.wizard_state import WizardState

CANDIDATE_HEADERS = ["head", "CV\naccuracy", "CV\nmacro F1", "CV\nlog-loss", "held-out\naccuracy",
                     "held-out\nmacro F1", "seconds"]


class TrainPage(QWizardPage):
    """Runs the training on the job runner; progress, cancel, start again."""

    def __init__(self, wizard: "WizardState") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Training")
        self.setSubTitle("Reads each track's cached features (new tracks are analysed once), chooses among "
                         "logistic regression, SVM and XGBoost by cross-validation grouped by artist, and "
                         "compares the result with your current model on artists kept apart.")
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
        self.candidates = _table(CANDIDATE_HEADERS)
        self.candidates.setVisible(False)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setObjectName("hint")
        layout = QVBoxLayout(self)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.candidates, 1)
        layout.addWidget(self.note)
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
        self.note.clear()
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
        report = result.report
        self.status.setText(f"Saved {html(result.version)} ({html(report.chosen)}), not active yet. "
                            f"<b>{html(report.headline())}</b>")
        rows = report.candidates
        self.candidates.setRowCount(len(rows))
        for r, c in enumerate(rows):
            name = c["name"] + ("  ← chosen" if c["name"] == report.chosen else "")
            figures = [c["accuracy"], c["macro_f1"], c["log_loss"], c.get("heldout_accuracy"),
                       c.get("heldout_macro_f1")]
            values = [(name, False)] + [("—" if v is None else f"{v:.3f}", True) for v in figures] \
                + [(f"{c['seconds']:.1f}", True)]
            for col, (v, right) in enumerate(values):
                self.candidates.setItem(r, col, _cell(v, right))
        self.candidates.setVisible(True)
        failed = unreadable_lines(getattr(result, "failed", {}) or {})
        self.note.setText("<br>".join([html(report.candidates_note())] + failed))
        self._idle()
        self.w.trained(result)

    def _failed(self, error: str) -> None:
        self.handle, self.error = None, error
        self.bar.setValue(0)  # the run is over: no bar left standing at the step that failed
        self.status.setText(f"Training failed: {html(error)}. Nothing was saved. Some files may have become "
                            "unreadable since the analysis (see the log); press Back to trust more tags or merge "
                            "genres, or Train again.")
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
    def __init__(self, wizard: "WizardState") -> None:
        super().__init__()
        self.w = wizard
        self.setTitle("Use the new model?")
        self.setSubTitle("The new model joins the bundled ensemble with the weight fitted on the held-out "
                         "artists. Nothing changes until you choose it.")
        self.use_new = QRadioButton()
        self.keep = QRadioButton("Keep the current model (activate the new one later from Models)")
        self.keep.setChecked(True)
        self.verdict = QLabel()
        self.verdict.setWordWrap(True)
        self.verdict.setObjectName("warnings")
        self.info = QLabel()
        self.info.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.use_new)
        layout.addWidget(self.keep)
        layout.addWidget(self.verdict)
        layout.addWidget(self.info)
        layout.addStretch(1)

    def initializePage(self) -> None:  # noqa: N802
        result = self.w.result
        new, mixed, current = result.report.models
        verdict = result.verdict
        self.use_new.setText(f"Use {result.version} now (with the bundled models, weight {result.report.weight:.2f})")
        better = mixed.macro_f1 > current.macro_f1
        useful = verdict is None or verdict.useful
        offer = verdict is None or not verdict.changes_nothing
        self.use_new.setEnabled(offer)
        self.use_new.setChecked(offer and useful and better)
        self.keep.setChecked(not self.use_new.isChecked())
        lines = []
        if verdict is not None and not verdict.useful:
            lines.append(f"<b>This model {html(verdict.summary())}.</b>")
            lines += [f"⚠ {html(p)}." for p in verdict.problems()]
            if verdict.advice():
                lines.append("What would help: " + "; ".join(html(a) for a in verdict.advice()) + ".")
        self.verdict.setText("<br>".join(lines))
        self.verdict.setVisible(bool(lines))
        self.info.setText(f"On the held-out artists: your new model with the bundled ensemble reaches accuracy "
                          f"{mixed.accuracy:.3f} (macro F1 {mixed.macro_f1:.3f}); the current model {current.accuracy:.3f} "
                          f"({current.macro_f1:.3f}). Earlier versions stay available for rollback.")
