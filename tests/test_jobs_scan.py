"""A scan walks on the pool and stores its batches through the serial writer: the user's saves do
not wait for the whole scan, and a decision saved while a batch was being read survives it.
Jobs are named by an enum."""

from __future__ import annotations

import shutil
import time

import pytest
from media import make_audio

from genre_desktop.app.workspace import Workspace
from genre_desktop.app.review import Decision
from genre_desktop.jobs.library_jobs import LibraryJobs
from genre_desktop.jobs.runner import WRITE_JOBS, Job, JobRunner
from genre_desktop.library import scanner
from genre_desktop.library.store import Store
from genre_desktop.core.status import ACCEPTED
from genre_desktop.core.track import Track
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings


@pytest.fixture
def slow_library(tmp_path, monkeypatch):
    master = make_audio(tmp_path / "master.wav", seconds=0.2, tags={"title": "Song", "genre": ["Rock"]})
    root = tmp_path / "music"
    root.mkdir()
    for i in range(10):
        shutil.copy(master, root / f"a{i:02d}.wav")
    read = scanner._read_into

    def slow_read(track, options=None):  # a slow disk: 0.15 s per file
        time.sleep(0.15)
        return read(track, options)

    monkeypatch.setattr(scanner, "_read_into", slow_read)
    return root


def test_a_save_runs_during_a_scan_and_its_decision_survives_the_scan_batch(qtbot, tmp_path, slow_library):
    store = Store.open(tmp_path / "library.json")
    first = str(slow_library / "a00.wav")
    store.upsert([Track(first, size=1, mtime=0.0)])  # known, and changed on disk: the scan rewrites it
    workspace = Workspace(app_dirs(), Settings(), store_path=store.path)
    workspace.store = store
    runner = JobRunner()
    jobs = LibraryJobs(runner, workspace)
    jobs.session.set_tracks(store.all())
    saved = []

    def on_progress(progress):
        if progress.total is not None and not saved:  # the scan has read a00 and is reading on
            saved.append("queued")
            jobs.session.decide([Decision(first, {"chosen": ["Jazz"], "status": ACCEPTED})])
            jobs.flush_pending().finished.connect(lambda _tracks: saved.append(scan.running))

    scan = jobs.scan(str(slow_library), batch_size=500, on_progress=on_progress)
    qtbot.waitUntil(lambda: not scan.running, timeout=30000)
    runner.wait()
    qtbot.waitUntil(lambda: not runner.active(), timeout=5000)
    assert scan.outcome == "finished" and scan.result.summary.found == 10
    assert saved == ["queued", True]  # the save finished while the scan was still running
    track = store.get(first)
    assert track.title == "Song" and track.genres == ["Rock"]  # the scan's side
    assert track.status == ACCEPTED and track.chosen == ["Jazz"]  # the decision, not the scan's stale copy
    runner.shutdown()
    store.close()


def test_jobs_are_an_enum_and_only_real_writes_survive_shutdown(qapp):
    assert WRITE_JOBS == {Job.SAVE, Job.WRITE_TAGS, Job.UNDO, Job.RESTORE}  # "review" was listed, never submitted
    assert Job("scan") is Job.SCAN and Job.SCAN == "scan" and Job.ANALYSIS.user_cancellable
    assert Job.UNDO.shows_progress and not Job.SPECTROGRAM.shows_progress and Job.SAVE.keeps_at_shutdown
    runner = JobRunner(synchronous=True)
    with pytest.raises(ValueError):
        runner.submit(lambda job: None, name="reviw")
    assert runner.submit(lambda job: 1, name="save").name is Job.SAVE


def test_call_serial_runs_on_the_writer_and_returns_or_raises(qtbot):
    import threading

    runner = JobRunner()
    seen = []

    def work(job):
        seen.append(runner.call_serial(lambda: threading.current_thread().name))
        with pytest.raises(KeyError):
            runner.call_serial(lambda: {}["missing"])
        return "ok"

    handle = runner.submit(work, name=Job.SCAN)
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    # From the writer itself it runs inline instead of waiting for itself forever.
    nested = runner.submit(lambda job: runner.call_serial(lambda: "inline"), name=Job.SAVE, serial=True)
    qtbot.waitUntil(lambda: not nested.running, timeout=5000)
    runner.wait()
    assert handle.result == "ok" and seen and seen[0] != threading.current_thread().name
    assert nested.result == "inline"
    runner.shutdown()
