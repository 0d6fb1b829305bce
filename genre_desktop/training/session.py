"""One call per wizard step, shared by the CLI and the GUI (which runs them through jobs/).

- :func:`run_training`: vectors (from the cache, computed once when missing) -> :func:`trainer.train`
  against the current model -> a saved version. Progress ``(fraction, message)`` over the whole
  run (reading vectors takes the first part; when everything is cached it passes in a moment).
- :func:`current_predictor`: the model a new one is compared with: the active user model mixed
  with the bundled ensemble, or the bundled ensemble alone.
- :func:`map_points`: the library map of a dataset's tracks.

Plain functions with a cancel token and a progress callback; no Qt.
"""

from __future__ import annotations

import logging
from typing import Callable

from genre_desktop.cancel import NEVER, CancelToken
from genre_desktop.inference.manifest import ModelError
from genre_desktop.paths import AppDirs
from genre_desktop.training.dataset import Dataset
from genre_desktop.training.evaluate import BundledPredictor, UserPredictor
from genre_desktop.training.library_map import MapPoint, library_map
from genre_desktop.training.registry import Registry
from genre_desktop.training.trainer import TrainingData, TrainOptions, TrainResult, load_vectors, train

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]
VECTOR_SHARE = 0.4  # of the progress bar for reading vectors (all cached: it jumps past at once)


def vector_analyzer(dirs: AppDirs, n_segments: int = 5, threads: int = 0):
    """An Analyzer that computes and caches track vectors (no tagging networks beyond the MSD one).

    ``n_segments`` must be the one the app analyses with (``Settings.segments``): the cache recipe
    includes it, so the GUI's analysis and the training share one cache."""
    from genre_desktop.inference.analyzer import Analyzer

    return Analyzer(n_segments=n_segments, threads=threads, musicnn=False, vector_cache=dirs.feature_cache)


def vectors_for(analyzer, cancel: CancelToken = NEVER) -> Callable:
    """``vectors_for(path, cancel)``: cached vectors, computed by ``analyzer`` and stored here when
    missing or stale (this caller writes the cache, not the Analyzer)."""
    cache = analyzer.vector_cache

    def get(path, token: CancelToken = cancel):
        return cache.get_or_compute(path, lambda: analyzer.compute_vectors(path, token))

    return get


def current_predictor(registry: Registry, bundled: BundledPredictor, threads: int = 0):
    """The active user model with the bundled ensemble, or the bundled ensemble when none is active
    (or the active one cannot be loaded: logged, and the comparison says which model it used)."""
    from genre_desktop.inference.user_model import load_active

    try:
        user = load_active(registry.root, threads)
    except ModelError as exc:
        log.warning("the active user model cannot be loaded (%s); comparing with the bundled models", exc)
        return bundled
    return UserPredictor(user, bundled) if user is not None else bundled


def read_vectors(dataset: Dataset, dirs: AppDirs, n_segments: int = 5, threads: int = 0,
                 progress: Progress | None = None, cancel: CancelToken = NEVER) -> tuple[TrainingData, str]:
    """(vectors of the dataset's tracks, the vector recipe they follow)."""
    analyzer = vector_analyzer(dirs, n_segments, threads)
    return load_vectors(dataset, vectors_for(analyzer), progress, cancel), analyzer.vector_recipe


def run_training(dataset: Dataset, dirs: AppDirs, n_segments: int = 5, threads: int = 0,
                 progress: Progress | None = None, cancel: CancelToken = NEVER, activate: bool = False,
                 options: TrainOptions | None = None) -> tuple[TrainResult, TrainingData]:
    """Train, compare and save a new version from ``dataset`` (see the module docstring).

    Raises ValueError when the data cannot make a model, Cancelled when cancelled (nothing saved).
    """
    report = progress or (lambda fraction, message: None)
    data, recipe = read_vectors(dataset, dirs, n_segments, threads,
                                lambda f, m: report(VECTOR_SHARE * f, m), cancel)
    registry = Registry(dirs.user_models)
    bundled = BundledPredictor(threads=threads)
    result = train(data, registry, recipe, bundled, current_predictor(registry, bundled, threads), options,
                   lambda f, m: report(VECTOR_SHARE + (1 - VECTOR_SHARE) * f, m), cancel, activate,
                   [w.message for w in dataset.warnings()], dataset.excluded)
    return result, data


def map_points(dataset: Dataset, dirs: AppDirs, method: str = "pca", n_segments: int = 5, threads: int = 0,
               progress: Progress | None = None, cancel: CancelToken = NEVER,
               unlabelled: list[str] = (), tagged: dict[str, str] | None = None,
               aliases: dict[str, str] | None = None) -> list[MapPoint]:
    """The library map of the dataset's tracks (vectors read from the cache, computed if missing),
    plus the ``unlabelled`` paths whose vectors are already cached (never decoded here: mapping a
    whole library must not cost an analysis of it), labelled by ``tagged`` (their file's genre,
    ``library_map.map_labels``) or None. Labelled tracks are judged for likely mislabels with the
    bundled models' answers on their cached vectors (``training.mislabels``)."""
    import numpy as np

    report = progress or (lambda fraction, message: None)
    analyzer = vector_analyzer(dirs, n_segments, threads)
    data = load_vectors(dataset, vectors_for(analyzer), lambda f, m: report(0.6 * f, m), cancel)
    paths = [e.path for e in data.examples]
    genres: list[str | None] = [e.genre for e in data.examples]
    vectors = list(data.vectors)
    labelled = set(paths)
    for path in unlabelled:
        cancel.raise_if_cancelled()
        cached = analyzer.vector_cache.get(path) if path not in labelled else None
        if cached is not None:
            paths.append(path)
            genres.append((tagged or {}).get(path))
            vectors.append(cached)
    if not vectors:
        return []
    proba, labels = model_evidence([v for v, g in zip(vectors, genres) if g], threads, report, cancel)
    if proba is not None:  # one row per track, labelled or not (library_map reads the labelled rows)
        full = np.zeros((len(vectors), proba.shape[1]))
        full[[i for i, g in enumerate(genres) if g]] = proba
        proba = full
    report(0.9, f"placing {len(vectors)} tracks on the map ({method})")
    return library_map(paths, np.stack([v.map_vector for v in vectors]), genres, method, proba, labels,
                       aliases=aliases)


MODEL_BATCH = 500  # tracks per run of the bundled members (progress, and memory for big libraries)


def model_evidence(vectors: list, threads: int = 0, progress: Progress | None = None,
                   cancel: CancelToken = NEVER) -> tuple["np.ndarray | None", list[str]]:
    """(the bundled ensemble's distribution of each track from its cached vectors, its labels); (None,
    []) when the bundled models cannot run on them (logged: the neighbours then judge alone)."""
    import numpy as np

    if not vectors:
        return None, []
    try:
        bundled = BundledPredictor(threads=threads)
        out = []
        for start in range(0, len(vectors), MODEL_BATCH):
            cancel.raise_if_cancelled()
            out.append(bundled.predict(vectors[start:start + MODEL_BATCH]))
            if progress:
                done = min(len(vectors), start + MODEL_BATCH)
                progress(0.6 + 0.3 * done / len(vectors), f"asking the bundled models ({done}/{len(vectors)})")
        return np.concatenate(out), list(bundled.labels)
    except (ModelError, ValueError) as exc:
        log.warning("the bundled models cannot judge the labels on cached vectors (%s); neighbours only", exc)
        return None, []
