"""Decode any supported audio file to mono float32 at a fixed rate, and probe headers cheaply.

``decode`` mirrors ``librosa.load(path, sr=sr, offset=offset, duration=duration)`` exactly for the
files soundfile (libsndfile) reads: the same frame arithmetic for offset/duration, the same channel
average (``librosa.to_mono``) and the same resampler (soxr "soxr_hq" plus ``fix_length``), so
features computed from ``decode`` match the ones the models were trained on. It does so without
importing librosa (slow to import, pulls numba in).

Only the requested window is read: soundfile seeks to the offset (for MP3 a little earlier, as
libsndfile's MP3 seek yields a few wrong frames, so a window is exact where ``librosa.load`` with an
offset is not); the ffmpeg fallback (M4A/AAC,
WMA, anything libsndfile rejects) gets ``-ss``/``-t`` *before* ``-i`` (input seeking) and prints
raw float32 at the stream's own rate and channel count, so downmix and resampling stay ours.
Known limit: ffmpeg's WMA decoder keeps its start-up delay in a full decode but not after a seek,
so a WMA window sits up to ~0.1 s away from the same span of a full decode (and may be that much
shorter); M4A/AAC windows match a full decode except for ~20 ms at the edges.

ffprobe/ffmpeg are only asked about files that plausibly hold audio (a known magic number, or an
MPEG/ADTS frame sync within the first 64 KB): on a gigabyte of junk named .mp3, ffprobe reads the
whole file looking for a frame (8 s per GB here), so junk is refused from its first bytes instead.

Every failure to read is a ``DecodeError`` carrying the path and a human reason; argument mistakes
by the caller (negative rate or offset) are ``ValueError``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

log = logging.getLogger(__name__)

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset(
    {".mp3", ".flac", ".ogg", ".oga", ".opus", ".wav", ".aif", ".aiff", ".m4a", ".mp4", ".aac", ".wma", ".au"}
)

# Seconds ffmpeg may take: a fixed allowance plus a share of the decoded length (ffmpeg decodes
# compressed audio at well over 50x real time even on slow machines), so no file can hang a job.
FFMPEG_BASE_TIMEOUT = 30.0
FFMPEG_TIMEOUT_PER_AUDIO_SECOND = 0.05
FFMPEG_MAX_TIMEOUT = 900.0
_PROBE_TIMEOUT = 20.0
# Refuse to hold more than this many bytes of native-rate float32 samples at once (a 10-hour
# stereo file is 12.7 GB): callers analyse such files in windows instead of crashing the process.
MAX_DECODE_BYTES = 2 * 1024**3
# Headers claiming more than this are corrupt, not audio we could use.
_MAX_CHANNELS = 64
_RATE_RANGE = (1000, 768000)
# Frames decoded and dropped before an MP3 window (measured: 8192 suffices, 4608 does not).
MP3_SEEK_PREROLL = 11520

# libsndfile major format (and Ogg codec) -> our format name.
_SOUNDFILE_FORMATS = {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "W64": "wav", "FLAC": "flac",
                      "MP3": "mp3", "AIFF": "aiff", "AU": "au"}
_OGG_CODECS = {"OPUS": "opus", "VORBIS": "ogg", "FLAC": "ogg"}
# mutagen FileType class name -> our format name.
_MUTAGEN_FORMATS = {"MP3": "mp3", "EasyMP3": "mp3", "MP4": "m4a", "EasyMP4": "m4a", "ASF": "wma",
                    "AAC": "aac", "FLAC": "flac", "OggVorbis": "ogg", "OggFLAC": "ogg", "OggOpus": "opus",
                    "WAVE": "wav", "AIFF": "aiff"}
# First bytes of the containers we support; used only to word the error for unreadable files.
_MAGIC = (b"RIFF", b"RF64", b"FORM", b"fLaC", b"OggS", b"ID3", b".snd", b"\x30\x26\xb2\x75",
          # audio we cannot tag but ffmpeg may decode (WavPack, APE, TTA, TAK, DSF, DSDIFF,
          # Musepack, OptimFROG, CAF, Matroska), whatever the file's extension
          b"wvpk", b"MAC ", b"TTA1", b"tBaK", b"DSD ", b"FRM8", b"MPCK", b"MP+", b"OFR ", b"caff",
          b"\x1aE\xdf\xa3")
# The lowest bit rate a real stream of a format has (bits per second): a header claiming a longer
# duration than the file's bytes can carry at that rate is corrupt (a 552-byte MP3 claiming
# 3.8e14 s), and the duration is bounded by the file size. 8 kb/s is MPEG audio's lowest rate;
# other codecs get a floor well below anything real (near-silent FLAC/Opus compress very far).
_MIN_BITRATE = {"mp3": 8000}
_DEFAULT_MIN_BITRATE = 500


class DecodeError(Exception):
    """The file cannot be decoded (or probed). ``str(exc) == f"{path}: {reason}"``."""

    def __init__(self, path: str | os.PathLike[str], reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class AudioInfo:
    """What the header says: duration in seconds, native rate, channel count, format name."""

    duration: float
    samplerate: int
    channels: int
    format: str
    # What is wrong with the file although it decodes (e.g. "truncated MP3: ..."); "" if nothing.
    problem: str = ""


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read the header only (soundfile, then mutagen, then ffprobe); raise DecodeError if unreadable."""
    path = _check_file(path)
    try:
        with _decoder_notes(path):
            info = sf.info(str(path))
        if info.samplerate > 0 and info.channels > 0:
            return _bounded(path, AudioInfo(info.frames / info.samplerate, int(info.samplerate),
                                            int(info.channels), _soundfile_format(info.format, info.subtype)))
    except Exception as exc:  # libsndfile raises several types for unknown/corrupt files
        log.debug("soundfile cannot probe %s: %s", path, exc)
    info = _mutagen_info(path) or (_ffprobe_info(path) if _plausibly_audio(path) else None)
    if info is None:
        raise DecodeError(path, _unreadable_reason(path))
    _check_plausible(path, info.channels, info.samplerate)
    return _bounded(path, info)


