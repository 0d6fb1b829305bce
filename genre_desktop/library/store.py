"""The library store: Track records in TinyDB, range-sharded, written atomically and in batches.

Layout (chosen by measurement, see below)::

    library.json                 TinyDB "meta": format version, and the list of shards
                                 (each: the lowest path it holds and its file name)
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

Several processes (the GUI and the CLI) may open the same store. Opening and every flush hold an
inter-process lock (``store_lock``: ``fcntl.flock`` on ``<store>.lock``). Under it, flush first
compares each file it is about to write with the version it last read or wrote (inode, size,
mtime): a shard another process rewrote meanwhile is re-read and this process's own pending
changes (kept by path since the last flush) are applied on top; if the meta file changed (another
process split a shard), the whole layout is re-read the same way. So two processes writing
different tracks never lose each other's updates; for the same track the last flush wins, field
by field of whole records. ``refresh()`` re-reads what other processes changed, for readers.

A corrupt file at open is renamed to ``<name>.corrupt-<timestamp>``, a warning is logged, the
backup path is added to ``store.recovered_from`` (a list; empty when all was well), and that part
starts empty (a rescan brings the tracks back). A corrupt meta file is rebuilt from the shards.
"""

from __future__ import annotations

import bisect
import copy
import json
import logging
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Iterable, Iterator

from tinydb import TinyDB
from tinydb.storages import Storage

from genre_desktop.core.prediction import Prediction
from genre_desktop.fsutil import atomic_write_bytes, fsync_dir
from genre_desktop.library.store_lock import DEFAULT_TIMEOUT, StoreBusy, StoreLock
from genre_desktop.library.track import Track

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MAX_SHARD_BYTES = 256 * 1024
# Shards whose per-document JSON stays cached after a flush (the most recently written ones:
# a scan appends to one shard, a review edits one album). Bounds the cache to a few MB.
ENCODED_SHARDS = 8
TRACKS = "tracks"
_TRACK_FIELDS = tuple(f.name for f in dataclass_fields(Track) if f.name != "extra")
_FIELD_SET = frozenset(_TRACK_FIELDS)
_SHARD_NAME = re.compile(r"^s\d{6}\.json$")


__all__ = ["CorruptFile", "Store", "StoreBusy", "MAX_SHARD_BYTES"]


def _signature(path: Path) -> tuple[int, int, int] | None:
    """Which version of a file is on disk: every atomic write makes a new inode."""
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
        self.signature = _signature(self.path)  # the version on disk this data came from
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
        self.signature = _signature(self.path)
        self.dirty = False
        return len(payload)


class _Shard:
    """One shard file: its path range starts at ``low``; ``ids`` maps path -> TinyDB doc_id."""

    def __init__(self, low: str, file: Path, storage: AtomicJSONStorage) -> None:
        self.low = low
        self.file = file
        self.storage = storage
        self.db = TinyDB(storage=_Given(storage))
        self.table = self.db.table(TRACKS, cache_size=0)
        self.ids: dict[str, int] = {}
        self.written = file.exists()
        # doc_id key -> the document's compact JSON, so a flush encodes only changed documents
        # (every change to a document drops its entry: see Store._forget).
        self.encoded: dict[str, bytes] = {}

    def forget(self, doc_ids: Iterable[int]) -> None:
        for doc_id in doc_ids:
            self.encoded.pop(str(doc_id), None)

    def serialize(self) -> bytes:
        """The shard file's bytes, from cached per-document JSON (same content as a full dump)."""
        data = self.storage.read() or {}
        if set(data) - {TRACKS}:  # not written by us: no shortcut
            return self.storage.serialize()
        cache = self.encoded
        parts = []
        for key, doc in data.get(TRACKS, {}).items():
            encoded = cache.get(key)
            if encoded is None:
                encoded = cache[key] = dumps_compact(doc)
            parts.append(b'"' + key.encode("ascii") + b'":' + encoded)
        return b'{"' + TRACKS.encode("ascii") + b'":{' + b",".join(parts) + b"}}"

    def docs(self) -> dict[str, dict[str, Any]]:
        """The raw documents keyed by doc_id string (in memory, read-only for callers)."""
        return (self.storage.read() or {}).get(TRACKS, {})

    def doc(self, path: str) -> dict[str, Any]:
        return self.docs()[str(self.ids[path])]


