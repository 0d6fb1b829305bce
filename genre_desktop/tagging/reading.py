"""Reading a file's tags: opening it, choosing its backend, and every declared field as read.

mutagen sniffs the container from the content (``registry.KINDS`` only), under the file name the
user sees (a working copy's ``.tmp`` name must not cost an untagged MP3 its extension's vote).
Real audio in a container without a tag backend (WavPack, APE, Speex, ... whatever the
extension) is "tags cannot be written for this format (WavPack) yet" for a write, and read
through audio.probe for its header and ``foreign`` for its tags. A streamed WAV's duration is
its samples to the end of the file (not the 4 GB its size field claims). An MP3 cut short is
found from the same parse (its VBR header's claim against the file's size): ``problem`` says so and
``duration`` is what the file still holds, so a scan opens each MP3 once.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from genre_desktop.audio import DecodeError, looks_like_audio, probe
from genre_desktop.audio.probe import mp3_truncation_of
from genre_desktop.tagging.base import FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.foreign import read_foreign_tags
from genre_desktop.tagging.reasons import damaged
from genre_desktop.tagging.regions.iff import streamed_wav_seconds
from genre_desktop.tagging.registry import KINDS, UNTAGGABLE_EXTENSIONS, Entry, entry_for, foreign_audio
from genre_desktop.tagging.separators import split_all
from genre_desktop.tagging.working_copy import stat_of


def read_tags(path: str | os.PathLike[str], options: WriteOptions | None = None) -> FileTags:
    """Every declared field (``tagging.fields``) and the stream header of ``path``.

    A value that holds several genres in one text (ID3v2.3, RIFF INFO) is split on the common
    separators (``tagging.separators``) and, when ``options`` are given, on their
    ``id3_separator`` too. With ``options.style_field == "grouping"`` the styles are read from
    GROUPING. Audio without a tag format (Sun .au) gives empty fields and the header from
    audio.probe; anything unreadable raises TagError. An MP3 cut short has ``problem``
    ("truncated MP3: ...") and the duration it still holds.
    """
    p = Path(path)
    size = check_readable(p).st_size
    try:
        audio, entry = load(p)
    except UnsupportedFormat:
        return _untagged(p)
    try:
        fields = entry.backend.read(audio, options)
    except Exception as exc:  # odd values in a tag that mutagen itself accepted: a reason, not a crash
        raise TagError(p, f"malformed tags: {damaged(exc, p)}") from None
    values = fields.values
    if options is not None and options.style_field != "style":
        values["style"] = split_all(values.get(options.style_field, []), (options.id3_separator,))
    info = getattr(audio, "info", None)
    duration, problem = _duration(entry, p, info), ""
    if entry.format == "mp3":
        cut = mp3_truncation_of(audio, size)
        if cut is not None:
            duration, problem = cut
    return FileTags(
        values=values,
        raw=fields.raw,
        id3_version=fields.id3_version,
        tag_formats=fields.tag_formats,
        duration=duration,
        samplerate=_number(getattr(info, "sample_rate", None), int) or entry.fixed_samplerate,
        channels=_number(entry.backend.channels(audio), int),
        format=entry.format,
        problem=problem,
    )


def read_genres(path: str | os.PathLike[str], options: WriteOptions | None = None) -> list[str]:
    """The genre values of ``path`` (see read_tags for ``options``)."""
    return read_tags(path, options).genres


def load(path: Path, shown_as: Path | None = None) -> tuple[Any, Entry]:
    """``path`` parsed by mutagen (the file opened once: the foreign-format check, the sniffing
    and the parse share one handle) and its table row."""
    shown = shown_as or path
    try:
        audio = _open(path, shown)
    except _Foreign as foreign:
        raise UnsupportedFormat(shown, f"tags cannot be written for this format ({foreign}) yet") from None
    except Exception as exc:  # MutagenError subclasses, but also struct.error etc. on corrupt headers
        if not looks_like_audio(path):
            raise TagError(shown, "not an audio file: header not recognised") from None
        raise TagError(shown, damaged(exc, path, shown)) from None
    if audio is None:
        ext = path.suffix.lower()
        if ext in UNTAGGABLE_EXTENSIONS:
            raise UnsupportedFormat(shown, f"audio format not supported for tagging "
                                           f"({UNTAGGABLE_EXTENSIONS[ext]}, which has no tag format)")
        raise TagError(shown, "not an audio file: header not recognised")
    entry = entry_for(type(audio))
    if entry is None:  # cannot happen while KINDS comes from the table; kept for subclasses
        raise UnsupportedFormat(shown, f"no tag backend for {type(audio).__name__} files")
    return audio, entry


class _Foreign(Exception):
    """Real audio in a container without a tag backend (its name is the message)."""


def _open(path: Path, shown: Path) -> Any:
    """``mutagen.File(path)`` limited to our containers, sniffed under the name the user sees.

    One open: a scan of 50,000 files (on a network share, each open is a round trip) reads the
    header, sniffs and parses from the same handle. ``filename`` is set as mutagen sets it for a
    path (the backends and a save use it)."""
    with open(path, "rb") as handle:
        header = handle.read(128)
        foreign = foreign_audio(header[:64])
        if foreign:
            raise _Foreign(foreign)
        name = str(shown)  # once, not once per container scored
        (score, _name), kind = max(((k.score(name, handle, header), k.__name__), k) for k in KINDS)
        if score <= 0:
            return None
        handle.seek(0)
        audio = kind(handle)
    audio.filename = str(path)
    return audio


def _foreign(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            return foreign_audio(handle.read(64))
    except OSError:
        return None


def _untagged(path: Path) -> FileTags:
    try:
        info = probe(path)
    except DecodeError as exc:
        foreign = _foreign(path)
        if foreign:
            raise TagError(path, f"{foreign} audio, a format not supported here ({exc.reason})") from None
        raise TagError(path, exc.reason) from None
    values = read_foreign_tags(path) if _foreign(path) or info.format not in _NO_TAGS else {}
    return FileTags(values=values, duration=info.duration, samplerate=info.samplerate, channels=info.channels,
                    format=info.format, problem=info.problem)


_NO_TAGS = {"au", "aac"}  # formats the tables know that carry no tags at all


def _duration(entry: Entry, path: Path, info: Any) -> float | None:
    """The header's duration; a streamed WAV's runs to the end of the file (not the 4 GB it claims)."""
    if entry.format == "wav":
        streamed = streamed_wav_seconds(str(path))
        if streamed is not None:
            return streamed
    return _number(getattr(info, "length", None), float)


def check_readable(path: Path) -> os.stat_result:
    """``path``'s stat when it is a readable, non-empty file; TagError saying why not otherwise."""
    st = stat_of(path, path)
    if stat.S_ISDIR(st.st_mode):
        raise TagError(path, "is a folder, not a file")
    if st.st_size == 0:
        raise TagError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise TagError(path, "file is not readable (permission denied)")
    return st


def _number(value: Any, kind: type) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None
