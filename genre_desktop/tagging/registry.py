"""The table that picks a tag backend for a file: mutagen file type -> (format name, backend).

mutagen sniffs the container from the file's content (its extension only breaks ties), so a
FLAC file named .ogg still gets the FLAC entry. Adding a container is one row here plus, if its
tag format is new, one Backend subclass; nothing else branches on the format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

from genre_desktop.tagging.asf import ASFBackend
from genre_desktop.tagging.base import Backend
from genre_desktop.tagging.id3 import ID3Backend
from genre_desktop.tagging.mp4 import MP4Backend
from genre_desktop.tagging.vorbis import VorbisBackend


@dataclass(frozen=True)
class Entry:
    kind: type          # the mutagen FileType subclass
    format: str         # our format name, as audio.AudioInfo.format spells it
    backend: Backend
    fixed_samplerate: int | None = None   # when the header has none (Opus always decodes at 48 kHz)


_ID3, _VORBIS, _MP4, _ASF = ID3Backend(), VorbisBackend(), MP4Backend(), ASFBackend()

ENTRIES: tuple[Entry, ...] = (
    Entry(MP3, "mp3", _ID3),
    Entry(WAVE, "wav", _ID3),
    Entry(AIFF, "aiff", _ID3),
    Entry(FLAC, "flac", _VORBIS),
    Entry(OggVorbis, "ogg", _VORBIS),
    Entry(OggFLAC, "ogg", _VORBIS),
    Entry(OggOpus, "opus", _VORBIS, fixed_samplerate=48000),
    Entry(MP4, "m4a", _MP4),
    Entry(ASF, "wma", _ASF),
)

_BY_KIND = {entry.kind: entry for entry in ENTRIES}

#: The mutagen classes mutagen.File may choose from: only containers we can handle, so an
#: unrelated format cannot win the content sniffing over a supported one.
KINDS: tuple[type, ...] = tuple(entry.kind for entry in ENTRIES)

#: Extensions of audio files that carry no tag format we write (for a precise error message).
UNTAGGABLE_EXTENSIONS = {".au": "Sun .au", ".snd": "Sun .au", ".aac": "raw ADTS AAC"}


def entry_for(kind: type) -> Entry | None:
    """The table row for a mutagen file type (or a subclass of one), None if unsupported."""
    for klass in kind.__mro__:
        if klass in _BY_KIND:
            return _BY_KIND[klass]
    return None


def unwritable_reason(path: str, format: str = "") -> str | None:
    """Why genres cannot be written to this file, judged before opening it (None: the table has a
    backend). ``format``: the format name the scan recorded (``FileTags.format``, an entry's
    ``format`` for every container in the table); the extension decides when it is unknown."""
    if format and format in {entry.format for entry in ENTRIES}:
        return None
    ext = os.path.splitext(path)[1].lower()
    if ext in UNTAGGABLE_EXTENSIONS:
        return f"{UNTAGGABLE_EXTENSIONS[ext]} files have no tag format to write genres to"
    if format:
        return f"{format} files have no tag format to write genres to"
    return None
