"""``analyze [DIR] [--workers N] [--cluster ADDRESS] [--path-map LOCAL=REMOTE] [--reanalyse]``:
analyse the library's unanalysed or changed tracks into the store, on every core or a Dask cluster.

The window's rules, not a second implementation: the one analysis driver (``app.analysis``) into
the library session, which saves each result with the analysed-file mark. Saved as it goes
(every ``--batch`` results): a killed run loses at most those, and running it again does only
what is left. SIGTERM stops it the way Ctrl-C does. Files that cannot be analysed are listed with
the reason and kept as the tracks' problems; the run still exits 0 (3 with ``--strict``).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from genre_desktop.cli.common import (FAILED, OK, USAGE, Progress, finished, open_session, reporting_busy,
                                      store_options, strict_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("analyze", aliases=["analyse"], parents=[store_options(), strict_options()],
                              help="analyse the library's unanalysed or changed tracks into the store")
    p.add_argument("folder", metavar="DIR", nargs="?", help="only the tracks under this folder (scan it first)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes (default: the analysis_workers setting, 0 there: every core)")
    p.add_argument("--cluster", metavar="ADDRESS", default=None,
                   help="run on a Dask cluster: 'local' (a cluster of processes here) or tls://HOST:8786")
    p.add_argument("--tls", metavar="DIR", default=None,
                   help="certificates for a tls:// cluster (a folder made by `cluster-certs DIR`; "
                        "default: Dask's own TLS settings)")
    p.add_argument("--path-map", action="append", metavar="LOCAL=REMOTE", default=[],
                   help="the cluster's workers see LOCAL under REMOTE (repeat for several folders)")
    p.add_argument("--reanalyse", "--reanalyze", action="store_true", help="analyse every track again")
    p.add_argument("--batch", type=int, default=25, metavar="N",
                   help="save the store every N results (a killed run loses at most these; default 25)")
    p.set_defaults(func=reporting_busy(run))


def _rate(summary) -> str:
    return f"{summary.rate * 3600:,.0f} tracks/h" if summary.elapsed > 0 else "-"


def run(args: argparse.Namespace) -> int:
    from genre_desktop.app.analysis import analyse_into_session
    from genre_desktop.app.executors import ClusterUnavailable, PathMap, open_executor
    from genre_desktop.app.workflow import needs_analysis
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
    session = open_session(args, root)
    ws = session.workspace
    runner = None
    cancel = CancelToken()
    previous = signal.signal(signal.SIGTERM, lambda *_: cancel.cancel())  # `kill`: save what arrived, then stop
    show = Progress()
    try:
        problem = ws.user_model_problem()
        if problem:
            print(f"warning: {problem}", file=sys.stderr)
        tracks = [t for t in session.tracks() if needs_analysis(t, args.reanalyse)]
        if not tracks:
            print("nothing to analyse: every track has a prediction" if len(session) else
                  "nothing to analyse: no tracks in the library here (run `genre-desktop-cli scan DIR` first)")
            return OK
        workers = args.workers or ws.settings.analysis_workers or None
        if args.tls and not args.cluster:
            print("error: --tls is for --cluster", file=sys.stderr)
            return USAGE
        try:
            runner = open_executor(workers, args.cluster, args.tls)
        except ClusterUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return FAILED
        where = f"the Dask cluster {args.cluster}" if args.cluster else (
            f"{runner.workers} worker processes" if runner.workers > 1 else "this process")
        show(0.0, f"analysing {len(tracks)} tracks with {where} (0/{len(tracks)})")

        def step(summary) -> None:
            if show.interactive:
                left = (summary.total - summary.done) / summary.rate if summary.rate else None
                eta = f"  {left / 60:.0f} min left" if left is not None else ""
                show(summary.done / summary.total,
                     f"{summary.done}/{summary.total}  {len(summary.errors)} failed  {_rate(summary)}{eta}")
            else:
                show(summary.done / summary.total, f"analysing {summary.total} tracks with {where} "
                                                   f"({summary.done}/{summary.total})")

        summary = analyse_into_session(session, tracks, runner, cancel, path_map=path_map,
                                       batch_size=max(1, args.batch), progress=step)
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
    failed = {path for path, _ in summary.errors}
    for path, note in getattr(summary, "noted", []):  # predicted from what a cut file holds: say so
        if path not in failed:
            print(f"  NOTE {path}: {note}")
    return FAILED if left else finished(args, len(summary.errors))
