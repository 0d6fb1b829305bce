"""Audio output behind a small interface: sounddevice for real, a clock-driven null output otherwise.

Qt-free. The player (``audio/player.py``) talks only to :class:`AudioOutput`; which implementation
it gets is decided once by :func:`make_output`. A machine without a sound device (a server, a CI
runner, a muted VM) gets a :class:`NullOutput` that keeps time with a monotonic clock, so the
playhead, seeking and "next track at the end" all behave as usual and the UI can say *why* it is
silent (``reason_unavailable``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Protocol

import numpy as np

log = logging.getLogger(__name__)


class AudioOutput(Protocol):
    """What the player needs from a sound output. Positions are in seconds."""

    reason_unavailable: str | None

    def is_available(self) -> bool: ...
    def start(self, samples: np.ndarray, sr: int, position: float = 0.0) -> None: ...
    def pause(self) -> None: ...
    def stop(self) -> None: ...
    def position(self) -> float: ...
    def set_volume(self, volume: float) -> None: ...
    @property
    def playing(self) -> bool: ...


def _as_frames(samples: np.ndarray) -> np.ndarray:
    """(frames, channels) float32, C-contiguous: the shape an output stream wants."""
    arr = np.asarray(samples, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[:, None]
    elif arr.ndim == 2 and arr.shape[0] <= 8 and arr.shape[1] > arr.shape[0]:
        arr = arr.T  # librosa-style (channels, frames)
    return np.ascontiguousarray(arr)


class NullOutput:
    """Plays nothing but keeps time, so the rest of the app works without a sound device."""

    def __init__(self, reason: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.reason_unavailable = reason or "no audio output"
        self._clock = clock
        self._duration = 0.0
        self._base = 0.0  # position when the clock was (re)started
        self._t0: float | None = None  # clock reading at start, None when not running
        self._volume = 1.0

    def is_available(self) -> bool:
        return False

    def start(self, samples: np.ndarray, sr: int, position: float = 0.0) -> None:
        frames = _as_frames(samples)
        self._duration = frames.shape[0] / float(sr) if sr else 0.0
        self._base = min(max(0.0, position), self._duration)
        self._t0 = self._clock()

    def pause(self) -> None:
        self._base = self.position()
        self._t0 = None

    def stop(self) -> None:
        self._base = 0.0
        self._t0 = None

    def position(self) -> float:
        if self._t0 is None:
            return self._base
        return min(self._duration, self._base + (self._clock() - self._t0))

    @property
    def playing(self) -> bool:
        return self._t0 is not None and self.position() < self._duration

    def set_volume(self, volume: float) -> None:
        self._volume = min(1.0, max(0.0, float(volume)))


class SoundDeviceOutput:
    """A PortAudio output stream whose callback reads from the loaded sample buffer.

    One stream per ``start``: seeking or resuming closes the old stream and opens a new one at the
    new frame, which is simpler and glitch-free enough for a librarian's preview player.
    """

    def __init__(self, device: int | str | None = None, sd_module=None) -> None:
        self.reason_unavailable: str | None = None
        self._sd = sd_module
        self._device = device
        self._lock = threading.Lock()
        self._stream = None
        self._data: np.ndarray | None = None
        self._sr = 0
        self._frame = 0
        self._volume = 1.0
        self._running = False
        if self._sd is None:
            try:
                import sounddevice  # imported lazily: PortAudio may be missing entirely

                self._sd = sounddevice
            except (ImportError, OSError) as exc:
                self.reason_unavailable = f"sound library unavailable ({exc})"
                return
        try:
            info = self._sd.query_devices(device=device, kind="output")
            self.device_name = str(info.get("name", "default"))
        except Exception as exc:  # PortAudioError or ValueError: no default output device
            self.reason_unavailable = f"no audio output device found ({exc})"

    def is_available(self) -> bool:
        return self.reason_unavailable is None

    def start(self, samples: np.ndarray, sr: int, position: float = 0.0) -> None:
        if not self.is_available():
            raise RuntimeError(self.reason_unavailable)
        self._close_stream()
        frames = _as_frames(samples)
        with self._lock:
            self._data = frames
            self._sr = int(sr)
            self._frame = min(frames.shape[0], max(0, int(round(position * sr))))
        stream = self._sd.OutputStream(
            samplerate=self._sr,
            channels=frames.shape[1],
            dtype="float32",
            device=self._device,
            callback=self._callback,
            finished_callback=self._on_finished,
        )
        self._stream = stream
        self._running = True
        stream.start()

    def _callback(self, outdata, frames, _time, status) -> None:  # runs on PortAudio's thread
        if status:
            log.debug("audio output status: %s", status)
        with self._lock:
            data = self._data
            start = self._frame
            chunk = data[start : start + frames] if data is not None else np.zeros((0, outdata.shape[1]), np.float32)
            n = chunk.shape[0]
            outdata[:n] = chunk * self._volume
            outdata[n:] = 0
            self._frame = start + n
        if n < frames:
            raise self._sd.CallbackStop()

    def _on_finished(self) -> None:
        self._running = False

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._running = False
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception as exc:  # a device that vanished mid-play must not take the app down
                log.warning("closing the audio stream failed: %s", exc)

    def pause(self) -> None:
        self._close_stream()

    def stop(self) -> None:
        self._close_stream()
        with self._lock:
            self._frame = 0

    def position(self) -> float:
        return self._frame / float(self._sr) if self._sr else 0.0

    @property
    def playing(self) -> bool:
        return self._running and self._stream is not None

    def set_volume(self, volume: float) -> None:
        with self._lock:
            self._volume = min(1.0, max(0.0, float(volume)))


def make_output(device: int | str | None = None) -> AudioOutput:
    """The real output when a device exists, else a NullOutput that says why."""
    real = SoundDeviceOutput(device=device)
    if real.is_available():
        return real
    log.info("audio output unavailable: %s", real.reason_unavailable)
    return NullOutput(reason=real.reason_unavailable)
