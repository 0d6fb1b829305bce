"""Short-time Fourier analysis and mel scales in plain numpy/scipy: librosa's values without librosa.

The app's feature code used to call librosa at run time; librosa imports numba as it loads (several
of its modules compile kernels then), and numba needs LLVM: seconds of start-up, a compile cache,
and 150 MiB of the desktop bundle. This module reproduces the functions the analysis, the
spectrogram and training call, value for value (``tests/test_features_dsp.py`` compares each with
librosa, which stays the reference the feature code is proven against).

Reproduces these functions of librosa 0.11 (same arithmetic, in the same order and dtypes, so the
results are equal, not merely close):

* ``filters.get_window("hann", n, fftbins=True)`` (scipy.signal's periodic Hann): :func:`hann`;
* ``stft`` with ``center`` and its ``"constant"``/``"reflect"`` padding, or uncentred: :func:`stft`;
* ``fft_frequencies``, ``hz_to_mel``, ``mel_to_hz``, ``mel_frequencies`` (Slaney scale),
  ``filters.mel`` (Slaney normalisation): :func:`mel_filters`;
* ``feature.melspectrogram`` from samples: :func:`melspectrogram`;
* ``power_to_db``; the DCT of ``feature.mfcc``: :func:`mfcc`;
* ``util.normalize`` (max and p-norms, small columns left alone), ``util.tiny``, ``util.fix_length``,
  ``frames_to_time``, ``filters.window_sumsquare`` (Hann).

Chroma and tuning are in :mod:`.dsp_pitch`, onsets and tempo in :mod:`.dsp_rhythm`.

Derived from librosa (https://librosa.org), Copyright (c) 2013--2023, librosa development team,
under the ISC licence: see ``LICENSE-librosa.md`` beside this module.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

# librosa's util.MAX_MEM_BLOCK: the STFT transforms this many bytes of float64 frames at a time,
# so the windowed frames stay in cache (a whole 30 s window at once was 8x slower).
_BLOCK_BYTES = 2**18


@functools.lru_cache(maxsize=16)
def hann(n: int) -> np.ndarray:
    """The periodic Hann window of ``n`` samples, float64, as ``scipy.signal.get_window("hann", n)``.

    scipy sums its cosine terms over a symmetric window one sample longer and drops the last; the
    same steps here give the same bits (without importing scipy.signal, ~1.5 s).
    """
    if n <= 1:
        return np.ones(max(int(n), 0))
    fac = np.linspace(-np.pi, np.pi, int(n) + 1)
    w = np.zeros(int(n) + 1)
    w += 0.5 * np.cos(0 * fac)
    w += 0.5 * np.cos(1 * fac)
    w = w[:-1]
    w.flags.writeable = False
    return w


def frame(x: np.ndarray, frame_length: int, hop_length: int) -> np.ndarray:
    """A read-only view of ``x`` (..., n) as frames (..., n_frames, frame_length), hop apart."""
    n = x.shape[-1]
    if n < frame_length:
        raise ValueError(f"input too short ({n} samples) for frames of {frame_length}")
    windows = np.lib.stride_tricks.sliding_window_view(x, frame_length, axis=-1)
    return windows[..., ::hop_length, :]


def stft(
    y: np.ndarray, n_fft: int = 2048, hop_length: int | None = None, *, center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """librosa.stft with a Hann window of ``n_fft`` samples: complex (..., 1 + n_fft // 2, frames).

    ``center``: frame ``t`` is centred on sample ``t * hop_length`` (the signal padded by
    ``n_fft // 2`` with zeros, or by ``pad_mode="reflect"`` mirroring); else frames start at 0.
    complex64 for float32 input (complex128 for float64), computed in float64 as librosa does, each
    frame contiguous in memory (librosa's layout). Raises ValueError where librosa raises
    (uncentred input shorter than one frame, a hop < 1, an unknown pad mode).
    """
    y = np.asarray(y)
    if y.dtype not in (np.float32, np.float64):
        y = y.astype(np.float32)
    hop = n_fft // 4 if hop_length is None else int(hop_length)
    if hop < 1:
        raise ValueError(f"hop_length={hop} must be a positive integer")
    if center:
        if pad_mode not in ("constant", "reflect"):
            raise ValueError(f"pad_mode={pad_mode!r} is not supported")
        widths = [(0, 0)] * (y.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        y = np.pad(y, widths, mode=pad_mode)
    elif y.shape[-1] < n_fft:
        raise ValueError(f"n_fft={n_fft} is too large for uncentered analysis of {y.shape[-1]} samples")
    import scipy.fft

    frames = frame(y, n_fft, hop)
    window = hann(n_fft)
    dtype = np.complex128 if y.dtype == np.float64 else np.complex64
    out = np.empty((*frames.shape[:-1], 1 + n_fft // 2), dtype=dtype)  # (..., frames, bins)
    step = max(1, _BLOCK_BYTES // (n_fft * 8))
    for start in range(0, frames.shape[-2], step):
        out[..., start:start + step, :] = scipy.fft.rfft(frames[..., start:start + step, :] * window, axis=-1)
    return np.swapaxes(out, -1, -2)


def fft_frequencies(sr: float, n_fft: int) -> np.ndarray:
    """Centre frequency (Hz) of each STFT bin: ``librosa.fft_frequencies``."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)


# The Slaney mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies) -> np.ndarray:
    """Hz to mels on the Slaney scale (``librosa.hz_to_mel``, htk=False); arrays and scalars."""
    frequencies = np.asanyarray(frequencies)
    mels = (frequencies - 0.0) / _F_SP
    if frequencies.ndim:
        log_t = frequencies >= _MIN_LOG_HZ
        mels[log_t] = _MIN_LOG_MEL + np.log(frequencies[log_t] / _MIN_LOG_HZ) / _LOGSTEP
    elif frequencies >= _MIN_LOG_HZ:
        mels = _MIN_LOG_MEL + np.log(frequencies / _MIN_LOG_HZ) / _LOGSTEP
    return mels


def mel_to_hz(mels) -> np.ndarray:
    """Mels on the Slaney scale to Hz (``librosa.mel_to_hz``, htk=False); arrays and scalars."""
    mels = np.asanyarray(mels)
    freqs = 0.0 + _F_SP * mels
    if mels.ndim:
        log_t = mels >= _MIN_LOG_MEL
        freqs[log_t] = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels[log_t] - _MIN_LOG_MEL))
    elif mels >= _MIN_LOG_MEL:
        freqs = _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels - _MIN_LOG_MEL))
    return freqs


