"""Reading tags and writing genres on files: opening, backend choice, and a verified crash-safe save.

Saving never modifies the user's file before the result is known to be right. The file is copied
to a hidden working copy in the same folder (``.name.genre-desktop-XXXX.tmp``, so scanners that
skip hidden files ignore it), mutagen saves the tag into the copy, and the copy is verified: it
must still open as the same container, its genres must read back as intended, its other fields as
they were, and its audio region (``regions``: the bytes a tag write must not touch, located per
container by the registry's table) must be byte-identical to the original's. Only then is the copy
flushed and renamed over the original. A crash, a kill, a full disk or a failed check at any
moment leaves the original byte-identical or replaced by a verified copy, never a half-written or
damaged file. Before the rename the original is checked again: if its size or mtime changed
meanwhile (another program wrote it), the write is abandoned with a TagError.

The rename would break a hard link, and needs a writable folder; for such files the working copy
is made in the temporary folder instead and, once verified, its bytes are written over the
original in place (not atomic; logged). Symlinks are followed: the target file is written, the
link stays.

A process killed between the copy and the rename leaves a hidden working copy beside an intact
original; ``remove_working_copies(folder)`` (for the scanner) deletes old ones.

Read-only files are refused ("file is read-only") even where the permissions would let us
replace them (root, or a writable folder): the librarian marked them so. Real audio in a
container without a tag backend (WavPack, APE, Speex, ... whatever the extension) is refused as
"audio format not supported for tagging" and read through audio.probe for its header.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

import mutagen

from genre_desktop.audio import DecodeError, looks_like_audio, probe
from genre_desktop.fsutil import fsync_dir
from genre_desktop.tagging import regions
from genre_desktop.tagging.base import Fields, FileTags, TagError, UnsupportedFormat, WriteOptions
from genre_desktop.tagging.reasons import damaged
from genre_desktop.tagging.registry import KINDS, UNTAGGABLE_EXTENSIONS, Entry, entry_for, foreign_audio

log = logging.getLogger(__name__)

_WORKING_MARK = ".genre-desktop-"
_WORKING_COPY = re.compile(r"^\..+\.genre-desktop-[^.]+\.tmp$", re.DOTALL)


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
        duration=_number(getattr(info, "length", None), float),
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
                 *, exact: bool = False, other: dict[str, str | None] | None = None) -> None:
    """Replace the genre field of ``path`` with ``genres`` (empty list: remove it).

    Other tags and the audio are untouched. Raises TagError (UnsupportedFormat for containers
    without a tag backend) with the reason; the file is then byte-identical to before.

    ``exact``: ``genres`` are a field's values as ``FileTags.raw_genres`` read them (undo puts
    them back): they are stored one value each, as given, without the checks meant for new
    values typed by a user (NUL, surrounding spaces, the ID3v2.3 separator, ID3 references).
    ``other``: with ``exact``, ``FileTags.raw_other`` values to put back too (WAV INFO genre).
    """
    genres = _validated(genres, exact)
    p = Path(path)
    target = Path(os.path.realpath(p))
    before = _check_writable(p, target)
    audio, entry = _load(target, shown_as=p)
    problem = entry.backend.check_file(audio)
    if not exact:
        problem = entry.backend.check_genres(genres, options) or problem
    if problem:
        raise TagError(p, problem)
    in_place = before.st_nlink > 1 or not os.access(target.parent, os.W_OK | os.X_OK)
    if in_place:
        log.info("saving %s in place (%s)", p, "hard-linked" if before.st_nlink > 1 else "folder not writable")
    _replace_verified(p, target, before, entry, genres, options, exact, in_place, other if exact else None)


def is_working_copy(name: str) -> bool:
    """Whether a file name is one of our hidden working copies (left behind only by a crash)."""
    return _WORKING_COPY.match(name) is not None


def remove_working_copies(folder: str | os.PathLike[str], min_age: float = 300.0,
                          name: str | None = None) -> list[Path]:
    """Delete working copies in ``folder`` (not recursive) older than ``min_age`` seconds.

    A process killed between copying and renaming leaves one; the user's file itself is intact.
    The age limit keeps a write in progress in another thread or process safe. Age is measured
    from the status change time (ctime): a working copy carries its original's *mtime*
    (copystat), so mtime would make a copy made a second ago look years old. ``name``: only the
    working copies of that one file.
    """
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    prefix = f".{name}{_WORKING_MARK}" if name is not None else None
    for entry in entries:
        if not is_working_copy(entry.name) or (prefix is not None and not entry.name.startswith(prefix)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and now - max(st.st_ctime, st.st_mtime) >= min_age:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError as exc:
            log.warning("cannot remove stale working copy %s: %s", entry.path, exc)
    return removed


def _replace_verified(shown: Path, target: Path, before: os.stat_result, entry: Entry, genres: list[str],
                      options: WriteOptions, exact: bool, in_place: bool,
                      other: dict[str, str | None] | None = None) -> None:
    folder = Path(tempfile.gettempdir()) if in_place else target.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}{_WORKING_MARK}", suffix=".tmp", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            shutil.copyfile(target, tmp)
            if not in_place:
                shutil.copystat(target, tmp)  # permissions, flags, extended attributes
                _copy_owner(before, tmp)
        except OSError as exc:
            raise TagError(shown, f"cannot make a working copy of the file: {exc.strerror or exc}") from None
        region = _region(entry, tmp, shown)
        try:
            audio = entry.kind(str(tmp))
            fields = entry.backend.read(audio, options)
        except Exception as exc:  # the copy is byte-identical, so this is rare (file changed under us)
            raise TagError(shown, f"cannot read tags: {damaged(exc, tmp, shown)}") from None
        _save(audio, entry, genres, options, shown, exact, other)
        _verify(shown, tmp, entry, region, fields, genres, options, exact, other)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        now = _stat(shown, target)
        if (now.st_size, now.st_mtime_ns, now.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            raise TagError(shown, "file changed on disk while its tags were being written; nothing written")
        try:
            if in_place:
                _overwrite(target, tmp)
            else:
                os.replace(tmp, target)
        except OSError as exc:
            raise TagError(shown, f"cannot replace the file with the retagged copy: {exc.strerror or exc}") from None
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    if in_place:
        tmp.unlink()
    else:
        fsync_dir(target.parent)


def _region(entry: Entry, path: Path, shown: Path) -> str:
    """The digest of the audio region; a file whose structure makes a save unsafe is refused."""
    try:
        return regions.digest(entry.region, path)
    except regions.RegionError as exc:
        raise TagError(shown, f"{exc}; not written") from None
    except OSError as exc:
        raise TagError(shown, f"cannot read the file: {exc.strerror or exc}") from None


def _verify(shown: Path, tmp: Path, entry: Entry, region: str, fields: Fields, genres: list[str],
            options: WriteOptions, exact: bool, other: dict[str, str | None] | None = None) -> None:
    """The retagged copy is the same container, holds ``genres``, the other fields and the same audio."""
    try:
        audio, again = _load(tmp, shown_as=shown)
    except TagError as exc:
        raise TagError(shown, f"the retagged copy no longer reads ({exc.reason}); nothing written") from None
    if again is not entry:
        raise TagError(shown, f"the retagged copy no longer reads as {entry.format}; nothing written")
    try:
        got = entry.backend.raw_genres(audio) if exact else entry.backend.read(audio, options).genres
        after = entry.backend.read(audio, options)
        other_after = entry.backend.raw_other(audio)
    except Exception as exc:
        raise TagError(shown, f"the retagged copy's tags do not read ({damaged(exc, tmp, shown)}); "
                              f"nothing written") from None
    if got != genres and not (not exact and options.id3_version == 3
                              and options.id3_separator.join(got) == options.id3_separator.join(genres)):
        raise TagError(shown, f"the genres did not read back from the retagged copy (read {got!r}, "
                              f"expected {genres!r}); nothing written")
    wrong = {k: other_after.get(k) for k, v in (other or {}).items() if k in other_after and other_after[k] != v}
    if wrong:
        raise TagError(shown, f"the genres did not read back from the retagged copy ({wrong!r}); nothing written")
    for name in ("title", "artist", "album", "albumartist", "year"):
        if getattr(after, name) != getattr(fields, name):
            raise TagError(shown, f"the write would change the {name} ({getattr(fields, name)!r} -> "
                                  f"{getattr(after, name)!r}); nothing written")
    if _region(entry, tmp, shown) != region:
        raise TagError(shown, f"the tag library would damage this {entry.format} file's audio "
                              f"(its structure is unusual or damaged); nothing written")


def _overwrite(target: Path, source: Path) -> None:
    """Write ``source``'s bytes over ``target`` in place (same inode: hard links all change)."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


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
        raise UnsupportedFormat(shown, f"audio format not supported for tagging ({foreign})")
    try:
        audio = mutagen.File(str(path), options=list(KINDS))
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
    return FileTags(duration=info.duration, samplerate=info.samplerate, channels=info.channels, format=info.format)


