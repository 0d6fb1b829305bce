"""The headless analysis pipeline: a library's tracks analysed into its store, resumably. Qt-free.

The same rules as the window's background analysis: the batch seam (``inference.batch``), the
workspace's analysis description, ``prediction_fields`` for what a result changes in a track, and
the vectors cached by the caller. Results are streamed into the store as they arrive and saved
in batches (every ``batch_size`` results or ``save_every`` seconds, whichever comes first), so
a killed run loses at most one unsaved batch; the next run takes only the tracks still waiting
(:func:`needs_analysis`). Only this process writes the store, under its lock: the workers (local
processes or a Dask cluster) only return results.

A track counts as changed when the file's size or modification time differs from what it was
when it was analysed (``ANALYSED_KEY``, kept in the track's extra fields).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from genre_desktop.app.executors import Executor, PathMap
from genre_desktop.app.workflow import can_analyze, prediction_fields
from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.core.status import UNANALYSED
from genre_desktop.core.track import Track

log = logging.getLogger(__name__)

ANALYSED_KEY = "analysed_file"  # [size, mtime] of the file as analysed


def signature(track: Track) -> list:
    return [track.size, track.mtime]


def needs_analysis(track: Track, reanalyse: bool = False) -> bool:
    """The file is there and was never analysed, or changed since it was (``reanalyse``: every one)."""
    if not can_analyze(track):
        return False
    if reanalyse or track.status == UNANALYSED:
        return True
    seen = track.extra.get(ANALYSED_KEY)
    return track.prediction is not None and seen is not None and list(seen) != signature(track)


@dataclass
class RunSummary:
    total: int = 0
    done: int = 0
    saved: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0
    cancelled: bool = False

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0


def _save(store, results: dict[str, Any]) -> int:
    """Store a batch of predictions (one flush), each merged onto the track as stored now."""
    saved = 0
    with store.batch():
        for path, prediction in results.items():
            current = store.get(path)
            if current is None:
                log.warning("analysis: %s is no longer in the library", path)
                continue
            for name, value in prediction_fields(current, prediction).items():
                setattr(current, name, value)
            current.extra = {**current.extra, ANALYSED_KEY: signature(current)}
            store.upsert([current])
            saved += 1
    return saved


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


def analyse_into_store(workspace, tracks: Iterable[Track], runner: Executor, cancel: CancelToken = NEVER, *,
                       path_map: PathMap | None = None, batch_size: int = 25, save_every: float = 5.0,
                       on_result: Callable[[Any, RunSummary], None] | None = None) -> RunSummary:
    """Analyse ``tracks`` through ``runner`` into ``workspace.store`` (open), saving in batches."""
    from genre_desktop.inference.batch import analyse_batch, cache_vectors

    path_map = path_map or PathMap()
    store = workspace.store
    spec = workspace.analysis_spec()
    if runner.workers > 1 and spec.threads == 0:
        spec = spec.with_(threads=1)  # one onnxruntime thread per worker: the workers are the parallelism
    cache = spec.vector_cache()
    if runner.kind == "cluster":
        # Folders as the workers see them; their vector cache is not ours (we store the vectors).
        spec = spec.with_(vector_cache_dir=None, user_model_dir=path_map.to_remote(spec.user_model_dir)
                          if spec.user_model_dir else None)
    paths = [t.path for t in tracks]
    summary = RunSummary(total=len(paths))
    unsaved: dict[str, Any] = {}
    last_save = time.monotonic()
    start = time.monotonic()
    try:
        for result in analyse_batch(spec, [path_map.to_remote(p) for p in paths], runner.executor, cancel,
                                    in_flight=runner.in_flight, respawn=runner.respawn,
                                    task_token=runner.task_token):
            result = _local(result, path_map)
            cache_vectors(result, cache)
            prediction = result.prediction
            summary.done += 1
            if prediction.error:
                summary.errors.append((result.path, prediction.error))
            unsaved[result.path] = prediction
            if len(unsaved) >= batch_size or time.monotonic() - last_save >= save_every:
                summary.saved += _save(store, unsaved)
                unsaved, last_save = {}, time.monotonic()
            if on_result is not None:
                summary.elapsed = time.monotonic() - start
                on_result(result, summary)
    finally:
        if unsaved:  # what arrived before a cancel (or Ctrl-C) is kept
            summary.saved += _save(store, unsaved)
        summary.cancelled = cancel.cancelled
        summary.elapsed = time.monotonic() - start
    return summary
