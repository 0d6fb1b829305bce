"""The library's long tasks on the job runner: scan, analyse, save decisions, write tags, undo.

The GUI calls these methods and gets plain callbacks on its own thread. Every store write and
every tag write is submitted to the runner's serial writer (``serial=True``), so a review decision
made while an analysis or a scan runs is never lost or interleaved. Analysis results are shown at
once (``on_item``) and saved in batches (one store flush per second, not one per track).
The domain modules are imported lazily: they are heavy (librosa, onnxruntime) and the window must
open without them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer

from genre_desktop.inference.result import Prediction
from genre_desktop.jobs.runner import JobHandle, JobRunner
from genre_desktop.library.track import ERROR, PREDICTED, UNANALYSED, Track
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings

log = logging.getLogger(__name__)


def under_root(path: str, root: str | None) -> bool:
    if not root:
        return True
    root = root.rstrip(os.sep) + os.sep
    return path.startswith(root)


def prediction_fields(track: Track, prediction: Prediction) -> dict[str, Any]:
    """The Track fields one analysis result changes.

    A reviewed track (accepted, corrected, written) keeps its status: re-analysing must not throw
    away the librarian's decision; only the prediction shown next to it is refreshed.
    """
    fields: dict[str, Any] = {"prediction": prediction.to_dict(), "error": prediction.error}
    if track.status in (UNANALYSED, PREDICTED, ERROR):
        fields["status"] = ERROR if prediction.error else PREDICTED
    return fields


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

    def __init__(self, settings: Settings, factory: Callable[..., Any] | None = None) -> None:
        self._settings = settings
        self._factory = factory
        self._lock = threading.Lock()
        self._key: Any = None
        self._analyzer: Any = None

    def active_user_model(self) -> str | None:
        from genre_desktop.inference.user_model import read_active

        return read_active(app_dirs().user_models)

    def spec(self):
        """The analysis as plain values (what a worker process would build its analyzer from)."""
        from genre_desktop.inference.spec import AnalysisSpec

        dirs = app_dirs()
        active = self.active_user_model()
        return AnalysisSpec(user_model_dir=str(dirs.user_models / active) if active else None,
                            vector_cache_dir=str(dirs.feature_cache), n_segments=self._settings.segments,
                            threads=self._settings.cpu_threads)

    def get(self) -> Any:
        spec = self.spec()
        with self._lock:
            if self._analyzer is None or spec != self._key:
                if self._factory is not None:
                    self._analyzer = self._factory(models_dir=None, n_segments=spec.n_segments, threads=spec.threads)
                else:
                    self._analyzer = spec.build()  # onnxruntime: imported lazily there
                self._key = spec
            return self._analyzer


def analyse_paths(paths: list[str], provider: AnalyzerProvider, job, executor=None) -> AnalysisSummary:
    """Work function: analyse each path, reporting each Prediction and the progress.

    ``executor``: where the files are analysed (``inference.batch``); by default in this thread,
    with the provider's analyzer. The vectors come back with each result and are cached here."""
    from genre_desktop.inference.batch import InlineExecutor, analyse_batch

    spec = provider.spec()
    analyzer = provider.get() if executor is None else None
    cache = getattr(analyzer, "vector_cache", None) if analyzer is not None else spec.vector_cache()
    start = time.monotonic()
    summary = AnalysisSummary(done=0, total=len(paths))
    for result in analyse_batch(spec, paths, executor or InlineExecutor(), job.token, analyzer=analyzer):
        if result.analysis is not None:
            try:
                result.analysis.store(cache)
            except OSError as exc:  # a full disk must not stop the analysis; training recomputes
                log.warning("cannot cache the vectors of %s: %s", result.path, exc)
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
        store: Any,
        settings: Settings,
        analyzer_provider: AnalyzerProvider | None = None,
        journal_path: Path | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.store = store
        self.settings = settings
        self.analyzers = analyzer_provider or AnalyzerProvider(settings)
        self.journal_path = journal_path or app_dirs().journal_path
        self.spectrogram_cache_dir = app_dirs().cache / "spectrograms"
        self._pending: dict[str, dict[str, Any]] = {}
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(self.SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self.flush_pending)

    # -- opening and scanning ------------------------------------------------------------------
    def open_store(self, path: Path, **callbacks) -> JobHandle:
        """Open the store on the writer thread (a 100,000-track store takes seconds to read): the
        window is on screen meanwhile. Finishes with the Store, which also becomes ``self.store``."""

        def work(job):
            from genre_desktop.library.store import Store

            self.store = Store.open(path)
            return self.store

        return self.runner.submit(work, name="open-store", serial=True, **callbacks)

    def load(self, root: str | None, **callbacks) -> JobHandle:
        """The tracks already in the store under ``root`` (no disk walk): opens instantly."""
        def work(job):  # self.store is read here, on the writer: after a pending open_store
            return OpenResult(root, [t for t in self.store.all() if under_root(t.path, root)])

        return self.runner.submit(work, name="load", serial=True, **callbacks)

    def scan(self, root: str, partial_every: float = 2.0, batch_size: int = 500, **callbacks) -> JobHandle:
        """Scan ``root`` incrementally (on the writer thread: the scanner writes the store).

        Every ``partial_every`` seconds the tracks stored since are reported (``on_item`` gets a
        list of Tracks), so a first scan of a big folder fills the table as it goes; the scanner
        stores ``batch_size`` tracks at a time, so they arrive in chunks of that size.
        """

        def work(job):
            from genre_desktop.library.scanner import scan

            store = self.store
            seen = {p for p in store.paths() if under_root(p, root)}
            last = time.monotonic()
            # The scanner watches the token itself and returns a partial summary when cancelled.
            generator = scan(root, store, job.token, batch_size=batch_size)
            while True:
                try:
                    progress = next(generator)
                except StopIteration as stop:
                    summary = stop.value
                    break
                job.progress(progress)
                if time.monotonic() - last >= partial_every:
                    last = time.monotonic()
                    fresh = [p for p in store.paths() if p not in seen and under_root(p, root)]
                    if fresh:
                        seen.update(fresh)
                        job.item([t for t in map(store.get, fresh) if t is not None])
            return OpenResult(root, [t for t in store.all() if under_root(t.path, root)], summary)

        return self.runner.submit(work, name="scan", key="scan", serial=True, **callbacks)

    # -- analysis ------------------------------------------------------------------------------
    def analyse(self, tracks: list[Track], on_item: Callable[[Prediction], None] | None = None, **callbacks) -> JobHandle:
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
            lambda job: analyse_paths(paths, provider, job), name="analysis", key="analysis",
            on_item=item, on_done=done, **callbacks,
        )

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

        return self.runner.submit(work, name="save", serial=True, **callbacks)

    # -- tags ----------------------------------------------------------------------------------
    def _with_tag_service(self, options, action: Callable[[Any], list[Any]]):
        """Run ``action(TagService)`` with a journal opened for this batch only (closed after)."""
        from genre_desktop.library.journal import Journal
        from genre_desktop.library.tag_service import TagService

        with Journal(self.journal_path) as journal:
            service = TagService(self.store, journal, options)
            if journal.pending():  # the app or a CLI run was killed mid-write: settle from the files
                settled = service.recover()
                if settled:
                    log.info("settled %d interrupted tag write(s) from an earlier run", len(settled))
            results = action(service)
        return results, [t for t in (self.store.get(r.path) for r in results) if t is not None]

    def write_tags(self, changes: dict[str, list[str]], options, **callbacks) -> JobHandle:
        """Write genres through the journaled TagService; finishes with (results, updated tracks)."""
        self.flush_pending()  # decisions made before the write land first
        return self.runner.submit(lambda job: self._with_tag_service(options, lambda s: s.write(changes)),
                                  name="write-tags", serial=True, **callbacks)

    def undo_last_write(self, options, **callbacks) -> JobHandle:
        """Undo the last write batch; finishes with (results, updated tracks)."""
        return self.runner.submit(lambda job: self._with_tag_service(options, lambda s: s.undo(last=1)),
                                  name="undo", serial=True, **callbacks)

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

        return self.runner.submit(work, name="spectrogram", key="spectrogram", **callbacks)
