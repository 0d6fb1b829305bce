"""Benchmark: a library of 100,000 real files: scan, rescan, store open, sort/filter, analysis sample.

What is generated (honest, stated in the output): 100 masters of 0.2 s (mixed containers from
``tests/media.py``) copied to N files in ``Artist/Album/track`` folders (10 tracks per album), each
copy re-tagged with mutagen (its own title, artist, album, genre), so every file is a real, distinct
audio file the scanner opens and parses. 0.2 s files are too short to say anything about genre, so
the analysis stage runs over 50 copies of the 8 shared GTZAN clips (30 s each) placed in the
library's ``_sample`` folder (counted in N). Generation is skipped when ``DIR/library/.complete`` says N files exist.

Each stage runs in a fresh child process, so its peak memory (``ru_maxrss``) is its own:

- ``scan``: first scan into an empty store (walk, read_tags per file, batched store writes);
- ``rescan``: nothing changed (size/mtime compared, no file opened);
- ``open``: ``Store.open`` of the 100k-track store;
- ``sort``: ``all()`` then a Python sort by title (what a table view does), and ``query`` with a
  search text and with a genre (filters);
- ``update``: one single-track update and one 500-track batch (what the writer does per change);
- ``analyse``: ``Analyzer.analyze`` over 50 GTZAN clips (bundled models, musicnn included).

Usage: ``nice python tools/bench_scale.py --dir /tmp/gd-scale [--files 100000] [--stages scan,rescan,...]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

GENRES = ("Rock", "Jazz", "Blues", "Pop", "Metal", "Disco", "Reggae", "Country", "Classical", "Hip-Hop")
MASTERS = 100
SAMPLE = 50
STAGES = ("scan", "rescan", "open", "sort", "update", "analyse")


# --------------------------------------------------------------------------- generation
def _retag(path: Path, i: int) -> None:
    """Each copy gets its own title/artist/album/genre (tests/media.py's direct mutagen taggers)."""
    from media import _TAGGERS

    tags = {"title": [f"Track {i:06d} {('zeta', 'alpha', 'mu', 'omega')[i % 4]}"],
            "artist": [f"Artist {i // 100:04d}"], "album": [f"Album {i // 10:05d}"],
            "genre": [GENRES[i % len(GENRES)]]}
    _TAGGERS[path.suffix](path, tags)


def generate(root: Path, count: int) -> Path:
    from media import make_audio

    lib = root / "library"
    marker = lib / ".complete"
    if marker.exists() and int(marker.read_text()) == count:
        return lib
    shutil.rmtree(lib, ignore_errors=True)
    masters_dir = root / "_masters"
    shutil.rmtree(masters_dir, ignore_errors=True)
    masters_dir.mkdir(parents=True)
    exts = (".mp3", ".flac", ".ogg", ".m4a", ".wav", ".opus")  # wav last but one: the biggest
    masters = []
    for m in range(MASTERS):
        ext = exts[m % len(exts)]
        masters.append(make_audio(masters_dir / f"m{m:03d}{ext}", seconds=0.2, sr=8000 if ext == ".wav" else 22050,
                                  freq=220.0 + 7 * m, signal="tone", tags={"title": "m", "genre": ["Rock"]}))
    # The shared GTZAN folder holds 8 clips; the sample is 50 copies of them (same cost per file).
    clips = sorted((Path("/work/shared/data/gtzan/clips")).glob("*.au"))
    sample_dir = lib / "_sample"
    sample_dir.mkdir(parents=True)
    for k in range(SAMPLE):
        shutil.copyfile(clips[k % len(clips)], sample_dir / f"{k:02d}-{clips[k % len(clips)].name}")
    t0 = time.perf_counter()
    for i in range(count - SAMPLE):
        master = masters[i % MASTERS]
        target = lib / f"Artist {i // 100:04d}" / f"Album {i // 10:05d}" / f"{i % 10:02d} Track {i}{master.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(master, target)
        _retag(target, i)
        if i % 10000 == 0:
            print(f"  generated {i} files ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    marker.write_text(str(count))
    return lib


# --------------------------------------------------------------------------- stages (child side)
def _drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def run_stage(stage: str, lib: Path, store_path: Path) -> dict:
    from genre_desktop.library.store import Store

    out: dict = {}
    t0 = time.perf_counter()
    if stage in ("scan", "rescan"):
        from genre_desktop.library.scanner import scan

        if stage == "scan":
            shutil.rmtree(store_path.parent, ignore_errors=True)
        store = Store.open(store_path)
        t1 = time.perf_counter()
        summary = _drain(scan(lib, store))
        store.close()
        out.update(open_s=t1 - t0, found=summary.found, new=summary.new, unchanged=summary.unchanged,
                   unreadable=len(summary.unreadable), unreadable_examples=summary.unreadable[:3],
                   store_bytes=sum(p.stat().st_size for p in store_path.parent.rglob("*") if p.is_file()),
                   shard_files=len(list(store_path.parent.rglob("s*.json"))))
    elif stage == "open":
        store = Store.open(store_path)
        out.update(tracks=len(store))
        store.close()
    elif stage == "sort":
        store = Store.open(store_path)
        t1 = time.perf_counter()
        tracks = store.all()
        t2 = time.perf_counter()
        ordered = sorted(tracks, key=lambda t: (t.title.casefold(), t.path))
        t3 = time.perf_counter()
        found = store.query(search="omega")
        t4 = time.perf_counter()
        jazz = store.query(genre="jazz")
        t5 = time.perf_counter()
        out.update(open_s=t1 - t0, all_s=t2 - t1, sort_s=t3 - t2, query_search_s=t4 - t3, query_genre_s=t5 - t4,
                   tracks=len(ordered), search_hits=len(found), genre_hits=len(jazz))
        store.close()
    elif stage == "update":
        store = Store.open(store_path)
        paths = store.paths()
        t1 = time.perf_counter()
        store.update(paths[len(paths) // 2], chosen=["Jazz"])
        t2 = time.perf_counter()
        with store.batch():
            for p in paths[1000:1500]:
                store.update(p, chosen=["Blues"])
        t3 = time.perf_counter()
        out.update(open_s=t1 - t0, one_update_s=t2 - t1, batch_500_s=t3 - t2)
        store.close()
    elif stage == "analyse":
        from genre_desktop.inference.analyzer import Analyzer

        analyzer = Analyzer()
        t1 = time.perf_counter()
        files = sorted((lib / "_sample").iterdir())[:SAMPLE]
        errors = [p.name for p in files if analyzer.analyze(p).prediction.error]
        out.update(load_models_s=t1 - t0, files=len(files), errors=errors,
                   per_file_s=(time.perf_counter() - t1) / max(len(files), 1))
    else:
        raise SystemExit(f"unknown stage {stage}")
    out["time_s"] = time.perf_counter() - t0
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


# --------------------------------------------------------------------------- driver
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, required=True, help="where the library and store live (kept)")
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    lib = args.dir / "library"
    store_path = args.dir / "store" / "library.json"
    if args.stage:
        print(json.dumps(run_stage(args.stage, lib, store_path)))
        return 0
    t0 = time.perf_counter()
    generate(args.dir, args.files)
    print(f"library: {args.files} files under {lib} (ready in {time.perf_counter() - t0:.0f} s)", flush=True)
    results = {}
    for stage in args.stages.split(","):
        proc = subprocess.run([sys.executable, __file__, "--dir", str(args.dir), "--stage", stage],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{stage}: FAILED\n{proc.stderr[-2000:]}")
            return 1
        results[stage] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = results[stage]
        extra = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items() if k not in ("time_s", "peak_rss_mb")}
        print(f"{stage:<8} {r['time_s']:8.2f} s  peak RSS {r['peak_rss_mb']:7.0f} MB  {extra}", flush=True)
    (args.dir / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("GENRE_DESKTOP_HOME", "/tmp/gd-scale-home")
    sys.exit(main())
