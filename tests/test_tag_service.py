"""TagService: journaled write + verify + undo over every container; refusals; crash recovery."""

from __future__ import annotations

import os
import time

import mutagen
import pytest
from media import FORMATS, make_audio

from genre_desktop.library.journal import DONE, FAILED, PENDING, Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import CHANGED_ON_DISK, READ_ONLY, TagService
from genre_desktop.core.status import PREDICTED, WRITTEN
from genre_desktop.tagging import WriteOptions, read_genres, write_genres

TAGS = {"title": "Title", "artist": "Artist", "album": "Album", "genre": ["Rock"]}


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tag-masters")
    return {ext: make_audio(folder / f"m{ext}", seconds=0.5, tags=TAGS) for ext in FORMATS}


@pytest.fixture
def lib(tmp_path, masters):
    """(service, store, journal, {ext: path}) with a fresh copy of every master, scanned."""
    paths = {}
    for ext, master in masters.items():
        target = tmp_path / "music" / f"song{ext}"
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(master.read_bytes())
        paths[ext] = str(target)
    store = Store.open(tmp_path / "library.json")
    scan_paths(list(paths.values()), store)
    journal = Journal(tmp_path / "journal.jsonl")
    yield TagService(store, journal, WriteOptions()), store, journal, paths
    journal.close()


def other_tags(path):
    """Every tag except the genre, as mutagen sees it (to prove the write touched only genres)."""
    audio = mutagen.File(path)
    return {k: str(v) for k, v in (audio.tags or {}).items() if "genre" not in k.lower() and "TCON" not in k
            and "gen" not in k.lower()}


@pytest.mark.parametrize("ext", FORMATS)
def test_write_verify_undo_round_trip(lib, ext):
    service, store, journal, paths = lib
    path = paths[ext]
    before = other_tags(path)
    [result] = service.write({path: ["Jazz", "Blues"]})
    assert result.ok, result.error
    assert (result.old, result.new) == (["Rock"], ["Jazz", "Blues"])
    assert read_genres(path) == ["Jazz", "Blues"]
    assert other_tags(path) == before
    track = store.get(path)
    st = os.stat(path)
    assert track.status == WRITTEN and track.genres == ["Jazz", "Blues"]
    assert (track.size, track.mtime) == (st.st_size, st.st_mtime)
    assert [e.state for e in journal.entries()] == [DONE]
    [undone] = service.undo()
    assert undone.ok, undone.error
    assert read_genres(path) == ["Rock"] and store.get(path).genres == ["Rock"]
    assert store.get(path).status != WRITTEN
    assert service.undo() == []  # journaled: not undone twice


def test_id3v23_joins_values_and_undo_restores(lib):
    service, store, journal, paths = lib
    path = paths[".mp3"]
    service.options = WriteOptions(id3_version=3, id3_separator="/")
    [result] = service.write({path: ["Jazz", "Blues"]})
    assert result.ok, result.error
    from mutagen.id3 import ID3
    tags = ID3(path)
    assert tags.version[:2] == (2, 3) and "/".join(tags["TCON"].text) == "Jazz/Blues"
    assert service.undo()[0].ok
    assert read_genres(path) == ["Rock"]


def test_refusals_never_stop_the_batch(lib, tmp_path):
    service, store, journal, paths = lib
    changed, readonly, vanished, good = paths[".mp3"], paths[".flac"], paths[".ogg"], paths[".wav"]
    audio = mutagen.File(changed)  # someone else edits the file after the scan
    audio["TIT2"] = mutagen.id3.TIT2(encoding=3, text=["Edited elsewhere"])
    audio.save()
    os.utime(changed, (time.time() + 10, time.time() + 10))
    os.chmod(readonly, 0o444)
    os.remove(vanished)
    results = service.write({p: ["Pop"] for p in (changed, readonly, vanished, good, "/not/in/library.mp3")})
    by_path = {r.path: r for r in results}
    assert by_path[changed].error == CHANGED_ON_DISK
    assert by_path[readonly].error == READ_ONLY
    assert "vanished" in by_path[vanished].error
    assert "scan it first" in by_path["/not/in/library.mp3"].error
    assert by_path[good].ok and read_genres(good) == ["Pop"]
    assert read_genres(changed) == ["Rock"] and read_genres(readonly) == ["Rock"]
    assert [e.path for e in journal.entries()] == [good]  # refused files never reach the journal
    os.chmod(readonly, 0o644)


def test_write_failure_is_journaled_as_failed(lib, monkeypatch):
    service, store, journal, paths = lib
    from genre_desktop.library import tag_service as mod
    from genre_desktop.tagging import TagError

    def broken(path, genres, options, **kwargs):
        raise TagError(path, "disk full")

    monkeypatch.setattr(mod, "write_genres", broken)
    [result] = service.write({paths[".flac"]: ["Pop"]})
    assert not result.ok and result.error == "disk full"
    assert [(e.state, e.error) for e in journal.entries()] == [(FAILED, "disk full")]
    assert service.undo() == []


def test_undo_all_restores_originals_across_batches(lib):
    service, store, journal, paths = lib
    files = list(paths.values())
    originals = {p: read_genres(p) for p in files}
    assert all(r.ok for r in service.write({p: ["Jazz"] for p in files}))
    assert all(r.ok for r in service.write({files[0]: ["Metal", "Rock"]}))
    assert all(r.ok for r in service.write({files[-1]: ["Disco"]}))
    results = service.undo(all=True)
    assert results and all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert {p: read_genres(p) for p in files} == originals
    assert {p: store.get(p).genres for p in files} == originals
    assert service.undo(all=True) == []
    reopened = Journal(journal.path)
    assert not reopened.pending()


