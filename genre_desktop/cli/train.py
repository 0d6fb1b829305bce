"""``train [--store PATH] [--trust-existing GENRE ...] [--merge A=B ...] [--report DIR] [--activate]``.

The training wizard's work from the command line: builds the training set from the store
(accepted/corrected/written tracks, plus the existing tags of the trusted genres), reads or
computes each track's vectors (cached: a second run decodes nothing), fits and compares a new
model, saves it as a new version, prints the comparison, and activates it only with
``--activate``. Exit 0 when saved, 1 when the data cannot make a model.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from genre_desktop.cli.common import Progress, library_tracks, parse_merges, training_options


def register(subparsers) -> None:
    p = subparsers.add_parser("train", parents=[training_options()], help="train your own model from your corrections",
                              description="Train a model from the library's accepted and corrected tracks, "
                                          "compare it with the current model on held-out artists, save it.")
    p.add_argument("--report", type=Path, default=None, metavar="DIR", help="also copy the report (HTML, CSV) here")
    p.add_argument("--activate", action="store_true", help="make the new model active")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores)")
    p.set_defaults(func=run)


def _dataset(args):
    from genre_desktop.training.dataset import build_dataset

    merges = parse_merges(args)
    tracks, settings = library_tracks(args)
    return build_dataset(tracks, args.trust_existing, merges, settings.aliases), settings


def run(args) -> int:
    from genre_desktop.training.session import run_training
    from genre_desktop.training.trainer import TrainOptions

    dataset, settings = _dataset(args)
    print(f"training set: {len(dataset)} tracks")
    for genre, n in dataset.counts().items():
        print(f"  {genre:<20} {n:5d}")
    for w in dataset.warnings():
        print(f"warning: {w.message}")
    if len(dataset.labels) < 2:
        print("error: a model needs at least two genres with enough tracks; accept or correct more tracks",
              file=sys.stderr)
        return 1
    progress = Progress()
    try:
        result, data = run_training(dataset, args.dirs, settings.segments, args.threads, progress,
                                    activate=args.activate, options=TrainOptions(seed=args.seed))
    except ValueError as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    progress.close()
    for path, reason in data.failed.items():
        print(f"warning: left out {path}: {reason}")
    report = result.report
    print(f"chosen head: {report.chosen} (cross-validated macro F1 {report.candidates[0]['macro_f1']:.3f})")
    print(f"held-out: {report.heldout} tracks from {report.groups_heldout} artists/albums")
    print(f"  {'model':<62} {'accuracy':>8} {'macro F1':>8}")
    for m in report.models:
        print(f"  {m.name:<62} {m.accuracy:8.3f} {m.macro_f1:8.3f}")
    print(f"saved {result.version} in {result.folder}")
    if args.report is not None:
        args.report.mkdir(parents=True, exist_ok=True)
        for name in ("report.html", "metrics.csv", "confusion.csv"):
            shutil.copy2(Path(result.folder) / name, args.report / name)
        print(f"report: {args.report / 'report.html'}")
    verdict = result.verdict
    if verdict is not None and not verdict.useful:
        print(f"this model {verdict.summary()}:")
        for problem in verdict.problems():
            print(f"  - {problem}")
        if verdict.advice():
            print("what would help:")
            for advice in verdict.advice():
                print(f"  - {advice}")
    if result.activated:
        print("activated")
    elif result.refused_activation:
        print(f"not activated: {result.refused_activation}")
    elif verdict is not None and verdict.changes_nothing:
        print("not active (activating it would change nothing)")
    elif verdict is not None and not verdict.useful:
        print(f"not active; activating it changes predictions but {verdict.summary()}: "
              f"genre-desktop-cli models activate {result.version}")
    else:
        print(f"not active; activate with: genre-desktop-cli models activate {result.version}")
    return 0
