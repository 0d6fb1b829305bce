"""Decoding with an ffmpeg subprocess (M4A/AAC, WMA, the ffmpeg-only formats, anything libsndfile
rejects), and ffmpeg's error lines in the user's words.

``-ss``/``-t`` come *before* ``-i`` (input seeking), and ffmpeg prints raw float32 at the stream's
own rate and channel count, so downmix and resampling stay ours. Known limit: ffmpeg's WMA decoder
keeps its start-up delay in a full decode but not after a seek, so a WMA window sits up to ~0.1 s
away from the same span of a full decode (and may be that much shorter); M4A/AAC windows match a
full decode except for ~20 ms at the edges. No file can hang a job: the timeout grows with the
audio's length, within bounds.

ffmpeg speaks to developers ("Not yet implemented in FFmpeg, patches welcome", "moov atom not
found"); ``ffmpeg_reason`` says what that means for the file ("this ALAC variant cannot be
decoded"), and keeps any other line without ffmpeg's stream and pointer notation.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np

from genre_desktop.audio.base import DecodeError, check_size
from genre_desktop.audio.formats import DISPLAY_NAMES, looks_like_audio, plausibly_audio, unreadable_reason
from genre_desktop.audio.probe import bounded, check_plausible, ffprobe_info, mutagen_info

log = logging.getLogger(__name__)

# Seconds ffmpeg may take: a fixed allowance plus a share of the decoded length (ffmpeg decodes
# compressed audio at well over 50x real time even on slow machines), so no file can hang a job.
FFMPEG_BASE_TIMEOUT = 30.0
FFMPEG_TIMEOUT_PER_AUDIO_SECOND = 0.05
FFMPEG_MAX_TIMEOUT = 900.0

_REPEATED = re.compile(r"^\s*(\[[^\]]*\]\s*)?Last message repeated \d+ times?\s*$", re.IGNORECASE)
# ffmpeg's sentence -> the user's ("{codec}": the codec's name, else "audio").
_WORDS = (
    (re.compile(r"patches welcome|not (yet )?implemented|is not supported|unsupported", re.I),
     "this {codec} variant cannot be decoded (ffmpeg does not support it)"),
    (re.compile(r"moov atom not found", re.I),
     "the file has no index (its moov atom is missing: an interrupted recording or download?)"),
    (re.compile(r"decoder \(codec [^)]*\) not found|unknown decoder|no decoder|codec not (currently )?supported",
                re.I), "its {codec} codec cannot be decoded here"),
    (re.compile(r"matches no streams|does not contain any stream|no audio stream", re.I),
     "the file holds no audio stream"),
    (re.compile(r"could not find codec parameters|unspecified (sample format|sample rate|number of channels)",
                re.I), "the format of its audio stream cannot be determined"),
    (re.compile(r"invalid data found|header missing|invalid frame|error while decoding", re.I),
     "its audio data is damaged (ffmpeg found invalid data)"),
    (re.compile(r"end of file", re.I), "the file ends inside its audio"),
    (re.compile(r"permission denied", re.I), "permission denied"),
)
_NOTATION = re.compile(r"\[[\w-]+ @ (0x)?[0-9a-f]+\]\s*|\s*(for )?(input |output )?stream #\d+:\d+\s*:?\s*", re.I)


def ffmpeg_read(path: Path, offset: float, duration: float | None, *, soundfile_error: str
                ) -> tuple[np.ndarray, int]:
    """(channels, frames) float32 at the stream's native rate, decoded by ffmpeg."""
    exe = shutil.which("ffmpeg")
    if exe is None:
        if looks_like_audio(path):
            raise DecodeError(path, f"format not readable without ffmpeg, which is not installed "
                                    f"(soundfile: {soundfile_error})")
        raise DecodeError(path, "not an audio file: header not recognised")
    if not plausibly_audio(path):
        raise DecodeError(path, "not an audio file: header not recognised")
    info = mutagen_info(path) or ffprobe_info(path)
    if info is None:
        raise DecodeError(path, unreadable_reason(path))
    channels, native_sr = info.channels, info.samplerate
    check_plausible(path, channels, native_sr)
    info = bounded(path, info)
    cmd = [exe, "-nostdin", "-hide_banner", "-v", "error"]
    if offset:
        cmd += ["-ss", f"{offset:.6f}"]
    if duration is not None:
        cmd += ["-t", f"{duration:.6f}"]
    cmd += ["-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn",
            "-f", "f32le", "-acodec", "pcm_f32le", "-ac", str(channels), "-ar", str(native_sr), "pipe:1"]
    span = max(info.duration - offset, 0.0)
    if duration is not None:
        span = min(span, duration) if info.duration > 0 else duration
    check_size(path, int(span * native_sr), channels)
    timeout = min(FFMPEG_BASE_TIMEOUT + FFMPEG_TIMEOUT_PER_AUDIO_SECOND * span, FFMPEG_MAX_TIMEOUT)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DecodeError(path, f"ffmpeg did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot run ffmpeg: {exc}") from None
    if proc.returncode != 0:
        log.info("ffmpeg failed on %s: %s", path, proc.stderr.decode("utf-8", errors="replace").strip()[-2000:])
        raise DecodeError(path, f"ffmpeg cannot decode it: {ffmpeg_reason(proc.stderr, _codec_name(info))}")
    data = np.frombuffer(proc.stdout, dtype="<f4")
    usable = data.size - data.size % channels
    y = data[:usable].reshape(-1, channels).T.astype(np.float32)
    if duration is not None:
        y = y[:, : int(duration * native_sr)]
    return np.ascontiguousarray(y), native_sr


def _codec_name(info) -> str:
    if info.codec:
        return info.codec.split(" (")[0]
    return DISPLAY_NAMES.get(info.format, info.format.upper() if info.format else "audio")


def last_line(stderr: bytes) -> str:
    """ffmpeg's last real error line ("Last message repeated N times" says nothing by itself)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _REPEATED.match(ln)]
    return lines[-1] if lines else "no error message"


def ffmpeg_reason(stderr: bytes, codec: str = "audio") -> str:
    """What ffmpeg's error output means for the user (its words where no translation is known)."""
    text = stderr.decode("utf-8", errors="replace")
    for pattern, words in _WORDS:  # the most specific first: "moov atom not found" before "invalid data"
        if pattern.search(text):
            return words.format(codec=codec or "audio")
    cleaned = _NOTATION.sub(" ", last_line(stderr)).strip(" :")
    return cleaned or "no error message"
