"""SIGKILL during a batch write of 200 files (5 seeded kill points) and during scans (3), via
tools/kill_loop.py: the store opens, every file is old or new and the journal agrees, the audio is
intact, recover settles everything, undo restores every old value, a rescan completes. The figures
for 1,000 files come from running the tool itself (see its docstring)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name == "nt", reason="SIGKILL")


def load_tool():
    path = Path(__file__).resolve().parent.parent / "tools" / "kill_loop.py"
    spec = importlib.util.spec_from_file_location("kill_loop", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["kill_loop"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_kill_loop_200_files(tmp_path):
    figures = load_tool().run(files=200, write_kills=5, scan_kills=3, seed=6, root=tmp_path)
    assert figures.write_kills + figures.finished_before_kill >= 5
    assert figures.write_kills >= 4 and figures.scan_kills >= 2  # seeded: the kills really land mid-work
    assert figures.files_checked == 5 * 200
    assert figures.damaged == []
