"""The library store: Track records in TinyDB, range-sharded, written atomically and in batches.

This module is the API (:class:`Store`); the parts live beside it:

- ``store_files``: atomic JSON storage for TinyDB, file signatures, backups of corrupt files;
- ``store_shards``: the layout (meta file, range shards, splitting) and recovery on open;
- ``store_sync``: unsaved changes as per-field patches, merged onto what other processes wrote,
  and the order in which a flush writes files;
- ``store_lock``: the inter-process lock held by open and every flush;
- ``store_migrate``: the format version compared on open, backups and ordered migrations.

Layout (chosen by measurement, see below)::

    library.json                 TinyDB "meta": format version, roots, migrations applied, and
                                 the list of shards (each: the lowest path it holds, its file)
    library.json.shards/s000001.json ...
                                 one TinyDB per shard, table "tracks", one document per track

Each shard holds a contiguous *range of paths* (like the leaves of a B-tree). A shard whose JSON
grows past ``MAX_SHARD_BYTES`` is split in two at its median path when it is flushed. Why ranges:

- A single JSON file is rewritten in full on every change: at 100,000 tracks with predictions
  that is hundreds of megabytes per flush. Any sharding bounds the cost of one change.
- Sharding by *path hash* bounds one change too, but a scan batch of 500 files then touches
  nearly every shard, so each batch rewrites (and fsyncs) every file. Measured on this 2-core
  machine, 20,000 realistic tracks inserted in batches of 500: 256 hash shards 1.76 s per batch
  (70 s in all); range shards 32 ms per batch (1.3 s in all), one single-track update 7 ms,
  ``open`` 0.25 s, 8.6 MB on disk. With ranges the scanner (which walks in sorted order) fills
  one or two shards per batch, an album lives in one shard, and one change rewrites one file of
  at most ``MAX_SHARD_BYTES`` whatever the size of the library. At 100,000 tracks (43 MB in 200
  shards; measured while the machine ran other jobs, load average 6): 75 ms per 500-track batch
  (fsync and JSON encoding of 2-3 files), one update 10 ms, ``open`` 2.4 s, ``all()`` 1.9 s.
- Predictions stay inside the track document: a prediction is a few KB, so shards simply split
  earlier; keeping them in a second set of files would double the files without changing the
  bound per change.

Crash safety: every file is written atomically (temporary file, fsync, rename: ``fsutil``).
A batch spans files, so a crash mid-flush can leave some shards new and some old; each track is
always whole, either its old or its new version. A split writes the new upper shard first, then
the meta file, then the shrunken lower shard; on open a track found outside its shard's range
(a crash between the last two steps) is dropped if the right shard has it, else moved there.

In memory: TinyDB runs on :class:`AtomicJSONStorage`, which keeps the parsed data and only
touches the disk on flush; the store keeps a path -> (shard, doc_id) index, so ``get``/``all``/
``query`` never read the disk. JSON is compact (no spaces, UTF-8).

Several processes (the GUI and the CLI) may open the same store: each keeps its unsaved changes
as per-field patches and merges them onto what the others wrote (``store_sync``); for a field
both changed, the later flush wins. ``changed_on_disk()`` tells cheaply (a ``stat`` per file)
whether another process wrote since; ``refresh()`` re-reads what it changed and returns it.
Files deleted under an open store raise :class:`StoreLost` on the next flush or refresh instead of
being re-read as an empty library; ``restore()`` writes them back from memory.

A corrupt file at open is renamed to ``<name>.corrupt-<timestamp>``, a warning is logged, the
backup path is added to ``store.recovered_from`` (a list; empty when all was well), and that part
starts empty (a rescan brings the tracks back). A corrupt meta file is rebuilt from the shards.
A store from an older version is backed up (``store.migrated_from``: the backup folder) and
migrated; one from a newer version raises :class:`StoreTooNew` and is left unchanged.
"""

from __future__ import annotations

