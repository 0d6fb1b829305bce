"""``tag [--genre G ...] [--style S ...] [--style-field style|grouping] [--id3v23] [--separator S]
FILES...``: write genres and styles into files' tags (journaled, verified, undoable), through the
library session's one write path (``app.session_store.write_values``). Files not in the library
yet are scanned in first. A field not given keeps what the file has; ``--style-field grouping``
puts the styles in GROUPING instead of STYLE (default: the settings'). Each genre and style is
written in its one spelling, as the write plan does (``Settings.spell``: "dnb" -> "Drum and Bass",
"hip hop" -> "Hip-Hop" unless the genre editor says otherwise); one given twice, once."""

from __future__ import annotations

import argparse
import os
import sys

from genre_desktop.cli.common import (FAILED, OK, USAGE, journal_options, journal_path, open_store, print_results,
                                      report_settled, reporting_busy, store_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tag", parents=[store_options(), journal_options()],
                              help="write genres and styles into files (journaled, undoable)")
    p.add_argument("--genre", action="append",
                   help="a genre to write (repeat for several), in its one spelling ('dnb': 'Drum and Bass')")
    p.add_argument("--style", action="append", help="a style (sub-genre) to write (repeat for several)")
    p.add_argument("--style-field", choices=("style", "grouping"), default=None,
                   help="where styles go: STYLE (what TagLib-based players read) or GROUPING "
                        "(default from settings: style)")
    p.add_argument("--id3v23", action="store_true", help="write ID3v2.3 (values joined by the separator)")
    p.add_argument("--separator", default=None, help="ID3v2.3 separator (default from settings, '; ')")
    p.add_argument("files", nargs="+", metavar="FILES")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    from genre_desktop.app.plan import dedupe_genres
    from genre_desktop.app.session_store import write_values
    from genre_desktop.library.scanner import scan_paths

    if not args.genre and not args.style:
        print("nothing to write: give --genre and/or --style", file=sys.stderr)
        return USAGE
    ws = open_store(args)
    settings = ws.settings
    genres, styles = ([dedupe_genres([settings.spell(g) for g in given], settings.aliases) for given in
                       (args.genre or [], args.style or [])])
    # Genres alone as a list (what every write path passes); with styles, the fields by name.
    change = ({name: v for name, v in (("genre", genres), ("style", styles)) if v} if styles else genres)
    store = ws.store
    try:
        paths = [os.path.abspath(f) for f in args.files]
        unknown = [p for p in paths if p not in store]
        problems = scan_paths(unknown, store, ws.write_options()).unreadable if unknown else []
        bad = {p for p, _ in problems}
        for path, reason in problems:
            print(f"FAILED  {path}: {reason}")
        options = ws.write_options(id3_version=3 if args.id3v23 else None, id3_separator=args.separator,
                                   style_field=args.style_field)
        outcome = write_values(ws, {p: change for p in paths if p not in bad}, options, journal_path(args))
    finally:
        ws.close()
    report_settled(outcome.settled)
    failed = print_results(outcome.results, "written") + len(problems)
    return FAILED if failed else OK
