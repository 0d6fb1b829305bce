"""Resampling only the part of a window a network reads.

The networks read little of a 30 s window: musicnn two 3 s patches at 16 kHz, EfficientAT one 10 s
excerpt at 32 kHz. :func:`resample_span` gives samples ``[start, start + length)`` of what
resampling the whole window (soxr HQ, as ``librosa.load`` resamples) would give, by resampling a
slice of the input with a margin either side. The slice starts on the two rates' common grid (at
22,050 -> 16,000 Hz every 441 input samples are exactly 320 output samples; -> 32,000 Hz 640), so
the output samples fall on the same instants as the whole resampling's; the margin keeps the
resampler's edge transient out of the span. The values agree with the whole resampling to a few
1e-7 (float32 rounding), at the cost of the span instead of the window.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["MARGIN", "resample_span", "resampled_length"]

MARGIN = 2048  # input samples beyond each end of the span (soxr HQ's transient is far shorter)


def resampled_length(n: int, rate_in: int, rate_out: int) -> int:
    """The number of samples soxr gives for ``n`` input samples (rounded, as ``soxr.resample``)."""
    return int(round(n * rate_out / rate_in)) if n else 0


def resample_span(y: np.ndarray, rate_in: int, rate_out: int, start: int, length: int) -> np.ndarray:
    """Samples ``[start, start + length)`` of ``soxr.resample(y, rate_in, rate_out, "HQ")``, float32;
    zero-padded where the whole resampling ends before the span does."""
    import soxr

    y = np.asarray(y, dtype=np.float32)
    g = math.gcd(int(rate_in), int(rate_out))
    step_in, step_out = rate_in // g, rate_out // g
    total = resampled_length(len(y), rate_in, rate_out)
    start, length = max(0, int(start)), max(0, int(length))
    end = min(total, start + length)
    if end <= start:
        return np.zeros(length, np.float32)
    first = start * rate_in // rate_out  # the input sample at or before the span's first output
    lo = max(0, (first - MARGIN) // step_in * step_in)
    hi = min(len(y), -(-end * rate_in // rate_out) + MARGIN)
    part = soxr.resample(y[lo:hi], rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)
    skip = start - lo // step_in * step_out
    out = part[skip:skip + (end - start)]
    return np.pad(out, (0, length - len(out))) if len(out) < length else out
