"""tools/profile_analysis.py names real functions: every stage it reports is found in a profile."""

from __future__ import annotations

import cProfile
import importlib.util
import pstats
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from genre_desktop.inference.analyzer import SAMPLE_RATE, Analyzer

ROOT = Path(__file__).resolve().parent.parent


def _tool():
    spec = importlib.util.spec_from_file_location("profile_analysis", ROOT / "tools" / "profile_analysis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_stage_is_found_in_a_profile_of_the_analysis(tmp_path):
    """A renamed function would otherwise show as a stage costing nothing, silently."""
    tool = _tool()
    t = np.arange(12 * SAMPLE_RATE) / SAMPLE_RATE
    y = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sign(np.sin(2 * np.pi * 2 * t))) / 2
    y += 0.05 * np.random.default_rng(0).normal(size=t.size)
    path = tmp_path / "clip.wav"
    sf.write(path, y.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    analyzer = Analyzer(n_segments=1, threads=1)
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    prediction = analyzer.analyze(path).prediction
    profile.disable()
    assert prediction.error is None and prediction.tags
    stages = tool.stage_times(pstats.Stats(profile))
    missing = [stage for stage, (_, calls) in stages.items() if calls == 0]
    assert not missing, f"stages not found in the profile: {missing}"
