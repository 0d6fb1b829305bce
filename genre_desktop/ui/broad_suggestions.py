"""The genre tree's genres the AudioSet network heard in a track, offered as suggestions.

Each row is a broad genre with where it sits in the tree ("House, in Electronic") and its
calibrated probability (``Prediction.broad``, highest first). The librarian takes one as the
track's genre or as its style (sub-genre): double-click or Enter or G for the genre, T for the
style, the buttons, or the right-click menu (which also clears a chosen style). The widget only says what was chosen
(:attr:`BroadSuggestions.chosen`); its owner (the side panel, the review queue's card) turns it
into a decision of the library session, with its undo.

When the analysis heard spoken word or no audible audio, a notice says so above the list: a music
genre is then a guess the librarian should check (a bulk accept never takes one).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from genre_desktop.core.genre import canonical_genre
from genre_desktop.core.prediction import NO_AUDIO, SPOKEN_WORD, BroadGenre, Prediction
from genre_desktop.core.track import Track

GENRE_ROLE = Qt.ItemDataRole.UserRole
# A genre the network gave under 0.5 % (it would read "0%") is not a suggestion: a test tone or a
# track no genre of the tree fits would otherwise offer five genres at "0%".
SHOWN_FROM = 0.005

_NOTICES = {
    SPOKEN_WORD: "Heard spoken word, not music (an audiobook, a podcast, an interview?): "
                 "a music genre may not apply. Bulk accepts leave this track for you.",
    NO_AUDIO: "Heard no audible audio: a genre cannot be told. Bulk accepts leave this track for you.",
}


def where(broad: BroadGenre, spell: Callable[[str], str] = lambda g: g) -> str:
    """"House, in Electronic"; a top-level genre alone ("Rock")."""
    name = spell(broad.genre)
    return f"{name}, in {' › '.join(spell(p) for p in broad.path)}" if broad.path else name


class BroadSuggestions(QWidget):
    """Broad genres of one track as choosable suggestions (see the module docstring)."""

    chosen = Signal(str, bool)  # the genre (as the tree names it; "" with True: no style), True: as the style
    escaped = Signal()  # Escape in the list: its owner takes the keyboard back

    def __init__(self, spell: Callable[[str], str] = lambda g: g, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spell = spell
        self._broad: list[BroadGenre] = []
        self._path: str | None = None
        self._style = ""  # the style chosen for the shown track ("" none)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)  # its rows, no more
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel("Genres heard in the genre tree")
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setForegroundRole(QPalette.ColorRole.Link)
        self.list = QTreeWidget()
        self.list.setColumnCount(2)
        self.list.setHeaderLabels(["Genre", "Prob."])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setToolTip("Double-click, Enter or G: set as the genre · T: set as the style · right-click: menu")
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.as_genre = QPushButton("Set as genre (G)")
        self.as_style = QPushButton("Set as style (T)")
        self.as_genre.setToolTip("The selected genre becomes the track's genre")
        self.as_style.setToolTip("The selected genre goes to the track's style field (STYLE or GROUPING, "
                                 "as the settings say); the genre stays as it is")
        self.buttons = buttons = QHBoxLayout()  # an owner may add its own (the side panel's Undo)
        buttons.addWidget(self.as_genre)
        buttons.addWidget(self.as_style)
        buttons.addStretch(1)
        for w in (self.heading, self.notice, self.list):
            w.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            layout.addWidget(w)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.list.itemActivated.connect(lambda item, _col: self._choose(item, False))
        self.list.customContextMenuRequested.connect(self._menu)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.as_genre.clicked.connect(lambda: self._choose(self.list.currentItem(), False))
        self.as_style.clicked.connect(lambda: self._choose(self.list.currentItem(), True))
        self.list.installEventFilter(self)
        self.set_track(None)

    # -- content -----------------------------------------------------------------------------------
    def set_track(self, track: Track | None) -> None:
        """Show ``track``'s broad genres, marking its chosen genre and style (None: nothing)."""
        current = self.list.currentItem()
        keep = (str(current.data(0, GENRE_ROLE)) if current is not None and track is not None
                and track.path == self._path else None)  # the same track shown again: same row
        self._path = track.path if track is not None else None
        prediction = Prediction.coerce(track.prediction) if track is not None else None
        self._broad = [b for b in (prediction.broad if prediction is not None and not prediction.error else ())
                       if b.probability >= SHOWN_FROM]
        content = prediction.content if prediction is not None else None
        chosen = {canonical_genre(g) for g in (track.chosen or ())} if track is not None else set()
        styles = {canonical_genre(g) for g in (track.chosen_style or ())} if track is not None else set()
        self._style = ", ".join(track.chosen_style or ()) if track is not None else ""
        self.list.clear()
        for broad in self._broad:
            identity = canonical_genre(broad.genre)
            mark = " · your genre" if identity in chosen else " · your style" if identity in styles else ""
            item = QTreeWidgetItem([where(broad, self._spell) + mark, f"{broad.probability:.0%}"])
            item.setData(0, GENRE_ROLE, broad.genre)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(0, " › ".join((*broad.path, broad.genre)))
            if mark:
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
            self.list.addTopLevelItem(item)
        if self._broad:
            row = next((i for i, b in enumerate(self._broad) if b.genre == keep), 0)
            self.list.setCurrentItem(self.list.topLevelItem(row))
        rows = max(1, len(self._broad))
        self.list.setFixedHeight(self.list.header().sizeHint().height() + 6
                                 + rows * (self.list.sizeHintForRow(0) if self._broad else self.fontMetrics().height() + 6))
        self.notice.setText(_NOTICES.get(content, ""))
        self.notice.setVisible(content in _NOTICES)
        self.list.setVisible(bool(self._broad))
        self.heading.setVisible(bool(self._broad) or content in _NOTICES)
        self.setVisible(bool(self._broad) or content in _NOTICES)
        self._update_buttons()

    def genres(self) -> list[str]:
        """The suggested genres, highest first (as the tree names them)."""
        return [b.genre for b in self._broad]

    def _update_buttons(self) -> None:
        has = self.list.currentItem() is not None and bool(self._broad)
        self.as_genre.setEnabled(has)
        self.as_style.setEnabled(has)
        self.as_genre.setVisible(bool(self._broad))
        self.as_style.setVisible(bool(self._broad))

    # -- choosing -----------------------------------------------------------------------------------
    def choose(self, row: int, as_style: bool = False) -> None:
        """Choose the ``row``-th suggestion (0: the most likely) as the genre or the style."""
        self._choose(self.list.topLevelItem(row), as_style)

    def _choose(self, item: QTreeWidgetItem | None, as_style: bool) -> None:
        if item is None:
            return
        self.chosen.emit(str(item.data(0, GENRE_ROLE)), as_style)

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        name = self._spell(str(item.data(0, GENRE_ROLE)))
        menu = QMenu(self)
        menu.addAction(f"Set “{name}” as the genre", lambda: self._choose(item, False))
        menu.addAction(f"Set “{name}” as the style", lambda: self._choose(item, True))
        if self._style:
            menu.addSeparator()
            menu.addAction(f"Clear your style (“{self._style}”)", lambda: self.chosen.emit("", True))
        menu.popup(self.list.viewport().mapToGlobal(pos))
        self.last_menu = menu  # kept for tests and so Python does not drop it while shown

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.list and event.type() == QEvent.Type.KeyPress:
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods == Qt.KeyboardModifier.NoModifier:
                key = event.key()
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_G):
                    self._choose(self.list.currentItem(), False)
                    return True
                if key == Qt.Key.Key_T:
                    self._choose(self.list.currentItem(), True)
                    return True
                if key == Qt.Key.Key_Escape:
                    self.escaped.emit()
                    return True
        return super().eventFilter(watched, event)
