import sys

from genre_desktop.cli import main

sys.exit(main())
