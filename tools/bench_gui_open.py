"""Benchmark: open a library of N generated tracks in the main window.

Generates a store of N tracks (half of them analysed, with full predictions) through
library/store.py, then measures, in one process:

- opening the store (Store.open),
- building the window and filling the table model from the store (the "load" job),
- the first paint of the window,
- sorting by title and by confidence, and a search-as-you-type filter,
- peak memory (ru_maxrss) before and after.

Usage:  python tools/bench_gui_open.py [--tracks 100000] [--keep DIR]
Prints one line per figure; exits non-zero if a figure cannot be measured.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")
WORDS = ("night", "blue", "river", "song", "dance", "fire", "love", "city", "rain", "echo", "gold", "road")
ROOT = "/bench/music"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def make_tracks(n: int, seed: int = 7) -> list:
    """N plausible Track records; every other one analysed with a full prediction."""
    from genre_desktop.core.prediction import Prediction
    from genre_desktop.core.status import PREDICTED, UNANALYSED
    from genre_desktop.core.track import Track

    rng = random.Random(seed)
    tracks = []
    for i in range(n):
        artist = f"Artist {i // 120:04d}"
        album = f"Album {i // 12:05d}"
        title = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(1, 4)))
        genre = rng.choice(GENRES)
        track = Track(path=f"{ROOT}/{artist}/{album}/{i % 12 + 1:02d} {title}.flac", size=rng.randint(2_000_000, 60_000_000),
                      mtime=1.7e9 + i, duration=rng.uniform(60, 600), format="flac", samplerate=44100, channels=2,
                      title=title, artist=artist, album=album, genres=[genre.capitalize()] if rng.random() < 0.7 else [],
                      status=UNANALYSED)
        if i % 2 == 0:
            probs = sorted(((g, rng.random()) for g in GENRES), key=lambda kv: -kv[1])
            total = sum(p for _, p in probs)
            genres = [{"genre": g, "probability": p / total} for g, p in probs]
            track.prediction = Prediction.from_dict({
                "path": track.path, "genres": genres,
                "models": {m: {g["genre"]: g["probability"] for g in genres[:3]} for m in ("xgboost", "svm", "logreg")},
                "segments": [{"start": s * 30.0, "end": s * 30.0 + 30.0, "genres": {genres[0]["genre"]: 0.6}} for s in range(5)],
                "tags": {}, "model_version": "bench", "error": None,
            })
            track.status = PREDICTED
        tracks.append(track)
    return tracks


def generate_store(path: Path, n: int) -> float:
    from genre_desktop.library.store import Store

    start = time.perf_counter()
    store = Store.open(path)
    tracks = make_tracks(n)
    with store.batch():
        for i in range(0, n, 5000):
            store.upsert(tracks[i : i + 5000])
    store.close()
    return time.perf_counter() - start


class CountingStore:
    """Wraps the store and counts every call made on it (to prove painting needs none)."""

    def __init__(self, store) -> None:
        self._store = store
        self.calls = 0

    def __getattr__(self, name):
        self.calls += 1
        return getattr(self._store, name)


def measure_open(store_path: Path, app) -> dict[str, float]:
    """Open the store in the main window and measure; returns figures in seconds / MB / rows."""
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.audio.output import NullOutput
    from genre_desktop.library.store import Store
    from genre_desktop.paths import app_dirs
    from genre_desktop.settings import Settings
    from genre_desktop.ui.library_model import CONFIDENCE, TITLE
    from genre_desktop.ui.main import create_main_window
    from PySide6.QtCore import Qt

    figures: dict[str, float] = {"rss_before_mb": peak_rss_mb()}
    t0 = time.perf_counter()
    store = CountingStore(Store.open(store_path))
    figures["store_open_s"] = time.perf_counter() - t0
    dirs = app_dirs().ensure()
    t1 = time.perf_counter()
    workspace = Workspace(dirs, Settings())
    workspace.store = store
    window = create_main_window(workspace, output=NullOutput())
    window.resize(1280, 820)
    loaded = []
    window.session.open(ROOT, done=lambda _tracks: loaded.append(True))  # the table fills from the session's reset
    while not loaded:
        app.processEvents()
        time.sleep(0.001)
    figures["model_filled_s"] = time.perf_counter() - t1
    window.show()
    window.grab()  # forces the first complete paint
    app.processEvents()
    figures["first_paint_s"] = time.perf_counter() - t1
    figures["rows"] = window.model.rowCount()

    calls_before = store.calls
    model = window.model
    for row in range(0, 60):
        for col in range(model.columnCount()):
            model.data(model.index(row, col))
    window.table.viewport().repaint()
    figures["paint_store_calls"] = store.calls - calls_before

    t3 = time.perf_counter()
    window.table.sortByColumn(TITLE, Qt.SortOrder.AscendingOrder)
    figures["sort_title_s"] = time.perf_counter() - t3
    t4 = time.perf_counter()
    window.table.sortByColumn(CONFIDENCE, Qt.SortOrder.DescendingOrder)
    figures["sort_confidence_s"] = time.perf_counter() - t4
    t5 = time.perf_counter()
    for prefix in ("r", "ri", "riv", "rive", "river"):  # typing, each key a full filter pass
        model.set_search(prefix)
    figures["filter_typing_5_keys_s"] = time.perf_counter() - t5
    figures["rows_matching_river"] = model.rowCount()
    model.set_search("")
    figures["rss_peak_mb"] = peak_rss_mb()
    window.shutdown()
    window.close()
    store._store.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="keep the generated store in this folder (reused if present)")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    home = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    os.environ["GENRE_DESKTOP_HOME"] = str(home)
    folder = args.keep or home
    store_path = folder / "library.json"
    if args.generate_only:
        print(f"generated store: {args.tracks:,} tracks in {generate_store(store_path, args.tracks):.1f} s")
        return 0
    if not store_path.exists():
        # In a child process, so that the peak memory measured below is the window's alone.
        subprocess.run([sys.executable, __file__, "--generate-only", "--tracks", str(args.tracks), "--keep", str(folder)],
                       check=True)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    figures = measure_open(store_path, app)
    for key, value in figures.items():
        print(f"{key:>26}: {value:,.3f}" if isinstance(value, float) and not float(value).is_integer() else f"{key:>26}: {value:,.0f}")
    return 0 if figures["rows"] == args.tracks else 1


if __name__ == "__main__":
    sys.exit(main())
