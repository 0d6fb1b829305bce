"""What every command shares: exit codes, the store and journal options, the workspace and the
library session built from the command line, result lines and progress output.

``main`` resolves the app's folders once and puts them on the parsed arguments (``args.dirs``);
commands build their services from :func:`workspace`, the same way the window does (one journal
rule, one tag-service wiring, one analysis description).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Callable

from genre_desktop.paths import journal_for

if TYPE_CHECKING:  # imported when a command runs: building the parser (--help, --version) stays light
    from genre_desktop.app.workspace import Workspace

#: exit codes: done (also when some files were skipped with a reason, listed and counted); the
#: command could not do its work (the store is busy, the models do not load, a run was stopped);
#: usage errors (argparse's own, or a folder that does not exist); only with ``--strict``: done,
#: but some files were skipped
OK, FAILED, USAGE, PARTIAL = 0, 1, 2, 3


# --------------------------------------------------------------------------- options
def store_options() -> argparse.ArgumentParser:
    """The options of every command that opens the library store (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", type=Path, default=None, metavar="PATH",
                        help="library store file (default: the app's data folder)")
    common.add_argument("--lock-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait while another Genre Desktop process writes the store (default 30)")
    return common


def journal_options() -> argparse.ArgumentParser:
    """``--journal``, for the commands that read or write the journal of tag writes (a parent parser)."""
    journaled = argparse.ArgumentParser(add_help=False)
    journaled.add_argument("--journal", type=Path, default=None, metavar="PATH",
                           help="journal of tag writes (default: the store's, next to it: journal.jsonl "
                                "beside library.json, NAME-journal.jsonl beside any other NAME.json)")
    return journaled


def strict_options() -> argparse.ArgumentParser:
    """``--strict``, for the commands whose partial success is success (a parent parser)."""
    strict = argparse.ArgumentParser(add_help=False)
    strict.add_argument("--strict", action="store_true",
                        help=f"exit {PARTIAL} (not 0) when some files were skipped (each is listed with the reason)")
    return strict


def outside_probability(value: float | None) -> bool:
    """Whether ``--above`` was given outside 0..1 (then said on stderr): the caller exits ``USAGE``."""
    if value is not None and not 0.0 <= value <= 1.0:
        print("error: --above wants a probability between 0 and 1 (e.g. 0.8)", file=sys.stderr)
        return True
    return False


def finished(args: argparse.Namespace, skipped: int) -> int:
    """The exit code of a command that did its work: 0, or ``PARTIAL`` under ``--strict`` when it
    skipped files (a 50,000-file archive always holds one bad file: a cron chain must go on)."""
    return PARTIAL if skipped and getattr(args, "strict", False) else OK


def training_options() -> argparse.ArgumentParser:
    """The options of ``train`` and ``models map``: the store and what to learn from (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", type=Path, default=None, metavar="PATH",
                        help="library store file (default: the app's data folder)")
    common.add_argument("--trust-existing", nargs="+", default=[], metavar="GENRE",
                        help="also learn from tracks whose existing genre tag is one of these")
    common.add_argument("--merge", nargs="+", default=[], metavar="A=B",
                        help="merge (or rename) genre A into B before training")
    return common


# --------------------------------------------------------------------------- the workspace
def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace for this command: ``--store`` if given, else the app's store."""
    from genre_desktop.app.workspace import Workspace

    return Workspace(args.dirs, store_path=getattr(args, "store", None))


def reporting_busy(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A store that cannot be used (another process holding it past --lock-timeout, or one written
    by a newer version of the app) is a clear message and exit 1, not a traceback."""
    def run(args: argparse.Namespace) -> int:
        from genre_desktop.library.store import StoreUnavailable

        try:
            return func(args)
        except StoreUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return FAILED
    run.__doc__ = func.__doc__
    return run


def journal_path(args: argparse.Namespace) -> Path:
    """``--journal`` if given, else the journal of the command's store (the window's rule)."""
    if getattr(args, "journal", None) is not None:
        return args.journal
    return journal_for(workspace(args).store_path)


def open_store(args: argparse.Namespace) -> Workspace:
    """The command's workspace with its store open (``ws.store``)."""
    ws = workspace(args)
    store = ws.open_store(lock_timeout=args.lock_timeout)
    for backup in store.recovered_from:
        print(f"warning: a damaged store file was kept as {backup}; run `genre-desktop-cli scan` "
              f"(without a folder) to rebuild the library by rescanning", file=sys.stderr)
    return ws