def _validated(genres: Any, exact: bool = False) -> list[str]:
    if isinstance(genres, str) or not isinstance(genres, (list, tuple)):
        raise ValueError(f"genres must be a list of strings, not {type(genres).__name__}")
    for genre in genres:
        if not isinstance(genre, str):
            raise ValueError(f"genre {genre!r} is not a string")
        if exact:  # values read from a file, put back as they were
            continue
        if not genre.strip() or genre != genre.strip():
            raise ValueError(f"genre {genre!r} is empty or has surrounding spaces")
        if "\x00" in genre:
            raise ValueError(f"genre {genre!r} contains a NUL character")
    return list(genres)


def _stat(shown: Path, target: Path) -> os.stat_result:
    try:
        return target.stat()
    except FileNotFoundError:
        raise TagError(shown, "file not found (moved or deleted)") from None
    except OSError as exc:
        raise TagError(shown, f"cannot access file: {exc.strerror or exc}") from None


def _check_readable(path: Path) -> None:
    st = _stat(path, path)
    if stat.S_ISDIR(st.st_mode):
        raise TagError(path, "is a folder, not a file")
    if st.st_size == 0:
        raise TagError(path, "empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise TagError(path, "file is not readable (permission denied)")


def _check_writable(shown: Path, target: Path) -> os.stat_result:
    _check_readable(shown)
    st = _stat(shown, target)
    if not stat.S_ISREG(st.st_mode):
        raise TagError(shown, "not a regular file")
    if not (st.st_mode & stat.S_IWUSR) or not os.access(target, os.W_OK):
        raise TagError(shown, "file is read-only")
    return st


def _copy_owner(st: os.stat_result, tmp: Path) -> None:
    if not hasattr(os, "chown"):
        return
    tst = tmp.stat()
    if (tst.st_uid, tst.st_gid) != (st.st_uid, st.st_gid):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:  # not allowed (not root): the file becomes ours, as any editor's save does
            log.debug("cannot keep owner of %s", tmp)


def _number(value: Any, kind: type) -> Any:
    try:
        return kind(value) if value is not None else None
    except (TypeError, ValueError):
        return None
