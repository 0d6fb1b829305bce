"""Start the GUI: QApplication, workspace (settings, store), window; open the folder given or the last library."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any, Callable

from PySide6.QtWidgets import QApplication

from genre_desktop import __version__
from genre_desktop.app.workspace import Workspace
from genre_desktop.audio.output import AudioOutput, make_output
from genre_desktop.audio.player import Player
from genre_desktop.app.analysis import AnalyzerProvider
from genre_desktop.jobs.library_jobs import LibraryJobs
from genre_desktop.jobs.runner import JobRunner
from genre_desktop.paths import AppDirs, default_music_folder, resources_dir
from genre_desktop.ui.main_window import MainWindow
from genre_desktop.ui.player_bar import PlayerBar
from genre_desktop.ui.theme import apply_theme

log = logging.getLogger(__name__)

APP_ID = "org.genredesktop.GenreDesktop"  # resources/<APP_ID>.desktop and .metainfo.xml


def app_icon():
    """The application icon from resources/icons (PNG sizes; the SVG needs Qt's svg icon plugin)."""
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for png in sorted((resources_dir() / "icons").glob("genre-desktop-*.png")):
        icon.addFile(str(png))
    return icon


def create_main_window(
    workspace: Workspace,
    settings_path: Any = None,
    store: Any = None,
    *,
    runner: JobRunner | None = None,
    output: AudioOutput | None = None,
    analyzer_factory: Callable[..., Any] | None = None,
    player: Player | None = None,
) -> MainWindow:
    """Build the window and its collaborators (also used by tests and tools/screenshots.py).

    ``workspace.store`` may be None: ``MainWindow.start`` then opens it in the background. The
    older form ``(settings, settings_path, store)`` still works (tests, tools): it builds the
    workspace on the app's folders.
    """
    if not isinstance(workspace, Workspace):
        from genre_desktop.paths import app_dirs

        workspace = Workspace(app_dirs(), workspace)
        workspace.store = store
    runner = runner or JobRunner()
    jobs = LibraryJobs(runner, workspace, AnalyzerProvider(workspace, analyzer_factory))
    player = player or Player(output or make_output())
    player.set_volume(workspace.settings.volume)
    bar = PlayerBar(player)
    window = MainWindow(workspace, jobs, bar)
    runner.setParent(window)
    jobs.setParent(window)
    return window


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="genre-desktop", description="Genre Desktop")
    parser.add_argument("folder", nargs="?", help="music folder to open (default: the last one)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("--smoke-test", action="store_true",
                        help="open FOLDER, scan, analyse one track, accept and write its genre, verify, "
                             "print a JSON report and exit (checks an installation end to end)")
    args, _qt_args = parser.parse_known_args(argv)  # leave Qt's own options (-platform …) to Qt
    return args


def run(argv: list[str], dirs: AppDirs) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.WARNING - 10 * min(args.verbose, 2), format="%(levelname)s %(name)s: %(message)s")
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setApplicationName("Genre Desktop")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)  # lets the desktop match the window to its .desktop entry
    app.setWindowIcon(app_icon())
    workspace = Workspace(dirs.ensure())  # the store opens in the background (window.start)
    settings = workspace.settings
    apply_theme(app, settings.theme)
    window = create_main_window(workspace)
    window.show()
    folder = args.folder or settings.last_library
    if not folder:
        music = default_music_folder()
        folder = str(music) if music.is_dir() else None
    if args.smoke_test and not args.folder:
        print("--smoke-test needs a FOLDER", file=sys.stderr)
        return 2
    window.start(workspace.store_path, os.path.abspath(os.path.expanduser(folder)) if folder else None)
    if args.smoke_test:
        from genre_desktop.ui.smoke import SmokeTest

        SmokeTest(window).start()
    code = app.exec()
    window.shutdown()
    from genre_desktop.library.store import StoreUnavailable

    try:
        workspace.close()
    except StoreUnavailable as exc:  # e.g. its folder deleted and not writable again: said, not a traceback
        log.error("the library could not be saved at exit: %s", exc)
        print(f"error: the library could not be saved: {exc}", file=sys.stderr)
        return 1
    return int(code)
