"""MP3 and FLAC: a stream after an optional ID3v2 tag.

- MP3: everything after the ID3v2 tag at the start, up to an ID3v1 tag at the end (mutagen keeps
  an ID3v1 tag up to date, so it is the tag's, not the audio's).
- FLAC: STREAMINFO (its type and contents; its "last block" flag changes when a tag block is
  added after it) and everything after the last metadata block (the frames). Every metadata
  block is a unit too: a picture block a write only moves need not be kept for undo.
"""

from __future__ import annotations

import hashlib
from typing import BinaryIO

from genre_desktop.tagging.regions.common import Layout, RegionError, Unit, n, peek, unit


def id3v2_end(handle: BinaryIO, size: int, name: str) -> int:
    """Where the ID3v2 tag at the start of the file ends (0 without one)."""
    handle.seek(0)
    head = handle.read(10)
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    body = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    end = 10 + body + (10 if head[5] & 0x10 else 0)
    if end > size:
        raise RegionError(f"damaged {name}: the ID3 tag claims {n(body)} bytes, the file holds {n(size - 10)}")
    return end


def mp3(handle: BinaryIO, size: int) -> Layout:
    start = id3v2_end(handle, size, "MP3")
    end = size
    if size - start >= 128 and peek(handle, size - 128, 3) == b"TAG":
        end = size - 128  # ID3v1: mutagen keeps it up to date
    frames = unit(handle, start, end - start)
    return Layout(frames.key.hex(), (frames,))


def flac(handle: BinaryIO, size: int) -> Layout:
    pos = id3v2_end(handle, size, "FLAC")
    if peek(handle, pos, 4) != b"fLaC":
        raise RegionError("damaged FLAC: no fLaC marker")
    pos += 4
    h = hashlib.sha256()
    units: list[Unit] = []
    while True:
        header = peek(handle, pos, 4)
        if len(header) < 4:
            raise RegionError("truncated FLAC: the file ends inside its metadata")
        kind, last = header[0] & 0x7F, header[0] & 0x80
        length = int.from_bytes(header[1:4], "big")
        if pos + 4 + length > size:
            raise RegionError(f"truncated FLAC: a metadata block claims {n(length)} bytes, "
                              f"the file holds {n(size - pos - 4)}")
        block = unit(handle, pos + 4, length)
        units.append(block)
        if kind == 0:  # STREAMINFO: the decoder's parameters
            h.update(bytes([kind]) + header[1:4] + block.key)
        pos += 4 + length
        if last:
            break
    frames = unit(handle, pos, size - pos)
    h.update(frames.key)
    return Layout(h.hexdigest(), (*units, frames))
