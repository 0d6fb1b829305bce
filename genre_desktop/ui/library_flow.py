"""Opening a library in the window: the store (in the background), a folder, its scan, and what
other processes and the disk do to the library while it is open.

The session holds the tracks; this controller starts the jobs and says what happened in the
status bar. Other processes' writes (the CLI, a second window, a cluster run) are read every two
seconds by ``LibraryJobs.poll`` and reach the views through the session's events; this controller
only tells the librarian. A store deleted under the open window is explained in a dialog: its
tracks are still in memory and can be saved again (the default) or let go.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox

from genre_desktop.app.workflow import should_resume
from genre_desktop.core.track import Track
from genre_desktop.ui.status import count, describe_scan


class LibraryFlow(QObject):
    scan_finished = Signal()  # a scan of the open folder completed and the table shows its result

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.session = window.session
        self.root: str | None = None
        self.lost_dialog: QMessageBox | None = None
        signals = window.jobs.signals
        signals.external.connect(self._on_external)
        signals.store_lost.connect(self._on_store_lost)

    # ------------------------------------------------------------------ the store
    def start(self, store_path: Path, folder: str | None, idle: str = "Open a music folder to begin (Ctrl+O).") -> None:
        """Open the store in the background, then ``folder``: the window never waits for the disk.
        ``idle``: what the status bar says when there is no folder to open."""
        w = self.w
        w.empty.set_opening()
        w.begin_progress("Opening the library…", busy=True, cancellable=False)
        w.jobs.open_store(store_path, on_finished=lambda store: self._store_opened(store, folder, idle),
                          on_failed=lambda e: w.job_failed("Opening the library", e), on_done=w.end_progress)

    def _store_opened(self, store, folder: str | None, idle: str) -> None:
        recovered = getattr(store, "recovered_from", None)
        if recovered:
            box = QMessageBox(QMessageBox.Icon.Warning, "Library file repaired",
                              "Part of the library file was damaged and has been set aside "
                              f"({', '.join(str(p) for p in recovered)}). Rescanning the folder rebuilds it.",
                              QMessageBox.StandardButton.Ok, self.w)
            box.open()
        if folder:
            self.open_folder(folder)
        else:
            self.w.empty.set_idle()
            self.w.status_text.setText(idle)

    # ------------------------------------------------------------------ folders and scans
    def choose_folder(self) -> None:
        start = self.root or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self.w, "Open a music folder", start)
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str, scan: bool = True) -> None:
        """Show what the store knows about ``folder`` at once, then rescan it in the background."""
        w = self.w
        root = self.root = os.path.abspath(folder)
        if os.path.isdir(root):  # a mistyped or unplugged folder must not replace the last library
            w.workspace.update_settings(last_library=root)
        w.setWindowTitle(f"{os.path.basename(root) or root} — Genre Desktop")
        if scan:
            w.empty.set_scanning(root)
        self.session.open(root, done=self._on_loaded)
        if scan:
            self.rescan()

    def rescan(self) -> None:
        w = self.w
        if not self.root:
            self.choose_folder()
            return
        if not os.path.isdir(self.root):
            w.status_text.setText(f"The folder {self.root} is not available (unplugged drive?). Open another with Ctrl+O.")
            w.empty.set_missing(self.root)
            w.library.show_page()
            return
        w.begin_progress("Scanning…", busy=True)
        w.jobs.scan(self.root, on_progress=self._on_scan_progress, on_item=self.session.merge,
                    on_finished=self._on_scanned, on_failed=lambda e: w.job_failed("Scan", e),
                    on_cancelled=lambda: w.job_cancelled("Scan"), on_done=w.end_progress)

    def _on_loaded(self, tracks: list[Track]) -> None:
        if should_resume(self.w.settings, tracks):
            self.w.status_text.setText("Resuming the analysis that was interrupted last time…")
            self.w.analysis.analyze_unanalyzed()

    def _on_scan_progress(self, progress: Any) -> None:
        if progress.total:
            self.w.job_status.step(progress.done, progress.total, describe_scan(progress))
        else:
            self.w.status_text.setText(describe_scan(progress))

    def _on_scanned(self, result) -> None:
        w = self.w
        self.session.set_tracks(result.tracks, result.root)
        summary = result.summary
        self.session.add_problems(list(getattr(summary, "unreadable", []) or [])
                                  + list(getattr(summary, "damaged", []) or []))  # truncated files too
        w.status_text.setText(describe_scan(summary, finished=True))
        w.empty.set_idle()
        w.library.show_page()
        self.scan_finished.emit()

    # ------------------------------------------------------------------ other processes, the disk
    def _on_external(self, changed: int, removed: int) -> None:
        parts = [f"{count(changed, 'track')} changed"] if changed else []
        if removed:
            parts.append(f"{count(removed, 'track')} removed")
        self.w.status_text.setText(f"Another Genre Desktop process (a window or the command line) updated the "
                                   f"library: {', '.join(parts)}. The table shows them.")

    def _on_store_lost(self, message: str) -> None:
        if self.lost_dialog is not None:
            return
        n = len(self.session)
        box = QMessageBox(QMessageBox.Icon.Warning, "The library file was deleted",
                          f"The library file {self.w.workspace.store_path} was deleted while this window had it "
                          f"open. Its {count(n, 'track')}, with their predictions and your decisions, are still "
                          f"here: save them again, or let them go (the music files are not touched).",
                          QMessageBox.StandardButton.NoButton, self.w)
        save = box.addButton("Save the library again", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Let it go", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(save)
        box.setEscapeButton(save)  # closing the box must not lose the library
        box.finished.connect(lambda _r, b=box, s=save: self._store_decided(b.clickedButton() in (s, None)))
        self.lost_dialog = box
        box.open()

    def _store_decided(self, keep: bool) -> None:
        self.lost_dialog = None
        w = self.w
        if keep:
            self.session.restore_store(done=lambda _r: w.status_text.setText(
                f"The library was saved again to {w.workspace.store_path}."))
        else:
            self.session.discard_store()
            self.root = None
            w.setWindowTitle("Genre Desktop")
            self.start(w.workspace.store_path, None,  # a new, empty library in its place
                       "The deleted library was let go. Open a music folder to start a new one (Ctrl+O).")
