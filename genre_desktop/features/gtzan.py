"""The GTZAN feature vector: the 57 columns of ``features_30_sec.csv``, computed from samples.

The bundled classical models learn from the public GTZAN feature table; in the app they see what
this module computes from the user's audio, so both must agree. The table was made with librosa of
the 0.7/0.8 era and its defaults, which differ from librosa 0.11's defaults in two ways that
matter (both found by comparing the eight clips in ``shared/data/gtzan/clips`` with their rows):

* STFT and RMS frames were centred with ``pad_mode="reflect"`` (librosa 0.10 switched the
  default to zero padding). With reflect padding every spectral column and every MFCC agrees with
  the table to float32 rounding (~1e-7 relative); with zero padding only to ~1e-3.
* ``librosa.effects.hpss`` then inverted the masked STFTs *without* ``length=``, so the last
  ``len(y) % 512`` samples of the harmonic and percussive signals were zeros (``fix_length``).

Everything else is librosa's defaults: n_fft 2048, hop 512, Hann window; chroma_stft with its
tuning estimate; 128 Slaney mel bands, ``power_to_db`` (ref 1, top_db 80), 20 orthonormal DCT-II
MFCCs; tempo as ``beat_track`` estimates it (onset strength from the same log-mel spectrogram,
aggregated by median); every ``*_mean``/``*_var`` is ``np.mean``/``np.var`` over frames (samples
for harmony/perceptr), in the dtype librosa produces.

:func:`extract_features` computes all of this from ONE STFT (magnitude for chroma and the spectral
shape features, power for the mel spectrogram behind MFCCs and tempo, the complex spectrum for
HPSS) and replaces the slow generic steps by equivalent fast ones (an exact running median that
filters many rows side by side, block sums for RMS, a cumulative sum for zero crossings, pitch
tracking only in the band the tuning estimate looks at). :func:`reference_features` is the
straightforward recipe, one librosa call per feature; it defines the result and is what tests and
benchmarks compare against. The fast path itself does not import librosa (nor numba, which
librosa loads): the librosa functions it needs are reproduced in ``features/dsp*.py``.

About 70 ms of CPU per 30 s clip against ~1.4 s for the straightforward recipe; scipy's running
median alone took ~95 ms, ``features/median.py`` gives the same values in 12-20 ms. Tried and
rejected: deriving the harmonic / percussive variance from the masked spectrum by Parseval instead
of inverting it (0.8-2.4 % off: the masked STFT is not consistent, the inverse STFT loses energy).
"""

from __future__ import annotations

import functools
import time

import numpy as np

from genre_desktop.features import dsp, dsp_pitch, dsp_rhythm
from genre_desktop.features.median import median_filter_axis0

SAMPLE_RATE = 22050
N_FFT = 2048
HOP = 512
N_MFCC = 20
HPSS_KERNEL = 31  # librosa.decompose.hpss default kernel_size
_ISTFT_BLOCK = 64  # frames per block of the harmonic inverse STFT
ROLL_PERCENT = 0.85  # librosa.feature.spectral_rolloff default
ZC_THRESHOLD = 1e-10  # librosa.zero_crossings default
TUNING_FMIN, TUNING_FMAX = 150.0, 4000.0  # librosa.piptrack defaults used by estimate_tuning

RECIPE_VERSION = "gtzan-librosa-1"

_PAIRED = (
    "chroma_stft", "rms", "spectral_centroid", "spectral_bandwidth", "rolloff",
    "zero_crossing_rate", "harmony", "perceptr",
)
FEATURE_COLUMNS: tuple[str, ...] = (
    tuple(f"{name}_{stat}" for name in _PAIRED for stat in ("mean", "var"))
    + ("tempo",)
    + tuple(f"mfcc{i}_{stat}" for i in range(1, N_MFCC + 1) for stat in ("mean", "var"))
)


def _check_signal(y: np.ndarray) -> np.ndarray:
    """Return ``y`` as contiguous mono float32 (what librosa.load yields), or raise ValueError."""
    y = np.ascontiguousarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"expected mono 1-D samples, got shape {y.shape}")
    if y.size <= N_FFT:
        raise ValueError(f"signal too short for features: {y.size} samples (need more than {N_FFT})")
    if not np.isfinite(y).all():
        raise ValueError("signal contains non-finite samples")
    return y


