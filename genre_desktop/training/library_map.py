"""A 2-D map of the library's track vectors, and the tracks whose genre label is likely wrong.

- Coordinates: PCA (fast, stable, linear) or t-SNE (``sklearn.manifold.TSNE``: local structure,
  slower: ~10 s for 1,000 tracks) of the standardised embedding statistics. UMAP is not a
  dependency, so it is not offered.
- Labels: :func:`map_labels`: the librarian's choice, else a trusted tag, else the file's own
  genre tag; a track with none of them is mapped unlabelled ("no genre").
- Likely mislabels: ``training.mislabels``: for each labelled track the estimated chance that its
  label is wrong, from the bundled models' distribution (where they know the label) and its
  nearest labelled neighbours, calibrated on GTZAN libraries with planted wrong tags; flagged at
  ``mislabels.FLAG_THRESHOLD``, with the reason in words. Worth a second listen, not proof.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from typing import Iterable, Mapping

import numpy as np
from sklearn.preprocessing import StandardScaler

from genre_desktop.core.track import Track
from genre_desktop.training.dataset import Dataset, build_dataset
from genre_desktop.training.mislabels import FLAG_THRESHOLD, K_NEIGHBOURS, N_TABLE, judge

METHODS = ("pca", "tsne")


@dataclass
class MapPoint:
    path: str
    genre: str | None
    x: float
    y: float
    mislabel_score: float  # the estimated chance that ``genre`` is wrong (0 for unlabelled tracks)
    suspected: str | None = None  # the genre the evidence points to instead
    reason: str = ""  # why, in words ("tagged pop; the models say classical 0.91; ...")

    @property
    def flagged(self) -> bool:
        """A likely mislabel: more likely wrong than right (``mislabels.FLAG_THRESHOLD``)."""
        return self.genre is not None and self.mislabel_score >= FLAG_THRESHOLD


def map_labels(tracks: Iterable[Track], aliases: Mapping[str, str] | None = None,
               merges: Mapping[str, str] | None = None,
               trust_existing: Iterable[str] = ()) -> tuple[Dataset, dict[str, str]]:
    """The labels a map colours by, in two parts:

    - the training labels (choices and trusted tags, with no minimum per genre: a genre of one
      track still gets its colour), whose vectors are computed when missing;
    - every other track's own genre tag (path -> canonical genre, merges applied): mapped where its
      vectors are cached, never decoded for the map.
    """
    tracks = list(tracks)
    dataset = build_dataset(tracks, trust_existing, merges, aliases, min_tracks=1)
    labelled = {e.path for e in dataset.examples}
    tagged = {}
    for t in tracks:
        if t.path in labelled or t.missing or not t.genres:
            continue
        tagged[t.path] = dataset.class_of(t.genres[0])  # the class names and merges of the dataset
    return dataset, tagged


def embed_2d(X: np.ndarray, method: str = "pca", seed: int = 0) -> np.ndarray:
    """(n, d) -> (n, 2) coordinates of the standardised rows."""
    if method not in METHODS:
        raise ValueError(f"unknown map method {method!r}; use one of {METHODS}")
    Z = StandardScaler().fit_transform(np.asarray(X, dtype=np.float64))
    n = len(Z)
    if n < 3:
        return np.zeros((n, 2)) if n < 2 else np.array([[0.0, 0.0], [1.0, 0.0]])
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(Z)
    from sklearn.manifold import TSNE

    perplexity = float(min(30.0, max(2.0, (n - 1) / 3.0)))
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(Z)


def library_map(paths: list[str], vectors: np.ndarray, genres: list[str | None], method: str = "pca",
                model_proba: np.ndarray | None = None, model_labels: list[str] = (), k: int = K_NEIGHBOURS,
                seed: int = 0, aliases: Mapping[str, str] | None = None) -> list[MapPoint]:
    """Map points for tracks with map ``vectors`` (57 features, then the embedding statistics: the
    statistics are mapped; ``mislabels`` judges the labels). ``genres``: the label of each track,
    None if unlabelled. ``model_proba`` (n, len(model_labels)): the bundled models' distribution of
    each track (None: the neighbours judge alone)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    coords = embed_2d(vectors[:, N_TABLE:] if vectors.shape[1] > N_TABLE else vectors, method, seed)
    labelled = [i for i, g in enumerate(genres) if g]
    verdicts = {}
    if len(labelled) >= 3:
        proba = None if model_proba is None else np.asarray(model_proba)[labelled]
        found = judge([genres[i] for i in labelled], vectors[labelled], proba, list(model_labels), k, aliases)
        verdicts = dict(zip(labelled, found))
    points = []
    for i, (p, g, c) in enumerate(zip(paths, genres, coords)):
        v = verdicts.get(i)
        points.append(MapPoint(p, g, float(c[0]), float(c[1]), v.score if v else 0.0,
                               v.suspected if v else None, v.reason if v else ""))
    return points


def write_csv(points: list[MapPoint], path: str | Path) -> None:
    from genre_desktop.fsutil import atomic_write_text
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["path", "genre", "x", "y", "mislabel_score", "flagged", "suspected_genre", "reason"])
    for p in points:
        w.writerow([p.path, p.genre or "", f"{p.x:.5f}", f"{p.y:.5f}", f"{p.mislabel_score:.3f}",
                    "yes" if p.flagged else "", p.suspected or "", p.reason])
    atomic_write_text(path, out.getvalue())
