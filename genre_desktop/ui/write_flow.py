"""Writing from the window: the preview, the write, its undo.

The preview shows the library session's plan and is planned again whenever the library changes
while it is open (a decision, an analysis, another process's write). On Write the session saves
what waits, then checks the plan against the store and the files on the writer thread, just
before writing: a plan that went stale meanwhile (another process wrote or decided, a file was
replaced by another program) is not written; the preview opens again, planned from the library
as it is now, with a sentence saying what changed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt

from genre_desktop.ui.status import describe_write
from genre_desktop.ui.write_dialog import WriteDialog


class WriteFlow(QObject):
    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.session = window.session
        self.dialog: WriteDialog | None = None
        signals = window.jobs.signals
        for signal in (signals.reset, signals.changed, signals.removed):
            signal.connect(self._on_library_changed)

    def open_dialog(self, notice: str = "") -> WriteDialog:
        w = self.w
        dialog = WriteDialog(self.session.plan, w.settings, w)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(lambda d=dialog: self._write_from(d))
        dialog.finished.connect(lambda _r, d=dialog: self._closed(d))
        dialog.set_notice(notice)
        self.dialog = w.write_dialog = dialog
        dialog.open()
        return dialog

    def _closed(self, dialog: WriteDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _on_library_changed(self, *_args) -> None:
        """The library changed under an open preview: plan again, and say so."""
        dialog = self.dialog
        if dialog is None or not dialog.isVisible():
            return
        before = dialog.plan.key()
        dialog.refresh()
        if dialog.plan.key() != before:
            dialog.set_notice("The library changed while this preview was open; the list above is up to date.")

    def _write_from(self, dialog: WriteDialog) -> None:
        w = self.w
        w.activateWindow()  # the window's shortcuts (Undo last write…) work at once after the dialog
        settings = dialog.settings()
        w.workspace.set_settings(settings)
        plan = dialog.plan
        if not plan.changes:
            return
        w.begin_progress(f"Writing genres to {len(plan.changes):,} files…", busy=True, cancellable=False)
        handle = self.session.write(plan, settings, w.workspace.write_options(), done=self._on_written,
                                    failed=lambda e: w.job_failed("Writing tags", e))
        handle.done.connect(w.end_progress)

    def _on_written(self, outcome) -> None:
        if outcome.stale is not None:
            reasons = "; ".join(outcome.stale.reasons)
            self.w.status_text.setText(f"Nothing was written: {reasons}. Check the preview again.")
            self.open_dialog(f"Nothing was written: {reasons}. This is the preview as the library is now.")
            return
        self._report(outcome, "Wrote")

    def undo_last_write(self) -> None:
        w = self.w
        w.begin_progress("Undoing the last write…", busy=True, cancellable=False)
        handle = self.session.undo_write(w.workspace.write_options(), done=lambda o: self._report(o, "Restored"),
                                         failed=lambda e: w.job_failed("Undo", e))
        handle.done.connect(w.end_progress)

    def _report(self, outcome, verb: str) -> None:
        self.w.status_text.setText(describe_write(verb, outcome.ok, outcome.failed))
        self.w.details.refresh()
