#!/usr/bin/env python
"""Benchmark the HPSS running median: ms of CPU per 30 s window, each kernel in the same run.

A window's HPSS runs two 31-wide median filters over its 1025 x 1293 magnitude spectrogram (along
time and along frequency: ``features/gtzan._hpss_medians``). Measured on the shared GTZAN clips
(or generated audio), single-threaded, each kernel in turn, round after round (the machine is
shared: compare within a run), median of the rounds:

- ``c``: the C extension (``features/_median.c``), what an install built with a compiler runs;
- ``scipy``: the fallback without it (scipy's 1-D running median, columns laid end to end);
- ``other``: optional, ``--compare FILE`` names another ``median.py`` to time beside them (e.g. an
  earlier version: ``git show REV:genre_desktop/features/median.py > /tmp/median_old.py``); its
  first call is a warm-up, not timed.

Each kernel's output is checked to equal the C kernel's. Usage:
``python tools/bench_median.py [--rounds 7] [--compare /tmp/median_old.py]``
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import glob  # noqa: E402
import importlib.util  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_features import DEFAULT_CLIPS, SR, generated_audio  # noqa: E402

WIDTH = 31


def spectrograms(clips: str) -> list[np.ndarray]:
    """Magnitude spectrograms (bins, frames) of the clips, as the features compute them."""
    from genre_desktop.audio import decode
    from genre_desktop.features import dsp

    signals = [decode(p, sr=SR) for p in sorted(glob.glob(os.path.join(clips, "*.au")))]
    signals = signals or [generated_audio(30.0, seed) for seed in range(4)]
    return [np.abs(dsp.stft(y, 2048, 512, pad_mode="reflect")) for y in signals]


def both_filters(kernel: Callable[[np.ndarray, int], np.ndarray], mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return kernel(np.ascontiguousarray(mag.T), WIDTH), kernel(np.ascontiguousarray(mag), WIDTH)


def kernels(other_file: str | None) -> dict[str, Callable[[np.ndarray, int], np.ndarray]]:
    from genre_desktop.features import median

    if median._median is None:
        sys.exit("error: the C extension is not built (pip install -e . with a C compiler)")

    def scipy_kernel(x: np.ndarray, width: int) -> np.ndarray:
        saved, median._median = median._median, None
        try:
            return median.median_filter_axis0(x, width)
        finally:
            median._median = saved

    found = {"c": median.median_filter_axis0, "scipy": scipy_kernel}
    if other_file:
        spec = importlib.util.spec_from_file_location("median_other", other_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found["other"] = module.median_filter_axis0
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--clips", default=DEFAULT_CLIPS)
    parser.add_argument("--compare", metavar="FILE", help="another median.py to time beside them")
    args = parser.parse_args(argv)
    mags = spectrograms(args.clips)
    found = kernels(args.compare)
    for name, kernel in found.items():  # warm-up, and every kernel agrees with C
        for mag in mags[:2]:
            for got, want in zip(both_filters(kernel, mag), both_filters(found["c"], mag)):
                np.testing.assert_array_equal(got, want)
    per_window: dict[str, list[float]] = {name: [] for name in found}
    for _ in range(args.rounds):
        for name, kernel in found.items():
            start = time.thread_time()
            for mag in mags:
                both_filters(kernel, mag)
            per_window[name].append(1000 * (time.thread_time() - start) / len(mags))
    base = statistics.median(per_window["c"])
    print(f"HPSS median filters, ms CPU per 30 s window ({len(mags)} windows x {args.rounds} rounds, median):")
    for name, values in per_window.items():
        ms = statistics.median(values)
        print(f"  {name:<6} {ms:7.1f} ms  ({ms / base:.2f}x the C kernel; rounds {min(values):.1f}-{max(values):.1f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
