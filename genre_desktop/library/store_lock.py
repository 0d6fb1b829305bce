"""An inter-process lock for the store: one process at a time opens, flushes or reloads it.

The GUI and the CLI may have the same library open at once. Each keeps the tracks in memory and
writes whole shard files; without a lock, two flushes of the same shard would each write their own
copy and one of the updates would be lost. The store takes this lock around ``open`` and every
``flush`` (milliseconds; a few seconds for opening 100,000 tracks), and under it re-reads any shard
that another process rewrote since, before applying its own changes (see ``Store.flush``).

POSIX: ``fcntl.flock`` on ``<store>.lock`` (released by the kernel when a process dies, so a
killed process never leaves the store locked). Windows: ``msvcrt.locking`` on the first byte of
the same file (also released when the process ends). The holder writes its pid into the file so
that a waiting process can say who holds it.

The lock is re-entrant within a process (a depth count): flush inside open must not wait for itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
_POLL = 0.02


class StoreUnavailable(Exception):
    """The store cannot be used now; the message says why and what to do (for the user)."""


class StoreBusy(StoreUnavailable):
    """Another process held the store's lock for longer than the timeout."""


class StoreLock:
    """``with lock:`` holds the lock file exclusively; waits up to ``timeout`` seconds for it."""

    def __init__(self, path: str | os.PathLike[str], timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._fd: int | None = None
        self._depth = 0
        self._thread_lock = threading.RLock()

    def __enter__(self) -> "StoreLock":
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self._acquire()
            self._depth += 1
        except BaseException:
            self._thread_lock.release()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._depth -= 1
            if self._depth == 0:
                self._release()
        finally:
            self._thread_lock.release()

    def _acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.timeout
        waited = False
        try:
            while not _try_lock(fd):
                if not waited:
                    log.info("store %s is in use by %s; waiting up to %.0f s", self.path, self.holder(), self.timeout)
                    waited = True
                if time.monotonic() >= deadline:
                    raise StoreBusy(f"the library store is in use by another Genre Desktop process "
                                    f"({self.holder()}) and was not released within {self.timeout:.0f} s; "
                                    f"try again when it has finished (lock file {self.path})")
                time.sleep(_POLL)
            # Fixed width, and only when it changes: no truncate or write on every flush.
            stamp = f"{os.getpid():>12}\n".encode()
            os.lseek(fd, 0, os.SEEK_SET)
            if os.read(fd, len(stamp) + 1) != stamp:
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, stamp)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        finally:
            os.close(fd)

    def holder(self) -> str:
        """Who holds the lock, as far as the file says ("pid 1234" or "unknown process")."""
        try:
            text = self.path.read_text().strip()
        except OSError:
            text = ""
        return f"pid {text}" if text.isdigit() else "unknown process"


if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
