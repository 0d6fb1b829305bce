"""Benchmark: scanning a generated folder of small files, against a plain mutagen loop.

Generates N files (default 2,000) of mixed formats in nested folders: a few masters are encoded
with ``tests/media.py`` and copied, each copy re-tagged (title, artist, album, genre) with mutagen.
Then, in the same run and over the same files (all in the page cache after generation):

- baseline: ``mutagen.File(p)`` over every file (what any tag reader must at least do);
- first scan into an empty store (walk + read_tags + store writes in batches);
- rescan (nothing changed: size/mtime compared, no file opened);
- ``Store.open`` of the result, and the store's size on disk.

Usage: ``python tools/bench_scan.py [--files 2000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import mutagen

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from media import FORMATS, make_audio  # noqa: E402

from genre_desktop.library.scanner import scan  # noqa: E402
from genre_desktop.library.store import Store  # noqa: E402

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


def generate(root: Path, count: int) -> list[Path]:
    masters_dir = root / "_masters"
    masters_dir.mkdir(parents=True)
    masters = [make_audio(masters_dir / f"master{ext}", seconds=1.0, tags={"title": "M", "artist": "M", "genre": ["Rock"]})
               for ext in FORMATS]
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None, help="generate into DIR and keep it")
    args = parser.parse_args(argv)
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        t0 = time.perf_counter()
        files = generate(root, args.files)
        print(f"generated {len(files)} files ({', '.join(FORMATS)}) in {time.perf_counter() - t0:.1f} s under {root}")

        t0 = time.perf_counter()
        readable = sum(mutagen.File(p) is not None for p in files)
        baseline = time.perf_counter() - t0

        store_path = root / "store" / "library.json"
        store = Store.open(store_path)
        t0 = time.perf_counter()
        first = drain(scan(root / "library", store))
        first_time = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = drain(scan(root / "library", store))
        rescan_time = time.perf_counter() - t0
        store.close()
        t0 = time.perf_counter()
        reopened = Store.open(store_path)
        open_time = time.perf_counter() - t0
        size = reopened.disk_usage()
        shards = len(reopened.files()) - 1
        reopened.close()

        n = len(files)
        print(f"mutagen.File loop : {baseline:7.2f} s  {n / baseline:8.0f} files/s  ({readable} readable)")
        print(f"first scan        : {first_time:7.2f} s  {n / first_time:8.0f} files/s  "
              f"({first.new} new, {len(first.unreadable)} unreadable)  = {first_time / baseline:.2f} x baseline")
        print(f"rescan (unchanged): {rescan_time:7.2f} s  {n / rescan_time:8.0f} files/s  "
              f"({again.unchanged} unchanged)  = {rescan_time / baseline:.3f} x baseline, "
              f"{first_time / rescan_time:.0f} x faster than the first scan")
        print(f"store on disk     : {size / 1024:.0f} KB in {shards} shard file(s) + meta; Store.open {open_time * 1000:.0f} ms")
        for path, reason in first.unreadable[:5]:
            print(f"  unreadable: {path}: {reason}")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
