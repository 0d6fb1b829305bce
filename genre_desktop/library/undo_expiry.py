"""How much undo data is kept, what expires under the user's limits, and the notice before it does.

Undo data (``undo_store``) is needed by the writes that can still be undone: write entries with
undo data, not undone, not expired, whose file the write may have touched. The space kept is the
stored size of the distinct blobs those entries name (the journal records every blob's size, so
nothing is listed on disk). Limits (``UndoLimits``, from the settings): a total size and an age;
the oldest entries' data expires first. An expired entry can still be undone at the genre level
(its old genres written back into the file as it is).

Expiry happens after a write or undo batch (``TagService``), while no other process writes under
the journal. Before a write, ``expiry_notice`` words what that write would make expire, for the
window to show first. Everything here is Qt-free.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from genre_desktop.library.journal import FAILED, WRITE, Journal, JournalEntry

DAY = 86400.0
DEFAULT_MAX_BYTES = 1 << 30


@dataclass(frozen=True)
class UndoLimits:
    """``max_bytes``: undo data kept at most (None: no limit); ``max_days``: age limit (None: none)."""

    max_bytes: int | None = DEFAULT_MAX_BYTES
    max_days: float | None = None

    @classmethod
    def from_values(cls, max_mb: int, max_days: int) -> "UndoLimits":
        """From the settings' numbers (0: no limit)."""
        return cls(max_mb * (1 << 20) if max_mb > 0 else None, float(max_days) if max_days > 0 else None)


@dataclass(frozen=True)
class UndoUsage:
    bytes: int
    writes: int          # writes that can be undone byte for byte
    oldest: float | None  # time of the oldest of them

    def describe(self) -> str:
        """"12.4 MB for 1,234 writes (the oldest from 3 May 2025)" or "none"."""
        if not self.writes:
            return "none"
        oldest = day(self.oldest) if self.oldest else "?"
        return (f"{human_bytes(self.bytes)} for {self.writes:,} write{'s' if self.writes != 1 else ''} "
                f"(the oldest from {oldest})")


def day(when: float) -> str:
    """"3 May 2025" (portable: no platform-specific strftime flags)."""
    t = time.localtime(when)
    return f"{t.tm_mday} {time.strftime('%b %Y', t)}"


def human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{count} bytes"


def kept(journal: Journal) -> list[JournalEntry]:
    """Write entries whose undo data is still needed, oldest first."""
    undone = journal.undone_ids()
    return [e for e in journal.entries() if e.kind == WRITE and e.undo_blobs and e.id not in undone
            and e.touched_file]


def usage(journal: Journal) -> UndoUsage:
    entries = kept(journal)
    blobs: dict[str, int] = {}
    for entry in entries:
        blobs.update(entry.undo_blobs)
    return UndoUsage(sum(blobs.values()), len(entries), entries[0].time if entries else None)


def due(journal: Journal, limits: UndoLimits, *, now: float | None = None, incoming: int = 0,
        ahead: float = 0.0) -> list[JournalEntry]:
    """The entries whose data expires (oldest first) if ``incoming`` more bytes are kept, ``ahead``
    seconds from ``now``."""
    now = (time.time() if now is None else now) + ahead
    entries = kept(journal)
    owners: dict[str, int] = {}
    for entry in entries:
        for key in entry.undo_blobs:
            owners[key] = owners.get(key, 0) + 1
    sizes = {k: v for e in entries for k, v in e.undo_blobs.items()}
    total = sum(sizes.values()) + incoming
    out = []
    for entry in entries:
        too_old = limits.max_days is not None and now - entry.time > limits.max_days * DAY
        too_big = limits.max_bytes is not None and total > limits.max_bytes
        if not (too_old or too_big):
            break
        out.append(entry)
        for key in entry.undo_blobs:
            owners[key] -= 1
            if owners[key] == 0:
                total -= sizes[key]
    return out


def dead(journal: Journal) -> list[JournalEntry]:
    """Entries whose undo data is no longer needed but still kept: undone, or refused untouched."""
    undone = journal.undone_ids()
    return [e for e in journal.entries() if e.kind == WRITE and e.undo_blobs
            and (e.id in undone or (e.state == FAILED and not e.touched_file))]


def estimate_per_write(journal: Journal, sample: int = 200) -> int:
    """Bytes a write keeps, judged from the latest writes' undo data (1 KB with no history)."""
    recent = [e for e in journal.entries() if e.kind == WRITE and e.undo is not None][-sample:]
    if not recent:
        return 1024
    return max(1, sum(sum(int(v) for _, v in e.undo.get("blobs", [])) for e in recent) // len(recent))


def expiry_notice(journal: Journal, limits: UndoLimits, files: int) -> str | None:
    """What writing ``files`` files would make expire, in a sentence; None when nothing would."""
    entries = due(journal, limits, incoming=files * estimate_per_write(journal))
    if not entries:
        return None
    first, last = day(entries[0].time), day(entries[-1].time)
    span = first if first == last else f"{first} to {last}"
    why = []
    if limits.max_bytes is not None:
        why.append(f"{human_bytes(limits.max_bytes)} of undo data")
    if limits.max_days is not None:
        why.append(f"{limits.max_days:g} days")
    count = len(entries)
    return (f"This write makes the undo data of the {count:,} oldest write{'s' if count != 1 else ''} "
            f"({span}) expire (the limit is {' or '.join(why)}, in Settings > Tags): "
            f"{'they' if count != 1 else 'it'} can then only be undone genre by genre, "
            f"not byte for byte.")
