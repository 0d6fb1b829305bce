"""Unsaved changes as per-field patches, merged onto what other processes wrote; ordered writes.

Several processes (the GUI and the CLI) may open the same store. Opening and every flush hold an
inter-process lock (``store_lock``). Under it, a flush first compares each file it is about to
write with the version it last read or wrote (``store_files.signature``): a shard another process
rewrote meanwhile is re-read and this process's unsaved changes are merged onto it; if the meta
file changed (another process split a shard), the whole layout is re-read the same way.

Unsaved changes are kept per track as *patches* (:class:`Change`): the fields this process
changed relative to the record as it read it. An upsert of a whole Track is diffed against that
record, so a rescan changing the title does not re-apply a stale status or size. Merged onto the
freshly read record:

- fields only one process changed keep that change (a finished tag write in another process
  keeps its genres, status and size when this process then saves a prediction);
- a field both changed takes the value of the later flush, except that an analysis result never
  replaces the status of a decision (accepted, corrected, written) another process saved;
- a track this process removed is kept if another process changed it since this one read it, and
  a track this process changed comes back if another process removed it meanwhile: a removal
  drops the librarian's choices and predictions, a stale entry is only flagged missing again by
  the next scan. A removal of a track this process never had removes nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Iterable

from genre_desktop.core.status import REVIEWED
from genre_desktop.fsutil import fsync_dir
from genre_desktop.library import store_shards
from genre_desktop.library.store_files import signature
from genre_desktop.library.store_lock import StoreUnavailable
from genre_desktop.library.store_shards import Layout, Shard

log = logging.getLogger(__name__)


class _Drop:
    """In a patch: the key was removed (an extra field a caller dropped)."""

    def __repr__(self) -> str:
        return "<dropped>"


DROP = _Drop()


class Change:
    """This process's unsaved change to one track since the last flush.

    ``base``: the record as this process last read or wrote it (None: it had none); ``fields``:
    the fields it set since (name -> value, ``DROP`` for a removed key); ``whole``: ``fields`` is
    the entire record (this process inserted it); ``removed``: this process removed the track.
    """

    __slots__ = ("base", "fields", "whole", "removed")

    def __init__(self, base: dict[str, Any] | None) -> None:
        self.base = base
        self.fields: dict[str, Any] = {}
        self.whole = False
        self.removed = False


class Pending:
    """Every unsaved change of one process: tracks by path, and library roots added."""

    def __init__(self) -> None:
        self.tracks: dict[str, Change] = {}
        self.roots: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.tracks or self.roots)

    def __contains__(self, path: object) -> bool:
        return path in self.tracks

    def change(self, path: str, current: dict[str, Any] | None) -> Change:
        """The change of ``path``, started from the record as read (``current``) if there is none yet."""
        change = self.tracks.get(path)
        if change is None:
            change = self.tracks[path] = Change(None if current is None else dict(current))
        return change

    def clear(self) -> None:
        self.tracks.clear()
        self.roots.clear()


def _patch(doc: dict[str, Any], fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value


def _whole(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not DROP}


# --------------------------------------------------------------------------- changing in memory
def write_docs(layout: Layout, pending: Pending, shard: Shard, docs: dict[str, dict[str, Any]]) -> None:
    """Store whole records in ``shard``: a known track gets the fields that differ (recorded as a
    patch), a new one is inserted (recorded whole)."""
    changed: list[int] = []
    new: list[dict[str, Any]] = []
    stored = shard.docs()
    for path, doc in docs.items():
        doc_id = shard.ids.get(path)
        if doc_id is None:
            change = pending.change(path, None)
            change.fields, change.whole, change.removed = doc, True, False  # TinyDB stores its own copy
            new.append(doc)
            continue
        current = stored[str(doc_id)]
        patch = {k: v for k, v in doc.items() if k not in current or current[k] != v}
        patch.update((k, DROP) for k in current if k not in doc)
        if patch:
            pending.change(path, current).fields.update(patch)
            _patch(current, patch)
            changed.append(doc_id)
    if changed:
        shard.storage.dirty = True
        shard.forget(changed)
    if new:
        layout.insert_docs(shard, new)


def remove(layout: Layout, pending: Pending, paths: Iterable[str]) -> None:
    """Remove the tracks this process knows of (recorded with the record as read)."""
    grouped: dict[int, tuple[Shard, list[str]]] = {}
    for path in paths:
        shard = layout.shard_for(path)
        current = shard.doc(path)
        if current is None:  # nothing this process knows of: nothing to remove
            continue
        change = pending.change(path, current)
        change.fields, change.whole, change.removed = {}, False, True
        grouped.setdefault(id(shard), (shard, []))[1].append(path)
    for shard, gone in grouped.values():
        layout.drop_docs(shard, gone)


def merge(layout: Layout, pending: Pending, paths: Iterable[str]) -> None:
    """Apply this process's unsaved changes to ``paths`` again, onto freshly read records."""
    for path in list(paths):
        change = pending.tracks[path]
        shard = layout.shard_for(path)
        fresh = shard.doc(path)
        if change.removed:
            if fresh is None:
                continue
            if change.base is not None and fresh == change.base:
                layout.drop_docs(shard, [path])
            else:
                log.info("store: kept %s, which another process changed after this one removed it", path)
                del pending.tracks[path]
        elif fresh is not None:
            change.base = dict(fresh)  # this process has now seen the other's version
            _keep_decision(fresh, change)
            _patch(fresh, change.fields)
            shard.storage.dirty = True
            shard.forget([shard.ids[path]])
        else:
            if not (change.whole or change.base is None):
                log.info("store: kept %s, which another process removed after this one changed it", path)
                change.fields = {**change.base, **change.fields}
            layout.insert_docs(shard, [_whole(change.fields)])
            change.base, change.whole = None, True


