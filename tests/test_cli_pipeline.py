"""The headless pipeline driven for real on generated files: scan, analyze, list --json, accept,
write (and its dry run), undo; resuming after a kill; the same predictions as the window's path."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media import make_audio
from helpers import cli

from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres

ROOT = Path(__file__).resolve().parent.parent
SIGNALS = [("tone", 220.0), ("chirp", 440.0), ("noise", 440.0), ("tone", 880.0)]


def one_thread(app_home) -> None:
    """Settings as a user would save them: one onnxruntime thread, one window (the machine is shared)."""
    from genre_desktop.paths import app_dirs

    Settings(cpu_threads=1, segments=1).save(app_dirs().settings_path)


@pytest.fixture
def music(tmp_path):
    root = tmp_path / "music"
    for i, (sig, freq) in enumerate(SIGNALS[:3]):
        make_audio(root / f"t{i}.flac", seconds=6, signal=sig, freq=freq, tags={"title": f"T{i}", "genre": ["Rock"]})
    return root


def listing(capsys, store):
    code, out, _ = cli(capsys, "list", "--json", "--store", store)
    assert code == 0
    return {Path(r["path"]).name: r for r in json.loads(out)}


def test_scan_analyze_accept_write_undo(music, tmp_path, capsys, app_home):
    one_thread(app_home)
    store = str(tmp_path / "lib.json")
    assert cli(capsys, "scan", str(music), "--store", store)[0] == 0
    rows = listing(capsys, store)
    assert {r["status"] for r in rows.values()} == {"unanalysed"} and all(r["predicted"] is None for r in rows.values())

    code, out, err = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0, out + err
    assert "Analysed 3 of 3 tracks" in out and "3 predicted, 0 failed" in out
    assert "analysing 3 tracks with this process…" in err  # not a terminal: one line per stage
    rows = listing(capsys, store)
    for r in rows.values():
        assert r["status"] == "predicted" and r["genres"] == ["Rock"] and r["choice"] is None
        probabilities = [g["probability"] for g in r["predicted"]]
        assert probabilities == sorted(probabilities, reverse=True) and 0.99 < sum(probabilities) < 1.01
        assert "prediction" not in r  # the whole prediction (windows, tags) stays in the store

    code, out, _ = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0 and "nothing to analyse" in out  # a second run has nothing left

    # accept: only the asked genre, at or above the threshold (the review queue's bulk accept)
    first = rows["t0.flac"]["predicted"][0]
    code, out, _ = cli(capsys, "accept", "--store", store, "--above", "0", "--genre", first["genre"])
    assert code == 0
    taken = {n for n, r in rows.items() if r["predicted"][0]["genre"] == first["genre"]}
    assert f"Accepted {len(taken)} of 3" in out
    code, out, _ = cli(capsys, "accept", "--store", store, "--above", "1.01")
    assert code == 2
    after = listing(capsys, store)
    for name, r in after.items():
        if name in taken:
            assert r["status"] == "accepted" and r["choice"] == [first["genre"]]
        else:
            assert r["status"] == "predicted" and r["choice"] is None

    # write --dry-run shows the plan, touches nothing; by default the file's own genre stays
    spelled = Settings().spell(first["genre"])
    code, out, _ = cli(capsys, "write", "--store", store, "--dry-run")
    assert code == 0 and f"{len(taken)} file(s) will change." in out and f"Rock -> Rock; {spelled}" in out
    assert all(read_genres(str(music / n)) == ["Rock"] for n in rows)
    code, out, _ = cli(capsys, "write", "--store", store)
    assert code == 0, out
    for name in rows:
        assert read_genres(str(music / name)) == (["Rock", spelled] if name in taken else ["Rock"])
    assert {listing(capsys, store)[n]["status"] for n in taken} == {"written"}
    # A verified write proved the audio unchanged: the nightly rescan + analyze have nothing to do.
    assert cli(capsys, "scan", str(music), "--store", store)[0] == 0
    code, out, _ = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0 and "nothing to analyse" in out, out
    code, out, _ = cli(capsys, "undo", "--store", store)
    assert code == 0 and all(read_genres(str(music / n)) == ["Rock"] for n in rows)
    code, out, _ = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0 and "nothing to analyse" in out, out  # the undo is verified too


def test_a_changed_file_is_analysed_again_and_only_it(music, tmp_path, capsys, app_home):
    one_thread(app_home)
    store = str(tmp_path / "lib.json")
    cli(capsys, "scan", str(music), "--store", store)
    assert cli(capsys, "analyze", "--store", store, "--workers", "1")[0] == 0
    before = listing(capsys, store)
    make_audio(music / "t1.flac", seconds=6, signal="noise", freq=440.0, tags={"title": "new", "genre": ["Rock"]})
    os.utime(music / "t1.flac", (time.time() + 5, time.time() + 5))
    cli(capsys, "scan", str(music), "--store", store)
    code, out, _ = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0 and "Analysed 1 of 1 tracks" in out
    after = listing(capsys, store)
    assert after["t1.flac"]["predicted"] == after["t2.flac"]["predicted"]  # now the same audio as t2
    assert after["t1.flac"]["predicted"] != before["t1.flac"]["predicted"]


def test_the_cli_stores_what_the_window_stores(music, tmp_path, capsys, app_home, qtbot, monkeypatch):
    """The same files through the window's background analysis (LibraryJobs, on worker processes
    as the analysis_workers setting asks) and the CLI's (this process): identical stored
    predictions and statuses."""
    from genre_desktop.app import executors
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.jobs.library_jobs import LibraryJobs
    from genre_desktop.jobs.runner import JobRunner
    from genre_desktop.library.scanner import scan_paths
    from genre_desktop.library.store import Store
    from genre_desktop.paths import app_dirs

    one_thread(app_home)
    paths = sorted(str(p) for p in music.iterdir())
    window_store = tmp_path / "window.json"
    ws = Workspace(app_dirs(), Settings.load(app_dirs().settings_path).replace(analysis_workers=2),
                   store_path=window_store)
    opened = []
    real = executors.open_executor
    monkeypatch.setattr(executors, "open_executor", lambda *a, **k: opened.append(real(*a, **k)) or opened[-1])
    ws.open_store()
    scan_paths(paths, ws.store)
    jobs = LibraryJobs(JobRunner(synchronous=True), ws)
    jobs.analyze(ws.store.all())
    jobs.flush_pending()
    window = {t.path: (t.status, t.prediction.to_dict()) for t in ws.store.all()}
    ws.close()
    assert [(o.kind, o.workers) for o in opened] == [("processes", 2)]

    cli_store = str(tmp_path / "cli.json")
    cli(capsys, "scan", str(music), "--store", cli_store)
    code, out, err = cli(capsys, "analyze", "--store", cli_store, "--workers", "1")
    assert code == 0 and "this process" in out, out + err
    with Store.open(cli_store) as store:
        headless = {t.path: (t.status, t.prediction.to_dict()) for t in store.all()}
    assert headless == window and len(window) == 3


def _predicted(store_path: str) -> set[str]:
    from genre_desktop.library.store import Store

    with Store.open(store_path) as store:
        return {t.path for t in store.all() if t.prediction is not None}


def test_a_killed_run_loses_at_most_a_batch_and_the_next_does_only_what_is_left(tmp_path, capsys, app_home):
    one_thread(app_home)
    music = tmp_path / "music"
    for i, (sig, freq) in enumerate(SIGNALS):
        make_audio(music / f"k{i}.flac", seconds=6, signal=sig, freq=freq)
    store = str(tmp_path / "lib.json")
    cli(capsys, "scan", str(music), "--store", store)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "genre_desktop.cli", "analyze", "--store", store, "--workers", "1",
                             "--batch", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not _predicted(store) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.communicate(timeout=60)
    saved = _predicted(store)
    assert 1 <= len(saved) < 4, "the kill came too late to test a resume"
    code, out, _ = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0 and f"Analysed {4 - len(saved)} of {4 - len(saved)} tracks" in out
    assert len(_predicted(store)) == 4


def test_a_file_with_unreadable_tags_is_analysed_and_its_note_outlives_the_analysis(music, tmp_path, capsys,
                                                                                     app_home):
    """Tags mutagen cannot parse, audio that decodes: scanned with a note, analysed, reviewed; the
    write is refused with the reason and the file is untouched."""
    from hostile import _broken_vorbis_flac

    from genre_desktop.library.store import Store

    one_thread(app_home)
    broken = music / "broken.flac"
    _broken_vorbis_flac(music / "t0.flac", broken)
    before = broken.read_bytes()
    store = str(tmp_path / "lib.json")
    assert cli(capsys, "scan", str(music), "--store", store)[0] == 0
    assert listing(capsys, store)["broken.flac"]["status"] == "unanalysed"
    code, out, err = cli(capsys, "analyze", "--store", store, "--workers", "1")
    assert code == 0, out + err
    row = listing(capsys, store)["broken.flac"]
    assert row["status"] == "predicted" and row["predicted"]
    with Store.open(store) as lib:
        note = lib.get(str(broken)).error
    assert note.startswith("tags unreadable (damaged FLAC") and "genres cannot be written" in note
    assert cli(capsys, "accept", "--above", "0", "--store", store)[0] == 0
    code, out, err = cli(capsys, "write", "--store", store)
    assert "broken.flac" in out + err and broken.read_bytes() == before
