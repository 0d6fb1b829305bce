"""``tag --genre G [--genre G2] [--id3v23] [--separator S] FILES...``: write genres into files' tags
(journaled, verified, undoable), through the library session's one write path
(``app.session_store.write_values``). Files not in the library yet are scanned in first."""

from __future__ import annotations

import argparse
import os

from genre_desktop.cli.common import (FAILED, OK, journal_options, journal_path, open_store, print_results,
                                      report_settled, reporting_busy, store_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tag", parents=[store_options(), journal_options()],
                              help="write genres into files (journaled, undoable)")
    p.add_argument("--genre", action="append", required=True, help="a genre to write (repeat for several)")
    p.add_argument("--id3v23", action="store_true", help="write ID3v2.3 (values joined by the separator)")
    p.add_argument("--separator", default=None, help="ID3v2.3 separator (default from settings, '; ')")
    p.add_argument("files", nargs="+", metavar="FILES")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    from genre_desktop.app.session_store import write_values
    from genre_desktop.library.scanner import scan_paths

    ws = open_store(args)
    store = ws.store
    try:
        paths = [os.path.abspath(f) for f in args.files]
        unknown = [p for p in paths if p not in store]
        problems = scan_paths(unknown, store, ws.write_options()).unreadable if unknown else []
        bad = {p for p, _ in problems}
        for path, reason in problems:
            print(f"FAILED  {path}: {reason}")
        options = ws.write_options(id3_version=3 if args.id3v23 else None, id3_separator=args.separator)
        outcome = write_values(ws, {p: list(args.genre) for p in paths if p not in bad}, options, journal_path(args))
    finally:
        ws.close()
    report_settled(outcome.settled)
    failed = print_results(outcome.results, "written") + len(problems)
    return FAILED if failed else OK
