#!/usr/bin/env python
"""Check the app's prediction path against the training scripts' arithmetic on real clips.

For a few GTZAN clips: the app (``Analyzer.analyze``, as ``classify`` runs it) against the
training side: the cached vectors of ``tools/extract_audio_vectors.py`` -> ``audio_data`` stats
over the patches the head uses -> the bundled ONNX files -> the manifest's vote
(``inference.ensemble.combine``). Prints the largest difference per member and for the ensemble.

Usage: python tools/train_ensemble_check.py [--clips 6]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import DEFAULT_CACHE, load  # noqa: E402
from genre_desktop.inference.analyzer import Analyzer  # noqa: E402
from genre_desktop.inference.ensemble import combine  # noqa: E402

AUDIO = ROOT.parent.parent / "shared" / "data" / "gtzan" / "audio"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    import onnxruntime as ort

    data = load(args.cache)
    analyzer = Analyzer(threads=1)
    manifest = analyzer.manifest
    labels = manifest.labels
    sessions = {e.name: (ort.InferenceSession(str(e.path), providers=["CPUExecutionProvider"]), e)
                for e in manifest.models if e.kind in ("classical", "embedding_head")}
    picks = np.linspace(0, len(data.clip) - 1, args.clips).round().astype(int)  # across genres
    worst: dict[str, float] = {}
    for i in picks:
        path = AUDIO / data.genre[i] / f"{data.clip[i]}.opus"
        app = analyzer.analyze(path).prediction
        probas = {}
        for name, (sess, entry) in sessions.items():
            if entry.kind == "classical":
                X = data.features[i:i + 1]
            else:
                k = entry.raw.get("patches_per_window", analyzer.tag_patches)
                one = type(data)(**{**data.__dict__, "patches": [data.patches[i]]})
                X = one.stats(entry.raw["stats"], k or None)
            (p,) = sess.run([entry.probability_output or "probabilities"],
                            {sess.get_inputs()[0].name: np.asarray(X, dtype=np.float32)})
            probas[name] = np.asarray(p, dtype=np.float64) / np.sum(p)
        ours = combine(probas, manifest.weights, manifest.pooling)
        for name in probas:
            got = np.array([app.models[name][g] for g in labels])
            worst[name] = max(worst.get(name, 0.0), float(np.abs(got - ours.members[name]).max()))
        got = dict(app.genres)
        worst["ensemble"] = max(worst.get("ensemble", 0.0),
                                float(np.abs(np.array([got[g] for g in labels]) - ours.overall).max()))
        print(f"{data.clip[i]:16s} app top {app.genres[0][0]:9s} training-side top {labels[int(ours.overall.argmax())]}")
    for name, d in worst.items():
        print(f"max |app - training side| {name:10s} {d:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
