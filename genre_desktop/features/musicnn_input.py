"""The input of the musicnn networks, computed without TensorFlow or musicnn.

Reproduces ``musicnn.extractor.batch_data`` (musicnn 0.1.0):

1. 16 kHz mono samples (the caller decodes at 16 kHz: ``audio.decode(path, sr=16000)`` equals
   musicnn's ``librosa.load(path, sr=16000)``);
2. ``librosa.feature.melspectrogram(y, sr=16000, hop_length=256, n_fft=512, n_mels=96).T``:
   power spectrogram of centred Hann frames, Slaney mel filters;
3. ``log10(10000 * mel + 1)``;
4. patches of 187 frames (3 s), the next patch starting ``hop_patches`` frames later (187, i.e.
   no overlap, is musicnn's default); a partial patch at the end is dropped, as musicnn does.

Two deliberate differences from musicnn's code:

- musicnn casts the mel spectrogram to float16 before scaling. Under numpy 2 ``10000 * x`` then
  stays float16 and overflows to inf for loud frames (numpy 1 silently promoted it to float32).
  Here everything is float32 from the start; the float16 rounding musicnn applied changes the
  log-mel values by at most about 2e-4, far below what moves the network's outputs.
- musicnn fails on audio shorter than one patch (it builds no batch at all). Here such audio is
  zero-padded at the end, in the log-mel domain (0 = digital silence), to exactly one patch, so
  every non-empty input yields at least one patch.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from genre_desktop.features import dsp

RECIPE_VERSION = "musicnn-logmel-1"  # stored in the models' sidecars / manifest as feature_recipe
SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3 s) + 1, musicnn's n_frames for input_length=3


@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    """librosa's default (Slaney) mel filter bank for musicnn's settings, float32 (96, 257)."""
    return dsp.mel_filters(SAMPLE_RATE, N_FFT, N_MELS, dtype=np.float32)


def log_mel(y16k: np.ndarray) -> np.ndarray:
    """musicnn's log-mel spectrogram, float32 (frames, 96); frames = 1 + len(y) // 256."""
    y = np.ascontiguousarray(y16k, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("no audio samples")
    if y.size < N_FFT:  # below one FFT window librosa warns; silence-padding changes nothing else
        y = np.pad(y, (0, N_FFT - y.size))
    # Same as librosa.feature.melspectrogram's defaults (centre, constant padding, Hann, power 2),
    # with the filter bank built once instead of per call.
    spec = np.abs(dsp.stft(y, N_FFT, HOP_LENGTH)) ** 2
    mel = _mel_basis() @ spec
    return np.log10(np.float32(10000.0) * mel.T + np.float32(1.0))


def patch_starts(n_frames: int, hop_patches: int = PATCH_FRAMES) -> list[int]:
    """First frame of each patch for a spectrogram of ``n_frames`` frames (musicnn's windowing)."""
    if hop_patches < 1:
        raise ValueError("hop_patches must be at least 1")
    if n_frames < PATCH_FRAMES:
        return [0]  # one zero-padded patch
    return list(range(0, n_frames - PATCH_FRAMES + 1, hop_patches))


def n_patches(n_samples: int, hop_patches: int = PATCH_FRAMES) -> int:
    """How many patches :func:`musicnn_patches` cuts from ``n_samples`` samples at 16 kHz."""
    return len(patch_starts(1 + max(int(n_samples), N_FFT) // HOP_LENGTH, hop_patches))


def musicnn_patches(y16k: np.ndarray, hop_patches: int = PATCH_FRAMES, which=None) -> np.ndarray:
    """Log-mel patches for musicnn, float32 [n_patches, 187, 96].

    ``y16k``: mono samples at 16 kHz. ``hop_patches``: frames between patch starts (187 = none
    overlapping, 3 s apart). A 30 s clip gives 10 patches. ``which``: the indices of the patches
    wanted (None: all), e.g. 2 of 10 for the analysis; only their frames are computed (each frame
    depends on its own 512 samples only, so the values are the same, bit for bit, as cutting them
    from the whole spectrogram: ~3 ms instead of ~9 for 2 patches of a 30 s window).
    """
    y = np.ascontiguousarray(y16k, dtype=np.float32)
    total = n_patches(y.size, hop_patches)
    chosen = np.arange(total) if which is None else np.asarray(which, dtype=int).reshape(-1)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= total):
        raise IndexError(f"patches {chosen.tolist()} asked of {total}")
    if chosen.size == 0:
        return np.zeros((0, PATCH_FRAMES, N_MELS), dtype=np.float32)
    if which is not None and y.ndim == 1 and y.size >= PATCH_FRAMES * HOP_LENGTH:
        return _patches_at(y, [patch_starts(1 + y.size // HOP_LENGTH, hop_patches)[i] for i in chosen])
    spec = log_mel(y)
    if spec.shape[0] < PATCH_FRAMES:
        padded = np.zeros((PATCH_FRAMES, N_MELS), dtype=np.float32)
        padded[: spec.shape[0]] = spec
        spec = padded
    starts = patch_starts(spec.shape[0], hop_patches)
    return np.stack([spec[starts[i] : starts[i] + PATCH_FRAMES] for i in chosen]).astype(np.float32, copy=False)


def _patches_at(y: np.ndarray, starts: list[int]) -> np.ndarray:
    """The log-mel patches starting at frames ``starts`` of ``log_mel(y)``, computing only their frames.

    Frame f of the centred STFT is the 512 samples from f * 256 of ``y`` zero-padded by 256 on each
    side; a patch's frames are those of its own stretch of samples, uncentred.
    """
    padded = np.pad(y, N_FFT // 2)
    span = (PATCH_FRAMES - 1) * HOP_LENGTH + N_FFT
    stretches = np.stack([padded[s * HOP_LENGTH : s * HOP_LENGTH + span] for s in starts])
    spec = np.abs(dsp.stft(stretches, N_FFT, HOP_LENGTH, center=False)) ** 2
    mel = _mel_basis() @ spec
    return np.log10(np.float32(10000.0) * np.swapaxes(mel, -1, -2) + np.float32(1.0))


def patch_times(n_patches: int, hop_patches: int = PATCH_FRAMES) -> list[tuple[float, float]]:
    """(start, end) seconds of each patch, for per-patch displays (frame i is centred at i*hop)."""
    seconds = HOP_LENGTH / SAMPLE_RATE
    return [(i * hop_patches * seconds, (i * hop_patches + PATCH_FRAMES) * seconds) for i in range(n_patches)]
