"""``undo [--last N | --all]``: restore the tags of the last N write batches (or every write) from
the journal, byte for byte."""

from __future__ import annotations

import argparse
import sys

from genre_desktop.cli.common import (FAILED, OK, USAGE, journal_options, open_store, print_results, reporting_busy,
                                      store_options, tag_service)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("undo", parents=[store_options(), journal_options()],
                              help="undo tag writes from the journal")
    group = p.add_mutually_exclusive_group()
    # default None, not 1: argparse ignores an explicit value equal to the default in exclusive groups
    group.add_argument("--last", type=int, default=None, metavar="N", help="undo the last N write batches (default 1)")
    group.add_argument("--all", action="store_true", help="undo every write in the journal")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    last = 1 if args.last is None else args.last
    if not args.all and last < 1:
        print("error: --last needs a positive number", file=sys.stderr)
        return USAGE
    ws = open_store(args)
    try:
        with tag_service(args, ws) as service:
            results = service.undo(last=last, all=args.all)
    finally:
        ws.close()
    if not results:
        print("nothing to undo")
        return OK
    return FAILED if print_results(results, "undone") else OK
