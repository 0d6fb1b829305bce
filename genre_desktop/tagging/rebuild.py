"""The original file, given back from the written one: what undo needs, planned before a write.

A tag write changes a few bytes of a file (the tag, its padding, a size field) and moves the rest.
``plan`` describes the original as a list of operations over the written file:

- ``("C", offset, length)``: copy bytes of the written file (the audio, a cover picture the save
  only moved, tables the save did not touch);
- ``("P", offset, length, delta)``: copy Ogg pages of the written file, each numbered ``delta``
  lower and its checksum recomputed (mutagen renumbers the pages after a comment header whose
  page count changed; their contents are the same);
- ``("L", length)``: the next bytes of the *literal*: the original bytes the write changed, which
  undo must keep (``UndoPlan.literal``, stored by the journal as content-addressed blobs).

The original's units (``regions``: the audio, Ogg pages, FLAC metadata blocks) are paired with
the written file's by key; the bytes between them are cut into content-defined chunks
(``chunking``) and a chunk the written file also holds is copied from it rather than kept. So a
write to a file with a 300 KB cover keeps a few hundred bytes, and nothing depends on how a
container lays its tags out: whatever the save did, the plan reproduces the original, which
``prove`` checks before the write may replace the file.
"""

from __future__ import annotations

import bisect
import hashlib
import os
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

from genre_desktop.tagging import chunking
from genre_desktop.tagging.regions import Layout, Unit
from genre_desktop.tagging.regions.ogg import pages, renumbered

_BLOCK = 1 << 20
_MIN_MATCH = 256          # gaps shorter than this are kept as they are (headers, size fields)
_MAX_MATCHED_GAPS = 256 << 20  # bytes between units searched for moved chunks (more: kept)
_MATCH_CHUNKS = (64, 4096, 8)  # smallest, largest, average bits (~320 bytes): finer than for storage

Op = tuple  # ("C", offset, length) | ("P", offset, length, delta) | ("L", length)


class RebuildError(Exception):
    """The original cannot be rebuilt (incomplete undo data); ``str(exc)`` says why."""


@dataclass
class UndoPlan:
    """How to rebuild the original from the written file, with the bytes only the original had."""

    ops: list[Op]
    literal: bytes
    size: int  # of the original

    def to_json(self) -> list[list]:
        return [list(op) for op in self.ops]


def plan(original: BinaryIO, before: Layout, written: BinaryIO, after: Layout) -> UndoPlan:
    """The operations that rebuild ``original`` (walked as ``before``) from ``written`` (``after``)."""
    size = os.fstat(original.fileno()).st_size
    w_size = os.fstat(written.fileno()).st_size
    pairs = _pair(before.units, after.units)
    moved = _Moved(written, _gaps(sorted((w.start, w.end) for _, w in pairs), w_size))
    ops: list[Op] = []
    literal = bytearray()
    pos = 0
    for o, w in pairs:
        _gap_ops(original, pos, o.start, moved, ops, literal)
        if o.seq is not None and o.seq != w.seq:
            _push(ops, ("P", w.start, w.length, (w.seq - o.seq) & 0xFFFFFFFF))
        else:
            _push(ops, ("C", w.start, w.length))
        pos = o.end
    _gap_ops(original, pos, size, moved, ops, literal)
    return UndoPlan(ops, bytes(literal), size)


def _pair(before: tuple[Unit, ...], after: tuple[Unit, ...]) -> list[tuple[Unit, Unit]]:
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


