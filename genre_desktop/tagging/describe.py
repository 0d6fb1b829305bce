"""What a write will do to a file's form, said before it is done (for the write preview). Qt-free.

``describe_write(tags_or_path, options, values)`` returns notes such as "ID3v2.3 tag becomes
ID3v2.4 (the ID3 version setting converts it)", "ID3v2.2 tag is written as ID3v2.3 (no tag library
writes ID3v2.2)", "genres joined into one ID3v2.3 value: 'Rock/Blues'", "genre written to the ID3
chunk and to the RIFF INFO list". Nothing is said about a write that keeps the file's form. Each
note has a stable ``code`` to group by (a preview may say "12 files: ID3v2.3 becomes v2.4") and
reads as its ``text``. It applies the same rules as the write (``tagging.id3``, ``separators``),
so what the preview says is what happens.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Sequence

from genre_desktop.tagging.base import FileTags, WriteOptions
from genre_desktop.tagging.fields import FIELDS
from genre_desktop.tagging.id3 import target_version
from genre_desktop.tagging.reading import read_tags
from genre_desktop.tagging.separators import separator_of

#: Formats whose tag is ID3 (an MP3's, or the ID3 chunk of a WAV or AIFF).
ID3_FORMATS = ("mp3", "wav", "aiff")
ID3_CONVERT, ID3_V22, ID3_NEW, JOINED, WAV_INFO, WAV_NEW_ID3, STYLE_IN_GROUPING = (
    "id3-convert", "id3-v22", "id3-new", "joined", "wav-info", "wav-new-id3", "style-in-grouping")


@dataclass(frozen=True)
class WriteNote:
    """One thing a write changes in a file's form: ``code`` (one of this module's constants) and
    ``text`` for the user."""

    code: str
    text: str

    def __str__(self) -> str:
        return self.text


def describe_write(source: FileTags | str | os.PathLike[str], options: WriteOptions = WriteOptions(),
                   values: Mapping[str, Sequence[str]] | None = None) -> list[WriteNote]:
    """Notes on how writing ``values`` (default: a genre) with ``options`` changes the file's form.

    ``source``: the file's ``FileTags`` as read (cheapest, e.g. kept from the scan), or its path
    (read here: about a millisecond). Raises TagError for a path that cannot be read.
    """
    if not isinstance(source, FileTags):
        source = read_tags(source, options)
    tags = source
    values = dict(values) if values is not None else {"genre": tags.genres or ["?"]}
    notes: list[WriteNote] = []
    if tags.format in ID3_FORMATS:
        notes += _id3_notes(tags, options, values)
    if tags.format == "wav":
        notes += _wav_notes(tags, values)
    if "style" in values and options.style_field != "style":
        target = FIELDS[options.style_field]
        now = tags.values.get(target.name, [])
        replacing = f", replacing {now[0]!r}" if now else ""
        notes.append(WriteNote(STYLE_IN_GROUPING, f"styles written to {target.name.upper()}{replacing}"))
    return notes


def keeps_its_form(path: str | os.PathLike[str], fmt: str, options: WriteOptions = WriteOptions(),
                   values: Mapping[str, Sequence[str]] | None = None) -> bool:
    """True when writing ``values`` to the file at ``path`` (of scanned format ``fmt``) surely
    leaves its form as it is, so :func:`describe_write` would say nothing: known from the first ten
    bytes, without reading the tags (a preview of 20,000 MP3s reads 200 KB, not 20,000 tags).

    Formats without versions keep their form; an MP3 whose ID3v2.3 or v2.4 tag starts the file and
    stays in its version under ``options`` does too. False means "read it and ask
    :func:`describe_write`" (a WAV or AIFF, an MP3 without a tag at its start, a conversion, styles
    written to another field)."""
    if values is not None and "style" in values and options.style_field != "style":
        return False
    if fmt not in ID3_FORMATS:
        return True
    if fmt != "mp3":
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(10)
    except OSError:
        return False
    if len(head) < 10 or head[:3] != b"ID3" or head[3] not in (3, 4):
        return False
    return target_version(head[3], options) == head[3]


def _id3_notes(tags: FileTags, options: WriteOptions, values: Mapping[str, Sequence[str]]) -> list[WriteNote]:
    current = tags.id3_version
    target = target_version(current, options)
    chunk = "ID3 chunk" if tags.format != "mp3" else "ID3 tag"
    notes = []
    if current is None:
        notes.append(WriteNote(ID3_NEW, f"gets a new {chunk} (ID3v2.{target})"))
    elif current == 2 and target == 3 and options.id3_version == "keep":
        notes.append(WriteNote(ID3_V22, "its ID3v2.2 tag is written as ID3v2.3 (no tag library writes ID3v2.2)"))
    elif current != target:
        notes.append(WriteNote(ID3_CONVERT, f"its ID3v2.{current} {chunk[4:]} becomes ID3v2.{target} "
                                            f"(the ID3 version setting converts it)"))
    if target < 4 and current not in (2, 3):  # (a v2.3 or v2.2 value is one text already: its own form)
        for name, wanted in values.items():
            tag_field = FIELDS.get(options.target(name))
            if tag_field is None or not tag_field.multi or len(wanted) < 2:
                continue
            place = tag_field.places_in("id3")[0] if tag_field.places_in("id3") else None
            stored = tags.raw.get(tag_field.name, {}).get(place.key) if place is not None else None
            separator = separator_of(stored) or options.id3_separator
            notes.append(WriteNote(JOINED, f"{tag_field.attr} joined into one ID3v2.{target} value: "
                                           f"{separator.join(wanted)!r}"))
    return notes


def _wav_notes(tags: FileTags, values: Mapping[str, Sequence[str]]) -> list[WriteNote]:
    notes = []
    if "info" in tags.tag_formats and "genre" in values:
        notes.append(WriteNote(WAV_INFO, "genre written to the ID3 chunk and to the RIFF INFO list"))
    if "info" in tags.tag_formats and "id3" not in tags.tag_formats:
        notes.append(WriteNote(WAV_NEW_ID3, "the new ID3 chunk also gets the title, artist, album and date "
                                            "of the INFO list, so every player reads them"))
    return notes
