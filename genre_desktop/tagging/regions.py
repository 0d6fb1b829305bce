"""The audio region of a file, as a digest: what a tag write must leave byte-identical.

A tag write is verified on the working copy before it replaces the user's file: the digest of the
copy's audio region must equal the original's. Each container says where its audio lives (chosen
by the registry's table, one function per container):

- WAV/AIFF (IFF chunks): the format chunk (``fmt ``/``COMM``) and the sample chunk (``data``/
  ``SSND``). The walk also refuses files a save would damage: a chunk that runs past the end of
  the file (an interrupted copy or recording) or an odd-sized chunk without its pad byte. mutagen
  inserts its ID3 chunk at the file's real end, inside such a chunk's declared extent, and players
  then play the tag's bytes as samples.
- MP3: everything after the ID3v2 tag at the start, up to an ID3v1 tag at the end.
- FLAC: STREAMINFO and everything after the last metadata block (the frames).
- Ogg (Vorbis, Opus, FLAC): every packet except the comment header (packet 1 of each stream),
  plus each audio page's granule position and flags. A page whose checksum fails is refused: a
  save renumbers the pages after the headers and recomputes their checksums, so a page decoders
  skip today would start to play.
- MP4: the payload of every ``mdat`` atom, and every chunk offset (stco/co64) relative to the
  ``mdat`` it points into (a save moves the audio and must move the offsets with it).
- ASF: everything after the header object (data and index objects), and every header object
  but the tag objects (file/stream properties, codec list, ...); objects that run past their
  container are refused (a save would "repair" them and change how decoders read the file).

A region that cannot be located safely raises ``RegionError`` with the reason in a user's words.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from typing import BinaryIO, Callable

_BLOCK = 1 << 20


class RegionError(Exception):
    """The file's structure makes a tag write unsafe; ``str(exc)`` is the reason for the user."""


Region = Callable[[BinaryIO, int], str]


