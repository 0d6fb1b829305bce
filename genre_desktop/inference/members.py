"""One classifier interface over the ONNX models of the manifest.

A member maps a float32 feature matrix (n, 57) to a probability matrix (n, n_labels) whose rows sum
to one. Sessions are created once per member (creating one costs far more than running it) with
the thread count the caller chose.
"""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from genre_desktop.inference.manifest import Manifest, ModelEntry, ModelError

log = logging.getLogger(__name__)


class Classifier(Protocol):
    name: str
    labels: list[str]
    n_features: int

    def predict_proba(self, X: np.ndarray) -> np.ndarray: ...


def session_options(threads: int = 0):
    """onnxruntime SessionOptions: ``threads`` intra-op threads (0 = onnxruntime's default)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(0, int(threads))
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # warnings about unused initialisers etc. are not the user's concern
    return opts


class OnnxClassifier:
    """A classical member: feature vector in, genre distribution out."""

    def __init__(self, entry: ModelEntry, threads: int = 0) -> None:
        import onnxruntime as ort

        self.name = entry.name
        self.labels = list(entry.labels)
        if len(entry.inputs) != 1:
            raise ModelError(f"model {entry.name!r}: expected one input, manifest lists {list(entry.inputs)}")
        self.input_name, declared = next(iter(entry.inputs.items()))
        if len(declared) != 2 or not isinstance(declared[1], int):
            raise ModelError(f"model {entry.name!r}: input shape {declared} is not [n, features]")
        self.n_features = int(declared[1])
        try:
            self._session = ort.InferenceSession(str(entry.path), session_options(threads),
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise ModelError(f"model {entry.name!r}: onnxruntime cannot load {entry.path}: {exc}") from exc
        inputs = self._session.get_inputs()
        actual = [d if isinstance(d, int) else None for d in inputs[0].shape]
        if inputs[0].name != self.input_name or len(actual) != 2 or actual[1] != self.n_features:
            raise ModelError(f"model {entry.name!r}: graph input {inputs[0].name} {actual} does not match "
                             f"the manifest's {self.input_name} {declared}")
        outputs = [o.name for o in self._session.get_outputs()]
        self.output_name = entry.probability_output or ("probabilities" if "probabilities" in outputs
                                                        else outputs[-1])
        if self.output_name not in outputs:
            raise ModelError(f"model {entry.name!r}: no output {self.output_name!r} in {outputs}")

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(n, n_features) -> (n, n_labels) float64, rows summing to one. Wrong shape -> ModelError."""
        X = np.asarray(X, dtype=np.float32)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ModelError(f"model {self.name!r} expects input [n, {self.n_features}], got {list(X.shape)}")
        if not np.all(np.isfinite(X)):
            raise ValueError(f"model {self.name!r}: non-finite feature values")
        (proba,) = self._session.run([self.output_name], {self.input_name: X})
        proba = np.asarray(proba, dtype=np.float64)
        if proba.shape != (X.shape[0], len(self.labels)):
            raise ModelError(f"model {self.name!r} returned shape {proba.shape}, expected "
                             f"({X.shape[0]}, {len(self.labels)})")
        # float32 arithmetic leaves rows a few ulps off one; tree ensembles can emit -0.0.
        proba = np.clip(proba, 0.0, None)
        return proba / proba.sum(axis=1, keepdims=True)


def load_classical(manifest: Manifest, threads: int = 0) -> list[OnnxClassifier]:
    """A session per classical model of ``manifest`` (already hash-verified by load_manifest)."""
    members = [OnnxClassifier(entry, threads) for entry in manifest.by_kind("classical")]
    for m in members:
        if m.labels != manifest.labels:
            raise ModelError(f"model {m.name!r}: labels {m.labels} differ from the manifest's {manifest.labels}")
    if not members:
        raise ModelError(f"{manifest.folder}: the manifest lists no classical model")
    return members
