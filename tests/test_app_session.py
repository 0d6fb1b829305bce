"""The library session (issue 19 items 1-3), Qt-free: one decision path with its undo and events,
analysis results saved with the analysed-file mark, the write plan with unwritable files apart,
plans checked against the store and the files before they are written, other processes' writes
taken in, a deleted store kept in memory, and no re-analysis after a verified tag write."""

from __future__ import annotations

import os
import shutil

import pytest
from media import make_audio

from genre_desktop.app.review import Decision
from genre_desktop.app.session import LibrarySession
from genre_desktop.app.workflow import ANALYSED_KEY, needs_analysis
from genre_desktop.app.workspace import Workspace
from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, WRITTEN
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres, write_genres


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    files = {
        "rock": make_audio(root / "rock.flac", seconds=0.5, tags={"genre": "Rock"}),
        "pop": make_audio(root / "pop.mp3", seconds=0.5, tags={"genre": "Pop"}),
        "plain": make_audio(root / "plain.wav", seconds=0.5),
        "sun": make_audio(root / "sun.au", seconds=0.5),
    }
    return root, {k: str(v) for k, v in files.items()}


def open_session(tmp_path, root) -> LibrarySession:
    ws = Workspace(app_dirs(), Settings(), store_path=tmp_path / "library.json")
    ws.open_store()
    scan_paths(sorted(str(p) for p in root.iterdir()), ws.store)
    session = LibrarySession(ws)
    session.open(str(root))
    return session


def predict(session: LibrarySession, path: str, genre: str, probability: float = 0.9) -> None:
    session.add_result(Prediction(path, genres=[(genre, probability), ("blues", 1 - probability)]))


def test_decisions_are_one_path_with_an_undo_and_events(tmp_path, library):
    root, files = library
    session = open_session(tmp_path, root)
    seen = []
    session.events.connect(lambda e: seen.append(e.type))
    for name, genre in (("rock", "jazz"), ("pop", "pop"), ("plain", "rock")):
        predict(session, files[name], genre)
    session.flush()
    assert seen.count("changed") == 3 and seen.count("unsaved") == 1  # one "unsaved" until saved
    seen.clear()
    session.decide([Decision.choose(files["rock"], ["jazz"], ACCEPTED), Decision.choose(files["pop"], ["Funk"], CORRECTED)])
    assert seen == ["changed", "unsaved", "decisions"] and session.last_step == 2
    assert session.decision_counts() == {ACCEPTED: 1, CORRECTED: 1} and session.can_undo
    session.decide([Decision.take_back(session.track(files["pop"]))])  # the CLI's reset: the same path
    assert session.track(files["pop"]).status == PREDICTED and session.track(files["pop"]).chosen is None
    assert session.undo_decision() == [files["pop"]]
    assert session.track(files["pop"]).chosen == ["Funk"]
    session.flush()
    with Store.open(tmp_path / "library.json") as store:
        assert store.get(files["pop"]).status == CORRECTED and store.get(files["rock"]).chosen == ["jazz"]
    assert session.undo_decision() == [files["rock"], files["pop"]]  # one step for the pair
    assert not session.can_undo and session.track(files["rock"]).status == PREDICTED
    session.workspace.close()


def test_an_analysis_result_is_saved_with_the_analysed_file_mark(tmp_path, library):
    """The window never stamped the mark: a file analysed there and changed later was never
    re-analysed by `analyze`. Both faces now save results through the session."""
    root, files = library
    session = open_session(tmp_path, root)
    predict(session, files["rock"], "jazz")
    session.flush()
    with Store.open(tmp_path / "library.json") as store:
        track = store.get(files["rock"])
    assert track.extra[ANALYSED_KEY] == [track.size, track.mtime] and not needs_analysis(track)
    track.mtime += 10  # the file changed on disk since (a rescan records it)
    assert needs_analysis(track)
    session.workspace.close()


def test_the_plan_sets_unwritable_files_apart_and_a_verified_write_keeps_the_analysis(tmp_path, library):
    root, files = library
    session = open_session(tmp_path, root)
    for name in ("rock", "pop", "sun"):
        predict(session, files[name], "jazz")
    session.decide([Decision.choose(files[n], ["jazz"], ACCEPTED) for n in ("rock", "pop", "sun")])
    plan = session.plan()
    assert sorted(plan.values()) == sorted([files["rock"], files["pop"]])
    assert [(c.path, why) for c, why in plan.unwritable] == [(files["sun"], "Sun .au files have no tag format to write genres to")]
    outcome = session.write(plan)
    assert outcome.stale is None and outcome.ok == 2
    assert read_genres(files["rock"]) == ["Rock", "Jazz"] and session.track(files["rock"]).status == WRITTEN
    with Store.open(tmp_path / "library.json") as store:
        for name in ("rock", "pop"):  # the audio was proven identical: no re-analysis of what was written
            written = store.get(files[name])
            assert written.extra[ANALYSED_KEY] == [written.size, written.mtime] and not needs_analysis(written)
    session.undo_write()
    assert read_genres(files["rock"]) == ["Rock"]
    with Store.open(tmp_path / "library.json") as store:
        assert not needs_analysis(store.get(files["rock"]))  # the undo is verified too
    session.workspace.close()


