"""The table that picks a tag backend for a file: mutagen file type -> (format name, backend).

mutagen sniffs the container from the file's content (its extension only breaks ties), so a
FLAC file named .ogg still gets the FLAC entry. Adding a container is one row here plus, if its
tag format is new, one Backend subclass and that format's places in the field declaration
(``fields``); nothing else branches on the format.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import BinaryIO, Callable

from mutagen.aiff import AIFF
from mutagen.asf import ASF
from mutagen.flac import FLAC
from mutagen.mp3 import MP3
from mutagen.mp4 import MP4
from mutagen.oggflac import OggFLAC
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis
from mutagen.wave import WAVE

import genre_desktop.tagging.regions as regions
from genre_desktop.tagging.asf import ASFBackend
from genre_desktop.tagging.base import Backend
from genre_desktop.tagging.id3 import ID3Backend
from genre_desktop.tagging.mp4 import MP4Backend
from genre_desktop.tagging.riff_info import WaveBackend
from genre_desktop.tagging.vorbis import VorbisBackend


@dataclass(frozen=True)
class Entry:
    kind: type          # the mutagen FileType subclass
    format: str         # our format name, as audio.AudioInfo.format spells it
    backend: Backend
    region: Callable[[BinaryIO, int], str]  # digest of the audio region a write must not change
    fixed_samplerate: int | None = None   # when the header has none (Opus always decodes at 48 kHz)


_ID3, _VORBIS, _MP4, _ASF = ID3Backend(), VorbisBackend(), MP4Backend(), ASFBackend()
_WAVE = WaveBackend()  # ID3 chunk plus the RIFF INFO list

ENTRIES: tuple[Entry, ...] = (
    Entry(MP3, "mp3", _ID3, regions.mp3),
    Entry(WAVE, "wav", _WAVE, regions.wave),
    Entry(AIFF, "aiff", _ID3, regions.aiff),
    Entry(FLAC, "flac", _VORBIS, regions.flac),
    Entry(OggVorbis, "ogg", _VORBIS, regions.ogg),
    Entry(OggFLAC, "ogg", _VORBIS, regions.ogg),
    Entry(OggOpus, "opus", _VORBIS, regions.ogg, fixed_samplerate=48000),
    Entry(MP4, "m4a", _MP4, regions.mp4),
    Entry(ASF, "wma", _ASF, regions.asf),
)

_BY_KIND = {entry.kind: entry for entry in ENTRIES}

#: The mutagen classes mutagen.File may choose from: only containers we can handle, so an
#: unrelated format cannot win the content sniffing over a supported one.
KINDS: tuple[type, ...] = tuple(entry.kind for entry in ENTRIES)

#: Extensions of audio files that carry no tag format we write (for a precise error message).
UNTAGGABLE_EXTENSIONS = {".au": "Sun .au", ".snd": "Sun .au", ".aac": "raw ADTS AAC",
                         ".ac3": "Dolby Digital (AC-3)", ".eac3": "Dolby Digital Plus (E-AC-3)"}

#: Audio containers the app cannot tag, by their first bytes (whatever the file's extension):
#: (offset, magic, name). Such a file is audio (ffmpeg may decode it), not "not an audio file".
FOREIGN_AUDIO: tuple[tuple[int, bytes, str], ...] = (
    (0, b"wvpk", "WavPack"),
    (0, b"MAC ", "Monkey's Audio (APE)"),
    (0, b"TTA1", "TTA"),
    (0, b"tBaK", "TAK"),
    (0, b"DSD ", "DSF (DSD audio)"),
    (0, b"FRM8", "DSDIFF (DSD audio)"),
    (0, b"MPCK", "Musepack"),
    (0, b"MP+", "Musepack"),
    (0, b"OFR ", "OptimFROG"),
    (0, b"caff", "Core Audio (CAF)"),
    (0, b"\x1aE\xdf\xa3", "Matroska/WebM"),
    (0, b"riff\x2e\x91\xcf\x11", "Wave64"),
    (0, b".snd", "Sun .au, which has no tag format"),
    (28, b"Speex   ", "Speex in Ogg"),
)


def foreign_audio(head: bytes) -> str | None:
    """The name of an audio container we do not tag, from a file's first 64 bytes (None if not one)."""
    for offset, magic, name in FOREIGN_AUDIO:
        if head[offset:offset + len(magic)] == magic:
            return name
    return None


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
        from genre_desktop.audio.formats import DISPLAY_NAMES

        return f"tags cannot be written for this format ({DISPLAY_NAMES.get(format, format)}) yet"
    return None
