"""A small track player: decode in the background, then play/pause/seek through an AudioOutput.

Qt-free. ``load`` returns at once; decoding runs on a short-lived daemon thread and the result is
applied only if no newer ``load`` happened meanwhile (a stale decode is dropped). Listeners get
``(event, path, detail)`` callbacks *on the decode thread*: the GUI marshals them to its own thread
(jobs/ does that with a signal). Playlists (next/previous) belong to the caller; the player plays
one track.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

import numpy as np

from genre_desktop.audio.output import AudioOutput

log = logging.getLogger(__name__)

# Playback rates tried from best to cheapest; a long file drops to a lower rate so that the decoded
# buffer stays within the memory budget (a 3-hour radio show at 44.1 kHz would need 1.9 GB).
PLAYBACK_RATES = (44100, 22050, 16000, 11025, 8000)
DEFAULT_BUDGET_SAMPLES = 60_000_000  # 240 MB of float32

EMPTY, LOADING, READY, PLAYING, PAUSED, ERROR = "empty", "loading", "ready", "playing", "paused", "error"

Listener = Callable[[str, str, str], None]  # (event, path, detail): "loaded" / "error" / "ended"


def _default_decode(path: str, sr: int, duration: float | None) -> np.ndarray:
    from genre_desktop.audio.decode import decode  # the IO engineer's decoder (lazy: heavy imports)

    return decode(path, sr=sr, duration=duration)


def _default_probe_duration(path: str) -> float | None:
    from genre_desktop.audio.decode import probe

    return probe(path).duration


def choose_rate(duration: float | None, budget_samples: int = DEFAULT_BUDGET_SAMPLES) -> tuple[int, float | None]:
    """(sample rate, seconds to decode or None for all) so that the buffer fits the budget."""
    if not duration or duration <= 0:
        return PLAYBACK_RATES[0], budget_samples / PLAYBACK_RATES[0]
    for rate in PLAYBACK_RATES:
        if duration * rate <= budget_samples:
            return rate, None
    rate = PLAYBACK_RATES[-1]
    return rate, budget_samples / rate


class Player:
    """One track at a time. All methods are called from one (the UI) thread except the listeners."""

    def __init__(
        self,
        output: AudioOutput,
        decoder: Callable[[str, int, float | None], np.ndarray] = _default_decode,
        probe_duration: Callable[[str], float | None] = _default_probe_duration,
        budget_samples: int = DEFAULT_BUDGET_SAMPLES,
    ) -> None:
        self.output = output
        self._decoder = decoder
        self._probe_duration = probe_duration
        self._budget = budget_samples
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._generation = 0
        self._thread: threading.Thread | None = None
        self.path: str | None = None
        self.state = EMPTY
        self.error: str | None = None
        self.truncated_to: float | None = None  # seconds, when only the start of a long file is loaded
        self.failed_while_playing = False  # the last load failed although play was requested (skip it)
        self._samples: np.ndarray | None = None
        self._sr = 0
        self._position = 0.0
        self._play_when_loaded = False
        self._volume = 1.0
        self._autoplay_pending = False  # set on the decode thread, acted on by poll() on the UI thread

    # -- listeners ------------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: str, path: str, detail: str = "") -> None:
        for listener in list(self._listeners):
            try:
                listener(event, path, detail)
            except Exception:  # a broken listener must not kill the decode thread silently
                log.exception("player listener failed")

    # -- loading --------------------------------------------------------------------------------
    def load(self, path: str, autoplay: bool = False) -> None:
        """Start decoding ``path`` in the background; playback starts when ready if ``autoplay``."""
        self.output.stop()
        with self._lock:
            self._generation += 1
            generation = self._generation
            self.path = str(path)
            self.state = LOADING
            self.error = None
            self._samples = None
            self._position = 0.0
            self._play_when_loaded = autoplay
            self._autoplay_pending = False
        thread = threading.Thread(target=self._decode, args=(generation, str(path)), name="player-decode", daemon=True)
        self._thread = thread
        thread.start()

    def _decode(self, generation: int, path: str) -> None:
        try:
            duration = self._probe_duration(path)
            rate, limit = choose_rate(duration, self._budget)
            samples = np.asarray(self._decoder(path, rate, limit), dtype=np.float32)
            error = None
        except Exception as exc:  # DecodeError or anything a broken file provokes: the UI shows it
            samples, rate, limit, error = None, 0, None, str(getattr(exc, "reason", None) or exc)
        with self._lock:
            if generation != self._generation:
                return  # the user moved on: drop the stale decode
            if error is not None:
                self.state, self.error = ERROR, error
                self.failed_while_playing = self._play_when_loaded
            else:
                self._samples, self._sr = samples, rate
                self.truncated_to = limit if limit is not None and duration and duration > limit else None
                self.state = READY
            autoplay = self._play_when_loaded and error is None
        self._emit("error" if error else "loaded", path, error or "")
        if autoplay:
            self._autoplay_pending = True

    def wait_loaded(self, timeout: float = 10.0) -> bool:
        """Block until the current decode finished (for tests and tools, never the UI thread)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # -- transport ------------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        if self._samples is None or not self._sr:
            return 0.0
        return self._samples.shape[0] / float(self._sr)

    @property
    def samplerate(self) -> int:
        return self._sr

    def position(self) -> float:
        if self.state == PLAYING:
            return self.output.position()
        return self._position

    def play(self) -> None:
        if self.state == LOADING:
            self._play_when_loaded = True
            return
        if self.state not in (READY, PAUSED) or self._samples is None:
            return
        if self._position >= self.duration:
            self._position = 0.0
        self.output.set_volume(self._volume)
        self.output.start(self._samples, self._sr, self._position)
        self.state = PLAYING

    def pause(self) -> None:
        if self.state == LOADING:
            self._play_when_loaded = False
        if self.state != PLAYING:
            return
        self._position = self.output.position()
        self.output.pause()
        self.state = PAUSED

    def toggle(self) -> None:
        if self.state == PLAYING or (self.state == LOADING and self._play_when_loaded):
            self.pause()
        else:
            self.play()

    def stop(self) -> None:
        self._play_when_loaded = False
        self.output.stop()
        self._position = 0.0
        if self.state in (PLAYING, PAUSED):
            self.state = READY

    def seek(self, seconds: float) -> None:
        target = min(max(0.0, float(seconds)), self.duration)
        self._position = target
        if self.state == PLAYING and self._samples is not None:
            self.output.start(self._samples, self._sr, target)

    def set_volume(self, volume: float) -> None:
        self._volume = min(1.0, max(0.0, float(volume)))
        self.output.set_volume(self._volume)

    @property
    def wants_play(self) -> bool:
        """Playing, or about to (play was pressed while the track was still decoding)."""
        return self.state == PLAYING or (self.state in (LOADING, READY) and (self._play_when_loaded or self._autoplay_pending))

    @property
    def volume(self) -> float:
        return self._volume

    def poll(self) -> str | None:
        """Advance state from the UI's timer: starts a pending autoplay, detects the end of the track.

        Returns "ended" when the track just finished (the caller may move to the next one).
        """
        if self._autoplay_pending and self.state == READY:
            self._autoplay_pending = False
            self._play_when_loaded = False
            self.play()
            return None
        if self.state == PLAYING and not self.output.playing and self.output.position() >= self.duration - 0.05:
            self.output.stop()
            self._position = 0.0
            self.state = READY
            return "ended"
        return None

    def close(self) -> None:
        with self._lock:
            self._generation += 1  # any decode still running is now stale
        self.output.stop()
        self.state = EMPTY
