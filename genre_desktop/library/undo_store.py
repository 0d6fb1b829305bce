"""Undo data kept beside the journal: content-addressed blobs, written durably before a file changes.

A proven tag write (``tagging.files.write_genres(keep=...)``) hands over its ``UndoData``: the
operations that rebuild the original from the written file and the literal bytes only the
original had. ``keep`` stores them as blobs under ``<journal>-undo/ab/abcdef…`` (the name is the
SHA-256 of the content; zlib-compressed when that is smaller):

- a JSON *recipe*: the operations, the SHA-256 and size of the original and of the written file,
  and the literal itself when it is small (a few hundred bytes for most writes: one blob, one
  fsync);
- a larger literal cut into content-defined chunks (``tagging.chunking``), so equal bytes in
  many files (a picture a write changed, padding) are stored once.

Each blob is written to a temporary file, fsynced and renamed, and its folder fsynced, all before
``keep`` returns, i.e. before the written copy replaces the user's file. A blob that exists is
not written again (dedup); ``get`` checks every blob's SHA-256 on reading, so damaged undo data is
detected, never used. ``keep`` returns the journal's record of the data: the recipe's name and
every blob's stored size, from which ``undo_expiry`` counts the space kept without listing files.
Each journal has its own folder: two libraries in one folder never share (or collect) blobs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import time
import zlib
from pathlib import Path
from typing import Any, Callable

from genre_desktop.fsutil import atomic_write_bytes, fsync_dir
from genre_desktop.tagging import chunking
from genre_desktop.tagging.rebuild import UndoData

log = logging.getLogger(__name__)

RECIPE_VERSION = 1
INLINE_LITERAL = 16 * 1024  # a literal up to this size travels inside the recipe
_RAW, _ZLIB = b"R", b"Z"


class UndoDataError(Exception):
    """Undo data is missing or damaged; ``str(exc)`` says what, for the user."""


def undo_folder(journal_path: str | os.PathLike[str]) -> Path:
    """Where a journal's undo blobs live: ``journal.jsonl`` -> ``journal-undo/``."""
    path = Path(journal_path)
    return path.with_name(path.stem + "-undo")


