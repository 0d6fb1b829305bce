"""Store: round trips, batching, sharding, corrupt files, crash leftovers."""

from __future__ import annotations

import json
import os

import pytest

from genre_desktop.library import store_files, store_shards
from genre_desktop.library.store import AtomicJSONStorage, Store
from genre_desktop.core.status import ERROR, WRITTEN
from genre_desktop.core.track import Track


def make(i: int, **kw) -> Track:
    base = dict(path=f"/music/artist{i // 50:03d}/album{i // 10:04d}/{i:05d} song ünïcødé.mp3", size=1000 + i,
                mtime=1.5e9 + i, format="mp3", title=f"Song {i}", artist=f"Artist {i // 50}", genres=["Rock"])
    base.update(kw)
    return Track(**base)


def test_round_trip_and_reopen(tmp_path):
    path = tmp_path / "library.json"
    store = Store.open(path)
    store.upsert([make(1, genres=["Jazz", "Blues"], prediction={"genres": [{"genre": "jazz", "probability": 0.9}]}),
                  make(2, extra={"extra_field": {"x": 1}})])
    assert len(store) == 2
    store.close()
    again = Store.open(path)
    assert len(again) == 2
    one = again.get(make(1).path)
    assert one.genres == ["Jazz", "Blues"] and one.predicted_genre == "jazz"
    assert again.get(make(2).path).extra == {"extra_field": {"x": 1}}
    assert again.get("/nope") is None
    assert again.recovered_from == []
    again.close()


def test_returned_tracks_do_not_alias_the_store(tmp_path):
    store = Store.open(tmp_path / "s.json")
    track = make(1)
    store.upsert([track])
    track.genres.append("changed by caller")
    got = store.get(track.path)
    got.genres.append("changed again")
    assert store.get(track.path).genres == ["Rock"]


def test_update_remove_and_query(tmp_path):
    store = Store.open(tmp_path / "s.json")
    store.upsert(make(i) for i in range(30))
    updated = store.update(make(3).path, genres=["Hip-Hop"], status=WRITTEN)
    assert updated.genres == ["Hip-Hop"] and store.get(make(3).path).status == WRITTEN
    with pytest.raises(KeyError):
        store.update("/not/there.mp3", genres=[])
    with pytest.raises(TypeError):
        store.update(make(3).path, no_such_field=1)
    assert [t.path for t in store.query(genre="hip-hop")] == [make(3).path]
    assert [t.path for t in store.query(status=WRITTEN)] == [make(3).path]
    assert {t.path for t in store.query(search="SONG 1")} == {make(i).path for i in (1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)}
    store.update(make(5).path, missing=True, status=ERROR)
    assert store.remove_missing() == [make(5).path]
    store.remove([make(6).path, "/unknown"])
    assert len(store) == 28 and make(6).path not in store
    store.close()
    assert len(Store.open(tmp_path / "s.json")) == 28


def test_batch_writes_each_file_once(tmp_path, monkeypatch):
    writes = []
    real = store_files.atomic_write_bytes
    monkeypatch.setattr(store_files, "atomic_write_bytes", lambda p, d, **kw: (writes.append(p), real(p, d, **kw)))
    store = Store.open(tmp_path / "s.json")
    writes.clear()
    with store.batch():
        for i in range(200):
            store.upsert([make(i)])
        with store.batch():  # nested: still one flush at the outer end
            store.update(make(0).path, genres=["Pop"])
        assert writes == []
    assert len(writes) == len(set(writes)) and len(writes) >= 1
    writes.clear()
    store.upsert([make(7, genres=["Disco"])])  # outside a batch: flushed at once
    assert len(writes) == 1


def test_shards_split_and_one_change_rewrites_one_small_file(tmp_path, monkeypatch):
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 20_000)
    path = tmp_path / "library.json"
    store = Store.open(path)
    for start in range(0, 1000, 100):
        with store.batch():
            store.upsert(make(i) for i in range(start, start + 100))
    assert len(store._layout.shards) > 10
    sizes = [f.stat().st_size for f in store.files()[1:]]
    assert max(sizes) <= 20_000
    writes = []
    real = store_files.atomic_write_bytes
    monkeypatch.setattr(store_files, "atomic_write_bytes", lambda p, d, **kw: (writes.append(len(d)), real(p, d, **kw)))
    store.update(make(500).path, genres=["Metal"])
    assert len(writes) == 1 and writes[0] <= 20_000
    store.close()
    again = Store.open(path)
    assert len(again) == 1000 and again.get(make(500).path).genres == ["Metal"]
    assert sorted(t.path for t in again.all()) == sorted(make(i).path for i in range(1000))


def test_corrupt_shard_is_backed_up_and_the_rest_survives(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 5_000)
    path = tmp_path / "library.json"
    store = Store.open(path)
    store.upsert(make(i) for i in range(100))
    store.close()
    shard_files = sorted(store.folder.glob("s*.json"))
    assert len(shard_files) > 2
    shard_files[0].write_text('{"tracks": {"1": {"pa')  # torn by some other tool
    again = Store.open(path)
    assert len(again.recovered_from) == 1 and ".corrupt-" in again.recovered_from[0].name
    assert again.recovered_from[0].read_text().startswith('{"tracks"')
    assert 0 < len(again) < 100
    assert "corrupt" in caplog.text
    again.upsert([make(0)])  # the fresh shard works
    again.close()
    assert make(0).path in Store.open(path)


