"""The list of files that could not be read, analysed or written, each with its reason."""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.ui.elide import MiddleElideDelegate, relative_path


class ErrorsDialog(QDialog):
    pathActivated = Signal(str)

    def __init__(self, errors: list[tuple[str, str]], parent: QWidget | None = None, root: str | None = None) -> None:
        """``root``: the library folder; files are shown relative to it (the full path in the tooltip)."""
        super().__init__(parent)
        self.setWindowTitle("Problems")
        self.resize(760, 420)
        label = QLabel(f"{len(errors):,} file{'s' if len(errors) != 1 else ''} had a problem. "
                       "Double-click one to select it in the library." if errors else "No problems so far.")
        self.table = QTableWidget(len(errors), 2)
        self.table.setHorizontalHeaderLabels(["File", "Reason"])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setWordWrap(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(0, 300)
        self.table.setItemDelegateForColumn(0, MiddleElideDelegate(self.table))
        for row, (path, reason) in enumerate(errors):
            name = QTableWidgetItem(relative_path(path, root) if os.path.isabs(path) else path)
            name.setToolTip(path)
            name.setData(256, path)
            why = QTableWidgetItem(reason)
            why.setToolTip(reason)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, why)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.pathActivated.emit(self.table.item(row, 0).data(256)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
