"""WAV and AIFF (IFF chunks): the format chunk (``fmt ``/``COMM``) and the sample chunk (``data``/
``SSND``) are the audio region.

The walk refuses files a save would damage or that readers disagree about:
- a chunk that runs past the end of the file (an interrupted copy or recording) or an odd-sized
  chunk without its pad byte: mutagen inserts its ID3 chunk at the file's real end, inside such a
  chunk's declared extent, and players then play the tag's bytes as samples;
- two ID3 chunks: mutagen and TagLib read the first, ffmpeg the last, so a write would change the
  genre for some players only.

A streamed WAV (RIFF and ``data`` sizes 0xFFFFFFFF, "unknown", as ffmpeg writes to a pipe) is
valid: its samples run to the end of the file. A tag can only follow the samples once the sizes
are the real ones, so the layout carries those fixes for the working copy (and a pad byte after
an odd-sized sample chunk); undo gives the streamed header back byte for byte.
"""

from __future__ import annotations

import hashlib
import struct
from typing import BinaryIO

from genre_desktop.tagging.regions.common import Layout, RegionError, Region, n, peek, unit

_STREAMED = 0xFFFFFFFF
_ID3_CHUNKS = (b"ID3 ", b"id3 ")


def _iff(container: bytes, forms: tuple[bytes, ...], endian: str, name: str,
         kept: tuple[bytes, ...]) -> Region:
    def region(handle: BinaryIO, size: int) -> Layout:
        handle.seek(0)
        head = handle.read(12)
        if len(head) < 12 or head[:4] != container or head[8:12] not in forms:
            raise RegionError(f"damaged {name}: no {container.decode()} header")
        declared = struct.unpack(endian + "I", head[4:8])[0]
        streamed = declared == _STREAMED and container == b"RIFF"
        end = size if streamed else min(8 + declared, size)
        h = hashlib.sha256()
        units, fixes, tags = [], [], []
        pos, seen_audio = 12, False
        while pos + 8 <= end:
            handle.seek(pos)
            header = handle.read(8)
            cid = header[:4]
            length = struct.unpack(endian + "I", header[4:8])[0]
            label = cid.decode("latin-1").strip() or "unnamed"
            if not _valid_id(cid):
                if pos > 12 and _valid_id(peek(handle, pos - 1, 4)):
                    raise RegionError(f"damaged {name}: a chunk before offset {n(pos)} has an odd size "
                                      f"and lacks the pad byte that must follow it")
                raise RegionError(f"damaged {name}: unreadable chunk header at offset {n(pos)}")
            available = size - (pos + 8)
            if streamed and cid == kept[-1] and length == _STREAMED:
                length = available  # "to the end of the file"
                fixes.append((pos + 4, struct.pack(endian + "I", length)))
                if length % 2:
                    fixes.append((size, b"\x00"))
                fixes.append((4, struct.pack(endian + "I", size + length % 2 - 8)))
            if length > available:
                raise RegionError(f"truncated {name}: the {label} chunk claims {n(length)} bytes, "
                                  f"the file holds {n(max(available, 0))}")
            if length % 2 and pos + 8 + length == size and not fixes:
                raise RegionError(f"damaged {name}: the {label} chunk has an odd size ({n(length)} bytes) "
                                  f"and lacks the pad byte that must follow it")
            if cid in _ID3_CHUNKS:
                tags.append(pos)
            if cid in kept:
                part = unit(handle, pos + 8, length)
                units.append(part)
                h.update(cid + struct.pack("<Q", length) + part.key)
                seen_audio = seen_audio or cid == kept[-1]
            pos += 8 + length + (length % 2)
        if not seen_audio:
            raise RegionError(f"damaged {name}: no {kept[-1].decode().strip()} chunk holding the audio")
        if len(tags) > 1:
            raise RegionError(f"the {name} file holds {len(tags)} ID3 chunks (at offsets "
                              f"{', '.join(n(p) for p in tags)}): players disagree about which one they "
                              f"read (most read the first, ffmpeg-based ones the last), so a new genre would "
                              f"reach only some of them")
        return Layout(h.hexdigest(), tuple(units), tuple(fixes))

    return region


def _valid_id(cid: bytes) -> bool:
    return len(cid) == 4 and all(32 <= b <= 126 for b in cid) and cid[0] != 32


wave = _iff(b"RIFF", (b"WAVE",), "<", "WAV", (b"fmt ", b"data"))
aiff = _iff(b"FORM", (b"AIFF", b"AIFC"), ">", "AIFF", (b"COMM", b"SSND"))


def streamed_wav_seconds(path: str) -> float | None:
    """The duration of a streamed WAV (``data`` size "unknown"): its sample frames to the end of
    the file (tag libraries compute it from the 4 GB the size field claims). None otherwise."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            size = handle.seek(0, 2)
            pos, align, rate = 12, 0, 0
            while pos + 8 <= size:
                handle.seek(pos)
                cid, length = struct.unpack("<4sI", handle.read(8))
                if cid == b"fmt " and length >= 16:
                    fmt = handle.read(16)
                    rate, align = struct.unpack("<I", fmt[4:8])[0], struct.unpack("<H", fmt[12:14])[0]
                elif cid == b"data":
                    if length != _STREAMED or not align or not rate:
                        return None
                    return (size - pos - 8) // align / rate
                pos += 8 + length + (length % 2)
    except (OSError, struct.error):
        return None
    return None
