"""The batch seam: one analysis description mapped over many files through any executor.

:func:`analyse_batch` submits ``analyse_file(spec, path)`` to an executor with the
``concurrent.futures`` interface (``submit`` returning futures with ``add_done_callback``):
:class:`InlineExecutor` (the calling thread), a ``ThreadPoolExecutor``, a ``ProcessPoolExecutor``
(use :func:`process_pool`: spawn context, safe next to Qt and onnxruntime threads) or a
``dask.distributed.Client``. Each worker process builds its analyzer once per spec
(:func:`analyzer_for`, a module-level cache) and keeps it for every later file.

Results come back as each file finishes (:class:`FileResult`, completion order). The cancel token
is checked before each submission and at each result; on cancel the pending futures are cancelled
and the generator ends (in-process executors also pass the token into the running analysis). A
file that fails, by an exception or by crashing its worker process, is reported as that file's
error and the batch goes on: when a process pool breaks, ``respawn()`` gives a fresh pool and the
files that were in flight are retried one at a time, so only the file that crashes a worker alone
is blamed. A ModelError (the models cannot be loaded) ends the batch: no file could succeed.

Only the caller writes the store and the vector cache (``FileResult.analysis.store(cache)``).
Nothing here imports Qt; jobs/ only chooses the executor.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from genre_desktop.cancel import NEVER, CancelToken, Cancelled
from genre_desktop.inference.manifest import ModelError
from genre_desktop.core.prediction import Prediction

__all__ = ["FileResult", "InlineExecutor", "analyse_batch", "analyse_file", "analyzer_for", "process_pool"]

log = logging.getLogger(__name__)

CRASHED = "the analysis worker process crashed on this file"

# A long-lived process (the window's thread pool) sees a new spec whenever a setting or the active
# model changes: keep the latest few, not every analyzer ever built (each holds its sessions).
MAX_CACHED_ANALYZERS = 2
_ANALYZERS: dict[Any, Any] = {}
_BUILD_LOCK = threading.Lock()


def analyzer_for(spec) -> Any:
    """This process's analyzer for ``spec`` (an ``AnalysisSpec``), built on first use."""
    with _BUILD_LOCK:
        analyzer = _ANALYZERS.pop(spec, None)
        if analyzer is None:
            from genre_desktop.runtime import keep_heap_for_arrays, single_thread_blas

            single_thread_blas()  # also in a cluster's workers: spinning BLAS threads steal a core
            keep_heap_for_arrays()  # Dask's workers trim the heap after every array otherwise
            analyzer = spec.build()
        _ANALYZERS[spec] = analyzer  # most recently used last
        while len(_ANALYZERS) > MAX_CACHED_ANALYZERS:
            _ANALYZERS.pop(next(iter(_ANALYZERS)))
        return analyzer


def analyse_file(spec, path: str, cancel: CancelToken | None = None):
    """Worker function: the ``Analysis`` of ``path`` (module-level, so it pickles by name)."""
    return analyzer_for(spec).analyze(path, cancel or NEVER)


@dataclass
class FileResult:
    """One file's outcome: ``analysis`` (an ``inference.analyzer.Analysis``) or ``error``."""

    path: str
    analysis: Any = None
    error: str | None = None

    @property
    def prediction(self) -> Prediction:
        """The file's Prediction; a failure becomes ``Prediction.failed`` with the reason."""
        if self.analysis is not None:
            return self.analysis.prediction
        return Prediction.failed(self.path, self.error or "analysis failed")


class InlineExecutor:
    """An executor that runs each submission at once in the calling thread (the default in jobs/)."""

    def submit(self, fn: Callable, *args, **kwargs) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, as any executor would
            future.set_exception(exc)
        return future

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        pass


