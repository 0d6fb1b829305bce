"""Background jobs on QThreadPool with progress, partial results, cancel and stale-result dropping.

A *work function* is plain Python: ``work(job: JobContext) -> result``. It polls ``job.token``
(a :class:`~genre_desktop.cancel.CancelToken`) and reports with ``job.progress(value)`` and
``job.item(value)`` (a partial result, e.g. one track's prediction). The runner decides the thread:

- ``submit(...)`` runs on a general pool (analysis, spectrograms, decoding);
- ``submit(..., serial=True)`` runs on the ONE writer thread: every tag save and store write goes
  there, so two writes never interleave and the order the user acted in is the order applied;
- ``JobRunner(synchronous=True)`` runs everything inline on the caller's thread (logic tests).

Everything a job reports reaches the callbacks on the thread that owns the runner (the GUI thread):
the worker emits internal signals that are queued to the :class:`JobHandle`, which lives there.
Submitting with a ``key`` supersedes the previous job with the same key: it is cancelled and
whatever it still reports is dropped (the user moved to another track).
"""

from __future__ import annotations

import logging
import threading
import traceback
from concurrent.futures import Future
from enum import Enum
from typing import Any, Callable, Generator

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from genre_desktop.cancel import Cancelled, CancelToken

log = logging.getLogger(__name__)

Callback = Callable[[Any], None] | None


class Job(str, Enum):
    """What a job is, for the runner and the window (a ``str``: the names stay the same strings)."""

    OPEN_STORE = "open-store"
    LOAD = "load"
    SCAN = "scan"
    ANALYSIS = "analysis"
    SAVE = "save"
    WRITE_TAGS = "write-tags"
    UNDO = "undo"
    SPECTROGRAM = "spectrogram"
    TRAINING = "training"
    TRAINING_CHECK = "training-check"
    LIBRARY_MAP = "library-map"
    WATCH = "watch"  # reading what other processes wrote to the store
    RESTORE = "restore"  # writing a deleted store again from memory
    OTHER = "job"

    def __str__(self) -> str:
        return self.value

    @property
    def keeps_at_shutdown(self) -> bool:
        """A queued write carries a decision the user already made: shutdown lets it finish."""
        return self in WRITE_JOBS

    @property
    def user_cancellable(self) -> bool:
        """The Cancel button stops it (long work the user started)."""
        return self in (Job.ANALYSIS, Job.SCAN)

    @property
    def shows_progress(self) -> bool:
        """It owns the status bar's progress while it runs."""
        return self in (Job.ANALYSIS, Job.SCAN, Job.WRITE_TAGS, Job.UNDO)


class JobContext:
    """What a work function sees: the cancel token and the two ways to report."""

    def __init__(self, handle: "JobHandle", token: CancelToken) -> None:
        self._handle = handle
        self.token = token

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def progress(self, value: Any) -> None:
        self._handle._bg_progress.emit(value)

    def item(self, value: Any) -> None:
        self._handle._bg_item.emit(value)


def drive(generator: Generator[Any, None, Any], job: JobContext, check_cancel: bool = True,
          after_each: Callable[[Any], None] | None = None) -> Any:
    """Run a domain generator (yields progress, returns a summary), reporting every yield.

    ``check_cancel=False`` for generators that watch the token themselves and return a partial
    summary when cancelled (the scanner): their summary is then the job's result. ``after_each``
    is called with every yielded value after it was reported (partial results, say).
    """
    while True:
        if check_cancel:
            job.token.raise_if_cancelled()
        try:
            value = next(generator)
        except StopIteration as stop:
            return stop.value
        job.progress(value)
        if after_each is not None:
            after_each(value)


