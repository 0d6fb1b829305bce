"""The store's format version, compared on open, and the ordered migrations from older versions.

The meta file's header carries ``format``. On open (under the inter-process lock):

- a store written by a *newer* version of the app is refused (:class:`StoreTooNew`), before
  anything is written: this version does not know what the newer one changed;
- a store from an *older* version is first copied to ``<store>.backup-v<N>-<timestamp>/`` (the
  meta file and the shards folder), then each migration from its version upward runs in order
  (``MIGRATIONS``: version N -> N + 1, each a small function over the loaded layout), as beets'
  dbcore does. The migrated shards are written first; the header then records the new version
  and the migration's name in one atomic write of the meta file. A crash before that write
  leaves the old version recorded, so the migration runs again on the next open: migrations
  must be idempotent. A migration already recorded by name is never run twice.

Migrations work on the loaded documents and header: one that changes the layout itself (the
meta file or the shard files' shape) needs a hook before loading, which nothing needs yet.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

from genre_desktop.library.store_lock import StoreUnavailable
from genre_desktop.library.store_shards import Layout
from genre_desktop.core.track import Track

log = logging.getLogger(__name__)

FORMAT_VERSION = 2


class StoreTooNew(StoreUnavailable):
    """The store was written by a newer version of the app; this one must not change it."""


def _fill_track_defaults(layout: Layout) -> None:
    """1 -> 2: give every track document every Track field (missing ones get their default).

    Version 1 stores could hold documents written before a field existed; ``Track`` objects filled
    the default in, but queries over the raw documents did not (a track without ``status`` was not
    found by ``query(status="unanalysed")``)."""
    defaults = {}
    for f in dataclasses.fields(Track):
        if f.name in ("path", "extra"):
            continue
        defaults[f.name] = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    for shard in layout.shards:
        changed = []
        for doc_id, doc in shard.docs().items():
            missing = [name for name in defaults if name not in doc]
            if missing:
                doc.update((name, copy.deepcopy(defaults[name])) for name in missing)
                changed.append(int(doc_id))
        if changed:
            shard.storage.dirty = True
            shard.forget(changed)


# (version it migrates to, name recorded in the header, function); in order, one step each.
MIGRATIONS: tuple[tuple[int, str, Callable[[Layout], None]], ...] = (
    (2, "fill-track-defaults", _fill_track_defaults),
)


def stored_version(layout: Layout) -> int | None:
    """The format version the meta file records (None: a new store)."""
    header = layout.header()
    return None if header is None else int(header.get("format", 1))


def refuse_newer(layout: Layout) -> None:
    """Raise StoreTooNew for a store written by a newer version of the app."""
    version = stored_version(layout)
    if version is not None and version > FORMAT_VERSION:
        raise StoreTooNew(
            f"the library store {layout.path} was written by a newer version of Genre Desktop "
            f"(store format {version}; this version reads up to format {FORMAT_VERSION}). "
            f"Use the newer version, or open another store; this one was left unchanged.")


def backup(layout: Layout, version: int) -> Path:
    """Copy the meta file and the shards folder to ``<store>.backup-v<version>-<timestamp>/``."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = layout.path.with_name(f"{layout.path.name}.backup-v{version}-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = layout.path.with_name(f"{layout.path.name}.backup-v{version}-{stamp}-{n}")
    target.mkdir()
    if layout.path.exists():
        shutil.copy2(layout.path, target / layout.path.name)
    if layout.folder.exists():
        shutil.copytree(layout.folder, target / layout.folder.name, ignore=shutil.ignore_patterns(".*.tmp"))
    log.info("store: backed up format %d store to %s before migrating", version, target)
    return target


def migrate(layout: Layout, write: Callable[[], None]) -> Path | None:
    """Bring a loaded store of an older format up to ``FORMAT_VERSION``; returns the backup made.

    ``write()`` writes the changed shards and the meta file (under the caller's lock)."""
    version = stored_version(layout)
    if version is None or version >= FORMAT_VERSION:
        return None
    saved = backup(layout, version)
    for target, name, step in MIGRATIONS:
        if target <= version:
            continue
        done = list((layout.header() or {}).get("migrations", []))
        if name in done:
            log.info("store: migration %s is already recorded; not running it again", name)
        else:
            log.info("store: migrating format %d -> %d (%s)", target - 1, target, name)
            step(layout)
            write()  # the migrated shards first: the header below says they are done
            done.append(name)
        layout.set_header(format=target, migrations=done)
        layout.meta_storage.flush()
        version = target
    return saved
