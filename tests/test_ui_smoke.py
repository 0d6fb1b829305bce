"""`genre-desktop --smoke-test FOLDER` (what the packaging smoke test runs inside the bundle),
run here from source in a child process: once QApplication.exec() returns, a process gets no
more queued signals, so the real entry point cannot share the test process."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.media import make_audio
from genre_desktop.tagging import read_genres


def _run(folder: Path, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, GENRE_DESKTOP_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "genre_desktop.gui", "--smoke-test", str(folder)],
                          capture_output=True, text=True, timeout=300, env=env)


def test_smoke_test_scans_analyses_writes_and_verifies(tmp_path, gtzan_dir):
    library = tmp_path / "music"
    library.mkdir()
    clip = library / "metal.wav"
    shutil.copy(Path(gtzan_dir) / "clips" / "metal.00000.au", library / "metal.au")
    # a taggable copy of a real clip, plus a damaged file that must not stop anything
    from genre_desktop.audio import decode
    import soundfile

    soundfile.write(clip, decode(library / "metal.au", sr=22050), 22050)
    (library / "metal.au").unlink()
    (library / "damaged.flac").write_bytes(b"not audio at all")
    make_audio(library / "sub" / "tone.ogg", seconds=2.0)

    result = _run(library, tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["steps"] == ["scan", "play+spectrogram", "analyse", "accept", "write"]
    assert report["output"] == "NullOutput" and report["played_s"] > 0  # no sound card here
    assert report["path"] in {str(clip), str(library / "sub" / "tone.ogg")}
    assert read_genres(report["path"]) == report["will_write"] == report["written"]


def test_smoke_test_skips_a_file_the_last_run_knew_that_is_gone(tmp_path):
    """Run twice on one home: the library remembers a file deleted in between (flagged missing);
    the second run analyses a file that is there instead of failing on "file not found"."""
    library = tmp_path / "music"
    gone = make_audio(library / "a-gone.flac", seconds=2.0, signal="noise")
    make_audio(library / "b-here.flac", seconds=2.0, signal="chirp")
    assert _run(library, tmp_path / "home").returncode == 0
    gone.unlink()
    result = _run(library, tmp_path / "home")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["path"] == str(library / "b-here.flac")


def test_smoke_test_fails_clearly_on_a_folder_without_audio(tmp_path):
    empty = tmp_path / "nothing"
    empty.mkdir()
    (empty / "notes.txt").write_text("no music")
    result = subprocess.run([sys.executable, "-m", "genre_desktop.gui", "--smoke-test", str(empty)],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, GENRE_DESKTOP_HOME=str(tmp_path / "home"),
                                     QT_QPA_PLATFORM="offscreen"))
    assert result.returncode == 1
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert not report["ok"] and report["error"] == "the scan found no readable audio file"


def test_app_icon_and_desktop_entry_agree(qapp):
    from genre_desktop.paths import resources_dir
    from genre_desktop.ui.main import APP_ID, app_icon

    icon = app_icon()
    assert not icon.isNull() and 256 in [s.width() for s in icon.availableSizes()]
    desktop = (resources_dir() / f"{APP_ID}.desktop").read_text()
    assert f"Icon={APP_ID}" in desktop and "Exec=genre-desktop" in desktop
    assert f"<id>{APP_ID}</id>" in (resources_dir() / f"{APP_ID}.metainfo.xml").read_text()
