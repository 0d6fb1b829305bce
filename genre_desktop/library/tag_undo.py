"""Undo of journaled tag writes: byte for byte from the undo data, else genre by genre.

Undo walks the journal backwards: the last N write batches that still have something to undo (or
all of them), newest entry first. For each write:

- **Byte for byte** (a write made with undo data, not expired): only if the file is still the one
  the write left (its SHA-256 is the written one) is the original rebuilt from the undo data
  (``tagging.restore``) and put in its place; its SHA-256 is checked first. A file that is the
  original already (a crash before the rename) has nothing to undo.
- **The file changed since the write** (another program edited it): undo says so and leaves it;
  the entry is marked (``undo-refused``) so later undos do not report it again, and
  ``genre_level=True`` (the user's choice) puts back only the old genres into the file as it is.
- **Genre by genre** (entries from before undo data existed, and expired ones): the old genre
  values are written back exactly as they were stored, if the file still holds the written ones.

An entry whose undo fails never stops the others. Undo is journaled (kind "undo", pointing at the
write it reverts), so nothing is undone twice.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from genre_desktop.core.status import PREDICTED, UNANALYSED
from genre_desktop.library.journal import DONE, PENDING, UNDO, WRITE, JournalEntry
from genre_desktop.library.undo_store import UndoDataError
from genre_desktop.tagging import TagError, WriteOptions
from genre_desktop.tagging.reasons import quoted
from genre_desktop.tagging.restore import FileChanged, restore_original
from genre_desktop.tagging.working_copy import sha256_of

if TYPE_CHECKING:
    from genre_desktop.core.track import Track
    from genre_desktop.library.journal import Journal
    from genre_desktop.library.store import Store
    from genre_desktop.library.undo_store import UndoStore
    from genre_desktop.tagging import FileTags

log = logging.getLogger(__name__)


class UndoHost(Protocol):
    """What undo uses of the tag service (``library.tag_service.TagService``, which calls this
    module): its store, journal, undo data and options, and the write steps it shares with a
    write (pre-flight, read-back, apply, mark). Typed against this, undo never imports the service,
    so the two modules import one way."""

    store: Store
    journal: Journal
    undo_store: UndoStore
    options: WriteOptions

    def _done(self, entry_id: str) -> None: ...

    def _apply(self, entry: JournalEntry, track: Track, genres: list[str], status: str, options: WriteOptions,
               raw: list[str] | None = None, other: dict[str, str | None] | None = None,
               fields: dict | None = None, write: dict[str, list[str]] | None = None) -> WriteResult: ...

    def _preflight(self, track: Track) -> None: ...

    def _read_tags(self, path: str, options: WriteOptions) -> FileTags: ...

    def _read(self, path: str, options: WriteOptions | None = None) -> list[str]: ...

    def _same(self, got: list[str], wanted: list[str], options: WriteOptions | None = None) -> bool: ...

    def _mark(self, track: Track, genres: list[str], status: str, styles: list[str] | None = None) -> Any: ...

INTERRUPTED = "interrupted before the file was written"
READ_ONLY = "read-only file: not written"
GENRES = "genres"  # WriteResult.offer: the old genres can be put back into the file as it is now


@dataclass
class WriteResult:
    """One file's outcome. For undo: ``exact`` says whether the file came back byte for byte (True)
    or only its genres (False, ``note`` says why); ``offer`` is ``"genres"`` when a failed undo
    could still put the old genres back (``undo(genre_level=True)``)."""

    path: str
    old: list[str]  # genres
    new: list[str]
    ok: bool
    error: str | None = None
    exact: bool | None = None
    note: str | None = None
    offer: str | None = None
    # Other fields a write changed: name ("style") -> (old values, new values).
    fields: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)


class _Refused(Exception):
    """A file that must not be written; the message is the reason shown to the user."""


def candidates(service: "UndoHost", last: int | None, all_: bool, genre_level: bool) -> list[JournalEntry]:
    """The write entries to undo, newest first."""
    journal = service.journal
    undone = journal.undone_ids()
    batches = [
        (batch, [e for e in entries if e.touched_file and e.id not in undone
                 and (genre_level or e.undo_refused is None)])
        for batch, entries in journal.batches(kind=WRITE)
    ]
    batches = [(b, entries) for b, entries in batches if entries]
    if not all_:
        batches = batches[-(last or 1):] if (last or 1) > 0 else []
    return [entry for _, entries in reversed(batches) for entry in reversed(entries)]


def undo_one(service: "UndoHost", batch: str, entry: JournalEntry, genre_level: bool) -> WriteResult:
    path = entry.path
    track = service.store.get(path)
    if track is None:
        return WriteResult(path, entry.new, entry.old, False, "no longer in the library")
    if not os.path.exists(path):
        return WriteResult(path, entry.new, entry.old, False, "file vanished since the write")
    if entry.undo is None:  # written before undo data existed
        return undo_genres(service, batch, entry)
    if entry.expired is not None:
        return undo_genres(service, batch, entry, note="its undo data had expired, so only its genres were put back")
    try:
        return _undo_exact(service, batch, entry, genre_level)
    except UndoDataError as exc:
        reason = f"cannot be undone byte for byte: {exc}"
        if genre_level:
            return undo_genres(service, batch, entry, note=f"{reason}; only its genres were put back", preflight=False)
        return _left(service, entry, reason, offer=True)


def _undo_exact(service: "UndoHost", batch: str, entry: JournalEntry, genre_level: bool) -> WriteResult:
    path = entry.path
    recipe = service.undo_store.recipe(str(entry.undo["recipe"]))
    try:
        before = os.stat(path)
        current = sha256_of(path)
    except OSError as exc:
        return WriteResult(path, entry.new, entry.old, False, f"cannot read the file: {exc.strerror or exc}")
    restore_status = _restore_status(service, entry)
    if current == (recipe["sha256"], recipe["size"]):  # the original already: nothing to undo
        if entry.state == PENDING:  # a crash before the rename
            service.journal.failed(entry.id, INTERRUPTED)
            return WriteResult(path, entry.old, entry.old, True, exact=True)
        undo = service.journal.intent(batch, path, entry.new, entry.old, kind=UNDO, undoes=entry.id)
        service._done(undo.id)
        _mark_now(service, path, entry.old, restore_status)
        return WriteResult(path, entry.new, entry.old, True, exact=True)
    if current != (recipe["written_sha256"], recipe["written_size"]):
        if genre_level:
            return undo_genres(service, batch, entry, preflight=False,
                               note="the file changed since the write, so only its genres were put back")
        return _left(service, entry, "the file changed since the write (another program edited it), so it "
                                     "cannot be given back byte for byte", offer=True)
    if not _writable(path, before):
        return WriteResult(path, entry.new, entry.old, False, READ_ONLY)
    if entry.state == PENDING:  # a crash after the rename: settle the write first
        service._done(entry.id)
    now = _genres(service, path, entry.new)
    undo = service.journal.intent(batch, path, now, entry.old, kind=UNDO, undoes=entry.id, extra={"exact": True})
    try:
        restore_original(path, recipe["ops"], service.undo_store.literal(recipe), sha256=recipe["sha256"],
                         size=recipe["size"], written_sha256=recipe["written_sha256"],
                         written_size=recipe["written_size"], checked=(before, current))
    except (TagError, UndoDataError) as exc:
        reason = exc.reason if isinstance(exc, TagError) else f"cannot be undone byte for byte: {exc}"
        service.journal.failed(undo.id, reason)
        if isinstance(exc, FileChanged):  # changed between the check and the restore
            return _left(service, entry, reason, offer=True)
        log.warning("undo of the write to %s failed: %s", path, reason)
        return WriteResult(path, now, entry.old, False, f"undo failed, the file is unchanged: {reason}")
    _mark_now(service, path, entry.old, restore_status)
    service._done(undo.id)
    return WriteResult(path, now, entry.old, True, exact=True)


def _left(service: "UndoHost", entry: JournalEntry, reason: str, offer: bool) -> WriteResult:
    """Undo leaves this file: say why, once (later undos skip it unless the user asks for genres)."""
    current = entry.new
    try:
        current = service._read(entry.path)
        can_offer = offer and entry.resolve(current) in ("new", "old")
    except Exception:  # noqa: BLE001 - unreadable tags: nothing to offer
        can_offer = False
    if entry.undo_refused is None:
        service.journal.undo_refused(entry.id, reason)
    return WriteResult(entry.path, current, entry.old, False, reason, offer=GENRES if can_offer else None)


def undo_genres(service: "UndoHost", batch: str, entry: JournalEntry, note: str | None = None,
                preflight: bool = True) -> WriteResult:
    """Put the old genre values back into the file as it is (entries without usable undo data).

    ``preflight``: the file must be the one the store knows (not asked when the user chose this
    for a file that changed since the write)."""
    path = entry.path
    track = service.store.get(path)
    try:
        if entry.state == DONE and preflight:
            service._preflight(track)
        current = service._read(path)
    except _Refused as exc:
        return WriteResult(path, entry.new, entry.old, False, str(exc))
    except TagError as exc:
        return WriteResult(path, entry.new, entry.old, False, exc.reason)
    side = entry.resolve(current) if not service._same(current, entry.new) else "new"
    restore_status = _restore_status(service, entry)
    if entry.state == PENDING and side == "old":  # a crash before the write: nothing to undo
        service.journal.failed(entry.id, INTERRUPTED)
        return WriteResult(path, current, entry.old, True, exact=False)
    if entry.state == PENDING and side == "new":  # a crash after the write: settle it first
        service._done(entry.id)
    if side == "old":  # someone already put the old genres back: record it, change nothing
        undo = service.journal.intent(batch, path, current, entry.old, kind=UNDO, undoes=entry.id)
        service._done(undo.id)
        service._mark(track, current, restore_status)
        return WriteResult(path, current, entry.old, True, exact=False, note=note)
    if side == "neither":
        return WriteResult(path, current, entry.old, False,
                           f"genres changed since the write (now {quoted(current)}); not undone")
    if not _writable(path, os.stat(path)):
        return WriteResult(path, current, entry.old, False, READ_ONLY)
    options = _restore_options(service, entry)
    undo = service.journal.intent(batch, path, current, entry.old, kind=UNDO, undoes=entry.id,
                                  extra={k: v for k, v in entry.extra.items() if k.startswith("id3_")})
    other = entry.extra.get("raw_other_old")
    fields = entry.extra.get("raw_fields_old")  # every declared field's places as stored
    if isinstance(fields, dict) and not preflight:  # a file another program changed: keep its edits,
        fields = {name: places for name, places in fields.items() if name in entry.fields}  # ours only
    result = service._apply(undo, track, list(entry.old), restore_status, options, raw=_restore_values(entry),
                            other=other if isinstance(other, dict) else None,
                            fields=fields if isinstance(fields, dict) else None)
    result.exact, result.note = False, note if result.ok else None
    if not result.ok:
        result.error = f"undo failed: {result.error}"
    return result


def _mark_now(service: "UndoHost", path: str, genres: list[str], status: str) -> None:
    """Record the restored file in the store as it reads now (its genres and styles)."""
    try:
        tags = service._read_tags(path, service.options)
        genres, styles = list(tags.genres), list(tags.styles)
    except Exception:  # noqa: BLE001 - a file whose tags do not parse: what the journal says
        styles = None
    service._mark(service.store.get(path), genres, status, styles)


def _genres(service: "UndoHost", path: str, fallback: list[str]) -> list[str]:
    try:
        return service._read(path)
    except Exception:  # noqa: BLE001 - a file whose tags do not parse: what the journal says
        return list(fallback)


def _restore_status(service: "UndoHost", entry: JournalEntry) -> str:
    track = service.store.get(entry.path)
    return entry.extra.get("status") or (PREDICTED if track is not None and track.prediction else UNANALYSED)


def _restore_options(service: "UndoHost", entry: JournalEntry) -> WriteOptions:
    """The options that put ``entry.old`` back as the file had it (its ID3 version and separator)."""
    version = entry.extra.get("id3_version")
    if version not in (3, 4):
        return service.options
    return WriteOptions(id3_version=version,
                        id3_separator=entry.extra.get("id3_separator") or service.options.id3_separator)


def _restore_values(entry: JournalEntry) -> list[str] | None:
    """The values undo writes back exactly (None: the legacy path, genres written as new ones).

    Entries journaled before raw values were recorded hold only the genres as read; for an
    ID3v2.3 file those were split on the separator, so they are written back joined, as before.
    """
    raw = entry.extra.get("raw_old")
    if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
        return list(raw)
    if entry.extra.get("id3_version") == 3:
        return None
    return list(entry.old)


def _writable(path: str, st: os.stat_result) -> bool:
    """No write permission, or no write bit at all: a file marked read-only is respected even by root."""
    import stat

    return bool(st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)
