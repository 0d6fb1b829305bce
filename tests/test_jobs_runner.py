"""The job runner: results on the GUI thread, cancel, stale results dropped, one serial writer."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread

from genre_desktop.jobs.runner import JobRunner, drive


@pytest.fixture
def runner(qapp):
    r = JobRunner(max_threads=2)
    yield r
    r.shutdown()


def test_results_progress_and_items_arrive_on_the_gui_thread(qtbot, runner):
    gui = QThread.currentThread()
    seen = []

    def work(job):
        for i in range(3):
            job.progress(i)
            job.item(f"track{i}")
        return "summary"

    def note(kind):
        return lambda value=None: seen.append((kind, value, QThread.currentThread() is gui))

    handle = runner.submit(work, on_progress=note("p"), on_item=note("i"), on_finished=note("f"))
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert seen[-1] == ("f", "summary", True)
    assert [v for k, v, _ in seen if k == "i"] == ["track0", "track1", "track2"]
    assert all(on_gui for _, _, on_gui in seen)


def test_failure_is_reported_with_its_message(qtbot, runner):
    errors = []

    def work(job):
        raise ValueError("model file is truncated")

    handle = runner.submit(work, on_failed=errors.append)
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert errors == ["model file is truncated"]
    assert handle.outcome == "failed"


def test_cancel_stops_a_generator_driven_job(qtbot, runner):
    started = threading.Event()

    def slow_scan():
        for i in range(1000):
            started.set()
            time.sleep(0.01)
            yield i
        return "complete"

    outcomes = []
    handle = runner.submit(lambda job: drive(slow_scan(), job), on_cancelled=lambda: outcomes.append("cancelled"),
                           on_finished=outcomes.append)
    assert started.wait(5)
    handle.cancel()
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert outcomes == ["cancelled"]


def test_a_newer_job_with_the_same_key_drops_the_stale_result(qtbot, runner):
    release = threading.Event()
    results = []

    def slow(job):
        release.wait(5)
        return "old track"

    first = runner.submit(slow, key="spectrogram", on_finished=results.append)
    second = runner.submit(lambda job: "new track", key="spectrogram", on_finished=results.append)
    qtbot.waitUntil(lambda: not second.running, timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not first.running, timeout=5000)
    assert results == ["new track"]
    assert first.stale and first.token.cancelled


def test_serial_writer_runs_one_job_at_a_time_in_submission_order(qtbot, runner):
    order = []
    overlap = []
    busy = threading.Lock()
    threads = set()

    def make(i):
        def write(job):
            if not busy.acquire(blocking=False):
                overlap.append(i)
                return
            try:
                threads.add(threading.get_ident())
                time.sleep(0.005)
                order.append(i)
            finally:
                busy.release()
        return write

    handles = [runner.submit(make(i), serial=True, name="save") for i in range(20)]
    qtbot.waitUntil(lambda: not any(h.running for h in handles), timeout=10000)
    assert order == list(range(20))
    assert overlap == []
    assert len(threads) == 1


def test_synchronous_mode_runs_inline(qapp):
    runner = JobRunner(synchronous=True)
    got = []
    runner.submit(lambda job: (job.item(1), 42)[1], on_item=got.append, on_finished=got.append, serial=True)
    assert got == [1, 42]
