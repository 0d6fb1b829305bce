#!/usr/bin/env python
"""What the GTZAN audio here can support: the audio head's recall per genre against the number of
training clips of that genre (a learning curve), and what it implies for the valid split.

The valid split holds 11 country and 11 disco clips while the train audio holds 5 and 1, so a
head fitted on the train audio is judged mostly on genres it barely heard. This measures how
recall grows with a genre's training clips, so the card can say which valid figure the data can
support rather than guess it:

1. grouped 5-fold CV over ALL 281 clips (train+valid; groups = artist-proxy blocks, so a held
   clip's artist is never in training), ``REPEATS`` fold seeds;
2. in each fold, every genre's training clips are cut to at most ``n`` (a random subset, fixed
   seed) for each ``n`` in ``CAPS``, the head (the bundled configuration from
   ``/work/cache/audio_head_choice.json``) fitted on them and judged on the held clips (each
   genre's full held set);
3. per genre and cap: recall (pooled over folds and seeds), with the mean number of training clips
   actually available (a genre with fewer clips than the cap keeps them all);
4. the expected valid accuracy of a head whose genres have the train split's counts (recall of
   each genre read at its train count), against the same with all the audio here (the top cap:
   every clip of a genre outside the held fold; the small genres have 9-13), and the recall that
   country and disco (22 of the 92 valid clips) would need for 0.85 given the others' recall.

Nothing is chosen here: the head's configuration comes from train-only CV. The test split is
never used. Writes ``models/audio_ceiling.json`` (read by ``tools/train_ensemble_card.py``).

Usage: nice python tools/audio_ceiling.py [--cache FILE] [--out models/audio_ceiling.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from audio_data import DEFAULT_CACHE, grouped_folds, load  # noqa: E402
from train_audio_head import CHOICE_PATH, SEED, fit_head, head_rows  # noqa: E402
from genre_desktop.fsutil import atomic_write_json  # noqa: E402
from genre_desktop.training import classical as C  # noqa: E402

log = logging.getLogger("audio_ceiling")

CAPS = [1, 2, 5, 10, 20, 40]
REPEATS = 3
FOLDS = 5


def capped(clips: np.ndarray, y: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """At most ``cap`` clips of each genre among ``clips`` (a random subset)."""
    keep = []
    for g in np.unique(y[clips]):
        of_g = clips[y[clips] == g]
        keep.append(rng.choice(of_g, min(cap, len(of_g)), replace=False))
    return np.sort(np.concatenate(keep))


def curve(data, head: dict) -> dict:
    """Recall per genre and cap, and the mean training clips per genre behind it."""
    from sklearn.metrics import f1_score

    patches = head["patches_per_window"] or None
    X_app = data.stats(head["stats"], patches)
    everyone = np.arange(len(data.y))
    n_labels = len(C.GTZAN_LABELS)
    hits = {cap: np.zeros(n_labels) for cap in CAPS}
    seen = {cap: np.zeros(n_labels) for cap in CAPS}
    trained = {cap: [] for cap in CAPS}
    per_run = {cap: [] for cap in CAPS}
    for r in range(REPEATS):
        rng = np.random.default_rng(SEED + r)
        folds = grouped_folds(data.y, data.groups, FOLDS, SEED + r)
        for cap in CAPS:
            pred = np.zeros(len(data.y), dtype=int)
            for fit, held in folds:
                clips = capped(everyone[fit], data.y, cap, rng)
                trained[cap].append(np.bincount(data.y[clips], minlength=n_labels))
                Xr, yr, wr, _ = head_rows(data, clips, head["stats"], patches, head["params"])
                model = fit_head(head["family"], head["params"], Xr, yr, wr, SEED)
                pred[held] = C.full_proba(model, X_app[held]).argmax(axis=1)
            for g in range(n_labels):
                mask = data.y == g
                hits[cap][g] += np.sum(pred[mask] == g)
                seen[cap][g] += mask.sum()
            per_run[cap].append({"accuracy": float(np.mean(pred == data.y)),
                                 "macro_f1": float(f1_score(data.y, pred, average="macro", zero_division=0))})
        log.info("repeat %d/%d done", r + 1, REPEATS)
    out = {}
    for cap in CAPS:
        n_train = np.mean(trained[cap], axis=0)
        out[str(cap)] = {
            "recall": {g: float(hits[cap][i] / seen[cap][i]) for i, g in enumerate(C.GTZAN_LABELS)},
            "train_clips": {g: float(n_train[i]) for i, g in enumerate(C.GTZAN_LABELS)},
            "accuracy": float(np.mean([p["accuracy"] for p in per_run[cap]])),
            "macro_f1": float(np.mean([p["macro_f1"] for p in per_run[cap]])),
        }
        log.info("cap %3d: acc %.3f F1 %.3f recall %s", cap, out[str(cap)]["accuracy"], out[str(cap)]["macro_f1"],
                 {g: round(v, 2) for g, v in out[str(cap)]["recall"].items()})
    return out


def recall_at(points: dict, genre: str, n: float) -> float:
    """Recall of ``genre`` with ``n`` training clips, interpolated (log scale) between the caps."""
    xs = np.array([points[str(c)]["train_clips"][genre] for c in CAPS])
    ys = np.array([points[str(c)]["recall"][genre] for c in CAPS])
    xs, idx = np.unique(xs, return_index=True)  # a small genre reaches its size before the top cap
    return float(np.interp(np.log(max(n, 1)), np.log(xs), ys[idx]))


def expected_valid(points: dict, train_counts: dict[str, int], valid_counts: dict[str, int]) -> dict:
    """Accuracy and mean recall over the genres valid holds, each genre's recall read at ``train_counts``."""
    rec = {g: recall_at(points, g, n) for g, n in train_counts.items()}
    total = sum(valid_counts.values())
    present = [g for g, n in valid_counts.items() if n]
    return {"accuracy": float(sum(valid_counts[g] * rec[g] for g in present) / total),
            "mean_recall": float(np.mean([rec[g] for g in present])),
            "recall": {g: rec[g] for g in present}, "train_counts": train_counts}


