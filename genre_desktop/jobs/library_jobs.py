"""The library's long tasks on the job runner: scan, analyze, save decisions, write tags, undo.

The GUI calls these methods and gets plain callbacks on its own thread. Every store write and
every tag write goes through the runner's serial writer (``serial=True``, or ``call_serial`` for
a scan's batches: the walk itself runs on the pool), so a review decision made while an analysis
or a scan runs is never lost, interleaved, or kept waiting for the whole scan. Analysis results are shown at
once (``on_item``) and saved in batches (one store flush per second, not one per track).
The domain modules are imported lazily: they are heavy (librosa, onnxruntime) and the window must
open without them.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from genre_desktop.app.workflow import merge_scanned, prediction_fields, under_root
from genre_desktop.app.workspace import Workspace
from genre_desktop.core.prediction import Prediction
from genre_desktop.core.track import Track
from genre_desktop.jobs.runner import Job, JobHandle, JobRunner, drive

log = logging.getLogger(__name__)


@dataclass
class AnalysisProgress:
    done: int
    total: int
    errors: int
    path: str
    elapsed: float

    @property
    def rate(self) -> float:
        """Files per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (None before the first file)."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None


@dataclass
class AnalysisSummary:
    done: int
    total: int
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    elapsed: float = 0.0


@dataclass
class OpenResult:
    root: str | None
    tracks: list[Track]
    summary: Any = None  # the scanner's ScanSummary when a scan ran


class AnalyzerProvider:
    """Describes the analysis (an ``AnalysisSpec``) and builds its Analyzer once per description, on
    the worker thread that first needs it.

    The active user model is the one the registry names (``user_models/active.json``, written by
    the training wizard, the settings dialog and ``genre-desktop-cli models activate``): one
    source of truth for the GUI and the CLI. Analyses return each file's vectors, which
    :func:`analyse_paths` stores in the feature cache so that training never decodes a track again.
    """

    def __init__(self, workspace: Workspace, factory: Callable[..., Any] | None = None) -> None:
        self._workspace = workspace
        self._factory = factory
        self._lock = threading.Lock()
        self._key: Any = None
        self._analyzer: Any = None

    def active_user_model(self) -> str | None:
        return self._workspace.active_user_model()

    @property
    def has_factory(self) -> bool:
        """Analyzers come from a given factory (a stand-in), which worker processes cannot use."""
        return self._factory is not None

    def spec(self):
        """The analysis as plain values (what a worker process builds its analyzer from)."""
        return self._workspace.analysis_spec()

    def get(self) -> Any:
        spec = self.spec()  # frozen: the key itself
        with self._lock:
            if self._analyzer is None or spec != self._key:
                if self._factory is not None:
                    self._analyzer = self._factory(models_dir=None, n_segments=spec.n_segments, threads=spec.threads)
                else:
                    self._analyzer = spec.build()  # onnxruntime: imported lazily there
                self._key = spec
            return self._analyzer


def analyse_paths(paths: list[str], provider: AnalyzerProvider, job, executor=None, *,
                  respawn: Callable[[], Any] | None = None, in_flight: int | None = None) -> AnalysisSummary:
    """Work function: analyse each path, reporting each Prediction and the progress.

    ``executor``: where the files are analysed (``inference.batch``); by default in this thread,
    with the provider's analyzer. The vectors come back with each result and are cached here.
    ``respawn``/``in_flight``: as ``analyse_batch`` (a process pool that breaks is replaced)."""
    from genre_desktop.inference.batch import InlineExecutor, analyse_batch, cache_vectors

    spec = provider.spec()
    analyzer = provider.get() if executor is None else None
    cache = getattr(analyzer, "vector_cache", None) if analyzer is not None else spec.vector_cache()
    if executor is not None and not isinstance(executor, InlineExecutor) and spec.threads == 0:
        spec = spec.with_(threads=1)  # one onnxruntime thread per worker: the workers are the parallelism
    start = time.monotonic()
    summary = AnalysisSummary(done=0, total=len(paths))
    for result in analyse_batch(spec, paths, executor or InlineExecutor(), job.token, analyzer=analyzer,
                                respawn=respawn, in_flight=in_flight):
        cache_vectors(result, cache)
        prediction = result.prediction
        summary.done += 1
        if prediction.error:
            summary.errors.append((result.path, prediction.error))
        job.item(prediction)
        job.progress(AnalysisProgress(summary.done, summary.total, len(summary.errors), result.path,
                                      time.monotonic() - start))
    job.token.raise_if_cancelled()
    summary.elapsed = time.monotonic() - start
    return summary


