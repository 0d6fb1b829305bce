"""An install folder no one may write to, and a data folder on a full disk (issue 23, bad input).

Both run the real command line in a fresh process with an audit hook (``sys.addaudithook``) that
makes the file system refuse: every write (an ``open`` for writing, a new folder, a rename, a
removal) under the refused folder raises the ``OSError`` the kernel would (``EROFS`` for the install
folder, ``ENOSPC`` for the data folder). A hook, not ``chmod``: these tests may run as root, whom
permissions do not stop, and a real tiny file system needs root to mount.

- A read-only install (a system-wide pip install, the bundle in /opt, a mounted image): every
  command works as before. The app writes nothing beside its code and models; the byte-code cache
  Python tries to write is skipped silently by Python itself.
- A full data folder: what needs no writing still works (``classify`` prints its predictions: the
  caches it cannot save are only a speed-up), what must save says "the disk is full" and where,
  never a traceback, and the data already there is intact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from media import make_audio

import genre_desktop

INSTALL = Path(genre_desktop.__file__).resolve().parent

_RUN = textwrap.dedent("""
    import errno, os, sys
    refused, code = os.path.realpath(sys.argv[1]), getattr(errno, sys.argv[2])
    seen = []

    def _refuse(path):
        try:
            path = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return
        if path == refused or path.startswith(refused + os.sep):
            seen.append(path)
            raise OSError(code, os.strerror(code), path)

    def hook(event, args):
        if event == "open" and args[0] is not None and not isinstance(args[0], int):
            mode, flags = args[1] or "r", args[2] or 0
            if any(c in mode for c in "wax+") or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                _refuse(args[0])
        elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.truncate", "shutil.rmtree"):
            _refuse(args[0])
        elif event in ("os.rename", "os.link", "os.symlink"):
            _refuse(args[1])

    sys.addaudithook(hook)
    from genre_desktop.cli import main
    status = main(sys.argv[3:])
    sys.stderr.write("\\nREFUSED %d\\n" % len(seen))
    sys.exit(status)
""")


def _cli(refused: Path, code: str, *argv: str, home: Path) -> tuple[int, str, str, int]:
    """(exit code, stdout, stderr, how many writes the hook refused) of one command."""
    # Python's byte-code cache goes elsewhere: what is left trying to write is the app itself.
    env = dict(os.environ, GENRE_DESKTOP_HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHONPYCACHEPREFIX=str(home.parent / "pycache"))
    done = subprocess.run([sys.executable, "-c", _RUN, str(refused), code, *argv], env=env,
                          capture_output=True, text=True, timeout=600)
    err, _, count = done.stderr.rpartition("\nREFUSED ")
    return done.returncode, done.stdout, err, int(count or 0)


@pytest.fixture
def clip(tmp_path):
    return make_audio(tmp_path / "music" / "clip.flac", seconds=8, signal="chirp")


@pytest.mark.slow
def test_a_read_only_install_folder_changes_nothing(tmp_path, clip):
    """Every command works, and none even tries to write beside the code and models."""
    home = tmp_path / "home"
    code, out, err, tried = _cli(INSTALL, "EROFS", "--version", home=home)
    assert (code, tried) == (0, 0) and out.strip(), err
    code, out, err, tried = _cli(INSTALL, "EROFS", "scan", str(clip.parent), home=home)
    assert (code, tried) == (0, 0) and "Traceback" not in err, err
    code, out, err, tried = _cli(INSTALL, "EROFS", "classify", "--json", str(clip), home=home)
    assert (code, tried) == (0, 0) and "Traceback" not in err, err
    assert json.loads(out)[0]["genres"]
    code, out, err, tried = _cli(INSTALL, "EROFS", "analyze", "--workers", "1", home=home)
    assert (code, tried) == (0, 0) and "Traceback" not in err, err
    code, out, err, tried = _cli(INSTALL, "EROFS", "doctor", home=home)
    assert (code, tried) == (0, 0) and "Traceback" not in err, err


def test_the_hook_refuses_what_it_should(tmp_path):
    """The hook itself works (or the tests above would prove nothing): a write under the refused
    folder fails with the kernel's error and is counted, a write elsewhere goes through."""
    home = tmp_path / "home"
    code, _, err, tried = _cli(home, "ENOSPC", "scan", str(tmp_path), home=home)
    assert code != 0 and tried >= 1 and "the disk is full" in err, err
    code, _, err, tried = _cli(tmp_path / "elsewhere", "ENOSPC", "scan", str(tmp_path), home=home)
    assert code == 0 and tried == 0, err


@pytest.mark.slow
def test_a_full_data_folder_still_classifies_and_says_why_it_cannot_save(tmp_path, clip):
    home = tmp_path / "home"
    # A data folder in use before the disk filled: a library already scanned.
    code, _, err, _ = _cli(tmp_path / "elsewhere", "ENOSPC", "scan", str(clip.parent), home=home)
    assert code == 0, err
    store = home / "data" / "library.json"
    kept = store.read_bytes()

    code, out, err, refused = _cli(home, "ENOSPC", "classify", "--json", str(clip), home=home)
    assert code == 0 and "Traceback" not in err, err
    assert json.loads(out)[0]["genres"]

    code, out, err, refused = _cli(home, "ENOSPC", "analyze", "--workers", "1", home=home)
    assert refused and code != 0, (code, out, err)
    assert "the disk is full" in err and "Traceback" not in err, err
    assert store.read_bytes() == kept
    code, out, err, _ = _cli(tmp_path / "elsewhere", "ENOSPC", "list", "--json", home=home)
    assert code == 0 and len(json.loads(out)) == 1
