"""``models list | activate VERSION | rollback | map --out FILE.csv``: the user's trained models.

- ``models list [--json]``: the saved versions, the active one marked.
- ``models activate VERSION`` (``bundled`` = no user model) and ``models rollback``.
- ``models map --out FILE.csv [--method pca|tsne]``: 2-D map coordinates and mislabel scores.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from genre_desktop.cli.common import Progress, library_tracks, parse_merges, training_options


def register(subparsers) -> None:
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
    s = sub.add_parser("map", parents=[training_options()], help="write a 2-D map of the labelled tracks with mislabel scores")
    s.add_argument("--out", type=Path, required=True, metavar="FILE.csv")
    s.add_argument("--method", choices=("pca", "tsne"), default="pca")
    s.add_argument("--threads", type=int, default=0)
    s.set_defaults(func=cmd_map)


def _registry(args):
    from genre_desktop.training.registry import Registry

    return Registry(args.dirs.user_models)


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
    try:
        _registry(args).activate(version)
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"active: {version or 'the bundled models alone'}")
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

    merges = parse_merges(args)
    tracks, settings = library_tracks(args)
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
    flagged = sorted((p for p in points if p.mislabel_score > 0), key=lambda p: -p.mislabel_score)
    print(f"{len(points)} tracks mapped ({args.method}) to {args.out}; {len(flagged)} likely mislabels")
    for p in flagged[:20]:
        print(f"  {p.mislabel_score:.2f}  {p.genre} -> neighbours say {p.neighbour_genre}: {p.path}")
    return 0
