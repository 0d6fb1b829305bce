"""Decode any supported audio file to mono float32 at a fixed rate.

``decode`` mirrors ``librosa.load(path, sr=sr, offset=offset, duration=duration)`` exactly for the
files soundfile (libsndfile) reads: the same frame arithmetic for offset/duration, the same channel
average (``librosa.to_mono``) and the same resampler (soxr "soxr_hq" plus ``fix_length``), so
features computed from ``decode`` match the ones the models were trained on. It does so without
importing librosa (slow to import, pulls numba in).

Only the requested window is read: soundfile seeks to the offset (for MP3 a little earlier, as
libsndfile's MP3 seek yields a few wrong frames, so a window is exact where ``librosa.load`` with an
offset is not); what libsndfile cannot read goes to ffmpeg (``ffmpeg``). Header probes live in
``probe``, format sniffing in ``formats``, the shared checks in ``base``; their public names are
importable from here too.

Every failure to read is a ``DecodeError`` carrying the path and a human reason; argument mistakes
by the caller (negative rate or offset) are ``ValueError``.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from genre_desktop.audio.base import DecodeError, check_file, check_size, decoder_notes
from genre_desktop.audio.ffmpeg import ffmpeg_read
from genre_desktop.audio.formats import SUPPORTED_EXTENSIONS, looks_like_audio
from genre_desktop.audio.probe import AudioInfo, mp3_truncation, probe

__all__ = ["SUPPORTED_EXTENSIONS", "AudioInfo", "DecodeError", "decode", "looks_like_audio", "mp3_truncation",
           "probe", "MP3_SEEK_PREROLL"]

log = logging.getLogger(__name__)

# Frames decoded and dropped before an MP3 window (measured: 8192 suffices, 4608 does not).
MP3_SEEK_PREROLL = 11520


def decode(path: str | os.PathLike[str], sr: int = 22050, offset: float = 0.0,
           duration: float | None = None) -> np.ndarray:
    """Decode ``path`` to a mono float32 1-D array at ``sr`` Hz.

    ``offset``/``duration`` (seconds) select a window; only that window is read. A window past the
    end gives an empty array; so does a valid file with no samples.
    """
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if offset < 0 or (duration is not None and duration < 0):
        raise ValueError(f"offset and duration must not be negative (offset={offset}, duration={duration})")
    path = check_file(path)
    try:
        y, native_sr = _soundfile_read(path, offset, duration)
    except _SoundfileCannot as exc:
        log.debug("soundfile cannot read %s (%s); trying ffmpeg", path, exc)
        y, native_sr = ffmpeg_read(path, offset, duration, soundfile_error=str(exc))
    return _resample(_to_mono(y), native_sr, sr)


class _SoundfileCannot(Exception):
    """Internal: libsndfile could not open or read the file; the ffmpeg fallback decides."""


def _soundfile_read(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """(channels, frames) float32 and the native rate, with librosa's frame arithmetic."""
    try:
        with decoder_notes(path), sf.SoundFile(str(path)) as f:
            native_sr = f.samplerate
            start = int(offset * native_sr)
            if f.frames > 0 and start >= f.frames:
                return np.zeros((f.channels, 0), np.float32), native_sr
            # libsndfile's MP3 decoder (mpg123) gives up to ~5 frames of wrong samples right
            # after a seek (the bit reservoir is empty); seek earlier and drop the pre-roll.
            preroll = min(start, MP3_SEEK_PREROLL) if f.format == "MP3" else 0
            if start:
                f.seek(start - preroll)
            frames = -1 if duration is None else int(duration * native_sr) + preroll
            wanted = (f.frames - start + preroll) if frames < 0 else min(frames, f.frames - start + preroll)
            check_size(path, wanted, f.channels)
            y = f.read(frames=frames, dtype="float32", always_2d=True)[preroll:]
    except DecodeError:
        raise
    except Exception as exc:  # LibsndfileError, RuntimeError from codecs, TypeError on odd headers
        raise _SoundfileCannot(str(exc)) from exc
    return np.ascontiguousarray(y.T), native_sr


def _to_mono(y: np.ndarray) -> np.ndarray:
    # Same reduction as librosa.to_mono on a (channels, frames) array, for bit-identical results.
    if y.shape[0] == 1:
        return y[0]
    return np.mean(y, axis=0)


def _resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """librosa.resample(res_type="soxr_hq", fix=True) without librosa."""
    if orig_sr == target_sr:
        return np.ascontiguousarray(y, dtype=np.float32)
    n_out = int(np.ceil(y.shape[-1] * float(target_sr) / orig_sr))
    if y.size == 0:
        return np.zeros(0, np.float32)
    y_hat = soxr.resample(y, orig_sr, target_sr, quality="soxr_hq")
    if y_hat.shape[-1] > n_out:
        y_hat = y_hat[:n_out]
    elif y_hat.shape[-1] < n_out:
        y_hat = np.pad(y_hat, (0, n_out - y_hat.shape[-1]))
    return np.ascontiguousarray(y_hat, dtype=np.float32)