def mel_frequencies(n_mels: int = 128, fmin: float = 0.0, fmax: float = 11025.0) -> np.ndarray:
    """``n_mels`` frequencies (Hz) evenly spaced in mels from ``fmin`` to ``fmax`` inclusive."""
    return mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels))


@functools.lru_cache(maxsize=16)
def _mel_filters(sr: float, n_fft: int, n_mels: int, fmin: float, fmax: float, dtype: np.dtype) -> np.ndarray:
    weights = np.zeros((n_mels, int(1 + n_fft // 2)), dtype=dtype)
    fftfreqs = fft_frequencies(sr, n_fft)
    mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_f[2:n_mels + 2] - mel_f[:n_mels])  # Slaney: about constant energy per band
    weights *= enorm[:, np.newaxis]
    weights.flags.writeable = False
    return weights


def mel_filters(
    sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
    dtype=np.float32,
) -> np.ndarray:
    """librosa.filters.mel (Slaney scale and normalisation): (n_mels, 1 + n_fft // 2), read-only.

    Memoised: a bank is a constant of its parameters.
    """
    fmax = float(sr) / 2 if fmax is None else float(fmax)
    return _mel_filters(float(sr), int(n_fft), int(n_mels), float(fmin), fmax, np.dtype(dtype))


def melspectrogram(
    y: np.ndarray, sr: float = 22050, n_fft: int = 2048, hop_length: int = 512, *, n_mels: int = 128,
    fmin: float = 0.0, fmax: float | None = None, power: float = 2.0, center: bool = True,
    pad_mode: str = "constant",
) -> np.ndarray:
    """librosa.feature.melspectrogram of samples: ``|stft| ** power`` through the mel filters."""
    spec = np.abs(stft(y, n_fft, hop_length, center=center, pad_mode=pad_mode)) ** power
    basis = mel_filters(sr, n_fft, n_mels, fmin, fmax)
    return np.einsum("...ft,mf->...mt", spec, basis, optimize=True)


def power_to_db(
    S: np.ndarray, ref: float | Callable = 1.0, amin: float = 1e-10, top_db: float | None = 80.0,
) -> np.ndarray:
    """librosa.power_to_db: ``10 log10(S / ref)``, floored at ``amin`` and ``top_db`` below the peak.

    ``ref`` may be a function of the spectrogram (``np.max``: 0 dB at the loudest bin).
    """
    magnitude = np.asarray(S)
    if amin <= 0:
        raise ValueError("amin must be strictly positive")
    ref_value = ref(magnitude) if callable(ref) else np.abs(ref)
    log_spec = 10.0 * np.log10(np.maximum(amin, magnitude))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref_value))
    if top_db is not None:
        if top_db < 0:
            raise ValueError("top_db must be non-negative")
        log_spec = np.maximum(log_spec, log_spec.max() - top_db)
    return log_spec


