"""What members read: the inputs of a track's analysed windows, each computed on first use and once.

A member declares the input kinds it needs (``Member.needs``) and, if it reads a network, the
network capabilities it reads (``Member.reads``, ``"<network>:<output>"``); it asks an inputs object
for them and gets one entry per window. Nothing is computed before some member asks, and nothing
twice: a network runs only when a member, the track vectors or a reporter (tags, broad genres)
reads it.

Kinds:

- ``table``: the 57 GTZAN features of each window (``features.gtzan``), float32 (W, 57);
- ``outputs``: per network, per window, the network's outputs on that window's excerpts, e.g.
  ``{"embedding": (P, 200), "tags": (P, 50)}`` for P musicnn patches of 3 s, or
  ``{"scores": (E, 527), "embedding": (E, D)}`` for E EfficientAT excerpts of 10 s. The network
  member computes them (``outputs(inputs, units)``) from what the inputs share: the windows
  resampled once per rate (:meth:`AudioInputs.resampled`) and anything memoised by key
  (:meth:`AudioInputs.memo`, e.g. the musicnn log-mel patches both musicnn networks read);
- ``embedding_stats``: per window, ``features.embedding_stats.embedding_stats`` of the networks'
  outputs, float32 (W, S): what an embedding head reads;
- ``mel``: per window, the CNN batch of ``features.cnn_input.cnn_segments`` for the parameters a
  member's manifest entry declares, (N, 1, n_mels, frames);
- ``vectors``: the track's ``TrackVectors`` (``inference/vector_cache.py``): what a user model
  reads and the wizard learns from.

``units`` is how many excerpts of a network's own length each window gives (musicnn: 3 s patches,
EfficientAT: 10 s excerpts; evenly spread, 0 = all); None means the network's own default, or else
the analysis' ``patches`` setting.

:class:`AudioInputs` computes them from a track's decoded windows; :class:`CachedInputs` serves the
``table`` and ``embedding_stats`` kinds from cached vectors (the statistics every bundled head
reads, each at its own units per window: a head gets exactly its columns), so evaluation on cached
vectors runs the bundled voting members (the table models and every embedding head) and gives the
analysis' own vote. Whether an inputs object can feed a member is :meth:`serves`: the input kinds,
and for a head reading statistics, those statistics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.inference.common import MissingInput
from genre_desktop.inference.vector_cache import Stat, TrackVectors, layout_columns, stats_of

__all__ = ["AudioInputs", "CachedInputs", "INPUT_KINDS", "MissingInput", "VectorSpec", "Window", "head_stats"]

INPUT_KINDS = ("table", "outputs", "embedding_stats", "mel", "vectors")
SAMPLE_RATE = 22050  # windows arrive at the GTZAN table's rate

Window = tuple  # (start seconds, end seconds, mono float32 samples at SAMPLE_RATE)


@dataclass(frozen=True)
class VectorSpec:
    """What a track's vectors hold: the mean embedding of ``embedding_model`` over each window's
    default units, and the statistics ``stats`` (:class:`~genre_desktop.inference.vector_cache.Stat`
    keys, each over its own units per window)."""

    embedding_model: str
    stats: tuple[Stat, ...]


def head_stats(member) -> list[Stat] | None:
    """The statistics a member reads through ``embedding_stats`` (its ``stats`` over its
    ``patches`` units per window), or None if it reads none."""
    if "embedding_stats" not in member.needs:
        return None
    return stats_of(getattr(member, "stats", ()), getattr(member, "patches", None))


class CachedInputs:
    """The ``table`` and ``embedding_stats`` inputs from cached vectors (one track, or several
    concatenated). ``stats``: the cached (W, S) statistics whose columns ``layout`` names (a tuple of
    :class:`~genre_desktop.inference.vector_cache.Stat`); a head asking for statistics or units
    the layout does not hold gets MissingInput, never values that mean something else."""

    all_kinds = frozenset({"table", "embedding_stats"})  # what a cache can ever provide

    def __init__(self, features: np.ndarray, stats: np.ndarray | None = None,
                 layout: tuple[Stat, ...] | list[Stat] = ()) -> None:
        self._features = np.asarray(features, dtype=np.float32)
        self._stats = None if stats is None else np.asarray(stats, dtype=np.float32)
        if self._stats is not None and len(self._stats) != len(self._features):
            raise ValueError(f"{len(self._stats)} rows of statistics for {len(self._features)} windows")
        self.layout = tuple(layout)
        self.kinds = self.all_kinds if self._stats is not None else frozenset({"table"})

    @classmethod
    def of(cls, vectors: TrackVectors) -> "CachedInputs":
        """The inputs of one track's cached vectors."""
        return cls(vectors.features, vectors.stats, vectors.layout)

    @property
    def n_windows(self) -> int:
        return len(self._features)

    def holds(self, stats: list[Stat]) -> bool:
        """Whether the cached statistics include every one of ``stats`` (by name and units)."""
        try:
            layout_columns(self.layout, stats)
            return self._stats is not None
        except KeyError:
            return False

    def serves(self, member) -> bool:
        """Whether ``member`` can run on these inputs: its input kinds, and its statistics."""
        wanted = head_stats(member)
        return member.needs <= self.kinds and (wanted is None or self.holds(wanted))

    def table(self) -> np.ndarray:
        return self._features

    def embedding_stats(self, stats: list[str], patches: int | None = None) -> np.ndarray:
        """The cached (W, S) columns of ``stats`` over ``patches`` units per window."""
        if self._stats is None:
            raise MissingInput("these cached vectors hold no statistics")
        try:
            return self._stats[:, layout_columns(self.layout, stats_of(stats, patches))]
        except KeyError as exc:
            raise MissingInput(f"cached {exc.args[0]}") from None

    def outputs(self, network: str, units: int | None = None) -> list[dict[str, np.ndarray]]:
        raise MissingInput(f"cached vectors hold no outputs of the network {network!r} per excerpt")

    def mel(self, params: Mapping) -> list[np.ndarray]:
        raise MissingInput("cached vectors hold no mel spectrograms")

    def vectors(self) -> TrackVectors:
        raise MissingInput("these cached inputs are rows of vectors, not one track's")


