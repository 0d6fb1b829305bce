"""MP3 and FLAC: a stream after an optional ID3v2 tag.

- MP3: everything after the ID3v2 tag at the start, up to an ID3v1 tag at the end (mutagen keeps
  an ID3v1 tag up to date, so it is the tag's, not the audio's). A second tag stacked right after
  the first is audio-region bytes a write only moves; one whose header is damaged is refused
  (found by the fuzz campaign: mpg123 then decodes 18 samples fewer once it moved).
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


def _damaged_header(head: bytes) -> bool:
    """Whether ten bytes starting "ID3" are not a header decoders agree on: an unknown version, a
    revision of 0xFF, flag bits the version does not define, or a size byte with its top bit set."""
    version, revision, flags = head[3], head[4], head[5]
    undefined = {2: 0x3F, 3: 0x1F, 4: 0x0F}.get(version)
    return undefined is None or revision == 0xFF or bool(flags & undefined) or any(b & 0x80 for b in head[6:10])


def mp3(handle: BinaryIO, size: int) -> Layout:
    start = id3v2_end(handle, size, "MP3")
    second = peek(handle, start, 10) if start else b""
    if second[:3] == b"ID3" and len(second) == 10 and _damaged_header(second):
        # mpg123 refuses such a tag and skips it by its own reckoning, which depends on where the
        # tag sits: a new first tag moves it, and the end of the music is decoded differently.
        raise RegionError("damaged MP3: a second ID3 tag right after the first has a damaged header, which "
                          "players skip in different ways; a write in front of it could change how the "
                          "music ends for some of them")
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
