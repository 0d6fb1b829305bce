"""An editable table of genre spellings: model label -> how it is written into tags."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


class AliasEditor(QWidget):
    changed = Signal()

    def __init__(self, aliases: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Label (model or yours)", "Written in tags as"])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.set_aliases(aliases)
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())

    def set_aliases(self, aliases: dict[str, str]) -> None:
        self.table.blockSignals(True)
        self.table.setRowCount(0)
        for label, spelled in sorted(aliases.items(), key=lambda kv: kv[0].casefold()):
            self._append(label, spelled)
        self.table.blockSignals(False)
        self.changed.emit()

    def _append(self, label: str, spelled: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem(label))
        self.table.setItem(row, 1, QTableWidgetItem(spelled))

    def _add(self) -> None:
        self._append("", "")
        self.table.editItem(self.table.item(self.table.rowCount() - 1, 0))

    def _remove(self) -> None:
        for row in sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.changed.emit()

    def aliases(self) -> dict[str, str]:
        """The map as edited; rows with an empty side are ignored."""
        out: dict[str, str] = {}
        for row in range(self.table.rowCount()):
            label = (self.table.item(row, 0).text() if self.table.item(row, 0) else "").strip()
            spelled = (self.table.item(row, 1).text() if self.table.item(row, 1) else "").strip()
            if label and spelled:
                out[label] = spelled
        return out