def _mean_var(x: np.ndarray) -> tuple[float, float]:
    return float(np.mean(x)), float(np.var(x))


# ----------------------------------------------------------------------------- fast path pieces

@functools.lru_cache(maxsize=4)
def _mel_basis(sr: int) -> np.ndarray:
    """librosa.feature.melspectrogram's default filter bank (a constant, so memoised)."""
    return dsp.mel_filters(sr, N_FFT)


@functools.lru_cache(maxsize=4)
def _fft_freqs(sr: int) -> np.ndarray:
    return dsp.fft_frequencies(sr, N_FFT)


def _rms(y: np.ndarray, n_frames: int) -> np.ndarray:
    """librosa.feature.rms(y, pad_mode="reflect") from 512-sample block energies.

    A 2048-sample frame at hop 512 is exactly four consecutive blocks, so each frame's energy is a
    sum of four block sums instead of 2048 squares.
    """
    half = N_FFT // 2
    padded = np.pad(y, half, mode="reflect").astype(np.float64)
    n_blocks = n_frames + 3
    chunks = padded[: n_blocks * HOP].reshape(n_blocks, HOP)
    blocks = np.einsum("ij,ij->i", chunks, chunks)
    energy = blocks[:-3] + blocks[1:-2] + blocks[2:-1] + blocks[3:]
    return np.sqrt(energy / N_FFT).astype(np.float32)


