"""The app's run-time paths import neither librosa nor numba (nor numba's LLVM).

librosa stays a dependency (``features/gtzan.reference_features`` and the tests use it as the
reference), but the analysis, the spectrogram, training and the window run on ``features/dsp*.py``
and the C running median: no compile step, a faster start, and a bundle without LLVM. One fresh
process does all four, in-process (one analysis worker), and reports what it loaded; the first
import of a watched package is recorded with its stack, so a failure names the importer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from media import corrected_library

WATCHED = ("librosa", "numba", "llvmlite")

_RUN = textwrap.dedent("""
    import importlib.abc, json, sys, traceback
    WATCHED = {watched!r}
    first = {{}}

    class Watcher(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            top = name.split(".")[0]
            if top in WATCHED and top not in first:
                first[top] = "".join(traceback.format_stack(limit=15)[:-1])
            return None  # never blocks: only records

    sys.meta_path.insert(0, Watcher())
    music, clip = sys.argv[1], sys.argv[2]
    from genre_desktop.cli import main

    codes = {{}}
    for name, argv in (("analyze", ["analyze", "--workers", "1", music]),
                       ("train", ["train", "--activate"]),
                       ("classify", ["classify", "--json", clip])):
        codes[name] = main(argv)

    from genre_desktop.audio import decode
    from genre_desktop.features.mel import mel_spectrogram
    spectrogram = mel_spectrogram(decode(clip, sr=22050))
    codes["spectrogram"] = 0 if spectrogram.n_frames > 0 else 1

    from PySide6.QtWidgets import QApplication
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.paths import app_dirs
    from genre_desktop.ui.main import create_main_window
    app = QApplication(["genre-desktop"])
    workspace = Workspace(app_dirs().ensure())
    window = create_main_window(workspace)
    window.show()
    window.start(workspace.store_path, None)
    window.grab()
    window.shutdown()
    workspace.close()
    codes["window"] = 0

    loaded = sorted({{n.split(".")[0] for n in sys.modules if n.split(".")[0] in WATCHED}})
    print("RESULT " + json.dumps({{"codes": codes, "loaded": loaded, "first": first}}))
""")


@pytest.mark.slow
def test_analysis_spectrogram_training_and_window_load_no_librosa_nor_numba(tmp_path):
    from genre_desktop.paths import app_dirs

    music = tmp_path / "music"
    corrected_library(music, app_dirs().store_path)
    script = tmp_path / "run.py"
    script.write_text(_RUN.format(watched=set(WATCHED)))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(script), str(music), str(music / "techno" / "0.wav")],
                          env=env, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["codes"] == {"analyze": 0, "train": 0, "classify": 0, "spectrogram": 0, "window": 0}, done.stdout
    assert result["loaded"] == [], "\n\n".join(f"{name} first imported from:\n{stack}"
                                               for name, stack in result["first"].items())
