"""Audio output and player: the null output's clock, the player's state machine, real PortAudio."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from genre_desktop.audio.output import NullOutput, SoundDeviceOutput, make_output
from genre_desktop.audio.player import ERROR, LOADING, PAUSED, PLAYING, READY, Player, choose_rate


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_null_output_keeps_time_pauses_and_ends():
    clock = FakeClock()
    out = NullOutput(reason="no device here", clock=clock)
    assert not out.is_available() and out.reason_unavailable == "no device here"
    out.start(np.zeros(22050 * 4, np.float32), 22050, position=1.0)
    clock.now += 2.0
    assert out.position() == pytest.approx(3.0)
    assert out.playing
    out.pause()
    clock.now += 5.0
    assert out.position() == pytest.approx(3.0) and not out.playing
    out.start(np.zeros(22050 * 4, np.float32), 22050, position=3.0)
    clock.now += 10.0
    assert out.position() == pytest.approx(4.0)  # capped at the end
    assert not out.playing
    out.stop()
    assert out.position() == 0.0


def test_make_output_without_device_says_why():
    out = make_output()
    if out.is_available():
        pytest.skip("this machine has an audio output device")
    assert isinstance(out, NullOutput)
    assert "device" in out.reason_unavailable or "sound library" in out.reason_unavailable


def test_choose_rate_respects_budget():
    assert choose_rate(180.0, budget_samples=60_000_000) == (44100, None)
    rate, limit = choose_rate(3 * 3600.0, budget_samples=60_000_000)
    assert rate * 3 * 3600 > 60_000_000 or limit is None
    assert rate in (16000, 11025, 8000)
    rate, limit = choose_rate(10 * 3600.0, budget_samples=60_000_000)
    assert rate == 8000 and limit == pytest.approx(60_000_000 / 8000)


def _sine(seconds: float, sr: int) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def test_player_loads_in_background_plays_seeks_and_ends():
    clock = FakeClock()
    decoded = []
    pressed = threading.Event()  # the decode finishes only after play() was pressed while loading

    def decoder(path, sr, duration):
        decoded.append((path, sr, duration))
        pressed.wait(5)
        return _sine(2.0, sr)

    player = Player(NullOutput(clock=clock), decoder=decoder, probe_duration=lambda p: 2.0)
    events = []
    player.add_listener(lambda ev, path, detail: events.append((ev, path)))
    player.load("/music/a.flac")
    player.play()  # pressed while loading: plays once loaded
    pressed.set()
    assert player.wait_loaded()
    assert events == [("loaded", "/music/a.flac")]
    assert decoded == [("/music/a.flac", 44100, None)]
    assert player.state == READY and player.duration == pytest.approx(2.0)
    player.poll()  # pending autoplay starts here, on the caller's thread
    assert player.state == PLAYING
    clock.now += 0.5
    assert player.position() == pytest.approx(0.5)
    player.seek(1.5)
    assert player.position() == pytest.approx(1.5)
    player.toggle()
    assert player.state == PAUSED and player.position() == pytest.approx(1.5)
    player.toggle()
    clock.now += 1.0
    assert player.poll() == "ended"
    assert player.state == READY and player.position() == 0.0


def test_player_drops_stale_decode_and_reports_errors():
    release = threading.Event()

    def decoder(path, sr, duration):
        if path == "slow":
            release.wait(5)
            return _sine(1.0, sr)
        if path == "broken":
            raise ValueError("broken: not an audio file")
        if path == "gated":
            gate.wait(5)
        return _sine(0.5, sr)

    gate = threading.Event()

    player = Player(NullOutput(), decoder=decoder, probe_duration=lambda p: 1.0)
    events = []
    player.add_listener(lambda ev, path, detail: events.append((ev, path, detail)))
    player.load("slow")
    first = player._thread
    player.load("fast")
    assert player.wait_loaded()
    release.set()
    first.join(5)
    assert player.path == "fast" and player.duration == pytest.approx(0.5)
    assert [e[1] for e in events] == ["fast"]  # the slow one arrived late and was dropped
    player.load("broken")
    assert player.wait_loaded()
    assert player.state == ERROR and "not an audio file" in player.error
    assert events[-1][0] == "error"
    player.play()  # nothing to play: stays in error, no exception
    assert player.state == ERROR
    player.load("gated")
    assert player.state == LOADING  # load() returned before the decode finished
    gate.set()
    assert player.wait_loaded() and player.state == READY


ALSA_NULL = 'pcm.!default {\n  type plug\n  slave.pcm "null"\n}\n'

_REAL_OUTPUT_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from genre_desktop.audio.output import SoundDeviceOutput
    out = SoundDeviceOutput()
    if not out.is_available():
        print("UNAVAILABLE", out.reason_unavailable); sys.exit(3)
    sr = 22050
    y = (0.2 * np.sin(2 * np.pi * 440 * np.arange(int(0.4 * sr)) / sr)).astype(np.float32)
    out.set_volume(0.5)
    out.start(y, sr, position=0.1)
    deadline = time.monotonic() + 5
    while out.playing and time.monotonic() < deadline:   # ALSA's null sink has no clock: it drains fast
        time.sleep(0.01)
    mid = out.position()
    assert not out.playing, "stream should stop by itself at the end of the buffer"
    out.start(np.stack([y, y], axis=1), sr, position=0.0)   # stereo buffer too
    deadline = time.monotonic() + 5
    while out.playing and time.monotonic() < deadline:
        time.sleep(0.01)
    end = out.position()
    out.pause()
    paused = out.position()
    time.sleep(0.05)
    assert out.position() == paused, "position must not move while paused"
    out.stop()
    assert out.position() == 0.0
    print("OK", round(mid, 3), round(end, 3), round(paused, 3))
    """
)


def test_sounddevice_output_plays_through_alsa_null_device(tmp_path):
    """PortAudio reads ~/.asoundrc: a temporary HOME routes the default device to ALSA's null sink."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the ALSA null device exists on Linux only")
    (tmp_path / ".asoundrc").write_text(ALSA_NULL)
    env = dict(os.environ, HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", _REAL_OUTPUT_SCRIPT], env=env, capture_output=True, text=True, timeout=60
    )
    if proc.returncode == 3:
        pytest.skip(f"PortAudio finds no device even with an ALSA null default: {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    _, mid, end, paused = proc.stdout.split()
    assert float(mid) == pytest.approx(0.4, abs=0.01)  # from 0.1 s to the end of the mono buffer
    assert float(end) == pytest.approx(0.4, abs=0.01)  # the stereo buffer, from 0 to the end
    assert float(paused) == float(end)


def test_sounddevice_output_reports_missing_device_from_portaudio():
    class NoDevices:
        class PortAudioError(Exception):
            pass

        def query_devices(self, device=None, kind=None):
            raise self.PortAudioError("Error querying device -1")

    out = SoundDeviceOutput(sd_module=NoDevices())
    assert not out.is_available()
    assert "no audio output device found" in out.reason_unavailable
    with pytest.raises(RuntimeError):
        out.start(np.zeros(10, np.float32), 22050)
