"""The review queue's keys (when the queue has focus): A or Enter accept the predicted genre (Enter
on the n-th genre of the list picks it); 1-9 pick the n-th genre; E or / type a new genre; S skip;
B go to the genre tree's suggestions (whose own keys take one as the genre or the style; Escape
comes back). Nothing acts on the queue while the genre field has the keyboard."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt


def handle_key(queue, event, source: QObject) -> bool:
    """Act on one key pressed in the queue (True: it was the queue's)."""
    key = event.key()
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if mods not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
        return False
    if queue.new_genre.hasFocus():
        return False  # a key the genre field passed on: nothing may act on the queue while typing
    if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        if source is queue.choices and queue.choices.currentRow() > 0:
            queue.pick(queue.choices.currentRow())
        else:
            queue.accept_current()
        return True
    if key == Qt.Key.Key_A:
        queue.accept_current()
        return True
    if key == Qt.Key.Key_S:
        queue.skip()
        return True
    if key == Qt.Key.Key_B:
        if queue.broad.list.isVisibleTo(queue) and queue.broad.list.topLevelItemCount():
            queue.broad.list.setFocus(Qt.FocusReason.ShortcutFocusReason)
        return True
    if key in (Qt.Key.Key_E, Qt.Key.Key_Slash):
        queue.start_typing()
        return True
    if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
        queue.pick(key - Qt.Key.Key_1)
        return True
    return False


class QueueKeys:
    """The review queue's keyboard and typing a new genre (mixed into ``ReviewQueue``, which has
    ``table``, ``new_genre``, ``_current``, ``_typing_for`` and ``choose_new``)."""

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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            if self._handle_key(event, watched):
                return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event) -> None:
        if not self._handle_key(event, self):
            super().keyPressEvent(event)

    def _handle_key(self, event, source: QObject) -> bool:
        return handle_key(self, event, source)
