#!/usr/bin/env python
"""Benchmark: seconds of audio analysed per CPU second, by stage, single thread.

Ours (everything loaded once): decode (``audio.decode`` at 22050 Hz) -> features
(``features.gtzan.extract_features``) -> classical models (five ONNX members + ensemble) -> musicnn
(resample to 16 kHz, log-mel patches, one run per network; every patch, and the analyzer's subsample of
TAG_PATCHES_PER_WINDOW patches per window) if the manifest lists musicnn
models; the AudioSet network (resampling to 32 kHz, its front end and runs on its excerpts per
window) and the study's CNN (its mel and runs) when listed; plus the end-to-end ``Analyzer.analyze``
with one 30 s segment, compared with the baseline's whole recipe.

Baseline in the same run, the study's straightforward recipe: ``librosa.load`` + one librosa call
per feature (each computing its own STFT) + the five scikit-learn models' ``predict_proba``.

Inputs: generated 30 s clips (tones, chords, noise bursts, clicks: a stand-in for music) and the
shared GTZAN clips. Threads are pinned to one (BLAS, onnxruntime) before numpy loads.

Timings are this process's CPU time (``time.process_time``): everything runs on one thread, so on
an idle machine it equals wall time, and on the shared, loaded machine it does not count the time
other processes held the core. ``--wall`` measures wall time instead.

Usage: nice python tools/bench_classify.py [--generated 4] [--repeat 1] [--json out.json]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "gtzan"
SR = 22050


def generated_clips(folder: Path, count: int, seconds: float = 30.0) -> list[Path]:
    """Deterministic music-like 30 s WAV files (chord tones with vibrato, noise bursts, clicks)."""
    import soundfile as sf

    rng = np.random.default_rng(7)
    t = np.arange(int(seconds * SR)) / SR
    paths = []
    for i in range(count):
        root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        y = sum(0.15 * np.sin(2 * np.pi * root * r * t + 0.3 * np.sin(2 * np.pi * 5 * t)) for r in (1, 1.25, 1.5, 2))
        bpm = rng.uniform(70, 160)
        beat = (np.floor(t * bpm / 60) != np.floor((t - 1 / SR) * bpm / 60)).astype(float)
        kick = np.convolve(beat, np.exp(-np.arange(2000) / 300.0) * np.sin(np.arange(2000) * 0.02))[: len(t)]
        noise = rng.normal(0, 0.05, len(t)) * (np.sin(2 * np.pi * bpm / 120 * t) > 0.6)
        y = (y + 0.6 * kick + noise).astype(np.float32)
        y /= max(1e-6, np.abs(y).max()) / 0.8
        path = folder / f"generated_{i}.wav"
        sf.write(path, y, SR, subtype="PCM_16")
        paths.append(path)
    return paths


def baseline_features(y: np.ndarray, sr: int) -> np.ndarray:
    """The study's recipe: one librosa call per feature, mean and variance of each (57 values)."""
    import librosa

    cols = []

    def add(a):
        cols.extend([float(np.mean(a)), float(np.var(a))])

    add(librosa.feature.chroma_stft(y=y, sr=sr))
    add(librosa.feature.rms(y=y))
    add(librosa.feature.spectral_centroid(y=y, sr=sr))
    add(librosa.feature.spectral_bandwidth(y=y, sr=sr))
    add(librosa.feature.spectral_rolloff(y=y, sr=sr))
    add(librosa.feature.zero_crossing_rate(y))
    harmonic, percussive = librosa.effects.hpss(y)
    add(harmonic)
    add(percussive)
    tempo, _ = librosa.beat.beat_track(y=y, sr=sr)
    cols.append(float(np.atleast_1d(tempo)[0]))
    for row in librosa.feature.mfcc(y=y, sr=sr, n_mfcc=20):
        add(row)
    return np.asarray(cols)


