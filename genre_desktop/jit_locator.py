"""The numba cache locator of :mod:`genre_desktop.jit_cache` (imported by numba itself, never by the app).

numba's own locator for ``NUMBA_CACHE_DIR`` files each function under a hash of its source folder's
absolute path and, in a frozen app, stamps it with the executable's hash. Here a function is filed
under its module's package name (``librosa.util``), so the cache is valid wherever the install
lives, and frozen code is stamped with the bundle's build stamp, which the window's and the command
line's executables share. Named in ``NUMBA_CACHE_LOCATOR_CLASSES`` by ``jit_cache.configure``.
"""

from __future__ import annotations

import os

from numba.core import config
from numba.core.caching import UserProvidedCacheLocator

from genre_desktop.jit_cache import frozen_stamp


class InstallCacheLocator(UserProvidedCacheLocator):
    """numba's user-provided locator, relocatable, with the bundle's stamp when frozen."""

    def __init__(self, py_func, py_file):
        super().__init__(py_func, py_file)
        package = py_func.__module__.rpartition(".")[0] or py_func.__module__
        self._cache_path = os.path.join(config.CACHE_DIR, package)

    def get_source_stamp(self):
        stamp = frozen_stamp()
        return stamp if stamp is not None else super().get_source_stamp()

    @classmethod
    def from_function(cls, py_func, py_file):
        if not config.CACHE_DIR or not (os.path.exists(py_file) or frozen_stamp()):
            return None  # numba tries its next locator
        locator = cls(py_func, py_file)
        try:
            locator.ensure_cache_path()
        except OSError:
            return None
        return locator
