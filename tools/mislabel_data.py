"""The data of ``tools/mislabel_eval.py``: GTZAN clips through the app's path, model evidence from
the bundle's members refitted without the judged clips' artists, and planted wrong tags.

- :func:`clips`, :func:`clip_vectors`: the train or valid clips (never the test split) and their
  TrackVectors through the app's Analyzer with a vector cache (computed once).
- :class:`Refit`, :func:`honest_probas`: the bundle's voting members refitted with their bundled
  hyperparameters (classical members on the feature TABLE's train rows, the embedding head on the
  train clips' cached statistics) and voted with the manifest's weights and pooling: a train clip's
  distribution out of fold (members fitted without its artist block), a valid clip's from members
  fitted on all of train. Members of a kind that cannot be refitted from the cache are left out.
- :func:`plant`: a share of the tags replaced by a wrong genre, ``random`` (another track's) or
  ``near`` (a similar-sounding track's, :func:`similar_genres`).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from genre_desktop.training import mislabels as M  # noqa: E402
from reproduce_wizard import clips  # noqa: E402,F401 - the train/valid clips, as the wizard reproduction reads them

log = logging.getLogger("mislabel_eval")

# Beside the checkout (as tests/conftest.py finds it), or where GENRE_DESKTOP_GTZAN says.
DATA = Path(os.environ.get("GENRE_DESKTOP_GTZAN") or ROOT.parent / "shared" / "data" / "gtzan")
AUDIO = DATA / "audio"
SEED = 20151
FOLDS = 5


def clip_vectors(items: list, cache: Path, threads: int) -> list:
    """Each clip's TrackVectors through the app's Analyzer path (computed once, then cached)."""
    from genre_desktop.inference.analyzer import Analyzer
    from genre_desktop.settings import Settings
    from genre_desktop.training.session import vectors_for

    analyzer = Analyzer(n_segments=Settings().segments, threads=threads, musicnn=False, vector_cache=cache)
    get = vectors_for(analyzer)
    out = []
    for i, (_, _, path) in enumerate(items):
        out.append(get(str(path)))
        if (i + 1) % 50 == 0:
            log.info("vectors: %d/%d", i + 1, len(items))
    return out


# -- model evidence from members that never heard the track ---------------------------------------

class Refit:
    """The bundle's voting members, refittable on a subset of the train clips (see the docstring)."""

    def __init__(self, train_items: list, train_vectors: list) -> None:
        from audio_data import artist_block
        from ensemble_members import Table, classical_members

        from genre_desktop.inference.manifest import load_manifest
        from genre_desktop.paths import bundled_models_dir

        self.manifest = load_manifest(bundled_models_dir())
        self.labels = list(self.manifest.labels)
        self.table = Table(DATA)
        self.classical = classical_members()
        self.weights, self.left_out = {}, []
        self.head = None
        for name, w in self.manifest.weights.items():
            if w <= 0:
                continue
            entry = self.manifest.get(name)
            if entry.kind == "classical" and name in self.classical:
                self.weights[name] = w
            elif entry.kind == "embedding_head" and self.head is None:
                self.weights[name] = w
                self.head = (name, dict(entry.raw["hyperparameters"]))
            else:
                self.left_out.append(name)
        self.train_stats = [v.stats for v in train_vectors]
        self.train_y = np.array([self.labels.index(g) for _, g, _ in train_items])
        self.train_blocks = np.array([artist_block(c) for c, _, _ in train_items])

    def fit(self, fit_clips: np.ndarray) -> dict:
        """Members fitted on the train clips ``fit_clips`` (the table's train rows outside the other
        clips' artist blocks for the classical members)."""
        from train_audio_head import fit_head
        from ensemble_members import fit_classical

        held_blocks = set(self.train_blocks) - set(self.train_blocks[fit_clips])
        rows = self.table.rows({"train"}, held_blocks)
        models = {n: fit_classical(n, self.classical[n], self.table, rows) for n in self.weights
                  if n in self.classical}
        if self.head is not None:
            name, hyper = self.head
            X = np.concatenate([self.train_stats[i] for i in fit_clips])
            y = np.concatenate([[self.train_y[i]] * len(self.train_stats[i]) for i in fit_clips])
            params = {k: v for k, v in hyper.items() if k != "family"}
            models[name] = fit_head(hyper["family"], params, X, y)
        return models

    def predict(self, models: dict, vectors: list) -> np.ndarray:
        """(n, 10): the vote of ``models`` on each track's windows, as the app's Ensemble votes."""
        from genre_desktop.inference.ensemble import combine
        from genre_desktop.training import classical as C

        out = []
        for v in vectors:
            probas = {}
            for name, model in models.items():
                X = v.stats if self.head and name == self.head[0] else v.features
                probas[name] = C.full_proba(model, C.as_float32_inputs(X))
            out.append(combine(probas, self.weights, self.manifest.pooling).overall)
        return np.array(out)


def honest_probas(refit: Refit, train_vectors: list, valid_vectors: list) -> tuple[np.ndarray, np.ndarray]:
    """(train clips out of fold, valid clips from members fitted on all of train)."""
    from audio_data import grouped_folds

    p_train = np.zeros((len(train_vectors), len(refit.labels)))
    for k, (fit, held) in enumerate(grouped_folds(refit.train_y, refit.train_blocks, FOLDS, SEED)):
        models = refit.fit(fit)
        p_train[held] = refit.predict(models, [train_vectors[i] for i in held])
        log.info("out-of-fold model evidence: fold %d/%d", k + 1, FOLDS)
    models = refit.fit(np.arange(len(train_vectors)))
    return p_train, refit.predict(models, valid_vectors)


# -- planting, evidence, calibration --------------------------------------------------------------

MODES = ("random", "near")


def similar_genres(genres: list[str], vectors: np.ndarray, k: int = 10) -> list[list[str]]:
    """Per track: the genres of its ``k`` nearest tracks that differ from its own (with repeats), the
    genres a slip between similar-sounding tracks would give it; any other genre if none is near."""
    from sklearn.neighbors import NearestNeighbors

    Z = M.neighbour_space(vectors, "all")
    _, idx = NearestNeighbors(n_neighbors=min(len(genres), 40)).fit(Z).kneighbors(Z)
    out = []
    for i, row in enumerate(idx):
        near = [genres[j] for j in row if genres[j] != genres[i]][:k]
        out.append(near or [g for g in genres if g != genres[i]])
    return out


def plant(genres: list[str], rate: float, rng: np.random.Generator, mode: str = "random",
          similar: list[list[str]] | None = None) -> tuple[list[str], np.ndarray]:
    """``genres`` with round(rate * n) of them replaced by a different genre: ``random``, another
    track's genre (common genres most often); ``near``, the genre of a similar-sounding track
    (``similar``), the slip the neighbours find hardest to see."""
    tags = list(genres)
    wrong = np.zeros(len(genres), dtype=bool)
    for i in rng.choice(len(genres), int(round(rate * len(genres))), replace=False):
        donors = similar[i] if mode == "near" else [g for g in genres if g != genres[i]]
        tags[i] = donors[rng.integers(len(donors))]
        wrong[i] = True
    return tags, wrong