def _bounded(path: Path, info: AudioInfo) -> AudioInfo:
    """``info`` with its duration bounded by what the file's size can hold (see _MIN_BITRATE),
    and by the audio an MP3 cut short still holds (``mp3_truncation``)."""
    try:
        size = path.stat().st_size
    except OSError:
        return info
    if info.format == "mp3":
        cut = mp3_truncation(path)
        if cut is not None and cut[0] < info.duration:
            info = AudioInfo(cut[0], info.samplerate, info.channels, info.format, cut[1])
    limit = size * 8 / _MIN_BITRATE.get(info.format, _DEFAULT_MIN_BITRATE)
    if math.isfinite(info.duration) and 0 <= info.duration <= limit:
        return info
    log.warning("%s: the header claims %.6g s, more than its %d bytes can hold; using %.1f s",
                path, info.duration, size, limit)
    return AudioInfo(limit if math.isfinite(info.duration) and info.duration > 0 else 0.0,
                     info.samplerate, info.channels, info.format, info.problem)


def mp3_truncation(path: str | os.PathLike[str]) -> tuple[float, str] | None:
    """(seconds the file still holds, reason) for an MP3 cut short, None otherwise.

    A VBR header (Xing/Info/VBRI) states the stream's length and byte count; an interrupted copy
    or download keeps the header and loses the end. Compared by bytes: cheap, no decoding.
    """
    from mutagen.mp3 import MP3

    try:
        audio = MP3(str(path))
        size = os.path.getsize(path)
    except Exception:  # not an MP3 mutagen reads: nothing to compare
        return None
    length, bitrate = float(audio.info.length or 0), int(audio.info.bitrate or 0)
    if length <= 0 or bitrate <= 0:
        return None
    start = getattr(audio.tags, "size", 0) if audio.tags is not None and getattr(audio.tags, "version", (2,))[0] == 2 else 0
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


def _mpeg_like(path: Path) -> bool:
    if path.suffix.lower() == ".mp3":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(3)
    except OSError:
        return False
    return head == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0)


class _decoder_notes:
    """Send what libsndfile's decoders print on fd 2 ("Xing stream size off...") to the log.

    mpg123 writes its notes straight to the process's stderr, under any Python redirection; they
    belong in the log, not on the user's terminal. fd 2 is swapped for a temporary file for the
    duration of the call (serialised by a lock: the swap is process-wide).
    """

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> "_decoder_notes":
        self._saved = None
        self._active = _mpeg_like(self.path)  # only mpg123 talks; other reads are not serialised
        if not self._active:
            return self
        self._lock.acquire()
        try:
            self._sink = tempfile.TemporaryFile()
            sys.stderr.flush()
            self._saved = os.dup(2)
            os.dup2(self._sink.fileno(), 2)
        except OSError:
            self._saved = None
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._active:
            return
        try:
            if self._saved is not None:
                os.dup2(self._saved, 2)
                os.close(self._saved)
                self._sink.seek(0)
                notes = self._sink.read(64 * 1024).decode("utf-8", errors="replace").strip()
                if notes:
                    log.info("decoder notes for %s: %s", self.path, " | ".join(dict.fromkeys(notes.splitlines())))
            self._sink.close()
        finally:
            self._lock.release()


