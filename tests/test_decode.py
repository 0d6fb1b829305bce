"""audio.decode / audio.probe on real generated files of every container, plus hostile input."""

from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.audio import SUPPORTED_EXTENSIONS, AudioInfo, DecodeError, decode, probe
from genre_desktop.audio.decode import MP3_SEEK_PREROLL

# The package re-exports the function ``decode``, which shadows the submodule of the same name.
base_mod = importlib.import_module("genre_desktop.audio.base")
ffmpeg_mod = importlib.import_module("genre_desktop.audio.ffmpeg")
from media import FORMATS, ffmpeg_available, make_audio, tone

ALL_GENERATED = FORMATS + [".au"]
EXPECTED_FORMAT = {".wav": "wav", ".flac": "flac", ".ogg": "ogg", ".opus": "opus", ".mp3": "mp3",
                   ".aiff": "aiff", ".m4a": "m4a", ".wma": "wma", ".au": "au"}
needs_ffmpeg = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg not installed")


@pytest.fixture(scope="module")
def librosa():
    return pytest.importorskip("librosa")


@pytest.fixture(scope="module")
def long_files(tmp_path_factory):
    """Two-minute chirps (aperiodic, so a misplaced window cannot match by chance)."""
    folder = tmp_path_factory.mktemp("long")
    exts = [".flac", ".mp3", ".ogg"] + ([".m4a", ".wma"] if ffmpeg_available() else [])
    return {e: make_audio(folder / f"chirp{e}", seconds=120, sr=44100, channels=2, signal="chirp") for e in exts}


def dominant_frequency(y: np.ndarray, sr: int) -> float:
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return float(np.fft.rfftfreq(len(y), 1 / sr)[np.argmax(spectrum)])


@pytest.mark.parametrize("ext", ALL_GENERATED)
def test_every_container_decodes_to_mono_float32_at_the_requested_rate(tmp_path, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=2.0, sr=44100, channels=2, freq=440.0)
    y = decode(path, sr=16000)
    assert y.dtype == np.float32 and y.ndim == 1
    # Lossy codecs pad a little (encoder delay / final frame); never by more than 0.1 s.
    assert abs(len(y) - 32000) <= 1600
    assert 0.2 < np.abs(y).max() < 1.0
    assert dominant_frequency(y, 16000) == pytest.approx(440.0, abs=5.0)


@pytest.mark.parametrize("ext", ALL_GENERATED)
def test_probe_reads_the_header(tmp_path, ext):
    path = make_audio(tmp_path / f"a{ext}", seconds=1.5, sr=22050 if ext != ".opus" else 48000, channels=2)
    info = probe(path)
    assert isinstance(info, AudioInfo)
    assert info.format == EXPECTED_FORMAT[ext]
    assert info.channels == 2
    assert info.samplerate == (48000 if ext == ".opus" else 22050)
    assert info.duration == pytest.approx(1.5, abs=0.1)


def test_supported_extensions_are_lowercase_with_dot():
    assert {".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".aif", ".aiff", ".m4a", ".mp4",
            ".aac", ".wma", ".au"} <= SUPPORTED_EXTENSIONS
    assert all(e.startswith(".") and e == e.lower() for e in SUPPORTED_EXTENSIONS)


def test_matches_librosa_for_a_44k_stereo_wav(tmp_path, librosa):
    path = make_audio(tmp_path / "s.wav", seconds=3.0, sr=44100, channels=2, signal="noise")
    ours = decode(path, 22050)
    theirs, sr = librosa.load(str(path), sr=22050)
    assert sr == 22050
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("ext", [".flac", ".ogg", ".opus", ".mp3", ".aiff", ".au"])
def test_matches_librosa_for_every_soundfile_container(tmp_path, librosa, ext):
    path = make_audio(tmp_path / f"s{ext}", seconds=2.0, sr=48000 if ext == ".opus" else 44100, channels=2,
                      signal="noise")
    np.testing.assert_array_equal(decode(path, 22050), librosa.load(str(path), sr=22050)[0])


def test_matches_librosa_for_a_gtzan_clip(gtzan_dir, librosa):
    path = os.path.join(gtzan_dir, "clips", "jazz.00000.au")
    ours = decode(path, 22050)
    theirs, _ = librosa.load(path, sr=22050)
    np.testing.assert_array_equal(ours, theirs)
    # GTZAN clips are stored at 22050 Hz already: other rates resample and still match.
    np.testing.assert_array_equal(decode(path, 16000), librosa.load(path, sr=16000)[0])


def test_matches_librosa_with_offset_and_duration_on_flac(tmp_path, librosa):
    path = make_audio(tmp_path / "s.flac", seconds=4.0, sr=44100, channels=2, signal="chirp")
    ours = decode(path, 22050, offset=1.25, duration=2.0)
    theirs, _ = librosa.load(str(path), sr=22050, offset=1.25, duration=2.0)
    np.testing.assert_array_equal(ours, theirs)


