"""Header probes: duration, rate, channels and format of a file without decoding it.

soundfile (libsndfile) first, then mutagen (every container it knows, the ffmpeg-only ones too),
then ffprobe for files that plausibly hold audio. Header durations are bounded by what the file's
size can hold (a 552-byte MP3 claiming 3.8e14 s is corrupt), and an MP3 cut short says so.
DSD files (DSF, DSDIFF) report the rate ffmpeg decodes them at (the 1-bit rate / 8).
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from genre_desktop.audio.base import DecodeError, check_file, decoder_notes
from genre_desktop.audio.formats import MUTAGEN_FORMATS, plausibly_audio, soundfile_format, unreadable_reason

log = logging.getLogger(__name__)

PROBE_TIMEOUT = 20.0
# Headers claiming more than this are corrupt, not audio we could use (DSD256 decodes at 1.4 MHz).
MAX_CHANNELS = 64
RATE_RANGE = (1000, 1_600_000)
# The lowest bit rate a real stream of a format has (bits per second): a header claiming a longer
# duration than the file's bytes can carry at that rate is corrupt (a 552-byte MP3 claiming
# 3.8e14 s), and the duration is bounded by the file size. 8 kb/s is MPEG audio's lowest rate;
# other codecs get a floor well below anything real (near-silent FLAC/Opus compress very far).
_MIN_BITRATE = {"mp3": 8000}
_DEFAULT_MIN_BITRATE = 500
_DSD = ("DSF", "DSDIFF")


@dataclass(frozen=True)
class AudioInfo:
    """What the header says: duration in seconds, native rate, channel count, format name."""

    duration: float
    samplerate: int
    channels: int
    format: str
    # What is wrong with the file although it decodes (e.g. "truncated MP3: ..."); "" if nothing.
    problem: str = ""
    # The codec's name for messages ("ALAC", "Musepack SV8", ...), where the probe tells it.
    codec: str = ""


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read the header only (soundfile, then mutagen, then ffprobe); raise DecodeError if unreadable."""
    path = check_file(path)
    try:
        with decoder_notes(path):
            info = sf.info(str(path))
        if info.samplerate > 0 and info.channels > 0:
            return bounded(path, AudioInfo(info.frames / info.samplerate, int(info.samplerate),
                                           int(info.channels), soundfile_format(info.format, info.subtype)))
    except Exception as exc:  # libsndfile raises several types for unknown/corrupt files
        log.debug("soundfile cannot probe %s: %s", path, exc)
    info = mutagen_info(path) or (ffprobe_info(path) if plausibly_audio(path) else None)
    if info is None:
        raise DecodeError(path, unreadable_reason(path))
    check_plausible(path, info.channels, info.samplerate)
    return bounded(path, info)


def bounded(path: Path, info: AudioInfo) -> AudioInfo:
    """``info`` with its duration bounded by what the file's size can hold (see _MIN_BITRATE),
    and by the audio an MP3 cut short still holds (``mp3_truncation``)."""
    try:
        size = path.stat().st_size
    except OSError:
        return info
    if info.format == "mp3":
        cut = mp3_truncation(path)
        if cut is not None and cut[0] < info.duration:
            info = AudioInfo(cut[0], info.samplerate, info.channels, info.format, cut[1], info.codec)
    limit = size * 8 / _MIN_BITRATE.get(info.format, _DEFAULT_MIN_BITRATE)
    if math.isfinite(info.duration) and 0 <= info.duration <= limit:
        return info
    log.warning("%s: the header claims %.6g s, more than its %d bytes can hold; using %.1f s",
                path, info.duration, size, limit)
    return AudioInfo(limit if math.isfinite(info.duration) and info.duration > 0 else 0.0,
                     info.samplerate, info.channels, info.format, info.problem, info.codec)


