"""The store's write path at scale: cached per-document JSON always equals a full dump, appends
(a scan walking in path order) fill shards instead of leaving them half empty."""

from __future__ import annotations

import json
import random

from genre_desktop.library import store_shards
from genre_desktop.library.store import Store, dumps_compact
from genre_desktop.core.track import Track


def track(i: int, **kw) -> Track:
    return Track(path=f"/m/{i:05d}-\udcff.flac" if i % 17 == 0 else f"/m/{i:05d}.flac",
                 title=f"t{i}", genres=["Rock"], size=i, **kw)


def test_cached_encoding_always_matches_a_full_dump(tmp_path, monkeypatch):
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 4000)
    rng = random.Random(6)
    path = tmp_path / "library.json"
    store = Store.open(path)
    alive: dict[str, Track] = {}
    for step in range(300):
        op = rng.random()
        with store.batch():
            if op < 0.5:
                new = [track(rng.randrange(2000)) for _ in range(rng.randint(1, 30))]
                store.upsert(new)
                alive.update({t.path: t for t in new})
            elif op < 0.8 and alive:
                p = rng.choice(sorted(alive))
                alive[p] = store.update(p, genres=[f"g{step}"], chosen=["x"])
            elif alive:
                gone = rng.sample(sorted(alive), min(len(alive), rng.randint(1, 10)))
                store.remove(gone)
                for p in gone:
                    del alive[p]
        for shard in [s for s in store._layout.shards if s.written]:  # on disk is exactly the in-memory data
            on_disk = json.loads(shard.file.read_bytes().decode("utf-8", "surrogatepass"))
            assert on_disk == json.loads(dumps_compact(shard.storage.read()).decode("utf-8", "surrogatepass"))
    store.close()
    again = Store.open(path)
    assert {t.path: (t.genres, t.chosen) for t in again.all()} == {p: (t.genres, t.chosen) for p, t in alive.items()}
    again.close()


def test_an_append_in_path_order_fills_shards(tmp_path, monkeypatch):
    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 20_000)
    store = Store.open(tmp_path / "library.json")
    for start in range(0, 3000, 250):  # a scan: sorted paths, batches of 250
        store.upsert(track(i) for i in range(start, start + 250))
    sizes = [f.stat().st_size for f in store.files()[1:]]
    assert max(sizes) <= 20_000
    assert sum(sizes) / len(sizes) > 0.75 * 20_000  # a median split would leave them ~half full
    # Inserts in the middle still split at the median, so no shard is left overfull.
    store.upsert(track(i) for i in range(3000, 3400, 2))
    store.upsert(Track(path=f"/m/01000.{k}.flac") for k in range(200))
    assert max(f.stat().st_size for f in store.files()[1:]) <= 20_000
    assert len(Store.open(tmp_path / "library.json")) == 3000 + 200 + 200
    store.close()


def test_one_big_batch_moves_each_track_a_bounded_number_of_times(tmp_path, monkeypatch):
    """A first scan in one batch (the GUI bench's 100,000 tracks) cut one shard at a time moved the
    remaining upper part at every split: quadratic. Each track is now inserted about once."""
    from tinydb.table import Table

    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 4000)
    inserted = []
    real = Table.insert_multiple
    monkeypatch.setattr(Table, "insert_multiple", lambda self, docs: real(self, inserted.extend(docs) or docs))
    store = Store.open(tmp_path / "library.json")
    with store.batch():
        store.upsert(track(i) for i in range(3000))
    assert len(store.files()) > 100
    assert len(inserted) < 2 * 3000, len(inserted)  # the insert itself, then about one move each
    sizes = [f.stat().st_size for f in store.files()[1:]]
    assert max(sizes) <= 4000 and sum(sizes) / len(sizes) > 0.75 * 4000
    store.close()
    assert len(Store.open(tmp_path / "library.json")) == 3000
