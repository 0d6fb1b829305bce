"""Names every module of ``inference/`` shares; this module imports no other module of the package.

The manifest, the inputs, the members of each kind, the ensemble and the user model all raise the
same errors, open onnxruntime sessions the same way and spread excerpts over a window the same way.
Keeping those here lets the modules import one another in one direction only::

    analyzer, batch, spec  ->  members  ->  musicnn, efficientat, broad, user_model  ->
    inputs, ensemble  ->  manifest, vector_cache  ->  common
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

__all__ = ["MANIFEST_NAME", "POOLINGS", "MissingInput", "ModelError", "open_session", "session_options",
           "sha256_file", "spread_indices"]

MANIFEST_NAME = "manifest.json"

#: How the ensemble pools its members' distributions per window (see ``inference/ensemble.py``).
POOLINGS = ("arithmetic", "geometric")


class ModelError(Exception):
    """A model or the manifest cannot be used (missing, corrupt, tampered, wrong shape)."""


class MissingInput(ModelError):
    """An inputs object cannot provide what a member reads (e.g. audio inputs from a cache)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def session_options(threads: int = 0):
    """onnxruntime SessionOptions: ``threads`` intra-op threads (0 = onnxruntime's default), and
    threads that sleep when idle.

    onnxruntime's pool threads spin after each run by default; between two network runs the
    analysis computes features in Python for ~100 ms, so with 2 threads on 2 cores a window cost
    495 ms of CPU (283 ms wall) instead of 243 (183 wall) with spinning off (measured, GTZAN clips).
    """
    import onnxruntime as ort  # lazily: importing onnxruntime costs ~0.2 s

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(0, int(threads))
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
    opts.log_severity_level = 3  # warnings about unused initialisers etc. are not the user's concern
    return opts


def open_session(path: Path, threads: int, what: str):
    """An onnxruntime session of the graph at ``path``; ModelError naming ``what`` if it cannot load."""
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        raise ModelError(f"{what}: onnxruntime cannot load {path}: {exc}") from exc


def spread_indices(n: int, k: int | None) -> np.ndarray:
    """``k`` evenly spread indices of ``n`` items, first and last included (``k`` None, 0 or at
    least ``n``: all of them; 1: the first). The analysis has always picked a window's musicnn
    patches so, and ``tools/audio_data.app_patch_indices`` repeats it for training the heads."""
    if k and n > k:
        return np.linspace(0, n - 1, k).round().astype(int)
    return np.arange(n)
