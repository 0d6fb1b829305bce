"""``models list | activate VERSION | rollback | map --out FILE.csv``: the user's trained models.

- ``models list [--json]``: the bundled ensemble's members (which vote, with what weight, which
  are shown but do not vote, each with its valid figure), then the saved versions, the active one
  marked (``--json``: the versions only, as before).
- ``models activate VERSION`` (``bundled`` = no user model) and ``models rollback``; both then
  re-score the library's analysed tracks from their cached vectors (``training.rescore``: seconds,
  not an analysis) and analyse only the tracks whose vectors are not cached (counted and said);
  ``--no-rescore`` only switches.
- ``models map --out FILE.csv [--method pca|tsne]``: 2-D map coordinates and mislabel scores (the
  estimated chance each label is wrong, ``training.mislabels``), the likely mislabels with why.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genre_desktop.cli.common import (FAILED, OK, Progress, library_tracks, open_session, parse_merges,
                                      reporting_busy, store_options, training_options)


def register(subparsers) -> None:
    m = subparsers.add_parser("models", help="list, activate or roll back your trained models")
    sub = m.add_subparsers(dest="models_command", metavar="ACTION")
    sub.required = True
    s = sub.add_parser("list", help="list the saved versions")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)
    switch = argparse.ArgumentParser(add_help=False, parents=[store_options()])
    switch.add_argument("--no-rescore", dest="rescore", action="store_false",
                        help="only switch; leave the library's predictions as they are")
    switch.add_argument("--workers", type=int, default=None, metavar="N",
                        help="worker processes for tracks that must be analysed (default: the analysis_workers setting)")
    s = sub.add_parser("activate", parents=[switch], help="make a version active ('bundled': none, the bundled "
                                                          "models alone) and re-score the library with it")
    s.add_argument("version")
    s.set_defaults(func=reporting_busy(cmd_activate))
    s = sub.add_parser("rollback", parents=[switch], help="reactivate the version active before the current one "
                                                          "and re-score the library with it")
    s.set_defaults(func=reporting_busy(cmd_rollback))
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
    _print_bundled_members()
    if not versions:
        print("no trained models yet (the bundled models are used)")
        return 0
    print("Your trained models (* active):")
    for v in versions:
        f1 = next((m.get("macro_f1") for name, m in v.metrics.get("heldout", {}).items()
                   if name == "your new model"), None)
        mark = "*" if v.active else " "
        f1_text = f"held-out macro F1 {f1:.3f}" if f1 is not None else ""
        print(f"{mark} {v.version}  {v.created}  {v.head:<8} {v.tracks:5d} tracks  {len(v.labels):3d} genres  {f1_text}"
              + _verdict_text(v.verdict))
    if registry.active() is None:
        print("  (active: the bundled models alone)")
    return 0


def _print_bundled_members() -> None:
    """The bundled ensemble's members as the window's per-model panel shows them: the voters with
    their share of the vote, then the members shown but not voting, each with its valid figure."""
    from genre_desktop.paths import bundled_models_dir
    from genre_desktop.training.member_roles import describe_roles, load_roles

    lines = describe_roles(load_roles(bundled_models_dir()))
    if lines:
        print("Bundled models:")
        print("\n".join("  " + line for line in lines))
        print()


def _verdict_text(verdict: dict) -> str:
    """"  (would change nothing)", "  (cannot predict lo-fi)" or "" (see ``training.can_predict``)."""
    if not verdict or verdict.get("useful", True):
        return ""
    bad = [g["genre"] for g in verdict.get("genres", []) if not g.get("ok", True)]
    if verdict.get("changes_nothing"):
        return "  (would change nothing)"
    return f"  (cannot predict {', '.join(bad)})" if bad else ""


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
    return rescore_library(args) if args.rescore else OK


def cmd_rollback(args) -> int:
    from genre_desktop.training.registry import RegistryError

    try:
        version = _registry(args).rollback()
    except RegistryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"active: {version or 'the bundled models alone'}")
    return rescore_library(args) if args.rescore else OK


def rescore_library(args) -> int:
    """Give the library's analysed tracks the predictions of the model now active: from their
    cached vectors where they are, by an analysis where they are not (``training.rescore``)."""
    from genre_desktop.app.analysis import analyse_into_session
    from genre_desktop.app.executors import default_workers, open_executor
    from genre_desktop.cancel import CancelToken
    from genre_desktop.training.rescore import analysed, rescore

    session = open_session(args)
    ws = session.workspace
    cancel = CancelToken()
    show = Progress()
    try:
        tracks = analysed(session.tracks())
        if not tracks:
            print("no analysed tracks to re-score")
            return OK
        problem = ws.user_model_problem()
        if problem:
            print(f"warning: {problem}", file=sys.stderr)
        analyzer = ws.analysis_spec().with_(musicnn=False).build()  # the vote of what is active now

        def step(summary) -> None:
            show(summary.done / max(1, summary.total), f"re-scoring {summary.total} tracks from their cached vectors "
                                                       f"({summary.done}/{summary.total})")

        summary = rescore(analyzer, tracks, session.add_result, step, cancel)
        session.flush()
        show.close()
        print(f"re-scored {summary.done} of {len(tracks)} analysed tracks from their cached vectors in "
              f"{summary.elapsed:.1f} s")
        if not summary.uncached:
            return OK
        why = summary.cannot or "analysed before the vector cache held them, or changed since"
        print(f"{len(summary.uncached)} track{'s' if len(summary.uncached) != 1 else ''} cannot be re-scored "
              f"({why}): analysing {'them' if len(summary.uncached) != 1 else 'it'}")
        workers = args.workers or ws.settings.analysis_workers or default_workers()
        runner = open_executor(min(workers, len(summary.uncached)), None)  # no pool of 8 for one file
        try:
            left = [session.track(p) for p in summary.uncached]
            done = analyse_into_session(session, [t for t in left if t is not None], runner, cancel,
                                        progress=lambda s: show(s.done / max(1, s.total),
                                                                f"analysing ({s.done}/{s.total})"))
        finally:
            runner.close(cancelled=cancel.cancelled)
        show.close()
        print(f"analysed {done.done} of {done.total} in {done.elapsed:.1f} s"
              + (f"; {len(done.errors)} failed" if done.errors else ""))
        for path, reason in done.errors:
            print(f"  FAILED {path}: {reason}")
        return OK if done.done == done.total else FAILED
    finally:
        ws.close()


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
                        unlabelled=others, tagged=tagged, aliases=settings.aliases)
    progress.close()
    write_csv(points, args.out)
    flagged = sorted((p for p in points if p.flagged), key=lambda p: -p.mislabel_score)
    print(f"{len(points)} tracks mapped ({args.method}) to {args.out}; {len(flagged)} likely mislabels "
          "(mislabel_score: the estimated chance that the label is wrong)")
    for p in flagged[:20]:
        print(f"  {p.mislabel_score:.2f}  {p.path}\n        {p.reason}")
    return 0
