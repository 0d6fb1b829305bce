"""PyInstaller entry point of the window (``genre-desktop``)."""

import multiprocessing
import sys

from genre_desktop.gui import main

if __name__ == "__main__":
    # The analysis runs in spawned worker processes: in the bundle each one starts this executable,
    # which must then become the worker, not a second window (PyInstaller needs this on every OS).
    multiprocessing.freeze_support()
    sys.exit(main())
