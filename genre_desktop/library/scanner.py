"""Scanning a music folder into the store: a generator that yields progress and obeys a cancel token.

Two phases. The walk lists the folder tree (``os.scandir`` with ``stat``; no file is opened) and
gives the total; then each file whose size or mtime differs from the store is read with
``read_tags`` (unchanged files are never opened; a changed one is opened and parsed once: the
tags' parse also tells an MP3 cut short, and the header is probed only when the tags have none). Tracks that were under the root but are gone are
flagged ``missing`` and keep their predictions and choices (``Store.remove_missing`` purges them).

- Directory symlinks are followed; the (device, inode) of every visited directory is remembered,
  so a symlink loop or a second link to the same folder is walked once.
- Hidden files and folders (leading dot) and extensions outside ``SUPPORTED_EXTENSIONS`` are
  ignored. Hidden working copies that a killed tag write left (``.<name>.genre-desktop-*.tmp``)
  are deleted once they are ``STALE_WORKING_COPY`` seconds old (a younger one may belong to a
  write in progress in another process).
- ``options`` (WriteOptions) are passed to ``read_tags`` so that ID3v2.3 genres are split on the
  configured separator exactly as the tag writer joined them. Folders that cannot be listed are reported and their tracks are not flagged missing.
- A file that cannot be read (empty, truncated, not audio, permission denied) becomes a Track with
  ``status=ERROR`` and ``error=<reason>``; the scan goes on. A file whose tags cannot be parsed but
  whose audio header reads is a usable track with a note in ``error`` (it plays, analyses and can
  be reviewed; its write is refused with the reason until the tags are repaired).
- Writes go to the store in batches (``batch_size`` tracks, one flush each); on cancel, on an
  exception or when the caller stops iterating, what was read so far is saved first.
- Progress is yielded at most every ``progress_interval`` seconds (and at the end), so a caller
  can update a progress bar from every item without flooding the GUI.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from typing import Callable, Generator, Iterator

from genre_desktop.audio import SUPPORTED_EXTENSIONS, DecodeError, probe
from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.library.store import Store
from genre_desktop.core.status import ERROR, PREDICTED, UNANALYSED
from genre_desktop.core.track import Track
from genre_desktop.tagging import TagError, WriteOptions, read_tags
from genre_desktop.tagging.fields import FIELDS
from genre_desktop.tagging.files import is_working_copy, remove_working_copies

log = logging.getLogger(__name__)

STALE_WORKING_COPY = 300.0  # seconds
# The declared tag fields a Track records (title, artist, album, albumartist, year, genres, styles).
_TRACKED = tuple((f.attr, f.name, f.multi) for f in FIELDS.values()
                 if f.attr in {t.name for t in dataclass_fields(Track)})


@dataclass
class ScanProgress:
    done: int
    total: int | None  # None while the folder tree is still being listed
    path: str
    found: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    unreadable: int = 0
    removed: int = 0
    damaged: int = 0  # readable files with a note: truncated, tags unreadable


@dataclass
class ScanSummary:
    found: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0  # tracks flagged missing by this scan
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason), unchanged ones too
    # Readable files with a note (path, note): "truncated MP3: ...", "tags unreadable ..."; unchanged ones too.
    damaged: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False
    unlisted: list[tuple[str, str]] = field(default_factory=list)  # folders that could not be listed
    elapsed: float = 0.0


@dataclass
class _Found:
    path: str
    size: int
    mtime: float


def scan(root: str | os.PathLike[str], store: Store, cancel: CancelToken = NEVER, *,
         batch_size: int = 500, progress_interval: float = 0.1,
         options: WriteOptions | None = None,
         save: Callable[[list[Track]], None] | None = None) -> Generator[ScanProgress, None, ScanSummary]:
    """Scan ``root`` into ``store``; yields ScanProgress, returns ScanSummary (StopIteration.value).

    ``save``: how each batch (and the tracks flagged missing) is stored; default ``store.upsert``.
    The library session passes one that merges each track onto the record as stored by then
    (decisions saved meanwhile survive) and runs on the window's writer thread."""
    save = save or store.upsert
    started = time.monotonic()
    root = os.path.abspath(os.fspath(root))
    if not os.path.isdir(root):
        raise NotADirectoryError(f"not a folder: {root}")
    summary = ScanSummary()
    last_yield = 0.0

    def progress(done: int, total: int | None, path: str) -> ScanProgress:
        return ScanProgress(done, total, path, summary.found, summary.new, summary.changed,
                            summary.unchanged, len(summary.unreadable), summary.removed, len(summary.damaged))

    files: list[_Found] = []
    for item in _walk(root, summary, cancel):
        if isinstance(item, _Found):
            files.append(item)
            summary.found += 1
        now = time.monotonic()
        if now - last_yield >= progress_interval:
            last_yield = now
            yield progress(0, None, item if isinstance(item, str) else item.path)
    if cancel.cancelled:  # the walk is incomplete: nothing can be called missing
        summary.cancelled = True
        summary.elapsed = time.monotonic() - started
        return summary

    _flag_missing(root, store, {f.path for f in files}, summary, save)
    total = len(files)
    pending: list[Track] = []
    try:
        for done, found in enumerate(files, 1):
            if cancel.cancelled:
                summary.cancelled = True
                break
            track = _visit(found, store, summary, options)
            if track is not None:
                pending.append(track)
                if len(pending) >= batch_size:
                    save(pending)
                    pending = []
            now = time.monotonic()
            if now - last_yield >= progress_interval or done == total:
                last_yield = now
                yield progress(done, total, found.path)
    finally:  # cancel, an exception, or the caller closing the generator: keep what was read
        if pending:
            save(pending)
    summary.elapsed = time.monotonic() - started
    log.info("scan of %s: %s", root, summary)
    return summary


