"""Analysing from the window: which tracks, the progress in the status bar, resuming an analysis
the app was closed in the middle of, and re-scoring the library when the active model changes
(from the cached vectors; the tracks without them are then analysed).

The results go to the library session as they arrive (``LibraryJobs.analyze``): the table, the
queue and the details follow its events; the session saves them with the analysed-file mark,
as the CLI's ``analyze`` does.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from genre_desktop.app.workflow import analysis_pending, to_analyze
from genre_desktop.core.track import Track
from genre_desktop.jobs.runner import Job
from genre_desktop.ui.status import count, describe_analysis


class AnalysisFlow(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.session = window.session
        self.handle = None

    def analyze_unanalyzed(self) -> None:
        self.analyze(to_analyze(self.session.tracks(), only_new=True))

    def analyze_selection(self) -> None:
        self.analyze(to_analyze(self.w.library.selected_tracks()))

    def analyze(self, tracks: list[Track]) -> None:
        w = self.w
        if not tracks:
            w.status_text.setText("Nothing to analyse: every track has a prediction. "
                                  "Select tracks and press Ctrl+Shift+R to analyse them again.")
            return
        if w.jobs.runner.active(Job.ANALYSIS):
            w.status_text.setText("An analysis is already running; cancel it first (Ctrl+.).")
            return
        w.workspace.set_settings(analysis_pending(w.settings, True))
        text = f"Analysing {count(len(tracks), 'track')}…"
        w.begin_progress(text)
        problem = w.workspace.user_model_problem()
        if problem:
            self.session.add_problems([("Trained model", problem)])  # analysed with the bundled models meanwhile
        w.job_status.step(0, len(tracks), text)
        self.handle = w.jobs.analyze(
            tracks, on_item=self._on_prediction, on_progress=lambda p: w.job_status.step(p.done, p.total,
                                                                                         describe_analysis(p)),
            on_finished=self._on_analysed, on_failed=self._on_failed,
            on_cancelled=lambda: self._stopped("Analysis cancelled; Ctrl+R resumes with the tracks left."),
            on_done=w.end_progress)

    def rescore(self, which: str) -> None:
        """After a model change (``which`` names what is active now): every analysed track
        re-scored from its cached vectors, then the few without them analysed."""
        from genre_desktop.training.rescore import analysed

        w = self.w
        if not analysed(self.session.tracks()):
            w.status_text.setText(f"Analyses now use {which}.")
            return
        if w.jobs.runner.active(Job.ANALYSIS):
            w.status_text.setText(f"Analyses now use {which}. An analysis is running: its tracks get the new "
                                  "model; press Ctrl+Shift+R afterwards to bring the others up to date.")
            return
        text = f"Re-scoring the library with {which}…"
        w.begin_progress(text)
        self.handle = w.jobs.rescore(
            self.session.tracks(), on_item=self._on_prediction,
            on_progress=lambda s: w.job_status.step(s.done, s.total, text),
            on_finished=lambda s: self._on_rescored(s, which), on_failed=self._on_failed,
            on_cancelled=lambda: w.status_text.setText("Re-scoring cancelled; Ctrl+Shift+R analyses tracks again."),
            on_done=w.end_progress)

    def _on_rescored(self, summary, which: str) -> None:
        message = (f"Analyses now use {which}: {count(summary.done, 'track')} re-scored from their cached features "
                   f"in {summary.elapsed:.1f} s.")
        left = [t for t in (self.session.track(p) for p in summary.uncached) if t is not None]
        if left:
            message += f" Analysing the {count(len(left), 'track')} without cached features…"
            QTimer.singleShot(0, lambda: self.analyze(left))  # after this job's progress has ended
        self.w.status_text.setText(message)

    def _on_prediction(self, prediction) -> None:
        if prediction.path == self.w.current_path:
            self.w.details.refresh()

    def _on_analysed(self, summary) -> None:
        self._stopped(describe_analysis(summary, finished=True))

    def _on_failed(self, error: str) -> None:
        self.w.workspace.set_settings(analysis_pending(self.w.settings, False))
        self.w.status_text.setText(f"Analysis failed: {error}")

    def _stopped(self, message: str) -> None:
        if self.w.closing:
            return  # cancelled by closing the window: keep "pending" so the next start resumes
        self.w.workspace.set_settings(analysis_pending(self.w.settings, False))
        self.w.status_text.setText(message)