def _keep_decision(fresh: dict[str, Any], change: Change) -> None:
    """An analysis result (a patch setting ``prediction`` and ``status``) saved after another
    process recorded the librarian's decision (accepted, corrected, written) refreshes the
    prediction but leaves the decision's status, as re-analysing a reviewed track does in one
    process (``app.workflow.prediction_fields``)."""
    fields = change.fields
    if "prediction" in fields and fields.get("status") not in (None, *REVIEWED) \
            and fresh.get("status") in REVIEWED:
        log.info("store: kept the status %r another process saved for %s", fresh["status"], fresh.get("path"))
        change.fields = {k: v for k, v in fields.items() if k != "status"}


# --------------------------------------------------------------------------- reading others' writes
def lost_files(layout: Layout) -> list[Path]:
    """Files of the store this process read or wrote that are gone from disk (someone deleted the
    store, or its folder, while it was open). Its tracks are still in memory."""
    gone = [layout.path] if layout.meta_storage.signature is not None and not layout.path.exists() else []
    return gone + [s.file for s in layout.shards if s.written and not s.file.exists()]


def changed_on_disk(layout: Layout) -> bool:
    """Another process rewrote (or someone deleted) a file of the store since this process last
    read or wrote it: one ``stat`` per file, no reading."""
    if layout.meta_storage.signature != signature(layout.path):
        return True
    return any(s.written and s.storage.signature != signature(s.file) for s in layout.shards)


def _by_path(docs: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {doc["path"]: doc for doc in docs}


def sync_from_disk(layout: Layout, pending: Pending, reread: Callable[[], Layout],
                   everything: bool = False, changes: dict[str, bool] | None = None) -> Layout:
    """Under the file lock: pick up other processes' writes before writing ours.

    Returns the layout to use from now on: ``reread()`` builds a new one when another process
    changed the meta file; this process's changes are merged onto it. ``changes``, if given,
    receives the paths whose stored record differs from what this process had before (True: the
    track is stored now, False: it is gone). Raises :class:`StoreLost` when a file this process
    read is gone: re-reading then would replace the library by an empty one."""
    gone = lost_files(layout)
    if gone:
        raise StoreLost(layout.path, gone)
    if layout.meta_storage.signature != signature(layout.path):
        log.info("store: another process changed the layout; re-reading it")
        before = _by_path(dict(d) for d in layout.docs()) if changes is not None else {}
        layout = reread()
        for root in pending.roots:
            layout.add_root(root)
        merge(layout, pending, list(pending.tracks))
        if changes is not None:
            _diff(before, _by_path(layout.docs()), changes)
        return layout
    for shard in layout.shards:
        if (everything or shard.storage.dirty) and shard.written \
                and shard.storage.signature != signature(shard.file):
            log.debug("store: %s was rewritten by another process; re-reading it", shard.file.name)
            before = _by_path(dict(d) for d in shard.docs().values()) if changes is not None else {}
            layout.reload_shard(shard)
            merge(layout, pending, [p for p in pending.tracks if layout.shard_for(p) is shard])
            if changes is not None:
                _diff(before, _by_path(shard.docs().values()), changes)
    return layout


def _diff(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], changes: dict[str, bool]) -> None:
    for path, doc in after.items():
        if before.get(path) != doc:
            changes[path] = True
    for path in before.keys() - after.keys():
        changes.setdefault(path, False)  # moved to another shard by a split: that shard says True


class StoreLost(StoreUnavailable):
    """Files of an open store were deleted under it; its tracks are still in memory
    (``Store.restore()`` writes them back)."""

    def __init__(self, path: Path, gone: list[Path]) -> None:
        self.path, self.gone = path, gone
        super().__init__(f"the library file {path} (or its folder) was deleted while it was open; the library "
                         f"is still in memory and can be saved again")


# --------------------------------------------------------------------------- writing
def write(layout: Layout, pending: Pending) -> None:
    """Write every changed file: new shards first, then the meta file, then the others.

    Shards grown past ``MAX_SHARD_BYTES`` are split first. New shard files must exist (durably)
    before the meta file names them; one folder fsync per step rather than one per file (each
    file itself is fsynced before its rename)."""
    payloads: dict[int, bytes] = {}
    todo = [s for s in layout.shards if s.storage.dirty]
    while todo:
        shard = todo.pop()
        payload = shard.serialize()
        layout.keep_encoded(shard)
        if len(payload) > store_shards.MAX_SHARD_BYTES and len(shard.ids) >= 2:
            todo += [shard, *layout.split(shard, len(payload), pending)]
            continue
        payloads[id(shard)] = payload
    created = False
    for shard in layout.shards:
        if not shard.written and id(shard) in payloads:
            shard.storage.flush(payloads.pop(id(shard)), sync_dir=False)
            shard.written = created = True
    if created:
        fsync_dir(layout.folder)
    layout.meta_storage.flush()
    rewritten = False
    for shard in layout.shards:
        if id(shard) in payloads:
            shard.storage.flush(payloads[id(shard)], sync_dir=False)
            shard.written = rewritten = True
    if rewritten:
        fsync_dir(layout.folder)
    pending.clear()
