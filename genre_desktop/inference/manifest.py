"""The model manifest: what a models folder (the bundled one, or a user model's) holds, verified on load.

:func:`load_manifest` is the one reader of both layouts. Loading checks every listed file against
its size and sha256, so a missing, truncated or tampered model is refused with a message naming the
file and what is wrong, instead of producing quietly wrong genres.

**The bundled layout** (``models/manifest.json``)::

    {"version": "v3", "labels": ["blues", ...],        # the genres every voting member outputs, in order
     "feature_recipe": "gtzan-librosa-1",               # the table features' recipe (features/gtzan.py)
     "embedding_model": "musicnn_msd",                  # optional: the network whose mean embedding the
                                                        # cached track vectors hold (vector_cache.py)
     "models": [ENTRY, ...],
     "ensemble": {"members": {name: weight, ...},       # the voting members' weights (0 = not voting)
                  "pooling": "arithmetic" | "geometric",
                  "feature_table_only": {name: weight}}} # the vote when only the table is known

Every ENTRY has ``name`` (unique), ``kind`` (which code builds it: ``inference/members.py``
``FACTORIES``), ``file``, ``sha256``, ``size``, ``labels``, ``inputs`` ({input name: shape}),
``outputs`` ({output name: shape}); optionally ``probability_output``, ``feature_recipe``,
``licence``, ``training_data``, ``metrics`` and whatever its kind reads (documented with the kind
in ``members.py``). Two roles matter to the analysis:

- a **network** (kinds ``musicnn``, ``efficientat``) runs on a track's audio once per window and
  *provides* its outputs to other members: the capability ``"<name>:<output>"`` for each name in
  its ``outputs`` (``"musicnn_msd:embedding"``, ``"efficientat:scores"``). It is loaded and run
  only when something reads one of its capabilities, or its tags are wanted;
- a **reader** declares the capabilities it *reads*: an ``embedding_head`` reads those named by its
  ``stats`` (``"musicnn_msd.embedding.mean"`` reads ``"musicnn_msd:embedding"``; statistics of
  any network's outputs, e.g. ``"efficientat.embedding.mean"``, work the same way). A capability
  no entry provides is a ModelError when the analyzer is built.

A new network kind is one factory with ``provides``/``outputs(inputs, units)``; a new reader one
factory with ``reads``; nothing in the analyzer branches on a kind (``members.py`` says how).

**The user model layout** (``AppDirs.user_models/<version>/manifest.json``, written by
``training/trainer.py``)::

    {"format": "genre-desktop-user-model-1", "version": "v3", "file": "model.onnx",
     "sha256": ..., "size": ..., "labels": [...], "inputs": {"features": [null, D]},
     "vector_recipe": "...",              # what the D input values mean (vector_cache.vector_recipe)
     "ensemble": {"weight": w}}           # its share in the mix with the bundled vote

It loads as a manifest with one entry of kind ``user_model`` (``inference/user_model.py``), named
``"user:<version>"``, whose ``labels`` are the manifest's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genre_desktop.inference.common import MANIFEST_NAME, POOLINGS, ModelError, sha256_file

__all__ = ["MANIFEST_NAME", "USER_FORMAT", "Manifest", "ModelEntry", "ModelError", "load_manifest",
           "sha256_file", "verify_file"]

USER_FORMAT = "genre-desktop-user-model-1"
USER_KIND = "user_model"


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
    # The network whose embedding the user-model vectors hold; checked by whoever needs the
    # vectors (a copy of the folder without the networks still serves the classical members).
    embedding_model: str | None = None
    format: str = "bundled"  # or USER_FORMAT

    def by_kind(self, kind: str) -> list[ModelEntry]:
        return [m for m in self.models if m.kind == kind]

    def get(self, name: str) -> ModelEntry:
        for m in self.models:
            if m.name == name:
                return m
        raise ModelError(f"{self.folder / MANIFEST_NAME}: no model named {name!r}")

    def find(self, name: str) -> ModelEntry | None:
        return next((m for m in self.models if m.name == name), None)


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


def _entry(folder: Path, raw: dict[str, Any], manifest_path: Path, name: str | None = None,
           kind: str | None = None) -> ModelEntry:
    try:
        return ModelEntry(
            name=name or str(raw["name"]),
            path=folder / str(raw["file"]),
            sha256=str(raw["sha256"]).lower(),
            kind=kind or str(raw["kind"]),
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
        raise ModelError(f"{manifest_path}: malformed model entry {raw.get('name', name or '?')!r}: {exc!r}") from exc


def _user_manifest(folder: Path, raw: dict[str, Any], path: Path) -> Manifest:
    """A user model's manifest as a one-entry manifest (see the module docstring)."""
    version = str(raw.get("version") or folder.name)
    try:
        float(raw["ensemble"]["weight"])
        str(raw["vector_recipe"])
        labels = [str(g) for g in raw["labels"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: malformed user model manifest: {exc!r}") from exc
    entry = _entry(folder, {"inputs": {}, **raw}, path, name=f"user:{version}", kind=USER_KIND)
    return Manifest(folder=folder, version=version, labels=labels, feature_recipe=str(raw["vector_recipe"]),
                    models=[entry], weights={}, feature_table_weights={}, raw=raw, format=USER_FORMAT)


def _bundled_manifest(folder: Path, raw: dict[str, Any], path: Path) -> Manifest:
    if not isinstance(raw.get("models"), list) or not raw.get("labels"):
        raise ModelError(f"model manifest {path} lacks 'labels' or a 'models' list")
    models = [_entry(folder, m, path) for m in raw["models"]]
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ModelError(f"model manifest {path} lists a model name twice: {sorted(names)}")
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
    return manifest


def load_manifest(folder: str | Path, verify: bool = True, user: bool = False) -> Manifest:
    """Read ``folder/manifest.json`` (either layout; with ``user`` only a user model's); with
    ``verify`` check every listed file's size and sha256."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model manifest: {path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model manifest {path} is unreadable: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"model manifest {path} is not a JSON object")
    if user and raw.get("format") != USER_FORMAT:
        raise ModelError(f"{path} is not a user model manifest ({USER_FORMAT})")
    if "format" in raw and raw["format"] != USER_FORMAT:
        raise ModelError(f"{path}: unknown manifest format {raw['format']!r} (this app reads {USER_FORMAT!r} "
                         "and the bundled layout)")
    manifest = (_user_manifest if raw.get("format") == USER_FORMAT else _bundled_manifest)(folder, raw, path)
    if verify:
        for entry in manifest.models:
            verify_file(entry)
    return manifest
