"""MP4/M4A: the payload of every ``mdat`` atom, and every chunk offset (stco/co64) relative to the
``mdat`` it points into (a save moves the audio and must move the offsets with it).

The ``mdat`` payloads are the units; the offset tables themselves are kept for undo as they were
(a few bytes per chunk of audio).
"""

from __future__ import annotations

import hashlib
import struct
from typing import BinaryIO, Iterator

from genre_desktop.tagging.regions.common import Layout, RegionError, peek, unit

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def atoms(handle: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, payload end) of the atoms between start and end."""
    pos = start
    while pos + 8 <= end:
        header = peek(handle, pos, 8)
        length, kind = struct.unpack(">I4s", header)
        skip = 8
        if length == 1:
            big = peek(handle, pos + 8, 8)
            if len(big) < 8:
                return
            length, skip = struct.unpack(">Q", big)[0], 16
        elif length == 0:
            length = end - pos
        if length < skip:
            return
        yield kind, pos + skip, min(pos + length, end)
        pos += length


def _chunk_offsets(handle: BinaryIO, start: int, end: int, out: list[int]) -> None:
    for kind, body, stop in atoms(handle, start, end):
        if kind in _CONTAINERS:
            _chunk_offsets(handle, body, stop, out)
        elif kind in (b"stco", b"co64"):
            data = peek(handle, body, stop - body)
            if len(data) < 8:
                continue
            count = struct.unpack(">I", data[4:8])[0]
            width = 4 if kind == b"stco" else 8
            count = min(count, (len(data) - 8) // width)
            fmt = ">" + ("I" if width == 4 else "Q") * count
            out.extend(struct.unpack(fmt, data[8:8 + width * count]))


def mp4(handle: BinaryIO, size: int) -> Layout:
    h = hashlib.sha256()
    mdats: list[tuple[int, int]] = []
    units = []
    offsets: list[int] = []
    for kind, body, stop in atoms(handle, 0, size):
        if kind == b"mdat":
            mdats.append((body, stop))
            part = unit(handle, body, stop - body)
            units.append(part)
            h.update(b"mdat" + struct.pack(">Q", stop - body) + part.key)
        elif kind == b"moov":
            _chunk_offsets(handle, body, stop, offsets)
    if not mdats:
        raise RegionError("damaged M4A: no mdat atom holding the audio")
    for offset in offsets:
        where = next(((i, offset - a) for i, (a, b) in enumerate(mdats) if a <= offset < b), (-1, offset))
        h.update(struct.pack(">qQ", *where))
    return Layout(h.hexdigest(), tuple(units))