def _walk(root: str, summary: ScanSummary, cancel: CancelToken) -> Iterator[_Found | str]:
    """Depth-first, sorted by name: yields each audio file, and each folder's path as it is entered."""
    try:
        root_stat = os.stat(root)
    except OSError as exc:
        summary.unlisted.append((root, _reason(exc)))
        return
    seen = {(root_stat.st_dev, root_stat.st_ino)}
    stack = [root]
    while stack and not cancel.cancelled:
        folder = stack.pop()
        yield folder
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            log.warning("cannot list %s: %s", folder, exc)
            summary.unlisted.append((folder, _reason(exc)))
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                if is_working_copy(entry.name):
                    for leftover in remove_working_copies(folder, STALE_WORKING_COPY):
                        log.info("removed %s, left by an interrupted tag write", leftover)
                continue
            try:
                st = entry.stat()  # follows symlinks
            except OSError:  # a dangling symlink, or gone meanwhile
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    log.debug("skipping %s: folder already visited (symlink loop or second link)", entry.path)
                    continue
                seen.add(key)
                subfolders.append(entry.path)
            elif stat.S_ISREG(st.st_mode) and os.path.splitext(entry.name)[1].lower() in SUPPORTED_EXTENSIONS:
                yield _Found(entry.path, st.st_size, st.st_mtime)
        stack.extend(reversed(subfolders))  # pop() then visits them in name order


def _flag_missing(root: str, store: Store, present: set[str], summary: ScanSummary,
                  save: Callable[[list[Track]], None]) -> None:
    prefix = root.rstrip(os.sep) + os.sep
    blind = tuple(folder.rstrip(os.sep) + os.sep for folder, _ in summary.unlisted)
    gone = []
    for path in store.paths():
        if path.startswith(prefix) and path not in present and not path.startswith(blind or ("\0",)):
            track = store.get(path)
            if track is not None and not track.missing:
                track.missing = True
                gone.append(track)
    if gone:
        save(gone)
        summary.removed = len(gone)


