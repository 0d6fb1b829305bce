"""Every tag field the app knows, declared once, with the places each tag format keeps it.

This table is the only place that says "the genre of an MP4 file is the \\xa9gen atom". Reading
(``FileTags``, the scanner), writing (``write_fields``), the check that a write changed nothing
else (every declared field not being written must read back unchanged) and the contract tests all
walk it; backends know containers, not fields. Adding a field (a mood, say) is one ``TagField``
here: ``declare(TagField("mood", (ID3Frame("TMOO"), VorbisField("MOOD"), ...), multi=True,
writable=True))``.

Within a format a field may have several places, read in order (the first that holds a value
wins) and all written (mediafile's rule), e.g. GROUPING in ID3's TIT1, which mediafile and
ffprobe read, and GRP1, which iTunes and TagLib read. An ``InfoField`` (a WAV's RIFF INFO list) is
written only where the file already has an INFO list.

The style field follows the convention TagLib reads as STYLE: ID3 ``TXXX:STYLE``, Vorbis
``STYLE``, MP4 ``----:com.apple.iTunes:STYLE`` and an ASF attribute ``STYLE`` (TagLib has no
property for it in ASF; mediafile, ffprobe, foobar2000 and Mp3tag read attributes by name). WAV
and AIFF carry it in their ID3 chunk; RIFF INFO has no style field. ``WriteOptions.style_field``
"grouping" puts styles in GROUPING instead, joined into its one value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from genre_desktop.tagging.storage import (ASFAttribute, ID3Frame, ID3Genre, ID3UserText, InfoField, MP4Atom,
                                           MP4Freeform, Place, VorbisField)


@dataclass(frozen=True)
class TagField:
    """One field: its name, where each tag format keeps it, and how it reads.

    ``multi``: several values (a list: genres, styles); otherwise one text (a title), and a write
    of several values joins them into it. ``writable``: ``write_fields`` may change it (the
    others are only read, and checked to be unchanged after a write). ``parse``: what the library
    keeps of the stored text (the year of a date). ``attr``: its ``FileTags`` attribute.
    """

    name: str
    places: tuple[Place, ...]
    multi: bool = False
    writable: bool = False
    parse: Callable[[str], str] | None = None
    attr: str = ""
    _by_format: dict[str, tuple[Place, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.attr:
            object.__setattr__(self, "attr", self.name)
        grouped: dict[str, list[Place]] = {}
        for place in self.places:
            grouped.setdefault(place.format, []).append(place)
        self._by_format.update({fmt: tuple(places) for fmt, places in grouped.items()})

    def places_in(self, tag_format: str) -> tuple[Place, ...]:
        """The places of this field in one tag format, in reading order (empty: none there)."""
        return self._by_format.get(tag_format, ())


_YEAR_DIGITS = 4


def year_of(date: str) -> str:
    """The year of a date tag ("2001-05-03" -> "2001"); other text is kept as it is."""
    text = date.strip()
    head = text[:_YEAR_DIGITS]
    return head if len(head) == _YEAR_DIGITS and head.isdigit() else text


#: The declared fields by name, in declaration order. ``declare`` adds one.
FIELDS: dict[str, TagField] = {}


def declare(tag_field: TagField) -> TagField:
    """Add a field to the table (replacing one of the same name) and return it."""
    FIELDS[tag_field.name] = tag_field
    return tag_field


declare(TagField("title", (ID3Frame("TIT2"), VorbisField("TITLE"), MP4Atom("\xa9nam"), ASFAttribute("Title"),
                           InfoField("INAM", read_only=True))))
declare(TagField("artist", (ID3Frame("TPE1"), VorbisField("ARTIST"), MP4Atom("\xa9ART"), ASFAttribute("Author"),
                            InfoField("IART", read_only=True))))
declare(TagField("album", (ID3Frame("TALB"), VorbisField("ALBUM"), MP4Atom("\xa9alb"),
                           ASFAttribute("WM/AlbumTitle"), InfoField("IPRD", read_only=True))))
declare(TagField("albumartist", (ID3Frame("TPE2"), VorbisField("ALBUMARTIST"), VorbisField("ALBUM ARTIST"),
                                 VorbisField("ALBUM_ARTIST"), MP4Atom("aART"), ASFAttribute("WM/AlbumArtist"))))
# mutagen reads ID3v2.3's TYER+TDAT into TDRC; some Vorbis taggers write YEAR instead of DATE.
declare(TagField("year", (ID3Frame("TDRC"), VorbisField("DATE"), VorbisField("YEAR"), MP4Atom("\xa9day"),
                          ASFAttribute("WM/Year"), InfoField("ICRD", read_only=True)), parse=year_of))
declare(TagField("genre", (ID3Genre(), VorbisField("GENRE"), MP4Atom("\xa9gen"), ASFAttribute("WM/Genre"),
                           InfoField("IGNR")), multi=True, writable=True, attr="genres"))
declare(TagField("style", (ID3UserText("STYLE"), VorbisField("STYLE"), MP4Freeform("STYLE"), ASFAttribute("STYLE")),
                 multi=True, writable=True, attr="styles"))
declare(TagField("grouping", (ID3Frame("TIT1"), ID3Frame("GRP1"), VorbisField("GROUPING"), MP4Atom("\xa9grp"),
                              ASFAttribute("WM/ContentGroupDescription")), writable=True))
