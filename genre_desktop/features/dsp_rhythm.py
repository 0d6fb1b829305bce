"""Onset strength and tempo in plain numpy/scipy: librosa's values without librosa (see :mod:`.dsp`).

Reproduces these functions of librosa 0.11, value for value:

* ``onset.onset_strength`` from a (log-power mel) spectrogram with its defaults (lag 1, no
  maximum filter, centred, no detrending) and a chosen aggregate: :func:`onset_strength`;
* ``autocorrelate`` (through the FFT, scipy's fast length): :func:`autocorrelate`;
* ``feature.tempogram`` (windowed autocorrelation of the onset envelope, max-normalised):
  :func:`tempogram`;
* ``tempo_frequencies`` and ``feature.tempo`` (the mean tempogram weighted by the log-normal
  prior around 120 BPM, nothing above 320 BPM): :func:`tempo`.

Derived from librosa (https://librosa.org), Copyright (c) 2013--2023, librosa development team,
under the ISC licence: see ``LICENSE-librosa.md`` beside this module.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from genre_desktop.features.dsp import frame, hann, normalize


def onset_strength(
    S: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512, aggregate: Callable = np.mean,
    center: bool = True,
) -> np.ndarray:
    """librosa.onset.onset_strength(S=S, ...): the rectified frame-to-frame rise of ``S``
    (bands, frames), aggregated over bands, shifted to line up with the frames (length frames).

    ``S`` is typically a mel spectrogram in dB; ``n_fft``/``hop_length`` only set the centring shift.
    """
    S = np.atleast_2d(S)
    lag = 1
    rise = np.maximum(0.0, S[..., lag:] - S[..., :-lag])
    env = np.empty((*rise.shape[:-2], 1, rise.shape[-1]), dtype=rise.dtype)
    env[..., 0, :] = aggregate(rise, axis=-2)
    pad_width = lag + (n_fft // (2 * hop_length) if center else 0)
    widths = [(0, 0)] * env.ndim
    widths[-1] = (int(pad_width), 0)
    env = np.pad(env, widths, mode="constant")
    if center:
        env = env[..., :S.shape[-1]]
    return env[..., 0, :]


def autocorrelate(y: np.ndarray, axis: int = -1) -> np.ndarray:
    """librosa.autocorrelate of real input along ``axis`` (all lags, via a zero-padded FFT)."""
    import scipy.fft

    n = y.shape[axis]
    n_pad = scipy.fft.next_fast_len(2 * n - 1, real=True)
    spectrum = scipy.fft.rfft(y, n=n_pad, axis=axis)
    power = np.square(spectrum.real) + np.square(spectrum.imag)
    autocorr = scipy.fft.irfft(power, n=n_pad, axis=axis)
    index = [slice(None)] * autocorr.ndim
    index[axis] = slice(n)
    return autocorr[tuple(index)]


def tempogram(onset_envelope: np.ndarray, win_length: int = 384) -> np.ndarray:
    """librosa.feature.tempogram(onset_envelope=...) at its defaults (centred, Hann, max norm):
    (win_length lags, frames)."""
    if win_length < 1:
        raise ValueError("win_length must be a positive integer")
    n = onset_envelope.shape[-1]
    widths = [(0, 0)] * (onset_envelope.ndim - 1) + [(int(win_length // 2),) * 2]
    padded = np.pad(onset_envelope, widths, mode="linear_ramp", end_values=[0, 0])
    frames = np.swapaxes(frame(padded, win_length, 1), -1, -2)[..., :n]  # (..., lag, frame)
    window = hann(win_length)[:, np.newaxis]
    return normalize(autocorrelate(frames * window, axis=-2), norm=np.inf, axis=-2)


_TEMPOGRAM_BLOCK = 64  # frames per block of mean_tempogram


def mean_tempogram(onset_envelope: np.ndarray, win_length: int = 384) -> np.ndarray:
    """``np.mean(tempogram(onset_envelope, win_length), axis=-1)`` of a 1-D envelope: (win_length,).

    Each frame's windowed autocorrelation and its max-normalisation are :func:`tempogram`'s
    arithmetic, but computed on blocks of frames laid out one frame per contiguous row (the FFT
    runs along rows, the normalisation and the sum stay in the cache) and summed block by block,
    instead of the whole (lag, frame) tempogram at once with the FFT along its strided axis. Only
    the order of the final sum differs (float noise, ~1e-16 relative); the tempo, an argmax over
    lags, is the same.
    """
    import scipy.fft

    if win_length < 1:
        raise ValueError("win_length must be a positive integer")
    onset_envelope = np.asarray(onset_envelope)
    n = onset_envelope.shape[-1]
    half = int(win_length // 2)
    padded = np.pad(onset_envelope, (half, half), mode="linear_ramp", end_values=[0, 0])
    frames = frame(padded, win_length, 1)[:n]  # (frame, lag): each frame a contiguous row
    window = hann(win_length)
    n_pad = scipy.fft.next_fast_len(2 * win_length - 1, real=True)
    dtype = np.result_type(frames.dtype, window.dtype)
    threshold = np.finfo(dtype).tiny  # librosa.util.normalize's, as in dsp.normalize
    total = np.zeros(win_length, dtype=dtype)
    block = np.empty((min(_TEMPOGRAM_BLOCK, n), win_length), dtype=dtype)
    for a in range(0, n, _TEMPOGRAM_BLOCK):
        b = min(a + _TEMPOGRAM_BLOCK, n)
        windowed = np.multiply(frames[a:b], window, out=block[: b - a])
        spectrum = scipy.fft.rfft(windowed, n=n_pad, axis=-1)
        power = np.square(spectrum.real)
        power += np.square(spectrum.imag)
        autocorr = scipy.fft.irfft(power, n=n_pad, axis=-1)[:, :win_length]
        if not np.all(np.isfinite(autocorr)):
            raise ValueError("Input must be finite")
        length = np.max(np.abs(autocorr), axis=-1, keepdims=True)
        length[length < threshold] = 1.0
        total += np.sum(autocorr / length, axis=0)
    return total / n


def tempo_frequencies(n_bins: int, hop_length: int = 512, sr: float = 22050) -> np.ndarray:
    """BPM of each tempogram lag (lag 0: infinity): ``librosa.tempo_frequencies``."""
    bins = np.zeros(int(n_bins), dtype=np.float64)
    bins[0] = np.inf
    bins[1:] = 60.0 * sr / (hop_length * np.arange(1.0, n_bins))
    return bins


def tempo(
    onset_envelope: np.ndarray, sr: float = 22050, hop_length: int = 512, *, start_bpm: float = 120,
    std_bpm: float = 1.0, ac_size: float = 8.0, max_tempo: float | None = 320.0,
) -> np.ndarray:
    """librosa.feature.tempo(onset_envelope=...) with its mean aggregate: the global tempo in BPM,
    shape (..., 1).

    The tempogram over ``ac_size`` seconds, averaged over time, weighted by a log-normal prior
    (``start_bpm``, ``std_bpm`` octaves); the best lag below ``max_tempo`` BPM wins.
    """
    if start_bpm <= 0:
        raise ValueError("start_bpm must be strictly positive")
    win_length = int(np.floor(int(ac_size * sr) // hop_length))  # time_to_frames(ac_size)
    if np.ndim(onset_envelope) == 1:
        tg = mean_tempogram(onset_envelope, win_length)[:, np.newaxis]
    else:
        tg = np.mean(tempogram(onset_envelope, win_length), axis=-1, keepdims=True)
    bpms = tempo_frequencies(win_length, hop_length=hop_length, sr=sr)
    logprior = -0.5 * ((np.log2(bpms) - np.log2(start_bpm)) / std_bpm) ** 2
    if max_tempo is not None:
        logprior[:int(np.argmax(bpms < max_tempo))] = -np.inf
    best = np.argmax(np.log1p(1e6 * tg) + logprior[:, np.newaxis], axis=-2)
    return np.take(bpms, best)
