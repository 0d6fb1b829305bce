"""ID3 genres for MP3, and for the ID3 chunks of WAV (mutagen.wave) and AIFF (mutagen.aiff).

Writing
- ID3v2.4 (``WriteOptions.id3_version == 4``): one TCON frame holding one value per genre.
- ID3v2.3: one TCON frame holding a single value, the genres joined by ``id3_separator``. The tag
  is converted with mutagen's ``update_to_v23`` (dates go to TYER/TDAT, people lists to IPLS:
  the same information in v2.3 form), except that v2.4-only frames without a v2.3 equivalent
  (sort orders, RVA2 replay gain, mood, ...) are kept rather than dropped, as iTunes and foobar2000
  do: losing them would change tags other than the genre. Other multi-value frames are saved
  with the NUL separator (``v23_sep=None``), exactly as they were read, so they round-trip.
- Genres are written as plain text, without the ID3v2.3 "((" escape (v2.4 readers would show
  it literally). A genre that ID3 reads as a reference ("17", "(17)", "(17)Rock", "CR", "RX")
  cannot round-trip, since mutagen resolves references when it loads a tag; such a write is
  refused with a TagError that says what it would read back as.
- An existing ID3v1 tag is updated (mutagen's v1=1); none is added.

Malformed tags (MP3; the tag at the start of the file)
- mutagen silently skips frames it cannot parse (an unknown text encoding, invalid UTF-8/UTF-16,
  a frame running past the tag) and, on loading ID3v2.3, drops RVAD/EQUA/TRDA/TSIZ (no v2.4
  equivalent); saving would then delete them. ``check_file`` walks the raw frame headers and
  refuses the write, naming the frames, when a frame with a valid id would be lost: the file is
  skipped with a reason rather than quietly losing the librarian's data. Bytes that are not
  frames at all (invalid ids: junk inside the tag) are dropped by the save: that is the minimal
  repair, and it is logged.

Reading
- Genres are ``TCON.genres``: mutagen resolves numeric references ("(17)", "17" -> "Rock"),
  splits NUL-separated values, and reads ID3v1-only files through the same frames.
- A single v2.3 value is NOT split on "/" or "; " silently: genre names contain those ("AC/DC",
  "Drum & Bass; Live" is rare but real). It is split on ``options.id3_separator`` only when the
  caller passes options *and* the file's tag is ID3v2.3 or older: the configuration that wrote
  it. So ``read_genres(p, opts)`` after ``write_genres(p, g, opts)`` returns ``g`` for both
  versions, and ``read_genres(p)`` shows what is literally stored.
- Year comes from TDRC (mutagen builds it from v2.3 TYER/TDAT too).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from mutagen.id3 import TCON
from mutagen.mp3 import MP3

from genre_desktop.tagging.base import Backend, Fields, WriteOptions, clean_genres, first_text, year_of

log = logging.getLogger(__name__)

_FRAME_ID = re.compile(rb"^[A-Z][A-Z0-9]{3}$")
# v2.3 frames mutagen folds into a v2.4 frame on load (the information survives).
_FOLDED = {"TYER": "TDRC", "TDAT": "TDRC", "TIME": "TDRC", "TORY": "TDOR", "IPLS": "TIPL"}
_MAX_RAW_TAG = 64 * 1024 * 1024  # larger claims are corrupt; mutagen refuses such tags anyway

# v2.4 frames that update_to_v23 would delete although they have no v2.3 equivalent; kept.
_V24_ONLY_KEPT = ("ASPI", "EQU2", "RVA2", "SEEK", "SIGN", "TDEN", "TDRL", "TDTG", "TMOO", "TPRO",
                  "TSOA", "TSOP", "TSOT", "TSST")


class ID3Backend(Backend):
    name = "id3"

    def read(self, audio: Any, options: WriteOptions | None) -> Fields:
        tags = audio.tags
        if tags is None:
            return Fields()
        genres = clean_genres(tags["TCON"].genres) if "TCON" in tags else []
        version = getattr(tags, "version", (2, 4, 0))
        if options is not None and version < (2, 4, 0) and len(genres) == 1:
            genres = clean_genres(genres[0].split(options.id3_separator))
        return Fields(
            title=_text(tags, "TIT2"),
            artist=_text(tags, "TPE1"),
            album=_text(tags, "TALB"),
            albumartist=_text(tags, "TPE2"),
            year=year_of(_text(tags, "TDRC")),
            genres=genres,
            id3_version={(2, 3): 3, (2, 4): 4}.get(tuple(version[:2])),
        )

    def raw_genres(self, audio: Any) -> list[str]:
        if audio.tags is None or "TCON" not in audio.tags:
            return []
        return [str(v) for v in audio.tags["TCON"].text]

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions, exact: bool = False) -> None:
        if audio.tags is None:
            audio.add_tags()
        audio.tags.delall("TCON")
        if not genres:
            return
        values = list(genres)
        # exact: the values as the frame held them; v2.3 saves several as NUL-separated (v23_sep=None)
        if options.id3_version == 3 and not exact:
            values = [options.id3_separator.join(values)]
        audio.tags.add(TCON(encoding=3, text=values))

    def save(self, audio: Any, options: WriteOptions) -> None:
        tags = audio.tags
        if options.id3_version == 3:
            kept = [frame for key in _V24_ONLY_KEPT for frame in tags.getall(key)]
            tags.update_to_v23()
            for frame in kept:
                tags.add(frame)
        # (For v2.4 nothing to convert: mutagen upgraded the frames in memory when it loaded them.)
        # WAVE/AIFF save() take no v1 argument; MP3's keeps an existing ID3v1 tag up to date.
        audio.save(v2_version=options.id3_version, v23_sep=None)

    def drop_if_empty(self, audio: Any) -> bool:
        if audio.tags is None or len(audio.tags.keys()) > 0:
            return False
        audio.delete()  # MP3: the ID3v2 tag; WAV/AIFF: the ID3 chunk
        return True

    def check_file(self, audio: Any) -> str | None:
        if isinstance(audio, MP3) and audio.tags is None:
            return _hidden_tag(audio.filename)
        if not isinstance(audio, MP3) or audio.tags is None:
            return None  # WAV/AIFF keep ID3 in a chunk: not walked here
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

    def check_genres(self, genres: list[str], options: WriteOptions) -> str | None:
        for genre in genres:
            # What a reader gets back: mutagen resolves references once on load, then again on read.
            frame = TCON(encoding=3, text=[genre])
            frame.genres = frame.genres
            if frame.genres != [genre]:
                return (f"genre {genre!r} would read back as {frame.genres!r} "
                        f"(ID3 treats it as a numeric genre reference)")
        if options.id3_version == 3:
            for genre in genres:
                if options.id3_separator in genre:
                    return (f"genre {genre!r} contains the ID3v2.3 separator {options.id3_separator!r}, "
                            f"so it would read back as several genres")
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


def _text(tags: Any, key: str) -> str:
    frame = tags.get(key)
    return first_text(frame.text) if frame is not None else ""


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
