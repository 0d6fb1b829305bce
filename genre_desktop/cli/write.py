"""``write [--dry-run] [--strict] [--layout genre|style|parent]``: write every accepted or
corrected choice into the files.

``--layout`` overrides the settings' ``genre_layout`` for this write: where a chosen genre with a
parent in the genre tree goes ("genre": alone; "style": its top-level parent in GENRE and itself
in the style field; "parent": both in GENRE, parent first). A chosen style goes to the style field
(STYLE, or GROUPING: the settings' ``style_field``).

The library session's plan (what the window's preview shows) and its one write path (journaled,
verified); ``genre-desktop-cli undo`` restores the files. A file that cannot be written (a
container without tags, a file changed on disk since the scan, a read-only file, damaged tags)
is listed with the reason and left as it is: the run still exits 0 (3 with ``--strict``).
A verified write keeps the file's analysis: the next ``analyze`` does not analyse it again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genre_desktop.settings import GENRE_LAYOUTS
from genre_desktop.cli.common import (OK, finished, genres_text, journal_path, open_session, print_results,
                                      report_settled, reporting_busy, store_options, strict_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("write", parents=[store_options(), strict_options()],
                              help="write every accepted or corrected choice into the files (journaled)")
    p.add_argument("--dry-run", action="store_true", help="only print what would change (the write preview)")
    p.add_argument("--layout", choices=[k for k, _ in GENRE_LAYOUTS], default=None,
                   help="where a genre with a parent goes, for this write: "
                        + "; ".join(f"{k}: {text}" for k, text in GENRE_LAYOUTS) + " (default: the settings')")
    p.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal of tag writes (default: the store's)")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    session = open_session(args)
    ws = session.workspace
    try:
        settings = ws.settings if args.layout is None else ws.settings.replace(genre_layout=args.layout)
        plan = session.plan(settings, notes=args.dry_run)  # the notes cost a read of each MP3/WAV/AIFF: shown on a dry run
        for change, why in plan.unwritable:
            print(f"skipped {change.path}: {why}")
        if args.dry_run or not plan.changes:
            for change in plan.changes:
                notes = f"  ({'; '.join(change.notes)})" if change.notes else ""
                styles = "".join(f"; {name}: {genres_text(old)} -> {genres_text(new)}"
                                 for name, (old, new) in change.fields.items())
                print(f"would write {change.path}: {genres_text(change.old)} -> {genres_text(change.new)}"
                      f"{styles}{notes}")
            if not plan.changes and not plan.unchanged and not plan.unwritable:
                print("Nothing to write yet: accept or correct predictions first (`genre-desktop-cli accept`).")
            else:
                already = f" {plan.unchanged} reviewed file(s) already carry their genres." if plan.unchanged else ""
                apart = f" {len(plan.unwritable)} cannot be written (listed above)." if plan.unwritable else ""
                print(f"{len(plan.changes)} file(s) will change.{already}{apart}")
            return OK if args.dry_run else finished(args, len(plan.unwritable))
        outcome = session.write(plan, settings, check=False, journal_path=journal_path(args))
    finally:
        ws.close()
    report_settled(outcome.settled)
    failed = print_results(outcome.results, "written")
    skipped = failed + len(plan.unwritable)
    print(f"Wrote {outcome.ok} file(s), {skipped} skipped; `genre-desktop-cli undo` restores them.")
    return finished(args, skipped)
