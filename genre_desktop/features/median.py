"""An exact running median along one axis, for HPSS: many short rows filtered side by side.

HPSS filters a 1025 x 1293 magnitude spectrogram twice with a 31-wide median (along time, then
along frequency). scipy's 1-D running median costs ~40 ns per value (~95 ms per 30 s window, half
of the feature extraction); a sorted window updated one value at a time is no faster when it runs
row after row, because each update is a short data-dependent loop.

Here the sorted windows of a block of neighbouring rows ("lanes") are updated together, with no
data-dependent branch, so the compiler vectorises across lanes. For a sorted window ``s`` leaving
value ``old`` and taking value ``new``:

* removing ``old``: ``t[i] = s[i] if s[i] < old else s[i + 1]`` (every position from the first copy
  of ``old`` on shifts left; with ties any copy is the same value);
* inserting ``new`` into ``t``: ``u[i] = min(max(new, t[i - 1]), t[i])``, with ``t[-1] = -inf``
  and ``t[w - 1] = +inf``;

and the median is ``u[w // 2]``. Only comparisons and copies: the result is the exact median, equal
value for value to scipy's and librosa's (for NaN-free input; NaNs do not order).

The kernel is the C extension ``_median`` (``_median.c``, built by ``setup.py``; 12-20 ms per window with AVX-512 or AVX2).
An install built without a C compiler has no extension: then scipy's 1-D running median filters
the columns laid end to end (same values, ~4x the time), logged once, and
:func:`implementation` says which one runs (``genre-desktop-cli doctor`` shows it).
"""

from __future__ import annotations

import logging

import numpy as np

try:
    from genre_desktop.features import _median
except ImportError:  # built without a C compiler (setup.py's extension is optional)
    _median = None

log = logging.getLogger(__name__)

_fallback_logged = False


def implementation() -> str:
    """Which running median this install uses, in words (for ``doctor`` and the logs)."""
    if _median is not None:
        return "C extension (vectorised)"
    return "scipy (slower: the C extension was not built; reinstall with a C compiler)"


def median_filter_axis0(x: np.ndarray, width: int) -> np.ndarray:
    """``scipy.ndimage.median_filter(x, size=(width, 1), mode="reflect")`` for a NaN-free 2-D array.

    Filters each column of ``x`` (float32 or float64; best C-contiguous, so that a row's lanes are
    adjacent in memory). scipy's "reflect" is numpy's "symmetric" padding (the edge value repeats).
    Raises ValueError for an even or non-positive ``width``, or input that is not 2-D.
    """
    if width < 1 or width % 2 == 0:
        raise ValueError(f"median width must be odd and positive, got {width}")
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array, got shape {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    half = width // 2
    out = np.empty(x.shape, dtype=x.dtype)
    if x.size == 0:
        return out
    # scipy's "reflect" repeats the axis mirrored (a b | b a | a b ...), also past a short axis.
    period = np.arange(-half, x.shape[0] + half) % (2 * x.shape[0])
    rows = np.where(period < x.shape[0], period, 2 * x.shape[0] - 1 - period).astype(np.int64)
    if _median is not None:
        _median.running_median(np.ascontiguousarray(x), rows, width, out)
        return out
    return _scipy_median(x, rows, width)


def _scipy_median(x: np.ndarray, rows: np.ndarray, width: int) -> np.ndarray:
    """The same filter with scipy's 1-D running median (its 2-D filter sorts every window: 20x slower).

    Each column, padded by ``rows``, becomes a row; the rows are laid end to end and filtered as one
    signal, and the padding is cut off again: a kept value's window never leaves its own column,
    so the result is the same, value for value.
    """
    global _fallback_logged
    if not _fallback_logged:
        _fallback_logged = True
        log.info("running median: %s", implementation())
    import scipy.ndimage

    half = width // 2
    lanes = np.ascontiguousarray(x[rows].T)  # (columns, rows + padding)
    filtered = scipy.ndimage.median_filter(lanes.ravel(), size=width, mode="constant").reshape(lanes.shape)
    return np.ascontiguousarray(filtered[:, half:half + x.shape[0]].T)
