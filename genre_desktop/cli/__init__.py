"""``genre-desktop-cli``: the app's services without a window.

One module per command (beets' ``ui/commands`` layout): each has ``register(subparsers)``, which
adds its sub-command(s), and sets ``func(args) -> int`` (the exit code; usually its ``run``).
What several commands share (exit codes, store options, the workspace, the tag service, result
lines, progress) is public in :mod:`genre_desktop.cli.common`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from genre_desktop import __version__
from genre_desktop.paths import app_dirs
from genre_desktop.runtime import prepare_process

#: the commands, in the order ``--help`` lists them
COMMANDS = ("scan", "list", "tag", "undo", "doctor", "analyze", "accept", "reset", "write", "classify",
            "evaluate", "train", "models", "cluster-certs")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genre-desktop-cli",
        description="Scan, classify and tag a music library from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(f"genre_desktop.cli.{name.replace('-', '_')}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    dirs = app_dirs()  # the one place the CLI resolves its folders; commands get them as args.dirs
    prepare_process(dirs)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.dirs = dirs
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`... | head`): not an error of ours. Point stdout at devnull so
        # the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # never a traceback: a message (and with -vv the traceback in the log)
        return _report(exc)


def _report(exc: Exception) -> int:
    """What an error no command caught tells the user; the exit code (2: the models, 1: the rest)."""
    from genre_desktop.inference.manifest import ModelError
    from genre_desktop.runtime import describe_os_error

    logging.getLogger(__name__).debug("the command failed", exc_info=exc)
    if isinstance(exc, ModelError):
        print(f"error: cannot load the models: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, OSError):
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return 1
    print(f"error: the command stopped on an unexpected problem: {exc or type(exc).__name__} "
          "(nothing after it was done; run again with -vv for the details and report them)", file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
