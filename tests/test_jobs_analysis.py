"""The one analysis driver on the batch seam: it stores each file's vectors in the feature cache and
hands each prediction on; the caller only chooses the executor (this thread, or a pool)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.app.analysis import AnalyzerProvider, analyse_tracks, inline_executor
from genre_desktop.app.executors import Executor
from genre_desktop.app.workspace import Workspace
from genre_desktop.cancel import CancelToken
from genre_desktop.paths import app_dirs
from genre_desktop.settings import Settings

SR = 22050


@pytest.fixture
def clips(tmp_path):
    paths = []
    for i in range(2):
        t = np.arange(int((4 + i) * SR)) / SR
        y = 0.3 * np.sin(2 * np.pi * (150 + 40 * i) * t) + 0.05 * np.random.default_rng(i).normal(size=len(t))
        sf.write(tmp_path / f"c{i}.wav", y.astype(np.float32), SR, subtype="PCM_16")
        paths.append(str(tmp_path / f"c{i}.wav"))
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC" + b"\x00" * 100)
    return paths, str(bad)


def collect(paths, provider, executor=None):
    items, progress = [], []
    runner = Executor(executor, 2, kind="threads") if executor is not None else inline_executor()
    summary = analyse_tracks(provider.spec(), paths, runner, items.append, CancelToken(), analyzer=provider.get(),
                             progress=progress.append)
    return summary, items, [p.done for p in progress]


@pytest.mark.parametrize("pool", [False, True], ids=["this thread", "thread pool"])
def test_analysis_caches_the_vectors_it_returns(clips, pool):
    paths, bad = clips
    provider = AnalyzerProvider(Workspace(app_dirs(), Settings(segments=1, cpu_threads=1)))
    cache = provider.spec().vector_cache()
    assert all(cache.get(p) is None for p in paths)
    if pool:
        with ThreadPoolExecutor(2) as executor:
            summary, items, progress = collect([*paths, bad], provider, executor)
    else:
        summary, items, progress = collect([*paths, bad], provider)
    assert summary.done == 3 and [p for p, _ in summary.errors] == [bad]
    assert sorted(p.path for p in items) == sorted([*paths, bad]) and progress[-1] == 3
    for p in paths:
        cached = cache.get(p)
        assert cached is not None and cached.n_windows == 1
        # the cache the jobs write is the one the training side reads for this configuration
        assert provider.get().vector_cache.get(p) is not None
