"""Test set-up shared by every test.

- Every test gets its own app home (GENRE_DESKTOP_HOME), so no test touches the real home folder.
- Qt runs offscreen; no display is needed.
- A test that leaves a non-daemon thread running fails.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Beside the repository (/work/main -> /work/shared); a worktree elsewhere names it in GENRE_DESKTOP_GTZAN.
SHARED_DATA = os.environ.get("GENRE_DESKTOP_GTZAN") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "gtzan"))


@pytest.fixture(autouse=True)
def app_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("app-home")
    monkeypatch.setenv("GENRE_DESKTOP_HOME", str(home))
    return home


@pytest.fixture(autouse=True)
def no_leaked_threads():
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive() and not t.daemon]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test left threads running: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def gtzan_dir():
    """The shared GTZAN material (feature table, splits, eight clips); skips if absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"shared GTZAN data not found at {SHARED_DATA}")
    return SHARED_DATA
