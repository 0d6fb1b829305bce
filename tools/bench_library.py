"""Benchmark: analysing a library of real-length tracks on one worker, every core, and a Dask LocalCluster.

What is generated (stated in the output): N tracks of 3 to 5 minutes, each the concatenation of
6 to 10 of the shared GTZAN clips (``/work/shared/data/gtzan/audio/*/*.opus``, 30 s each, train
and valid only: the test split is absent), written as 22,050 Hz mono FLAC (the clips' own rate).
Generation is skipped when ``DIR/tracks`` already holds N tracks.

Each mode runs the headless pipeline (``app.analysis.analyse_into_session``, what ``analyze`` runs)
into a fresh store with its own app home (so no vector cache is reused), timing the whole run
(worker start and model loading included) and the time to the first result:

- ``1``: this process (``--workers 1``);
- ``all``: one spawned worker process per core;
- ``cluster``: a Dask LocalCluster of one single-threaded process per core (needs the cluster extra).

CPU time: this process's (the client) plus the workers' (``/proc/PID/stat`` for ``all``,
``time.process_time`` in each for ``cluster``) between the first and the last result, per track:
the figure that does not depend on the neighbours, and from it the rate of idle cores.

Peak memory: ``ru_maxrss`` of this process for ``1``, each worker's ``VmHWM`` (peak resident set)
for ``all`` and ``cluster``. The load average is printed beside the figures: on a shared machine
the ratios between modes say more than the absolute rates.

``--format mp3|flac44|opus`` converts the tracks to 44.1/48 kHz stereo files as libraries hold them
(decoding and resampling then cost what they cost there; Opus decoding by libsndfile is slow).

Usage: ``nice python tools/bench_library.py --dir /tmp/gd-bench [--tracks 6] [--segments 3] [--modes 1,all,cluster]
[--format flac]``
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIPS = "/work/shared/data/gtzan/audio/*/*.opus"
SR = 22050


# --format: how the tracks are stored. The GTZAN clips are 22,050 Hz mono, so FLAC at that rate costs
# no resampling; real libraries are 44.1/48 kHz stereo MP3, AAC, FLAC or Opus, decoded and
# resampled to 22,050 Hz mono per window (ffmpeg converts the FLAC tracks to these).
FORMATS = {
    "flac": (),
    "mp3": ("-ar", "44100", "-ac", "2", "-b:a", "192k"),
    "flac44": ("-ar", "44100", "-ac", "2"),
    "opus": ("-ar", "48000", "-ac", "2", "-b:a", "128k"),
}


def convert_tracks(paths: list[Path], fmt: str) -> list[Path]:
    """The FLAC tracks converted with ffmpeg to ``fmt`` (see FORMATS), next to them in DIR/tracks-FMT."""
    import subprocess

    if fmt == "flac":
        return paths
    folder = paths[0].parent.with_name(f"tracks-{fmt}")
    folder.mkdir(exist_ok=True)
    suffix = {"flac44": ".flac"}.get(fmt, f".{fmt}")
    out = []
    for path in paths:
        target = folder / (path.stem + suffix)
        if not target.exists():
            subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(path), *FORMATS[fmt], str(target)],
                           check=True)
        out.append(target)
    return out


def build_tracks(folder: Path, n: int, seed: int = 7) -> list[Path]:
    """N FLAC tracks of 6 to 10 concatenated GTZAN clips (3 to 5 minutes)."""
    import numpy as np
    import soundfile as sf

    from genre_desktop.audio import decode

    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(folder.glob("track*.flac"))
    if len(existing) >= n:
        return existing[:n]
    clips = sorted(glob.glob(CLIPS))
    if not clips:
        raise SystemExit(f"no clips at {CLIPS}")
    rng = random.Random(seed)
    out = []
    for i in range(n):
        path = folder / f"track{i:04d}.flac"
        if not path.exists():
            parts = [decode(p, sr=SR) for p in rng.sample(clips, rng.randint(6, 10))]
            y = np.concatenate([np.asarray(p, dtype=np.float32).reshape(-1) for p in parts])
            sf.write(path, y, SR, format="FLAC", subtype="PCM_16")
        out.append(path)
    return out


def _peak_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_now(mode: str, runner) -> float:
    """CPU seconds so far of everything that analyses in ``mode``: this process (the client: store
    writes, results, and for ``1`` the analysis itself) plus the workers."""
    own = time.process_time()
    if mode == "all":
        return own + sum(_cpu_seconds(p.pid) for p in runner.executor._processes.values())
    if mode == "cluster":
        return own + sum(runner.executor.run(time.process_time).values())
    return own


def _cluster_peaks(client) -> list[int]:
    def peak() -> int:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux

    return list(client.run(peak).values())


def run_mode(mode: str, paths: list[Path], work: Path, segments: int) -> dict:
    """One mode in a fresh store and app home; returns its figures."""
    os.environ["GENRE_DESKTOP_HOME"] = str(work / f"home-{mode}")
    from genre_desktop.app.executors import default_workers, open_executor
    from genre_desktop.app.analysis import analyse_into_session
    from genre_desktop.app.session import LibrarySession
    from genre_desktop.app.workspace import Workspace
    from genre_desktop.library.scanner import scan_paths
    from genre_desktop.paths import app_dirs
    from genre_desktop.settings import Settings

    store_path = work / f"store-{mode}" / "library.json"
    shutil.rmtree(store_path.parent, ignore_errors=True)
    ws = Workspace(app_dirs(), Settings(segments=segments, cpu_threads=1), store_path=store_path)
    ws.open_store()
    scan_paths([str(p) for p in paths], ws.store)
    tracks = ws.store.all()
    audio = sum(t.duration or 0.0 for t in tracks)
    cores = default_workers()
    start = time.monotonic()
    runner = open_executor(1 if mode == "1" else cores, "local" if mode == "cluster" else None)
    first: list[float] = []
    last: list[float] = [0.0]
    peaks: list[int] = []
    cpu: list[float] = []  # CPU seconds at the first and at the last result

    def on_result(summary) -> None:
        last[0] = time.monotonic() - start
        if not first:
            first.append(last[0])
            cpu.append(_cpu_now(mode, runner))
        if summary.done == summary.total:  # the workers are still there
            cpu.append(_cpu_now(mode, runner))
            if mode == "all":
                peaks.extend(_peak_kb(p.pid) for p in runner.executor._processes.values())

    try:
        session = LibrarySession(ws)
        session.set_tracks(tracks)
        summary = analyse_into_session(session, tracks, runner, progress=on_result)
        if mode == "cluster":
            peaks.extend(_cluster_peaks(runner.executor))
    finally:
        runner.close()
        ws.close()
    wall = time.monotonic() - start
    if mode == "1":
        peaks = [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]
    # Steady state: the results after the first one, over the time after it (worker start, model
    # loading and the first track excluded); a library of 10,000 pays the start once.
    steady = (summary.done - 1) / (last[0] - first[0]) * 3600 if first and last[0] > first[0] else 0.0
    # CPU seconds per track in the same steady state: what the machine's cores must supply per track,
    # whatever the neighbours take (wall-clock rates on a shared machine measure them too).
    cpu_per_track = (cpu[-1] - cpu[0]) / (summary.done - 1) if len(cpu) == 2 and summary.done > 1 else float("nan")
    return {"cpu_per_track": cpu_per_track,"mode": mode, "workers": runner.workers, "tracks": summary.done, "errors": len(summary.errors),
            "wall": wall, "first": first[0] if first else None, "audio": audio, "steady_per_hour": steady,
            "tracks_per_hour": summary.done / wall * 3600, "audio_per_second": audio / wall,
            "peak_mb": [round(k / 1024) for k in peaks], "load": os.getloadavg()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/gd-bench"))
    parser.add_argument("--tracks", type=int, default=6)
    parser.add_argument("--segments", type=int, default=3, help="30 s windows analysed per track (default 3)")
    parser.add_argument("--modes", default="1,all,cluster")
    parser.add_argument("--json", type=Path, help="also write the results here (e.g. docs/measurements/)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="flac",
                        help="store the tracks as 22.05 kHz mono FLAC (default), or 44.1/48 kHz stereo "
                             "mp3, flac44, opus (converted with ffmpeg)")
    args = parser.parse_args()
    os.environ["GENRE_DESKTOP_HOME"] = str(args.dir / "home")
    from genre_desktop.paths import app_dirs
    from genre_desktop.runtime import prepare_process

    prepare_process(app_dirs())  # as the CLI (one BLAS thread per process)
    paths = convert_tracks(build_tracks(args.dir / "tracks", args.tracks), args.format)
    stored = "22.05 kHz mono FLAC" if args.format == "flac" else f"{args.format}: ffmpeg {' '.join(FORMATS[args.format])}"
    print(f"{len(paths)} tracks of 3-5 min (concatenated GTZAN clips, {stored}), "
          f"{args.segments} windows each; {os.cpu_count()} cores; load average before {os.getloadavg()}")
    # Warm-up, not reported: the file-system cache and the first imports, as on a user's machine
    # after the first analysis; otherwise the first mode pays for them.
    run_mode("1", paths[:1], args.dir, args.segments)
    results = []
    for mode in args.modes.split(","):
        r = run_mode(mode.strip(), paths, args.dir, args.segments)
        results.append(r)
        ten_k = (r["first"] or 0) / 3600 + 10_000 / r["steady_per_hour"] if r["steady_per_hour"] else float("nan")
        print(f"{r['mode']:>8}: {r['workers']} worker(s)  {r['tracks']} tracks ({r['errors']} failed) in {r['wall']:.1f} s "
              f"(first result after {r['first']:.1f} s)  {r['tracks_per_hour']:,.0f} tracks/h overall, "
              f"{r['steady_per_hour']:,.0f} tracks/h after the first  "
              f"{r['audio_per_second']:.1f} s of audio/s  peak RSS per process {r['peak_mb']} MB  "
              f"10,000 tracks: {ten_k:.1f} h  load average {tuple(round(x, 1) for x in r['load'])}", flush=True)
        cpu_h = r["cpu_per_track"] * 10_000 / 3600 / max(1, r["workers"])
        print(f"{'':>8}  CPU {r['cpu_per_track']:.3f} s per track after the first "
              f"({r['cpu_per_track'] / args.segments:.3f} s per window, workers and client)  "
              f"= {3600 / r['cpu_per_track'] * max(1, r['workers']):,.0f} tracks/h on {max(1, r['workers'])} idle core(s), "
              f"10,000 tracks in {cpu_h:.2f} h", flush=True)
    if args.json:
        import json

        args.json.write_text(json.dumps({
            "measured_by": "tools/bench_library.py", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "tracks": len(paths), "stored_as": stored, "windows_per_track": args.segments,
            "cores": os.cpu_count(), "results": results}, indent=1) + "\n", encoding="utf-8")
    base = next((r for r in results if r["mode"] == "1"), None)
    if base:
        for r in results:
            if r is not base and base["steady_per_hour"]:
                print(f"{r['mode']} / 1 worker: {r['tracks_per_hour'] / base['tracks_per_hour']:.2f}x overall, "
                      f"{r['steady_per_hour'] / base['steady_per_hour']:.2f}x after the first result")
    return 0


if __name__ == "__main__":
    sys.exit(main())
