"""The store's layout: range shards, the meta file that lists them, and recovery on open.

``library.json`` (the meta file) holds the header (format version, next shard number, library
roots, migrations applied) and the list of shards, each the lowest path it holds and its file
name; ``library.json.shards/s000001.json ...`` hold the tracks, one TinyDB table each. A shard
holds a contiguous range of paths, so a scan (which walks in sorted order) fills one or two
shards per batch and one change rewrites one file of at most ``MAX_SHARD_BYTES``. Why ranges and
the figures behind them: see ``library/store.py``.

Recovery: a corrupt file is renamed ``<name>.corrupt-<timestamp>`` (added to ``recovered_from``)
and that part starts empty; a corrupt or missing meta file is rebuilt from the shard files;
shard files the meta file does not name (a crash before it was written) and temporary files are
removed; a track found outside its shard's range (a crash in the middle of a split, see
:meth:`Layout.split`) is moved to the shard that owns it unless that shard has its own copy.
"""

from __future__ import annotations

import bisect
import logging
import re
from pathlib import Path
from typing import Any, Callable, Container, Iterable, Iterator

from tinydb import TinyDB

from genre_desktop.library.store_files import AtomicJSONStorage, CorruptFile, Given, backup_corrupt, dumps_compact

log = logging.getLogger(__name__)

MAX_SHARD_BYTES = 256 * 1024
# Shards whose per-document JSON stays cached after a flush (the most recently written ones:
# a scan appends to one shard, a review edits one album). Bounds the cache to a few MB.
ENCODED_SHARDS = 8
TRACKS = "tracks"
SHARD_NAME = re.compile(r"^s\d{6}\.json$")


class Shard:
    """One shard file: its path range starts at ``low``; ``ids`` maps path -> TinyDB doc_id."""

    def __init__(self, low: str, file: Path, storage: AtomicJSONStorage) -> None:
        self.low = low
        self.file = file
        self.ids: dict[str, int] = {}
        self.written = file.exists()
        self.use(storage)

    def use(self, storage: AtomicJSONStorage) -> None:
        """(Re)read the shard from ``storage``: another process may have rewritten the file."""
        self.storage = storage
        self.db = TinyDB(storage=Given(storage))
        self.table = self.db.table(TRACKS, cache_size=0)
        self.ids = {}
        # doc_id key -> the document's compact JSON, so a flush encodes only changed documents
        # (every change to a document drops its entry: see forget()).
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
        """The raw documents keyed by doc_id string (in memory; changed only through the store)."""
        return (self.storage.read() or {}).get(TRACKS, {})

    def doc(self, path: str) -> dict[str, Any] | None:
        doc_id = self.ids.get(path)
        return None if doc_id is None else self.docs()[str(doc_id)]


def read_meta(path: Path, recovered: list[Path]) -> AtomicJSONStorage:
    """The meta file's storage; a corrupt one is backed up (added to ``recovered``) and starts empty."""
    try:
        meta_storage = AtomicJSONStorage(path, deferred=True)
        meta = (meta_storage.read() or {}).get("meta", {}).get("1")
        if meta_storage.read() is not None and (not isinstance(meta, dict) or "format" not in meta):
            raise CorruptFile(f"{path}: no store header")
    except CorruptFile as exc:
        log.warning("%s", exc)
        recovered.append(backup_corrupt(path))
        meta_storage = AtomicJSONStorage(path, deferred=True)
    return meta_storage


