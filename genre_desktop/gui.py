"""``genre-desktop``: the desktop application's entry point."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from genre_desktop.paths import app_dirs
    from genre_desktop.runtime import prepare_process

    dirs = app_dirs()  # the one place the window resolves its folders; passed on from here
    prepare_process(dirs)
    from genre_desktop.ui.main import run  # Qt is imported only when the GUI starts

    return run(sys.argv[1:] if argv is None else argv, dirs)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
