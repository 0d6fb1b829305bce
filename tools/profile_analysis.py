#!/usr/bin/env python
"""Profile the whole analysis of 30 s windows by stage, in CPU time of this process, single thread.

Runs ``Analyzer.analyze`` (one 30 s segment per clip) on the shared GTZAN clips under cProfile with
``time.process_time`` as the clock (the machine is shared: wall time says more about the neighbours
than about us), after one untimed warm-up analysis (first-call caches). Prints each stage's
cumulative CPU seconds, its share of the whole, and the whole analysis in x real time (seconds of
audio per CPU second).

Usage: python tools/profile_analysis.py [--clips DIR] [--top 25] [--repeat 1]
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # one thread, before numpy loads; not when imported (tests)
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# (stage, (file suffix, function name)): cumulative time of the first matching profile entry
STAGES = [
    ("decode", ("audio/decode.py", "decode")),
    ("57 features (all)", ("features/gtzan.py", "extract_features")),
    ("  STFT", ("features/dsp.py", "stft")),
    ("  HPSS median filters", ("features/gtzan.py", "_hpss_medians")),
    ("  HPSS mask + inverse STFT", ("features/gtzan.py", "_hpss_stats")),
    ("  tempo (beat_track's)", ("features/gtzan.py", "_beat_track_tempo")),
    ("  spectral shape", ("features/gtzan.py", "_spectral_shape")),
    ("  tuning (chroma)", ("features/gtzan.py", "_estimate_tuning")),
    ("musicnn input (resample+log-mel)", ("inference/musicnn.py", "window_patches")),
    ("  resample the chosen patches to 16 kHz", ("inference/musicnn.py", "chosen_16k")),
    ("  log-mel (chosen patches)", ("features/musicnn_input.py", "musicnn_patches")),
    ("musicnn networks (all runs)", ("inference/musicnn.py", "run")),
    ("AudioSet network (its excerpts)", ("inference/efficientat.py", "outputs")),
    ("  resample the excerpts to 32 kHz", ("inference/efficientat.py", "window_excerpts")),
    ("  log-mel (EfficientAT front end)", ("features/efficientat_input.py", "log_mel")),
    ("  network runs", ("inference/efficientat.py", "run")),
    ("resampling (soxr, every network)", ("soxr/__init__.py", "resample")),
    ("onnxruntime runs (every network)", ("~", "<built-in method onnxruntime.capi.onnxruntime_pybind11_state.run>")),
    ("ensemble (members, inputs on demand)", ("inference/ensemble.py", "predict")),
]


def _tag_networks(value: str):
    """--tag-networks as Analyzer's ``tag_networks`` (None: every bundled network)."""
    from genre_desktop.settings import DEFAULT_TAG_NETWORKS

    if value == "default":
        return tuple(DEFAULT_TAG_NETWORKS)
    return None if value == "all" else tuple(v for v in value.split(",") if v)


def stage_times(stats: pstats.Stats) -> dict[str, tuple[float, int]]:
    out = {}
    for stage, (suffix, name) in STAGES:
        total, calls = 0.0, 0
        for (file, _line, func), (_cc, nc, _tt, ct, _callers) in stats.stats.items():
            if func == name and file.replace("\\", "/").endswith(suffix):
                total += ct
                calls += nc
        out[stage] = (total, calls)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, default=ROOT.parent / "shared" / "data" / "gtzan" / "clips")
    parser.add_argument("--top", type=int, default=0, help="also print the top N functions by own time")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--tag-networks", default="default",
                        help="tagging networks to run for tags: 'default' (the app's setting, "
                             "settings.DEFAULT_TAG_NETWORKS), 'all', or names joined by commas")
    args = parser.parse_args(argv)
    tag_networks = _tag_networks(args.tag_networks)

    from genre_desktop.inference.analyzer import Analyzer

    paths = sorted(args.clips.glob("*.au"))
    analyzer = Analyzer(n_segments=1, threads=1, tag_networks=tag_networks)
    network_cpu = time_networks(analyzer)
    analyzer.analyze(paths[0])  # warm-up, not profiled
    network_cpu.clear()
    profile = cProfile.Profile(time.process_time)
    t0 = time.process_time()
    profile.enable()
    for _ in range(args.repeat):
        for p in paths:
            analyzer.analyze(p)
    profile.disable()
    cpu = time.process_time() - t0
    audio = 30.0 * len(paths) * args.repeat
    stats = pstats.Stats(profile)
    whole = max(v[3] for v in stats.stats.values())
    print(f"{len(paths)} clips x {args.repeat}: {audio:.0f} s of audio, {cpu:.2f} CPU s "
          f"= {audio / cpu:.1f}x real time (CPU time; profiler overhead included)")
    print(f"{'stage':<36}{'CPU s':>8}{'share':>8}{'calls':>7}")
    for stage, (t, n) in stage_times(stats).items():
        print(f"{stage:<36}{t:8.2f}{100 * t / whole:7.1f}%{n:7d}")
    # Each network's own runs (wrapped timers, inside the profile): what a window costs without
    # one of them, e.g. once the bundled head reads the MSD network only and MTT tags are off.
    for name, t in sorted(network_cpu.items()):
        print(f"network {name:<28}{t:8.2f}{100 * t / whole:7.1f}%   without it: "
              f"{audio / (cpu - t):.1f}x real time")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


def time_networks(analyzer) -> dict[str, float]:
    """Wrap each loaded network member's ``outputs`` to add its CPU seconds to the returned dict:
    the network and its input (an input two networks share, such as musicnn's log-mel patches or
    a resampling, is charged to the first that asks)."""
    spent: dict[str, float] = {}
    for name, network in analyzer.networks.items():
        def timed(inputs, units, _outputs=network.outputs, _name=name):
            t = time.thread_time()
            try:
                return _outputs(inputs, units)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.thread_time() - t
        network.outputs = timed
    return spent


if __name__ == "__main__":
    sys.exit(main())
