"""The hidden working copy a file is changed in, and the crash-safe replace of the file by it.

Tag writes and undos never modify the user's file before the result is known to be right: the
new bytes go to a hidden working copy in the same folder (``.name.genre-desktop-XXXX.tmp``, so
scanners that skip hidden files ignore it), which is checked, flushed and renamed over the
original. A crash, a kill or a full disk at any moment leaves the original byte-identical or
replaced by a checked copy. Before the rename the original is checked again: if its size, mtime
or inode changed meanwhile (another program wrote it), nothing is replaced.

The rename would break a hard link, and needs a writable folder; for such files the working copy
is made in the temporary folder instead and, once checked, its bytes are written over the
original in place (not atomic; logged by the caller). The copy keeps the original's permissions,
extended attributes and, where allowed, owner.

A process killed between the copy and the rename leaves a hidden working copy beside an intact
original; ``remove_working_copies(folder)`` (for the scanner) deletes old ones.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from genre_desktop.fsutil import fsync_dir
from genre_desktop.tagging.base import TagError

log = logging.getLogger(__name__)

_MARK = ".genre-desktop-"
_PATTERN = re.compile(r"^\..+\.genre-desktop-[^.]+\.tmp$", re.DOTALL)
_BLOCK = 1 << 20


class WorkingCopy:
    """A working copy of ``target`` (shown to the user as ``shown``), whose stat was ``before``.

    Use as a context manager: the copy is removed on leaving unless ``commit()`` replaced the
    file with it.
    """

    def __init__(self, shown: Path, target: Path, before: os.stat_result, in_place: bool) -> None:
        self.shown, self.target, self.before, self.in_place = shown, target, before, in_place
        folder = Path(tempfile.gettempdir()) if in_place else target.parent
        fd, name = tempfile.mkstemp(prefix=f".{target.name}{_MARK}", suffix=".tmp", dir=folder)
        os.close(fd)
        self.path = Path(name)
        self._committed = False

    def __enter__(self) -> "WorkingCopy":
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._committed:
            try:
                self.path.unlink()
            except OSError:
                pass

    def fill(self) -> str:
        """Copy the original into the working copy; returns the original's SHA-256 (hex)."""
        h = hashlib.sha256()
        try:
            with open(self.target, "rb") as src, open(self.path, "wb") as dst:
                while block := src.read(_BLOCK):
                    h.update(block)
                    dst.write(block)
            self.keep_metadata()
        except OSError as exc:
            raise TagError(self.shown, f"cannot make a working copy of the file: {exc.strerror or exc}") from None
        return h.hexdigest()

    def keep_metadata(self) -> None:
        """Give the copy the original's permissions, extended attributes and owner."""
        if not self.in_place:
            shutil.copystat(self.target, self.path)
            _copy_owner(self.before, self.path)

    def commit(self, what: str = "the retagged copy") -> None:
        """Flush the copy and put it in the file's place, unless the file changed since ``before``."""
        with open(self.path, "rb+") as handle:
            os.fsync(handle.fileno())
        now = stat_of(self.shown, self.target)
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (self.before.st_size, self.before.st_mtime_ns,
                                                           self.before.st_ino):
            raise TagError(self.shown, "file changed on disk meanwhile (another program wrote it); nothing written")
        try:
            if self.in_place:
                _overwrite(self.target, self.path)
            else:
                os.replace(self.path, self.target)
        except OSError as exc:
            raise TagError(self.shown, f"cannot replace the file with {what}: {exc.strerror or exc}") from None
        self._committed = True
        if self.in_place:
            self.path.unlink()
        else:
            fsync_dir(self.target.parent)


def sha256_of(path: Path) -> tuple[str, int]:
    """(hex SHA-256, size) of a file."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_BLOCK):
            h.update(block)
            size += len(block)
    return h.hexdigest(), size


def stat_of(shown: Path, target: Path) -> os.stat_result:
    try:
        return target.stat()
    except FileNotFoundError:
        raise TagError(shown, "file not found (moved or deleted)") from None
    except OSError as exc:
        raise TagError(shown, f"cannot access file: {exc.strerror or exc}") from None


def is_working_copy(name: str) -> bool:
    """Whether a file name is one of our hidden working copies (left behind only by a crash)."""
    return _PATTERN.match(name) is not None


def remove_working_copies(folder: str | os.PathLike[str], min_age: float = 300.0,
                          name: str | None = None) -> list[Path]:
    """Delete working copies in ``folder`` (not recursive) older than ``min_age`` seconds.

    A process killed between copying and renaming leaves one; the user's file itself is intact.
    The age limit keeps a write in progress in another thread or process safe. Age is measured
    from the status change time (ctime): a working copy carries its original's *mtime*
    (copystat), so mtime would make a copy made a second ago look years old. ``name``: only the
    working copies of that one file.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    prefix = f".{name}{_MARK}" if name is not None else None
    for entry in entries:
        if not is_working_copy(entry.name) or (prefix is not None and not entry.name.startswith(prefix)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and now - max(st.st_ctime, st.st_mtime) >= min_age:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError as exc:
            log.warning("cannot remove stale working copy %s: %s", entry.path, exc)
    return removed


def _overwrite(target: Path, source: Path) -> None:
    """Write ``source``'s bytes over ``target`` in place (same inode: hard links all change)."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, _BLOCK)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def _copy_owner(st: os.stat_result, tmp: Path) -> None:
    if not hasattr(os, "chown"):
        return
    tst = tmp.stat()
    if (tst.st_uid, tst.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:  # not allowed (not root): the file becomes ours, as any editor's save does
            log.debug("cannot keep owner of %s", tmp)
