"""The store's files: TinyDB storage kept in memory and written atomically, compact JSON, backups.

Every file is written by temporary file, fsync and rename (``fsutil.atomic_write_bytes``), so a
crash leaves either the old or the new version. A file's *signature* (inode, size, mtime) tells
whether another process replaced it since this one read or wrote it: every atomic write makes a
new inode.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from genre_desktop.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)


def signature(path: Path) -> tuple[int, int, int] | None:
    """Which version of a file is on disk (None: no file)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class CorruptFile(Exception):
    """A store file that cannot be parsed or does not have the expected shape."""


def dumps_compact(data: Any) -> bytes:
    """Compact JSON as UTF-8; falls back to ASCII escapes for names that are not valid UTF-8."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from undecodable file names (surrogateescape)
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class AtomicJSONStorage(Storage):
    """A TinyDB storage that reads once and writes by temporary file + fsync + rename.

    ``read()`` returns the in-memory data (no disk access). ``write()`` replaces it and, unless
    ``deferred``, writes the file at once; a deferred storage is written by :meth:`flush`.
    A file that cannot be parsed raises :class:`CorruptFile` from the constructor.
    """

    def __init__(self, path: str | os.PathLike[str], *, deferred: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.deferred = deferred
        self.dirty = False
        self._data: dict[str, dict[str, Any]] | None = None
        self.signature = signature(self.path)  # the version on disk this data came from
        if self.path.exists():
            raw = self.path.read_bytes()
            try:
                data = json.loads(raw.decode("utf-8", "surrogatepass")) if raw else None
            except (UnicodeDecodeError, ValueError) as exc:
                raise CorruptFile(f"{self.path}: not valid JSON ({exc})") from exc
            if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
                raise CorruptFile(f"{self.path}: not a TinyDB file")
            self._data = data

    def read(self) -> dict[str, dict[str, Any]] | None:
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data
        self.dirty = True
        if not self.deferred:
            self.flush()

    def serialize(self) -> bytes:
        return dumps_compact(self._data or {})

    def flush(self, payload: bytes | None = None, sync_dir: bool = True) -> int:
        """Write the file if it changed; returns the number of bytes written (0 if clean).

        ``sync_dir=False``: the caller fsyncs the folder once after several files."""
        if not self.dirty:
            return 0
        payload = self.serialize() if payload is None else payload
        atomic_write_bytes(self.path, payload, sync_dir=sync_dir)
        self.signature = signature(self.path)
        self.dirty = False
        return len(payload)


class Given:
    """Lets TinyDB(storage=...) use an already constructed storage instance."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def __call__(self) -> Storage:
        return self._storage


def backup_corrupt(path: Path) -> Path:
    """Rename a file that cannot be read to ``<name>.corrupt-<timestamp>``, keeping it for the user."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, backup)
    log.warning("store file %s was corrupt; kept it as %s and started that part fresh", path, backup)
    return backup
