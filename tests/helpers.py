"""Small helpers the tests share: the command line run in-process, and a file's digest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from genre_desktop.cli import main


def cli(capsys, *argv) -> tuple[int, str, str]:
    """Run the command line in this process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def sha(path) -> str:
    """The SHA-256 of a file's bytes (hex): the byte-for-byte check of writes and undos."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
