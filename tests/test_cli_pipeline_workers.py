"""Every core: worker processes for the pipeline, stopped at once on cancel, a crashing worker
costing only its track (stored as that track's problem)."""

from __future__ import annotations

import time

from media import make_audio
from test_inference_batch import CrashingSpec

from genre_desktop.app.executors import open_executor
from genre_desktop.app.analysis import analyse_into_session
from genre_desktop.app.session import LibrarySession
from genre_desktop.app.workflow import needs_analysis
from genre_desktop.app.workspace import Workspace
from genre_desktop.inference.batch import CRASHED
from genre_desktop.library.scanner import scan_paths
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings


def _running(pid: int) -> bool:
    """Whether ``pid`` still runs, asked of the OS: ``Process.is_alive()`` says True for a child that
    another waiter (or an ignored SIGCHLD) already reaped."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_cancel_terminates_every_worker_at_once():
    runner = open_executor(2)
    assert runner.kind == "processes" and runner.workers == 2
    futures = [runner.executor.submit(time.sleep, 120) for _ in range(2)]
    deadline = time.monotonic() + 120
    while not all(f.running() for f in futures) and time.monotonic() < deadline:
        time.sleep(0.05)
    processes = list(runner.executor._processes.values())
    assert len(processes) == 2 and all(p.is_alive() for p in processes)
    start = time.monotonic()
    runner.close(cancelled=True)
    assert time.monotonic() - start < 15  # not the 120 s the workers were busy for
    assert not any(_running(p.pid) for p in processes)


def test_a_crashing_worker_costs_only_its_track(tmp_path):
    paths = [str(make_audio(tmp_path / f"{name}.wav", seconds=3, signal=sig, freq=330.0))
             for name, sig in (("a", "tone"), ("crash", "tone"), ("b", "chirp"), ("c", "noise"))]
    ws = Workspace(app_dirs(), Settings(cpu_threads=1, segments=1), store_path=tmp_path / "lib.json")
    ws.analysis_spec = lambda: CrashingSpec(n_segments=1, threads=1, musicnn=False)
    ws.open_store()
    scan_paths(paths, ws.store)
    runner = open_executor(2)
    try:
        session = LibrarySession(ws)
        session.open(None)
        summary = analyse_into_session(session, session.tracks(), runner, batch_size=1)
    finally:
        runner.close()
    tracks = {t.path: t for t in ws.store.all()}
    ws.close()
    assert summary.done == 4 and summary.errors == [(paths[1], CRASHED)]
    assert tracks[paths[1]].status == "error" and tracks[paths[1]].error == CRASHED
    for p in (paths[0], *paths[2:]):
        assert tracks[p].status == "predicted" and tracks[p].prediction.genres and not needs_analysis(tracks[p])
