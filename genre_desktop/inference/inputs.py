"""What members read: the inputs of a track's analysed windows, each kind computed on first use.

A member declares the input kinds it needs (``Member.needs``); it asks an inputs object for them
and gets one entry per window. Nothing is computed before some member asks, and nothing twice: the
musicnn networks run only when a tagger, an embedding head or the user-model vectors want them.

Kinds:

- ``table``: the 57 GTZAN features of each window (``features.gtzan``), float32 (W, 57);
- ``musicnn``: per network, per window, the network's per-patch outputs
  ``{"embedding": (P, 200), "tags": (P, 50)}`` for the window's chosen patches (``patches``:
  that many evenly spread 3 s patches per window, 0 = all of them);
- ``embedding_stats``: per window, ``features.embedding_stats.embedding_stats`` of the musicnn
  outputs on the window's patches, float32 (W, S): what an embedding head reads;
- ``mel``: per window, the CNN batch of ``features.cnn_input.cnn_segments`` for the parameters a
  member's manifest entry declares, (N, 1, n_mels, frames).

:class:`AudioInputs` computes them from a track's decoded windows; :class:`CachedInputs` serves the
``table`` and ``embedding_stats`` kinds from cached vectors (``inference.vector_cache``: the
statistics the bundled head reads, at its patches per window), so evaluation on cached vectors runs
the bundled voting members (the table models and the embedding head), not a table-only vote.
"""

from __future__ import annotations

import json
from typing import Mapping

import numpy as np

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.inference.manifest import ModelError

__all__ = ["AudioInputs", "CachedInputs", "INPUT_KINDS", "MissingInput", "Window"]

INPUT_KINDS = ("table", "musicnn", "embedding_stats", "mel")
SAMPLE_RATE = 22050  # windows arrive at the GTZAN table's rate
MUSICNN_RATE = 16000

Window = tuple  # (start seconds, end seconds, mono float32 samples at SAMPLE_RATE)


class MissingInput(ModelError):
    """An inputs object cannot provide a kind a member needs (e.g. audio inputs from a cache)."""


class CachedInputs:
    """The ``table`` and ``embedding_stats`` inputs from cached vectors (one track, or several
    concatenated). ``stats``: the cached (W, S) statistics, named ``stat_names`` and summarising
    ``stat_patches`` patches per window (None = the analysis default); a head asking for other
    statistics or another patch count gets MissingInput, never values that mean something else."""

    all_kinds = frozenset({"table", "embedding_stats"})  # what a cache can ever provide

    def __init__(self, features: np.ndarray, stats: np.ndarray | None = None,
                 stat_names: list[str] | tuple[str, ...] = (), stat_patches: int | None = None) -> None:
        self._features = np.asarray(features, dtype=np.float32)
        self._stats = None if stats is None else np.asarray(stats, dtype=np.float32)
        if self._stats is not None and len(self._stats) != len(self._features):
            raise ValueError(f"{len(self._stats)} rows of statistics for {len(self._features)} windows")
        self.stat_names = tuple(stat_names)
        self.stat_patches = stat_patches
        self.kinds = self.all_kinds if self._stats is not None else frozenset({"table"})

    @property
    def n_windows(self) -> int:
        return len(self._features)

    def table(self) -> np.ndarray:
        return self._features

    def embedding_stats(self, stats: list[str], patches: int | None = None) -> np.ndarray:
        """The cached (W, S) statistics when they are exactly ``stats`` over ``patches`` patches."""
        if self._stats is None or tuple(stats) != self.stat_names or patches != self.stat_patches:
            raise MissingInput(f"cached vectors hold statistics {list(self.stat_names)} over "
                               f"{self.stat_patches} patches, not {list(stats)} over {patches}")
        return self._stats

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
            from genre_desktop.features.musicnn_input import musicnn_patches, n_patches

            if self._y16 is None:
                import soxr

                self._y16 = []
                for _, _, y in self.windows:
                    self.cancel.raise_if_cancelled()
                    self._y16.append(soxr.resample(y, SAMPLE_RATE, MUSICNN_RATE, quality="HQ").astype(np.float32))
            # Only the chosen patches' spectrogram frames are computed (the same values).
            self._patches[k] = [musicnn_patches(y16, which=_spread_indices(n_patches(len(y16)), k))
                                for y16 in self._y16]
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

    def embedding_stats(self, stats: list[str], patches: int | None = None) -> np.ndarray:
        """(W, S) float32: ``stats`` (``features.embedding_stats``) of each window's musicnn outputs
        over ``patches`` patches (None = the default)."""
        from genre_desktop.features.embedding_stats import embedding_stats, stat_networks

        nets = stat_networks(list(stats))
        outputs = {net: self.musicnn(net, patches) for net in nets}
        return np.stack([embedding_stats({net: outputs[net][w] for net in nets}, list(stats))
                         for w in range(self.n_windows)]).astype(np.float32)

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


def _spread_indices(n: int, k: int) -> np.ndarray:
    """``k`` evenly spread indices of ``n`` (first and last included; 0 or more than there are =
    all), as the analyzer has always chosen the patches for the tags."""
    if k and n > k:
        return np.linspace(0, n - 1, k).round().astype(int)
    return np.arange(n)
