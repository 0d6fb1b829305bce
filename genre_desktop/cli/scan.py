"""``scan [DIR] [--remove-missing]``: scan a music folder into the library (incremental).

Without a folder, the library's own folders are rescanned (e.g. to rebuild a damaged store).
Prints found / new / changed / unchanged / missing / unreadable / truncated, and each unreadable or
truncated file (and each folder that could not be listed) with its reason. Skipped files do not make the scan fail:
exit 0 (3 with ``--strict``); the unreadable files stay in the library with their reason.
Each batch is stored with the library session's scan merge (``app.session_store.save_scanned``).
"""

from __future__ import annotations

import argparse
import os
import sys

from genre_desktop.app.workflow import is_truncated
from genre_desktop.cli.common import (FAILED, OK, USAGE, Progress, finished, library_roots, open_store,
                                      reporting_busy, store_options, strict_options)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("scan", parents=[store_options(), strict_options()],
                              help="scan a music folder into the library")
    p.add_argument("folder", metavar="DIR", nargs="?",
                   help="folder to scan (default: rescan the library's folders, e.g. to rebuild a damaged store)")
    p.add_argument("--remove-missing", action="store_true",
                   help="purge tracks whose files are gone (default: keep them flagged as missing)")
    p.set_defaults(func=reporting_busy(run))


def run(args: argparse.Namespace) -> int:
    ws = open_store(args)
    try:
        if args.folder is not None:
            folders = [os.path.abspath(args.folder)]
        else:
            folders = library_roots(ws)
            if not folders:
                print("error: no library folder known yet: give the folder to scan", file=sys.stderr)
                return USAGE
        codes = []
        for folder in folders:
            if not os.path.isdir(folder):
                print(f"error: not a folder: {args.folder or folder}", file=sys.stderr)
                codes.append(USAGE if args.folder is not None else FAILED)
                continue
            codes.append(_scan_one(args, ws, folder))
        # A folder that could not be scanned outweighs files skipped in another.
        return next((c for c in (USAGE, FAILED) if c in codes), max(codes, default=OK))
    finally:
        ws.close()


def _scan_one(args: argparse.Namespace, ws, folder: str) -> int:
    from genre_desktop.app.session_store import save_scanned
    from genre_desktop.library.scanner import scan

    store = ws.store
    show = Progress()
    store.add_root(folder)
    gen = scan(folder, store, options=ws.write_options(), save=lambda tracks: save_scanned(store, tracks))
    try:
        while True:
            try:
                p = next(gen)
            except StopIteration as stop:
                summary = stop.value
                break
            if show.interactive:
                count = f"{p.done}/{p.total}" if p.total is not None else f"listing... {p.found}"
                show(None, f"{count} files  new {p.new}  changed {p.changed}  unreadable {p.unreadable}")
            elif p.total is None:
                show(None, f"listing the files of {folder}")
            else:
                show(None, f"reading the tags of {p.total} files")
        show.close()
        purged = store.remove_missing() if args.remove_missing else []
    finally:
        gen.close()  # on Ctrl-C: the scanner saves what it read
    print(f"Scanned {folder} in {summary.elapsed:.1f} s")
    print(f"  files found: {summary.found}")
    print(f"  new:         {summary.new}")
    print(f"  changed:     {summary.changed}")
    print(f"  unchanged:   {summary.unchanged}")
    if purged:
        print(f"  removed:     {len(purged)} (gone from disk, purged from the library)")
    else:
        print(f"  missing:     {summary.removed} (gone from disk; kept, use --remove-missing to purge)")
    print(f"  unreadable:  {len(summary.unreadable)}")
    for path, reason in summary.unreadable:
        print(f"    {path}: {reason}")
    damaged = list(getattr(summary, "damaged", []))
    truncated = [(p, r) for p, r in damaged + summary.unreadable if is_truncated(r)]
    print(f"  truncated:   {len(truncated)}" + (" (kept; what the file holds plays and analyses)" if truncated else ""))
    for path, reason in truncated:
        print(f"    {path}: {reason}")
    other = [(p, r) for p, r in damaged if not is_truncated(r)]
    if other:
        print(f"  readable with a problem: {len(other)}")
        for path, reason in other:
            print(f"    {path}: {reason}")
    for path, reason in summary.unlisted:
        print(f"  folder not listed: {path}: {reason}")
    return finished(args, len(summary.unreadable) + len(summary.unlisted))
