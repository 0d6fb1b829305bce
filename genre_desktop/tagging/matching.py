"""Where the original's bytes went in the written file: the matching half of ``rebuild.plan``.

The original's units are paired with the written file's by key (``pair``); the bytes between
them (tags, headers, padding) are matched by ``gap_ops``, cheapest first:

1. against the written file's bytes between the same two units (the tag the save rewrote): the
   common head and tail, and the rest of the tail where the save only shifted it (a cover picture
   after a genre that grew), found from an anchor of the original's last bytes;
2. whatever is still unmatched and large, by content-defined chunks (``chunking``) against all of
   the written file's bytes between units (a cover picture the save moved elsewhere), indexed
   only when first needed;
3. the rest is literal: the original bytes the write changed, kept as undo data.

A wrong match cannot harm a file: ``rebuild.prove`` compares the rebuilt original with the
original before any write, and refuses the write if they differ.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict, deque
from typing import BinaryIO

import genre_desktop.tagging.chunking as chunking
from genre_desktop.tagging.regions import Unit

Op = tuple  # ("C", offset, length) | ("P", offset, length, delta) | ("L", length)

MIN_MATCH = 256          # gaps shorter than this are kept as they are (headers, size fields)
_MAX_MATCHED_GAPS = 256 << 20  # bytes between units searched for moved chunks (more: kept)
_MATCH_CHUNKS = (64, 4096, 8)  # smallest, largest, average bits (~320 bytes): finer than for storage
_ANCHOR = 64             # bytes of the original that locate a shifted tail
_ANCHOR_TRIES = 4        # anchors tried (padding that shrank, then the picture before it, ...)
_SMALL = 4096            # an unmatched middle up to this size is kept, not searched for
_MAX_MIRROR = 64 << 20   # written bytes between the same two units compared at most


class ChangedError(Exception):
    """The original file changed while its undo data was prepared."""


def pair(before: tuple[Unit, ...], after: tuple[Unit, ...]) -> list[tuple[Unit, Unit]]:
    """(original unit, written unit) with equal keys, each written unit used once, in file order."""
    pool: dict[bytes, deque[Unit]] = defaultdict(deque)
    for unit in after:
        pool[unit.key].append(unit)
    pairs = []
    last_end = 0
    for unit in sorted(before, key=lambda u: u.start):
        if unit.start < last_end:  # overlapping units (cannot happen in a walk): keep the first
            continue
        candidates = pool.get(unit.key)
        if candidates:
            match = candidates.popleft()
            if match.length == unit.length:
                pairs.append((unit, match))
                last_end = unit.end
    return pairs


def gaps(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    out, pos = [], 0
    for start, end in spans:
        if start > pos:
            out.append((pos, start))
        pos = max(pos, end)
    if size > pos:
        out.append((pos, size))
    return out


class Moved:
    """The written file's bytes between its units (its tags), indexed by content-defined chunk
    on first use, to find where bytes of the original's tags went (a cover picture, frames)."""

    def __init__(self, written: BinaryIO, spans: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.data: list[bytes] = []
        self._table: dict[bytes, int] | None = None
        budget = _MAX_MATCHED_GAPS
        for start, end in spans:
            if end - start < MIN_MATCH or budget < end - start:
                continue
            data = read(written, start, end - start)
            budget -= len(data)
            self.starts.append(start)
            self.data.append(data)

    @property
    def table(self) -> dict[bytes, int]:
        if self._table is None:
            self._table = {}
            for start, data in zip(self.starts, self.data):
                view = memoryview(data)
                for a, b in chunking.chunks(view, *_MATCH_CHUNKS):
                    self._table.setdefault(_digest(view[a:b]), start + a)
        return self._table

    def find(self, chunk: memoryview) -> int | None:
        """Where the written file holds these bytes (between its units), or None."""
        return self.table.get(_digest(chunk))

    def after(self, offset: int, count: int) -> bytes:
        """Up to ``count`` bytes of the written file from ``offset``, within the gap holding it."""
        i = bisect.bisect_right(self.starts, offset) - 1
        if i < 0:
            return b""
        at = offset - self.starts[i]
        return self.data[i][at:at + count] if at >= 0 else b""

    def before(self, offset: int, count: int) -> bytes:
        """Up to ``count`` bytes of the written file ending at ``offset``, within its gap."""
        i = bisect.bisect_right(self.starts, offset - 1) - 1
        if i < 0:
            return b""
        at = offset - self.starts[i]
        return self.data[i][max(0, at - count):at] if 0 < at <= len(self.data[i]) else b""


def gap_ops(original: BinaryIO, start: int, end: int, moved: Moved, ops: list[Op], literal: bytearray,
            mirror: tuple[int, int] | None = None, written: BinaryIO | None = None) -> None:
    """Ops for the original's bytes [start, end) between units; ``mirror``: the written file's
    bytes between the same two units (read from ``written``), tried first."""
    if end <= start:
        return
    data = read(original, start, end - start)
    if len(data) != end - start:
        raise ChangedError("the original file changed while its undo data was prepared")
    view = memoryview(data)
    copies: list[tuple[int, int, int]] = []  # (a, b, where): data[a:b] is at ``where`` in the written file
    lo, hi = 0, len(data)  # the part not matched yet
    if (mirror is not None and written is not None and len(data) >= MIN_MATCH
            and 0 <= mirror[1] - mirror[0] <= _MAX_MIRROR):
        ws, we = mirror
        other = memoryview(read(written, ws, we - ws))
        head = _common_prefix(view, other)
        if head:
            copies.append((0, head, ws))
        lo = head
        tail = _common_suffix(view[lo:], other[lo:])
        hi = len(data) - tail
        tail_copy = [(hi, len(data), ws + len(other) - tail)] if tail else []
        rest = bytes(other[lo:])
        for _ in range(_ANCHOR_TRIES):  # the rest of the tail, shifted: a cover after a genre that grew
            if hi - lo <= _SMALL:
                break
            found = rest.rfind(view[hi - _ANCHOR:hi])
            if found < 0:
                break
            at = lo + found + _ANCHOR  # where the anchor ends in ``other``
            shifted = _common_suffix(view[lo:hi], other[lo:at])
            tail_copy.insert(0, (hi - shifted, hi, ws + at - shifted))
            hi -= shifted
        if hi - lo > _SMALL and moved.data:
            copies += _chunk_matches(view, lo, hi, moved)
        copies += tail_copy
    elif len(data) >= MIN_MATCH and moved.data:
        copies = _chunk_matches(view, 0, len(data), moved)
    pos = 0
    for a, b, where in copies:
        if a < pos:  # overlapping matches (cannot happen as they are found): copy each byte once
            a, where = pos, where + (pos - a)
        if a > pos:
            push(ops, ("L", a - pos))
            literal += view[pos:a]
        if b > a:
            push(ops, ("C", where, b - a))
        pos = max(pos, b)
    if pos < len(data):
        push(ops, ("L", len(data) - pos))
        literal += view[pos:]


def _chunk_matches(view: memoryview, lo: int, hi: int, moved: Moved) -> list[tuple[int, int, int]]:
    """Copies for view[lo:hi] from chunks the written file also holds between its units.

    A chunk found is grown to where the two stop agreeing, both ways (memcmp speed), so a 300 KB
    picture costs one match and one comparison, and a chunk straddling a change, or an Ogg page
    header, loses only the bytes that differ."""
    copies: list[tuple[int, int, int]] = []
    part = view[lo:hi]
    covered = 0
    for a, b in chunking.chunks(part, *_MATCH_CHUNKS):
        if a < covered:
            continue
        where = moved.find(part[a:b])
        if where is None:
            continue
        forward = _common_prefix(part[b:], moved.after(where + (b - a), len(part) - b))
        back = _common_suffix(part[covered:a], moved.before(where, a - covered))
        copies.append((lo + a - back, lo + b + forward, where - back))
        covered = b + forward
    return copies


def _common_prefix(a: bytes | memoryview, b: bytes | memoryview) -> int:
    """How many leading bytes ``a`` and ``b`` share (binary search over slice comparisons: memcmp)."""
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # a[:lo] == b[:lo], a[:hi] != b[:hi]
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: bytes | memoryview, b: bytes | memoryview) -> int:
    """How many trailing bytes ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    a, b = a[len(a) - n:], b[len(b) - n:]
    if a == b:
        return n
    lo, hi = 0, n  # the last lo bytes agree, the last hi do not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[n - mid:n - lo] == b[n - mid:n - lo]:
            lo = mid
        else:
            hi = mid
    return lo


def _digest(data: memoryview) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def push(ops: list[Op], op: Op) -> None:
    """Append ``op``, merged into the previous one where they continue each other."""
    if ops:
        last = ops[-1]
        if op[0] == last[0] == "L":
            ops[-1] = ("L", last[1] + op[1])
            return
        if op[0] == last[0] == "C" and last[1] + last[2] == op[1]:
            ops[-1] = ("C", last[1], last[2] + op[2])
            return
        if op[0] == last[0] == "P" and last[1] + last[2] == op[1] and last[3] == op[3]:
            ops[-1] = ("P", last[1], last[2] + op[2], last[3])
            return
    ops.append(op)


def read(handle: BinaryIO, start: int, length: int) -> bytes:
    handle.seek(start)
    return handle.read(length)