class _Given:
    """Lets TinyDB(storage=...) use an already constructed storage instance."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def __call__(self) -> Storage:
        return self._storage


def _backup_corrupt(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while backup.exists():
        n += 1
        backup = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.replace(path, backup)
    log.warning("store file %s was corrupt; kept it as %s and started that part fresh", path, backup)
    return backup


def lock_path(store_path: Path) -> Path:
    """The inter-process lock file of a store (kept; an flock lives on the open file, not the name)."""
    return store_path.with_name(store_path.name + ".lock")


def _read_meta(path: Path, recovered: list[Path]) -> AtomicJSONStorage:
    """The meta file's storage; a corrupt one is backed up (added to ``recovered``) and starts empty."""
    try:
        meta_storage = AtomicJSONStorage(path, deferred=True)
        meta = (meta_storage.read() or {}).get("meta", {}).get("1")
        if meta_storage.read() is not None and (not isinstance(meta, dict) or "format" not in meta):
            raise CorruptFile(f"{path}: no store header")
    except CorruptFile as exc:
        log.warning("%s", exc)
        recovered.append(_backup_corrupt(path))
        meta_storage = AtomicJSONStorage(path, deferred=True)
    return meta_storage


def _to_doc(track: Track) -> dict[str, Any]:
    """Track -> stored dict; copies nested values so the store never aliases caller objects."""
    doc = {name: getattr(track, name) for name in _TRACK_FIELDS}
    doc["genres"] = list(track.genres)
    if track.chosen is not None:
        doc["chosen"] = list(track.chosen)
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
    if track.chosen is not None:
        track.chosen = list(track.chosen)
    return track


