"""What undo by construction costs (issue 21): undo data kept per write, and write/undo time.

Builds a real-looking library: albums of tracks in several formats, each track tagged (title,
artist, album, genre) with its album's 300 KB JPEG cover, then, in a fresh copy per run, scans it,
writes a genre into every file (one batch) and undoes everything. The same workload runs on the
code before this work (``--baseline REF``, extracted from git into a temporary folder) and on
the working tree, alternately, in one process tree, so the ratios compare like with like on a
noisy machine. Reported: undo data on disk per write (median and max, by format, and what the
content-addressed blobs save by keeping equal bytes once), and the median write and undo times
per file of each code, with their ratio. ``--grow`` writes genres too long for the tag's room,
so the tag is rewritten (and the cover moves) instead of being changed in place.

Usage::

    nice -n 10 .venv/bin/python tools/bench_undo.py [--albums 6] [--tracks 5] [--seconds 60]
        [--rounds 3] [--baseline 2fff9be] [--out /tmp/bench-undo] [--grow]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = (".mp3", ".flac", ".m4a", ".ogg", ".opus", ".wma", ".aiff")
# --grow: ~6 KB of genres, more than the room most tags keep, so the tag is rewritten and moves
GROWN = [f"Genre {i}" + " with a long name" * 20 for i in range(18)]

WORKER = r"""
import json, os, sys, time
from pathlib import Path
import genre_desktop
from genre_desktop.library.journal import Journal
from genre_desktop.library.scanner import scan_paths
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
music, state = Path(sys.argv[1]), Path(sys.argv[2])
paths = sorted(str(p) for p in music.rglob("*") if p.is_file())
store = Store.open(state / "library.json")
scan_paths(paths, store)
service = TagService(store, Journal(state / "journal.jsonl"))
started = time.perf_counter()
genres = json.loads(sys.argv[3])
written = service.write({p: genres for p in paths})
write_s = time.perf_counter() - started
kept, per_write, named = {}, [], {}
for entry in service.journal.entries():
    blobs = (getattr(entry, "undo", None) or {}).get("blobs", [])
    for key, size in blobs:
        kept.setdefault(os.path.splitext(entry.path)[1], {})[key] = size
        named[key] = size
    if blobs:
        per_write.append(sum(size for _, size in blobs))
disk = sum(p.stat().st_size for p in (state / "journal-undo").rglob("*") if p.is_file()) \
    if (state / "journal-undo").exists() else 0
started = time.perf_counter()
undone = service.undo(all=True)
undo_s = time.perf_counter() - started
print(json.dumps({"code": genre_desktop.__file__, "files": len(paths), "written": sum(r.ok for r in written),
                  "undone": sum(r.ok for r in undone), "exact": sum(bool(getattr(r, "exact", False)) for r in undone),
                  "write_s": write_s, "undo_s": undo_s,
                  "kept": {ext: sum(v.values()) for ext, v in kept.items()}, "disk": disk,
                  "per_write": per_write, "unique": sum(named.values())}))
"""


def build_library(folder: Path, albums: int, tracks: int, seconds: float) -> dict[str, int]:
    """The library's files, every album with its own cover; returns files per format."""
    sys.path.insert(0, str(ROOT / "tests"))
    from media import make_audio
    from undo_media import cover_jpeg, with_cover

    counts: dict[str, int] = {}
    for a in range(albums):
        jpeg = cover_jpeg(folder, 300_000, seed=a % 50)  # a different picture per album
        for t in range(tracks):
            ext = FORMATS[(a * tracks + t) % len(FORMATS)]
            path = folder / f"album{a:02d}" / f"{t + 1:02d} track{ext}"
            make_audio(path, seconds=seconds, sr=44100, channels=2, signal="noise",
                       tags={"title": f"Track {t + 1}", "artist": f"Artist {a}", "album": f"Album {a}",
                             "genre": ["Rock"]})
            with_cover(path, jpeg)
            counts[ext] = counts.get(ext, 0) + 1
    return counts


