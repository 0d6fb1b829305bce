"""The wizard's comparison page: summary, per-genre precision/recall, the confusion heat map, export.

Split from ``training_wizard.py`` to keep modules small; the figures come from ``training.report``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from genre_desktop.training.evaluate import OTHER, ModelScores
from genre_desktop.training.report import heat_colour
from genre_desktop.ui.wizard_tables import cell as _cell
from genre_desktop.ui.wizard_tables import table as _table


class HeatMap(QWidget):
    """A confusion matrix drawn as a heat map: rows true genres, columns predictions (+ other)."""

    CELL = 30  # at most; cells shrink (to MIN_CELL) so that ten or more genres fit without scrolling
    MIN_CELL = 14

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.confusion: list[list[int]] = []
        self.setMinimumHeight(120)

    def set_matrix(self, labels: list[str], confusion: list[list[int]]) -> None:
        self.labels, self.confusion = list(labels), [list(r) for r in confusion]
        self.updateGeometry()
        self.update()

    def _margin(self) -> int:
        fm = self.fontMetrics()
        return max([fm.horizontalAdvance(g) for g in self.labels + [OTHER]] + [40]) + 10

    def cell_size(self) -> float:
        n = len(self.labels)
        if not n:
            return float(self.CELL)
        m = self._margin()
        fit = min((self.width() - m - 10) / (n + 1), (self.height() - m - 10) / n)
        return float(max(self.MIN_CELL, min(self.CELL, int(fit))))

    def grid_rect(self) -> QRectF:
        """Where the cells are drawn (the labels are above and to the left)."""
        m, c, n = self._margin(), self.cell_size(), len(self.labels)
        return QRectF(m, m, (n + 1) * c, n * c)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        m, n = self._margin(), len(self.labels)
        return QSize(m + (n + 1) * self.MIN_CELL + 10, max(120, m + n * self.MIN_CELL + 10))

    def sizeHint(self) -> QSize:
        m = self._margin()
        n = len(self.labels)
        return QSize(m + (n + 1) * self.CELL + 10, m + n * self.CELL + 10)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if not self.labels:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        m, c = self._margin(), self.cell_size()
        cols = self.labels + [OTHER]
        text = self.palette().windowText().color()
        label_font = p.font()
        count_font = p.font()
        if c < 24:  # small cells: smaller figures, so that "12" still fits
            count_font.setPointSizeF(max(6.0, count_font.pointSizeF() * c / 26))
        for i, row in enumerate(self.confusion):
            total = sum(row) or 1
            p.setPen(text)
            p.setFont(label_font)
            p.drawText(QRectF(0, m + i * c, m - 6, c), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       self.labels[i])
            p.setFont(count_font)
            for j, count in enumerate(row):
                share = count / total
                rect = QRectF(m + j * c, m + i * c, c - 1, c - 1)
                p.fillRect(rect, QColor(heat_colour(share)))
                if i == j:
                    p.setPen(QColor("#444"))
                    p.drawRect(rect)
                p.setPen(QColor("#fff") if share > 0.55 else QColor("#000"))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
        p.setPen(text)
        p.setFont(label_font)
        for j, label in enumerate(cols):  # column labels, rotated, above the grid
            p.save()
            p.translate(m + j * c + c / 2 + 4, m - 6)
            p.rotate(-60)
            p.drawText(0, 0, label)
            p.restore()
        p.end()


class ReportPage(QWizardPage):
    """Summary, per-genre table and the confusion heat map; export."""

    def __init__(self) -> None:
        super().__init__()
        self.result = None  # the TrainResult shown; set by the wizard (this page never imports it)
        self.setTitle("Comparison on held-out artists")
        self.summary = _table(["model", "accuracy", "macro F1", "on genres it knows", "genres it knows"])
        self.per_genre = _table(["genre", "tracks"])
        self.which = QComboBox()
        # Its longest entry must not decide the width of the column (the per-genre table needs it).
        self.which.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.which.setMinimumContentsLength(24)
        self.which.currentIndexChanged.connect(self._show_matrix)
        self.heat = HeatMap()
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.export_button = QPushButton("Export report…")
        self.export_button.clicked.connect(self._ask_export)
        axes = QLabel("rows: the true genre; columns: the model's answer")
        axes.setObjectName("hint")
        right = QVBoxLayout()
        right.addWidget(self.which)
        right.addWidget(axes)
        right.addWidget(self.heat, 1)
        right.addWidget(self.export_button, 0, Qt.AlignmentFlag.AlignRight)
        row = QHBoxLayout()
        row.addWidget(self.per_genre, 3)  # the table needs its width; the heat map's cells shrink to fit
        row.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(row, 1)
        layout.addWidget(self.notes)

    def set_result(self, result) -> None:
        self.result = result

    def initializePage(self) -> None:  # noqa: N802
        report = self.result.report
        self.setSubTitle(f"{report.heldout} held-out tracks from {report.groups_heldout} artists or albums, never "
                         f"used to fit or choose the new model. Chosen: {report.chosen}; weight of your model in "
                         f"the ensemble {report.weight:.2f}.")
        self.summary.setRowCount(len(report.models))
        for r, m in enumerate(report.models):
            known = "—" if m.accuracy_known is None else f"{m.accuracy_known:.3f}"
            for c, (v, right) in enumerate(((m.name, False), (f"{m.accuracy:.3f}", True), (f"{m.macro_f1:.3f}", True),
                                            (known, True), (f"{len(m.known_genres)} of {len(report.labels)}", True))):
                self.summary.setItem(r, c, _cell(v, right))
        headers = ["genre", "tracks"] + [f"{_short(m)}\nprecision / recall" for m in report.models]
        self.summary.setFixedHeight(self.summary.horizontalHeader().height() + 2 * self.summary.frameWidth() + 2
                                    + sum(self.summary.rowHeight(r) for r in range(len(report.models))))
        self.per_genre.setColumnCount(len(headers))
        self.per_genre.setHorizontalHeaderLabels(headers)
        self.per_genre.setRowCount(len(report.labels))
        for r, g in enumerate(report.labels):
            self.per_genre.setItem(r, 0, _cell(g))
            self.per_genre.setItem(r, 1, _cell(report.models[0].per_genre[g]["support"], True))
            for c, m in enumerate(report.models, 2):
                s = m.per_genre[g]
                self.per_genre.setItem(r, c, _cell(f"{s['precision']:.2f} / {s['recall']:.2f}", True))
        # Genre names in full ("classical", not "cla…"); the figures share the rest.
        self.per_genre.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.per_genre.horizontalHeader().setStretchLastSection(True)
        self.per_genre.resizeColumnsToContents()
        self.which.blockSignals(True)
        self.which.clear()
        self.which.addItems([f"Confusion: {m.name}" for m in report.models])
        self.which.blockSignals(False)
        self._show_matrix(0)
        self.notes.setText(" ".join(report.notes))

    def _show_matrix(self, index: int) -> None:
        if self.result is None or index < 0:
            return
        m: ModelScores = self.result.report.models[index]
        self.heat.set_matrix(m.labels, m.confusion)

    def _ask_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export the report to")
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> list[Path]:
        """Copy report.html, metrics.csv and confusion.csv of the new version into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for name in ("report.html", "metrics.csv", "confusion.csv"):
            out.append(Path(shutil.copy2(Path(self.result.folder) / name, folder / name)))
        return out


def _short(m: ModelScores) -> str:
    """Column title: "new", "new + bundled", "current"."""
    if m.name.startswith("current"):
        return "current"
    return "new + bundled" if "bundled" in m.name else "new"
