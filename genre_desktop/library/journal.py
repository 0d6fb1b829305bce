"""The journal of tag writes: an append-only JSON-lines file, one fsync per record.

Every tag write is recorded in steps, so that after a crash one can tell for every file whether
its write happened, and so that every write can be undone::

    {"op":"intent","id":E,"batch":B,"kind":"write","time":T,"path":P,
     "fields":{"genre":{"old":[...],"new":[...]}}}
        ... written and fsynced BEFORE the file is touched ...
    {"op":"undo-data","id":E,"recipe":H,"sha256":S0,"written_sha256":S1,"blobs":[[H,size],...]}
        the write's proven undo data is stored (``undo_store``): BEFORE the file is replaced
    {"op":"done","id":E,"time":T}              after the write was read back and verified
    {"op":"failed","id":E,"time":T,"error":R}  the write was refused; the file is unchanged
    {"op":"failed","id":E,"time":T,"error":R,"found":[...]}
                                               the write failed or did not verify AND the file no
                                               longer holds the old genres: ``found`` is what it
                                               holds; undo can still put ``old`` back
    {"op":"undo-refused","id":E,"time":T,"error":R}
                                               undo found the file changed since the write; it is
                                               not tried again unless asked (``genre_level``)
    {"op":"expired","id":E,"time":T}           the entry's undo data was removed (size or age
                                               limit); its genres can still be put back

``fields`` holds each changed field's old and new values (``genre`` today); entries written
before it existed hold ``"old"`` and ``"new"`` (the genres) and are read the same way. An entry
with an intent but no outcome is ``pending``: the process died in between. Comparing the file's
current genres with the entry's ``old`` and ``new`` (:meth:`JournalEntry.resolve`) tells which
state the file is in. Undo is journaled the same way (``kind: "undo"``, ``undoes: E``), so an
undone write is not undone twice and an undo is itself visible in the history.

Several processes (the GUI and the CLI) may write tags under one journal. Each holds a *shared*
lock on ``<journal>.lock`` while it writes (``writing()``); settling pending entries after a crash
and removing undo data (``settling()``) need the lock *exclusively* and do not wait for it: while
another process holds it, its pending entries are writes in flight, not leftovers of a crash, and
must not be settled (nor its working copies or fresh undo data removed). A killed process's lock
is released by the kernel.

A crash while appending can leave a torn last line: it is ignored on read, and the next append
starts on a fresh line. Lines are ASCII JSON (``ensure_ascii``) so that any file name, even one
that is not valid UTF-8, round-trips.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from genre_desktop.fsutil import fsync_dir

try:
    import fcntl
except ImportError:  # Windows: no shared locks; settling is not guarded there (documented limit)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PENDING = "pending"
DONE = "done"
FAILED = "failed"
WRITE = "write"
UNDO = "undo"
GENRE = "genre"


@dataclass
class JournalEntry:
    id: str
    batch: str
    kind: str
    time: float
    path: str
    old: list[str]  # the genres before (``fields["genre"]["old"]``)
    new: list[str]  # the genres written
    undoes: str | None = None
    state: str = PENDING
    error: str | None = None
    finished: float | None = None
    # A failed write that changed the file anyway: the genres read back afterwards.
    found: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Every changed field: {name: {"old": [...], "new": [...]}} (the genres among them).
    fields: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    # The write's undo data as journaled (recipe, sha256, written_sha256, blobs); None: none kept.
    undo: dict[str, Any] | None = None
    expired: float | None = None  # when the undo data was removed
    undo_refused: str | None = None  # why undo left the file (it changed since the write)

    @property
    def undo_blobs(self) -> dict[str, int]:
        """The blobs of this entry's undo data that are still kept: name -> bytes on disk."""
        if self.undo is None or self.expired is not None:
            return {}
        return {str(k): int(v) for k, v in self.undo.get("blobs", [])}

    @property
    def touched_file(self) -> bool:
        """Whether the file may hold this entry's write: done, pending, or failed after changing it."""
        return self.state in (DONE, PENDING) or (self.state == FAILED and self.found is not None)

    def resolve(self, current: list[str]) -> str:
        """Which side of this entry a file with genres ``current`` is on: "new", "old" or "neither".

        What a failed write left behind (``found``) counts as "new": it is this entry's doing.
        """
        if list(current) == list(self.new):
            return "new"
        if list(current) == list(self.old):
            return "old"
        if self.found is not None and list(current) == list(self.found):
            return "new"
        return "neither"


