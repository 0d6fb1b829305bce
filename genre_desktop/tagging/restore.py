"""Undo by construction: the original file rebuilt from the file as written plus its undo data.

``restore_original`` gives back, byte for byte, the file a proven write replaced (see
``files.write_genres(keep=...)`` and ``rebuild``). It acts only on the file the write left:
its SHA-256 must be the written one, else ``FileChanged`` says so (another program edited it
since; the caller may offer to put back only the genres). The rebuild goes to a working copy whose
SHA-256 must be the original's before the same crash-safe replace as a write puts it in place.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Callable

import genre_desktop.tagging.rebuild as rebuild
from genre_desktop.tagging.base import TagError
from genre_desktop.tagging.files import check_writable
from genre_desktop.tagging.working_copy import WorkingCopy, sha256_of

log = logging.getLogger(__name__)


class FileChanged(TagError):
    """The file is no longer the one the write left: undo byte for byte would lose someone's edit."""


def restore_original(path: str | os.PathLike[str], ops: list, literal: Callable[[int], bytes], *,
                     sha256: str, size: int, written_sha256: str, written_size: int,
                     checked: tuple[os.stat_result, tuple[str, int]] | None = None) -> None:
    """Put the original back in place of the written file at ``path``.

    ``ops`` and ``literal`` (the literal's next n bytes) come from the write's ``UndoData``;
    ``sha256``/``size`` are the original's, ``written_*`` the file's as the write left it.
    ``checked``: (stat, (SHA-256, size)) the caller just read; while the file's size, mtime and
    inode are still those, it is not hashed again. Raises FileChanged (nothing done) or TagError
    with the reason (the file is unchanged).
    """
    shown = Path(path)
    target = Path(os.path.realpath(shown))
    before = check_writable(shown, target)
    if checked is not None and _same_stat(checked[0], before):
        current = checked[1]
    else:
        try:
            current = sha256_of(target)
        except OSError as exc:
            raise TagError(shown, f"cannot read the file: {exc.strerror or exc}") from None
    if current != (written_sha256, written_size):
        raise FileChanged(shown, "the file changed since the write (another program edited it), so it cannot "
                                 "be given back byte for byte")
    in_place = before.st_nlink > 1 or not os.access(target.parent, os.W_OK | os.X_OK)
    with WorkingCopy(shown, target, before, in_place) as copy:
        h = hashlib.sha256()
        total = 0
        try:
            copy.keep_metadata()  # first: the content written next gives the copy today's mtime
            with open(target, "rb") as written, open(copy.path, "r+b") as out:
                for block in rebuild.blocks(ops, literal, written):
                    h.update(block)
                    total += len(block)
                    out.write(block)
                out.truncate()
        except rebuild.RebuildError as exc:
            raise TagError(shown, f"the undo data cannot rebuild the original ({exc}); the file is unchanged") from None
        except OSError as exc:
            raise TagError(shown, f"cannot write the restored copy: {exc.strerror or exc}; the file is unchanged") from None
        if (h.hexdigest(), total) != (sha256, size):
            log.error("%s: undo rebuilt %d bytes with SHA-256 %s, the original was %d bytes with %s",
                      shown, total, h.hexdigest(), size, sha256)
            raise TagError(shown, "the undo data did not rebuild the original byte for byte (it may be damaged); "
                                  "the file is unchanged")
        copy.commit("the restored original")


def _same_stat(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_size, a.st_mtime_ns, a.st_ino, a.st_dev) == (b.st_size, b.st_mtime_ns, b.st_ino, b.st_dev)
