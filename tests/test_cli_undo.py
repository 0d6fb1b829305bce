"""``undo`` from the command line (issue 21): byte for byte, partly-done exit code, a file changed
since the write reported once and its genres restored on request."""

from __future__ import annotations

import shutil

import mutagen
import pytest
from media import ffmpeg_available, make_audio
from undo_media import campaign_files
from helpers import cli, sha

from genre_desktop.cli.common import FAILED, OK, PARTIAL as PARTLY
from genre_desktop.tagging import read_genres


def test_undo_all_undoes_what_it_can_reports_the_rest_once_and_says_partly(tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    files = [make_audio(tmp_path / "music" / f"{i}.flac", seconds=0.5, tags={"genre": ["Rock"], "title": "T"})
             for i in range(3)]
    originals = [sha(f) for f in files]
    for f in files:
        assert cli(capsys, "tag", "--store", store, "--genre", "Jazz", str(f))[0] == OK
    audio = mutagen.File(files[1])  # another program edits one file afterwards
    audio["title"] = "Edited elsewhere"
    audio.save()
    code, out, _ = cli(capsys, "undo", "--all", "--store", store)
    assert code == PARTLY == 3, out
    assert out.count("undone  ") == 2 and out.count("FAILED  ") == 1
    assert "changed since the write" in out and "undo --genres-only" in out
    assert [sha(files[0]), sha(files[2])] == [originals[0], originals[2]]
    code, out, _ = cli(capsys, "undo", "--all", "--store", store)  # the rest was reported once
    assert code == OK and "nothing to undo" in out and "1 earlier write was left" in out
    code, out, _ = cli(capsys, "undo", "--all", "--genres-only", "--store", store)
    assert code == OK and "genres only" in out
    assert read_genres(files[1]) == ["Rock"] and mutagen.File(files[1])["title"] == ["Edited elsewhere"]


def test_an_undo_that_cannot_do_anything_says_failed(tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    path = make_audio(tmp_path / "a.mp3", seconds=0.5, tags={"genre": ["Rock"]})
    assert cli(capsys, "tag", "--store", store, "--genre", "Jazz", str(path))[0] == OK
    audio = mutagen.File(path)
    audio.tags.add(mutagen.id3.TIT2(encoding=3, text=["Edited"]))
    audio.save()
    code, out, _ = cli(capsys, "undo", "--store", store)
    assert code == FAILED and "FAILED" in out


@pytest.mark.skipif(not ffmpeg_available(), reason="needs ffmpeg")
def test_the_campaigns_never_undoable_files_come_back_byte_for_byte(tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    made = campaign_files(tmp_path / "made")
    music = tmp_path / "music"
    music.mkdir()
    paths = []
    for name in ("mpeg25.mp3", "stacked.mp3", "junk.wav"):
        shutil.copyfile(made[name], music / name)
        paths.append(music / name)
    originals = [sha(p) for p in paths]
    code, out, _ = cli(capsys, "tag", "--store", store, "--genre", "Fuzz", *map(str, paths))
    assert code == OK and out.count("written") == 3, out
    code, out, _ = cli(capsys, "undo", "--store", store)
    assert code == OK and out.count("undone  ") == 3, out
    assert [sha(p) for p in paths] == originals
