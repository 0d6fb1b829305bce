#!/usr/bin/env python
"""Cache what the app computes from each GTZAN audio clip, for training the audio members.

For every clip under ``audio/GENRE/CLIP.opus`` the clip goes through the app's own path
(``inference.analyzer.Analyzer``: ``audio.decode`` at 22050 Hz, ``plan_segments`` windows, the
silence check; then ``inference.inputs.AudioInputs``, what every member reads: the table features
and the musicnn networks' per-patch outputs after resampling to 16 kHz),
so training sees exactly what the app sees. Per 30 s window it stores the 57 table features and,
for EVERY 3 s patch of the window (``tag_patches=0``), both bundled musicnn networks' 200-d
embeddings and 50 tag scores. How many patches a model then uses is decided at training time by
``genre_desktop.inference.common.spread_indices`` (the app's rule for picking patches).

Output: one ``.npz`` (default ``/work/cache/gtzan_audio_vectors.npz``, outside git) with
- clip-level: ``clip`` (names), ``genre``, ``split``, ``origin``;
- window-level: ``window_clip`` (index into clips), ``window_start``, ``features`` (W, 57);
- patch-level: ``patch_window`` (index into windows), ``<net>_embedding`` (P, 200),
  ``<net>_tags`` (P, 50) for net in musicnn_msd, musicnn_mtt;
- excerpt-level (the EfficientAT network, ``models/efficientat_mn04.onnx``, on EVERY 10 s excerpt
  of ``features.efficientat_input.excerpt_starts`` of the window resampled to 32 kHz with soxr HQ,
  as ``AudioInputs`` resamples): ``excerpt_window`` (index into windows), ``excerpt_index`` (its
  place among the window's excerpts), ``excerpt_count`` (how many the window has),
  ``efficientat_logits`` (E, 527) and ``efficientat_embedding`` (E, 384); and per window the one
  excerpt the app computes with ``excerpts_per_window`` 1 (the middle 10 s, which for a 15 s
  window is none of the above): ``efficientat_middle_logits`` (W, 527),
  ``efficientat_middle_embedding`` (W, 384) (``--add-middle`` adds them to an existing cache);
- ``seconds_per_clip`` (the wall time of each clip's features and networks, one thread).

Usage: nice python tools/extract_audio_vectors.py [--audio DIR] [--out FILE] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_desktop.audio import decode, probe  # noqa: E402
from genre_desktop.cancel import NEVER  # noqa: E402
from genre_desktop.inference.analyzer import SAMPLE_RATE, Analyzer  # noqa: E402
from genre_desktop.inference.inputs import AudioInputs  # noqa: E402

log = logging.getLogger("extract_audio_vectors")

DEFAULT_AUDIO = ROOT.parent.parent / "shared" / "data" / "gtzan" / "audio"
DEFAULT_OUT = Path("/work/cache/gtzan_audio_vectors.npz")
NETWORKS = ("musicnn_msd", "musicnn_mtt")
EFFICIENTAT = ROOT / "models" / "efficientat_mn04.onnx"


class EfficientatRunner:
    """The EfficientAT network on every 10 s excerpt of a 22,050 Hz window (one thread)."""

    def __init__(self, path: Path = EFFICIENTAT):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(self, y22: np.ndarray, max_excerpts: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        import soxr

        from genre_desktop.features.efficientat_input import SAMPLE_RATE as RATE, excerpts

        y32 = soxr.resample(y22, SAMPLE_RATE, RATE, quality="HQ").astype(np.float32)
        batch = excerpts(y32, max_excerpts)
        runs = [self.session.run(["logits", "embedding"], {"mel": batch[i:i + 1]}) for i in range(len(batch))]
        return np.concatenate([r[0] for r in runs]), np.concatenate([r[1] for r in runs])


def add_middle(audio: Path, cache: Path) -> None:
    """Add the app's one-excerpt input (the middle 10 s of each window) to an existing cache."""
    data = dict(np.load(cache))
    analyzer = Analyzer(threads=1, tag_patches=0, musicnn=False)
    rows = {r["clip"]: r for r in read_clips(audio)}
    effat = EfficientatRunner()
    logits, embedding = [], []
    for wi, ci in enumerate(data["window_clip"]):
        path = rows[str(data["clip"][ci])]["path"]
        windows = analyzer._windows(lambda s, n, p=path: decode(p, SAMPLE_RATE, s, n), probe(path).duration, NEVER)
        start = float(data["window_start"][wi])
        y = next(w[2] for w in windows if abs(w[0] - start) < 1e-3)
        lg, em = effat.run(y, max_excerpts=1)
        logits.append(lg[0])
        embedding.append(em[0])
    data["efficientat_middle_logits"] = np.stack(logits).astype(np.float32)
    data["efficientat_middle_embedding"] = np.stack(embedding).astype(np.float32)
    tmp = cache.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **data)
    tmp.replace(cache)
    log.info("added the middle excerpt of %d windows to %s", len(logits), cache)


