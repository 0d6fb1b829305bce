"""Transport controls for the audio player: play/pause, stop, previous/next, position, volume.

Wraps the Qt-free :class:`~genre_desktop.audio.player.Player`. Its listener runs on the decode
thread, so it only emits a signal; the slot runs here on the GUI thread. A 40 ms timer moves the
position slider and the spectrogram's playhead (``positionChanged``) and detects the end of a track.
When the output has no device the bar says so instead of failing silently.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QIcon, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

from genre_desktop.audio.player import ERROR, Player
from genre_desktop.ui.library_model import format_duration


class PlayerBar(QWidget):
    positionChanged = Signal(float)
    nextRequested = Signal()
    ended = Signal()  # the track played to its end
    previousRequested = Signal()
    loaded = Signal(str)
    _player_event = Signal(str, str, str)  # emitted on the decode thread, delivered here

    def __init__(self, player: Player, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        style = self.style()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)

        self._icons: dict[object, QStyle.StandardPixmap] = {}  # widget -> its standard icon (re-tinted on palette change)

        def button(icon, tip, slot):
            b = QToolButton()
            self._icons[b] = icon
            b.setIcon(self._tinted(icon))
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            layout.addWidget(b)
            return b

        self.prev_button = button(QStyle.StandardPixmap.SP_MediaSkipBackward, "Previous track (Ctrl+Left)", self.previousRequested.emit)
        self.play_button = button(QStyle.StandardPixmap.SP_MediaPlay, "Play / pause (Space)", self.toggle)
        self.stop_button = button(QStyle.StandardPixmap.SP_MediaStop, "Stop", self.stop)
        self.next_button = button(QStyle.StandardPixmap.SP_MediaSkipForward, "Next track (Ctrl+Right)", self.nextRequested.emit)
        self.time_label = QLabel("0:00 / 0:00")
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance("0:00:00 / 0:00:00") + 4)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Position (drag to seek)")
        self.slider.sliderReleased.connect(lambda: self.seek(self.slider.value() / 1000.0))
        self.slider.setMinimumWidth(160)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.time_label)
        self.volume_icon = QLabel()
        self._icons[self.volume_icon] = QStyle.StandardPixmap.SP_MediaVolume
        self.volume_icon.setPixmap(self._tinted(QStyle.StandardPixmap.SP_MediaVolume).pixmap(16, 16))
        layout.addWidget(self.volume_icon)
        self.volume = QSlider(Qt.Orientation.Horizontal)
        self.volume.setRange(0, 100)
        self.volume.setFixedWidth(90)
        self.volume.setValue(int(round(player.volume * 100)))
        self.volume.setToolTip("Volume")
        self.volume.valueChanged.connect(lambda v: self.player.set_volume(v / 100.0))
        layout.addWidget(self.volume)
        self.status = QLabel()
        self.status.setWordWrap(False)
        layout.addWidget(self.status)
        self._player_event.connect(self._on_player_event)
        player.add_listener(lambda event, path, detail: self._player_event.emit(event, path, detail))
        self.timer = QTimer(self)
        self.timer.setInterval(40)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self._show_output_state()

    def _tinted(self, which: QStyle.StandardPixmap) -> QIcon:
        """The style's media icon in the palette's button-text colour: Fusion draws them near black,
        which all but disappears on the dark palette's buttons."""
        colour = self.palette().color(QPalette.ColorRole.ButtonText)
        icon = QIcon()
        for size in (16, 24, 32):
            pixmap = self.style().standardIcon(which).pixmap(size, size)
            painter = QPainter(pixmap)
            painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)  # keep the shape
            painter.fillRect(pixmap.rect(), colour)
            painter.end()
            icon.addPixmap(pixmap)
        return icon

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:  # light <-> dark: the icons follow
            for widget, which in self._icons.items():
                if isinstance(widget, QLabel):
                    widget.setPixmap(self._tinted(which).pixmap(16, 16))
                else:
                    widget.setIcon(self._tinted(which))
        super().changeEvent(event)

    # -- output state ----------------------------------------------------------------------------
    def _show_output_state(self, extra: str = "") -> None:
        out = self.player.output
        if out.is_available():
            self.status.setText(extra)
            self.status.setToolTip("")
            return
        reason = out.reason_unavailable or "no audio output"
        short = "Silent: no audio device" if "device" in reason else "Silent: audio unavailable"
        self.status.setText(f"⚠ {short}" + (f" · {extra}" if extra else ""))
        self.status.setToolTip(f"Playback keeps time but makes no sound: {reason}")

    # -- commands ----------------------------------------------------------------------------------
    def load(self, path: str, autoplay: bool = False) -> None:
        self.player.load(path, autoplay=autoplay)
        self.slider.setRange(0, 0)
        self._show_output_state("loading…")

    def toggle(self) -> None:
        self.player.toggle()
        self._refresh_buttons()

    def stop(self) -> None:
        self.player.stop()
        self._refresh_buttons()
        self._tick()

    def seek(self, seconds: float) -> None:
        self.player.seek(seconds)
        self._tick()

    def set_volume(self, volume: float) -> None:
        self.volume.setValue(int(round(volume * 100)))

    # -- updates -----------------------------------------------------------------------------------
    @Slot(str, str, str)
    def _on_player_event(self, event: str, path: str, detail: str) -> None:
        if path != self.player.path:
            return  # a late event of a track the user already left
        if event == "error":
            self._show_output_state(f"cannot play: {detail}")
            self.status.setToolTip(detail)
            if self.player.failed_while_playing:
                self.ended.emit()  # continuous listening skips an unplayable file
        elif event == "loaded":
            self.slider.setRange(0, int(self.player.duration * 1000))
            note = ""
            if self.player.truncated_to:
                note = f"first {format_duration(self.player.truncated_to)} loaded"
            self._show_output_state(note)
            self.loaded.emit(path)
        self._tick()

    def _refresh_buttons(self) -> None:
        playing = self.player.wants_play
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self._icons[self.play_button] = icon
        self.play_button.setIcon(self._tinted(icon))
        self.play_button.setEnabled(self.player.state != ERROR)

    def _tick(self) -> None:
        if self.player.poll() == "ended":
            self.ended.emit()
        position = self.player.position()
        if not self.slider.isSliderDown():
            self.slider.setValue(int(position * 1000))
        self.time_label.setText(f"{format_duration(position)} / {format_duration(self.player.duration)}")
        self._refresh_buttons()
        self.positionChanged.emit(position)

    def shutdown(self) -> None:
        self.timer.stop()
        self.player.close()
