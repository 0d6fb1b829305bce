#!/usr/bin/env python
"""Benchmark the GTZAN feature extractor against the straightforward librosa recipe.

Measures seconds of audio processed per second of wall time (x real time), single-threaded, on
the eight shared GTZAN clips and on generated 30 s audio, in one run:

- ``fast``: :func:`genre_desktop.features.gtzan.extract_features` (the app's code path);
- ``reference``: :func:`genre_desktop.features.gtzan.reference_features`, one librosa call per
  feature, as the study computed them;
- both again including loading the clip (``librosa.load``; the app's decoder for the fast path
  once ``genre_desktop.audio.decode`` exists).

Each measurement is the median of ``--repeats`` runs after one warm-up run (librosa's numba
compilation for the reference, filter banks and file caches are excluded). It also prints where the fast path spends its time,
per stage (CPU time of the thread).

Usage: ``python tools/bench_features.py [--repeats 5] [--clips DIR]``
"""

from __future__ import annotations

import os

# Single-threaded on purpose (the target is x real time on ONE core); must precede numpy's import.
for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import glob  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

SR = 22050
DEFAULT_CLIPS = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "gtzan", "clips")


def generated_audio(seconds: float = 30.0, seed: int = 0) -> np.ndarray:
    """Music-like test audio: detuned plucked notes with harmonics, bass, noise drums at 120 bpm."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    y = np.zeros(n)
    detune = 2 ** (0.23 / 12)
    for i, step in enumerate(rng.choice([0, 2, 4, 5, 7, 9, 11, 12], size=int(seconds * 2))):
        start, end = int(i * 0.5 * SR), min(n, int((i + 1) * 0.5 * SR))
        local = t[start:end] - t[start]
        f0 = 220 * detune * 2 ** (step / 12)
        for harmonic, amp in ((1, 1.0), (2, 0.5), (3, 0.25)):
            y[start:end] += 0.2 * amp * np.exp(-3 * local) * np.sin(2 * np.pi * f0 * harmonic * local)
    for start in range(0, n, SR // 2):
        end = min(n, start + 3000)
        y[start:end] += 0.3 * rng.standard_normal(end - start) * np.exp(-np.arange(end - start) / 400)
    y += 0.1 * np.sin(2 * np.pi * 55 * detune * t)
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def median_seconds(task: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``task`` over ``repeats`` runs, after an untimed warm-up.

    CPU time (of this process) is reported too because on a shared machine other processes
    stretch the wall time; with one thread it is what the code itself costs.
    """
    task()
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        task()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median)")
    parser.add_argument("--clips", default=DEFAULT_CLIPS, help="folder of GTZAN .au clips")
    args = parser.parse_args(argv)

    import librosa

    from genre_desktop.features.gtzan import extract_features, reference_features

    try:
        from genre_desktop.audio import decode as app_decode
        fast_loader = "genre_desktop.audio.decode"
    except ImportError:
        app_decode = None
        fast_loader = "librosa.load"

    def load_librosa(path: str) -> np.ndarray:
        return librosa.load(path, sr=SR)[0]

    def load_fast(path: str) -> np.ndarray:
        return app_decode(path, sr=SR) if app_decode is not None else load_librosa(path)

    paths = sorted(glob.glob(os.path.join(args.clips, "*.au")))
    inputs: list[tuple[str, str | None, np.ndarray]] = [("generated 30 s", None, generated_audio())]
    inputs += [(os.path.basename(p), p, load_librosa(p)) for p in paths]

    print(f"single-threaded; median of {args.repeats} runs after a warm-up; fast path loads with {fast_loader}")
    header = (f"{'input':20s} {'audio s':>7s} | {'fast wall':>9s} {'x rt':>5s} {'cpu':>6s} {'x rt':>5s} | "
              f"{'ref wall':>9s} {'x rt':>5s} {'cpu':>6s} {'x rt':>5s} | {'speed-up (cpu)':>14s}")
    rows = []
    for title, path, y in inputs:
        seconds = y.size / SR
        fast = median_seconds(lambda: extract_features(y), args.repeats)
        ref = median_seconds(lambda: reference_features(y), args.repeats)
        fast_io = ref_io = None
        if path is not None:
            fast_io = median_seconds(lambda: extract_features(load_fast(path)), args.repeats)
            ref_io = median_seconds(lambda: reference_features(load_librosa(path)), args.repeats)
        rows.append((title, seconds, fast, ref, fast_io, ref_io))

    def table(label: str, pick: Callable[[tuple], tuple]) -> None:
        print(f"\n{label}\n{header}\n{'-' * len(header)}")
        totals = np.zeros(5)
        for row in rows:
            fast, ref = pick(row)
            if fast is None:
                continue
            title, seconds = row[0], row[1]
            line(title, seconds, fast, ref)
            if title.endswith(".au"):
                totals += (seconds, *fast, *ref)
        if totals[0]:
            line("eight clips", totals[0], tuple(totals[1:3]), tuple(totals[3:5]))

    def line(title: str, seconds: float, fast: tuple[float, float], ref: tuple[float, float]) -> None:
        print(f"{title:20s} {seconds:7.2f} | {fast[0]:9.3f} {seconds / fast[0]:5.0f} {fast[1]:6.3f} "
              f"{seconds / fast[1]:5.0f} | {ref[0]:9.3f} {seconds / ref[0]:5.0f} {ref[1]:6.3f} "
              f"{seconds / ref[1]:5.0f} | {ref[0] / fast[0]:5.1f}x ({ref[1] / fast[1]:4.1f}x)")

    table("features only (samples in memory)", lambda r: (r[2], r[3]))
    table("load + features", lambda r: (r[4], r[5]))

    # Where the fast path spends its time: CPU seconds per stage, per 30 s of audio.
    timings: dict[str, float] = {}
    clips = [y for _, p, y in inputs if p is not None] or [inputs[0][2]]
    audio = sum(y.size for y in clips) / SR
    for _ in range(args.repeats):
        for y in clips:
            extract_features(y, timings=timings)
    scale = 30.0 / (audio * args.repeats)
    total = sum(timings.values())
    print("\nfast path by stage (CPU ms per 30 s of audio)")
    for stage, spent in sorted(timings.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:28s} {1000 * spent * scale:7.1f} ms  {100 * spent / total:5.1f} %")
    print(f"  {'total':28s} {1000 * total * scale:7.1f} ms  -> {30.0 / (total * scale):.0f}x real time (CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
