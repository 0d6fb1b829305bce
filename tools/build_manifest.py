#!/usr/bin/env python
"""Write ``models/manifest.json`` from the model files, ``metrics.json`` and any ``*.meta.json``.

The manifest is what the app trusts: each model's file, sha256 and size (verified on load), input
and output names and shapes (read from the ONNX graph with onnxruntime), labels, feature recipe,
licence, training data and figures; plus the ensemble weights fitted on the valid split.

- Classical members: one per entry of ``metrics.json["members"]``, file ``<name>.onnx``.
- musicnn models: one per ``<name>.meta.json`` sidecar (written by the musicnn conversion tool);
  the sidecar's fields are carried over (its ``file`` defaults to ``<name>.onnx``), kind "musicnn".
  They get no ensemble weight: GTZAN audio is not available here, so no measurement supports one.

Usage: python tools/build_manifest.py [--models models/]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from genre_desktop.fsutil import atomic_write_json  # noqa: E402

log = logging.getLogger("build_manifest")

CLASSICAL_LICENCE = "GPL-3.0-or-later (trained by this project)"
CLASSICAL_TRAINING_DATA = ("GTZAN features_30_sec.csv, artist-filtered split (Kereliuk et al. 2015): "
                           "train+valid, 640 clips; test split never used")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def onnx_signature(path: Path) -> tuple[dict, dict]:
    """Input and output names -> shapes (None for a dynamic dimension) of an ONNX file."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def shape(arg) -> list:
        return [d if isinstance(d, int) else None for d in arg.shape]

    return ({a.name: shape(a) for a in sess.get_inputs()}, {a.name: shape(a) for a in sess.get_outputs()})


def classical_entry(models: Path, name: str, member: dict, labels: list[str], recipe: str) -> dict:
    path = models / f"{name}.onnx"
    inputs, outputs = onnx_signature(path)
    return {
        "name": name,
        "file": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "kind": "classical",
        "inputs": inputs,
        "outputs": outputs,
        "probability_output": "probabilities",
        "labels": labels,
        "feature_recipe": recipe,
        "licence": CLASSICAL_LICENCE,
        "training_data": CLASSICAL_TRAINING_DATA,
        "hyperparameters": member["hyperparameters"],
        "metrics": {
            "valid": member["valid"],
            "cv10_random": member["cv10_random"],
            "cv5_train_accuracy": member["cv5_train_accuracy"],
        },
    }


def musicnn_entry(models: Path, meta_path: Path) -> dict:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    name = meta.get("name") or meta_path.name[: -len(".meta.json")]
    path = models / meta.get("file", f"{name}.onnx")
    if not path.is_file():
        raise SystemExit(f"{meta_path}: model file {path.name} not found")
    inputs, outputs = onnx_signature(path)
    entry = dict(meta)
    entry.update({
        "name": name,
        "file": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "kind": "musicnn",
    })
    entry.setdefault("inputs", inputs)
    entry.setdefault("outputs", outputs)
    entry.setdefault("licence", "ISC (musicnn weights, Pons and Serra)")
    entry.setdefault("training_data", "see musicnn: MagnaTagATune or Million Song Dataset tags")
    entry.setdefault("metrics", {})
    return entry


def build(models: Path) -> dict:
    from genre_desktop.features.gtzan import RECIPE_VERSION

    metrics = json.loads((models / "metrics.json").read_text(encoding="utf-8"))
    labels = list(metrics["labels"])
    entries = [classical_entry(models, n, m, labels, RECIPE_VERSION) for n, m in metrics["members"].items()]
    for meta_path in sorted(models.glob("*.meta.json")):
        # Sidecars of other kinds (cnn.meta.json) are not musicnn models; they enter the manifest
        # by their own entry, not as musicnn ones.
        if json.loads(meta_path.read_text(encoding="utf-8")).get("kind", "musicnn") != "musicnn":
            continue
        entries.append(musicnn_entry(models, meta_path))
    weights = {n: float(w) for n, w in metrics["ensemble"]["weights"].items()}
    # The version changes whenever a model file or a weight changes, and only then.
    digest = hashlib.sha256(json.dumps([[e["name"], e["sha256"]] for e in entries] + [weights],
                                       sort_keys=True).encode()).hexdigest()
    return {
        "version": f"gtzan-{digest[:12]}",
        "labels": labels,
        "feature_recipe": RECIPE_VERSION,
        "models": entries,
        "ensemble": {
            "members": weights,
            "weights_fitted_on": "valid",
            "method": metrics["ensemble"]["method"],
            "pooling": metrics["ensemble"]["pooling"],
            "segments": "mean of log-probabilities over segments, renormalised",
            # Every weighted member reads the feature table, so the table-only ensemble is the same.
            "feature_table_only": {n: w for n, w in weights.items()
                                   if any(e["name"] == n and e["kind"] == "classical" for e in entries)},
            "metrics": {"valid": metrics["ensemble"]["valid"], "cv10_random": metrics["ensemble"]["cv10_random"]},
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    manifest = build(args.models)
    atomic_write_json(args.models / "manifest.json", manifest, indent=2)
    log.info("wrote %s: version %s, %d models", args.models / "manifest.json", manifest["version"],
             len(manifest["models"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