# Samples ignored at both ends of a window: the resampler's edge transient, and for AAC the MDCT
# overlap of the first frame after ffmpeg's seek (measured up to 355 samples at 22050 Hz).
EDGE = 512


def _best_lag(window: np.ndarray, full: np.ndarray, start: int, max_lag: int) -> tuple[int, float]:
    """The lag (samples) at which ``window`` best matches ``full[start + lag:]``, and the error there."""
    n, edge = len(window), EDGE
    best = (0, np.inf)
    for lag in range(-max_lag, max_lag + 1):
        seg = full[start + lag + edge: start + lag + n - edge]
        if len(seg) != n - 2 * edge:
            continue
        err = float(np.abs(window[edge:-edge] - seg).max())
        if err < best[1]:
            best = (lag, err)
    return best


@pytest.mark.parametrize("ext", [".flac", ".mp3", ".ogg", ".m4a", ".wma"])
def test_window_equals_the_slice_of_the_full_decode_and_only_the_window_is_read(long_files, ext, monkeypatch):
    if ext not in long_files:
        pytest.skip("ffmpeg not installed")
    path, sr = long_files[ext], 22050
    full = decode(path, sr)
    # What a window asks the decoders for (not how long it takes: the machine is shared).
    asked: list = []
    real_read, real_run = sf.SoundFile.read, subprocess.run

    def read(self, frames=-1, *args, **kwargs):
        asked.append(("soundfile", frames, self.samplerate))
        return real_read(self, frames, *args, **kwargs)

    def run(cmd, *args, **kwargs):
        if cmd and "ffmpeg" in os.path.basename(str(cmd[0])):
            asked.append(("ffmpeg", list(cmd), None))
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(sf.SoundFile, "read", read)
    monkeypatch.setattr(subprocess, "run", run)
    # Offsets on whole samples at both 44100 and 22050 Hz, so the window grid equals the full one.
    for offset in (0.5, 61.3, 110.0):
        asked.clear()
        window = decode(path, sr, offset=offset, duration=5.0)
        [(how, what, native)] = [a for a in asked if a[0] == "ffmpeg"] or asked[-1:]
        if how == "soundfile":  # a bounded read after a seek (MP3: plus the pre-roll)
            assert 0 < what <= 5 * native + MP3_SEEK_PREROLL, (ext, what)
        else:  # input seeking: -ss and -t before -i, so ffmpeg decodes only the window
            assert what.index("-ss") < what.index("-i") and what.index("-t") < what.index("-i"), what
            assert float(what[what.index("-t") + 1]) == 5.0
        # WMA: see below; the window may also come out up to 0.1 s short.
        assert len(window) == pytest.approx(5 * sr, abs=int(0.1 * sr) if ext == ".wma" else 20)
        start = int(offset * sr)
        if ext == ".wma":
            # ffmpeg's WMA decoder keeps its start-up delay in a full decode but not after a seek
            # (measured: about 0.09 s); the window is the right audio,
            # shifted by less than 0.1 s.
            lag, err = _best_lag(window, full, start, max_lag=int(0.1 * sr))
        else:
            lag, err = 0, float(np.abs(window[EDGE:-EDGE] - full[start + EDGE: start + len(window) - EDGE]).max())
        assert err < 1e-4, f"{ext} window at {offset}s differs from the full decode by {err} (lag {lag})"


@pytest.mark.parametrize("channels,sr", [(1, 8000), (8, 192000), (6, 48000), (3, 96000)])
def test_channel_counts_and_rates(tmp_path, channels, sr, librosa):
    path = make_audio(tmp_path / f"c{channels}.wav", seconds=1.0, sr=sr, channels=channels)
    info = probe(path)
    assert (info.channels, info.samplerate) == (channels, sr)
    y = decode(path, 22050)
    assert len(y) == 22050
    np.testing.assert_array_equal(y, librosa.load(str(path), sr=22050)[0])


def test_mono_is_the_channel_average(tmp_path):
    path = make_audio(tmp_path / "s.flac", seconds=1.0, sr=22050, channels=2)
    expected = tone(1.0, 22050, 2).mean(axis=1)
    # PCM_16 quantisation is the only difference.
    np.testing.assert_allclose(decode(path, 22050), expected, atol=2 / 32768)


def test_window_past_the_end_and_zero_duration_are_empty(tmp_path):
    path = make_audio(tmp_path / "s.wav", seconds=1.0)
    assert decode(path, 22050, offset=5.0).shape == (0,)
    assert decode(path, 22050, offset=0.2, duration=0.0).shape == (0,)
    assert len(decode(path, 22050, offset=0.5)) == pytest.approx(11025, abs=1)


def test_a_valid_file_without_samples_decodes_to_nothing(tmp_path):
    path = make_audio(tmp_path / "zero.wav", seconds=0.0)
    assert probe(path).duration == 0.0
    assert decode(path, 22050).shape == (0,)
    assert decode(path, 16000).shape == (0,)


