"""Benchmark: the command line's pipeline on a generated library, against another code tree.

Generates N distinct short audio files (default 1,000 FLAC/MP3/WAV tones of 3 s, tagged), then,
for each code tree in alternating rounds, on a fresh copy of the files and a fresh app home, in
its own processes (``genre-desktop-cli`` as a user runs it):

- ``scan DIR`` (a first scan), ``analyze --workers W``, ``accept --above 0``, ``write``;
- ``scan`` again (every written file is re-read) and ``analyze`` again: what a nightly job pays
  the night after a write (issue 19 item 3: a verified write keeps the analysis, so this second
  analysis should find nothing to do).

``--baseline TREE`` is another checkout (a folder holding ``genre_desktop``, e.g.
``git archive <commit> | tar -x -C TREE``); figures are medians over ``--rounds`` (default 2),
with current/baseline ratios (below 1: faster now). Wall-clock seconds on a shared machine: read
the ratios, measured in the same run.

Usage: ``python tools/bench_cli.py [--tracks 1000] [--workers 2] [--baseline TREE] [--rounds 2]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

STEPS = ("scan", "analyze", "accept", "write", "rescan after write", "analyze after write")
GENRES = ("Rock", "Jazz", "Blues", "Pop", "Metal", "Disco", "Reggae", "Country", "Classical", "Hip-Hop")


def generate(root: Path, n: int) -> None:
    from media import make_audio

    exts = (".flac", ".mp3", ".wav")
    for i in range(n):
        folder = root / f"Artist {i // 100:02d}" / f"Album {i // 10:03d}"
        make_audio(folder / f"{i % 10:02d} Track {i}{exts[i % 3]}", seconds=3.0, freq=110.0 + 7.0 * i,
                   signal=("tone", "chirp", "noise")[i % 3],
                   tags={"title": f"Track {i}", "artist": f"Artist {i // 100:02d}", "genre": GENRES[i % 10]})


def run_tree(tree: Path, master: Path, work: Path, workers: int) -> dict[str, float]:
    """One full pipeline with the code of ``tree`` on a fresh copy of ``master``; seconds per step."""
    if work.exists():
        shutil.rmtree(work)
    music = work / "music"
    shutil.copytree(master, music)
    env = {**os.environ, "PYTHONPATH": str(tree), "GENRE_DESKTOP_HOME": str(work / "home"),
           "QT_QPA_PLATFORM": "offscreen"}
    commands = {
        "scan": ["scan", str(music)],
        "analyze": ["analyze", "--workers", str(workers)],
        "accept": ["accept", "--above", "0"],
        "write": ["write"],
        "rescan after write": ["scan", str(music)],
        "analyze after write": ["analyze", "--workers", str(workers)],
    }
    figures = {}
    for step in STEPS:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "genre_desktop.cli", *commands[step]], env=env, cwd=tree,
                              capture_output=True, text=True)
        figures[step] = time.perf_counter() - start
        if proc.returncode not in (0, 3):
            raise SystemExit(f"{tree}: {step} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
        if step == "analyze after write":
            done = [line for line in proc.stdout.splitlines() if line.startswith("Analysed")]
            figures["re-analysed"] = float(done[0].split()[1]) if done else 0.0  # "Analysed N of M tracks"
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=Path, default=None, help="another code tree to measure alongside")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="generate the files into DIR and keep them")
    args = parser.parse_args(argv)
    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-cli-"))
    master = base / "master"
    try:
        if not master.exists():
            t0 = time.perf_counter()
            generate(master, args.tracks)
            print(f"generated {args.tracks} files in {time.perf_counter() - t0:.1f} s under {master}", flush=True)
        trees = {"current": REPO} if args.baseline is None else {"baseline": args.baseline.resolve(), "current": REPO}
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for round_ in range(args.rounds):
            for name, tree in trees.items():  # alternating, so the machine's load hits both alike
                figures = run_tree(tree, master, base / f"run-{name}", args.workers)
                runs[name].append(figures)
                print(f"round {round_ + 1} {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in figures.items()),
                      flush=True)
        med = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
        print(f"\n{'seconds (median of ' + str(args.rounds) + ')':<26}" + "".join(f"{n:>12}" for n in trees)
              + ("       ratio" if len(trees) == 2 else ""))
        for key in med["current"]:
            row = f"{key:<26}" + "".join(f"{med[n][key]:12.1f}" for n in trees)
            if len(trees) == 2 and med["baseline"].get(key):
                row += f"{med['current'][key] / med['baseline'][key]:12.2f}"
            print(row)
        print(f"load average at the end: {os.getloadavg()}")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