class UndoStore:
    """The blobs of one journal (created on first use)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def for_journal(cls, journal_path: str | os.PathLike[str]) -> "UndoStore":
        return cls(undo_folder(journal_path))

    # ----------------------------------------------------------------- writing
    def keep(self, undo: UndoData) -> dict[str, Any]:
        """Store ``undo`` durably; returns the journal's record of it (see the module docstring)."""
        touched: set[Path] = set()
        created: list[Path] = []
        blobs: dict[str, int] = {}
        chunk_list = []
        recipe = {"v": RECIPE_VERSION, "ops": [list(op) for op in undo.ops],
                  "sha256": undo.sha256, "size": undo.size,
                  "written_sha256": undo.written_sha256, "written_size": undo.written_size}
        if len(undo.literal) <= INLINE_LITERAL:
            recipe["literal"] = base64.b64encode(undo.literal).decode("ascii")
        else:
            view = memoryview(undo.literal)
            for start, end in chunking.chunks(view):
                key, stored = self._put(bytes(view[start:end]), touched, created)
                blobs[key] = stored
                chunk_list.append([key, end - start])
            recipe["chunks"] = chunk_list
        key, stored = self._put(json.dumps(recipe, separators=(",", ":")).encode("ascii"), touched, created)
        blobs[key] = stored
        for folder in sorted(touched):
            fsync_dir(folder)
        for folder in {p.parent for p in created}:  # a new fan-out folder is an entry of its parent
            fsync_dir(folder)
        return {"recipe": key, "sha256": undo.sha256, "written_sha256": undo.written_sha256,
                "blobs": sorted([k, v] for k, v in blobs.items())}

    def _put(self, data: bytes, touched: set[Path], created: list[Path] | None = None) -> tuple[str, int]:
        key = hashlib.sha256(data).hexdigest()
        path = self._path(key)
        try:
            return key, path.stat().st_size
        except FileNotFoundError:
            pass
        packed = zlib.compress(data, 6)
        body = _ZLIB + packed if len(packed) < len(data) else _RAW + data
        if not path.parent.is_dir():
            for folder in (path.parent.parent, path.parent):
                if not folder.is_dir():
                    folder.mkdir(parents=True, exist_ok=True)
                    if created is not None:
                        created.append(folder)
        atomic_write_bytes(path, body, sync_dir=False)  # the touched folders are synced once, by the caller
        touched.add(path.parent)
        return key, len(body)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    # ----------------------------------------------------------------- reading
    def get(self, key: str) -> bytes:
        """A blob's content, checked against its name."""
        try:
            body = self._path(key).read_bytes()
        except FileNotFoundError:
            raise UndoDataError("its undo data is missing (deleted outside the app?)") from None
        except OSError as exc:
            raise UndoDataError(f"its undo data cannot be read ({exc.strerror or exc})") from None
        try:
            data = zlib.decompress(body[1:]) if body[:1] == _ZLIB else body[1:]
        except zlib.error:
            data = b""
        if body[:1] not in (_RAW, _ZLIB) or hashlib.sha256(data).hexdigest() != key:
            raise UndoDataError("its undo data is damaged")
        return data

    def recipe(self, key: str) -> dict[str, Any]:
        """The recipe a journal record names (checked for shape)."""
        try:
            recipe = json.loads(self.get(key))
            if recipe.get("v") != RECIPE_VERSION:
                raise UndoDataError(f"its undo data was written by another version (format {recipe.get('v')!r})")
            for name in ("ops", "sha256", "size", "written_sha256", "written_size"):
                if name not in recipe:
                    raise ValueError(name)
            if "literal" not in recipe and "chunks" not in recipe:
                raise ValueError("literal")
        except (ValueError, AttributeError) as exc:
            raise UndoDataError("its undo data is damaged") from exc
        return recipe

    def literal(self, recipe: dict[str, Any]) -> Callable[[int], bytes]:
        """A reader of the recipe's literal bytes: ``read(n)`` returns the next n bytes."""
        chunk_list = list(recipe.get("chunks") or [])
        buffer = bytearray()
        if "literal" in recipe:
            try:
                buffer.extend(base64.b64decode(recipe["literal"], validate=True))
            except ValueError as exc:
                raise UndoDataError("its undo data is damaged") from exc

        def read(count: int) -> bytes:
            while len(buffer) < count and chunk_list:
                key, length = chunk_list.pop(0)
                data = self.get(key)
                if len(data) != length:
                    raise UndoDataError("its undo data is damaged")
                buffer.extend(data)
            out = bytes(buffer[:count])
            del buffer[:count]
            return out

        return read

    # ----------------------------------------------------------------- removing
    def remove(self, keys: set[str]) -> int:
        """Delete these blobs; returns the bytes freed."""
        freed = 0
        for key in keys:
            path = self._path(key)
            try:
                freed += path.stat().st_size
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot remove undo data %s: %s", path, exc)
        return freed

    def sweep(self, live: set[str], min_age: float = 3600.0) -> int:
        """Delete blobs no journal record names (left by a crash before the record), at least
        ``min_age`` seconds old; returns the bytes freed. Call only while no other process writes."""
        freed = 0
        now = time.time()
        try:
            folders = [e for e in os.scandir(self.root) if e.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return 0
        for folder in folders:
            for entry in os.scandir(folder.path):
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if entry.name in live or now - st.st_mtime < min_age:  # written once: mtime is its age
                    continue
                try:
                    os.unlink(entry.path)
                    freed += st.st_size
                except OSError as exc:
                    log.warning("cannot remove undo data %s: %s", entry.path, exc)
        return freed