class JobHandle(QObject):
    """One submitted job, living on the GUI thread. Public signals fire there, in order."""

    progress = Signal(object)
    item = Signal(object)
    finished = Signal(object)  # the work function's return value
    failed = Signal(str)  # the error, with enough text to show to the user
    cancelled = Signal()
    done = Signal()  # always last, whatever the outcome

    # Emitted on the worker thread; queued to the slots below because the handle lives on the GUI thread.
    _bg_progress = Signal(object)
    _bg_item = Signal(object)
    _bg_end = Signal(str, object)

    def __init__(self, name: Job | str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = _job(name)
        self.token = CancelToken()
        self.stale = False
        self.running = True
        self.outcome: str | None = None  # "finished", "failed" or "cancelled"
        self.result: Any = None
        self.error: str | None = None
        self.released = False  # the worker thread dropped its reference
        self._bg_progress.connect(self._on_progress)
        self._bg_item.connect(self._on_item)
        self._bg_end.connect(self._on_end)

    def cancel(self) -> None:
        self.token.cancel()

    def supersede(self) -> None:
        """Cancel and drop everything this job still reports."""
        self.stale = True
        self.token.cancel()

    @Slot(object)
    def _on_progress(self, value: Any) -> None:
        if not self.stale:
            self.progress.emit(value)

    @Slot(object)
    def _on_item(self, value: Any) -> None:
        if not self.stale:
            self.item.emit(value)

    @Slot(str, object)
    def _on_end(self, outcome: str, value: Any) -> None:
        self.running = False
        self.outcome = outcome
        if outcome == "finished":
            self.result = value
        elif outcome == "failed":
            self.error = str(value)
        if self.stale:
            self.done.emit()
            return
        if outcome == "finished":
            self.finished.emit(value)
        elif outcome == "failed":
            self.failed.emit(str(value))
        else:
            self.cancelled.emit()
        self.done.emit()


class _Runnable(QRunnable):
    def __init__(self, work: Callable[[JobContext], Any], handle: JobHandle) -> None:
        super().__init__()
        self._work = work
        self._handle = handle

    def run(self) -> None:
        work, handle = self._work, self._handle
        self._work = self._handle = None
        execute(work, handle)
        handle.released = True  # from now on only the GUI thread holds it (see JobRunner._retire)


def execute(work: Callable[[JobContext], Any], handle: JobHandle) -> None:
    """Run ``work`` and report its end through the handle (on whatever thread this is)."""
    context = JobContext(handle, handle.token)
    try:
        if handle.token.cancelled:
            raise Cancelled()
        result = work(context)
    except Cancelled:
        handle._bg_end.emit("cancelled", None)
    except Exception as exc:  # reported to the user; the traceback goes to the log
        log.error("job %s failed:\n%s", handle.name, traceback.format_exc())
        handle._bg_end.emit("failed", f"{type(exc).__name__}: {exc}" if not str(exc) else str(exc))
    else:
        handle._bg_end.emit("finished", result)


class JobRunner(QObject):
    """Owns the worker pool and the serial writer thread."""

    def __init__(self, synchronous: bool = False, max_threads: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        self._pool = QThreadPool(self)
        if max_threads:
            self._pool.setMaxThreadCount(max_threads)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)  # the ONE serial writer
        self._keyed: dict[str, JobHandle] = {}
        self._active: set[JobHandle] = set()
        # Finished handles wait here until their worker has let go of them, so that the last
        # reference (and the QObject's destruction) is always dropped on the GUI thread.
        self._retired: list[JobHandle] = []

    def submit(
        self,
        work: Callable[[JobContext], Any],
        *,
        name: Job | str = Job.OTHER,
        key: str | None = None,
        serial: bool = False,
        on_progress: Callback = None,
        on_item: Callback = None,
        on_finished: Callback = None,
        on_failed: Callback = None,
        on_cancelled: Callable[[], None] | None = None,
        on_done: Callable[[], None] | None = None,
    ) -> JobHandle:
        """Start ``work`` in the background (or inline when synchronous); callbacks run on this thread."""
        if key is not None and key in self._keyed:
            self._keyed.pop(key).supersede()
        handle = JobHandle(name)  # no Qt parent: Python owns it, freed by _retire on this thread
        for signal, callback in (
            (handle.progress, on_progress),
            (handle.item, on_item),
            (handle.finished, on_finished),
            (handle.failed, on_failed),
            (handle.cancelled, on_cancelled),
        ):
            if callback is not None:
                signal.connect(callback)
        if on_done is not None:
            handle.done.connect(on_done)
        handle.done.connect(lambda h=handle, k=key: self._forget(h, k))
        if key is not None:
            self._keyed[key] = handle
        self._active.add(handle)
        if self.synchronous:
            handle.released = True
            execute(work, handle)
        else:
            (self._writer if serial else self._pool).start(_Runnable(_on_writer(work) if serial else work, handle))
        return handle

    def _forget(self, handle: JobHandle, key: str | None) -> None:
        self._active.discard(handle)
        if key is not None and self._keyed.get(key) is handle:
            del self._keyed[key]
        self._retire(handle)

    def _retire(self, handle: JobHandle | None = None) -> None:
        """Drop finished handles whose worker let go; ``handle`` waits for the next round."""
        self._retired = [h for h in self._retired if not h.released]
        if handle is not None:
            self._retired.append(handle)

    def active(self, name: Job | str | None = None) -> list[JobHandle]:
        return [h for h in self._active if h.running and (name is None or h.name == name)]

    def call_serial(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the serial writer and wait for its result (from a worker thread, never the
        writer itself). Lets long work (a scan's walk) run outside the writer while its store
        writes still go through it, between the user's own saves."""
        if self.synchronous or getattr(_writer, "active", False):
            return fn()  # logic tests run everything inline; on the writer, waiting for it would deadlock
        future: Future = Future()
        self._writer.start(_Call(fn, future))
        return future.result()

    def cancel_all(self) -> None:
        for handle in list(self._active):
            handle.cancel()

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until both pools are idle (tools, tests and shutdown; never in a UI handler)."""
        ok = self._pool.waitForDone(timeout_ms)
        ok = self._writer.waitForDone(timeout_ms) and ok
        return ok

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel running work, let queued writes finish (they are the user's decisions), wait."""
        for handle in list(self._active):
            if not handle.name.keeps_at_shutdown:
                handle.cancel()
        return self.wait(timeout_ms)


class _Call(QRunnable):
    """``fn`` run on a pool thread, its outcome handed to a waiting thread through ``future``."""

    def __init__(self, fn: Callable[[], Any], future: Future) -> None:
        super().__init__()
        self._fn = fn
        self._future = future

    def run(self) -> None:
        fn, future = self._fn, self._future
        self._fn = self._future = None
        try:
            future.set_result(_on_writer(fn)())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the waiting thread
            future.set_exception(exc)


_writer = threading.local()  # .active: this thread is running a job of the serial writer


def _on_writer(fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        _writer.active = True
        try:
            return fn(*args)
        finally:
            _writer.active = False
    return run


def _job(name: Job | str) -> Job:
    try:
        return Job(name)
    except ValueError:
        raise ValueError(f"unknown job name {name!r}; add it to jobs.runner.Job") from None


# Serial jobs that must not be cancelled at shutdown: they carry decisions the user already made.
WRITE_JOBS = frozenset({Job.SAVE, Job.WRITE_TAGS, Job.UNDO, Job.RESTORE})
WRITE_JOB_NAMES = WRITE_JOBS  # the old name
