"""The input of a CNN member: a window's log-mel spectrogram cut into fixed-size segments.

PROVISIONAL: a minimal implementation written with the member interface so that the "cnn" kind
can be built and tested; the CNN training work owns this module and replaces it (keeping the name
and signature of :func:`cnn_segments`, which ``inference/members.py`` calls).

``params`` is the ``"mel"`` object of the member's manifest entry: ``sr``, ``n_fft``, ``hop``,
``n_mels``, ``frames``, ``fmax`` and ``log`` (``"db"``: power to dB relative to the maximum,
floored 80 dB below it; ``"log1p"``: log(1 + power)).
"""

from __future__ import annotations

import numpy as np

__all__ = ["cnn_segments"]


def cnn_segments(y: np.ndarray, sr: int, params: dict) -> np.ndarray:
    """Non-overlapping segments (N, 1, n_mels, frames) float32 of the mel spectrogram of ``y``.

    ``y`` mono samples at ``sr`` Hz (resampled to ``params["sr"]`` if different). A spectrogram
    shorter than one segment is zero-padded (in the log domain) to one segment; a partial segment at
    the end is dropped otherwise.
    """
    import librosa

    target = int(params["sr"])
    y = np.asarray(y, dtype=np.float32)
    if sr != target:
        import soxr

        y = soxr.resample(y, sr, target, quality="HQ").astype(np.float32)
    n_fft, hop, n_mels, frames = (int(params[k]) for k in ("n_fft", "hop", "n_mels", "frames"))
    if y.size < n_fft:
        y = np.pad(y, (0, n_fft - y.size))
    power = librosa.feature.melspectrogram(y=y, sr=target, n_fft=n_fft, hop_length=hop, n_mels=n_mels,
                                           fmax=params.get("fmax"))
    log = params.get("log", "db")
    if log == "db":
        spec = librosa.power_to_db(power, ref=np.max, top_db=80.0)
    elif log == "log1p":
        spec = np.log1p(power)
    else:
        raise ValueError(f"unknown mel scaling {log!r}; expected 'db' or 'log1p'")
    n = spec.shape[1] // frames
    if n == 0:
        padded = np.full((n_mels, frames), spec.min() if log == "db" else 0.0, dtype=np.float32)
        padded[:, : spec.shape[1]] = spec
        return padded[None, None].astype(np.float32)
    return np.stack([spec[:, i * frames:(i + 1) * frames] for i in range(n)])[:, None].astype(np.float32)