def extract(ref: str, into: Path) -> Path:
    """The package as it was at ``ref`` (git archive), importable from ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "genre_desktop"], check=True,
                             capture_output=True).stdout
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run_once(code: Path, library: Path, work: Path, genres: list[str]) -> dict:
    if work.exists():
        shutil.rmtree(work)
    music, state = work / "music", work / "state"
    shutil.copytree(library, music)
    state.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=str(code), GENRE_DESKTOP_HOME=str(work / "home"))
    proc = subprocess.run([sys.executable, "-c", WORKER, str(music), str(state), json.dumps(genres)], capture_output=True, text=True,
                          env=env, timeout=3600, cwd=work)  # not the worktree: "-c" puts the cwd first
    if proc.returncode != 0:
        raise SystemExit(f"the worker failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if not result["code"].startswith(str(code)):
        raise SystemExit(f"the worker imported {result['code']}, not the code under {code}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--albums", type=int, default=6)
    parser.add_argument("--tracks", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default="2fff9be", help="git ref of the code before this work")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "bench-undo")
    parser.add_argument("--grow", action="store_true",
                        help="write genres too long for the tag's room (the tag and its cover move)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    library = out / "library"
    counts = build_library(library, args.albums, args.tracks, args.seconds)
    size = sum(p.stat().st_size for p in library.rglob("*") if p.is_file())
    print(f"library: {sum(counts.values())} files, {size / 1e6:.1f} MB, {args.seconds:g} s each, "
          f"a 300 KB cover per album; {counts}")
    genres = GROWN if args.grow else ["Bench Genre"]
    codes = {"before": extract(args.baseline, out / "baseline"), "after": ROOT}
    runs: dict[str, list[dict]] = {"before": [], "after": []}
    for round_no in range(args.rounds):
        for name in (("before", "after") if round_no % 2 == 0 else ("after", "before")):
            started = time.monotonic()
            runs[name].append(run_once(codes[name], library, out / "work", genres))
            print(f"round {round_no + 1} {name}: write {runs[name][-1]['write_s']:.2f} s, "
                  f"undo {runs[name][-1]['undo_s']:.2f} s ({time.monotonic() - started:.0f} s with setup)")
    files = sum(counts.values())
    after = runs["after"][-1]
    print(f"\nundo data per write (after): {after['disk'] / max(after['written'], 1):,.0f} bytes on disk "
          f"({after['disk']:,} bytes for {after['written']} writes; {after['exact']} of {after['undone']} undone "
          f"byte for byte)")
    sizes = sorted(after["per_write"])
    referenced = sum(sizes)
    if sizes:
        print(f"  per write: median {statistics.median(sizes):,.0f} bytes, max {sizes[-1]:,} bytes; "
              f"{referenced:,} bytes named by the {len(sizes)} writes, {after['unique']:,} kept once each "
              f"(dedup saves {1 - after['unique'] / max(referenced, 1):.0%})")
    for ext in FORMATS:
        if ext in after["kept"]:
            print(f"  {ext:<6} {after['kept'][ext] / counts[ext]:>8,.0f} bytes per write")
    print(f"\n{'':<8}{'write ms/file':>15}{'undo ms/file':>15}")
    med = {}
    for name in ("before", "after"):
        w = statistics.median(r["write_s"] for r in runs[name]) / files * 1000
        u = statistics.median(r["undo_s"] for r in runs[name]) / files * 1000
        med[name] = (w, u)
        print(f"{name:<8}{w:>15.1f}{u:>15.1f}")
    print(f"{'ratio':<8}{med['after'][0] / med['before'][0]:>15.2f}{med['after'][1] / med['before'][1]:>15.2f}")
    (out / "report.json").write_text(json.dumps({"counts": counts, "runs": runs}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