import copy
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from genre_desktop.core.genre import genre_matcher
from genre_desktop.core.prediction import Prediction
from genre_desktop.library import store_sync
from genre_desktop.library.store_files import AtomicJSONStorage, CorruptFile, dumps_compact
from genre_desktop.library.store_lock import DEFAULT_TIMEOUT, StoreBusy, StoreLock, StoreUnavailable
from genre_desktop.library.store_migrate import FORMAT_VERSION, StoreTooNew, migrate, refuse_newer
from genre_desktop.library.store_sync import StoreLost
from genre_desktop.library.store_shards import MAX_SHARD_BYTES, Layout, Shard
from genre_desktop.core.track import Track

_TRACK_FIELDS = tuple(f.name for f in dataclass_fields(Track) if f.name != "extra")
_FIELD_SET = frozenset(_TRACK_FIELDS)

__all__ = ["AtomicJSONStorage", "CorruptFile", "FORMAT_VERSION", "MAX_SHARD_BYTES", "Store", "StoreBusy",
           "StoreChanges", "StoreLost", "StoreTooNew", "StoreUnavailable", "dumps_compact", "lock_path"]


def lock_path(store_path: Path) -> Path:
    """The inter-process lock file of a store (kept; an flock lives on the open file, not the name)."""
    return store_path.with_name(store_path.name + ".lock")


def _to_doc(track: Track) -> dict[str, Any]:
    """Track -> stored dict; copies nested values so the store never aliases caller objects."""
    doc = {name: getattr(track, name) for name in _TRACK_FIELDS}
    doc["genres"] = list(track.genres)
    if track.styles:
        doc["styles"] = list(track.styles)
    else:  # most files have none: not stored (a 100,000-track store stays as small and quick to open)
        del doc["styles"]
    if track.chosen is not None:
        doc["chosen"] = list(track.chosen)
    if track.chosen_style is not None:
        doc["chosen_style"] = list(track.chosen_style)
    else:  # rarely chosen: not stored when there is none
        del doc["chosen_style"]
    if track.prediction is not None:
        doc["prediction"] = Prediction.coerce(track.prediction).to_dict()  # a fresh dict: no copy needed
    doc["status"] = str(track.status)  # a Status member is stored as its plain value
    for key, value in track.extra.items():
        doc.setdefault(key, copy.deepcopy(value))
    return doc


def _to_track(doc: dict[str, Any]) -> Track:
    """Stored dict -> a fresh Track (lists copied; the typed ``prediction`` shares the stored dicts:
    treat it as read-only)."""
    known = {k: v for k, v in doc.items() if k in _FIELD_SET}  # Track.from_dict, without its per-call fields()
    extra = {k: v for k, v in doc.items() if k not in _FIELD_SET} if len(known) != len(doc) else {}
    track = Track(**known, extra=extra)  # a stored prediction dict becomes a typed Prediction
    track.genres = list(track.genres)
    if track.styles:
        track.styles = list(track.styles)
    if track.chosen is not None:
        track.chosen = list(track.chosen)
    if track.chosen_style is not None:
        track.chosen_style = list(track.chosen_style)
    return track


@dataclass
class StoreChanges:
    """What other processes changed in the store since this one last read it."""

    changed: list[Track] = field(default_factory=list)  # stored now (new or changed), as stored
    removed: list[str] = field(default_factory=list)  # paths no longer in the store

    def __bool__(self) -> bool:
        return bool(self.changed or self.removed)


