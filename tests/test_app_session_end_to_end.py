"""Issue 19 end to end, without Qt: the library session's scan merge; the CLI in another process
writing while a session is open (seen within seconds; a plan made before is refreshed, not
executed); no re-analysis after a write, also for the CLI's `analyze`; an ID3v2.3 file stays v2.3
and the preview says what a conversion would do; an ffmpeg-made WAV (LIST INFO) gets its genre
where mutagen, mediafile, TagLib and ffprobe read it, and undo gives the file back byte for byte."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media import make_audio
from mutagen.id3 import ID3
from tag_readers import ffprobe_tags, id3, mediafile_fields, taglib_props

from genre_desktop.app.review import Decision
from genre_desktop.app.session import LibrarySession
from genre_desktop.app.workflow import ANALYSED_KEY, needs_analysis
from genre_desktop.app.workspace import Workspace
from genre_desktop.core.prediction import Prediction
from genre_desktop.core.status import ACCEPTED, CORRECTED, PREDICTED, WRITTEN
from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan, scan_paths
from genre_desktop.library.store import Store
from genre_desktop.paths import app_dirs, journal_for
from genre_desktop.settings import Settings
from genre_desktop.tagging import read_genres, write_genres
from genre_desktop.tagging.riff_info import read_info

FIXTURES = Path(__file__).parent / "data" / "tagging"


def open_session(store_path: Path, root: Path, settings: Settings | None = None) -> LibrarySession:
    ws = Workspace(app_dirs(), settings or Settings(write_mode="replace"), store_path=store_path)
    ws.open_store()
    scan_paths(sorted(str(p) for p in root.iterdir()), ws.store, ws.write_options())
    session = LibrarySession(ws)
    session.open(str(root))
    return session


def predict(session: LibrarySession, path: str, genre: str, probability: float = 0.9) -> None:
    session.add_result(Prediction(path, genres=[(genre, probability), ("blues", round(1 - probability, 2))]))


def cli(*argv: str) -> subprocess.CompletedProcess:
    """The command line in another process, on the same app home (tests/conftest.py)."""
    proc = subprocess.run([sys.executable, "-m", "genre_desktop.cli", *argv], capture_output=True, text=True,
                          timeout=180, env=dict(os.environ))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "music"
    files = {"rock": make_audio(root / "rock.flac", seconds=0.5, tags={"genre": "Rock"}),
             "pop": make_audio(root / "pop.mp3", seconds=0.5, tags={"genre": "Pop"}),
             "plain": make_audio(root / "plain.wav", seconds=0.5)}
    return root, {k: str(v) for k, v in files.items()}


def test_a_rescan_merges_onto_saved_and_unsaved_decisions(tmp_path, library):
    root, files = library
    session = open_session(tmp_path / "lib.json", root)
    store = session.workspace.store
    predict(session, files["rock"], "jazz")
    predict(session, files["pop"], "funk")
    session.decide([Decision.choose(files["rock"], ["jazz"], ACCEPTED)])
    session.flush()
    session.decide([Decision.choose(files["pop"], ["Funk"], CORRECTED)])  # not saved yet
    write_genres(files["plain"], ["Ambient"])  # another program tags a file...
    new = str(make_audio(root / "new.flac", seconds=0.5, tags={"genre": "Soul"}))  # ...and a file arrives
    gen = scan(str(root), store, save=session.scan_saver())
    for _progress in gen:
        pass
    session.merge(t for t in store.all())
    assert session.track(files["plain"]).genres == ["Ambient"] and session.track(new).genres == ["Soul"]
    rock, pop = session.track(files["rock"]), session.track(files["pop"])
    assert (rock.status, rock.chosen, rock.prediction.top[0]) == (ACCEPTED, ["jazz"], "jazz")  # saved: kept
    assert (pop.status, pop.chosen) == (CORRECTED, ["Funk"])  # unsaved: kept on top of the scan
    assert session.undo_decision() == [files["pop"]] and session.track(files["pop"]).status == PREDICTED
    session.flush()
    assert store.get(files["pop"]).status == PREDICTED and store.get(files["rock"]).chosen == ["jazz"]
    assert store.get(files["rock"]).extra[ANALYSED_KEY]  # the scan kept the analysis mark
    session.workspace.close()


def poll_until(session: LibrarySession, condition, seconds: float = 5.0) -> float:
    """Poll the way the window's watch does (once a second there) until ``condition``; the time taken."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, "the session did not see the other process's change"
        time.sleep(0.05)
        session.poll()
    return time.monotonic() - start