class Journal:
    """Append-only journal at ``path`` (created on first write). Thread-safe."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._entries: dict[str, JournalEntry] = {}
        self._fd: int | None = None
        self._needs_newline = False
        self._known_size = 0  # bytes of the file this object has read or written
        self.skipped_lines = 0
        self._load()

    # ----------------------------------------------------------------- reading
    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        self._needs_newline = bool(raw) and not raw.endswith(b"\n")
        self._known_size = len(raw)
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict) or "op" not in record or "id" not in record:
                    raise ValueError("not a journal record")
                self._apply(record)
            except (ValueError, KeyError, TypeError) as exc:
                self.skipped_lines += 1
                if number == len(lines):  # the torn tail of a crash while appending
                    log.info("journal %s: ignoring a torn last line", self.path)
                else:
                    log.warning("journal %s: skipping unreadable line %d (%s)", self.path, number, exc)

    def _apply(self, record: dict[str, Any]) -> None:
        op = record["op"]
        if op == "intent":
            known = {"op", "id", "batch", "kind", "time", "path", "old", "new", "undoes", "fields"}
            fields = _fields(record)
            genre = fields.get(GENRE, {"old": [], "new": []})
            self._entries[record["id"]] = JournalEntry(
                id=record["id"], batch=record["batch"], kind=record.get("kind", WRITE),
                time=float(record["time"]), path=record["path"], old=list(genre["old"]),
                new=list(genre["new"]), undoes=record.get("undoes"),
                extra={k: v for k, v in record.items() if k not in known}, fields=fields,
            )
            return
        entry = self._entries.get(record["id"])
        if entry is None:
            raise ValueError(f"outcome for an unknown entry {record['id']}")
        if op == "undo-data":
            entry.undo = {k: v for k, v in record.items() if k not in ("op", "id")}
            return
        if op == "expired":
            entry.expired = float(record.get("time", 0.0))
            return
        if op == "undo-refused":
            entry.undo_refused = str(record.get("error") or "")
            return
        if op == "done":
            entry.state, entry.error = DONE, None
        elif op == "failed":
            entry.state, entry.error = FAILED, record.get("error")
            found = record.get("found")
            entry.found = [str(g) for g in found] if isinstance(found, list) else None
        else:
            raise ValueError(f"unknown op {op!r}")
        entry.finished = float(record.get("time", 0.0))

    def refresh(self) -> None:
        """Read the file again if another process appended records since this journal read it."""
        with self._lock:
            try:
                if self.path.stat().st_size == self._known_size:
                    return
            except FileNotFoundError:
                return
            self._entries = {}
            self.skipped_lines = 0
            self._load()

    def entries(self) -> list[JournalEntry]:
        """All entries in journal order (the order of their intents)."""
        with self._lock:
            return list(self._entries.values())

    def get(self, entry_id: str) -> JournalEntry | None:
        with self._lock:
            return self._entries.get(entry_id)

    def pending(self) -> list[JournalEntry]:
        """Entries whose outcome was never recorded: the process stopped mid-write."""
        return [e for e in self.entries() if e.state == PENDING]

    def batches(self, kind: str | None = None) -> list[tuple[str, list[JournalEntry]]]:
        """(batch id, entries) in journal order, optionally only batches of one kind."""
        grouped: dict[str, list[JournalEntry]] = {}
        for entry in self.entries():
            if kind is None or entry.kind == kind:
                grouped.setdefault(entry.batch, []).append(entry)
        return list(grouped.items())

    def undone_ids(self) -> set[str]:
        """Ids of write entries that a completed undo entry reverted."""
        return {e.undoes for e in self.entries() if e.kind == UNDO and e.state == DONE and e.undoes}

    # ----------------------------------------------------------------- cross-process guard
    @contextmanager
    def writing(self) -> Iterator[None]:
        """Held (shared) while this process writes files under the journal."""
        fd = self._open_lock()
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_SH)
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing releases the lock

    @contextmanager
    def settling(self) -> Iterator[bool]:
        """Yields True when no other writer is active (the lock, taken exclusively, without waiting)."""
        fd = self._open_lock()
        try:
            if fd is None:
                yield True
                return
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            if fd is not None:
                os.close(fd)

    def _open_lock(self) -> int | None:
        if fcntl is None:
            return None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)

    # ----------------------------------------------------------------- writing
    @staticmethod
    def new_batch_id() -> str:
        return time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]

    def intent(self, batch: str, path: str, old: list[str], new: list[str], *,
               kind: str = WRITE, undoes: str | None = None, extra: dict[str, Any] | None = None,
               fields: dict[str, dict[str, list[str]]] | None = None) -> JournalEntry:
        """Record (durably) that ``path``'s genres are about to change from ``old`` to ``new``.

        ``fields``: other fields changing too, ``{name: {"old": [...], "new": [...]}}``.
        ``extra`` keeps small JSON facts alongside (e.g. the track's status before the write).
        """
        changes = {GENRE: {"old": list(old), "new": list(new)}}
        for name, values in (fields or {}).items():
            if name != GENRE:
                changes[name] = {"old": list(values["old"]), "new": list(values["new"])}
        record = {"op": "intent", "id": uuid.uuid4().hex[:16], "batch": batch, "kind": kind,
                  "time": time.time(), "path": path, "fields": changes}
        for key, value in (extra or {}).items():
            record.setdefault(key, value)
        if undoes:
            record["undoes"] = undoes
        with self._lock:
            self._append(record)
            self._apply(record)
            return self._entries[record["id"]]

    def done(self, entry_id: str) -> None:
        self._finish({"op": "done", "id": entry_id, "time": time.time()})

    def done_many(self, entry_ids: list[str]) -> None:
        """Mark several entries done with one write and one fsync."""
        now = time.time()
        self._finish_many([{"op": "done", "id": entry_id, "time": now} for entry_id in entry_ids])

    def _finish_many(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        with self._lock:
            unknown = [r["id"] for r in records if r["id"] not in self._entries]
            if unknown:
                raise KeyError(unknown[0])
            self._append(*records)
            for record in records:
                self._apply(record)

    def undo_data(self, entry_id: str, record: dict[str, Any]) -> None:
        """Record (durably) where the undo data of a write is kept (``UndoStore.keep``'s record)."""
        self._finish({"op": "undo-data", "id": entry_id, **record})

    def expire(self, entry_ids: list[str]) -> None:
        """Record that these entries' undo data is removed (one write, one fsync)."""
        now = time.time()
        self._finish_many([{"op": "expired", "id": entry_id, "time": now} for entry_id in entry_ids])

    def undo_refused(self, entry_id: str, error: str) -> None:
        """Record that undo left the file of this write (it changed since); not tried again by default."""
        self._finish({"op": "undo-refused", "id": entry_id, "time": time.time(), "error": error})

    def failed(self, entry_id: str, error: str, found: list[str] | None = None) -> None:
        """The write did not happen as intended; ``found``: the genres the file holds if it changed."""
        record: dict[str, Any] = {"op": "failed", "id": entry_id, "time": time.time(), "error": error}
        if found is not None:
            record["found"] = list(found)
        self._finish(record)

    def _finish(self, record: dict[str, Any]) -> None:
        with self._lock:
            if record["id"] not in self._entries:
                raise KeyError(record["id"])
            self._append(record)
            self._apply(record)

    def _append(self, *records: dict[str, Any]) -> None:
        line = "".join(json.dumps(r, ensure_ascii=True, separators=(",", ":")) + "\n" for r in records)
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if created:
                fsync_dir(self.path.parent)
        if self._needs_newline:
            line = "\n" + line
        data = line.encode("ascii")
        written = 0
        while written < len(data):
            written += os.write(self._fd, data[written:])
        os.fsync(self._fd)
        self._needs_newline = False
        self._known_size += len(data)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten close() must not leak the descriptor
        if getattr(self, "_fd", None) is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass



def _fields(record: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """An intent's changed fields; journals written before ``fields`` hold the genres' old/new."""
    raw = record.get("fields")
    if raw is None:
        return {GENRE: {"old": [str(v) for v in record["old"]], "new": [str(v) for v in record["new"]]}}
    if not isinstance(raw, dict):
        raise ValueError("fields is not an object")
    return {str(name): {"old": [str(v) for v in change["old"]], "new": [str(v) for v in change["new"]]}
            for name, change in raw.items()}
