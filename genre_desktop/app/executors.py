"""Where an analysis runs: this process, a pool of worker processes, or a Dask cluster. Qt-free.

:func:`open_executor` turns the user's choice (a number of workers, a cluster address) into an
:class:`Executor`: the executor the batch seam submits to (``inference.batch.analyse_batch``), how
many files to keep in flight, how to replace a broken pool, and how to stop it. Worker processes
are spawned, never forked (the window has Qt and onnxruntime threads running); each builds its
analyzer once (``inference.batch.analyzer_for``). Stopping after a cancel terminates the workers,
so a cancelled analysis frees the cores at once instead of finishing the files in flight. A
cluster's workers are not ours to terminate: their tasks carry a :class:`ClusterCancelToken`, a
named Dask ``Event`` the analysis checks between its steps, so a cancel stops the files being
analysed on remote workers within a step (a fraction of a second), not at their end.

Dask is optional (the ``cluster`` extra): it is imported only when a cluster is asked for, and its
absence is a :class:`ClusterUnavailable` with a message for the user. A remote scheduler should be
``tls://`` with certificates (``app/cluster_tls.py``): a plain ``tcp://`` one runs any code anyone
who reaches it sends, so it is used with a warning; ``local`` listens on 127.0.0.1 only.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

from genre_desktop.cancel import CancelToken, Cancelled

log = logging.getLogger(__name__)

__all__ = ["ClusterCancelToken", "ClusterUnavailable", "Executor", "PathMap", "default_workers", "open_executor"]


class ClusterUnavailable(RuntimeError):
    """A cluster was asked for but cannot be used (Dask missing, scheduler unreachable)."""


def default_workers() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass
class PathMap:
    """``LOCAL=REMOTE`` prefixes: the workers see the music (and models) under another path."""

    pairs: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, values: list[str] | None) -> "PathMap":
        pairs = []
        for value in values or []:
            local, sep, remote = value.partition("=")
            if not sep or not local or not remote:
                raise ValueError(f"--path-map wants LOCAL=REMOTE, got {value!r}")
            pairs.append((local.rstrip("/\\") or local, remote.rstrip("/\\") or remote))
        return cls(pairs)

    @staticmethod
    def _swap(path: str, pairs) -> str:
        for a, b in pairs:
            if path == a or path.startswith(a.rstrip("/\\") + "/") or path.startswith(a.rstrip("/\\") + "\\"):
                return b + path[len(a):]
        return path

    def to_remote(self, path: str) -> str:
        return self._swap(path, self.pairs)

    def to_local(self, path: str) -> str:
        return self._swap(path, [(b, a) for a, b in self.pairs])

    def __bool__(self) -> bool:
        return bool(self.pairs)


class ClusterCancelToken(CancelToken):
    """A cancel token shared by the client and every task of a cluster: a named Dask ``Event``.

    It pickles by name; on a worker, ``cancelled`` asks the scheduler at most every ``interval``
    seconds (the analysis checks its token many times a second) and remembers a cancel once seen.
    ``cancel()`` on the client sets the event for every task at once.
    """

    def __init__(self, name: str | None = None, interval: float = 0.25) -> None:
        super().__init__()
        self.name = name or f"genre-desktop-cancel-{uuid.uuid4().hex}"
        self.interval = interval
        self._remote = None
        self._checked = 0.0

    def __reduce__(self):
        return (ClusterCancelToken, (self.name, self.interval))

    def _dask_event(self):
        if self._remote is None:
            from distributed import Event

            self._remote = Event(self.name)
        return self._remote

    def cancel(self) -> None:
        super().cancel()
        try:
            self._dask_event().set()
        except Exception as exc:  # the scheduler is gone: its tasks are gone with it
            log.warning("cannot tell the cluster's workers to stop: %s", exc)

    @property
    def cancelled(self) -> bool:
        if self._event.is_set():
            return True
        now = time.monotonic()
        if now - self._checked >= self.interval:
            self._checked = now
            try:
                if self._dask_event().is_set():
                    self._event.set()
            except Exception as exc:  # no scheduler to ask: carry on, the client decides
                log.debug("cannot read the cluster's cancel event %s: %s", self.name, exc)
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled()


@dataclass
class Executor:
    """An executor for ``analyse_batch`` with what the caller needs to run and stop it."""

    executor: Any
    workers: int
    in_flight: int | None = None
    respawn: Callable[[], Any] | None = None
    kind: str = "inline"  # "inline", "processes" or "cluster"
    task_token: CancelToken | None = None  # handed to every task (clusters: tasks in this process get the caller's)
    _close: Callable[[bool], None] | None = None

    @property
    def in_process(self) -> bool:
        return self.kind == "inline"

    def close(self, cancelled: bool = False) -> None:
        """Release the workers; ``cancelled``: stop them now, dropping the files in flight."""
        if cancelled and self.task_token is not None:
            self.task_token.cancel()
        if self._close is not None:
            self._close(cancelled)
            self._close = None


def stop_pool(pool: Any, cancelled: bool) -> None:
    """Shut a ProcessPoolExecutor down; after a cancel terminate its workers (no waiting for the
    files they are analysing: a 5-minute track would keep a core busy for seconds)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=not cancelled, cancel_futures=True)
    if cancelled:
        for process in processes:
            try:
                if process.is_alive():
                    process.terminate()
            except (OSError, ValueError):
                pass
        for process in processes:
            try:
                process.join(timeout=5)
                if process.is_alive():  # still starting up, or stuck in native code: no more waiting
                    process.kill()
                    process.join(timeout=5)
            except (OSError, ValueError, AssertionError):
                pass