def sklearn_models(data: Path):
    """The five study models fitted on the train split (setup, not timed)."""
    from genre_desktop.training import classical as C

    table = C.load_feature_table(data / "features_30_sec.csv")
    train = table.subset(C.read_split(data / "splits" / "train_filtered.txt"))
    X = C.as_float32_inputs(train.X)
    return [C.build_pipeline(m, 0).fit(X, train.y) for m in C.MEMBERS]


NETWORK = "net: "  # stage names of the networks the analysis runs beside musicnn
CLOCK = time.process_time  # see the module docstring; main() switches it for --wall


class Timer:
    def __init__(self):
        self.totals: dict[str, float] = {}

    def run(self, stage: str, fn, *args):
        t0 = CLOCK()
        out = fn(*args)
        self.totals[stage] = self.totals.get(stage, 0.0) + CLOCK() - t0
        return out


def bench(paths: list[Path], data: Path, repeat: int, tag_networks=None, models: Path | None = None) -> dict:
    import librosa

    from genre_desktop.audio import decode, probe
    from genre_desktop.features.gtzan import extract_features
    from genre_desktop.inference.analyzer import TAG_PATCHES_PER_WINDOW, Analyzer
    from genre_desktop.inference.ensemble import combine
    from genre_desktop.inference.inputs import AudioInputs
    from genre_desktop.inference.musicnn import window_patches

    analyzer = Analyzer(models, n_segments=1, threads=1, tag_networks=tag_networks)
    # the same sessions the analyzer runs (bench-only access); the other kinds read other inputs
    # and are timed inside the end-to-end row
    members = [m for m in analyzer._members if m.kind == "classical"]
    taggers = [m.network for m in analyzer.tag_members]
    audioset = [m for m in analyzer.networks.values() if m.kind == "efficientat"]
    spectrogram_members = [m for m in analyzer._members if m.kind == "cnn"]
    models = sklearn_models(data)

    def ours(path: Path, timer: Timer) -> None:
        y = timer.run("decode", decode, path, SR)
        x = timer.run("features", extract_features, y, SR)
        timer.run("classical models", lambda: combine(
            {m.name: m.predict_proba(x[None, :]) for m in members}, analyzer.weights))
        if taggers:
            def tag(patches_per_window: int):
                patches = window_patches(AudioInputs([(0.0, len(y) / SR, y)]), patches_per_window)[0]
                return [t.run(patches) for t in taggers]
            timer.run(f"musicnn ({len(taggers)} nets)", tag, 0)
            timer.run(f"musicnn, {TAG_PATCHES_PER_WINDOW} patches", tag, TAG_PATCHES_PER_WINDOW)
        window = [(0.0, len(y) / SR, y)]
        for net in audioset:  # resample to 32 kHz, the numpy front end, the network, per excerpt
            k = net.default_units
            timer.run(f"{NETWORK}{net.name}, {k} excerpts", lambda: net.outputs(AudioInputs(window), k))
        for m in spectrogram_members:  # its own log-mel (a 1024-point STFT), then the network
            timer.run(f"{NETWORK}{m.name} (mel + network)", lambda: m.predict(AudioInputs(window)))

    def baseline(path: Path, timer: Timer) -> None:
        y, sr = timer.run("decode", lambda: librosa.load(str(path), sr=SR))
        x = timer.run("features", baseline_features, y, sr)
        timer.run("classical models", lambda: [m.predict_proba(x[None, :]) for m in models])

    # Warm-up (first-call caches: filter banks, FFT plans, model sessions) on one clip, not timed.
    ours(paths[0], Timer())
    baseline(paths[0], Timer())
    analyzer.analyze(paths[0])

    rows = {}
    for group, group_paths in (("generated", [p for p in paths if p.name.startswith("generated")]),
                               ("GTZAN clips", [p for p in paths if not p.name.startswith("generated")])):
        if not group_paths:
            continue
        audio = sum(probe(p).duration for p in group_paths) * repeat
        t_ours, t_base, t_e2e = Timer(), Timer(), Timer()
        for _ in range(repeat):
            for p in group_paths:
                ours(p, t_ours)
                baseline(p, t_base)
                analyzer.tag_patches = TAG_PATCHES_PER_WINDOW
                t_e2e.run("Analyzer.analyze, 1 segment", analyzer.analyze, p)
        rows[group] = {"audio_seconds": audio, "ours": t_ours.totals, "baseline": t_base.totals,
                       "end_to_end": t_e2e.totals}
    return rows


