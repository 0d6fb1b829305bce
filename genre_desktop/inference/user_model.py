"""The librarian's own model (trained by ``training/``): the member kind ``user_model``, and how it
joins the bundled ensemble.

A user model lives in ``AppDirs.user_models/<version>/``: ``model.onnx`` (input ``features``
float32 [n, D] = the track vector of :mod:`inference.vector_cache`, output ``probabilities``)
and ``manifest.json`` (labels, sha256, vector recipe, the ensemble weight, metrics, training set),
read by the one manifest loader (``inference.manifest.load_manifest``, the user layout) as one
entry of kind ``user_model``. ``AppDirs.user_models/active.json`` names the active version; no
file (or ``{"version": null}``) means the bundled models alone. This module only *reads* that
layout; ``training/registry.py`` writes it. It lives here so the Analyzer does not depend on the
training layer.

As a member it needs the ``vectors`` input (the track's vectors: each window's statistics and their
mean) and reads the columns of the statistics its vector recipe names, in that order (the vectors
may hold more, e.g. a later bundle's new head: ``vector_cache.recipe_problem`` says whether they
hold all of them); it does not vote with the bundled members: the ensemble mixes it in (:func:`mix`).
The user model's labels can differ from the bundled ten (new genres such as "techno", and it may
lack some bundled ones). The final distribution is over the union of labels (bundled order first,
then the user's new labels)::

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
from pathlib import Path

import numpy as np

from genre_desktop.inference.common import ModelError, open_session
from genre_desktop.inference.manifest import USER_FORMAT, USER_KIND, ModelEntry, load_manifest
from genre_desktop.inference.vector_cache import TrackVectors, recipe_stats

__all__ = ["ACTIVE_FILE", "INPUT_NAME", "MODEL_FILE", "USER_FORMAT", "UserModel", "load_active", "mix",
           "read_active", "union_labels"]

log = logging.getLogger(__name__)

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


class UserModel:
    """A verified user model, ready to run: the member of kind ``user_model``."""

    kind = USER_KIND
    votes = False  # mixed in by its own weight, not a voter of the bundled ensemble
    needs = frozenset({"vectors"})
    reads: frozenset[str] = frozenset()
    provides: frozenset[str] = frozenset()

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        raw = entry.raw
        self.name = entry.name
        self.folder = entry.path.parent
        self.version = str(raw.get("version") or self.folder.name)
        self.labels = list(entry.labels)
        self.weight = float(raw["ensemble"]["weight"])
        self.vector_recipe = str(raw["vector_recipe"])
        named = recipe_stats(self.vector_recipe)
        # the statistics it was trained on, in its input's order (None: the whole vector, unnamed)
        self.stats = tuple(named[0]) if named else None
        self.manifest = raw
        self._session = open_session(entry.path, threads, f"user model {self.version!r}")
        inputs = self._session.get_inputs()
        shape = inputs[0].shape
        # the width follows the vector recipe (57 features + the head's statistics), which the
        # Analyzer checks; here only that the model declares one fixed width
        if inputs[0].name != INPUT_NAME or not isinstance(shape[-1], int) or shape[-1] < 1:
            raise ModelError(f"user model {self.version!r}: input {inputs[0].name} {shape}, "
                             f"expected {INPUT_NAME} [n, D]")

    @property
    def dim(self) -> int:
        """The width of the vectors this model reads."""
        return int(self._session.get_inputs()[0].shape[-1])

    @classmethod
    def load(cls, folder: str | Path, threads: int = 0) -> "UserModel":
        """Read and verify ``folder/manifest.json`` and its ONNX file; ModelError if anything is off."""
        return cls(load_manifest(folder, user=True).models[0], threads)

    def _columns(self, vectors: TrackVectors):
        """Its columns of ``vectors`` (all of them when either side names none); ModelError if the
        vectors lack a statistic it reads."""
        if self.stats is None or not vectors.layout:
            return slice(None)
        try:
            return vectors.columns(self.stats)
        except KeyError as exc:
            raise ModelError(f"user model {self.version!r}: {exc.args[0]}") from None

    def window_vectors(self, vectors: TrackVectors) -> np.ndarray:
        """(W, D) its input per window of ``vectors``."""
        return vectors.window_vectors[:, self._columns(vectors)]

    def track_vector(self, vectors: TrackVectors) -> np.ndarray:
        """(D,) its input for the track: its statistics averaged over the windows."""
        return vectors.vector[self._columns(vectors)]

    def predict(self, inputs) -> np.ndarray:
        """(W, len(labels)) one distribution per window of ``inputs``' track vectors."""
        return self.predict_proba(self.window_vectors(inputs.vectors()))

    def predict_track(self, inputs) -> np.ndarray:
        """(len(labels),) the distribution of the track vector (the windows' statistics averaged)."""
        return self.predict_proba(self.track_vector(inputs.vectors()))[0]

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
