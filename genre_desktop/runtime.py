"""Process-wide start-up that must happen before heavy imports (Qt-free). Called first thing by
both entry points (:func:`prepare_process`).

BLAS runs single-threaded (:func:`single_thread_blas`): the analysis multiplies small matrices (a
mel filter bank by one window's spectrogram), where a second thread gains nothing, and OpenBLAS's
idle threads spin, burning the core that another analysis worker process needs. Measured with
``tools/bench_library.py`` (3-window tracks, 2 cores): 1.38 CPU s per track with numpy's default
two BLAS threads, 0.78 with one, at the same wall time for one worker.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil

from genre_desktop.paths import AppDirs

log = logging.getLogger(__name__)

# Read when the BLAS library loads (numpy's import), also in spawned worker processes.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def prepare_process(dirs: AppDirs) -> None:
    single_thread_blas()
    forget_compiled_code(dirs)


# Earlier versions compiled their feature code with numba into the data folder (cache/numba) when
# the install had no compiled code of its own; nothing reads it any more.
_OLD_JIT_CACHE = "numba"


def forget_compiled_code(dirs: AppDirs) -> bool:
    """Remove the numba cache an earlier version left in the data folder; True if there was one.

    One stat per start when there is none. A failure is logged, never raised: the folder only
    takes space.
    """
    folder = dirs.cache / _OLD_JIT_CACHE
    if not folder.is_dir():
        return False
    try:
        shutil.rmtree(folder)
    except OSError as exc:
        log.info("could not remove the old compiled-code cache %s: %s", folder, exc)
        return False
    log.info("removed %s: compiled code of an earlier version, no longer used", folder)
    return True


def single_thread_blas() -> None:
    """One BLAS thread in this process and the processes it spawns, unless the user set a count.

    The environment covers a BLAS library not loaded yet (and child processes); threadpoolctl
    (scikit-learn's dependency) limits one already loaded. Idempotent and cheap: analysis worker
    processes call it too (``inference.batch.analyzer_for``), wherever they were started from.
    """
    if any(var in os.environ and os.environ.get("GENRE_DESKTOP_BLAS_SET") != "1" for var in BLAS_THREAD_VARIABLES):
        return  # the user's own choice
    for var in BLAS_THREAD_VARIABLES:
        os.environ[var] = "1"
    os.environ["GENRE_DESKTOP_BLAS_SET"] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn brings it
        return
    try:
        threadpool_limits(1, user_api="blas")
    except Exception:  # a BLAS threadpoolctl cannot drive: the environment still covers children
        log.debug("threadpoolctl could not limit BLAS threads", exc_info=True)


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
HEAP_KEEP = 128 * 1024 * 1024  # free heap kept before trimming
HEAP_MMAP = 32 * 1024 * 1024  # allocations above this get their own mapping


def keep_heap_for_arrays() -> bool:
    """Undo a tiny ``MALLOC_TRIM_THRESHOLD_`` in this process (glibc only); True if it did.

    Dask's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Setting it also turns off
    glibc's adaptive mmap threshold, so every temporary array of an analysis (spectrograms of a
    few MB, dozens per window) is mapped, faulted in and unmapped again: measured on this 2-core
    machine, 0.77 CPU s per 3-window track against 0.55 without it (``tools/bench_library.py``'s
    cluster mode: 0.78 vs 0.53 for worker processes). With 128 MB kept and 32 MB as the mmap
    threshold the cost is back to 0.52. Left alone when the variable is unset or already large.
    """
    try:
        wanted = int(os.environ.get("MALLOC_TRIM_THRESHOLD_", ""))
    except ValueError:
        return False
    if wanted >= HEAP_KEEP:
        return False
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        done = libc.mallopt(_M_TRIM_THRESHOLD, HEAP_KEEP) == 1 and libc.mallopt(_M_MMAP_THRESHOLD, HEAP_MMAP) == 1
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to undo
        return False
    if done:
        log.debug("malloc: kept %d MB of heap (MALLOC_TRIM_THRESHOLD_ was %d)", HEAP_KEEP >> 20, wanted)
    return done


_OS_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "not permitted",
    errno.ENOENT: "no such file or folder",
    errno.EIO: "the disk reported an input/output error",
}


def describe_os_error(exc: OSError) -> str:
    """An operating-system error in words a user can act on: what failed, where, and why."""
    reason = _OS_REASONS.get(exc.errno or -1) or (exc.strerror or str(exc)).lower()
    where = exc.filename if exc.filename is not None else None
    if where is None:
        return f"{reason}"
    hint = " (free some space, or keep the data folder elsewhere: GENRE_DESKTOP_HOME)" if exc.errno in (
        errno.ENOSPC, errno.EDQUOT) else ""
    return f"cannot write or read {where}: {reason}{hint}"
