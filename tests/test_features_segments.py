"""Segment planning for long tracks and the silence check."""

from __future__ import annotations

import math

import numpy as np
import pytest

from genre_desktop.features.segments import SILENCE_THRESHOLD_DB, is_silent, plan_segments, rms_db


def _check_plan(plan, duration, n, length, edge):
    """Invariants every plan must satisfy."""
    assert 1 <= len(plan) <= n
    assert plan == sorted(plan)
    for start, end in plan:
        assert 0.0 <= start < end <= duration + 1e-9
        assert end - start == pytest.approx(min(length, duration))
    if len(plan) > 1:
        assert plan[0][0] == pytest.approx(min(edge, (duration - length) / 2))
        assert plan[-1][1] == pytest.approx(duration - plan[0][0])
    elif duration > length:
        assert plan[0][0] == pytest.approx((duration - length) / 2)  # centred
    for (s1, e1), (s2, e2) in zip(plan, plan[1:]):
        assert s2 - s1 >= length / 2 - 1e-9  # never more than half a window of overlap
    starts = [s for s, _ in plan]
    if len(starts) > 2:
        gaps = np.diff(starts)
        assert np.allclose(gaps, gaps[0])  # evenly spread


@pytest.mark.parametrize("duration", [0.5, 10.0, 30.0, 31.0, 35.0, 39.9, 40.0, 55.0, 60.0, 100.0, 180.0, 600.0, 3600.0])
@pytest.mark.parametrize("n", [1, 3, 5])
def test_plans_satisfy_invariants(duration, n):
    _check_plan(plan_segments(duration, n), duration, n, 30.0, 5.0)


def test_short_track_is_one_window_of_its_length():
    assert plan_segments(10.0, 5) == [(0.0, 10.0)]
    assert plan_segments(30.0, 5) == [(0.0, 30.0)]


def test_track_a_little_longer_than_a_window_gets_one_centred_window():
    assert plan_segments(35.0, 5) == [(2.5, 32.5)]
    assert plan_segments(40.0, 5) == [(5.0, 35.0)]


def test_long_track_gets_n_windows_between_the_edges():
    plan = plan_segments(180.0, 5)
    assert plan == [(5.0, 35.0), (40.0, 70.0), (75.0, 105.0), (110.0, 140.0), (145.0, 175.0)]


def test_medium_track_gets_fewer_windows_overlapping_only_as_needed():
    plan = plan_segments(60.0, 5)
    assert plan == [(5.0, 35.0), (25.0, 55.0)]  # 10 s overlap: two windows need it in 50 s
    assert len(plan_segments(100.0, 5)) == 5  # 90 s of room: five windows 15 s apart
    assert len(plan_segments(99.0, 5)) == 4


def test_single_window_of_a_long_track_is_in_the_middle():
    assert plan_segments(300.0, 1) == [(135.0, 165.0)]


def test_other_lengths_and_edges():
    plan = plan_segments(20.0, 4, length=3.0, edge=1.0)
    _check_plan(plan, 20.0, 4, 3.0, 1.0)
    assert len(plan) == 4
    assert plan_segments(20.0, 4, length=3.0, edge=0.0)[0][0] == 0.0


@pytest.mark.parametrize("duration", [0.0, -1.0, math.nan, math.inf])
def test_no_windows_without_a_usable_duration(duration):
    assert plan_segments(duration, 5) == []


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"n": 3, "length": 0.0}, {"n": 3, "edge": -1.0}])
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError):
        plan_segments(100.0, **kwargs)


def _sine(level_db: float, seconds: float = 1.0, sr: int = 22050) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    amplitude = math.sqrt(2) * 10 ** (level_db / 20)  # RMS of a sine is amplitude / sqrt(2)
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_rms_db_of_a_sine():
    assert rms_db(_sine(-20.0)) == pytest.approx(-20.0, abs=0.01)
    assert rms_db(np.zeros(100)) == -math.inf
    assert rms_db(np.array([])) == -math.inf


def test_silence_threshold():
    assert SILENCE_THRESHOLD_DB == -50.0
    assert is_silent(np.zeros(22050, np.float32))
    assert is_silent(np.array([], np.float32))
    assert is_silent(_sine(-60.0))
    assert not is_silent(_sine(-40.0))
    assert not is_silent(_sine(-3.0))
    assert is_silent(_sine(-40.0), threshold_db=-30.0)


def test_quiet_noise_is_silent_but_louder_noise_is_not():
    rng = np.random.default_rng(0)
    assert is_silent((10 ** (-60 / 20) * rng.standard_normal(22050)).astype(np.float32))
    assert not is_silent((10 ** (-30 / 20) * rng.standard_normal(22050)).astype(np.float32))
