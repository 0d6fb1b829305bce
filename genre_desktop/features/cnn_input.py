"""The input of the mel-spectrogram CNN members: log-mel segments, one code path for training and
inference.

``cnn_segments(y, sr, params)`` turns a window of mono samples into a batch of log-mel segments
``(N, 1, n_mels, frames)`` float32, the layout the exported ONNX model takes. ``params`` is stored
in the model's sidecar (``models/cnn.meta.json``, key ``mel``) so the app computes exactly what the
model was trained on:

- ``sr``: the rate the spectrogram is computed at; other input rates are resampled with soxr
  ("soxr_hq", as ``audio.decode`` and ``librosa.load`` do);
- ``n_fft``, ``hop``: STFT size and hop (centred Hann frames, constant padding, as librosa's
  defaults);
- ``n_mels``, ``fmax``: Slaney mel filter bank from 0 Hz to ``fmax`` Hz (power spectrum);
- ``frames``: frames per segment; segments do not overlap and a partial segment at the end is
  dropped; audio shorter than one segment is padded with silence to exactly one;
- ``log``: ``"db"`` = ``10 * log10(max(mel, 1e-10))`` against a fixed reference (not the window's
  maximum), so a segment's values do not depend on the rest of the window; silence is -100 dB.

Training (``tools/train_cnn.py``) cuts random crops out of ``log_mel`` of whole clips, which is the
same computation as the segments here up to the few padded frames at a window's edges.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

PARAM_KEYS = ("sr", "n_fft", "hop", "n_mels", "frames", "fmax", "log")
LOG_SCALES = ("db",)
DB_FLOOR = -100.0  # 10 * log10(1e-10): the value of digital silence


def check_params(params: dict) -> None:
    """Raise ValueError unless ``params`` holds every key of PARAM_KEYS with a usable value."""
    missing = [k for k in PARAM_KEYS if k not in params]
    if missing:
        raise ValueError(f"cnn input params lack {missing}")
    for key in ("sr", "n_fft", "hop", "n_mels", "frames"):
        if int(params[key]) < 1:
            raise ValueError(f"cnn input param {key} must be positive, got {params[key]!r}")
    if not 0 < float(params["fmax"]) <= int(params["sr"]) / 2:
        raise ValueError(f"cnn input fmax {params['fmax']!r} must lie in (0, sr/2]")
    if params["log"] not in LOG_SCALES:
        raise ValueError(f"cnn input log scale {params['log']!r} is not one of {LOG_SCALES}")


@lru_cache(maxsize=8)
def _mel_basis(sr: int, n_fft: int, n_mels: int, fmax: float) -> tuple[np.ndarray, int]:
    """librosa's Slaney mel filter bank, transposed and cut to the FFT bins it uses.

    Returns (float32 (bins, n_mels) C-contiguous, bins): the bank is zero above ``fmax``, so the
    bins above it are never squared nor multiplied (a third of the work for fmax = 8 kHz at 22 kHz).
    """
    from genre_desktop.features import dsp

    bank = dsp.mel_filters(sr, n_fft, n_mels, fmin=0.0, fmax=fmax, dtype=np.float32)
    used = np.nonzero(bank.any(axis=0))[0]
    bins = int(used[-1]) + 1 if used.size else 1
    return np.ascontiguousarray(bank[:, :bins].T), bins


@lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    from genre_desktop.features import dsp

    return dsp.hann(n_fft).astype(np.float32)


def _as_mono(y: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    y = np.ascontiguousarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if y.size and sr != target_sr:
        import soxr

        y = np.ascontiguousarray(soxr.resample(y, sr, target_sr, quality="HQ"), dtype=np.float32)
    return y


_BLOCK_FRAMES = 100  # frames per block of log_mel


def log_mel(y: np.ndarray, sr: int, params: dict) -> np.ndarray:
    """The log-mel spectrogram of mono samples, float32 (n_mels, frames) with frames = 1 + len // hop.

    ``y`` at ``sr`` Hz is resampled to ``params["sr"]`` first if the rates differ. Empty input
    gives zero frames.
    """
    check_params(params)
    target_sr, n_fft, hop = int(params["sr"]), int(params["n_fft"]), int(params["hop"])
    y = _as_mono(y, int(sr), target_sr)
    n_mels = int(params["n_mels"])
    if y.size == 0:
        return np.zeros((n_mels, 0), np.float32)
    if y.size < n_fft:  # below one FFT window librosa warns; silence-padding changes nothing else
        y = np.pad(y, (0, n_fft - y.size))
    # librosa.stft's defaults (centred Hann frames, constant padding), computed time-major so the
    # frames, the FFT and the mel product all run on contiguous rows: librosa's frequency-major
    # layout made the mel product several times slower than the FFT itself.
    padded = np.pad(y, n_fft // 2)
    n_frames = 1 + (padded.size - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(
        padded, shape=(n_frames, n_fft), strides=(padded.strides[0] * hop, padded.strides[0]), writeable=False
    )
    bank_t, bins = _mel_basis(target_sr, n_fft, n_mels, float(params["fmax"]))
    import scipy.fft

    # In blocks of frames windowed into one reused buffer and reduced to mel bands while in the
    # cache: the whole spectrogram at once built ~5 MB intermediates per 30 s window that
    # page-fault and leave the cache (as in features/efficientat_input.py; the same arithmetic per
    # frame, so the same result bit for bit).
    window = _window(n_fft)
    mel = np.empty((n_frames, n_mels), dtype=np.float32)
    block = np.empty((min(_BLOCK_FRAMES, n_frames), n_fft), dtype=np.float32)
    for a in range(0, n_frames, _BLOCK_FRAMES):
        b = min(a + _BLOCK_FRAMES, n_frames)
        windowed = np.multiply(frames[a:b], window, out=block[: b - a])
        spectrum = scipy.fft.rfft(windowed, axis=1)[:, :bins]
        power = np.square(spectrum.real)
        power += np.square(spectrum.imag)
        np.matmul(power, bank_t, out=mel[a:b])  # (frames, n_mels)
    np.maximum(mel, np.float32(1e-10), out=mel)
    db = np.log10(mel, out=mel)
    db *= np.float32(10.0)
    return np.ascontiguousarray(db.T, dtype=np.float32)


def segment(spec: np.ndarray, frames: int) -> np.ndarray:
    """Cut a (n_mels, T) spectrogram into non-overlapping (N, 1, n_mels, frames) segments.

    A partial last segment is dropped; fewer than ``frames`` frames are padded with silence
    (DB_FLOOR) to one segment.
    """
    n_mels, total = spec.shape
    if total < frames:
        padded = np.full((n_mels, frames), DB_FLOOR, dtype=np.float32)
        padded[:, :total] = spec
        spec, total = padded, frames
    n = total // frames
    out = spec[:, : n * frames].reshape(n_mels, n, frames).transpose(1, 0, 2)
    return np.ascontiguousarray(out[:, None, :, :], dtype=np.float32)


def cnn_segments(y: np.ndarray, sr: int, params: dict) -> np.ndarray:
    """Log-mel segments of a window of mono samples for a CNN member, float32 (N, 1, n_mels, frames).

    ``y``: mono samples at ``sr`` Hz (the app decodes at 22050 Hz). Empty input raises ValueError:
    there is nothing to classify.
    """
    if np.asarray(y).size == 0:
        raise ValueError("no audio samples")
    return segment(log_mel(y, sr, params), int(params["frames"]))
