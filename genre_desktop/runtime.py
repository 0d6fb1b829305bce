"""Process-wide start-up that must happen before heavy imports (Qt-free).

Numba (through librosa) caches compiled functions next to the source files by default; in an
installed or bundled app that folder is read-only or shared, so point it at the user's cache
folder. Called first thing by both entry points.
"""

from __future__ import annotations

import os

from genre_desktop.paths import AppDirs


def prepare_process(dirs: AppDirs) -> None:
    if "NUMBA_CACHE_DIR" not in os.environ:
        try:
            dirs.numba_cache.mkdir(parents=True, exist_ok=True)
            os.environ["NUMBA_CACHE_DIR"] = str(dirs.numba_cache)
        except OSError:
            pass  # numba then falls back to no on-disk cache; slower start, still correct