def test_the_cli_in_another_process_reaches_an_open_session_and_its_stale_plan_is_not_executed(tmp_path, library):
    root, files = library
    store_path = tmp_path / "lib.json"
    session = open_session(store_path, root)
    for name, genre, p in (("rock", "jazz", 0.95), ("pop", "funk", 0.9), ("plain", "rock", 0.5)):
        predict(session, files[name], genre, p)
    session.flush()
    cli("accept", "--above", "0.8", "--store", str(store_path))  # another process decides...
    poll_until(session, lambda: session.track(files["pop"]).status == ACCEPTED)
    assert session.track(files["rock"]).chosen == ["jazz"] and session.track(files["plain"]).status == PREDICTED
    plan = session.plan()  # ...the session's preview...
    assert plan.values() == {files["rock"]: ["Jazz"], files["pop"]: ["Funk"]}  # the genre tree's spelling
    out = cli("write", "--store", str(store_path))  # ...and the other process writes meanwhile
    assert "2 written" in out or "Wrote 2" in out, out
    outcome = session.write(plan)
    assert outcome.stale is not None and outcome.results == []  # not executed
    assert any("changed in the library since this preview" in r for r in outcome.stale.reasons), outcome.stale.reasons
    with Journal(journal_for(store_path)) as journal:
        assert sorted(e.path for e in journal.entries()) == sorted([files["rock"], files["pop"]])  # once each
    again = session.plan()  # refreshed: as the library is now
    assert again.changes == [] and again.unwritable == []  # nothing left to write: the other process wrote it
    assert [session.track(files[n]).status for n in ("rock", "pop")] == [WRITTEN, WRITTEN]
    assert session.track(files["pop"]).genres == read_genres(files["pop"]) == ["Pop", "Funk"]  # the CLI adds (default)
    session.workspace.close()


def test_no_re_analysis_after_a_write_and_analyze_says_so(tmp_path, library):
    root, files = library
    store_path = tmp_path / "lib.json"
    session = open_session(store_path, root)
    for name in files:
        predict(session, files[name], "jazz")
    session.decide([Decision.choose(files[n], ["jazz"], ACCEPTED) for n in files])
    outcome = session.write(session.plan())
    assert outcome.stale is None and outcome.ok == 3
    session.workspace.close()
    with Store.open(store_path) as store:
        written = [store.get(p) for p in files.values()]
    assert all(t.status == WRITTEN and not needs_analysis(t) for t in written)
    out = cli("analyze", "--store", str(store_path), str(root))
    assert "nothing to analyse" in out, out
    write_genres(files["rock"], ["Metal"])  # retagged by another program: the audio is the same...
    with open(files["plain"], "r+b") as f:  # ...but this file's audio changed
        f.seek(-4, os.SEEK_END)
        f.write(b"\x01\x02\x03\x04")
    cli("scan", str(root), "--store", str(store_path))
    with Store.open(store_path) as store:
        due = {name for name, p in files.items() if needs_analysis(store.get(p))}
    assert "plain" in due and "pop" not in due


def fixture(tmp_path: Path, name: str, as_name: str) -> Path:
    root = tmp_path / "music"
    root.mkdir(exist_ok=True)
    path = root / as_name
    shutil.copyfile(FIXTURES / name, path)
    return path


@pytest.mark.parametrize("id3_version, note", [("keep", None), (4, "its ID3v2.3 tag becomes ID3v2.4")])
def test_a_v23_file_stays_v23_and_the_preview_says_what_a_conversion_would_do(tmp_path, id3_version, note):
    path = str(fixture(tmp_path, "mp3_v23.mp3", "old.mp3"))
    session = open_session(tmp_path / "lib.json", tmp_path / "music", Settings(write_mode="replace", max_genres=2, id3_version=id3_version))
    predict(session, path, "blues")
    session.decide([Decision.choose(path, ["Blues", "Soul"], CORRECTED)])
    plan = session.plan()
    notes = plan.changes[0].notes
    if note is None:
        assert notes == []  # kept in its version, joined by its own separator: nothing changes in its form
    else:
        assert any(note in n for n in notes), notes
    assert session.write(plan, options=session.workspace.write_options()).ok == 1
    assert ID3(path).version[:2] == ((2, 3) if id3_version == "keep" else (2, 4))
    assert read_genres(path) == ["Blues", "Soul"]
    session.workspace.close()


