"""Reading tags and writing genres on files: opening, backend choice, and a verified, proven save.

Saving never modifies the user's file before the result is known to be right. The file is copied
to a hidden working copy (``working_copy``), mutagen saves the tag into the copy, and the copy is
verified: it must still open as the same container, its genres must read back as intended, its
other fields as they were, and its audio region (``regions``: the bytes a tag write must not
touch, located per container by the registry's table) must be byte-identical to the original's.
A write that will be journaled (``keep``) is also *proven undoable*: the original is rebuilt
from the written copy (``rebuild``) and must come back byte for byte (its SHA-256), and the undo
data goes to the caller before the copy replaces the file. Only then is the copy flushed and
renamed over the original; a crash, a kill, a full disk or a failed check at any moment leaves
the original byte-identical or replaced by a verified copy. ``restore`` gives the original back.

Symlinks are followed: the target file is written, the link stays. Read-only files are refused
("file is read-only") even where the permissions would let us replace them (root, or a writable
folder): the librarian marked them so. Real audio in a container without a tag backend (WavPack,
APE, Speex, ... whatever the extension) is refused as "tags cannot be written for this format
(WavPack) yet", and read through audio.probe for its header and ``foreign`` for its tags.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any, Callable

from genre_desktop.audio import DecodeError, looks_like_audio, probe
from genre_desktop.tagging import rebuild, regions
from genre_desktop.tagging.base import Fields, FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.foreign import read_foreign_tags
from genre_desktop.tagging.reasons import damaged, quoted
from genre_desktop.tagging.rebuild import UndoData
from genre_desktop.tagging.regions.iff import streamed_wav_seconds
from genre_desktop.tagging.registry import KINDS, UNTAGGABLE_EXTENSIONS, Entry, entry_for, foreign_audio
from genre_desktop.tagging.working_copy import (  # noqa: F401 - is_working_copy, remove_working_copies: API
    WorkingCopy,
    is_working_copy,
    remove_working_copies,
    sha256_of,
    stat_of,
)

log = logging.getLogger(__name__)

_TAGGED_FORMATS = {"au", "aac"}  # containers whose audio the tables know and that carry no tags at all

#: Called with a write's proven undo data before the written copy replaces the file.
Keep = Callable[[UndoData], None]


def read_tags(path: str | os.PathLike[str], options: WriteOptions | None = None) -> FileTags:
    """Tags and stream header of ``path``.

    ``options`` only matters for ID3v2.3 files (see tagging.id3): when given, a single TCON value
    is split on ``options.id3_separator``. Audio without a tag format (Sun .au) gives empty tag
    fields and the header from audio.probe; anything unreadable raises TagError.
    """
    p = Path(path)
    _check_readable(p)
    try:
        audio, entry = _load(p)
    except UnsupportedFormat:
        return _untagged(p)
    try:
        fields = entry.backend.read(audio, options)
        raw = entry.backend.raw_genres(audio)
        raw_other = entry.backend.raw_other(audio)
    except Exception as exc:  # odd values in a tag that mutagen itself accepted: a reason, not a crash
        raise TagError(p, f"malformed tags: {damaged(exc, p)}") from None
    info = getattr(audio, "info", None)
    return FileTags(
        title=fields.title,
        artist=fields.artist,
        album=fields.album,
        albumartist=fields.albumartist,
        year=fields.year,
        genres=fields.genres,
        duration=_duration(entry, p, info),
        samplerate=_number(getattr(info, "sample_rate", None), int) or entry.fixed_samplerate,
        channels=_number(entry.backend.channels(audio), int),
        format=entry.format,
        id3_version=fields.id3_version,
        raw_genres=raw,
        raw_other=raw_other,
    )


def read_genres(path: str | os.PathLike[str], options: WriteOptions | None = None) -> list[str]:
    """The genre values of ``path`` (see read_tags for ``options``)."""
    return read_tags(path, options).genres


def write_genres(path: str | os.PathLike[str], genres: list[str], options: WriteOptions = WriteOptions(),
                 *, exact: bool = False, other: dict[str, str | None] | None = None,
                 keep: Keep | None = None) -> None:
    """Replace the genre field of ``path`` with ``genres`` (empty list: remove it).

    Other tags and the audio are untouched. Raises TagError (UnsupportedFormat for containers
    without a tag backend) with the reason; the file is then byte-identical to before.

    ``exact``: ``genres`` are a field's values as ``FileTags.raw_genres`` read them (undo puts
    them back): they are stored one value each, as given, without the checks meant for new
    values typed by a user (NUL, surrounding spaces, the ID3v2.3 separator, ID3 references).
    ``other``: with ``exact``, ``FileTags.raw_other`` values to put back too (WAV INFO genre).
    ``keep``: prove the write undoable and hand its undo data (``rebuild.UndoData``) to ``keep``
    before the file is replaced; if ``keep`` raises, nothing is written.
    """
    genres = _validated(genres, exact)
    p = Path(path)
    target = Path(os.path.realpath(p))
    before = check_writable(p, target)
    audio, entry = _load(target, shown_as=p)
    problem = entry.backend.check_file(audio)
    if not exact:
        problem = entry.backend.check_genres(genres, options) or problem
    if problem:
        raise TagError(p, problem)
    in_place = before.st_nlink > 1 or not os.access(target.parent, os.W_OK | os.X_OK)
    if in_place:
        log.info("saving %s in place (%s)", p, "hard-linked" if before.st_nlink > 1 else "folder not writable")
    _replace_verified(p, target, before, entry, genres, options, exact, in_place, other if exact else None, keep)


def _replace_verified(shown: Path, target: Path, before: os.stat_result, entry: Entry, genres: list[str],
                      options: WriteOptions, exact: bool, in_place: bool,
                      other: dict[str, str | None] | None = None, keep: Keep | None = None) -> None:
    with WorkingCopy(shown, target, before, in_place) as copy:
        tmp = copy.path
        original_sha = copy.fill()
        layout = _region(entry, tmp, shown)
        _apply_fixes(tmp, layout, shown)
        try:
            audio = entry.kind(str(tmp))
            fields = entry.backend.read(audio, options)
        except Exception as exc:  # the copy is byte-identical, so this is rare (file changed under us)
            raise TagError(shown, f"cannot read tags: {damaged(exc, tmp, shown)}") from None
        _save(audio, entry, genres, options, shown, exact, other)
        written = _verify(shown, tmp, entry, layout.digest, fields, genres, options, exact, other)
        if keep is not None:
            keep(_proven_undo(shown, target, tmp, layout, written, original_sha))
        copy.commit()


def _apply_fixes(tmp: Path, layout: regions.Layout, shown: Path) -> None:
    """Byte fixes the walk asked for before the save (a streamed WAV's real sizes)."""
    if not layout.fixes:
        return
    try:
        with open(tmp, "r+b") as handle:
            for offset, data in layout.fixes:
                handle.seek(offset)
                handle.write(data)
    except OSError as exc:
        raise TagError(shown, f"cannot write the working copy: {exc.strerror or exc}") from None


def _proven_undo(shown: Path, target: Path, tmp: Path, before: regions.Layout, after: regions.Layout,
                 original_sha: str) -> UndoData:
    """The undo data of this write, proven: the original rebuilt from the written copy is the
    original, byte for byte (same SHA-256). Otherwise the write is refused: no write whose undo
    is not known to work."""
    try:
        with open(target, "rb") as original, open(tmp, "rb") as written:
            undo = rebuild.plan(original, before, written, after)
            (rebuilt, size), (written_sha, written_size) = rebuild.prove(undo.ops, undo.literal, written)
    except rebuild.RebuildError as exc:
        raise TagError(shown, f"the write could not be proven undoable ({exc}); nothing written") from None
    except OSError as exc:
        raise TagError(shown, f"cannot read the file: {exc.strerror or exc}") from None
    if (rebuilt, size) != (original_sha, undo.size):
        log.error("%s: the undo plan rebuilds %d bytes with SHA-256 %s, the original is %d bytes with %s",
                  shown, size, rebuilt, undo.size, original_sha)
        raise TagError(shown, "the original could not be rebuilt from the written file, so this write could "
                              "not be undone byte for byte; nothing written")
    return UndoData(undo.ops, undo.literal, original_sha, undo.size, written_sha, written_size)


def _region(entry: Entry, path: Path, shown: Path) -> regions.Layout:
    """The audio region's layout; a file whose structure makes a save unsafe is refused."""
    try:
        return regions.layout(entry.region, path)
    except regions.RegionError as exc:
        raise TagError(shown, f"{exc}; not written") from None
    except OSError as exc:
        raise TagError(shown, f"cannot read the file: {exc.strerror or exc}") from None


def _verify(shown: Path, tmp: Path, entry: Entry, region: str, fields: Fields, genres: list[str],
            options: WriteOptions, exact: bool, other: dict[str, str | None] | None = None) -> regions.Layout:
    """The retagged copy is the same container, holds ``genres``, the other fields and the same audio.

    Returns the copy's layout (for the undo data)."""
    copy, outcome = ("the restored copy", "the file is unchanged") if exact else ("the retagged copy", "nothing written")
    try:
        audio, again = _load(tmp, shown_as=shown)
    except TagError as exc:
        raise TagError(shown, f"{copy} no longer reads ({exc.reason}); {outcome}") from None
    if again is not entry:
        raise TagError(shown, f"{copy} no longer reads as {entry.format}; {outcome}")
    try:
        got = entry.backend.raw_genres(audio) if exact else entry.backend.read(audio, options).genres
        after = entry.backend.read(audio, options)
        other_after = entry.backend.raw_other(audio)
    except Exception as exc:
        raise TagError(shown, f"{copy}'s tags do not read ({damaged(exc, tmp, shown)}); {outcome}") from None
    if got != genres and not (not exact and options.id3_version == 3
                              and options.id3_separator.join(got) == options.id3_separator.join(genres)):
        raise TagError(shown, f"the genres did not read back from {copy} (read {quoted(got)}, "
                              f"expected {quoted(genres)}); {outcome}")
    wrong = {k: other_after.get(k) for k, v in (other or {}).items() if k in other_after and other_after[k] != v}
    if wrong:
        raise TagError(shown, f"the genres did not read back from {copy} ({quoted(wrong)}); {outcome}")
    for name in ("title", "artist", "album", "albumartist", "year"):
        if getattr(after, name) != getattr(fields, name):
            raise TagError(shown, f"the {'undo' if exact else 'write'} would change the {name} "
                                  f"({quoted(getattr(fields, name))} -> {quoted(getattr(after, name))}); {outcome}")
    written = _region(entry, tmp, shown)
    if written.digest != region:
        raise TagError(shown, f"the tag library would damage this {entry.format} file's audio "
                              f"(its structure is unusual or damaged); {outcome}")
    return written


def _save(audio: Any, entry: Entry, genres: list[str], options: WriteOptions, shown: Path,
          exact: bool = False, other: dict[str, str | None] | None = None) -> None:
    try:
        entry.backend.set_genres(audio, genres, options, exact)
        if exact and other:
            entry.backend.set_other(audio, other)
        if exact and not genres and entry.backend.drop_if_empty(audio):
            return  # undo of a write that added the tag: the tag goes
        entry.backend.save(audio, options)
    except TagError:
        raise
    except OSError as exc:
        raise TagError(shown, f"cannot write tags: {exc.strerror or exc}") from None
    except Exception as exc:  # mutagen raises its own errors, struct/Value errors on odd files
        raise TagError(shown, f"cannot write tags: {damaged(exc, Path(audio.filename), shown)}") from None


def _load(path: Path, shown_as: Path | None = None) -> tuple[Any, Entry]:
    shown = shown_as or path
    foreign = _foreign(path)
    if foreign:
        raise UnsupportedFormat(shown, f"tags cannot be written for this format ({foreign}) yet")
    try:
        audio = _open(path, shown)
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


def _open(path: Path, shown: Path) -> Any:
    """``mutagen.File(path)`` limited to our containers, sniffed under the name the user sees: a
    working copy's ``.tmp`` name must not cost an untagged MPEG-2.5 MP3 its extension's vote."""
    with open(path, "rb") as handle:
        header = handle.read(128)
        (score, _name), kind = max(((k.score(str(shown), handle, header), k.__name__), k) for k in KINDS)
    return kind(str(path)) if score > 0 else None


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
    fields = read_foreign_tags(path) if _foreign(path) or info.format not in _TAGGED_FORMATS else Fields()
    return FileTags(title=fields.title, artist=fields.artist, album=fields.album, albumartist=fields.albumartist,
                    year=fields.year, genres=fields.genres, raw_genres=list(fields.genres),
                    duration=info.duration, samplerate=info.samplerate, channels=info.channels, format=info.format)


def _validated(genres: Any, exact: bool = False) -> list[str]:
    if isinstance(genres, str) or not isinstance(genres, (list, tuple)):
        raise ValueError(f"genres must be a list of strings, not {type(genres).__name__}")
    for genre in genres:
        if not isinstance(genre, str):
            raise ValueError(f"genre {quoted(repr(genre))} is not text")
        if exact:  # values read from a file, put back as they were
            continue
        if not genre.strip() or genre != genre.strip():
            raise ValueError(f"genre {quoted(genre)} is empty or has surrounding spaces")
        if "\x00" in genre:
            raise ValueError(f"genre {quoted(genre)} contains a NUL character")
    return list(genres)


def _check_readable(path: Path) -> None:
    st = stat_of(path, path)
    if stat.S_ISDIR(st.st_mode):
        raise TagError(path, "is a folder, not a file")
    if st.st_size == 0:
        raise TagError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise TagError(path, "file is not readable (permission denied)")


def check_writable(shown: Path, target: Path) -> os.stat_result:
    """The stat of a regular file the app may replace (``target``: ``shown`` with links resolved)."""
    _check_readable(shown)
    st = stat_of(shown, target)
    if not stat.S_ISREG(st.st_mode):
        raise TagError(shown, "not a regular file")
    if not (st.st_mode & stat.S_IWUSR) or not os.access(target, os.W_OK):
        raise TagError(shown, "file is read-only")
    return st


def _duration(entry: Entry, path: Path, info: Any) -> float | None:
    """The header's duration; a streamed WAV's runs to the end of the file (not the 4 GB it claims)."""
    if entry.format == "wav":
        streamed = streamed_wav_seconds(str(path))
        if streamed is not None:
            return streamed
    return _number(getattr(info, "length", None), float)


def _number(value: Any, kind: type) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None
