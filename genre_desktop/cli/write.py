"""``write [--dry-run]``: write every accepted or corrected choice into the files.

Planned as the window's write preview plans (``Workspace.plan_changes``) and written through the
journaled tag service; ``genre-desktop-cli undo`` restores the files.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genre_desktop.cli.common import (FAILED, OK, genres_text, open_store, print_results, reporting_busy,
                                      store_options, tag_service)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("write", parents=[store_options()],
                              help="write every accepted or corrected choice into the files (journaled)")
    p.add_argument("--dry-run", action="store_true", help="only print what would change (the write preview)")
    p.add_argument("--journal", type=Path, default=None, metavar="PATH", help="journal of tag writes (default: the store's)")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    ws = open_store(args)
    try:
        changes, unchanged = ws.plan_changes(ws.store.all())
        if args.dry_run or not changes:
            for change in changes:
                print(f"would write {change.path}: {genres_text(change.old)} -> {genres_text(change.new)}")
            if not changes and not unchanged:
                print("Nothing to write yet: accept or correct predictions first (`genre-desktop-cli accept`).")
            else:
                already = f" {unchanged} reviewed file(s) already carry their genres." if unchanged else ""
                print(f"{len(changes)} file(s) will change.{already}")
            return OK
        with tag_service(args, ws) as service:
            results = service.write({c.path: c.new for c in changes})
    finally:
        ws.close()
    failed = print_results(results, "written")
    print(f"Wrote {len(results) - failed} file(s), {failed} failed; `genre-desktop-cli undo` restores them.")
    return FAILED if failed else OK
