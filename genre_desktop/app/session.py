"""The library session: one open library's state and rules, under both faces. Qt-free.

After napari's evented models (``components/viewer_model.py``): the session owns the tracks in
memory, the review decisions and their undo, the save buffer, the scan merge, the analysis results
and the write plan; it changes its state, then emits an event, and views subscribe. The window's
table, review queue and write preview are views of it (a thin Qt adapter in ``jobs/`` turns its
events into Qt signals); the CLI drives the same session without a window.

Threads: the session's memory belongs to one thread, its *owner* (the window's main thread, the
CLI's only thread): call its methods there. Store and file work is handed to ``writer`` (the CLI:
inline; the window: its one serial writer thread, ``LibraryJobs.writer``) as plain functions of
:mod:`genre_desktop.app.session_store`, whose results come back to the owner. So the session
never waits for the disk in the window, and both faces run the same rules.

Events (``session.events.<name>``; each callback gets one Event with these attributes):

- ``reset(tracks)``: every track replaced (a library opened or reloaded);
- ``changed(tracks)``: these tracks changed or were added (by path; the objects the session holds);
- ``removed(paths)``: these tracks left the library (another process purged them);
- ``decisions(can_undo, counts)``: a decision was made or undone; ``counts``: decisions of this
  session by status;
- ``problems(added)``: (path, reason) pairs added to ``session.problems``;
- ``external(changed, removed)``: how many tracks another process changed (already applied);
- ``store_lost(message)``: the store's files were deleted under the open library; its tracks are
  still in memory (:meth:`restore_store` writes them back, :meth:`discard_store` lets them go);
- ``unsaved()``: the save buffer went from empty to not empty (the window saves within a second).

Interfaces for later work:

- A decision is :class:`~genre_desktop.app.review.Decision` (a path and the Track fields it sets),
  not a genre: choosing a style, or any other field, goes through :meth:`decide` and its undo
  unchanged.
- A write plan is :class:`~genre_desktop.app.plan.WritePlan`; a further tag field or a note about
  a file is an entry of ``PlannedChange.fields`` / ``PlannedChange.notes`` (see ``app/plan.py``).
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Callable, Iterable

from genre_desktop.app import session_store as io
from genre_desktop.app.events import EmitterGroup
from genre_desktop.app.plan import WritePlan, add_form_notes, plan_write
from genre_desktop.app.review import Decision
from genre_desktop.app.workflow import apply_fields, prediction_fields, under_root
from genre_desktop.core.prediction import Prediction
from genre_desktop.core.track import Track
from genre_desktop.library.store import StoreLost
from genre_desktop.settings import Settings

log = logging.getLogger(__name__)

Writer = Callable[..., Any]  # writer(work, done=None, failed=None, kind="save"): run work(), then done(result)


def inline_writer(work: Callable[[], Any], done: Callable[[Any], Any] | None = None,
                  failed: Callable[[str], Any] | None = None, kind: str = "save") -> Any:
    """The CLI's writer: the work runs now, in the calling thread (its exceptions propagate)."""
    result = work()
    if done is not None:
        done(result)
    return result


