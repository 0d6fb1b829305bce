"""Two processes on one store (the GUI and the CLI): no lost updates, a clear error when busy.

Each child opens its own Store on the same files and, interleaved with the other, updates its
own half of the tracks one flush at a time and inserts new tracks (small shards, so both also
split shards and change the layout under each other). Every update of both must survive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from genre_desktop.library.store import Store, StoreBusy
from genre_desktop.core.track import Track

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX process handling in the test")

WRITER = r"""
import sys, time
from pathlib import Path
from genre_desktop.library import store_shards
from genre_desktop.library.store import Store
from genre_desktop.core.track import Track
store_shards.MAX_SHARD_BYTES = 6000          # split often: the layout changes under the other process
store_path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
store = Store.open(store_path)
mine = [p for p in store.paths() if p.startswith(f"/music/{name}/")]
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
for i, path in enumerate(mine):
    store.update(path, chosen=[name], status="accepted")       # one flush per update
    if i % 5 == 0:
        store.upsert([Track(path=f"/music/{name}/new{i:04d}.flac", title=f"new {i}")])
store.close()
print("done", flush=True)
"""


def seed(store_path: Path, per_writer: int) -> None:
    store = Store.open(store_path)
    # Interleaved paths ("a" and "b" tracks in the same shards), so both processes touch the same files.
    store.upsert(Track(path=f"/music/{w}/{i:04d}.flac", title=f"{w}{i}") for i in range(per_writer) for w in "ab")
    store.close()


def run_together(script: str, store_path, go) -> list[str]:
    """Run ``script`` as writers "a" and "b" on ``store_path``, released together once both are
    ready (the ``go`` file); each must exit 0. Returns their outputs after "ready"."""
    children = [subprocess.Popen([sys.executable, "-c", script, str(store_path), w, str(go)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in "ab"]
    for child in children:
        assert child.stdout.readline().strip() == "ready"
    go.touch()
    outputs = []
    for child in children:
        out, err = child.communicate(timeout=180)
        assert child.returncode == 0, err
        outputs.append(out)
    return outputs


def test_two_processes_writing_different_tracks_lose_no_update(tmp_path):
    store_path, go = tmp_path / "library.json", tmp_path / "go"
    per_writer = 120
    seed(store_path, per_writer)
    assert [out.strip() for out in run_together(WRITER, store_path, go)] == ["done", "done"]

    store = Store.open(store_path)
    assert store.recovered_from == []
    for w in "ab":
        for i in range(per_writer):
            track = store.get(f"/music/{w}/{i:04d}.flac")
            assert track is not None and track.chosen == [w] and track.status == "accepted", (w, i, track)
        new = [p for p in store.paths() if p.startswith(f"/music/{w}/new")]
        assert len(new) == len(range(0, per_writer, 5))
    assert len(store) == 2 * per_writer + 2 * len(range(0, per_writer, 5))
    assert len(store.files()) > 3  # the layout really split while both were writing
    store.close()


SAME_TRACKS = r"""
import sys, time
from pathlib import Path
from genre_desktop.library import store_shards
from genre_desktop.library.store import Store
from genre_desktop.core.track import Track
store_shards.MAX_SHARD_BYTES = 6000
store_path, name, go = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
store = Store.open(store_path)
paths = sorted(store.paths())
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
for i, path in enumerate(paths):
    if name == "a":
        store.update(path, chosen=["a"], status="accepted")   # the window accepting
    else:
        track = store.get(path)                               # a rescan: whole Track records
        track.title, track.size = f"retitled {i}", 1000 + i
        store.upsert([track])
    if i % 7 == 0:
        store.upsert([Track(path=f"/music/{name}/new{i:04d}.flac", title=f"new {i}")])
