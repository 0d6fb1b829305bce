"""``doctor``: versions, where the store and caches live, whether audio output works."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

from genre_desktop.cli.common import OK, journal_options, journal_path, reporting_busy, store_options, workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("doctor", parents=[store_options(), journal_options()],
                              help="check the installation and say where files live")
    p.set_defaults(func=reporting_busy(run))


_PACKAGES = (("numpy",), ("scipy",), ("onnxruntime",), ("PySide6", "PySide6-Essentials", "PySide6_Essentials"),
             ("mutagen",), ("tinydb",), ("soundfile",), ("sounddevice",), ("scikit-learn",))


def _version(names: tuple[str, ...]) -> str:
    from importlib import metadata

    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "NOT INSTALLED"


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(folder, name))
            except OSError:
                pass
    return total


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _where(label: str, path: Path) -> str:
    if not path.exists():
        return f"  {label:<9} {path} (not created yet)"
    return f"  {label:<9} {path} ({_human(_size(path))})"


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if not exe:
        return "not found (M4A/WMA and some MP3 files cannot be decoded)"
    try:
        out = subprocess.run([exe, "-version"], capture_output=True, text=True, timeout=20).stdout
        return f"{exe} ({out.splitlines()[0] if out else 'unknown version'})"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{exe} does not run: {exc}"


def _audio_output() -> str:
    try:
        import sounddevice
    except Exception as exc:  # noqa: BLE001 - PortAudio missing raises OSError at import
        return f"NO: sounddevice unavailable ({exc}); playback will be silent"
    try:
        devices = sounddevice.query_devices()
        outputs = [d for d in devices if d.get("max_output_channels", 0) > 0]
    except Exception as exc:  # noqa: BLE001
        return f"NO: cannot query audio devices ({exc}); playback will be silent"
    if not outputs:
        return "NO: no audio output device found; playback will be silent"
    try:
        default = sounddevice.query_devices(kind="output")["name"]
    except Exception:  # noqa: BLE001
        default = outputs[0]["name"]
    return f"yes: {len(outputs)} output device(s), default {default!r}"


def run(args: argparse.Namespace) -> int:
    ws = workspace(args)
    dirs = ws.dirs
    print("Genre Desktop doctor")
    print(f"  python       {platform.python_version()} ({sys.executable}) on {platform.platform()}")
    for names in _PACKAGES:
        print(f"  {names[0]:<13}{_version(names)}")
    try:
        import soundfile
        print(f"  libsndfile   {soundfile.__libsndfile_version__}")
    except Exception as exc:  # noqa: BLE001
        print(f"  libsndfile   unavailable ({exc})")
    print(f"  ffmpeg       {_ffmpeg()}")
    print(f"  audio out    {_audio_output()}")
    models = ws.models_dir
    if models.is_dir():
        print(f"  models       {models} ({len([p for p in models.iterdir() if p.is_file()])} files, {_human(_size(models))})")
    else:
        print(f"  models       NOT FOUND at {models}: classification will not work")
    from genre_desktop.features import median

    print(f"  median       {median.implementation()}")
    store_path = ws.store_path
    print("Files")
    print(_where("store", store_path))
    shards = store_path.with_name(store_path.name + ".shards")
    if shards.exists():
        print(_where("shards", shards))
    print(_where("journal", journal_path(args)))
    print(_where("config", dirs.config))
    print(_where("data", dirs.data))
    print(_where("cache", dirs.cache))
    if store_path.exists():
        from genre_desktop.library.journal import Journal
        from genre_desktop.library.store import Store

        store = Store.open(store_path)
        tracks = store.all()
        store.close()
        missing = sum(t.missing for t in tracks)
        errors = sum(t.status == "error" for t in tracks)
        print(f"Library: {len(tracks)} tracks ({missing} missing, {errors} unreadable)")
        for backup in store.recovered_from:
            print(f"  warning: damaged store file recovered, backup at {backup}")
        journal = journal_path(args)
        if journal.exists():
            pending = Journal(journal).pending()
            if pending:
                print(f"  warning: {len(pending)} tag write(s) were interrupted; the journal knows their files")
    return OK
