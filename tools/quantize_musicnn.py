#!/usr/bin/env python
"""Measure int8 quantisation of the musicnn networks: speed on one core and drift from float.

For each bundled musicnn network, builds two int8 variants in a temporary folder and compares them
with the float network:

- dynamic (``onnxruntime.quantization.quantize_dynamic``, int8 weights, ConvInteger/MatMulInteger);
- static (``quantize_static``, QOperator format, QLinearConv, activations calibrated on patches of
  train-split clips).

Speed: CPU milliseconds (``time.process_time``, one intra-op thread) per run of one window's
TAG_PATCHES_PER_WINDOW patches, float and int8 in the same run. Drift: on patches of valid-split
clips (patches as the analyzer makes them), tags and embeddings: max and mean absolute difference
and the mean cosine of the embeddings. The test split is never read.

Nothing is written to models/: this is a measurement. A network that is not faster is not worth
shipping (shipping one also means retraining the audio head on its embeddings).

Usage: python tools/quantize_musicnn.py [--clips 12] [--runs 20]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
AUDIO = ROOT.parent / "shared" / "data" / "gtzan" / "audio"


def split_patches(split: str, count: int) -> np.ndarray:
    """The analyzer's patches (TAG_PATCHES_PER_WINDOW per clip) of the first ``count`` clips of ``split``."""
    from genre_desktop.audio import decode
    from genre_desktop.inference.analyzer import SAMPLE_RATE, TAG_PATCHES_PER_WINDOW
    from genre_desktop.inference.inputs import AudioInputs
    from genre_desktop.inference.musicnn import window_patches

    with open(AUDIO / "clips.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["split"] == split]
    # spread over the genres: every k-th clip of the (genre-sorted) list
    chosen = rows[:: max(1, len(rows) // count)][:count]
    out = []
    for r in chosen:
        y = decode(AUDIO / r["genre"] / f"{r['clip']}.opus", SAMPLE_RATE, 0.0, 30.0)
        out.append(window_patches(AudioInputs([(0.0, len(y) / SAMPLE_RATE, y)]), TAG_PATCHES_PER_WINDOW)[0])
    return np.concatenate(out)


def session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def cpu_ms(sess, x: np.ndarray, runs: int) -> float:
    sess.run(None, {"patches": x})
    t0 = time.process_time()
    for _ in range(runs):
        sess.run(None, {"patches": x})
    return 1000 * (time.process_time() - t0) / runs


def drift(sess, ref, x: np.ndarray) -> dict:
    tags, emb = sess.run(["tags", "embedding"], {"patches": x})
    rtags, remb = ref
    cos = np.sum(emb * remb, 1) / (np.linalg.norm(emb, axis=1) * np.linalg.norm(remb, axis=1) + 1e-12)
    return {"tags max": float(np.abs(tags - rtags).max()), "tags mean": float(np.abs(tags - rtags).mean()),
            "emb max": float(np.abs(emb - remb).max()), "emb mean": float(np.abs(emb - remb).mean()),
            "emb cosine": float(cos.mean())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=12, help="train clips to calibrate on, valid clips to compare on")
    parser.add_argument("--runs", type=int, default=20, help="timed runs per network")
    args = parser.parse_args(argv)

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from genre_desktop.inference.analyzer import TAG_PATCHES_PER_WINDOW

    calib = split_patches("train", args.clips)
    valid = split_patches("valid", args.clips)
    window = valid[:TAG_PATCHES_PER_WINDOW]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._it = iter({"patches": calib[i : i + 8]} for i in range(0, len(calib), 8))

        def get_next(self):
            return next(self._it, None)

    print(f"calibration: {len(calib)} train patches; drift: {len(valid)} valid patches; "
          f"speed: CPU ms per run of {len(window)} patches (one window), one thread")
    with tempfile.TemporaryDirectory() as tmp:
        for net in ("musicnn_msd", "musicnn_mtt"):
            src = ROOT / "models" / f"{net}.onnx"
            dyn, pre, sta = (Path(tmp) / f"{net}.{k}.onnx" for k in ("dynamic", "pre", "static"))
            quantize_dynamic(str(src), str(dyn), weight_type=QuantType.QInt8)
            quant_pre_process(str(src), str(pre))
            quantize_static(str(pre), str(sta), Reader(), quant_format=QuantFormat.QOperator,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
            ref_sess = session(src)
            ref = ref_sess.run(["tags", "embedding"], {"patches": valid})
            t_float = cpu_ms(ref_sess, window, args.runs)
            print(f"{net}: float {t_float:.1f} ms")
            for name, path in (("dynamic int8", dyn), ("static int8", sta)):
                s = session(path)
                t = cpu_ms(s, window, args.runs)
                d = drift(s, ref, valid)
                print(f"  {name:<13} {t:6.1f} ms ({t_float / t:.2f}x float)  "
                      + "  ".join(f"{k} {v:.4f}" for k, v in d.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
