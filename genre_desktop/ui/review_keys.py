"""The review queue's keys (when the queue has focus): A or Enter accept the predicted genre (Enter
on the n-th genre of the list picks it); 1-9 pick the n-th genre; E or / type a new genre; S skip.
Nothing acts on the queue while the genre field has the keyboard."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt


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
    if key in (Qt.Key.Key_E, Qt.Key.Key_Slash):
        queue.start_typing()
        return True
    if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
        queue.pick(key - Qt.Key.Key_1)
        return True
    return False
