"""ASF (WMA): everything after the header object (data and index objects), and every header
object but the tag objects (file/stream properties, codec list, ...). Objects that run past their
container are refused: a save would "repair" them and change how decoders read the file.

The bytes after the header object are the unit (a save rewrites only the header object).
"""

from __future__ import annotations

import hashlib
import struct
from typing import BinaryIO, Iterator

from genre_desktop.tagging.regions.common import Layout, RegionError, n, peek, unit

_HEADER = bytes.fromhex("3026b2758e66cf11a6d900aa0062ce6c")
_EXTENSION = bytes.fromhex("b503bf5f")
# Objects a save rewrites (the tags, their padding): first four bytes of their GUIDs.
_TAGS = {bytes.fromhex(x) for x in ("3326b275",    # content description
                                    "40a4d0d2",    # extended content description
                                    "74d40618",    # padding
                                    "eacbf8c5",    # metadata (in the header extension)
                                    "941c2344")}   # metadata library (in the header extension)


def _objects(data: bytes, pos: int, end: int, where: str) -> Iterator[tuple[bytes, int, int]]:
    while pos < end:
        if pos + 24 > end:
            raise RegionError(f"damaged WMA: the {where} ends inside an object")
        length = struct.unpack("<Q", data[pos + 16:pos + 24])[0]
        if length < 24 or pos + length > end:
            raise RegionError(f"damaged WMA: an object in the {where} claims {n(length)} bytes, "
                              f"the {where} holds {n(end - pos)}")
        yield data[pos:pos + 16], pos, length
        pos += length


def asf(handle: BinaryIO, size: int) -> Layout:
    """The data and index objects after the header, and every header object a save must not
    change (file and stream properties, codec list, ...): all but the tag objects."""
    head = peek(handle, 0, 30)
    if len(head) < 30 or head[:16] != _HEADER:
        raise RegionError("damaged WMA: no ASF header object")
    length = struct.unpack("<Q", head[16:24])[0]
    if length > size or length < 30:
        raise RegionError(f"truncated WMA: the header claims {n(length)} bytes, the file holds {n(size)}")
    header = peek(handle, 0, length)
    h = hashlib.sha256()
    for guid, pos, olen in _objects(header, 30, length, "header"):
        if guid[:4] in _TAGS:
            continue
        if guid[:4] == _EXTENSION and olen >= 46:
            h.update(header[pos:pos + 16] + header[pos + 24:pos + 42])  # GUID, reserved fields (not sizes)
            for sub, spos, slen in _objects(header, pos + 46, pos + olen, "header extension"):
                if sub[:4] not in _TAGS:
                    h.update(header[spos:spos + slen])
            continue
        h.update(header[pos:pos + olen])
    data = unit(handle, length, size - length)
    h.update(data.key)
    return Layout(h.hexdigest(), (data,))
