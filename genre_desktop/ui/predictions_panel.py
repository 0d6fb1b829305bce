"""Why the model thinks what it thinks: top genres as bars, each model's vote, music-tag scores."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.app.workflow import is_truncated
from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import ERROR
from genre_desktop.core.track import Track
from genre_desktop.ui.theme import genre_colour

WARNING_COLOUR = "#c9302c"  # readable on light and dark backgrounds (the status column's error red is close)


class ProbabilityBars(QWidget):
    """Horizontal bars: label, bar scaled to the probability, percentage."""

    ROW = 20

    def __init__(self, parent: QWidget | None = None, coloured: bool = True) -> None:
        super().__init__(parent)
        self._items: list[tuple[str, float]] = []
        self._coloured = coloured
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_items(self, items: list[tuple[str, float]]) -> None:
        self._items = list(items)
        self.setFixedHeight(max(1, len(self._items)) * self.ROW + 2)
        self.update()

    def items(self) -> list[tuple[str, float]]:
        return list(self._items)

    def sizeHint(self) -> QSize:
        return QSize(240, max(1, len(self._items)) * self.ROW + 2)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        pal = self.palette()
        metrics = painter.fontMetrics()
        label_w = min(max((metrics.horizontalAdvance(n) for n, _ in self._items), default=40) + 8, self.width() // 2)
        pct_w = metrics.horizontalAdvance("100%") + 6
        bar_w = max(10, self.width() - label_w - pct_w)
        for i, (name, prob) in enumerate(self._items):
            y = i * self.ROW
            painter.setPen(pal.color(QPalette.ColorRole.Text))
            elided = metrics.elidedText(name, Qt.TextElideMode.ElideRight, label_w - 6)
            painter.drawText(QRectF(0, y, label_w - 6, self.ROW), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided)
            track = QRectF(label_w, y + 4, bar_w, self.ROW - 8)
            painter.fillRect(track, pal.color(QPalette.ColorRole.AlternateBase))
            colour = genre_colour(name) if self._coloured else pal.color(QPalette.ColorRole.Highlight)
            painter.fillRect(QRectF(track.left(), track.top(), track.width() * max(0.0, min(1.0, prob)), track.height()), colour)
            painter.drawText(QRectF(label_w + bar_w, y, pct_w, self.ROW), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             f"{prob:.0%}")
        painter.end()


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


class PredictionsPanel(QWidget):
    """Shows one Track.prediction."""

    def __init__(self, spell: Callable[[str], str] = lambda g: g, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spell = spell
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.genre_bars = ProbabilityBars()
        self.models_heading = _heading("Each model's vote")
        self.models_table = QTableWidget(0, 3)
        self.models_table.setHorizontalHeaderLabels(["Model", "Vote", "Prob."])
        self.models_table.verticalHeader().hide()
        self.models_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.models_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.models_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.models_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.models_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tags_heading = _heading("Music tags")
        self.tag_bars = ProbabilityBars(coloured=False)
        self.version = QLabel()
        self.version.setWordWrap(True)
        self.version.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        for widget in (_heading("Predicted genres"), self.summary, self.note, self.genre_bars, self.models_heading,
                       self.models_table, self.tags_heading, self.tag_bars, self.version):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.set_prediction(None)

    def show_track(self, track: Track) -> None:
        """``track``'s prediction, with what the library knows about the file: an unreadable file's
        reason (not "not analysed yet"), a truncated file's note beside what its audio predicts."""
        if track.status == ERROR and track.error and not (track.prediction and Prediction.coerce(track.prediction).genres):
            self.set_prediction(None, f"Cannot be analysed: {track.error}")
            return
        self.set_prediction(track.prediction, note=track.error if track.status != ERROR else "")

    def set_prediction(self, prediction: Prediction | None, status_hint: str = "", note: str | None = "") -> None:
        """``note``: a problem of the file shown under the summary ("truncated MP3: ...")."""
        prediction = Prediction.coerce(prediction)  # a stored dict is read through its schema
        has = bool(prediction is not None and prediction.genres)
        error = prediction.error if prediction is not None else None
        self.note.setText(f"⚠ {note}" + (" The prediction is of the part the file holds." if has and is_truncated(note) else "")
                          if note else "")
        self.note.setVisible(bool(note))
        if error:
            self.summary.setText(f"Analysis failed: {error}")
        elif not has:
            self.summary.setText(status_hint or "Not analysed yet. Press Ctrl+R to analyse the library, "
                                 "or Ctrl+Shift+R for the selected tracks.")
        else:
            genre, probability = prediction.top
            self.summary.setText(f"<b>{self._spell(genre)}</b> with {probability:.0%} confidence")
        genres = [(g, float(p)) for i, (g, p) in enumerate(prediction.genres[:5])
                  if float(p) >= 0.01 or i == 0] if has else []
        self.genre_bars.set_items(genres)
        self.genre_bars.setVisible(has)
        models = prediction.models if prediction is not None else {}
        self.models_table.setRowCount(len(models))
        ensemble_top = genres[0][0] if genres else None
        for row, (name, probs) in enumerate(sorted(models.items())):
            vote, prob = max(probs.items(), key=lambda kv: kv[1]) if probs else ("", 0.0)
            cells = [QTableWidgetItem(name), QTableWidgetItem(vote + ("" if vote == ensemble_top else "  ≠")),
                     QTableWidgetItem(f"{prob:.0%}")]
            cells[1].setForeground(genre_colour(vote))
            cells[1].setToolTip("agrees with the ensemble" if vote == ensemble_top else "disagrees with the ensemble")
            cells[2].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, cell in enumerate(cells):
                self.models_table.setItem(row, col, cell)
        self.models_table.setFixedHeight(self.models_table.horizontalHeader().height() + 4
                                         + sum(self.models_table.rowHeight(r) for r in range(len(models))))
        self.models_heading.setVisible(bool(models))
        self.models_table.setVisible(bool(models))
        tags = sorted((prediction.tags if prediction is not None else {}).items(), key=lambda kv: -kv[1])[:8]
        self.tag_bars.set_items([(t, float(s)) for t, s in tags])
        self.tags_heading.setVisible(bool(tags))
        self.tag_bars.setVisible(bool(tags))
        version = prediction.model_version if prediction is not None else ""
        segments = len(prediction.segments) if prediction is not None else 0
        self.version.setText(f"Model {version}" + (f" · {segments} segments" if segments else "") if version else "")
        self.version.setVisible(bool(version))