class LibraryJobs(QObject):
    """The GUI's single entry point to background work on one store."""

    SAVE_INTERVAL_MS = 1000

    def __init__(
        self,
        runner: JobRunner,
        workspace: Workspace,
        analyzer_provider: AnalyzerProvider | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.workspace = workspace
        self.analyzers = analyzer_provider or AnalyzerProvider(workspace)
        self.spectrogram_cache_dir = workspace.spectrogram_cache_dir
        self._pending: dict[str, dict[str, Any]] = {}
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(self.SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self.flush_pending)

    @property
    def store(self) -> Any:
        """The workspace's store (None until ``open_store`` finished)."""
        return self.workspace.store

    @store.setter
    def store(self, store: Any) -> None:
        self.workspace.store = store

    @property
    def journal_path(self):
        return self.workspace.journal_path

    # -- opening and scanning ------------------------------------------------------------------
    def open_store(self, path: Any = None, **callbacks) -> JobHandle:
        """Open the store on the writer thread (a 100,000-track store takes seconds to read): the
        window is on screen meanwhile. Finishes with the Store, which also becomes ``self.store``."""

        def work(job):
            from genre_desktop.library.store import Store

            if path is not None:
                self.workspace.store_path = path  # and so its journal
            self.store = Store.open(self.workspace.store_path)
            return self.store

        return self.runner.submit(work, name=Job.OPEN_STORE, serial=True, **callbacks)

    def load(self, root: str | None, **callbacks) -> JobHandle:
        """The tracks already in the store under ``root`` (no disk walk): opens instantly."""
        def work(job):  # self.store is read here, on the writer: after a pending open_store
            return OpenResult(root, [t for t in self.store.all() if under_root(t.path, root)])

        return self.runner.submit(work, name=Job.LOAD, serial=True, **callbacks)

    def scan(self, root: str, partial_every: float = 2.0, batch_size: int = 500, **callbacks) -> JobHandle:
        """Scan ``root`` incrementally: the walk and the tag reading on the pool, each batch of
        ``batch_size`` tracks stored through the serial writer, so saves and tag writes the user
        makes meanwhile run between two batches instead of after the whole scan.

        Every ``partial_every`` seconds the tracks stored since are reported (``on_item`` gets a
        list of Tracks), so a first scan of a big folder fills the table as it goes.
        """
        runner = self.runner

        def work(job):
            from genre_desktop.library.scanner import scan

            store = _SerialBatches(self.store, runner)
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
            summary = drive(scan(root, store, job.token, batch_size=batch_size), job, check_cancel=False,
                            after_each=partial)
            return OpenResult(root, [t for t in store.all() if under_root(t.path, root)], summary)

        return self.runner.submit(work, name=Job.SCAN, key="scan", **callbacks)

    # -- analysis ------------------------------------------------------------------------------
    def analyze(self, tracks: list[Track], on_item: Callable[[Prediction], None] | None = None, **callbacks) -> JobHandle:
        """Analyse ``tracks`` in the background; each result is shown (``on_item``) and saved."""
        by_path = {t.path: t for t in tracks}
        paths = list(by_path)

        def item(prediction: Prediction) -> None:
            track = by_path.get(prediction.path)
            if track is not None:
                self.queue_save(prediction.path, prediction_fields(track, prediction))
            if on_item is not None:
                on_item(prediction)

        user_done = callbacks.pop("on_done", None)

        def done() -> None:
            self.flush_pending()
            if user_done is not None:
                user_done()

        provider = self.analyzers
        return self.runner.submit(
            lambda job: self._analyse(paths, provider, job), name=Job.ANALYSIS, key="analysis",
            on_item=item, on_done=done, **callbacks,
        )

    def _analyse(self, paths: list[str], provider: AnalyzerProvider, job) -> AnalysisSummary:
        """``analyse_paths`` on the worker processes the settings ask for (``analysis_workers``, 0:
        every core; spawned, never forked next to Qt); one file, or a test's stand-in analyzer, is
        analysed in this thread. A cancel terminates the workers at once."""
        from genre_desktop.app.executors import default_workers, open_executor

        workers = min(self.workspace.settings.analysis_workers or default_workers(), len(paths))
        if workers <= 1 or provider.has_factory:
            return analyse_paths(paths, provider, job)
        pool = open_executor(workers)
        try:
            return analyse_paths(paths, provider, job, pool.executor, respawn=pool.respawn, in_flight=pool.in_flight)
        finally:
            pool.close(cancelled=job.token.cancelled)

    # -- saving --------------------------------------------------------------------------------
    def queue_save(self, path: str, fields: dict[str, Any]) -> None:
        """Remember a change; it is written with the next batch (within a second)."""
        self._pending.setdefault(path, {}).update(fields)
        if self.runner.synchronous:
            self.flush_pending()
        elif not self._save_timer.isActive():
            self._save_timer.start()

    def flush_pending(self, **callbacks) -> JobHandle | None:
        """Write every queued change now, in one store batch on the writer thread."""
        self._save_timer.stop()
        if not self._pending:
            return None
        pending, self._pending = self._pending, {}
        return self.save(pending, **callbacks)

    def save(self, updates: dict[str, dict[str, Any]], **callbacks) -> JobHandle:
        """Apply field updates {path: {field: value}}; finishes with the updated Tracks."""
        def work(job):
            store = self.store
            out = []
            with store.batch():
                for path, fields in updates.items():
                    if store.get(path) is None:
                        log.warning("save: %s is no longer in the library", path)
                        continue
                    out.append(store.update(path, **fields))
            return out

        return self.runner.submit(work, name=Job.SAVE, serial=True, **callbacks)

    # -- tags ----------------------------------------------------------------------------------
    def _with_tag_service(self, options, action: Callable[[Any], list[Any]]):
        """Run ``action(TagService)`` with a journal opened for this batch only (closed after);
        writes a killed run left pending are settled from the files first."""
        with self.workspace.tag_service(options) as (service, _settled):
            results = action(service)
        return results, [t for t in (self.store.get(r.path) for r in results) if t is not None]

    def write_tags(self, changes: dict[str, list[str]], options, **callbacks) -> JobHandle:
        """Write genres through the journaled TagService; finishes with (results, updated tracks)."""
        self.flush_pending()  # decisions made before the write land first
        return self.runner.submit(lambda job: self._with_tag_service(options, lambda s: s.write(changes)),
                                  name=Job.WRITE_TAGS, serial=True, **callbacks)

    def undo_last_write(self, options, genre_level: bool = False, **callbacks) -> JobHandle:
        """Undo the last write batch (``genre_level``: files changed since get their old genres
        back, see TagService.undo); finishes with (results, updated tracks)."""
        return self.runner.submit(
            lambda job: self._with_tag_service(options, lambda s: s.undo(last=1, genre_level=genre_level)),
            name=Job.UNDO, serial=True, **callbacks)

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


class _SerialBatches:
    """The store as a scan running on the pool sees it: reads go straight to the (thread-safe)
    store, each batch of tracks is stored on the serial writer, merged onto the record as it is
    then, so a decision saved between the scan's read and its batch survives (``merge_scanned``)."""

    def __init__(self, store: Any, runner: JobRunner) -> None:
        self._store = store
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def upsert(self, tracks) -> None:
        tracks = list(tracks)
        store = self._store

        def write() -> None:
            store.upsert([merge_scanned(t, store.get(t.path)) for t in tracks])

        self._runner.call_serial(write)
