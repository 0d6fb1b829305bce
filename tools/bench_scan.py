"""Benchmark: scanning a generated folder of small files, against a plain mutagen loop.

Generates N files (default 2,000) of mixed formats in nested folders: a few masters are encoded
with ``tests/media.py`` and copied, each copy re-tagged (title, artist, album, genre) with mutagen.
Then, in the same run and over the same files (all in the page cache after generation):

- baseline: ``mutagen.File(p)`` over every file (what any tag reader must at least do);
- first scan into an empty store (walk + read_tags + store writes in batches);
- rescan (nothing changed: size/mtime compared, no file opened);
- ``Store.open`` of the result, and the store's size on disk;
- the store alone (``--synthetic``, default 20,000 tracks, every other one with a prediction):
  inserts in batches of 500, single-track updates (one flush each), ``Store.open``, ``all()``.

``--baseline TREE`` measures another checkout of the code (a folder holding ``genre_desktop``,
e.g. ``git archive <commit> | tar -x -C TREE``) over the same files, in alternating rounds
(``--rounds``, default 2), each in its own process; figures are medians, with current/baseline
ratios (below 1: faster now).

``--cover KB`` embeds a cover picture of that size in every MP3, FLAC and M4A (real libraries'
files carry 50-500 KB of art, which every parse of the tags reads). ``--formats .mp3,.flac,.m4a`` limits the generated files to those extensions (default: every
format this machine can generate). ``--profile N`` prints the 25 costliest functions (cProfile,
cumulative) of a first scan of the current code instead of the comparison.

Usage: ``python tools/bench_scan.py [--files 2000] [--formats EXTS] [--synthetic 20000] [--baseline TREE] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mutagen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from media import FORMATS, make_audio  # noqa: E402

from genre_desktop.library.scanner import scan  # noqa: E402
from genre_desktop.library.store import Store  # noqa: E402
from genre_desktop.core.track import Track  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

GENRES = ("Rock", "Jazz", "Blues", "Pop", "Metal", "Disco", "Reggae", "Country", "Classical", "Hip-Hop")


def retag(path: Path, i: int) -> None:
    """Give a copy its own tags, so the files differ as a real library's do."""
    audio = mutagen.File(path, easy=True)
    if audio is None or not hasattr(audio, "tags"):
        return
    if audio.tags is None:
        try:
            audio.add_tags()
        except Exception:  # noqa: BLE001 - a container without easy tags keeps the master's
            return
    try:
        audio["title"] = f"Track {i}"
        audio["artist"] = f"Artist {i // 100}"
        audio["album"] = f"Album {i // 10}"
        audio["genre"] = [GENRES[i % len(GENRES)]]
        audio.save()
    except Exception:  # noqa: BLE001 - WAV/AIFF/ASF have no easy interface: keep the master's tags
        pass


def add_cover(path: Path, size_kb: int) -> None:
    """Embed ``size_kb`` KB of (incompressible) picture data as the front cover."""
    from mutagen.flac import FLAC, Picture
    from mutagen.id3 import APIC
    from mutagen.mp3 import MP3
    from mutagen.mp4 import MP4, MP4Cover

    data = b"\xff\xd8\xff\xe0" + random.Random(size_kb).randbytes(size_kb * 1024)
    ext = path.suffix.lower()
    if ext == ".mp3":
        audio = MP3(path)
        audio.tags.add(APIC(encoding=3, mime="image/jpeg", type=3, desc="", data=data))
    elif ext == ".flac":
        audio = FLAC(path)
        picture = Picture()
        picture.type, picture.mime, picture.data = 3, "image/jpeg", data
        audio.add_picture(picture)
    elif ext == ".m4a":
        audio = MP4(path)
        audio["covr"] = [MP4Cover(data, imageformat=MP4Cover.FORMAT_JPEG)]
    else:
        return
    audio.save()


def generate(root: Path, count: int, formats: list[str] = FORMATS, cover_kb: int = 0) -> list[Path]:
    masters_dir = root / "_masters"
    masters_dir.mkdir(parents=True)
    masters = [make_audio(masters_dir / f"master{ext}", seconds=1.0, tags={"title": "M", "artist": "M", "genre": ["Rock"]})
               for ext in formats]
    if cover_kb:
        for master in masters:
            add_cover(master, cover_kb)
    lib = root / "library"
    files = []
    for i in range(count):
        master = masters[i % len(masters)]
        target = lib / f"Artist {i // 100:03d}" / f"Album {i // 10:04d}" / f"{i % 10:02d} Track {i}{master.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(master, target)
        retag(target, i)
        files.append(target)
    return files


def drain(gen):
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value


def synthetic_tracks(n: int) -> list[Track]:
    """Plausible records in path order; every other one analysed with a full prediction."""
    rng = random.Random(7)
    out = []
    for i in range(n):
        probs = sorted((rng.random() for _ in GENRES), reverse=True)
        prediction = None if i % 2 else {
            "genres": [{"genre": g.lower(), "probability": p / sum(probs)} for g, p in zip(GENRES, probs)],
            "members": {f"member{m}": [rng.random() for _ in GENRES] for m in range(4)},
            "segments": [[rng.random() for _ in GENRES] for _ in range(3)]}
        out.append(Track(path=f"/bench/Artist {i // 100:04d}/Album {i // 10:05d}/{i % 10:02d} Track {i}.flac",
                         size=3_000_000 + i, mtime=1.7e9 + i, duration=200.0, format="flac", samplerate=44100,
                         channels=2, title=f"Track {i}", artist=f"Artist {i // 100}", album=f"Album {i // 10}",
                         genres=[GENRES[i % len(GENRES)]], status="predicted" if prediction else "unanalysed",
                         prediction=prediction, scanned_at=1.7e9))
    return out


