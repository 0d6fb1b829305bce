"""The current track of the window: its details in the side panel, its spectrogram, the player.

The current track is the visible page's current row (the library table, or the review queue's
card). Decoding for the player and the spectrogram starts once the selection rests for a moment:
holding the arrow key down over fifty rows must not start fifty decodes on a two-core machine.
A spectrogram that arrives after the librarian moved on is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QObject, QTimer


class TrackDetails(QObject):
    REST_MS = 150

    def __init__(self, window) -> None:
        super().__init__(window)
        self.w = window
        self.current_path: str | None = None
        self.autoplay = False
        self._load_timer = QTimer(self)
        self._load_timer.setSingleShot(True)
        self._load_timer.setInterval(self.REST_MS)
        self._load_timer.timeout.connect(self.load_media)
        window.jobs.signals.changed.connect(self._on_changed)

    def _on_changed(self, tracks) -> None:
        if self.current_path is not None and any(t.path == self.current_path for t in tracks):
            self.refresh()

    def sync(self) -> None:
        """Show the visible page's current row, or nothing."""
        w = self.w
        if w.tabs.currentIndex() == 1:
            track = w.review.current()
        else:
            index = w.table.currentIndex()
            track = w.model.track(index.row()) if index.isValid() else None
        if track is None:
            if self.current_path is not None:
                self.current_path = None
                self._load_timer.stop()
                w.side.show_track(None)
                w.spectrogram.clear()
        elif track.path != self.current_path:
            self.show_track(track.path)

    def refresh(self) -> None:
        """The current track changed (a prediction, a decision, a write): show it as it is now."""
        track = self.w.session.track(self.current_path or "")
        if track is not None:
            self.w.side.show_track(track)
            self.w.spectrogram.set_segments(track.prediction)

    def show_track(self, path: str) -> None:
        """Make ``path`` the current track: details, spectrogram (background), player (background)."""
        w = self.w
        track = w.session.track(path)
        if track is None:
            return
        player = w.player_bar.player
        self.autoplay = self.autoplay or player.wants_play
        if player.wants_play:
            w.player_bar.stop()  # the old track must not play on under the new selection
        self.current_path = path
        w.side.show_track(track)
        w.spectrogram.clear("Computing the spectrogram…")
        w.spectrogram.set_segments(track.prediction)
        self._load_timer.start()

    def load_media(self) -> None:
        """Decode the current track for the player and the spectrogram (both in the background)."""
        self._load_timer.stop()
        w, path = self.w, self.current_path
        if path is None:
            return
        if not w.spectrogram.has_image:  # show_track cleared it, also when coming back to the loaded track
            w.jobs.spectrogram(path, on_finished=self._on_spectrogram,
                               on_failed=lambda e, p=path: self._on_spectrogram_failed(p, e))
        if path == w.player_bar.player.path:
            return
        w.player_bar.load(path, autoplay=self.autoplay)
        self.autoplay = False

    def toggle_play(self) -> None:
        if self._load_timer.isActive():
            self.autoplay = True  # play what is selected now, not what was loaded before
            self.load_media()
            return
        self.w.player_bar.toggle()

    def play(self, path: str) -> None:
        """Select ``path`` in the library and play it as soon as it is loaded."""
        self.w.tabs.setCurrentIndex(0)  # the details follow the library's row
        self.w.select_path(path)
        self.autoplay = True
        self.load_media()

    def _on_spectrogram(self, result) -> None:
        path, mel, reason = result
        if path != self.current_path:
            return  # stale: the user moved on
        if mel is None:
            self.w.spectrogram.clear(f"No spectrogram: {reason}")
            return
        track = self.w.session.track(path)
        self.w.spectrogram.set_mel(mel, track.duration if track else None)
        self.w.spectrogram.set_segments(track.prediction if track else None)

    def _on_spectrogram_failed(self, path: str, error: str) -> None:
        if path == self.current_path:
            self.w.spectrogram.clear(f"No spectrogram: {error}")

    def step(self, delta: int) -> None:
        table = self.w.review.table if self.w.tabs.currentIndex() == 1 else self.w.table
        row = table.currentIndex().row() + delta
        if 0 <= row < table.model().rowCount():
            table.selectionModel().setCurrentIndex(
                table.model().index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)

    def on_track_ended(self) -> None:
        self.autoplay = True  # keep playing: the next row starts once loaded
        self.step(1)

    def zoom_to_playing_segment(self) -> None:
        track = self.w.session.track(self.current_path or "")
        if track is None or track.prediction is None:
            return
        index = track.prediction.segment_at(self.w.player_bar.player.position())
        if index is not None:
            self.w.spectrogram.zoom_to_segment(index)
