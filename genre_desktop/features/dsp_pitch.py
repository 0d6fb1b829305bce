"""Chroma and tuning in plain numpy: librosa's values without librosa (see :mod:`.dsp`).

Reproduces these functions of librosa 0.11, value for value:

* ``hz_to_octs``; ``filters.chroma`` (Gaussian bumps around each pitch class, column-normalised,
  weighted around octave 5, C first): :func:`chroma_filters`;
* ``feature.chroma_stft`` from a power spectrogram with a given tuning: :func:`chroma_stft`;
* ``util.localmax`` (its numba stencil: never the first element, the last if above its
  neighbour): :func:`localmax`;
* ``pitch_tuning`` (the histogram of pitch deviations from the equal-tempered grid):
  :func:`pitch_tuning`. ``estimate_tuning`` itself is ``features/gtzan.py``'s band-limited
  ``_estimate_tuning``, built from these.

Derived from librosa (https://librosa.org), Copyright (c) 2013--2023, librosa development team,
under the ISC licence: see ``LICENSE-librosa.md`` beside this module.
"""

from __future__ import annotations

import functools
import logging

import numpy as np

from genre_desktop.features.dsp import normalize

log = logging.getLogger(__name__)


def hz_to_octs(frequencies, tuning: float = 0.0, bins_per_octave: int = 12) -> np.ndarray:
    """Octave numbers of frequencies (A440 = octave 4.75, shifted by ``tuning`` bins)."""
    a440 = 440.0 * 2.0 ** (tuning / bins_per_octave)
    return np.log2(np.asanyarray(frequencies) / (float(a440) / 16))


@functools.lru_cache(maxsize=64)
def _chroma_filters(sr: float, n_fft: int, n_chroma: int, tuning: float) -> np.ndarray:
    frequencies = np.linspace(0, sr, n_fft, endpoint=False)[1:]
    frqbins = n_chroma * hz_to_octs(frequencies, tuning=tuning, bins_per_octave=n_chroma)
    # The 0 Hz bin gets a made-up value 1.5 octaves below bin 1 (half a rotation, broad).
    frqbins = np.concatenate(([frqbins[0] - 1.5 * n_chroma], frqbins))
    binwidthbins = np.concatenate((np.maximum(frqbins[1:] - frqbins[:-1], 1.0), [1]))
    D = np.subtract.outer(frqbins, np.arange(0, n_chroma, dtype="d")).T
    n_chroma2 = np.round(float(n_chroma) / 2)
    # Into -n_chroma/2 .. n_chroma/2 (the offset keeps remainder's arguments positive).
    D = np.remainder(D + n_chroma2 + 10 * n_chroma, n_chroma) - n_chroma2
    wts = np.exp(-0.5 * (2 * D / np.tile(binwidthbins, (n_chroma, 1))) ** 2)
    wts = normalize(wts, norm=2, axis=0)
    ctroct, octwidth = 5.0, 2
    wts *= np.tile(np.exp(-0.5 * (((frqbins / n_chroma - ctroct) / octwidth) ** 2)), (n_chroma, 1))
    wts = np.roll(wts, -3 * (n_chroma // 12), axis=0)  # start at C
    bank = np.ascontiguousarray(wts[:, :int(1 + n_fft / 2)], dtype=np.float32)
    bank.flags.writeable = False
    return bank


def chroma_filters(sr: float, n_fft: int, n_chroma: int = 12, tuning: float = 0.0) -> np.ndarray:
    """librosa.filters.chroma at its defaults: float32 (n_chroma, 1 + n_fft // 2), read-only."""
    return _chroma_filters(float(sr), int(n_fft), int(n_chroma), float(tuning))


def chroma_stft(S: np.ndarray, sr: float, tuning: float, n_chroma: int = 12) -> np.ndarray:
    """librosa.feature.chroma_stft(S=S, sr=sr, tuning=tuning): ``S`` is a power spectrogram
    (bins, frames); each frame's chroma is scaled so its largest pitch class is 1."""
    n_fft = 2 * (S.shape[-2] - 1)
    bank = chroma_filters(sr, n_fft, n_chroma, tuning)
    raw = np.einsum("cf,...ft->...ct", bank, S, optimize=True)
    return normalize(raw, norm=np.inf, axis=-2)


def localmax(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """librosa.util.localmax: ``x[i] > x[i - 1]`` and ``x[i] >= x[i + 1]`` along ``axis``.

    As librosa's stencil: the first element is never a maximum, the last one is when it exceeds
    the one before.
    """
    x = np.asarray(x)
    xi = np.moveaxis(x, axis, -1)
    out = np.zeros(xi.shape, dtype=bool)
    if xi.shape[-1] >= 3:
        middle = xi[..., 1:-1]
        out[..., 1:-1] = (middle > xi[..., :-2]) & (middle >= xi[..., 2:])
    if xi.shape[-1] >= 2:
        out[..., -1] = xi[..., -1] > xi[..., -2]
    return np.moveaxis(out, -1, axis)


def pitch_tuning(frequencies, resolution: float = 0.01, bins_per_octave: int = 12) -> float:
    """librosa.pitch_tuning: the most common deviation (in bins, -0.5..0.5) from the tuned grid.

    Returns 0.0 when no frequency is positive (librosa warns; logged here).
    """
    frequencies = np.atleast_1d(frequencies)
    frequencies = frequencies[frequencies > 0]
    if not np.any(frequencies):
        log.debug("no pitch to estimate the tuning from: 0")
        return 0.0
    residual = np.mod(bins_per_octave * hz_to_octs(frequencies), 1.0)
    residual[residual >= 0.5] -= 1.0  # 0.95 is more likely -0.05 from the next tone up
    bins = np.linspace(-0.5, 0.5, int(np.ceil(1.0 / resolution)) + 1)
    counts, tuning = np.histogram(residual, bins)
    return float(tuning[np.argmax(counts)])