class Layout:
    """The meta file and the shards of one store, in memory: which shard holds which path."""

    def __init__(self, path: Path, recovered: list[Path]) -> None:
        self.path = path
        self.folder = path.with_name(path.name + ".shards")
        self.recovered_from = recovered
        self.meta_storage = read_meta(path, recovered)
        self.meta_db = TinyDB(storage=Given(self.meta_storage))
        self.shards: list[Shard] = []
        self.lows: list[str] = []
        self.count = 0
        self.encoded_recent: list[Shard] = []  # shards holding a JSON cache, oldest first

    # ----------------------------------------------------------------- the header
    def header(self) -> dict[str, Any] | None:
        """The meta file's header (format, next_file, roots, migrations); None for a new store."""
        return self.meta_db.table("meta", cache_size=0).get(doc_id=1)

    def set_header(self, **fields: Any) -> None:
        self.meta_db.table("meta", cache_size=0).update(fields, doc_ids=[1])

    @property
    def roots(self) -> list[str]:
        return [str(r) for r in (self.header() or {}).get("roots", [])]

    def add_root(self, root: str) -> None:
        self.set_header(roots=[r for r in self.roots if r != root] + [root])

    # ----------------------------------------------------------------- loading
    def load(self, format_version: int, flush: Callable[[], None]) -> None:
        """Read every shard the meta file names (recovering what a crash or damage left)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        shards_table = self.meta_db.table("shards", cache_size=0)
        entries = sorted(shards_table.all(), key=lambda e: e.get("low", ""))
        if self.meta_storage.read() is None or not entries:
            self._rebuild(format_version, flush)
            return
        for number, entry in enumerate(entries):
            # The first shard must start at "" so that every path has a shard.
            self._add_shard("" if number == 0 else str(entry["low"]), str(entry["file"]))
        self._remove_orphans({s.file.name for s in self.shards})
        self._place_all()

    def _shard_storage(self, file: Path) -> AtomicJSONStorage:
        try:
            storage = AtomicJSONStorage(file, deferred=True)
            docs = (storage.read() or {}).get(TRACKS, {})
            if not all(isinstance(d, dict) and isinstance(d.get("path"), str) for d in docs.values()):
                raise CorruptFile(f"{file}: a track without a path")
        except CorruptFile as exc:
            log.warning("%s", exc)
            self.recovered_from.append(backup_corrupt(file))
            storage = AtomicJSONStorage(file, deferred=True)
        return storage

    def _add_shard(self, low: str, name: str) -> Shard:
        file = self.folder / name
        shard = Shard(low, file, self._shard_storage(file))
        index = bisect.bisect_right(self.lows, low)
        self.lows.insert(index, low)
        self.shards.insert(index, shard)
        return shard

    def reload_shard(self, shard: Shard) -> None:
        """Re-read one shard file that another process rewrote (this process's changes are lost
        from memory: the caller merges them again)."""
        self.count -= len(shard.ids)
        shard.use(self._shard_storage(shard.file))
        for doc_id, doc in shard.docs().items():
            if doc["path"] not in shard.ids:
                shard.ids[doc["path"]] = int(doc_id)
        self.count += len(shard.ids)

    def _place_all(self) -> None:
        """Index every document; one outside its shard's range (a crash mid-split) is moved."""
        strays: list[tuple[Shard, int, dict[str, Any]]] = []
        for shard in self.shards:
            for doc_id, doc in shard.docs().items():
                path = doc["path"]
                if self.shard_for(path) is shard and path not in shard.ids:
                    shard.ids[path] = int(doc_id)
                    self.count += 1
                else:
                    strays.append((shard, int(doc_id), doc))
        # The right shard's copy wins: it was written after the meta file that created it.
        for shard, doc_id, doc in strays:
            owner = self.shard_for(doc["path"])
            if doc["path"] not in owner.ids:
                self.insert_docs(owner, [dict(doc)])
            shard.table.remove(doc_ids=[doc_id])
            shard.forget([doc_id])
        if strays:
            log.info("store: %d tracks were outside their shard's range, re-placed", len(strays))

    def _remove_orphans(self, known: set[str]) -> None:
        """Shard files not in the meta file come from a crash before the meta was written."""
        for entry in self.folder.iterdir():
            name = entry.name
            if (SHARD_NAME.match(name) and name not in known) or (name.startswith(".s") and name.endswith(".tmp")):
                log.info("store: removing leftover %s", entry)
                entry.unlink(missing_ok=True)

    def _rebuild(self, format_version: int, flush: Callable[[], None]) -> None:
        """No (usable) meta file: start a layout, taking in the tracks of any shard files found."""
        found: dict[str, dict[str, Any]] = {}
        old_files = sorted(p for p in self.folder.iterdir() if SHARD_NAME.match(p.name))
        for file in old_files:
            try:
                docs = (AtomicJSONStorage(file).read() or {}).get(TRACKS, {})
            except CorruptFile as exc:
                log.warning("%s", exc)
                self.recovered_from.append(backup_corrupt(file))
                continue
            for doc in docs.values():
                if isinstance(doc, dict) and isinstance(doc.get("path"), str):
                    found[doc["path"]] = doc
        self.meta_db.drop_tables()
        # Tracks taken in from shard files are of an unknown format: record the oldest, so that the
        # (idempotent) migrations bring them up to date.
        self.meta_db.table("meta", cache_size=0).insert({"format": 1 if found else format_version, "next_file": 1})
        first = self.new_shard("")
        if found:
            log.warning("store: rebuilt the index from %d shard files (%d tracks)", len(old_files), len(found))
            self.insert_docs(first, list(found.values()))
        flush()  # writes the new shards (split to size) and then the meta file
        live = {s.file.name for s in self.shards}
        for file in old_files:
            if file.name not in live:
                file.unlink(missing_ok=True)

    # ----------------------------------------------------------------- reading and changing
    def shard_for(self, path: str) -> Shard:
        return self.shards[bisect.bisect_right(self.lows, path) - 1]

    def docs(self) -> Iterator[dict[str, Any]]:
        for shard in self.shards:
            yield from shard.docs().values()

    def insert_docs(self, shard: Shard, docs: list[dict[str, Any]]) -> None:
        """Add new tracks (not yet in ``shard``) to ``shard``."""
        for doc, doc_id in zip(docs, shard.table.insert_multiple(docs)):
            shard.ids[doc["path"]] = doc_id
            shard.forget([doc_id])
        self.count += len(docs)

    def drop_docs(self, shard: Shard, paths: list[str]) -> None:
        doc_ids = [shard.ids.pop(p) for p in paths]
        shard.table.remove(doc_ids=doc_ids)
        shard.forget(doc_ids)
        self.count -= len(paths)

    def new_shard(self, low: str) -> Shard:
        header = self.header()
        number = int(header.get("next_file", 1)) if header else 1
        while (self.folder / f"s{number:06d}.json").exists():
            number += 1
        name = f"s{number:06d}.json"
        self.set_header(next_file=number + 1)
        self.meta_db.table("shards", cache_size=0).insert({"low": low, "file": name})
        shard = self._add_shard(low, name)
        shard.written = False
        return shard

    def split(self, shard: Shard, payload_bytes: int, changed: Container[str]) -> list[Shard]:
        """Move the upper part of ``shard`` to new shards; returns them.

        At the median, except when the documents changed since the last flush (``changed``) are
        exactly the top of the range: that is a scan walking in path order (an append), and
        median splits would leave every lower shard half empty for good (more files, more
        splits). Then the range is cut into runs of as many documents as fill 90% of
        ``MAX_SHARD_BYTES``, all at once: one batch of 100,000 new tracks moves each document
        once instead of once per split (which was quadratic).

        New upper shards are written first, then the meta file, then the shrunken lower shard
        (see ``store_sync.write``); a crash between the last two leaves strays (``_place_all``).
        """
        paths = sorted(shard.ids)
        cuts = [len(paths) // 2]
        flags = [p in changed for p in paths]
        first_changed = flags.index(True) if True in flags else len(paths)
        if first_changed < len(paths) and all(flags[first_changed:]):
            per_doc = payload_bytes / len(paths)
            step = max(1, min(len(paths) - 1, int(0.9 * MAX_SHARD_BYTES / per_doc)))
            cuts = list(range(step, len(paths), step))
        docs = shard.docs()
        uppers = []
        for start, stop in zip(cuts, cuts[1:] + [len(paths)]):
            upper = self.new_shard(paths[start])
            moved = [dict(docs[str(shard.ids[p])]) for p in paths[start:stop]]
            for doc, doc_id in zip(moved, upper.table.insert_multiple(moved)):
                upper.ids[doc["path"]] = doc_id
                encoded = shard.encoded.get(str(shard.ids[doc["path"]]))
                if encoded is not None:  # the same document under a new id: its JSON moves along
                    upper.encoded[str(doc_id)] = encoded
            uppers.append(upper)
        doc_ids = [shard.ids.pop(p) for p in paths[cuts[0]:]]
        shard.table.remove(doc_ids=doc_ids)
        shard.forget(doc_ids)
        log.debug("store: split %s at %r into %s", shard.file.name, paths[cuts[0]],
                  ", ".join(u.file.name for u in uppers))
        return uppers

    def keep_encoded(self, shard: Shard) -> None:
        """Mark ``shard``'s JSON cache as recent; drop the cache of the least recent beyond the limit."""
        if shard in self.encoded_recent:
            self.encoded_recent.remove(shard)
        self.encoded_recent.append(shard)
        while len(self.encoded_recent) > ENCODED_SHARDS:
            self.encoded_recent.pop(0).encoded = {}

    def files(self) -> list[Path]:
        return [self.path] + [s.file for s in self.shards if s.file.exists()]

    def close(self) -> None:
        for shard in self.shards:
            shard.db.close()
        self.meta_db.close()
