"""What every command shares: the workspace built from the command line, and progress output.

``main`` resolves the app's folders once and puts them on the parsed arguments (``args.dirs``);
commands build their services from :func:`workspace`, the same way the window does (one journal
rule, one tag-service wiring, one analysis description).
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import IO

from genre_desktop.app.workspace import Workspace


def workspace(args: argparse.Namespace) -> Workspace:
    """The workspace for this command: ``--store`` if given, else the app's store."""
    return Workspace(args.dirs, store_path=getattr(args, "store", None))


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
