"""cnn_input: the log-mel segments the CNN members take, for training and inference alike."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from genre_desktop.features.cnn_input import DB_FLOOR, cnn_segments, log_mel, segment

PARAMS = {"sr": 22050, "n_fft": 1024, "hop": 512, "n_mels": 64, "frames": 128, "fmax": 8000.0, "log": "db"}


def _signal(seconds: float, sr: int = 22050, seed: int = 0) -> np.ndarray:
    """A chord plus a little noise, so every mel band below 8 kHz has energy."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (110.0, 440.0, 1500.0, 5000.0))
    return (y + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def test_log_mel_equals_librosa_melspectrogram_in_db():
    y = _signal(5.0)
    ours = log_mel(y, 22050, PARAMS)
    power = librosa.feature.melspectrogram(y=y, sr=22050, n_fft=1024, hop_length=512, n_mels=64, fmax=8000.0)
    ref = librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None)
    assert ours.shape == ref.shape == (64, 1 + y.size // 512)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, atol=1e-3)


def test_segments_shape_and_layout():
    y = _signal(30.0)
    segs = cnn_segments(y, 22050, PARAMS)
    spec = log_mel(y, 22050, PARAMS)
    n = spec.shape[1] // 128
    assert segs.shape == (n, 1, 64, 128) == (10, 1, 64, 128)
    assert segs.dtype == np.float32 and segs.flags["C_CONTIGUOUS"]
    # Segment i is frames [128 i, 128 (i + 1)) of the window's spectrogram, bands lowest first.
    for i in (0, 3, n - 1):
        np.testing.assert_array_equal(segs[i, 0], spec[:, 128 * i:128 * (i + 1)])


def test_segments_are_deterministic_and_independent_of_loudness_elsewhere():
    y = _signal(12.0)
    a = cnn_segments(y, 22050, PARAMS)
    b = cnn_segments(y.copy(), 22050, PARAMS)
    np.testing.assert_array_equal(a, b)
    # A fixed dB reference: making the last seconds louder leaves the first segment alone (a
    # reference to the window's maximum would shift every value).
    louder = y.copy()
    louder[-22050 * 3:] *= 10
    np.testing.assert_allclose(cnn_segments(louder, 22050, PARAMS)[0], a[0], atol=1e-4)


def test_gain_is_a_db_offset():
    y = _signal(6.0)
    a = cnn_segments(y, 22050, PARAMS)
    b = cnn_segments(2 * y, 22050, PARAMS)
    np.testing.assert_allclose(b - a, 20 * np.log10(2), atol=1e-2)


def test_other_rates_are_resampled_to_the_params_rate():
    y22 = _signal(9.0)
    y44 = librosa.resample(y22, orig_sr=22050, target_sr=44100, res_type="soxr_hq")
    a = cnn_segments(y22, 22050, PARAMS)
    b = cnn_segments(y44, 44100, PARAMS)
    assert a.shape == b.shape
    # Same audio at another rate: the same spectrogram up to resampling error (dB, loud bands;
    # the first frames are left out: the resampler's edge transient lands in them).
    a, b = a[..., 4:], b[..., 4:]
    loud = a > -40
    assert np.abs(a[loud] - b[loud]).max() < 0.1
    # And a model asking for 16 kHz gets 16 kHz frames from 22050 Hz input.
    p16 = dict(PARAMS, sr=16000, n_fft=512, hop=256, n_mels=48, frames=100)
    s16 = cnn_segments(y22, 22050, p16)
    assert s16.shape == ((1 + 9 * 16000 // 256) // 100, 1, 48, 100)


def test_short_audio_is_padded_with_silence_to_one_segment():
    y = _signal(1.0)
    segs = cnn_segments(y, 22050, PARAMS)
    frames = 1 + y.size // 512
    assert segs.shape == (1, 1, 64, 128)
    assert np.all(segs[0, 0, :, frames:] == DB_FLOOR)
    assert np.all(segs[0, 0, :, :frames] > DB_FLOOR)
    assert cnn_segments(np.zeros(100, np.float32), 22050, PARAMS).shape == (1, 1, 64, 128)


def test_partial_last_segment_is_dropped():
    spec = np.arange(4 * 300, dtype=np.float32).reshape(4, 300)
    out = segment(spec, 128)
    assert out.shape == (2, 1, 4, 128)
    np.testing.assert_array_equal(out[1, 0], spec[:, 128:256])


@pytest.mark.parametrize("bad", [
    {"log": "power"}, {"fmax": 20000.0}, {"frames": 0}, {"n_mels": -1},
])
def test_bad_params_are_refused(bad):
    with pytest.raises(ValueError):
        cnn_segments(_signal(1.0), 22050, dict(PARAMS, **bad))


def test_missing_params_and_bad_input_are_refused():
    params = dict(PARAMS)
    del params["hop"]
    with pytest.raises(ValueError, match="hop"):
        cnn_segments(_signal(1.0), 22050, params)
    with pytest.raises(ValueError):
        cnn_segments(np.zeros(0, np.float32), 22050, PARAMS)
    with pytest.raises(ValueError):
        cnn_segments(np.zeros((2, 1000), np.float32), 22050, PARAMS)