def decode(path: str | os.PathLike[str], sr: int = 22050, offset: float = 0.0,
           duration: float | None = None) -> np.ndarray:
    """Decode ``path`` to a mono float32 1-D array at ``sr`` Hz.

    ``offset``/``duration`` (seconds) select a window; only that window is read. A window past the
    end gives an empty array; so does a valid file with no samples.
    """
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if offset < 0 or (duration is not None and duration < 0):
        raise ValueError(f"offset and duration must not be negative (offset={offset}, duration={duration})")
    path = _check_file(path)
    try:
        y, native_sr = _soundfile_read(path, offset, duration)
    except _SoundfileCannot as exc:
        log.debug("soundfile cannot read %s (%s); trying ffmpeg", path, exc)
        y, native_sr = _ffmpeg_read(path, offset, duration, soundfile_error=str(exc))
    return _resample(_to_mono(y), native_sr, sr)


class _SoundfileCannot(Exception):
    """Internal: libsndfile could not open or read the file; the ffmpeg fallback decides."""


def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise DecodeError(p, "file not found") from None
    except OSError as exc:
        raise DecodeError(p, f"cannot access file: {exc.strerror or exc}") from None
    if p.is_dir():
        raise DecodeError(p, "is a folder, not a file")
    if st.st_size == 0:
        raise DecodeError(p, "empty file (0 bytes)")
    if not os.access(p, os.R_OK):
        raise DecodeError(p, "file is not readable (permission denied)")
    return p


def _soundfile_format(fmt: str, subtype: str) -> str:
    if fmt == "OGG":
        return _OGG_CODECS.get(subtype, "ogg")
    return _SOUNDFILE_FORMATS.get(fmt, fmt.lower())