def test_the_cli_dry_run_shows_the_notes_of_the_preview(tmp_path, capsys):
    from genre_desktop.cli import main

    wav = str(fixture(tmp_path, "wav.wav", "info.wav"))
    store = str(tmp_path / "lib.json")
    assert main(["scan", str(tmp_path / "music"), "--store", store]) == 0
    with Store.open(store) as s:
        s.update(wav, status=CORRECTED, chosen=["Blues"])
    capsys.readouterr()
    assert main(["write", "--dry-run", "--store", store]) == 0
    out = capsys.readouterr().out
    assert f"would write {wav}" in out and "genre written to the ID3 chunk and to the RIFF INFO list" in out


@pytest.mark.skipif(not shutil.which("ffmpeg"), reason="ffmpeg is not installed")
def test_an_ffmpeg_made_wav_gets_its_genre_where_every_reader_looks_and_undo_restores_it(tmp_path):
    root = tmp_path / "music"
    root.mkdir()
    wav = root / "made.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=duration=1",
                    "-metadata", "title=Made", "-metadata", "genre=Rock", str(wav)],
                   check=True, capture_output=True, timeout=120)
    original = wav.read_bytes()
    assert b"LIST" in original and b"id3 " not in original and b"ID3 " not in original  # INFO only, as ffmpeg makes it
    session = open_session(tmp_path / "lib.json", root)
    path = str(wav)
    assert session.track(path).genres == ["Rock"]
    predict(session, path, "jazz")
    session.decide([Decision.choose(path, ["Jazz"], CORRECTED)])
    plan = session.plan()
    assert "genre written to the ID3 chunk and to the RIFF INFO list" in plan.changes[0].notes
    assert session.write(plan).ok == 1
    assert id3(path)["TCON"].text == ["Jazz"]  # mutagen (and beets, Picard) read the ID3 chunk
    assert mediafile_fields(path)["genres"] == ["Jazz"] and mediafile_fields(path)["title"] == "Made"
    assert taglib_props(path)["GENRE"] == ["Jazz"]
    assert ffprobe_tags(path)["genre"] == "Jazz"
    assert dict(read_info(path))[b"IGNR"].rstrip(b"\x00") == b"Jazz"  # INFO too
    session.undo_write()
    assert wav.read_bytes() == original  # both, byte for byte
    session.workspace.close()


def test_a_file_replaced_or_deleted_between_the_plan_and_the_write(tmp_path, library):
    """Another program replaces one planned file with another file and deletes a second: the plan
    is not written (the replaced file is read again and shown), then the write says which file
    vanished and writes the rest; every decision is still there."""
    root, files = library
    session = open_session(tmp_path / "lib.json", root)
    for name in files:
        predict(session, files[name], "jazz")
    session.decide([Decision.choose(files[n], ["Jazz"], CORRECTED) for n in files])
    plan = session.plan()
    other = make_audio(tmp_path / "elsewhere" / "other.mp3", seconds=1.5, freq=330.0, tags={"genre": "Ska"})
    os.replace(other, files["pop"])  # a re-encode or a different song under the same name
    os.remove(files["plain"])
    outcome = session.write(plan)
    assert outcome.stale is not None and outcome.results == []
    assert any("changed on disk since the last scan" in r for r in outcome.stale.reasons)
    assert read_genres(files["pop"]) == ["Ska"] and read_genres(files["rock"]) == ["Rock"]  # nothing written
    assert session.track(files["pop"]).genres == ["Ska"] and session.track(files["pop"]).chosen == ["Jazz"]
    outcome = session.write(session.plan())
    assert outcome.stale is None and outcome.ok == 2
    assert [(os.path.basename(p), why) for p, why in outcome.failed] == [("plain.wav", "file vanished since the scan")]
    assert read_genres(files["pop"]) == ["Jazz"] and read_genres(files["rock"]) == ["Jazz"]
    assert session.track(files["plain"]).chosen == ["Jazz"]  # the decision waits for the file to come back
    session.workspace.close()
