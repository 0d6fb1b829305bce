"""MP4/M4A atoms: genres in the free-text ``\\xa9gen`` atom, one value per genre.

mutagen turns the old numeric ``gnre`` atom into ``\\xa9gen`` when it loads a file, so numeric
genres read as names and are saved back as text. Year is the start of ``\\xa9day``.
"""

from __future__ import annotations

import logging
import os
import struct
from io import BytesIO
from typing import Any

from genre_desktop.tagging.base import Backend, Fields, WriteOptions, clean_genres, first_text, year_of

log = logging.getLogger(__name__)

GENRE = "\xa9gen"


class MP4Backend(Backend):
    name = "mp4"

    def read(self, audio: Any, options: WriteOptions | None) -> Fields:
        tags = audio.tags
        if tags is None:
            return Fields()
        return Fields(
            title=first_text(tags.get("\xa9nam")),
            artist=first_text(tags.get("\xa9ART")),
            album=first_text(tags.get("\xa9alb")),
            albumartist=first_text(tags.get("aART")),
            year=year_of(first_text(tags.get("\xa9day"))),
            genres=clean_genres(tags.get(GENRE)),
        )

    def raw_genres(self, audio: Any) -> list[str]:
        return [str(v) for v in audio.tags.get(GENRE, [])] if audio.tags is not None else []

    def check_file(self, audio: Any) -> str | None:
        # mutagen keeps atoms it cannot parse and writes them back, except one whose key we set:
        # a damaged genre atom (which other players may still read) would be replaced for good.
        failed = getattr(audio.tags, "_failed_atoms", None) or {}
        if any(key in failed for key in (GENRE, "gnre")):
            return ("the file's genre atom is damaged: this app cannot read it (other players may), and "
                    "writing would replace it for good, so the file is not written")
        odd = sorted(set(_genre_data_types(audio.filename)) - {1, 2})
        if odd:  # mutagen reads them as text, other players skip them; undo would write them as text
            return (f"the file's genre atom holds values of an unexpected data type ({odd[0]}); writing "
                    f"would change what other players read, so the file is not written")
        return None

    def channels(self, audio: Any) -> int | None:
        # mutagen leaves a mono AAC stream without explicit PS signalling to the sample entry's
        # channel count, which encoders write as 2 (ISO's template value): a mono file read "stereo".
        if _declares_mono_aac(getattr(audio, "filename", None)):
            return 1
        return super().channels(audio)

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions, exact: bool = False) -> None:
        if audio.tags is None:
            audio.add_tags()
        if genres:
            audio.tags[GENRE] = list(genres)
        elif GENRE in audio.tags:
            del audio.tags[GENRE]


def _genre_data_types(path: str) -> list[int]:
    """The data types (1: UTF-8, 2: UTF-16, ...) of the values of the file's \xa9gen atom."""
    from genre_desktop.tagging.regions import _atoms

    chain = (b"moov", b"udta", b"meta", b"ilst", GENRE.encode("latin-1"))
    try:
        with open(path, "rb") as handle:
            start, end = 0, os.fstat(handle.fileno()).st_size
            for name in chain:
                found = next(((b, e) for kind, b, e in _atoms(handle, start, end) if kind == name), None)
                if found is None:
                    return []
                start, end = found
                if name == b"meta":
                    start += 4  # version and flags before its children
            types = []
            for kind, body, stop in _atoms(handle, start, end):
                if kind == b"data" and stop - body >= 4:
                    handle.seek(body)
                    types.append(int.from_bytes(handle.read(4)[1:4], "big"))
            return types
    except (OSError, struct.error):
        return []


def _declares_mono_aac(path: str | None) -> bool:
    """Whether the first mp4a track's AudioSpecificConfig says one channel and no parametric
    stereo (what ffprobe and decoders report as mono). Any parsing trouble: False (keep mutagen's)."""
    if not path:
        return False
    from mutagen.mp4 import Atoms
    from mutagen.mp4._as_entry import ES_Descriptor
    from mutagen.mp4._atom import Atom

    try:
        with open(path, "rb") as handle:
            for trak in Atoms(handle)[b"moov"].findall(b"trak"):
                try:
                    stsd = trak[b"mdia", b"minf", b"stbl", b"stsd"]
                except KeyError:
                    continue
                ok, data = stsd.read(handle)
                entries = BytesIO(data[8:])  # version/flags, entry count
                entry = Atom(entries)
                if not ok or entry.name != b"mp4a":
                    continue
                ok, body = entry.read(entries)
                children = BytesIO(body[28:])  # SampleEntry + AudioSampleEntry fields
                esds = Atom(children)
                ok2, esds_data = esds.read(children)
                if not (ok and ok2) or esds.name != b"esds" or esds_data[4:5] != b"\x03":
                    return False
                config = ES_Descriptor.parse(BytesIO(esds_data[5:])).decConfigDescr.decSpecificInfo
                return (config is not None and config.channelConfiguration == 1
                        and getattr(config, "psPresentFlag", -1) != 1)
    except Exception as exc:  # a malformed or unusual file: the header's count stands
        log.debug("cannot read the AAC channel configuration of %s: %s", path, exc)
    return False