def _soundfile_read(path: Path, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """(channels, frames) float32 and the native rate, with librosa's frame arithmetic."""
    try:
        with _decoder_notes(path), sf.SoundFile(str(path)) as f:
            native_sr = f.samplerate
            start = int(offset * native_sr)
            if f.frames > 0 and start >= f.frames:
                return np.zeros((f.channels, 0), np.float32), native_sr
            # libsndfile's MP3 decoder (mpg123) gives up to ~5 frames of wrong samples right
            # after a seek (the bit reservoir is empty); seek earlier and drop the pre-roll.
            preroll = min(start, MP3_SEEK_PREROLL) if f.format == "MP3" else 0
            if start:
                f.seek(start - preroll)
            frames = -1 if duration is None else int(duration * native_sr) + preroll
            wanted = (f.frames - start + preroll) if frames < 0 else min(frames, f.frames - start + preroll)
            _check_size(path, wanted, f.channels)
            y = f.read(frames=frames, dtype="float32", always_2d=True)[preroll:]
    except DecodeError:
        raise
    except Exception as exc:  # LibsndfileError, RuntimeError from codecs, TypeError on odd headers
        raise _SoundfileCannot(str(exc)) from exc
    return np.ascontiguousarray(y.T), native_sr


def _to_mono(y: np.ndarray) -> np.ndarray:
    # Same reduction as librosa.to_mono on a (channels, frames) array, for bit-identical results.
    if y.shape[0] == 1:
        return y[0]
    return np.mean(y, axis=0)


def _resample(y: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """librosa.resample(res_type="soxr_hq", fix=True) without librosa."""
    if orig_sr == target_sr:
        return np.ascontiguousarray(y, dtype=np.float32)
    n_out = int(np.ceil(y.shape[-1] * float(target_sr) / orig_sr))
    if y.size == 0:
        return np.zeros(0, np.float32)
    y_hat = soxr.resample(y, orig_sr, target_sr, quality="soxr_hq")
    if y_hat.shape[-1] > n_out:
        y_hat = y_hat[:n_out]
    elif y_hat.shape[-1] < n_out:
        y_hat = np.pad(y_hat, (0, n_out - y_hat.shape[-1]))
    return np.ascontiguousarray(y_hat, dtype=np.float32)


def _ffmpeg_read(path: Path, offset: float, duration: float | None, *, soundfile_error: str
                 ) -> tuple[np.ndarray, int]:
    exe = shutil.which("ffmpeg")
    if exe is None:
        if looks_like_audio(path):
            raise DecodeError(path, f"format not readable without ffmpeg, which is not installed "
                                    f"(soundfile: {soundfile_error})")
        raise DecodeError(path, "not an audio file: header not recognised")
    if not _plausibly_audio(path):
        raise DecodeError(path, "not an audio file: header not recognised")
    info = _mutagen_info(path) or _ffprobe_info(path)
    if info is None:
        raise DecodeError(path, _unreadable_reason(path))
    channels, native_sr = info.channels, info.samplerate
    _check_plausible(path, channels, native_sr)
    info = _bounded(path, info)
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
    _check_size(path, int(span * native_sr), channels)
    timeout = min(FFMPEG_BASE_TIMEOUT + FFMPEG_TIMEOUT_PER_AUDIO_SECOND * span, FFMPEG_MAX_TIMEOUT)
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DecodeError(path, f"ffmpeg did not finish within {timeout:.0f} s") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot run ffmpeg: {exc}") from None
    if proc.returncode != 0:
        raise DecodeError(path, f"ffmpeg cannot decode it: {_last_line(proc.stderr)}")
    data = np.frombuffer(proc.stdout, dtype="<f4")
    usable = data.size - data.size % channels
    y = data[:usable].reshape(-1, channels).T.astype(np.float32)
    if duration is not None:
        y = y[:, : int(duration * native_sr)]
    return np.ascontiguousarray(y), native_sr


def _check_plausible(path: Path, channels: int, samplerate: int) -> None:
    if not (1 <= channels <= _MAX_CHANNELS and _RATE_RANGE[0] <= samplerate <= _RATE_RANGE[1]):
        raise DecodeError(path, f"corrupt header: {channels} channels at {samplerate} Hz")


def _check_size(path: Path, frames: int, channels: int) -> None:
    if frames * channels * 4 > MAX_DECODE_BYTES:
        raise DecodeError(path, f"too long to decode at once ({frames} frames x {channels} channels); "
                                f"decode it in windows (offset/duration)")


def _mutagen_info(path: Path) -> AudioInfo | None:
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
    length = float(getattr(info, "length", 0.0) or 0.0)
    return AudioInfo(length, sr, channels, _MUTAGEN_FORMATS.get(type(f).__name__, type(f).__name__.lower()))


def _ffprobe_info(path: Path) -> AudioInfo | None:
    exe = shutil.which("ffprobe")
    if exe is None:
        return None
    cmd = [exe, "-v", "error", "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels,duration:format=format_name,duration", "-of", "json", str(path)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=_PROBE_TIMEOUT)
        doc = json.loads(proc.stdout or b"{}")
        stream = doc["streams"][0]
        sr, channels = int(stream["sample_rate"]), int(stream["channels"])
        dur = float(stream.get("duration") or doc.get("format", {}).get("duration") or 0.0)
        fmt = doc.get("format", {}).get("format_name", "").split(",")[0]
    except (subprocess.SubprocessError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        log.debug("ffprobe cannot probe %s: %s", path, exc)
        return None
    if sr <= 0 or channels <= 0 or not math.isfinite(dur):
        return None
    return AudioInfo(dur, sr, channels, fmt or path.suffix.lstrip(".").lower())


def looks_like_audio(path: str | os.PathLike[str]) -> bool:
    """Whether the first bytes are those of a container we support (a cheap sniff, no parsing)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(12)
    except OSError:
        return False
    if head.startswith(_MAGIC) or head[4:8] == b"ftyp":
        return True
    # MPEG audio / ADTS frame sync: 11 set bits.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0


_SYNC_WINDOW = 64 * 1024
_MP4_ATOMS = (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


def _plausibly_audio(path: Path) -> bool:
    """A known magic number, or an MPEG/ADTS frame sync in the first 64 KB (MP3 after leading junk)."""
    if looks_like_audio(path):
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(_SYNC_WINDOW)
    except OSError:
        return False
    if head[4:8] in _MP4_ATOMS:
        return True
    i = head.find(b"\xff")
    while 0 <= i < len(head) - 1:
        if head[i + 1] & 0xE0 == 0xE0:
            return True
        i = head.find(b"\xff", i + 1)
    return False


def _unreadable_reason(path: Path) -> str:
    if not looks_like_audio(path):
        return "not an audio file: header not recognised"
    return "corrupt or unsupported audio: no readable audio stream"


_REPEATED = re.compile(r"^\s*(\[[^\]]*\]\s*)?Last message repeated \d+ times?\s*$", re.IGNORECASE)


def _last_line(stderr: bytes) -> str:
    """ffmpeg's last real error line ("Last message repeated N times" says nothing by itself)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    lines = [ln for ln in lines if not _REPEATED.match(ln)]
    return lines[-1] if lines else "no error message"