def test_corrupt_meta_is_rebuilt_from_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 5_000)
    path = tmp_path / "library.json"
    store = Store.open(path)
    store.upsert(make(i, chosen=["Jazz"]) for i in range(100))
    store.close()
    path.write_bytes(b"\x00\x00garbage")
    again = Store.open(path)
    assert again.recovered_from and len(again) == 100
    assert again.get(make(42).path).chosen == ["Jazz"]
    again.close()
    assert len(Store.open(path)) == 100


@pytest.mark.parametrize("content", [b"", b"[1, 2]", b'{"tracks": {"1": {"no_path": 1}}}'])
def test_bad_shapes_count_as_corrupt(tmp_path, content):
    path = tmp_path / "library.json"
    Store.open(path).upsert([make(1)])
    shard = next(path.with_name("library.json.shards").glob("s*.json"))
    shard.write_bytes(content)
    again = Store.open(path)
    assert len(again) == 0 and len(again.recovered_from) == 1


def test_crash_between_split_steps_keeps_each_track_once(tmp_path, monkeypatch):
    """Meta lists the new upper shard but the lower one was not yet rewritten: duplicates resolve."""
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 10_000)
    path = tmp_path / "library.json"
    store = Store.open(path)
    store.upsert(make(i) for i in [*range(10), *range(75, 80)])
    first = store._layout.shards[0].file
    old_lower = first.read_bytes()
    with store.batch():
        store.upsert(make(i, genres=["New"]) for i in range(10, 80))
        store.update(make(9).path, genres=["Newer"])
    assert len(store._layout.shards) > 1
    boundary = store._layout.lows[1]
    store.close()
    first.write_bytes(old_lower)  # as if the process died before the last rename of the flush
    again = Store.open(path)
    # Tracks of the lower range are in their old state (new ones absent), the rest in the new one.
    expected = {make(i).path for i in range(80) if i < 10 or make(i).path >= boundary}
    assert make(77).path >= boundary  # its stale copy in the old lower file is a stray
    assert set(again.paths()) == expected and len(again) == len(expected)
    assert all(again.get(make(i).path).genres == ["New"] for i in range(10, 80) if make(i).path >= boundary)
    # make(9) lives in the lower shard, whose old copy won: the track is whole, in its old state.
    assert again.get(make(9).path).genres == ["Rock"]
    again.close()
    again = Store.open(path)
    assert len(again) == len(expected) and len(again.paths()) == len(set(again.paths()))


def test_leftover_temp_and_orphan_shards_are_removed(tmp_path):
    path = tmp_path / "library.json"
    store = Store.open(path)
    store.upsert([make(1)])
    store.close()
    (store.folder / "s999999.json").write_text(json.dumps({"tracks": {"1": make(2).to_dict()}}))
    (store.folder / ".s000001.json.abc.tmp").write_text("partial")
    again = Store.open(path)
    assert len(again) == 1
    assert sorted(os.listdir(store.folder)) == ["s000001.json"]


def test_undecodable_file_names_round_trip(tmp_path):
    weird = os.fsdecode(b"/music/caf\xe9.mp3")  # latin-1 name on a UTF-8 system
    path = tmp_path / "s.json"
    Store.open(path).upsert([make(1, path=weird)])
    assert Store.open(path).get(weird) is not None


def test_atomic_storage_writes_compact_json(tmp_path):
    file = tmp_path / "t.json"
    storage = AtomicJSONStorage(file)
    storage.write({"t": {"1": {"a": [1, 2], "b": "é"}}})
    assert file.read_text(encoding="utf-8") == '{"t":{"1":{"a":[1,2],"b":"é"}}}'
    assert not list(tmp_path.glob("*.tmp"))


CHILD = r"""
import sys
from genre_desktop.library import store as m, store_shards
from genre_desktop.core.track import Track
store_shards.MAX_SHARD_BYTES = 8_000  # many splits, so kills land inside them too
store = m.Store.open(sys.argv[1])
start = int(sys.argv[2])
print("ready", flush=True)
i = start
while True:
    with store.batch():
        store.upsert(Track(path=f"/m/{(n * 7919) % 1000003:07d}.mp3", size=n, genres=[f"g{n}"]) for n in range(i, i + 40))
    i += 40
"""


def test_sigkill_at_random_moments_never_damages_the_store(tmp_path):
    """Kill a writer mid-batch (fixed seed): the store opens clean, records are whole, nothing flushed is lost."""
    import random
    import signal
    import subprocess
    import sys
    import time

    rng = random.Random(20261124)
    path = tmp_path / "library.json"
    durable = 0
    for round_no in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(round_no * 100_000)],
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        store = Store.open(path)
        assert store.recovered_from == []
        tracks = store.all()
        assert all(t.genres == [f"g{t.size}"] and t.path == f"/m/{(t.size * 7919) % 1000003:07d}.mp3" for t in tracks)
        assert len({t.path for t in tracks}) == len(tracks) == len(store)
        assert len(store) >= durable  # a kill loses at most the unflushed batch, never older tracks
        durable = len(store)
        store.close()
        assert not list(store.folder.glob(".*.tmp"))
    assert durable > 200, durable
