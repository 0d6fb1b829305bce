"""A line edit for typing a genre, with completion from the genres already known.

Enter submits (the highlighted completion if the popup shows one, else the typed text) whether the
key reaches the field directly or through the completer's popup, which forwards every key to the
field before its own handling; Escape closes the popup first, then gives up. The field takes focus
only by a click or when told to (``ClickFocus``): Qt must never move the keyboard into it on its own
(a disabled neighbour, Tab from the queue), or the queue's hotkeys would be typed into it.
"""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget


class GenreInput(QLineEdit):
    submitted = Signal(str)  # Enter: the genre to apply (stripped, may be empty)
    cancelled = Signal()  # Escape with no popup open: the user gives up typing

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setClearButtonEnabled(True)
        self._names = QStringListModel(self)
        completer = QCompleter(self._names, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setCompleter(completer)

    def set_known(self, names: list[str]) -> None:
        self._names.setStringList(sorted(set(names), key=str.casefold))

    def add_known(self, name: str) -> None:
        names = self._names.stringList()
        if name not in names:
            self.set_known(names + [name])

    def known(self) -> list[str]:
        return self._names.stringList()

    def popup_visible(self) -> bool:
        popup = self.completer().popup()
        return popup is not None and popup.isVisible()

    def highlighted(self) -> str | None:
        """The completion highlighted in the open popup, if any."""
        if not self.popup_visible():
            return None
        index = self.completer().popup().currentIndex()
        return str(index.data(self.completer().completionRole())) if index.isValid() else None

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            text = self.highlighted() or self.text()
            self.completer().popup().hide()
            self.clear()
            event.accept()  # the completer (and the queue behind) must not act on this Enter again
            self.submitted.emit(text.strip())
            return
        if key == Qt.Key.Key_Escape and not self.popup_visible():
            self.clear()
            event.accept()
            self.cancelled.emit()
            return
        super().keyPressEvent(event)
