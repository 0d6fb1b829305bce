"""Benchmark: re-scoring a library from its cached vectors (what activating a model runs) against
analysing it, in the same run.

1. N tracks of 3 to 5 minutes (``bench_library.build_tracks``: concatenated GTZAN clips, 22,050 Hz
   mono FLAC; train and valid clips only), scanned into a fresh store and app home.
2. **Analysis**: the headless pipeline (``app.analysis.analyse_into_session``, what ``analyze``
   runs) in this process, one onnxruntime thread, the settings' windows per track; it fills the
   vector cache as the app does. Wall and CPU seconds.
3. A user model: the predictions accepted as the librarian's choices (artists = blocks of tracks),
   trained and activated through ``training.trainer.train`` (not timed).
4. **Re-score**: building the analyzer of the new configuration (models loaded and verified) and
   ``training.rescore.rescore`` into the same session, saved (``session.flush``). Wall and CPU
   seconds, with and without the model loading.

The machine is shared: the ratio of the two, measured minutes apart in one process, is the figure
to read; the absolute seconds move with the neighbours (the load average is printed).

Usage: ``nice python tools/bench_rescore.py --dir /tmp/gd-bench [--tracks 40] [--segments 5]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))


def timed(fn):
    wall, cpu = time.monotonic(), time.process_time()
    out = fn()
    return out, time.monotonic() - wall, time.process_time() - cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, required=True, help="work folder (the tracks are kept for the next run)")
    ap.add_argument("--tracks", type=int, default=40)
    ap.add_argument("--segments", type=int, default=None, help="windows per track (default: the settings')")
    args = ap.parse_args()
    from bench_library import build_tracks

    paths = build_tracks(args.dir / "tracks", args.tracks)
    home = args.dir / f"home-rescore-{os.getpid()}"
    os.environ["GENRE_DESKTOP_HOME"] = str(home)
    from genre_desktop.app.analysis import analyse_into_session, inline_executor
    from genre_desktop.app.session import LibrarySession
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.core.status import ACCEPTED
    from genre_desktop.library.scanner import scan_paths
    from genre_desktop.paths import app_dirs
    from genre_desktop.settings import Settings
    from genre_desktop.training.dataset import build_dataset
    from genre_desktop.training.evaluate import BundledPredictor
    from genre_desktop.training.registry import Registry
    from genre_desktop.training.rescore import analysed, rescore
    from genre_desktop.training.session import read_vectors
    from genre_desktop.training.trainer import train

    dirs = app_dirs()
    settings = Settings(cpu_threads=1, **({"segments": args.segments} if args.segments else {}))
    ws = Workspace(dirs, settings, store_path=home / "library.json")
    ws.open_store()
    scan_paths([str(p) for p in paths], ws.store)
    session = LibrarySession(ws)
    session.set_tracks(ws.store.all())
    print(f"{len(paths)} tracks of 3-5 min, {settings.segments} windows each; load {os.getloadavg()[0]:.1f}",
          flush=True)

    summary, a_wall, a_cpu = timed(lambda: analyse_into_session(session, session.tracks(), inline_executor()))
    print(f"analysis:  {summary.done} tracks in {a_wall:.1f} s wall, {a_cpu:.1f} s CPU "
          f"({a_wall / max(1, summary.done) * 1000:.0f} ms per track)", flush=True)

    # The librarian accepts the predictions; the model learns them (artists: blocks of four tracks).
    for n, t in enumerate(session.tracks()):
        ws.store.update(t.path, chosen=[t.prediction.genres[0][0]], status=ACCEPTED, artist=f"artist {n // 4}")
    dataset = build_dataset(ws.store.all(), aliases=settings.aliases, min_tracks=3)
    data, recipe = read_vectors(dataset, dirs, settings.segments, 1)
    registry = Registry(dirs.user_models)
    result = train(data, registry, recipe, BundledPredictor(threads=1), activate=False)
    registry.activate(result.version)
    print(f"user model {result.version} ({', '.join(result.report.labels)}), activated", flush=True)

    session.set_tracks(ws.store.all())
    tracks = analysed(session.tracks())
    analyzer, l_wall, l_cpu = timed(lambda: ws.analysis_spec().with_(musicnn=False).build())

    def run():
        out = rescore(analyzer, tracks, session.add_result)
        session.flush()
        return out

    done, r_wall, r_cpu = timed(run)
    print(f"re-score:  {done.done} tracks in {r_wall:.2f} s wall, {r_cpu:.2f} s CPU "
          f"({r_wall / max(1, done.done) * 1000:.1f} ms per track), {len(done.uncached)} uncached; "
          f"loading the models first: {l_wall:.2f} s wall, {l_cpu:.2f} s CPU", flush=True)
    print(f"ratio analysis / re-score: {a_wall / r_wall:.0f}x wall ({a_cpu / r_cpu:.0f}x CPU); "
          f"with the model loading: {a_wall / (r_wall + l_wall):.0f}x wall; load {os.getloadavg()[0]:.1f}")
    ws.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
