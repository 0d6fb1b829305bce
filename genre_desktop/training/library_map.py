"""A 2-D map of the library's track vectors, and the tracks whose genre disagrees with their neighbours.

- Coordinates: PCA (fast, stable, linear) or t-SNE (``sklearn.manifold.TSNE``: local structure,
  slower: ~10 s for 1,000 tracks) of the standardised 200-d musicnn embeddings. UMAP is not a
  dependency, so it is not offered.
- Colours: :func:`map_labels`: the librarian's choice, else a trusted tag, else the file's own
  genre tag; grey only for a track with none of them.
- Likely mislabels: for each labelled track, its ``k`` nearest neighbours among the labelled tracks
  (Euclidean, standardised embedding + features, in the full space, not on the 2-D map; ``k`` at
  most the smallest genre's size less one, at least 3). If the
  majority genre of the neighbours is not the track's, the score is the share of neighbours with
  that majority genre (0.5 to 1; higher = more suspicious); otherwise 0. Tracks with a score are
  worth a second listen, not necessarily wrong.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from typing import Iterable, Mapping

import numpy as np
from sklearn.preprocessing import StandardScaler

from genre_desktop.core.track import Track
from genre_desktop.training.dataset import Dataset, build_dataset

METHODS = ("pca", "tsne")


@dataclass
class MapPoint:
    path: str
    genre: str | None
    x: float
    y: float
    mislabel_score: float  # 0 = agrees with its neighbours
    neighbour_genre: str | None  # the majority genre of its neighbours


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


def mislabel_scores(X: np.ndarray, genres: list[str | None], k: int = 10) -> tuple[np.ndarray, list[str | None]]:
    """Per track: the mislabel score and the neighbours' majority genre (None for unlabelled tracks)."""
    from sklearn.neighbors import NearestNeighbors

    labelled = [i for i, g in enumerate(genres) if g]
    scores = np.zeros(len(genres))
    majority: list[str | None] = [None] * len(genres)
    if len(labelled) < 3:
        return scores, majority
    Z = StandardScaler().fit_transform(np.asarray(X, dtype=np.float64)[labelled])
    # A neighbourhood larger than a genre would outvote every track of that genre: bound k by the
    # smallest genre's size (but look at three neighbours at least).
    smallest = min(Counter(genres[i] for i in labelled).values())
    k = min(k, len(labelled) - 1, max(3, smallest - 1))
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    for row, i in enumerate(labelled):
        neighbours = [genres[labelled[j]] for j in idx[row] if j != row][:k]
        genre, count = Counter(neighbours).most_common(1)[0]
        majority[i] = genre
        if genre != genres[i] and count * 2 > len(neighbours):
            scores[i] = count / len(neighbours)
    return scores, majority


def library_map(paths: list[str], vectors: np.ndarray, genres: list[str | None], method: str = "pca",
                k: int = 10, seed: int = 0) -> list[MapPoint]:
    """Map points for tracks with track ``vectors`` (57 features, then the embedding statistics:
    the embedding part is mapped; both parts
    judge the neighbours). ``genres``: the label of each track, None if unlabelled."""
    vectors = np.asarray(vectors, dtype=np.float64)
    coords = embed_2d(vectors[:, 57:], method, seed)
    scores, majority = mislabel_scores(vectors, genres, k)
    return [MapPoint(p, g, float(c[0]), float(c[1]), float(s), m)
            for p, g, c, s, m in zip(paths, genres, coords, scores, majority)]


def write_csv(points: list[MapPoint], path: str | Path) -> None:
    from genre_desktop.fsutil import atomic_write_text
    import io

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["path", "genre", "x", "y", "mislabel_score", "neighbour_genre"])
    for p in points:
        w.writerow([p.path, p.genre or "", f"{p.x:.5f}", f"{p.y:.5f}", f"{p.mislabel_score:.3f}", p.neighbour_genre or ""])
    atomic_write_text(path, out.getvalue())
