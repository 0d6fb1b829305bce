"""SIGKILL loop (issue 6): kill a batch tag write and a scan at seeded random moments, check everything.

Library: ``--files`` copies of small masters (0.2 s; FLAC, MP3, Ogg, WAV, M4A, Opus as available),
genre "Rock", scanned into a store. Then, per round (seeded ``random.Random(seed)``):

- write round: a child process runs ``TagService.write`` (genres ["Killed", "rN"]) over every file
  and is SIGKILLed once the journal holds k intents of this round (k drawn in 1..files). After the
  kill: the store opens without recovery; every file parses and holds its old or its new genres,
  and the journal's entry for it agrees; every file's decoded audio is identical to its master's;
  ``recover()`` leaves no entry pending and no working copy; ``undo(all=True)`` puts "Rock" back
  on every file, and the store agrees.
- scan round: a child scans the library into a fresh store and is SIGKILLed at a drawn progress
  count; the store opens without recovery, holds only whole tracks, and a rescan finds every file.

The test suite runs this with 200 files x 5 kills (tests/test_safety_crash.py); the figures for
the issue come from ``nice python tools/kill_loop.py --files 1000 --write-kills 20 --scan-kills 10``.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

WRITER = r"""
import sys
from genre_desktop.library.journal import Journal
from genre_desktop.library.store import Store
from genre_desktop.library.tag_service import TagService
store = Store.open(sys.argv[1])
service = TagService(store, Journal(sys.argv[2]))
print("ready", flush=True)
service.write({p: ["Killed", sys.argv[3]] for p in sorted(store.paths())})
print("finished", flush=True)
"""

SCANNER = r"""
import sys
from genre_desktop.library.scanner import scan
from genre_desktop.library.store import Store
store = Store.open(sys.argv[1])
print("ready", flush=True)
for p in scan(sys.argv[2], store, batch_size=int(sys.argv[3]), progress_interval=0):
    if p.total is not None:
        print(p.done, flush=True)
store.close()
print("finished", flush=True)
"""


@dataclass
class Figures:
    files: int = 0
    write_kills: int = 0
    scan_kills: int = 0
    finished_before_kill: int = 0
    files_checked: int = 0
    damaged: list[str] = field(default_factory=list)
    seconds: float = 0.0


def audio_hash(path) -> str:
    from genre_desktop.audio import decode, probe

    return hashlib.sha256(decode(path, sr=probe(path).samplerate).tobytes()).hexdigest()


def build_library(root: Path, files: int) -> tuple[list[str], dict[str, str]]:
    """``files`` copies of the masters; returns the paths and each path's expected audio hash."""
    import shutil

    from media import FORMATS, make_audio

    masters_dir = root / "masters"
    masters_dir.mkdir(parents=True)
    exts = [e for e in (".flac", ".mp3", ".ogg", ".wav", ".m4a", ".opus") if e in FORMATS]
    masters = {e: make_audio(masters_dir / f"m{e}", seconds=0.2, signal="noise",
                             tags={"title": "T", "artist": "A", "genre": ["Rock"]}) for e in exts}
    hashes = {e: audio_hash(p) for e, p in masters.items()}
    music = root / "music"
    paths, expected = [], {}
    for i in range(files):
        ext = exts[i % len(exts)]
        target = music / f"d{i // 100:02d}" / f"{i:04d}{ext}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(masters[ext], target)
        paths.append(str(target))
        expected[str(target)] = hashes[ext]
    return paths, expected


def _kill_when(child: subprocess.Popen, ready: callable, timeout: float = 300) -> bool:
    """Poll until ``ready()``; SIGKILL the child. True if it was killed (not finished first)."""
    deadline = time.monotonic() + timeout
    while child.poll() is None and time.monotonic() < deadline and not ready():
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    return child.wait() == -signal.SIGKILL