def measure(root: Path, synthetic: int) -> dict[str, float]:
    """Every figure for the code this process imports, over the files generated under ``root``."""
    work = Path(tempfile.mkdtemp(prefix="measure-", dir=root))
    try:
        figures: dict[str, float] = {}
        store_path = work / "store" / "library.json"
        store = Store.open(store_path)
        t0, c0 = time.perf_counter(), time.process_time()
        first = drain(scan(root / "library", store))
        figures["first scan s"] = time.perf_counter() - t0
        # CPU time of this process: what the code costs, whatever the machine's other load
        figures["first scan CPU s"] = time.process_time() - c0
        t0 = time.perf_counter()
        drain(scan(root / "library", store))
        figures["rescan s"] = time.perf_counter() - t0
        store.close()
        t0 = time.perf_counter()
        reopened = Store.open(store_path)
        figures["Store.open after scan ms"] = (time.perf_counter() - t0) * 1000
        figures["store KB"] = reopened.disk_usage() / 1024
        figures["new"] = first.new
        reopened.close()
        if synthetic:
            tracks = synthetic_tracks(synthetic)
            path = work / "synthetic" / "library.json"
            store = Store.open(path)
            t0 = time.perf_counter()
            for start in range(0, len(tracks), 500):
                store.upsert(tracks[start:start + 500])
            figures["synthetic insert s"] = time.perf_counter() - t0
            picks = tracks[:: max(1, len(tracks) // 200)]
            t0 = time.perf_counter()
            for track in picks:
                store.update(track.path, chosen=["Jazz"], status="accepted")
            figures["update (one flush) ms"] = (time.perf_counter() - t0) * 1000 / len(picks)
            store.close()
            t0 = time.perf_counter()
            store = Store.open(path)
            figures["synthetic Store.open ms"] = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            assert len(store.all()) == len(tracks)
            figures["synthetic all() ms"] = (time.perf_counter() - t0) * 1000
            figures["synthetic store KB"] = store.disk_usage() / 1024
            store.close()
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)


def profile_scan(root: Path) -> None:
    """The 25 costliest functions (cumulative) of a first scan into an empty store."""
    import cProfile
    import pstats

    work = Path(tempfile.mkdtemp(prefix="profile-", dir=root))
    store = Store.open(work / "library.json")
    profiler = cProfile.Profile()
    profiler.enable()
    drain(scan(root / "library", store))
    profiler.disable()
    store.close()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def measure_in_child(tree: Path, root: Path, synthetic: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, __file__, "--measure", str(root), "--synthetic", str(synthetic)],
                         env=env, cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--formats", default=",".join(FORMATS), help="extensions to generate, comma-separated")
    parser.add_argument("--cover", type=int, default=0, help="KB of cover art in each MP3/FLAC/M4A")
    parser.add_argument("--profile", action="store_true", help="profile a first scan of the current code instead")
    parser.add_argument("--synthetic", type=int, default=20000, help="tracks for the store-only figures (0: skip)")
    parser.add_argument("--baseline", type=Path, default=None, help="another code tree to measure alongside")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="generate into DIR and keep it")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.synthetic)))
        return 0
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        t0 = time.perf_counter()
        formats = [f if f.startswith(".") else "." + f for f in args.formats.split(",") if f]
        unknown = sorted(set(formats) - set(FORMATS))
        if unknown:
            parser.error(f"cannot generate {', '.join(unknown)} here (can: {', '.join(FORMATS)})")
        files = generate(root, args.files, formats, args.cover)
        print(f"generated {len(files)} files ({', '.join(formats)}) in {time.perf_counter() - t0:.1f} s under {root}")
        if args.profile:
            profile_scan(root)
            return 0
        trees = {"current": REPO} if args.baseline is None else {"baseline": args.baseline.resolve(), "current": REPO}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        baselines = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            readable = sum(mutagen.File(p) is not None for p in files)
            baselines.append(time.perf_counter() - t0)
            for name, tree in trees.items():  # alternating, so machine load hits both alike
                runs[name].append(measure_in_child(tree, root, args.synthetic))
        n = len(files)
        mutagen_s = statistics.median(baselines)
        print(f"mutagen.File loop : {mutagen_s:7.2f} s  {n / mutagen_s:8.0f} files/s  ({readable} readable)")
        med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
        keys = [k for k in med["current"] if k != "new"]
        print(f"{'figure (median of ' + str(args.rounds) + ')':<28}" + "".join(f"{name:>12}" for name in trees)
              + ("       ratio" if len(trees) == 2 else ""))
        for key in keys:
            row = f"{key:<28}" + "".join(f"{med[name][key]:12.4g}" for name in trees)
            if len(trees) == 2 and med["baseline"].get(key):
                row += f"{med['current'][key] / med['baseline'][key]:12.2f}"
            print(row)
        cur = med["current"]
        print(f"first scan = {cur['first scan s'] / mutagen_s:.2f} x the mutagen loop; rescan = "
              f"{cur['rescan s'] / mutagen_s:.3f} x; {int(cur['new'])} new tracks")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
