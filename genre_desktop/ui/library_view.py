"""The library page: search box, status filter, the table over LibraryModel, or the empty state."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.library.track import STATUSES, Track
from genre_desktop.ui.empty_state import EmptyState
from genre_desktop.ui.library_model import DEFAULT_WIDTHS, LibraryModel


class LibraryView(QStackedWidget):
    """Page 0: the empty state; page 1: the table with its search bar."""

    def __init__(self, spell: Callable[[str], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = LibraryModel(self, spell)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSortIndicatorShown(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setDefaultSectionSize(self.fontMetrics().height() + 6)  # fixed heights: no per-row measuring
        for col, width in enumerate(DEFAULT_WIDTHS):
            self.table.setColumnWidth(col, width)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search title, artist, album, genre, path… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in STATUSES:
            self.status_filter.addItem(status.capitalize(), status)
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.count_label)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self.empty = EmptyState()
        self.addWidget(self.empty)
        self.addWidget(page)
        self.current_path: str | None = None  # kept selected across filtering and reloads
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)  # filter after a pause in typing, not on every key
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.model.countsChanged.connect(self.update_counts)
        self.model.modelReset.connect(self.update_counts)
        self.update_counts()
        self.show_page()

    def set_tracks(self, tracks: list[Track]) -> None:
        self.model.set_tracks(tracks)
        self.apply_filter()
        self.show_page()

    def show_page(self) -> None:
        self.setCurrentIndex(1 if self.model.total_count() else 0)

    def apply_filter(self) -> None:
        self.model.set_status_filter(self.status_filter.currentData())
        self.model.set_search(self.search.text())
        if self.current_path is not None and self.model.row_of(self.current_path) is not None:
            self.select_path(self.current_path)

    def update_counts(self) -> None:
        total, shown = self.model.total_count(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,}" if shown != total else f"{total:,} tracks")

    def select_path(self, path: str, scroll: bool = True) -> bool:
        row = self.model.row_of(path)
        if row is None:
            return False
        index = self.model.index(row, 0)
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().setCurrentIndex(index, flags)
        if scroll:
            self.table.scrollTo(index)
        return True

    def selected_tracks(self) -> list[Track]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [t for t in (self.model.track(r) for r in rows) if t is not None]
