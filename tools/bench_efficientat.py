#!/usr/bin/env python
"""CPU cost of the EfficientAT network per 30 s window, beside the MSD musicnn network's, one thread.

For each of the eight GTZAN clips (their 30 s at 22,050 Hz, as the analysis decodes a window):
resampling to 32 kHz, the numpy front end per 10 s excerpt, the network per excerpt (one excerpt
per onnxruntime run, as the app runs it), and in the same run the MSD network on the 2 patches the
analysis takes (16 kHz resampling, musicnn input, network). CPU time (``time.process_time``), the
median of ``--repeats`` passes; the machine is shared, so compare the two networks within a run.

Writes ``models/efficientat_speed.json`` (read by ``tools/train_efficientat_card.py``).

Usage: OMP_NUM_THREADS=1 python tools/bench_efficientat.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_desktop.fsutil import atomic_write_json  # noqa: E402

SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")


def main(argv: list[str] | None = None) -> int:
    import onnxruntime as ort
    import soxr

    from genre_desktop.audio.decode import decode
    from genre_desktop.features import efficientat_input as front
    from genre_desktop.features.musicnn_input import musicnn_patches, n_patches
    from genre_desktop.inference.musicnn import MusicnnTagger, spread_indices

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--excerpts", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "models" / "efficientat_speed.json")
    args = parser.parse_args(argv)
    clips = [decode(p, 22050, 0.0, 30.0) for p in sorted((SHARED / "data" / "gtzan" / "clips").glob("*.au"))]
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(ROOT / "models" / "efficientat_mn04.onnx"), options,
                                   providers=["CPUExecutionProvider"])
    msd = MusicnnTagger.from_meta(ROOT / "models" / "musicnn_msd.meta.json", threads=1)

    def effat(y):
        y32 = soxr.resample(y, 22050, 32000, quality="HQ").astype(np.float32)
        t0 = time.process_time()
        batch = front.excerpts(y32, args.excerpts)
        t1 = time.process_time()
        for i in range(len(batch)):
            session.run(["logits", "embedding"], {"mel": batch[i:i + 1]})
        return t1 - t0, time.process_time() - t1, len(batch)

    def musicnn(y):
        t0 = time.process_time()
        y16 = soxr.resample(y, 22050, 16000, quality="HQ").astype(np.float32)
        msd.run(musicnn_patches(y16, which=spread_indices(n_patches(len(y16)), 2)))
        return time.process_time() - t0

    for y in clips[:2]:  # warm up
        effat(y)
        musicnn(y)
    front_ms, net_ms, window_ms, msd_ms = [], [], [], []
    for _ in range(args.repeats):
        f = n = e = m = 0.0
        for y in clips:
            t0 = time.process_time()
            fe, ne, k = effat(y)
            e += time.process_time() - t0
            f += fe / k
            n += ne / k
            m += musicnn(y)
        front_ms.append(1000 * f / len(clips))
        net_ms.append(1000 * n / len(clips))
        window_ms.append(1000 * e / len(clips))
        msd_ms.append(1000 * m / len(clips))
    result = {
        "measured_by": "tools/bench_efficientat.py",
        "machine": f"shared 2-core machine, load {os.getloadavg()[0]:.1f}",
        "clips": len(clips), "repeats": args.repeats, "excerpts_per_window": args.excerpts,
        "front_end_ms_per_excerpt": float(np.median(front_ms)),
        "network_ms_per_excerpt": float(np.median(net_ms)),
        "ms_per_window": float(np.median(window_ms)),
        "msd_ms_per_window": float(np.median(msd_ms)),
        "note": "ms_per_window includes the 32 kHz resampling; msd_ms_per_window the 16 kHz resampling, "
                "the musicnn input of 2 patches and the network",
    }
    atomic_write_json(args.out, result, indent=1)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