def test_undo_last_n_goes_backwards_one_batch_at_a_time(lib):
    service, store, journal, paths = lib
    path = paths[".flac"]
    for genres in (["A"], ["B"], ["C"]):
        assert service.write({path: genres})[0].ok
    assert [r.new for r in service.undo(last=1)] == [["B"]]
    assert read_genres(path) == ["B"]
    assert [r.new for r in service.undo(last=2)] == [["A"], ["Rock"]]
    assert read_genres(path) == ["Rock"]


def test_undo_leaves_a_file_changed_since_the_write(lib):
    service, store, journal, paths = lib
    path = paths[".flac"]
    assert service.write({path: ["Jazz"]})[0].ok
    write_genres(path, ["Changed by hand"])
    scan_paths([path], store)  # the store follows the file again
    [result] = service.undo()
    assert not result.ok and "changed since the write" in result.error
    assert read_genres(path) == ["Changed by hand"]


def test_recover_settles_pending_entries_after_a_crash(lib):
    service, store, journal, paths = lib
    written, untouched = paths[".flac"], paths[".wav"]
    track = store.get(written)
    # Crash 1: intent journaled, file written, then the process died before "done".
    e1 = journal.intent("crash", written, ["Rock"], ["Jazz"], extra={"status": track.status})
    write_genres(written, ["Jazz"])
    # Crash 2: intent journaled, died before touching the file.
    e2 = journal.intent("crash", untouched, ["Rock"], ["Jazz"])
    journal.close()
    reopened = Journal(journal.path)
    assert {e.id for e in reopened.pending()} == {e1.id, e2.id}
    service = TagService(store, reopened)
    results = {r.path: r for r in service.recover()}
    assert results[written].ok and not results[untouched].ok
    assert reopened.get(e1.id).state == DONE and reopened.get(e2.id).state == FAILED
    assert store.get(written).genres == ["Jazz"] and store.get(written).status == WRITTEN
    service.undo()  # the recovered write is undoable like any other
    assert read_genres(written) == ["Rock"] and read_genres(untouched) == ["Rock"]
    reopened.close()


def test_undo_of_a_pending_write_that_happened(lib):
    service, store, journal, paths = lib
    path = paths[".flac"]
    store.update(path, status=PREDICTED)
    journal.intent("crash", path, ["Rock"], ["Jazz"], extra={"status": PREDICTED})
    write_genres(path, ["Jazz"])
    [result] = service.undo()
    assert result.ok, result.error
    assert read_genres(path) == ["Rock"] and store.get(path).status == PREDICTED
    assert journal.pending() == []  # the interrupted write is settled as done, then undone


WRITER = r"""
import sys
from genre_desktop.library.journal import Journal
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
store = Store.open(sys.argv[1])
service = TagService(store, Journal(sys.argv[2]))
paths = sorted(p for p in store.paths())
print("ready", flush=True)
service.write({p: ["Killed", sys.argv[3]] for p in paths})
print("finished", flush=True)
"""


def test_sigkill_during_a_batch_write_leaves_every_file_old_or_new(tmp_path, masters):
    """Kill the writer at random moments (fixed seed): files are whole, the journal knows each one, undo restores."""
    import random
    import signal
    import subprocess
    import sys

    rng = random.Random(6)
    music = tmp_path / "music"
    music.mkdir()
    files = []
    for i in range(60):
        ext = (".flac", ".mp3", ".ogg")[i % 3]
        target = music / f"{i:02d}{ext}"
        target.write_bytes(masters[ext].read_bytes())
        files.append(str(target))
    store_path, journal_path = tmp_path / "library.json", tmp_path / "journal.jsonl"
    store = Store.open(store_path)
    scan_paths(files, store)
    store.close()
    kills = 0
    for round_no in range(4):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path), str(journal_path), f"r{round_no}"],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        kill_at = rng.randint(1, 50)  # kill once this round's journal holds about this many intents
        deadline = time.monotonic() + 60
        while child.poll() is None and time.monotonic() < deadline:
            text = journal_path.read_text() if journal_path.exists() else ""
            if text.count(f'"r{round_no}"') >= kill_at:
                break
            time.sleep(0.001)
        child.send_signal(signal.SIGKILL)
        kills += child.wait() == -signal.SIGKILL
        child.stdout.close()
        store, journal = Store.open(store_path), Journal(journal_path)
        assert store.recovered_from == []
        latest = {e.path: e for e in journal.entries()}
        for path in files:
            genres = read_genres(path)  # parses: never a half-written file
            entry = latest.get(path)
            if genres != ["Rock"]:
                assert entry is not None and entry.resolve(genres) == "new", (path, genres)
            elif entry is not None:
                assert entry.resolve(genres) in ("old", "new")
        service = TagService(store, journal)
        service.recover()
        assert journal.pending() == []
        results = service.undo(all=True)
        assert all(r.ok for r in results), [r.error for r in results if not r.ok]
        assert [read_genres(p) for p in files] == [["Rock"]] * len(files)
        assert not list(music.glob(".*.tmp"))
        journal.close()
        store.close()
    assert kills == 4
