"""Content-defined chunking: cut bytes where their content says, so equal runs give equal chunks.

Used twice by the undo data (``rebuild``): to find the bytes of a file's tags that a write only
moved (a 300 KB cover picture sits at another offset after the tag grew), and to store what is
kept as content-addressed blobs that files sharing bytes (an album's tracks with the same cover)
store once. A fixed-size split would shift with the first inserted byte and share nothing.

The cut points come from a gear hash (FastCDC's rolling hash): ``h = (h << 1) + GEAR[byte]`` over
32-bit words, so ``h`` at a byte depends on the 32 bytes ending there; a position is a cut point
when the top ``AVERAGE_BITS`` bits of ``h`` are zero (one in 8 KiB on random data), with chunks
kept between ``MIN_CHUNK`` and ``MAX_CHUNK``. numpy computes ``h`` for a whole block in five
vector passes (the window doubles each pass). The gear table is derived from SHA-256, so chunks are the same in every version
and on every machine (dedup across versions; correctness never depends on it).
"""

from __future__ import annotations

import hashlib
from typing import Iterator

import numpy as np

MIN_CHUNK = 2048
MAX_CHUNK = 64 * 1024
AVERAGE_BITS = 13
_WINDOW = 32
_BLOCK = 1 << 20  # bytes hashed per numpy pass (memory: ~8 bytes per byte of a block)

_GEAR = np.array([int.from_bytes(hashlib.sha256(b"genre-desktop gear %d" % i).digest()[:4], "little")
                  for i in range(256)], dtype=np.uint32)


def _cut_candidates(data: bytes | memoryview, bits: int) -> np.ndarray:
    """Positions p (1..len) after which the content allows a cut (not yet bounded by min/max)."""
    found = []
    n = len(data)
    shift = np.uint32(32 - bits)
    for start in range(0, n, _BLOCK):
        lead = min(start, _WINDOW - 1)  # the previous block's last bytes feed this block's hashes
        block = np.frombuffer(data[start - lead:start + _BLOCK], dtype=np.uint8)
        h = _GEAR[block]
        width = 1
        while width < _WINDOW:  # h over 2w bytes = h over w bytes + (h over the w before) << w
            h[width:] += h[:-width] << np.uint32(width)
            width *= 2
        hits = np.flatnonzero((h[lead:] >> shift) == 0)
        found.append(hits + start + 1)
    return np.concatenate(found) if found else np.zeros(0, np.int64)


def cut_points(data: bytes | memoryview, smallest: int = MIN_CHUNK, largest: int = MAX_CHUNK,
               bits: int = AVERAGE_BITS) -> list[int]:
    """The ends of the chunks of ``data`` (the last one is ``len(data)``; empty data: []).

    Chunks are ``smallest`` to ``largest`` bytes, about ``2 ** bits`` past the smallest on average.
    """
    n = len(data)
    if n == 0:
        return []
    if n <= smallest:
        return [n]
    cuts: list[int] = []
    last = 0
    for c in _cut_candidates(data, bits).tolist():
        if c - last < smallest:
            continue
        while c - last > largest:
            last += largest
            cuts.append(last)
        if c >= n:
            break
        cuts.append(c)
        last = c
    while n - last > largest:
        last += largest
        cuts.append(last)
    if not cuts or cuts[-1] != n:
        if cuts and n - cuts[-1] < smallest // 4 and n - (cuts[-2] if len(cuts) > 1 else 0) <= largest:
            cuts[-1] = n  # a crumb at the end joins the chunk before it
        else:
            cuts.append(n)
    return cuts


def chunks(data: bytes | memoryview, smallest: int = MIN_CHUNK, largest: int = MAX_CHUNK,
           bits: int = AVERAGE_BITS) -> Iterator[tuple[int, int]]:
    """(start, end) of each chunk of ``data``, in order (sizes as ``cut_points``)."""
    start = 0
    for end in cut_points(data, smallest, largest, bits):
        yield start, end
        start = end
