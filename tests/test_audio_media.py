"""The shared test-file generator (tests/media.py) makes what it promises, checked with soundfile and
mutagen directly (not with the project's own decode/tagging code)."""

from __future__ import annotations

import mutagen
import numpy as np
import pytest
import soundfile as sf

from media import FORMATS, SIGNALS, ffmpeg_available, make_audio, tone

SOUNDFILE_READABLE = [e for e in FORMATS if e not in (".m4a", ".wma")] + [".au"]


def test_formats_on_this_machine():
    assert {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff"} <= set(FORMATS)
    assert ({".m4a", ".wma"} <= set(FORMATS)) == ffmpeg_available()


@pytest.mark.parametrize("ext", SOUNDFILE_READABLE)
def test_soundfile_formats_have_the_requested_shape(tmp_path, ext):
    path = make_audio(tmp_path / f"x{ext}", seconds=1.5, sr=16000, channels=2)
    info = sf.info(str(path))
    assert info.channels == 2
    assert info.samplerate == 16000  # also for Opus: 16 kHz is one of its legal rates
    assert info.frames / info.samplerate == pytest.approx(1.5, abs=0.06)


def test_opus_rate_outside_its_set_becomes_48k(tmp_path):
    path = make_audio(tmp_path / "x.opus", seconds=0.5, sr=22050)
    assert sf.info(str(path)).samplerate == 48000


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg not installed")
@pytest.mark.parametrize("ext,kind", [(".m4a", "MP4"), (".wma", "ASF")])
def test_ffmpeg_formats(tmp_path, ext, kind):
    path = make_audio(tmp_path / f"x{ext}", seconds=1.0, sr=22050, channels=2)
    audio = mutagen.File(str(path))
    assert type(audio).__name__ == kind
    assert audio.info.length == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("ext", FORMATS)
def test_tags_are_written(tmp_path, ext):
    tags = {"title": "T", "artist": "A", "album": "Al", "albumartist": "AA", "date": "2001", "genre": ["Rock", "Jazz"]}
    path = make_audio(tmp_path / f"x{ext}", seconds=0.5, tags=tags)
    easy = mutagen.File(str(path), easy=True)
    if easy is not None and ext not in (".wav", ".aiff", ".wma"):  # no "easy" interface for these
        assert easy["genre"] == ["Rock", "Jazz"]
        assert easy["title"] == ["T"]
    text = repr(mutagen.File(str(path)).tags)
    for value in ("Rock", "Jazz", "AA", "2001"):
        assert value in text


def test_lossless_content_is_the_signal(tmp_path):
    path = make_audio(tmp_path / "x.flac", seconds=0.5, sr=8000, channels=3, signal="chirp")
    y, sr = sf.read(str(path), dtype="float32")
    np.testing.assert_allclose(y, tone(0.5, 8000, 3, signal="chirp"), atol=1 / 32768)


def test_signals_are_deterministic_and_bounded():
    for signal in SIGNALS:
        a, b = tone(0.3, 8000, 2, signal=signal), tone(0.3, 8000, 2, signal=signal)
        np.testing.assert_array_equal(a, b)
        assert a.shape == (2400, 2) and a.dtype == np.float32
        assert 0.05 < np.abs(a).max() <= 0.5
    assert tone(0.0, 8000, 1).shape == (0, 1)


def test_mistakes_are_reported(tmp_path):
    with pytest.raises(ValueError):
        make_audio(tmp_path / "x.xyz")
    with pytest.raises(ValueError):
        make_audio(tmp_path / "x.flac", tags={"mood": "happy"})
    with pytest.raises(ValueError):
        make_audio(tmp_path / "x.au", tags={"genre": "Rock"})
    with pytest.raises(ValueError):
        tone(1.0, signal="square")