def report(rows: dict) -> str:
    lines = []
    for group, r in rows.items():
        audio = r["audio_seconds"]
        clock = "wall time" if CLOCK is time.perf_counter else "CPU time"
        lines.append(f"\n{group}: {audio:.0f} s of audio, single thread; figures are x real time "
                     f"(seconds of audio per second of {clock})")
        lines.append(f"{'stage':<32}{'ours':>10}{'baseline':>10}{'ratio':>8}")
        stages = list(dict.fromkeys([*r["ours"], *r["baseline"]]))
        for s in stages:
            o = r["ours"].get(s)
            b = r["baseline"].get(s)
            fo = f"{audio / o:10.1f}" if o else f"{'-':>10}"
            fb = f"{audio / b:10.1f}" if b else f"{'-':>10}"
            ratio = f"{b / o:8.1f}" if o and b else f"{'':>8}"
            lines.append(f"{s:<32}{fo}{fb}{ratio}")
        o_tot = sum(v for k, v in r["ours"].items() if not k.startswith(("musicnn", NETWORK)))
        b_tot = sum(r["baseline"].values())
        lines.append(f"{'total (no networks)':<32}{audio / o_tot:10.1f}{audio / b_tot:10.1f}{b_tot / o_tot:8.1f}")
        for k, v in r["ours"].items():
            if k.startswith("musicnn"):
                lines.append(f"{'total with ' + k:<32}{audio / (o_tot + v):10.1f}")
        # the stages of the whole default analysis: the musicnn patches the app runs, every other network
        tagged = [v for k, v in r["ours"].items() if k.startswith("musicnn") and "patches" in k]
        nets = {k: v for k, v in r["ours"].items() if k.startswith(NETWORK)}
        whole = o_tot + sum(tagged) + sum(nets.values())
        lines.append(f"{'sum of every stage above':<32}{audio / whole:10.1f}{audio / b_tot:10.1f}{b_tot / whole:8.1f}")
        for k, v in nets.items():
            lines.append(f"{'  share of ' + k[len(NETWORK):]:<32}{100 * v / whole:9.1f}%")
        for k, v in r["end_to_end"].items():
            lines.append(f"{k:<32}{audio / v:10.1f}{audio / b_tot:10.1f}{b_tot / v:8.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--generated", type=int, default=4, help="generated 30 s clips")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the raw timings here")
    parser.add_argument("--wall", action="store_true", help="time wall clock instead of CPU time")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: the bundled one)")
    parser.add_argument("--tag-networks", default="default",
                        help="tagging networks to run for tags: 'default' (the app's setting), 'all', or names "
                             "joined by commas")
    args = parser.parse_args(argv)
    from profile_analysis import _tag_networks
    global CLOCK
    CLOCK = time.perf_counter if args.wall else time.process_time
    with tempfile.TemporaryDirectory() as tmp:
        paths = generated_clips(Path(tmp), args.generated) + sorted((args.data / "clips").glob("*.au"))
        rows = bench(paths, args.data, args.repeat, _tag_networks(args.tag_networks), args.models)
    print(report(rows))
    if args.json:
        args.json.write_text(json.dumps({
            "measured_by": "tools/bench_classify.py", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "clock": "wall time" if args.wall else "CPU time of this process, one thread",
            "load_average": os.getloadavg(), "groups": rows}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
