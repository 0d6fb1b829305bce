"""Shared vocabulary of the tag backends: the records, the errors, and the Backend interface.

A backend knows one tag format (ID3, Vorbis comments, MP4 atoms, ASF attributes): how to read the
plain fields the library shows, and how to replace the genre field in a loaded mutagen file.
Opening files, choosing the backend (``registry``) and saving safely (``files``) are not its job.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class TagError(Exception):
    """Tags cannot be read or written. ``str(exc) == f"{path}: {reason}"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class UnsupportedFormat(TagError):
    """The file may well be audio, but no tag backend handles its container (e.g. Sun .au)."""


@dataclass
class FileTags:
    """What the library records about a file: plain tag fields plus the stream header."""

    title: str = ""
    artist: str = ""
    album: str = ""
    albumartist: str = ""
    year: str = ""
    genres: list[str] = field(default_factory=list)
    duration: float | None = None
    samplerate: int | None = None
    channels: int | None = None
    format: str = ""
    # The ID3 tag's version (3 or 4) for files with an ID3v2.3/2.4 tag, else None: undo writes
    # old genres back in the version the file had.
    id3_version: int | None = None
    # The genre field's values exactly as stored (unsplit, unstripped, ID3 references unresolved):
    # what undo writes back (``write_genres(..., exact=True)``) so the file's tag returns as it was.
    raw_genres: list[str] = field(default_factory=list)
    # Other places the file keeps its genre, exactly as stored (WAV: RIFF INFO's IGNR, None when
    # absent); undo puts them back through ``write_genres(..., exact=True, other=...)``.
    raw_other: dict[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteOptions:
    """How genres are written (and, when passed to the readers, how ID3v2.3 values are split).

    ``id3_version``: 4 writes one TCON frame with one value per genre (ID3v2.4 multi-value);
    3 writes an ID3v2.3 tag whose TCON holds the genres joined by ``id3_separator``.
    """

    id3_version: int = 4
    id3_separator: str = "; "

    def __post_init__(self) -> None:
        if self.id3_version not in (3, 4):
            raise ValueError(f"id3_version must be 3 or 4, not {self.id3_version!r}")
        if not self.id3_separator or "\x00" in self.id3_separator:
            raise ValueError("id3_separator must be a non-empty string without NUL")


@dataclass
class Fields:
    """The text fields a backend reads from a tag (FileTags without the stream header)."""

    title: str = ""
    artist: str = ""
    album: str = ""
    albumartist: str = ""
    year: str = ""
    genres: list[str] = field(default_factory=list)
    id3_version: int | None = None


class Backend(ABC):
    """One tag format. Subclasses implement ``read`` and ``set_genres``; instances hold no state."""

    #: Short name used in logs and error messages ("id3", "vorbis", "mp4", "asf").
    name = "base"

    @abstractmethod
    def read(self, audio: Any, options: WriteOptions | None) -> Fields:
        """The fields of a loaded mutagen file (``audio.tags`` may be None: all empty)."""

    @abstractmethod
    def set_genres(self, audio: Any, genres: list[str], options: WriteOptions, exact: bool = False) -> None:
        """Replace the genre field of ``audio`` in memory (an empty list removes it).

        ``exact``: store the values as given, one value each (no ID3v2.3 joining): a field as
        ``raw_genres`` read it, put back by undo.
        """

    @abstractmethod
    def raw_genres(self, audio: Any) -> list[str]:
        """The genre field's values exactly as stored (see FileTags.raw_genres)."""

    def save(self, audio: Any, options: WriteOptions) -> None:
        """Write ``audio``'s tags back to the file it was loaded from."""
        audio.save()

    def raw_other(self, audio: Any) -> dict[str, str | None]:
        """Other places the file keeps its genre, exactly as stored (see FileTags.raw_other)."""
        return {}

    def set_other(self, audio: Any, other: dict[str, str | None]) -> None:
        """Put ``raw_other`` values back exactly (undo); applied by ``save``."""

    def drop_if_empty(self, audio: Any) -> bool:
        """Remove ``audio``'s whole tag from the file if it holds nothing; True if it did.

        Undo of a write to an untagged file: the tag the write added goes, rather than staying
        behind empty (a larger file, and a tag that hides another one from some players).
        """
        return False
    def channels(self, audio: Any) -> int | None:
        """The stream's channel count as the file declares it (the header's, unless a format knows better)."""
        return getattr(getattr(audio, "info", None), "channels", None)

    def check_genres(self, genres: list[str], options: WriteOptions) -> str | None:
        """Why these genres cannot be stored faithfully in this format (None when they can)."""
        return None

    def check_file(self, audio: Any) -> str | None:
        """Why saving this loaded file would lose tag data besides the genre (None when it would not)."""
        return None


def first_text(values: Any) -> str:
    """The first value of a tag as a stripped string ('' when absent)."""
    if values is None:
        return ""
    if isinstance(values, (list, tuple)):
        values = values[0] if values else ""
    return str(values).strip()


def clean_genres(values: Any) -> list[str]:
    """Genre values as a list of non-empty strings, in file order."""
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out = []
    for value in values:
        text = str(value).strip()
        if text:
            out.append(text)
    return out


_YEAR = re.compile(r"^\s*(\d{4})")


def year_of(date: str) -> str:
    """The year of a date tag ("2001-05-03" -> "2001"); other text is kept as it is."""
    match = _YEAR.match(date)
    return match.group(1) if match else date.strip()