def _visit(found: _Found, store: Store, summary: ScanSummary, options: WriteOptions | None = None) -> Track | None:
    """Compare one file with the store; returns the Track to save, or None when unchanged."""
    known = store.get(found.path)
    if known is not None and not known.missing and known.size == found.size and known.mtime == found.mtime:
        summary.unchanged += 1
        if known.status == ERROR:
            summary.unreadable.append((found.path, known.error or "unreadable"))
        elif known.error:
            summary.damaged.append((found.path, known.error))
        return None
    if known is None:
        summary.new += 1
        track = Track(path=found.path)
    else:
        summary.changed += 1
        track = known
    track.size, track.mtime, track.missing, track.scanned_at = found.size, found.mtime, False, time.time()
    track.error = None
    reason = _read_into(track, options)
    note = track.error  # e.g. "truncated MP3: ...": the file reads, but something is wrong with it
    if reason is not None:  # a note says why ("truncated MP3: ... holds about 0:00; no audio (0 seconds)")
        track.status, track.error = ERROR, (f"{note}; {reason}" if note and note != reason else reason)
        summary.unreadable.append((found.path, reason))
    else:
        if track.status == ERROR:
            track.status = PREDICTED if track.prediction else UNANALYSED
        track.error = note
        if note:
            summary.damaged.append((found.path, note))
    return track


def _read_into(track: Track, options: WriteOptions | None = None) -> str | None:
    """Fill the track from the file's tags (and header, if the tags carry no duration); return a reason on failure."""
    track.format = os.path.splitext(track.path)[1].lower().lstrip(".")
    if track.size == 0:
        return "empty file"
    try:
        tags = read_tags(track.path, options)
    except TagError as exc:
        return _audio_only(track, exc.reason)
    except Exception as exc:  # noqa: BLE001 - a hostile file must never stop the scan
        log.warning("reading %s failed unexpectedly", track.path, exc_info=True)
        return _reason(exc)
    values = tags.values
    for attr, name, multi in _TRACKED:  # every declared tag field the Track records (tagging.fields)
        found = values.get(name) or []
        setattr(track, attr, list(found) if multi else (found[0] if found else ""))
    track.duration, track.samplerate, track.channels = tags.duration, tags.samplerate, tags.channels
    track.format = tags.format or track.format
    if tags.problem:  # an MP3 cut short (found from the tags' parse; duration: what it still holds)
        track.error = tags.problem  # a note beside a usable status: the audio that is there analyses
    if not track.duration or not track.samplerate:
        try:  # the tag library found no stream info: ask the decoder whether there is audio at all
            info = probe(track.path)
        except DecodeError as exc:
            return exc.reason
        except Exception as exc:  # noqa: BLE001
            log.warning("probing %s failed unexpectedly", track.path, exc_info=True)
            return _reason(exc)
        track.duration, track.samplerate, track.channels = info.duration, info.samplerate, info.channels
        if not info.duration:
            return "no audio (0 seconds)"
    return None


def _audio_only(track: Track, tag_reason: str) -> str | None:
    """A file whose tags cannot be read but whose audio can: in the library with a note (it can be
    played, analysed and reviewed; writing its genres is refused until the tags are repaired).
    Returns ``tag_reason`` when the audio cannot be read either."""
    try:
        info = probe(track.path)
    except Exception:  # noqa: BLE001 - the tags' reason is the one to give
        return tag_reason
    if not info.duration or not info.samplerate:
        return tag_reason
    track.duration, track.samplerate, track.channels = info.duration, info.samplerate, info.channels
    track.format = info.format or track.format
    track.error = f"tags unreadable ({tag_reason}): the audio plays and analyses; genres cannot be written"
    if info.problem:
        track.error += f"; {info.problem}"
    return None


def _reason(exc: BaseException) -> str:
    """What the user is told; the exception itself was logged (Python internals are not a reason)."""
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "cannot read the file: an unexpected problem (details in the log)"


def scan_paths(paths: list[str], store: Store, options: WriteOptions | None = None) -> ScanSummary:
    """Read individual files into the store (new or changed ones only), e.g. before tagging them.

    Paths that do not exist or are not supported audio files are listed as unreadable.
    """
    summary = ScanSummary()
    tracks = []
    for raw in paths:
        path = os.path.abspath(raw)
        try:
            st = os.stat(path)
        except OSError as exc:
            summary.unreadable.append((path, "no such file" if isinstance(exc, FileNotFoundError) else _reason(exc)))
            continue
        if not stat.S_ISREG(st.st_mode) or os.path.splitext(path)[1].lower() not in SUPPORTED_EXTENSIONS:
            summary.unreadable.append((path, "not a supported audio file"))
            continue
        summary.found += 1
        track = _visit(_Found(path, st.st_size, st.st_mtime), store, summary, options)
        if track is not None:
            tracks.append(track)
    store.upsert(tracks)
    return summary
