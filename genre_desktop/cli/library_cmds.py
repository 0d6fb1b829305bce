"""Library commands: ``scan``, ``list``, ``tag``, ``undo``, ``doctor``.

Exit codes: 0 all went well, 1 some files failed (unreadable, refused or not written), 2 usage
errors (argparse's own, or a folder that does not exist).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

from genre_desktop.cli.common import Progress, workspace
from genre_desktop.paths import journal_for

OK, FAILED, USAGE = 0, 1, 2


def store_options() -> argparse.ArgumentParser:
    """The options of every command that opens the library store (a parent parser)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--store", type=Path, default=None, metavar="PATH",
                        help="library store file (default: the app's data folder)")
    common.add_argument("--lock-timeout", type=float, default=30.0, metavar="SECONDS",
                        help="how long to wait while another Genre Desktop process writes the store (default 30)")
    return common


def register(subparsers: argparse._SubParsersAction) -> None:
    common = store_options()
    journaled = argparse.ArgumentParser(add_help=False)
    journaled.add_argument("--journal", type=Path, default=None, metavar="PATH",
                           help="journal of tag writes (default: the store's, next to it: journal.jsonl "
                                "beside library.json, NAME-journal.jsonl beside any other NAME.json)")

    p = subparsers.add_parser("scan", parents=[common], help="scan a music folder into the library")
    p.add_argument("folder", metavar="DIR", nargs="?",
                   help="folder to scan (default: rescan the library's folders, e.g. to rebuild a damaged store)")
    p.add_argument("--remove-missing", action="store_true",
                   help="purge tracks whose files are gone (default: keep them flagged as missing)")
    p.set_defaults(func=_reporting_busy(cmd_scan))

    p = subparsers.add_parser("list", parents=[common], help="list the library's tracks with their genres")
    p.add_argument("--genre", help="only tracks whose current genres include this one")
    p.add_argument("--search", metavar="TEXT", help="only tracks whose path, title, artist or album contain TEXT")
    p.add_argument("--status", help="only tracks with this status (unanalysed, predicted, written, error, ...)")
    p.add_argument("--json", action="store_true", help="one JSON array of track records")
    p.set_defaults(func=_reporting_busy(cmd_list))

    p = subparsers.add_parser("tag", parents=[common, journaled], help="write genres into files (journaled, undoable)")
    p.add_argument("--genre", action="append", required=True, help="a genre to write (repeat for several)")
    p.add_argument("--id3v23", action="store_true", help="write ID3v2.3 (values joined by the separator)")
    p.add_argument("--separator", default=None, help="ID3v2.3 separator (default from settings, '; ')")
    p.add_argument("files", nargs="+", metavar="FILES")
    p.set_defaults(func=_reporting_busy(cmd_tag))

    p = subparsers.add_parser("undo", parents=[common, journaled], help="undo tag writes from the journal")
    group = p.add_mutually_exclusive_group()
    # default None, not 1: argparse ignores an explicit value equal to the default in exclusive groups
    group.add_argument("--last", type=int, default=None, metavar="N", help="undo the last N write batches (default 1)")
    group.add_argument("--all", action="store_true", help="undo every write in the journal")
    p.set_defaults(func=_reporting_busy(cmd_undo))

    p = subparsers.add_parser("doctor", parents=[common, journaled], help="check the installation and say where files live")
    p.set_defaults(func=_reporting_busy(cmd_doctor))


# --------------------------------------------------------------------------- helpers
def _reporting_busy(func):
    """A store that cannot be used (another process holding it past --lock-timeout, or one written
    by a newer version of the app) is a clear message and exit 1, not a traceback."""
    def run(args: argparse.Namespace) -> int:
        from genre_desktop.library.store import StoreUnavailable

        try:
            return func(args)
        except StoreUnavailable as exc:
            print(f"error: {exc}", file=sys.stderr)
            return FAILED
    run.__doc__ = func.__doc__
    return run


def _journal_path(args: argparse.Namespace) -> Path:
    if getattr(args, "journal", None) is not None:
        return args.journal
    return journal_for(workspace(args).store_path)


