"""features/dsp*.py against librosa 0.11, the reference they reproduce: equal, value for value.

Every comparison is exact (``assert_array_equal``) unless it says why not: the ports do librosa's
arithmetic in librosa's order and dtypes. Real audio (the shared GTZAN clips) where it is here,
generated signals always.
"""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

librosa = pytest.importorskip("librosa")

from genre_desktop.features import dsp, dsp_pitch, dsp_rhythm  # noqa: E402

SR = 22050


def _signal(n: int, seed: int = 0, dtype=np.float32) -> np.ndarray:
    """Tones, a chirp and noise bursts: peaks, onsets and silence for every function here."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    y = 0.3 * np.sin(2 * np.pi * 220.0 * 2 ** (0.17 / 12) * t) + 0.2 * np.sin(2 * np.pi * (300 + 400 * t) * t)
    for start in range(0, n, SR // 3):
        burst = min(n - start, 2000)
        y[start:start + burst] += 0.4 * rng.standard_normal(burst) * np.exp(-np.arange(burst) / 300)
    y[n // 2:n // 2 + min(3000, n // 4)] = 0.0
    return y.astype(dtype)


@pytest.fixture(scope="module")
def clip():
    """Ten seconds of a real recording (a GTZAN clip) where the shared data is here, else generated."""
    from tests.conftest import SHARED_DATA

    paths = sorted(glob.glob(os.path.join(SHARED_DATA, "clips", "*.au")))
    if not paths:
        return _signal(10 * SR, seed=9)
    from genre_desktop.audio import decode

    return decode(paths[3], sr=SR, duration=10.0)


@pytest.mark.parametrize("n", [1, 2, 7, 344, 384, 512, 800, 1024, 2048])
def test_hann_is_scipys_periodic_hann(n):
    ref = librosa.filters.get_window("hann", n, fftbins=True)
    assert dsp.hann(n).dtype == ref.dtype
    np.testing.assert_array_equal(dsp.hann(n), ref)


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
@pytest.mark.parametrize("n_fft,hop", [(2048, 512), (512, 256), (1024, 320), (400, 160)])
@pytest.mark.parametrize("length", [3000, 22050, 22050 + 511, 66150 + 1])
def test_stft_centred_equals_librosa(pad_mode, n_fft, hop, length):
    y = _signal(length, seed=length)
    got = dsp.stft(y, n_fft, hop, pad_mode=pad_mode)
    ref = librosa.stft(y, n_fft=n_fft, hop_length=hop, pad_mode=pad_mode)
    assert got.dtype == ref.dtype == np.complex64 and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref)


def test_stft_of_a_real_clip_float32_and_float64(clip):
    np.testing.assert_array_equal(dsp.stft(clip, 2048, 512, pad_mode="reflect"),
                                  librosa.stft(clip, pad_mode="reflect"))
    wide = clip[:SR].astype(np.float64)
    got = dsp.stft(wide, 2048, 512)
    assert got.dtype == np.complex128
    np.testing.assert_array_equal(got, librosa.stft(wide))


def test_stft_layout_is_librosas_each_frame_contiguous(clip):
    got = dsp.stft(clip, 2048, 512)
    assert got.strides[0] < got.strides[1]  # bins adjacent: what the HPSS filters read fast


def test_stft_shorter_than_one_frame_and_default_hop():
    y = _signal(700, seed=2)  # librosa warns (n_fft > length) and pads: so do we, silently
    with pytest.warns(UserWarning):
        ref = librosa.stft(y, n_fft=2048)
    np.testing.assert_array_equal(dsp.stft(y, 2048), ref)


def test_uncentred_stft_of_a_batch_equals_librosa():
    batch = np.stack([_signal(187 * 256 + 256, seed=s) for s in range(3)])
    got = dsp.stft(batch, 512, 256, center=False)
    ref = librosa.stft(batch, n_fft=512, hop_length=256, center=False)
    assert got.shape == ref.shape == (3, 257, 187)
    np.testing.assert_array_equal(got, ref)


def test_stft_refuses_what_librosa_refuses():
    with pytest.raises(ValueError):
        dsp.stft(np.zeros(100, np.float32), 512, center=False)
    with pytest.raises(ValueError):
        dsp.stft(np.zeros(1000, np.float32), 512, 0)
    with pytest.raises(ValueError):
        dsp.stft(np.zeros(1000, np.float32), 512, pad_mode="wrap")


def test_frequency_scales_equal_librosa():
    for sr, n_fft in ((22050, 2048), (16000, 512), (32000, 1024)):
        np.testing.assert_array_equal(dsp.fft_frequencies(sr, n_fft), librosa.fft_frequencies(sr=sr, n_fft=n_fft))
    hz = np.array([0.0, 20.0, 999.9, 1000.0, 1000.1, 4000.0, 11025.0, 16000.0])
    np.testing.assert_array_equal(dsp.hz_to_mel(hz), librosa.hz_to_mel(hz))
    np.testing.assert_array_equal(dsp.mel_to_hz(dsp.hz_to_mel(hz)), librosa.mel_to_hz(librosa.hz_to_mel(hz)))
    for scalar in (440.0, 1000.0, 8000.0):
        assert dsp.hz_to_mel(scalar) == librosa.hz_to_mel(scalar)
        assert dsp.mel_to_hz(dsp.hz_to_mel(scalar)) == librosa.mel_to_hz(librosa.hz_to_mel(scalar))
    for n_mels, fmin, fmax in ((130, 0.0, 11025.0), (98, 0.0, 8000.0), (66, 50.0, 8000.0)):
        np.testing.assert_array_equal(dsp.mel_frequencies(n_mels, fmin=fmin, fmax=fmax),
                                      librosa.mel_frequencies(n_mels=n_mels, fmin=fmin, fmax=fmax))


@pytest.mark.parametrize("sr,n_fft,n_mels,fmax,dtype", [
    (22050, 2048, 128, None, np.float32), (16000, 512, 96, None, np.float32),
    (22050, 1024, 64, 8000.0, np.float32), (22050, 2048, 40, 6000.0, np.float64),
])
def test_mel_filters_equal_librosa(sr, n_fft, n_mels, fmax, dtype):
    got = dsp.mel_filters(sr, n_fft, n_mels, fmax=fmax, dtype=dtype)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmax=fmax, dtype=dtype)
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)
    assert not got.flags.writeable  # memoised: a caller must not change the shared bank


@pytest.mark.parametrize("hop,n_mels", [(512, 128), (256, 64)])
def test_melspectrogram_and_power_to_db_equal_librosa(clip, hop, n_mels):
    got = dsp.melspectrogram(clip, SR, 2048, hop, n_mels=n_mels, fmax=SR / 2)
    ref = librosa.feature.melspectrogram(y=clip, sr=SR, n_fft=2048, hop_length=hop, n_mels=n_mels, fmax=SR / 2)
    np.testing.assert_array_equal(got, ref)
    for kwargs in ({}, {"ref": np.max}, {"top_db": None}, {"ref": 3.0, "amin": 1e-5, "top_db": 40.0}):
        np.testing.assert_array_equal(dsp.power_to_db(got, **kwargs), librosa.power_to_db(ref, **kwargs))


def test_power_to_db_refuses_bad_bounds():
    with pytest.raises(ValueError):
        dsp.power_to_db(np.ones(3), amin=0)
    with pytest.raises(ValueError):
        dsp.power_to_db(np.ones(3), top_db=-1)


def test_mfcc_equals_librosa(clip):
    log_mel = librosa.power_to_db(librosa.feature.melspectrogram(y=clip, sr=SR))
    np.testing.assert_array_equal(dsp.mfcc(log_mel, 20), librosa.feature.mfcc(S=log_mel, n_mfcc=20))
    np.testing.assert_array_equal(dsp.mfcc(log_mel, 13), librosa.feature.mfcc(S=log_mel, n_mfcc=13))


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
@pytest.mark.parametrize("axis", [0, -1])
def test_normalize_equals_librosa_with_silent_slices(norm, axis):
    x = np.random.default_rng(1).standard_normal((12, 50)).astype(np.float32)
    x[:, 7] = 0.0
    x[3, :] = 1e-40  # below float32's tiny: left alone
    np.testing.assert_array_equal(dsp.normalize(x, norm=norm, axis=axis), librosa.util.normalize(x, norm=norm, axis=axis))
    with pytest.raises(ValueError):
        dsp.normalize(np.array([1.0, np.nan]))


def test_small_utilities_equal_librosa():
    x = np.arange(10.0)
    for size in (4, 10, 15):
        np.testing.assert_array_equal(dsp.fix_length(x, size), librosa.util.fix_length(x, size=size))
    m = np.ones((3, 5))
    np.testing.assert_array_equal(dsp.fix_length(m, 2, axis=0), librosa.util.fix_length(m, size=2, axis=0))
    frames = np.arange(100)
    np.testing.assert_array_equal(dsp.frames_to_time(frames, sr=SR, hop_length=512),
                                  librosa.frames_to_time(frames, sr=SR, hop_length=512))
    for dtype in (np.float32, np.float64):
        assert dsp.tiny(np.zeros(2, dtype)) == librosa.util.tiny(np.zeros(2, dtype))
    assert dsp.tiny(np.zeros(2, int)) == librosa.util.tiny(np.zeros(2, int))
    for n_frames, hop, n_fft in ((1, 512, 2048), (431, 512, 2048), (50, 160, 400)):
        got = dsp.window_sumsquare(n_frames, hop, n_fft, dtype=np.float32)
        ref = librosa.filters.window_sumsquare(window="hann", n_frames=n_frames, hop_length=hop, n_fft=n_fft,
                                               dtype=np.float32)
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("tuning", [0.0, 0.23, -0.41, 0.5])
def test_chroma_filters_equal_librosa(tuning):
    got = dsp_pitch.chroma_filters(SR, 2048, tuning=tuning)
    ref = librosa.filters.chroma(sr=SR, n_fft=2048, tuning=tuning)
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)


def test_chroma_stft_equals_librosa(clip):
    power = np.abs(librosa.stft(clip, pad_mode="reflect")) ** 2
    power[:, 40:60] = 0.0  # silent frames: left unnormalised
    for tuning in (0.0, -0.12):
        np.testing.assert_array_equal(dsp_pitch.chroma_stft(power, SR, tuning),
                                      librosa.feature.chroma_stft(S=power, sr=SR, tuning=tuning))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_localmax_equals_librosa_with_ties_and_edges(axis):
    x = np.random.default_rng(axis + 5).integers(0, 4, size=(37, 23)).astype(np.float32)
    np.testing.assert_array_equal(dsp_pitch.localmax(x, axis=axis), librosa.util.localmax(x, axis=axis))
    short = np.array([[3.0, 1.0], [1.0, 3.0]])
    np.testing.assert_array_equal(dsp_pitch.localmax(short, axis=axis), librosa.util.localmax(short, axis=axis))


def test_pitch_tuning_equals_librosa():
    rng = np.random.default_rng(4)
    for spread in (0.01, 0.2, 3.0):
        freqs = 440.0 * 2 ** (rng.integers(-24, 24, 500) / 12 + rng.normal(0.1, spread, 500) / 12)
        freqs[:20] = 0.0
        assert dsp_pitch.pitch_tuning(freqs) == librosa.pitch_tuning(freqs)
    assert dsp_pitch.pitch_tuning(np.zeros(5)) == 0.0


@pytest.fixture(scope="module")
def log_mels(clip):
    """Log-power mel spectrograms as the GTZAN features compute them: the clip, a generated piece."""
    out = []
    for y in (clip, _signal(8 * SR, seed=3)):
        power = np.abs(librosa.stft(y, pad_mode="reflect")) ** 2
        out.append(librosa.power_to_db(librosa.filters.mel(sr=SR, n_fft=2048) @ power))
    return out


@pytest.mark.parametrize("aggregate", [np.median, np.mean])
def test_onset_strength_equals_librosa(log_mels, aggregate):
    for S in log_mels:
        got = dsp_rhythm.onset_strength(S, aggregate=aggregate)
        ref = librosa.onset.onset_strength(S=S, sr=SR, aggregate=aggregate)
        assert got.dtype == ref.dtype and got.shape == ref.shape == (S.shape[1],)
        np.testing.assert_array_equal(got, ref)


def test_autocorrelate_and_tempogram_equal_librosa(log_mels):
    onset = dsp_rhythm.onset_strength(log_mels[0], aggregate=np.median)
    frames = np.random.default_rng(0).random((344, 120))
    for axis in (0, -1):
        np.testing.assert_array_equal(dsp_rhythm.autocorrelate(frames, axis=axis),
                                      librosa.autocorrelate(frames, axis=axis))
    for win in (384, 344):
        np.testing.assert_array_equal(dsp_rhythm.tempogram(onset, win),
                                      librosa.feature.tempogram(onset_envelope=onset, sr=SR, win_length=win))
    np.testing.assert_array_equal(dsp_rhythm.tempo_frequencies(344), librosa.tempo_frequencies(344))


def test_blocked_mean_tempogram_equals_the_mean_of_the_tempogram(log_mels):
    """tempo() averages the tempogram block by block: the same mean up to the summation order,
    for envelopes shorter than a block, spanning several blocks, silent in stretches, and all zero."""
    rng = np.random.default_rng(3)
    silent_stretch = dsp_rhythm.onset_strength(log_mels[0], aggregate=np.median).copy()
    silent_stretch[100:400] = 0.0
    envelopes = [dsp_rhythm.onset_strength(S, aggregate=np.median) for S in log_mels]
    envelopes += [silent_stretch, rng.random(40).astype(np.float32), rng.random(129), np.zeros(200, np.float32)]
    for onset in envelopes:
        for win in (384, 17):
            want = np.mean(dsp_rhythm.tempogram(onset, win), axis=-1)
            got = dsp_rhythm.mean_tempogram(onset, win)
            assert got.shape == want.shape == (win,)
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_tempo_equals_librosa(log_mels):
    rng = np.random.default_rng(8)
    envelopes = [dsp_rhythm.onset_strength(S, aggregate=np.median) for S in log_mels]
    envelopes += [rng.random(600).astype(np.float32), np.tile([1.0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 80).astype(np.float32)]
    for onset in envelopes:
        got = dsp_rhythm.tempo(onset, sr=SR, hop_length=512)
        ref = librosa.feature.tempo(onset_envelope=onset, sr=SR, hop_length=512)
        np.testing.assert_array_equal(got, ref)
    onset = envelopes[0]
    np.testing.assert_array_equal(dsp_rhythm.tempo(onset, start_bpm=90, std_bpm=0.5, max_tempo=None),
                                  librosa.feature.tempo(onset_envelope=onset, start_bpm=90, std_bpm=0.5, max_tempo=None))
    with pytest.raises(ValueError):
        dsp_rhythm.tempo(onset, start_bpm=0)


def test_the_feature_modules_compute_what_their_librosa_recipes_did(clip):
    """The callers switched from librosa to dsp: the display spectrogram, musicnn's and the CNN's
    inputs are the same bits as the librosa calls they replaced."""
    from genre_desktop.features import cnn_input, mel, musicnn_input

    shown = mel.mel_spectrogram(clip, SR, n_mels=128, hop_length=512)
    power = librosa.feature.melspectrogram(y=clip, sr=SR, n_fft=2048, hop_length=512, n_mels=128, fmin=0.0,
                                           fmax=SR / 2)
    np.testing.assert_array_equal(shown.db, librosa.power_to_db(power, ref=np.max, top_db=80.0).astype(np.float32))
    np.testing.assert_array_equal(shown.frame_times(), librosa.frames_to_time(np.arange(shown.n_frames), sr=SR))
    np.testing.assert_array_equal(shown.mel_frequencies(),
                                  librosa.mel_frequencies(n_mels=130, fmin=0.0, fmax=SR / 2)[1:-1])

    y16 = librosa.resample(clip, orig_sr=SR, target_sr=16000, res_type="soxr_hq")
    bank = librosa.filters.mel(sr=16000, n_fft=512, n_mels=96, dtype=np.float32)
    spec = np.abs(librosa.stft(y16, n_fft=512, hop_length=256)) ** 2
    np.testing.assert_array_equal(musicnn_input.log_mel(y16),
                                  np.log10(np.float32(10000.0) * (bank @ spec).T + np.float32(1.0)))
    whole = musicnn_input.musicnn_patches(y16)
    np.testing.assert_array_equal(musicnn_input.musicnn_patches(y16, which=[0, 2]), whole[[0, 2]])

    bank_t, bins = cnn_input._mel_basis(22050, 1024, 64, 8000.0)
    ref = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=64, fmin=0.0, fmax=8000.0, dtype=np.float32)
    np.testing.assert_array_equal(bank_t, ref[:, :bins].T)
    assert not ref[:, bins:].any()
