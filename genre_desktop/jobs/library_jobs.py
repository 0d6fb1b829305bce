"""The library session's long work on the job runner: open, scan, analyse, save, watch, spectrograms.

The window's face of :class:`~genre_desktop.app.session.LibrarySession`: this module decides the
threads, the session decides everything else. Every store write and every tag write goes
through the runner's one serial writer (the session's ``writer``: :meth:`LibraryJobs.writer`), so
a review decision made while an analysis or a scan runs is never lost, interleaved, or kept
waiting for the whole scan. The walk of a scan and the analysis run on the pool; their results
reach the session on the main thread (``on_item``). Saves are batched (one flush a second after
the first unsaved change), and the store is watched for other processes' writes every
``POLL_INTERVAL_MS`` (a ``stat`` per store file; only rewritten shards are read). The domain
modules are imported lazily: they are heavy (librosa, onnxruntime) and the window must open
without them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from genre_desktop.app.analysis import AnalyzerProvider, RunSummary, analyse_tracks, inline_executor, scan_notes
from genre_desktop.app.session import LibrarySession
from genre_desktop.app.workflow import under_root
from genre_desktop.app.workspace import Workspace
from genre_desktop.core.track import Track
from genre_desktop.jobs.runner import Job, JobHandle, JobRunner, drive
from genre_desktop.jobs.session_signals import SessionSignals

_KINDS = {"load": Job.LOAD, "save": Job.SAVE, "watch": Job.WATCH, "write": Job.WRITE_TAGS, "undo": Job.UNDO,
          "restore": Job.RESTORE}


@dataclass
class OpenResult:
    root: str | None
    tracks: list[Track]
    summary: Any = None  # the scanner's ScanSummary when a scan ran


class LibraryJobs(QObject):
    """The window's single entry point to background work on one library session."""

    SAVE_INTERVAL_MS = 1000
    POLL_INTERVAL_MS = 2000

    def __init__(self, runner: JobRunner, workspace: Workspace, analyzer_provider: AnalyzerProvider | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.workspace = workspace
        self.analyzers = analyzer_provider or AnalyzerProvider(workspace)
        self.spectrogram_cache_dir = workspace.spectrogram_cache_dir
        self.session = LibrarySession(workspace, writer=self.writer)
        self.signals = SessionSignals(self.session, self)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(self.SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self.flush_pending)
        self.signals.unsaved.connect(self._on_unsaved)
        self._poll_timer = QTimer(self)
        self._poll_timer.setInterval(self.POLL_INTERVAL_MS)
        self._poll_timer.timeout.connect(self.poll)
        self._polling = False

    @property
    def store(self) -> Any:
        """The workspace's store (None until ``open_store`` finished)."""
        return self.workspace.store

    @property
    def journal_path(self):
        return self.workspace.journal_path

    def writer(self, work: Callable[[], Any], done: Callable[[Any], Any] | None = None,
               failed: Callable[[str], Any] | None = None, kind: str = "save") -> JobHandle:
        """The session's writer: ``work`` on the serial writer thread, ``done``/``failed`` back here."""
        return self.runner.submit(lambda job: work(), name=_KINDS.get(kind, Job.SAVE), serial=True,
                                  on_finished=done, on_failed=failed)

    # -- opening and scanning ------------------------------------------------------------------
    def open_store(self, path: Any = None, **callbacks) -> JobHandle:
        """Open the store on the writer thread (a 100,000-track store takes seconds to read): the
        window is on screen meanwhile. Finishes with the Store, which also becomes the workspace's;
        from then on the store is watched for other processes' writes."""

        def work(job):
            from genre_desktop.library.store import Store

            if path is not None:
                self.workspace.store_path = path  # and so its journal
            self.workspace.store = Store.open(self.workspace.store_path)
            return self.workspace.store

        handle = self.runner.submit(work, name=Job.OPEN_STORE, serial=True, **callbacks)
        handle.finished.connect(lambda _store: self.watch(True))
        return handle

    def scan(self, root: str, partial_every: float = 2.0, batch_size: int = 500, **callbacks) -> JobHandle:
        """Scan ``root`` incrementally: the walk and the tag reading on the pool, each batch of
        ``batch_size`` tracks stored through the serial writer (the session's scan merge), so saves
        and tag writes the user makes meanwhile run between two batches instead of after the scan.

        Every ``partial_every`` seconds the tracks stored since are reported (``on_item`` gets a
        list of Tracks), so a first scan of a big folder fills the table as it goes.
        """
        runner, store = self.runner, self.store
        saver = self.session.scan_saver()

        def work(job):
            from genre_desktop.library.scanner import scan

            seen = {p for p in store.paths() if under_root(p, root)}
            last = time.monotonic()

            def partial(_progress) -> None:
                nonlocal last
                if time.monotonic() - last >= partial_every:
                    last = time.monotonic()
                    fresh = [p for p in store.paths() if p not in seen and under_root(p, root)]
                    if fresh:
                        seen.update(fresh)
                        job.item([t for t in map(store.get, fresh) if t is not None])

            # The scanner watches the token itself and returns a partial summary when cancelled.
            summary = drive(scan(root, store, job.token, batch_size=batch_size,
                                 save=lambda tracks: runner.call_serial(lambda: saver(tracks))),
                            job, check_cancel=False, after_each=partial)
            return OpenResult(root, [t for t in store.all() if under_root(t.path, root)], summary)

        return self.runner.submit(work, name=Job.SCAN, key="scan", **callbacks)

    # -- analysis ------------------------------------------------------------------------------
    def analyze(self, tracks: list[Track], **callbacks) -> JobHandle:
        """Analyse ``tracks`` in the background; each result goes to the session (shown at once,
        saved within a second), also before the caller's own ``on_item``."""
        paths = list(dict.fromkeys(t.path for t in tracks))
        session = self.session
        session.merge([t for t in tracks if t.path not in session])  # results land on tracks the session holds
        provider = self.analyzers
        notes = scan_notes(t for t in map(session.track, paths) if t is not None)  # read here, not in the worker
        return self._submit_results(lambda job: self._analyse(paths, provider, job, notes), callbacks)

    def rescore(self, tracks: list[Track], **callbacks) -> JobHandle:
        """Re-score the analysed ``tracks`` with the model now active from their cached vectors
        (``training.rescore``: seconds, no decoding); each new prediction goes to the session as an
        analysis result does. The summary names the tracks without cached vectors (to analyse)."""
        from types import SimpleNamespace

        from genre_desktop.training.rescore import analysed, rescore

        todo = [SimpleNamespace(path=t.path, prediction=t.prediction) for t in analysed(tracks)]  # read here, once
        provider = self.analyzers
        return self._submit_results(lambda job: rescore(provider.get(), todo, job.item, job.progress, job.token),
                                    callbacks)

    def _submit_results(self, work, callbacks: dict) -> JobHandle:
        """Run ``work`` as the analysis job: each prediction it yields goes to the session before the
        caller's own ``on_item``; the save buffer is flushed when it ends, before the caller's ``on_done``."""
        session = self.session
        user_item = callbacks.pop("on_item", None)
        user_done = callbacks.pop("on_done", None)

        def item(prediction) -> None:
            session.add_result(prediction)
            if user_item is not None:
                user_item(prediction)

        def done() -> None:
            self.flush_pending()
            if user_done is not None:
                user_done()

        return self.runner.submit(work, name=Job.ANALYSIS, key="analysis", on_item=item, on_done=done, **callbacks)

    def _analyse(self, paths: list[str], provider: AnalyzerProvider, job, notes: dict[str, str] | None = None) -> RunSummary:
        """The one analysis driver on the worker processes the settings ask for (``analysis_workers``,
        0: every core; spawned, never forked next to Qt); one file, or a test's stand-in analyzer,
        is analysed in this thread. A cancel terminates the workers at once."""
        from genre_desktop.app.executors import default_workers, open_executor

        workers = min(self.workspace.settings.analysis_workers or default_workers(), len(paths))
        inline = workers <= 1 or provider.has_factory
        runner = inline_executor() if inline else open_executor(workers)
        try:
            summary = analyse_tracks(provider.spec(), paths, runner, job.item, job.token,
                                     analyzer=provider.get() if inline else None, progress=job.progress,
                                     notes=notes)
        finally:
            runner.close(cancelled=job.token.cancelled)
        job.token.raise_if_cancelled()
        return summary

    # -- saving and watching -------------------------------------------------------------------
    def _on_unsaved(self) -> None:
        if self.runner.synchronous:
            self.flush_pending()
        elif not self._save_timer.isActive():
            self._save_timer.start()

    def flush_pending(self) -> JobHandle | None:
        """Save every change the session holds now, in one store batch on the writer thread."""
        self._save_timer.stop()
        return self.session.flush()

    def watch(self, on: bool = True) -> None:
        """Look for other processes' writes to the store every ``POLL_INTERVAL_MS`` (or stop)."""
        if on and not self.runner.synchronous:
            self._poll_timer.start()
        else:
            self._poll_timer.stop()

    def poll(self) -> JobHandle | None:
        """One look at the store for other processes' writes (skipped while one is in flight)."""
        if self._polling or self.store is None:
            return None
        self._polling = True
        handle = self.session.poll()
        if handle is None:
            self._polling = False
        else:
            handle.done.connect(self._polled)
        return handle

    def _polled(self) -> None:
        self._polling = False

    def shutdown(self) -> None:
        """Stop the timers and save what waits (the runner finishes the queued writes)."""
        self.watch(False)
        self.flush_pending()

    # -- spectrograms ----------------------------------------------------------------------------
    def spectrogram(self, path: str, max_seconds: float = 1800.0, **callbacks) -> JobHandle:
        """The mel spectrogram of (the first ``max_seconds`` of) ``path``, cached on disk.

        Keyed: selecting another track supersedes this one, whose result is then dropped.
        Finishes with (path, MelSpectrogram or None, reason or None): an undecodable file is an
        expected outcome shown to the user, not a job failure.
        """
        cache_dir = self.spectrogram_cache_dir

        def work(job):
            from genre_desktop.features.mel import SpectrogramCache, mel_spectrogram

            cache = SpectrogramCache(cache_dir)
            mel = cache.get(path)
            if mel is None:
                from genre_desktop.audio import DecodeError, decode

                job.token.raise_if_cancelled()
                try:
                    samples = decode(path, sr=22050, duration=max_seconds)
                except DecodeError as exc:
                    return path, None, exc.reason
                job.token.raise_if_cancelled()
                mel = mel_spectrogram(samples, sr=22050)
                cache.put(path, mel)
            return path, mel, None

        return self.runner.submit(work, name=Job.SPECTROGRAM, key="spectrogram", **callbacks)
