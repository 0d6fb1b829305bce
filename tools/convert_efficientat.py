#!/usr/bin/env python
"""Convert EfficientAT's mn04_as checkpoint to ``models/efficientat_mn04.onnx`` (developer tool).

Needs torch (the ``train`` extra); the app never imports it::

    .venv/bin/python tools/convert_efficientat.py [--source ../shared/models/efficientat] [--out models]

1. Loads ``mn04_as_mAP_432.pt`` (checked against its sha256) into the project's own definition
   (``tools/efficientat_torch.py``) with ``strict=True``.
2. Exports it with torch.onnx's TorchScript exporter, opset 17 (the dynamo exporter of torch 2.13
   could not lower its graph to opset 17 and writes the weights to a separate data file):
   input ``mel`` float32 [batch, 1, 128, frames] (batch and frames dynamic; 1000 frames = one 10 s
   excerpt), outputs ``logits`` float32 [batch, 527] (AudioSet classes before the sigmoid) and
   ``embedding`` float32 [batch, 384] (the pooled output of the last convolution, which the
   classifier reads; see ``efficientat_torch``).
3. Checks the export on real audio: GTZAN clips decoded at 32 kHz through the app's numpy front
   end (``genre_desktop.features.efficientat_input.excerpts``), onnxruntime against torch, and the
   numpy front end against the torch front end; the largest differences go into the meta json.
4. Writes ``models/efficientat_mn04.meta.json`` (labels, AudioSet ids, which classes are music
   genres, input/output names and shapes, the front end's parameters, provenance, licences,
   the check's figures) and copies the licence of the weights (``LICENSE-EfficientAT``) and the
   attribution of the labels (``LICENSE-AudioSet-labels``) into ``models/``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from genre_desktop.features import efficientat_input as front  # noqa: E402
from genre_desktop.fsutil import atomic_write_json  # noqa: E402
from genre_desktop.inference.common import sha256_file  # noqa: E402

log = logging.getLogger("convert_efficientat")

NAME = "efficientat_mn04"  # the files' stem
MANIFEST_NAME = "efficientat"  # the member's name in the manifest: statistics read "efficientat.<output>.<stat>"
CHECKPOINT = "mn04_as_mAP_432.pt"
CHECKPOINT_SHA256 = "899a8c6217063f6941793102a2780b3dd788ab11fce468d9cf5f0577c453321c"
SOURCE_COMMIT = "a425fdce92572e602a1d5634799bd9f1f2efa806"
MUSIC_GENRE_ID = "/m/0kpv1t"  # the ontology's "Music genre" node
SPEECH_ID = "/m/09x0r"
MUSIC_ID = "/m/04rlf"
OPSET = 17
LABELS_ATTRIBUTION = """AudioSet class labels (class_labels_indices.csv: index, AudioSet id, display name)
and the AudioSet ontology

Source: Gemmeke et al., "Audio Set: An ontology and human-labeled dataset for audio events",
ICASSP 2017; https://research.google.com/audioset/ . The label file as distributed with
EfficientAT (fschmid56/EfficientAT, metadata/class_labels_indices.csv); the ontology from
audioset/ontology at commit d417d32.

