"""Start-up of the command line and of the window, each in a fresh process (wall time).

- ``cli --version``: the interpreter and the CLI's own imports;
- ``cli list``: a command on an empty library (workspace, store);
- ``cli classify``: one 30 s clip with the bundled models (imports of the feature code, model
  sessions, one analysis), the figure of issue 23;
- ``window``: the window's cold start to its first paint (offscreen), as ``genre-desktop`` does it.

Each is run ``--rounds`` times, alternating, in one data folder; the median is reported. The
machine is shared: compare figures from the same run only (``--json`` for the raw rounds).
``--source DIR`` (repeatable) adds the same cases for another checkout of the package, run with this
interpreter (``PYTHONPATH=DIR``), alternating with this one: a before/after in one run. ``--cli
EXE`` adds the command-line cases of another executable (the bundle's ``genre-desktop-cli``).

    python tools/bench_startup.py [--rounds 5] [--json] [--source /tmp/before]
    python tools/bench_startup.py --cli dist/genre-desktop/genre-desktop-cli
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_first_run import make_clip  # noqa: E402

WINDOW = """
import sys, time
from genre_desktop.paths import app_dirs
from genre_desktop.runtime import prepare_process
dirs = app_dirs()
prepare_process(dirs)
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from genre_desktop.app.workspace import Workspace
from genre_desktop.ui.main import create_main_window
app = QApplication([sys.argv[0]])
workspace = Workspace(dirs.ensure())
window = create_main_window(workspace)
window.show()
window.start(workspace.store_path, None)
window.grab()  # the first paint
window.shutdown()
workspace.close()
"""


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--source", action="append", default=[], metavar="DIR",
                        help="also measure the package checked out in DIR (before/after in one run)")
    parser.add_argument("--cli", action="append", default=[], metavar="EXE",
                        help="also measure this command line (e.g. the bundle's genre-desktop-cli)")
    args = parser.parse_args(argv)
    cli = [sys.executable, "-m", "genre_desktop.cli"]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as work:
        clip = make_clip(Path(work) / "clip.flac")
        trees: dict[str, dict[str, str]] = {"": {}}
        trees.update({f" [{Path(d).name}]": {"PYTHONPATH": str(Path(d).resolve())} for d in args.source})
        cases: dict[str, tuple[list[str], dict[str, str]]] = {}
        for i, (label, extra) in enumerate(trees.items()):
            env = dict(os.environ, GENRE_DESKTOP_HOME=str(Path(work) / f"home{i}"), QT_QPA_PLATFORM="offscreen", **extra)
            cases.update({
                f"cli --version{label}": ([*cli, "--version"], env),
                f"cli list (empty library){label}": ([*cli, "list"], env),
                f"cli classify (one 30 s clip){label}": ([*cli, "classify", str(clip)], env),
                f"window (first paint){label}": ([sys.executable, "-c", WINDOW], env),
            })
            timed([*cli, "classify", str(clip)], env)  # warm the file-system cache once
        for j, exe in enumerate(args.cli):
            exe = str(Path(exe).absolute())  # not resolve(): the link's name picks the face
            env = dict(os.environ, GENRE_DESKTOP_HOME=str(Path(work) / f"cli{j}"), QT_QPA_PLATFORM="offscreen")
            label = f" [{Path(exe).parent.name}]"
            cases.update({
                f"cli --version{label}": ([exe, "--version"], env),
                f"cli list (empty library){label}": ([exe, "list"], env),
                f"cli classify (one 30 s clip){label}": ([exe, "classify", str(clip)], env),
            })
            timed([exe, "classify", str(clip)], env)
        rounds: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (cmd, env) in cases.items():
                rounds[name].append(timed(cmd, env))
    medians = {name: statistics.median(values) for name, values in rounds.items()}
    if args.json:
        print(json.dumps({"median_s": medians, "rounds_s": rounds}, indent=2))
    else:
        for name, value in medians.items():
            print(f"{name:<48} {value:6.2f} s  (rounds: {', '.join(f'{v:.2f}' for v in rounds[name])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
