"""``write [--dry-run] [--strict]``: write every accepted or corrected choice into the files.

The library session's plan (what the window's preview shows) and its one write path (journaled,
verified); ``genre-desktop-cli undo`` restores the files. A file that cannot be written (a
container without tags, a file changed on disk since the scan, a read-only file, damaged tags)
is listed with the reason and left as it is: the run still exits 0 (3 with ``--strict``).
A verified write keeps the file's analysis: the next ``analyze`` does not analyse it again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genre_desktop.cli.common import (OK, finished, genres_text, journal_path, open_session, print_results,
                                      report_settled, reporting_busy, store_options, strict_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("write", parents=[store_options(), strict_options()],
                              help="write every accepted or corrected choice into the files (journaled)")
    p.add_argument("--dry-run", action="store_true", help="only print what would change (the write preview)")
    p.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal of tag writes (default: the store's)")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    session = open_session(args)
    ws = session.workspace
    try:
        plan = session.plan(notes=args.dry_run)  # the notes cost a read of each MP3/WAV/AIFF: shown on a dry run
        for change, why in plan.unwritable:
            print(f"skipped {change.path}: {why}")
        if args.dry_run or not plan.changes:
            for change in plan.changes:
                notes = f"  ({'; '.join(change.notes)})" if change.notes else ""
                print(f"would write {change.path}: {genres_text(change.old)} -> {genres_text(change.new)}{notes}")
            if not plan.changes and not plan.unchanged and not plan.unwritable:
                print("Nothing to write yet: accept or correct predictions first (`genre-desktop-cli accept`).")
            else:
                already = f" {plan.unchanged} reviewed file(s) already carry their genres." if plan.unchanged else ""
                apart = f" {len(plan.unwritable)} cannot be written (listed above)." if plan.unwritable else ""
                print(f"{len(plan.changes)} file(s) will change.{already}{apart}")
            return OK if args.dry_run else finished(args, len(plan.unwritable))
        outcome = session.write(plan, check=False, journal_path=journal_path(args))
    finally:
        ws.close()
    report_settled(outcome.settled)
    failed = print_results(outcome.results, "written")
    skipped = failed + len(plan.unwritable)
    print(f"Wrote {outcome.ok} file(s), {skipped} skipped; `genre-desktop-cli undo` restores them.")
    return finished(args, skipped)
