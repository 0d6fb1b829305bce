"""The librarian's own model (trained by ``training/``) and how it joins the bundled ensemble.

A user model lives in ``AppDirs.user_models/<version>/``: ``model.onnx`` (input ``features``
float32 [n, D] = the track vector of :mod:`inference.vector_cache`, output ``probabilities``)
and ``manifest.json`` (labels, sha256, vector recipe, the ensemble weight, metrics, training set).
``AppDirs.user_models/active.json`` names the active version; no file (or ``{"version": null}``)
means the bundled models alone. This module only *reads* that layout; ``training/registry.py``
writes it. It lives here so the Analyzer does not depend on the training layer.

How the distributions are combined (:func:`mix`): the user model's labels can differ from the
bundled ten (new genres such as "techno", and it may lack some bundled ones). The final
distribution is over the union of labels (bundled order first, then the user's new labels)::

    p(g) = w * p_user(g) + (1 - w) * p_bundled(g)

where a distribution is 0 on labels it does not have. Both terms sum to one, so the mixture does.
``w`` is fitted on held-out tracks grouped by artist when the model is trained (see
``training/trainer.py``) and stored in the manifest. So the bundled members keep their own
probability mass, scaled by ``1 - w``: a genre only the bundled models know can still win if
``w < 1``; a genre only the user's model knows gets at most ``w``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from genre_desktop.inference.manifest import MANIFEST_NAME, ModelError, sha256_file

log = logging.getLogger(__name__)

USER_FORMAT = "genre-desktop-user-model-1"
ACTIVE_FILE = "active.json"
MODEL_FILE = "model.onnx"
INPUT_NAME = "features"


def read_active(root: str | Path) -> str | None:
    """The active version named in ``root/active.json``, or None (bundled models only)."""
    path = Path(root) / ACTIVE_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is unreadable: {exc}") from exc
    version = raw.get("version") if isinstance(raw, dict) else None
    return str(version) if version else None


def union_labels(bundled: list[str], user: list[str]) -> list[str]:
    """Bundled labels in their order, then the user's labels the bundled models lack."""
    known = set(bundled)
    return list(bundled) + [g for g in user if g not in known]


def mix(bundled_labels: list[str], p_bundled: np.ndarray, user_labels: list[str], p_user: np.ndarray,
        weight: float) -> tuple[list[str], np.ndarray]:
    """``w * p_user + (1 - w) * p_bundled`` over the union of labels (see the module docstring).

    ``p_bundled`` (..., Lb) and ``p_user`` (..., Lu) with the same leading shape. Returns the union
    labels and (..., Lb + new) probabilities summing to one.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"user model weight {weight} is not in [0, 1]")
    labels = union_labels(bundled_labels, user_labels)
    index = {g: i for i, g in enumerate(labels)}
    p_bundled = np.asarray(p_bundled, dtype=np.float64)
    p_user = np.asarray(p_user, dtype=np.float64)
    out = np.zeros(p_bundled.shape[:-1] + (len(labels),))
    out[..., [index[g] for g in bundled_labels]] += (1.0 - weight) * p_bundled
    out[..., [index[g] for g in user_labels]] += weight * p_user
    return labels, out / out.sum(axis=-1, keepdims=True)


@dataclass
class UserModel:
    """A verified user model, ready to run."""

    folder: Path
    version: str
    labels: list[str]
    weight: float
    vector_recipe: str
    manifest: dict[str, Any] = field(default_factory=dict)
    _session: Any = None

    @property
    def dim(self) -> int:
        """The width of the vectors this model reads."""
        return int(self._session.get_inputs()[0].shape[-1])

    @classmethod
    def load(cls, folder: str | Path, threads: int = 0) -> "UserModel":
        """Read and verify ``folder/manifest.json`` and its ONNX file; ModelError if anything is off."""
        folder = Path(folder)
        path = folder / MANIFEST_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"user model {folder.name!r}: {path} is missing") from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"user model manifest {path} is unreadable: {exc}") from exc
        if not isinstance(raw, dict) or raw.get("format") != USER_FORMAT:
            raise ModelError(f"{path} is not a user model manifest ({USER_FORMAT})")
        try:
            model_path = folder / str(raw["file"])
            labels = [str(g) for g in raw["labels"]]
            weight = float(raw["ensemble"]["weight"])
            recipe = str(raw["vector_recipe"])
            expected = str(raw["sha256"]).lower()
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: malformed user model manifest: {exc!r}") from exc
        if not model_path.is_file():
            raise ModelError(f"user model {folder.name!r}: {model_path} is missing")
        if sha256_file(model_path) != expected:
            raise ModelError(f"user model {folder.name!r}: {model_path} does not match its sha256 "
                             "(modified or corrupted)")
        import onnxruntime as ort

        from genre_desktop.inference.members import session_options

        try:
            session = ort.InferenceSession(str(model_path), session_options(threads),
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelError(f"user model {folder.name!r}: onnxruntime cannot load it: {exc}") from exc
        shape = session.get_inputs()[0].shape
        # the width follows the vector recipe (57 features + the head's statistics), which the
        # Analyzer checks; here only that the model declares one fixed width
        if session.get_inputs()[0].name != INPUT_NAME or not isinstance(shape[-1], int) or shape[-1] < 1:
            raise ModelError(f"user model {folder.name!r}: input {session.get_inputs()[0].name} {shape}, "
                             f"expected {INPUT_NAME} [n, D]")
        return cls(folder, str(raw.get("version") or folder.name), labels, weight, recipe, raw, session)

    def predict_proba(self, V: np.ndarray) -> np.ndarray:
        """(n, D) track or window vectors -> (n, len(labels)) probabilities (rows sum to one)."""
        V = np.asarray(V, dtype=np.float32)
        if V.ndim == 1:
            V = V[None, :]
        if V.ndim != 2 or V.shape[1] != self.dim:
            raise ModelError(f"user model {self.version!r} expects [n, {self.dim}], got {list(V.shape)}")
        (proba,) = self._session.run(["probabilities"], {INPUT_NAME: V})
        proba = np.clip(np.asarray(proba, dtype=np.float64), 0.0, None)
        if proba.shape != (len(V), len(self.labels)):
            raise ModelError(f"user model {self.version!r} returned {proba.shape}, expected "
                             f"({len(V)}, {len(self.labels)})")
        return proba / proba.sum(axis=1, keepdims=True)

    def mix(self, bundled_labels: list[str], p_bundled: np.ndarray, p_user: np.ndarray) -> tuple[list[str], np.ndarray]:
        """This model's ``weight`` applied by :func:`mix`."""
        return mix(bundled_labels, p_bundled, self.labels, p_user, self.weight)


def load_active(root: str | Path, threads: int = 0) -> UserModel | None:
    """The active user model under ``root`` (``AppDirs.user_models``), or None when none is active.

    ModelError if the active version is missing or fails verification: the caller decides whether
    to fall back to the bundled models (and should tell the user)."""
    version = read_active(root)
    if version is None:
        return None
    return UserModel.load(Path(root) / version, threads)
