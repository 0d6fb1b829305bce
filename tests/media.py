"""Generator of small REAL audio files for tests (shared by every engineer's tests).

``make_audio(path, ...)`` writes a tone in the container named by the file extension and, when
asked, tags it with mutagen directly (never through ``genre_desktop.tagging``, so tests of the
tagging code do not build their fixtures with the code under test).

- .wav .flac .ogg .opus .mp3 .aiff .au are written with soundfile (libsndfile);
- .m4a (AAC) and .wma (WMA v2) are encoded by an ffmpeg subprocess from a temporary WAV.

``FORMATS`` lists the taggable extensions this machine can generate (``.au`` is generated too but
has no tag format, so it is not in the list). Opus only allows 8/12/16/24/48 kHz, so a requested
rate outside that set is written at 48 kHz.

Example::

    from media import make_audio, FORMATS   # tests/ is on sys.path under pytest
    p = make_audio(tmp_path / "a.flac", seconds=2, tags={"artist": "X", "genre": ["Rock", "Jazz"]})
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

# extension -> (soundfile format, subtype); None means "ffmpeg encodes it".
_SOUNDFILE = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".opus": ("OGG", "OPUS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
    ".aiff": ("AIFF", "PCM_16"),
    ".aif": ("AIFF", "PCM_16"),
    ".au": ("AU", "PCM_16"),
}
_FFMPEG_CODEC = {".m4a": ["-c:a", "aac", "-b:a", "96k"], ".wma": ["-c:a", "wmav2", "-b:a", "64k"]}
_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
TAG_KEYS = ("title", "artist", "album", "albumartist", "date", "genre")


@lru_cache(maxsize=None)
def ffmpeg_available() -> bool:
    """True when an ``ffmpeg`` executable is on PATH and runs."""
    exe = shutil.which("ffmpeg")
    if not exe:
        return False
    try:
        return subprocess.run([exe, "-version"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _soundfile_can(ext: str) -> bool:
    fmt, subtype = _SOUNDFILE[ext]
    return fmt in sf.available_formats() and subtype in sf.available_subtypes(fmt)


def _available_formats() -> list[str]:
    exts = [e for e in (".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff") if _soundfile_can(e)]
    if ffmpeg_available():
        exts += list(_FFMPEG_CODEC)
    return exts


FORMATS: list[str] = _available_formats()


SIGNALS = ("tone", "chirp", "noise")


def tone(seconds: float = 1.0, sr: int = 22050, channels: int = 1, freq: float = 440.0,
         signal: str = "tone") -> np.ndarray:
    """The deterministic test signal: float32 (frames, channels), peak at most 0.5.

    - "tone": a sine at ``freq`` plus a quieter partial at 2.5*freq; channel k is phase-shifted by
      k*pi/3, so channels differ (averaging to mono is observable). Periodic: do not use it to
      check time alignment.
    - "chirp": a sweep from freq/4 to min(8*freq, 0.4*sr) over ``seconds`` (aperiodic, so a
      window of it can be located in time); channel k is delayed by k samples.
    - "noise": seeded white noise (the same for a given length), independent per channel.
    """
    if signal not in SIGNALS:
        raise ValueError(f"unknown signal {signal!r}; use one of {SIGNALS}")
    n = int(round(seconds * sr))
    if channels < 1 or n == 0:
        return np.zeros((n, max(channels, 0)), np.float32)
    t = np.arange(n, dtype=np.float64) / sr
    if signal == "noise":
        rng = np.random.default_rng(12345)
        return (0.15 * rng.standard_normal((n, channels))).clip(-0.5, 0.5).astype(np.float32)
    cols = []
    for k in range(channels):
        if signal == "tone":
            col = 0.4 * np.sin(2 * np.pi * freq * t + k * np.pi / 3) + 0.1 * np.sin(2 * np.pi * 2.5 * freq * t)
        else:
            f0, f1 = freq / 4, min(freq * 8, 0.4 * sr)
            span = max(seconds, 1e-9)
            # Exponential sweep: phase = 2*pi*f0*T/ln(f1/f0) * ((f1/f0)**(t/T) - 1)
            tk = np.clip(t - k / sr, 0, None)
            col = 0.45 * np.sin(2 * np.pi * f0 * span / np.log(f1 / f0) * ((f1 / f0) ** (tk / span) - 1))
        cols.append(col)
    return np.stack(cols, axis=1).astype(np.float32)


def make_audio(
    path: str | os.PathLike[str],
    *,
    seconds: float = 1.0,
    sr: int = 22050,
    channels: int = 1,
    freq: float = 440.0,
    tags: dict | None = None,
    signal: str = "tone",
) -> Path:
    """Write a real audio file at ``path`` (container from the extension) and return its Path.

    ``signal`` is "tone" (default), "chirp" or "noise" (see ``tone``).
    ``tags`` keys: title, artist, album, albumartist, date (str) and genre (str or list of str).
    Raises ValueError for an unknown extension or tag key, RuntimeError when ffmpeg is needed but
    missing or fails.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if tags:
        unknown = set(tags) - set(TAG_KEYS)
        if unknown:
            raise ValueError(f"unknown tag keys {sorted(unknown)}; use {TAG_KEYS}")
    if tags and ext == ".au":
        raise ValueError(".au files have no tag format; call make_audio without tags")
    path.parent.mkdir(parents=True, exist_ok=True)
    if ext in _SOUNDFILE:
        fmt, subtype = _SOUNDFILE[ext]
        if ext == ".opus" and sr not in _OPUS_RATES:
            sr = 48000
        _write_soundfile(path, tone(seconds, sr, channels, freq, signal), sr, fmt, subtype)
    elif ext in _FFMPEG_CODEC:
        _encode_with_ffmpeg(path, tone(seconds, sr, channels, freq, signal), sr, _FFMPEG_CODEC[ext])
    else:
        raise ValueError(f"make_audio cannot write {ext!r}; known: {sorted(set(_SOUNDFILE) | set(_FFMPEG_CODEC))}")
    if tags:
        _TAGGERS[ext](path, _normalise(tags))
    return path


