"""Change events of Qt-free models (after napari's ``utils/events``): an emitter per kind of change,
grouped on the model as ``model.events.<name>``. Qt-free.

A model emits ``self.events.changed(tracks=[...])``; every callback connected to that emitter is
called with one :class:`Event` whose attributes are the keyword arguments (``event.tracks``), plus
``event.type`` (the emitter's name) and ``event.source`` (the model). Views subscribe with
``model.events.changed.connect(callback)``; the window's Qt adapter (``jobs/session_signals.py``)
turns them into Qt signals, so a widget never needs to know the model is not a QObject.

Callbacks run synchronously, in the thread that emitted, in the order they were connected. The
model has changed its state before it emits, so a callback always reads the new state.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

Callback = Callable[["Event"], Any]


class Event:
    """One change: ``type`` (the emitter's name), ``source`` (the model) and the payload as attributes."""

    def __init__(self, type: str, source: Any, **payload: Any) -> None:  # noqa: A002 - napari's name
        self.type = type
        self.source = source
        self.__dict__.update(payload)

    def __repr__(self) -> str:
        payload = ", ".join(f"{k}={v!r}" for k, v in self.__dict__.items() if k not in ("type", "source"))
        return f"<Event {self.type} {payload}>"


class EventEmitter:
    """The callbacks of one kind of change; calling the emitter calls each of them with an Event."""

    def __init__(self, source: Any, type: str) -> None:  # noqa: A002
        self.source = source
        self.type = type
        self._callbacks: list[Callback] = []
        self._blocked = 0

    def connect(self, callback: Callback) -> Callback:
        """Call ``callback(event)`` on every emission (once, however often it is connected)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)
        return callback

    def disconnect(self, callback: Callback | None = None) -> None:
        """Stop calling ``callback`` (None: every callback)."""
        if callback is None:
            self._callbacks.clear()
        elif callback in self._callbacks:
            self._callbacks.remove(callback)

    @property
    def callbacks(self) -> tuple[Callback, ...]:
        return tuple(self._callbacks)

    def __call__(self, **payload: Any) -> Event | None:
        """Emit: one Event to every callback (None while blocked)."""
        if self._blocked:
            return None
        event = Event(self.type, self.source, **payload)
        for callback in list(self._callbacks):  # a callback may disconnect itself
            callback(event)
        return event

    @contextmanager
    def blocker(self) -> Iterator[None]:
        """Emit nothing inside the block (e.g. while a model resets what its views will reload)."""
        self._blocked += 1
        try:
            yield
        finally:
            self._blocked -= 1


class EmitterGroup:
    """The emitters of one model, by name: ``group.changed``, ``group.reset``, ..."""

    def __init__(self, source: Any, *names: str) -> None:
        self.source = source
        self.names = names
        for name in names:
            setattr(self, name, EventEmitter(source, name))

    def __getitem__(self, name: str) -> EventEmitter:
        if name not in self.names:
            raise KeyError(name)
        return getattr(self, name)

    def connect(self, callback: Callback) -> Callback:
        """Call ``callback`` on every event of the group (``event.type`` tells which)."""
        for name in self.names:
            self[name].connect(callback)
        return callback

    def disconnect(self, callback: Callback | None = None) -> None:
        for name in self.names:
            self[name].disconnect(callback)

    @contextmanager
    def blocker(self) -> Iterator[None]:
        """Block every emitter of the group inside the block."""
        emitters = [self[name] for name in self.names]
        for emitter in emitters:
            emitter._blocked += 1
        try:
            yield
        finally:
            for emitter in emitters:
                emitter._blocked -= 1
