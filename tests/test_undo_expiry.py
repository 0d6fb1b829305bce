"""Undo data stays bounded and visible: usage, expiry by size and age, the notice before, cleanup."""

from __future__ import annotations

import os
import time

from media import make_audio

from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
from genre_desktop.library.undo_expiry import UndoLimits, due, expiry_notice, kept, usage
from genre_desktop.library.undo_store import UndoStore, undo_folder
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_tags


def library(tmp_path, count=4, **kwargs):
    paths = [make_audio(tmp_path / "music" / f"{i}.flac", seconds=0.3, tags={"genre": ["Rock"], "title": f"T{i}"})
             for i in range(count)]
    store = Store.open(tmp_path / "library.json")
    scan_paths([str(p) for p in paths], store)
    return TagService(store, Journal(tmp_path / "journal.jsonl"), **kwargs), store, [str(p) for p in paths]


def blobs_on_disk(tmp_path):
    return sorted(p.name for p in undo_folder(tmp_path / "journal.jsonl").glob("*/*"))


def test_usage_counts_each_kept_blob_once(tmp_path):
    service, _, paths = library(tmp_path)
    for path in paths:
        assert service.write({path: ["Jazz"]})[0].ok
    now = usage(service.journal)
    on_disk = sum(p.stat().st_size for p in undo_folder(tmp_path / "journal.jsonl").glob("*/*"))
    assert now.writes == 4 and now.bytes == on_disk > 0 and now.oldest <= time.time()
    assert "for 4 writes" in now.describe()
    assert service.undo()[0].ok  # an undone write's data is removed
    assert usage(service.journal).writes == 3
    assert usage(service.journal).bytes == sum(p.stat().st_size for p in
                                               undo_folder(tmp_path / "journal.jsonl").glob("*/*"))


def test_the_oldest_writes_expire_past_the_size_limit_and_are_still_undone_by_genre(tmp_path):
    service, store, paths = library(tmp_path)
    for path in paths:
        assert service.write({path: ["Jazz"]})[0].ok
    per_write = usage(service.journal).bytes // 4
    service.limits = UndoLimits(max_bytes=int(per_write * 2.5))
    assert "oldest write" in expiry_notice(service.journal, service.limits, files=1)
    expired, freed = service.collect()
    assert expired == 2 and freed > 0
    entries = service.journal.entries()
    assert [e.expired is not None for e in entries] == [True, True, False, False]
    assert usage(service.journal).writes == 2
    assert set(blobs_on_disk(tmp_path)) == {k for e in entries[2:] for k in e.undo_blobs}
    assert Journal(tmp_path / "journal.jsonl").entries()[0].expired is not None  # journaled
    results = service.undo(all=True)
    assert [r.exact for r in results] == [True, True, False, False]
    assert "expired" in results[-1].note and results[-1].ok
    assert [read_tags(p).genres for p in paths] == [["Rock"]] * 4


def test_entries_older_than_the_age_limit_expire(tmp_path):
    service, _, paths = library(tmp_path, count=2)
    assert service.write({paths[0]: ["Jazz"]})[0].ok
    assert service.write({paths[1]: ["Jazz"]})[0].ok
    limits = UndoLimits(max_bytes=None, max_days=30)
    assert due(service.journal, limits) == []
    later = due(service.journal, limits, ahead=31 * 86400)
    assert [e.path for e in later] == paths
    assert "days" in expiry_notice(service.journal, UndoLimits(None, 1e-9), files=1)


def test_nothing_is_removed_while_another_process_writes(tmp_path):
    service, _, paths = library(tmp_path, count=2, limits=UndoLimits(max_bytes=1))
    with service.journal.writing():  # (the same journal from "another process": a second lock fd)
        assert service.write({paths[0]: ["Jazz"]})[0].ok
        before = blobs_on_disk(tmp_path)
        assert before and service.collect() is None
        assert blobs_on_disk(tmp_path) == before
    assert service.collect()[0] == 1 and blobs_on_disk(tmp_path) == []


def test_blobs_a_crash_left_without_a_record_are_swept_by_recovery(tmp_path):
    service, store, paths = library(tmp_path, count=1)
    assert service.write({paths[0]: ["Jazz"]})[0].ok
    live = blobs_on_disk(tmp_path)
    store_ = UndoStore.for_journal(tmp_path / "journal.jsonl")
    orphan, _ = store_._put(b"written by a process killed before its journal record", set())
    fresh, _ = store_._put(b"a write in flight in another process", set())
    old = time.time() - 7200
    os.utime(store_._path(orphan), (old, old))
    service.journal.intent("crash", paths[0], ["Jazz"], ["Pop"])  # a pending entry: recovery runs
    service.recover()
    assert sorted(blobs_on_disk(tmp_path)) == sorted(live + [fresh])


def test_limits_come_from_the_settings(tmp_path):
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.paths import AppDirs

    dirs = AppDirs(tmp_path / "config", tmp_path / "data", tmp_path / "cache")
    ws = Workspace(dirs, Settings(undo_max_mb=5, undo_max_days=10))
    assert ws.undo_limits() == UndoLimits(5 << 20, 10.0)
    assert Settings(undo_max_mb=0, undo_max_days=0).undo_max_mb == 0
    assert UndoLimits.from_values(0, 0) == UndoLimits(None, None)
    assert ws.undo_usage().writes == 0 and ws.undo_expiry_notice(10) is None


def test_kept_excludes_undone_and_refused_untouched_writes(tmp_path):
    service, _, paths = library(tmp_path, count=2)
    assert service.write({paths[0]: ["Jazz"], paths[1]: ["17"]})[0].ok  # "17" is fine for FLAC
    assert len(kept(service.journal)) == 2
    service.undo()
    assert kept(service.journal) == []
