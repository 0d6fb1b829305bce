"""Display mel spectrograms and their disk cache."""

from __future__ import annotations

import os

import numpy as np
import pytest

from genre_desktop.features.mel import MelSpectrogram, SpectrogramCache, mel_spectrogram

SR = 22050


def _tone(freq: float = 1000.0, seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture(scope="module")
def tone_mel():
    return mel_spectrogram(_tone())


def test_shape_scale_and_axes(tone_mel):
    mel = tone_mel
    n = int(2.0 * SR)
    assert mel.db.dtype == np.float32
    assert mel.db.shape == (128, 1 + n // 512)
    assert mel.n_mels == 128 and mel.n_frames == 1 + n // 512
    assert mel.db.max() == pytest.approx(0.0)
    assert mel.db.min() >= -80.0 - 1e-4
    assert mel.seconds_per_frame == pytest.approx(512 / SR)
    times = mel.frame_times()
    assert times[0] == 0.0 and times[1] == pytest.approx(512 / SR) and len(times) == mel.n_frames
    freqs = mel.mel_frequencies()
    assert len(freqs) == 128 and np.all(np.diff(freqs) > 0)
    assert mel.fmin <= freqs[0] and freqs[-1] <= mel.fmax == SR / 2


def test_a_tone_lights_up_the_band_at_its_frequency(tone_mel):
    loudest_band = int(np.argmax(tone_mel.db[:, tone_mel.n_frames // 2]))
    centre = tone_mel.mel_frequencies()[loudest_band]
    assert abs(centre - 1000.0) < 60.0


def test_parameters_and_empty_input():
    mel = mel_spectrogram(_tone(seconds=1.0), n_mels=64, hop_length=256)
    assert mel.db.shape == (64, 1 + SR // 256)
    assert mel.hop_length == 256
    empty = mel_spectrogram(np.zeros(0, np.float32))
    assert empty.db.shape == (128, 0)
    with pytest.raises(ValueError):
        mel_spectrogram(np.zeros((2, 100), np.float32))


@pytest.fixture
def audio_file(tmp_path):
    path = tmp_path / "song.flac"
    path.write_bytes(b"pretend audio " * 100)
    return path


def test_cache_round_trip(tmp_path, audio_file, tone_mel):
    cache = SpectrogramCache(tmp_path / "cache")
    assert cache.get(audio_file) is None
    cache.put(audio_file, tone_mel)
    got = cache.get(str(audio_file))
    assert isinstance(got, MelSpectrogram)
    assert got.db.dtype == np.float32 and got.db.shape == tone_mel.db.shape
    np.testing.assert_allclose(got.db, tone_mel.db, atol=0.0051)  # stored as hundredths of a dB
    assert (got.sr, got.hop_length, got.fmin, got.fmax, got.n_fft) == (
        tone_mel.sr, tone_mel.hop_length, tone_mel.fmin, tone_mel.fmax, tone_mel.n_fft)
    # written atomically: the entry and nothing else (no temporary files left behind)
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".npz"]


def test_cache_misses_when_the_file_changes(tmp_path, audio_file, tone_mel):
    cache = SpectrogramCache(tmp_path / "cache")
    cache.put(audio_file, tone_mel)
    st = os.stat(audio_file)
    os.utime(audio_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache.get(audio_file) is None  # new mtime
    cache.put(audio_file, tone_mel)
    assert cache.get(audio_file) is not None
    audio_file.write_bytes(b"other audio, other size")
    os.utime(audio_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert cache.get(audio_file) is None  # same mtime, new size


def test_cache_keys_by_path(tmp_path, audio_file, tone_mel):
    twin = tmp_path / "twin.flac"
    twin.write_bytes(audio_file.read_bytes())
    st = os.stat(audio_file)
    os.utime(twin, ns=(st.st_atime_ns, st.st_mtime_ns))
    cache = SpectrogramCache(tmp_path / "cache")
    cache.put(audio_file, tone_mel)
    assert cache.get(twin) is None


def test_corrupt_entry_is_dropped(tmp_path, audio_file, tone_mel, caplog):
    cache = SpectrogramCache(tmp_path / "cache")
    cache.put(audio_file, tone_mel)
    entry = cache.entry_path(audio_file)
    entry.write_bytes(b"not a zip file")
    assert cache.get(audio_file) is None
    assert not entry.exists()
    assert "unreadable" in caplog.text


def test_missing_audio_file(tmp_path, tone_mel):
    cache = SpectrogramCache(tmp_path / "cache")
    gone = tmp_path / "gone.mp3"
    assert cache.get(gone) is None
    cache.put(gone, tone_mel)  # nothing to key it by: not stored
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
