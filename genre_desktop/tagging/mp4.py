"""MP4/M4A atoms: genres in the free-text ``\\xa9gen`` atom, one value per genre.

mutagen turns the old numeric ``gnre`` atom into ``\\xa9gen`` when it loads a file, so numeric
genres read as names and are saved back as text. Year is the start of ``\\xa9day``.
"""

from __future__ import annotations

import logging
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

    def channels(self, audio: Any) -> int | None:
        # mutagen leaves a mono AAC stream without explicit PS signalling to the sample entry's
        # channel count, which encoders write as 2 (ISO's template value): a mono file read "stereo".
        if _declares_mono_aac(getattr(audio, "filename", None)):
            return 1
        return super().channels(audio)

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> None:
        if audio.tags is None:
            audio.add_tags()
        if genres:
            audio.tags[GENRE] = list(genres)
        elif GENRE in audio.tags:
            del audio.tags[GENRE]


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
