"""``genre-desktop --smoke-test FOLDER``: drive the real window through one whole round trip.

Opens FOLDER, waits for the scan, plays the first audio track (on the null output where there is no
sound card: its clock must advance) until its spectrogram is drawn, analyses it with the bundled models, accepts
its top genre in the review queue, writes it through the write dialog and the serial writer,
reads the tag back from the file, prints one JSON line and quits. The packaging smoke test runs
it inside the built bundle (offscreen), so a bundle that cannot find its models, decode audio,
write tags or start Qt fails loudly. Exit code 0 on success, 1 with a reason otherwise.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Callable

from PySide6.QtCore import QObject, QTimer

from genre_desktop.app.workflow import can_analyze
from genre_desktop.core.status import PREDICTED, WRITTEN


class SmokeTest(QObject):
    """A small state machine polled by a timer: each step waits for a condition, then acts."""

    def __init__(self, window, timeout: float = 300.0) -> None:
        super().__init__(window)
        self.window = window
        self.deadline = time.monotonic() + timeout
        self.report: dict = {"ok": False}
        self.path: str | None = None
        self._errors_before_write = 0
        self._scan_done = False
        window.scan_finished.connect(self._on_scan_finished)
        self.started = time.monotonic()
        self._steps: list[tuple[str, Callable[[], bool], Callable[[], None]]] = [
            ("scan", self._scanned, self._play),
            ("play+spectrogram", self._played, self._analyse),
            ("analyse", self._analysed, self._accept),
            ("accept", self._accepted, self._write),
            ("write", self._written, self._verify),
        ]
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._timer.start()

    def _on_scan_finished(self) -> None:
        self._scan_done = True

    # conditions ---------------------------------------------------------------------------
    def _idle(self) -> bool:
        return not self.window.jobs.runner.active()

    def _track(self):
        return self.window.model.track_by_path(self.path) if self.path else None

    def _scanned(self) -> bool:
        return self._scan_done and self._idle()

    def _played(self) -> bool:
        player = self.window.player_bar.player
        if player.error:
            self._fail(f"playing failed: {player.error}")
            return False
        return (player.position() > 0.2 and self.window.spectrogram.has_image
                and self._idle())

    def _analysed(self) -> bool:
        track = self._track()
        return self._idle() and track is not None and (track.status == PREDICTED or track.error is not None)

    def _accepted(self) -> bool:
        track = self._track()
        return track is not None and bool(track.chosen)

    def _written(self) -> bool:
        track = self._track()
        failed = len(self.window.errors) > self._errors_before_write
        return self._idle() and track is not None and (track.status == WRITTEN or failed)

    # actions ------------------------------------------------------------------------------
    def _play(self) -> None:
        # a file the last run knew but that is gone now stays in the library, flagged missing
        tracks = sorted((t for t in self.window.model.tracks() if not t.error and can_analyze(t)),
                        key=lambda t: t.path)
        if not tracks:
            self._fail("the scan found no readable audio file")
            return
        self.report["scanned"] = self.window.model.rowCount()
        self.path = tracks[0].path
        self.window.select_path(self.path)
        self.window.details.play(self.path)

    def _analyse(self) -> None:
        player = self.window.player_bar.player
        self.report["output"] = type(player.output).__name__
        self.report["played_s"] = round(player.position(), 2)
        self.window.player_bar.stop()
        self.window.analyze([self._track()])

    def _accept(self) -> None:
        track = self._track()
        if track.error:
            self._fail(f"analysis failed: {track.error}")
            return
        self.report["predicted"] = track.predicted_genre
        self.report["confidence"] = track.confidence
        review = self.window.review
        self.window.show_review()
        review.refresh()
        current = review.current()
        if current is None or current.path != self.path:
            self._fail(f"the review queue does not offer {self.path}")
            return
        review.accept_current()

    def _write(self) -> None:
        dialog = self.window.open_write_dialog()
        changes = dialog.changes()
        if self.path not in changes:
            self._fail(f"the write preview does not list {self.path}")
            return
        self.report["will_write"] = changes[self.path]
        self._errors_before_write = len(self.window.errors)
        dialog.accept()

    def _verify(self) -> None:
        from genre_desktop.tagging import read_genres

        if len(self.window.errors) > self._errors_before_write:
            self._fail(f"writing failed: {self.window.errors[-1]}")
            return
        on_disk = read_genres(self.path)
        self.report.update(path=self.path, written=on_disk, ok=on_disk == self.report["will_write"])
        if not self.report["ok"]:
            self._fail(f"the file holds {on_disk}, expected {self.report['will_write']}")
            return
        self._finish(0)

    # driver -------------------------------------------------------------------------------
    def _tick(self) -> None:
        if time.monotonic() > self.deadline:
            step = self._steps[0][0] if self._steps else "finish"
            self._fail(f"timed out waiting for the {step} step")
            return
        if not self._steps:
            return
        name, ready, action = self._steps[0]
        if ready():
            self._steps.pop(0)
            self.report.setdefault("steps", []).append(name)
            action()

    def _fail(self, reason: str) -> None:
        self.report["ok"] = False
        self.report["error"] = reason
        self._finish(1)

    def _finish(self, code: int) -> None:
        self._timer.stop()
        self._steps.clear()
        self.report["seconds"] = round(time.monotonic() - self.started, 2)
        print(json.dumps(self.report), flush=True)
        sys.stdout.flush()
        self.window.close()
        from PySide6.QtWidgets import QApplication

        QApplication.instance().exit(code)
