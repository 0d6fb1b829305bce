"""Fuzz campaign for tag-write safety (issues 10 and 21): rerunnable with a seed, not run in CI.

Builds real files of every container and mutants of them (``fuzz_corpus``) and drives every file
through the services the CLI uses, one container per folder: ``scan``, ``tag --genre Fuzz`` (one
write per file) and ``undo --all``. For every file it checks, independently of the app's own
verification:

- a refused write left the file byte-identical;
- a successful write kept the decoded audio identical (soundfile, else ffmpeg, on the raw samples);
- undo gave every written file back byte for byte (SHA-256): "undone byte for byte" must be every
  changed file, "undo failed" (writes accepted whose undo did not restore the file) must be 0;
- no reason shown to the user is a Python internal ("KeyError: 3", "'I' format requires ...").

Usage::

    PYTHONPATH=$PWD python tools/fuzz_tags.py --seed 6 --count 600 --out /tmp/fuzz [--keep]
    PYTHONPATH=$PWD python tools/fuzz_tags.py --seed 13 --extra /path/to/mutagen/tests/data --out /tmp/fuzz
    PYTHONPATH=$PWD python tools/fuzz_tags.py --report /tmp/fuzz/report.json   # print it again

Prints a table per container, the refusals' reasons grouped (all, and per container), and writes
``report.json`` (every file's outcome) into ``--out``.
Exit status 1 when a must-be-zero count is not zero.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import mutagen
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from fuzz_corpus import extra_masters, masters, mutate  # noqa: E402
from media import ffmpeg_available  # noqa: E402

from genre_desktop.library.journal import Journal  # noqa: E402
from genre_desktop.library.scanner import scan  # noqa: E402
from genre_desktop.library.store import Store  # noqa: E402
from genre_desktop.library.tag_service import TagService  # noqa: E402
from genre_desktop.tagging import WriteOptions  # noqa: E402
from genre_desktop.tagging.registry import KINDS  # noqa: E402

# Reason text that is about Python, not the file.
INTERNAL = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|format requires|index out of range|unpack requires|"
                      r"must be non-negative|"
                      r"object has no attribute|NoneType|Traceback|^error$|: error$|KeyError|struct\.|"
                      r"(?<!\w)b'")  # bytes in Python's form: b'stco'
PER_FILE_SECONDS = 60


# ----------------------------------------------------------------------------- independent checks
def audio_fingerprint(path: Path) -> str:
    """A hash of the decoded samples at the native rate (soundfile, else ffmpeg); 'undecodable' if none."""
    try:
        with sf.SoundFile(str(path)) as f:
            y = f.read(frames=f.samplerate * 30, dtype="int16", always_2d=True)
        return "sf:" + hashlib.sha256(y.tobytes()).hexdigest()[:16]
    except Exception:
        pass
    if not ffmpeg_available():
        return "undecodable"
    try:
        proc = subprocess.run(["ffmpeg", "-nostdin", "-v", "quiet", "-i", str(path), "-t", "30", "-map", "0:a:0",
                               "-f", "s16le", "-"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return "undecodable"
    if not proc.stdout:
        return "undecodable"
    return f"ff{proc.returncode}:" + hashlib.sha256(proc.stdout).hexdigest()[:16]


def raw_genres(path: Path):
    """The genre field as mutagen stores it, or None if mutagen cannot open the file."""
    try:
        audio = mutagen.File(str(path), options=list(KINDS))
    except Exception:
        return None
    tags = getattr(audio, "tags", None)
    if audio is None or tags is None:
        return []
    for key in ("TCON", "genre", "\xa9gen", "WM/Genre"):
        try:
            if key in tags:
                value = tags[key]
                return [str(v) for v in (value.text if hasattr(value, "text") else value)]
        except Exception:
            continue
    return []


def taglib_genres(path: Path):
    try:
        import taglib
    except ImportError:
        return None
    try:
        with taglib.File(str(path)) as f:
            return list(f.tags.get("GENRE", []))
    except Exception:
        return "unreadable"


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


# ----------------------------------------------------------------------------- campaign
def run(seed: int, count: int, out: Path, extra: Path | None = None) -> dict:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # Decoders (mpg123, TagLib) print notes on damaged files straight to fd 2: into a log instead.
    log_fd = os.open(out / "decoders-stderr.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    saved = os.dup(2)
    os.dup2(log_fd, 2)
    try:
        return _run(rng, count, out, extra)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(log_fd)


def _run(rng: random.Random, count: int, out: Path, extra: Path | None) -> dict:
    corpus = masters(out / ".masters")
    if extra is not None:
        for name, paths in extra_masters(extra).items():
            corpus.setdefault(name, []).extend(paths)
    containers = sorted(corpus)
    files: dict[str, list[tuple[Path, str]]] = defaultdict(list)
    for name in containers:
        folder = out / name
        folder.mkdir(parents=True)
        for m in corpus[name]:
            target = folder / f"master-{m.name}"
            if target.exists():  # an extra folder's file named like one of ours
                target = folder / f"master-{m.parent.name}-{m.name}"
            shutil.copyfile(m, target)
            files[name].append((target, "none"))
    for i in range(count):
        name = containers[i % len(containers)]
        master = rng.choice(corpus[name])
        data, how = mutate(master.read_bytes(), rng)
        target = out / name / f"m{i:05d}-{how}-{master.stem}{master.suffix}"
        target.write_bytes(data)
        files[name].append((target, how))

    signal.signal(signal.SIGALRM, _alarm)
    records = []
    for name in containers:
        records += run_container(out, name, files[name])
    return summarise(records)


def run_container(out: Path, name: str, items: list[tuple[Path, str]]) -> list[dict]:
    store = Store.open(out / f"{name}-library.json")
    journal = Journal(out / f"{name}-journal.jsonl")
    service = TagService(store, journal, WriteOptions())
    recs = {}
    for path, how in items:
        recs[str(path)] = {"container": name, "path": str(path), "mutation": how, "sha": sha(path),
                           "audio": audio_fingerprint(path), "raw": raw_genres(path), "taglib": taglib_genres(path)}
    signal.alarm(PER_FILE_SECONDS * 4)
    try:
        gen = scan(out / name, store)
        while True:
            next(gen)
    except StopIteration as stop:
        for path, reason in stop.value.unreadable:
            if path in recs:
                recs[path]["scan_error"] = reason
    except Timeout:
        print(f"{name}: scan hung", file=sys.stderr)
    finally:
        signal.alarm(0)
    for path, rec in recs.items():
        signal.alarm(PER_FILE_SECONDS)
        try:
            [result] = service.write({path: ["Fuzz"]})
            rec["written"], rec["error"] = result.ok, result.error
        except Timeout:
            rec["written"], rec["error"] = False, "HANG"
        except Exception as exc:  # noqa: BLE001 - a crash is a finding
            rec["written"], rec["error"] = False, f"CRASH {type(exc).__name__}: {exc}"
        finally:
            signal.alarm(0)
        p = Path(path)
        rec["after_sha"] = sha(p)
        if rec["written"] and rec["after_sha"] != rec["sha"]:
            rec["after_audio"] = audio_fingerprint(p)
    signal.alarm(PER_FILE_SECONDS * 4)
    try:
        undone = service.undo(all=True)
        rec_undo = {r.path: r for r in undone}
    except Timeout:
        rec_undo = {}
        print(f"{name}: undo hung", file=sys.stderr)
    finally:
        signal.alarm(0)
    for path, rec in recs.items():
        p = Path(path)
        r = rec_undo.get(path)
        rec["undo_ok"], rec["undo_error"] = (r.ok, r.error) if r else (None, None)
        rec["undo_exact"] = r.exact if r else None
        rec["final_sha"] = sha(p)
        if rec["final_sha"] != rec["sha"]:
            rec["final_audio"] = audio_fingerprint(p)
            rec["final_raw"] = raw_genres(p)
            rec["final_taglib"] = taglib_genres(p)
    journal.close()
    store.close()
    leftovers = [str(x) for x in (out / name).glob(".*.tmp")]
    if leftovers:
        print(f"{name}: working copies left: {leftovers}", file=sys.stderr)
    return list(recs.values())


def summarise(records: list[dict]) -> dict:
    table: dict[str, Counter] = defaultdict(Counter)
    reasons: Counter = Counter()
    findings = []
    for rec in records:
        c = table[rec["container"]]
        c["files"] += 1
        changed_bytes = rec["after_sha"] != rec["sha"]
        if rec.get("scan_error"):
            c["scan refused"] += 1
            reasons[_shape(rec["scan_error"])] += 1
            if INTERNAL.search(rec["scan_error"]):
                c["internal reasons"] += 1
        if rec["written"]:
            c["written"] += 1
            if changed_bytes and rec.get("after_audio") != rec["audio"]:
                c["audio changed"] += 1
                findings.append(("audio changed by a write", rec))
            if changed_bytes:
                c["changed files"] += 1
                if rec["final_sha"] == rec["sha"] and rec["undo_ok"]:
                    c["undone byte for byte"] += 1
                else:
                    c["undo failed"] += 1
                    findings.append(("written, but undo did not give the file back byte for byte", rec))
        else:
            error = rec["error"] or ""
            reasons[_shape(error)] += 1
            if changed_bytes:
                c["refused but changed"] += 1
                findings.append(("a refused write changed the file", rec))
            if error.startswith(("HANG", "CRASH")) or INTERNAL.search(error):
                c["internal reasons"] += 1
                findings.append(("internal reason", rec))
            else:
                c["refused (clear reason)"] += 1
            if rec["final_sha"] != rec["sha"]:
                findings.append(("changed by undo although never written", rec))
    return {"table": {k: dict(v) for k, v in table.items()}, "reasons": reasons.most_common(),
            "findings": [(what, rec["path"], rec.get("error"), rec.get("undo_error")) for what, rec in findings],
            "records": records}


def reasons_by_container(records: list[dict]) -> dict[str, Counter]:
    """Why files were not written (refused at the scan or at the write), grouped per container."""
    out: dict[str, Counter] = defaultdict(Counter)
    for rec in records:
        if not rec["written"]:
            out[rec["container"]][_shape(rec.get("error") or rec.get("scan_error") or "")] += 1
    return out


def _shape(reason: str) -> str:
    """A reason without its numbers and quoted values, to group similar ones."""
    return re.sub(r"'[^']*'|\"[^\"]*\"|\d[\d,.]*", "#", reason or "")[:140]


COLUMNS = ("files", "scan refused", "written", "changed files", "refused (clear reason)", "audio changed",
           "refused but changed", "undone byte for byte", "undo failed", "internal reasons")


def print_report(report: dict) -> int:
    table = report["table"]
    width = max(len(c) for c in COLUMNS)
    print(f"{'container':<11}" + "".join(f"{c[:13]:>14}" for c in COLUMNS))
    total: Counter = Counter()
    for name, counts in sorted(table.items()):
        total.update(counts)
        print(f"{name:<11}" + "".join(f"{counts.get(c, 0):>14}" for c in COLUMNS))
    print(f"{'all':<11}" + "".join(f"{total.get(c, 0):>14}" for c in COLUMNS))
    del width
    print("\nreasons (grouped):")
    for shape, n in report["reasons"][:40]:
        print(f"{n:>6}  {shape}")
    print("\nreasons per container (grouped, the 6 most common):")
    for name, shapes in sorted(reasons_by_container(report["records"]).items()):
        print(f"  {name}:")
        for shape, n in shapes.most_common(6):
            print(f"  {n:>6}  {shape}")
    if report["findings"]:
        print("\nFINDINGS:")
        for what, path, error, undo_error in report["findings"][:50]:
            print(f"  {what}: {path} ({error}; undo: {undo_error})")
    bad = total["audio changed"] + total["refused but changed"] + total["internal reasons"] + total["undo failed"]
    bad += total["changed files"] - total["undone byte for byte"]
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=600, help="mutants (the masters come on top)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/genre-desktop-fuzz"))
    parser.add_argument("--keep", action="store_true", help="keep the files (default: only the report)")
    parser.add_argument("--extra", type=Path, help="a folder of real files that join the masters by extension "
                                                    "(mutagen's tests/data)")
    parser.add_argument("--report", type=Path, help="print the tables of a saved report.json and stop")
    args = parser.parse_args(argv)
    if args.report is not None:
        return print_report(json.loads(args.report.read_text()))
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("GENRE_DESKTOP_HOME", str(args.out / ".home"))
    started = time.monotonic()
    out = args.out.resolve()
    report = run(args.seed, args.count, out, args.extra.resolve() if args.extra else None)
    status = print_report(report)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    if not args.keep:
        for child in out.iterdir():
            if child.name not in ("report.json", "decoders-stderr.log"):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    print(f"\n{sum(v['files'] for v in report['table'].values())} files in {time.monotonic() - started:.0f} s; "
          f"report: {out / 'report.json'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
