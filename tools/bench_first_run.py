"""How long the first analysis in a fresh data folder takes against the same call again.

Each round makes a fresh data folder (``GENRE_DESKTOP_HOME``: config, data and caches empty, as for
a new user, a new data folder or a new Dask worker image), then runs ``classify`` of one 30 s clip
in a fresh process twice: the first call pays any one-time step (compiling, cache building), the
second is the steady state. Reported: both wall times and their ratio (target: first <= 1.5x
second), per round and as the median over rounds. Rounds alternate with nothing else, so the
ratio is measured under the same machine load.

    python tools/bench_first_run.py                     # the source install (this venv's CLI)
    python tools/bench_first_run.py --cli dist/genre-desktop/genre-desktop-cli   # the bundle
    python tools/bench_first_run.py --rounds 5 --json

``--env NAME=VALUE`` adds to the child's environment (e.g. ``PYTHONPATH=DIR`` to measure another
checkout with this interpreter; the child's stderr is then printed too).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_clip(path: Path, seconds: float = 30.0, sr: int = 22050) -> Path:
    """A 30 s mono FLAC: a chord with a beat and some noise (music-like spectra for every feature)."""
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(0)
    chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) / 3
    beat = (np.sin(2 * np.pi * 2.0 * t) > 0.95) * rng.normal(0, 0.5, t.size)
    audio = (0.4 * chord + 0.3 * beat + 0.05 * rng.normal(size=t.size)).astype(np.float32)
    sf.write(str(path), audio, sr, format="FLAC")
    return path


def default_cli() -> list[str]:
    exe = Path(sys.executable).with_name("genre-desktop-cli")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "genre_desktop.cli"]


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default=None, help="the genre-desktop-cli to run (default: this venv's)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    cli = [args.cli] if args.cli else default_cli()
    work = Path(tempfile.mkdtemp(prefix="bench-first-run-"))
    rows = []
    try:
        clip = make_clip(work / "clip.flac")
        for r in range(args.rounds):
            home = work / f"home{r}"
            env = {k: v for k, v in os.environ.items() if not k.startswith("GENRE_DESKTOP_")}
            env.update(GENRE_DESKTOP_HOME=str(home), PYTHONDONTWRITEBYTECODE="1")
            env.update(dict(item.split("=", 1) for item in args.env))
            first, first_log = timed([*cli, "classify", "--json", str(clip)], env)
            second, _ = timed([*cli, "classify", "--json", str(clip)], env)
            rows.append({"first_s": round(first, 2), "second_s": round(second, 2), "ratio": round(first / second, 2)})
            if not args.json:
                print(f"round {r + 1}: first {first:6.2f} s  second {second:6.2f} s  ratio {first / second:5.2f}")
                if first_log.strip() and args.env:
                    print("  " + "\n  ".join(first_log.strip().splitlines()[:40]))
            shutil.rmtree(home, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = {"cli": " ".join(cli), "rounds": rows,
               "median_first_s": statistics.median(r["first_s"] for r in rows),
               "median_second_s": statistics.median(r["second_s"] for r in rows),
               "median_ratio": statistics.median(r["ratio"] for r in rows)}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"median: first {summary['median_first_s']:.2f} s, second {summary['median_second_s']:.2f} s, "
              f"ratio {summary['median_ratio']:.2f} (target <= 1.5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