class AudioInputs:
    """Inputs of a track's decoded windows, computed lazily and once per kind (and parameters).

    ``networks``: network name -> a loaded network member (``outputs(inputs, units)``,
    ``default_units``). ``patches``: the units per window of a network without its own default
    (0 = all). ``vector_spec``: what :meth:`vectors` holds (None: no vectors).
    """

    kinds = frozenset(INPUT_KINDS)

    def __init__(self, windows: list[Window], networks: Mapping[str, Any] | None = None,
                 patches: int = 0, cancel: CancelToken = NEVER, vector_spec: VectorSpec | None = None) -> None:
        if not windows:
            raise ValueError("no windows")
        self.windows = list(windows)
        self.networks = dict(networks or {})
        self.default_patches = max(0, int(patches))
        self.cancel = cancel
        self.vector_spec = vector_spec
        self._memo: dict[Any, Any] = {}

    @property
    def n_windows(self) -> int:
        return len(self.windows)

    def serves(self, member) -> bool:
        """Whether ``member`` can run on these inputs (every kind is computed from the audio)."""
        return member.needs <= self.kinds

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` the first time ``key`` is asked for, the same value after (a hashable key
        naming what it is and its parameters)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def computed(self, kind: str) -> bool:
        """Whether anything of ``kind`` (a memo key's first element) was computed yet."""
        return any(isinstance(k, tuple) and k and k[0] == kind for k in self._memo)

    def table(self) -> np.ndarray:
        """(W, 57) float32 GTZAN features, one row per window."""
        def compute() -> np.ndarray:
            from genre_desktop.features.gtzan import extract_features

            rows = []
            for _, _, y in self.windows:
                self.cancel.raise_if_cancelled()
                rows.append(extract_features(y, SAMPLE_RATE))
            return np.stack(rows).astype(np.float32)

        return self.memo(("table",), compute)

    def resampled(self, rate: int) -> list[np.ndarray]:
        """Per window, the samples at ``rate`` Hz (soxr HQ, as librosa.load resamples), float32."""
        if rate == SAMPLE_RATE:
            return [y for _, _, y in self.windows]

        def compute() -> list[np.ndarray]:
            import soxr

            out = []
            for _, _, y in self.windows:
                self.cancel.raise_if_cancelled()
                out.append(soxr.resample(y, SAMPLE_RATE, rate, quality="HQ").astype(np.float32))
            return out

        return self.memo(("resampled", int(rate)), compute)

    def units(self, network: str, units: int | None = None) -> int:
        """The units per window ``network`` runs on when asked for ``units`` (None: its default)."""
        if units is not None:
            return max(0, int(units))
        default = getattr(self.networks.get(network), "default_units", None)
        return self.default_patches if default is None else max(0, int(default))

    def outputs(self, network: str, units: int | None = None) -> list[dict[str, np.ndarray]]:
        """Per window, ``network``'s outputs on ``units`` evenly spread excerpts of that window
        (see the module docstring). All windows go through the network in one run."""
        member = self.networks.get(network)
        if member is None:
            raise MissingInput(f"network {network!r} is not loaded (have {sorted(self.networks)})")
        k = self.units(network, units)

        def compute() -> list[dict[str, np.ndarray]]:
            self.cancel.raise_if_cancelled()
            return member.outputs(self, k)

        return self.memo(("outputs", network, k), compute)

    def embedding_stats(self, stats: list[str], patches: int | None = None) -> np.ndarray:
        """(W, S) float32: ``stats`` (``features.embedding_stats``) of each window's network
        outputs over ``patches`` units (None = each network's default)."""
        from genre_desktop.features.embedding_stats import embedding_stats, stat_networks

        nets = stat_networks(list(stats))
        outputs = {net: self.outputs(net, patches) for net in nets}
        return np.stack([embedding_stats({net: outputs[net][w] for net in nets}, list(stats))
                         for w in range(self.n_windows)]).astype(np.float32)

    def mel(self, params: Mapping) -> list[np.ndarray]:
        """Per window, the CNN batch (N, 1, n_mels, frames) float32 for ``params`` (a manifest's
        ``"mel"`` object); see ``features.cnn_input.cnn_segments``."""
        def compute() -> list[np.ndarray]:
            from genre_desktop.features.cnn_input import cnn_segments

            out = []
            for _, _, y in self.windows:
                self.cancel.raise_if_cancelled()
                out.append(cnn_segments(y, SAMPLE_RATE, dict(params)))
            return out

        return self.memo(("mel", json.dumps(dict(params), sort_keys=True)), compute)

    def vectors(self) -> TrackVectors:
        """Per window: the features, the embedding network's mean embedding over its units, and the
        statistics of ``vector_spec`` (the same values the heads reading them get in this analysis)."""
        spec = self.vector_spec
        if spec is None:
            raise MissingInput("this analysis computes no track vectors")

        def compute() -> TrackVectors:
            outputs = self.outputs(spec.embedding_model)  # the analysis' units, as the cache recipe says
            columns = [self.embedding_stats([s.name], s.units) for s in spec.stats]
            layout = tuple(Stat(s.name, s.units, c.shape[1]) for s, c in zip(spec.stats, columns))
            return TrackVectors([s for s, _, _ in self.windows], [e for _, e, _ in self.windows], self.table(),
                                np.stack([o["embedding"].mean(axis=0) for o in outputs]),
                                np.array([len(o["embedding"]) for o in outputs]),
                                np.concatenate(columns, axis=1), layout)

        return self.memo(("vectors",), compute)
