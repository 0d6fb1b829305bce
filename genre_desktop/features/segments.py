"""Choosing the parts of a long track to analyse, and telling silence from music.

The bundled models were trained on 30 s clips; a 3 to 10 minute track is analysed as a few such
windows spread over the whole track and their predictions are combined (the study's advice: vote
across segments). Intros and outros are often unrepresentative (silence, applause, a fade), so the
first and last ``edge`` seconds are skipped when the track is long enough to afford it.
"""

from __future__ import annotations

import math

import numpy as np

# Windows may overlap by at most half their length: a closer neighbour adds little information,
# so a track too short for ``n`` windows at that spacing gets fewer.
MIN_STRIDE_FRACTION = 0.5

# RMS level, in dB relative to full scale (a full-scale square wave is 0 dB, a full-scale sine
# -3 dB), below which a window counts as silent. -50 dBFS is about the noise floor of a quiet
# analogue recording and well under the quietest passages of classical music (~-40 dBFS RMS).
SILENCE_THRESHOLD_DB = -50.0


def plan_segments(
    duration: float, n: int, length: float = 30.0, edge: float = 5.0
) -> list[tuple[float, float]]:
    """Up to ``n`` analysis windows ``(start, end)`` in seconds, sorted, spread evenly over a track.

    - A track no longer than ``length`` gives one window covering all of it (a 10 s track: one
      10 s window).
    - Otherwise the usable span is the track minus ``edge`` seconds at each end, or, when the track
      is shorter than ``length + 2 * edge``, minus an equal margin at each end that leaves exactly
      ``length`` seconds (a 35 s track: one window from 2.5 s to 32.5 s, centred).
    - Windows of ``length`` are spread evenly over the usable span, the first starting at its
      start and the last ending at its end. They overlap only as far as fitting ``n`` of them
      requires, and never by more than half a window: a shorter span gets fewer windows.

    ``duration <= 0`` gives no windows. Raises ValueError for ``n < 1``, ``length <= 0`` or
    ``edge < 0``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if length <= 0:
        raise ValueError(f"length must be positive, got {length}")
    if edge < 0:
        raise ValueError(f"edge must not be negative, got {edge}")
    if not math.isfinite(duration) or duration <= 0:
        return []
    if duration <= length:
        return [(0.0, float(duration))]

    margin = min(edge, (duration - length) / 2)
    first_start = margin
    last_start = duration - margin - length
    room = last_start - first_start  # >= 0
    count = min(n, 1 + int(math.floor(room / (length * MIN_STRIDE_FRACTION) + 1e-9)))
    if count == 1:
        # The single window sits in the middle of the usable span.
        start = first_start + room / 2
        return [(start, start + length)]
    stride = room / (count - 1)
    return [(first_start + i * stride, first_start + i * stride + length) for i in range(count)]


def rms_db(y: np.ndarray) -> float:
    """RMS level of ``y`` in dB relative to full scale (1.0); ``-inf`` for silence or no samples."""
    y = np.asarray(y)
    if y.size == 0:
        return float("-inf")
    energy = float(np.mean(np.square(y, dtype=np.float64)))
    if energy <= 0.0:
        return float("-inf")
    return 10.0 * math.log10(energy)


def is_silent(y: np.ndarray, threshold_db: float = SILENCE_THRESHOLD_DB) -> bool:
    """Whether the RMS level of ``y`` is below ``threshold_db`` dBFS (see SILENCE_THRESHOLD_DB).

    An empty window is silent. Samples are floats with full scale 1.0, as the decoder yields them.
    """
    return rms_db(y) < threshold_db
