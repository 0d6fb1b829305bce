"""``precompile``: compile the analysis's numba code into the install's shared cache, ahead of time.

Run by the bundle's build and ``tools/setup.sh``; after ``pip install genre-desktop`` (and in a
Dask worker image) run it once so that no data folder's first analysis waits for the compiler
(see :mod:`genre_desktop.jit_cache`). It analyses a few seconds of generated audio with the bundled
models, which compiles exactly what an analysis compiles, and computes the window's spectrogram.
Exit code 0, or 1 if the cache cannot be written.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def register(subparsers) -> None:
    p = subparsers.add_parser("precompile", help="prepare the analysis code for this computer (once per install)",
                              description="Compile the feature code ahead of time into the installation's "
                                          "shared cache, so the first analysis starts at once.")
    p.set_defaults(func=run)


def _warm_up() -> None:
    import numpy as np

    from genre_desktop.features.mel import mel_spectrogram
    from genre_desktop.inference.spec import AnalysisSpec

    sr = 22050
    t = np.arange(int(sr * 8.0)) / sr
    rng = np.random.default_rng(0)
    audio = (0.3 * np.sin(2 * np.pi * 220.0 * t) + 0.1 * rng.normal(size=t.size)).astype(np.float32)
    analyzer = AnalysisSpec(n_segments=1, vector_cache_dir=None).build()
    analyzer.analyze_samples(audio, sr, name="precompile")
    mel_spectrogram(audio, sr)


def run(args: argparse.Namespace) -> int:
    from genre_desktop import jit_cache

    folder = os.environ.get("NUMBA_CACHE_DIR")
    if not folder or os.environ.get("GENRE_DESKTOP_JIT_SET") != "1":
        print("error: no writable folder for compiled code (see the log with -v)", file=sys.stderr)
        return 1
    if jit_cache.is_ready():
        print(f"already prepared: {folder}")
        return 0
    print(f"preparing the analysis code for this computer in {folder} (about a minute)…", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _warm_up()
    jit_cache.mark_ready()
    print(f"prepared in {time.perf_counter() - started:.0f} s: {folder}")
    return 0
