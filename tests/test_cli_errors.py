"""Whatever goes wrong inside a command is a message and an exit code, never a traceback: models
that cannot be loaded, a full disk, a read-only data folder, an unexpected failure."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest
from media import make_audio

from genre_desktop.cli import main


@pytest.fixture
def library(tmp_path, capsys):
    make_audio(tmp_path / "music" / "a.flac", seconds=4, signal="noise")
    store = str(tmp_path / "lib.json")
    assert main(["scan", str(tmp_path / "music"), "--store", store]) == 0
    capsys.readouterr()
    return store


def test_analyze_without_models_says_so(library, tmp_path, monkeypatch, capsys):
    """What a pip install without models did: a traceback. Now: a message, exit 2."""
    empty = tmp_path / "no-models"
    empty.mkdir()
    from genre_desktop import paths

    real = paths._package_folder
    monkeypatch.setattr(paths, "_package_folder",
                        lambda package, name: empty if package == paths.MODELS_PACKAGE else real(package, name))
    code = main(["analyze", "--store", library, "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "error: cannot load the models" in err and "manifest" in err
    assert "Traceback" not in err


def test_a_full_disk_while_saving_results_is_a_message(library, monkeypatch, capsys):
    def full(path, data, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("genre_desktop.library.store_files.atomic_write_bytes", full)
    code = main(["analyze", "--store", library, "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "the disk is full" in err and "GENRE_DESKTOP_HOME" in err
    assert "Traceback" not in err


def test_an_unexpected_failure_is_a_message_with_a_way_to_the_details(library, monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise KeyError("segments")

    monkeypatch.setattr("genre_desktop.app.analysis.analyse_into_session", boom)
    code = main(["analyze", "--store", library, "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "unexpected problem" in err and "-vv" in err and "Traceback" not in err


def test_a_read_only_data_folder_is_a_message(tmp_path):
    """A data folder on a read-only file system (here: a path under a regular file, which no one
    can create, root included): the command says where and why."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    env = {"GENRE_DESKTOP_HOME": str(blocker / "home"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "genre_desktop.cli", "scan", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr
    assert "error:" in done.stderr and str(blocker) in done.stderr
