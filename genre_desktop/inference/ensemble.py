"""Weighted soft vote over models and segments.

Two levels, each with its own rule:

- across members, per segment: a weighted mean of the members' distributions (a soft vote; the
  weights were fitted on the valid split, see ``tools/train_classical.py``). ``pooling`` chooses
  the arithmetic mean of probabilities or the geometric one (the weighted mean of
  log-probabilities, renormalised); the training script picks the one with the better
  cross-validated figure on the valid split and records it in the manifest;
- across segments: the mean of log-probabilities, renormalised (a geometric mean). One segment that
  is confidently *not* a genre counts against it more than an arithmetic mean would let it, which
  is what several independent looks at one track should do.

Pure numpy, shared by the analyzer, ``evaluate`` and the training script, so the figures in
``models/metrics.json`` come from the same arithmetic the app runs. :class:`Ensemble` is the one
place that applies it to members: the Analyzer, evaluation on cached vectors (``training/``) and
the CLI's table evaluation all vote through it, and it mixes in the user model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from genre_desktop.inference.common import POOLINGS
from genre_desktop.inference.inputs import CachedInputs
from genre_desktop.inference.user_model import union_labels

# Floor for probabilities before taking logs: a model that says exactly 0 must not veto a genre.
_EPS = 1e-7


@dataclass
class EnsembleResult:
    """``overall`` (L,), ``members`` name -> (L,) each over segments, ``segments`` (S, L)."""

    overall: np.ndarray
    members: dict[str, np.ndarray]
    segments: np.ndarray


def normalise_weights(weights: Mapping[str, float], available: list[str]) -> dict[str, float]:
    """The weights of the ``available`` members, rescaled to sum to 1.

    Members without a weight (or with weight 0) drop out. If none of the available members has a
    positive weight, ValueError: the ensemble would be undefined.
    """
    picked = {m: float(weights.get(m, 0.0)) for m in available}
    if any(w < 0 for w in picked.values()):
        raise ValueError(f"negative ensemble weight in {picked}")
    total = sum(picked.values())
    if total <= 0:
        raise ValueError(f"no positive ensemble weight among members {available}")
    return {m: w / total for m, w in picked.items() if w > 0}


def weighted_mean(probas: Mapping[str, np.ndarray], weights: Mapping[str, float],
                  pooling: str = "arithmetic") -> np.ndarray:
    """Soft vote over members with a positive weight (weights renormalised to sum to one).

    arithmetic: sum_m w_m p_m; geometric: exp(sum_m w_m log p_m), renormalised per row.
    ``probas`` maps member -> array (..., L); all the same shape. Returns that shape.
    """
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; expected one of {POOLINGS}")
    norm = normalise_weights(weights, list(probas))
    out = None
    for name, w in norm.items():
        p = np.asarray(probas[name], dtype=np.float64)
        term = w * (p if pooling == "arithmetic" else np.log(np.clip(p, _EPS, 1.0)))
        out = term if out is None else out + term
    assert out is not None
    if pooling == "geometric":
        out = np.exp(out - out.max(axis=-1, keepdims=True))
    return out / out.sum(axis=-1, keepdims=True)


def combine_segments(segment_probas: np.ndarray) -> np.ndarray:
    """(S, L) -> (L,): mean of log-probabilities over segments, exponentiated and renormalised."""
    p = np.asarray(segment_probas, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"expected (segments, labels) with at least one segment, got {p.shape}")
    logp = np.log(np.clip(p, _EPS, 1.0)).mean(axis=0)
    logp -= logp.max()  # exp of the largest term is 1: no underflow to an all-zero vector
    q = np.exp(logp)
    return q / q.sum()


def combine(member_probas: Mapping[str, np.ndarray], weights: Mapping[str, float],
            pooling: str = "arithmetic") -> EnsembleResult:
    """Full ensemble for one track: ``member_probas`` maps member -> (S, L) per-segment distributions."""
    if not member_probas:
        raise ValueError("no member distributions to combine")
    per_segment = weighted_mean(member_probas, weights, pooling)
    return EnsembleResult(
        overall=combine_segments(per_segment),
        members={m: combine_segments(p) for m, p in member_probas.items()},
        segments=per_segment,
    )


class Ensemble:
    """The one ensemble: voting members' soft vote per window, windows combined, the user model mixed.

    Used by the Analyzer (on a track's audio inputs), by evaluation and by training (on cached
    vectors, where only the members whose inputs the cache holds can run: the weights are then
    renormalised over those). ``weights`` are the manifest's ``ensemble.members``; non-voting members
    are ignored. ``user_model``: the member of kind ``user_model`` (``inference.user_model.UserModel``)
    or None, mixed in by its own weight over the union of labels.
    """

    def __init__(self, members: list, weights: Mapping[str, float], labels: list[str],
                 pooling: str = "arithmetic", user_model=None) -> None:
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; expected one of {POOLINGS}")
        self.members = [m for m in members if m.votes]
        self.weights = dict(weights)
        self.labels = list(labels)  # the bundled members' labels
        self.pooling = pooling
        self.user_model = user_model
        normalise_weights(self.weights, [m.name for m in self.members])  # fail early: no voter at all

    @classmethod
    def from_manifest(cls, manifest, members: list, user_model=None) -> "Ensemble":
        return cls(members, manifest.weights, manifest.labels, manifest.pooling, user_model)

    @property
    def output_labels(self) -> list[str]:
        """The labels of the final distribution: the bundled ones, then the user model's new ones."""
        if self.user_model is None:
            return list(self.labels)
        return union_labels(self.labels, self.user_model.labels)

    def runnable(self, inputs) -> list:
        """The voting members ``inputs`` can feed (``inputs.serves``: the input kinds, and on cached
        vectors a head's own statistics)."""
        return [m for m in self.members if inputs.serves(m)]

    def member_probas(self, inputs) -> dict[str, np.ndarray]:
        """member -> (W, L) per-window distributions, for every runnable voting member."""
        out = {m.name: m.predict(inputs) for m in self.runnable(inputs)}
        if not out:
            raise ValueError("none of the ensemble's members can run on these inputs")
        return out

    def vote(self, probas: Mapping[str, np.ndarray]) -> np.ndarray:
        """The weighted soft vote row by row (no window combination): (..., L)."""
        return weighted_mean(probas, self.weights, self.pooling)

    def combine(self, probas: Mapping[str, np.ndarray]) -> EnsembleResult:
        """The bundled vote over one track's windows (weights renormalised over ``probas``' members)."""
        return combine(probas, self.weights, self.pooling)

    def mix_user(self, result: EnsembleResult, p_track: np.ndarray,
                 p_windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(overall, segments) of ``result`` mixed with the user model's track and window predictions."""
        _, overall = self.user_model.mix(self.labels, result.overall, p_track)
        _, segments = self.user_model.mix(self.labels, result.segments, p_windows)
        return overall, segments

    def predict(self, inputs) -> tuple[EnsembleResult, np.ndarray, np.ndarray, np.ndarray | None]:
        """One track: (bundled result, overall, segments over ``output_labels``, user track proba).

        With a user model, ``inputs`` must provide the track's ``vectors``: its input."""
        result = self.combine(self.member_probas(inputs))
        if self.user_model is None:
            return result, result.overall, result.segments, None
        p_track = self.user_model.predict_track(inputs)
        overall, segments = self.mix_user(result, p_track, self.user_model.predict(inputs))
        return result, overall, segments, p_track

    def predict_tracks(self, vectors: list) -> np.ndarray:
        """(n, len(output_labels)): one final distribution per track from cached ``TrackVectors``,
        every member's windows of all tracks in one run."""
        if not vectors:
            return np.zeros((0, len(self.output_labels)))
        first = vectors[0]
        if any(v.layout != first.layout for v in vectors):
            raise ValueError("the tracks' cached vectors hold different statistics (mixed recipes)")
        inputs = CachedInputs(np.concatenate([v.features for v in vectors]),
                              np.concatenate([v.stats for v in vectors]), first.layout)
        bounds = np.cumsum([v.n_windows for v in vectors])[:-1]
        parts = {m: np.split(p, bounds) for m, p in self.member_probas(inputs).items()}
        bundled = np.stack([self.combine({m: p[i] for m, p in parts.items()}).overall for i in range(len(vectors))])
        if self.user_model is None:
            return bundled
        p_user = self.user_model.predict_proba(np.stack([self.user_model.track_vector(v) for v in vectors]))
        return self.user_model.mix(self.labels, bundled, p_user)[1]