def needed(points: dict, valid_counts: dict[str, int], target: float, genres: list[str]) -> dict:
    """The mean recall ``genres`` would need on valid for accuracy ``target``, the other genres
    at their recall with all the audio here (the top cap). Above 1: out of reach."""
    top = points[str(CAPS[-1])]["recall"]
    total = sum(valid_counts.values())
    others = sum(n * top[g] for g, n in valid_counts.items() if g not in genres)
    n = sum(valid_counts[g] for g in genres)
    return {"genres": genres, "clips": n, "target_accuracy": target,
            "needed_mean_recall": float((target * total - others) / n),
            "others_correct": float(others)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "audio_ceiling.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    started = time.monotonic()
    data = load(args.cache)
    head = json.loads(CHOICE_PATH.read_text(encoding="utf-8"))
    points = curve(data, head)
    count = lambda split: {g: int(np.sum(data.y[data.mask(split)] == i)) for i, g in enumerate(C.GTZAN_LABELS)}  # noqa: E731
    valid_counts = count("valid")
    top = {g: points[str(CAPS[-1])]["train_clips"][g] for g in C.GTZAN_LABELS}
    report = {
        "head": head,
        "scheme": (f"StratifiedGroupKFold({FOLDS}, shuffle) over all {len(data.y)} clips (train+valid), groups = "
                   f"artist-proxy blocks, {REPEATS} fold seeds from {SEED}; each genre's training clips cut to at "
                   "most the cap (random subset) in every fold; recall pooled over folds and seeds"),
        "caps": points,
        "valid_counts": valid_counts,
        "expected_valid_with_train_counts": expected_valid(points, count("train"), valid_counts),
        "expected_valid_with_all_audio": expected_valid(points, top, valid_counts),
        "needed_for_0.85": needed(points, valid_counts, 0.85, ["country", "disco"]),
        "note": ("expected_* read each genre's recall off the curve at a training count and weight it by valid's "
                 "genre counts: an estimate of what a head (not the ensemble) fitted on that much audio would "
                 "score on a split shaped like valid; macro F1 needs precision too, mean recall stands in for it"),
        "seed": SEED,
        "wall_time_seconds": round(time.monotonic() - started, 1),
    }
    atomic_write_json(args.out, report, indent=2)
    log.info("expected valid with the train counts: %s; with all the audio here: %s",
             {k: round(v, 3) for k, v in report["expected_valid_with_train_counts"].items() if k in ("accuracy", "mean_recall")},
             {k: round(v, 3) for k, v in report["expected_valid_with_all_audio"].items() if k in ("accuracy", "mean_recall")})
    log.info("wrote %s (%.0f s)", args.out, report["wall_time_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
