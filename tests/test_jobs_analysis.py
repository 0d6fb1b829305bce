"""The analysis work function on the batch seam: the caller (jobs/) stores each file's vectors in the
feature cache, and jobs/ only chooses the executor (in this thread by default, or a pool)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.cancel import CancelToken
from genre_desktop.jobs.library_jobs import AnalyzerProvider, analyse_paths
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


class Job:
    """What a work function sees of a job (as ``jobs.runner.JobContext``), recorded in lists."""

    def __init__(self, items: list, progress: list) -> None:
        self.token = CancelToken()
        self.item = items.append
        self.progress = progress.append


def collect(paths, provider, executor=None):
    items, progress = [], []
    job = Job(items, progress)
    summary = analyse_paths(paths, provider, job, executor)
    return summary, items, progress


@pytest.mark.parametrize("pool", [False, True], ids=["this thread", "thread pool"])
def test_analysis_caches_the_vectors_it_returns(clips, pool):
    paths, bad = clips
    provider = AnalyzerProvider(Settings(segments=1, cpu_threads=1))
    cache = provider.spec().vector_cache()
    assert all(cache.get(p) is None for p in paths)
    if pool:
        with ThreadPoolExecutor(2) as executor:
            summary, items, progress = collect([*paths, bad], provider, executor)
    else:
        summary, items, progress = collect([*paths, bad], provider)
    assert summary.done == 3 and [p for p, _ in summary.errors] == [bad]
    assert sorted(p.path for p in items) == sorted([*paths, bad]) and progress[-1].done == 3
    for p in paths:
        cached = cache.get(p)
        assert cached is not None and cached.n_windows == 1
        # the cache the jobs write is the one the training side reads for this configuration
        assert provider.get().vector_cache.get(p) is not None
