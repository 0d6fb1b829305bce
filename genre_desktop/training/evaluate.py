"""Scoring models on held-out tracks, and "the current model" as a predictor on cached vectors.

Metrics are computed over the *dataset's* genres (the user's names). A prediction of a label the
dataset does not use (the bundled models answering "blues" in a library without blues) is a
wrong answer and appears in the confusion matrix's last column, "(other)". A held-out track of a
genre the current model does not know at all ("techno" for the bundled models) is counted as an
error too: that is what the user would get. ``accuracy_known`` gives the figure restricted to the
genres the model knows, so the two effects can be told apart.

The current model is either the bundled ensemble (the Analyzer's own ``inference.ensemble.Ensemble``
on the cached vectors, which hold every input of the bundled voting members: the table features and
every embedding head's statistics; a member reading anything else, e.g. a CNN on mel spectrograms,
cannot run there and the weights renormalise over the rest: the bundled CNN does not vote) or, when one is active, the previous
user model mixed with it by its stored weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genre_desktop.inference.ensemble import Ensemble
from genre_desktop.inference.inputs import CachedInputs
from genre_desktop.inference.manifest import ModelError, load_manifest
from genre_desktop.inference.members import FACTORIES, load_members
from genre_desktop.inference.user_model import UserModel, mix
from genre_desktop.inference.vector_cache import TrackVectors

OTHER = "(other)"
_EPS = 1e-7


@dataclass
class ModelScores:
    name: str
    n: int
    accuracy: float
    macro_f1: float
    accuracy_known: float | None  # over held-out tracks whose genre the model knows
    known_genres: list[str]
    per_genre: dict[str, dict[str, float]]  # genre -> precision, recall, f1, support
    confusion: list[list[int]]  # rows: dataset genres; columns: dataset genres + OTHER
    labels: list[str] = field(default_factory=list)


def score(name: str, true: list[str], predicted: list[str], labels: list[str],
          model_labels: list[str]) -> ModelScores:
    """Scores of string predictions against string truths over the dataset's ``labels``."""
    index = {g: i for i, g in enumerate(labels)}
    k = len(labels)
    confusion = np.zeros((k, k + 1), dtype=np.int64)
    for t, p in zip(true, predicted):
        confusion[index[t], index.get(p, k)] += 1
    tp = np.diag(confusion[:, :k]).astype(float)
    support = confusion.sum(axis=1).astype(float)
    predicted_as = confusion[:, :k].sum(axis=0).astype(float)
    precision = np.divide(tp, predicted_as, out=np.zeros(k), where=predicted_as > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    present = support > 0
    known = [g for g in labels if g in set(model_labels)]
    known_rows = [i for i, t in enumerate(true) if t in set(model_labels)]
    n = len(true)
    return ModelScores(
        name=name, n=n,
        accuracy=float(tp.sum() / n) if n else 0.0,
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        accuracy_known=(float(np.mean([true[i] == predicted[i] for i in known_rows])) if known_rows else None),
        known_genres=known,
        per_genre={g: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]),
                       "support": int(support[i])} for i, g in enumerate(labels)},
        confusion=confusion.tolist(), labels=list(labels))


def argmax_labels(proba: np.ndarray, labels: list[str]) -> list[str]:
    return [labels[i] for i in np.asarray(proba).argmax(axis=1)]


def fit_mix_weight(bundled_labels: list[str], p_bundled: np.ndarray, user_labels: list[str],
                   p_user: np.ndarray, true: list[str], step: float = 0.05) -> float:
    """The weight w of :func:`inference.user_model.mix` with the lowest log-loss on ``true``.

    A grid over [0, 1] (deterministic; one parameter needs no optimiser). A true genre neither
    model knows contributes the same floor to every w and does not move the choice.
    """
    best_w, best = 1.0, None
    for w in np.round(np.arange(0.0, 1.0 + 1e-9, step), 6):
        labels, p = mix(bundled_labels, p_bundled, user_labels, p_user, float(w))
        index = {g: i for i, g in enumerate(labels)}
        picked = np.array([p[r, index[t]] if t in index else 0.0 for r, t in enumerate(true)])
        loss = float(-np.mean(np.log(np.clip(picked, _EPS, 1.0))))
        if best is None or loss < best - 1e-12:
            best_w, best = float(w), loss
    return best_w


def cache_members(manifest, threads: int = 1) -> list:
    """The voting members that can run on cached vectors: their kind reads only what the cache holds,
    and an embedding head reads statistics the cache keeps (every head's, ``inference.analyzer.
    vector_stats``: all the bundled heads run; a member reading the audio itself, e.g. the CNN, does
    not, and the vote is renormalised over the others)."""
    from genre_desktop.inference.analyzer import vector_stats
    from genre_desktop.inference.vector_cache import stats_of

    cached = {s.key for s in vector_stats(manifest)}

    def runs_on_cache(entry) -> bool:
        needs = getattr(FACTORIES.get(entry.kind), "needs", None)
        if needs is None or not needs <= CachedInputs.all_kinds:
            return False
        if "embedding_stats" in needs:
            k = entry.raw.get("patches_per_window")
            return all(s.key in cached for s in stats_of(entry.raw.get("stats", []), None if k is None else int(k)))
        return True

    members = [m for m in load_members(manifest, threads, runs_on_cache) if m.votes]
    if not members:
        raise ModelError(f"{manifest.folder}: no member of the manifest can run on cached vectors")
    return members


class BundledPredictor:
    """The bundled ensemble on cached per-window features (no decoding)."""

    def __init__(self, models_dir: str | Path | None = None, threads: int = 1) -> None:
        from genre_desktop.paths import bundled_models_dir

        self.manifest = load_manifest(models_dir or bundled_models_dir())
        self.members = cache_members(self.manifest, threads)
        self.ensemble = Ensemble.from_manifest(self.manifest, self.members)
        self.labels = list(self.manifest.labels)
        present = {m.name for m in self.members}
        # Voters the cached vectors cannot feed: say so in the name every report shows.
        self.left_out = sorted(n for n, w in self.manifest.weights.items() if w > 0 and n not in present)
        self.name = f"bundled ensemble ({self.manifest.version})" + (
            f" without {', '.join(self.left_out)} (not computable from the cached vectors)" if self.left_out else "")

    def predict(self, vectors: list[TrackVectors]) -> np.ndarray:
        """(n, 10) one distribution per track."""
        return self.ensemble.predict_tracks(vectors)


class UserPredictor:
    """An active user model mixed with the bundled ensemble (the same Ensemble, with the user model)."""

    def __init__(self, user: UserModel, bundled: BundledPredictor) -> None:
        self.user = user
        self.bundled = bundled
        self.ensemble = Ensemble.from_manifest(bundled.manifest, bundled.members, user)
        self.labels = self.ensemble.output_labels
        self.name = f"your model {user.version} with the bundled ensemble"

    def predict(self, vectors: list[TrackVectors]) -> np.ndarray:
        return self.ensemble.predict_tracks(vectors)