def _gaps(spans: list[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    gaps, pos = [], 0
    for start, end in spans:
        if start > pos:
            gaps.append((pos, start))
        pos = max(pos, end)
    if size > pos:
        gaps.append((pos, size))
    return gaps


class _Moved:
    """The written file's bytes between its units (its tags), indexed by content-defined chunk,
    to find where bytes of the original's tags went (a cover picture, unchanged frames)."""

    def __init__(self, written: BinaryIO, gaps: list[tuple[int, int]]) -> None:
        self.starts: list[int] = []
        self.data: list[bytes] = []
        self.table: dict[bytes, int] = {}
        budget = _MAX_MATCHED_GAPS
        for start, end in gaps:
            if end - start < _MIN_MATCH or budget < end - start:
                continue
            data = _read(written, start, end - start)
            budget -= len(data)
            self.starts.append(start)
            self.data.append(data)
            view = memoryview(data)
            for a, b in chunking.chunks(view, *_MATCH_CHUNKS):
                self.table.setdefault(_digest(view[a:b]), start + a)

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


def _gap_ops(original: BinaryIO, start: int, end: int, moved: _Moved, ops: list[Op], literal: bytearray) -> None:
    """Ops for the original's bytes [start, end) between units (its tags, headers, padding).

    A chunk found in the written file is grown to where the two stop agreeing, both ways (memcmp
    speed), so a 300 KB picture costs one match and one comparison, and a chunk straddling a
    change, or an Ogg page header, loses only the bytes that differ."""
    if end <= start:
        return
    data = _read(original, start, end - start)
    if len(data) != end - start:
        raise RebuildError("the original file changed while its undo data was prepared")
    view = memoryview(data)
    copies: list[tuple[int, int, int]] = []  # (a, b, where): data[a:b] is at ``where`` in the written file
    covered = 0
    if len(data) >= _MIN_MATCH and moved.table:
        for a, b in chunking.chunks(view, *_MATCH_CHUNKS):
            if a < covered:
                continue
            where = moved.find(view[a:b])
            if where is None:
                continue
            forward = _common_prefix(view[b:], moved.after(where + (b - a), len(data) - b))
            back = _common_suffix(view[covered:a], moved.before(where, a - covered))
            copies.append((a - back, b + forward, where - back))
            covered = b + forward
    pos = 0
    for a, b, where in copies:
        if a > pos:
            _push(ops, ("L", a - pos))
            literal += view[pos:a]
        _push(ops, ("C", where, b - a))
        pos = b
    if pos < len(data):
        _push(ops, ("L", len(data) - pos))
        literal += view[pos:]


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


def _push(ops: list[Op], op: Op) -> None:
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


def _read(handle: BinaryIO, start: int, length: int) -> bytes:
    handle.seek(start)
    return handle.read(length)


# ----------------------------------------------------------------------------- rebuilding
def blocks(ops: list[Op], literal: Callable[[int], bytes], written: BinaryIO) -> Iterator[bytes]:
    """The original's bytes, in order: ``literal(n)`` returns the literal's next ``n`` bytes."""
    w_size = os.fstat(written.fileno()).st_size
    for op in ops:
        kind = op[0]
        if kind == "L":
            data = literal(op[1])
            if len(data) != op[1]:
                raise RebuildError("the undo data is incomplete")
            yield data
            continue
        start, length = op[1], op[2]
        if start < 0 or length < 0 or start + length > w_size:
            raise RebuildError("the undo data does not fit the file")
        if kind == "C":
            yield from _blocks_between(written, start, start + length)
        elif kind == "P":
            yield from _renumbered_pages(written, start, length, op[3])
        else:
            raise RebuildError(f"unknown undo operation {kind!r}")


def _renumbered_pages(written: BinaryIO, start: int, length: int, delta: int) -> Iterator[bytes]:
    for _raw, rebuilt in _renumbering(_blocks_between(written, start, start + length), delta):
        yield rebuilt


def _renumbering(blocks: Iterator[bytes], delta: int) -> Iterator[tuple[bytes, bytes]]:
    """(each block of written Ogg pages, the original pages completed so far: numbered ``delta`` lower)."""
    pending = b""
    for block in blocks:
        pending += block
        view = memoryview(pending)
        out, used = [], 0
        for offset, size in pages(view):
            page = view[offset:offset + size]
            out.append(renumbered(page, int.from_bytes(page[18:22], "little") - delta))
            used = offset + size
        yield block, b"".join(out)
        pending = pending[used:]
    if pending:
        raise RebuildError("the undo data splits an Ogg page")


def prove(ops: list[Op], literal: bytes, written: BinaryIO, original: BinaryIO) -> tuple[bool, tuple[str, int]]:
    """(whether ``ops`` rebuild ``original`` byte for byte from ``written`` and ``literal``,
    (SHA-256, size) of the written file). The rebuilt bytes are compared with the original's as
    they come (memcmp, not a second hash), and the written file is read once where the operations
    take its bytes in order (they do for every container here), else twice."""
    w_size = os.fstat(written.fileno()).st_size
    same = _Same(original)
    spans = [(op[1], op[1] + op[2]) for op in ops if op[0] != "L"]
    if any(b[0] < a[1] for a, b in zip(spans, spans[1:])) or any(e > w_size for _, e in spans):
        used = [0]

        def take(count: int) -> bytes:
            data = literal[used[0]:used[0] + count]
            used[0] += count
            return data

        for block in blocks(ops, take, written):
            same.feed(block)
        if used[0] != len(literal):
            raise RebuildError("the undo data holds bytes the rebuild does not use")
        return same.done(), _hash_all(written)
    whole = hashlib.sha256()
    pos = used = 0
    for op in ops:
        if op[0] == "L":
            data = literal[used:used + op[1]]
            if len(data) != op[1]:
                raise RebuildError("the undo data is incomplete")
            used += op[1]
            same.feed(data)
            continue
        for block in _blocks_between(written, pos, op[1]):  # bytes only the written file has
            whole.update(block)
        for raw, rebuilt in _raw_and_rebuilt(written, op):
            whole.update(raw)
            same.feed(rebuilt)
        pos = op[1] + op[2]
    for block in _blocks_between(written, pos, w_size):
        whole.update(block)
    if used != len(literal):
        raise RebuildError("the undo data holds bytes the rebuild does not use")
    return same.done(), (whole.hexdigest(), w_size)


class _Same:
    """Compares a stream of blocks with a file's bytes, in order."""

    def __init__(self, original: BinaryIO) -> None:
        self.original = original
        self.original.seek(0)
        self.equal = True

    def feed(self, block: bytes) -> None:
        if self.equal and block and self.original.read(len(block)) != block:
            self.equal = False

    def done(self) -> bool:
        return self.equal and self.original.read(1) == b""


def _blocks_between(written: BinaryIO, start: int, end: int) -> Iterator[bytes]:
    written.seek(start)
    left = end - start
    while left > 0:
        block = written.read(min(_BLOCK, left))
        if not block:
            raise RebuildError("the file ended early")
        left -= len(block)
        yield block


def _raw_and_rebuilt(written: BinaryIO, op: Op) -> Iterator[tuple[bytes, bytes]]:
    """(the written file's bytes, the original's bytes made from them) for a C or P op."""
    if op[0] == "C":
        for block in _blocks_between(written, op[1], op[1] + op[2]):
            yield block, block
    elif op[0] == "P":
        yield from _renumbering(_blocks_between(written, op[1], op[1] + op[2]), op[3])
    else:
        raise RebuildError(f"unknown undo operation {op[0]!r}")


def _hash_all(handle: BinaryIO) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    handle.seek(0)
    while block := handle.read(_BLOCK):
        h.update(block)
        size += len(block)
    return h.hexdigest(), size


@dataclass(frozen=True)
class UndoData:
    """What a proven write hands to its journal before the written copy replaces the file."""

    ops: list[Op]
    literal: bytes
    sha256: str          # of the original
    size: int
    written_sha256: str  # of the file as written: undo gives the original back only from this
    written_size: int
