"""ID3 tags: MP3 files, and the ID3 chunks of WAV (mutagen.wave) and AIFF (mutagen.aiff).

Versions: each file keeps its own form unless the user converts (``WriteOptions.id3_version``)
- "keep" (the default): an ID3v2.4 tag is saved as v2.4, a v2.3 tag as v2.3. An ID3v2.2 tag
  (iTunes before 2005) is saved as ID3v2.3, the nearest version any library writes (mutagen reads
  v2.2 but cannot write it); ``describe_write`` says so before the write, and a v2.2 frame that
  has no v2.3 form refuses the write, naming it. A file without an ID3v2 tag (or with ID3v1 only)
  gets ``NEW_ID3_VERSION``: ID3v2.3, which every player and playout system reads, and in which
  ffprobe shows every genre (it shows only the first value of an ID3v2.4 frame).
- 3 or 4: every file is converted to that version.
- Converting to v2.3 uses mutagen's ``update_to_v23`` (dates go to TYER/TDAT, people lists to IPLS:
  the same information in v2.3 form), except that v2.4-only frames without a v2.3 equivalent
  (sort orders, RVA2 replay gain, mood, ...) are kept rather than dropped, as iTunes and foobar2000
  do. Other multi-value frames are saved with the NUL separator (``v23_sep=None``), exactly as
  they were read, so they round-trip.

Values: ID3v2.4 frames hold several values. An ID3v2.3 (or older) frame holds one: the fields we
write (genres, styles) are joined by the separator the frame already uses ("Rock/Blues": "/"),
else by ``id3_separator``, and split again on reading (``separators``: "/", ";", ","; never inside
a known name such as "Pop/Funk"; never " / "). A value that would not split back into itself is
refused. Genres are written as plain text, without the ID3v2.3 "((" escape; a genre that ID3
reads as a reference ("17", "(17)", "CR") is refused with what it would read back as. An
existing ID3v1 tag is updated (mutagen's v1=1); none is added.

Malformed tags (MP3; the tag at the start of the file)
- mutagen silently skips frames it cannot parse (an unknown text encoding, invalid UTF-8/UTF-16,
  a frame running past the tag) and, on loading ID3v2.3, drops RVAD/EQUA/TRDA/TSIZ (no v2.4
  equivalent); saving would then delete them. ``check_file`` walks the raw frame headers and
  refuses the write, naming the frames, when a frame with a valid id would be lost: the file is
  skipped with a reason rather than quietly losing the librarian's data. Bytes that are not
  frames at all (invalid ids: junk inside the tag) are dropped by the save: that is the minimal
  repair, and it is logged.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable

from mutagen.id3 import Frames_2_2
from mutagen.mp3 import MP3

from genre_desktop.tagging.base import KEEP, Backend, WriteOptions

log = logging.getLogger(__name__)

#: The ID3 version a file without an ID3v2 tag gets when the setting keeps each file's version.
NEW_ID3_VERSION = 3

_FRAME_ID = re.compile(rb"^[A-Z][A-Z0-9]{3}$")
# v2.3 frames mutagen folds into a v2.4 frame on load (the information survives).
_FOLDED = {"TYER": "TDRC", "TDAT": "TDRC", "TIME": "TDRC", "TORY": "TDOR", "IPLS": "TIPL"}
_MAX_RAW_TAG = 64 * 1024 * 1024  # larger claims are corrupt; mutagen refuses such tags anyway

# v2.4 frames that update_to_v23 would delete although they have no v2.3 equivalent; kept.
_V24_ONLY_KEPT = ("ASPI", "EQU2", "RVA2", "SEEK", "SIGN", "TDEN", "TDRL", "TDTG", "TMOO", "TPRO",
                  "TSOA", "TSOP", "TSOT", "TSST")
_LOADED_VERSION = "_genre_desktop_id3_version"  # attribute on a loaded file: its version at load


def loaded_version(audio: Any) -> int | None:
    """The ID3v2 version (2, 3, 4) the file had when it was loaded; None without an ID3v2 tag.

    Remembered on the loaded object, since adding a tag to it (a write) makes mutagen report 2.4.
    """
    known = getattr(audio, _LOADED_VERSION, False)
    if known is not False:
        return known
    version = getattr(audio.tags, "version", None) if audio.tags is not None else None
    result = version[1] if version and version[0] == 2 and version[1] in (2, 3, 4) else None
    setattr(audio, _LOADED_VERSION, result)
    return result


def target_version(current: int | None, options: WriteOptions) -> int:
    """The ID3 version a write saves: the setting's, else the file's own (see the module docstring)."""
    if options.id3_version != KEEP:
        return int(options.id3_version)
    if current in (3, 4):
        return current
    return 3 if current == 2 else NEW_ID3_VERSION


class ID3Backend(Backend):
    name = "id3"
    formats = ("id3",)

    def containers(self, audio: Any) -> dict[str, Any]:
        loaded_version(audio)
        return {"id3": audio.tags}

    def id3_version(self, audio: Any) -> int | None:
        return loaded_version(audio)

    def one_value(self, audio: Any, tag_format: str, container: Any, writing: WriteOptions | None) -> bool:
        if writing is not None:
            return target_version(loaded_version(audio), writing) < 4
        return container is not None and tuple(container.version[:2]) < (2, 4)

    def one_value_reason(self, audio: Any, tag_format: str, options: WriteOptions) -> str:
        version = target_version(loaded_version(audio), options)
        return f"an ID3v2.{version} tag holds one value per frame"

    def save(self, audio: Any, options: WriteOptions) -> None:
        tags = audio.tags
        version = target_version(loaded_version(audio), options)
        if version == 3:
            kept = [frame for key in _V24_ONLY_KEPT for frame in tags.getall(key)]
            tags.update_to_v23()
            for frame in kept:
                tags.add(frame)
        # (For v2.4 nothing to convert: mutagen upgraded the frames in memory when it loaded them.)
        # WAVE/AIFF save() take no v1 argument; MP3's keeps an existing ID3v1 tag up to date.
        audio.save(v2_version=version, v23_sep=None)

    def drop_if_empty(self, audio: Any) -> bool:
        if audio.tags is None or len(audio.tags.keys()) > 0:
            return False
        audio.delete()  # MP3: the ID3v2 tag; WAV/AIFF: the ID3 chunk
        return True

    def check_file(self, audio: Any, names: Iterable[str] = ("genre",)) -> str | None:
        if isinstance(audio, MP3) and audio.tags is None:
            return _hidden_tag(audio.filename)
        if not isinstance(audio, MP3) or audio.tags is None:
            return None  # WAV/AIFF keep ID3 in a chunk: not walked here
        if loaded_version(audio) == 2:
            return _v22_unconvertible(audio.filename)
        parsed = {key[:4] for key in audio.tags.keys()}
        parsed |= {bytes(raw[:4]).decode("latin-1") for raw in getattr(audio.tags, "unknown_frames", [])}
        lost, junk = [], 0
        # v2.4 frame sizes are synchsafe, but iTunes wrote plain ones: the reading that explains
        # the tag best is the right one (as mutagen itself guesses).
        for n, (raw_ids, walk_junk) in enumerate(_raw_frame_walks(audio.filename)):
            walk_lost = sorted({f for f in raw_ids if f not in parsed and _FOLDED.get(f) not in parsed})
            if n == 0 or (len(walk_lost), walk_junk) < (len(lost), junk):
                lost, junk = walk_lost, walk_junk
        if lost:
            return (f"the ID3 tag has frame(s) that cannot be read or kept ({', '.join(lost)}); "
                    f"saving would delete them, so the file is not written")
        if junk:
            log.info("%s: %d byte(s) of junk inside the ID3 tag are dropped by the save", audio.filename, junk)
        return None


def _v22_unconvertible(path: str) -> str | None:
    """Why an ID3v2.2 tag cannot become ID3v2.3 without loss: frames with no v2.3 form (None: all convert)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            if len(head) < 10 or head[:3] != b"ID3" or head[3] != 2:
                return None
            size = _synchsafe(head[6:10])
            data = handle.read(min(size, _MAX_RAW_TAG))
    except OSError:
        return None
    if head[5] & 0x80:  # unsynchronised: mutagen reverses it; not walked here
        return None
    lost, pos = set(), 0
    while pos + 6 <= len(data) and data[pos] != 0:
        fid = data[pos:pos + 3].decode("latin-1")
        if fid not in Frames_2_2:
            lost.add(fid)
        pos += 6 + int.from_bytes(data[pos + 3:pos + 6], "big")
    if lost:
        return (f"the file's ID3v2.2 tag has frame(s) with no ID3v2.3 form ({', '.join(sorted(lost))}); "
                f"ID3v2.2 cannot be written, and converting would delete them, so the file is not written")
    return None