class Store:
    """The tracks of one library. Thread-safe; writes are meant to come from one writer thread."""

    def __init__(self, layout: Layout, file_lock: StoreLock | None = None) -> None:
        self.path = layout.path
        self.folder = layout.folder
        self.recovered_from: list[Path] = layout.recovered_from
        self.migrated_from: Path | None = None  # the backup taken before migrating, if any
        self._layout = layout
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._file_lock = file_lock or StoreLock(lock_path(self.path))
        self._pending = store_sync.Pending()

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | os.PathLike[str], lock_timeout: float = DEFAULT_TIMEOUT) -> "Store":
        """Open (or create) the store at ``path``; corrupt files are backed up, never fatal.

        Raises StoreBusy if another process holds the store's lock for more than ``lock_timeout``
        s, StoreTooNew if a newer version of the app wrote the store (it is left unchanged); both
        are StoreUnavailable, whose message is meant for the user.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_lock = StoreLock(lock_path(path), lock_timeout)
        with file_lock:
            store = cls(cls._read_layout(path, []), file_lock)
            with store._lock:
                store.migrated_from = migrate(store._layout, lambda: store_sync.write(store._layout, store._pending))
                store.flush()
        return store

    @staticmethod
    def _read_layout(path: Path, recovered: list[Path]) -> Layout:
        """Under the file lock: read the meta file and every shard (refusing a newer format)."""
        layout = Layout(path, recovered)
        refuse_newer(layout)
        layout.load(FORMAT_VERSION, lambda: store_sync.write(layout, store_sync.Pending()))
        return layout

    def refresh(self) -> StoreChanges:
        """Re-read the files other processes changed since this one last read or wrote them;
        returns what changed. Raises StoreLost if the store's files were deleted meanwhile."""
        changes: dict[str, bool] = {}
        with self._lock, self._file_lock:
            self._sync_from_disk(everything=True, changes=changes)
            changed = [_to_track(doc) for doc in map(self._doc, [p for p, kept in changes.items() if kept])
                       if doc is not None]
            return StoreChanges(changed, [p for p, kept in changes.items() if not kept and p not in self])

    def changed_on_disk(self) -> bool:
        """Another process wrote the store (or someone deleted it) since this one last read or
        wrote it: a ``stat`` of each file, nothing read (cheap enough to ask every second or two
        of a 100,000-track store: about 200 files)."""
        with self._lock:
            return store_sync.changed_on_disk(self._layout)

    def lost(self) -> bool:
        """Files of this store were deleted while it was open (its tracks are still in memory)."""
        with self._lock:
            return bool(store_sync.lost_files(self._layout))

    def restore(self) -> None:
        """Write every file of the store again from memory: after the store (or its folder) was
        deleted under this process, nothing this process knew is lost."""
        with self._lock, self._file_lock:
            layout = self._layout
            layout.folder.mkdir(parents=True, exist_ok=True)
            layout.meta_storage.dirty = True
            for shard in layout.shards:
                shard.storage.dirty, shard.written = True, False
            store_sync.write(layout, self._pending)

    def _doc(self, path: str) -> dict[str, Any] | None:
        return self._layout.shard_for(path).doc(path)

    def _sync_from_disk(self, everything: bool = False, changes: dict[str, bool] | None = None) -> None:
        self._layout = store_sync.sync_from_disk(
            self._layout, self._pending, lambda: self._read_layout(self.path, self.recovered_from), everything,
            changes)

    # ----------------------------------------------------------------- reading
    def __len__(self) -> int:
        return self._layout.count

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return isinstance(path, str) and path in self._layout.shard_for(path).ids

    def get(self, path: str) -> Track | None:
        with self._lock:
            doc = self._layout.shard_for(path).doc(path)
            return None if doc is None else _to_track(doc)

    def all(self) -> list[Track]:
        """Every track (roughly in path order), built from memory."""
        with self._lock:
            return [_to_track(doc) for doc in self._layout.docs()]

    def paths(self) -> list[str]:
        with self._lock:
            return [path for shard in self._layout.shards for path in shard.ids]

    def query(self, *, genre: str | Callable[[Iterable[str]], bool] | None = None, search: str | None = None,
              status: str | None = None) -> list[Track]:
        """Tracks whose current genres include ``genre`` or a genre under it in the genre tree (any
        spelling: ``core.genre_matcher``, or a matcher made with the librarian's aliases and tree),
        whose path, title, artist, album or album artist contain ``search`` (case-insensitive),
        with ``status``."""
        want_genre = (genre if callable(genre) else genre_matcher(genre)) if genre else None
        needle = search.casefold() if search else None
        with self._lock:
            out = []
            for doc in self._layout.docs():
                if status and doc.get("status") != status:
                    continue
                if want_genre and not want_genre(doc.get("genres") or ()):
                    continue
                if needle:
                    hay = "\0".join(str(doc.get(k) or "") for k in ("path", "title", "artist", "album", "albumartist"))
                    if needle not in hay.casefold():
                        continue
                out.append(_to_track(doc))
            return out

    @property
    def roots(self) -> list[str]:
        """The library folders scanned into this store, oldest first (for "rescan the library")."""
        with self._lock:
            return self._layout.roots

    def add_root(self, root: str) -> None:
        """Remember a scanned library folder (kept in the meta file)."""
        with self._lock:
            if root in self.roots:
                return
            self._pending.roots.append(root)
            self._layout.add_root(root)
            self._maybe_flush()

    # ----------------------------------------------------------------- writing
    @contextmanager
    def batch(self) -> Iterator["Store"]:
        """Defer flushing to the end of the (outermost) block: many changes, one write per file."""
        with self._lock:
            self._batch_depth += 1
            try:
                yield self
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0:
                    self.flush()

    def _maybe_flush(self) -> None:
        if self._batch_depth == 0:
            self.flush()

    def upsert(self, tracks: Iterable[Track]) -> None:
        """Insert tracks, or change the fields in which they differ from the stored ones; by path.

        Only the fields that differ are written (and merged onto another process's changes):
        passing back a whole Track read earlier does not undo what others changed meanwhile.
        A Track's ``prediction`` and ``extra`` values are shared with the store: replace them,
        never change them in place (an in-place change is not seen as a difference)."""
        with self._lock:
            layout = self._layout
            grouped: dict[int, tuple[Shard, dict[str, dict[str, Any]]]] = {}
            for track in tracks:
                shard = layout.shard_for(track.path)
                grouped.setdefault(id(shard), (shard, {}))[1][track.path] = _to_doc(track)
            for shard, docs in grouped.values():
                store_sync.write_docs(layout, self._pending, shard, docs)
            self._maybe_flush()

    def update(self, path: str, **fields: Any) -> Track:
        """Change some fields of one track; raises KeyError for an unknown path, TypeError for an unknown field."""
        unknown = set(fields) - set(_TRACK_FIELDS)
        if unknown:
            raise TypeError(f"unknown Track fields: {sorted(unknown)}")
        with self._lock:
            current = self.get(path)
            if current is None:
                raise KeyError(path)
            for name, value in fields.items():
                setattr(current, name, value)
            self.upsert([current])
            return current

    def remove(self, paths: Iterable[str]) -> None:
        with self._lock:
            store_sync.remove(self._layout, self._pending, paths)
            self._maybe_flush()

    def remove_missing(self) -> list[str]:
        """Purge tracks flagged ``missing`` by the scanner (their predictions and choices go too)."""
        with self._lock:
            gone = [doc["path"] for doc in self._layout.docs() if doc.get("missing")]
            self.remove(gone)
            return gone

    def flush(self) -> None:
        """Write every changed file (new shards first, then the meta file, then the others),
        under the inter-process lock, after merging what other processes wrote meanwhile."""
        with self._lock, self._file_lock:
            layout = self._layout
            if not self._pending and not layout.meta_storage.dirty and not any(s.storage.dirty for s in layout.shards):
                return
            self._sync_from_disk()
            store_sync.write(self._layout, self._pending)

    def close(self, save: bool = True) -> None:
        """Flush and close (``save=False``: drop what is not saved, e.g. a store deleted on purpose)."""
        with self._lock:
            if save:
                self.flush()
            else:
                self._pending.clear()
            self._layout.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- facts for doctor/bench
    def files(self) -> list[Path]:
        with self._lock:
            return self._layout.files()

    def disk_usage(self) -> int:
        """Bytes on disk of the meta file and all shards."""
        return sum(p.stat().st_size for p in self.files() if p.exists())
