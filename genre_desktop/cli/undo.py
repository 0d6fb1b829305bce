"""``undo [--last N | --all] [--genres-only]``: give the files of the last N write batches (or of
every write) back byte for byte from the journal's undo data.

A file another program changed since the write is left as it is and reported once; later undos
skip it and remind how many there are. ``--genres-only`` puts the old genres back into such files
as they are now (and into files whose undo data expired, which is also what happens by default).

Exit codes: 0 everything asked was undone (or nothing was left to undo); 3 partly: some files
were undone and others not (each one reported); 1 none could be undone; 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys

from genre_desktop.cli.common import (FAILED, OK, PARTLY, USAGE, genres_text, journal_options, open_store,
                                      reporting_busy, store_options, tag_service)

EPILOG = ("exit codes: 0 all undone (or nothing to undo), 3 partly undone (the rest is reported), "
          "1 nothing could be undone, 2 usage error")


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
    ws = open_store(args)
    try:
        with tag_service(args, ws) as service:
            results = service.undo(last=last, all=args.all, genre_level=args.genres_only)
            left = [] if args.genres_only else service.left_by_undo()
    finally:
        ws.close()
    earlier = len({e.path for e in left} - {r.path for r in results})
    if not results:
        print("nothing to undo")
        _remind(earlier)
        return OK
    failed = offered = 0
    for r in results:
        if r.ok:
            how = "" if r.exact is not False or not r.note else f" (genres only: {r.note})"
            print(f"undone  {r.path}: {genres_text(r.old)} -> {genres_text(r.new)}{how}")
        else:
            failed += 1
            offered += r.offer == "genres"
            print(f"FAILED  {r.path}: {r.error}")
    if offered:
        print(f"{offered} file{'s' if offered != 1 else ''} changed since the write: "
              f"`genre-desktop-cli undo --genres-only` puts {'their' if offered != 1 else 'its'} old genres back "
              f"into {'them' if offered != 1 else 'it'} as {'they are' if offered != 1 else 'it is'} now")
    _remind(earlier)
    if not failed:
        return OK
    return PARTLY if failed < len(results) else FAILED


def _remind(count: int) -> None:
    if count:
        print(f"({count} earlier write{'s were' if count != 1 else ' was'} left by an earlier undo because "
              f"{'their files' if count != 1 else 'its file'} changed since; `undo --genres-only` restores "
              f"{'their' if count != 1 else 'its'} genres)")
