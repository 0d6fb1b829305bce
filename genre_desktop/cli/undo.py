"""``undo [--last N | --all] [--genres-only]``: give the files of the last N write batches (or of
every write) back byte for byte from the journal's undo data (``app.session_store.undo_writes``:
the window's undo).

A file another program changed since the write is left as it is and reported once; later undos
skip it and remind how many there are. ``--genres-only`` puts the old genres back into such files
as they are now (what happens anyway to writes whose undo data expired).

Exit codes: 0 everything asked was undone (or nothing was left to undo); 3 partly: some files
were undone and others not (each one reported); 1 none could be undone; 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys

from genre_desktop.cli.common import (FAILED, OK, PARTIAL, USAGE, genres_text, journal_options, journal_path,
                                      open_store, report_settled, reporting_busy, store_options)

EPILOG = (f"exit codes: {OK} all undone (or nothing to undo), {PARTIAL} partly undone (the rest is reported), "
          f"{FAILED} nothing could be undone, {USAGE} usage error")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("undo", parents=[store_options(), journal_options()],
                              help="undo tag writes from the journal, byte for byte", epilog=EPILOG)
    group = p.add_mutually_exclusive_group()
    # default None, not 1: argparse ignores an explicit value equal to the default in exclusive groups
    group.add_argument("--last", type=int, default=None, metavar="N", help="undo the last N write batches (default 1)")
    group.add_argument("--all", action="store_true", help="undo every write in the journal")
    p.add_argument("--genres-only", action="store_true",
                   help="for files changed since the write (which cannot come back byte for byte), put the old "
                        "genres back into them as they are now")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    last = 1 if args.last is None else args.last
    if not args.all and last < 1:
        print("error: --last needs a positive number", file=sys.stderr)
        return USAGE
    from genre_desktop.app.session_store import undo_writes

    ws = open_store(args)
    try:
        outcome = undo_writes(ws, None, last=last, all=args.all, journal_path=journal_path(args),
                              genre_level=args.genres_only)
    finally:
        ws.close()
    report_settled(outcome.settled)
    results = outcome.results
    earlier = len(set(outcome.left) - {r.path for r in results})
    if not results:
        print("nothing to undo")
        _remind(earlier)
        return OK
    failed = offered = 0
    for r in results:
        if r.ok:
            how = f" (genres only: {r.note})" if r.exact is False and r.note else ""
            print(f"undone  {r.path}: {genres_text(r.old)} -> {genres_text(r.new)}{how}")
        else:
            failed += 1
            offered += r.offer == "genres"
            print(f"FAILED  {r.path}: {r.error}")
    if offered:
        many = offered != 1
        print(f"{offered} file{'s' if many else ''} changed since the write: `genre-desktop-cli undo --genres-only` "
              f"puts {'their' if many else 'its'} old genres back into {'them' if many else 'it'} as "
              f"{'they are' if many else 'it is'} now")
    _remind(earlier)
    if not failed:
        return OK
    return PARTIAL if failed < len(results) else FAILED


def _remind(count: int) -> None:
    if count:
        many = count != 1
        print(f"({count} earlier write{'s were' if many else ' was'} left by an earlier undo because "
              f"{'their files' if many else 'its file'} changed since; `undo --genres-only` restores "
              f"{'their' if many else 'its'} genres)")