_ID3_HEADER = re.compile(rb"ID3[\x02-\x04]\x00[\x00-\xf0][\x00-\x7f]{4}")


def _hidden_tag(path: str) -> str | None:
    """Why an MP3 without a tag at its start must not get one: an ID3 tag further in (after junk)
    that other players read would be hidden by the new tag, and undo could not bring it back."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(64 * 1024)
    except OSError:
        return None
    match = _ID3_HEADER.search(head, 1)
    if match is None:
        return None
    return (f"the file's ID3 tag starts {match.start():,} bytes in, after other data, where this app "
            f"cannot read it but other players do; a new tag would hide it, so the file is not written")


def _synchsafe(b: bytes) -> int:
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def _raw_frame_walks(path: str) -> list[tuple[list[str], int]]:
    """Readings of the ID3v2.3/2.4 tag at the start of ``path``: (frame ids, junk bytes) with
    synchsafe frame sizes and, for v2.4, with plain ones. Unsynchronised or odd tags: nothing."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            if len(head) < 10 or head[:3] != b"ID3" or head[3] not in (3, 4) or head[5] & 0x80:
                return []
            size = _synchsafe(head[6:10])
            if size > _MAX_RAW_TAG:
                return []
            data = handle.read(size)
    except OSError:
        return []
    version, start = head[3], 0
    if head[5] & 0x40 and len(data) >= 4:  # extended header
        start = _synchsafe(data[:4]) if version == 4 else 4 + int.from_bytes(data[:4], "big")
    walks = [_walk(data, start, synchsafe=(version == 4))]
    if version == 4:
        walks.append(_walk(data, start, synchsafe=False))
    return walks


def _walk(data: bytes, pos: int, synchsafe: bool) -> tuple[list[str], int]:
    ids: list[str] = []
    while pos + 10 <= len(data):
        fid = data[pos:pos + 4]
        if fid[0] == 0:  # padding
            return ids, 0
        if not _FRAME_ID.match(fid):
            return ids, len(data) - pos
        raw = data[pos + 4:pos + 8]
        size = _synchsafe(raw) if synchsafe else int.from_bytes(raw, "big")
        ids.append(fid.decode("ascii"))
        pos += 10 + size
    return ids, 0
