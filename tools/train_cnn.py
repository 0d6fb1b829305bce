#!/usr/bin/env python
"""Train the study's custom CNN on log-mel segments of the GTZAN train audio and export it to ONNX.

Training needs PyTorch (``pip install -e .[train]``); the app never imports it: the exported model
runs in onnxruntime on ``genre_desktop.features.cnn_input.cnn_segments``.

Recipe (fixed seeds throughout, one run, nothing chosen on valid):

1. every clip of ``audio/clips.csv`` is decoded through ``genre_desktop.audio.decode`` at 22050 Hz
   (what the app sees) and turned into ``cnn_input.log_mel`` of the whole clip (cached);
2. the network trains on the TRAIN clips only: random crops of ``frames`` frames (time shifts),
   random gain (a dB offset), SpecAugment-style frequency and time masks, mixup; cross-entropy
   weighted by inverse class frequency (coverage is very uneven); AdamW with a one-cycle schedule
   for a fixed number of epochs, and the LAST epoch's weights are kept: the valid split is watched
   (logged per epoch) but chooses nothing, so its figures are held-out figures;
3. VALID clips go through ``cnn_segments`` exactly as in the app (a clip = one 30 s window);
   clip probabilities = mean of the segments' probabilities; accuracy, macro F1 and recall per
   genre at clip and segment level; per-clip probabilities saved for the ensemble;
4. export to ONNX (dynamic batch, input ``mel`` (N, 1, n_mels, frames), output ``probabilities``
   (N, 10) = softmax over the manifest's labels), checked against torch, plus ``cnn.meta.json``.

Usage: nice python tools/train_cnn.py [--data DIR] [--out models/] [--cache DIR] [--epochs N]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from genre_desktop.features.cnn_input import cnn_segments, log_mel  # noqa: E402

log = logging.getLogger("train_cnn")

SEED = 20151
LABELS = ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"]
# 64 mel bands up to 8 kHz: 22 of the clips come from 16 kHz copies with nothing above 8 kHz, so a
# model that never looks above 8 kHz cannot learn their origin instead of their genre.
MEL = {"sr": 22050, "n_fft": 1024, "hop": 512, "n_mels": 64, "frames": 128, "fmax": 8000.0, "log": "db"}
CHANNELS = (16, 32, 64, 64)
RECIPE = {
    "epochs": 30, "batch": 32, "crops_per_clip": 4, "lr": 3e-3, "weight_decay": 1e-3, "dropout": 0.3,
    "gain_db": 6.0, "freq_masks": 2, "freq_mask_max": 8, "time_masks": 2, "time_mask_max": 16,
    "mixup_alpha": 0.2, "class_weight": "inverse frequency of train clips, normalised to mean 1",
    "optimiser": "AdamW, one-cycle learning rate", "model_choice": "last epoch (valid chooses nothing)",
}


class GenreCNN(nn.Module):
    """Four conv blocks (3x3 conv, batch norm, ReLU, 2x2 max pool), global average and max pooling,
    dropout and one dense layer. Inputs are log-mel dB values; a fixed affine (mean and scale of
    the training spectrograms, stored as buffers) normalises them inside the model. Outputs logits.
    """

    def __init__(self, n_labels: int = len(LABELS), channels: tuple[int, ...] = CHANNELS,
                 dropout: float = 0.3, mean: float = 0.0, scale: float = 1.0):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("scale", torch.tensor(float(scale)))
        blocks, c_in = [], 1
        for c_out in channels:
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU(inplace=True), nn.MaxPool2d(2)]
            c_in = c_out
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(2 * c_in, n_labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features((x - self.mean) / self.scale)
        pooled = torch.cat([h.mean(dim=(2, 3)), h.amax(dim=(2, 3))], dim=1)
        return self.head(self.dropout(pooled))


class Probabilities(nn.Module):
    """What is exported: the network followed by a softmax over the labels."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(mel), dim=1)