def mfcc(S_db: np.ndarray, n_mfcc: int = 20) -> np.ndarray:
    """librosa.feature.mfcc of a log-power mel spectrogram: orthonormal DCT-II over the bands."""
    import scipy.fft

    return scipy.fft.dct(S_db, axis=-2, type=2, norm="ortho")[..., :n_mfcc, :]


def tiny(x) -> float:
    """The smallest positive normal number of ``x``'s float dtype (float32 for other types)."""
    dtype = np.asarray(x).dtype
    return np.finfo(dtype if np.issubdtype(dtype, np.inexact) else np.float32).tiny


def normalize(S: np.ndarray, norm: float = np.inf, axis: int = 0) -> np.ndarray:
    """librosa.util.normalize (fill=None): each slice along ``axis`` scaled to unit ``norm``.

    ``norm``: ``np.inf`` (the largest magnitude) or a positive p. Slices whose norm is below the
    dtype's :func:`tiny` are left as they are. Raises ValueError for non-finite input.
    """
    threshold = tiny(S)
    if not np.all(np.isfinite(S)):
        raise ValueError("Input must be finite")
    mag = np.abs(S).astype(float)
    if norm == np.inf:
        length = np.max(mag, axis=axis, keepdims=True)
    elif norm > 0:
        length = np.sum(mag**norm, axis=axis, keepdims=True) ** (1.0 / norm)
    else:
        raise ValueError(f"Unsupported norm: {norm!r}")
    length[length < threshold] = 1.0
    out = np.empty_like(S)
    out[:] = S / length
    return out


def fix_length(data: np.ndarray, size: int, axis: int = -1) -> np.ndarray:
    """``data`` cut or zero-padded along ``axis`` to exactly ``size``: librosa.util.fix_length."""
    n = data.shape[axis]
    if n > size:
        index = [slice(None)] * data.ndim
        index[axis] = slice(0, size)
        return data[tuple(index)]
    if n < size:
        widths = [(0, 0)] * data.ndim
        widths[axis] = (0, size - n)
        return np.pad(data, widths, mode="constant")
    return data


def frames_to_time(frames, sr: float = 22050, hop_length: int = 512) -> np.ndarray:
    """Start times (s) of frames: ``librosa.frames_to_time`` (no n_fft offset)."""
    return (np.asanyarray(frames) * hop_length).astype(int) / float(sr)


def window_sumsquare(n_frames: int, hop_length: int = 512, n_fft: int = 2048, dtype=np.float32) -> np.ndarray:
    """librosa.filters.window_sumsquare for a Hann window of ``n_fft``: the squared window
    overlap-added at each frame (what an inverse STFT divides by), ``n_fft + hop * (frames - 1)``."""
    n = n_fft + hop_length * (n_frames - 1)
    x = np.zeros(n, dtype=dtype)
    win_sq = hann(n_fft) ** 2
    for i in range(n_frames):
        sample = i * hop_length
        x[sample:min(n, sample + n_fft)] += win_sq[:max(0, min(n_fft, n - sample))]
    return x
