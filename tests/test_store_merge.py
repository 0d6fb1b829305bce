"""Two processes changing the same track: each keeps the fields the other did not change.

A store's unsaved changes are per-field patches (what this process changed relative to what it
read), merged onto the record as another process left it on disk. For a field both changed, the
later flush wins. A deletion and a concurrent update of the same track: the track stays (an
update wins over a removal in either order), because a removal drops the librarian's choices and
predictions while a stale entry is only flagged missing again by the next scan.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.core.status import ACCEPTED, PREDICTED, WRITTEN
from genre_desktop.core.track import Track

REPO = Path(__file__).resolve().parent.parent


def prediction(genre: str, p: float) -> dict:
    return {"genres": [{"genre": genre, "probability": p}], "members": {}}


@pytest.mark.skipif(os.name == "nt", reason="runs the CLI in a second process")
def test_a_window_save_keeps_a_finished_cli_tag_write(tmp_path):
    """Process B (the CLI ``tag``) writes genres; process A (the window) then saves an analysis of
    the same track: the store keeps B's genres, ``written`` and the file's new size and mtime."""
    from media import make_audio

    song = str(make_audio(tmp_path / "song.flac", seconds=0.5, tags={"genre": ["Rock"]}))
    store_path = tmp_path / "library.json"
    window = Store.open(store_path)
    scan_paths([song], window)
    window.update(song, prediction=prediction("rock", 0.6), status=PREDICTED)
    before = window.get(song)
    assert before.genres == ["Rock"]

    with window.batch():  # the window's save queue: the analysis result is not flushed yet
        window.update(song, prediction=prediction("jazz", 0.8), error=None, status=PREDICTED)
        cli = subprocess.run(
            [sys.executable, "-m", "genre_desktop.cli", "tag", "--store", str(store_path),
             "--journal", str(tmp_path / "journal.jsonl"), "--genre", "Jazz", song],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=120)
        assert cli.returncode == 0, cli.stdout + cli.stderr
    st = os.stat(song)
    assert (st.st_size, st.st_mtime) != (before.size, before.mtime)  # the tag write really changed the file

    for store in (window, Store.open(store_path)):
        track = store.get(song)
        assert track.genres == ["Jazz"]
        assert track.status == WRITTEN
        assert (track.size, track.mtime) == (st.st_size, st.st_mtime)
        assert track.predicted_genre == "jazz"  # and the window's analysis is there too
    window.close()


def seeded(tmp_path: Path, n: int = 5) -> Path:
    path = tmp_path / "library.json"
    with Store.open(path) as store:
        store.upsert(Track(path=f"/m/{i}.flac", title=f"t{i}", genres=["Rock"], size=100 + i) for i in range(n))
    return path


def test_an_upsert_of_a_whole_track_changes_only_the_fields_it_changed(tmp_path):
    path = seeded(tmp_path)
    a, b = Store.open(path), Store.open(path)
    stale = a.get("/m/1.flac")
    b.update("/m/1.flac", chosen=["Jazz"], genres=["Jazz"], status=WRITTEN, size=555)
    stale.title = "renamed by a rescan in A"
    a.upsert([stale])  # the whole record, as the scanner stores it: only the title differs from A's copy
    for store in (a, Store.open(path)):
        t = store.get("/m/1.flac")
        assert (t.title, t.chosen, t.genres, t.status, t.size) == ("renamed by a rescan in A", ["Jazz"], ["Jazz"], WRITTEN, 555)
    # an upsert that changes nothing writes nothing
    mtime = a.files()[1].stat().st_mtime_ns
    a.upsert([a.get("/m/1.flac")])
    assert a.files()[1].stat().st_mtime_ns == mtime
    a.close()
    b.close()


def test_a_field_both_processes_changed_takes_the_later_flush(tmp_path):
    path = seeded(tmp_path)
    a, b = Store.open(path), Store.open(path)
    b.update("/m/2.flac", chosen=["Jazz"], title="from b")
    a.update("/m/2.flac", chosen=["Blues"])
    t = Store.open(path).get("/m/2.flac")
    assert (t.chosen, t.title) == (["Blues"], "from b")
    assert a.get("/m/2.flac").title == "from b"  # A merged B's change into its memory too
    a.close()
    b.close()


def test_an_analysis_result_does_not_undo_a_decision_another_process_saved(tmp_path):
    """The window analyses an unanalysed track while the CLI writes its genres: the window's later
    save brings its prediction but leaves ``written`` (and the CLI's genres); a decision is only
    changed by another decision."""
    path = seeded(tmp_path)
    window, cli = Store.open(path), Store.open(path)
    cli.update("/m/3.flac", chosen=["Jazz"], genres=["Jazz"], status=WRITTEN)
    window.update("/m/3.flac", prediction=prediction("blues", 0.7), error=None, status=PREDICTED)
    for store in (window, Store.open(path)):
        t = store.get("/m/3.flac")
        assert (t.status, t.genres, t.predicted_genre) == (WRITTEN, ["Jazz"], "blues")
    # a decision after a decision: the later flush wins, as for any field
    cli.update("/m/3.flac", status=PREDICTED, chosen=None)  # e.g. undone in the CLI
    window.update("/m/3.flac", status=ACCEPTED, chosen=["Blues"])
    assert Store.open(path).get("/m/3.flac").status == ACCEPTED
    window.close()
    cli.close()


def test_extra_keys_a_caller_drops_are_removed_and_others_kept(tmp_path):
    path = tmp_path / "library.json"
    with Store.open(path) as store:
        store.upsert([Track(path="/m/x.flac", extra={"keep": 1, "drop": 2})])
    a, b = Store.open(path), Store.open(path)
    t = a.get("/m/x.flac")
    del t.extra["drop"]
    with a.batch():
        a.upsert([t])
        b.update("/m/x.flac", title="b")
    got = Store.open(path).get("/m/x.flac")
    assert got.extra == {"keep": 1} and got.title == "b"
    a.close()
    b.close()


def test_a_removal_does_not_delete_a_track_another_process_changed_meanwhile(tmp_path):
    path = seeded(tmp_path)
    a, b = Store.open(path), Store.open(path)
    with a.batch():
        a.remove(["/m/3.flac", "/m/4.flac"])
        b.update("/m/3.flac", chosen=["Jazz"])  # B changed 3 after A read it; 4 is untouched
    final = Store.open(path)
    assert final.get("/m/3.flac").chosen == ["Jazz"] and "/m/4.flac" not in final
    assert "/m/3.flac" in a and a.get("/m/3.flac").chosen == ["Jazz"] and len(a) == len(final) == 4
    a.close()
    b.close()


def test_a_removal_after_seeing_the_other_process_change_applies(tmp_path):
    path = seeded(tmp_path)
    a, b = Store.open(path), Store.open(path)
    with a.batch():
        a.update("/m/3.flac", title="a")
        b.update("/m/3.flac", chosen=["Jazz"])
        a.refresh()  # A now shows B's change, and then removes the track knowingly
        assert a.get("/m/3.flac").chosen == ["Jazz"]
        a.remove(["/m/3.flac"])
        b.update("/m/2.flac", title="b")  # so A's flush re-reads the shard once more
    final = Store.open(path)
    assert "/m/3.flac" not in final and final.get("/m/2.flac").title == "b"
    a.close()
    b.close()


def test_an_update_brings_back_a_track_another_process_removed(tmp_path):
    path = seeded(tmp_path)
    a, b = Store.open(path), Store.open(path)
    with a.batch():
        a.update("/m/0.flac", chosen=["Pop"])
        b.remove(["/m/0.flac"])
    t = Store.open(path).get("/m/0.flac")
    assert t is not None and t.chosen == ["Pop"] and t.title == "t0" and t.size == 100
    a.close()
    b.close()


def test_a_removal_of_a_track_this_process_never_saw_removes_nothing(tmp_path):
    path = seeded(tmp_path, 1)
    a, b = Store.open(path), Store.open(path)
    with a.batch():
        a.remove(["/m/new.flac"])
        b.upsert([Track(path="/m/new.flac", title="from b")])
        a.update("/m/0.flac", title="a")  # so A's flush re-reads the shard
    assert Store.open(path).get("/m/new.flac").title == "from b"
    a.close()
    b.close()


def test_patches_survive_a_layout_change_by_another_process(tmp_path, monkeypatch):
    from genre_desktop.library import store_shards

    monkeypatch.setattr(store_shards, "MAX_SHARD_BYTES", 3000)
    path = seeded(tmp_path, 3)
    a, b = Store.open(path), Store.open(path)
    with a.batch():
        a.update("/m/1.flac", chosen=["Metal"])
        b.update("/m/1.flac", genres=["Doom"])
        b.upsert(Track(path=f"/m/1.{i:03d}.flac", title="x" * 40) for i in range(100))  # B splits shards
    final = Store.open(path)
    assert len(final.files()) > 3
    t = final.get("/m/1.flac")
    assert (t.chosen, t.genres) == (["Metal"], ["Doom"]) and len(final) == 103
    a.close()
    b.close()
