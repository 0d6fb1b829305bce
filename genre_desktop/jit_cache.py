"""Numba's compiled code, built once per install and shared by every data folder (Qt-free).

The features run numba code: our running median (``features/median.py``) and librosa's kernels,
several of which librosa compiles eagerly when its modules are imported. Compiling them all took
53-68 s (idle machine) on the first analysis in each fresh data folder, against 5.7 s for the next,
because numba's cache lived in each data folder. Now:

- **Where:** one cache per install, ``genre_desktop/.jit-cache`` inside the installed package (the
  source tree, a venv's site-packages, the bundle's folder). If that folder is not writable (a
  read-only system install) the data folder's ``cache/numba`` is used, first seeded with a copy
  of whatever the install's cache holds.
- **When:** ahead of time, by ``genre-desktop-cli precompile`` (``cli/precompile.py``): the bundle's
  build and ``tools/setup.sh`` run it; a ``pip install`` can (the README says so). Without it the
  first analysis compiles, once per install: ``classify`` and ``analyze`` print :func:`notice`
  first and :func:`mark_ready` after; the window can show the same notice (Qt-free).
- **Keyed by CPU and versions:** numba's own index key (signature, target CPU and features, the
  function's bytecode) plus a stamp per source file (the file's SHA-256, as numba does; in the
  bundle, the bundle's build stamp). On x86-64 machines with AVX2 the code is generated for the
  portable ``x86-64-v3`` level instead of the exact host CPU, so a cache built on one machine
  (CI, a worker image) is valid on every such machine: measured, the running median takes the
  same time (27 ms for both HPSS filters, 25 ms for the host's own target; SSE4.2 level: 178 ms).
  Anything else falls back to compiling for the host, as before.
- **Relocatable:** ``jit_locator.InstallCacheLocator`` files each function under its module's name
  (``librosa.util/...``), not under a hash of its folder's absolute path, so a cache built in
  the build folder is valid in the installed bundle, and the window's and the command line's
  executables (different files) share it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import sys
from pathlib import Path

log = logging.getLogger(__name__)

FOLDER = ".jit-cache"  # hidden: never a package, never package data
READY = "READY"  # written by precompile() into the cache folder it filled
STAMP = "STAMP"  # the bundle's build stamp (packaging/build.sh): frozen code has no source file
PORTABLE_CPU = "x86-64-v3"
_V3_FLAGS = {"avx", "avx2", "bmi1", "bmi2", "fma", "f16c", "movbe", "abm"}  # /proc/cpuinfo names
LOCATOR = "genre_desktop.jit_locator.InstallCacheLocator"
ONE_TIME = ("first analysis with this installation: preparing the feature code for this computer "
            "(once; about a minute, the next analyses start at once)")


def install_cache() -> Path:
    """``genre_desktop/.jit-cache`` of the running installation (it may not exist yet)."""
    return Path(__file__).resolve().parent / FOLDER


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def _portable_target() -> dict[str, str]:
    """NUMBA_CPU_NAME/FEATURES for the x86-64-v3 level when this CPU has it (Linux), else none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            flags = next((line.split(":", 1)[1].split() for line in handle if line.startswith("flags")), [])
    except OSError:
        return {}
    return {"NUMBA_CPU_NAME": PORTABLE_CPU, "NUMBA_CPU_FEATURES": ""} if _V3_FLAGS <= set(flags) else {}


def configure(fallback: Path | None = None) -> Path | None:
    """Point numba at the shared cache (before numba is imported; idempotent). Returns the folder.

    ``fallback``: the data folder's numba cache, used when the install's folder is read-only. The
    user's own NUMBA_CACHE_DIR or NUMBA_CPU_NAME are left alone.
    """
    if "NUMBA_CACHE_DIR" in os.environ and os.environ.get("GENRE_DESKTOP_JIT_SET") != "1":
        return Path(os.environ["NUMBA_CACHE_DIR"])
    shared = install_cache()
    folder: Path | None = shared if _writable(shared) else None
    if folder is None and fallback is not None:
        folder = fallback if _seed(shared, fallback) else None
    if folder is None:
        log.warning("no writable folder for compiled code: numba compiles on every start")
        return None
    env = {"NUMBA_CACHE_DIR": str(folder), "NUMBA_CACHE_LOCATOR_CLASSES": LOCATOR, "GENRE_DESKTOP_JIT_SET": "1"}
    if "NUMBA_CPU_NAME" not in os.environ or os.environ.get("GENRE_DESKTOP_JIT_SET") == "1":
        env.update(_portable_target())
    os.environ.update(env)
    if "numba" in sys.modules:  # too late for the environment alone (a Dask worker, a test run)
        _reload_numba_config()
    return folder


def _reload_numba_config() -> None:
    from numba.core import config

    config.reload_config()


def _seed(shared: Path, target: Path) -> bool:
    """Copy what the (read-only) install cache holds into ``target``; True if target is usable."""
    if not _writable(target):
        return False
    if shared.is_dir():
        try:
            shutil.copytree(shared, target, dirs_exist_ok=True,
                            ignore=lambda folder, names: [n for n in names if (Path(folder) / n).is_file()
                                                          and (target / Path(folder).relative_to(shared) / n).exists()])
        except (OSError, shutil.Error) as exc:
            log.warning("could not copy the precompiled code from %s: %s", shared, exc)
    return True


def _key() -> str:
    """What a READY mark is valid for: the versions, the Python and the code target."""
    from importlib import metadata

    from genre_desktop import __version__

    parts = [__version__, sys.version.split()[0], os.environ.get("NUMBA_CPU_NAME", "host"), frozen_stamp() or ""]
    for dist in ("numba", "librosa", "numpy"):
        try:
            parts.append(f"{dist}={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist}=?")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def is_ready(folder: Path | None = None) -> bool:
    folder = folder or Path(os.environ.get("NUMBA_CACHE_DIR", install_cache()))
    try:
        return (folder / READY).read_text(encoding="utf-8").strip() == _key()
    except OSError:
        return False


def notice() -> str | None:
    """The one-time step this process is about to pay, for the CLI and the window to show; None if none."""
    return None if is_ready() else ONE_TIME


def mark_ready(folder: Path | None = None) -> None:
    folder = folder or Path(os.environ.get("NUMBA_CACHE_DIR", install_cache()))
    try:
        (folder / READY).write_text(_key() + "\n", encoding="utf-8")
    except OSError as exc:
        log.debug("could not mark %s ready: %s", folder, exc)


@functools.lru_cache(maxsize=1)
def frozen_stamp() -> str | None:
    """The bundle's build stamp (its compiled code is valid for that build only); None from source."""
    if not getattr(sys, "frozen", False):
        return None
    try:
        return (install_cache() / STAMP).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None
