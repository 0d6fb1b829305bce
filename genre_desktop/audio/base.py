"""What every decoding step shares: the error, the checks of a file before reading it, the memory
limit, and the redirection of what decoders print to the log."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# Refuse to hold more than this many bytes of native-rate float32 samples at once (a 10-hour
# stereo file is 12.7 GB): callers analyse such files in windows instead of crashing the process.
MAX_DECODE_BYTES = 2 * 1024**3


class DecodeError(Exception):
    """The file cannot be decoded (or probed). ``str(exc) == f"{path}: {reason}"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def check_file(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, if it is a readable, non-empty file (else DecodeError with the reason)."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DecodeError(p, "file not found") from None
    except OSError as exc:
        raise DecodeError(p, f"cannot access file: {exc.strerror or exc}") from None
    if p.is_dir():
        raise DecodeError(p, "is a folder, not a file")
    if st.st_size == 0:
        raise DecodeError(p, "empty file (0 bytes)")
    if not os.access(p, os.R_OK):
        raise DecodeError(p, "file is not readable (permission denied)")
    return p


def check_size(path: Path, frames: int, channels: int) -> None:
    if frames * channels * 4 > MAX_DECODE_BYTES:
        raise DecodeError(path, f"too long to decode at once ({frames} frames x {channels} channels); "
                                f"decode it in windows (offset/duration)")


def mpeg_like(path: Path) -> bool:
    if path.suffix.lower() == ".mp3":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(3)
    except OSError:
        return False
    return head == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)


class decoder_notes:
    """Send what libsndfile's decoders print on fd 2 ("Xing stream size off...") to the log.

    mpg123 writes its notes straight to the process's stderr, under any Python redirection; they
    belong in the log, not on the user's terminal. fd 2 is swapped for a temporary file for the
    duration of the call (serialised by a lock: the swap is process-wide).
    """

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> "decoder_notes":
        self._saved = None
        self._active = mpeg_like(self.path)  # only mpg123 talks; other reads are not serialised
        if not self._active:
            return self
        self._lock.acquire()
        try:
            self._sink = tempfile.TemporaryFile()
            sys.stderr.flush()
            self._saved = os.dup(2)
            os.dup2(self._sink.fileno(), 2)
        except OSError:
            self._saved = None
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._active:
            return
        try:
            if self._saved is not None:
                os.dup2(self._saved, 2)
                os.close(self._saved)
                self._sink.seek(0)
                notes = self._sink.read(64 * 1024).decode("utf-8", errors="replace").strip()
                if notes:
                    log.info("decoder notes for %s: %s", self.path, " | ".join(dict.fromkeys(notes.splitlines())))
            self._sink.close()
        finally:
            self._lock.release()
