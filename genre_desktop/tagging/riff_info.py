"""WAV files: ID3 in an ``ID3 `` chunk (mutagen) and the RIFF INFO list (``LIST``/``INFO``).

Many rippers and ffmpeg tag WAV files in the INFO list only (INAM title, IART artist, IPRD album,
ICRD date, IGNR genre); players and ffprobe read it. mutagen neither reads nor writes it, so:

- Reading: each field comes from the ID3 tag when it has it, else from INFO. An INFO genre is one
  string; with ``options`` it is split on the ID3v2.3 separator, as a v2.3 TCON is.
- Writing the genre where the file keeps it: into the ID3 tag if the file has one (or has no INFO
  list at all), and into INFO's IGNR if the file has an INFO list with an IGNR, or an INFO list
  and no ID3 tag. So a file tagged in INFO only gets no ID3 chunk (no growth), and players that
  read either agree afterwards.
- Undo: ``raw_other`` holds IGNR's bytes exactly (as latin-1 text, None when absent) and
  ``set_other`` puts them back, or removes an IGNR the write added.

The INFO list is rewritten on the working copy (tagging.files verifies it before the rename):
the other INFO fields keep their bytes and order, and the RIFF size is updated.
"""

from __future__ import annotations

import struct
from typing import Any

from mutagen._util import resize_bytes

from genre_desktop.tagging.base import Fields, WriteOptions, clean_genres, year_of
from genre_desktop.tagging.id3 import ID3Backend

IGNR = "IGNR"
_FIELDS = {"title": b"INAM", "artist": b"IART", "album": b"IPRD", "year": b"ICRD"}
_PENDING = "_genre_desktop_ignr"  # attribute on the loaded file: the IGNR change to apply on save
_ABSENT = object()


def _info_chunk(handle: Any) -> tuple[int, int, list[tuple[bytes, bytes]]] | None:
    """(offset of the LIST chunk, its total size, [(id, raw value)]) of the INFO list, or None."""
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    head = handle.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    end = min(8 + struct.unpack("<I", head[4:8])[0], size)
    pos = 12
    while pos + 8 <= end:
        handle.seek(pos)
        cid, length = struct.unpack("<4sI", handle.read(8))
        if cid == b"LIST" and pos + 12 <= end:
            body = handle.read(length)
            if body[:4] == b"INFO" and len(body) == length:
                return pos, 8 + length + length % 2, _subchunks(body[4:])
        pos += 8 + length + length % 2
    return None


def _subchunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        cid, length = struct.unpack("<4sI", data[pos:pos + 8])
        out.append((cid, data[pos + 8:pos + 8 + length]))
        pos += 8 + length + length % 2
    return out


def _text(raw: bytes) -> str:
    raw = raw.split(b"\x00", 1)[0]
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def _exact(raw: bytes) -> str:
    """The value's bytes (without the terminating NULs) as latin-1 text: restored byte for byte."""
    return raw.rstrip(b"\x00").decode("latin-1")


def read_info(path: str) -> list[tuple[bytes, bytes]] | None:
    """The INFO list's (id, raw value) pairs, or None when the file has none."""
    with open(path, "rb") as handle:
        found = _info_chunk(handle)
    return found[2] if found else None


def write_ignr(path: str, value: bytes | None) -> None:
    """Set (or with None remove) IGNR in the file's INFO list, keeping every other field's bytes."""
    with open(path, "r+b") as handle:
        found = _info_chunk(handle)
        if found is None:
            raise ValueError("no INFO list")
        offset, old_size, fields = found
        new, seen = [], False
        for cid, raw in fields:
            if cid == IGNR.encode():
                seen = True
                if value is not None:
                    new.append((cid, value + b"\x00"))
            else:
                new.append((cid, raw))
        if not seen and value is not None:
            new.append((IGNR.encode(), value + b"\x00"))
        body = b"INFO" + b"".join(struct.pack("<4sI", c, len(r)) + r + b"\x00" * (len(r) % 2) for c, r in new)
        chunk = b"LIST" + struct.pack("<I", len(body)) + body
        resize_bytes(handle, old_size, len(chunk), offset)
        handle.seek(offset)
        handle.write(chunk)
        handle.seek(0, 2)
        riff = handle.tell() - 8
        handle.seek(4)
        handle.write(struct.pack("<I", riff))


class WaveBackend(ID3Backend):
    """ID3 chunk plus the RIFF INFO list (see the module docstring)."""

    name = "wave"

    def read(self, audio: Any, options: WriteOptions | None) -> Fields:
        fields = super().read(audio, options)
        info = read_info(audio.filename)
        if not info:
            return fields
        values = {cid: _text(raw) for cid, raw in info}
        for name, cid in _FIELDS.items():
            if not getattr(fields, name) and values.get(cid):
                setattr(fields, name, year_of(values[cid]) if name == "year" else values[cid])
        if not fields.genres and values.get(b"IGNR"):
            genre = values[b"IGNR"]
            fields.genres = clean_genres(genre.split(options.id3_separator) if options else [genre])
        return fields

    def raw_genres(self, audio: Any) -> list[str]:
        if audio.tags is not None:
            return super().raw_genres(audio)
        other = self.raw_other(audio).get(IGNR)
        return [other] if other is not None else []

    def raw_other(self, audio: Any) -> dict[str, str | None]:
        info = read_info(audio.filename)
        if info is None:
            return {}
        raw = next((r for c, r in info if c == IGNR.encode()), None)
        return {IGNR: _exact(raw) if raw is not None else None}

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions, exact: bool = False) -> None:
        info = read_info(audio.filename)
        if audio.tags is not None or info is None:
            super().set_genres(audio, genres, options, exact)
        if exact or info is None:
            return  # exact: INFO comes back through set_other
        if any(c == IGNR.encode() for c, _ in info) or audio.tags is None:
            text = options.id3_separator.join(genres)
            setattr(audio, _PENDING, text.encode("utf-8") if genres else None)

    def set_other(self, audio: Any, other: dict[str, str | None]) -> None:
        if IGNR in other and read_info(audio.filename) is not None:
            value = other[IGNR]
            setattr(audio, _PENDING, value.encode("latin-1") if value is not None else None)

    def save(self, audio: Any, options: WriteOptions) -> None:
        if audio.tags is not None:
            super().save(audio, options)
        self._write_info(audio)

    def drop_if_empty(self, audio: Any) -> bool:
        if audio.tags is not None and len(audio.tags.keys()) > 0:
            return False
        if audio.tags is not None:
            audio.delete()
        self._write_info(audio)
        return True

    @staticmethod
    def _write_info(audio: Any) -> None:
        pending = getattr(audio, _PENDING, _ABSENT)
        if pending is not _ABSENT:
            write_ignr(audio.filename, pending)
            info = read_info(audio.filename) or []
            got = next((r.rstrip(b"\x00") for c, r in info if c == IGNR.encode()), None)
            if got != pending:
                raise ValueError(f"the INFO genre did not read back (read {got!r}, wrote {pending!r})")