store.close()
print("done", flush=True)
"""


def test_two_processes_changing_different_fields_of_the_same_tracks_keep_both(tmp_path):
    """Each process changes its own fields of every track, one flush each, interleaved: every
    track ends with both changes (whole records re-applied would undo the other's)."""
    store_path, go = tmp_path / "library.json", tmp_path / "go"
    seed(store_path, 60)
    run_together(SAME_TRACKS, store_path, go)
    store = Store.open(store_path)
    old = sorted(p for p in store.paths() if "/new" not in p)
    assert len(old) == 120
    for i, path in enumerate(old):
        t = store.get(path)
        assert (t.chosen, t.status, t.title, t.size) == (["a"], "accepted", f"retitled {i}", 1000 + i), t
    assert len(store) == 120 + 2 * len(range(0, 120, 7))
    store.close()


def test_refresh_shows_another_process_changes(tmp_path):
    store_path = tmp_path / "library.json"
    seed(store_path, 10)
    reader = Store.open(store_path)
    writer = Store.open(store_path)
    writer.update("/music/a/0003.flac", chosen=["Jazz"])
    writer.upsert([Track(path="/music/c/x.flac")])
    assert reader.get("/music/a/0003.flac").chosen is None  # in memory until refreshed
    reader.refresh()
    assert reader.get("/music/a/0003.flac").chosen == ["Jazz"]
    assert "/music/c/x.flac" in reader and len(reader) == 21
    # and a reader's own later write keeps the writer's change
    reader.update("/music/b/0004.flac", chosen=["Pop"])
    writer.update("/music/a/0005.flac", chosen=["Rock"])
    writer.close()
    reader.close()
    final = Store.open(store_path)
    assert [final.get(f"/music/{p}").chosen for p in ("a/0003.flac", "b/0004.flac", "a/0005.flac")] == [
        ["Jazz"], ["Pop"], ["Rock"]]
    final.close()


HOLDER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX)
os.ftruncate(fd, 0); os.write(fd, f"{os.getpid()}\n".encode())
print("locked", flush=True)
time.sleep(60)
"""


def test_a_busy_store_gives_a_clear_error_and_a_killed_holder_frees_it(tmp_path):
    store_path = tmp_path / "library.json"
    seed(store_path, 3)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "library.json.lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        with pytest.raises(StoreBusy) as info:
            Store.open(store_path, lock_timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 5
        assert f"pid {holder.pid}" in str(info.value) and "in use by another" in str(info.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    store = Store.open(store_path, lock_timeout=5)  # the kernel released the dead holder's lock
    assert len(store) == 6
    store.close()


def test_cli_reports_a_busy_store(tmp_path, capsys):
    from genre_desktop.cli import main

    store_path = tmp_path / "library.json"
    seed(store_path, 1)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "library.json.lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = main(["list", "--store", str(store_path), "--lock-timeout", "0.2"])
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        holder.stdout.close()
    assert code == 1
    assert "in use by another Genre Desktop process" in capsys.readouterr().err


JOURNAL_WRITER = r"""
import sys, time
from genre_desktop.library.journal import Journal
journal = Journal(sys.argv[1])
with journal.writing():
    journal.intent("b1", sys.argv[2], ["Rock"], ["Jazz"])   # in flight: not yet written
    print("writing", flush=True)
    time.sleep(60)
"""


def test_recover_leaves_another_live_writers_entries_alone(tmp_path):
    from media import make_audio

    from genre_desktop.library.journal import Journal
    from genre_desktop.library.scanner import scan_paths
    from genre_desktop.library.tag_service import TagService

    song = make_audio(tmp_path / "a.flac", seconds=0.3, tags={"genre": ["Rock"]})
    working_copy = tmp_path / ".a.flac.genre-desktop-live1234.tmp"
    working_copy.write_bytes(song.read_bytes())
    journal_path = tmp_path / "journal.jsonl"
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(song)], store)
    writer = subprocess.Popen([sys.executable, "-c", JOURNAL_WRITER, str(journal_path), str(song)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        service = TagService(store, Journal(journal_path))
        assert len(service.journal.pending()) == 1
        assert service.recover() is None  # the other process is alive: its write is in flight
        assert len(service.journal.pending()) == 1 and working_copy.exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
    [settled] = service.recover()  # now it is a crash leftover
    assert not settled.ok and "interrupted" in settled.error
    assert service.journal.pending() == [] and not working_copy.exists()
    service.journal.close()
    store.close()
