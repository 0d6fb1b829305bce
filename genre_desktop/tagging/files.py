"""Writing fields on files (``write_fields``, ``restore_fields``): a verified, proven, crash-safe save.

Saving never modifies the user's file before the result is known to be right. The file is copied
to a hidden working copy (``working_copy``), mutagen saves the tag into the copy, and the copy is
verified: it must still open as the same container, the fields written must read back as
intended, every other declared field (``tagging.fields``) as it was, and its audio region
(``regions``: the bytes a tag write must not touch, located per container by the registry's
table) must be byte-identical to the original's. A write that will be journaled (``keep``) is
also *proven undoable*: the original is rebuilt from the written copy (``rebuild``) and must come
back byte for byte (its SHA-256), and the undo data goes to the caller before the copy replaces
the file. Only then is the copy flushed and renamed over the original; a crash, a kill, a full
disk or a failed check at any moment leaves the original byte-identical or replaced by a verified
copy. ``restore`` gives the original back.

Symlinks are followed: the target file is written, the link stays. Read-only files are refused
("file is read-only") even where the permissions would let us replace them (root, or a writable
folder): the librarian marked them so. Real audio in a container without a tag backend (WavPack,
APE, Speex, ... whatever the extension) is refused as "tags cannot be written for this format
(WavPack) yet". Reading lives in ``reading``.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import genre_desktop.tagging.rebuild as rebuild
import genre_desktop.tagging.regions as regions
from genre_desktop.tagging.base import Fields, TagError, WriteOptions
from genre_desktop.tagging.fields import FIELDS
from genre_desktop.tagging.reasons import damaged, quoted
from genre_desktop.tagging.rebuild import UndoData
from genre_desktop.tagging.separators import joinable
from genre_desktop.tagging.reading import check_readable as _check_readable
from genre_desktop.tagging.reading import load as _load
from genre_desktop.tagging.registry import Entry
from genre_desktop.tagging.working_copy import (  # noqa: F401 - is_working_copy, remove_working_copies: API
    WorkingCopy,
    is_working_copy,
    remove_working_copies,
)
from genre_desktop.tagging.working_copy import stat_of as _stat

log = logging.getLogger(__name__)

#: Called with a write's proven undo data before the written copy replaces the file.
Keep = Callable[[UndoData], None]


def write_fields(path: str | os.PathLike[str], values: Mapping[str, Sequence[str]],
                 options: WriteOptions = WriteOptions(), *, keep: Keep | None = None) -> None:
    """Replace fields of ``path``: ``{"genre": [...], "style": [...]}`` (an empty list removes one).

    The keys are declared writable fields (``tagging.fields``: genre, style, grouping, ...);
    "style" goes where ``options.style_field`` says. Fields not named, every other tag and the
    audio are untouched; the working copy is verified before it replaces the file (see the
    module docstring). Raises TagError (UnsupportedFormat for containers without a tag
    backend) with the reason, the file then byte-identical to before; ValueError for a value
    that is not a list of clean strings. ``keep``: prove the write undoable and hand its undo
    data (``rebuild.UndoData``) to ``keep`` before the file is replaced; if ``keep`` raises,
    nothing is written.
    """
    change = _Change(values=_physical(values, options))
    _write(path, change, options, keep)


def restore_fields(path: str | os.PathLike[str], raw: Mapping[str, Mapping[str, list[str] | None]],
                   options: WriteOptions = WriteOptions()) -> None:
    """Put fields back exactly as ``FileTags.raw`` read them: for each field, each place (by key)
    gets its stored values again, one value each, without the checks meant for typed-in values;
    None removes a place. What undo calls, with the ``id3_version`` the file had."""
    change = _Change(raw={name: dict(places) for name, places in raw.items()})
    _write(path, change, options)


def write_genres(path: str | os.PathLike[str], genres: list[str], options: WriteOptions = WriteOptions(),
                 *, exact: bool = False, other: dict[str, str | None] | None = None,
                 keep: Keep | None = None) -> None:
    """Replace the genre field of ``path`` with ``genres``: ``write_fields(path, {"genre": genres})``.

    ``exact``: ``genres`` are the field's first place as ``FileTags.raw_genres`` read it, and
    ``other`` its other places as ``FileTags.raw_other`` did (a WAV's INFO genre): put back as
    ``restore_fields`` does. ``keep``: see ``write_fields``.
    """
    if not exact:
        write_fields(path, {"genre": genres}, options, keep=keep)
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


def _write(path: str | os.PathLike[str], change: _Change, options: WriteOptions, keep: Keep | None = None) -> None:
    p = Path(path)
    target = Path(os.path.realpath(p))
    before = check_writable(p, target)
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
    _replace_verified(p, target, before, entry, change, options, in_place, keep)


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


def _replace_verified(shown: Path, target: Path, before: os.stat_result, entry: Entry, change: _Change,
                      options: WriteOptions, in_place: bool, keep: Keep | None = None) -> None:
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
        _save(audio, entry, change, options, shown)
        written = _verify(shown, tmp, entry, layout.digest, fields, change, options)
        if keep is not None:
            keep(_proven_undo(shown, target, tmp, layout, written, original_sha))
        copy.commit("the restored copy" if change.exact else "the retagged copy")


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
    original, byte for byte (compared with it; its SHA-256 is journaled for undo to check again).
    Otherwise the write is refused: no write whose undo is not known to work."""
    try:
        with open(target, "rb") as original, open(tmp, "rb") as written:
            undo = rebuild.plan(original, before, written, after)
            same, (written_sha, written_size) = rebuild.prove(undo.ops, undo.literal, written, original)
    except rebuild.RebuildError as exc:
        raise TagError(shown, f"the write could not be proven undoable ({exc}); nothing written") from None
    except OSError as exc:
        raise TagError(shown, f"cannot read the file: {exc.strerror or exc}") from None
    if not same:
        log.error("%s: the undo plan does not rebuild the original's %d bytes", shown, undo.size)
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


def _verify(shown: Path, tmp: Path, entry: Entry, region: str, fields: Fields, change: _Change,
            options: WriteOptions) -> regions.Layout:
    """The retagged copy is the same container, holds the new values, every other declared field
    as it was, and the same audio. Returns the copy's layout (for the undo data)."""
    copy, outcome = ("the restored copy", "the file is unchanged") if change.exact else ("the retagged copy",
                                                                                         "nothing written")
    try:
        audio, again = _load(tmp, shown_as=shown)
    except TagError as exc:
        raise TagError(shown, f"{copy} no longer reads ({exc.reason}); {outcome}") from None
    if again is not entry:
        raise TagError(shown, f"{copy} no longer reads as {entry.format}; {outcome}")
    try:
        after = entry.backend.read(audio, options)
    except Exception as exc:
        raise TagError(shown, f"{copy}'s tags do not read ({damaged(exc, tmp, shown)}); {outcome}") from None
    for name, tag_field in FIELDS.items():
        if change.raw is not None and name in change.raw:
            got_raw = after.raw.get(name, {})
            wrong = {key: got_raw.get(key) for key, wanted in change.raw[name].items()
                     if key in got_raw and got_raw[key] != (wanted or None)}
            if wrong:
                raise TagError(shown, f"the {_noun(name)} did not read back from {copy} (read {quoted(wrong)}); "
                                      f"{outcome}")
            continue
        got = after.values.get(name, [])
        if change.values is not None and name in change.values:
            wanted = change.values[name]
            if got != wanted:
                raise TagError(shown, f"the {_noun(name)} did not read back from {copy} (read {quoted(got)}, "
                                      f"expected {quoted(wanted)}); {outcome}")
        elif got != fields.values.get(name, []):
            was = fields.values.get(name, [])
            shown_was, shown_got = (was, got) if tag_field.multi else (was[0] if was else "", got[0] if got else "")
            raise TagError(shown, f"the {'undo' if change.exact else 'write'} would change the {name} "
                                  f"({quoted(shown_was)} -> {quoted(shown_got)}); {outcome}")
    written = _region(entry, tmp, shown)
    if written.digest != region:
        raise TagError(shown, f"the tag library would damage this {entry.format} file's audio "
                              f"(its structure is unusual or damaged); {outcome}")
    return written


def _noun(name: str) -> str:
    tag_field = FIELDS.get(name)
    return tag_field.attr if tag_field is not None else name


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
            raise ValueError(f"{what} {quoted(repr(value))} is not text")
        if exact:  # values read from a file, put back as they were
            continue
        if not value.strip() or value != value.strip():
            raise ValueError(f"{what} {quoted(value)} is empty or has surrounding spaces")
        if "\x00" in value:
            raise ValueError(f"{what} {quoted(value)} contains a NUL character")
    return list(values)


def check_writable(shown: Path, target: Path) -> os.stat_result:
    """The stat of a regular file the app may replace (``target``: ``shown`` with links resolved)."""
    _check_readable(shown)
    st = _stat(shown, target)
    if not stat.S_ISREG(st.st_mode):
        raise TagError(shown, "not a regular file")
    if not (st.st_mode & stat.S_IWUSR) or not os.access(target, os.W_OK):
        raise TagError(shown, "file is read-only")
    return st
