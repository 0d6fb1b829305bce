"""``train`` and ``models ...``: the training wizard's work from the command line.

- ``train [--store PATH] [--trust-existing GENRE ...] [--merge A=B ...] [--report DIR] [--activate]``:
  builds the training set from the store (accepted/corrected/written tracks, plus the existing tags
  of the trusted genres), reads or computes each track's vectors (cached: a second run decodes
  nothing), fits and compares a new model, saves it as a new version, prints the comparison, and
  activates it only with ``--activate``. Exit 0 when saved, 1 when the data cannot make a model.
- ``models list [--json]``: the saved versions, the active one marked.
- ``models activate VERSION`` (``bundled`` = no user model) and ``models rollback``.
- ``models map --out FILE.csv [--method pca|tsne]``: 2-D map coordinates and mislabel scores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from genre_desktop.cli.common import Progress, workspace


def register(subparsers) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", type=Path, default=None, metavar="PATH",
                        help="library store file (default: the app's data folder)")
    common.add_argument("--trust-existing", nargs="+", default=[], metavar="GENRE",
                        help="also learn from tracks whose existing genre tag is one of these")
    common.add_argument("--merge", nargs="+", default=[], metavar="A=B",
                        help="merge (or rename) genre A into B before training")

    p = subparsers.add_parser("train", parents=[common], help="train your own model from your corrections",
                              description="Train a model from the library's accepted and corrected tracks, "
                                          "compare it with the current model on held-out artists, save it.")
    p.add_argument("--report", type=Path, default=None, metavar="DIR", help="also copy the report (HTML, CSV) here")
    p.add_argument("--activate", action="store_true", help="make the new model active")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores)")
    p.set_defaults(func=cmd_train)

    m = subparsers.add_parser("models", help="list, activate or roll back your trained models")
    sub = m.add_subparsers(dest="models_command", metavar="ACTION")
    sub.required = True
    s = sub.add_parser("list", help="list the saved versions")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("activate", help="make a version active ('bundled': none, the bundled models alone)")
    s.add_argument("version")
    s.set_defaults(func=cmd_activate)
    s = sub.add_parser("rollback", help="reactivate the version active before the current one")
    s.set_defaults(func=cmd_rollback)
    s = sub.add_parser("map", parents=[common], help="write a 2-D map of the labelled tracks with mislabel scores")
    s.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    s.add_argument("--method", choices=("pca", "tsne"), default="pca")
    s.add_argument("--threads", type=int, default=0)
    s.set_defaults(func=cmd_map)


def _registry(args):
    from genre_desktop.training.registry import Registry

    return Registry(args.dirs.user_models)


def _merges(args) -> dict[str, str]:
    merges = {}
    for item in args.merge:
        if "=" not in item:
            raise SystemExit(f"--merge expects A=B, got {item!r}")
        a, b = item.split("=", 1)
        merges[a] = b
    return merges


def _tracks(args):
    """(every track of the library, the settings) through the CLI's workspace."""
    ws = workspace(args)
    try:
        return ws.open_store().all(), ws.settings
    finally:
        ws.close()


def _dataset(args):
    from genre_desktop.training.dataset import build_dataset

    merges = _merges(args)
    tracks, settings = _tracks(args)
    return build_dataset(tracks, args.trust_existing, merges, settings.aliases), settings


def cmd_train(args) -> int:
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


def cmd_list(args) -> int:
    registry = _registry(args)
    versions = registry.versions()
    if args.json:
        print(json.dumps([v.__dict__ for v in versions], indent=2))
        return 0
    if not versions:
        print("no trained models yet (the bundled models are used)")
        return 0
    for v in versions:
        f1 = next((m.get("macro_f1") for name, m in v.metrics.get("heldout", {}).items()
                   if name == "your new model"), None)
        mark = "*" if v.active else " "
        f1_text = f"held-out macro F1 {f1:.3f}" if f1 is not None else ""
        print(f"{mark} {v.version}  {v.created}  {v.head:<8} {v.tracks:5d} tracks  {len(v.labels):3d} genres  {f1_text}")
    if registry.active() is None:
        print("  (active: the bundled models alone)")
    return 0


def cmd_activate(args) -> int:
    from genre_desktop.training.registry import RegistryError

    version = None if args.version.lower() in ("bundled", "none") else args.version
    registry = _registry(args)
    try:
        registry.activate(version)
        verdict = registry.manifest(version).get("can_predict", {}) if version else {}
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"active: {version or 'the bundled models alone'}")
    for problem in verdict.get("problems", []):  # said at training time; said again where it matters
        print(f"note: {problem}")
    return 0


def cmd_rollback(args) -> int:
    from genre_desktop.training.registry import RegistryError

    try:
        version = _registry(args).rollback()
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"active: {version or 'the bundled models alone'}")
    return 0


def cmd_map(args) -> int:
    from genre_desktop.training.library_map import map_labels, write_csv
    from genre_desktop.training.session import map_points

    merges = _merges(args)
    tracks, settings = _tracks(args)
    # Every label the librarian has colours the map: choices and trusted tags (vectors computed when
    # missing), and each other file's own genre tag where its vectors are cached (analysed tracks).
    dataset, tagged = map_labels(tracks, settings.aliases, merges, args.trust_existing)
    labelled = {e.path for e in dataset.examples}
    others = [t.path for t in tracks if not t.missing and t.path not in labelled]
    if len(dataset) + len(tagged) < 3:
        print("error: fewer than three labelled tracks to map", file=sys.stderr)
        return 1
    progress = Progress()
    points = map_points(dataset, args.dirs, args.method, settings.segments, args.threads, progress,
                        unlabelled=others, tagged=tagged)
    progress.close()
    write_csv(points, args.out)
    flagged = sorted((p for p in points if p.flagged), key=lambda p: -p.mislabel_score)
    print(f"{len(points)} tracks mapped ({args.method}) to {args.out}; {len(flagged)} likely mislabels "
          "(mislabel_score: the estimated chance that the label is wrong)")
    for p in flagged[:20]:
        print(f"  {p.mislabel_score:.2f}  {p.path}\n        {p.reason}")
    return 0
