"""Cancelling an analysis on a cluster stops the files running on its workers, not only the queued
ones: the tasks carry a ``ClusterCancelToken`` (a named Dask Event) that the analysis checks between
its steps. The cluster here is a LocalCluster of processes reached by address, as a remote one is:
closing our client does not stop its workers, so only the token can stop a running file."""

from __future__ import annotations

import pickle
import threading
import time

import pytest
from media import make_audio

from genre_desktop.app.executors import ClusterCancelToken, open_executor
from genre_desktop.cancel import CancelToken, Cancelled
from genre_desktop.inference.batch import FileResult, analyse_batch, analyse_file
from genre_desktop.inference.spec import AnalysisSpec

distributed = pytest.importorskip("dask.distributed")

# 60 windows of 30 s with the tagging networks: many seconds of work on one core, where a cancel
# takes a fraction of one to arrive
SPEC = AnalysisSpec(n_segments=60, threads=1, musicnn=True)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as made:
        yield made


@pytest.fixture(scope="module")
def long_track(tmp_path_factory, cluster):
    folder = tmp_path_factory.mktemp("long")
    short = str(make_audio(folder / "short.flac", seconds=3, signal="chirp"))
    with distributed.Client(cluster.scheduler_address) as client:  # the worker builds its analyzer now
        client.submit(analyse_file, SPEC, short, pure=False).result(timeout=300)
    return str(make_audio(folder / "long.flac", seconds=1800, signal="tone"))


def test_the_token_pickles_by_name_and_keeps_its_interval():
    token = ClusterCancelToken(interval=0.5)
    copy = pickle.loads(pickle.dumps(token))
    assert isinstance(copy, CancelToken) and copy.name == token.name and copy.interval == 0.5


def test_a_task_sees_the_clients_cancel(cluster, long_track):
    with distributed.Client(cluster.scheduler_address) as client:
        token = ClusterCancelToken()
        token.cancel()  # set before the task starts: its first check raises
        future = client.submit(analyse_file, SPEC, long_track, token, pure=False)
        with pytest.raises(Cancelled):
            future.result(timeout=120)


def test_a_running_file_stops_when_the_batch_is_cancelled(cluster, long_track):
    runner = open_executor(cluster=cluster.scheduler_address)
    assert runner.kind == "cluster" and isinstance(runner.task_token, ClusterCancelToken)
    cancel = CancelToken()
    results: list[FileResult] = []
    try:
        with distributed.Client(cluster.scheduler_address) as watcher:
            def busy() -> bool:
                return any(watcher.processing().values())

            # analyse_batch blocks in its result loop: run it in a thread and watch the cluster
            batch = threading.Thread(target=lambda: results.extend(analyse_batch(
                SPEC, [long_track], runner.executor, cancel, in_flight=1, task_token=runner.task_token)))
            batch.start()
            deadline = time.monotonic() + 120
            while not busy() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert busy(), "the file never started on the cluster"
            time.sleep(1.0)  # well into its windows
            cancel.cancel()
            batch.join(timeout=30)
            assert not batch.is_alive() and results == []
            assert distributed.Event(runner.task_token.name, client=watcher).is_set()
            # The worker gives the file up at its next step (the token is read every 0.25 s) instead
            # of analysing the other windows (more than 10 s here). The scheduler forgets a cancelled
            # task at once, so ask the worker process itself whether it still computes.
            assert _worker_cpu_seconds(watcher, over=2.0) < 0.5, "the worker still analyses the cancelled file"
    finally:
        runner.close(cancelled=True)


def _cpu_over(seconds: float) -> float:
    import psutil  # a dependency of distributed

    process = psutil.Process()
    before = sum(process.cpu_times()[:2])
    time.sleep(seconds)
    return sum(process.cpu_times()[:2]) - before


def _worker_cpu_seconds(client, over: float) -> float:
    """CPU seconds the (single) worker process spends over ``over`` seconds of wall time, starting
    half a second from now (time for a cancel to reach the running analysis)."""
    time.sleep(0.5)
    return max(client.run(_cpu_over, over).values())
