"""The library session's events as Qt signals: the thin adapter between ``app.session`` (Qt-free)
and the window's views (after napari's ``_qt/qt_viewer.py``, which connects model events to Qt).

Each session event becomes the signal of the same name with the event's payload as arguments.
The signals are emitted from whatever thread the session emitted in; Qt's automatic connection
queues them to receivers living in the main thread, so a view's slot always runs there.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class SessionSignals(QObject):
    reset = Signal(list)  # every track (the objects the session holds)
    changed = Signal(list)  # tracks changed or added
    removed = Signal(list)  # paths no longer in the library
    decisions = Signal(bool, dict)  # can undo, decisions of this session by status
    problems = Signal(list)  # (path, reason) pairs added
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
