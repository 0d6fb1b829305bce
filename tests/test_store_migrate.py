"""The store's format version: an older store is backed up and migrated, a newer one refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genre_desktop.library import store_migrate
from genre_desktop.library.store import FORMAT_VERSION, Store, StoreTooNew
from genre_desktop.core.status import UNANALYSED
from genre_desktop.core.track import Track


def write_v1_store(path: Path) -> None:
    """A store as version 1 of the app could leave it: documents without the fields added later."""
    shards = path.with_name(path.name + ".shards")
    shards.mkdir(parents=True)
    path.write_text(json.dumps({"meta": {"1": {"format": 1, "next_file": 2, "roots": ["/m"]}},
                                "shards": {"1": {"low": "", "file": "s000001.json"}}}))
    (shards / "s000001.json").write_text(json.dumps({"tracks": {
        "1": {"path": "/m/a.flac", "title": "A", "genres": ["Rock"]},
        "2": {"path": "/m/b.flac", "title": "B", "status": "accepted", "chosen": ["Jazz"]},
    }}))


def snapshot(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path.parent)): p.read_bytes() for p in sorted(path.parent.rglob("*")) if p.is_file()}


def test_an_old_store_is_backed_up_then_migrated_once(tmp_path):
    path = tmp_path / "library.json"
    write_v1_store(path)
    before = snapshot(path)
    store = Store.open(path)
    # the migration ran: raw documents now carry every field (queries over them see the defaults)
    assert [t.path for t in store.query(status=UNANALYSED)] == ["/m/a.flac"]
    assert store.get("/m/b.flac").chosen == ["Jazz"] and store.roots == ["/m"]
    store.close()
    # a backup of the old files, byte for byte
    backups = list(tmp_path.glob("library.json.backup-v1-*"))
    assert len(backups) == 1 and store.migrated_from == backups[0]
    assert snapshot(backups[0] / "library.json") == before
    # on disk: the new version and the migration recorded; every document has every field
    meta = json.loads(path.read_text())["meta"]["1"]
    assert meta["format"] == FORMAT_VERSION and meta["migrations"] == ["fill-track-defaults"]
    doc = json.loads((store.folder / "s000001.json").read_text())["tracks"]["1"]
    assert doc["status"] == UNANALYSED and doc["missing"] is False and doc["chosen"] is None
    # opening again neither migrates nor backs up again
    again = Store.open(path)
    assert again.migrated_from is None and len(list(tmp_path.glob("library.json.backup-*"))) == 1
    assert len(again) == 2
    again.close()


def test_a_migration_recorded_by_name_is_not_run_again(tmp_path, monkeypatch):
    """A crash after the header recorded the migration but (say) before a later step's bump."""
    path = tmp_path / "library.json"
    write_v1_store(path)
    meta = json.loads(path.read_text())
    meta["meta"]["1"]["migrations"] = ["fill-track-defaults"]
    path.write_text(json.dumps(meta))
    ran = []
    monkeypatch.setattr(store_migrate, "MIGRATIONS", ((2, "fill-track-defaults", ran.append),))
    Store.open(path).close()
    assert ran == [] and json.loads(path.read_text())["meta"]["1"]["format"] == 2


def test_a_crash_before_the_version_is_recorded_runs_the_migration_again(tmp_path, monkeypatch):
    path = tmp_path / "library.json"
    write_v1_store(path)
    real = store_migrate.Layout.set_header

    def crash(self, **fields):
        if "migrations" in fields:
            raise KeyboardInterrupt("killed")
        return real(self, **fields)

    monkeypatch.setattr(store_migrate.Layout, "set_header", crash)
    with pytest.raises(KeyboardInterrupt):
        Store.open(path)
    assert json.loads(path.read_text())["meta"]["1"]["format"] == 1  # the shards were migrated, not recorded
    monkeypatch.setattr(store_migrate.Layout, "set_header", real)
    store = Store.open(path)
    assert json.loads(path.read_text())["meta"]["1"]["format"] == FORMAT_VERSION
    assert [t.path for t in store.query(status=UNANALYSED)] == ["/m/a.flac"] and len(store) == 2
    store.close()


def test_a_store_from_a_newer_version_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "library.json"
    Store.open(path).close()  # a real store first, then pretend a newer app rewrote it
    meta = json.loads(path.read_text())
    meta["meta"]["1"]["format"] = FORMAT_VERSION + 1
    meta["meta"]["1"]["something_new"] = {"x": 1}
    path.write_text(json.dumps(meta))
    (path.with_name("library.json.shards") / "s000001.json").write_text(json.dumps({"tracks": {
        "1": {"path": "/m/x.flac", "a_field_from_the_future": 1}}}))
    (path.with_name("library.json.shards") / "s999999.json").write_text("{}")  # not in our meta: would be an orphan
    before = snapshot(path)
    with pytest.raises(StoreTooNew) as info:
        Store.open(path)
    message = str(info.value)
    assert "newer version of Genre Desktop" in message and f"format {FORMAT_VERSION + 1}" in message
    assert snapshot(path) == before
    assert not list(tmp_path.glob("library.json.backup-*"))


def test_a_layout_rewritten_by_a_newer_version_is_not_overwritten(tmp_path):
    """A newer app rewrote the meta file while this one had the store open: its next flush stops."""
    path = tmp_path / "library.json"
    store = Store.open(path)
    meta = json.loads(path.read_text())
    meta["meta"]["1"]["format"] = FORMAT_VERSION + 1
    path.write_text(json.dumps(meta))
    before = snapshot(path)
    with pytest.raises(StoreTooNew):
        store.upsert([Track(path="/m/new.flac")])
    assert snapshot(path) == before
