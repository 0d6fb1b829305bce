"""PyInstaller entry point of both faces: ``genre-desktop`` (the window) and ``genre-desktop-cli``.

One executable carries one copy of the Python code (each executable embeds its own archive of
every module: two executables cost 20 MiB more); ``genre-desktop-cli`` is a symbolic link to it,
and the name it was started by picks the face.
"""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    # The analysis runs in spawned worker processes: in the bundle each one starts this executable,
    # which must then become the worker, not a second window (PyInstaller needs this on every OS).
    multiprocessing.freeze_support()
    if os.path.basename(sys.argv[0]).endswith("-cli"):
        from genre_desktop.cli import main
    else:
        from genre_desktop.gui import main
    sys.exit(main())