def _open_store(args: argparse.Namespace):
    """The command's workspace with its store open (``ws.store``)."""
    ws = workspace(args)
    store = ws.open_store(lock_timeout=args.lock_timeout)
    for backup in store.recovered_from:
        print(f"warning: a damaged store file was kept as {backup}; run `genre-desktop-cli scan` "
              f"(without a folder) to rebuild the library by rescanning", file=sys.stderr)
    return ws


def _library_roots(ws) -> list[str]:
    """The folders to rescan: the store's own list, else the GUI's last library."""
    if ws.store.roots:
        return ws.store.roots
    last = ws.settings.last_library
    return [os.path.abspath(last)] if last else []


def _genres(values: list[str]) -> str:
    return "; ".join(values) if values else "-"


# --------------------------------------------------------------------------- scan
def cmd_scan(args: argparse.Namespace) -> int:
    ws = _open_store(args)
    store = ws.store
    try:
        if args.folder is not None:
            folders = [os.path.abspath(args.folder)]
        else:
            folders = _library_roots(ws)
            if not folders:
                print("error: no library folder known yet: give the folder to scan", file=sys.stderr)
                return USAGE
        code = OK
        for folder in folders:
            if not os.path.isdir(folder):
                print(f"error: not a folder: {args.folder or folder}", file=sys.stderr)
                code = USAGE if args.folder is not None else FAILED
                continue
            code = max(code, _scan_one(args, ws, folder))
        return code
    finally:
        ws.close()


def _scan_one(args: argparse.Namespace, ws, folder: str) -> int:
    from genre_desktop.library.scanner import scan

    store = ws.store
    show = Progress()
    store.add_root(folder)
    gen = scan(folder, store, options=ws.write_options())
    try:
        while True:
            try:
                p = next(gen)
            except StopIteration as stop:
                summary = stop.value
                break
            if show.interactive:
                count = f"{p.done}/{p.total}" if p.total is not None else f"listing... {p.found}"
                show(None, f"{count} files  new {p.new}  changed {p.changed}  unreadable {p.unreadable}")
            elif p.total is None:
                show(None, f"listing the files of {folder}")
            else:
                show(None, f"reading the tags of {p.total} files")
        show.close()
        purged = store.remove_missing() if args.remove_missing else []
    finally:
        gen.close()  # on Ctrl-C: the scanner saves what it read
    print(f"Scanned {folder} in {summary.elapsed:.1f} s")
    print(f"  files found: {summary.found}")
    print(f"  new:         {summary.new}")
    print(f"  changed:     {summary.changed}")
    print(f"  unchanged:   {summary.unchanged}")
    if purged:
        print(f"  removed:     {len(purged)} (gone from disk, purged from the library)")
    else:
        print(f"  missing:     {summary.removed} (gone from disk; kept, use --remove-missing to purge)")
    print(f"  unreadable:  {len(summary.unreadable)}")
    for path, reason in summary.unreadable:
        print(f"    {path}: {reason}")
    for path, reason in summary.unlisted:
        print(f"  folder not listed: {path}: {reason}")
    return FAILED if summary.unreadable or summary.unlisted else OK


# --------------------------------------------------------------------------- list
def cmd_list(args: argparse.Namespace) -> int:
    from genre_desktop.library.track import STATUSES

    if args.status and args.status not in STATUSES:
        print(f"error: unknown status {args.status!r} (one of {', '.join(STATUSES)})", file=sys.stderr)
        return USAGE
    ws = _open_store(args)
    try:
        tracks = sorted(ws.store.query(genre=args.genre, search=args.search, status=args.status),
                        key=lambda t: t.path)
    finally:
        ws.close()
    if args.json:
        print(json.dumps([_json_record(t) for t in tracks], indent=1))
        return OK
    # Two genre columns, named: what the file's tag holds now, and the librarian's pending choice
    # (what the next write puts there), as the window's table shows them.
    if tracks:
        print(f"{'STATUS':<10}  {'IN FILE':<24}  {'YOUR CHOICE':<20}  PATH")
    for t in tracks:
        flag = " (missing)" if t.missing else ""
        predicted = f"  [model: {t.predicted_genre} {t.confidence:.0%}]" if t.predicted_genre else ""
        print(f"{t.status:<10}  {_genres(t.genres):<24}  {_genres(t.chosen or []):<20}  {t.path}{flag}{predicted}")
    print(f"{len(tracks)} track(s)", file=sys.stderr)
    return OK


