"""Writing fields on files (``write_fields``, ``restore_fields``): a verified crash-safe save.

Saving never modifies the user's file before the result is known to be right. The file is copied
to a hidden working copy in the same folder (``.name.genre-desktop-XXXX.tmp``, so scanners that
skip hidden files ignore it), mutagen saves the tag into the copy, and the copy is verified: it
must still open as the same container, the fields written must read back as intended, every other
declared field (``tagging.fields``) as it was, and its audio region (``regions``: the bytes a tag write must not touch, located per
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
"audio format not supported for tagging". Reading lives in ``reading``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from genre_desktop.fsutil import fsync_dir
from genre_desktop.tagging import regions
from genre_desktop.tagging.base import Fields, TagError, WriteOptions
from genre_desktop.tagging.fields import FIELDS
from genre_desktop.tagging.reasons import damaged
from genre_desktop.tagging.separators import joinable
from genre_desktop.tagging.reading import check_readable as _check_readable
from genre_desktop.tagging.reading import load as _load
from genre_desktop.tagging.reading import stat_of as _stat
from genre_desktop.tagging.registry import Entry

log = logging.getLogger(__name__)

_WORKING_MARK = ".genre-desktop-"
_WORKING_COPY = re.compile(r"^\..+\.genre-desktop-[^.]+\.tmp$", re.DOTALL)


def write_fields(path: str | os.PathLike[str], values: Mapping[str, Sequence[str]],
                 options: WriteOptions = WriteOptions()) -> None:
    """Replace fields of ``path``: ``{"genre": [...], "style": [...]}`` (an empty list removes one).

    The keys are declared writable fields (``tagging.fields``: genre, style, grouping, ...);
    "style" goes where ``options.style_field`` says. Fields not named, every other tag and the
    audio are untouched; the working copy is verified before it replaces the file (see the
    module docstring). Raises TagError (UnsupportedFormat for containers without a tag
    backend) with the reason, the file then byte-identical to before; ValueError for a value
    that is not a list of clean strings.
    """
    change = _Change(values=_physical(values, options))
    _write(path, change, options)


def restore_fields(path: str | os.PathLike[str], raw: Mapping[str, Mapping[str, list[str] | None]],
                   options: WriteOptions = WriteOptions()) -> None:
    """Put fields back exactly as ``FileTags.raw`` read them: for each field, each place (by key)
    gets its stored values again, one value each, without the checks meant for typed-in values;
    None removes a place. What undo calls, with the ``id3_version`` the file had."""
    change = _Change(raw={name: dict(places) for name, places in raw.items()})
    _write(path, change, options)


def write_genres(path: str | os.PathLike[str], genres: list[str], options: WriteOptions = WriteOptions(),
                 *, exact: bool = False, other: dict[str, str | None] | None = None) -> None:
    """Replace the genre field of ``path`` with ``genres``: ``write_fields(path, {"genre": genres})``.

    ``exact``: ``genres`` are the field's first place as ``FileTags.raw_genres`` read it, and
    ``other`` its other places as ``FileTags.raw_other`` did (a WAV's INFO genre): put back as
    ``restore_fields`` does.
    """
    if not exact:
        write_fields(path, {"genre": genres}, options)
        return
    _validated(genres, exact=True)
    places: dict[str, list[str] | None] = {_FIRST_PLACE: list(genres)}
    places.update({key: ([value] if value is not None else None) for key, value in (other or {}).items()})
    restore_fields(path, {"genre": places}, options)


_FIRST_PLACE = ""  # in a raw snapshot: the field's first place in the file's format, whichever it is


@dataclass
class _Change:
    """A write: new values by declared field, or raw places to put back exactly (undo)."""

    values: dict[str, list[str]] | None = None
    raw: dict[str, dict[str, list[str] | None]] | None = None

    @property
    def exact(self) -> bool:
        return self.raw is not None

    @property
    def names(self) -> list[str]:
        return list(self.raw if self.raw is not None else self.values or {})


def _physical(values: Mapping[str, Sequence[str]], options: WriteOptions) -> dict[str, list[str]]:
    """The declared fields and values a write stores: "style" moved where the options put it,
    several values for a one-text field joined by the separator."""
    if not isinstance(values, Mapping):
        raise ValueError(f"fields must be a mapping of field name to values, not {type(values).__name__}")
    out: dict[str, list[str]] = {}
    for name, wanted in values.items():
        target = options.target(name)
        tag_field = FIELDS.get(target)
        if tag_field is None or not tag_field.writable:
            known = ", ".join(n for n, f in FIELDS.items() if f.writable)
            raise ValueError(f"{name!r} is not a field this app writes (it writes {known})")
        wanted = _validated(wanted, what=name)
        if not tag_field.multi and len(wanted) > 1:
            problem = joinable(wanted, options.id3_separator, (options.id3_separator,))
            if problem:
                raise ValueError(f"{name} {problem} once joined into {target.upper()}, which holds one value")
            wanted = [options.id3_separator.join(wanted)]
        out[target] = wanted
    return out


def _write(path: str | os.PathLike[str], change: _Change, options: WriteOptions) -> None:
    p = Path(path)
    target = Path(os.path.realpath(p))
    before = _check_writable(p, target)
    audio, entry = _load(target, shown_as=p)
    if change.raw is not None:
        change.raw = _changed_only(_resolved_raw(entry, change.raw), entry, audio, p)
        if not change.raw:
            return  # every place already holds what it held: nothing to put back
    problem = entry.backend.check_file(audio, change.names)
    if not change.exact:
        problem = entry.backend.check_values(audio, change.values or {}, options) or problem
    if problem:
        raise TagError(p, problem)
    in_place = before.st_nlink > 1 or not os.access(target.parent, os.W_OK | os.X_OK)
    if in_place:
        log.info("saving %s in place (%s)", p, "hard-linked" if before.st_nlink > 1 else "folder not writable")
    _replace_verified(p, target, before, entry, change, options, in_place)


def _changed_only(raw: dict[str, dict[str, list[str] | None]], entry: Entry, audio: Any,
                  shown: Path) -> dict[str, dict[str, list[str] | None]]:
    """The fields of a raw snapshot whose places differ from the file's now: only those are put
    back, and only their places are judged (a damaged atom of a field no write touched stays)."""
    try:
        now = entry.backend.read(audio).raw
    except Exception as exc:  # odd values in a tag that mutagen itself accepted
        raise TagError(shown, f"malformed tags: {damaged(exc, Path(audio.filename), shown)}") from None
    return {name: places for name, places in raw.items()
            if any(now.get(name, {}).get(key) != (list(values) if values else None) for key, values in places.items())}


def _resolved_raw(entry: Entry, raw: dict[str, dict[str, list[str] | None]]) -> dict[str, dict[str, list[str] | None]]:
    """A raw snapshot with ``_FIRST_PLACE`` named by the file's format (its first place's key)."""
    out = {}
    for name, places in raw.items():
        if name not in FIELDS:
            raise ValueError(f"{name!r} is not a declared tag field")
        first = next((place.key for _, place in entry.backend.places(FIELDS[name])), None)
        out[name] = {(first if key == _FIRST_PLACE else key): values for key, values in places.items()
                     if key != _FIRST_PLACE or first is not None}
    return out


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


def _replace_verified(shown: Path, target: Path, before: os.stat_result, entry: Entry, change: _Change,
                      options: WriteOptions, in_place: bool) -> None:
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
        _save(audio, entry, change, options, shown)
        _verify(shown, tmp, entry, region, fields, change, options)
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


def _verify(shown: Path, tmp: Path, entry: Entry, region: str, fields: Fields, change: _Change,
            options: WriteOptions) -> None:
    """The retagged copy is the same container, holds the new values, every other declared field
    as it was, and the same audio."""
    try:
        audio, again = _load(tmp, shown_as=shown)
    except TagError as exc:
        raise TagError(shown, f"the retagged copy no longer reads ({exc.reason}); nothing written") from None
    if again is not entry:
        raise TagError(shown, f"the retagged copy no longer reads as {entry.format}; nothing written")
    try:
        after = entry.backend.read(audio, options)
    except Exception as exc:
        raise TagError(shown, f"the retagged copy's tags do not read ({damaged(exc, tmp, shown)}); "
                              f"nothing written") from None
    for name, tag_field in FIELDS.items():
        if change.raw is not None and name in change.raw:
            got_raw = after.raw.get(name, {})
            wrong = {key: got_raw.get(key) for key, wanted in change.raw[name].items()
                     if key in got_raw and got_raw[key] != (wanted or None)}
            if wrong:
                raise TagError(shown, f"the {_noun(name)} did not read back from the retagged copy "
                                      f"(read {wrong!r}); nothing written")
            continue
        got = after.values.get(name, [])
        if change.values is not None and name in change.values:
            wanted = change.values[name]
            if got != wanted:
                raise TagError(shown, f"the {_noun(name)} did not read back from the retagged copy (read {got!r}, "
                                      f"expected {wanted!r}); nothing written")
        elif got != fields.values.get(name, []):
            was = fields.values.get(name, [])
            shown_was, shown_got = (was, got) if tag_field.multi else (was[0] if was else "", got[0] if got else "")
            raise TagError(shown, f"the write would change the {name} ({shown_was!r} -> {shown_got!r}); "
                                  f"nothing written")
    if _region(entry, tmp, shown) != region:
        raise TagError(shown, f"the tag library would damage this {entry.format} file's audio "
                              f"(its structure is unusual or damaged); nothing written")


def _noun(name: str) -> str:
    tag_field = FIELDS.get(name)
    return tag_field.attr if tag_field is not None else name


def _overwrite(target: Path, source: Path) -> None:
    """Write ``source``'s bytes over ``target`` in place (same inode: hard links all change)."""
    with open(source, "rb") as src, open(target, "r+b") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.truncate()
        dst.flush()
        os.fsync(dst.fileno())


def _save(audio: Any, entry: Entry, change: _Change, options: WriteOptions, shown: Path) -> None:
    try:
        if change.raw is not None:
            entry.backend.restore_fields(audio, change.raw)
            if entry.backend.drop_if_empty(audio):
                return  # undo of a write that added the tag: the tag goes
        else:
            entry.backend.set_fields(audio, change.values or {}, options)
        entry.backend.save(audio, options)
    except TagError:
        raise
    except OSError as exc:
        raise TagError(shown, f"cannot write tags: {exc.strerror or exc}") from None
    except Exception as exc:  # mutagen raises its own errors, struct/Value errors on odd files
        raise TagError(shown, f"cannot write tags: {damaged(exc, Path(audio.filename), shown)}") from None


def _validated(values: Any, exact: bool = False, what: str = "genre") -> list[str]:
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise ValueError(f"{what} values must be a list of strings, not {type(values).__name__}")
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"{what} {value!r} is not a string")
        if exact:  # values read from a file, put back as they were
            continue
        if not value.strip() or value != value.strip():
            raise ValueError(f"{what} {value!r} is empty or has surrounding spaces")
        if "\x00" in value:
            raise ValueError(f"{what} {value!r} contains a NUL character")
    return list(values)


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
