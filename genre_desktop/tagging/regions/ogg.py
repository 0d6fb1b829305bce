"""Ogg (Vorbis, Opus, FLAC): every packet except the comment header (packet 1 of each stream),
plus the granule position and flags of each page that ends a packet after the headers (mutagen
marks the header pages it repaginates with granule -1, "no packet ends here", as the spec asks).

A page whose checksum fails is refused: a save renumbers the pages after the headers and
recomputes their checksums, so a page decoders skip today would start to play.

Every page is a unit keyed by all of it but its sequence number and checksum: when the comment
header's pages change in number, mutagen renumbers every later page (new sequence numbers, new
checksums, same contents), and ``rebuild`` numbers them back (``renumbered``).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from typing import BinaryIO, Iterator

from genre_desktop.tagging.regions.common import Layout, RegionError, Unit, hash_range, n

_BITSWAP = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def page_crc(page: bytes | bytearray | memoryview) -> bytes:
    """The Ogg checksum of a page (its checksum field read as zero), as stored in bytes 22-26.

    Ogg's CRC-32 is unreflected (polynomial 0x04C11DB7, initial 0, no final xor); zlib's is the
    reflected one: bit-reversing every byte in and the result out turns one into the other.
    """
    data = bytes(page[:22]) + b"\x00\x00\x00\x00" + bytes(page[26:])
    crc = (~zlib.crc32(data.translate(_BITSWAP), -1)) & 0xFFFFFFFF
    return crc.to_bytes(4, "big").translate(_BITSWAP)


def pages(data: bytes | memoryview) -> Iterator[tuple[int, int]]:
    """(offset, length) of the whole pages at the start of ``data``."""
    pos = 0
    while pos + 27 <= len(data) and data[pos:pos + 4] == b"OggS":
        nsegs = data[pos + 26]
        length = 27 + nsegs + sum(data[pos + 27:pos + 27 + nsegs])
        if pos + length > len(data):
            return
        yield pos, length
        pos += length


def renumbered(page: bytes | memoryview, seq: int) -> bytes:
    """``page`` with sequence number ``seq`` and the checksum that goes with it."""
    out = bytearray(page)
    out[18:22] = struct.pack("<I", seq & 0xFFFFFFFF)
    out[22:26] = page_crc(out)
    return bytes(out)


def ogg(handle: BinaryIO, size: int) -> Layout:
    h = hashlib.sha256()
    packets: dict[int, list[bytes]] = {}   # serial -> [partial packet bytes]
    counts: dict[int, int] = {}            # serial -> packets completed so far
    units: list[Unit] = []
    pos = 0
    handle.seek(0)
    while pos < size:
        header = handle.read(27)
        if len(header) < 27 or header[:4] != b"OggS":
            break
        nsegs = header[26]
        table = handle.read(nsegs)
        body_len = sum(table)
        body = handle.read(body_len)
        if len(table) < nsegs or len(body) < body_len:
            break
        flags, granule, serial = header[5], struct.unpack("<q", header[6:14])[0], struct.unpack("<I", header[14:18])[0]
        if page_crc(header + table + body) != header[22:26]:
            # A save recomputes the checksums of the pages it rewrites or renumbers: a page that
            # decoders skip today would start to play (or a file that does not decode would).
            raise RegionError(f"damaged Ogg: the page at byte {n(pos)} fails its checksum")
        # Pairing key only (the proof checks what it pairs; the packet digest keeps SHA-256).
        key = header[4:18] + table + zlib.crc32(body).to_bytes(4, "big")
        units.append(Unit(pos, 27 + nsegs + body_len, key, seq=struct.unpack("<I", header[18:22])[0]))
        if granule not in (0, -1):  # 0: a header page; -1: no packet ends on this page (no time to keep)
            h.update(struct.pack("<IqB", serial, granule, flags & 0x04))
        parts = packets.setdefault(serial, [])
        offset = 0
        for lace in table:
            parts.append(body[offset:offset + lace])
            offset += lace
            if lace < 255:
                count = counts.get(serial, 0)
                if count != 1:  # packet 1 is the comment header: the tag itself
                    data = b"".join(parts)
                    h.update(struct.pack("<IIQ", serial, count, len(data)) + data)
                counts[serial] = count + 1
                parts.clear()
        pos += 27 + nsegs + body_len
    for serial, parts in packets.items():  # a packet the file ends inside
        if parts and counts.get(serial, 0) != 1:
            h.update(struct.pack("<I", serial) + b"".join(parts))
    h.update(b"tail")
    hash_range(handle, pos, size - pos, h)  # bytes that are not pages (a cut or garbage): as they are
    return Layout(h.hexdigest(), tuple(units))
