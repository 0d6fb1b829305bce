"""Writing from the window: the preview, the write, its undo.

Before a write that would make older writes' undo data expire (the limits in Settings > Tags),
the window says so and asks; after an undo that left files another program changed since their
write, it offers to put back only their genres.

The preview shows the library session's plan and is planned again whenever the library changes
while it is open (a decision, an analysis, another process's write). On Write the session saves
what waits, then checks the plan against the store and the files on the writer thread, just
before writing: a plan that went stale meanwhile (another process wrote or decided, a file was
replaced by another program) is not written; the preview opens again, planned from the library
as it is now, with a sentence saying what changed.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

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
        if not plan.changes or not self._undo_data_may_expire(len(plan.changes)):
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

    def _undo_data_may_expire(self, files: int) -> bool:
        """Say before a write makes older writes' undo data expire; False if the user stops there."""
        notice = self.w.workspace.undo_expiry_notice(files)
        if notice is None:
            return True
        answer = QMessageBox.question(self.w, "Older undo data will expire", f"{notice}\n\nWrite anyway?")
        return answer == QMessageBox.StandardButton.Yes

    def undo_last_write(self, genre_level: bool = False) -> None:
        w = self.w
        w.begin_progress("Undoing the last write…", busy=True, cancellable=False)
        handle = self.session.undo_write(w.workspace.write_options(), genre_level=genre_level,
                                         done=lambda o: self._report(o, "Restored"),
                                         failed=lambda e: w.job_failed("Undo", e))
        handle.done.connect(w.end_progress)

    def _report(self, outcome, verb: str) -> None:
        self.w.status_text.setText(describe_write(verb, outcome.ok, outcome.failed))
        self.w.details.refresh()
        offered = sum(getattr(r, "offer", None) == "genres" for r in outcome.results if not r.ok)
        if verb == "Restored" and offered and QMessageBox.question(
                self.w, "Files changed since the write",
                f"{offered:,} file{'s' if offered != 1 else ''} changed since the write (another program edited "
                f"{'them' if offered != 1 else 'it'}), so {'they' if offered != 1 else 'it'} cannot come back byte "
                f"for byte.\n\nPut back only the old genres, keeping the other program's changes?"
        ) == QMessageBox.StandardButton.Yes:
            self.undo_last_write(genre_level=True)
