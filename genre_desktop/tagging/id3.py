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

from typing import Any

from mutagen.id3 import TCON

from genre_desktop.tagging.base import Backend, Fields, WriteOptions, clean_genres, first_text, year_of

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

    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions) -> None:
        if audio.tags is None:
            audio.add_tags()
        audio.tags.delall("TCON")
        if not genres:
            return
        values = list(genres)
        if options.id3_version == 3:
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


def _text(tags: Any, key: str) -> str:
    frame = tags.get(key)
    return first_text(frame.text) if frame is not None else ""
