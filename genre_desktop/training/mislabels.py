"""Likely mislabels: the chance that a track's genre label is wrong, from the evidence the app has.

Two witnesses, each asked about the label (the librarian's choice, a trusted tag, or the file's own
genre tag) of every labelled track:

- **the models**: the bundled ensemble's distribution for the track, computed on its cached vectors
  (``training.evaluate.BundledPredictor``). The bundled models never learnt from the librarian's
  files, so they are an independent witness; a user model is not (it learnt from these very labels,
  wrong ones included) and is not asked. They can only speak of the genres they know: for any other
  label ("lo-fi") the neighbours speak alone.
- **the neighbours**: the ``k`` nearest other labelled tracks in the space of the track vectors
  (standardised; :data:`NEIGHBOUR_SPACE`; ``k`` at most a third of a small library, where a larger
  neighbourhood would be most of it), and how many of them carry the label, against what chance
  would give in this library (``k`` times the label's share among the other labelled tracks), so a
  small genre is not suspicious merely for being small.

The broad genres (``Prediction.broad``, an AudioSet network's view) would be a third witness, the
one independent of both; they are not asked yet: the shipped models do not report them until their
calibration ships, and this score's calibration needs their answers on the GTZAN train clips.

Evidence (logarithms; ``EPS`` keeps a zero finite)::

    model_tag    = log(p(label) + EPS)             model_other = log(max p(other genre) + EPS)
    near_tag     = log((n_label + 1) / (k * share_label + 1))
    near_other   = log((n_other + 1) / (k * share_other + 1))     (the most common other genre)

One logistic model turns the evidence into a probability (:data:`CALIBRATION`; a second one, on the
neighbours alone, for labels the models do not know). Its coefficients were fitted by
``tools/mislabel_eval.py`` on libraries of the GTZAN *train* clips in which one tag in ten was
replaced by a wrong genre (another track's, or a similar-sounding track's), with model evidence
from members refitted without each clip's artist (out of fold), so the models are as unfamiliar
with the tracks as with a librarian's. A library is not one in ten wrong: the share is
re-estimated from the library's own evidence (:func:`adapt_to_library`) and the odds moved
accordingly. The score therefore means: **the estimated chance that the label is wrong**, given
this library's estimated share of wrong labels (about the mean score). A track is flagged at
:data:`FLAG_THRESHOLD` (more likely wrong than right).

Measured by the tool on the VALID clips (never used to fit or choose anything), in a library of
all 281 clips with 10 % wrong tags, 200 plantings, models refitted without the valid artists.
Re-measured with the ensemble v4 members (round 3; these coefficients, k = 10): tags replaced by
another track's genre, precision 0.89 and recall 0.95 at 0.5 (0.90 / 0.91 at 0.7); by a
similar-sounding track's genre, 0.88 / 0.77 (0.91 / 0.68); the previous rule (the neighbours'
majority) 0.70 / 0.87 and 0.67 / 0.86. (A refit on the v4 vectors chose k = 5 and did no better:
0.88 / 0.94 on the first; these coefficients stay; with it, at 2 % wrong tags precision fell to
0.6: in a tidy library a flag is a question, not a verdict.) The calibration libraries had a few
hundred tracks; above :data:`PCA_ABOVE` the neighbours are found in a projection, which the
figures do not cover.

Pure numpy and scikit-learn; no Qt.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from genre_desktop.core.genre import canonical_genre

EPS = 1e-3
K_NEIGHBOURS = 10
MIN_NEIGHBOURS = 3
FLAG_THRESHOLD = 0.5
# Which columns of the map vector (57 table features, then the embedding head's statistics) the
# neighbours are measured in: "stats" (the statistics alone) or "all".
NEIGHBOUR_SPACE = "all"
N_TABLE = 57
# Above this many labelled tracks the neighbours are searched in a PCA projection of this many
# dimensions (an exact search over hundreds of dimensions is quadratic in the library's size).
PCA_ABOVE = 2000
PCA_DIMS = 48

CALIBRATION_RATE = 0.10  # the share of wrong labels in the libraries the calibration was fitted on
RATE_BOUNDS = (0.005, 0.5)  # the library's estimated share of wrong labels stays within these
PRIOR_TRACKS = 50  # how many tracks' worth the reference share weighs in the estimate

FEATURES_WITH_MODEL = ("model_tag", "model_other", "near_tag", "near_other")
FEATURES_NEIGHBOURS = ("near_tag", "near_other")

# Fitted by tools/mislabel_eval.py (see the module docstring); intercept first, then one
# coefficient per feature name, in order.
CALIBRATION: dict[str, tuple[float, ...]] = {
    "with_model": (-1.0769, -0.2599, 1.5665, -2.2469, 1.4577),
    "neighbours_only": (-2.2257, -2.8895, 2.0259),
}


@dataclass
class Evidence:
    """What the witnesses say about one labelled track's ``label``."""

    label: str
    k: int  # neighbours looked at
    near_label: int  # of them carrying the label
    near_other: str | None  # the most common other genre among them
    near_other_count: int
    share_label: float  # the label's share among the other labelled tracks
    share_other: float
    models_asked: bool = False  # the models' answer was given (they may still not know the label)
    model_known: bool = False  # the models know the label
    model_label: float | None = None  # their probability of the label
    model_other: str | None = None  # their most probable other genre
    model_other_p: float | None = None

    def features(self) -> np.ndarray:
        """The evidence row of :data:`FEATURES_WITH_MODEL` (or :data:`FEATURES_NEIGHBOURS`)."""
        near = [np.log((self.near_label + 1.0) / (self.k * self.share_label + 1.0)),
                np.log((self.near_other_count + 1.0) / (self.k * self.share_other + 1.0))]
        if not self.model_known:
            return np.array(near)
        return np.array([np.log(self.model_label + EPS), np.log(self.model_other_p + EPS)] + near)

    @property
    def suspected(self) -> str | None:
        """The genre the evidence points to instead of the label: the models' other genre where they
        know the label and it beats the neighbours' (as a share), else the neighbours' other genre."""
        model = (self.model_other_p or 0.0) if self.model_known else -1.0
        near = self.near_other_count / self.k if self.k else -1.0
        if self.model_known and self.model_other is not None and model >= near:
            return self.model_other
        return self.near_other if self.near_other_count else self.model_other