def _write_soundfile(path: Path, y: np.ndarray, sr: int, fmt: str, subtype: str) -> None:
    # Written in blocks: libsndfile 1.2's Vorbis encoder crashes (SIGSEGV) when handed a long
    # signal (about a minute of stereo) in one sf_write call.
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=y.shape[1], format=fmt, subtype=subtype) as f:
        for start in range(0, len(y), 16384):
            f.write(y[start:start + 16384])


def _encode_with_ffmpeg(path: Path, y: np.ndarray, sr: int, codec_args: list[str]) -> None:
    if not ffmpeg_available():
        raise RuntimeError(f"ffmpeg is needed to write {path.suffix} files but is not available")
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "src.wav")
        sf.write(wav, y, sr, subtype="PCM_16")
        cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", wav, *codec_args, str(path)]
        proc = subprocess.run(cmd, capture_output=True, timeout=120)
        if proc.returncode != 0:
            raise RuntimeError(f"ffmpeg failed for {path}: {proc.stderr.decode(errors='replace')}")


def _normalise(tags: dict) -> dict[str, list[str]]:
    out = {}
    for key, value in tags.items():
        values = [value] if isinstance(value, str) else list(value)
        out[key] = [str(v) for v in values]
    return out


def _tag_id3(path: Path, tags: dict[str, list[str]]) -> None:
    from mutagen import File
    from mutagen.id3 import TALB, TCON, TDRC, TIT2, TPE1, TPE2

    frames = {"title": TIT2, "artist": TPE1, "album": TALB, "albumartist": TPE2, "date": TDRC, "genre": TCON}
    audio = File(path)
    if audio.tags is None:
        audio.add_tags()
    for key, values in tags.items():
        audio.tags.add(frames[key](encoding=3, text=values))
    audio.save()


def _tag_vorbis(path: Path, tags: dict[str, list[str]]) -> None:
    from mutagen import File

    audio = File(path)
    if audio.tags is None:
        audio.add_tags()
    for key, values in tags.items():
        audio.tags[key] = values
    audio.save()