def write_round(n: int, rng: random.Random, root: Path, paths: list[str], expected: dict[str, str],
                figures: Figures) -> None:
    from genre_desktop.library.journal import Journal
    from genre_desktop.library.store import Store
    from genre_desktop.library.tag_service import TagService
    from genre_desktop.tagging import read_genres

    store_path, journal_path = root / "library.json", root / "journal.jsonl"
    tag = f"r{n}"
    kill_at = rng.randint(1, len(paths))
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path), str(journal_path), tag],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    needle = f'"batch":'  # count this round's intents: lines with our genre value
    marker = f'"{tag}"'

    def ready() -> bool:
        try:
            text = journal_path.read_text()
        except FileNotFoundError:
            return False
        return sum(1 for line in text.splitlines() if needle in line and marker in line) >= kill_at

    killed = _kill_when(child, ready)
    child.stdout.close()
    figures.write_kills += killed
    figures.finished_before_kill += not killed
    store, journal = Store.open(store_path), Journal(journal_path)
    assert store.recovered_from == [], store.recovered_from
    latest = {e.path: e for e in journal.entries() if e.kind == "write"}
    for path in paths:
        genres = read_genres(path)  # parses: never half-written
        entry = latest.get(path)
        if genres != ["Rock"]:
            assert entry is not None and entry.resolve(genres) == "new", (path, genres)
        if audio_hash(path) != expected[path]:
            figures.damaged.append(path)
        figures.files_checked += 1
    service = TagService(store, journal)
    service.recover()
    assert journal.pending() == [], journal.pending()[:3]
    assert not list((root / "music").rglob(".*.tmp")), "working copies left after recover"
    results = service.undo(all=True)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok][:3]
    for path in paths:
        assert read_genres(path) == ["Rock"], path
        assert store.get(path).genres == ["Rock"], path
    journal.close()
    store.close()


def scan_round(n: int, rng: random.Random, root: Path, paths: list[str], figures: Figures) -> None:
    from genre_desktop.library.scanner import scan
    from genre_desktop.library.store import Store

    store_path = root / f"scan-{n}" / "library.json"
    kill_at = rng.randint(1, len(paths))
    batch = rng.choice((7, 50, 500))
    child = subprocess.Popen([sys.executable, "-c", SCANNER, str(store_path), str(root / "music"), str(batch)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    for line in child.stdout:
        if line.strip().isdigit() and int(line) >= kill_at or line.strip() == "finished":
            break
    killed = _kill_when(child, lambda: True)
    child.stdout.close()
    figures.scan_kills += killed
    figures.finished_before_kill += not killed
    store = Store.open(store_path)
    assert store.recovered_from == []
    for track in store.all():  # whole records only
        assert track.path in expected_paths(paths) and track.size > 0 and track.genres == ["Rock"], track
    gen = scan(root / "music", store)
    for _ in gen:
        pass
    assert sorted(store.paths()) == sorted(paths)
    store.close()


def expected_paths(paths: list[str]) -> set[str]:
    return set(paths)


def run(files: int, write_kills: int, scan_kills: int, seed: int = 6, root: Path | None = None) -> Figures:
    from genre_desktop.library.scanner import scan_paths
    from genre_desktop.library.store import Store

    started = time.monotonic()
    rng = random.Random(seed)
    root = root or Path(tempfile.mkdtemp(prefix="kill-loop-"))
    paths, expected = build_library(root, files)
    store = Store.open(root / "library.json")
    scan_paths(paths, store)
    store.close()
    figures = Figures(files=files)
    for n in range(write_kills):
        write_round(n, rng, root, paths, expected, figures)
    for n in range(scan_kills):
        scan_round(n, rng, root, paths, figures)
    figures.seconds = time.monotonic() - started
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--write-kills", type=int, default=20)
    parser.add_argument("--scan-kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=6)
    args = parser.parse_args(argv)
    f = run(args.files, args.write_kills, args.scan_kills, args.seed)
    print(f"files {f.files}; kill points survived: {f.write_kills} during batch writes + {f.scan_kills} during "
          f"scans ({f.finished_before_kill} rounds finished before their kill point); file states checked "
          f"{f.files_checked}; damaged {len(f.damaged)}; {f.seconds:.0f} s")
    return 1 if f.damaged else 0


if __name__ == "__main__":
    sys.exit(main())
