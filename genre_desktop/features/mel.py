"""Mel spectrograms for display, and a disk cache for them.

The GUI draws a track's mel spectrogram under the player. Computing it for a whole track takes a
noticeable fraction of a second, so it is cached per file: the key is the file's path, size and
modification time, so an edited or replaced file is never shown with a stale picture. Decoding is
the caller's job; this module only sees samples.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genre_desktop.features import dsp
from genre_desktop.fsutil import atomic_write_bytes

log = logging.getLogger(__name__)

N_FFT = 2048
TOP_DB = 80.0
# The cache stores dB values as int16 hundredths of a dB: half the size of float32, and 0.005 dB
# worst-case error is far below anything a colour map shows.
_CENTI = 100.0
_CACHE_FORMAT = 1


@dataclass
class MelSpectrogram:
    """A mel spectrogram in dB (0 dB at the loudest bin, floor at -80 dB).

    ``db`` is float32 of shape (n_mels, frames); frame ``i`` is centred at ``i * hop_length / sr``
    seconds. Mel bands span ``fmin``..``fmax`` Hz (Slaney mel scale, as librosa's default).
    """

    db: np.ndarray
    sr: int
    hop_length: int
    fmin: float
    fmax: float
    n_fft: int = N_FFT

    @property
    def n_mels(self) -> int:
        return int(self.db.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.db.shape[1])

    @property
    def seconds_per_frame(self) -> float:
        return self.hop_length / self.sr

    @property
    def duration(self) -> float:
        """Seconds covered by the frames (frame count times hop)."""
        return self.n_frames * self.seconds_per_frame

    def frame_times(self) -> np.ndarray:
        """Centre time in seconds of every frame."""
        return dsp.frames_to_time(np.arange(self.n_frames), sr=self.sr, hop_length=self.hop_length)

    def mel_frequencies(self) -> np.ndarray:
        """Centre frequency in Hz of every mel band (lowest first)."""
        return dsp.mel_frequencies(self.n_mels + 2, fmin=self.fmin, fmax=self.fmax)[1:-1]


def mel_spectrogram(
    y: np.ndarray, sr: int = 22050, n_mels: int = 128, hop_length: int = 512
) -> MelSpectrogram:
    """The display mel spectrogram of mono samples ``y`` (power, n_fft 2048, dB relative to max).

    Empty input gives a spectrogram with no frames.
    """
    y = np.ascontiguousarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
    fmax = sr / 2.0
    if y.size == 0:
        return MelSpectrogram(np.zeros((n_mels, 0), np.float32), sr, hop_length, 0.0, fmax)
    power = dsp.melspectrogram(y, sr, N_FFT, hop_length, n_mels=n_mels, fmin=0.0, fmax=fmax)
    db = dsp.power_to_db(power, ref=np.max, top_db=TOP_DB).astype(np.float32)
    return MelSpectrogram(db=db, sr=sr, hop_length=hop_length, fmin=0.0, fmax=fmax)


class SpectrogramCache:
    """Mel spectrograms on disk, one ``.npz`` file per audio file, in ``folder``.

    An entry is found by the audio file's absolute path, size and modification time; a changed
    file simply misses (its old entry is left for a later clean-up of the folder). Entries are
    written atomically; an unreadable entry is logged, removed and treated as a miss.
    """

    def __init__(self, folder: str | os.PathLike[str]):
        self.folder = Path(folder)

    def _identity(self, path: str | os.PathLike[str]) -> tuple[str, int, int]:
        resolved = os.path.abspath(os.fspath(path))
        st = os.stat(resolved)
        return resolved, int(st.st_size), int(st.st_mtime_ns)

    def entry_path(self, path: str | os.PathLike[str]) -> Path | None:
        """Where the entry for ``path`` (as it is now on disk) lives; None if the file is gone."""
        try:
            resolved, size, mtime_ns = self._identity(path)
        except OSError:
            return None
        key = hashlib.sha256(f"{resolved}\0{size}\0{mtime_ns}".encode("utf-8", "surrogatepass"))
        return self.folder / f"{key.hexdigest()[:40]}.npz"

    def get(self, path: str | os.PathLike[str]) -> MelSpectrogram | None:
        """The cached spectrogram of ``path`` as the file is now, or None."""
        entry = self.entry_path(path)
        if entry is None or not entry.is_file():
            return None
        try:
            with np.load(entry, allow_pickle=False) as data:
                if int(data["format"]) != _CACHE_FORMAT:
                    return None
                if str(data["source"]) != os.path.abspath(os.fspath(path)):
                    return None  # a hash collision in theory; never serve another file's picture
                db = data["centi_db"].astype(np.float32) / np.float32(_CENTI)
                return MelSpectrogram(
                    db=db,
                    sr=int(data["sr"]),
                    hop_length=int(data["hop_length"]),
                    fmin=float(data["fmin"]),
                    fmax=float(data["fmax"]),
                    n_fft=int(data["n_fft"]),
                )
        except Exception as exc:  # a torn or foreign file must not break the GUI: drop it
            log.warning("dropping unreadable spectrogram cache entry %s: %s", entry, exc)
            try:
                entry.unlink()
            except OSError:
                pass
            return None

    def put(self, path: str | os.PathLike[str], mel: MelSpectrogram) -> None:
        """Store ``mel`` as the spectrogram of ``path`` (keyed by its current size and mtime).

        Does nothing (logged) if ``path`` no longer exists.
        """
        entry = self.entry_path(path)
        if entry is None:
            log.info("not caching spectrogram of vanished file %s", path)
            return
        limit = np.iinfo(np.int16)
        centi = np.clip(np.round(np.asarray(mel.db, np.float64) * _CENTI), limit.min, limit.max)
        buffer = io.BytesIO()
        np.savez(
            buffer,
            format=np.int64(_CACHE_FORMAT),
            source=np.str_(os.path.abspath(os.fspath(path))),
            centi_db=centi.astype(np.int16),
            sr=np.int64(mel.sr),
            hop_length=np.int64(mel.hop_length),
            fmin=np.float64(mel.fmin),
            fmax=np.float64(mel.fmax),
            n_fft=np.int64(mel.n_fft),
        )
        atomic_write_bytes(entry, buffer.getvalue())
