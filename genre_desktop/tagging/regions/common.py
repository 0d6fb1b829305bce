"""What every container's region walk returns, and the helpers they share.

A walk reads a file once and returns a ``Layout``: the digest of its audio region (what a tag
write must leave byte-identical, compared between the original and the working copy) and its
``units``: byte ranges of the file, each with a key, that a write moves without changing (the
audio, an Ogg page). ``tagging.rebuild`` pairs the original's units with the written file's by
key, so the original can be rebuilt from the written file plus the few bytes the write changed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import BinaryIO, Callable

_BLOCK = 1 << 20


class RegionError(Exception):
    """The file's structure makes a tag write unsafe; ``str(exc)`` is the reason for the user."""


@dataclass(frozen=True)
class Unit:
    """Bytes ``[start, start + length)`` a write may move but not change; equal keys, equal bytes.

    ``seq`` is set for an Ogg page: its key leaves out the page's sequence number and checksum,
    which a write renumbers when the tag's pages change in number (``rebuild`` puts them back).
    """

    start: int
    length: int
    key: bytes
    seq: int | None = None

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Layout:
    """A walk's result: the audio region's digest, the movable units, and byte fixes.

    ``fixes``: (offset, bytes) to put into the working copy before the tag library saves it
    (a streamed WAV's "unknown" sizes become the real ones, so a tag can follow its audio).
    """

    digest: str
    units: tuple[Unit, ...] = ()
    fixes: tuple[tuple[int, bytes], ...] = field(default_factory=tuple)


Region = Callable[[BinaryIO, int], Layout]


def layout(region: Region, path: str | os.PathLike[str]) -> Layout:
    """``path``'s layout as ``region`` walks it (raises RegionError, OSError)."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return region(handle, size)


def digest(region: Region, path: str | os.PathLike[str]) -> str:
    """The hex digest of ``path``'s audio region as ``region`` locates it."""
    return layout(region, path).digest


def hash_range(handle: BinaryIO, start: int, length: int, h: "hashlib._Hash | None" = None) -> bytes:
    """Feed ``length`` bytes from ``start`` into ``h`` (a new SHA-256 if None); returns its digest."""
    h = h or hashlib.sha256()
    handle.seek(start)
    while length > 0:
        block = handle.read(min(_BLOCK, length))
        if not block:
            break
        h.update(block)
        length -= len(block)
    return h.digest()


def unit(handle: BinaryIO, start: int, length: int) -> Unit:
    """A unit of plain bytes, keyed by their SHA-256."""
    return Unit(start, length, hash_range(handle, start, length))


def peek(handle: BinaryIO, pos: int, n: int) -> bytes:
    handle.seek(pos)
    return handle.read(n)


def n(value: int) -> str:
    """A byte count or offset as the messages write it (thousands separated)."""
    return f"{value:,}"
