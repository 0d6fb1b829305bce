"""The store sees other processes' writes cheaply, and survives its files being deleted under it
(issue 19 item 2): ``changed_on_disk`` (a stat per file), ``refresh`` returning what changed,
``StoreLost`` instead of an empty library, ``restore`` writing everything back from memory."""

from __future__ import annotations

import shutil

import pytest

from genre_desktop.core.status import ACCEPTED, PREDICTED
from genre_desktop.core.track import Track
from genre_desktop.library.store import Store, StoreLost, StoreUnavailable


def tracks(n: int, prefix: str = "/music/a") -> list[Track]:
    return [Track(f"{prefix}{i:05d}.flac", title=f"T{i}", size=i, mtime=float(i), status=PREDICTED) for i in range(n)]


@pytest.fixture
def two(tmp_path):
    path = tmp_path / "library.json"
    a = Store.open(path)
    a.upsert(tracks(30))
    b = Store.open(path)
    yield a, b
    for store in (a, b):
        try:
            store.close()
        except StoreUnavailable:
            store.close(save=False)


def test_changes_of_another_process_are_seen_by_a_stat_and_read_back(two):
    a, b = two
    assert not a.changed_on_disk() and not b.changed_on_disk()
    b.update("/music/a00003.flac", status=ACCEPTED, chosen=["Jazz"])
    b.upsert([Track("/music/b.flac", title="New")])
    assert a.changed_on_disk()
    changes = a.refresh()
    assert {t.path: t.status for t in changes.changed} == {"/music/a00003.flac": ACCEPTED, "/music/b.flac": "unanalysed"}
    assert changes.removed == [] and a.get("/music/a00003.flac").chosen == ["Jazz"]
    assert not a.changed_on_disk() and not a.refresh()  # read once: nothing more to report
    b.remove(["/music/a00004.flac"])
    assert a.refresh().removed == ["/music/a00004.flac"] and "/music/a00004.flac" not in a
    a.update("/music/a00005.flac", title="Mine")  # this process's own writes are not "changes"
    assert not a.changed_on_disk()


def test_a_split_by_another_process_is_read_back_with_what_changed(two, monkeypatch):
    from genre_desktop.library import store_shards

    a, b = two
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 2000)  # b's next flush splits the shard
    b.upsert(tracks(40, "/music/c"))
    assert len(b.files()) > len(a.files())
    changes = a.refresh()
    assert len(changes.changed) == 40 and {t.path for t in changes.changed} == {t.path for t in tracks(40, "/music/c")}
    assert len(a) == 70


def test_a_deleted_store_is_lost_not_emptied_and_restore_keeps_everything(two, tmp_path):
    a, b = two
    b.close()
    shutil.rmtree(tmp_path)  # the user deletes the library folder while the window has it open
    assert a.lost() and a.changed_on_disk()
    with pytest.raises(StoreLost) as lost:
        a.refresh()
    assert "was deleted while it was open" in str(lost.value)
    with pytest.raises(StoreLost):  # a decision made meanwhile is not written into an empty library...
        a.update("/music/a00007.flac", status=ACCEPTED, chosen=["Blues"])
    assert len(a) == 30 and a.get("/music/a00007.flac").chosen == ["Blues"]  # ...but kept in memory
    a.restore()
    assert not a.lost()
    a.close()
    reopened = Store.open(tmp_path / "library.json")
    assert len(reopened) == 30 and reopened.get("/music/a00007.flac").chosen == ["Blues"]
    reopened.close()


def test_watching_a_large_store_costs_a_stat_per_file_and_reads_nothing(tmp_path, monkeypatch):
    from pathlib import Path

    from genre_desktop.library import store_files, store_sync

    store = Store.open(tmp_path / "library.json")
    store.upsert(tracks(5000))
    files = store.files()
    assert len(files) > 5  # sharded: the check is per file, not per track
    stats = []
    real = store_files.signature
    monkeypatch.setattr(store_sync, "signature", lambda path: stats.append(path) or real(path))
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail(f"read {self} to look for changes"))
    for _ in range(3):
        assert not store.changed_on_disk()
    assert sorted(map(str, stats)) == sorted(map(str, files * 3))
    monkeypatch.undo()
    store.close()
