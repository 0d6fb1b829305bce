"""The library session's work on the store and the files. Qt-free.

Plain functions that :class:`~genre_desktop.app.session.LibrarySession` hands to its writer (the
calling thread in the CLI, the window's one serial writer thread): they read and write the store
and the files, and return what changed; none of them touches the session's memory, so the
session applies their results on its own thread.

- :func:`save_fields`: decisions and analysis results, each merged onto the record as stored now;
- :func:`save_scanned`: a scan's batch, merged onto what the review saved meanwhile
  (``merge_scanned``);
- :func:`check_plan`: a write plan against the store (other processes' writes) and the files
  (replaced by another program) just before it runs;
- :func:`write_values` / :func:`undo_writes`: the one write path (journaled, verified) and its
  undo; a verified write carries the analysed-file mark over to the written file, so the next
  analysis does not analyse again a file whose audio is byte for byte what was analysed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from genre_desktop.app.plan import WritePlan, plan_write, reviewed
from genre_desktop.app.workflow import ANALYSED_KEY, analysed_current, apply_fields, merge_scanned, under_root
from genre_desktop.core.track import Track
from genre_desktop.settings import Settings

log = logging.getLogger(__name__)


def load_tracks(store, root: str | None) -> list[Track]:
    """The tracks the store holds under ``root`` (None: all)."""
    return [t for t in store.all() if under_root(t.path, root)]


def save_fields(store, updates: dict[str, dict[str, Any]]) -> list[Track]:
    """Apply ``{path: {field: value}}`` in one store batch, each onto the record as stored now
    (``extra`` merged); a track no longer in the store is skipped. Returns the tracks as stored."""
    out = []
    with store.batch():
        for path, fields in updates.items():
            current = store.get(path)
            if current is None:
                log.warning("save: %s is no longer in the library", path)
                continue
            store.upsert([apply_fields(current, fields)])
            out.append(current)
    return out


def save_scanned(store, tracks: Iterable[Track]) -> None:
    """Store a scan's batch, each merged onto the record as stored now: a decision or analysis
    saved between the scan's read and this batch survives (``merge_scanned``)."""
    store.upsert([merge_scanned(t, store.get(t.path)) for t in tracks])


# --------------------------------------------------------------------------- plans
@dataclass
class PlanCheck:
    """A write plan checked just before it runs: ``stale`` with the ``reasons`` (for the
    librarian), the tracks as they are now (``tracks``, to show the plan again from them)."""

    stale: bool = False
    reasons: list[str] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def check_plan(workspace, plan: WritePlan, settings: Settings, root: str | None) -> PlanCheck:
    """Is ``plan`` still what a plan made now would be? Other processes' writes are read first
    (``Store.refresh``: only the shard files they rewrote); files changed on disk since their scan
    (another program replaced or retagged them) are read again, so the plan shown next has their
    real "Now". A stale plan must be shown again, not written."""
    from genre_desktop.library.scanner import scan_paths

    store = workspace.store
    check = PlanCheck()
    changes = store.refresh()
    outside = {t.path: t for t in changes.changed if under_root(t.path, root)}
    check.removed = [p for p in changes.removed if under_root(p, root)]
    on_disk = []
    for path in plan.basis:
        try:
            st = os.stat(path)
        except OSError:
            continue  # a vanished file is the tag service's to report; the next scan flags it missing
        track = store.get(path)
        if track is not None and (st.st_size, st.st_mtime) != (track.size, track.mtime):
            on_disk.append(path)
    if on_disk:
        scan_paths(on_disk, store, workspace.write_options())
    fresh = {p: t for p in plan.basis if (t := store.get(p)) is not None}
    fresh.update({p: t for p, t in outside.items() if p not in fresh and reviewed(t)})
    differ = _differences(plan, plan_write(fresh.values(), settings, plan.spelling)) - set(on_disk)
    if differ:
        check.reasons.append(f"{_files(len(differ))} changed in the library since this preview (written or "
                             f"decided by another Genre Desktop window or the command line)")
    if on_disk:
        check.reasons.append(f"{_files(len(on_disk))} changed on disk since the last scan (another program "
                             f"wrote to {'them' if len(on_disk) > 1 else 'it'}) and "
                             f"{'were' if len(on_disk) > 1 else 'was'} read again: check {'their' if len(on_disk) > 1 else 'its'} "
                             f"\"Now\" before writing")
    check.tracks = list({**outside, **fresh}.values())
    check.stale = bool(check.reasons)
    return check