def test_a_stale_analysis_mark_is_not_carried_over_by_a_write(tmp_path, library):
    root, files = library
    session = open_session(tmp_path, root)
    predict(session, files["plain"], "rock")
    session.flush()
    with session.workspace.store.batch():  # analysed before the file changed: the mark is stale
        track = session.workspace.store.get(files["plain"])
        track.extra = {**track.extra, ANALYSED_KEY: [1, 1.0]}
        session.workspace.store.upsert([track])
    session.open(str(root))
    session.decide([Decision.choose(files["plain"], ["rock"], ACCEPTED)])
    assert session.write(session.plan()).ok == 1
    with Store.open(tmp_path / "library.json") as store:
        assert store.get(files["plain"]).extra[ANALYSED_KEY] == [1, 1.0]  # still due for analysis
    session.workspace.close()


def test_a_plan_made_stale_by_another_process_or_program_is_not_written(tmp_path, library):
    root, files = library
    session = open_session(tmp_path, root)
    for name in ("rock", "pop"):
        predict(session, files[name], "jazz")
    session.decide([Decision.choose(files[n], ["jazz"], ACCEPTED) for n in ("rock", "pop")])
    session.flush()
    plan = session.plan()  # the preview the librarian is looking at
    other = Store.open(tmp_path / "library.json")  # another process decides differently meanwhile
    other.update(files["pop"], chosen=["Funk"], status=CORRECTED)
    other.close()
    outcome = session.write(plan)
    assert outcome.stale is not None and outcome.results == []
    assert "1 file changed in the library since this preview" in outcome.stale.reasons[0]
    assert read_genres(files["pop"]) == ["Pop"] and read_genres(files["rock"]) == ["Rock"]  # nothing written
    assert session.track(files["pop"]).chosen == ["Funk"]  # the session took in the library as it is now
    assert session.plan().values()[files["pop"]] == ["Pop", "Funk"]  # the plan shown again (the file's genre stays)
    # Another program retags a file between the (new) preview and the write.
    plan = session.plan()
    write_genres(files["rock"], ["Metal"])
    outcome = session.write(plan)
    assert outcome.stale is not None and "changed on disk since the last scan" in outcome.stale.reasons[-1]
    assert read_genres(files["rock"]) == ["Metal"] and session.track(files["rock"]).genres == ["Metal"]
    again = session.plan()
    assert {c.path: c.old for c in again.changes}[files["rock"]] == ["Metal"]  # "Now" is what the file holds
    outcome = session.write(again)
    assert outcome.stale is None and read_genres(files["rock"]) == ["Metal", "Jazz"]
    assert read_genres(files["pop"]) == ["Pop", "Funk"]
    session.workspace.close()


def test_other_processes_writes_are_taken_in_and_a_deleted_store_is_restored(tmp_path, library):
    root, files = library
    session = open_session(tmp_path, root)
    events = []
    session.events.connect(lambda e: events.append(e))
    assert session.poll() is None  # nothing changed: a stat per file, nothing read
    other = Store.open(tmp_path / "library.json")
    other.update(files["plain"], chosen=["Ambient"], status=CORRECTED)
    other.close()
    session.poll()
    assert session.track(files["plain"]).chosen == ["Ambient"]
    assert [(e.type, getattr(e, "changed", None)) for e in events if e.type == "external"] == [("external", 1)]
    events.clear()
    session.decide([Decision.choose(files["rock"], ["jazz"], CORRECTED)])
    shutil.rmtree(tmp_path / "library.json.shards")
    os.remove(tmp_path / "library.json")  # deleted under the open library
    session.poll()
    assert [e.type for e in events if e.type == "store_lost"] == ["store_lost"] and session.lost
    assert len(session) == 4 and session.flush() is None  # nothing written into an empty library
    session.restore_store()
    assert not session.lost
    session.workspace.close()
    with Store.open(tmp_path / "library.json") as store:
        assert len(store) == 4 and store.get(files["rock"]).chosen == ["jazz"]
        assert store.get(files["plain"]).chosen == ["Ambient"]
