"""PyInstaller entry point of the window (``genre-desktop``)."""

import sys

from genre_desktop.gui import main

if __name__ == "__main__":
    sys.exit(main())