def _json_record(track) -> dict:
    """A track for ``list --json``: its fields, ``choice`` (the pending choice or null) and
    ``predicted`` ([{genre, probability}] highest first, or null) instead of the whole prediction
    (windows, tags: kilobytes per track)."""
    record = track.to_dict()
    prediction = record.pop("prediction", None)
    record["choice"] = record.get("chosen")
    genres = (prediction or {}).get("genres") if not (prediction or {}).get("error") else None
    record["predicted"] = sorted(({"genre": g["genre"], "probability": g["probability"]} for g in genres),
                                 key=lambda g: -g["probability"]) if genres else None
    return record


# --------------------------------------------------------------------------- tag / undo
@contextmanager
def _service(args: argparse.Namespace, ws, *, id3v23: bool = False, separator: str | None = None):
    """The workspace's tag service (the window's wiring), telling what a killed run left pending."""
    options = ws.write_options(id3_version=3 if id3v23 else None, id3_separator=separator)
    with ws.tag_service(options, journal_path=_journal_path(args)) as (service, settled):
        if settled is None:
            print("another Genre Desktop process is writing tags now; its unfinished writes are left to it",
                  file=sys.stderr)
        elif settled:
            print(f"settled {sum(r.ok for r in settled)} of {len(settled)} interrupted write(s) from an earlier run",
                  file=sys.stderr)
        yield service


def _print_results(results, verb: str) -> int:
    failed = 0
    for r in results:
        if r.ok:
            print(f"{verb:<7} {r.path}: {_genres(r.old)} -> {_genres(r.new)}")
        else:
            failed += 1
            print(f"FAILED  {r.path}: {r.error}")
    return failed


def cmd_tag(args: argparse.Namespace) -> int:
    from genre_desktop.library.scanner import scan_paths

    ws = _open_store(args)
    store = ws.store
    try:
        paths = [os.path.abspath(f) for f in args.files]
        unknown = [p for p in paths if p not in store]
        problems = scan_paths(unknown, store, ws.write_options()).unreadable if unknown else []
        bad = {p for p, _ in problems}
        for path, reason in problems:
            print(f"FAILED  {path}: {reason}")
        with _service(args, ws, id3v23=args.id3v23, separator=args.separator) as service:
            results = service.write({p: list(args.genre) for p in paths if p not in bad})
    finally:
        ws.close()
    failed = _print_results(results, "written") + len(problems)
    return FAILED if failed else OK


def cmd_undo(args: argparse.Namespace) -> int:
    last = 1 if args.last is None else args.last
    if not args.all and last < 1:
        print("error: --last needs a positive number", file=sys.stderr)
        return USAGE
    ws = _open_store(args)
    try:
        with _service(args, ws) as service:
            results = service.undo(last=last, all=args.all)
    finally:
        ws.close()
    if not results:
        print("nothing to undo")
        return OK
    return FAILED if _print_results(results, "undone") else OK


# --------------------------------------------------------------------------- doctor
_PACKAGES = (("numpy",), ("librosa",), ("onnxruntime",), ("PySide6", "PySide6-Essentials", "PySide6_Essentials"),
             ("mutagen",), ("tinydb",), ("soundfile",), ("sounddevice",), ("scikit-learn",))


def _version(names: tuple[str, ...]) -> str:
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


def cmd_doctor(args: argparse.Namespace) -> int:
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
    store_path = ws.store_path
    print("Files")
    print(_where("store", store_path))
    shards = store_path.with_name(store_path.name + ".shards")
    if shards.exists():
        print(_where("shards", shards))
    print(_where("journal", _journal_path(args)))
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
        journal_path = _journal_path(args)
        if journal_path.exists():
            pending = Journal(journal_path).pending()
            if pending:
                print(f"  warning: {len(pending)} tag write(s) were interrupted; the journal knows their files")
    return OK