def export_onnx(net: nn.Module, path: Path, n_mels: int, frames: int) -> None:
    """Export ``net`` (eval mode) to ONNX: input ``mel`` [batch, 1, n_mels, frames], output
    ``probabilities`` [batch, n_labels], the batch axis dynamic. The legacy (TorchScript) exporter:
    a small, plain graph with no dependency on onnxscript's version."""
    # The wrapper must be in eval mode too: the exporter restores the exported module's mode
    # afterwards, and a wrapper left in training mode would switch ``net`` back to training.
    wrapper = Probabilities(net).eval()
    example = torch.zeros(2, 1, n_mels, frames)
    torch.onnx.export(
        wrapper, (example,), str(path), input_names=["mel"], output_names=["probabilities"],
        dynamic_axes={"mel": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=17, dynamo=False,
    )
    net.eval()


def seed_everything(seed: int, threads: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)


def count_parameters(net: nn.Module) -> int:
    return int(sum(p.numel() for p in net.parameters()))


# ---------------------------------------------------------------- data

def default_data() -> Path:
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data" / "gtzan").is_dir():
            return base / "shared" / "data" / "gtzan"
    return ROOT.parent / "shared" / "data" / "gtzan"


def read_clips(data: Path) -> list[dict]:
    with open(data / "audio" / "clips.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] in ("train", "valid")]
    for r in rows:
        r["path"] = data / "audio" / r["genre"] / f"{r['clip']}.opus"
    return rows


def load_audio(rows: list[dict], cache: Path) -> dict[str, np.ndarray]:
    """Decoded clips (mono float32, 22050 Hz) through the app's decoder, cached in one npz."""
    from genre_desktop.audio.decode import decode

    cache.mkdir(parents=True, exist_ok=True)
    file = cache / "gtzan_audio_22050.npz"
    if file.is_file():
        with np.load(file) as z:
            audio = {k: z[k] for k in z.files}
        if all(r["clip"] in audio for r in rows):
            return audio
    audio = {r["clip"]: decode(r["path"], sr=MEL["sr"]) for r in rows}
    np.savez(file, **audio)
    return audio


def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro F1 over the genres present in ``y_true``, recall per present genre, confusion."""
    from sklearn.metrics import confusion_matrix, f1_score

    present = sorted(set(int(v) for v in y_true))
    return {
        "n": int(len(y_true)),
        "accuracy": float(np.mean(y_true == y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)),
        "recall": {LABELS[g]: float(np.mean(y_pred[y_true == g] == g)) for g in present},
        "support": {LABELS[g]: int(np.sum(y_true == g)) for g in present},
        "confusion": confusion_matrix(y_true, y_pred, labels=list(range(len(LABELS)))).tolist(),
    }


# ---------------------------------------------------------------- training

def augment(batch: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Gain (a dB offset per example) and SpecAugment masks, filled with the example's mean."""
    x = batch.clone()
    n, _, n_mels, frames = x.shape
    x += torch.from_numpy(rng.uniform(-RECIPE["gain_db"], RECIPE["gain_db"], (n, 1, 1, 1)).astype(np.float32))
    fill = x.mean(dim=(1, 2, 3))
    for i in range(n):
        for _ in range(RECIPE["freq_masks"]):
            w = int(rng.integers(0, RECIPE["freq_mask_max"] + 1))
            f0 = int(rng.integers(0, n_mels - w + 1))
            x[i, :, f0:f0 + w, :] = fill[i]
        for _ in range(RECIPE["time_masks"]):
            w = int(rng.integers(0, RECIPE["time_mask_max"] + 1))
            t0 = int(rng.integers(0, frames - w + 1))
            x[i, :, :, t0:t0 + w] = fill[i]
    return x


def random_crops(mels: list[np.ndarray], labels: np.ndarray, per_clip: int, frames: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for spec, y in zip(mels, labels):
        if spec.shape[1] < frames:
            spec = np.pad(spec, ((0, 0), (0, frames - spec.shape[1])), constant_values=-100.0)
        for start in rng.integers(0, spec.shape[1] - frames + 1, per_clip):
            xs.append(spec[:, start:start + frames])
            ys.append(y)
    order = rng.permutation(len(xs))
    return np.stack(xs)[order][:, None], np.asarray(ys)[order]


def predict(net: nn.Module, segments: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Clip probabilities (mean over segments) and each clip's segment probabilities."""
    net.eval()
    with torch.no_grad():
        per_clip = [torch.softmax(net(torch.from_numpy(s)), dim=1).numpy() for s in segments]
    return np.stack([p.mean(axis=0) for p in per_clip]), per_clip


def evaluate(net: nn.Module, segments: list[np.ndarray], y: np.ndarray) -> tuple[dict, dict, np.ndarray]:
    clip_probs, seg_probs = predict(net, segments)
    seg_true = np.concatenate([np.full(len(p), t) for p, t in zip(seg_probs, y)])
    seg_pred = np.concatenate([p.argmax(axis=1) for p in seg_probs])
    return metrics(y, clip_probs.argmax(axis=1)), metrics(seg_true, seg_pred), clip_probs


def train(train_mels, y_train, valid_segments, y_valid, epochs: int, seed: int) -> tuple[GenreCNN, list]:
    rng = np.random.default_rng(seed)
    frames = MEL["frames"]
    values = np.concatenate([m.ravel() for m in train_mels])
    net = GenreCNN(dropout=RECIPE["dropout"], mean=float(values.mean()), scale=float(values.std()))
    counts = np.bincount(y_train, minlength=len(LABELS)).astype(np.float64)
    weights = np.where(counts > 0, counts.sum() / np.maximum(counts, 1), 0.0)
    weights = weights / weights[counts > 0].mean()
    loss_fn = nn.CrossEntropyLoss(weight=torch.tensor(weights, dtype=torch.float32))
    steps = epochs * -(-len(train_mels) * RECIPE["crops_per_clip"] // RECIPE["batch"])
    opt = torch.optim.AdamW(net.parameters(), lr=RECIPE["lr"], weight_decay=RECIPE["weight_decay"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=RECIPE["lr"], total_steps=steps)
    history = []
    for epoch in range(epochs):
        started = time.perf_counter()
        net.train()
        X, Y = random_crops(train_mels, y_train, RECIPE["crops_per_clip"], frames, rng)
        total = 0.0
        for i in range(0, len(X), RECIPE["batch"]):
            xb = augment(torch.from_numpy(X[i:i + RECIPE["batch"]]), rng)
            yb = torch.from_numpy(Y[i:i + RECIPE["batch"]]).long()
            lam = float(rng.beta(RECIPE["mixup_alpha"], RECIPE["mixup_alpha"])) if RECIPE["mixup_alpha"] else 1.0
            perm = torch.from_numpy(rng.permutation(len(xb)))
            logits = net(lam * xb + (1 - lam) * xb[perm])
            loss = lam * loss_fn(logits, yb) + (1 - lam) * loss_fn(logits, yb[perm])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(xb)
        history.append({"epoch": epoch + 1, "train_loss": total / len(X), "seconds": time.perf_counter() - started})
        if (epoch + 1) % 5 == 0 or epoch + 1 == epochs:  # watched, never used to choose
            clip, seg, _ = evaluate(net, valid_segments, y_valid)
            history[-1].update({"valid_clip_accuracy": clip["accuracy"], "valid_clip_macro_f1": clip["macro_f1"],
                                "valid_segment_accuracy": seg["accuracy"]})
        log.info("epoch %s", history[-1])
    net.eval()
    return net, history


# ---------------------------------------------------------------- export and report

def check_onnx(path: Path, net: nn.Module, segments: np.ndarray) -> float:
    """Max absolute difference between onnxruntime's and torch's probabilities on ``segments``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ours = session.run(["probabilities"], {"mel": segments})[0]
    with torch.no_grad():
        theirs = Probabilities(net).eval()(torch.from_numpy(segments)).numpy()
    return float(np.abs(ours - theirs).max())


def save_valid_predictions(cache: Path, out: Path, model: str, valid_rows: list[dict], y_valid: np.ndarray,
                           clip_probs: np.ndarray, note: str) -> None:
    """The valid clips' probabilities of ``model`` (trained on train only): ``CACHE/<model>_valid_probs.npz``
    for the card and ``OUT/<model>_valid_predictions.json`` beside the model."""
    clips = [r["clip"] for r in valid_rows]
    np.savez(cache / f"{model}_valid_probs.npz", clips=np.array(clips), labels=np.array(LABELS),
             y_true=y_valid, probabilities=clip_probs)
    predictions = {"model": model, "split": "valid", "labels": LABELS, "note": note,
                   "clips": {c: {"genre": r["genre"], "probabilities": [round(float(p), 6) for p in probs]}
                             for c, r, probs in zip(clips, valid_rows, clip_probs)}}
    (out / f"{model}_valid_predictions.json").write_text(json.dumps(predictions, indent=1) + "\n")


def onnx_entry(name: str, data: bytes, mel: dict) -> dict:
    """The manifest fields of a spectrogram model (kind "cnn") whose ONNX file holds ``data``."""
    return {
        "name": name, "file": f"{name}.onnx", "kind": "cnn",
        "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
        "inputs": {"mel": [None, 1, mel["n_mels"], mel["frames"]]},
        "outputs": {"probabilities": [None, len(LABELS)]},
        "probability_output": "probabilities",
        "labels": LABELS,
        "mel": mel,
        "input_code": "genre_desktop.features.cnn_input.cnn_segments",
    }


def onnx_speed(path: Path, y: np.ndarray, repeats: int = 20) -> dict:
    """Median milliseconds per 30 s window on one thread: cnn_segments, and the model in ORT."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    window = y[: 30 * MEL["sr"]]
    seg_ms, run_ms = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        segments = cnn_segments(window, MEL["sr"], MEL)
        t1 = time.perf_counter()
        session.run(["probabilities"], {"mel": segments})
        t2 = time.perf_counter()
        seg_ms.append(1000 * (t1 - t0))
        run_ms.append(1000 * (t2 - t1))
    return {"segments_ms": round(float(np.median(seg_ms)), 2), "onnx_ms": round(float(np.median(run_ms)), 2),
            "segments_per_window": int(len(segments)), "threads": 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data())
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("GENRE_CNN_CACHE", "/work/cache/cnn")))
    parser.add_argument("--epochs", type=int, default=RECIPE["epochs"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    RECIPE["epochs"] = args.epochs
    seed_everything(args.seed, args.threads)
    started = time.perf_counter()

    rows = read_clips(args.data)
    audio = load_audio(rows, args.cache)
    train_rows = [r for r in rows if r["split"] == "train"]
    valid_rows = [r for r in rows if r["split"] == "valid"]
    train_mels = [log_mel(audio[r["clip"]], MEL["sr"], MEL) for r in train_rows]
    y_train = np.array([LABELS.index(r["genre"]) for r in train_rows])
    # Valid clips take the app's path: the whole clip is one window, cut by cnn_segments.
    valid_segments = [cnn_segments(audio[r["clip"]], MEL["sr"], MEL) for r in valid_rows]
    y_valid = np.array([LABELS.index(r["genre"]) for r in valid_rows])
    log.info("%d train clips, %d valid clips (%.1f s to load)", len(train_rows), len(valid_rows),
             time.perf_counter() - started)

    train_started = time.perf_counter()
    net, history = train(train_mels, y_train, valid_segments, y_valid, args.epochs, args.seed)
    train_seconds = time.perf_counter() - train_started
    clip, seg, clip_probs = evaluate(net, valid_segments, y_valid)
    log.info("valid clip level: %s", json.dumps({k: clip[k] for k in ("accuracy", "macro_f1", "recall")}))
    log.info("valid segment level: %s", json.dumps({k: seg[k] for k in ("accuracy", "macro_f1", "recall")}))

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "cnn.onnx"
    export_onnx(net, onnx_path, MEL["n_mels"], MEL["frames"])
    max_diff = check_onnx(onnx_path, net, np.concatenate(valid_segments))
    log.info("onnxruntime vs torch, max abs difference over %d valid segments: %.2e",
             sum(len(s) for s in valid_segments), max_diff)
    speed = onnx_speed(onnx_path, audio[valid_rows[0]["clip"]])
    log.info("speed per 30 s window (one thread): %s", speed)
    torch.save(net.state_dict(), args.cache / "cnn_state_dict.pt")

    save_valid_predictions(args.cache, args.out, "cnn", valid_rows, y_valid, clip_probs,
                           "per-clip probabilities (mean over the clip's cnn_segments) of the model trained on "
                           "train only; valid chose nothing (last epoch kept)")

    data = onnx_path.read_bytes()
    meta = {
        **onnx_entry("cnn", data, MEL),
        "licence": "GPL-3.0-or-later (trained by this project)",
        "training_data": "GTZAN audio of the artist-filtered TRAIN split (Kereliuk et al. 2015), "
                         f"{len(train_rows)} clips as in audio/clips.csv; valid chose nothing; test never used",
        "architecture": f"4 x [conv3x3 ({', '.join(map(str, CHANNELS))} channels), batch norm, ReLU, max pool 2x2], "
                        "global mean+max pooling, dropout, dense to 10, softmax",
        "parameters": count_parameters(net),
        "recipe": dict(RECIPE), "seed": args.seed, "torch": torch.__version__, "threads": args.threads,
        "training_seconds": round(train_seconds, 1),
        "metrics": {
            "valid_clip": clip, "valid_segment": seg,
            "onnx_vs_torch_max_abs_diff": max_diff, "speed_per_30s_window": speed,
            "measured_by": "tools/train_cnn.py",
        },
        "history": history,
    }
    (args.out / "cnn.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    log.info("wrote %s (%d bytes, %d parameters) in %.0f s", onnx_path, len(data), meta["parameters"],
             time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