def digest(region: Region, path: str | os.PathLike[str]) -> str:
    """The hex digest of ``path``'s audio region as ``region`` locates it."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        return region(handle, size)


def _hash_range(handle: BinaryIO, start: int, length: int, h: "hashlib._Hash") -> None:
    handle.seek(start)
    while length > 0:
        block = handle.read(min(_BLOCK, length))
        if not block:
            break
        h.update(block)
        length -= len(block)


def _n(value: int) -> str:
    return f"{value:,}"


# ----------------------------------------------------------------------------- IFF (WAV, AIFF)
def _iff(container: bytes, forms: tuple[bytes, ...], endian: str, name: str,
         kept: tuple[bytes, ...]) -> Region:
    def region(handle: BinaryIO, size: int) -> str:
        handle.seek(0)
        head = handle.read(12)
        if len(head) < 12 or head[:4] != container or head[8:12] not in forms:
            raise RegionError(f"damaged {name}: no {container.decode()} header")
        declared = struct.unpack(endian + "I", head[4:8])[0]
        end = min(8 + declared, size)
        h = hashlib.sha256()
        pos, seen_audio = 12, False
        while pos + 8 <= end:
            handle.seek(pos)
            header = handle.read(8)
            cid = header[:4]
            length = struct.unpack(endian + "I", header[4:8])[0]
            label = cid.decode("latin-1").strip() or "unnamed"
            if not _valid_id(cid):
                if pos > 12 and _valid_id(_peek(handle, pos - 1, 4)):
                    raise RegionError(f"damaged {name}: a chunk before offset {_n(pos)} has an odd size "
                                      f"and lacks the pad byte that must follow it")
                raise RegionError(f"damaged {name}: unreadable chunk header at offset {_n(pos)}")
            available = size - (pos + 8)
            if length > available:
                raise RegionError(f"truncated {name}: the {label} chunk claims {_n(length)} bytes, "
                                  f"the file holds {_n(max(available, 0))}")
            if length % 2 and pos + 8 + length == size:
                raise RegionError(f"damaged {name}: the {label} chunk has an odd size ({_n(length)} bytes) "
                                  f"and lacks the pad byte that must follow it")
            if cid in kept:
                h.update(cid + struct.pack("<Q", length))
                _hash_range(handle, pos + 8, length, h)
                seen_audio = seen_audio or cid == kept[-1]
            pos += 8 + length + (length % 2)
        if not seen_audio:
            raise RegionError(f"damaged {name}: no {kept[-1].decode().strip()} chunk holding the audio")
        return h.hexdigest()

    return region


def _valid_id(cid: bytes) -> bool:
    return len(cid) == 4 and all(32 <= b <= 126 for b in cid) and cid[0] != 32


def _peek(handle: BinaryIO, pos: int, n: int) -> bytes:
    handle.seek(pos)
    return handle.read(n)


wave = _iff(b"RIFF", (b"WAVE",), "<", "WAV", (b"fmt ", b"data"))
aiff = _iff(b"FORM", (b"AIFF", b"AIFC"), ">", "AIFF", (b"COMM", b"SSND"))


# ----------------------------------------------------------------------------- MP3
def _id3v2_end(handle: BinaryIO, size: int, name: str) -> int:
    """Where the ID3v2 tag at the start of the file ends (0 without one)."""
    handle.seek(0)
    head = handle.read(10)
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    body = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    end = 10 + body + (10 if head[5] & 0x10 else 0)
    if end > size:
        raise RegionError(f"damaged {name}: the ID3 tag claims {_n(body)} bytes, the file holds {_n(size - 10)}")
    return end


def mp3(handle: BinaryIO, size: int) -> str:
    start = _id3v2_end(handle, size, "MP3")
    end = size
    if size - start >= 128 and _peek(handle, size - 128, 3) == b"TAG":
        end = size - 128  # ID3v1: mutagen keeps it up to date
    h = hashlib.sha256()
    _hash_range(handle, start, end - start, h)
    return h.hexdigest()


# ----------------------------------------------------------------------------- FLAC
def flac(handle: BinaryIO, size: int) -> str:
    pos = _id3v2_end(handle, size, "FLAC")
    if _peek(handle, pos, 4) != b"fLaC":
        raise RegionError("damaged FLAC: no fLaC marker")
    pos += 4
    h = hashlib.sha256()
    while True:
        header = _peek(handle, pos, 4)
        if len(header) < 4:
            raise RegionError("truncated FLAC: the file ends inside its metadata")
        kind, last = header[0] & 0x7F, header[0] & 0x80
        length = int.from_bytes(header[1:4], "big")
        if pos + 4 + length > size:
            raise RegionError(f"truncated FLAC: a metadata block claims {_n(length)} bytes, "
                              f"the file holds {_n(size - pos - 4)}")
        if kind == 0:  # STREAMINFO: the decoder's parameters
            _hash_range(handle, pos, 4 + length, h)
        pos += 4 + length
        if last:
            break
    _hash_range(handle, pos, size - pos, h)
    return h.hexdigest()


# ----------------------------------------------------------------------------- Ogg
_BITSWAP = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


def _ogg_crc_ok(page: bytes) -> bool:
    data = page[:22] + b"\x00\x00\x00\x00" + page[26:]
    crc = (~zlib.crc32(data.translate(_BITSWAP), -1)) & 0xFFFFFFFF
    return crc.to_bytes(4, "big").translate(_BITSWAP) == page[22:26]


def ogg(handle: BinaryIO, size: int) -> str:
    h = hashlib.sha256()
    packets: dict[int, list[bytes]] = {}   # serial -> [partial packet bytes]
    counts: dict[int, int] = {}            # serial -> packets completed so far
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
        if not _ogg_crc_ok(header + table + body):
            # A save recomputes the checksums of the pages it rewrites or renumbers: a page that
            # decoders skip today would start to play (or a file that does not decode would).
            raise RegionError(f"damaged Ogg: the page at byte {_n(pos)} fails its checksum")
        if granule != 0:
            h.update(struct.pack("<IqB", serial, granule, flags & 0x04))
        parts = packets.setdefault(serial, [])
        offset = 0
        for lace in table:
            parts.append(body[offset:offset + lace])
            offset += lace
            if lace < 255:
                n = counts.get(serial, 0)
                if n != 1:  # packet 1 is the comment header: the tag itself
                    data = b"".join(parts)
                    h.update(struct.pack("<IIQ", serial, n, len(data)) + data)
                counts[serial] = n + 1
                parts.clear()
        pos += 27 + nsegs + body_len
    for serial, parts in packets.items():  # a packet the file ends inside
        if parts and counts.get(serial, 0) != 1:
            h.update(struct.pack("<I", serial) + b"".join(parts))
    h.update(b"tail")
    _hash_range(handle, pos, size - pos, h)  # bytes that are not pages (a cut or garbage): as they are
    return h.hexdigest()


# ----------------------------------------------------------------------------- MP4
_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def _atoms(handle: BinaryIO, start: int, end: int):
    """(type, payload start, payload end) of the atoms between start and end."""
    pos = start
    while pos + 8 <= end:
        header = _peek(handle, pos, 8)
        length, kind = struct.unpack(">I4s", header)
        skip = 8
        if length == 1:
            big = _peek(handle, pos + 8, 8)
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
    for kind, body, stop in _atoms(handle, start, end):
        if kind in _CONTAINERS:
            _chunk_offsets(handle, body, stop, out)
        elif kind in (b"stco", b"co64"):
            data = _peek(handle, body, stop - body)
            if len(data) < 8:
                continue
            count = struct.unpack(">I", data[4:8])[0]
            width = 4 if kind == b"stco" else 8
            count = min(count, (len(data) - 8) // width)
            fmt = ">" + ("I" if width == 4 else "Q") * count
            out.extend(struct.unpack(fmt, data[8:8 + width * count]))


def mp4(handle: BinaryIO, size: int) -> str:
    h = hashlib.sha256()
    mdats: list[tuple[int, int]] = []
    offsets: list[int] = []
    for kind, body, stop in _atoms(handle, 0, size):
        if kind == b"mdat":
            mdats.append((body, stop))
            h.update(b"mdat" + struct.pack(">Q", stop - body))
            _hash_range(handle, body, stop - body, h)
        elif kind == b"moov":
            _chunk_offsets(handle, body, stop, offsets)
    if not mdats:
        raise RegionError("damaged M4A: no mdat atom holding the audio")
    for offset in offsets:
        where = next(((i, offset - a) for i, (a, b) in enumerate(mdats) if a <= offset < b), (-1, offset))
        h.update(struct.pack(">qQ", *where))
    return h.hexdigest()


# ----------------------------------------------------------------------------- ASF
_ASF_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_ASF_EXTENSION = bytes.fromhex("b503bf5f")
# Objects a save rewrites (the tags, their padding): first four bytes of their GUIDs.
_ASF_TAGS = {bytes.fromhex(x) for x in ("3326b275",    # content description
                                        "40a4d0d2",    # extended content description
                                        "74d40618",    # padding
                                        "eacbf8c5",    # metadata (in the header extension)
                                        "941c2344")}   # metadata library (in the header extension)


def _asf_objects(data: bytes, pos: int, end: int, where: str):
    while pos < end:
        if pos + 24 > end:
            raise RegionError(f"damaged WMA: the {where} ends inside an object")
        length = struct.unpack("<Q", data[pos + 16:pos + 24])[0]
        if length < 24 or pos + length > end:
            raise RegionError(f"damaged WMA: an object in the {where} claims {_n(length)} bytes, "
                              f"the {where} holds {_n(end - pos)}")
        yield data[pos:pos + 16], pos, length
        pos += length


def asf(handle: BinaryIO, size: int) -> str:
    """The data and index objects after the header, and every header object a save must not
    change (file and stream properties, codec list, ...): all but the tag objects."""
    head = _peek(handle, 0, 30)
    if len(head) < 30 or head[:16] != _ASF_HEADER:
        raise RegionError("damaged WMA: no ASF header object")
    length = struct.unpack("<Q", head[16:24])[0]
    if length > size or length < 30:
        raise RegionError(f"truncated WMA: the header claims {_n(length)} bytes, the file holds {_n(size)}")
    header = _peek(handle, 0, length)
    h = hashlib.sha256()
    for guid, pos, olen in _asf_objects(header, 30, length, "header"):
        if guid[:4] in _ASF_TAGS:
            continue
        if guid[:4] == _ASF_EXTENSION and olen >= 46:
            h.update(header[pos:pos + 16] + header[pos + 24:pos + 42])  # GUID, reserved fields (not sizes)
            for sub, spos, slen in _asf_objects(header, pos + 46, pos + olen, "header extension"):
                if sub[:4] not in _ASF_TAGS:
                    h.update(header[spos:spos + slen])
            continue
        h.update(header[pos:pos + olen])
    _hash_range(handle, length, size - length, h)
    return h.hexdigest()
