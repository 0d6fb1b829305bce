"""PyInstaller entry point of the command line (``genre-desktop-cli``)."""

import sys

from genre_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