def open_session(args: argparse.Namespace, root: str | None = None):
    """The command's library session over the tracks under ``root`` (None: the whole store); its
    writer is this thread. Close it with ``session.workspace.close()``."""
    from genre_desktop.app.session import LibrarySession

    session = LibrarySession(open_store(args))
    session.open(root)
    return session


def library_roots(ws: Workspace) -> list[str]:
    """The folders to rescan: the store's own list, else the GUI's last library."""
    if ws.store.roots:
        return ws.store.roots
    last = ws.settings.last_library
    return [os.path.abspath(last)] if last else []


def library_tracks(args: argparse.Namespace):
    """(every track of the library, the settings) through the command's workspace."""
    ws = workspace(args)
    try:
        return ws.open_store().all(), ws.settings
    finally:
        ws.close()


def parse_merges(args: argparse.Namespace) -> dict[str, str]:
    """``--merge A=B ...`` as {A: B}; a malformed item ends the command with a message."""
    merges = {}
    for item in args.merge:
        if "=" not in item:
            raise SystemExit(f"--merge expects A=B, got {item!r}")
        a, b = item.split("=", 1)
        merges[a] = b
    return merges


# --------------------------------------------------------------------------- tag writes
def report_settled(settled) -> None:
    """What the tag service settled first: writes a killed run left pending (None: another
    process is writing tags now, its unfinished writes are left to it)."""
    if settled is None:
        print("another Genre Desktop process is writing tags now; its unfinished writes are left to it",
              file=sys.stderr)
    elif settled:
        print(f"settled {sum(r.ok for r in settled)} of {len(settled)} interrupted write(s) from an earlier run",
              file=sys.stderr)


def genres_text(values: list[str] | None) -> str:
    """Genres as one cell: ``Rock; Pop``, or ``-`` for none."""
    return "; ".join(values) if values else "-"


def print_results(results, verb: str) -> int:
    """One line per write or undo result; returns how many failed."""
    failed = 0
    for r in results:
        if r.ok:
            more = "".join(f"; {name}: {genres_text(old)} -> {genres_text(new)}"
                           for name, (old, new) in getattr(r, "fields", {}).items())
            print(f"{verb:<7} {r.path}: {genres_text(r.old)} -> {genres_text(r.new)}{more}")
        else:
            failed += 1
            print(f"FAILED  {r.path}: {r.error}")
    return failed


# --------------------------------------------------------------------------- files
def collect_files(paths: list[str]) -> list[str]:
    """Files as given, plus the supported audio files under each folder (sorted, recursive)."""
    from genre_desktop.audio import SUPPORTED_EXTENSIONS

    out: list[str] = []
    for raw in paths:
        if os.path.isdir(raw):
            found = []
            for folder, dirs, files in os.walk(raw):
                dirs.sort()
                found += [os.path.join(folder, f) for f in files
                          if os.path.splitext(f)[1].lower() in SUPPORTED_EXTENSIONS]
            out += sorted(found)
        else:
            out.append(raw)
    return out


# --------------------------------------------------------------------------- progress
_COUNTS = re.compile(r"\s*\(?\d+\s*/\s*\d+[^)]*\)?")


class Progress:
    """Progress on a stream: a live line redrawn with carriage returns on a terminal; elsewhere (a
    log file, a pipe) one line per stage, so that a log holds a readable history, not thousands
    of redraws. A stage is the message with its counts removed ("reading track vectors (3/50)"
    and "(4/50)" are one stage)."""

    def __init__(self, stream: IO[str] | None = None, interactive: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._stage: str | None = None
        self._live = False

    @staticmethod
    def stage_of(message: str) -> str:
        return _COUNTS.sub("", message).strip()

    def __call__(self, fraction: float | None, message: str) -> None:
        """Report ``message`` (``fraction`` of the whole done, None when unknown)."""
        if self.interactive:
            share = f"{fraction:4.0%} " if fraction is not None else ""
            print(f"\r{share}{message[:70]:<70}\033[K", end="", file=self.stream, flush=True)
            self._live = True
            return
        stage = self.stage_of(message)
        if stage and stage != self._stage:
            self._stage = stage
            print(f"{stage}…", file=self.stream, flush=True)

    def close(self) -> None:
        """End the live line (a terminal) so that what is printed next starts clean."""
        if self._live:
            print("\r\033[K", end="", file=self.stream, flush=True)
            self._live = False