Licences: the labels are made available by Google under the Creative Commons Attribution 4.0
International licence (CC BY 4.0, https://creativecommons.org/licenses/by/4.0/); the ontology
under the Creative Commons Attribution-ShareAlike 4.0 International licence (CC BY-SA 4.0,
https://creativecommons.org/licenses/by-sa/4.0/). Genre Desktop uses the label names and ids in
models/efficientat_mn04.meta.json unchanged; files derived from the ontology carry this
attribution and are shared under CC BY-SA 4.0.
"""


def shared_dir() -> Path:
    """The shared material beside the checkout (a clone: ``../shared``; a worktree: ``../../shared``)."""
    for candidate in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared"


def read_labels(path: Path) -> tuple[list[str], list[str]]:
    """AudioSet display names and ids in index order (527 of each)."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if [int(r["index"]) for r in rows] != list(range(len(rows))):
        raise SystemExit(f"{path}: indices are not 0..{len(rows) - 1} in order")
    return [r["display_name"] for r in rows], [r["mid"] for r in rows]


def descendants(ontology_path: Path, root_id: str) -> set[str]:
    """Ids of every class below ``root_id`` in the AudioSet ontology (the root excluded)."""
    nodes = {n["id"]: n for n in json.loads(ontology_path.read_text(encoding="utf-8"))}
    seen: set[str] = set()
    stack = list(nodes[root_id]["child_ids"])
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(nodes[node]["child_ids"])
    return seen


def export(net, path: Path) -> None:
    """``net`` (eval mode) to ONNX with dynamic batch and frames axes."""
    import torch

    example = torch.zeros(2, 1, front.N_MELS, front.EXCERPT_FRAMES)
    torch.onnx.export(
        net, (example,), str(path), input_names=["mel"], output_names=["logits", "embedding"],
        dynamic_axes={"mel": {0: "batch", 3: "frames"}, "logits": {0: "batch"}, "embedding": {0: "batch"}},
        opset_version=OPSET, dynamo=False,
    )
    net.eval()


def check(net, onnx_path: Path, clips: list[Path]) -> dict:
    """Largest differences on real audio: onnxruntime vs torch, numpy front end vs torch's."""
    import onnxruntime as ort
    import torch
    from efficientat_torch import MelFrontEnd

    from genre_desktop.audio.decode import decode

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    torch_front = MelFrontEnd().eval()
    worst = {"onnx_vs_torch_logits": 0.0, "onnx_vs_torch_embedding": 0.0,
             "onnx_vs_torch_sigmoid": 0.0, "numpy_vs_torch_front_end": 0.0}
    for clip in clips:
        y = np.asarray(decode(clip, sr=front.SAMPLE_RATE), dtype=np.float32)
        batch = front.excerpts(y)
        starts = front.excerpt_starts(max(y.size, front.EXCERPT_SAMPLES))
        padded = np.pad(y, (0, max(0, front.EXCERPT_SAMPLES - y.size)))
        with torch.no_grad():
            wave = torch.from_numpy(np.stack([padded[s:s + front.EXCERPT_SAMPLES] for s in starts]))
            reference = torch_front(wave).numpy()
            logits, embedding = (t.numpy() for t in net(torch.from_numpy(batch)))
        ours_logits, ours_embedding = session.run(["logits", "embedding"], {"mel": batch})
        sig = lambda a: 1.0 / (1.0 + np.exp(-a.astype(np.float64)))  # noqa: E731
        worst["numpy_vs_torch_front_end"] = max(worst["numpy_vs_torch_front_end"],
                                                float(np.abs(batch[:, 0] - reference).max()))
        worst["onnx_vs_torch_logits"] = max(worst["onnx_vs_torch_logits"], float(np.abs(ours_logits - logits).max()))
        worst["onnx_vs_torch_embedding"] = max(worst["onnx_vs_torch_embedding"],
                                               float(np.abs(ours_embedding - embedding).max()))
        worst["onnx_vs_torch_sigmoid"] = max(worst["onnx_vs_torch_sigmoid"],
                                             float(np.abs(sig(ours_logits) - sig(logits)).max()))
    return {k: float(f"{v:.3g}") for k, v in worst.items()}


def meta(labels: list[str], ids: list[str], genre_ids: set[str], signature: tuple[dict, dict],
         figures: dict, clips: list[Path], onnx_path: Path) -> dict:
    inputs, outputs = signature
    genres = [i for i, mid in enumerate(ids) if mid in genre_ids]
    return {
        "name": MANIFEST_NAME,
        "kind": "efficientat",
        "file": onnx_path.name,
        "sha256": sha256_file(onnx_path),
        "size": onnx_path.stat().st_size,
        "inputs": inputs,
        "outputs": outputs,
        "logits_output": "logits",
        "output_activation": "sigmoid (multi-label: each class independent, as AudioSet was trained)",
        "embedding_output": "embedding",
        "embedding_layer": "global average over frequency and time of features[-1] (the last 1x1 "
                           "convolution, 64 -> 384 channels, after its batch norm and Hardswish): the "
                           "pooled features the classifier's first linear layer reads (EfficientAT's "
                           "MN.forward returns the same as 'features')",
        "labels": labels,
        "label_ids": ids,
        "music_genre_indices": genres,
        "music_genre_rule": f"classes below the ontology's 'Music genre' ({MUSIC_GENRE_ID}) node",
        "speech_index": ids.index(SPEECH_ID),
        "music_index": ids.index(MUSIC_ID),
        "feature_recipe": front.RECIPE_VERSION,
        "input_recipe": dict(front.PARAMS),
        "excerpt": {"seconds": front.EXCERPT_SECONDS, "frames": front.EXCERPT_FRAMES,
                    "placement": "ceil(n / 10 s) excerpts spread evenly from the start to the end of "
                                 "the audio (features.efficientat_input.excerpt_starts)"},
        "architecture": "MobileNetV3-Large, width 0.4, channel squeeze-excitation, MLP head "
                        "(384 -> 512 -> 527); tools/efficientat_torch.py",
        "parameters": 983599,
        "licence": "MIT (EfficientAT code and weights, (c) 2022 Florian Schmid: LICENSE-EfficientAT)",
        "labels_licence": "CC BY 4.0 (AudioSet class labels, Google: LICENSE-AudioSet-labels)",
        "training_data": "AudioSet (about 2 million 10 s YouTube clips, 527 classes), by knowledge "
                         "distillation from an ensemble of transformers; mAP 0.432 on AudioSet's "
                         "evaluation set (Schmid, Koutini, Widmer, ICASSP 2023)",
        "source": {
            "repository": "fschmid56/EfficientAT",
            "commit": SOURCE_COMMIT,
            "checkpoint": CHECKPOINT,
            "checkpoint_sha256": CHECKPOINT_SHA256,
            "release": "v0.0.1",
            "converter": f"tools/convert_efficientat.py (torch.onnx TorchScript exporter, opset {OPSET})",
            "reference": "F. Schmid, K. Koutini, G. Widmer: Efficient Large-Scale Audio Tagging via "
                         "Transformer-to-CNN Knowledge Distillation, ICASSP 2023",
        },
        "metrics": {
            "measured_by": "tools/convert_efficientat.py",
            "audio": [c.name for c in clips],
            "max_abs_diff": figures,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--source", type=Path, default=shared_dir() / "models" / "efficientat")
    parser.add_argument("--clips", type=Path, default=shared_dir() / "data" / "gtzan" / "clips")
    parser.add_argument("--out", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    import torch
    from efficientat_torch import load_mn04

    checkpoint = args.source / CHECKPOINT
    digest = sha256_file(checkpoint)
    if digest != CHECKPOINT_SHA256:
        raise SystemExit(f"{checkpoint}: sha256 {digest} is not the released file's {CHECKPOINT_SHA256}")
    torch.manual_seed(0)
    net = load_mn04(checkpoint)
    labels, ids = read_labels(args.source / "class_labels_indices.csv")
    genre_ids = descendants(args.source / "audioset_ontology.json", MUSIC_GENRE_ID)

    args.out.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out / f"{NAME}.onnx"
    export(net, onnx_path)
    log.info("exported %s (%d bytes)", onnx_path, onnx_path.stat().st_size)

    from build_manifest import onnx_signature

    clips = sorted(args.clips.glob("*.au"))
    figures = check(net, onnx_path, clips)
    log.info("checked on %d clips: %s", len(clips), figures)
    atomic_write_json(args.out / f"{NAME}.meta.json",
                      meta(labels, ids, genre_ids, onnx_signature(onnx_path), figures, clips, onnx_path), indent=1)
    shutil.copyfile(args.source / "LICENSE-EfficientAT", args.out / "LICENSE-EfficientAT")
    (args.out / "LICENSE-AudioSet-labels").write_text(LABELS_ATTRIBUTION, encoding="utf-8")
    log.info("wrote %s.meta.json and the licence files", NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
