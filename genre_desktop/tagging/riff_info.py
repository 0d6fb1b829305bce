"""WAV files: ID3 in an ``ID3 `` chunk (mutagen) and the RIFF INFO list (``LIST``/``INFO``).

Many rippers and ffmpeg tag WAV files in the INFO list only (INAM title, IART artist, IPRD album,
ICRD date, IGNR genre); Windows, players and ffprobe read it. mutagen, beets, Picard and every
mediafile-based tool read the ID3 chunk only. So:

- Reading: each field comes from the ID3 chunk when it has it, else from INFO (the declaration's
  places, ID3 first). An INFO value is one text: several genres in it are split like an ID3v2.3
  value ("Rock; Jazz").
- Writing a genre: into the ID3 chunk always (one is added when the file has none), and into
  INFO's IGNR too when the file has an INFO list (every ffmpeg-made WAV), joined by the separator
  IGNR already uses, else the setting's. So every reader sees the same genres afterwards. No INFO
  list is added to a file without one. INFO has no style field: styles go to the ID3 chunk only.
- Undo: ``Fields.raw`` holds IGNR's bytes exactly (as Latin-1 text, None when absent) and
  ``restore_fields`` puts them back, or removes an IGNR the write added.

The INFO list is rewritten on the working copy (tagging.files verifies it before the rename):
the other INFO fields keep their bytes and order, and the RIFF size is updated.
"""

from __future__ import annotations

import struct
from typing import Any

from mutagen._util import resize_bytes

from typing import Mapping

from genre_desktop.tagging.base import WriteOptions
from genre_desktop.tagging.fields import FIELDS
from genre_desktop.tagging.id3 import ID3Backend
from genre_desktop.tagging.separators import split_all

IGNR = "IGNR"
_INFO = "_genre_desktop_info"  # attribute on the loaded file: its InfoList (with pending changes)


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


class InfoList:
    """A WAV file's INFO fields as loaded, and the changes to apply on save.

    ``get`` gives a value's bytes (without the terminating NULs) as Latin-1 text, so it comes back
    byte for byte; ``text`` the value as players show it (UTF-8, else Latin-1, stripped).
    """

    def __init__(self, fields: list[tuple[bytes, bytes]]) -> None:
        self._fields = {cid.decode("latin-1"): raw for cid, raw in fields}
        self.pending: dict[str, bytes | None] = {}

    def get(self, cid: str) -> str | None:
        raw = self.pending[cid] if cid in self.pending else self._fields.get(cid)
        return raw.rstrip(b"\x00").decode("latin-1") if raw is not None else None

    def text(self, cid: str) -> str | None:
        raw = self.pending[cid] if cid in self.pending else self._fields.get(cid)
        return _text(raw) if raw is not None else None

    def set(self, cid: str, value: bytes | None) -> None:
        self.pending[cid] = value


def read_info(path: str) -> list[tuple[bytes, bytes]] | None:
    """The INFO list's (id, raw value) pairs, or None when the file has none."""
    with open(path, "rb") as handle:
        found = _info_chunk(handle)
    return found[2] if found else None


def write_info_field(path: str, cid: str, value: bytes | None) -> None:
    """Set (or with None remove) one field of the file's INFO list, keeping every other field's bytes."""
    with open(path, "r+b") as handle:
        found = _info_chunk(handle)
        if found is None:
            raise ValueError("no INFO list")
        offset, old_size, fields = found
        key, new, seen = cid.encode("latin-1"), [], False
        for field_id, raw in fields:
            if field_id == key:
                seen = True
                if value is not None:
                    new.append((field_id, value + b"\x00"))
            else:
                new.append((field_id, raw))
        if not seen and value is not None:
            new.append((key, value + b"\x00"))
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
    formats = ("id3", "info")

    def containers(self, audio: Any) -> dict[str, Any]:
        found = super().containers(audio)
        info = getattr(audio, _INFO, False)
        if info is False:
            fields = read_info(audio.filename)
            info = InfoList(fields) if fields is not None else None
            setattr(audio, _INFO, info)
        found["info"] = info
        return found

    def container_for_write(self, audio: Any, tag_format: str) -> Any:
        if tag_format == "info":
            return self.containers(audio)["info"]  # None: no INFO list, none is added
        return super().container_for_write(audio, tag_format)

    def one_value(self, audio: Any, tag_format: str, container: Any, writing: WriteOptions | None) -> bool:
        return tag_format == "info" or super().one_value(audio, tag_format, container, writing)

    def one_value_reason(self, audio: Any, tag_format: str, options: WriteOptions) -> str:
        if tag_format == "info":
            return "a RIFF INFO field holds one value"
        return super().one_value_reason(audio, tag_format, options)

    def set_fields(self, audio: Any, values: Mapping[str, list[str]], options: WriteOptions) -> None:
        info = self.containers(audio)["info"]
        if audio.tags is None and info is not None:
            self._seed_id3(audio, info, values, options)
        super().set_fields(audio, values, options)

    def _seed_id3(self, audio: Any, info: InfoList, values: Mapping[str, list[str]], options: WriteOptions) -> None:
        """A WAV tagged in INFO only gets an ID3 chunk that starts with INFO's fields: TagLib-based
        players (VLC, Strawberry, Kid3) read only the ID3 chunk of a file that has one, and mutagen-
        based tools (beets, Picard) never read INFO, so after the write every reader sees them all."""
        tags = self.container_for_write(audio, "id3")
        for tag_field in FIELDS.values():
            id3_places, info_places = tag_field.places_in("id3"), tag_field.places_in("info")
            if tag_field.name in values or not id3_places or not info_places:
                continue
            text = next((t for t in (p.shown(info, p.get(info) or []) for p in info_places) if t and t[0].strip()),
                        None)
            if text is None:
                continue
            shown = split_all(text, (options.id3_separator,)) if tag_field.multi else [text[0].strip()]
            place = id3_places[0]
            joined = self._joined(audio, tag_field, "id3", place, None, shown, options)
            place.set(tags, [joined.join(shown)] if joined is not None else shown)

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

    def _write_info(self, audio: Any) -> None:
        info = self.containers(audio)["info"]
        if info is None:
            return
        for cid, value in info.pending.items():
            write_info_field(audio.filename, cid, value)
            again = dict(read_info(audio.filename) or [])
            got = again.get(cid.encode("latin-1"))
            got = got.rstrip(b"\x00") if got is not None else None
            if got != value:
                raise ValueError(f"the INFO field {cid} did not read back (read {got!r}, wrote {value!r})")
