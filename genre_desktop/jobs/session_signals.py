"""The library session's events as Qt signals: the thin adapter between ``app.session`` (Qt-free)
and the window's views (after napari's ``_qt/qt_viewer.py``, which connects model events to Qt).

Each session event becomes the signal of the same name with the event's payload as arguments.
The signals are emitted from whatever thread the session emitted in; Qt's automatic connection
queues them to receivers living in the main thread, so a view's slot always runs there.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class SessionSignals(QObject):
    # ``object``, not ``list``: PySide converts a list argument element by element (0.2 s for
    # 100,000 tracks per emission); an object travels as the Python list itself.
    reset = Signal(object)  # every track (the objects the session holds): a list
    changed = Signal(object)  # tracks changed or added: a list
    removed = Signal(object)  # paths no longer in the library: a list
    decisions = Signal(bool, object)  # can undo, decisions of this session by status (a dict)
    problems = Signal(object)  # (path, reason) pairs added: a list
    external = Signal(int, int)  # tracks changed, removed by another process
    store_lost = Signal(str)  # why: the store's files were deleted under the open library
    unsaved = Signal()  # the save buffer is no longer empty

    def __init__(self, session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._handlers = {
            "reset": lambda e: self.reset.emit(e.tracks),
            "changed": lambda e: self.changed.emit(e.tracks),
            "removed": lambda e: self.removed.emit(e.paths),
            "decisions": lambda e: self.decisions.emit(e.can_undo, e.counts),
            "problems": lambda e: self.problems.emit(e.added),
            "external": lambda e: self.external.emit(e.changed, e.removed),
            "store_lost": lambda e: self.store_lost.emit(e.message),
            "unsaved": lambda e: self.unsaved.emit(),
        }
        for name, handler in self._handlers.items():
            session.events[name].connect(handler)

    def detach(self) -> None:
        """Stop relaying (before this object goes away while the session lives on)."""
        for name, handler in self._handlers.items():
            self.session.events[name].disconnect(handler)
        self._handlers = {}
