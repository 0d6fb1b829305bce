"""Why the model thinks what it thinks: top genres as bars, each model's vote, music-tag scores."""

from __future__ import annotations

from typing import Callable, Iterable

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
from genre_desktop.training.member_roles import MemberRole
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
        self._roles: dict[str, MemberRole] = {}
        self.models_table = self._members_table(["Model", "Vote", "Prob.", "Weight"])
        self.models_table.setColumnHidden(3, True)  # until the roles are known (set_member_roles)
        self.shown_heading = _heading("Shown, not voting")
        self.shown_heading.setToolTip("Members of the bundle whose fitted weight is 0: their votes would not "
                                      "improve the ensemble's. Shown to compare, with their accuracy on the valid split.")
        self.shown_table = self._members_table(["Model", "Vote", "Prob.", "Valid"])
        self.shown_note = QLabel()
        self.shown_note.setWordWrap(True)
        self.shown_note.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.tags_heading = _heading("Music tags")
        self.tag_bars = ProbabilityBars(coloured=False)
        self.version = QLabel()
        self.version.setWordWrap(True)
        self.version.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        for widget in (_heading("Predicted genres"), self.summary, self.note, self.genre_bars, self.models_heading,
                       self.models_table, self.shown_heading, self.shown_table, self.shown_note, self.tags_heading,
                       self.tag_bars, self.version):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.set_prediction(None)

    def _members_table(self, headers: list[str]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.verticalHeader().hide()
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(headers)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        return table

    def set_member_roles(self, roles: Iterable[MemberRole]) -> None:
        """Which members vote and with what weight (``training.member_roles``); the votes are shown
        by role from the next prediction on."""
        self._roles = {r.name: r for r in roles}
        self.models_heading.setText("Each model's vote" if not self._roles else "Voting members")
        self.models_table.setHorizontalHeaderLabels(["Model", "Vote", "Prob.", "Weight"])
        self.models_table.setColumnHidden(3, not self._roles)

    def _absent(self, models: dict) -> list[MemberRole]:
        """Members shown but not voting that gave nothing for this prediction."""
        return [r for r in self._roles.values() if not r.votes and r.name not in models]

    def _fill(self, table: QTableWidget, models: dict, ensemble_top: str | None, last: str) -> None:
        """One row per member: name, its top genre (≠ where the ensemble says otherwise), its
        probability, then its weight (voters) or its valid figure (members shown, not voting)."""
        rows = sorted(models.items(), key=lambda kv: (-(self._roles[kv[0]].weight if kv[0] in self._roles else -1.0), kv[0]))
        table.setRowCount(len(rows))
        for row, (name, probs) in enumerate(rows):
            vote, prob = max(probs.items(), key=lambda kv: kv[1]) if probs else ("", 0.0)
            role = self._roles.get(name)
            if role is None:
                tail, tip = ("" if not self._roles else "mix"), name
            elif last == "weight":
                tail, tip = f"{role.weight:.0%}", f"{role.role_text()}; {role.valid_text()} ({role.valid_what})"
            else:
                tail, tip = (f"{role.valid_accuracy:.0%}" if role.valid_accuracy is not None else "—",
                             f"{role.role_text()}; {role.valid_text()} ({role.valid_what})")
            cells = [QTableWidgetItem(name), QTableWidgetItem(vote + ("" if vote == ensemble_top else "  ≠")),
                     QTableWidgetItem(f"{prob:.0%}"), QTableWidgetItem(tail)]
            cells[0].setToolTip(tip if role is not None else ("your trained model, mixed in by its own weight"
                                                               if name.startswith("user:") else name))
            cells[1].setForeground(genre_colour(vote))
            cells[1].setToolTip("agrees with the ensemble" if vote == ensemble_top else "disagrees with the ensemble")
            for cell in cells[2:]:
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for col, cell in enumerate(cells):
                table.setItem(row, col, cell)
        table.setFixedHeight(table.horizontalHeader().height() + 4 + sum(table.rowHeight(r) for r in range(len(rows))))

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
        self.note.setText(note_text(note, has))
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
        ensemble_top = genres[0][0] if genres else None
        roles = self._roles
        voting = {n: p for n, p in models.items() if n not in roles or roles[n].votes}
        shown = {n: p for n, p in models.items() if n in roles and not roles[n].votes}
        self._fill(self.models_table, voting, ensemble_top, "weight")
        self._fill(self.shown_table, shown, ensemble_top, "valid")
        self.models_heading.setVisible(bool(voting))
        self.models_table.setVisible(bool(voting))
        self.shown_heading.setVisible(bool(models) and bool(shown or self._absent(models)))
        self.shown_table.setVisible(bool(shown))
        absent = self._absent(models)
        self.shown_note.setText(("Also in the bundle, not run: " if shown else "")
                                + ", ".join(f"{r.name} ({r.valid_text()})" for r in absent) if absent else "")
        self.shown_note.setVisible(bool(models) and bool(absent))
        tags = sorted((prediction.tags if prediction is not None else {}).items(), key=lambda kv: -kv[1])[:8]
        self.tag_bars.set_items([(t, float(s)) for t, s in tags])
        self.tags_heading.setVisible(bool(tags))
        self.tag_bars.setVisible(bool(tags))
        version = prediction.model_version if prediction is not None else ""
        segments = len(prediction.segments) if prediction is not None else 0
        self.version.setText(f"Model {version}" + (f" · {segments} segments" if segments else "") if version else "")
        self.version.setVisible(bool(version))


def note_text(note: str | None, predicted: bool) -> str:
    """A file's problem as the details panel and the review card show it ("⚠ truncated MP3: ...");
    a truncated file that has a prediction says what the prediction is of. "" for no note."""
    if not note:
        return ""
    if not (predicted and is_truncated(note)):
        return f"⚠ {note}"
    return f"⚠ {note.rstrip(' .')}. The prediction is of the part the file holds."
