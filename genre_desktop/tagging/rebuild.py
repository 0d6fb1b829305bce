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
the written file's by key; the bytes between them are matched against the written file's
(``matching``: the same tag's head and tail first, then content-defined chunks) and what the
written file also holds is copied from it rather than kept. So a
write to a file with a 300 KB cover keeps a few hundred bytes, and nothing depends on how a
container lays its tags out: whatever the save did, the plan reproduces the original, which
``prove`` checks before the write may replace the file.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

from genre_desktop.tagging.matching import ChangedError, Moved, gap_ops, gaps, pair, push
from genre_desktop.tagging.regions import Layout
from genre_desktop.tagging.regions.ogg import pages, renumbered

_BLOCK = 1 << 20

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
    pairs = pair(before.units, after.units)
    moved = Moved(written, gaps(sorted((w.start, w.end) for _, w in pairs), w_size))
    ops: list[Op] = []
    literal = bytearray()
    pos = w_pos = 0
    try:
        for o, w in pairs:
            mirror = (w_pos, w.start) if w.start >= w_pos else None  # the written bytes between the same units
            gap_ops(original, pos, o.start, moved, ops, literal, mirror, written)
            if o.seq is not None and o.seq != w.seq:
                push(ops, ("P", w.start, w.length, (w.seq - o.seq) & 0xFFFFFFFF))
            else:
                push(ops, ("C", w.start, w.length))
            pos, w_pos = o.end, w.end
        gap_ops(original, pos, size, moved, ops, literal, (w_pos, w_size) if w_size >= w_pos else None, written)
    except ChangedError as exc:
        raise RebuildError(str(exc)) from None
    return UndoPlan(ops, bytes(literal), size)


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
