#!/usr/bin/env python
"""Write ``models/manifest.json`` from the model files, ``metrics.json`` and any ``*.meta.json``.

The manifest is what the app trusts: each model's file, sha256 and size (verified on load), input
and output names and shapes (read from the ONNX graph with onnxruntime), labels, feature recipe,
licence, training data and figures; plus the ensemble weights fitted on the valid split.

- Classical members: one per entry of ``metrics.json["members"]``, file ``<name>.onnx``.
- musicnn models: one per ``<name>.meta.json`` sidecar (written by the musicnn conversion tool);
  the sidecar's fields are carried over (its ``file`` defaults to ``<name>.onnx``), kind "musicnn".
  They vote on nothing themselves; their per-patch outputs feed the embedding head.
- The AudioSet tagger (kind "efficientat"): a sidecar whose graph outputs ``logits`` (or that says
  ``"kind": "efficientat"``), e.g. ``efficientat_mn04.meta.json`` from ``tools/convert_efficientat.py``.
- Reporters reading it: ``content_rule.json`` (kind "content", ``tools/fit_content_rule.py``) and
  ``broad_calibration.json`` (kind "broad_genres", the network's calibration) when present and
  the network they read (named inside them) is a model of the folder.
- The audio member (kind "embedding_head"): ``audio_head.onnx`` with ``audio_head.json`` (written
  by ``tools/train_audio_head.py``: the statistics it reads, patches per window, figures).
- The EfficientAT network (kind "efficientat", name "efficientat"): ``efficientat_mn04.meta.json``
  (``tools/convert_efficientat.py``) with ``excerpts_per_window`` from the head's report; its
  genre head (``efficientat_head.onnx`` + ``.json``, kind "embedding_head" on
  ``efficientat.<output>.<stat>``) and its zero-shot genre scores (``efficientat_genres.onnx``,
  ``tools/train_efficientat_head.py``) when the vote gives them a weight.
- The study's CNN (kind "cnn", ``cnn.meta.json``): shown with its valid figure, never voting.
- Ensemble weights: the newest ``ensemble_v*.json`` (``tools/train_ensemble.py``: a vote over
  every member, fitted on out-of-fold predictions of the GTZAN audio) when present, else the
  classical vote of ``metrics.json``. Every entry says whether it votes and with what weight
  (``votes``, ``weight``); ``ensemble.members`` holds every entry's weight (0: shown, not voting). The table-only weights (``evaluate --data``: a table has no audio) stay the
  classical vote's, which was fitted for exactly that case.

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
from genre_desktop.inference.common import sha256_file  # noqa: E402

log = logging.getLogger("build_manifest")

CLASSICAL_LICENCE = "GPL-3.0-or-later (trained by this project)"
CLASSICAL_TRAINING_DATA = ("GTZAN features_30_sec.csv, artist-filtered split (Kereliuk et al. 2015): "
                           "train+valid, 640 clips; test split never used")


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


def sidecar_kind(meta: dict) -> str:
    """The kind of a ``*.meta.json`` sidecar: its own ``kind``, else "efficientat" for the AudioSet
    tagger (its graph outputs logits), else "musicnn"."""
    if meta.get("kind"):
        return str(meta["kind"])
    return "efficientat" if "logits" in (meta.get("outputs") or {}) else "musicnn"


def reporter_entry(models: Path, name: str, kind: str, file: str) -> dict:
    """A reporter (content rule, broad-genre calibration): its JSON file is its model file."""
    path = models / file
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {"name": name, "file": file, "sha256": sha256_file(path), "size": path.stat().st_size, "kind": kind,
            "inputs": {}, "outputs": {}, "labels": [], "reads": f"{raw['network']}:scores",
            "licence": CLASSICAL_LICENCE, "training_data": raw.get("fitted_by", "")}


def musicnn_entry(models: Path, meta_path: Path, kind: str = "musicnn") -> dict:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    name = meta.get("name") or meta_path.name[: -len(".meta.json")]
    if kind == "efficientat":
        name = "efficientat"  # what members read is "efficientat:scores", whichever conversion it is
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
        "kind": kind,
    })
    entry.setdefault("inputs", inputs)
    entry.setdefault("outputs", outputs)
    entry.setdefault("licence", "ISC (musicnn weights, Pons and Serra)")
    entry.setdefault("training_data", "see musicnn: MagnaTagATune or Million Song Dataset tags")
    entry.setdefault("metrics", {})
    return entry


def trained_head_fields(report: dict) -> dict:
    """Licence, training data, hyperparameters and figures of a head this project trained on the GTZAN
    audio (``tools/train_*.py``'s report)."""
    return {
        "licence": CLASSICAL_LICENCE,
        "training_data": ("GTZAN audio (Opus copies), artist-filtered split (Kereliuk et al. 2015): train+valid, "
                          f"{report['fitted_on']['clips']} clips; test split never used"),
        "hyperparameters": {"family": report["family"], **report["params"]},
        "metrics": {"valid_audio": {k: report["valid"][k] for k in ("accuracy", "macro_f1")},
                    "cv_train_audio": report["cv"]["chosen"]},
    }


def head_entry(models: Path, labels: list[str]) -> dict:
    from genre_desktop.features.musicnn_input import RECIPE_VERSION as MUSICNN_RECIPE

    report = json.loads((models / "audio_head.json").read_text(encoding="utf-8"))
    path = models / "audio_head.onnx"
    inputs, outputs = onnx_signature(path)
    return {
        "name": "audio_head",
        "file": path.name,
        "sha256": sha256_file(path),
        "size": path.stat().st_size,
        "kind": "embedding_head",
        "inputs": inputs,
        "outputs": outputs,
        "probability_output": "probabilities",
        "labels": labels,
        "stats": report["stats"],
        "patches_per_window": report["patches_per_window"],
        "feature_recipe": MUSICNN_RECIPE,
        **trained_head_fields(report),
    }


def effat_head_entry(models: Path, labels: list[str], name: str, report: dict) -> dict:
    """An embedding head on the EfficientAT network's outputs (the trained head or the zero-shot map)."""
    from genre_desktop.features.efficientat_input import RECIPE_VERSION as EFFAT_RECIPE

    path = models / f"{name}.onnx"
    inputs, outputs = onnx_signature(path)
    entry = {
        "name": name, "file": path.name, "sha256": sha256_file(path), "size": path.stat().st_size,
        "kind": "embedding_head", "inputs": inputs, "outputs": outputs, "probability_output": "probabilities",
        "labels": labels, "feature_recipe": EFFAT_RECIPE,
    }
    if name == "efficientat_genres":
        zero = report["zero_shot"]
        excerpts = report["excerpts_per_window"]
        entry.update({
            "stats": ["efficientat.scores.mean"], "patches_per_window": excerpts,
            "licence": "MIT (EfficientAT weights); the map is this project's (GPL-3.0-or-later)",
            "training_data": "none: AudioSet's genre classes mapped to the ten through the genre tree (zero-shot)",
            "genre_map": zero["mapping"], "genre_map_rule": zero["rule"],
            "metrics": {"valid_audio": {k: zero["figures"][str(excerpts)]["valid"][k] for k in ("accuracy", "macro_f1")},
                        "train_audio": {k: zero["figures"][str(excerpts)]["train"][k] for k in ("accuracy", "macro_f1")}},
        })
    else:
        entry.update({
            "stats": report["stats"], "patches_per_window": report["excerpts_per_window"],
            **trained_head_fields(report),
        })
    return entry


def cnn_entry(models: Path) -> dict:
    meta = json.loads((models / "cnn.meta.json").read_text(encoding="utf-8"))
    path = models / meta.get("file", "cnn.onnx")
    inputs, outputs = onnx_signature(path)
    entry = dict(meta)
    entry.update({"name": meta.get("name", "cnn"), "file": path.name, "sha256": sha256_file(path),
                  "size": path.stat().st_size, "kind": "cnn", "inputs": inputs, "outputs": outputs})
    return entry


def newest_ensemble(models: Path) -> Path | None:
    """The vote of the highest version, ``ensemble_v<N>.json`` (``ensemble_v4_without_msd.json`` and
    other measured alternatives are not votes to bundle)."""
    import re

    found = [(int(m.group(1)), p) for p in models.glob("ensemble_v*.json")
             if (m := re.fullmatch(r"ensemble_v(\d+)", p.stem))]
    return max(found)[1] if found else None


def build(models: Path) -> dict:
    from genre_desktop.features.gtzan import RECIPE_VERSION

    metrics = json.loads((models / "metrics.json").read_text(encoding="utf-8"))
    labels = list(metrics["labels"])
    entries = [classical_entry(models, n, m, labels, RECIPE_VERSION) for n, m in metrics["members"].items()]
    for meta_path in sorted(models.glob("*.meta.json")):
        # Sidecars of other kinds (cnn.meta.json) are not musicnn models; they enter the manifest
        # by their own entry, not as musicnn ones.
        kind = sidecar_kind(json.loads(meta_path.read_text(encoding="utf-8")))
        if kind not in ("musicnn", "efficientat"):
            continue
        entries.append(musicnn_entry(models, meta_path, kind))
    for name, kind, file in (("content", "content", "content_rule.json"),
                             ("broad_genres", "broad_genres", "broad_calibration.json")):
        if (models / file).exists():
            entry = reporter_entry(models, name, kind, file)
            if entry["reads"].split(":")[0] in {e["name"] for e in entries}:
                entries.append(entry)
            else:  # its network is not (yet) a model of the folder: it could not run
                log.warning("%s reads %s, which no model of %s provides: left out", file, entry["reads"], models)
    if (models / "audio_head.json").exists():
        entries.append(head_entry(models, labels))
    vote_path = newest_ensemble(models)
    vote = json.loads(vote_path.read_text(encoding="utf-8")) if vote_path else None
    bundle_weights = (vote or {}).get("bundle", {}).get("weights", {})
    if (models / "efficientat_head.json").exists():
        report = json.loads((models / "efficientat_head.json").read_text(encoding="utf-8"))
        for e in entries:  # the network's sidecar entry: it runs as many excerpts as the head read
            if e["kind"] == "efficientat":
                e["excerpts_per_window"] = report["excerpts_per_window"]
        for name in ("efficientat_head", "efficientat_genres"):
            if name in bundle_weights and (models / f"{name}.onnx").exists():
                entries.append(effat_head_entry(models, labels, name, report))
    if (models / "cnn.meta.json").exists():
        entries.append(cnn_entry(models))
    table_weights = {n: float(w) for n, w in metrics["ensemble"]["weights"].items()}
    weights, ensemble = dict(table_weights), {
        "weights_fitted_on": "valid",
        "method": metrics["ensemble"]["method"],
        "pooling": metrics["ensemble"]["pooling"],
        "metrics": {"valid": metrics["ensemble"]["valid"], "cv10_random": metrics["ensemble"]["cv10_random"]},
    }
    if vote is not None:
        v2, ens_name = vote, vote_path.stem
        names = {e["name"] for e in entries}
        # 4 decimals: a weight of 1e-15 is a fitted zero, not a member worth naming
        weights = {n: round(float(w), 4) for n, w in v2["bundle"]["weights"].items() if n in names}
        ensemble = {
            "weights_fitted_on": "out-of-fold predictions on the GTZAN train+valid audio (grouped by artist proxy)",
            "method": (f"weighted soft vote, {v2['bundle']['pooling']} pooling, weights fitted by "
                       f"{v2['bundle']['objective'].replace('_', '-')} on out-of-fold member predictions "
                       "(tools/train_ensemble.py)"),
            "pooling": v2["bundle"]["pooling"],
            "metrics": {"valid_audio": {k: v2["valid"][ens_name][k] for k in ("accuracy", "macro_f1")},
                        "nested_cv_train_valid_audio": {k: v2["bundle"]["nested_cv_train_valid"][k]
                                                        for k in ("accuracy", "macro_f1")}},
        }
    # Say of every entry whether it votes and with what weight: members the vote gave no weight
    # (a fitted zero, or the CNN, which never entered the vote) are computed and shown, not counted.
    genre_models = [e for e in entries if e["kind"] in ("classical", "embedding_head", "cnn")]
    for e in genre_models:
        e["weight"] = float(weights.get(e["name"], 0.0))
        e["votes"] = e["weight"] > 0
        weights.setdefault(e["name"], 0.0)
    for e in entries:
        if e not in genre_models:
            e["votes"] = False  # networks: they feed members, they do not vote
    # The version changes whenever a model file or a weight changes, and only then.
    digest = hashlib.sha256(json.dumps([[e["name"], e["sha256"]] for e in entries] + [weights, ensemble["pooling"]],
                                       sort_keys=True).encode()).hexdigest()
    return {
        "version": f"gtzan-{digest[:12]}",
        "labels": labels,
        "feature_recipe": RECIPE_VERSION,
        # The network whose embedding the user-model vectors hold (inference/vector_cache.py).
        **({"embedding_model": "musicnn_msd"} if any(e["name"] == "musicnn_msd" for e in entries) else {}),
        "models": entries,
        "ensemble": {
            "members": weights,
            # Plainly: which members vote (weight > 0); the others are computed and shown only.
            "voters": [n for n, w in weights.items() if w > 0],
            "shown_not_voting": [n for n, w in weights.items() if w <= 0],
            "weights_fitted_on": ensemble["weights_fitted_on"],
            "method": ensemble["method"],
            "pooling": ensemble["pooling"],
            "segments": "mean of log-probabilities over segments, renormalised",
            # A feature table has no audio: its vote is the classical one fitted for the table.
            "feature_table_only": {n: w for n, w in table_weights.items()
                                   if any(e["name"] == n and e["kind"] == "classical" for e in entries)},
            "feature_table_only_pooling": metrics["ensemble"]["pooling"],
            "metrics": ensemble["metrics"],
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