def test_bad_arguments_are_value_errors(tmp_path):
    path = make_audio(tmp_path / "s.wav", seconds=0.5)
    with pytest.raises(ValueError):
        decode(path, 0)
    with pytest.raises(ValueError):
        decode(path, 22050, offset=-1)


def _assert_decode_error(path, reason_part: str):
    for call in (probe, decode):
        with pytest.raises(DecodeError) as info:
            call(path)
        assert info.value.path == str(path)
        assert reason_part in info.value.reason
        assert str(info.value) == f"{path}: {info.value.reason}"


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    _assert_decode_error(path, "empty file")


def test_text_file_renamed_flac(tmp_path):
    path = tmp_path / "notes.flac"
    path.write_text("this is not audio\n" * 50)
    _assert_decode_error(path, "not an audio file: header not recognised")


def test_missing_file_and_folder(tmp_path):
    _assert_decode_error(tmp_path / "gone.wav", "file not found")
    folder = tmp_path / "dir.wav"
    folder.mkdir()
    _assert_decode_error(folder, "folder")


@pytest.mark.parametrize("name,data", [
    ("riff.wav", b"RIFF\x10\x00\x00\x00WAVE"),
    ("flac.flac", b"fLaC" + bytes(3000)),
    ("id3.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x10" + bytes(16) + b"hello world" * 300),
    ("ogg.ogg", b"OggS" + b"\x01" * 3000),
])
def test_garbage_behind_a_valid_magic_number(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    _assert_decode_error(path, "corrupt or unsupported audio")


def test_huge_fake_header_is_a_decode_error_not_a_crash(tmp_path):
    # A WAV header whose fmt chunk is noise: ffprobe may report absurd channel counts and rates.
    path = tmp_path / "fake.wav"
    path.write_bytes(b"RIFF\xff\xff\xff\x7fWAVEfmt " + bytes(range(256)) * 12)
    for call in (probe, decode):
        with pytest.raises(DecodeError):
            call(path)


def test_too_long_to_hold_in_memory_asks_for_windows(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "long.flac", seconds=3.0, sr=22050)
    monkeypatch.setattr(base_mod, "MAX_DECODE_BYTES", 22050 * 4)  # pretend: one second fits
    with pytest.raises(DecodeError, match="decode it in windows"):
        decode(path)
    assert len(decode(path, 22050, offset=1.0, duration=0.5)) == 11025


def test_truncated_mp3_gives_the_audio_that_is_there(tmp_path):
    path = make_audio(tmp_path / "full.mp3", seconds=6.0, sr=44100, channels=2)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2 + 17])  # mid-frame
    y = decode(cut, 22050)
    assert 2.5 * 22050 < len(y) < 3.5 * 22050
    assert np.isfinite(y).all()


@needs_ffmpeg
def test_truncated_m4a_is_a_decode_error(tmp_path):
    path = make_audio(tmp_path / "full.m4a", seconds=3.0)
    cut = tmp_path / "cut.m4a"
    cut.write_bytes(path.read_bytes()[:600])
    with pytest.raises(DecodeError) as info:
        decode(cut)
    assert info.value.reason


@needs_ffmpeg
def test_without_ffmpeg_the_fallback_formats_say_why(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.m4a", seconds=1.0)
    real_which = ffmpeg_mod.shutil.which
    monkeypatch.setattr(ffmpeg_mod.shutil, "which", lambda name: None if name == "ffmpeg" else real_which(name))
    with pytest.raises(DecodeError, match="ffmpeg, which is not installed"):
        decode(path)


@needs_ffmpeg
def test_ffmpeg_timeout_is_a_decode_error(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.wma", seconds=1.0)
    monkeypatch.setattr(ffmpeg_mod, "FFMPEG_BASE_TIMEOUT", 1e-4)
    monkeypatch.setattr(ffmpeg_mod, "FFMPEG_TIMEOUT_PER_AUDIO_SECOND", 0.0)
    with pytest.raises(DecodeError, match="did not finish within"):
        decode(path)


@needs_ffmpeg
def test_ffmpeg_failure_reason_is_passed_on(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "a.m4a", seconds=1.0)

    def failing_run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, b"", b"frame 3: something broke\nError while decoding\n")

    monkeypatch.setattr(ffmpeg_mod.subprocess, "run", failing_run)
    with pytest.raises(DecodeError, match="ffmpeg cannot decode it: its audio data is damaged"):
        decode(path)


def test_unreadable_file_is_reported(tmp_path, monkeypatch):
    path = make_audio(tmp_path / "locked.wav", seconds=0.5)
    path.chmod(0)
    if os.geteuid() == 0:  # root reads everything: let the permission check see what a user would
        real_access = os.access
        monkeypatch.setattr(base_mod.os, "access",
                            lambda p, mode, **kw: False if Path(p) == path else real_access(p, mode, **kw))
    try:
        _assert_decode_error(path, "permission denied")
    finally:
        path.chmod(0o644)