def process_pool(workers: int | None = None):
    """A ProcessPoolExecutor with the spawn context (no fork of a process with running threads)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1,
                               mp_context=multiprocessing.get_context("spawn"))


def _as_analysis(result):
    """An Analysis; a bare Prediction (an older analyzer, a test's stand-in) gets no vectors."""
    if isinstance(result, Prediction):
        from genre_desktop.inference.analyzer import Analysis

        return Analysis(result)
    return result


def _in_flight_default(executor) -> int:
    if isinstance(executor, InlineExecutor):  # submit does the work: one at a time, each result at once
        return 1
    workers = getattr(executor, "_max_workers", None)
    return 2 * int(workers) if workers else 4


def analyse_batch(spec, paths: Iterable[str], executor, cancel: CancelToken = NEVER, *,
                  analyzer=None, in_flight: int | None = None,
                  respawn: Callable[[], Any] | None = None,
                  task_token: CancelToken | None = None) -> Iterator[FileResult]:
    """Analyse ``paths`` with ``spec`` through ``executor``, yielding each file's result as it ends.

    ``analyzer``: an analyzer already built in this process to use instead of building one from
    ``spec`` (in-process executors only). ``in_flight``: files submitted ahead (default: 1 inline,
    twice the pool's workers, else 4). ``respawn``: makes a fresh executor when a process pool breaks (the
    executors it makes are shut down here; ``executor`` itself is left to the caller). Without it
    a broken pool ends the batch with every unfinished file reported as crashed. ``task_token``: the
    token tasks of an out-of-process executor check (a cluster's shared event; default none: those
    tasks are stopped by stopping their workers); it is cancelled here when ``cancel`` is.
    """
    in_process = isinstance(executor, (InlineExecutor, ThreadPoolExecutor))
    if analyzer is not None and not in_process:
        raise ValueError("an already built analyzer can only be used by an in-process executor")
    limit = max(1, int(in_flight or _in_flight_default(executor)))
    todo = deque(str(p) for p in paths)
    suspects: deque[str] = deque()  # in flight when a pool broke: each retried alone
    suspected: set[str] = set()
    finished: queue.Queue = queue.Queue()
    pending: dict[Any, str] = {}
    owned: list = []

    def submit(path: str) -> None:
        token = cancel if in_process else task_token
        if analyzer is not None:
            future = executor.submit(lambda: analyzer.analyze(path, token or NEVER))
        else:
            future = executor.submit(analyse_file, spec, path, token)
        pending[future] = path
        future.add_done_callback(finished.put)

    def alone() -> bool:
        return bool(suspects) or any(p in suspected for p in pending.values())

    try:
        while todo or suspects or pending:
            while not cancel.cancelled and (suspects or todo) and len(pending) < (1 if alone() else limit):
                path = (suspects or todo).popleft()
                try:
                    submit(path)
                except BrokenProcessPool:  # broke between two results: nothing of ours was running
                    (suspects if path in suspected else todo).appendleft(path)
                    executor = _replace(executor, respawn, owned)
                    if executor is None:
                        yield from (FileResult(p, error=CRASHED) for p in [*suspects, *todo])
                        return
            if cancel.cancelled:
                return
            try:
                future = finished.get(timeout=0.1)
            except queue.Empty:
                continue
            path = pending.pop(future, None)
            if path is None:  # a future of a pool that broke, already rescheduled
                continue
            try:
                result = FileResult(path, analysis=_as_analysis(future.result()))
            except BrokenProcessPool:
                if path in suspected and not pending:
                    yield FileResult(path, error=CRASHED)  # it crashed its worker alone
                    blamed = []
                else:
                    blamed = [path, *pending.values()]
                    pending.clear()
                    suspected.update(blamed)
                    suspects.extend(blamed)
                executor = _replace(executor, respawn, owned)
                if executor is None:
                    yield from (FileResult(p, error=CRASHED) for p in [*suspects, *todo])
                    return
                continue
            except Cancelled:
                if cancel.cancelled:
                    return
                result = FileResult(path, error="cancelled")
            except ModelError:
                raise
            except Exception as exc:  # this file failed; the batch goes on
                log.warning("analysing %s failed: %s", path, exc)
                result = FileResult(path, error=f"analysis failed: {exc}")
            yield result
    finally:
        if task_token is not None and pending and cancel.cancelled:
            task_token.cancel()  # the files running on workers stop at their next step
        for future in pending:
            future.cancel()
        for made in owned:
            made.shutdown(wait=False, cancel_futures=True)


def _replace(executor, respawn, owned: list):
    """A fresh executor for a broken one (None without ``respawn``)."""
    log.warning("an analysis worker process crashed; %s", "starting a new pool" if respawn else "stopping")
    if respawn is None:
        return None
    if executor in owned:
        owned.remove(executor)
        executor.shutdown(wait=False, cancel_futures=True)
    fresh = respawn()
    owned.append(fresh)
    return fresh


def cache_vectors(result, cache) -> None:
    """Store a result's vectors in ``cache`` (the client's job: workers never write it). A full disk
    must not stop the analysis: training recomputes what is missing."""
    if result.analysis is None:
        return
    try:
        result.analysis.store(cache)
    except OSError as exc:
        log.warning("cannot cache the vectors of %s: %s", result.path, exc)