def _tag_mp4(path: Path, tags: dict[str, list[str]]) -> None:
    from mutagen.mp4 import MP4

    keys = {"title": "\xa9nam", "artist": "\xa9ART", "album": "\xa9alb", "albumartist": "aART",
            "date": "\xa9day", "genre": "\xa9gen"}
    audio = MP4(path)
    if audio.tags is None:
        audio.add_tags()
    for key, values in tags.items():
        audio.tags[keys[key]] = values
    audio.save()


def _tag_asf(path: Path, tags: dict[str, list[str]]) -> None:
    from mutagen.asf import ASF

    keys = {"title": "Title", "artist": "Author", "album": "WM/AlbumTitle", "albumartist": "WM/AlbumArtist",
            "date": "WM/Year", "genre": "WM/Genre"}
    audio = ASF(path)
    for key, values in tags.items():
        audio.tags[keys[key]] = values
    audio.save()


_TAGGERS = {
    ".mp3": _tag_id3, ".wav": _tag_id3, ".aiff": _tag_id3, ".aif": _tag_id3,
    ".flac": _tag_vorbis, ".ogg": _tag_vorbis, ".opus": _tag_vorbis,
    ".m4a": _tag_mp4, ".wma": _tag_asf,
}


# Audio in containers the app reads (where ffmpeg decodes them) but does not tag: name ->
# (ffmpeg codec arguments, ffmpeg muxer). Written under any file name (e.g. renamed to .mp3).
UNTAGGABLE = {
    "wavpack": (["-c:a", "wavpack"], "wv"),
    "tta": (["-c:a", "tta"], "tta"),
    "speex": (["-c:a", "libspeex", "-ar", "16000"], "spx"),
    "caf": (["-c:a", "pcm_s16le"], "caf"),
    "matroska": (["-c:a", "flac"], "matroska"),
}


def make_untaggable(path: str | os.PathLike[str], kind: str, *, seconds: float = 1.0, sr: int = 22050) -> Path:
    """Write real ``kind`` audio (a key of UNTAGGABLE) at ``path``, whatever its extension (ffmpeg)."""
    path = Path(path)
    codec, muxer = UNTAGGABLE[kind]
    _encode_with_ffmpeg(path, tone(seconds, sr, 1, 440.0, "tone"), sr, [*codec, "-f", muxer])
    return path


def corrected_library(root: Path, store_path) -> None:
    """Eight short tagged tracks (techno noise, ambient tones; four artists each) scanned into the
    store at ``store_path`` and corrected by the librarian: enough to train a model."""
    from genre_desktop.core.status import CORRECTED
    from genre_desktop.library.scanner import scan
    from genre_desktop.library.store import Store

    for genre, signal in (("techno", "noise"), ("ambient", "tone")):
        for a in range(4):
            make_audio(root / genre / f"{a}.wav", seconds=5.0 + 0.3 * a, freq=220.0 * (1 + 0.2 * a), signal=signal,
                       tags={"artist": f"{genre} {a}", "genre": genre})
    store = Store.open(store_path)
    for _ in scan(root, store):
        pass
    for track in store.all():
        store.update(track.path, chosen=["Techno" if "techno" in track.path else "Ambient"], status=CORRECTED)
    store.close()


RESCORE_SPECS = {"techno": ("noise", 440.0), "classical": ("tone", 180.0)}


def two_genre_library(root: Path) -> Path:
    """Twelve short tagged WAVs under ``root`` (techno noise and classical tones, three artists of
    two tracks each), for the tests that analyse, train and re-score a small library."""
    for genre, (signal, base) in RESCORE_SPECS.items():
        for a in range(3):
            for t in range(2):
                make_audio(root / genre / f"{a}-{t}.wav", seconds=5.5 + 0.25 * (2 * a + t),
                           freq=base * (1 + 0.12 * a + 0.05 * t), signal=signal,
                           tags={"artist": f"{genre} artist {a}", "genre": genre.title()})
    return root
