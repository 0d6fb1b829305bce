#!/usr/bin/env python
"""Benchmark: retraining the user's model from 1,000 tracks with cached vectors.

Synthetic vectors (no audio: this measures fitting, not decoding), with a stated structure:

- 12 genres: the ten GTZAN labels plus "techno" and "k-pop" (two the bundled models never saw);
- 150 artists, each with one genre (assigned round-robin, then shuffled), tracks drawn uniformly
  from the artists, so genres have ~60-110 tracks and artists 1-15 tracks;
- a track's 257 values = genre centre + artist offset + track noise, each Gaussian
  (scales 0.4, 0.8 and 2.0 per column: genres overlap, and artists matter, as in real libraries);
  the first 57 columns (the GTZAN features) are then scaled and shifted column by column to
  magnitudes like the real features (1e-3 to 1e4), the last 200 (the embedding) left as they are.

Measured in one run: reading the 1,000 vectors from the on-disk cache (``VectorCache``, one .npz
per track), the whole retrain (``trainer.train``: held-out split, 5-fold grouped CV over
the candidates, fit, comparison with the bundled ensemble, weight fit, refit on all tracks, ONNX
export and check, registry write), and a baseline: one logistic regression fitted once on the
same 1,000 rows without CV. Ratios printed. Target: retrain under 60 s on this 2-core machine.

Usage: nice python tools/bench_train.py [--tracks 1000] [--jobs 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_desktop.inference.vector_cache import TrackVectors, VectorCache  # noqa: E402
from genre_desktop.training.dataset import Example  # noqa: E402

GENRES = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock",
          "techno", "k-pop"]
N_ARTISTS = 150


def synthetic(n_tracks: int, seed: int = 0) -> tuple[list[Example], list[TrackVectors]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 0.4, (len(GENRES), 257))
    artist_genre = rng.permutation(np.arange(N_ARTISTS) % len(GENRES))
    artist_offset = rng.normal(0.0, 0.8, (N_ARTISTS, 257))
    artists = rng.integers(0, N_ARTISTS, n_tracks)
    V = centres[artist_genre[artists]] + artist_offset[artists] + rng.normal(0.0, 2.0, (n_tracks, 257))
    scale = 10.0 ** rng.uniform(-3, 4, 57)
    V[:, :57] = np.abs(V[:, :57] * scale + 3.0 * scale)
    examples, vectors = [], []
    for i in range(n_tracks):
        genre = GENRES[artist_genre[artists[i]]]
        examples.append(Example(f"/music/{artists[i]:03d}/{i:04d}.flac", genre, f"artist:a{artists[i]}",
                                f"Artist {artists[i]}", "chosen"))
        vectors.append(TrackVectors([0.0], [30.0], V[i, :57][None], V[i, 57:][None], [10], V[i, 57:][None]))
    return examples, vectors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tracks", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=1, help="XGBoost threads")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from genre_desktop.training.evaluate import BundledPredictor
    from genre_desktop.training.registry import Registry
    from genre_desktop.training.trainer import TrainingData, TrainOptions, train

    examples, vectors = synthetic(args.tracks)
    data = TrainingData(examples, vectors)
    X, y = data.X, np.array([GENRES.index(e.genre) for e in examples])

    runs = []
    for _ in range(3):  # the machine is shared: the median of three is the fair baseline
        t0 = time.perf_counter()
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(X, y)
        runs.append(time.perf_counter() - t0)
    baseline = float(np.median(runs))

    bundled = BundledPredictor(threads=1)
    with tempfile.TemporaryDirectory() as tmp:
        # The vectors come from the on-disk cache in the app: write them, then time reading them back.
        cache = VectorCache(Path(tmp) / "cache", "bench")
        for i, (ex, v) in enumerate(zip(examples, vectors)):
            audio = Path(tmp) / "audio" / f"{i:04d}.flac"
            audio.parent.mkdir(exist_ok=True)
            audio.write_bytes(b"")
            ex.path = str(audio)
            cache.put(audio, v)
        t0 = time.perf_counter()
        data = TrainingData(examples, [cache.get(ex.path) for ex in examples])
        read = time.perf_counter() - t0
        registry = Registry(Path(tmp) / "models")
        t0 = time.perf_counter()
        result = train(data, registry, "bench", bundled, options=TrainOptions(n_jobs=args.jobs))
        retrain = time.perf_counter() - t0
    report = result.report
    figures = {
        "tracks": args.tracks, "genres": len(GENRES), "artists": N_ARTISTS, "cpu_count": os.cpu_count(),
        "read_cache_seconds": round(read, 2), "retrain_seconds": round(retrain, 2),
        "total_seconds": round(read + retrain, 2), "baseline_one_logreg_seconds": round(baseline, 3),
        "ratio_retrain_to_baseline": round(retrain / baseline, 1),
        "target_seconds": 60, "under_target": read + retrain < 60,
        "chosen": report.chosen,
        "candidates": [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in c.items()}
                       for c in report.candidates],
        "heldout": {m.name: {"accuracy": round(m.accuracy, 3), "macro_f1": round(m.macro_f1, 3)}
                    for m in report.models},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{args.tracks} tracks, {len(GENRES)} genres, {N_ARTISTS} artists, {os.cpu_count()} cores")
    print(f"baseline (one logistic regression, no CV): {baseline:7.2f} s")
    print(f"read {args.tracks} cached vector files:                      {read:7.2f} s")
    print(f"retrain (CV + choice + comparison + refit + ONNX + registry): {retrain:7.2f} s "
          f"= {retrain / baseline:.0f} x baseline")
    total = read + retrain
    print(f"total from the cache: {total:.2f} s; target < 60 s: {'met' if total < 60 else 'NOT met'}")
    for c in report.candidates:
        print(f"  CV {c['name']:<70} acc {c['accuracy']:.3f}  F1 {c['macro_f1']:.3f}  "
              f"log-loss {c['log_loss']:.3f}  {c['seconds']:5.1f} s ({c['seconds'] / baseline:.0f} x baseline)")
    for m in report.models:
        print(f"  held-out {m.name:<60} acc {m.accuracy:.3f}  macro F1 {m.macro_f1:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
