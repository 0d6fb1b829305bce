"""The one analysis driver of the window and the CLI: files through the batch seam, results
handed to the library session as they arrive. Qt-free.

:func:`analyse_tracks` maps the workspace's analysis description (``AnalysisSpec``) over files
through an :class:`~genre_desktop.app.executors.Executor` (this thread, worker processes or a
Dask cluster; ``inference.batch.analyse_batch``), caches each file's vectors (training never
decodes a track again) and passes each prediction to ``deliver``: the session's ``add_result``
in the CLI; in the window, the job's ``item``, which hands it to the session on the main thread.
The session saves what it is given (with the analysed-file mark), so a killed run loses at most
one unsaved batch and the next run takes only the tracks still waiting (``needs_analysis``).

Only the process that owns the store writes it: the workers, local or on a cluster, only return
results. A cluster's workers see the files under the mapped path (``PathMap``); results come
back with the library's paths.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from genre_desktop.app.executors import Executor, PathMap
from genre_desktop.app.workflow import noted_error, scan_note
from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.core.prediction import Prediction


@dataclass
class RunSummary:
    """An analysis run so far (``done`` of ``total``), or as it ended."""

    total: int = 0
    done: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    noted: list[tuple[str, str]] = field(default_factory=list)  # analysed files with a scan note (truncated...)
    elapsed: float = 0.0
    cancelled: bool = False
    path: str = ""  # the file that finished last

    @property
    def rate(self) -> float:
        """Files per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the current rate (None before the first file)."""
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    @property
    def left(self) -> int:
        return self.total - self.done


class AnalyzerProvider:
    """Builds the workspace's analyzer once per analysis description, in the thread that first
    needs it, for analyses in this process (one file, or a test's stand-in ``factory``: worker
    processes cannot use a factory). The description follows the settings and the active user
    model (``Workspace.analysis_spec``)."""

    def __init__(self, workspace, factory: Callable[..., Any] | None = None) -> None:
        self._workspace = workspace
        self._factory = factory
        self._lock = threading.Lock()
        self._key: Any = None
        self._analyzer: Any = None

    def active_user_model(self) -> str | None:
        """The active user model's version (None: the bundled models alone)."""
        return self._workspace.active_user_model()

    @property
    def has_factory(self) -> bool:
        """Analyzers come from a given factory (a stand-in), which worker processes cannot use."""
        return self._factory is not None

    def spec(self):
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


def inline_executor() -> Executor:
    """This thread as the executor (one file, or an analyzer built here)."""
    from genre_desktop.inference.batch import InlineExecutor

    return Executor(InlineExecutor(), 1, kind="inline")


def analyse_tracks(spec, paths: Iterable[str], runner: Executor, deliver: Callable[[Prediction], Any],
                   cancel: CancelToken = NEVER, *, path_map: PathMap | None = None, analyzer: Any = None,
                   progress: Callable[[RunSummary], Any] | None = None,
                   notes: Mapping[str, str] | None = None) -> RunSummary:
    """Analyse ``paths`` with ``spec`` through ``runner``; every prediction goes to ``deliver``.

    ``notes``: the scan's note per path, where it left one ("truncated MP3: ..."): such files are
    counted in ``summary.noted`` and a failure's reason keeps the note in front (``noted_error``).

    ``analyzer``: an analyzer built in this thread, for an inline runner (its vector cache is used).
    ``progress(summary)`` after each file. Ends early on cancel (``summary.cancelled``)."""
    from genre_desktop.inference.batch import analyse_batch, cache_vectors

    path_map = path_map or PathMap()
    if runner.workers > 1 and spec.threads == 0:
        spec = spec.with_(threads=1)  # one onnxruntime thread per worker: the workers are the parallelism
    cache = getattr(analyzer, "vector_cache", None) if analyzer is not None else spec.vector_cache()
    if runner.kind == "cluster":
        # Folders as the workers see them; their vector cache is not ours (we store the vectors).
        spec = spec.with_(vector_cache_dir=None, user_model_dir=path_map.to_remote(spec.user_model_dir)
                          if spec.user_model_dir else None)
    paths = list(paths)
    summary = RunSummary(total=len(paths))
    start = time.monotonic()
    try:
        for result in analyse_batch(spec, [path_map.to_remote(p) for p in paths], runner.executor, cancel,
                                    analyzer=analyzer, in_flight=runner.in_flight, respawn=runner.respawn,
                                    task_token=runner.task_token):
            result = _local(result, path_map)
            cache_vectors(result, cache)
            prediction = result.prediction
            summary.done += 1
            summary.path = result.path
            note = (notes or {}).get(result.path)
            if note:
                summary.noted.append((result.path, note))
            if prediction.error:
                summary.errors.append((result.path, noted_error(note, prediction.error)))
            summary.elapsed = time.monotonic() - start
            deliver(prediction)
            if progress is not None:
                progress(summary)
    finally:
        summary.cancelled = cancel.cancelled
        summary.elapsed = time.monotonic() - start
    return summary


def _local(result, path_map: PathMap):
    """A result from workers that saw the file under another path, with the library's path."""
    if not path_map:
        return result
    local = path_map.to_local(result.path)
    result.path = local
    if result.analysis is not None:
        analysis = result.analysis
        key = analysis.key
        if key is not None:
            key = dataclasses.replace(key, path=local)
        result.analysis = analysis._replace(prediction=dataclasses.replace(analysis.prediction, path=local), key=key)
    return result


def scan_notes(tracks: Iterable) -> dict[str, str]:
    """path -> the note the scan left on it, for the tracks that carry one (``notes`` above)."""
    return {t.path: note for t in tracks if (note := scan_note(t))}


def analyse_into_session(session, tracks: Iterable, runner: Executor, cancel: CancelToken = NEVER, *,
                         path_map: PathMap | None = None, batch_size: int = 25, save_every: float = 5.0,
                         progress: Callable[[RunSummary], Any] | None = None) -> RunSummary:
    """The headless run (the CLI's ``analyze``): :func:`analyse_tracks` into ``session``, saved every
    ``batch_size`` results or ``save_every`` seconds, whichever comes first, and at the end (also
    after a cancel or Ctrl-C: what arrived is kept)."""
    last_save = time.monotonic()

    def deliver(prediction: Prediction) -> None:
        nonlocal last_save
        session.add_result(prediction)
        if session.unsaved >= batch_size or time.monotonic() - last_save >= save_every:
            session.flush()
            last_save = time.monotonic()

    tracks = list(tracks)
    try:
        return analyse_tracks(session.workspace.analysis_spec(), [t.path for t in tracks], runner, deliver, cancel,
                              path_map=path_map, progress=progress, notes=scan_notes(tracks))
    finally:
        session.flush()
