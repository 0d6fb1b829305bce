"""The library page: search box, status and content filters, the table over LibraryModel, or the
empty state. The content filter finds what the analysis heard as spoken word (audiobooks,
podcasts, interviews) or no audible audio, for a look before any genre is written.

A view of the library session: ``bind`` connects it to the session's Qt adapter."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.app.review import content_matcher
from genre_desktop.core.status import STATUSES
from genre_desktop.core.track import Track
from genre_desktop.ui.empty_state import EmptyState
from genre_desktop.ui.elide import MiddleElideDelegate
from genre_desktop.ui.library_model import (DEFAULT_HIDDEN, DEFAULT_WIDTHS, FOLDER, HEADERS, STATUS, STATUS_TEXTS,
                                            TITLE, LibraryModel)

# The content filter's choices (keys of ``app.review.CONTENT_FILTERS``; None: everything).
CONTENT_CHOICES = (("All content", None), ("Music", "music"), ("Spoken word", "spoken"),
                   ("No audible audio", "silent"), ("Not music", "not-music"), ("Not told", "unknown"))

TEXT_COLUMNS = (0, 1, 2, 4, 9)  # title, artist, album, genres, folder: they share what the other columns leave
MIN_TEXT_WIDTH = 70


class LibraryView(QStackedWidget):
    """Page 0: the empty state; page 1: the table with its search bar.

    The header's context menu shows or hides columns (Title always stays); ``columnsChanged``
    gives the hidden columns' names, for the settings (``set_hidden_columns`` restores them)."""

    columnsChanged = Signal(list)
    filtered = Signal()  # the visible rows changed (search, status filter): the current row may be gone

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
        self.widths = self._default_widths()
        for col, width in enumerate(self.widths):
            self.table.setColumnWidth(col, width)
        self.table.setItemDelegateForColumn(FOLDER, MiddleElideDelegate(self.table))
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._show_column_menu)
        header.setToolTip("Right-click to show or hide columns")
        self.column_menu: QMenu | None = None
        # Until the librarian resizes a column, the text columns follow the table's width so that
        # Confidence and Status stay in view at any window size (the defaults need 1,060 px).
        self._user_widths = False
        self._fitting = False
        self.set_hidden_columns(DEFAULT_HIDDEN)
        header.sectionResized.connect(self._on_section_resized)
        self.table.viewport().installEventFilter(self)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search title, artist, album, genre, path… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.status_filter = QComboBox()
        self.status_filter.addItem("All statuses", None)
        for status in STATUSES:
            self.status_filter.addItem(status.capitalize(), status)
        self.content_filter = QComboBox()
        for label, key in CONTENT_CHOICES:
            self.content_filter.addItem(label, key)
        self.content_filter.setToolTip("What the analysis heard: music, spoken word (audiobooks, podcasts, "
                                       "interviews) or no audible audio")
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.status_filter)
        bar.addWidget(self.content_filter)
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
        self._content_key: str | None = None
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(150)  # filter after a pause in typing, not on every key
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.status_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.content_filter.currentIndexChanged.connect(lambda _i: self.apply_filter())
        self.model.countsChanged.connect(self.update_counts)
        self.model.modelReset.connect(self.update_counts)
        self.update_counts()
        self.show_page()

    def _default_widths(self) -> list[int]:
        """``DEFAULT_WIDTHS`` with Status as wide as its longest text ("unanalysed · truncated") at
        the table's font, as the item delegate measures it (text and the style's text margins)."""
        widths = list(DEFAULT_WIDTHS)
        style = self.table.style()
        margin = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.table) + 1)
        text = max(self.table.fontMetrics().horizontalAdvance(t) for t in STATUS_TEXTS)
        widths[STATUS] = max(widths[STATUS], text + margin)
        return widths

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport() and not self._user_widths:
            self.fit_columns()
        return super().eventFilter(watched, event)

    # -- columns ---------------------------------------------------------------------------------
    def hidden_columns(self) -> list[str]:
        return [name for col, name in enumerate(HEADERS) if self.table.isColumnHidden(col)]

    def set_hidden_columns(self, names) -> None:
        """Hide the columns named ``names`` (unknown names are ignored; Title is never hidden)."""
        names = set(names or ())
        self._fitting = True  # hiding resizes a section: not the librarian's resizing
        try:
            for col, name in enumerate(HEADERS):
                self.table.setColumnHidden(col, name in names and col != TITLE)
        finally:
            self._fitting = False
        if not self._user_widths:
            self.fit_columns()

    def build_column_menu(self) -> QMenu:
        """One checkable entry per column; toggling one shows or hides it at once."""
        menu = QMenu(self)
        for col, name in enumerate(HEADERS):
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(col))
            action.setEnabled(col != TITLE)  # a row needs something to be recognised by
            action.toggled.connect(lambda on, c=col: self._set_column_shown(c, on))
        return menu

    def _show_column_menu(self, pos: QPoint) -> None:
        self.column_menu = self.build_column_menu()
        self.column_menu.popup(self.table.horizontalHeader().mapToGlobal(pos))

    def _set_column_shown(self, column: int, shown: bool) -> None:
        self._fitting = True  # showing or hiding resizes a section: not the librarian's resizing
        try:
            self.table.setColumnHidden(column, not shown)
            if shown and self.table.columnWidth(column) < 20:
                self.table.setColumnWidth(column, self.widths[column])
        finally:
            self._fitting = False
        if not self._user_widths:
            self.fit_columns()
        self.columnsChanged.emit(self.hidden_columns())

    def _on_section_resized(self, section: int, _old: int, _new: int) -> None:
        last = max((c for c in range(len(DEFAULT_WIDTHS)) if not self.table.isColumnHidden(c)), default=-1)
        if not self._fitting and section != last:  # the last shown one stretches by itself
            self._user_widths = True

    def fit_columns(self) -> None:
        """Scale the text columns so that every column fits the visible width (none below a minimum)."""
        width = self.table.viewport().width()
        if width <= 0:
            return
        shown = [c for c in range(len(DEFAULT_WIDTHS)) if not self.table.isColumnHidden(c)]
        texts = [c for c in TEXT_COLUMNS if c in shown]
        fixed = sum(self.widths[c] for c in shown if c not in TEXT_COLUMNS)
        text = sum(self.widths[c] for c in texts) or 1
        scale = min(1.6, max(0.0, (width - fixed) / text))
        self._fitting = True
        try:
            for c in texts:
                self.table.setColumnWidth(c, max(MIN_TEXT_WIDTH, int(self.widths[c] * scale)))
        finally:
            self._fitting = False

    def bind(self, signals) -> None:
        """Show the library session (its Qt adapter, ``jobs.session_signals.SessionSignals``)."""
        signals.reset.connect(self.set_tracks)
        signals.changed.connect(self.update_tracks)
        signals.removed.connect(lambda paths: (self.model.remove_paths(paths), self.show_page()))

    def update_tracks(self, tracks: list[Track]) -> None:
        """Tracks changed or added: their rows repaint, the selection and scroll stay put."""
        self.model.update_tracks(tracks)
        self.show_page()

    def set_tracks(self, tracks: list[Track]) -> None:
        self.model.set_tracks(tracks)
        self.apply_filter()
        self.show_page()

    def show_page(self) -> None:
        self.setCurrentIndex(1 if self.model.total_count() else 0)

    def apply_filter(self) -> None:
        self.model.set_status_filter(self.status_filter.currentData())
        key = self.content_filter.currentData()
        if key != self._content_key:
            self._content_key = key
            self.model.set_content_filter(content_matcher(key) if key else None)
        self.model.set_search(self.search.text())
        if self.current_path is not None and self.model.row_of(self.current_path) is not None:
            self.select_path(self.current_path)
        self.filtered.emit()

    def update_counts(self) -> None:
        total, shown = self.model.total_count(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,}" if shown != total else f"{total:,} track{'' if total == 1 else 's'}")

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
