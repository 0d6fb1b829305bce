"""The model manifest: what the bundled (or a user's) models folder contains, verified on load.

``manifest.json`` lists each model's file, sha256 and size, its input/output names and shapes, its
labels, feature recipe, licence and training data, and the ensemble weights. Loading checks every
listed file against its hash, so a missing, truncated or tampered model is refused with a message
naming the file and what is wrong, instead of producing quietly wrong genres.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre_desktop.inference.ensemble import POOLINGS

MANIFEST_NAME = "manifest.json"


class ModelError(Exception):
    """A model or the manifest cannot be used (missing, corrupt, tampered, wrong shape)."""


@dataclass
class ModelEntry:
    """One model of the manifest; ``path`` is resolved against the manifest's folder."""

    name: str
    path: Path
    sha256: str
    kind: str
    inputs: dict[str, list[int | None]]
    outputs: dict[str, list[int | None]]
    labels: list[str]
    feature_recipe: str = ""
    licence: str = ""
    training_data: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    size: int | None = None
    probability_output: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest:
    folder: Path
    version: str
    labels: list[str]
    feature_recipe: str
    models: list[ModelEntry]
    weights: dict[str, float]
    feature_table_weights: dict[str, float]
    pooling: str = "arithmetic"
    raw: dict[str, Any] = field(default_factory=dict)
    # The musicnn network whose embedding the user-model vectors hold; checked by whoever needs the
    # vectors (a copy of the folder without the networks still serves the classical members).
    embedding_model: str | None = None

    def by_kind(self, kind: str) -> list[ModelEntry]:
        return [m for m in self.models if m.kind == kind]

    def get(self, name: str) -> ModelEntry:
        for m in self.models:
            if m.name == name:
                return m
        raise ModelError(f"{self.folder / MANIFEST_NAME}: no model named {name!r}")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_file(entry: ModelEntry) -> None:
    """Raise ModelError unless ``entry.path`` exists with the listed size and sha256."""
    path = entry.path
    if not path.is_file():
        raise ModelError(f"model {entry.name!r}: file {path} is missing")
    size = path.stat().st_size
    if entry.size is not None and size != entry.size:
        what = "truncated" if size < entry.size else "larger than listed"
        raise ModelError(f"model {entry.name!r}: file {path} is {what} ({size} bytes, manifest says {entry.size})")
    actual = sha256_file(path)
    if actual != entry.sha256:
        raise ModelError(f"model {entry.name!r}: file {path} does not match its sha256 in the manifest "
                         f"(modified or corrupted; expected {entry.sha256[:12]}..., got {actual[:12]}...)")


def _entry(folder: Path, raw: dict[str, Any], manifest_path: Path) -> ModelEntry:
    try:
        return ModelEntry(
            name=str(raw["name"]),
            path=folder / str(raw["file"]),
            sha256=str(raw["sha256"]).lower(),
            kind=str(raw["kind"]),
            inputs={k: list(v) for k, v in raw["inputs"].items()},
            outputs={k: list(v) for k, v in raw.get("outputs", {}).items()},
            labels=[str(x) for x in raw.get("labels", [])],
            feature_recipe=str(raw.get("feature_recipe", "")),
            licence=str(raw.get("licence", "")),
            training_data=str(raw.get("training_data", "")),
            metrics=dict(raw.get("metrics", {})),
            size=int(raw["size"]) if raw.get("size") is not None else None,
            probability_output=raw.get("probability_output"),
            raw=raw,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{manifest_path}: malformed model entry {raw.get('name', '?')!r}: {exc!r}") from exc


def load_manifest(folder: str | Path, verify: bool = True) -> Manifest:
    """Read ``folder/manifest.json``; with ``verify`` check every listed file's size and sha256."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model manifest: {path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model manifest {path} is unreadable: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("models"), list) or not raw.get("labels"):
        raise ModelError(f"model manifest {path} lacks 'labels' or a 'models' list")
    models = [_entry(folder, m, path) for m in raw["models"]]
    ensemble = raw.get("ensemble") or {}
    manifest = Manifest(
        folder=folder,
        version=str(raw.get("version", "")),
        labels=[str(x) for x in raw["labels"]],
        feature_recipe=str(raw.get("feature_recipe", "")),
        models=models,
        weights={k: float(v) for k, v in (ensemble.get("members") or {}).items()},
        feature_table_weights={k: float(v) for k, v in (ensemble.get("feature_table_only") or {}).items()},
        pooling=str(ensemble.get("pooling", "arithmetic")),
        raw=raw,
        embedding_model=str(raw["embedding_model"]) if raw.get("embedding_model") else None,
    )
    if manifest.pooling not in POOLINGS:
        raise ModelError(f"model manifest {path}: unknown ensemble pooling {manifest.pooling!r}")
    if verify:
        for entry in models:
            verify_file(entry)
    return manifest
