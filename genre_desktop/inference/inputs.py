"""What members read: the inputs of a track's analysed windows, each kind computed on first use.

A member declares the input kinds it needs (``Member.needs``); it asks an inputs object for them
and gets one entry per window. Nothing is computed before some member asks, and nothing twice: the
musicnn networks run only when a tagger, an embedding head or the user-model vectors want them.

Kinds:

- ``table``: the 57 GTZAN features of each window (``features.gtzan``), float32 (W, 57);
- ``musicnn``: per network, per window, the network's per-patch outputs
  ``{"embedding": (P, 200), "tags": (P, 50)}`` for the window's chosen patches (``patches``:
  that many evenly spread 3 s patches per window, 0 = all of them);
- ``mel``: per window, the CNN batch of ``features.cnn_input.cnn_segments`` for the parameters a
  member's manifest entry declares, (N, 1, n_mels, frames).

:class:`AudioInputs` computes them from a track's decoded windows; :class:`CachedInputs` serves the
``table`` kind from cached vectors (``inference.vector_cache``) and nothing else, so evaluation on
cached vectors runs exactly the members that can run there.
"""

from __future__ import annotations

import json
from typing import Mapping

import numpy as np

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.inference.manifest import ModelError

__all__ = ["AudioInputs", "CachedInputs", "INPUT_KINDS", "MissingInput", "Window"]

INPUT_KINDS = ("table", "musicnn", "mel")
SAMPLE_RATE = 22050  # windows arrive at the GTZAN table's rate
MUSICNN_RATE = 16000

Window = tuple  # (start seconds, end seconds, mono float32 samples at SAMPLE_RATE)


class MissingInput(ModelError):
    """An inputs object cannot provide a kind a member needs (e.g. audio inputs from a cache)."""


class CachedInputs:
    """The ``table`` input from cached per-window features (one track, or several concatenated)."""

    kinds = frozenset({"table"})

    def __init__(self, features: np.ndarray) -> None:
        self._features = np.asarray(features, dtype=np.float32)

    @property
    def n_windows(self) -> int:
        return len(self._features)

    def table(self) -> np.ndarray:
        return self._features

    def musicnn(self, network: str, patches: int | None = None) -> list[dict[str, np.ndarray]]:
        raise MissingInput("cached vectors hold no musicnn outputs per patch")

    def mel(self, params: Mapping) -> list[np.ndarray]:
        raise MissingInput("cached vectors hold no mel spectrograms")


class AudioInputs:
    """Inputs of a track's decoded windows, computed lazily and once per kind (and parameters).

    ``networks``: musicnn network name -> ``inference.musicnn.MusicnnTagger`` (the loaded ones).
    ``patches``: the default number of patches per window for the ``musicnn`` kind (0 = all).
    """

    kinds = frozenset(INPUT_KINDS)

    def __init__(self, windows: list[Window], networks: Mapping[str, object] | None = None,
                 patches: int = 0, cancel: CancelToken = NEVER) -> None:
        if not windows:
            raise ValueError("no windows")
        self.windows = list(windows)
        self.networks = dict(networks or {})
        self.default_patches = max(0, int(patches))
        self.cancel = cancel
        self._table: np.ndarray | None = None
        self._patches: dict[int, list[np.ndarray]] = {}
        self._outputs: dict[tuple[str, int], list[dict[str, np.ndarray]]] = {}
        self._mel: dict[str, list[np.ndarray]] = {}
        self._y16: list[np.ndarray] | None = None
        self._log_mels: list[np.ndarray] | None = None

    @property
    def n_windows(self) -> int:
        return len(self.windows)

    def table(self) -> np.ndarray:
        """(W, 57) float32 GTZAN features, one row per window."""
        if self._table is None:
            from genre_desktop.features.gtzan import extract_features

            rows = []
            for _, _, y in self.windows:
                self.cancel.raise_if_cancelled()
                rows.append(extract_features(y, SAMPLE_RATE))
            self._table = np.stack(rows).astype(np.float32)
        return self._table

    def patches(self, patches: int | None = None) -> list[np.ndarray]:
        """Per window, musicnn log-mel patches [p, 187, 96]: ``patches`` evenly spread (0 = all)."""
        k = self.default_patches if patches is None else max(0, int(patches))
        if k not in self._patches:
            if self._log_mels is None:
                import soxr

                from genre_desktop.features.musicnn_input import musicnn_patches

                self._log_mels = []
                for _, _, y in self.windows:
                    self.cancel.raise_if_cancelled()
                    y16 = soxr.resample(y, SAMPLE_RATE, MUSICNN_RATE, quality="HQ").astype(np.float32)
                    self._log_mels.append(musicnn_patches(y16))
            self._patches[k] = [_spread(all_patches, k) for all_patches in self._log_mels]
        return self._patches[k]

    def musicnn(self, network: str, patches: int | None = None) -> list[dict[str, np.ndarray]]:
        """Per window, ``network``'s outputs {"embedding": (P, 200), "tags": (P, 50)} on the window's
        chosen patches. All windows go through the network in one run."""
        k = self.default_patches if patches is None else max(0, int(patches))
        key = (network, k)
        if key not in self._outputs:
            tagger = self.networks.get(network)
            if tagger is None:
                raise MissingInput(f"musicnn network {network!r} is not loaded (have {sorted(self.networks)})")
            per_window = self.patches(k)
            self.cancel.raise_if_cancelled()
            tags, embedding = tagger.run(np.concatenate(per_window))
            bounds = np.cumsum([len(p) for p in per_window])[:-1]
            self._outputs[key] = [{"embedding": e, "tags": t}
                                  for e, t in zip(np.split(embedding, bounds), np.split(tags, bounds))]
        return self._outputs[key]

    def mel(self, params: Mapping) -> list[np.ndarray]:
        """Per window, the CNN batch (N, 1, n_mels, frames) float32 for ``params`` (a manifest's
        ``"mel"`` object); see ``features.cnn_input.cnn_segments``."""
        key = json.dumps(dict(params), sort_keys=True)
        if key not in self._mel:
            from genre_desktop.features.cnn_input import cnn_segments

            out = []
            for _, _, y in self.windows:
                self.cancel.raise_if_cancelled()
                out.append(cnn_segments(y, SAMPLE_RATE, dict(params)))
            self._mel[key] = out
        return self._mel[key]


def _spread(patches: np.ndarray, k: int) -> np.ndarray:
    """``k`` evenly spread patches (first and last included; 0 or more than there are = all), as
    the analyzer has always chosen them for the tags."""
    if k and len(patches) > k:
        return patches[np.linspace(0, len(patches) - 1, k).round().astype(int)]
    return patches
