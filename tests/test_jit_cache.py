"""The install's shared cache of compiled numba code: where it goes, that it moves with the install,
and that a fresh data folder compiles nothing once the install is prepared."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from genre_desktop import jit_cache
from genre_desktop.paths import app_dirs

JIT_VARIABLES = ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES", "NUMBA_CPU_NAME", "NUMBA_CPU_FEATURES",
                 "GENRE_DESKTOP_JIT_SET")


@pytest.fixture
def clean_jit_env(monkeypatch):
    for name in JIT_VARIABLES:  # setenv first, so that the test's own changes are undone afterwards
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    monkeypatch.setattr(jit_cache, "_reload_numba_config", lambda: None)  # this process's numba stays as it is


def test_the_install_cache_is_used_when_writable(clean_jit_env, tmp_path, monkeypatch):
    monkeypatch.setattr(jit_cache, "install_cache", lambda: tmp_path / "install" / ".jit-cache")
    folder = jit_cache.configure(fallback=app_dirs().numba_cache)
    assert folder == tmp_path / "install" / ".jit-cache" and folder.is_dir()
    assert os.environ["NUMBA_CACHE_DIR"] == str(folder)
    assert os.environ["NUMBA_CACHE_LOCATOR_CLASSES"] == jit_cache.LOCATOR


def test_a_read_only_install_seeds_the_data_folder(clean_jit_env, tmp_path, monkeypatch):
    shared = tmp_path / "install" / ".jit-cache"
    (shared / "librosa.util").mkdir(parents=True)
    (shared / "librosa.util" / "utils._localmax-1.py311.nbi").write_bytes(b"index")
    (shared / jit_cache.READY).write_text("key\n")
    monkeypatch.setattr(jit_cache, "install_cache", lambda: shared)
    real_writable = jit_cache._writable
    monkeypatch.setattr(jit_cache, "_writable", lambda folder: folder != shared and real_writable(folder))
    own = app_dirs().numba_cache
    (own / "librosa.util").mkdir(parents=True)
    (own / "librosa.util" / "utils._localmax-1.py311.nbi").write_bytes(b"newer, compiled here")
    assert jit_cache.configure(fallback=own) == own
    assert os.environ["NUMBA_CACHE_DIR"] == str(own)
    assert (own / jit_cache.READY).read_text() == "key\n"
    # what the data folder compiled itself is kept
    assert (own / "librosa.util" / "utils._localmax-1.py311.nbi").read_bytes() == b"newer, compiled here"


def test_the_users_own_numba_cache_dir_is_respected(clean_jit_env, tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "mine"))
    assert jit_cache.configure(fallback=app_dirs().numba_cache) == tmp_path / "mine"
    assert "NUMBA_CACHE_LOCATOR_CLASSES" not in os.environ


def test_the_portable_target_needs_avx2(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    real_open = open

    def fake_open(path, *args, **kwargs):
        return real_open(cpuinfo if path == "/proc/cpuinfo" else path, *args, **kwargs)

    monkeypatch.setattr("builtins.open", fake_open)
    cpuinfo.write_text("flags\t\t: fpu sse sse2 sse4_1 sse4_2 avx avx2 bmi1 bmi2 fma f16c movbe abm\n")
    assert jit_cache._portable_target() == {"NUMBA_CPU_NAME": "x86-64-v3", "NUMBA_CPU_FEATURES": ""}
    cpuinfo.write_text("flags\t\t: fpu sse sse2 sse4_1 sse4_2 avx\n")  # no AVX2: compile for the host
    assert jit_cache._portable_target() == {}


def test_ready_marks_follow_the_versions(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert not jit_cache.is_ready() and jit_cache.notice() == jit_cache.ONE_TIME
    jit_cache.mark_ready()
    assert jit_cache.is_ready() and jit_cache.notice() is None
    monkeypatch.setattr("genre_desktop.__version__", "99.0")
    assert not jit_cache.is_ready()  # another version of the app: compile (and mark) again


_COMPILE = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import jitmod
    print(jitmod.twice(21))
""")


def _run(code_dir, cache, env_extra=None):
    env = {k: v for k, v in os.environ.items() if k not in JIT_VARIABLES}
    env.update(NUMBA_CACHE_DIR=str(cache), NUMBA_DEBUG_CACHE="1", NUMBA_CACHE_LOCATOR_CLASSES=jit_cache.LOCATOR)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", _COMPILE, str(code_dir)], env=env, capture_output=True, text=True,
                          timeout=300)


def test_compiled_code_moves_with_the_install(tmp_path):
    """Compiled in one place, loaded from a copy of the cache by the same code at another path."""
    source = "import numba\n\n@numba.njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    first, moved = tmp_path / "build" / "site", tmp_path / "home" / "user" / "site"
    for folder in (first, moved):
        folder.mkdir(parents=True)
        (folder / "jitmod.py").write_text(source)
    done = _run(first, tmp_path / "cache-a")
    assert done.returncode == 0 and done.stdout.split()[-1] == "42", done.stderr
    assert "data saved" in done.stdout + done.stderr
    shutil.copytree(tmp_path / "cache-a", tmp_path / "cache-b")
    again = _run(moved, tmp_path / "cache-b")
    assert again.returncode == 0 and again.stdout.split()[-1] == "42", again.stderr
    log = again.stdout + again.stderr
    assert "data loaded" in log and "data saved" not in log


@pytest.mark.slow
def test_a_prepared_install_compiles_nothing_in_a_fresh_data_folder(tmp_path):
    """After ``precompile`` the analysis of a fresh data folder loads every function from the cache."""
    env = {k: v for k, v in os.environ.items() if k not in JIT_VARIABLES}
    env["GENRE_DESKTOP_HOME"] = str(tmp_path / "first")
    prepared = subprocess.run([sys.executable, "-m", "genre_desktop.cli", "precompile"], env=env,
                              capture_output=True, text=True, timeout=900)
    assert prepared.returncode == 0, prepared.stderr
    from media import make_audio

    clip = make_audio(tmp_path / "clip.flac", seconds=6.0, signal="noise")
    env.update(GENRE_DESKTOP_HOME=str(tmp_path / "fresh"), NUMBA_DEBUG_CACHE="1")
    done = subprocess.run([sys.executable, "-m", "genre_desktop.cli", "classify", "--json", str(clip)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    log = done.stdout + done.stderr  # numba's cache log goes to stdout
    assert "data loaded" in log and "data saved" not in log