def _zero_crossing_rate(y: np.ndarray, n_frames: int) -> np.ndarray:
    """librosa.feature.zero_crossing_rate(y) (edge padding, pad=False) from 512-sample block counts.

    A frame counts the crossings at positions start+1 .. start+N_FFT-1 (p: between samples p-1 and
    p): four blocks of HOP positions minus the one at start+N_FFT. Integer sums, so the same counts
    (a running int64 sum took 4.6 ms per 30 s clip, this 1.0)."""
    padded = np.pad(y, N_FFT // 2, mode="edge")
    negative = padded < -ZC_THRESHOLD  # librosa counts |x| <= threshold as +0
    n_blocks = n_frames + N_FFT // HOP - 1
    crossing = np.zeros(n_blocks * HOP + 1, dtype=np.uint8)  # p = 0 and p past the end: none
    m = min(crossing.size, padded.size)
    np.not_equal(negative[1:m], negative[: m - 1], out=crossing[1:m].view(bool))
    blocks = crossing[1:].reshape(n_blocks, HOP).sum(axis=1, dtype=np.int64)
    counts = sum(blocks[k : k + n_frames] for k in range(N_FFT // HOP))
    counts -= crossing[np.arange(n_frames) * HOP + N_FFT]
    return counts / N_FFT


def _spectral_shape(mag: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spectral centroid, bandwidth (p=2) and 85% rolloff per frame, as librosa defines them.

    Centroid and bandwidth come from three spectral moments of each frame (one float64 matrix
    product) instead of librosa's normalised copy and per-bin deviations; in float64 the
    cancellation in E[f^2] - c^2 costs nothing measurable (agreement ~1e-10).
    """
    freq = _fft_freqs(sr)
    moments = np.stack([np.ones_like(freq), freq, freq**2]) @ mag.astype(np.float64)
    total = moments[0]
    silent = total <= 0
    safe = np.where(silent, 1.0, total)
    centroid = moments[1] / safe
    spread = np.maximum(moments[2] / safe - centroid**2, 0.0)
    bandwidth = np.sqrt(spread)
    centroid[silent] = 0.0
    bandwidth[silent] = 0.0
    # librosa keeps the cumulative energy in the spectrogram's dtype (float32): so do we.
    cum = np.cumsum(mag, axis=0)
    first = np.argmax(cum >= ROLL_PERCENT * cum[-1], axis=0)
    rolloff = freq[first]
    return centroid, bandwidth, rolloff


def _estimate_tuning(power: np.ndarray, sr: int) -> float:
    """librosa.estimate_tuning(S=power, bins_per_octave=12), evaluated only where it looks.

    piptrack keeps spectral peaks with 150 <= f < 4000 Hz and refines each by parabolic
    interpolation; every quantity involved depends only on a bin and its two neighbours. So the
    peaks are found in that band alone (the threshold is still 0.1 x the frame's maximum over all
    bins, as in piptrack) and the interpolation is done at the peaks only, with librosa's
    arithmetic (float32 differences, float64 for the parabola), giving the same pitches.
    """
    freq = _fft_freqs(sr)
    inside = np.flatnonzero((freq >= TUNING_FMIN) & (freq < min(TUNING_FMAX, sr / 2)))
    if inside.size == 0:
        return 0.0
    lo, hi = max(int(inside[0]) - 1, 0), min(int(inside[-1]) + 2, power.shape[0])
    band = power[lo:hi]
    ref_value = 0.1 * np.max(power, axis=0, keepdims=True)
    peaks = dsp_pitch.localmax(band * (band > ref_value), axis=-2)
    keep = np.zeros(band.shape[0], dtype=bool)
    keep[inside - lo] = True
    keep[[0, -1]] = False  # piptrack's neighbours of the band, never peaks themselves
    peaks &= keep[:, None]
    rows, cols = np.nonzero(peaks)
    centre, upper, lower = band[rows, cols], band[rows + 1, cols], band[rows - 1, cols]
    # librosa's _parabolic_interpolation stencil: float32 sums, float64 parabola, float32 result.
    a = (upper + lower).astype(np.float64) - 2 * centre.astype(np.float64)
    b = (upper - lower).astype(np.float64) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(b) >= np.abs(a), 0.0, -b / a).astype(band.dtype)
    avg = (upper - lower) / 2.0  # np.gradient's central difference
    pitches = (rows + lo + shift) * float(sr) / N_FFT
    mags = centre + 0.5 * avg * shift
    positive = pitches > 0
    if not positive.any():
        return 0.0
    threshold = np.median(mags[positive])
    chosen = pitches[(mags >= threshold) & positive]
    if chosen.size == 0:
        return 0.0
    return dsp_pitch.pitch_tuning(chosen, resolution=0.01, bins_per_octave=12)


def _hpss_medians(mag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """librosa.decompose.hpss's two median filters of ``mag`` (bins, frames), each (frames, bins).

    Harmonic: along time, ``scipy.ndimage.median_filter(mag, size=(1, 31), mode="reflect")``;
    percussive: along frequency, ``size=(31, 1)``. The exact running median of
    ``features/median.py`` filters columns with the rows' values side by side in memory, so the
    time filter reads ``mag.T`` (contiguous when ``mag`` comes from librosa.stft: each frame
    contiguous) and the frequency filter a (bins, frames) copy.
    """
    harm = median_filter_axis0(np.ascontiguousarray(mag.T), HPSS_KERNEL)  # along time
    perc = median_filter_axis0(np.ascontiguousarray(mag), HPSS_KERNEL)  # along frequency
    return harm, np.ascontiguousarray(perc.T)


def _harmonic_mask(harm: np.ndarray, perc: np.ndarray) -> np.ndarray:
    """librosa.util.softmask(harm, perc, power=2, split_zeros=True) (hpss's harmonic mask).

    Same arithmetic as librosa (scale by the larger of the two, square, divide by the sum) minus
    its input checks and fancy indexing; where both are ~0 the mask is 0.5, as in librosa.
    """
    larger = np.maximum(harm, perc)
    bad = larger < np.finfo(larger.dtype).tiny
    larger[bad] = 1
    mask = (harm / larger) ** 2
    other = (perc / larger) ** 2
    other += mask
    with np.errstate(divide="ignore", invalid="ignore"):
        mask /= other
    mask[bad] = 0.5
    return mask


@functools.lru_cache(maxsize=8)
def _istft_window(n_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """The Hann synthesis window and librosa's window-sum-square normaliser for ``n_frames``."""
    window = dsp.hann(N_FFT).astype(np.float32)
    wss = dsp.window_sumsquare(n_frames, hop_length=HOP, n_fft=N_FFT, dtype=np.float32)
    wss = np.where(wss > dsp.tiny(wss), wss, np.float32(1.0))
    return window, wss


def _harmonic_istft(stft: np.ndarray, harm: np.ndarray, perc: np.ndarray, n: int) -> np.ndarray:
    """``fix_length(librosa.istft(stft * harmonic mask), n)``; stft (bins, frames), magnitudes (frames, bins).

    With hop = n_fft / 4 librosa's overlap-add is four shifted block sums; done here in blocks of
    frames that stay in the cache (mask, product, inverse FFT, window, sums), each output sample
    still summed in frame order as librosa sums it: the same result bit for bit (the 57 features
    took ~6 % less CPU time, measured on GTZAN clips).
    """
    n_frames = stft.shape[1]
    window, wss = _istft_window(n_frames)
    spec, out = stft.T, None
    for a in range(0, n_frames, _ISTFT_BLOCK):
        b = min(a + _ISTFT_BLOCK, n_frames)
        frames = np.fft.irfft(spec[a:b] * _harmonic_mask(harm[a:b], perc[a:b]), n=N_FFT, axis=-1)
        frames *= window
        if out is None:
            out = np.zeros((n_frames + N_FFT // HOP - 1, HOP), dtype=frames.dtype)
        blocks = frames.reshape(b - a, N_FFT // HOP, HOP)
        for k in range(N_FFT // HOP - 1, -1, -1):
            out[a + k : b + k, :] += blocks[:, k, :]
    signal = out.reshape(-1)
    signal /= wss
    # center=True: drop n_fft/2 at the start; without length= the result is hop*(frames-1) long.
    signal = signal[N_FFT // 2 : N_FFT // 2 + HOP * (n_frames - 1)]
    return dsp.fix_length(signal, n)


def _hpss_stats(
    y: np.ndarray, stft: np.ndarray, harm: np.ndarray, perc: np.ndarray
) -> tuple[float, float, float, float]:
    """Mean and variance of the time-domain harmonic and percussive signals (librosa.effects.hpss).

    ``stft`` is (bins, frames) as librosa.stft returns it (each frame contiguous); ``harm`` and
    ``perc`` are the median-filtered magnitudes laid out (frames, bins) to match ``stft.T``.

    Only the harmonic part is inverted. The two soft masks sum to one in every bin and the inverse
    STFT is linear and reconstructs ``y`` exactly from its (reflect-padded, Hann, 75 % overlap)
    STFT, so the percussive signal is ``y - harmonic``, up to float32 rounding (measured: no
    further from the table than inverting it, 1e-6 relative on its mean, 4e-7 on its variance).
    As in old librosa, both are zero after the last full hop.
    """
    n = y.size
    harmonic = _harmonic_istft(stft, harm, perc, n)
    full = HOP * (stft.shape[1] - 1)  # the length the inverse STFT covers, <= n
    percussive = np.zeros(n, dtype=harmonic.dtype)
    np.subtract(y[:full], harmonic[:full], out=percussive[:full])
    return (*_mean_var(harmonic), *_mean_var(percussive))


def _beat_track_tempo(onset: np.ndarray, sr: int) -> float:
    """The tempo librosa.beat.beat_track reports, without tracking the beats themselves.

    beat_track estimates it with librosa's tempo estimator at its defaults, and reports 0 for an
    onset envelope with no onsets at all (silence).
    """
    if not onset.any():
        return 0.0
    return float(dsp_rhythm.tempo(onset, sr=sr, hop_length=HOP)[0])


class _Stopwatch:
    """Adds this thread's CPU time since the previous lap to ``timings[name]`` (if given)."""

    def __init__(self, timings: dict[str, float] | None):
        self._timings = timings
        self._last = time.thread_time() if timings is not None else 0.0

    def lap(self, name: str) -> None:
        if self._timings is None:
            return
        now = time.thread_time()
        self._timings[name] = self._timings.get(name, 0.0) + now - self._last
        self._last = now


def extract_features(
    y: np.ndarray, sr: int = SAMPLE_RATE, *, timings: dict[str, float] | None = None
) -> np.ndarray:
    """The 57 GTZAN features of mono samples ``y`` (float64, in :data:`FEATURE_COLUMNS` order).

    ``y`` should be what ``librosa.load(path, sr=22050)`` (or ``genre_desktop.audio.decode``)
    returns; it is converted to float32 as librosa.load would give it. The table, and so the
    bundled models, assume ``sr == 22050``. Raises ValueError for input that is not 1-D, not
    finite, or no longer than one STFT frame (2048 samples).

    ``timings``, if given, receives the CPU seconds spent per stage (added to existing entries), for
    benchmarks.
    """
    watch = _Stopwatch(timings)
    y = _check_signal(y)
    stft = dsp.stft(y, N_FFT, HOP, pad_mode="reflect")
    mag = np.abs(stft)
    power = mag**2
    n_frames = mag.shape[1]
    watch.lap("stft")

    tuning = _estimate_tuning(power, sr)
    chroma = dsp_pitch.chroma_stft(power, sr, tuning)
    watch.lap("chroma")
    centroid, bandwidth, rolloff = _spectral_shape(mag, sr)
    watch.lap("centroid/bandwidth/rolloff")
    rms = _rms(y, n_frames)
    zcr = _zero_crossing_rate(y, n_frames)
    watch.lap("rms/zcr")

    harm, perc = _hpss_medians(mag)
    watch.lap("hpss median filters")
    hpss = _hpss_stats(y, stft, harm, perc)
    watch.lap("hpss masks+istft")

    log_mel = dsp.power_to_db(_mel_basis(sr) @ power)
    mfcc = dsp.mfcc(log_mel, n_mfcc=N_MFCC)
    watch.lap("mel/mfcc")
    onset = dsp_rhythm.onset_strength(log_mel, n_fft=N_FFT, hop_length=HOP, aggregate=np.median)
    tempo = _beat_track_tempo(onset, sr)
    watch.lap("tempo")

    values: list[float] = []
    for feature in (chroma, rms, centroid, bandwidth, rolloff, zcr):
        values.extend(_mean_var(feature))
    values.extend(hpss)
    values.append(tempo)
    for row in mfcc:
        values.extend(_mean_var(row))
    watch.lap("means/vars")
    return np.asarray(values, dtype=np.float64)


def warm_up(sr: int = SAMPLE_RATE) -> None:
    """Pay the one-off costs of the first :func:`extract_features` call now (~2 s here).

    The first call imports scipy.fft and builds the filter banks and FFT plans; a model loader can
    call this once in the background so that the first real track is not the slow one.
    """
    t = np.arange(N_FFT * 8) / sr
    extract_features((0.1 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32), sr)


def reference_features(y: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """The straightforward recipe: one librosa call per feature, as the table's authors ran it.

    Slow (about 2 s per 30 s clip); it defines what :func:`extract_features` must return and is
    the baseline of ``tools/bench_features.py``. The only departures from librosa 0.11's defaults
    are the two that reproduce the table (reflect padding; HPSS inversion then fix_length).
    """
    import librosa

    y = _check_signal(y)
    pad = "reflect"
    values: list[float] = []
    values.extend(_mean_var(librosa.feature.chroma_stft(y=y, sr=sr, pad_mode=pad)))
    values.extend(_mean_var(librosa.feature.rms(y=y, pad_mode=pad)))
    values.extend(_mean_var(librosa.feature.spectral_centroid(y=y, sr=sr, pad_mode=pad)))
    values.extend(_mean_var(librosa.feature.spectral_bandwidth(y=y, sr=sr, pad_mode=pad)))
    values.extend(_mean_var(librosa.feature.spectral_rolloff(y=y, sr=sr, pad_mode=pad)))
    values.extend(_mean_var(librosa.feature.zero_crossing_rate(y)))
    harm, perc = librosa.decompose.hpss(librosa.stft(y, pad_mode=pad))
    values.extend(_mean_var(librosa.util.fix_length(librosa.istft(harm), size=y.size)))
    values.extend(_mean_var(librosa.util.fix_length(librosa.istft(perc), size=y.size)))
    onset = librosa.onset.onset_strength(y=y, sr=sr, pad_mode=pad, aggregate=np.median)
    tempo, _ = librosa.beat.beat_track(onset_envelope=onset, sr=sr)
    values.append(float(np.atleast_1d(tempo)[0]))
    for row in librosa.feature.mfcc(y=y, sr=sr, n_mfcc=N_MFCC, pad_mode=pad):
        values.extend(_mean_var(row))
    return np.asarray(values, dtype=np.float64)