def read_clips(audio: Path) -> list[dict]:
    """Rows of ``clips.csv`` whose file exists, in file order."""
    with open(audio / "clips.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["path"] = audio / row["genre"] / f"{row['clip']}.opus"
    missing = [r["clip"] for r in rows if not r["path"].exists()]
    if missing:
        raise SystemExit(f"clips.csv lists {len(missing)} clips without a file, e.g. {missing[:3]}")
    if any(r["split"] not in ("train", "valid") for r in rows):
        raise SystemExit("refusing: clips.csv lists clips outside the train and valid splits")
    return rows


def extract(audio: Path, limit: int | None = None) -> dict[str, np.ndarray]:
    analyzer = Analyzer(threads=1, tag_patches=0, musicnn=True)
    if not set(NETWORKS) <= set(analyzer.networks):
        raise SystemExit(f"expected the networks {NETWORKS} in the manifest, found {sorted(analyzer.networks)}")
    rows = read_clips(audio)[:limit]
    window_clip, window_start, features, patch_window, seconds = [], [], [], [], []
    effat = EfficientatRunner()
    excerpt_window, excerpt_index, excerpt_count, effat_logits, effat_embedding = [], [], [], [], []
    effat_middle: tuple[list, list] = ([], [])
    nets: dict[str, dict[str, list]] = {n: {"embedding": [], "tags": []} for n in NETWORKS}
    for ci, row in enumerate(rows):
        t0 = time.perf_counter()
        path = row["path"]
        windows = analyzer._windows(lambda s, n, p=path: decode(p, SAMPLE_RATE, s, n), probe(path).duration, NEVER)
        if not windows:
            raise SystemExit(f"{path}: no audible window")
        inputs = AudioInputs(windows, analyzer.networks, patches=0)  # 0: every patch of the window
        outputs = {name: inputs.outputs(name) for name in NETWORKS}
        for w, ((start, _, y), x) in enumerate(zip(windows, inputs.table())):
            wi = len(window_clip)
            logits, embedding = effat.run(y)
            excerpt_window += [wi] * len(logits)
            excerpt_index += list(range(len(logits)))
            excerpt_count += [len(logits)] * len(logits)
            effat_logits.append(logits)
            effat_embedding.append(embedding)
            middle = effat.run(y, max_excerpts=1)
            effat_middle[0].append(middle[0][0])
            effat_middle[1].append(middle[1][0])
            window_clip.append(ci)
            window_start.append(start)
            features.append(x)
            patch_window += [wi] * len(outputs[NETWORKS[0]][w]["embedding"])
            for name in NETWORKS:
                nets[name]["tags"].append(outputs[name][w]["tags"])
                nets[name]["embedding"].append(outputs[name][w]["embedding"])
        seconds.append(time.perf_counter() - t0)
        if ci % 20 == 0:
            log.info("%d/%d %s: %d windows, %d patches, %.2f s", ci + 1, len(rows), row["clip"],
                     len(windows), sum(1 for w in patch_window if window_clip[w] == ci), seconds[-1])
    out = {
        "clip": np.array([r["clip"] for r in rows]),
        "genre": np.array([r["genre"] for r in rows]),
        "split": np.array([r["split"] for r in rows]),
        "origin": np.array([r["from"] for r in rows]),
        "window_clip": np.array(window_clip, dtype=np.int32),
        "window_start": np.array(window_start, dtype=np.float32),
        "features": np.stack(features).astype(np.float32),
        "patch_window": np.array(patch_window, dtype=np.int32),
        "seconds_per_clip": np.array(seconds, dtype=np.float32),
        "model_version": np.array(analyzer.model_version),
        "excerpt_window": np.array(excerpt_window, dtype=np.int32),
        "excerpt_index": np.array(excerpt_index, dtype=np.int32),
        "excerpt_count": np.array(excerpt_count, dtype=np.int32),
        "efficientat_logits": np.concatenate(effat_logits).astype(np.float32),
        "efficientat_embedding": np.concatenate(effat_embedding).astype(np.float32),
        "efficientat_middle_logits": np.stack(effat_middle[0]).astype(np.float32),
        "efficientat_middle_embedding": np.stack(effat_middle[1]).astype(np.float32),
    }
    for name in NETWORKS:
        for key in ("embedding", "tags"):
            out[f"{name}_{key}"] = np.concatenate(nets[name][key]).astype(np.float32)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips (a quick check)")
    parser.add_argument("--add-middle", action="store_true",
                        help="only add the one-excerpt EfficientAT input to the existing cache --out")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.add_middle:
        add_middle(args.audio, args.out)
        return 0
    t0 = time.monotonic()
    data = extract(args.audio, args.limit)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **data)
    tmp.replace(args.out)
    log.info("wrote %s: %d clips, %d windows, %d patches in %.0f s", args.out, len(data["clip"]),
             len(data["window_clip"]), len(data["patch_window"]), time.monotonic() - t0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
