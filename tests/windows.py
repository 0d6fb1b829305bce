"""The main window as the window tests open it (a fresh store in the test's app home, a null audio
output) and a wait for its background jobs to finish."""

from __future__ import annotations

from contextlib import contextmanager

from genre_desktop.audio.output import NullOutput
from genre_desktop.library.store import Store
from genre_desktop.paths import app_dirs
from genre_desktop.ui.main import create_main_window


@contextmanager
def opened_window(qtbot, settings, **kwargs):
    """The main window on ``settings`` (``kwargs`` go to ``create_main_window``), shown and exposed;
    shut down with its store afterwards, also when the test fails."""
    dirs = app_dirs().ensure()
    store = Store.open(dirs.store_path)
    kwargs.setdefault("output", NullOutput(reason="no audio output device found"))
    win = create_main_window(settings, dirs.settings_path, store, **kwargs)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    try:
        yield win
    finally:
        win.shutdown()
        store.close()


def wait_idle(qtbot, win, timeout=20000, settle=20):
    """Until the window's jobs are done and their last queued results delivered (``settle`` ms)."""
    qtbot.waitUntil(lambda: not win.jobs.runner.active(), timeout=timeout)
    win.jobs.runner.wait()
    qtbot.wait(settle)