def _process_executor(workers: int) -> Executor:
    from genre_desktop.inference.batch import process_pool

    made: list = []

    def respawn():
        pool = process_pool(workers)
        made.append(pool)
        return pool

    first = process_pool(workers)

    def close(cancelled: bool) -> None:
        for pool in [first, *made]:
            stop_pool(pool, cancelled)

    return Executor(first, workers, in_flight=2 * workers, respawn=respawn, kind="processes", _close=close)


def _cluster_executor(address: str, workers: int | None, tls: str | os.PathLike[str] | None = None,
                      timeout: float = 30.0) -> Executor:
    try:
        from dask.distributed import Client, LocalCluster

        from genre_desktop.app.cluster_tls import CertificateError, node_security, security_for
    except ImportError as exc:
        raise ClusterUnavailable(
            "--cluster needs Dask: install the cluster extra (pip install 'genre-desktop[cluster]')") from exc
    try:
        security = security_for(address, tls)
    except CertificateError as exc:
        raise ClusterUnavailable(str(exc)) from exc
    if address.startswith("tcp://") or "://" not in address and address != "local":
        log.warning("%s is neither encrypted nor authenticated: anyone who can reach the scheduler can run code "
                    "on every worker. Use a tls:// scheduler with certificates (README: Analysing on a cluster)",
                    address)
    if logging.getLogger().getEffectiveLevel() >= logging.WARNING:
        # Dask logs every worker start and stop at INFO on its own handler: keep the CLI's output
        # to the progress and the summary unless -v was asked for.
        logging.getLogger("distributed").setLevel(logging.ERROR)
    cluster = None
    try:
        if address == "local":
            # Processes, one thread each: the analysis holds the GIL between onnxruntime calls. Bound
            # to this machine only; with certificates its own connections are TLS too.
            secure = dict(protocol="tls", security=node_security(tls)) if tls else {}
            cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1, processes=True,
                                   dashboard_address=None, host="127.0.0.1", **secure)
            client = Client(cluster, security=secure.get("security"))
        else:
            client = Client(address, timeout=timeout, security=security)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    threads = sum(client.nthreads().values()) or 1
    token = ClusterCancelToken()

    def close(cancelled: bool) -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return Executor(client, threads, in_flight=2 * threads, kind="cluster", task_token=token, _close=close)


def open_executor(workers: int | None = None, cluster: str | None = None,
                  tls: str | os.PathLike[str] | None = None) -> Executor:
    """Where to analyse: a Dask cluster (``"local"``, ``tls://HOST:8786`` or ``tcp://HOST:8786``),
    else ``workers`` processes (default: the cores), or this process when one worker is asked for.

    ``tls``: a certificate folder (``app.cluster_tls.make_certificates``) for a ``tls://``
    scheduler; without it a ``tls://`` address uses Dask's own TLS configuration."""
    if cluster:
        return _cluster_executor(cluster, workers, tls)
    n = workers or default_workers()
    if n <= 1:
        from genre_desktop.inference.batch import InlineExecutor

        return Executor(InlineExecutor(), 1)
    return _process_executor(n)
