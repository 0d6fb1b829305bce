"""Long runs: an analysis of a library killed midway resumes where it stopped.

The resume set is the tracks still UNANALYSED (what the GUI offers to continue). A child process
analyses them with the real Analyzer, saving results in store batches of 4, and is SIGKILLed after a
seeded number of results; the store must open cleanly, every track must be whole (UNANALYSED without
a prediction, or PREDICTED/ERROR with one), and a second run must finish exactly the rest, losing at
most the one unsaved batch of work.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from media import make_audio

from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.core.status import ERROR, PREDICTED, UNANALYSED

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL")

ANALYSE = r"""
import sys
from genre_desktop.inference.analyzer import Analyzer
from genre_desktop.library.store import Store
from genre_desktop.core.status import ERROR, PREDICTED, UNANALYSED
store = Store.open(sys.argv[1])
analyzer = Analyzer(musicnn=False, threads=1)
todo = sorted(t.path for t in store.all() if t.status == UNANALYSED and not t.missing)
print("todo", len(todo), flush=True)
for start in range(0, len(todo), 4):
    with store.batch():
        for path in todo[start:start + 4]:
            p = analyzer.analyze(path).prediction
            store.update(path, prediction=p.to_dict(), error=p.error, status=ERROR if p.error else PREDICTED)
            print("analysed", path, flush=True)
store.close()
print("finished", flush=True)
"""


def run_child(store_path, kill_after=None):
    child = subprocess.Popen([sys.executable, "-c", ANALYSE, str(store_path)], stdout=subprocess.PIPE, text=True)
    todo = int(child.stdout.readline().split()[1])
    analysed = 0
    for line in child.stdout:
        if line.startswith("analysed"):
            analysed += 1
            if kill_after is not None and analysed >= kill_after:
                child.send_signal(signal.SIGKILL)
                break
    child.wait()
    child.stdout.close()
    return todo, analysed, child.returncode


def test_analysis_killed_midway_resumes_with_the_unanalysed_tracks(tmp_path):
    paths = [str(make_audio(tmp_path / "music" / f"{i:02d}.wav", seconds=3.0, signal="noise" if i % 2 else "chirp",
                            freq=200 + 40 * i)) for i in range(18)]
    (tmp_path / "music" / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    paths.append(str(tmp_path / "music" / "broken.wav"))
    store_path = tmp_path / "library.json"
    store = Store.open(store_path)
    scan_paths(paths, store)
    store.update(paths[-1], status=UNANALYSED, error=None)  # let the analyser meet the broken file too
    store.close()

    todo, analysed, code = run_child(store_path, kill_after=10)
    assert (todo, code) == (19, -signal.SIGKILL)
    store = Store.open(store_path)
    assert store.recovered_from == []
    done = [t for t in store.all() if t.status != UNANALYSED]
    for t in store.all():
        if t.status == UNANALYSED:
            assert t.prediction is None
        else:
            assert t.status in (PREDICTED, ERROR) and t.prediction is not None and t.prediction.path == t.path
    assert 8 <= len(done) <= 10  # saved in batches of 4: at most the unsaved batch is lost
    store.close()

    todo2, analysed2, code2 = run_child(store_path)
    assert code2 == 0 and todo2 == 19 - len(done) == analysed2
    store = Store.open(store_path)
    statuses = {t.path: t.status for t in store.all()}
    assert all(s in (PREDICTED, ERROR) for s in statuses.values())
    assert statuses[paths[-1]] == ERROR and store.get(paths[-1]).error
    store.close()
