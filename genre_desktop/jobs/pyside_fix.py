"""Work around a PySide6 reference-count bug that crashes CPython 3.11 after enough signal emits.

Measured with PySide6 6.12.0 on CPython 3.11.7: every ``Signal.emit()`` drops one reference to
``True`` that it never took (``sys.getrefcount(True)`` falls by exactly one per emit, with or
without receivers). ``True`` starts with a few thousand references, so after a few thousand emits
(the player's 25 Hz position signal alone does that in minutes) CPython aborts with
"Fatal Python error: bool_dealloc: deallocating True or False".

CPython 3.12+ makes ``True`` immortal, so nothing is needed there. On older versions, if a probe
shows the leak, ``True``'s reference count is raised once by 2**40: ``True`` is never freed anyway,
and at one lost reference per emit that reserve outlasts any session. Remove this module when the
pinned PySide6 no longer leaks (the probe then finds nothing and it does nothing).
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

RESERVE = 1 << 40
_applied = False


def emit_leaks_true(probes: int = 16) -> bool:
    """True if emitting a signal loses references to ``True`` (the PySide6 bug)."""
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(probes):
        probe.ping.emit()
    return sys.getrefcount(True) < before


def apply() -> bool:
    """Idempotent; returns True when the reserve was added in this process."""
    global _applied
    if _applied:
        return False
    _applied = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    if not emit_leaks_true():
        return False
    ctypes.c_ssize_t.from_address(id(True)).value += RESERVE
    log.debug("PySide6 leaks a reference to True per Signal.emit(); added a reserve of %d", RESERVE)
    return True