class Store:
    """The tracks of one library. Thread-safe; writes are meant to come from one writer thread."""

    def __init__(self, path: Path, meta_db: TinyDB, meta_storage: AtomicJSONStorage,
                 file_lock: StoreLock | None = None) -> None:
        self.path = path
        self.folder = path.with_name(path.name + ".shards")
        self.recovered_from: list[Path] = []
        self._meta_db = meta_db
        self._meta_storage = meta_storage
        self._shards: list[_Shard] = []
        self._lows: list[str] = []
        self._lock = threading.RLock()
        self._batch_depth = 0
        self._count = 0
        self._file_lock = file_lock or StoreLock(lock_path(path))
        # Changes since the last flush, by path (None: removed): replayed onto files that another
        # process rewrote meanwhile, so that its updates and ours both survive.
        self._pending: dict[str, dict[str, Any] | None] = {}
        self._pending_roots: list[str] = []
        self._encoded_recent: list[_Shard] = []  # shards holding a JSON cache, oldest first

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, path: str | os.PathLike[str], lock_timeout: float = DEFAULT_TIMEOUT) -> "Store":
        """Open (or create) the store at ``path``; corrupt files are backed up, never fatal.

        Raises StoreBusy if another process holds the store's lock for more than ``lock_timeout`` s.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        file_lock = StoreLock(lock_path(path), lock_timeout)
        with file_lock:
            recovered: list[Path] = []
            meta_storage = _read_meta(path, recovered)
            store = cls(path, TinyDB(storage=_Given(meta_storage)), meta_storage, file_lock)
            store.recovered_from = recovered
            with store._lock:
                store._load()
        return store

    def refresh(self) -> None:
        """Re-read the files other processes changed since this one last read or wrote them."""
        with self._lock, self._file_lock:
            self._sync_from_disk(everything=True)

    def _sync_from_disk(self, everything: bool = False) -> None:
        """Under the file lock: pick up other processes' writes before writing ours."""
        if self._meta_storage.signature != _signature(self.path):
            log.info("store: another process changed the layout; re-reading it")
            self._reload_all()
            return
        for shard in self._shards:
            if (everything or shard.storage.dirty) and shard.written \
                    and shard.storage.signature != _signature(shard.file):
                log.debug("store: %s was rewritten by another process; re-reading it", shard.file.name)
                self._reload_shard(shard)

    def _reload_all(self) -> None:
        roots = list(self._pending_roots)  # applied again after the layout is read, below
        pending, self._pending = self._pending, {}
        self._shards, self._lows, self._count, self._encoded_recent = [], [], 0, []
        self._meta_storage = _read_meta(self.path, self.recovered_from)
        self._meta_db = TinyDB(storage=_Given(self._meta_storage))
        self._load(flush=False)
        self._replay(pending)
        for root in roots:
            self._add_root_now(root)

    def _reload_shard(self, shard: _Shard) -> None:
        self._count -= len(shard.ids)
        shard.storage = self._shard_storage(shard.file)
        shard.db = TinyDB(storage=_Given(shard.storage))
        shard.table = shard.db.table(TRACKS, cache_size=0)
        shard.ids = {}
        shard.encoded = {}
        for doc_id, doc in shard.docs().items():
            if doc["path"] not in shard.ids:
                shard.ids[doc["path"]] = int(doc_id)
        self._count += len(shard.ids)
        self._replay({p: d for p, d in self._pending.items() if self._shard_for(p) is shard})

    def _replay(self, pending: dict[str, dict[str, Any] | None]) -> None:
        """Apply changes again (after re-reading files): upserts by shard, then removals."""
        grouped: dict[int, tuple[_Shard, dict[str, dict[str, Any]]]] = {}
        for path, doc in pending.items():
            if doc is not None:
                shard = self._shard_for(path)
                grouped.setdefault(id(shard), (shard, {}))[1][path] = dict(doc)
        for shard, docs in grouped.values():
            self._write_docs(shard, docs)
        gone = [path for path, doc in pending.items() if doc is None]
        if gone:
            self._remove_now(gone)

    def _load(self, flush: bool = True) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        shards_table = self._meta_db.table("shards", cache_size=0)
        entries = sorted(shards_table.all(), key=lambda e: e.get("low", ""))
        if self._meta_storage.read() is None or not entries:
            self._rebuild_meta()
            return
        for number, entry in enumerate(entries):
            # The first shard must start at "" so that every path has a shard.
            self._add_shard("" if number == 0 else str(entry["low"]), str(entry["file"]))
        self._remove_orphans({s.file.name for s in self._shards})
        self._place_all()
        if flush:
            self.flush()

    def _shard_storage(self, file: Path) -> AtomicJSONStorage:
        try:
            storage = AtomicJSONStorage(file, deferred=True)
            docs = (storage.read() or {}).get(TRACKS, {})
            if not all(isinstance(d, dict) and isinstance(d.get("path"), str) for d in docs.values()):
                raise CorruptFile(f"{file}: a track without a path")
        except CorruptFile as exc:
            log.warning("%s", exc)
            self.recovered_from.append(_backup_corrupt(file))
            storage = AtomicJSONStorage(file, deferred=True)
        return storage

    def _add_shard(self, low: str, name: str) -> _Shard:
        file = self.folder / name
        storage = self._shard_storage(file)
        shard = _Shard(low, file, storage)
        index = bisect.bisect_right(self._lows, low)
        self._lows.insert(index, low)
        self._shards.insert(index, shard)
        return shard

    def _place_all(self) -> None:
        """Index every document; one outside its shard's range (a crash mid-split) is moved."""
        strays: list[tuple[_Shard, int, dict[str, Any]]] = []
        for shard in self._shards:
            for doc_id, doc in shard.docs().items():
                path = doc["path"]
                if self._shard_for(path) is shard and path not in shard.ids:
                    shard.ids[path] = int(doc_id)
                    self._count += 1
                else:
                    strays.append((shard, int(doc_id), doc))
        # The right shard's copy wins: it was written after the meta file that created it.
        for shard, doc_id, doc in strays:
            owner = self._shard_for(doc["path"])
            if doc["path"] not in owner.ids:
                (new_id,) = owner.table.insert_multiple([dict(doc)])
                owner.forget([new_id])
                owner.ids[doc["path"]] = new_id
                self._count += 1
            shard.table.remove(doc_ids=[doc_id])
            shard.forget([doc_id])
        if strays:
            log.info("store: %d tracks were outside their shard's range, re-placed", len(strays))

    def _remove_orphans(self, known: set[str]) -> None:
        """Shard files not in the meta file come from a crash before the meta was written."""
        for entry in self.folder.iterdir():
            name = entry.name
            if (_SHARD_NAME.match(name) and name not in known) or (name.startswith(".s") and name.endswith(".tmp")):
                log.info("store: removing leftover %s", entry)
                entry.unlink(missing_ok=True)

    def _rebuild_meta(self) -> None:
        """No (usable) meta file: start a layout, taking in the tracks of any shard files found."""
        found: dict[str, dict[str, Any]] = {}
        old_files = sorted(p for p in self.folder.iterdir() if _SHARD_NAME.match(p.name))
        for file in old_files:
            try:
                docs = (AtomicJSONStorage(file).read() or {}).get(TRACKS, {})
            except CorruptFile as exc:
                log.warning("%s", exc)
                self.recovered_from.append(_backup_corrupt(file))
                continue
            for doc in docs.values():
                if isinstance(doc, dict) and isinstance(doc.get("path"), str):
                    found[doc["path"]] = doc
        self._meta_db.drop_tables()
        self._meta_db.table("meta", cache_size=0).insert({"format": FORMAT_VERSION, "next_file": 1})
        self._new_shard("")
        if found:
            log.warning("store: rebuilt the index from %d shard files (%d tracks)", len(old_files), len(found))
            self.upsert(_to_track(doc) for doc in found.values())  # writes new shards and meta
        self.flush()
        live = {s.file.name for s in self._shards}
        for file in old_files:
            if file.name not in live:
                file.unlink(missing_ok=True)

    def _new_shard(self, low: str) -> _Shard:
        meta_table = self._meta_db.table("meta", cache_size=0)
        meta = meta_table.get(doc_id=1)
        number = int(meta.get("next_file", 1)) if meta else 1
        while (self.folder / f"s{number:06d}.json").exists():
            number += 1
        name = f"s{number:06d}.json"
        meta_table.update({"next_file": number + 1}, doc_ids=[1])
        self._meta_db.table("shards", cache_size=0).insert({"low": low, "file": name})
        shard = self._add_shard(low, name)
        shard.written = False
        return shard

    # ----------------------------------------------------------------- reading
    def _shard_for(self, path: str) -> _Shard:
        return self._shards[bisect.bisect_right(self._lows, path) - 1]

    def __len__(self) -> int:
        return self._count

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return isinstance(path, str) and path in self._shard_for(path).ids

    def get(self, path: str) -> Track | None:
        with self._lock:
            shard = self._shard_for(path)
            if path not in shard.ids:
                return None
            return _to_track(shard.doc(path))

    def _docs(self) -> Iterator[dict[str, Any]]:
        for shard in self._shards:
            yield from shard.docs().values()

    def all(self) -> list[Track]:
        """Every track (roughly in path order), built from memory."""
        with self._lock:
            return [_to_track(doc) for doc in self._docs()]

    def paths(self) -> list[str]:
        with self._lock:
            return [path for shard in self._shards for path in shard.ids]

    def query(self, *, genre: str | None = None, search: str | None = None, status: str | None = None) -> list[Track]:
        """Tracks whose current genres include ``genre`` (case-insensitive), whose path, title,
        artist, album or album artist contain ``search`` (case-insensitive), with ``status``."""
        want_genre = genre.casefold() if genre else None
        needle = search.casefold() if search else None
        with self._lock:
            out = []
            for doc in self._docs():
                if status and doc.get("status") != status:
                    continue
                if want_genre and want_genre not in (g.casefold() for g in doc.get("genres") or ()):
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
            meta = self._meta_db.table("meta", cache_size=0).get(doc_id=1) or {}
            return [str(r) for r in meta.get("roots", [])]

    def add_root(self, root: str) -> None:
        """Remember a scanned library folder (kept in the meta file)."""
        with self._lock:
            if root in self.roots:
                return
            self._pending_roots.append(root)
            self._add_root_now(root)
            self._maybe_flush()

    def _add_root_now(self, root: str) -> None:
        table = self._meta_db.table("meta", cache_size=0)
        roots = [r for r in (table.get(doc_id=1) or {}).get("roots", []) if r != root] + [root]
        table.update({"roots": roots}, doc_ids=[1])

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
        """Insert or replace tracks (whole records), keyed by path."""
        with self._lock:
            grouped: dict[int, tuple[_Shard, dict[str, dict[str, Any]]]] = {}
            for track in tracks:
                shard = self._shard_for(track.path)
                grouped.setdefault(id(shard), (shard, {}))[1][track.path] = _to_doc(track)
            for shard, docs in grouped.values():
                self._write_docs(shard, docs)
            self._maybe_flush()

    def _write_docs(self, shard: _Shard, docs: dict[str, dict[str, Any]]) -> None:
        self._pending.update(docs)
        existing = [shard.ids[p] for p in docs if p in shard.ids]
        new = [doc for p, doc in docs.items() if p not in shard.ids]
        if existing:
            def replace(doc: dict[str, Any]) -> None:
                fresh = docs[doc["path"]]
                doc.clear()
                doc.update(fresh)

            shard.table.update(replace, doc_ids=existing)
            shard.forget(existing)
        if new:
            for doc, doc_id in zip(new, shard.table.insert_multiple(new)):
                shard.ids[doc["path"]] = doc_id
                shard.forget([doc_id])
            self._count += len(new)

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
            self._remove_now(paths)
            self._maybe_flush()

    def _remove_now(self, paths: Iterable[str]) -> None:
        with self._lock:
            grouped: dict[int, tuple[_Shard, list[str]]] = {}
            for path in paths:
                self._pending[path] = None
                shard = self._shard_for(path)
                if path in shard.ids:
                    grouped.setdefault(id(shard), (shard, []))[1].append(path)
            for shard, gone in grouped.values():
                doc_ids = [shard.ids.pop(p) for p in gone]
                shard.table.remove(doc_ids=doc_ids)
                shard.forget(doc_ids)
                self._count -= len(gone)

    def remove_missing(self) -> list[str]:
        """Purge tracks flagged ``missing`` by the scanner (their predictions and choices go too)."""
        with self._lock:
            gone = [doc["path"] for doc in self._docs() if doc.get("missing")]
            self.remove(gone)
            return gone

    def flush(self) -> None:
        """Write every changed file: new shards first, then the meta file, then the others.

        Under the inter-process lock, after re-reading what other processes changed (see above).
        """
        with self._lock, self._file_lock:
            if not self._pending and not self._pending_roots and not self._meta_storage.dirty \
                    and not any(s.storage.dirty for s in self._shards):
                return
            self._sync_from_disk()
            payloads: dict[int, bytes] = {}
            pending = [s for s in self._shards if s.storage.dirty]
            while pending:
                shard = pending.pop()
                payload = shard.serialize()
                self._keep_encoded(shard)
                if len(payload) > MAX_SHARD_BYTES and len(shard.ids) >= 2:
                    upper = self._split(shard, len(payload))
                    pending += [shard, upper]
                    continue
                payloads[id(shard)] = payload
            # New shard files must exist (durably) before the meta names them. One folder fsync
            # per step rather than one per file: each file itself is fsynced before its rename.
            created = False
            for shard in self._shards:
                if not shard.written and id(shard) in payloads:
                    shard.storage.flush(payloads.pop(id(shard)), sync_dir=False)
                    shard.written = created = True
            if created:
                fsync_dir(self.folder)
            self._meta_storage.flush()
            rewritten = False
            for shard in self._shards:
                if id(shard) in payloads:
                    shard.storage.flush(payloads[id(shard)], sync_dir=False)
                    shard.written = rewritten = True
            if rewritten:
                fsync_dir(self.folder)
            self._pending.clear()
            self._pending_roots.clear()

    def _keep_encoded(self, shard: _Shard) -> None:
        """Mark ``shard``'s JSON cache as recent; drop the cache of the least recent beyond the limit."""
        if shard in self._encoded_recent:
            self._encoded_recent.remove(shard)
        self._encoded_recent.append(shard)
        while len(self._encoded_recent) > ENCODED_SHARDS:
            self._encoded_recent.pop(0).encoded = {}

    def _split(self, shard: _Shard, payload_bytes: int) -> _Shard:
        """Move the upper part of ``shard`` to a new shard.

        At the median, except when the documents changed since the last flush are exactly the
        top of the range: that is a scan walking in path order (an append), and median splits
        would leave every lower shard half empty for good (more files, more splits). Then the
        lower shard keeps as many documents as fill 90% of ``MAX_SHARD_BYTES``.
        """
        paths = sorted(shard.ids)
        cut = len(paths) // 2
        changed = [p in self._pending for p in paths]
        first_changed = changed.index(True) if True in changed else len(paths)
        if first_changed < len(paths) and all(changed[first_changed:]):
            per_doc = payload_bytes / len(paths)
            cut = max(1, min(len(paths) - 1, int(0.9 * MAX_SHARD_BYTES / per_doc)))
        middle = paths[cut]
        upper = self._new_shard(middle)
        moving = paths[cut:]
        docs = shard.docs()
        moved = [dict(docs[str(shard.ids[p])]) for p in moving]
        for doc, doc_id in zip(moved, upper.table.insert_multiple(moved)):
            upper.ids[doc["path"]] = doc_id
            encoded = shard.encoded.get(str(shard.ids[doc["path"]]))
            if encoded is not None:  # the same document under a new id: its JSON moves along
                upper.encoded[str(doc_id)] = encoded
        doc_ids = [shard.ids.pop(p) for p in moving]
        shard.table.remove(doc_ids=doc_ids)
        shard.forget(doc_ids)
        log.debug("store: split %s at %r into %s", shard.file.name, middle, upper.file.name)
        return upper

    def close(self) -> None:
        with self._lock:
            self.flush()
            for shard in self._shards:
                shard.db.close()
            self._meta_db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- facts for doctor/bench
    def files(self) -> list[Path]:
        with self._lock:
            return [self.path] + [s.file for s in self._shards if s.file.exists()]

    def disk_usage(self) -> int:
        """Bytes on disk of the meta file and all shards."""
        return sum(p.stat().st_size for p in self.files() if p.exists())
