"""The batch seam: an AnalysisSpec mapped over files through threads and a real spawn process pool;
results as each file ends, a failing or crashing file reported alone, cancellation per file, and
the vectors cached by the caller."""

from __future__ import annotations

import os
import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pytest
import soundfile as sf

from genre_desktop.cancel import CancelToken
from genre_desktop.inference import batch
from genre_desktop.inference.batch import CRASHED, InlineExecutor, analyse_batch, process_pool
from genre_desktop.inference.spec import AnalysisSpec

SR = 22050
SPEC = AnalysisSpec(n_segments=1, threads=1, musicnn=False)


def write_clip(path, seconds: float, seed: int) -> str:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f = 110.0 * 2 ** (seed % 12 / 12)
    y = 0.3 * np.sin(2 * np.pi * f * t) + 0.2 * np.sin(2 * np.pi * 1.5 * f * t) + 0.05 * rng.normal(size=len(t))
    sf.write(path, y.astype(np.float32), SR, subtype="PCM_16")
    return str(path)


@pytest.fixture
def files(tmp_path):
    good = [write_clip(tmp_path / f"clip{i}.wav", 3.0 + i, seed=i) for i in range(3)]
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"\x00" * 300)
    return good, str(bad)


@dataclass(frozen=True)
class CrashingSpec(AnalysisSpec):
    """The real analysis, except that a file named ``crash*`` kills the worker process outright
    (what a segfault in a decoder would do)."""

    def build(self):
        real = super().build()

        class Crashing:
            def analyze(self, path, cancel):
                if os.path.basename(path).startswith("crash"):
                    os._exit(3)
                return real.analyze(path, cancel)

        return Crashing()


def test_spec_pickles_and_is_a_cache_key():
    assert pickle.loads(pickle.dumps(SPEC)) == SPEC and hash(pickle.loads(pickle.dumps(SPEC))) == hash(SPEC)


def test_threads_give_the_same_predictions_as_the_analyzer_and_report_bad_files(files):
    good, bad = files
    analyzer = SPEC.build()
    expected = {p: analyzer.analyze(p).prediction.to_dict() for p in good}
    with ThreadPoolExecutor(2) as pool:
        results = list(analyse_batch(SPEC, [*good, bad], pool))
    by_path = {r.path: r for r in results}
    assert sorted(by_path) == sorted([*good, bad])
    for p in good:
        assert by_path[p].prediction.to_dict() == expected[p]
    assert by_path[bad].prediction.error and by_path[bad].prediction.path == bad
    # The worker built its analyzer once for the spec and kept it; only the latest few are kept.
    assert batch._ANALYZERS[SPEC] is batch.analyzer_for(SPEC)
    other = SPEC.with_(n_segments=2)
    assert batch.analyzer_for(other) is batch.analyzer_for(other) is not batch.analyzer_for(SPEC)
    batch.analyzer_for(SPEC.with_(n_segments=3))  # the least recently used one (other) goes
    assert list(batch._ANALYZERS) == [SPEC, SPEC.with_(n_segments=3)]


def test_the_caller_stores_the_vectors(files, tmp_path):
    good, _ = files
    spec = SPEC.with_(vector_cache_dir=str(tmp_path / "cache"))
    cache = spec.vector_cache()
    assert all(cache.get(p) is None for p in good)
    results = list(analyse_batch(spec, good, InlineExecutor()))
    assert not any(cache.get(p) for p in good)  # the analysis itself writes nothing
    for r in results:
        assert r.analysis.vectors is not None and r.analysis.store(cache)
    for p in good:
        cached = cache.get(p)
        assert cached is not None and cached.features.shape == (1, 57)
        np.testing.assert_array_equal(cached.features, next(r for r in results if r.path == p).analysis.vectors.features)


def test_cancel_stops_submitting_and_cancels_pending_files(files):
    good, _ = files
    token = CancelToken()
    started = []
    gate = threading.Event()
    real = SPEC.build()

    class Slow:
        def analyze(self, path, cancel):
            started.append(path)
            gate.wait(10)
            cancel.raise_if_cancelled()
            return real.analyze(path, cancel)

    with ThreadPoolExecutor(1) as pool:
        results = analyse_batch(SPEC, good * 3, pool, token, analyzer=Slow(), in_flight=2)
        threading.Timer(0.3, token.cancel).start()
        threading.Timer(1.0, gate.set).start()  # the running file ends only after the cancel was seen
        assert list(results) == []  # the running file saw the token; the pending one never started
    assert len(started) == 1


def test_inline_executor_runs_in_this_thread_in_order(files):
    good, bad = files
    results = list(analyse_batch(SPEC, [bad, *good], InlineExecutor()))
    assert [r.path for r in results] == [bad, *good]


def test_spawn_process_pool_survives_a_crashing_worker(files, tmp_path):
    good, bad = files
    crash = write_clip(tmp_path / "crash.wav", 2.0, seed=9)
    spec = CrashingSpec(n_segments=1, threads=1, musicnn=False)
    expected = {p: SPEC.build().analyze(p).prediction.to_dict() for p in good}
    pools = []

    def respawn():
        pools.append(process_pool(2))
        return pools[-1]

    first = process_pool(2)
    try:
        results = list(analyse_batch(spec, [good[0], crash, good[1], bad, good[2]], first, respawn=respawn))
    finally:
        first.shutdown(wait=True, cancel_futures=True)
    by_path = {r.path: r for r in results}
    assert sorted(by_path) == sorted([*good, crash, bad]) and len(results) == 5
    assert by_path[crash].error == CRASHED and by_path[crash].prediction.error == CRASHED
    assert by_path[bad].prediction.error  # an undecodable file is its own error, not a crash
    for p in good:  # the files in flight with the crash were retried and analysed as in this process
        assert by_path[p].error is None
        assert by_path[p].prediction.to_dict() == expected[p]
    assert pools  # the broken pool was replaced (and the replacements shut down by the batch)