def _differences(old: WritePlan, new: WritePlan) -> set[str]:
    """The paths whose planned change (or file signature, or being planned at all) differs."""
    def by_path(plan: WritePlan) -> dict[str, tuple]:
        out: dict[str, tuple] = {p: ("unchanged", sig) for p, sig in plan.basis.items()}
        for change in plan.changes:
            out[change.path] = ("write", plan.basis.get(change.path), change.key())
        for change, why in plan.unwritable:
            out[change.path] = ("unwritable", plan.basis.get(change.path), change.key(), why)
        return out

    a, b = by_path(old), by_path(new)
    return {p for p in a.keys() | b.keys() if a.get(p) != b.get(p)}


def _files(n: int) -> str:
    return f"{n:,} file{'s' if n != 1 else ''}"


# --------------------------------------------------------------------------- writing
@dataclass
class WriteOutcome:
    """A write (or undo) as it ended: one result per file and the tracks as stored after it; or
    ``stale``: the plan was not written (the check says why)."""

    results: list[Any] = field(default_factory=list)
    tracks: list[Track] = field(default_factory=list)
    stale: PlanCheck | None = None
    settled: list[Any] | None = field(default_factory=list)  # writes a killed run left, settled first
    left: list[str] = field(default_factory=list)  # undo: files an earlier undo left (changed since)

    @property
    def failed(self) -> list[tuple[str, str]]:
        return [(r.path, r.error or "failed") for r in self.results if not r.ok]

    @property
    def ok(self) -> int:
        return sum(1 for r in self.results if r.ok)


def write_values(workspace, values: dict[str, Any], options: Any = None,
                 journal_path: str | Path | None = None) -> WriteOutcome:
    """Write ``path -> genres`` (or ``path -> {"genre": [...], "style": [...]}``, see
    ``TagService.write``) through the journaled, verified tag service (``workspace.store`` open).
    The one write path of the window, ``write`` and ``tag``."""
    store = workspace.store
    current = _analysed_marks(store, values)
    with workspace.tag_service(options, journal_path=journal_path) as (service, settled):
        results = service.write(values)
    return _outcome(store, results, current, settled)


def write_plan(workspace, plan: WritePlan, settings: Settings, root: str | None, options: Any = None,
               check: bool = True, journal_path: str | Path | None = None) -> WriteOutcome:
    """Check ``plan`` (``check``) and write it; a stale plan is not written (``outcome.stale``)."""
    if check:
        verdict = check_plan(workspace, plan, settings, root)
        if verdict.stale:
            return WriteOutcome(stale=verdict)
    return write_values(workspace, plan.values(), options, journal_path)


def undo_writes(workspace, options: Any = None, last: int = 1, all: bool = False,  # noqa: A002
                journal_path: str | Path | None = None, genre_level: bool = False) -> WriteOutcome:
    """Undo the last ``last`` write batches (or ``all``) from the journal, byte for byte;
    ``genre_level``: files changed since their write get their old genres back (TagService.undo)."""
    store = workspace.store
    with workspace.tag_service(options, journal_path=journal_path) as (service, settled):
        current = _analysed_marks(store, {e.path for e in service.journal.entries()})
        results = service.undo(last=last, all=all, genre_level=genre_level)
        left = [] if genre_level else [e.path for e in service.left_by_undo()]
    outcome = _outcome(store, results, current, settled)
    outcome.left = left
    return outcome


def _analysed_marks(store, paths: Iterable[str]) -> set[str]:
    """The paths whose analysis was made from the file as stored now (before a write)."""
    return {p for p in paths if (t := store.get(p)) is not None and analysed_current(t)}


def _outcome(store, results: list[Any], current: set[str], settled: Any) -> WriteOutcome:
    """The tracks after a write; the analysed-file mark follows each file a verified write
    changed (``ok`` and other genres, or other fields, than before) whose analysis was current
    before it."""
    carried = []
    with store.batch():
        for r in results:
            changed = list(r.old) != list(r.new) or bool(getattr(r, "fields", None))  # a style, say
            if r.ok and r.path in current and changed:
                track = store.get(r.path)
                if track is not None:
                    track.extra = {**track.extra, ANALYSED_KEY: [track.size, track.mtime]}
                    store.upsert([track])
                    carried.append(r.path)
    if carried:
        log.info("write: %d written files keep their analysis (audio verified identical)", len(carried))
    tracks = [t for t in (store.get(r.path) for r in results) if t is not None]
    return WriteOutcome(results, tracks, settled=settled)
