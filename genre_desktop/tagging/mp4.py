"""MP4/M4A atoms (the ``moov.udta.meta.ilst`` list): text atoms hold several values.

mutagen turns the old numeric ``gnre`` atom into ``\\xa9gen`` when it loads a file, so numeric
genres read as names and are saved back as text. Which atom holds which field is the
declaration's (``fields``); this backend knows the container's hazards.
"""

from __future__ import annotations

import logging
import os
import struct
from io import BytesIO
from typing import Any, Iterable

from genre_desktop.tagging.base import Backend
from genre_desktop.tagging.fields import FIELDS

log = logging.getLogger(__name__)

GENRE = "\xa9gen"


class MP4Backend(Backend):
    name = "mp4"
    formats = ("mp4",)

    def check_file(self, audio: Any, names: Iterable[str] = ("genre",)) -> str | None:
        # mutagen keeps atoms it cannot parse and writes them back, except one whose key we set:
        # a damaged atom (which other players may still read) would be replaced for good.
        keys = {place.key for name in names for place in FIELDS[name].places_in("mp4")}
        if "genre" in names:
            keys.add("gnre")
        failed = getattr(audio.tags, "_failed_atoms", None) or {}
        damaged = sorted(key for key in keys if key in failed)
        if damaged:
            what = "genre atom" if set(damaged) & {GENRE, "gnre"} else f"{damaged[0]!r} atom"
            return (f"the file's {what} is damaged: this app cannot read it (other players may), and "
                    f"writing would replace it for good, so the file is not written")
        for key in sorted(k for k in keys if not k.startswith("----") and k != "gnre"):
            odd = sorted(set(_data_types(audio.filename, key)) - {1, 2})
            if odd:  # mutagen reads them as text, other players skip them; undo would write them as text
                what = "genre" if key == GENRE else repr(key)
                return (f"the file's {what} atom holds values of an unexpected data type ({odd[0]}); writing "
                        f"would change what other players read, so the file is not written")
        return None

    def channels(self, audio: Any) -> int | None:
        # mutagen leaves a mono AAC stream without explicit PS signalling to the sample entry's
        # channel count, which encoders write as 2 (ISO's template value): a mono file read "stereo".
        if _declares_mono_aac(getattr(audio, "filename", None)):
            return 1
        return super().channels(audio)


def _data_types(path: str, key: str) -> list[int]:
    """The data types (1: UTF-8, 2: UTF-16, ...) of the values of the file's ``key`` atom."""
    from genre_desktop.tagging.regions import _atoms

    chain = (b"moov", b"udta", b"meta", b"ilst", key.encode("latin-1"))
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
    stereo (what ffprobe and decoders report as mono). Any parsing trouble: False (keep mutagen's).

    Only the atom headers on the way to each track's ``stsd`` are read (every track's tables,
    which mutagen's full parse would walk again, are skipped): a quarter of an M4A's scan before."""
    if not path:
        return False
    from mutagen.mp4._as_entry import ES_Descriptor
    from mutagen.mp4._atom import Atom

    try:
        with open(path, "rb") as handle:
            for data in _stsd_payloads(handle, os.fstat(handle.fileno()).st_size):
                entries = BytesIO(data[8:])  # version/flags, entry count
                entry = Atom(entries)
                if entry.name != b"mp4a":
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


def _stsd_payloads(handle: Any, size: int):
    """The payload of each track's moov/trak/mdia/minf/stbl/stsd atom, in file order."""
    from genre_desktop.tagging.regions import _atoms

    for kind, body, stop in _atoms(handle, 0, size):
        if kind != b"moov":
            continue
        for kind, track_body, track_stop in _atoms(handle, body, stop):
            if kind != b"trak":
                continue
            found: tuple[int, int] | None = (track_body, track_stop)
            for name in (b"mdia", b"minf", b"stbl", b"stsd"):
                found = next(((b, e) for k, b, e in _atoms(handle, *found) if k == name), None)
                if found is None:
                    break
            if found is not None:
                handle.seek(found[0])
                yield handle.read(found[1] - found[0])
