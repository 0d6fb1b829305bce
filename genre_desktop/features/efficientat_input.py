"""The input of the EfficientAT network (mn04_as), computed in numpy without torch.

Reproduces ``AugmentMelSTFT`` of EfficientAT (``models/preprocess.py`` at commit a425fdce) in eval
mode, i.e. with no frequency or time masking and no random shift of the band edges:

1. 32 kHz mono samples (the caller resamples; AudioSet was decoded at 32 kHz);
2. pre-emphasis ``y[n] = x[n + 1] - 0.97 * x[n]`` (a 2-tap convolution without padding: the
   output is one sample shorter than the input);
3. ``torch.stft(n_fft=1024, hop_length=320, win_length=800, center=True)``: reflect padding of
   512 samples on each side, a *symmetric* Hann window of 800 samples
   (``torch.hann_window(800, periodic=False)``) centred in the 1024-point frame; power spectrum
   (513 bins). Frames: ``1 + (n - 1) // 320`` for ``n`` input samples (1000 for 10 s);
4. Kaldi's triangular mel filters (``torchaudio.compliance.kaldi.get_mel_banks``: mel =
   1127 ln(1 + f / 700), 128 bands between fmin 0 Hz and fmax 15 kHz, triangles in the mel domain,
   peak 1, no area normalisation, computed on the 512 bins below Nyquist; the Nyquist bin gets a
   zero weight). fmax 15 kHz is EfficientAT's default: ``sr // 2 - fmax_aug_range // 2`` with
   ``fmax_aug_range`` 2000;
5. ``log(mel + 1e-5)``, then ``(x + 4.5) / 5``.

The network was trained on 10 s AudioSet clips (shorter ones zero-padded to 10 s), so the app
runs it on 10 s excerpts: :func:`excerpt_starts` spreads them over a window, :func:`excerpts`
builds the batch ``(N, 1, 128, 1000)`` the exported ONNX model takes.

Numerics: everything in float32 as torch does; differences to the torch front end are of the
order of 1e-5 (``tests/test_efficientat.py``). The window is zero outside its 800 central
samples, so only those are transformed (zero-padded to 1024 points at the end instead of the
centre: a shift changes the phase of each bin, not its power).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

__all__ = [
    "EXCERPT_FRAMES", "EXCERPT_SAMPLES", "PARAMS", "RECIPE_VERSION", "SAMPLE_RATE",
    "excerpt_starts", "excerpts", "log_mel", "mel_basis", "n_frames",
]

RECIPE_VERSION = "efficientat-logmel-1"  # stored in the model's meta json / manifest entry
SAMPLE_RATE = 32000
N_FFT = 1024
WIN_LENGTH = 800
HOP_LENGTH = 320
N_MELS = 128
FMIN = 0.0
FMAX = 15000.0
PREEMPHASIS = 0.97
LOG_OFFSET = 1e-5
SHIFT = 4.5
SCALE = 5.0
EXCERPT_SECONDS = 10.0
EXCERPT_SAMPLES = int(EXCERPT_SECONDS * SAMPLE_RATE)  # 320,000
_BLOCK_FRAMES = 100  # frames per block of log_mel (see there)
SPARE_FRACTION = 0.1  # up to a tenth of an excerpt (1 s) may go unheard rather than add an excerpt

# What a manifest entry records about this input, so a reader can check it is computing the same.
PARAMS = {
    "sample_rate": SAMPLE_RATE,
    "channels": 1,
    "preemphasis": PREEMPHASIS,
    "n_fft": N_FFT,
    "win_length": WIN_LENGTH,
    "window": "symmetric Hann (torch.hann_window(800, periodic=False)) centred in the 1024-point frame",
    "hop_length": HOP_LENGTH,
    "center": "reflect padding of n_fft // 2 samples (torch.stft center=True)",
    "power": 2,
    "n_mels": N_MELS,
    "fmin": FMIN,
    "fmax": FMAX,
    "mel": "Kaldi triangular filters (torchaudio.compliance.kaldi.get_mel_banks, no VTLN warp), "
           "mel = 1127 ln(1 + f / 700), peak 1, Nyquist bin weighted 0",
    "log": "ln(mel + 1e-5)",
    "normalisation": "(x + 4.5) / 5",
    "excerpt_seconds": EXCERPT_SECONDS,
    "excerpt_frames": None,  # filled below
    "excerpts": "ceil(n / 10 s - 0.1) excerpts (at least 1) spread evenly from the start to the end",
    "short_audio": "zero-padded at the end to one excerpt (as EfficientAT's AudioSet loader)",
    "code": "genre_desktop.features.efficientat_input.excerpts",
}


def n_frames(n_samples: int) -> int:
    """Spectrogram frames of ``n_samples`` samples (pre-emphasis drops one, then centred frames)."""
    return 1 + (max(int(n_samples), 2) - 1) // HOP_LENGTH


EXCERPT_FRAMES = n_frames(EXCERPT_SAMPLES)  # 1000
PARAMS["excerpt_frames"] = EXCERPT_FRAMES


@lru_cache(maxsize=1)
def mel_basis() -> np.ndarray:
    """Kaldi-style mel filter bank, float32 (128, 513): rows are bands, columns FFT bins.

    Computed as torchaudio computes it, in float32 step by step, so the weights are the network's
    own bit for bit. That matters: at a triangle's foot a weight is the difference of two mel
    values near 2000 whose float32 spacing is 1.2e-4, so a bank computed in float64 differs by up
    to 0.2 % in such weights, which moved the log-mel by up to 1e-4. torch's float32 logarithm is
    correctly rounded here, which a float64 logarithm rounded to float32 reproduces.
    """
    f32 = np.float32

    def mel(freq: np.ndarray) -> np.ndarray:
        arg = f32(1.0) + freq / f32(700.0)
        return f32(1127.0) * np.log(arg.astype(np.float64)).astype(np.float32)

    mel_low = 1127.0 * math.log(1.0 + FMIN / 700.0)
    mel_high = 1127.0 * math.log(1.0 + FMAX / 700.0)
    delta = f32((mel_high - mel_low) / (N_MELS + 1))
    band = np.arange(N_MELS, dtype=np.float32)[:, None]
    left = f32(mel_low) + band * delta
    centre = f32(mel_low) + (band + f32(1.0)) * delta
    right = f32(mel_low) + (band + f32(2.0)) * delta
    fft_mel = mel(f32(SAMPLE_RATE / N_FFT) * np.arange(N_FFT // 2, dtype=np.float32))[None, :]
    up = (fft_mel - left) / (centre - left)
    down = (right - fft_mel) / (right - centre)
    bank = np.maximum(f32(0.0), np.minimum(up, down))
    return np.ascontiguousarray(np.pad(bank, ((0, 0), (0, 1))), dtype=np.float32)


@lru_cache(maxsize=1)
def _used_bins() -> tuple[np.ndarray, int]:
    """The bank transposed and cut to the bins it weighs (all below 15 kHz: 481 of 513), (bins, 128)."""
    bank = mel_basis()
    used = np.nonzero(bank.any(axis=0))[0]
    last = int(used[-1]) + 1
    return np.ascontiguousarray(bank[:, :last].T), last


_BAND_GROUP = 16  # mel bands per product of log_mel (see _band_groups)


@lru_cache(maxsize=1)
def _band_groups() -> tuple[tuple[int, int, int, np.ndarray], ...]:
    """The bank in groups of 16 neighbouring bands, each with the only bins it weighs:
    (first band, first bin, end bin, weights (end - first bin, 16)). A triangle covers a few bins,
    so the groups' products do 1/8 of the full (bins, 128) product's work (1.0 -> 0.22 ms per 10 s
    excerpt); they sum the same non-zero terms, in another order (~3e-7 relative)."""
    bank_t, _ = _used_bins()
    groups = []
    for first in range(0, N_MELS, _BAND_GROUP):
        weights = bank_t[:, first:first + _BAND_GROUP]
        rows = np.flatnonzero(weights.any(axis=1))
        lo, hi = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 0)
        groups.append((first, lo, hi, np.ascontiguousarray(weights[lo:hi])))
    return tuple(groups)


@lru_cache(maxsize=1)
def _window() -> np.ndarray:
    n = np.arange(WIN_LENGTH, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / (WIN_LENGTH - 1))).astype(np.float32)


def log_mel(y32k: np.ndarray) -> np.ndarray:
    """The network's input spectrogram of mono 32 kHz samples, float32 (128, frames).

    At least 2 samples are needed (pre-emphasis takes one; reflect padding needs more than 512
    after it, so shorter input is zero-padded to 514 samples first, which only adds frames of
    digital silence at the end).
    """
    import scipy.fft

    y = np.asarray(y32k, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("no audio samples")
    if y.size < N_FFT // 2 + 2:
        y = np.pad(y, (0, N_FFT // 2 + 2 - y.size))
    pre = y[1:] - np.float32(PREEMPHASIS) * y[:-1]
    frames = 1 + (pre.size - 1) // HOP_LENGTH if pre.size else 0
    padded = np.pad(pre, N_FFT // 2, mode="reflect")
    offset = (N_FFT - WIN_LENGTH) // 2  # the window's first non-zero sample in each frame
    view = np.lib.stride_tricks.sliding_window_view(padded[offset:], WIN_LENGTH)[::HOP_LENGTH][:frames]
    _, bins = _used_bins()
    groups = _band_groups()
    window = _window()
    mel = np.empty((frames, N_MELS), dtype=np.float32)
    # Blocks of frames, each windowed into one reused zero-padded buffer, transformed, squared and
    # weighed while it is in the cache: 5 ms per 10 s excerpt against 9.5 ms for the whole
    # spectrogram at once (its 4 MB intermediates page-fault and leave the cache; measured, one
    # core). Every frame's arithmetic is the same, so the result is identical bit for bit.
    block = np.zeros((min(_BLOCK_FRAMES, frames), N_FFT), dtype=np.float32)
    for a in range(0, frames, _BLOCK_FRAMES):
        b = min(a + _BLOCK_FRAMES, frames)
        framed = block[: b - a]
        np.multiply(view[a:b], window, out=framed[:, :WIN_LENGTH])
        spectrum = scipy.fft.rfft(framed, axis=1, workers=1)[:, :bins]
        power = spectrum.real * spectrum.real
        power += spectrum.imag * spectrum.imag
        for first, lo, hi, weights in groups:  # (frames, 128), 16 bands at a time
            np.matmul(power[:, lo:hi], weights, out=mel[a:b, first:first + weights.shape[1]])
    out = np.log(mel + np.float32(LOG_OFFSET))
    out += np.float32(SHIFT)
    out /= np.float32(SCALE)
    return np.ascontiguousarray(out.T)


def excerpt_starts(n_samples: int, max_excerpts: int | None = None) -> list[int]:
    """First sample of each 10 s excerpt of ``n_samples`` samples at 32 kHz.

    Excerpts are spread evenly from the start to the end (the last one ends at the last sample;
    for 30 s: 0, 10 and 20 s). Their number is the number of 10 s that fit, rounded up unless
    less than 1 s is left over (a 30.01 s GTZAN clip gets 3, not a fourth excerpt that would be
    nine tenths repeat; 25 s gets 3 overlapping ones; 30.9 s gets 3 with 0.45 s unheard between
    them). Audio shorter than one excerpt gives one excerpt at 0 (zero-padded). ``max_excerpts``:
    at most that many, still spread over the whole audio (None: no limit; 1: the middle 10 s).
    """
    n = int(n_samples)
    if n <= EXCERPT_SAMPLES:
        return [0]
    count = max(1, math.ceil(n / EXCERPT_SAMPLES - SPARE_FRACTION))
    if max_excerpts is not None:
        count = max(1, min(count, int(max_excerpts)))
    if count == 1:
        return [(n - EXCERPT_SAMPLES) // 2]
    return [int(round(s)) for s in np.linspace(0, n - EXCERPT_SAMPLES, count)]


def excerpts(y32k: np.ndarray, max_excerpts: int | None = None) -> np.ndarray:
    """The network's input batch for mono 32 kHz samples: float32 (N, 1, 128, 1000).

    One row per 10 s excerpt of :func:`excerpt_starts`; audio shorter than 10 s is zero-padded at
    the end to 10 s, as the network's training data was.
    """
    y = np.asarray(y32k, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("no audio samples")
    if y.size < EXCERPT_SAMPLES:
        y = np.pad(y, (0, EXCERPT_SAMPLES - y.size))
    batch = [log_mel(y[s:s + EXCERPT_SAMPLES]) for s in excerpt_starts(y.size, max_excerpts)]
    return np.stack(batch)[:, None, :, :]
