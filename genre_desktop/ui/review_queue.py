"""The review queue: go through predictions fast, from the keyboard.

Keys (when the queue has focus): A or Enter accept the predicted genre; 1-9 pick the n-th genre of
the list (most likely first); E or / type a new genre (Enter applies, Escape returns); S skip;
Ctrl+Z undo the last decision (a bulk accept is one decision); Up/Down move in the queue.

Decisions are emitted as ``decided([(path, {"chosen": [...], "status": ...}), ...])``; the main
window applies them to the table and saves them through the serial writer. The queue itself only
holds references to the same Track objects the library model shows.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.app.review import ReviewRules, decision, in_queue
from genre_desktop.core.status import ACCEPTED, CORRECTED
from genre_desktop.core.track import Track
from genre_desktop.ui.genre_input import GenreInput
from genre_desktop.ui.library_model import display_title


def disagrees(track: Track, spell: Callable[[str], str]) -> bool:
    """The file has a genre tag and the predicted genre is not among it (see ``ReviewRules``)."""
    return ReviewRules(spell).disagrees(track)


class QueueModel(QAbstractTableModel):
    HEADERS = ("Title", "Artist", "In file", "Predicted", "Conf.")

    def __init__(self, spell: Callable[[str], str], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Track] = []
        self._spell = spell

    def set_rows(self, rows: list[Track]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def remove_paths(self, paths: set[str]) -> None:
        self.beginResetModel()
        self.rows = [t for t in self.rows if t.path not in paths]
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        track = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            col = index.column()
            if col == 0:
                return display_title(track)
            if col == 1:
                return track.artist
            if col == 2:
                return ", ".join(track.genres)
            if col == 3:
                return self._spell(track.predicted_genre or "")
            return f"{track.confidence:.0%}" if track.confidence is not None else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return track.path
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ReviewQueue(QWidget):
    decided = Signal(object)  # list[tuple[str, dict]]: (path, fields to set)
    currentTrackChanged = Signal(str)  # the path of the track the card shows, "" when none
    thresholdChanged = Signal(float)

    def __init__(self, spell: Callable[[str], str] = lambda g: g, threshold: float = 0.8, parent: QWidget | None = None,
                 rules: ReviewRules | None = None) -> None:
        super().__init__(parent)
        self._spell = spell
        self.rules = rules or ReviewRules(spell)
        self._all: list[Track] = []
        self._undo: list[list[tuple[str, list[str] | None, str, str]]] = []  # (path, old chosen, old status, new status)
        self._session = {ACCEPTED: 0, CORRECTED: 0}
        self._choices: list[str] = []
        self._current: Track | None = None
        self._typing_for: str | None = None  # path of the track shown when the librarian began typing
        self._announced = ""  # the path last sent by currentTrackChanged

        # --- top bar: order, filter, bulk accept
        self.order = QComboBox()
        self.order.addItems(["Most confident first", "Least confident first"])
        self.order.setToolTip("Order of the queue")
        self.only_disagreeing = QCheckBox("Only where the prediction disagrees with the file's genre")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0.0, 100.0)
        self.threshold.setDecimals(0)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(round(threshold * 100))
        self.threshold.setToolTip("Bulk accept takes every queued prediction at or above this confidence")
        self.bulk_button = QPushButton("Accept all ≥ threshold")
        top = QHBoxLayout()
        top.addWidget(self.order)
        top.addWidget(self.only_disagreeing)
        top.addStretch(1)
        top.addWidget(QLabel("Bulk accept at"))
        top.addWidget(self.threshold)
        top.addWidget(self.bulk_button)

        # --- queue table
        self.model = QueueModel(spell, self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 130), (2, 90), (3, 90), (4, 56)):
            header.resizeSection(col, width)

        # --- the card for the current item
        card = QWidget()
        card_layout = QVBoxLayout(card)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.choices = QListWidget()
        self.choices.setToolTip("Press 1-9, or double-click / Enter on a genre to pick it")
        self.new_genre = GenreInput()
        self.new_genre.setPlaceholderText("New genre… (E), Enter to apply")
        buttons = QHBoxLayout()
        self.accept_button = QPushButton("Accept (A)")
        self.skip_button = QPushButton("Skip (S)")
        self.undo_button = QPushButton("Undo (Ctrl+Z)")
        for b in (self.accept_button, self.skip_button, self.undo_button):
            buttons.addWidget(b)
        self.keys_help = QLabel("A / Enter accept · 1–9 pick · E type a genre · S skip · Ctrl+Z undo · ↑↓ move")
        self.keys_help.setWordWrap(True)
        self.keys_help.setForegroundRole(self.keys_help.foregroundRole())
        for w in (self.title, self.details, QLabel("Pick a genre:"), self.choices, self.new_genre):
            card_layout.addWidget(w)
        card_layout.addLayout(buttons)
        card_layout.addWidget(self.keys_help)

        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(card)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.counts = QLabel()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.counts)

        # --- wiring
        self.order.currentIndexChanged.connect(lambda _: self.refresh())
        self.only_disagreeing.toggled.connect(lambda _: self.refresh())
        self.threshold.valueChanged.connect(lambda v: (self.thresholdChanged.emit(v / 100.0), self._update_counts()))
        self.bulk_button.clicked.connect(self.bulk_accept)
        self.accept_button.clicked.connect(self.accept_current)
        self.skip_button.clicked.connect(self.skip)
        self.undo_button.clicked.connect(self.undo)
        self.choices.itemActivated.connect(lambda item: self.pick(self.choices.row(item)))
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        undo = QShortcut(QKeySequence.StandardKey.Undo, self)
        undo.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        undo.activated.connect(self.undo)
        self.new_genre.textEdited.connect(self._begin_typing)
        self.new_genre.submitted.connect(self._apply_new_genre)
        self.new_genre.cancelled.connect(self._stop_typing)
        for widget in (self.table, self.choices):
            widget.installEventFilter(self)
        self._show_current()

    # -- content ---------------------------------------------------------------------------------
    def set_tracks(self, tracks: list[Track], known_genres: list[str] | None = None) -> None:
        """All library tracks; the queue takes the predicted, not yet reviewed ones."""
        self._all = tracks
        self.new_genre.set_known(self.rules.known_genres(tracks, known_genres or []))
        self.refresh()

    def refresh(self) -> None:
        keep = self._current.path if self._current else None
        rows = self.rules.queue(self._all, only_disagreeing=self.only_disagreeing.isChecked(),
                                most_confident_first=self.order.currentIndex() == 0)
        self.model.set_rows(rows)
        row = next((i for i, t in enumerate(rows) if t.path == keep), 0)
        self._select(row)
        self._update_counts()

    def queued(self) -> list[Track]:
        return list(self.model.rows)

    def current(self) -> Track | None:
        return self._current

    def _select(self, row: int) -> None:
        if not self.model.rows:
            self._on_current_row(QModelIndex())
            return
        row = max(0, min(row, len(self.model.rows) - 1))
        index = self.model.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, self.table.selectionModel().SelectionFlag.ClearAndSelect | self.table.selectionModel().SelectionFlag.Rows)
        self.table.scrollTo(index)
        self._on_current_row(index)

    def _on_current_row(self, index: QModelIndex, _previous: QModelIndex | None = None) -> None:
        track = self.model.rows[index.row()] if index.isValid() and index.row() < len(self.model.rows) else None
        if (track.path if track else None) != (self._current.path if self._current else None):
            self._stop_typing(keep_focus=True)  # what was typed belongs to the track no longer shown
        self._current = track
        self._show_current()
        # Announced by path, whatever set _current before (undo does): the window's details must
        # follow every change of the card, also to "nothing left to review".
        path = track.path if track is not None else ""
        if path != self._announced:
            self._announced = path
            self.currentTrackChanged.emit(path)

    def _show_current(self) -> None:
        track = self._current
        self.choices.clear()
        self._choices = []
        enabled = track is not None
        for w in (self.accept_button, self.skip_button, self.choices, self.new_genre):
            w.setEnabled(enabled)
        self.undo_button.setEnabled(bool(self._undo))
        if track is None:
            self.title.setText("Nothing to review")
            self.details.setText("Analysed tracks appear here, most confident first. Analyse the library with "
                                 "Ctrl+R; accepted and corrected tracks leave the queue and can be written "
                                 "to the files with Ctrl+T.")
            return
        self.title.setText(display_title(track))
        existing = ", ".join(track.genres) or "no genre tag"
        who = " – ".join(p for p in (track.artist, track.album) if p)
        note = " (disagrees)" if self.rules.disagrees(track) else ""
        self.details.setText(f"{who}\nIn file: {existing}{note}" if who else f"In file: {existing}{note}")
        for i, (genre, probability) in enumerate(track.prediction.genres):
            self._choices.append(genre)
            spelled = self._spell(genre)
            key = f"{i + 1}" if i < 9 else "  "
            item = QListWidgetItem(f"{key}   {spelled}   {float(probability):.0%}")
            self.choices.addItem(item)
        self.choices.setCurrentRow(0)

    def _update_counts(self) -> None:
        queued = sum(1 for t in self._all if in_queue(t))
        shown = len(self.model.rows)
        above = len(self.rules.above(self.model.rows, self.threshold.value() / 100.0))
        self.bulk_button.setText(f"Accept {above} ≥ threshold")
        self.bulk_button.setEnabled(above > 0)
        filtered = f" · {shown} shown by the filter" if shown != queued else ""
        self.counts.setText(f"{queued} to review{filtered} · this session: {self._session[ACCEPTED]} accepted, "
                            f"{self._session[CORRECTED]} corrected")

    # -- decisions ---------------------------------------------------------------------------------
    def _decide(self, decisions: list[tuple[Track, list[str], str]]) -> None:
        if not decisions:
            return
        row = self.table.currentIndex().row()
        self._undo.append([(t.path, list(t.chosen) if t.chosen else None, t.status, status) for t, _, status in decisions])
        for _, _, status in decisions:
            self._session[status] += 1
        self.decided.emit([(t.path, decision(chosen, status)) for t, chosen, status in decisions])
        # The main window has updated the Track objects by now (direct connection); the model keeps
        # the rows until refreshed, so drop the decided ones and stay at the same row (= the next item).
        self.model.remove_paths({t.path for t, _, _ in decisions})
        self._current = None
        self._select(row if row >= 0 else 0)
        self._update_counts()

    def accept_current(self) -> None:
        track = self._current
        if track is not None and track.predicted_genre:
            self._decide([(track, [track.predicted_genre], ACCEPTED)])

    def pick(self, index: int) -> None:
        """Pick the index-th genre of the list (0 = the predicted one, which counts as accepting)."""
        track = self._current
        if track is None or not (0 <= index < len(self._choices)):
            return
        genre = self._choices[index]
        self._decide([(track, [genre], self.rules.status_for(track, genre))])

    def choose_new(self, genre: str) -> None:
        genre = genre.strip()
        track = self._current
        if track is None or not genre:
            return
        self._decide([(track, [genre], self.rules.status_for(track, genre))])
        self.new_genre.add_known(genre)

    def start_typing(self) -> None:
        """E or /: the field takes the keyboard for the track shown now (any leftover text selected)."""
        if self._current is None:
            return
        self._typing_for = self._current.path
        self.new_genre.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.new_genre.selectAll()

    def _begin_typing(self, _text: str) -> None:
        if self._typing_for is None and self._current is not None:
            self._typing_for = self._current.path  # typing began after a click into the field

    def _stop_typing(self, keep_focus: bool = False) -> None:
        self._typing_for = None
        self.new_genre.clear()
        if not keep_focus and self.new_genre.hasFocus():
            self.table.setFocus()

    def _apply_new_genre(self, text: str) -> None:
        """Enter in the field: the genre goes to the track it was typed for, the queue gets the keyboard."""
        target = self._typing_for
        self._stop_typing()
        self.table.setFocus()
        if self._current is not None and target in (None, self._current.path):
            self.choose_new(text)

    def skip(self) -> None:
        row = self.table.currentIndex().row()
        if row + 1 < len(self.model.rows):
            self._select(row + 1)

    def bulk_accept(self) -> int:
        chosen = self.rules.bulk_accept(self.model.rows, self.threshold.value() / 100.0)
        self._decide(chosen)
        return len(chosen)

    def undo(self) -> None:
        if not self._undo:
            return
        entry = self._undo.pop()
        for _, _, _, new_status in entry:
            self._session[new_status] -= 1
        self.decided.emit([(path, decision(chosen, status)) for path, chosen, status, _ in entry])
        first = entry[0][0]
        self._current = next((t for t in self._all if t.path == first), None)
        self.refresh()
        self.undo_button.setEnabled(bool(self._undo))

    # -- keyboard ----------------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            if self._handle_key(event, watched):
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:
        if not self._handle_key(event, self):
            super().keyPressEvent(event)

    def _handle_key(self, event, source: QObject) -> bool:
        key = event.key()
        mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return False
        if self.new_genre.hasFocus():
            return False  # a key the genre field passed on: nothing may act on the queue while typing
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if source is self.choices and self.choices.currentRow() > 0:
                self.pick(self.choices.currentRow())
            else:
                self.accept_current()
            return True
        if key == Qt.Key.Key_A:
            self.accept_current()
            return True
        if key == Qt.Key.Key_S:
            self.skip()
            return True
        if key in (Qt.Key.Key_E, Qt.Key.Key_Slash):
            self.start_typing()
            return True
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self.pick(key - Qt.Key.Key_1)
            return True
        return False