def mp3_truncation(path: str | os.PathLike[str]) -> tuple[float, str] | None:
    """(seconds the file still holds, reason) for an MP3 cut short, None otherwise.

    A VBR header (Xing/Info/VBRI) states the stream's length and byte count; an interrupted copy
    or download keeps the header and loses the end. Compared by bytes: cheap, no decoding.
    Parses the file; a caller that has already (``tagging.read_tags`` does) uses ``mp3_truncation_of``.
    """
    from mutagen.mp3 import MP3

    try:
        audio = MP3(str(path))
        size = os.path.getsize(path)
    except Exception:  # not an MP3 mutagen reads: nothing to compare
        return None
    return mp3_truncation_of(audio, size)


def mp3_truncation_of(audio: object, size: int) -> tuple[float, str] | None:
    """``mp3_truncation`` for an MP3 mutagen has already parsed (``audio``: a ``mutagen.mp3.MP3``)
    of ``size`` bytes: the scan reads the tags and this from one parse of the file."""
    info, tags = getattr(audio, "info", None), getattr(audio, "tags", None)
    try:
        length, bitrate = float(getattr(info, "length", 0) or 0), int(getattr(info, "bitrate", 0) or 0)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(length) or length <= 0 or bitrate <= 0:
        return None
    # The stream starts after an ID3v2 tag (its size counts the header); the VBR header's claim is the stream's.
    start = getattr(tags, "size", 0) if tags is not None and getattr(tags, "version", (2,))[0] == 2 else 0
    held_bytes = size - start
    claimed = bitrate / 8 * length
    if held_bytes >= 0.9 * claimed - 4096:
        return None
    held = max(length * held_bytes / claimed, 0.0)
    return held, (f"truncated MP3: the header says {_clock(length)}, the file holds about {_clock(held)} "
                  f"(an interrupted copy or download?)")


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def check_plausible(path: Path, channels: int, samplerate: int) -> None:
    if not (1 <= channels <= MAX_CHANNELS and RATE_RANGE[0] <= samplerate <= RATE_RANGE[1]):
        raise DecodeError(path, f"corrupt header: {channels} channels at {samplerate} Hz")


def mutagen_info(path: Path) -> AudioInfo | None:
    import mutagen

    try:
        f = mutagen.File(str(path))
    except Exception as exc:  # mutagen raises many types for corrupt files; all mean "not this way"
        log.debug("mutagen cannot probe %s: %s", path, exc)
        return None
    info = getattr(f, "info", None)
    sr = int(getattr(info, "sample_rate", 0) or 0)
    channels = int(getattr(info, "channels", 0) or 0)
    if f is None or sr <= 0 or channels <= 0:
        return None
    kind = type(f).__name__
    if kind in _DSD:
        sr //= 8  # ffmpeg decodes 1-bit DSD to PCM at an eighth of its rate
    length = float(getattr(info, "length", 0.0) or 0.0)
    codec = str(getattr(info, "codec_description", "") or "")
    return AudioInfo(length, sr, channels, MUTAGEN_FORMATS.get(kind, kind.lower()), codec=codec)


def ffprobe_info(path: Path) -> AudioInfo | None:
    exe = shutil.which("ffprobe")
    if exe is None:
        return None
    cmd = [exe, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels,duration,codec_name:format=format_name,duration", "-of", "json", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PROBE_TIMEOUT)
        doc = json.loads(proc.stdout or b"{}")
        stream = doc["streams"][0]
        sr, channels = int(stream["sample_rate"]), int(stream["channels"])
        dur = float(stream.get("duration") or doc.get("format", {}).get("duration") or 0.0)
        fmt = doc.get("format", {}).get("format_name", "").split(",")[0]
        codec = str(stream.get("codec_name") or "")
    except (subprocess.SubprocessError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.debug("ffprobe cannot probe %s: %s", path, exc)
        return None
    if sr <= 0 or channels <= 0 or not math.isfinite(dur):
        return None
    return AudioInfo(dur, sr, channels, fmt or path.suffix.lstrip(".").lower(), codec=codec)