class LibrarySession:
    """One open library (``workspace.store``) under ``root`` (None: every track of the store)."""

    EVENTS = ("reset", "changed", "removed", "decisions", "problems", "external", "store_lost", "unsaved")

    def __init__(self, workspace, writer: Writer | None = None) -> None:
        self.workspace = workspace
        self.writer: Writer = writer or inline_writer
        self.events = EmitterGroup(self, *self.EVENTS)
        self.root: str | None = None
        self.problems: list[tuple[str, str]] = []
        self._tracks: dict[str, Track] = {}
        self._undo: list[list[tuple[str, dict[str, Any], dict[str, Any]]]] = []  # per decision: (path, before, after)
        self._unsaved: dict[str, dict[str, Any]] = {}
        self.lost: str | None = None  # why the store is unusable (its files were deleted), else None
        self._form_notes: dict[tuple, list[str]] = {}  # the preview's notes per file signature (plan)

    # ------------------------------------------------------------------ tracks
    def tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def track(self, path: str) -> Track | None:
        return self._tracks.get(path)

    def __len__(self) -> int:
        return len(self._tracks)

    def __contains__(self, path: object) -> bool:
        return path in self._tracks

    def open(self, root: str | None, done: Callable[[list[Track]], Any] | None = None) -> Any:
        """Show what the store holds under ``root`` (no disk walk; the writer reads the store)."""
        store = self.workspace.store
        return self.writer(lambda: io.load_tracks(store, root),
                           lambda tracks: (self.set_tracks(tracks, root), done and done(tracks)), kind="load")

    def set_tracks(self, tracks: Iterable[Track], root: str | None | bool = False) -> None:
        """Replace every track (``root``: the folder they come from, if it changes)."""
        if root is not False:
            self.root = root  # type: ignore[assignment]
        self._tracks = {t.path: t for t in tracks}
        for path, fields in self._unsaved.items():  # what is not saved yet outlives a reload
            if path in self._tracks:
                apply_fields(self._tracks[path], fields)
        self.events.reset(tracks=self.tracks())

    def merge(self, tracks: Iterable[Track]) -> list[Track]:
        """Take in tracks as stored now (a scan, another process, a write): replaced by path, new
        ones added (under the root), this session's unsaved changes kept on top."""
        out = []
        for track in tracks:
            if not under_root(track.path, self.root):
                continue
            unsaved = self._unsaved.get(track.path)
            if unsaved:
                apply_fields(track, unsaved)
            self._tracks[track.path] = track
            out.append(track)
        if out:
            self.events.changed(tracks=out)
        return out

    def forget(self, paths: Iterable[str]) -> list[str]:
        """Tracks that left the library (purged by another process)."""
        gone = [p for p in paths if self._tracks.pop(p, None) is not None]
        for path in gone:
            self._unsaved.pop(path, None)
        if gone:
            self.events.removed(paths=gone)
        return gone

    def add_problems(self, problems: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """Record (path, reason) pairs for the problems list (one per path; a reason that carries the
        known one further, "truncated MP3: ...; analysis: ...", replaces it)."""
        known = {p: i for i, (p, _) in enumerate(self.problems)}
        added = []
        for path, reason in problems:
            if path in known:
                i = known[path]
                if i < len(self.problems) and reason != self.problems[i][1] and reason.startswith(self.problems[i][1]):
                    self.problems[i] = (path, reason)
            else:
                known[path] = len(self.problems) + len(added)
                added.append((path, reason))
        if added:
            self.problems.extend(added)
            self.events.problems(added=added)
        return added

    # ------------------------------------------------------------------ changing tracks
    def _change(self, updates: dict[str, dict[str, Any]]) -> list[Track]:
        """Apply field updates in memory, queue them for the store, emit ``changed``."""
        changed = []
        was_clean = not self._unsaved
        for path, fields in updates.items():
            track = self._tracks.get(path)
            if track is None:
                continue
            apply_fields(track, fields)
            buffered = self._unsaved.setdefault(path, {})
            for name, value in fields.items():
                buffered[name] = {**buffered.get("extra", {}), **value} if name == "extra" else value
            changed.append(track)
        if changed:
            self.events.changed(tracks=changed)
            if was_clean:
                self.events.unsaved()
        return changed

    def add_result(self, prediction: Prediction) -> Track | None:
        """An analysis result: the track's prediction and status (a decision outlives it), and the
        mark of the file as analysed; saved with the next flush."""
        track = self._tracks.get(prediction.path)
        if track is None:
            return None
        self._change({track.path: prediction_fields(track, prediction)})
        if prediction.error:  # with the scan's note in front, if any ("truncated MP3: ...; analysis: ...")
            self.add_problems([(prediction.path, track.error or prediction.error)])
        return track

    # ------------------------------------------------------------------ decisions
    def decide(self, decisions: Iterable[Decision]) -> list[Track]:
        """Record decisions (one undo step for all of them); returns the tracks changed."""
        step, updates = [], {}
        for d in decisions:
            track = self._tracks.get(d.path)
            if track is None or d.path in updates:
                continue
            before = {name: copy.deepcopy(getattr(track, name)) for name in d.fields}
            step.append((d.path, before, dict(d.fields)))
            updates[d.path] = dict(d.fields)
        if not step:
            return []
        self._undo.append(step)
        changed = self._change(updates)
        self._emit_decisions()
        return changed

    def undo_decision(self) -> list[str]:
        """Take the last decision step back; returns its paths (first decided first)."""
        if not self._undo:
            return []
        step = self._undo.pop()
        self._change({path: before for path, before, _ in step})
        self._emit_decisions()
        return [path for path, _, _ in step]

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def last_step(self) -> int:
        """How many tracks the last decision step (not undone) decided."""
        return len(self._undo[-1]) if self._undo else 0

    def decision_counts(self) -> dict[str, int]:
        """Decisions made (and not undone) in this session, by the status they set."""
        counts: dict[str, int] = {}
        for step in self._undo:
            for _, _, after in step:
                status = str(after.get("status", ""))
                counts[status] = counts.get(status, 0) + 1
        return counts

    def _emit_decisions(self) -> None:
        self.events.decisions(can_undo=self.can_undo, counts=self.decision_counts())

    # ------------------------------------------------------------------ saving
    @property
    def unsaved(self) -> int:
        return len(self._unsaved)

    def flush(self, done: Callable[[list[Track]], Any] | None = None) -> Any:
        """Save what changed (one store batch, on the writer)."""
        if not self._unsaved or self.lost:
            return None
        updates, self._unsaved = self._unsaved, {}
        store = self.workspace.store
        return self.writer(lambda: io.save_fields(store, updates), done,
                           lambda error: self._save_failed(updates, error), kind="save")

    def _save_failed(self, updates: dict[str, dict[str, Any]], error: str) -> None:
        """A save that did not reach the store: keep it for the next one (nothing is lost)."""
        for path, fields in updates.items():
            self._unsaved[path] = {**fields, **self._unsaved.get(path, {})}
        log.warning("saving the library failed: %s", error)

    # ------------------------------------------------------------------ scans
    def scan_saver(self) -> Callable[[list[Track]], None]:
        """What the scanner stores each batch with (on the writer): merged onto the stored records."""
        store = self.workspace.store
        return lambda tracks: io.save_scanned(store, tracks)

    # ------------------------------------------------------------------ other processes
    def poll(self, done: Callable[[Any], Any] | None = None) -> Any:
        """Take in what other processes wrote to the store since it was last read: a ``stat`` of
        each store file, and only the rewritten ones are read (on the writer)."""
        store = self.workspace.store
        if store is None or self.lost:
            return None

        def work():
            try:
                return store.refresh() if store.changed_on_disk() else None
            except StoreLost as exc:
                return exc

        return self.writer(work, lambda changes: (self.apply_external(changes), done and done(changes)), kind="watch")

    def apply_external(self, changes: Any) -> None:
        """Apply a ``StoreChanges`` (or a ``StoreLost``) from :meth:`poll`."""
        if isinstance(changes, StoreLost):
            self.lost = str(changes)
            self.events.store_lost(message=self.lost)
            return
        if not changes:
            return
        merged = self.merge(changes.changed)
        gone = self.forget(changes.removed)
        if merged or gone:
            self.events.external(changed=len(merged), removed=len(gone))

    def restore_store(self, done: Callable[[Any], Any] | None = None) -> Any:
        """Write the deleted store again from memory, then save what waited."""
        store = self.workspace.store

        def restored(_result) -> None:
            self.lost = None
            self.flush()
            if done is not None:
                done(_result)

        return self.writer(store.restore, restored, kind="restore")

    def discard_store(self) -> None:
        """Let a deleted store go: close it without writing; the session is emptied."""
        store, self.workspace.store = self.workspace.store, None
        if store is not None:
            self.writer(lambda: store.close(save=False), kind="save")
        self._unsaved.clear()
        self._undo.clear()
        self.lost = None
        self.set_tracks([], None)

    # ------------------------------------------------------------------ writing
    def plan(self, settings: Settings | None = None, *, notes: bool = True) -> WritePlan:
        """The write plan over this session's tracks under ``settings`` (default: the current ones);
        ``notes``: each MP3/WAV/AIFF change says what the write does to the file's form (its ID3
        version, a WAV's INFO list), read from the file once per signature and options."""
        settings = settings or self.workspace.settings
        plan = plan_write(self._tracks.values(), settings)
        if notes:
            forms = {c.path: (t.format, t.size, t.mtime) for c in plan.changes if (t := self._tracks.get(c.path))}
            add_form_notes(plan, self.workspace.write_options(settings=settings), forms, self._form_notes)
        return plan

    def write(self, plan: WritePlan, settings: Settings | None = None, options: Any = None, *,
              check: bool = True, journal_path: Any = None, done: Callable[[Any], Any] | None = None,
              failed: Callable[[str], Any] | None = None) -> Any:
        """Save pending decisions, then (on the writer) check ``plan`` against the store and the
        files (``check``) and write it; a stale plan is not written: ``done`` gets a
        ``WriteOutcome`` whose ``stale`` says why, after the session has taken in the tracks as
        they are now. Without the check (the CLI, whose plan is made from the store a moment
        before) each file is still checked by the tag service (changed on disk: refused)."""
        self.flush()
        ws, root = self.workspace, self.root
        settings = settings or ws.settings
        return self.writer(lambda: io.write_plan(ws, plan, settings, root, options, check, journal_path),
                           lambda outcome: (self.apply_written(outcome), done and done(outcome)), failed, kind="write")

    def undo_write(self, options: Any = None, *, last: int = 1, all: bool = False,  # noqa: A002
                   journal_path: Any = None, genre_level: bool = False, done: Callable[[Any], Any] | None = None,
                   failed: Callable[[str], Any] | None = None) -> Any:
        """Undo the last ``last`` write batches (or ``all``) from the journal (on the writer);
        ``genre_level``: see ``TagService.undo``."""
        ws = self.workspace
        return self.writer(lambda: io.undo_writes(ws, options, last, all, journal_path, genre_level),
                           lambda outcome: (self.apply_written(outcome), done and done(outcome)), failed, kind="undo")

    def apply_written(self, outcome: Any) -> None:
        """Take in a write's (or a stale check's) tracks and problems."""
        if outcome.stale is not None:
            self.merge(outcome.stale.tracks)
            self.forget(outcome.stale.removed)
            return
        self.merge(outcome.tracks)
        self.add_problems(outcome.failed)
