"""The mel spectrogram of the selected track, a playhead, axes and the per-segment genre timeline.

The mel array is computed in the background (jobs/); turning it into a QImage happens here, on
the GUI thread, once per track: dB values -> 0..255 -> a 256-colour lookup table -> RGB32. Paints
then only scale a source rectangle of that image, so zooming and the moving playhead are cheap.

Mouse: click the spectrogram to seek; double-click a segment of the timeline to zoom to it;
double-click again (or Escape, or the wheel out) to see the whole track. Ctrl+wheel zooms.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from genre_desktop.core.prediction import Prediction, SegmentScore
from genre_desktop.ui.theme import genre_colour

LEFT, RIGHT, TOP = 48, 20, 6  # RIGHT leaves room for the last time label
TIME_AXIS, TIMELINE = 18, 22

# "magma"-like anchors (position, r, g, b): dark for quiet, bright for loud, readable in both themes.
_ANCHORS = np.array([
    (0.00, 0, 0, 4), (0.13, 28, 16, 68), (0.25, 79, 18, 123), (0.38, 129, 37, 129),
    (0.50, 181, 54, 122), (0.63, 229, 80, 100), (0.75, 251, 135, 97), (0.88, 254, 194, 135), (1.00, 252, 253, 191),
])


def colour_table() -> np.ndarray:
    """256 RGB32 colours (0xFFRRGGBB as uint32)."""
    x = np.linspace(0.0, 1.0, 256)
    rgb = [np.interp(x, _ANCHORS[:, 0], _ANCHORS[:, i]).astype(np.uint32) for i in (1, 2, 3)]
    return (0xFF000000 | (rgb[0] << 16) | (rgb[1] << 8) | rgb[2]).astype(np.uint32)


_LUT = colour_table()


def mel_to_image(db: np.ndarray, dynamic_range: float = 80.0) -> QImage:
    """(n_mels, frames) dB -> QImage (frames wide, n_mels high, low frequencies at the bottom)."""
    db = np.asarray(db, dtype=np.float32)
    if db.size == 0:
        return QImage()
    top = float(np.nanmax(db))
    scaled = np.clip((db - (top - dynamic_range)) / dynamic_range, 0.0, 1.0)
    indices = np.nan_to_num(scaled * 255.0).astype(np.uint8)[::-1]  # row 0 = highest frequency
    pixels = np.ascontiguousarray(_LUT[indices])
    height, width = pixels.shape
    image = QImage(pixels.data, width, height, width * 4, QImage.Format.Format_RGB32)
    return image.copy()  # own the memory: the numpy buffer goes away


# Frequency labels, lowest first; each is drawn only where it clears the one below it.
FREQ_LABELS = (100, 250, 500, 1000, 2000, 4000, 8000, 16000)
# Audio shorter than this is drawn at this time scale, not stretched over the whole width (a file cut
# to a fraction of a second would otherwise fill the view with a few smeared frames and one tick).
MIN_SPAN = 5.0


def nice_step(span: float, pixels: float, min_gap: float = 70.0) -> float:
    """A tick step in seconds from 1-2-5 series so labels are at least ``min_gap`` px apart."""
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if span <= 0 or pixels / (span / step) >= min_gap:
            return float(step)
    return 7200.0


def format_time(seconds: float, step: float = 1.0) -> str:
    if step < 1:
        return f"{seconds:.1f}s"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class SpectrogramView(QWidget):
    seekRequested = Signal(float)
    zoomChanged = Signal(float, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMouseTracking(True)
        self._image = QImage()
        self._mel: Any = None
        self._seconds = 0.0  # duration covered by the image
        self._duration = 0.0  # the track's duration (may exceed the image for very long files)
        self._freqs: np.ndarray | None = None
        self._segments: list[SegmentScore] = []
        self._position = 0.0
        self._view = (0.0, 0.0)
        self._message = "Select a track to see its spectrogram"

    # -- content ---------------------------------------------------------------------------------
    def clear(self, message: str = "") -> None:
        self._image = QImage()
        self._mel = None
        self._seconds = 0.0
        self._duration = 0.0
        self._view = (0.0, 0.0)
        self._freqs = None
        self._position = 0.0
        self._message = message
        self.update()

    def set_message(self, message: str) -> None:
        self._message = message
        self.update()

    def set_mel(self, mel: Any, duration: float | None = None) -> None:
        """Show a features.mel.MelSpectrogram (db, sr, hop_length, fmin, fmax)."""
        self._mel = mel
        self._image = mel_to_image(mel.db)
        self._seconds = mel.db.shape[1] * mel.hop_length / float(mel.sr)
        self._duration = max(self._seconds, float(duration or 0.0))
        try:
            self._freqs = np.asarray(mel.mel_frequencies(), dtype=float)
        except (AttributeError, TypeError):
            self._freqs = None
        self._view = self._full_view()
        self._message = ""
        self.zoomChanged.emit(*self._view)
        self.update()

    def set_segments(self, prediction: Prediction | None) -> None:
        """The per-segment scores of a prediction (None: none)."""
        prediction = Prediction.coerce(prediction)  # a stored dict is read through its schema
        self._segments = list(prediction.segments) if prediction is not None else []
        if not self._duration and self._segments:
            self._duration = max(s.end for s in self._segments)
            if self._view[1] <= self._view[0]:
                self._view = self._full_view()
        self.update()

    def set_position(self, seconds: float) -> None:
        if abs(seconds - self._position) > 1e-3:
            self._position = seconds
            self.update()

    @property
    def view_range(self) -> tuple[float, float]:
        return self._view

    @property
    def has_image(self) -> bool:
        return not self._image.isNull()

    def zoom_to(self, start: float, end: float) -> None:
        end = min(end, self._full_view()[1]) if self._duration else end
        start = max(0.0, start)
        if end - start < 0.5:
            return
        self._view = (start, end)
        self.zoomChanged.emit(start, end)
        self.update()

    def zoom_out(self) -> None:
        self.zoom_to(*self._full_view())

    def _full_view(self) -> tuple[float, float]:
        """The whole track, short audio at the scale of :data:`MIN_SPAN`."""
        return 0.0, max(self._duration, MIN_SPAN)

    def zoom_to_segment(self, index: int) -> None:
        if 0 <= index < len(self._segments):
            seg = self._segments[index]
            self.zoom_to(float(seg.start), float(seg.end))

    # -- geometry --------------------------------------------------------------------------------
    def _plot_rect(self) -> QRectF:
        return QRectF(LEFT, TOP, max(1, self.width() - LEFT - RIGHT), max(1, self.height() - TOP - TIME_AXIS - TIMELINE - 4))

    def _x_of(self, seconds: float, plot: QRectF) -> float:
        start, end = self._view
        return plot.left() + (seconds - start) / max(1e-9, end - start) * plot.width()

    def _time_at(self, x: float, plot: QRectF) -> float:
        start, end = self._view
        return start + (x - plot.left()) / plot.width() * (end - start)

    def segment_at(self, x: float) -> int | None:
        t = self._time_at(x, self._plot_rect())
        for i, seg in enumerate(self._segments):
            if seg.start <= t < seg.end:
                return i
        return None

    # -- painting --------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        pal = self.palette()
        painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Base))
        plot = self._plot_rect()
        text_colour = pal.color(QPalette.ColorRole.Text)
        small = QFont(self.font())
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.85))
        painter.setFont(small)
        if self._image.isNull():
            painter.fillRect(plot, pal.color(QPalette.ColorRole.AlternateBase))
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
        else:
            start, end = self._view
            secs_per_px = self._seconds / self._image.width()
            src = QRectF(start / secs_per_px, 0, (min(end, self._seconds) - start) / secs_per_px, self._image.height())
            target = QRectF(plot)
            if end > self._seconds:  # the image stops before the track does (very long file)
                target.setRight(self._x_of(self._seconds, plot))
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self._image, src)
            if self._duration < end:  # short audio at its own scale: say where it ends (the decoded end)
                audio_end = min(self._seconds, self._duration)
                rest = QRectF(QPointF(max(plot.left(), self._x_of(audio_end, plot)), plot.top()), plot.bottomRight())
                painter.fillRect(rest, pal.color(QPalette.ColorRole.AlternateBase))
                if rest.width() > 120:
                    painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
                    painter.drawText(rest, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                                     f"The audio ends at {audio_end:.1f} s")
            self._draw_freq_axis(painter, plot, text_colour)
        if self._duration > 0:
            self._draw_time_axis(painter, plot, text_colour)
            self._draw_timeline(painter, plot, text_colour)
            x = self._x_of(self._position, plot)
            if plot.left() <= x <= plot.right():
                painter.setPen(QPen(QColor("#35d0ff"), 2))
                painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom() + TIME_AXIS + TIMELINE))
        painter.end()

    def freq_labels(self, plot: QRectF, gap: float) -> list[tuple[int, float]]:
        """(Hz, y) of the frequency labels drawn: at least ``gap`` px apart (the mel scale squeezes
        the low ones together; one too close to the label below it is left out, not drawn over it)."""
        if self._freqs is None or len(self._freqs) < 2:
            return []
        n = len(self._freqs)
        out: list[tuple[int, float]] = []
        for hz in FREQ_LABELS:
            if not (self._freqs[0] <= hz <= self._freqs[-1]):
                continue
            y = plot.bottom() - (float(np.interp(hz, self._freqs, np.arange(n))) + 0.5) / n * plot.height()
            if not out or out[-1][1] - y >= gap:
                out.append((hz, y))
        return out

    def _draw_freq_axis(self, painter: QPainter, plot: QRectF, colour: QColor) -> None:
        if self._freqs is None or len(self._freqs) < 2:
            return
        painter.setPen(colour)
        for hz, y in self.freq_labels(plot, painter.fontMetrics().height()):
            label = f"{hz // 1000}k" if hz >= 1000 else str(hz)
            painter.drawLine(QPointF(plot.left() - 4, y), QPointF(plot.left(), y))
            painter.drawText(QRectF(0, y - 8, LEFT - 7, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        painter.save()
        painter.translate(9, plot.center().y())
        painter.rotate(-90)
        painter.drawText(QRectF(-30, -8, 60, 16), Qt.AlignmentFlag.AlignCenter, "Hz")
        painter.restore()

    def _draw_time_axis(self, painter: QPainter, plot: QRectF, colour: QColor) -> None:
        start, end = self._view
        step = nice_step(end - start, plot.width())
        painter.setPen(colour)
        tick = np.ceil(start / step) * step
        y = plot.bottom()
        while tick <= end + 1e-9:
            x = self._x_of(tick, plot)
            painter.drawLine(QPointF(x, y), QPointF(x, y + 4))
            painter.drawText(QRectF(x - 40, y + 3, 80, TIME_AXIS - 3), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                             format_time(tick, step))
            tick += step

    def _draw_timeline(self, painter: QPainter, plot: QRectF, colour: QColor) -> None:
        top = plot.bottom() + TIME_AXIS + 2
        lane = QRectF(plot.left(), top, plot.width(), TIMELINE - 2)
        if not self._segments:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(lane, Qt.AlignmentFlag.AlignCenter, "segment genres appear here after analysis")
            return
        painter.save()
        painter.setClipRect(lane)
        for seg in self._segments:
            if seg.top is None:
                continue
            genre, prob = seg.top
            x0, x1 = self._x_of(float(seg.start), plot), self._x_of(float(seg.end), plot)
            box = QRectF(x0, lane.top(), max(1.0, x1 - x0 - 1), lane.height())
            fill = genre_colour(genre)
            painter.fillRect(box, fill)
            painter.setPen(QColor("#ffffff") if fill.lightness() < 150 else QColor("#111111"))
            label = f"{genre} {prob:.0%}"
            if painter.fontMetrics().horizontalAdvance(label) > box.width() - 4:
                label = genre
            if painter.fontMetrics().horizontalAdvance(label) <= box.width() - 4:
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
        painter.restore()

    # -- interaction -----------------------------------------------------------------------------
    def _in_timeline(self, y: float) -> bool:
        return y > self._plot_rect().bottom() + TIME_AXIS

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._duration > 0:
            plot = self._plot_rect()
            x = event.position().x()
            if plot.left() <= x <= plot.right():
                self.seekRequested.emit(min(self._duration, max(0.0, self._time_at(x, plot))))
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if self._view != self._full_view():
            self.zoom_out()
            return
        index = self.segment_at(event.position().x()) if self._in_timeline(event.position().y()) else None
        if index is not None:
            self.zoom_to_segment(index)

    def wheelEvent(self, event) -> None:
        if not (event.modifiers() & Qt.KeyboardModifier.ControlModifier) or self._duration <= 0:
            return super().wheelEvent(event)
        plot = self._plot_rect()
        centre = self._time_at(event.position().x(), plot)
        start, end = self._view
        factor = 0.8 if event.angleDelta().y() > 0 else 1.25
        span = min(self._duration, max(1.0, (end - start) * factor))
        new_start = min(max(0.0, centre - (centre - start) * span / (end - start)), self._duration - span)
        self.zoom_to(new_start, new_start + span)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.zoom_out()
            return
        super().keyPressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        index = self.segment_at(event.position().x()) if self._in_timeline(event.position().y()) else None
        if index is None:
            self.setToolTip("")
        else:
            seg = self._segments[index]
            top = sorted(seg.genres.items(), key=lambda kv: -kv[1])[:3]
            lines = [f"{format_time(seg.start)}–{format_time(seg.end)}"] + [f"{g}: {p:.0%}" for g, p in top]
            self.setToolTip("\n".join(lines) + "\n(double-click to zoom)")
        super().mouseMoveEvent(event)
