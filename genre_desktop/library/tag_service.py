"""Journaled, verified, proven genre writes, and their undo.

For each file of a batch: check it is still the file the store knows (exists, writable, same size
and mtime as scanned: otherwise "changed on disk since the scan: rescan first"), read its current
genres, journal the intent, write (the tagging layer verifies the copy and proves it can give the
original back byte for byte; the undo data is stored beside the journal and journaled before the
file is replaced), read back and compare, update the store (genres, status WRITTEN, new
size/mtime), journal "done". A failing file is reported and never stops the batch.

Undo (``tag_undo``) gives each file back byte for byte from that data, or, for writes without
it, puts the old genres back. ``recover()`` settles entries left pending by a crash. After a batch
the undo data no longer needed is removed and the oldest expires past the user's limits
(``undo_expiry``), while no other process writes under the journal.

- A write that fails or does not verify after it may have changed the file (a mismatch on read
  back, an error of an in-place save) is journaled "failed" *with the genres found* in the file;
  undo treats such an entry like a done one, so the old genres can always be put back.
- The intent records the file's ID3 version (and the v2.3 separator): a genre-level undo writes
  the old genres back as the version the file had.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterable, Iterator, Mapping, Sequence

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.library import tag_undo, undo_expiry
from genre_desktop.library.journal import WRITE, Journal, JournalEntry
from genre_desktop.library.store import Store
from genre_desktop.core.status import ERROR, UNANALYSED, WRITTEN
from genre_desktop.core.track import Track
from genre_desktop.library.tag_undo import INTERRUPTED, READ_ONLY, WriteResult, _Refused, _writable
from genre_desktop.library.undo_expiry import UndoLimits
from genre_desktop.library.undo_store import UndoStore
from genre_desktop.tagging import TagError, WriteOptions, read_tags, restore_fields, write_fields, write_genres
from genre_desktop.tagging.files import remove_working_copies
from genre_desktop.tagging.rebuild import UndoData
from genre_desktop.tagging.reasons import quoted

__all__ = ["CHANGED_ON_DISK", "INTERRUPTED", "READ_ONLY", "TagService", "WriteResult", "changes_for"]

log = logging.getLogger(__name__)

CHANGED_ON_DISK = "changed on disk since the scan: rescan first"
STORE_EVERY = 50  # files per store flush in a long batch


#: What ``TagService.write`` puts in one file: its genres, or fields by name
#: (``{"genre": [...], "style": [...]}``; a field not named keeps what the file has).
Change = Sequence[str] | Mapping[str, Sequence[str]]


class TagService:
    """Writes and undos on the files of ``store``, journaled in ``journal``; the undo data lives
    beside the journal (``undo_store``, default ``UndoStore.for_journal``) within ``limits``."""

    def __init__(self, store: Store, journal: Journal, options: WriteOptions = WriteOptions(),
                 limits: UndoLimits | None = None, undo_store: UndoStore | None = None) -> None:
        self.store = store
        self.journal = journal
        self.options = options
        self.limits = limits if limits is not None else UndoLimits()
        self.undo_store = undo_store if undo_store is not None else UndoStore.for_journal(journal.path)

    # ----------------------------------------------------------------- bookkeeping
    _finished: list[str] | None = None

    @contextmanager
    def _chunk(self) -> Iterator[None]:
        """Store changes are flushed once per chunk; their journal entries are marked done only
        after that flush. So "done" in the journal always means "the store knows it too"; a crash
        inside a chunk leaves entries pending, which ``recover()`` (or undo) settles from the files."""
        self._finished = []
        try:
            with self.store.batch():
                yield
            self.journal.done_many(self._finished)
        finally:
            self._finished = None

    def _done(self, entry_id: str) -> None:
        if self._finished is None:
            self.journal.done(entry_id)
        else:
            self._finished.append(entry_id)

    # ----------------------------------------------------------------- writing
    def write(self, changes: Mapping[str, Change], cancel: CancelToken = NEVER) -> list[WriteResult]:
        """Write ``path -> genres`` (or ``path -> {"genre": [...], "style": [...]}``) for every file;
        returns one result per file (in order)."""
        batch = self.journal.new_batch_id()
        results: list[WriteResult] = []
        items = list(changes.items())
        with self.journal.writing():
            for start in range(0, len(items), STORE_EVERY):
                with self._chunk():
                    for path, change in items[start:start + STORE_EVERY]:
                        if cancel.cancelled:
                            break
                        results.append(self._write_one(batch, path, change))
                if cancel.cancelled:
                    break
        self.collect()
        return results

    def _write_one(self, batch: str, path: str, change: Change) -> WriteResult:
        values = ({name: list(v) for name, v in change.items()} if isinstance(change, Mapping)
                  else {"genre": list(change)})
        track = self.store.get(path)
        old: list[str] = list(track.genres) if track else []
        new = list(values.get("genre", old))
        try:
            if track is None:
                raise _Refused("not in the library: scan it first")
            self._preflight(track)
            tags = self._read_tags(path, self.options)
            old = list(tags.genres)
            new = list(values.get("genre", old))
        except _Refused as exc:
            return WriteResult(path, old, new, False, str(exc))
        others = {name: (list(tags.values.get(name, [])), v) for name, v in values.items() if name != "genre"}
        if old == new and all(was == now for was, now in others.values()):  # the file already says so
            self._mark(track, new, WRITTEN, tags.styles)
            return WriteResult(path, old, new, True)
        # The field exactly as stored: undo writes it back as it was (same values, same count),
        # even values the checks for new genres would refuse (NUL, the v2.3 separator).
        extra: dict = {"status": track.status, "raw_old": list(tags.raw_genres)}
        if tags.raw_other:  # e.g. a WAV's INFO genre, kept beside its ID3 tag
            extra["raw_other_old"] = dict(tags.raw_other)
        # Every declared field's places as stored (tagging.restore_fields puts them back): a write
        # may add more than the genre (a style; a WAV tagged in INFO only gets an ID3 chunk).
        extra["raw_fields_old"] = tags.raw
        if tags.id3_version is not None:
            extra["id3_version"] = tags.id3_version
            extra["id3_separator"] = self.options.id3_separator
        entry = self.journal.intent(batch, path, old, new, extra=extra,
                                    fields={name: {"old": was, "new": now} for name, (was, now) in others.items()})
        # Genres alone go through write_genres (a thin wrapper of write_fields), as they always did.
        result = self._apply(entry, track, new, WRITTEN, self.options, write=values if others else None)
        result.fields = {name: pair for name, pair in others.items() if pair[0] != pair[1]}
        return result

    def _apply(self, entry: JournalEntry, track: Track, genres: list[str], status: str,
               options: WriteOptions, raw: list[str] | None = None,
               other: dict[str, str | None] | None = None, fields: dict | None = None,
               write: dict[str, list[str]] | None = None) -> WriteResult:
        """Write, verify, update the store, close the journal entry.

        ``write``: the fields to write (genre, style, ...); ``fields``: every field's places as
        stored, to put back exactly (undo); ``raw``/``other``: the genre's alone (older journals).
        ``genres`` is what the file's genres read as afterwards.
        """
        path = track.path
        try:
            if fields is not None:
                restore_fields(path, fields, options)
            elif write is not None:
                write_fields(path, write, options, keep=lambda undo: self._keep(entry, undo))
            elif raw is None:
                write_genres(path, genres, options, keep=lambda undo: self._keep(entry, undo))
            else:
                write_genres(path, raw, options, exact=True, other=other)
            after = self._read_tags(path, options)
            got = list(after.genres)
            if not self._same(got, genres, options):
                raise _Refused(f"verification failed: read back {quoted(got)}, expected {quoted(genres)}")
            wrong = {n: after.values.get(n) for n, v in (write or {}).items()
                     if n != "genre" and after.values.get(n) != list(v)}
            if wrong:
                raise _Refused(f"verification failed: read back {quoted(wrong)}")
        except (_Refused, TagError, OSError, ValueError) as exc:  # ValueError: an invalid genre value
            reason = exc.reason if isinstance(exc, TagError) else str(exc)
            found = self._changed_anyway(path, entry.old, options)
            self.journal.failed(entry.id, reason, found=found)
            if found is not None:
                log.error("writing genres to %s failed after changing the file (now %r): %s; undo restores it",
                          path, found, reason)
            else:
                log.warning("writing genres to %s failed: %s", path, reason)
            return WriteResult(path, entry.old, entry.new, False, reason)
        self._mark(track, got, status, after.styles)
        self._done(entry.id)
        return WriteResult(path, entry.old, entry.new, True)

    def _keep(self, entry: JournalEntry, undo: UndoData) -> None:
        """Store a write's proven undo data and journal it: both durable before the file changes."""
        try:
            record = self.undo_store.keep(undo)
        except OSError as exc:
            raise TagError(entry.path, f"cannot keep the undo data beside the journal "
                                       f"({exc.strerror or exc}); nothing written") from None
        self.journal.undo_data(entry.id, record)

    def _changed_anyway(self, path: str, old: list[str], options: WriteOptions) -> list[str] | None:
        """After a failed write: the file's genres if they are no longer ``old`` (else None)."""
        try:
            current = self._read(path, options)
        except _Refused:
            return None
        return None if self._same(current, old, options) else current

    def _preflight(self, track: Track) -> None:
        try:
            st = os.stat(track.path)
        except FileNotFoundError:
            raise _Refused("file vanished since the scan") from None
        except OSError as exc:
            raise _Refused(f"cannot reach the file: {exc.strerror or exc}") from None
        if st.st_size != track.size or st.st_mtime != track.mtime:
            raise _Refused(CHANGED_ON_DISK)
        if not _writable(track.path, st):
            raise _Refused(READ_ONLY)

    def _read_tags(self, path: str, options: WriteOptions):
        try:
            return read_tags(path, options)
        except TagError as exc:
            raise _Refused(exc.reason) from None
        except OSError as exc:
            raise _Refused(exc.strerror or str(exc)) from None

    def _read(self, path: str, options: WriteOptions | None = None) -> list[str]:
        return list(self._read_tags(path, options or self.options).genres)

    def _same(self, got: list[str], wanted: list[str], options: WriteOptions | None = None) -> bool:
        """Read-back check; an ID3v2.3 file holds one joined value, which some readers do not split."""
        options = options or self.options
        if got == wanted:
            return True
        sep = options.id3_separator
        return options.id3_version == 3 and sep.join(got) == sep.join(wanted)

    def _mark(self, track: Track, genres: list[str], status: str, styles: list[str] | None = None) -> None:
        """Record the file's genres (and styles, when read) and new size/mtime. A problem the file
        has (its audio does not analyse, it is truncated) stays: writing a tag fixes none of them."""
        st = os.stat(track.path)
        if track.status == ERROR and status == WRITTEN:
            status = ERROR
        more = {"styles": list(styles)} if styles is not None else {}
        self.store.update(track.path, genres=list(genres), status=status, size=st.st_size, mtime=st.st_mtime, **more)

    # ----------------------------------------------------------------- undo
    def undo(self, last: int | None = 1, all: bool = False,  # noqa: A002 - contract name
             genre_level: bool = False) -> list[WriteResult]:
        """Undo the last ``last`` write batches (or ``all``), newest first (see ``tag_undo``).

        ``genre_level``: where a file changed since the write (so it cannot come back byte for
        byte), put its old genres back into it as it is now; such files are otherwise left, and
        reported once.
        """
        batch = self.journal.new_batch_id()
        results: list[WriteResult] = []
        with self.journal.writing(), self._chunk():
            for entry in tag_undo.candidates(self, last, all, genre_level):
                results.append(tag_undo.undo_one(self, batch, entry, genre_level))
        self.collect()
        return results

    def left_by_undo(self) -> list[JournalEntry]:
        """Writes an earlier undo left because their files had changed (``undo(genre_level=True)``
        puts their genres back)."""
        undone = self.journal.undone_ids()
        return [e for e in self.journal.entries() if e.kind == WRITE and e.undo_refused is not None
                and e.id not in undone and e.touched_file]

    # ----------------------------------------------------------------- undo data
    def collect(self) -> tuple[int, int] | None:
        """Remove undo data no longer needed and expire the oldest past ``limits``; returns
        (entries expired, bytes freed), or None while another process writes under the journal."""
        with self.journal.settling() as alone:
            if not alone:
                return None
            self.journal.refresh()
            expiring = undo_expiry.due(self.journal, self.limits)
            finished = undo_expiry.dead(self.journal)
            if not expiring and not finished:
                return 0, 0
            going = {e.id for e in expiring} | {e.id for e in finished}
            live = {k for e in undo_expiry.kept(self.journal) if e.id not in going for k in e.undo_blobs}
            blobs = {k for e in (*expiring, *finished) for k in e.undo_blobs} - live
            self.journal.expire(sorted(going))  # journaled first: a crash leaves only unnamed blobs
            freed = self.undo_store.remove(blobs)
        if expiring:
            log.info("undo data of %d write(s) expired (%d bytes)", len(expiring), freed)
        return len(expiring), freed

    # ----------------------------------------------------------------- after a crash
    def recover(self) -> list[WriteResult] | None:
        """Settle journal entries left pending by a crash, from the files' current genres.

        A file that holds the new genres gets its entry marked done and the store updated; one
        that still holds the old genres gets its entry marked failed ("interrupted"). A file in
        neither state is reported and stays pending. Working copies the tagging layer left next
        to such files are removed.

        While another process is writing under the same journal, nothing is settled (its pending
        entries are in flight) and ``None`` is returned.
        """
        results: list[WriteResult] = []
        with self.journal.settling() as alone:
            if not alone:
                log.info("another process is writing tags under %s; interrupted writes are settled later",
                         self.journal.path)
                return None
            with self._chunk():
                for entry in self.journal.pending():
                    results.append(self._recover_one(entry))
            live = {k for e in self.journal.entries() if e.undo is not None for k, _ in e.undo.get("blobs", [])}
            self.undo_store.sweep(live)  # blobs a crash left before their journal record
        return results

    def _recover_one(self, entry: JournalEntry) -> WriteResult:
        folder, name = os.path.split(entry.path)
        for leftover in remove_working_copies(folder or ".", min_age=0, name=name):
            log.info("removed %s, left by an interrupted tag write", leftover)
        try:
            current = self._read(entry.path)
        except _Refused as exc:
            return WriteResult(entry.path, entry.old, entry.new, False, str(exc))
        side = "new" if self._same(current, entry.new) else entry.resolve(current)
        track = self.store.get(entry.path)
        if side == "new":
            if track is not None:
                status = WRITTEN if entry.kind == WRITE else (entry.extra.get("status") or UNANALYSED)
                self._mark(track, current, status)
            self._done(entry.id)
            return WriteResult(entry.path, entry.old, entry.new, True)
        if side == "old":
            self.journal.failed(entry.id, INTERRUPTED)
            return WriteResult(entry.path, entry.old, entry.new, False, INTERRUPTED)
        return WriteResult(entry.path, entry.old, entry.new, False,
                           f"file holds neither the old nor the new genres (now {quoted(current)})")


def changes_for(paths: Iterable[str], genres: list[str]) -> dict[str, list[str]]:
    """The same genres for many files (what ``tag --genre`` does)."""
    return {path: list(genres) for path in paths}
