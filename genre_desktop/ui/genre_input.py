"""A line edit for typing a genre, with completion from the genres already known.

Completion offers every known name containing the typed text ("bass" finds "Drum and Bass"), and
the known name of the same genre when the text is another spelling of it ("dnb", "hip hop": the
identity function, by default ``core.canonical_genre``, decides).

Enter submits (the highlighted completion if the popup shows one, else the typed text) whether the
key reaches the field directly or through the completer's popup, which forwards every key to the
field before its own handling; Escape closes the popup first, then gives up. The field takes focus
only by a click or when told to (``ClickFocus``): Qt must never move the keyboard into it on its own
(a disabled neighbour, Tab from the queue), or the queue's hotkeys would be typed into it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from genre_desktop.core.genre import canonical_genre


class _GenreCompleter(QCompleter):
    """Filters by containment; a text that names a known genre by another spelling filters by
    that genre's known name instead."""

    def __init__(self, model: QStringListModel, parent: QWidget) -> None:
        super().__init__(model, parent)
        self.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterMode(Qt.MatchFlag.MatchContains)
        self.identity: Callable[[str], str] = canonical_genre
        self.by_identity: dict[str, str] = {}

    def splitPath(self, path: str) -> list[str]:  # noqa: N802 (Qt's name)
        known = self.by_identity.get(self.identity(path)) if path.strip() else None
        return [known if known is not None and path.casefold() not in known.casefold() else path]


class GenreInput(QLineEdit):
    submitted = Signal(str)  # Enter: the genre to apply (stripped, may be empty)
    cancelled = Signal()  # Escape with no popup open: the user gives up typing

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setClearButtonEnabled(True)
        self._names = QStringListModel(self)
        self._completer = _GenreCompleter(self._names, self)
        self.setCompleter(self._completer)

    def set_known(self, names: list[str], identity: Callable[[str], str] | None = None) -> None:
        """The names to offer; ``identity`` (default ``core.canonical_genre``) tells which genre a
        typed text names."""
        if identity is not None:
            self._completer.identity = identity
        ordered = sorted(set(names), key=str.casefold)
        self._completer.by_identity = {}
        for name in ordered:
            self._completer.by_identity.setdefault(self._completer.identity(name), name)
        self._names.setStringList(ordered)

    def add_known(self, name: str) -> None:
        if self._completer.identity(name) not in self._completer.by_identity:
            self.set_known(self._names.stringList() + [name])

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
