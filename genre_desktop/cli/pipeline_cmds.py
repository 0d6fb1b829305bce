"""The headless pipeline: ``analyze``, ``accept``, ``write`` (with ``scan``: a folder auto-tagged).

The window's rules, not a second implementation: the analysis goes through the batch seam and
``app.pipeline`` (``prediction_fields``), ``accept`` is the review queue's bulk accept
(``ReviewRules.bulk_accept``), ``write`` plans as the write preview does (``Workspace.plan_changes``)
and writes through the journaled tag service.

Exit codes: 0 all went well, 1 some files failed (or the store is busy), 2 usage errors.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from genre_desktop.cli.common import Progress
from genre_desktop.cli.library_cmds import (FAILED, OK, USAGE, _genres, _open_store, _print_results, _reporting_busy,
                                            _service, store_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    common = store_options()

    p = subparsers.add_parser("analyze", aliases=["analyse"], parents=[common],
                              help="analyse the library's unanalysed or changed tracks into the store")
    p.add_argument("folder", metavar="DIR", nargs="?", help="only the tracks under this folder (scan it first)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: the analysis_workers setting, 0 there: every core)")
    p.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="run on a Dask cluster: 'local' (a cluster of processes here) or tcp://HOST:8786")
    p.add_argument("--path-map", action="append", metavar="LOCAL=REMOTE", default=[],
                   help="the cluster's workers see LOCAL under REMOTE (repeat for several folders)")
    p.add_argument("--reanalyse", "--reanalyze", action="store_true", help="analyse every track again")
    p.add_argument("--batch", type=int, default=25, metavar="N",
                   help="save the store every N results (a killed run loses at most these; default 25)")
    p.set_defaults(func=_reporting_busy(cmd_analyze))

    p = subparsers.add_parser("accept", parents=[common],
                              help="accept predictions at or above a probability (the review queue's bulk accept)")
    p.add_argument("--above", type=float, required=True, metavar="P", help="probability, 0 to 1 (e.g. 0.8)")
    p.add_argument("--genre", action="append", default=[], metavar="G",
                   help="only predictions of this genre (repeat for several)")
    p.set_defaults(func=_reporting_busy(cmd_accept))

    p = subparsers.add_parser("write", parents=[common],
                              help="write every accepted or corrected choice into the files (journaled)")
    p.add_argument("--dry-run", action="store_true", help="only print what would change (the write preview)")
    p.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal of tag writes (default: the store's)")
    p.set_defaults(func=_reporting_busy(cmd_write))


# --------------------------------------------------------------------------- analyze
def _rate(summary) -> str:
    return f"{summary.rate * 3600:,.0f} tracks/h" if summary.elapsed > 0 else "-"


def cmd_analyze(args: argparse.Namespace) -> int:
    from genre_desktop.app.executors import ClusterUnavailable, PathMap, open_executor
    from genre_desktop.app.pipeline import analyse_into_store, needs_analysis
    from genre_desktop.app.workflow import under_root
    from genre_desktop.cancel import CancelToken

    if args.workers is not None and args.workers < 1:
        print("error: --workers needs a positive number", file=sys.stderr)
        return USAGE
    try:
        path_map = PathMap.parse(args.path_map)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE
    if path_map and not args.cluster:
        print("error: --path-map is for --cluster workers", file=sys.stderr)
        return USAGE
    root = os.path.abspath(args.folder) if args.folder else None
    if root is not None and not os.path.isdir(root):
        print(f"error: not a folder: {args.folder}", file=sys.stderr)
        return USAGE
    ws = _open_store(args)
    runner = None
    cancel = CancelToken()
    previous = signal.signal(signal.SIGTERM, lambda *_: cancel.cancel())  # `kill`: save what arrived, then stop
    show = Progress()
    try:
        problem = ws.user_model_problem()
        if problem:
            print(f"warning: {problem}", file=sys.stderr)
        tracks = [t for t in ws.store.all() if under_root(t.path, root) and needs_analysis(t, args.reanalyse)]
        if not tracks:
            known = any(under_root(t.path, root) for t in ws.store.all())
            print("nothing to analyse: every track has a prediction" if known else
                  "nothing to analyse: no tracks in the library here (run `genre-desktop-cli scan DIR` first)")
            return OK
        workers = args.workers or ws.settings.analysis_workers or None
        try:
            runner = open_executor(workers, args.cluster)
        except ClusterUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return FAILED
        where = f"the Dask cluster {args.cluster}" if args.cluster else (
            f"{runner.workers} worker processes" if runner.workers > 1 else "this process")
        show(0.0, f"analysing {len(tracks)} tracks with {where} (0/{len(tracks)})")

        def step(result, summary) -> None:
            if show.interactive:
                left = (summary.total - summary.done) / summary.rate if summary.rate else None
                eta = f"  {left / 60:.0f} min left" if left is not None else ""
                show(summary.done / summary.total,
                     f"{summary.done}/{summary.total}  {len(summary.errors)} failed  {_rate(summary)}{eta}")
            else:
                show(summary.done / summary.total, f"analysing {summary.total} tracks with {where} "
                                                   f"({summary.done}/{summary.total})")

        summary = analyse_into_store(ws, tracks, runner, cancel, path_map=path_map, batch_size=max(1, args.batch),
                                     on_result=step)
        show.close()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if runner is not None:
            runner.close(cancelled=cancel.cancelled or sys.exc_info()[0] is not None)
        ws.close()
    left = summary.total - summary.done
    print(f"Analysed {summary.done} of {summary.total} tracks in {summary.elapsed:.1f} s ({_rate(summary)}, {where}): "
          f"{summary.done - len(summary.errors)} predicted, {len(summary.errors)} failed"
          + (f", {left} left (stopped; run again to continue)" if left else ""))
    for path, reason in summary.errors:
        print(f"  FAILED {path}: {reason}")
    return FAILED if summary.errors or left else OK


# --------------------------------------------------------------------------- accept
def cmd_accept(args: argparse.Namespace) -> int:
    from genre_desktop.app.review import decision

    if not 0.0 <= args.above <= 1.0:
        print("error: --above wants a probability between 0 and 1 (e.g. 0.8)", file=sys.stderr)
        return USAGE
    ws = _open_store(args)
    try:
        rules = ws.review_rules()
        rows = rules.queue(ws.store.all())
        waiting = len(rows)
        if args.genre:
            rows = [t for t in rows if any(rules.same(t.predicted_genre, g) for g in args.genre)]
        decisions = rules.bulk_accept(rows, args.above)
        with ws.store.batch():
            for track, chosen, status in decisions:
                ws.store.update(track.path, **decision(chosen, status))
    finally:
        ws.close()
    for track, chosen, _ in decisions:
        print(f"accepted {track.path}: {_genres(chosen)} ({track.confidence:.0%})")
    print(f"Accepted {len(decisions)} of {waiting} predictions waiting for review "
          f"(at or above {args.above:.0%}).")
    return OK


# --------------------------------------------------------------------------- write
def cmd_write(args: argparse.Namespace) -> int:
    ws = _open_store(args)
    try:
        changes, unchanged = ws.plan_changes(ws.store.all())
        if args.dry_run or not changes:
            for change in changes:
                print(f"would write {change.path}: {_genres(change.old)} -> {_genres(change.new)}")
            if not changes and not unchanged:
                print("Nothing to write yet: accept or correct predictions first (`genre-desktop-cli accept`).")
            else:
                already = f" {unchanged} reviewed file(s) already carry their genres." if unchanged else ""
                print(f"{len(changes)} file(s) will change.{already}")
            return OK
        with _service(args, ws) as service:
            results = service.write({c.path: c.new for c in changes})
    finally:
        ws.close()
    failed = _print_results(results, "written")
    print(f"Wrote {len(results) - failed} file(s), {failed} failed; `genre-desktop-cli undo` restores them.")
    return FAILED if failed else OK
