"""A large generated store opened in the real main window: every row there, no store access to paint.

20,000 tracks by default (about 15 s here, most of it generating the store); the 100,000-track run
(about a minute) is marked slow. Figures for 100,000 come from tools/bench_gui_open.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "tools" / "bench_gui_open.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gui_open", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gui_open"] = module
    spec.loader.exec_module(module)
    return module


def run_open(bench, qapp, tmp_path, n):
    store_path = tmp_path / "library.json"
    bench.generate_store(store_path, n)
    figures = bench.measure_open(store_path, qapp)
    assert figures["rows"] == n
    assert figures["paint_store_calls"] == 0  # data() and a repaint of visible rows read memory only
    assert 0 < figures["rows_matching_river"] < n
    # Generous ceilings (a loaded 2-core machine): interactive operations stay interactive.
    assert figures["sort_title_s"] < 2.0 and figures["sort_confidence_s"] < 2.0
    assert figures["filter_typing_5_keys_s"] < 2.0
    return figures


def test_open_20k_track_store_in_the_window(bench, qapp, tmp_path):
    figures = run_open(bench, qapp, tmp_path, 20_000)
    assert figures["first_paint_s"] < 10.0


@pytest.mark.slow
def test_open_100k_track_store_in_the_window(bench, qapp, tmp_path):
    figures = run_open(bench, qapp, tmp_path, 100_000)
    assert figures["first_paint_s"] < 30.0