@dataclass
class Verdict:
    """A labelled track's mislabel score (the chance the label is wrong) and why."""

    score: float
    suspected: str | None
    reason: str

    @property
    def flagged(self) -> bool:
        return self.score >= FLAG_THRESHOLD


def neighbour_space(vectors: np.ndarray, space: str = NEIGHBOUR_SPACE) -> np.ndarray:
    """The standardised columns of the map ``vectors`` (n, 57 + S) the neighbours are measured in,
    projected by PCA for large libraries (:data:`PCA_ABOVE`)."""
    from sklearn.preprocessing import StandardScaler

    X = np.asarray(vectors, dtype=np.float64)
    if space == "stats" and X.shape[1] > N_TABLE:
        X = X[:, N_TABLE:]
    elif space not in ("stats", "all"):
        raise ValueError(f"unknown neighbour space {space!r}")
    Z = StandardScaler().fit_transform(X) if len(X) else X
    if len(Z) > PCA_ABOVE and Z.shape[1] > PCA_DIMS:
        from sklearn.decomposition import PCA

        Z = PCA(n_components=PCA_DIMS, random_state=0).fit_transform(Z)
    return Z


def neighbour_counts(Z: np.ndarray, labels: Sequence[str], k: int = K_NEIGHBOURS) -> list[Counter]:
    """Per row of ``Z`` (labelled tracks only): the labels of its ``k`` nearest other rows."""
    from sklearn.neighbors import NearestNeighbors

    n = len(labels)
    # In a small library a neighbourhood of k would be most of it and say nothing: at most a third.
    k = min(k, max(MIN_NEIGHBOURS, (n - 1) // 3), n - 1)
    if k < 1:
        return [Counter() for _ in labels]
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    out = []
    for row, neighbours in enumerate(idx):
        others = [j for j in neighbours if j != row][:k]  # itself, unless duplicates come first
        out.append(Counter(labels[j] for j in others))
    return out


def gather(labels: Sequence[str], vectors: np.ndarray, model_proba: np.ndarray | None = None,
           model_labels: Sequence[str] = (), k: int = K_NEIGHBOURS,
           space: str = NEIGHBOUR_SPACE, aliases: Mapping[str, str] | None = None) -> list[Evidence]:
    """The evidence of every labelled track: ``labels`` (n,), their map ``vectors`` (n, 57 + S) and
    the models' distributions ``model_proba`` (n, len(model_labels)) or None."""
    labels = list(labels)
    n = len(labels)
    if n == 0:
        return []
    counts = neighbour_counts(neighbour_space(vectors, space), labels, k)
    totals = Counter(labels)
    others = max(1, n - 1)
    index = {canonical_genre(g, aliases): i for i, g in enumerate(model_labels)}
    out = []
    for i, (label, near) in enumerate(zip(labels, counts)):
        seen = sum(near.values())
        rivals = [(g, c) for g, c in near.most_common() if g != label]
        other, other_count = rivals[0] if rivals else (None, 0)
        ev = Evidence(label, seen, near.get(label, 0), other, other_count, (totals[label] - 1) / others,
                      (totals[other] / others) if other else 0.0)
        column = index.get(canonical_genre(label, aliases))
        ev.models_asked = model_proba is not None
        if model_proba is not None and column is not None:
            p = np.asarray(model_proba[i], dtype=np.float64)
            rest = np.delete(np.arange(len(p)), column)
            j = int(rest[np.argmax(p[rest])]) if len(rest) else None
            ev.model_known, ev.model_label = True, float(p[column])
            ev.model_other = model_labels[j] if j is not None else None
            ev.model_other_p = float(p[j]) if j is not None else 0.0
        out.append(ev)
    return out


def log_odds(evidence: Evidence, calibration: Mapping[str, Sequence[float]] | None = None) -> float:
    """The log-odds that ``evidence.label`` is wrong in a library where :data:`CALIBRATION_RATE` of
    the labels are (see the module docstring)."""
    calibration = calibration or CALIBRATION
    coef = np.asarray(calibration["with_model" if evidence.model_known else "neighbours_only"], dtype=np.float64)
    return float(coef[0] + coef[1:] @ evidence.features())


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


def adapt_to_library(z: np.ndarray, reference: float = CALIBRATION_RATE) -> tuple[np.ndarray, float]:
    """(probabilities, the library's estimated share of wrong labels) from log-odds ``z`` calibrated
    at the ``reference`` share: the prior is re-estimated from the library itself (EM for a changed
    prior, Saerens, Latinne & Decaestecker 2002; the reference weighing as :data:`PRIOR_TRACKS`
    tracks), so a tidy library is not read as one in ten wrong nor a messy one as tidy. The share
    stays within :data:`RATE_BOUNDS`."""
    z = np.asarray(z, dtype=np.float64)
    if len(z) == 0:
        return z, reference
    base = np.log(reference / (1.0 - reference))
    rate = reference
    for _ in range(100):
        # The reference counts as PRIOR_TRACKS tracks: a small library's few scores cannot run away
        # with the estimate (a share read from 40 tracks is mostly noise).
        expected = float(np.sum(_sigmoid(z + np.log(rate / (1.0 - rate)) - base)))
        new = float(np.clip((expected + PRIOR_TRACKS * reference) / (len(z) + PRIOR_TRACKS), *RATE_BOUNDS))
        if abs(new - rate) < 1e-6:
            rate = new
            break
        rate = new
    return _sigmoid(z + np.log(rate / (1.0 - rate)) - base), rate


def probability(evidence: Evidence, calibration: Mapping[str, Sequence[float]] | None = None,
                rate: float = CALIBRATION_RATE) -> float:
    """The chance that ``evidence.label`` is wrong in a library where a share ``rate`` of labels are."""
    shift = np.log(rate / (1.0 - rate)) - np.log(CALIBRATION_RATE / (1.0 - CALIBRATION_RATE))
    return float(_sigmoid(np.array(log_odds(evidence, calibration) + shift)))


def explain(ev: Evidence) -> str:
    """Why: "tagged pop; the models say classical 0.91 (pop 0.02); 7 of its 8 nearest neighbours
    are tagged classical"."""
    parts = [f"tagged {ev.label}"]
    if ev.model_known:
        parts.append(f"the models say {ev.model_other} {ev.model_other_p:.2f} ({ev.label} {ev.model_label:.2f})"
                     if (ev.model_other_p or 0.0) > ev.model_label
                     else f"the models agree ({ev.label} {ev.model_label:.2f})")
    elif ev.models_asked:
        parts.append("a genre the bundled models do not know")
    if ev.k:
        near = f"{ev.near_label} of its {ev.k} nearest neighbours are tagged {ev.label}"
        if ev.near_other_count > ev.near_label:
            near = f"{ev.near_other_count} of its {ev.k} nearest neighbours are tagged {ev.near_other}"
            if ev.near_label:
                near += f", {ev.near_label} {ev.label}"
        parts.append(near)
    return "; ".join(parts)


def judge(labels: Sequence[str], vectors: np.ndarray, model_proba: np.ndarray | None = None,
          model_labels: Sequence[str] = (), k: int = K_NEIGHBOURS, aliases: Mapping[str, str] | None = None,
          calibration: Mapping[str, Sequence[float]] | None = None) -> list[Verdict]:
    """A :class:`Verdict` per labelled track (see :func:`gather` for the arguments), its score the
    chance the label is wrong given the library's own estimated share of wrong labels (the mean of
    the scores: :func:`adapt_to_library`)."""
    evidence = gather(labels, vectors, model_proba, model_labels, k, aliases=aliases)
    scores, _ = adapt_to_library(np.array([log_odds(ev, calibration) for ev in evidence]))
    return [Verdict(float(s), ev.suspected, explain(ev)) for s, ev in zip(scores, evidence)]
