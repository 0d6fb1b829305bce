"""The library CLI driven for real: scan, list, tag, undo, doctor on generated files."""

from __future__ import annotations

import json
import shutil

import pytest
from media import make_audio
from helpers import cli

from genre_desktop.cli import main
from genre_desktop.paths import app_dirs
from genre_desktop.tagging import read_genres


@pytest.fixture(scope="module")
def masters(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-masters")
    return {ext: make_audio(folder / f"m{ext}", seconds=0.5, tags={"title": "T", "artist": "Band", "genre": ["Rock"]})
            for ext in (".flac", ".mp3", ".ogg")}


@pytest.fixture
def music(tmp_path, masters):
    root = tmp_path / "music"
    (root / "sub").mkdir(parents=True)
    shutil.copy(masters[".flac"], root / "one.flac")
    shutil.copy(masters[".mp3"], root / "sub" / "two.mp3")
    shutil.copy(masters[".ogg"], root / "sub" / "three.ogg")
    return root


def test_scan_list_tag_undo_round_trip(music, tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    code, out, _ = cli(capsys, "scan", str(music), "--store", store)
    assert code == 0, out
    assert "files found: 3" in out and "new:         3" in out and "unreadable:  0" in out

    code, out, _ = cli(capsys, "scan", str(music), "--store", store)
    assert code == 0 and "unchanged:   3" in out and "new:         0" in out

    code, out, _ = cli(capsys, "list", "--store", store)
    assert code == 0 and out.count("Rock") == 3 and "two.mp3" in out

    target = str(music / "sub" / "two.mp3")
    code, out, _ = cli(capsys, "tag", "--store", store, "--genre", "Jazz", "--genre", "Blues", target)
    assert code == 0, out
    assert "Rock -> Jazz; Blues" in out
    assert read_genres(target) == ["Jazz", "Blues"]

    code, out, _ = cli(capsys, "list", "--store", store, "--genre", "jazz", "--json")
    rows = json.loads(out)
    assert [r["path"] for r in rows] == [target] and rows[0]["status"] == "written"
    code, out, _ = cli(capsys, "list", "--store", store, "--status", "written")
    assert "two.mp3" in out and "one.flac" not in out
    code, out, _ = cli(capsys, "list", "--store", store, "--search", "THREE")
    assert "three.ogg" in out and "two.mp3" not in out

    code, out, _ = cli(capsys, "undo", "--store", store)
    assert code == 0 and "undone" in out and read_genres(target) == ["Rock"]
    code, out, _ = cli(capsys, "undo", "--store", store)
    assert code == 0 and "nothing to undo" in out


def test_tag_scans_new_files_first_and_undo_all(music, tmp_path, capsys, masters):
    store = str(tmp_path / "lib.json")
    files = [str(music / "one.flac"), str(music / "sub" / "three.ogg")]
    code, out, _ = cli(capsys, "tag", "--store", store, "--genre", "Pop", *files)
    assert code == 0, out
    code, out, _ = cli(capsys, "tag", "--store", store, "--genre", "Disco", "--id3v23", "--separator", "/",
                       files[0], str(music / "sub" / "two.mp3"))
    assert code == 0, out
    assert read_genres(files[0]) == ["Disco"]
    code, out, _ = cli(capsys, "undo", "--store", store, "--all")
    assert code == 0, out
    assert [read_genres(f) for f in files] == [["Rock"], ["Rock"]]
    assert read_genres(str(music / "sub" / "two.mp3")) == ["Rock"]


def test_failures_and_usage_errors(music, tmp_path, capsys):
    store = str(tmp_path / "lib.json")
    (music / "bad.flac").write_text("not audio")
    code, out, _ = cli(capsys, "scan", str(music), "--store", store)
    assert code == 0 and "unreadable:  1" in out and "bad.flac" in out  # partial success is success
    code, out, _ = cli(capsys, "scan", str(music), "--store", store, "--strict")
    assert code == 3 and "bad.flac" in out  # ...unless the caller asks otherwise
    code, out, _ = cli(capsys, "tag", "--store", store, "--genre", "Pop", str(music / "missing.mp3"))
    assert code == 1 and "no such file" in out
    code, _, err = cli(capsys, "scan", str(music / "nope"), "--store", store)
    assert code == 2 and "not a folder" in err
    assert cli(capsys, "list", "--store", store, "--status", "bogus")[0] == 2
    assert cli(capsys, "undo", "--store", store, "--last", "0")[0] == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["undo", "--last", "1", "--all"])
    assert exit_info.value.code == 2


def test_default_store_lives_in_the_app_home(music, capsys):
    code, _, _ = cli(capsys, "scan", str(music))
    assert code == 0 and app_dirs().store_path.exists()
    code, out, _ = cli(capsys, "doctor")
    assert code == 0
    for needle in ("python", "numpy", "scipy", "median", "onnxruntime", "PySide6", "mutagen", "tinydb", "soundfile",
                   "ffmpeg", "audio out", "models", str(app_dirs().store_path), "Library: 3 tracks"):
        assert needle in out, needle
    assert "NOT INSTALLED" not in out


def test_doctor_says_clearly_when_there_is_no_audio_device(capsys, monkeypatch):
    import sounddevice

    monkeypatch.setattr(sounddevice, "query_devices", lambda *a, **k: [])
    code, out, _ = cli(capsys, "doctor")
    assert code == 0 and "no audio output device found" in out


def test_a_store_from_a_newer_version_is_a_clear_error_not_a_traceback(music, tmp_path, capsys):
    from genre_desktop.library.store import FORMAT_VERSION

    store = tmp_path / "lib.json"
    assert cli(capsys, "scan", str(music), "--store", str(store))[0] == 0
    meta = json.loads(store.read_text())
    meta["meta"]["1"]["format"] = FORMAT_VERSION + 1
    store.write_text(json.dumps(meta))
    code, out, err = cli(capsys, "list", "--store", str(store))
    assert code == 1 and "newer version of Genre Desktop" in err and "Traceback" not in err
